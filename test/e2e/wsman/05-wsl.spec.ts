import { DOMParser } from '@xmldom/xmldom';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { ACT, catalogIds, CIM, CS, envelope, eprSelectors, NS, one, post, props, restGet, restJob, run, text, useWsmanApp, VENDOR } from '../../support/wsman-client';

/**
 * Dell's `wsl` (Debian package wsl 0.2.1: bash + curl + xmllint) against the running gateway, driven
 * non-interactively as docs/wsman.md §6.3 says: preemptive Basic, `charset=utf-8`, whitespace between elements and
 * an empty MessageID (no uuidgen here). Assertions are on the response files wsl writes, parsed by namespace.
 */
describe.each(ENGINES)('WS-Man with the wsl client [%s]', (engine) => {
  const env = useWsmanApp(engine);
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'wsl-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 }));

  const wsl = (...args: string[]) =>
    run('wsl', args, { cwd: dir, env: { HOME: dir, WSNOSSL: '1', WSENDPOINT: `127.0.0.1:${env().port}`, WSUSER: 'admin', WSPASS: ADMIN_PASSWORD, OUTLEVEL: '1', KEEPHISTORY: '0', WSAUTOMATED: '1' }, timeoutMs: 60000 });
  const response = () => new DOMParser().parseFromString(readFileSync(join(dir, 'response.xml'), 'utf8'), 'text/xml');

  it('wsl id check: IdentifyResponse with protocol version and product', async () => {
    const r = await wsl('id', 'check');
    expect(r.code).toBe(0);
    const doc = response();
    expect(text(doc, NS.wsmid, 'ProtocolVersion')).toBe(NS.wsman);
    expect(text(doc, NS.wsmid, 'ProductVendor')).toBe('cimi-gateway');
  });

  it('wsl get CIM_ComputerSystem by its keys, and the invoke of RequestStateChange(2) on an EPR file; the job polled with wsl get CIM_ConcreteJob', async () => {
    const port = env().port;
    const c = await catalogIds(port);
    // a stopped Machine made over WS-Man; its ResourceCreated EPR, formatted by xmllint, is wsl's -inst file
    const created = await post(port, envelope({ action: ACT.create, resourceUri: CS, body: `<p:CIMIGW_Machine xmlns:p="${VENDOR}CIMIGW_Machine"><p:ElementName>wsl-vm</p:ElementName><p:MachineConfiguration>${c.config}</p:MachineConfiguration><p:MachineImage>${c.image}</p:MachineImage></p:CIMIGW_Machine>` }));
    expect(created.status).toBe(200);
    const id = eprSelectors(one(created.doc, NS.wxf, 'ResourceCreated')).Name;
    await waitState(port, id, 'STOPPED');
    const fmt = await run('xmllint', ['--format', '-'], { input: created.text });
    writeFileSync(join(dir, 'epr.xml'), fmt.stdout);

    const g = await wsl('get', 'CIM_ComputerSystem', 'CreationClassName=CIM_ComputerSystem', `Name=${id}`);
    expect(g.code).toBe(0);
    const inst = one(response(), `${VENDOR}CIMIGW_Machine`, 'CIMIGW_Machine');
    expect(props(inst)).toMatchObject({ Name: id, ElementName: 'wsl-vm', EnabledState: '3', CimiState: 'STOPPED' });

    const inv = await wsl('invoke', 'CIM_ComputerSystem', 'RequestStateChange', 'RequestedState=2', '-inst', join(dir, 'epr.xml'));
    expect(inv.code).toBe(0); // wsl judges by `_OUTPUT` in the response
    const out = response();
    expect(text(out, `${VENDOR}CIMIGW_Machine`, 'ReturnValue')).toBe('4096');
    const jobId = eprSelectors(one(out, `${VENDOR}CIMIGW_Machine`, 'Job')).InstanceID;
    expect(jobId).toMatch(/^CIMIGW:/);

    let state = '';
    for (let i = 0; i < 100 && state !== '7'; i++) {
      const jg = await wsl('get', 'CIM_ConcreteJob', `InstanceID=${jobId}`);
      expect(jg.code).toBe(0);
      state = String(props(one(response(), `${CIM}CIM_ConcreteJob`, 'CIM_ConcreteJob')).JobState);
    }
    expect(state).toBe('7');
    const rest = await restJob(port, jobId.slice('CIMIGW:'.length));
    expect(rest).toMatchObject({ state: 'SUCCESS', progress: 100, action: 'http://schemas.dmtf.org/cimi/1/action/start' });
    expect((await restGet(port, `/cimi/machines/${id}`)).doc.state).toBe('STARTED');
  });

  it('wsl put: Enumerate (ObjectAndEPR), then a Put of the whole instance with ElementName changed', async () => {
    const r = await wsl('put', 'CIM_ComputerSystem', 'ElementName=renamed-by-wsl');
    // wsl judges a Put by grepping `_OUTPUT`, which a PutResponse (an instance) never has: its exit code says
    // nothing here (docs/wsman.md §6.3); the response and the model do
    const doc = response();
    expect(text(doc, NS.wsa, 'Action')).toBe('http://schemas.xmlsoap.org/ws/2004/09/transfer/PutResponse');
    const inst = props(one(doc, `${VENDOR}CIMIGW_Machine`, 'CIMIGW_Machine'));
    expect(inst.ElementName).toBe('renamed-by-wsl');
    expect((await restGet(env().port, `/cimi/machines/${inst.Name}`)).doc.name).toBe('renamed-by-wsl');
    expect(r.stdout + r.stderr).not.toContain('is not in SOAP format');
  });

  it('wsl get of something that does not exist shows the fault and fails', async () => {
    const r = await wsl('get', 'CIM_ComputerSystem', 'CreationClassName=CIM_ComputerSystem', 'Name=00000000-0000-4000-8000-000000000000');
    expect(r.code).not.toBe(0);
    expect(text(response(), NS.s, 'Value')).toBeDefined();
    expect(one(response(), NS.s, 'Fault')).toBeDefined();
  });
});

async function waitState(port: number, id: string, state: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if ((await restGet(port, `/cimi/machines/${id}`)).doc.state === state) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`machine ${id} never reached ${state}`);
}
