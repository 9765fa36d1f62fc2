import type { DataSource } from 'typeorm';
import { DATA_SOURCE } from '../../../src/persistence/typeorm/data-source';
import { createTestDatabase } from '../../support/databases';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { startGatewayProcess } from '../../support/gateway-process';
import { basic, fault, NS, one, post, restMachine, restPost, text, useWsmanApp } from '../../support/wsman-client';
import { actionBody, durableGatewayEnv, Listener, managed, PUSH_ACK, resourceOf, subscribe, subscribeBody, waitFor, WSE, expectRefusedSubscribes, useListeners } from './eventing-support';

/**
 * WS-Eventing push delivery (issue 14 §2; DSP0226 10): Subscribe / Renew / GetStatus / Unsubscribe through the
 * WS-Man door, a local listener as the subscriber, state Events of changes made through REST delivered from the
 * database outbox, retries then SubscriptionEnd, faults that create nothing.
 */
describe.each(ENGINES)('WS-Man eventing [%s]', (engine) => {
  const env = useWsmanApp(engine, { SUBSCRIPTION_POLL_MS: '50', SUBSCRIPTION_RETRY_BASE_MS: '50', SUBSCRIPTION_MAX_FAILURES: '3' });
  const listener = useListeners(() => new Listener().start());
  const count = async () => Number((await (env().h.app.get(DATA_SOURCE) as DataSource).query('SELECT COUNT(*) AS n FROM subscription'))[0].n);

  it('Subscribe (Push): a Machine started through REST is pushed within a second, to this tenant only, with the NotifyTo reference parameters', async () => {
    const port = env().port;
    const mine = await listener();
    const theirs = await listener();
    const { id, r } = await subscribe(port, subscribeBody({ notifyTo: mine.url, expires: 'PT600S', params: '<my:Tag xmlns:my="urn:test">t-1</my:Tag>', extra: '<wsman:SendBookmarks/>' }));
    expect(text(r.doc, NS.wsa, 'Action')).toBe(`${WSE}/SubscribeResponse`);
    expect(id).toMatch(/^uuid:[0-9a-f-]{36}$/);
    const expires = Date.parse(text(r.doc, WSE, 'Expires')!);
    expect(expires - Date.now()).toBeGreaterThan(590_000);
    // another tenant's subscriber
    const other = await env().h.user('elsewhere-ev', ['admin']);
    await subscribe(port, subscribeBody({ notifyTo: theirs.url }), basic(other.principal.userName, 'password-123'));

    const machine = await restMachine(port, 'ev-vm', 'STOPPED');
    await waitFor(() => mine.events().some((g) => resourceOf(g).State === 'STOPPED'));
    const before = mine.events().length;
    const t0 = Date.now();
    expect((await restPost(port, `/cimi/machines/${machine}/start`, actionBody('start'))).status).toBe(202);
    const started = await waitFor(() => mine.events().slice(before).find((g) => resourceOf(g).State === 'STARTED'), 1000);
    expect(started.at - t0).toBeLessThan(1000);
    const p = resourceOf(started);
    expect(p).toMatchObject({ Resource: machine, ResourceType: 'Machine', State: 'STARTED', EventType: 'http://schemas.dmtf.org/cimi/2/event/state' });
    expect(one(started.doc, 'urn:test', 'Tag')?.textContent).toBe('t-1');
    expect(one(started.doc, 'urn:test', 'Tag')?.getAttributeNS(NS.wsa, 'IsReferenceParameter')).toBe('true');
    expect(text(started.doc, NS.wsa, 'To')).toBe(mine.url);
    expect(started.messageId).toMatch(/^uuid:[0-9a-f-]{36}$/);
    expect(text(started.doc, NS.wsman, 'Bookmark')).toBe(p.InstanceID!.replace('CIMIGW:event:', ''));
    // per-resource order: the states arrive as they happened, each once
    const states = mine.events().filter((g) => resourceOf(g).Resource === machine).map((g) => resourceOf(g).State);
    expect(states.slice(-2)).toEqual(['STARTING', 'STARTED']);
    expect(new Set(mine.events().map((g) => g.messageId)).size).toBe(mine.events().length);
    await new Promise((r) => setTimeout(r, 300));
    expect(theirs.got).toEqual([]);
  });

  it('a WQL filter on CIMIGW_Event delivers only the Events it passes', async () => {
    const port = env().port;
    const l = await listener();
    await subscribe(port, subscribeBody({ notifyTo: l.url, filter: "SELECT * FROM CIMIGW_Event WHERE State = 'STOPPED'" }));
    const machine = await restMachine(port, 'ev-filtered', 'STARTED');
    expect((await restPost(port, `/cimi/machines/${machine}/stop`, actionBody('stop'))).status).toBe(202);
    await waitFor(() => l.events().some((g) => resourceOf(g).Resource === machine));
    await new Promise((r) => setTimeout(r, 300));
    expect(l.events().map((g) => resourceOf(g).State)).toEqual(['STOPPED']);
  });

  it('PushWithAck: the notification asks for an Ack, and a subscriber that acknowledges gets each Event once', async () => {
    const port = env().port;
    const l = await listener();
    l.ack = true;
    await subscribe(port, subscribeBody({ notifyTo: l.url, mode: PUSH_ACK }));
    const machine = await restMachine(port, 'ev-ack', 'STOPPED');
    const g = await waitFor(() => l.events().find((e) => resourceOf(e).Resource === machine));
    expect(one(g.doc, NS.wsman, 'AckRequested')).toBeDefined();
    await new Promise((r) => setTimeout(r, 300));
    expect(new Set(l.events().map((e) => e.messageId)).size).toBe(l.events().length);
  });

  it('a subscriber answering 500 is retried with the same MessageID, then ended with SubscriptionEnd to EndTo', async () => {
    const port = env().port;
    const l = await listener();
    l.status = 500;
    const end = await listener();
    const { id } = await subscribe(port, subscribeBody({ notifyTo: l.url, endTo: end.url }));
    await restMachine(port, 'ev-refused', 'STOPPED');
    const se = await waitFor(() => end.got.find((g) => g.action === `${WSE}/SubscriptionEnd`), 10000);
    expect(text(se.doc, WSE, 'Status')).toBe(`${WSE}/DeliveryFailure`);
    expect(text(one(se.doc, WSE, 'SubscriptionManager'), WSE, 'Identifier')).toBe(id);
    // three attempts (SUBSCRIPTION_MAX_FAILURES) of the first notification, all with one MessageID
    expect(l.events().length).toBe(3);
    expect(new Set(l.events().map((g) => g.messageId)).size).toBe(1);
    expect(l.events()[2].at - l.events()[0].at).toBeGreaterThanOrEqual(100); // 50 ms, then 100 ms of backoff
    const st = await post(port, managed('GetStatus', id));
    expect(fault(st)).toMatchObject({ subcode: 'InvalidMessage', subcodeNs: WSE });
  });

  it('Renew, GetStatus and Unsubscribe through the SubscriptionManager identifier; another tenant cannot see it', async () => {
    const port = env().port;
    const l = await listener();
    const { id } = await subscribe(port, subscribeBody({ notifyTo: l.url, expires: 'PT60S' }));
    const st = await post(port, managed('GetStatus', id));
    expect([st.status, st.status === 200 ? '' : st.text]).toEqual([200, '']);
    expect(Date.parse(text(st.doc, WSE, 'Expires')!) - Date.now()).toBeLessThan(61_000);
    const at = new Date(Date.now() + 3600_000).toISOString();
    const rn = await post(port, managed('Renew', id, `<wse:Renew><wse:Expires>${at}</wse:Expires></wse:Renew>`));
    expect(rn.status).toBe(200);
    expect(text(rn.doc, NS.wsa, 'Action')).toBe(`${WSE}/RenewResponse`);
    expect(text(rn.doc, WSE, 'Expires')).toBe(at);
    expect(text((await post(port, managed('GetStatus', id))).doc, WSE, 'Expires')).toBe(at);
    const other = await env().h.user('elsewhere-ev2', ['admin']);
    const foreign = await post(port, managed('GetStatus', id), { auth: basic(other.principal.userName, 'password-123') });
    expect(fault(foreign)).toMatchObject({ subcode: 'InvalidMessage', subcodeNs: WSE });
    expect(fault(await post(port, managed('Unsubscribe', id), { auth: basic(other.principal.userName, 'password-123') })).subcode).toBe('InvalidMessage');
    const un = await post(port, managed('Unsubscribe', id));
    expect(un.status).toBe(200);
    expect(text(un.doc, NS.wsa, 'Action')).toBe(`${WSE}/UnsubscribeResponse`);
    expect(fault(await post(port, managed('GetStatus', id)))).toMatchObject({ subcode: 'InvalidMessage' });
    expect(fault(await post(port, managed('Renew', id, '<wse:Renew/>')))).toMatchObject({ subcode: 'InvalidMessage' });
    // after Unsubscribe, a change sends nothing
    await restMachine(port, 'ev-after-unsubscribe', 'STOPPED');
    await new Promise((r) => setTimeout(r, 300));
    expect(l.got).toEqual([]);
  });

  it('bad Subscribe requests get their faults and create nothing', async () => {
    const port = env().port;
    const before = await count();
    const cases: [string, string, string][] = [
      [subscribeBody({ notifyTo: 'http://127.0.0.1:9/x', mode: `${WSE}/DeliveryModes/Trap` }), 'DeliveryModeRequestedUnavailable', WSE],
      [subscribeBody({ notifyTo: 'http://127.0.0.1:9/x', expires: 'PT0S' }), 'InvalidExpirationTime', WSE],
      [subscribeBody({ notifyTo: 'http://127.0.0.1:9/x', expires: '2001-01-01T00:00:00Z' }), 'InvalidExpirationTime', WSE],
      [subscribeBody({ notifyTo: 'http://127.0.0.1:9/x', expires: 'soon' }), 'InvalidExpirationTime', WSE],
      [subscribeBody({ notifyTo: 'http://127.0.0.1:9/x', expires: 'P400D' }), 'InvalidExpirationTime', WSE],
      [subscribeBody({ notifyTo: 'ftp://127.0.0.1/x' }), 'InvalidMessage', WSE],
      [subscribeBody({ notifyTo: 'not a url' }), 'InvalidMessage', WSE],
      [subscribeBody({ notifyTo: '' }), 'InvalidMessage', WSE],
      [subscribeBody({ notifyTo: 'http://127.0.0.1:9/x', filter: 'SELECT * FROM CIMIGW_Event WHERE Nope = 1' }), 'CannotProcessFilter', NS.wsman],
      [subscribeBody({ notifyTo: 'http://127.0.0.1:9/x', filter: 'SELECT * FROM CIM_ComputerSystem' }), 'CannotProcessFilter', NS.wsman],
      [subscribeBody({ notifyTo: 'http://127.0.0.1:9/x', extra: '<wsman:Bookmark>x</wsman:Bookmark>' }), 'InvalidBookmark', NS.wsman],
    ];
    await expectRefusedSubscribes(port, cases);
    expect(await count()).toBe(before);
  });
});

