import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../../../src/persistence/typeorm/data-source';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { createTestDatabase, ENGINES } from '../../support/databases';
import { startGatewayProcess } from '../../support/gateway-process';
import { PYTHON, runClient } from '../soap/soap-support';
import { DOMParser, type Document } from '@xmldom/xmldom';
import { basic, envelope, fault, one, payload, post, props, restMachine, restPost, text, useWsmanApp, VENDOR } from '../../support/wsman-client';
import { durableGatewayEnv, useListeners, waitFor } from '../wsman/eventing-support';

const WSE = 'http://schemas.xmlsoap.org/ws/2004/08/eventing';
const EVENT = `${VENDOR}CIMIGW_Event`;
const CIMI = 'http://schemas.dmtf.org/cimi/1';
const action = (a: string) => ({ resourceURI: `${CIMI}/Action`, action: `${CIMI}/action/${a}` });

interface Got {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** a subscriber: records every POST; `answers` are the statuses of the next requests (then `status`) */
class Listener {
  readonly got: Got[] = [];
  status = 200;
  answers: number[] = [];
  private server?: Server;
  port = 0;
  async start(port = 0): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.got.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() });
        res.writeHead(this.answers.shift() ?? this.status).end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }
  /** the CIMI Events received (REST webhook), parsed */
  events(): { id: string; at: number; doc: { id: string; content: { state: string; resource: { href: string } } } }[] {
    return this.got.map((g) => ({ id: String(g.headers['x-cimi-notification-id']), at: g.at, doc: JSON.parse(g.body) }));
  }
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.server = undefined;
  }
}

