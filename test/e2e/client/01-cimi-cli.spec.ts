import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { ACTION, CIMI_NS, items, ok, useRestApp, validateXml } from '../../support/cimi-client';
import { ENGINES } from '../../support/databases';
import { MeterSampler } from '../../../src/model/meter/meter-sampler';

const ROOT = join(__dirname, '..', '..', '..');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** the real CLI as an OS process (src/client/cli.ts), with no CIMI_* settings from the environment */
function cimi(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const e: NodeJS.ProcessEnv = { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), ...env };
  for (const k of Object.keys(e)) if (k.startsWith('CIMI_') && !(k in env)) delete e[k];
  return new Promise((resolve) => {
    execFile(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'client', 'cli.ts'), ...args], { cwd: ROOT, env: e, timeout: 90000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

function expectCode(r: Run, code: number): Run {
  if (r.code !== code) throw new Error(`expected exit ${code}, got ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

const PROTOCOLS = ['rest', 'soap', 'wsman'] as const;

/** issue 15 §1: the cimi client through the three doors of a running gateway, and against another CIMI endpoint */
describe.each(ENGINES)('cimi client [%s]', (engine) => {
  const env = useRestApp(engine);
  const as = (protocol: string, ...args: string[]) => cimi(['--url', env().origin, '--user', 'admin', '--password', ADMIN_PASSWORD, '--protocol', protocol, ...args]);
  const machineByName = async (name: string) => {
    const c = env().client('json');
    const cep = await c.cep();
    return items(ok(await c.get(cep.machines.href, { $filter: `name='${name}'` }), 200).doc);
  };

  it('discovery through each protocol: cep and metadata', async () => {
    const rest = JSON.parse(expectCode(await as('rest', 'cep', '-o', 'json'), 0).stdout);
    expect(rest.machines.href).toMatch(/\/cimi\/machines$/);
    expect(expectCode(await as('rest', 'cep'), 0).stdout).toMatch(/^machines\s+\{"href":/m);
    const soap = JSON.parse(expectCode(await as('soap', 'cep', '-o', 'json'), 0).stdout);
    expect(soap.collections.machines.operations).toEqual(expect.arrayContaining(['ListMachines', 'GetMachine', 'CreateMachine', 'StartMachine']));
    const ws = JSON.parse(expectCode(await as('wsman', 'cep', '-o', 'json'), 0).stdout);
    expect(ws.ProtocolVersion).toBe('http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd');
    expect(ws.collections.machines.resourceURI).toMatch(/CIM_ComputerSystem$/);
    const md = JSON.parse(expectCode(await as('rest', 'metadata', 'machine', '-o', 'json'), 0).stdout);
    expect(md.typeURI).toBe(`${CIMI_NS}/Machine`);
  }, 120000);

  it('create, list (table, json), $filter/$select, the same machine started through rest, soap and wsman, get as xml, delete', async () => {
    // create through REST, following the create Job
    const made = expectCode(await as('rest', 'machine', 'create', '--name', 'cli-web1', '--config', 'small', '--wait'), 0);
    expect(made.stdout).toMatch(/job .*: SUCCESS 100%/);
    // not a TTY: plain progress lines, one per state seen before the end (none when the first answer already ended it)
    expect(made.stderr).not.toContain('\r');
    for (const line of made.stderr.split('\n').filter(Boolean)) expect(line).toMatch(/^job .*: (QUEUED|RUNNING)/);
    const [m] = await machineByName('cli-web1');
    expect(m.state).toBe('STOPPED');
    const id = String(m.id).split('/').pop()!;

    const tableOut = expectCode(await as('rest', 'machines', 'list'), 0).stdout;
    expect(tableOut.split('\n')[0]).toMatch(/^ID\s+NAME\s+STATE$/);
    expect(tableOut).toMatch(new RegExp(`${m.id}\\s+cli-web1\\s+STOPPED`));
    const json = JSON.parse(expectCode(await as('rest', 'machine', 'list', '-o', 'json'), 0).stdout);
    expect(json.items.map((i: { name: string }) => i.name)).toContain('cli-web1');
    expect(json.count).toBe(json.items.length);

    for (const p of ['rest', 'soap'] as const) {
      const f = JSON.parse(expectCode(await as(p, 'machine', 'list', '--filter', "name='cli-web1'", '--select', 'name,state', '-o', 'json'), 0).stdout);
      expect(f.count).toBe(1);
      expect(f.items).toHaveLength(1);
      expect(f.items[0]).toMatchObject({ name: 'cli-web1', state: 'STOPPED' });
      expect(f.items[0].cpu).toBeUndefined();
    }
    const wf = JSON.parse(expectCode(await as('wsman', 'machine', 'list', '--filter', "name='cli-web1'", '--select', 'name,state', '-o', 'json'), 0).stdout);
    expect(wf.items).toEqual([{ ElementName: 'cli-web1', CimiState: 'STOPPED' }]);
    const none = JSON.parse(expectCode(await as('soap', 'machine', 'list', '--filter', "name='cli-web1' and state='STARTED'", '-o', 'json'), 0).stdout);
    expect(none.items).toEqual([]);

    // the same machine, by name, started and stopped through each protocol; REST checks the state
    for (const p of PROTOCOLS) {
      const s = expectCode(await as(p, 'machine', 'start', 'cli-web1', '--wait'), 0);
      expect(s.stdout).toMatch(/SUCCESS/);
      expect((await machineByName('cli-web1'))[0].state).toBe('STARTED');
      expectCode(await as(p, 'machine', 'stop', p === 'wsman' ? id : 'cli-web1', '--wait'), 0);
      expect((await machineByName('cli-web1'))[0].state).toBe('STOPPED');
    }

    // get as xml: the REST door's own XML, valid against DSP8009
    const xml = expectCode(await as('rest', 'machine', 'get', 'cli-web1', '-o', 'xml'), 0).stdout;
    expect(xml).toMatch(/<Machine[\s>]/);
    await validateXml(xml.trim(), 'cimi machine get -o xml');
    expect(expectCode(await as('soap', 'machine', 'get', id, '-o', 'xml'), 0).stdout).toMatch(/GetMachineResponse/);
    expect(expectCode(await as('wsman', 'machine', 'get', 'cli-web1', '-o', 'xml'), 0).stdout).toMatch(/CIMIGW_Machine/);

    // update through SOAP, read back through REST
    expectCode(await as('soap', 'machine', 'update', 'cli-web1', '--description', 'from soap'), 0);
    expect((await machineByName('cli-web1'))[0].description).toBe('from soap');

    expectCode(await as('rest', 'machine', 'delete', 'cli-web1', '--wait'), 0);
    expect(await machineByName('cli-web1')).toEqual([]);
  }, 240000);

  it('create and delete through soap (references by name) and wsman (by id), update through wsman', async () => {
    const s = expectCode(await as('soap', 'machine', 'create', '--name', 'cli-soap1', '--config', 'small', '--wait'), 0);
    expect(s.stdout).toMatch(/SUCCESS/);
    expect((await machineByName('cli-soap1'))[0]).toMatchObject({ state: 'STOPPED', cpu: 1 });
    const c = env().client('json');
    const cfg = items(ok(await c.get((await c.cep()).machineConfigs.href, { $filter: "name='small'" }), 200).doc)[0];
    const img = items(ok(await c.get((await c.cep()).machineImages.href), 200).doc)[0];
    const w = JSON.parse(expectCode(await as('wsman', 'machine', 'create', '--name', 'cli-ws1', '--config', String(cfg.id).split('/').pop()!, '--image', String(img.id).split('/').pop()!, '-o', 'json'), 0).stdout);
    expect(w.resource.ElementName).toBe('cli-ws1');
    await c.waitFor((await machineByName('cli-ws1'))[0].id, (d) => d.state === 'STOPPED');
    expectCode(await as('wsman', 'machine', 'update', 'cli-ws1', '--description', 'from wsman'), 0);
    expect((await machineByName('cli-ws1'))[0].description).toBe('from wsman');
    expectCode(await as('soap', 'machine', 'delete', 'cli-ws1', '--wait'), 0);
    expect(await machineByName('cli-ws1')).toEqual([]);
    expectCode(await as('wsman', 'machine', 'delete', 'cli-soap1'), 0);
    // WS-Transfer Delete answers no Job: the Machine is DELETING until the provider is done
    const end = Date.now() + 20000;
    while ((await machineByName('cli-soap1')).length && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(await machineByName('cli-soap1')).toEqual([]);
  }, 180000);

  it('exit codes: 4 refused, 2 not found, 3 wrong password, 5 closed port, 1 usage', async () => {
    expectCode(await as('rest', 'machine', 'create', '--name', 'cli-up', '--config', 'small', '--wait'), 0);
    expectCode(await as('rest', 'machine', 'start', 'cli-up', '--wait'), 0);
    for (const p of PROTOCOLS) {
      // an action the state machine refuses: start a STARTED machine
      const r = expectCode(await as(p, 'machine', 'start', 'cli-up'), 4);
      expect(r.stderr).toMatch({ rest: /does not offer start/, soap: /Conflict|invalid-state/, wsman: /ReturnValue 4097/ }[p]);
      expectCode(await as(p, 'machine', 'get', 'no-such-machine'), 2);
      const bad = await cimi(['--url', env().origin, '--user', 'admin', '--password', 'wrong-password', '--protocol', p, 'machine', 'list']);
      expectCode(bad, 3);
    }
    // an action whose Job fails (the simulated provider refuses the next start): 4, with the Job's end
    for (const p of PROTOCOLS) {
      expectCode(await as('rest', 'machine', 'create', '--name', `cli-fail-${p}`, '--config', 'small', '--wait'), 0);
      env().h.driver.injectFault('start', 1, true, 'no power button (simulated)');
      const r = expectCode(await as(p, 'machine', 'start', `cli-fail-${p}`, '--wait'), 4);
      expect(r.stderr).toMatch(/the Job ended FAILED/);
      if (p !== 'wsman') expect(r.stderr).toMatch(/no power button/);
      env().h.driver.clearFaults();
      expect((await machineByName(`cli-fail-${p}`))[0].state).not.toBe('STARTED');
    }
    // an action this endpoint does not name at all: REST finds no such operation (4), SOAP no WSDL operation (1)
    expectCode(await as('rest', 'machine', 'levitate', 'cli-up'), 4);
    expectCode(await as('soap', 'machine', 'levitate', 'cli-up'), 1);

    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    for (const p of PROTOCOLS) expect(expectCode(await cimi(['--url', `http://127.0.0.1:${port}`, '--user', 'a', '--password', 'b', '--protocol', p, 'cep']), 5).stderr).toMatch(/ECONNREFUSED/);

    expectCode(await as('rest', 'machine'), 1);
    expectCode(await as('rest', 'machine', 'list', '--output', 'yaml'), 1);
    expectCode(await as('rest', 'machine', 'list', '--no-such-option'), 1);
    expectCode(await as('rest', 'no-such-collection', 'list'), 1);
    expectCode(await cimi(['machine', 'list']), 1);
    const help = expectCode(await cimi(['--help']), 0).stdout;
    expect(help).toMatch(/Exit codes:[\s\S]*5\s+transport/);
  }, 240000);

  it('meters through each protocol: list (table, json) and get by id, the same meters and metrics', async () => {
    // Meters appear with the first sample of what runs (issue 14 §1): the demo catalogue's running resources
    await env().h.get(MeterSampler).sampleNow();
    const seen: Record<string, string[]> = {};
    for (const p of PROTOCOLS) {
      const list = JSON.parse(expectCode(await as(p, 'meter', 'list', '-o', 'json'), 0).stdout);
      expect(list.count).toBeGreaterThan(0);
      expect(list.items).toHaveLength(list.count);
      const ids = list.items.map((i: Record<string, unknown>) => String(i.id ?? i.Id).split(/[/:]/).pop()!);
      seen[p] = ids.sort();
      const table = expectCode(await as(p, 'meter', 'list'), 0).stdout.split('\n');
      expect(table[0]).toMatch(/^ID\s+NAME/);
      expect(table.slice(1).filter((l) => ids.some((id: string) => l.includes(id)))).toHaveLength(list.count);
      const one = JSON.parse(expectCode(await as(p, 'meter', 'get', ids[0], '-o', 'json'), 0).stdout);
      expect(JSON.stringify(one)).toContain(ids[0]);
    }
    expect(seen.soap).toEqual(seen.rest);
    expect(seen.wsman).toEqual(seen.rest);
    expectCode(await as('wsman', 'meter', 'get', 'no-such-meter'), 2);
  }, 180000);

  it('settings from a profile file and from the environment', async () => {
    const { writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'cimi-profile-'));
    try {
      const file = join(dir, 'profile.json');
      writeFileSync(file, JSON.stringify({ url: env().origin, user: 'admin', password: ADMIN_PASSWORD, protocol: 'soap', output: 'json' }));
      expect(JSON.parse(expectCode(await cimi(['--profile', file, 'cep']), 0).stdout).collections.machines).toBeDefined();
      const r = expectCode(await cimi(['cep', '-o', 'json'], { CIMI_URL: env().origin, CIMI_USER: 'admin', CIMI_PASSWORD: ADMIN_PASSWORD, CIMI_PROTOCOL: 'wsman' }), 0);
      expect(JSON.parse(r.stdout).ProductVendor).toBeDefined();
      expectCode(await cimi(['--profile', join(dir, 'missing.json'), 'cep']), 1);
      // the other credential forms: WS-Security PasswordText and HTTP Basic for SOAP, preemptive Basic for WS-Man
      for (const args of [['--protocol', 'soap', '--soap-auth', 'text'], ['--protocol', 'soap', '--soap-auth', 'basic'], ['--protocol', 'wsman', '--wsman-auth', 'basic']]) {
        const ok1 = JSON.parse(expectCode(await cimi(['--profile', file, ...args, 'machine', 'list']), 0).stdout);
        expect(ok1.count).toBe(ok1.items.length);
        expectCode(await cimi(['--profile', file, ...args, '--password', 'wrong-password', 'machine', 'list']), 3);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120000);
});

/**
 * Another vendor's CIMI endpoint: a CEP at another path whose hrefs point elsewhere again, actions at their own
 * hrefs and a Job at a third place. The client must get there by following what it is given.
 */
describe('cimi client against a different CIMI endpoint', () => {
  let server: Server;
  let origin = '';
  const seen: string[] = [];
  let jobPolls = 0;
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const path = req.url ?? '';
        seen.push(`${req.method} ${path.split('?')[0]} ${body}`);
        const send = (status: number, doc: unknown, headers: Record<string, string> = {}) => {
          res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
          res.end(JSON.stringify(doc));
        };
        if (req.headers.authorization !== `Basic ${Buffer.from('alice:pw').toString('base64')}`) return send(401, { state: 'FAILED' }, { 'WWW-Authenticate': 'Basic realm="x"' });
        const vm = { resourceURI: `${CIMI_NS}/Machine`, id: `${origin}/compute/vm/ab12`, name: 'vm-a', state: 'STOPPED', operations: [{ rel: `${ACTION}start`, href: `${origin}/do/ab12/power-on` }] };
        if (req.method === 'GET' && path === '/api/v9/entry') return send(200, { resourceURI: `${CIMI_NS}/CloudEntryPoint`, id: `${origin}/api/v9/entry`, baseURI: `${origin}/`, machines: { href: `${origin}/compute/vm` } });
        if (req.method === 'GET' && path.startsWith('/compute/vm?') ) return send(200, { resourceURI: `${CIMI_NS}/MachineCollection`, id: `${origin}/compute/vm`, count: 1, machines: [vm] });
        if (req.method === 'GET' && path === '/compute/vm') return send(200, { resourceURI: `${CIMI_NS}/MachineCollection`, id: `${origin}/compute/vm`, count: 1, machines: [vm] });
        if (req.method === 'GET' && path === '/compute/vm/ab12') return send(200, vm);
        if (req.method === 'POST' && path === '/do/ab12/power-on') return send(202, { resourceURI: `${CIMI_NS}/Job`, id: `${origin}/tasks/77`, state: 'RUNNING', progress: 10 }, { 'CIMI-Job-URI': `${origin}/tasks/77` });
        if (req.method === 'GET' && path === '/tasks/77') {
          jobPolls++;
          return send(200, { resourceURI: `${CIMI_NS}/Job`, id: `${origin}/tasks/77`, state: jobPolls < 2 ? 'RUNNING' : 'SUCCESS', progress: jobPolls < 2 ? 60 : 100 });
        }
        send(404, { state: 'FAILED', statusMessage: 'nothing here' });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('lists, gets and starts by following the CEP hrefs and the operations it is given', async () => {
    const base = ['--url', `${origin}/api/v9/entry`, '--user', 'alice', '--password', 'pw'];
    expect(expectCode(await cimi([...base, 'machine', 'list']), 0).stdout).toMatch(new RegExp(`${origin}/compute/vm/ab12\\s+vm-a\\s+STOPPED`));
    expect(JSON.parse(expectCode(await cimi([...base, 'machine', 'get', 'ab12', '-o', 'json']), 0).stdout).name).toBe('vm-a');
    const r = expectCode(await cimi([...base, 'machine', 'start', 'vm-a', '--wait']), 0);
    expect(r.stdout).toMatch(/job .*\/tasks\/77: SUCCESS 100%/);
    expect(seen).toContainEqual(`POST /do/ab12/power-on {"resourceURI":"${CIMI_NS}/Action","action":"${ACTION}start"}`);
    expect(seen.some((s) => s.startsWith('GET /cimi'))).toBe(false);
    expectCode(await cimi([...base, 'machine', 'get', 'vm-zz']), 2);
    expectCode(await cimi(['--url', `${origin}/api/v9/entry`, '--user', 'alice', '--password', 'nope', 'machine', 'list']), 3);
  }, 120000);
});
