import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { interopMain, runInterop, writeReports } from '../../../src/interop/runner';
import { COLOURS } from '../../../src/interop/report';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { XSD } from '../../support/cimi-client';
import { ENGINES } from '../../support/databases';
import { countColour, readPng } from '../../support/png';
import { useWsmanApp } from '../../support/wsman-client';

/**
 * Issue 15 §2/§3: the interop runner against this gateway, through its real doors, on each database. Every check
 * passes or is skipped for a stated reason, nothing is left behind, and the JUnit and HTML reports are published
 * under .test-artifacts/interop/<engine>/ (CI keeps them). The HTML page is rendered by headless Chromium and the
 * screenshot must show the chart and the table.
 */
const run = promisify(execFile);
const ARTIFACTS = resolve(__dirname, '..', '..', '..', '.test-artifacts', 'interop');
const CHROMIUM = ['/usr/bin/chromium-headless-shell', '/usr/bin/chromium'].find((p) => existsSync(p));

/** the checks a full CIMI+SOAP+WS-Man gateway must pass (none of them may be skipped here) */
const MUST_PASS = [
  'rest.cep',
  'rest.cep.xml',
  'rest.xml.schema',
  'rest.collection.machines',
  'rest.error.not-found',
  'rest.query.paging',
  'rest.query.bad-filter',
  'rest.machine.create-by-reference',
  'rest.machine.create-by-value',
  'rest.machine.start',
  'rest.machine.stop',
  'rest.volume.attach-detach',
  'rest.machine.delete',
  'soap.wsdl',
  'soap.read.ListMachines',
  'soap.read.GetMachine',
  'soap.read.ListVolumes',
  'soap.fault.typed',
  'wsman.identify',
  'wsman.enumerate',
  'wsman.enumerate.optimized',
  'wsman.filter.wql',
  'wsman.get',
  'wsman.fault.resource-uri',
  'wsman.fault.selectors',
  'wsman.fault.action',
  'wsman.request-state-change',
];

