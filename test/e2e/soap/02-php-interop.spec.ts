import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { runClient, useSoapApp } from './soap-support';

/**
 * A second independent client (issue 4, Tests): PHP's ext/soap SoapClient in WSDL mode, SOAP 1.1 and 1.2,
 * calling a representative set of operations (catalog create, async create + Job polling, read, update with a
 * properties map, an action, a filtered list) and decoding typed faults.
 */
const SCRIPT = join(__dirname, 'clients', 'php_client.php');

describe.each(ENGINES)('SOAP interop with PHP SoapClient [%s]', (engine) => {
  const env = useSoapApp(engine);
  interface PhpRun {
    error?: string;
    lastRequestHeaders: string;
    calls: Record<string, Record<string, unknown> & { count: number; job: string }>;
    fault: { faultcode: string; faultstring: string; detail: Record<string, string> };
    invalid: Record<string, string>;
  }
  let report: Record<string, PhpRun>;

  beforeAll(async () => {
    report = (await runClient('php', [SCRIPT, env().base, 'admin', ADMIN_PASSWORD])) as never;
  }, 120000);

  it.each(['1.1', '1.2'])('SOAP %s: calls the operations through the WSDL', (v) => {
    const r = report[v];
    expect(r.error).toBeUndefined();
    expect(r.calls.ListMachineConfigurations.count).toBeGreaterThan(0);
    expect(r.calls.CreateMachineTemplate).toMatchObject({ job: 'SUCCESS' });
    expect(r.calls.CreateMachine).toMatchObject({ state: 'CREATING', action: 'add', target: 'MachineCollection' });
    expect(['QUEUED', 'RUNNING']).toContain(r.calls.CreateMachine.job);
    expect(r.calls.GetJob).toMatchObject({ state: 'SUCCESS', progress: 100 });
    expect(r.calls.GetMachine).toMatchObject({ state: 'STOPPED', cpuType: 'integer' });
    expect(r.calls.UpdateMachine).toMatchObject({ description: 'from php', version: 3 });
    expect(r.calls.StartMachine).toMatchObject({ action: 'start' });
    expect(r.calls.ListMachines).toMatchObject({ count: 1 });
    if (v === '1.1') expect(r.lastRequestHeaders).toMatch(/SOAPAction: "urn:cimi-gateway:soap:1:ListMachines"/);
    else expect(r.lastRequestHeaders).toMatch(/Content-Type: application\/soap\+xml; charset=utf-8; action="urn:cimi-gateway:soap:1:ListMachines"/);
  });

  it.each(['1.1', '1.2'])('SOAP %s: decodes the typed fault detail', (v) => {
    const r = report[v];
    expect(r.fault.faultcode).toBe(v === '1.1' ? 'soap:Client' : 'soap:Sender');
    expect(r.fault.faultstring).toMatch(/Machine 0{8}-.* not found/);
    expect(r.fault.detail).toMatchObject({ kind: 'not-found', code: 'GENERIC.NOT_FOUND', resourceType: 'Machine' });
    expect(r.invalid).toMatchObject({ code: 'SOAP.INVALID_ARGUMENT', field: 'first' });
  });
});
