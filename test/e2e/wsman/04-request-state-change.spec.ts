import { ENGINES } from '../../support/databases';
import { CIM, CS, envelope, eprSelectors, fault, NS, one, payload, post, props, restGet, restJob, restMachine, restPost, text, useWsmanApp, type WsResponse } from '../../support/wsman-client';

const RSC = `${CS}/RequestStateChange`;
const JOB = `${CIM}CIM_ConcreteJob`;
const sel = (id: string) => ({ CreationClassName: 'CIM_ComputerSystem', Name: id });
const input = (state: string, extra = '') => `<n1:RequestStateChange_INPUT xmlns:n1="${CS}"><n1:RequestedState>${state}</n1:RequestedState>${extra}</n1:RequestStateChange_INPUT>`;

function output(r: WsResponse): { returnValue: string; job?: Record<string, string>; jobUri?: string } {
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(r.text.indexOf('<s:Body>'), r.text.indexOf('<s:Body>') + 900)}`);
  const p = payload(r)!;
  expect([p.namespaceURI, p.localName]).toEqual([CS, 'RequestStateChange_OUTPUT']);
  expect(text(r.doc, NS.wsa, 'Action')).toBe(`${RSC}Response`);
  const job = one(p, CS, 'Job');
  return { returnValue: text(p, CS, 'ReturnValue')!, job: job ? eprSelectors(job) : undefined, jobUri: job ? text(job, NS.wsman, 'ResourceURI') : undefined };
}

async function wsJob(port: number, instanceId: string): Promise<Record<string, string | null>> {
  const end = Date.now() + 20000;
  for (;;) {
    const r = await post(port, envelope({ action: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get', resourceUri: JOB, selectors: { InstanceID: instanceId } }));
    const p = props(payload(r));
    if (['7', '8', '10'].includes(String(p.JobState)) || Date.now() > end) return p;
    await new Promise((res) => setTimeout(res, 25));
  }
}

/** CIM_ComputerSystem.RequestStateChange (docs/wsman.md §5.3) through MachineService.act, with the Job REST shows. */
describe.each(ENGINES)('WS-Man RequestStateChange [%s]', (engine) => {
  const env = useWsmanApp(engine, { SIM_STEP_LATENCY_MS: JSON.stringify({ start: 300, stop: 100, pause: 50, suspend: 50 }) });

  it('parity: RequestStateChange(2) and the CIMI start action leave the same state and the same kind of Job', async () => {
    const port = env().port;
    const [a, b] = [await restMachine(port, 'parity-rest', 'STOPPED'), await restMachine(port, 'parity-wsman', 'STOPPED')];
    const ra = await restPost(port, `/cimi/machines/${a}/start`, { resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: 'http://schemas.dmtf.org/cimi/1/action/start' });
    expect(ra.status).toBe(202);
    const out = output(await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel(b), body: input('2') })));
    expect(out.returnValue).toBe('4096');
    expect(out.jobUri).toBe(JOB);
    expect(out.job!.InstanceID).toMatch(/^CIMIGW:[0-9a-f-]{36}$/);
    // while the job runs the machine shows STARTING (EnabledState 10, RequestedState 2)
    const during = props(payload(await post(port, envelope({ action: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get', resourceUri: CS, selectors: sel(b) }))));
    expect(during).toMatchObject({ CimiState: 'STARTING', EnabledState: '10', RequestedState: '2' });
    const jobA = await restJob(port, String(ra.doc.id).split('/').pop()!);
    const jobB = await restJob(port, out.job!.InstanceID.slice('CIMIGW:'.length));
    const pick = (j: Record<string, unknown>) => ({ action: j.action, state: j.state, progress: j.progress, returnCode: j.returnCode, target: String((j.targetResource as { href: string }).href).replace(/[0-9a-f-]{36}$/, '') });
    expect(pick(jobB)).toEqual(pick(jobA));
    expect(jobB.action).toBe('http://schemas.dmtf.org/cimi/1/action/start');
    const ma = (await restGet(port, `/cimi/machines/${a}`)).doc;
    const mb = (await restGet(port, `/cimi/machines/${b}`)).doc;
    expect(mb.state).toBe(ma.state);
    expect(mb.state).toBe('STARTED');
    // the CIM_ConcreteJob shows the same Job
    const cj = await wsJob(port, out.job!.InstanceID);
    expect(cj).toMatchObject({ JobState: '7', PercentComplete: '100', ErrorCode: '0' });
    expect(cj.ErrorDescription).toBeNull();
  });

  it.each([
    ['9', 'pause', 'PAUSED', '9'],
    ['2', 'resume', 'STARTED', '2'],
    ['6', 'suspend', 'SUSPENDED', '6'],
    ['2', 'resume', 'STARTED', '2'],
    ['10', 'restart', 'STARTED', '2'],
    ['11', 'forced restart', 'STARTED', '2'],
    ['4', 'graceful stop', 'STOPPED', '3'],
    ['2', 'start', 'STARTED', '2'],
    ['3', 'forced stop', 'STOPPED', '3'],
  ])('RequestedState %s (%s) → %s, EnabledState %s', async (rs, _what, state, enabled) => {
    const port = env().port;
    const g = () => post(port, envelope({ action: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get', resourceUri: CS, selectors: { Name: shared.id, CreationClassName: 'CIMIGW_Machine' } }));
    shared.id ||= await restMachine(port, 'cycle-vm', 'STARTED');
    const out = output(await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel(shared.id), body: input(rs) })));
    expect(out.returnValue).toBe('4096');
    expect((await wsJob(port, out.job!.InstanceID)).JobState).toBe('7');
    expect(props(payload(await g()))).toMatchObject({ CimiState: state, EnabledState: enabled });
  });
  const shared = { id: '' };

  it('an illegal transition is ReturnValue 4097, a transition in progress 4099, unsupported values 1, a TimeoutPeriod 4098', async () => {
    const port = env().port;
    const id = await restMachine(port, 'rv-vm', 'STOPPED');
    expect(output(await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel(id), body: input('9') }))).returnValue).toBe('4097');
    const first = output(await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel(id), body: input('2') })));
    expect(first.returnValue).toBe('4096');
    expect(output(await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel(id), body: input('2') }))).returnValue).toBe('4099');
    await wsJob(port, first.job!.InstanceID);
    for (const v of ['7', '8', '12', '32768']) expect(output(await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel(id), body: input(v) }))).returnValue).toBe('1');
    const withTimeout = input('3', `<n1:TimeoutPeriod><cim:Interval xmlns:cim="${NS.cim}">PT60S</cim:Interval></n1:TimeoutPeriod>`);
    expect(output(await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel(id), body: withTimeout }))).returnValue).toBe('4098');
    expect((await restGet(port, `/cimi/machines/${id}`)).doc.state).toBe('STARTED');
  });

  it('through the WMI-style alias URI (wsman/README.md): ResourceURI, action and INPUT all in the alias namespace, as winrm invoke sends', async () => {
    const port = env().port;
    const id = await restMachine(port, 'wmi-vm', 'STOPPED');
    const WMI = 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/CIM_ComputerSystem';
    const body = `<p:RequestStateChange_INPUT xmlns:p="${WMI}"><p:RequestedState>2</p:RequestedState></p:RequestStateChange_INPUT>`;
    const r = await post(port, envelope({ action: `${WMI}/RequestStateChange`, resourceUri: WMI, selectors: sel(id), body }));
    expect(r.status).toBe(200);
    const p = payload(r)!;
    // answered in the namespace the client named the class by
    expect([p.namespaceURI, p.localName]).toEqual([WMI, 'RequestStateChange_OUTPUT']);
    expect(text(r.doc, NS.wsa, 'Action')).toBe(`${WMI}/RequestStateChangeResponse`);
    expect(text(p, WMI, 'ReturnValue')).toBe('4096');
    const job = eprSelectors(one(p, WMI, 'Job'));
    expect((await wsJob(port, job.InstanceID)).JobState).toBe('7');
    expect((await restGet(port, `/cimi/machines/${id}`)).doc.state).toBe('STARTED');
    // an INPUT in a namespace naming no class of the instance is still refused
    const foreign = `<p:RequestStateChange_INPUT xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/CIM_LogicalDisk"><p:RequestedState>3</p:RequestedState></p:RequestStateChange_INPUT>`;
    expect(fault(await post(port, envelope({ action: `${WMI}/RequestStateChange`, resourceUri: WMI, selectors: sel(id), body: foreign }))).subcode).toBe('InvalidParameter');
  });

  it('parameter and addressing faults: InvalidParameter (TypeMismatch, InvalidName), DestinationUnreachable, ActionNotSupported', async () => {
    const port = env().port;
    const id = await restMachine(port, 'fault-vm', 'STOPPED');
    for (const body of [input('two'), input('70000'), `<n1:RequestStateChange_INPUT xmlns:n1="${CS}"/>`]) {
      const f = fault(await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel(id), body })));
      expect(f).toMatchObject({ code: 'Sender', subcode: 'InvalidParameter', subcodeNs: NS.wsman, detail: expect.stringMatching(/TypeMismatch$/) });
    }
    const wrongParam = input('2', '<n1:Force>true</n1:Force>');
    expect(fault(await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel(id), body: wrongParam }))).detail).toMatch(/InvalidName$/);
    const unknown = fault(await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel('00000000-0000-4000-8000-000000000000'), body: input('2') })));
    expect(unknown.subcode).toBe('DestinationUnreachable');
    expect(fault(await post(port, envelope({ action: `${CS}/NoSuchMethod`, resourceUri: CS, selectors: sel(id), body: input('2') }))).subcode).toBe('ActionNotSupported');
    expect(fault(await post(port, envelope({ action: `${JOB}/RequestStateChange`, resourceUri: JOB, selectors: { InstanceID: 'CIMIGW:x' }, body: input('2') }))).subcode).toBe('ActionNotSupported');
  });
});
