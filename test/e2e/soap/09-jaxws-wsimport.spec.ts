import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, dirname } from 'node:path';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { ResourceService } from '../../../src/model/shared/resource.service';
import { SoapContract } from '../../../src/adapters/soap/soap-contract';
import { useSoapApp } from './soap-support';
import { filesUnder, guideBlock, guideCommands, GUIDE_GW, multiChildResponses, run, sh, type Run } from './generated-clients';

/**
 * The JAX-WS section of wsdl/README.md, with Debian's wsimport (jaxws 2.3.0.2, OpenJDK 17) on the live WSDL. The
 * guide's binding files and command lines are read from it and run as written (GW = the running app). Beside them,
 * the plain `wsimport` shows why each tip is there: without -extension the SOAP 1.2 port is dropped; without -p the
 * packages come from the namespace URNs; the generated `System` makes `import pkg.*` + java.lang.System ambiguous;
 * wrapper style turns every multi-child response into a void method with Holder<> out-parameters. The guide's
 * client then runs the flow and a typed fault (GatewayFault) on both ports.
 */
const CLIENT = join(__dirname, 'clients', 'JaxwsClient.java');
/** Debian's jaxws-rt.jar names the rest of the JAX-WS runtime in its manifest's Class-Path */
const CP = '/usr/share/java/jaxws-rt.jar';
const ZERO = '00000000-0000-0000-0000-000000000000';

interface Generated {
  src: string;
  packages: string[];
  file(name: string): string;
}

function generated(src: string, r: Run): Generated {
  const files = filesUnder(src, '.java');
  const packages = [...new Set(files.map((f) => relative(src, dirname(f)).split('/').join('.')))].sort();
  const file = (name: string) => {
    const hit = files.find((f) => f.endsWith(`/${name}.java`));
    if (!hit) throw new Error(`wsimport generated no ${name}.java:\n${r.output}`);
    return readFileSync(hit, 'utf8');
  };
  return { src, packages, file };
}