async function rest(port: number, method: string, path: string, body?: unknown, o: { auth?: string; xml?: boolean } = {}): Promise<{ status: number; text: string; doc: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(`http://127.0.0.1:${port}/cimi${path}`, {
    method,
    headers: { Authorization: o.auth ?? basic(), Accept: o.xml ? 'application/xml' : 'application/json', ...(body !== undefined ? { 'Content-Type': o.xml ? 'application/xml' : 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  const t = await r.text();
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(t) as Record<string, unknown>;
  } catch {
    /* XML or empty */
  }
  return { status: r.status, text: t, doc, headers: r.headers };
}

const idOf = (href: unknown) => String(href).split('/').pop()!;
/** a property of the CIMIGW_Event instance a WS-Man notification carries */
const wsProp = (body: string, name: string) => props(payload({ status: 200, headers: {}, text: body, doc: new DOMParser().parseFromString(body, 'text/xml') }))[name] ?? undefined;
const stateOf = (body: string) => wsProp(body, 'State');
const resourceOf = (body: string) => wsProp(body, 'Resource');

const TNS = 'urn:cimi-gateway:soap:1:types';
const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';

async function soapCall(port: number, op: string, inner: string, auth = basic()): Promise<{ status: number; text: string; doc: Document }> {
  const body = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11}" xmlns:t="${TNS}"><soap:Body><t:${op}>${inner}</t:${op}></soap:Body></soap:Envelope>`;
  const r = await fetch(`http://127.0.0.1:${port}/soap`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"urn:cimi-gateway:soap:1:${op}"` }, body });
  const t = await r.text();
  return { status: r.status, text: t, doc: new DOMParser().parseFromString(t, 'text/xml') };
}

/** the t:EventNotification of a SOAP notification: its ids and the Event's state and resource */
function soapNote(body: string): { id?: string; headerId?: string; subscription?: string; state?: string; resource?: string; eventId?: string } {
  const doc = new DOMParser().parseFromString(body, 'text/xml');
  const note = one(doc, TNS, 'EventNotification');
  const event = one(note, TNS, 'event');
  const content = one(event, TNS, 'content');
  return {
    id: text(note, TNS, 'notificationId')?.trim(),
    headerId: text(one(doc, SOAP11, 'Header'), TNS, 'NotificationId')?.trim(),
    subscription: text(note, TNS, 'subscription')?.trim(),
    state: text(content, TNS, 'state')?.trim(),
    resource: text(one(content, TNS, 'resource'), TNS, 'id')?.trim(),
    eventId: text(event, TNS, 'id')?.trim(),
  };
}

async function wsSubscribe(port: number, notifyTo: string, auth?: string): Promise<string> {
  const body = `<wse:Subscribe><wse:Delivery Mode="${WSE}/DeliveryModes/Push"><wse:NotifyTo><wsa:Address>${notifyTo}</wsa:Address></wse:NotifyTo></wse:Delivery></wse:Subscribe>`;
  const r = await post(port, envelope({ action: `${WSE}/Subscribe`, resourceUri: EVENT, body, ns: ` xmlns:wse="${WSE}"` }), { auth });
  if (r.status !== 200) throw new Error(`Subscribe: ${r.status} ${r.text.slice(0, 800)}`);
  return text(r.doc, WSE, 'Identifier')!.trim();
}

/**
 * Subscriptions through the CIMI REST door (a webhook registration, docs/cimi.md "Subscriptions") next to
 * WS-Eventing (issue 14 §2): one change made through REST reaches every door's subscriber from the database outbox.
 */
describe.each(ENGINES)('subscriptions through REST, SOAP and WS-Man [%s]', (engine) => {
  const env = useWsmanApp(engine, { SUBSCRIPTION_POLL_MS: '50', SUBSCRIPTION_RETRY_BASE_MS: '50', SUBSCRIPTION_MAX_FAILURES: '5' });
  const listener = useListeners(() => new Listener().start());
  const db = () => env().h.app.get(DATA_SOURCE) as DataSource;
  const count = async () => Number((await db().query('SELECT COUNT(*) AS n FROM subscription'))[0].n);

  it('a Machine started through REST is pushed to a CIMI webhook, a SOAP endpoint and a WS-Man subscriber within a second, in order, each notification with its own id', async () => {
    const port = env().port;
    const hook = await listener();
    const ws = await listener();
    const sp = await listener();
    const sub = await soapCall(port, 'Subscribe', `<t:notifyTo>${sp.url}</t:notifyTo>`);
    expect([sub.status, text(one(sub.doc, TNS, 'subscription'), TNS, 'door')]).toEqual([200, 'soap']);
    const soapSub = text(one(sub.doc, TNS, 'subscription'), TNS, 'id')!.trim();
    const created = await rest(port, 'POST', '/subscriptions', { notifyTo: hook.url, filter: "resourceType='Machine'" });
    expect([created.status, created.text.slice(0, 300)]).toEqual([201, expect.any(String)]);
    expect(created.headers.get('location')).toBe(created.doc.id);
    expect(created.doc).toMatchObject({ resourceURI: `${CIMI}/Subscription`, notifyTo: hook.url, filter: "resourceType='Machine'", door: 'rest' });
    await wsSubscribe(port, ws.url);

    const machine = await restMachine(port, 'sub-vm', 'STOPPED');
    await waitFor(() => hook.events().some((e) => e.doc.content.state === 'STOPPED' && e.doc.content.resource.href.endsWith(machine)));
    await waitFor(() => ws.got.some((g) => resourceOf(g.body) === machine && stateOf(g.body) === 'STOPPED'));
    await waitFor(() => sp.got.some((g) => soapNote(g.body).resource === machine && soapNote(g.body).state === 'STOPPED'));
    const [h0, w0, s0] = [hook.got.length, ws.got.length, sp.got.length];
    const t0 = Date.now();
    expect((await restPost(port, `/cimi/machines/${machine}/start`, action('start'))).status).toBe(202);
    const viaHook = await waitFor(() => hook.events().slice(h0).find((e) => e.doc.content.state === 'STARTED'), 1000);
    const viaWs = await waitFor(() => ws.got.slice(w0).find((g) => stateOf(g.body) === 'STARTED'), 1000);
    const viaSoap = await waitFor(() => sp.got.slice(s0).find((g) => soapNote(g.body).state === 'STARTED'), 1000);
    // issue 14 §2: within a second of the change
    expect(viaHook.at - t0).toBeLessThan(1000);
    expect(viaWs.at - t0).toBeLessThan(1000);
    expect(viaSoap.at - t0).toBeLessThan(1000);

    // SOAP 1.1, the WSDL's t:Event in t:EventNotification, the id in the body and the t:NotificationId header
    expect(viaSoap.headers['content-type']).toMatch(/^text\/xml/);
    expect(viaSoap.headers.soapaction).toBe('"urn:cimi-gateway:soap:1:EventNotification"');
    const n = soapNote(viaSoap.body);
    expect(n).toMatchObject({ subscription: soapSub, resource: machine, state: 'STARTED', eventId: idOf(viaHook.doc.id) });
    expect(n.headerId).toBe(n.id);
    const soapStates = sp.got.map((g) => soapNote(g.body)).filter((x) => x.resource === machine);
    expect(soapStates.map((x) => x.state).slice(-2)).toEqual(['STARTING', 'STARTED']);
    expect(new Set(sp.got.map((g) => soapNote(g.body).id)).size).toBe(sp.got.length);

    const g = hook.got[hook.got.length - 1];
    expect(g.headers['content-type']).toMatch(/^application\/json/);
    expect(g.headers['webhook-id']).toBe(g.headers['x-cimi-notification-id']);
    expect(Number(g.headers['webhook-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(viaHook.doc).toMatchObject({ resourceURI: `${CIMI}/Event`, type: 'http://schemas.dmtf.org/cimi/2/event/state', content: { state: 'STARTED', previous: 'STARTING', resType: 'http://schemas.dmtf.org/cimi/2/Machine' } });
    expect(viaHook.doc.content.resource.href).toBe(`http://127.0.0.1:${port}/cimi/machines/${machine}`);
    // the Event is the one the Machine's EventLog serves, as it serves it
    expect((await rest(port, 'GET', new URL(viaHook.doc.id).pathname.replace(/^\/cimi/, ''))).doc).toEqual(viaHook.doc);
    // per-resource order, each Event once, every id distinct
    const mine = hook.events().filter((e) => e.doc.content.resource.href.endsWith(machine));
    expect(mine.map((e) => e.doc.content.state).slice(-2)).toEqual(['STARTING', 'STARTED']);
    expect(new Set(hook.events().map((e) => e.id)).size).toBe(hook.got.length);
    expect(ws.got.filter((x) => resourceOf(x.body) === machine).map((x) => stateOf(x.body)).slice(-2)).toEqual(['STARTING', 'STARTED']);
  });

  it('a subscriber that answers 500 gets the same notification again with the same id', async () => {
    const port = env().port;
    const hook = await listener();
    hook.answers = [500, 500];
    expect((await rest(port, 'POST', '/subscriptions', { notifyTo: hook.url })).status).toBe(201);
    const machine = await restMachine(port, 'sub-retry', 'STOPPED');
    await waitFor(() => hook.got.length >= 3 && hook.events().some((e) => e.doc.content.state === 'STOPPED' && e.doc.content.resource.href.endsWith(machine)), 10000);
    const first = hook.events()[0];
    expect(hook.events().slice(0, 3).map((e) => e.id)).toEqual([first.id, first.id, first.id]);
    expect(hook.events().slice(0, 3).map((e) => e.doc.id)).toEqual([first.doc.id, first.doc.id, first.doc.id]);
    // after the acknowledgement it is not sent again
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.events().filter((e) => e.id === first.id).length).toBe(3);
  });

  it('GET, list, renew (PUT) and DELETE, in JSON and XML, each change with its audit record; another tenant sees none of it', async () => {
    const port = env().port;
    const hook = await listener();
    const xml = `<Subscription xmlns="${CIMI}"><notifyTo>${hook.url}</notifyTo><filter>state='STARTED'</filter><expires>${new Date(Date.now() + 60_000).toISOString()}</expires></Subscription>`;
    const c = await rest(port, 'POST', '/subscriptions', xml, { xml: true });
    expect([c.status, c.text]).toEqual([201, expect.stringContaining('<Subscription')]);
    const href = c.headers.get('location')!;
    const id = idOf(href);
    const path = `/subscriptions/${id}`;
    const got = await rest(port, 'GET', path);
    expect(got.doc).toMatchObject({ id: href, notifyTo: hook.url, filter: "state='STARTED'", door: 'rest' });
    expect(Date.parse(String(got.doc.expires)) - Date.now()).toBeLessThan(61_000);
    expect((await rest(port, 'GET', path, undefined, { xml: true })).text).toContain(`<notifyTo>${hook.url}</notifyTo>`);
    const list = await rest(port, 'GET', '/subscriptions');
    expect((list.doc.subscriptions as { id: string }[]).map((s) => s.id)).toContain(href);

    const at = new Date(Date.now() + 3600_000).toISOString();
    const rn = await rest(port, 'PUT', path, { expires: at });
    expect([rn.status, rn.doc.expires]).toEqual([200, at]);
    expect((await rest(port, 'GET', path)).doc.expires).toBe(at);

    const other = await env().h.user('elsewhere-sub', ['admin']);
    const auth = basic(other.principal.userName, 'password-123');
    expect((await rest(port, 'GET', path, undefined, { auth })).status).toBe(404);
    expect((await rest(port, 'PUT', path, { expires: at }, { auth })).status).toBe(404);
    expect((await rest(port, 'DELETE', path, undefined, { auth })).status).toBe(404);
    expect(((await rest(port, 'GET', '/subscriptions', undefined, { auth })).doc.subscriptions as unknown[] | undefined) ?? []).toEqual([]);

    const del = await rest(port, 'DELETE', path);
    expect(del.status).toBe(200);
    expect((await rest(port, 'GET', path)).status).toBe(404);
    expect((await rest(port, 'DELETE', path)).status).toBe(404);
    // one CADF record per change, written with it (Mutations.run)
    const audit = (await db().query(`SELECT action, outcome, target_id FROM audit_event WHERE target_id = '${id}' AND outcome = 'success' ORDER BY event_time_ms`)) as { action: string }[];
    expect(audit.map((a) => a.action).filter((a) => a !== 'read')).toEqual(['create', 'update/renew', 'delete']);
    // after DELETE, a change sends nothing
    await restMachine(port, 'sub-after-delete', 'STARTED');
    await new Promise((r) => setTimeout(r, 300));
    expect(hook.got).toEqual([]);
  });

  it('SOAP: Subscribe, GetSubscription, RenewSubscription, ListSubscriptions, Unsubscribe; faults for a bad address or another tenant, storing nothing', async () => {
    const port = env().port;
    const l = await listener();
    const before = await count();
    const bad = await soapCall(port, 'Subscribe', '<t:notifyTo>ftp://127.0.0.1/x</t:notifyTo>');
    expect([bad.status, text(bad.doc, TNS, 'code')]).toEqual([500, 'SUBSCRIPTION.INVALID_ADDRESS']);
    const past = await soapCall(port, 'Subscribe', `<t:notifyTo>${l.url}</t:notifyTo><t:expires>2001-01-01T00:00:00Z</t:expires>`);
    expect([past.status, text(past.doc, TNS, 'code')]).toEqual([500, 'SUBSCRIPTION.INVALID_EXPIRATION']);
    const badFilter = await soapCall(port, 'Subscribe', `<t:notifyTo>${l.url}</t:notifyTo><t:filter><t:condition><t:attribute>cpu</t:attribute><t:operator>eq</t:operator><t:stringValue>2</t:stringValue></t:condition></t:filter>`);
    expect([badFilter.status, text(badFilter.doc, TNS, 'code')]).toEqual([500, 'SUBSCRIPTION.INVALID_FILTER']);
    expect(await count()).toBe(before);

    const filtered = `<t:filter><t:condition><t:attribute>state</t:attribute><t:operator>eq</t:operator><t:stringValue>STOPPED</t:stringValue></t:condition></t:filter>`;
    const c = await soapCall(port, 'Subscribe', `<t:notifyTo>${l.url}</t:notifyTo>${filtered}<t:expires>${new Date(Date.now() + 60_000).toISOString()}</t:expires>`);
    expect(c.status).toBe(200);
    const id = text(one(c.doc, TNS, 'subscription'), TNS, 'id')!.trim();
    expect(text(one((await soapCall(port, 'GetSubscription', `<t:id>${id}</t:id>`)).doc, TNS, 'subscription'), TNS, 'notifyTo')).toBe(l.url);
    const at = new Date(Date.now() + 3600_000).toISOString();
    const rn = await soapCall(port, 'RenewSubscription', `<t:id>${id}</t:id><t:expires>${at}</t:expires>`);
    expect(text(one(rn.doc, TNS, 'subscription'), TNS, 'expires')).toBe(at);
    const listed = await soapCall(port, 'ListSubscriptions', '');
    expect(text(listed.doc, TNS, 'count')).toBe(String((await rest(port, 'GET', '/subscriptions')).doc.count));
    expect(listed.text).toContain(`<t:id>${id}</t:id>`);
    // the filter holds: only the STOPPED Event is sent
    const machine = await restMachine(port, 'sub-soap-filtered', 'STOPPED');
    await waitFor(() => l.got.some((g) => soapNote(g.body).resource === machine));
    await new Promise((r) => setTimeout(r, 300));
    expect(l.got.map((g) => soapNote(g.body).state)).toEqual(['STOPPED']);

    const other = await env().h.user('elsewhere-soap', ['admin']);
    const auth = basic(other.principal.userName, 'password-123');
    for (const [op, inner] of [['GetSubscription', `<t:id>${id}</t:id>`], ['RenewSubscription', `<t:id>${id}</t:id>`], ['Unsubscribe', `<t:id>${id}</t:id>`]] as const) {
      const r = await soapCall(port, op, inner, auth);
      expect({ op, status: r.status, kind: text(r.doc, TNS, 'kind') }).toEqual({ op, status: 500, kind: 'not-found' });
    }
    expect((await soapCall(port, 'ListSubscriptions', '', auth)).text).not.toContain(id);
    expect((await soapCall(port, 'Unsubscribe', `<t:id>${id}</t:id>`)).status).toBe(200);
    expect(text((await soapCall(port, 'GetSubscription', `<t:id>${id}</t:id>`)).doc, TNS, 'kind')).toBe('not-found');
  });

  it('zeep (a client generated from the WSDL) subscribes, renews, lists, is refused a bad address, and decodes the notification it receives', async () => {
    const port = env().port;
    const l = await listener();
    const base = `http://127.0.0.1:${port}`;
    const z = (await runClient(PYTHON, [join(__dirname, '../soap/clients/zeep_subscriptions.py'), base, 'admin', ADMIN_PASSWORD, l.url])) as Record<string, unknown> & { subscribed: { id: string } };
    expect(z).toMatchObject({ subscribed: { door: 'soap', notifyTo: l.url }, renewed: true, bad: { code: 'SUBSCRIPTION.INVALID_ADDRESS', kind: 'invalid-input' }, after12: 'not-found' });
    expect(z.got).toBe(z.subscribed.id);
    expect(z.listed).toContain(z.subscribed.id);
    const machine = await restMachine(port, 'sub-zeep', 'STOPPED');
    const g = await waitFor(() => l.got.find((x) => soapNote(x.body).resource === machine));
    const file = join(mkdtempSync(join(tmpdir(), 'zeep-note-')), 'note.xml');
    writeFileSync(file, g.body);
    const parsed = await runClient(PYTHON, [join(__dirname, '../soap/clients/zeep_subscriptions.py'), base, 'admin', ADMIN_PASSWORD, '--parse', file]);
    expect(parsed).toMatchObject({ subscription: z.subscribed.id, notificationId: soapNote(g.body).id, header: soapNote(g.body).id, event: { eventLog: machine, state: 'STOPPED', resource: machine } });
  });

  it("a tenant's subscriber receives only its own tenant's Events", async () => {
    const port = env().port;
    const mine = await listener();
    const theirs = await listener();
    const other = await env().h.user('elsewhere-sub2', ['admin']);
    expect((await rest(port, 'POST', '/subscriptions', { notifyTo: theirs.url }, { auth: basic(other.principal.userName, 'password-123') })).status).toBe(201);
    expect((await rest(port, 'POST', '/subscriptions', { notifyTo: mine.url })).status).toBe(201);
    const machine = await restMachine(port, 'sub-isolated', 'STOPPED');
    await waitFor(() => mine.events().some((e) => e.doc.content.resource.href.endsWith(machine)));
    await new Promise((r) => setTimeout(r, 300));
    expect(theirs.got).toEqual([]);
  });

  it('a POST retried with the same Idempotency-Key answers the first subscription; the key on another request is 409', async () => {
    const port = env().port;
    const before = await count();
    const keyed = async (body: unknown, key: string) => {
      const r = await fetch(`http://127.0.0.1:${port}/cimi/subscriptions`, { method: 'POST', headers: { Authorization: basic(), Accept: 'application/json', 'Content-Type': 'application/json', 'Idempotency-Key': key }, body: JSON.stringify(body) });
      return { status: r.status, location: r.headers.get('location'), text: await r.text() };
    };
    const key = `sub-key-${process.pid}-${Date.now()}`;
    const first = await keyed({ notifyTo: 'http://127.0.0.1:9/keyed', filter: "resourceType='Machine'" }, key);
    const again = await keyed({ notifyTo: 'http://127.0.0.1:9/keyed', filter: "resourceType='Machine'" }, key);
    expect({ first: first.status, again: again.status, same: again.location === first.location }).toEqual({ first: 201, again: 201, same: true });
    expect(await count()).toBe(before + 1);
    const other = await keyed({ notifyTo: 'http://127.0.0.1:9/elsewhere' }, key);
    expect({ status: other.status, reused: other.text.includes('GENERIC.IDEMPOTENCY_KEY_REUSED') }).toEqual({ status: 409, reused: true });
    // concurrent retries: still one
    const key2 = `${key}-c`;
    const all = await Promise.all([1, 2, 3, 4].map(() => keyed({ notifyTo: 'http://127.0.0.1:9/keyed-c' }, key2)));
    expect(new Set(all.map((a) => `${a.status} ${a.location}`)).size).toBe(1);
    expect(await count()).toBe(before + 2);
  });

  it('PUT takes back what GET showed with a new expires (renew); another id or a changed attribute is refused', async () => {
    const port = env().port;
    const made = await rest(port, 'POST', '/subscriptions', { notifyTo: 'http://127.0.0.1:9/put', filter: "resourceType='Machine'" });
    const other = await rest(port, 'POST', '/subscriptions', { notifyTo: 'http://127.0.0.1:9/put-other' });
    const id = idOf(made.headers.get('location'));
    const got = (await rest(port, 'GET', `/subscriptions/${id}`)).doc;
    const later = new Date(Date.now() + 3_600_000).toISOString();
    const r = await rest(port, 'PUT', `/subscriptions/${id}`, { ...got, expires: later });
    expect({ status: r.status, expires: Date.parse(String(r.doc.expires)) }).toEqual({ status: 200, expires: Date.parse(later) });
    const otherId = (await rest(port, 'GET', `/subscriptions/${idOf(other.headers.get('location'))}`)).doc.id;
    for (const bad of [{ ...got, id: otherId }, { ...got, notifyTo: 'http://127.0.0.1:9/elsewhere' }]) {
      const b = await rest(port, 'PUT', `/subscriptions/${id}`, bad);
      expect({ status: b.status, readOnly: JSON.stringify(b.doc).includes('GENERIC.READ_ONLY') }).toEqual({ status: 400, readOnly: true });
    }
    expect((await rest(port, 'GET', `/subscriptions/${id}`)).doc).toMatchObject({ notifyTo: 'http://127.0.0.1:9/put', expires: r.doc.expires });
  });

  it('a deleted tenant takes its subscriptions and Events with it: a tenant made again under its name inherits neither', async () => {
    const port = env().port;
    const t = `recycled-${process.pid}`;
    const ok = async (op: string, inner: string, auth?: string) => {
      const r = await soapCall(port, op, inner, auth);
      if (r.status !== 200) throw new Error(`${op}: ${r.status} ${r.text.slice(0, 600)}`);
    };
    const first = await listener();
    await ok('CreateTenant', `<t:name>${t}</t:name>`);
    await ok('CreateUser', `<t:userName>u1-${t}</t:userName><t:password>password-123</t:password><t:tenant>${t}</t:tenant><t:roles>admin</t:roles>`);
    const auth1 = basic(`u1-${t}`, 'password-123');
    expect((await rest(port, 'POST', '/subscriptions', { notifyTo: first.url }, { auth: auth1 })).status).toBe(201);
    // the new tenant has no catalog: its Events come from a Network it makes (by value) and deletes
    const net = await rest(port, 'POST', '/networks', { name: 'recycled-n', networkTemplate: { initialState: 'STARTED', networkConfig: { networkType: 'PRIVATE', mtu: 1500 } } }, { auth: auth1 });
    expect(net.status).toBeLessThan(300);
    await waitFor(() => first.events().length > 0, 10000);
    const netId = idOf(net.headers.get('location') ?? net.doc.id);
    await env().h.idle();
    expect((await rest(port, 'DELETE', `/networks/${netId}`, undefined, { auth: auth1 })).status).toBeLessThan(300);
    await env().h.idle();
    await ok('DeleteUser', `<t:userName>u1-${t}</t:userName>`);
    await ok('DeleteTenant', `<t:name>${t}</t:name>`);
    const rows = async (table: string) => Number((await db().query(`SELECT COUNT(*) AS n FROM ${table} WHERE tenant_id = '${t}'`))[0].n);
    expect({ subscriptions: await rows('subscription'), events: await rows('resource_event') }).toEqual({ subscriptions: 0, events: 0 });
    await ok('CreateTenant', `<t:name>${t}</t:name>`);
    await ok('CreateUser', `<t:userName>u2-${t}</t:userName><t:password>password-123</t:password><t:tenant>${t}</t:tenant><t:roles>admin</t:roles>`);
    const auth2 = basic(`u2-${t}`, 'password-123');
    const list = await rest(port, 'GET', '/subscriptions', undefined, { auth: auth2 });
    expect({ status: list.status, count: list.doc.count ?? 0 }).toEqual({ status: 200, count: 0 });
    // the old tenant's webhook hears nothing of the new tenant's changes
    const before = first.got.length;
    const net2 = await rest(port, 'POST', '/networks', { name: 'recycled-n2', networkTemplate: { initialState: 'STARTED', networkConfig: { networkType: 'PRIVATE', mtu: 1500 } } }, { auth: auth2 });
    expect(net2.status).toBeLessThan(300);
    await env().h.idle();
    await new Promise((r) => setTimeout(r, 300));
    expect(first.got.length).toBe(before);
  });

  it('bad registrations are CIMI errors (400) and store nothing; a reader cannot subscribe (403)', async () => {
    const port = env().port;
    const before = await count();
    const auditBefore = Number((await db().query("SELECT COUNT(*) AS n FROM audit_event WHERE outcome = 'success' AND target_type LIKE '%ubscription%'"))[0].n);
    const soon = new Date(Date.now() + 60_000).toISOString();
    const cases: [unknown, string][] = [
      [{}, 'SUBSCRIPTION.INVALID_ADDRESS'],
      [{ notifyTo: 'ftp://127.0.0.1/x' }, 'SUBSCRIPTION.INVALID_ADDRESS'],
      [{ notifyTo: 'not a url' }, 'SUBSCRIPTION.INVALID_ADDRESS'],
      [{ notifyTo: 'http://user:pw@127.0.0.1:9/x' }, 'SUBSCRIPTION.INVALID_ADDRESS'],
      [{ notifyTo: 'http://127.0.0.1:9/x', endTo: 'file:///etc/passwd' }, 'SUBSCRIPTION.INVALID_ADDRESS'],
      [{ notifyTo: 42 }, 'SUBSCRIPTION.INVALID_ADDRESS'],
      [{ notifyTo: 'http://127.0.0.1:9/x', expires: '2001-01-01T00:00:00Z' }, 'SUBSCRIPTION.INVALID_EXPIRATION'],
      [{ notifyTo: 'http://127.0.0.1:9/x', expires: '2999-01-01T00:00:00Z' }, 'SUBSCRIPTION.INVALID_EXPIRATION'],
      [{ notifyTo: 'http://127.0.0.1:9/x', expires: 'tomorrow' }, 'SUBSCRIPTION.INVALID_EXPIRATION'],
      [{ notifyTo: 'http://127.0.0.1:9/x', filter: "cpu='2'" }, 'SUBSCRIPTION.INVALID_FILTER'],
      [{ notifyTo: 'http://127.0.0.1:9/x', filter: "state='" }, 'QUERY.'],
      // Event attributes, but filters the database cannot apply: refused now, not left to stall every delivery pass
      [{ notifyTo: 'http://127.0.0.1:9/x', filter: "state>'A'" }, 'QUERY.INVALID_OPERATOR'],
      [{ notifyTo: 'http://127.0.0.1:9/x', filter: "timestamp='not a time'" }, 'QUERY.'],
      [{ notifyTo: 'http://127.0.0.1:9/x', door: 'wsman' }, 'GENERIC.UNKNOWN_ATTRIBUTE'],
      [`<Action xmlns="${CIMI}"><action>${CIMI}/action/start</action></Action>`, 'REST.WRONG_ROOT'],
      [`<Subscription xmlns="${CIMI}"><notifyTo>http://127.0.0.1:9/x</notifyTo><cpu>2</cpu></Subscription>`, 'REST.'],
      ['{not json', 'REST.MALFORMED_JSON'],
    ];
    for (const [body, code] of cases) {
      const xml = typeof body === 'string' && body.startsWith('<');
      const r = await rest(port, 'POST', '/subscriptions', body, { xml });
      const got = xml ? r.text : JSON.stringify(r.doc);
      expect({ body, status: r.status, hasCode: got.includes(code) }).toEqual({ body, status: 400, hasCode: true });
    }
    expect((await rest(port, 'PUT', `/subscriptions/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`, { expires: soon })).status).toBe(404);
    const reader = await env().h.user('reader-sub', ['reader']);
    expect((await rest(port, 'POST', '/subscriptions', { notifyTo: 'http://127.0.0.1:9/x' }, { auth: basic(reader.principal.userName, 'password-123') })).status).toBe(403);
    expect((await rest(port, 'PATCH', '/subscriptions')).status).toBe(405);
    expect(await count()).toBe(before);
    expect(Number((await db().query("SELECT COUNT(*) AS n FROM audit_event WHERE outcome = 'success' AND target_type LIKE '%ubscription%'"))[0].n)).toBe(auditBefore);
  });
});

