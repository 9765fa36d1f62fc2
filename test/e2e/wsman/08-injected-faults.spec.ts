import { ENGINES } from '../../support/databases';
import { ResourceService } from '../../../src/model/shared/resource.service';
import { ACT, CS, envelope, fault, post, restMachine, useWsmanApp } from '../../support/wsman-client';

/**
 * The two faults no client mistake can cause, driven through the real door by making the backend misbehave:
 * wsman:InternalError for an unexpected failure (no internal detail leaks), wsman:TimedOut when the operation
 * outlives the request's OperationTimeout (DSP0226 6.1).
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
});
