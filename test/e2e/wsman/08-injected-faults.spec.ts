import { ENGINES } from '../../support/databases';
import { ResourceService } from '../../../src/model/shared/resource.service';
import { AuditService } from '../../../src/model/audit/audit.service';
import { UNIT_OF_WORK, type UnitOfWork } from '../../../src/model/shared/ports';
import { ACT, all, CS, envelope, fault, payload, post, props, restGet, restMachine, useWsmanApp, VENDOR, type WsResponse } from '../../support/wsman-client';

/**
 * The two faults no client mistake can cause, driven through the real door by making the backend misbehave:
 * wsman:InternalError for an unexpected failure (no internal detail leaks), wsman:TimedOut when the operation
 * outlives the request's OperationTimeout (DSP0226 6.1), which then has changed nothing.
 */
describe.each(ENGINES)('WS-Man injected faults [%s]', (engine) => {
  const env = useWsmanApp(engine);
  let id: string;
  beforeAll(async () => {
    id = await restMachine(env().port, 'fault-vm');
  });
  afterEach(() => jest.restoreAllMocks());

  const get = (timeout = 'PT60.000S') =>
    post(env().port, envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } }).replace('PT60.000S', timeout));

  it('an unexpected backend failure is wsman:InternalError, HTTP 500, without the internal message', async () => {
    jest.spyOn(env().h.get(ResourceService), 'get').mockRejectedValueOnce(new Error('disk on fire at /var/lib/secret'));
    const r = await get();
    expect(r.status).toBe(500);
    const f = fault(r);
    expect(f).toMatchObject({ code: 'Receiver', subcode: 'InternalError', subcodeNs: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd' });
    expect(r.text).not.toContain('disk on fire');
    expect(r.text).not.toContain('/var/lib');
    expect((await get()).status).toBe(200);
  });

  it('an operation still running at its OperationTimeout is wsman:TimedOut', async () => {
    const svc = env().h.get(ResourceService);
    const original = svc.get.bind(svc);
    jest.spyOn(svc, 'get').mockImplementationOnce(async (...a) => {
      await new Promise((r) => setTimeout(r, 1500));
      return original(...a);
    });
    const r = await get('PT0.200S');
    expect(r.status).toBe(500);
    expect(fault(r)).toMatchObject({ code: 'Receiver', subcode: 'TimedOut', subcodeNs: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd' });
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const rename = (name: string, timeout: string) =>
    post(
      env().port,
      envelope({ action: ACT.put, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id }, body: `<p:CIM_ComputerSystem xmlns:p="${CS}"><p:ElementName>${name}</p:ElementName></p:CIM_ComputerSystem>` }).replace('PT60.000S', timeout),
    );

  it('a Put still inside its transaction at its OperationTimeout is wsman:TimedOut and changes nothing, even when it ends later', async () => {
    const before = (await restGet(env().port, `/cimi/machines/${id}`)).doc;
    const audit = env().h.get(AuditService);
    const original = audit.recordMutation.bind(audit);
    // the transaction's last step before commit runs long: the door gives up first
    jest.spyOn(audit, 'recordMutation').mockImplementationOnce(async (...a) => {
      await sleep(800);
      return original(...a);
    });
    const r = await rename('too-late', 'PT0.200S');
    expect(fault(r)).toMatchObject({ code: 'Receiver', subcode: 'TimedOut', subcodeNs: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd' });
    await sleep(1200); // the slow transaction has reached its end: it rolled back
    const after = (await restGet(env().port, `/cimi/machines/${id}`)).doc;
    expect(after.name).toBe(before.name);
    expect(after.updated).toBe(before.updated);
    expect((await get()).status).toBe(200);
  });

  it('a Pull that times out does not move the enumeration: the next Pull hands out the items it would have', async () => {
    const port = env().port;
    for (const n of ['pull-a', 'pull-b']) await restMachine(port, n);
    const ENUM = 'http://schemas.xmlsoap.org/ws/2004/09/enumeration';
    const names = (r: WsResponse) => all(r.doc, `${VENDOR}CIMIGW_Machine`, 'Name').map((e) => e.textContent);
    const enumerate = (body: string) => post(port, envelope({ action: `${ENUM}/Enumerate`, resourceUri: CS, body: `<wsen:Enumerate xmlns:wsen="${ENUM}">${body}</wsen:Enumerate>` }));
    const pull = (ctx: string, timeout = 'PT60.000S') =>
      post(port, envelope({ action: `${ENUM}/Pull`, resourceUri: CS, body: `<wsen:Pull xmlns:wsen="${ENUM}"><wsen:EnumerationContext>${ctx}</wsen:EnumerationContext><wsen:MaxElements>1</wsen:MaxElements></wsen:Pull>` }).replace('PT60.000S', timeout));
    const everything = names(await enumerate('<wsman:OptimizeEnumeration/><wsman:MaxElements>100</wsman:MaxElements>'));
    expect(everything.length).toBeGreaterThanOrEqual(3);
    const opened = await enumerate('');
    const ctx = opened.doc!.getElementsByTagNameNS(ENUM, 'EnumerationContext')[0].textContent!;
    const svc = env().h.get(ResourceService);
    const original = svc.list.bind(svc);
    jest.spyOn(svc, 'list').mockImplementationOnce(async (...a) => {
      await sleep(800);
      return original(...a);
    });
    expect(fault(await pull(ctx, 'PT0.200S')).subcode).toBe('TimedOut');
    await sleep(1200);
    expect(names(await pull(ctx))).toEqual([everything[0]]);
    expect(names(await pull(ctx))).toEqual([everything[1]]);
  });

  it('a Put whose commit is under way at its OperationTimeout is answered as it ends (late), never TimedOut for a change made', async () => {
    const uow = env().h.app.get<UnitOfWork>(UNIT_OF_WORK);
    const original = uow.transaction.bind(uow);
    jest.spyOn(uow, 'transaction').mockImplementationOnce(async (tenant, fn) => {
      const out = await original(tenant, fn);
      await sleep(800); // committed; the acknowledgement is slow
      return out;
    });
    const r = await rename('committed-late', 'PT0.200S');
    expect(r.status).toBe(200);
    expect(props(payload(r)).ElementName).toBe('committed-late');
    expect((await restGet(env().port, `/cimi/machines/${id}`)).doc.name).toBe('committed-late');
  });
});