/** SUBSCRIPTION_PRIVATE_ADDRESSES=refuse (the default): no subscriber address on loopback, private or link-local networks (SSRF) */
describe.each(ENGINES)('subscriber addresses with SUBSCRIPTION_PRIVATE_ADDRESSES=refuse [%s]', (engine) => {
  const env = useWsmanApp(engine, { SUBSCRIPTION_PRIVATE_ADDRESSES: 'refuse', SUBSCRIPTION_DELIVERY: 'false' });
  const count = async () => Number((await (env().h.app.get(DATA_SOURCE) as DataSource).query('SELECT COUNT(*) AS n FROM subscription'))[0].n);

  it('refuses every loopback, private and link-local address (also by host name), through REST and WS-Man; accepts a public one', async () => {
    const port = env().port;
    const before = await count();
    const refused = ['http://127.0.0.1:8080/x', 'http://localhost/x', 'http://10.1.2.3/x', 'http://172.20.0.1/x', 'http://192.168.1.1/x', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/x', 'http://[::ffff:127.0.0.1]/x', 'http://[fd00::1]/x', 'http://0.0.0.0/x', 'http://100.64.0.1/x'];
    for (const notifyTo of refused) {
      const r = await rest(port, 'POST', '/subscriptions', { notifyTo });
      expect({ notifyTo, status: r.status, code: JSON.stringify(r.doc).includes('SUBSCRIPTION.PRIVATE_ADDRESS') }).toEqual({ notifyTo, status: 400, code: true });
    }
    const endTo = await rest(port, 'POST', '/subscriptions', { notifyTo: 'http://93.184.216.34/hook', endTo: 'http://127.0.0.1/end' });
    expect(endTo.status).toBe(400);
    const body = `<wse:Subscribe><wse:Delivery><wse:NotifyTo><wsa:Address>http://127.0.0.1:9/x</wsa:Address></wse:NotifyTo></wse:Delivery></wse:Subscribe>`;
    const ws = await post(port, envelope({ action: `${WSE}/Subscribe`, resourceUri: EVENT, body, ns: ` xmlns:wse="${WSE}"` }));
    expect(fault(ws)).toMatchObject({ subcode: 'InvalidMessage', subcodeNs: WSE });
    expect(await count()).toBe(before);
    // a reader is refused before any address is looked at, and a refusal does not echo what a name resolved to
    const reader = await env().h.user('reader-ssrf', ['reader']);
    expect((await rest(port, 'POST', '/subscriptions', { notifyTo: 'http://localhost/x' }, { auth: basic(reader.principal.userName, 'password-123') })).status).toBe(403);
    const refusal = await rest(port, 'POST', '/subscriptions', { notifyTo: 'http://localhost/x' });
    expect({ status: refusal.status, message: String(refusal.doc.statusMessage) }).toEqual({ status: 400, message: expect.not.stringMatching(/127\.0\.0\.1|::1/) });
    // a public address literal needs no resolver and is accepted (nothing is sent: no delivery timer here)
    expect((await rest(port, 'POST', '/subscriptions', { notifyTo: 'http://93.184.216.34/hook' })).status).toBe(201);
    expect(await count()).toBe(before + 1);
  });
});

/**
 * Durability (issue 14 §2): a gateway killed (SIGKILL) between the change and the webhook's acknowledgement
 * delivers after a restart on the same database, with the same notification id.
 */
describe.each(ENGINES)('REST webhook across a gateway restart [%s]', (engine) => {
  jest.setTimeout(120000);
  it('a notification not acknowledged before SIGKILL arrives from the next process with the same id', async () => {
    const db = await createTestDatabase(engine);
    const l = await new Listener().start();
    l.status = 503;
    const gwEnv = durableGatewayEnv(db, ADMIN_PASSWORD);
    let gw = await startGatewayProcess(gwEnv);
    try {
      expect((await rest(gw.port, 'POST', '/subscriptions', { notifyTo: l.url })).status).toBe(201);
      const machine = await restMachine(gw.port, 'sub-durable', 'STOPPED');
      const first = await waitFor(() => l.events().find((e) => e.doc.content.resource.href.endsWith(machine)), 10000);
      await gw.kill('SIGKILL');
      const refused = l.got.length;
      l.status = 200;
      gw = await startGatewayProcess(gwEnv);
      const delivered = await waitFor(() => l.got.length > refused && l.events()[refused], 15000);
      expect(delivered.id).toBe(first.id);
      expect(delivered.doc).toEqual(first.doc);
      await waitFor(() => l.events().some((e) => e.doc.content.state === 'STOPPED'), 10000);
    } finally {
      await gw.kill('SIGKILL');
      await l.stop();
      await db.drop();
    }
  });
});