/** Return types of the service endpoint interface's methods. */
const returnTypes = (portType: string) => [...portType.matchAll(/^ {4}public (\S+) \w+\(/gm)].map((m) => m[1]);

describe.each(ENGINES)('JAX-WS wsimport on the live WSDL [%s]', (engine) => {
  const env = useSoapApp(engine);
  let dir: string;
  let wsdl: string;
  let plain: Generated;
  let plainRun: Run;
  let tipped: Generated;
  let commands: string[];
  let steps: Run[];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cimi-jaxws-'));
    wsdl = `${env().base}/soap?wsdl`;
    // the "without" case: sources only, every tip left out (sequential runs: two cores, each one a JVM)
    mkdirSync(join(dir, 'plain', 'src'), { recursive: true });
    plainRun = await run('wsimport', ['-keep', '-Xnocompile', '-s', 'src', '-d', 'src', wsdl], join(dir, 'plain'));
    plain = generated(join(dir, 'plain', 'src'), plainRun);
    // the guide, as written: its two binding files, then its command lines but the last (the client run, below)
    const guide = join(dir, 'guide');
    mkdirSync(guide);
    for (const f of ['jaxws-bindings.xml', 'jaxb-bindings.xml']) writeFileSync(join(guide, f), guideBlock(f).split(GUIDE_GW).join(env().base));
    copyFileSync(CLIENT, join(guide, 'JaxwsClient.java'));
    commands = guideCommands('jaxws-commands');
    steps = [];
    for (const line of commands.slice(0, -1)) steps.push(await sh(line, guide, { GW: env().base, CIMI_PASSWORD: ADMIN_PASSWORD }));
    tipped = generated(join(guide, 'src'), steps[1]);
  }, 240000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the guide has the four command lines this suite runs: mkdir, wsimport with the tips, javac, java', () => {
    expect(commands.map((l) => l.split(' ')[0])).toEqual(['mkdir', 'wsimport', 'javac', 'java']);
    expect(commands[1]).toMatch(/ -extension -p org\.example\.cimi -b jaxws-bindings\.xml -b jaxb-bindings\.xml /);
    expect(steps.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(steps[2].output.trim()).toBe(''); // javac: no warning either
  });

  it('needs -extension for the SOAP 1.2 port: without it the port is ignored, with it the service has both', () => {
    expect(plainRun.code).toBe(0);
    expect(plainRun.output).toMatch(/Ignoring SOAP port "CimiGatewayPort12": it uses non-standard SOAP 1.2 binding/);
    expect(plain.file('CimiGatewayService')).toMatch(/getCimiGatewayPort\(\)/);
    expect(plain.file('CimiGatewayService')).not.toMatch(/getCimiGatewayPort12\(\)/);
    expect(steps[1].output).not.toMatch(/Ignoring SOAP port/);
    expect(tipped.file('CimiGatewayService')).toMatch(/getCimiGatewayPort12\(\)/);
  });

  it('derives packages from the namespace URNs unless -p names one', () => {
    expect(plain.packages).toEqual(['gateway.cimi.soap._1.types', 'gateway.cimi.soap._1.wsdl']);
    expect(tipped.packages).toEqual(['org.example.cimi']);
  });

  it('makes every multi-child response a void method with Holder<> out-parameters; enableWrapperStyle false makes none', async () => {
    const xsd = await (await fetch(`${env().base}/soap?xsd=types.xsd`)).text();
    const { responses, multi, empty } = multiChildResponses(xsd);
    const ops = new SoapContract().operations.size;
    expect(responses.length).toBe(ops);
    const before = returnTypes(plain.file('CimiGatewayPortType'));
    expect(before.length).toBe(ops);
    // void: the responses with two children (out-parameters as Holder<>) and the two empty ones
    expect(before.filter((t) => t === 'void').length).toBe(multi.length + empty.length);
    const holderMethods = plain.file('CimiGatewayPortType').split(/;\n/).filter((m) => /public void /.test(m) && /mode = WebParam\.Mode\.OUT/.test(m));
    expect(holderMethods.length).toBe(multi.length);
    expect(plain.file('CimiGatewayPortType')).toMatch(/Holder<Integer> count\)/);
    // the numbers wsdl/README.md quotes
    expect({ void: multi.length + empty.length, holders: multi.length, empty: empty.sort(), ops }).toEqual({
      void: 116,
      holders: 111,
      empty: ['DeleteJobResponse', 'DeleteTenantResponse', 'DeleteUserResponse', 'RemoveCertificateResponse', 'UnsubscribeResponse'],
      ops: 191,
    });
    const after = returnTypes(tipped.file('CimiGatewayPortType'));
    expect(after.length).toBe(ops);
    expect(after.filter((t) => t === 'void')).toEqual([]);
    expect(after).toContain('ListMachineConfigurationsResponse');
  });

  it('generates a System class that makes java.lang.System ambiguous under an on-demand import; the JAXB rename fixes it', async () => {
    const snippet = join(dir, 'snippet');
    mkdirSync(join(snippet, 'classes'), { recursive: true });
    writeFileSync(
      join(snippet, 'Snippet.java'),
      'import gateway.cimi.soap._1.types.*;\npublic class Snippet { public static void main(String[] a) { System.out.println(new Machine()); } }\n',
    );
    const clash = await run('javac', ['-nowarn', '-cp', CP, '-sourcepath', plain.src, '-d', join(snippet, 'classes'), join(snippet, 'Snippet.java')]);
    expect(clash.code).not.toBe(0);
    expect(clash.output).toMatch(/reference to System is ambiguous/);
    expect(() => tipped.file('System')).toThrow();
    expect(tipped.file('CimiSystem')).toMatch(/public class CimiSystem/);
  });

  const report = (r: Run) => {
    try {
      return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Record<string, Record<string, unknown>>;
    } catch {
      throw new Error(`JaxwsClient printed no report:\n${r.output.slice(-4000)}`);
    }
  };
  const lists = async () => {
    const resources = env().h.get(ResourceService);
    const configs = await resources.list(env().admin, 'MachineConfiguration', { first: 1, last: 1000 });
    const systems = await resources.list(env().admin, 'System', { first: 1, last: 1000 });
    expect(configs.count).toBeGreaterThan(0);
    return { count: configs.count, items: configs.items.length, systems: systems.items.length };
  };

  it("the guide's client runs the flow and decodes the typed GatewayFault on both ports", async () => {
    const want = await lists();
    const got = report(await sh(commands[3], join(dir, 'guide'), { GW: env().base, CIMI_PASSWORD: ADMIN_PASSWORD }));
    const port = (tag: string) => ({
      ok: true,
      ...want,
      template: 'SUCCESS',
      created: 'CREATING',
      job: 'SUCCESS',
      progress: 100,
      machine: 'STOPPED',
      name: `jaxws-vm-${tag}`,
      fault: {
        message: expect.stringMatching(/^Machine 0{8}-0{4}-0{4}-0{4}-0{12} not found/),
        kind: 'not-found',
        code: 'GENERIC.NOT_FOUND',
        resourceType: 'Machine',
        resourceId: ZERO,
        correlationId: expect.stringMatching(/./),
      },
    });
    expect(got).toEqual({ CimiGatewayPort: port('soap11'), CimiGatewayPort12: port('soap12') });
    const machines = await env().h.get(ResourceService).list(env().admin, 'Machine', { first: 1, last: 1000 });
    expect(machines.items.filter((m) => m.name?.startsWith('jaxws-vm-')).map((m) => `${m.name} ${m.state}`).sort()).toEqual(['jaxws-vm-soap11 STOPPED', 'jaxws-vm-soap12 STOPPED']);
  });

  it('compiled through -sourcepath (no package-info.class) the same client decodes every response as empty', async () => {
    const classes = join(dir, 'sourcepath-classes');
    mkdirSync(classes);
    const javac = await run('javac', ['-nowarn', '-cp', CP, '-sourcepath', tipped.src, '-d', classes, CLIENT]);
    expect(javac.code).toBe(0);
    const none = { ok: true, count: 0, items: 0, systems: 0 };
    expect((await lists()).count).toBeGreaterThan(0);
    const java = await run('java', ['-cp', `${classes}:${CP}`, 'JaxwsClient', wsdl, 'admin', ADMIN_PASSWORD, 'list']);
    expect(report(java)).toEqual({ CimiGatewayPort: none, CimiGatewayPort12: none });
  });
});