describe.each(ENGINES)('interop runner against the gateway on %s', (engine) => {
  const env = useWsmanApp(engine);
  jest.setTimeout(180000);
  const base = () => `http://127.0.0.1:${env().port}`;
  const count = async (collection: string) => {
    const r = await fetch(`${base()}/cimi/${collection}`, { headers: { Accept: 'application/json', Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` } });
    return ((await r.json()) as { count: number }).count;
  };

  it('passes every check, skips none of the required ones, leaves nothing behind, and writes both reports', async () => {
    const before = { machines: await count('machines'), volumes: await count('volumes') };
    const lines: string[] = [];
    const result = await runInterop({
      restUrl: `${base()}/cimi/cloudEntryPoint`,
      soapUrl: `${base()}/soap`,
      wsmanUrl: `${base()}/wsman`,
      protocols: ['rest', 'soap', 'wsman'],
      user: 'admin',
      password: ADMIN_PASSWORD,
      schema: XSD,
      log: (l) => lines.push(l),
    });
    if (process.env.INTEROP_DEBUG) console.log(lines.join("\n"));
    const failed = result.results.filter((r) => r.verdict === 'fail').map((r) => `${r.id}: expected ${r.expected}; got ${r.actual}`);
    expect(failed).toEqual([]);
    const verdicts = Object.fromEntries(result.results.map((r) => [r.id, r.verdict]));
    for (const id of MUST_PASS) expect({ id, verdict: verdicts[id] }).toEqual({ id, verdict: 'pass' });
    // every collection of the entry point was read, every SOAP read operation called
    expect(result.results.filter((r) => r.id.startsWith('soap.read.') && r.verdict === 'pass').length).toBeGreaterThan(20);
    expect(result.results.filter((r) => r.id.startsWith('rest.collection.')).length).toBeGreaterThan(10);
    for (const r of result.results.filter((x) => x.verdict === 'skip')) expect(r.reason).toBeTruthy();
    expect(result.leftBehind).toEqual([]);
    expect({ machines: await count('machines'), volumes: await count('volumes') }).toEqual(before);
    // exchanges are recorded, without the password
    const all = result.results.flatMap((r) => r.exchanges);
    expect(all.length).toBeGreaterThan(40);
    expect(JSON.stringify(all)).not.toContain(Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64'));

    const dir = join(ARTIFACTS, engine);
    rmSync(dir, { recursive: true, force: true });
    const files = writeReports(result, dir);
    // JUnit: well-formed (xmllint), one testcase per check, the totals CI systems read
    await run('xmllint', ['--noout', files.junit]);
    const junit = readFileSync(files.junit, 'utf8');
    expect((junit.match(/<testcase /g) ?? []).length).toBe(result.results.length);
    expect(junit).toMatch(new RegExp(`<testsuites [^>]*tests="${result.results.length}" failures="0"`));
    expect(junit).toContain('<testsuite name="interop.wsman"');

    // the HTML report renders in a real browser: the chart bars and the table are on the screenshot
    if (!CHROMIUM) throw new Error('chromium-headless-shell is not installed (scripts/test-setup.sh installs it)');
    const png = join(dir, 'interop-report.png');
    await run(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--screenshot=${png}`, '--window-size=1280,1600', `file://${files.html}`], { timeout: 60000 });
    const img = readPng(png);
    expect(img.width).toBe(1280);
    // three bars of 28 px height, mostly green: thousands of pixels; the table's cell borders: thousands more
    expect(countColour(img, COLOURS.pass)).toBeGreaterThan(3 * 28 * 100);
    expect(countColour(img, '#616161', 4)).toBeGreaterThan(2000);
    expect(countColour(img, COLOURS.fail)).toBe(0);
  });

  it('runs from the command line: read-only writes nothing, exit codes say what happened', async () => {
    const before = await count('machines');
    const out: string[] = [];
    const code = await interopMain(['--url', base(), '--user', 'admin', '--password', ADMIN_PASSWORD, '--read-only', '--protocols', 'rest,wsman'], (l) => out.push(l));
    expect({ code, tail: out.at(-1) }).toEqual({ code: 0, tail: expect.stringMatching(/^\d+ pass, 0 fail, \d+ skip$/) });
    expect(out.join('\n')).not.toMatch(/machine\.create|volume\.attach|request-state-change|soap\./);
    expect(await count('machines')).toBe(before);

    // a wrong password: the checks fail (401) and the status says so
    const bad: string[] = [];
    expect(await interopMain(['--url', base(), '--user', 'admin', '--password', 'wrong', '--read-only', '--protocols', 'rest'], (l) => bad.push(l))).toBe(4);
    expect(bad.join('\n')).toMatch(/fail rest\.cep .*HTTP 401/);
    // WS-Man by HTTP Digest (RFC 7616): the challenge answered, no Basic sent, every check as with Basic
    const digest = await runInterop({ wsmanUrl: `${base()}/wsman`, protocols: ['wsman'], user: 'admin', password: ADMIN_PASSWORD, wsmanDigest: true, readOnly: true });
    expect(digest.results.filter((r) => r.verdict === 'fail').map((r) => r.id)).toEqual([]);
    expect(digest.results.filter((r) => r.verdict === 'pass').map((r) => r.id)).toEqual(expect.arrayContaining(['wsman.enumerate', 'wsman.fault.selectors', 'wsman.fault.action']));
    const auths = digest.results.flatMap((r) => r.exchanges).map((x) => x.requestHeaders.Authorization).filter(Boolean);
    expect(auths.length).toBeGreaterThan(5);
    expect(auths.every((a) => a.startsWith('Digest '))).toBe(true);
    // usage errors
    expect(await interopMain(['--protocols', 'rest'], () => undefined)).toBe(1);
    expect(await interopMain(['--url', base(), '--protocols', 'corba'], () => undefined)).toBe(1);
    expect(await interopMain(['--bogus'], () => undefined)).toBe(1);
    expect(await interopMain(['--url', base(), '--wsman-auth', 'ntlm'], () => undefined)).toBe(1);
  });

  it('runs as `cimi interop` (the client CLI, through ts-node)', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const r = await run(process.execPath, ['-r', 'ts-node/register/transpile-only', 'src/client/cli.ts', 'interop', '--url', base(), '--read-only', '--protocols', 'wsman', '--user', 'admin', '--password', ADMIN_PASSWORD], { cwd: resolve(__dirname, '..', '..', '..'), timeout: 120000 });
    expect(r.stdout).toMatch(/pass wsman\.identify/);
    expect(r.stdout).toMatch(/\d+ pass, 0 fail, \d+ skip\n$/);
  });
});