/**
 * Durability (issue 14 §2): the outbox is in the database. A gateway killed (SIGKILL) after the change and before
 * the subscriber acknowledged it delivers after a restart on the same database, with the same MessageID.
 */
describe.each(ENGINES)('WS-Man eventing across a gateway restart [%s]', (engine) => {
  jest.setTimeout(120000);
  it('a notification not acknowledged before SIGKILL arrives from the next process', async () => {
    const db = await createTestDatabase(engine);
    const l = await new Listener().start();
    l.status = 503;
    const gwEnv = durableGatewayEnv(db, ADMIN_PASSWORD);
    let gw = await startGatewayProcess(gwEnv);
    try {
      await subscribe(gw.port, subscribeBody({ notifyTo: l.url }));
      const machine = await restMachine(gw.port, 'ev-durable', 'STOPPED');
      const first = await waitFor(() => l.events().find((g) => resourceOf(g).Resource === machine), 10000);
      await gw.kill('SIGKILL');
      const refused = l.events().length;
      l.status = 200;
      gw = await startGatewayProcess(gwEnv);
      const delivered = await waitFor(() => l.events().length > refused && l.events()[refused], 15000);
      // the first notification again, the one the subscriber had refused, under the same MessageID
      expect(delivered.messageId).toBe(first.messageId);
      expect(resourceOf(delivered)).toMatchObject({ Resource: machine, State: resourceOf(first).State });
      await waitFor(() => l.events().some((g) => resourceOf(g).State === 'STOPPED'), 10000);
    } finally {
      await gw.kill('SIGKILL');
      await l.stop();
      await db.drop();
    }
  });
});
