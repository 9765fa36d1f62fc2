import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { ResourceService } from '../../../src/model/shared/resource.service';
import { useSoapApp } from './soap-support';
import { guideBlock, guideCommands, run, sh, type Run } from './generated-clients';

/**
 * The gSOAP section of wsdl/README.md, with Debian's gsoap 2.8.124 (wsdl2h, soapcpp2, libgsoap) on the live WSDL.
 * The guide's command lines are read from it and run as written (GW = the running app): generate, build the C
 * client with gcc, run it. Beside them, wsdl2h without -N shows it folding both bindings into one service; the
 * generated namespace tables all carry the SOAP 1.2 envelope namespace, so the 1.1 port is reachable only with the
 * guide's SOAP 1.1 table. On both ports the client runs the flow and a fault decoded into the typed GatewayFault.
 */
const CLIENT = join(__dirname, 'clients', 'gsoap_client.c');
const SOAP12_ENV = 'http://www.w3.org/2003/05/soap-envelope';
const ZERO = '00000000-0000-0000-0000-000000000000';

/** What gsoap_client.c prints per port: the flow's results, the step it stopped at, and that step's fault. */
interface Call {
  count: number;
  items: number;
  step: string;
  rc: number;
  faultstring: string | null;
  detail: Record<string, string> | null;
  [k: string]: unknown;
}

