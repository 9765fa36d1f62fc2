import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { catalogIds, CIM, CS, restGet, restMachine, run, useWsmanApp, VENDOR } from '../../support/wsman-client';

/**
 * pywinrm (Debian python3-winrm 0.3, run with /usr/bin/python3) posting the capture envelopes adapted to our classes
 * and keys through Protocol.send_message; the script prints parsed results as JSON (06-pywinrm-transfer.py).
 */
describe.each(ENGINES)('WS-Man with pywinrm [%s]', (engine) => {
  const env = useWsmanApp(engine);

  it('Identify, Get, whole-instance Put, RequestStateChange + job poll, Create, a fault, the shell URI and a bad password', async () => {
    const port = env().port;
    const id = await restMachine(port, 'py-vm', 'STARTED');
    const c = await catalogIds(port);
    const r = await run('/usr/bin/python3', [join(__dirname, '06-pywinrm-transfer.py'), `http://127.0.0.1:${port}/wsman`, 'admin', ADMIN_PASSWORD, id, c.config, c.image], { timeoutMs: 90000 });
    if (r.code !== 0) throw new Error(`pywinrm script failed: ${r.stderr}\n${r.stdout}`);
    const out = JSON.parse(r.stdout);

    expect(out.identify).toMatchObject({ tag: '{http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd}IdentifyResponse', protocol: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd', vendor: 'cimi-gateway' });
    expect(out.identify.profiles).toContain('http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/basic');

    expect(out.get.tag).toBe(`{${VENDOR}CIMIGW_Machine}CIMIGW_Machine`);
    expect(out.get.relatesTo).toBe('uuid:476ff10f-60f5-10f5-8002-01000000fc02');
    expect(out.get.action).toBe('http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse');
    expect(out.get.props).toMatchObject({ Name: id, CreationClassName: 'CIMIGW_Machine', ElementName: 'py-vm', EnabledState: '2', Description: null });

    expect(out.put).toMatchObject({ Name: id, ElementName: 'renamed-by-pywinrm' });

    expect(out.invoke).toMatchObject({ tag: `{${CS}}RequestStateChange_OUTPUT`, returnValue: '4096', jobUri: `${CIM}CIM_ConcreteJob` });
    expect(out.job).toMatchObject({ InstanceID: out.invoke.job.InstanceID, JobState: '7', PercentComplete: '100' });
    const restJob = (await restGet(port, `/cimi/jobs/${out.invoke.job.InstanceID.slice('CIMIGW:'.length)}`)).doc;
    expect(restJob).toMatchObject({ state: 'SUCCESS', action: 'http://schemas.dmtf.org/cimi/1/action/restart' });
    expect((await restGet(port, `/cimi/machines/${id}`)).doc).toMatchObject({ state: 'STARTED', name: 'renamed-by-pywinrm' });

    expect(out.create).toMatchObject({ tag: '{http://schemas.xmlsoap.org/ws/2004/09/transfer}ResourceCreated', uri: `${VENDOR}CIMIGW_Machine` });
    expect((await restGet(port, `/cimi/machines/${out.create.selectors.Name}`)).doc.name).toBe('vm-2');

    expect(out.deleteMissing.raised).toBe('WinRMError');
    expect(out.deleteMissing.message).toContain('DestinationUnreachable');
    expect(out.deleteMissing.message).toContain('500');
    expect(out.shell.raised).toBe('WinRMError');
    expect(out.shell.message).toContain('DestinationUnreachable');
    expect(out.badPassword).toBe('InvalidCredentialsError');
  });
});
