import { join } from 'node:path';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { ACT, all, basic, catalogIds, CIM, envelope, fault, NS, one, payload, post, props, restGet, restMachine, restPost, run, text, useWsmanApp, VENDOR, type WsResponse } from '../../support/wsman-client';

const WQL = 'http://schemas.microsoft.com/wbem/wsman/1/WQL';
const LOG = `${CIM}CIM_RecordLog`;
const ENTRY = `${CIM}CIM_LogEntry`;
const EVENT = `${VENDOR}CIMIGW_Event`;
const AUDIT_LOG = `${VENDOR}CIMIGW_AuditLog`;
const AUDIT = `${VENDOR}CIMIGW_AuditRecord`;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const ok = (r: WsResponse) => {
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(r.text.indexOf('<s:Body>'), r.text.indexOf('<s:Body>') + 900)}`);
  return r;
};

/**
 * The CIMI EventLogs and the CADF audit trail through the WS-Man door (issue 6 §4): DSP1010 Record Log classes
 * (CIM_RecordLog / CIM_LogEntry, vendor subclasses CIMIGW_EventLog, CIMIGW_Event, CIMIGW_AuditLog,
 * CIMIGW_AuditRecord) read through the same EventService and AuditService as REST `eventLogs`; the same records,
 * filters compiled to the same store queries, read-only, admin-only audit, tenant-scoped events.
 */
describe.each(ENGINES)('WS-Man event logs and audit trail [%s]', (engine) => {
  const env = useWsmanApp(engine);
  let machine: string;
  let userAuth: string;
  let otherAuth: string;

  /** an optimized Enumerate pulled to its end; the instance elements */
  async function enumerate(resourceUri: string, filter = '', auth?: string): Promise<{ items: Element[]; r: WsResponse }> {
    const body = `<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>50</wsman:MaxElements>${filter}</wsen:Enumerate>`;
    let r = await post(env().port, envelope({ action: `${NS.wsen}/Enumerate`, resourceUri, body, ns: ` xmlns:wsen="${NS.wsen}"` }), { auth });
    if (r.status !== 200) return { items: [], r };
    const items: Element[] = [];
    for (let i = 0; i < 100; i++) {
      const box = one(r.doc, NS.wsman, 'Items') ?? one(r.doc, NS.wsen, 'Items');
      for (let c = box?.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) items.push(c as Element);
      const ctx = text(r.doc, NS.wsen, 'EnumerationContext');
      if (!ctx) break;
      r = ok(await post(env().port, envelope({ action: `${NS.wsen}/Pull`, resourceUri, body: `<wsen:Pull><wsen:EnumerationContext>${ctx}</wsen:EnumerationContext><wsen:MaxElements>50</wsen:MaxElements></wsen:Pull>`, ns: ` xmlns:wsen="${NS.wsen}"` }), { auth }));
    }
    return { items, r };
  }
  const wql = (q: string) => `<wsman:Filter Dialect="${WQL}">${esc(q)}</wsman:Filter>`;

  beforeAll(async () => {
    const port = env().port;
    // a Machine made over REST and then stopped: its EventLog holds CREATING/STARTED/STOPPING/STOPPED events
    machine = await restMachine(port, 'logged-vm');
    const stop = await restPost(port, `/cimi/machines/${machine}/stop`, { resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: 'http://schemas.dmtf.org/cimi/1/action/stop' });
    expect(stop.status).toBe(202);
    await env().h.idle();
    const u = await env().h.user('demo', ['user']);
    userAuth = basic(u.principal.userName, 'password-123');
    const o = await env().h.user('elsewhere', ['admin']);
    otherAuth = basic(o.principal.userName, 'password-123');
  });

  it('Get CIM_RecordLog by InstanceID answers the Machine\'s EventLog (CIMIGW_EventLog), the log REST shows', async () => {
    const r = ok(await post(env().port, envelope({ action: ACT.get, resourceUri: LOG, selectors: { InstanceID: `CIMIGW:log:${machine}` } })));
    const p = payload(r)!;
    expect([p.namespaceURI, p.localName]).toEqual([`${VENDOR}CIMIGW_EventLog`, 'CIMIGW_EventLog']);
    expect(props(p)).toMatchObject({
      InstanceID: `CIMIGW:log:${machine}`,
      ElementName: 'logged-vm',
      LoggedResource: machine,
      LoggedResourceType: 'http://schemas.dmtf.org/cimi/2/Machine',
      EnabledState: '2',
      HealthState: '5',
      LogState: '2',
      OverwritePolicy: '7',
    });
    const rest = await restGet(env().port, `/cimi/eventLogs/${machine}`);
    expect(rest.status).toBe(200);
    // the same log through its vendor class URI
    ok(await post(env().port, envelope({ action: ACT.get, resourceUri: `${VENDOR}CIMIGW_EventLog`, selectors: { InstanceID: `CIMIGW:log:${machine}` } })));
    // an id that names no evented resource (a MachineConfiguration) is no EventLog, as in REST
    const cfg = (await catalogIds(env().port)).config;
    const none = fault(await post(env().port, envelope({ action: ACT.get, resourceUri: LOG, selectors: { InstanceID: `CIMIGW:log:${cfg}` } })));
    expect([none.subcodeNs, none.subcode]).toEqual([NS.wsa, 'DestinationUnreachable']);
  });

  it('the Events of that log, enumerated with WQL on LogInstanceID, are the state Events REST lists, field for field', async () => {
    const rest = (await restGet(env().port, `/cimi/eventLogs/${machine}/events`)).doc.events as { id: string; timestamp: string; outcome: string; severity: string; type: string; content: { state: string; previous?: string; resName?: string } }[];
    expect(rest.map((e) => e.content.state)).toEqual(expect.arrayContaining(['STARTED', 'STOPPED']));
    const { items } = await enumerate(ENTRY, wql(`select * from CIMIGW_Event where LogInstanceID = 'CIMIGW:log:${machine}'`));
    const got = items.map((i) => {
      expect([i.namespaceURI, i.localName]).toEqual([EVENT, 'CIMIGW_Event']);
      const v = props(i);
      const data = JSON.parse(v.RecordData!) as { id: string; content: unknown };
      return { id: v.RecordID, instance: v.InstanceID, log: v.LogInstanceID, state: v.State, previous: v.PreviousState, outcome: v.Outcome, severity: v.Severity, type: v.EventType, name: v.ElementName, resource: v.Resource, resourceType: v.ResourceType, time: text(one(i, EVENT, 'CreationTimeStamp'), NS.cim, 'Datetime'), content: data.content, format: v.RecordFormat, perceived: v.PerceivedSeverity };
    });
    const want = rest.map((e) => ({
      id: e.id.split('/').pop(),
      instance: `CIMIGW:event:${e.id.split('/').pop()}`,
      log: `CIMIGW:log:${machine}`,
      state: e.content.state,
      previous: e.content.previous ?? null,
      outcome: e.outcome,
      severity: e.severity,
      type: e.type,
      name: e.content.resName ?? null,
      resource: machine,
      resourceType: 'Machine',
      time: new Date(e.timestamp).toISOString(),
      content: expect.objectContaining({ state: e.content.state }),
      format: 'application/json',
      perceived: e.severity === 'low' ? '2' : expect.any(String),
    }));
    const byId = (a: { id?: string | null }, b: { id?: string | null }) => String(a.id).localeCompare(String(b.id));
    expect(got.map((g) => ({ ...g, time: new Date(g.time!).toISOString() })).sort(byId)).toEqual(want.sort(byId));

    // Get of one Event by its key, through the abstract CIM_LogEntry URI and through its own class URI
    const first = got[0];
    for (const uri of [ENTRY, EVENT]) {
      const one1 = props(payload(ok(await post(env().port, envelope({ action: ACT.get, resourceUri: uri, selectors: { InstanceID: first.instance! } })))));
      expect({ RecordID: one1.RecordID, State: one1.State }).toEqual({ RecordID: first.id, State: first.state });
    }
  });

  it('WQL on Event properties runs in the database: State, Severity, CreationTimeStamp; a property it cannot compare is CannotProcessFilter', async () => {
    const log = `LogInstanceID = 'CIMIGW:log:${machine}'`;
    const stopped = (await enumerate(EVENT, wql(`select * from CIMIGW_Event where ${log} AND State = 'STOPPED'`))).items.map((i) => props(i));
    expect(stopped.map((v) => [v.State, v.PreviousState])).toEqual([['STOPPED', 'STOPPING']]);
    const low = (await enumerate(EVENT, wql(`select * from CIMIGW_Event where ${log} AND Severity = 'low'`))).items;
    const allOf = (await enumerate(EVENT, wql(`select * from CIMIGW_Event where ${log}`))).items;
    expect(low.length).toBe(allOf.length);
    const future = (await enumerate(EVENT, wql(`select * from CIMIGW_Event where ${log} AND CreationTimeStamp > '2999-01-01T00:00:00Z'`))).items;
    expect(future).toEqual([]);
    const past = (await enumerate(EVENT, wql(`select * from CIMIGW_Event where ${log} AND CreationTimeStamp > '20000101000000.000000+000'`))).items;
    expect(past.length).toBe(allOf.length);
    // PerceivedSeverity is computed from the severity, not stored: refused, naming the class
    const refused = (await enumerate(EVENT, wql(`select * from CIMIGW_Event where PerceivedSeverity = 2`))).r;
    expect(fault(refused)).toMatchObject({ subcodeNs: NS.wsman, subcode: 'CannotProcessFilter' });
  });

  it('logs and records are read-only: Put, Delete and Create are wsa:ActionNotSupported and change nothing', async () => {
    const before = (await restGet(env().port, `/cimi/eventLogs/${machine}/events`)).doc.count;
    const ev = (await enumerate(EVENT, wql(`select * from CIMIGW_Event where LogInstanceID = 'CIMIGW:log:${machine}'`))).items[0];
    const key = { InstanceID: props(ev).InstanceID! };
    for (const [action, uri, selectors, body] of [
      [ACT.delete, EVENT, key, ''],
      [ACT.put, EVENT, key, ev.toString()],
      [ACT.delete, LOG, { InstanceID: `CIMIGW:log:${machine}` }, ''],
      [ACT.create, LOG, undefined, `<p:CIMIGW_EventLog xmlns:p="${VENDOR}CIMIGW_EventLog"><p:ElementName>x</p:ElementName></p:CIMIGW_EventLog>`],
      [ACT.delete, AUDIT_LOG, { InstanceID: 'CIMIGW:audit' }, ''],
      // refused for the class, before any instance is looked up: the same answer for a record that does not exist
      [ACT.delete, EVENT, { InstanceID: 'CIMIGW:event:00000000-0000-4000-8000-000000000000' }, ''],
    ] as const) {
      const f = fault(await post(env().port, envelope({ action, resourceUri: uri, selectors, body, ns: ` xmlns:cim="${NS.cim}" xmlns:xsi="${NS.xsi}"` })));
      expect({ action, uri, ns: f.subcodeNs, sub: f.subcode }).toEqual({ action, uri, ns: NS.wsa, sub: 'ActionNotSupported' });
    }
    expect((await restGet(env().port, `/cimi/eventLogs/${machine}/events`)).doc.count).toBe(before);
  });

  it('the audit trail: CIMIGW_AuditLog and its CIMIGW_AuditRecords are the records REST eventLogs/audit shows; admins only', async () => {
    const log = props(payload(ok(await post(env().port, envelope({ action: ACT.get, resourceUri: AUDIT_LOG, selectors: { InstanceID: 'CIMIGW:audit' } })))));
    expect(log).toMatchObject({ InstanceID: 'CIMIGW:audit', ElementName: 'CADF audit trail', LogState: '2' });
    // request records commit within AUDIT_FLUSH_MS (group commit): settle the trail before comparing two reads of it
    await env().h.get((await import('../../../src/model/audit/audit.service')).AuditService).flush();
    const restAudit = (await restGet(env().port, `/cimi/eventLogs/audit/events?$filter=${encodeURIComponent(`target='${machine}'`)}`)).doc.events as { id: string; content: { action: string; outcome: string; initiator: { id: string; host: { agent: string } }; correlationId: string } }[];
    expect(restAudit.length).toBeGreaterThanOrEqual(2);
    const { items } = await enumerate(AUDIT, wql(`select * from CIMIGW_AuditRecord where Target = '${machine}'`));
    const got = items.map((i) => {
      const v = props(i);
      return { id: v.RecordID, instance: v.InstanceID, log: v.LogInstanceID, action: v.Action, outcome: v.Outcome, initiator: v.InitiatorID, protocol: v.Protocol, correlation: v.CorrelationID, record: (JSON.parse(v.RecordData!) as { id: string }).id };
    });
    const want = restAudit.map(({ id, content: a }) => ({ id: id.split('/').pop(), instance: `CIMIGW:audit:${id.split('/').pop()}`, log: 'CIMIGW:audit', action: a.action, outcome: a.outcome, initiator: a.initiator.id, protocol: a.initiator.host.agent, correlation: a.correlationId, record: id.split('/').pop() }));
    const byId = (a: { id?: string | null }, b: { id?: string | null }) => String(a.id).localeCompare(String(b.id));
    expect(got.sort(byId)).toEqual(want.sort(byId));
    // a filter on the CADF fields: the machine's create through REST, and the stop
    const creates = (await enumerate(AUDIT, wql(`select * from CIMIGW_AuditRecord where Target = '${machine}' AND Action = 'create' AND Protocol = 'rest'`))).items;
    expect(creates.length).toBeGreaterThanOrEqual(1);
    expect(creates.every((c) => props(c).Outcome !== null)).toBe(true);
    // one record by its key
    const rec = props(payload(ok(await post(env().port, envelope({ action: ACT.get, resourceUri: AUDIT, selectors: { InstanceID: got[0].instance! } })))));
    expect(rec.RecordID).toBe(got[0].id);
    // this very WS-Man read is audited too, as a wsman read of the audit record
    await env().h.get((await import('../../../src/model/audit/audit.service')).AuditService).flush();
    const reads = (await restGet(env().port, `/cimi/eventLogs/audit/events?$filter=${encodeURIComponent(`target='${got[0].id}' and protocol='wsman'`)}`)).doc.events as { content: { action: string; outcome: string; target: { typeURI: string } } }[];
    // the audit trail is a CIMI EventLog and its records CIMI Events, whichever door reads them
    expect(reads.map((x) => [x.content.action, x.content.outcome, x.content.target.typeURI])).toContainEqual(['read', 'success', 'http://schemas.dmtf.org/cimi/2/Event']);

    // a user who is not an admin: AccessDenied for the audit classes, as REST answers 403
    for (const [action, uri, selectors] of [
      [ACT.get, AUDIT_LOG, { InstanceID: 'CIMIGW:audit' }],
      [ACT.get, AUDIT, { InstanceID: got[0].instance! }],
    ] as const) {
      const f = fault(await post(env().port, envelope({ action, resourceUri: uri, selectors }), { auth: userAuth }));
      expect({ uri, ns: f.subcodeNs, sub: f.subcode }).toEqual({ uri, ns: NS.wsman, sub: 'AccessDenied' });
    }
    const denied = (await enumerate(AUDIT, '', userAuth)).r;
    expect(fault(denied)).toMatchObject({ subcodeNs: NS.wsman, subcode: 'AccessDenied' });
  });

  it('the audit log instance answers InstanceID filters (WQL and SelectorFilter) in place, and constant properties without the store', async () => {
    expect((await enumerate(AUDIT_LOG, wql(`select * from CIMIGW_AuditLog where InstanceID = 'CIMIGW:audit'`))).items.map((i) => props(i).InstanceID)).toEqual(['CIMIGW:audit']);
    expect((await enumerate(AUDIT_LOG, wql(`select * from CIMIGW_AuditLog where InstanceID <> 'CIMIGW:audit'`))).items).toEqual([]);
    const sel = `<wsman:Filter Dialect="http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter"><wsman:SelectorSet><wsman:Selector Name="InstanceID">CIMIGW:audit</wsman:Selector></wsman:SelectorSet></wsman:Filter>`;
    expect((await enumerate(AUDIT_LOG, sel)).items.length).toBe(1);
    // a constant property is decided without the store
    expect((await enumerate(AUDIT_LOG, wql(`select * from CIMIGW_AuditLog where LogState = 2`))).items.length).toBe(1);
  });

  it('a claimed user name with characters XML cannot carry is kept readable: the audit pages stay well-formed in SOAP and WS-Man', async () => {
    const evil = `\u0001evil\u0007${Date.now()}`;
    const refused = await post(env().port, envelope({ action: ACT.get, resourceUri: LOG, selectors: { InstanceID: `CIMIGW:log:${machine}` } }), { auth: `Basic ${Buffer.from(`${evil}:pw`).toString('base64')}` });
    expect(refused.status).toBe(401);
    await env().h.get((await import('../../../src/model/audit/audit.service')).AuditService).flush();
    const shown = evil.replace(/[\u0001\u0007]/g, '\uFFFD');
    // WS-Man: the enumeration page parses (ok() reads it with a namespace-aware parser) and shows the name with U+FFFD
    const recs = (await enumerate(AUDIT, wql(`select * from CIMIGW_AuditRecord where Action = 'authenticate' AND Outcome = 'failure'`))).items.map((i) => props(i));
    expect(recs.map((r) => r.InitiatorName)).toContain(shown);
    // SOAP: the same record through ListAuditEvents, parsed by libxml2
    const soapBody = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="urn:cimi-gateway:soap:1:types"><soap:Body><t:ListAuditEvents><t:filter><t:condition><t:attribute>action</t:attribute><t:operator>eq</t:operator><t:stringValue>authenticate</t:stringValue></t:condition></t:filter><t:last>1000</t:last></t:ListAuditEvents></soap:Body></soap:Envelope>`;
    const r = await fetch(`http://127.0.0.1:${env().port}/soap`, { method: 'POST', headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"urn:cimi-gateway:soap:1:ListAuditEvents"', Authorization: basic() }, body: soapBody });
    const text = await r.text();
    expect(r.status).toBe(200);
    const lint = await run('xmllint', ['--noout', '-'], { input: text });
    expect(lint.code).toBe(0);
    expect(text).toContain(`<t:name>${shown}</t:name>`);
  });

  it("a deleted resource's log and its Events are gone in every door (WS-Man enumerations too)", async () => {
    const gone = await restMachine(env().port, 'short-lived', 'STOPPED');
    const events = (await enumerate(EVENT, wql(`select * from CIMIGW_Event where LogInstanceID = 'CIMIGW:log:${gone}'`))).items.map((i) => props(i).InstanceID!);
    expect(events.length).toBeGreaterThan(0);
    const del = await fetch(`http://127.0.0.1:${env().port}/cimi/machines/${gone}`, { method: 'DELETE', headers: { Authorization: basic() } });
    expect(del.status).toBe(202);
    await env().h.idle();
    expect((await restGet(env().port, `/cimi/eventLogs/${gone}/events`)).status).toBe(404);
    expect((await enumerate(EVENT, wql(`select * from CIMIGW_Event where LogInstanceID = 'CIMIGW:log:${gone}'`))).items).toEqual([]);
    expect((await enumerate(ENTRY)).items.map((i) => props(i).InstanceID)).not.toEqual(expect.arrayContaining([events[0]]));
    const f = fault(await post(env().port, envelope({ action: ACT.get, resourceUri: EVENT, selectors: { InstanceID: events[0] } })));
    expect([f.subcodeNs, f.subcode]).toEqual([NS.wsa, 'DestinationUnreachable']);
  });

  it('polymorphic CIM_LogEntry / CIM_RecordLog enumerations list the tenant\'s Events and EventLogs, never the gateway-wide audit trail', async () => {
    for (const auth of [undefined, userAuth]) {
      const entries = (await enumerate(ENTRY, '', auth)).items;
      expect(new Set(entries.map((e) => e.localName))).toEqual(new Set(['CIMIGW_Event']));
      const logs = (await enumerate(LOG, '', auth)).items.map((e) => props(e));
      expect(logs.map((l) => l.InstanceID)).toContain(`CIMIGW:log:${machine}`);
      expect(logs.map((l) => l.InstanceID)).not.toContain('CIMIGW:audit');
      // every EventLog is an evented resource's: Machines, Volumes, Networks, Systems of the tenant
      expect(new Set(logs.map((l) => l.LoggedResourceType!.split('/').pop()))).toEqual(new Set(['Machine', 'Network']));
    }
  });

  it("another tenant's logs and events do not exist for a user of tenant B: Get is DestinationUnreachable, enumerations and filters find none", async () => {
    const ev = (await enumerate(EVENT, wql(`select * from CIMIGW_Event where LogInstanceID = 'CIMIGW:log:${machine}'`))).items[0];
    for (const [uri, selectors] of [
      [LOG, { InstanceID: `CIMIGW:log:${machine}` }],
      [ENTRY, { InstanceID: props(ev).InstanceID! }],
    ] as const) {
      const f = fault(await post(env().port, envelope({ action: ACT.get, resourceUri: uri, selectors }), { auth: otherAuth }));
      expect({ uri, ns: f.subcodeNs, sub: f.subcode }).toEqual({ uri, ns: NS.wsa, sub: 'DestinationUnreachable' });
    }
    expect((await enumerate(EVENT, wql(`select * from CIMIGW_Event where LogInstanceID = 'CIMIGW:log:${machine}'`), otherAuth)).items).toEqual([]);
    const theirs = (await enumerate(ENTRY, '', otherAuth)).items.map((i) => props(i).Resource);
    expect(theirs).not.toContain(machine);
    const theirLogs = (await enumerate(LOG, '', otherAuth)).items.map((i) => props(i).LoggedResource);
    expect(theirLogs).not.toContain(machine);
  });

  it('independent clients: pywinrm enumerates CIMIGW_Event, wsl gets the EventLog and enumerates CIM_LogEntry with a WQL filter', async () => {
    const port = env().port;
    const mine = (await enumerate(EVENT, wql(`select * from CIMIGW_Event where LogInstanceID = 'CIMIGW:log:${machine}'`))).items.map((i) => props(i).InstanceID);
    const everyEvent = (await enumerate(EVENT)).items.map((i) => props(i).InstanceID);
    const py = await run('/usr/bin/python3', [join(__dirname, '22-pywinrm-enumerate.py'), `http://127.0.0.1:${port}/wsman`, 'admin', ADMIN_PASSWORD, EVENT, 'pulled', '3', '16384'], { timeoutMs: 90000 });
    expect(py.code).toBe(0);
    const out = JSON.parse(py.stdout) as { names: string[] };
    expect([...out.names].sort()).toEqual([...everyEvent].sort());
    expect(everyEvent).toEqual(expect.arrayContaining(mine));

    const dir = mkdtempSync(join(tmpdir(), 'wsl-log-'));
    try {
      const wslEnv = { PATH: process.env.PATH!, HOME: dir, WSNOSSL: '1', WSENDPOINT: `127.0.0.1:${port}`, WSUSER: 'admin', WSPASS: ADMIN_PASSWORD, OUTLEVEL: '1', KEEPHISTORY: '0', WSAUTOMATED: '1' };
      const g = await run('wsl', ['get', 'CIM_RecordLog', `InstanceID=CIMIGW:log:${machine}`], { cwd: dir, env: wslEnv });
      expect(g.code).toBe(0);
      const got = new DOMParser().parseFromString(readFileSync(join(dir, 'response.xml'), 'utf8'), 'text/xml');
      expect(props(one(got, `${VENDOR}CIMIGW_EventLog`, 'CIMIGW_EventLog'))).toMatchObject({ LoggedResource: machine });
      await run('wsl', ['enum', 'CIM_LogEntry', '-opti', '2', '-filter', `select * from CIMIGW_Event where LogInstanceID = 'CIMIGW:log:${machine}'`, '-dialect', WQL], { cwd: dir, env: wslEnv });
      const names = readdirSync(dir)
        .filter((f) => /response-\d+\.xml$/.test(f))
        .flatMap((f) => all(new DOMParser().parseFromString(readFileSync(join(dir, f), 'utf8'), 'text/xml'), EVENT, 'InstanceID').map((e) => (e.textContent ?? '').trim()));
      expect([...names].sort()).toEqual([...mine].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    }
  });
});