describe.each(ENGINES)('gSOAP on the live WSDL [%s]', (engine) => {
  const env = useSoapApp(engine);
  let dir: string;
  let unsplit: Run;
  let header: string;
  let nsmaps: Record<string, string>;
  let services: Record<string, string>;
  let calls: Record<string, Call>;

  let commands: string[];
  let steps: Run[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cimi-gsoap-'));
    const wsdl = `${env().base}/soap?wsdl`;
    // the "without" case: no -N (nor typemap)
    mkdirSync(join(dir, 'unsplit'));
    unsplit = await run('wsdl2h', ['-c', '-o', 'cimi.h', wsdl], join(dir, 'unsplit'));
    // the guide, as written, with its client.c
    const guide = join(dir, 'guide');
    mkdirSync(guide);
    copyFileSync(CLIENT, join(guide, 'client.c'));
    commands = guideCommands('gsoap-commands');
    steps = [];
    for (const line of commands) {
      const r = await sh(line, guide, { GW: env().base, CIMI_PASSWORD: ADMIN_PASSWORD });
      steps.push(r);
      if (r.code !== 0) throw new Error(`${line} failed:\n${r.output.slice(-4000)}`);
    }
    header = readFileSync(join(guide, 'cimi.h'), 'utf8');
    services = {};
    for (const m of header.matchAll(/^\/\/gsoap (\w+) +service name:\s+(\w+)/gm)) services[m[2]] = m[1];
    nsmaps = {};
    for (const b of ['CimiGatewaySoap11', 'CimiGatewaySoap12']) nsmaps[b] = readFileSync(join(guide, `${b}.nsmap`), 'utf8');
    calls = JSON.parse(steps[steps.length - 1].stdout.trim().split('\n').pop() ?? '') as Record<string, Call>;
  }, 240000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the guide has the command lines this suite runs: typemap, wsdl2h -N, soapcpp2, gcc (no warning), the client', () => {
    expect(commands.map((l) => l.split(' ')[0])).toEqual(['echo', 'wsdl2h', 'soapcpp2', 'gcc', './client']);
    expect(commands[1]).toMatch(/ -Ncimi /);
    expect(steps[3].output.trim()).toBe('');
  });

  it('needs -N: without it both bindings become one service; with it each binding is a service with its own port', () => {
    expect(unsplit.code).toBe(0);
    expect(unsplit.output).toMatch(/2 service bindings found, but collected as one service \(use option -Nname/);
    const one = readFileSync(join(dir, 'unsplit', 'cimi.h'), 'utf8');
    expect([...one.matchAll(/^\/\/gsoap \w+ +service name:\s+(\w+)/gm)].map((m) => m[1])).toEqual(['CimiGatewaySoap11']);
    // the typemap's prefix, else a numbered one
    expect(one).toMatch(/^struct _ns\d+__GetMachine\b/m);
    expect(header).toMatch(/^struct _t__GetMachine\b/m);
    // the prefixes the guide names
    expect(services).toEqual({ CimiGatewaySoap11: 'cimi2', CimiGatewaySoap12: 'cimi3' });
    const port = (svc: string) => [...header.matchAll(new RegExp(`^//gsoap ${svc} +service port:\\s+(\\S+)`, 'gm'))].map((m) => new URL(m[1]).pathname);
    expect(port(services.CimiGatewaySoap11)).toEqual(['/soap']);
    expect(port(services.CimiGatewaySoap12)).toEqual(['/soap12']);
  });

  it('generates the same stubs for both services but the default endpoint: the envelope version is not theirs', () => {
    const stubs = readFileSync(join(dir, 'guide', 'soapClient.c'), 'utf8');
    const send = (svc: string) => {
      const m = new RegExp(`^SOAP_FMAC5 int SOAP_FMAC6 soap_send___${svc}__CreateMachine\\([\\s\\S]*?\\n}\\n`, 'm').exec(stubs);
      if (!m) throw new Error(`no soap_send___${svc}__CreateMachine`);
      return m[0];
    };
    // the live WSDL's addresses: the running app's
    expect(send('cimi2')).toContain(`soap_endpoint = "${env().base}/soap";`);
    expect(send('cimi3').split('cimi3').join('cimi2').replace('/soap12"', '/soap"')).toBe(send('cimi2'));
  });

  it('writes the SOAP 1.2 envelope namespace into both namespace tables', () => {
    for (const table of Object.values(nsmaps)) expect(table).toMatch(new RegExp(`\\{ *"SOAP-ENV", *"${SOAP12_ENV}"`));
  });

  it('reaches the 1.1 port only with a SOAP 1.1 namespace table (the guide\'s, verbatim in the client)', () => {
    expect(readFileSync(CLIENT, 'utf8')).toContain(guideBlock('gsoap-namespaces11'));
    expect(calls['soap11-default-table']).toMatchObject({ step: 'ListMachineConfigurations', count: -1, rc: 12, faultcode: 'SOAP-ENV:VersionMismatch', detail: null });
    expect(calls['soap11-default-table'].faultstring).toMatch(/^this endpoint speaks SOAP 1\.1, not SOAP 1\.2/);
  });

  it('forgets the credentials after each call: set once, the second call is refused 401', () => {
    expect(calls['credentials-once']).toEqual({ first: 0, second: 401 });
  });

  it.each(['soap11', 'soap12'])('%s: runs the flow (template, machine, GetJob until done, GetMachine) and decodes the typed GatewayFault', async (port) => {
    const configs = await env().h.get(ResourceService).list(env().admin, 'MachineConfiguration', { first: 1, last: 1000 });
    expect(configs.count).toBeGreaterThan(0);
    expect(calls[port]).toEqual({
      count: configs.count,
      items: configs.items.length,
      template: 'SUCCESS',
      created: 'CREATING',
      job: 'SUCCESS',
      progress: 100,
      machine: 'STOPPED',
      name: `gsoap-vm-${port}`,
      step: 'fault',
      rc: 12, // SOAP_FAULT
      faultcode: port === 'soap11' ? 'SOAP-ENV:Client' : 'SOAP-ENV:Sender',
      subcode: port === 'soap11' ? null : 't:ResourceNotFound',
      faultstring: expect.stringMatching(/^Machine 0{8}-0{4}-0{4}-0{4}-0{12} not found/),
      detail: { kind: 'not-found', code: 'GENERIC.NOT_FOUND', resourceType: 'Machine', resourceId: ZERO, correlationId: expect.stringMatching(/./) },
    });
    // what the client made is in the model
    const made = await env().h.get(ResourceService).list(env().admin, 'Machine', { first: 1, last: 1000 });
    expect(made.items.filter((m) => m.name === `gsoap-vm-${port}`).map((m) => m.state)).toEqual(['STOPPED']);
  });
});
