import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { SoapContract } from '../../../src/adapters/soap/soap-contract';
import { PYTHON, runClient, useSoapApp } from './soap-support';

/**
 * Generated-client interop (issue 4, Tests): Debian's zeep builds its client from /soap?wsdl (imports resolved over
 * HTTP from ?xsd=types.xsd) and calls every operation of the contract on the SOAP 1.1 and the SOAP 1.2 port
 * against the running app, then decodes typed faults (code, reason, subcode, GatewayFault detail).
 */
const SCRIPT = join(__dirname, 'clients', 'zeep_all_operations.py');
const PORTS = ['CimiGatewayPort', 'CimiGatewayPort12'];

describe.each(ENGINES)('SOAP interop with zeep [%s]', (engine) => {
  // restore is slowed so that StopJob finds its Job still running
  const env = useSoapApp(engine, { SIM_STEP_LATENCY_MS: JSON.stringify({ restore: 1500 }), METER_SAMPLE_SECONDS: '1' });
  let report: {
    wsdlWarnings: string[];
    operations: string[];
    ports: Record<string, { called: Record<string, string>; error: string | null }>;
    faults: { port: string; case: string; code: string; message: string; subcodes: string[]; detail: Record<string, string> }[];
  };

  beforeAll(async () => {
    report = (await runClient(PYTHON, [SCRIPT, env().base, 'admin', ADMIN_PASSWORD])) as never;
  }, 240000);

  it('loads the WSDL and its imported XSD with no warnings, seeing every operation of the contract', () => {
    expect(report.wsdlWarnings).toEqual([]);
    expect(report.operations).toEqual([...new SoapContract().operations.keys()].sort());
    expect(report.operations.length).toBeGreaterThan(140);
  });

  it.each(PORTS)('calls every operation successfully on %s', (port) => {
    const r = report.ports[port];
    expect(r.error).toBeNull();
    const missing = report.operations.filter((op) => r.called[op] !== 'ok');
    expect(missing).toEqual([]);
  });

  it('decodes typed faults on both ports: code, reason, subcode and the GatewayFault detail', () => {
    const f = (port: string, c: string) => report.faults.find((x) => x.port === port && x.case === c)!;
    const nf11 = f('CimiGatewayPort', 'not-found');
    expect(nf11.code).toBe('soap:Client');
    expect(nf11.message).toMatch(/not found/);
    expect(nf11.detail).toMatchObject({ kind: 'not-found', code: 'GENERIC.NOT_FOUND', resourceId: '00000000-0000-0000-0000-000000000000', resourceType: 'Machine' });
    expect(nf11.detail.correlationId).toBeTruthy();
    const nf12 = f('CimiGatewayPort12', 'not-found');
    expect(nf12.code).toBe('soap:Sender');
    expect(nf12.subcodes).toEqual(['{urn:cimi-gateway:soap:1:types}ResourceNotFound']);
    expect(nf12.detail).toMatchObject({ kind: 'not-found', code: 'GENERIC.NOT_FOUND' });
    for (const port of PORTS) {
      const bad = f(port, 'invalid-argument');
      expect(bad.detail).toMatchObject({ kind: 'invalid-input', code: 'SOAP.INVALID_ARGUMENT', field: 'first' });
      expect(bad.message).toMatch(/first must be at least 1/);
      const pre = f(port, 'precondition');
      expect(pre.detail).toMatchObject({ kind: 'precondition', code: 'GENERIC.VERSION_MISMATCH' });
    }
  });
});
