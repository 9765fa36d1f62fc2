import type { Element } from '@xmldom/xmldom';
import { ENGINES } from '../../support/databases';
import {
  ACT, basic, catalogIds, CIM, CS, envelope, eprSelectors, fault, NS, one, payload, post, props, restGet, restJob, restMachine, restPost, useWsmanApp, VENDOR, type WsResponse,
} from '../../support/wsman-client';

const MACHINE = `${VENDOR}CIMIGW_Machine`;
const JOB = `${CIM}CIM_ConcreteJob`;
const sel = (id: string) => ({ CreationClassName: 'CIM_ComputerSystem', Name: id });
const ok = (r: WsResponse) => {
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(r.text.indexOf("<s:Body>"), r.text.indexOf("<s:Body>") + 900)}`);
  return r;
};

/** wxf:Get/Put/Create/Delete over the same model operations and Jobs as REST (docs/wsman.md §1.6, §5.2). */
describe.each(ENGINES)('WS-Man transfer [%s]', (engine) => {
  const env = useWsmanApp(engine);
  let id: string;
  beforeAll(async () => {
    id = await restMachine(env().port, 'xfer-vm');
  });

  it('Get renders DSP0230: the concrete class element in its namespace, properties alphabetical, xsi:nil, cim:Datetime, arrays', async () => {
    const r = ok(await post(env().port, envelope({ action: ACT.get, resourceUri: CS, selectors: sel(id) })));
    const p = payload(r)!;
    expect([p.namespaceURI, p.localName]).toEqual([MACHINE, 'CIMIGW_Machine']);
    const names = Array.from(p.childNodes as unknown as ArrayLike<{ nodeType: number; localName: string; namespaceURI: string }>).filter((n) => n.nodeType === 1);
    expect(names.every((n) => n.namespaceURI === MACHINE)).toBe(true);
    const local = names.map((n) => n.localName);
    expect(local).toEqual([...local].sort());
    const v = props(p);
    expect(v).toMatchObject({ CreationClassName: 'CIMIGW_Machine', Name: id, ElementName: 'xfer-vm', EnabledState: '2', RequestedState: '12', CimiState: 'STARTED', Cpu: '1', OperationalStatus: '2', HealthState: '5' });
    expect(v.Description).toBeNull(); // xsi:nil
    expect(one(one(p, MACHINE, 'InstallDate'), NS.cim, 'Datetime')?.textContent).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    // same resource REST shows
    const rest = (await restGet(env().port, `/cimi/machines/${id}`)).doc;
    expect(rest).toMatchObject({ name: v.ElementName, state: v.CimiState, cpu: Number(v.Cpu), memory: Number(v.MemoryKiB) });
  });

  it('Get of the Volume, Network and Job classes by their keys; the Job is the one REST shows', async () => {
    const c = await catalogIds(env().port);
    const net = ok(await post(env().port, envelope({ action: ACT.get, resourceUri: `${CIM}CIM_IPConnectivitySubnet`, selectors: { InstanceID: `CIMIGW:${c.network}` } })));
    expect(props(payload(net))).toMatchObject({ InstanceID: `CIMIGW:${c.network}`, ElementName: 'demo-net', CimiState: 'STARTED', MTU: '1500' });
    const jobs = (await restGet(env().port, '/cimi/jobs?$filter=action=\'add\'')).doc.jobs as Record<string, unknown>[];
    const restJobDoc = jobs.find((j) => j.state === 'SUCCESS')!;
    const jobId = String(restJobDoc.id).split('/').pop()!;
    const j = ok(await post(env().port, envelope({ action: ACT.get, resourceUri: JOB, selectors: { InstanceID: `CIMIGW:${jobId}` } })));
    const jp = props(payload(j));
    expect(payload(j)!.localName).toBe('CIM_ConcreteJob');
    expect(jp).toMatchObject({ InstanceID: `CIMIGW:${jobId}`, JobState: '7', PercentComplete: '100', ErrorCode: '0' });
    expect(jp.ErrorDescription).toBeNull();
  });

  it('Put (whole instance, as wsmancli Get-modify-Put): ElementName changes, echoed read-only properties are ignored, a changed one is wxf:InvalidRepresentation', async () => {
    const got = ok(await post(env().port, envelope({ action: ACT.get, resourceUri: CS, selectors: sel(id) })));
    const inst = payload(got)!;
    const xml = inst.toString().replace('<p:ElementName>xfer-vm</p:ElementName>', '<p:ElementName>renamed-vm</p:ElementName>');
    const put = ok(await post(env().port, envelope({ action: ACT.put, resourceUri: CS, selectors: sel(id), body: xml, ns: ` xmlns:cim="${NS.cim}" xmlns:xsi="${NS.xsi}"` })));
    expect(props(payload(put)).ElementName).toBe('renamed-vm');
    expect((await restGet(env().port, `/cimi/machines/${id}`)).doc.name).toBe('renamed-vm');
    const ro = inst.toString().replace(/<p:Cpu>\d+<\/p:Cpu>/, '<p:Cpu>64</p:Cpu>');
    const f = fault(await post(env().port, envelope({ action: ACT.put, resourceUri: CS, selectors: sel(id), body: ro, ns: ` xmlns:cim="${NS.cim}" xmlns:xsi="${NS.xsi}"` })));
    expect(f).toMatchObject({ subcode: 'InvalidRepresentation', subcodeNs: NS.wxf, action: `${NS.wxf}/fault`, detail: expect.stringMatching(/InvalidValues$/) });
    const unknown = `<p:CIMIGW_Machine xmlns:p="${MACHINE}"><p:NoSuchProperty>1</p:NoSuchProperty></p:CIMIGW_Machine>`;
    expect(fault(await post(env().port, envelope({ action: ACT.put, resourceUri: CS, selectors: sel(id), body: unknown }))).subcode).toBe('InvalidRepresentation');
    const wrongNs = `<p:CIMIGW_Machine xmlns:p="urn:other"><p:ElementName>x</p:ElementName></p:CIMIGW_Machine>`;
    expect(fault(await post(env().port, envelope({ action: ACT.put, resourceUri: CS, selectors: sel(id), body: wrongNs }))).detail).toMatch(/InvalidNamespace$/);
    // a partial Put of the base class (CIM_ComputerSystem element) with Description
    const base = `<p:CIM_ComputerSystem xmlns:p="${CS}"><p:Description>from ws-man</p:Description></p:CIM_ComputerSystem>`;
    ok(await post(env().port, envelope({ action: ACT.put, resourceUri: CS, selectors: sel(id), body: base })));
    expect((await restGet(env().port, `/cimi/machines/${id}`)).doc.description).toBe('from ws-man');
  });

  it('wsman put -k on a NULL property (xsi:nil="true" kept, the value written into it) sets the value', async () => {
    const port = env().port;
    const vm = await restMachine(port, 'nil-vm');
    const putOf = (xml: string) => post(port, envelope({ action: ACT.put, resourceUri: CS, selectors: sel(vm), body: xml, ns: ` xmlns:cim="${NS.cim}" xmlns:xsi="${NS.xsi}"` }));
    const got = payload(ok(await post(port, envelope({ action: ACT.get, resourceUri: CS, selectors: sel(vm) }))))!.toString();
    const nilDescription = /<p:Description( xmlns:xsi="[^"]*")? xsi:nil="true"\/>/;
    expect(got).toMatch(nilDescription);
    // what wsmancli sends for `-k Description=set-on-null` (capture 04: Get, modify the element, Put)
    const put = ok(await putOf(got.replace(nilDescription, '<p:Description$1 xsi:nil="true">set-on-null</p:Description>')));
    expect(props(payload(put)).Description).toBe('set-on-null');
    expect((await restGet(port, `/cimi/machines/${vm}`)).doc.description).toBe('set-on-null');
    // an empty nil element is still NULL: the description is cleared
    const now = payload(ok(await post(port, envelope({ action: ACT.get, resourceUri: CS, selectors: sel(vm) }))))!.toString();
    ok(await putOf(now.replace('<p:Description>set-on-null</p:Description>', '<p:Description xsi:nil="true"/>')));
    expect((await restGet(port, `/cimi/machines/${vm}`)).doc.description).toBeUndefined();
    // a read-only NULL property given a value the same way is a change of a read-only value
    const ro = now.replace(/<p:OtherEnabledState( xmlns:xsi="[^"]*")? xsi:nil="true"\/>/, '<p:OtherEnabledState$1 xsi:nil="true">Creating</p:OtherEnabledState>');
    expect(ro).not.toBe(now);
    expect(fault(await putOf(ro)).subcode).toBe('InvalidRepresentation');
  });

  it('TimeOfLastStateChange moves on a state change and not on a rename; a Put of a copy read before a state change is wsman:Concurrency', async () => {
    const port = env().port;
    const vm = await restMachine(port, 'tolsc-vm');
    const get = async () => payload(ok(await post(port, envelope({ action: ACT.get, resourceUri: CS, selectors: sel(vm) }))))!;
    const stamp = (el: Element) => one(one(el, MACHINE, 'TimeOfLastStateChange'), NS.cim, 'Datetime')!.textContent!;
    const putOf = (xml: string) => post(port, envelope({ action: ACT.put, resourceUri: CS, selectors: sel(vm), body: xml, ns: ` xmlns:cim="${NS.cim}" xmlns:xsi="${NS.xsi}"` }));
    const first = await get();
    const t0 = stamp(first);
    // a rename (Get-modify-Put) is no state change
    await new Promise((r) => setTimeout(r, 20));
    ok(await putOf(first.toString().replace('<p:ElementName>tolsc-vm</p:ElementName>', '<p:ElementName>tolsc-renamed</p:ElementName>')));
    const renamed = await get();
    expect(stamp(renamed)).toBe(t0);
    // a stop is: the stamp moves to the time of the change
    await new Promise((r) => setTimeout(r, 20));
    const before = Date.now();
    const stop = await restPost(port, `/cimi/machines/${vm}/stop`, { resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: 'http://schemas.dmtf.org/cimi/1/action/stop' });
    expect(stop.status).toBe(202);
    await restJob(port, String(stop.doc.id).split('/').pop()!);
    const stopped = await get();
    expect(props(stopped)).toMatchObject({ CimiState: 'STOPPED', ElementName: 'tolsc-renamed' });
    expect(Date.parse(stamp(stopped))).toBeGreaterThanOrEqual(before);
    expect(Date.parse(stamp(stopped))).toBeGreaterThan(Date.parse(t0));
    // the copy read before the stop, modified and Put: the instance changed since, Concurrency, nothing written
    const stale = renamed.toString().replace('<p:ElementName>tolsc-renamed</p:ElementName>', '<p:ElementName>stale-name</p:ElementName>');
    expect(fault(await putOf(stale))).toMatchObject({ subcode: 'Concurrency', subcodeNs: NS.wsman, action: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault' });
    expect((await restGet(port, `/cimi/machines/${vm}`)).doc.name).toBe('tolsc-renamed');
    // Get again, modify, Put: accepted (the echoed CimiState and stamp equal the current ones)
    const fresh = stopped.toString().replace('<p:ElementName>tolsc-renamed</p:ElementName>', '<p:ElementName>fresh-name</p:ElementName>');
    expect(props(payload(ok(await putOf(fresh)))).ElementName).toBe('fresh-name');
    // a current copy whose read-only CimiState is edited stays a representation fault
    const edited = stopped.toString().replace('<p:CimiState>STOPPED</p:CimiState>', '<p:CimiState>STARTED</p:CimiState>');
    expect(fault(await putOf(edited)).subcode).toBe('InvalidRepresentation');
    expect(stamp(await get())).toBe(stamp(stopped));
  });

  it('Create: wxf:ResourceCreated with the new EPR; the Machine is the one REST shows, made by the same create Job; Delete removes it', async () => {
    const c = await catalogIds(env().port);
    const body = `<n1:CIMIGW_Machine xmlns:n1="${MACHINE}"><n1:ElementName>made-by-wsman</n1:ElementName><n1:Description>d</n1:Description><n1:MachineConfiguration>${c.config}</n1:MachineConfiguration><n1:MachineImage>${c.image}</n1:MachineImage><n1:InitialState>STOPPED</n1:InitialState></n1:CIMIGW_Machine>`;
    const r = ok(await post(env().port, envelope({ action: ACT.create, resourceUri: CS, body })));
    const rc = payload(r)!;
    expect([rc.namespaceURI, rc.localName]).toEqual([NS.wxf, 'ResourceCreated']);
    expect(one(rc, NS.wsman, 'ResourceURI')?.textContent).toBe(MACHINE);
    const keys = eprSelectors(rc);
    expect(keys.CreationClassName).toBe('CIMIGW_Machine');
    const newId = keys.Name;
    const rest = await restGet(env().port, `/cimi/machines/${newId}`);
    expect(rest.status).toBe(200);
    expect(rest.doc).toMatchObject({ name: 'made-by-wsman', description: 'd', cpu: 1 });
    const jobs = (await restGet(env().port, `/cimi/jobs`)).doc.jobs as Record<string, unknown>[];
    const createJob = jobs.find((j) => j.action === 'add' && ((j.affectedResources ?? []) as { href: string }[]).some((a) => a.href.endsWith(newId)));
    if (!createJob) throw new Error(JSON.stringify(jobs.slice(-3)));
    await restJob(env().port, String(createJob!.id).split('/').pop()!);
    const after = ok(await post(env().port, envelope({ action: ACT.get, resourceUri: MACHINE, selectors: { Name: newId, CreationClassName: 'CIMIGW_Machine' } })));
    expect(props(payload(after))).toMatchObject({ EnabledState: '3', CimiState: 'STOPPED' });
    // a key that names an existing instance
    const dup = `<n1:CIMIGW_Machine xmlns:n1="${MACHINE}"><n1:Name>${newId}</n1:Name><n1:MachineConfiguration>${c.config}</n1:MachineConfiguration><n1:MachineImage>${c.image}</n1:MachineImage></n1:CIMIGW_Machine>`;
    expect(fault(await post(env().port, envelope({ action: ACT.create, resourceUri: CS, body: dup })))).toMatchObject({ subcode: 'AlreadyExists', subcodeNs: NS.wsman });
    // a bad reference is a representation fault carrying the model code
    const bad = `<n1:CIMIGW_Machine xmlns:n1="${MACHINE}"><n1:MachineConfiguration>00000000-0000-4000-8000-000000000000</n1:MachineConfiguration></n1:CIMIGW_Machine>`;
    const bf = fault(await post(env().port, envelope({ action: ACT.create, resourceUri: CS, body: bad })));
    expect(bf).toMatchObject({ subcode: 'InvalidRepresentation', wsmanFaultCode: 'TEMPLATE.BAD_REFERENCE' });
    // Delete: through ResourceService.delete (DELETING, then gone); a second Delete meanwhile is Concurrency
    const del = ok(await post(env().port, envelope({ action: ACT.delete, resourceUri: CS, selectors: sel(newId) })));
    expect(payload(del)).toBeUndefined();
    expect(text(del)).toBe(`${NS.wxf}/DeleteResponse`);
    const again = await post(env().port, envelope({ action: ACT.delete, resourceUri: CS, selectors: sel(newId) }));
    expect(['Concurrency', 'DestinationUnreachable']).toContain(fault(again).subcode);
    for (let i = 0; i < 200; i++) {
      if ((await restGet(env().port, `/cimi/machines/${newId}`)).status === 404) break;
      await new Promise((r2) => setTimeout(r2, 50));
    }
    expect(fault(await post(env().port, envelope({ action: ACT.get, resourceUri: CS, selectors: sel(newId) })))).toMatchObject({ subcode: 'DestinationUnreachable', subcodeNs: NS.wsa });
  });

  it('Create of a Volume and a Network through their base classes', async () => {
    const c = await catalogIds(env().port);
    const vol = ok(await post(env().port, envelope({ action: ACT.create, resourceUri: `${CIM}CIM_LogicalDisk`, body: `<p:CIMIGW_Volume xmlns:p="${VENDOR}CIMIGW_Volume"><p:ElementName>v1</p:ElementName><p:VolumeConfiguration>${c.volumeConfig}</p:VolumeConfiguration></p:CIMIGW_Volume>` })));
    const vk = eprSelectors(payload(vol));
    expect(vk).toMatchObject({ SystemCreationClassName: 'CIMIGW_Tenant', SystemName: 'demo', CreationClassName: 'CIMIGW_Volume' });
    expect((await restGet(env().port, `/cimi/volumes/${vk.DeviceID}`)).doc.name).toBe('v1');
    const net = ok(await post(env().port, envelope({ action: ACT.create, resourceUri: `${CIM}CIM_IPConnectivitySubnet`, body: `<p:CIMIGW_Network xmlns:p="${VENDOR}CIMIGW_Network"><p:ElementName>n1</p:ElementName><p:MTU>9000</p:MTU><p:NetworkType>PRIVATE</p:NetworkType></p:CIMIGW_Network>` })));
    const nk = eprSelectors(payload(net));
    expect(nk.InstanceID).toMatch(/^CIMIGW:/);
    expect((await restGet(env().port, `/cimi/networks/${nk.InstanceID.slice(7)}`)).doc).toMatchObject({ name: 'n1', mtu: 9000, networkType: 'PRIVATE' });
  });

  it('a Get on an abstract superclass URI (CIM_ManagedElement, CIM_System) finds the instance by its concrete class keys', async () => {
    for (const base of ['CIM_ManagedElement', 'CIM_System']) {
      const r = ok(await post(env().port, envelope({ action: ACT.get, resourceUri: `${CIM}${base}`, selectors: sel(id) })));
      expect(props(payload(r))).toMatchObject({ Name: id, CreationClassName: 'CIMIGW_Machine' });
    }
    const f = fault(await post(env().port, envelope({ action: ACT.get, resourceUri: `${CIM}CIM_ManagedElement`, selectors: { Colour: 'blue' } })));
    expect(f).toMatchObject({ subcode: 'InvalidSelectors', detail: expect.stringMatching(/UnexpectedSelectors$/) });
  });

  it('selector faults: missing and unexpected keys are wsman:InvalidSelectors, unknown values wsa:DestinationUnreachable', async () => {
    const missing = fault(await post(env().port, envelope({ action: ACT.get, resourceUri: CS, selectors: { Name: id } })));
    expect(missing).toMatchObject({ subcode: 'InvalidSelectors', subcodeNs: NS.wsman, action: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault', detail: expect.stringMatching(/InsufficientSelectors$/) });
    const extra = fault(await post(env().port, envelope({ action: ACT.get, resourceUri: CS, selectors: { ...sel(id), Color: 'blue' } })));
    expect(extra.detail).toMatch(/UnexpectedSelectors$/);
    const dupXml = envelope({ action: ACT.get, resourceUri: CS, selectors: [['Name', id], ['Name', id], ['CreationClassName', 'CIM_ComputerSystem']] });
    expect(fault(await post(env().port, dupXml)).detail).toMatch(/DuplicateSelectors$/);
    for (const s of [sel('00000000-0000-4000-8000-000000000000'), sel('not-a-uuid'), { CreationClassName: 'CIM_LogicalDisk', Name: id }]) {
      expect(fault(await post(env().port, envelope({ action: ACT.get, resourceUri: CS, selectors: s })))).toMatchObject({ subcode: 'DestinationUnreachable', detail: expect.stringMatching(/InvalidResourceURI$/) });
    }
  });

  it('tenant scoping and roles: another tenant cannot see the Machine; a reader cannot change it (wsman:AccessDenied)', async () => {
    await env().h.user('other-tenant', ['admin'], 'otheradmin');
    await env().h.user('demo', ['reader'], 'demoreader');
    const other = await post(env().port, envelope({ action: ACT.get, resourceUri: CS, selectors: sel(id) }), { auth: basic('otheradmin', 'password-123') });
    expect(fault(other).subcode).toBe('DestinationUnreachable');
    const reader = basic('demoreader', 'password-123');
    expect((await post(env().port, envelope({ action: ACT.get, resourceUri: CS, selectors: sel(id) }), { auth: reader })).status).toBe(200);
    const body = `<p:CIM_ComputerSystem xmlns:p="${CS}"><p:ElementName>nope</p:ElementName></p:CIM_ComputerSystem>`;
    const f = fault(await post(env().port, envelope({ action: ACT.put, resourceUri: CS, selectors: sel(id), body }), { auth: reader }));
    expect(f).toMatchObject({ subcode: 'AccessDenied', subcodeNs: NS.wsman, wsmanFaultCode: 'AUTH.FORBIDDEN' });
  });
});

function text(r: WsResponse): string | undefined {
  return one(r.doc, NS.wsa, 'Action')?.textContent ?? undefined;
}
