/**
 * Door benchmark (issue 13 §1): `npm run bench:doors`. Every server under test is its own process pinned to CPU 0
 * (doors-server.ts); this process is the load generator (autocannon, 50 connections) pinned to CPU 1. Baselines
 * started in the same run: bare node:http, a bare Nest + Express route returning the same machine JSON, and a
 * parse-only XML POST. Rounds are interleaved (baselines and cases alternate) so drift hits all alike.
 * Per case: req/s, p50, p99, the worst event-loop delay the server saw (monitorEventLoopDelay in the server) and the
 * ratio of its median req/s to the bare Nest route's. Sequential cases (the WS-Man walk, the write mix) print their
 * own times. SQLite always; PostgreSQL on test-setup.sh's server when .test-artifacts/pg-url exists (BENCH_PG=0 skips).
 * Env: BENCH_DOORS_S (seconds per case and round, default 5), BENCH_DOORS_ROUNDS (default 3),
 * BENCH_DOORS_MACHINES (default 10000), BENCH_DOORS_CONNECTIONS (default 50), BENCH_DOORS_PROFILE (a folder for CPU
 * profiles of each case's first round), BENCH_DOORS_CASES (a regular expression: only the matching cases, the walk
 * and the write mix included by their names 'WS-Man walk' and 'write mix'; the baselines always run),
 * Every case also reports the server process's CPU µs per request (process.cpuUsage around the case ÷ requests
 * served; median over the unprofiled rounds) and its ratio to the bare Nest route's: that stays put when other jobs
 * load the machine, where req/s does not. BENCH_DOORS_VERBOSE=1 prints every round (CPU µs/req, worst lag, the
 * server's GC pauses) and the walk's slowest pages; BENCH_DOORS_WALKS (default 1) walks that many times.
 * BENCH_DOORS_TLS=1 (issue 16 §1: the gateway also over HTTPS on its PORT, every selected gateway case a second
 * time, plus a bare node:https baseline; a second table of TLS ÷ plain, gateway and bare).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TLSSocket } from 'node:tls';
import autocannon from 'autocannon';
import { DOMParser } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { createTestDatabase, type TestDatabase } from '../test/support/databases';
import { CertFactory, DEBIAN_PYTHON, zeepEnvelopes } from '../test/support/wsse/zeep-wsse';
import { table } from './measure';

const REPO = resolve(__dirname, '..');
const SECONDS = Number(process.env.BENCH_DOORS_S ?? 5);
const ROUNDS = Number(process.env.BENCH_DOORS_ROUNDS ?? 3);
const MACHINES = Number(process.env.BENCH_DOORS_MACHINES ?? 10000);
const CONNECTIONS = Number(process.env.BENCH_DOORS_CONNECTIONS ?? 50);
/** a folder: the first round of every case also writes a V8 CPU profile of its server there (open in Chrome DevTools) */
const PROFILE = process.env.BENCH_DOORS_PROFILE;
/** a regular expression: only the cases (and the walk / write mix) whose name matches, baselines always */
const ONLY = process.env.BENCH_DOORS_CASES ? new RegExp(process.env.BENCH_DOORS_CASES, 'i') : undefined;
const wanted = (name: string) => !ONLY || ONLY.test(name);
/** issue 16 §1: also measure the gateway over HTTPS (TLS_CERT_FILE on PORT) and a bare node:https baseline */
const TLS = process.env.BENCH_DOORS_TLS === '1';
const PASSWORD = 'bench-admin-password';
const AUTH = `Basic ${Buffer.from(`admin:${PASSWORD}`).toString('base64')}`;
const TNS = 'urn:cimi-gateway:soap:1:types';
const S11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const WSMAN = 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd';
const log = (s = '') => process.stdout.write(`${s}\n`);

interface Server {
  port: number;
  /** HTTPS (autocannon does not verify the bench's self-signed certificate: loopback only) */
  tls?: boolean;
  /** the gateway's HTTPS port (PORT) when it runs with TLS; `port` is then its plain HTTP_PORT */
  tlsPort?: number;
  machineId?: string;
  child: ChildProcess;
  call<T>(cmd: string, extra?: Record<string, unknown>): Promise<T>;
}

function stopServer(s: Server): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return Promise.resolve();
  return new Promise((done) => {
    const hard = setTimeout(() => s.child.kill('SIGKILL'), 10000);
    s.child.once('exit', () => {
      clearTimeout(hard);
      done();
    });
    s.child.kill('SIGTERM');
  });
}

function startServer(mode: string, env: Record<string, string | undefined> = {}): Promise<Server> {
  const child = spawn('taskset', ['-c', '0', process.execPath, '-r', 'ts-node/register/transpile-only', join(__dirname, 'doors-server.ts'), mode], {
    cwd: REPO,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((ok, fail) => {
    child.once('exit', (code) => fail(new Error(`${mode} server exited with ${code}`)));
    child.once('message', (m: { port: number; tlsPort?: number; machineId?: string }) => {
      const call = <T>(cmd: string, extra: Record<string, unknown> = {}) =>
        new Promise<T>((res) => {
          child.once('message', (r) => res(r as T));
          child.send({ cmd, ...extra });
        });
      ok({ port: m.port, tls: mode === 'node:https', tlsPort: m.tlsPort, machineId: m.machineId, child, call });
    });
  });
}

interface Load {
  method?: 'GET' | 'POST';
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** a fresh body per request (unique MessageIDs, one signed envelope each) */
  next?: () => string;
  amount?: number;
}

interface Sample {
  rps: number;
  p50: number;
  p99: number;
  lagMs: number;
  errors: number;
  /** the server process's CPU time (user + system) per request served, µs (profiled rounds excluded) */
  cpuUs?: number;
  /** the server's GC pauses during the case: the longest, the total and how many */
  gc: { maxMs: number; totalMs: number; count: number };
}

async function load(server: Server, l: Load, profile?: string, seconds = SECONDS): Promise<Sample> {
  if (profile) await server.call('prof-start');
  await server.call('reset');
  const r = await autocannon({
    url: `${server.tls ? 'https' : 'http'}://127.0.0.1:${server.port}`,
    // keep-alive connections as real clients hold them (autocannon's default): one handshake per connection
    ...(server.tls ? { servername: 'localhost' } : {}),
    connections: CONNECTIONS,
    duration: seconds,
    amount: l.amount,
    requests: [
      {
        method: l.method ?? 'GET',
        path: l.path,
        headers: l.headers,
        body: l.body,
        // autocannon calls setupRequest whenever the key is present, so leave it out for fixed bodies
        ...(l.next ? { setupRequest: (req: autocannon.Request) => ({ ...req, body: l.next!() }) } : {}),
      },
    ],
  });
  const { maxMs, cpuUs, gc } = await server.call<{ maxMs: number; cpuUs: number; gc: { maxMs: number; totalMs: number; count: number } }>('read');
  if (profile) await server.call('prof-stop', { file: profile });
  // the profiler's own CPU would count against the case: profiled rounds report no CPU per request
  const served = r.requests.total;
  return { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, lagMs: maxMs, errors: r.errors + r.timeouts + r.non2xx, cpuUs: profile || !served ? undefined : cpuUs / served, gc };
}

async function fetchText(port: number, path: string, init: RequestInit = {}): Promise<{ status: number; text: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, init);
  return { status: r.status, text: await r.text() };
}

/** a self-signed RSA-2048 server certificate for 127.0.0.1 / localhost (what a small deployment starts with) */
function makeCertificate(dir: string): { certFile: string; keyFile: string } {
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'pipe' });
  if (r.status !== 0) throw new Error(`openssl: ${r.stderr.toString()}`);
  return { certFile, keyFile };
}

/** one verified HTTPS GET (the bench's certificate as the CA): status, body and the negotiated protocol and cipher */
function httpsGet(port: number, path: string, ca: string, headers: Record<string, string>): Promise<{ status: number; text: string; tls: string }> {
  return new Promise((ok, fail) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path, headers, ca, servername: 'localhost', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const s = res.socket as TLSSocket;
      const tls = `${s.getProtocol()} ${s.getCipher().name}`;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode!, text: Buffer.concat(chunks).toString('utf8'), tls }));
    });
    req.on('error', fail).end();
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(1));

function soapEnvelope(op: string, inner: string): string {
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${S11}" xmlns:t="${TNS}"><soap:Body><t:${op}>${inner}</t:${op}></soap:Body></soap:Envelope>`;
}
const soapHeaders = (op: string) => ({ 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"urn:cimi-gateway:soap:1:${op}"`, Authorization: AUTH });

function wsmanEnvelope(action: string, resourceUri: string, body: string, extra = ''): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsman="${WSMAN}" xmlns:wsen="http://schemas.xmlsoap.org/ws/2004/09/enumeration"><s:Header>` +
    `<wsa:To s:mustUnderstand="true">http://127.0.0.1/wsman</wsa:To><wsman:ResourceURI s:mustUnderstand="true">${resourceUri}</wsman:ResourceURI>` +
    `<wsa:ReplyTo><wsa:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></wsa:ReplyTo>` +
    `<wsa:Action s:mustUnderstand="true">${action}</wsa:Action><wsman:MaxEnvelopeSize s:mustUnderstand="true">1536000</wsman:MaxEnvelopeSize>` +
    `<wsa:MessageID>uuid:${randomUUID()}</wsa:MessageID>${extra}</s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}
const CS = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem';
const WSMAN_HEADERS = { 'Content-Type': 'application/soap+xml;charset=UTF-8', Authorization: AUTH };

/** 10k machines walked in pages of 100 (optimized Enumerate, then Pull): total and worst page */
async function walk(port: number): Promise<{ items: number; totalMs: number; worstPageMs: number; pages: number }> {
  const t0 = performance.now();
  let worst = 0;
  let pages = 0;
  let items = 0;
  const times: number[] = [];
  const post = async (xml: string) => {
    const t = performance.now();
    const r = await fetchText(port, '/wsman', { method: 'POST', headers: WSMAN_HEADERS, body: xml });
    times.push(performance.now() - t);
    worst = Math.max(worst, times[times.length - 1]);
    pages++;
    if (r.status !== 200) throw new Error(`walk: HTTP ${r.status}: ${r.text.slice(0, 300)}`);
    items += (r.text.match(/<[^>/]*:?CIMIGW_Machine[ >]/g) ?? []).length;
    return /EnumerationContext>([^<]+)</.exec(r.text)?.[1] && !/EndOfSequence/.test(r.text) ? /EnumerationContext>([^<]+)</.exec(r.text)![1] : undefined;
  };
  let ctx = await post(
    wsmanEnvelope('http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate', CS, '<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>100</wsman:MaxElements></wsen:Enumerate>'),
  );
  while (ctx) {
    ctx = await post(
      wsmanEnvelope('http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull', CS, `<wsen:Pull><wsen:EnumerationContext>${ctx}</wsen:EnumerationContext><wsen:MaxElements>100</wsen:MaxElements></wsen:Pull>`),
    );
  }
  // which pages are slow (the first, every n-th, random ones) tells a cold start from GC or a periodic flush
  if (process.env.BENCH_DOORS_VERBOSE) log(`  walk: slowest pages ${times.map((ms, i) => [i, ms]).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([i, ms]) => `#${i} ${ms.toFixed(1)} ms`).join(', ')}; median ${median(times).toFixed(1)} ms`);
  return { items, totalMs: performance.now() - t0, worstPageMs: worst, pages };
}

/** create (by value, STARTED) → Job to its end → delete, by 8 concurrent clients for the case's duration */
async function writeMix(server: Server, config: string): Promise<{ cycles: number; perS: number; p99: number; lagMs: number }> {
  await server.call('reset');
  const lat: number[] = [];
  let cycles = 0;
  const end = Date.now() + SECONDS * 1000;
  const timed = async (path: string, init: RequestInit) => {
    const t = performance.now();
    const r = await fetch(`http://127.0.0.1:${server.port}${path}`, { ...init, headers: { Authorization: AUTH, 'Content-Type': 'application/json', ...init.headers } });
    lat.push(performance.now() - t);
    return r;
  };
  const worker = async (w: number) => {
    while (Date.now() < end) {
      const c = await timed('/cimi/machines', {
        method: 'POST',
        body: JSON.stringify({ resourceURI: 'http://schemas.dmtf.org/cimi/1/MachineCreate', name: `mix-${w}-${cycles}`, machineTemplate: { machineConfig: { href: config }, initialState: 'STARTED' } }),
      });
      if (c.status !== 202) throw new Error(`write mix: create ${c.status} ${await c.text()}`);
      const job = c.headers.get('cimi-job-uri')!;
      const machine = c.headers.get('location')!;
      await c.arrayBuffer();
      for (;;) {
        const j = (await (await timed(new URL(job).pathname, {})).json()) as { state: string };
        if (j.state !== 'RUNNING' && j.state !== 'QUEUED') break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const d = await timed(new URL(machine).pathname, { method: 'DELETE' });
      await d.arrayBuffer();
      cycles++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  const { maxMs } = await server.call<{ maxMs: number }>('read');
  lat.sort((a, b) => a - b);
  return { cycles, perS: cycles / ((performance.now() - t0) / 1000), p99: lat[Math.floor(lat.length * 0.99)], lagMs: maxMs };
}

/** xml-crypto alone verifying the same signed envelopes, in this process: the floor of a signed call */
function bareVerifyMs(envelopes: string[], pem: string): number {
  const t0 = performance.now();
  for (const xml of envelopes) {
    const doc = new DOMParser().parseFromString(xml, 'text/xml');
    const sigNode = doc.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature').item(0)!;
    const sig = new SignedXml({ publicCert: pem, getCertFromKeyInfo: () => null });
    sig.loadSignature(sigNode as unknown as Parameters<SignedXml["loadSignature"]>[0]);
    if (!sig.checkSignature(xml)) throw new Error('bare verify failed');
  }
  return (performance.now() - t0) / envelopes.length;
}

async function engineRun(engine: 'sqlite' | 'postgres'): Promise<void> {
  const db: TestDatabase = await createTestDatabase(engine);
  const tlsDir = TLS ? mkdtempSync(join(tmpdir(), 'bench-tls-')) : undefined;
  const tlsFiles = tlsDir ? makeCertificate(tlsDir) : undefined;
  // with TLS the gateway serves HTTPS on PORT and the same app over plain HTTP on HTTP_PORT: one process, one database
  const tlsEnv = tlsFiles ? { TLS_CERT_FILE: tlsFiles.certFile, TLS_KEY_FILE: tlsFiles.keyFile, HTTP_PORT: '0', HTTP_PORT_SCOPE: 'all' } : {};
  const gw = await startServer('gateway', {
    ...tlsEnv,
    PORT: '0',
    HOST: '127.0.0.1',
    SQLITE_PATH: db.sqlitePath,
    DATABASE_URL: db.databaseUrl,
    ADMIN_PASSWORD: PASSWORD,
    LOG_LEVEL: 'warn',
    SIM_LATENCY_MS: '0',
    BENCH_DOORS_MACHINES: String(MACHINES),
  });
  const servers: Server[] = [gw];
  const certs = new CertFactory();
  try {
    const mid = gw.machineId!;
    const machine = await fetchText(gw.port, `/cimi/machines/${mid}`, { headers: { Authorization: AUTH } });
    if (machine.status !== 200) throw new Error(`seeded machine: ${machine.status} ${machine.text}`);
    const [node, nest, xml, nodeTls] = await Promise.all([
      startServer('node:http', { BENCH_BODY: machine.text }),
      startServer('nest', { BENCH_BODY: machine.text }),
      startServer('xml'),
      ...(tlsFiles ? [startServer('node:https', { BENCH_BODY: machine.text, ...tlsEnv })] : []),
    ]);
    servers.push(node, nest, xml, ...(nodeTls ? [nodeTls] : []));
    // the gateway's HTTPS door: the same process (IPC) on its TLS port
    const gwTls: Server | undefined = gw.tlsPort ? { ...gw, port: gw.tlsPort, tls: true } : undefined;
    if (tlsFiles && !gwTls) throw new Error('the gateway did not report an HTTPS port');
    if (gwTls) {
      const ca = readFileSync(tlsFiles!.certFile, 'utf8');
      const viaTls = await httpsGet(gwTls.port, `/cimi/machines/${mid}`, ca, { Authorization: AUTH });
      if (viaTls.status !== 200 || (JSON.parse(viaTls.text) as { id: string }).id.split('/').pop() !== mid) throw new Error(`CIMI GET over TLS: ${viaTls.status} ${viaTls.text.slice(0, 400)}`);
      const bare = await httpsGet(nodeTls!.port, '/', ca, {});
      if (bare.status !== 200) throw new Error(`bare node:https: ${bare.status}`);
      log(`TLS: self-signed RSA-2048 certificate, ${viaTls.tls} (gateway), ${bare.tls} (bare node:https); autocannon keeps its connections alive`);
    }
    const getMachine = soapEnvelope('GetMachine', `<t:id>${mid}</t:id>`);
    const probe = await fetchText(gw.port, '/soap', { method: 'POST', headers: soapHeaders('GetMachine'), body: getMachine });
    if (probe.status !== 200) throw new Error(`SOAP GetMachine: ${probe.status} ${probe.text.slice(0, 400)}`);
    const wsGet = () => wsmanEnvelope('http://schemas.xmlsoap.org/ws/2004/09/transfer/Get', CS, '', `<wsman:SelectorSet><wsman:Selector Name="CreationClassName">CIM_ComputerSystem</wsman:Selector><wsman:Selector Name="Name">${mid}</wsman:Selector></wsman:SelectorSet>`);
    const wsProbe = await fetchText(gw.port, '/wsman', { method: 'POST', headers: WSMAN_HEADERS, body: wsGet() });
    if (wsProbe.status !== 200) throw new Error(`WS-Man Get: ${wsProbe.status} ${wsProbe.text.slice(-1200)}`);

    // signed SOAP: a certificate registered for the admin, envelopes signed by zeep's own wsse plugin (Debian)
    const signing = existsSync(DEBIAN_PYTHON) && spawnSync(DEBIAN_PYTHON, ['-c', 'import zeep, xmlsec']).status === 0;
    const cert = signing ? certs.make('bench') : undefined;
    if (cert) {
      const reg = await fetchText(gw.port, '/soap', {
        method: 'POST',
        headers: soapHeaders('RegisterCertificate'),
        body: soapEnvelope('RegisterCertificate', `<t:userName>admin</t:userName><t:certificate>${cert.pem}</t:certificate>`),
      });
      if (reg.status !== 200) throw new Error(`RegisterCertificate: ${reg.status} ${reg.text.slice(0, 400)}`);
    }
    const signedBatch = (n: number) =>
      zeepEnvelopes(Array.from({ length: n }, () => ({ soap: '1.1' as const, body: `<t:GetMachine xmlns:t="${TNS}"><t:id>${mid}</t:id></t:GetMachine>`, timestamp: { ttl: 600 }, signature: { key: cert!.key, cert: cert!.cert, binary: true, signature_method: 'RSA_SHA256', digest_method: 'SHA256' } })));
    if (cert) {
      const probeSigned = await fetchText(gw.port, '/soap', { method: 'POST', headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"urn:cimi-gateway:soap:1:GetMachine"' }, body: signedBatch(1)[0] });
      if (probeSigned.status !== 200) throw new Error(`signed GetMachine: ${probeSigned.status} ${probeSigned.text.slice(-800)}`);
    }
    const [{ config }] = [{ config: JSON.parse((await fetchText(gw.port, `/cimi/machineConfigs?$first=1&$last=1`, { headers: { Authorization: AUTH } })).text).machineConfigurations[0].id as string }];

    // `plain`: a TLS case's plain-HTTP twin (BENCH_DOORS_TLS), which it directly follows
    const cases: { name: string; server: Server; load: () => Load; base: 'node' | 'nest' | 'xml' | null; plain?: string }[] = [
      { name: 'bare node:http GET', server: node, load: () => ({ path: '/' }), base: null },
      { name: 'bare Nest route GET', server: nest, load: () => ({ path: '/machine' }), base: null },
      { name: 'bare XML parse POST', server: xml, load: () => ({ method: 'POST', path: '/', body: getMachine }), base: null },
      { name: 'CIMI GET machine (JSON)', server: gw, load: () => ({ path: `/cimi/machines/${mid}`, headers: { Authorization: AUTH } }), base: 'nest' },
      { name: 'CIMI GET machine (XML)', server: gw, load: () => ({ path: `/cimi/machines/${mid}`, headers: { Authorization: AUTH, Accept: 'application/xml' } }), base: 'nest' },
      { name: 'CIMI page of 100 machines', server: gw, load: () => ({ path: '/cimi/machines?$first=1&$last=100', headers: { Authorization: AUTH } }), base: 'nest' },
      { name: 'SOAP GetMachine', server: gw, load: () => ({ method: 'POST', path: '/soap', headers: soapHeaders('GetMachine'), body: getMachine }), base: 'nest' },
      { name: 'WS-Man Get', server: gw, load: () => ({ method: 'POST', path: '/wsman', headers: WSMAN_HEADERS, next: wsGet }), base: 'nest' },
    ];
    if (cert) {
      cases.push({
        name: 'SOAP GetMachine, WS-Security signed',
        server: gw,
        load: () => {
          const envs = signedBatch(1500);
          let i = 0;
          return { method: 'POST', path: '/soap', headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"urn:cimi-gateway:soap:1:GetMachine"' }, next: () => envs[i++ % envs.length], amount: envs.length };
        },
        base: 'nest',
      });
    }

    const selected = cases.filter((c) => c.base === null || wanted(c.name));
    cases.splice(0, cases.length, ...selected);
    // TLS: each selected gateway case again on the HTTPS port, right after its plain run (interleaved, same drift)
    const TLS_SUFFIX = ' over TLS';
    if (gwTls) {
      cases.splice(1, 0, { name: 'bare node:https GET', server: nodeTls!, load: () => ({ path: '/' }), base: null, plain: 'bare node:http GET' });
      for (let i = cases.length - 1; i >= 0; i--) {
        const c = cases[i];
        if (c.server === gw) cases.splice(i + 1, 0, { ...c, name: `${c.name}${TLS_SUFFIX}`, server: gwTls, plain: c.name });
      }
    }
    // TLS: a pair compares one door on two ports, so neither may meet a colder process (JIT, page cache) than the
    // other: every gateway case once, unmeasured, first (opt-in mode only, the CI short run stays as it was)
    if (gwTls) for (const c of cases) if (c.server === gw || c.server === gwTls) await load(c.server, c.load(), undefined, Math.min(SECONDS, 2));
    const results = new Map<string, Sample[]>();
    // odd rounds run each TLS case before its plain twin, so that neither always follows the other
    const swapped = cases.map((c, i) => cases[c.plain ? i - 1 : cases[i + 1]?.plain ? i + 1 : i]);
    for (let round = 0; round < ROUNDS; round++) {
      for (const c of round % 2 ? swapped : cases) {
        const profile = PROFILE && round === 0 ? join(PROFILE, `${engine}-${c.name.replace(/[^a-zA-Z0-9]+/g, '-')}.cpuprofile`) : undefined;
        const s = await load(c.server, c.load(), profile);
        (results.get(c.name) ?? results.set(c.name, []).get(c.name)!).push(s);
        if (process.env.BENCH_DOORS_VERBOSE)
          log(`  round ${round} ${c.name}: ${s.rps.toFixed(0)} req/s, CPU ${s.cpuUs?.toFixed(0) ?? '–'} µs/req, worst lag ${s.lagMs.toFixed(0)} ms, GC ${s.gc.count}× longest ${s.gc.maxMs.toFixed(1)} ms total ${s.gc.totalMs.toFixed(0)} ms`);
      }
    }
    const med = (name: string) => {
      const xs = results.get(name)!;
      const cpu = xs.map((x) => x.cpuUs).filter((x): x is number => x !== undefined);
      return { rps: median(xs.map((x) => x.rps)), p50: median(xs.map((x) => x.p50)), p99: median(xs.map((x) => x.p99)), lag: Math.max(...xs.map((x) => x.lagMs)), errors: xs.reduce((a, x) => a + x.errors, 0), cpu: cpu.length ? median(cpu) : undefined };
    };
    const baseName = { node: 'bare node:http GET', nest: 'bare Nest route GET', xml: 'bare XML parse POST' } as const;
    const nestM = med(baseName.nest);
    const rows = cases.map((c) => {
      const m = med(c.name);
      return [
        c.name,
        m.rps.toFixed(0),
        ms(m.p50),
        ms(m.p99),
        c.base ? `${(m.rps / med(baseName[c.base]).rps).toFixed(2)}×` : '–',
        c.base ? `${(m.p99 / Math.max(1, nestM.p99)).toFixed(2)}×` : '–',
        ms(m.lag),
        String(m.errors),
        m.cpu === undefined ? '–' : m.cpu.toFixed(0),
        m.cpu === undefined || !c.base || nestM.cpu === undefined ? '–' : `${(m.cpu / nestM.cpu).toFixed(2)}×`,
      ];
    });
    log(`\n${engine}: ${ROUNDS} interleaved rounds of ${SECONDS} s, ${CONNECTIONS} connections, ${MACHINES} machines (medians; lag = worst over the rounds)`);
    log(table(['case', 'req/s', 'p50 ms', 'p99 ms', 'req/s ÷ base', 'p99 ÷ Nest p99', 'worst lag ms', 'errors', 'CPU µs/req', 'CPU ÷ Nest CPU'], rows));
    if (gwTls) {
      // the one server core is saturated, so 1/req/s is its CPU per request: TLS's share is the difference
      const tlsRows = cases
        .filter((c) => c.plain)
        .map((c) => {
          const p = med(c.plain!);
          const t = med(c.name);
          const label = c.server === gwTls ? c.plain! : 'bare node:http → node:https';
          // the rounds' spread: on a shared machine one stalled round moves a median of two
          const range = (name: string) => `${Math.min(...results.get(name)!.map((x) => x.rps)).toFixed(0)}–${Math.max(...results.get(name)!.map((x) => x.rps)).toFixed(0)}`;
          return [label, p.rps.toFixed(0), t.rps.toFixed(0), `${(t.rps / p.rps).toFixed(2)}×`, range(c.plain!), range(c.name), ms(p.p99), ms(t.p99), (1e6 / t.rps - 1e6 / p.rps).toFixed(0)];
        });
      log(`\n${engine}: TLS on the same port against plain HTTP, the same server process (medians)`);
      log(table(['case', 'plain req/s', 'TLS req/s', 'TLS ÷ plain', 'plain rounds', 'TLS rounds', 'plain p99 ms', 'TLS p99 ms', 'TLS µs/req'], tlsRows));
    }

    if (cert && results.has('SOAP GetMachine, WS-Security signed') && results.has('SOAP GetMachine')) {
      const sample = signedBatch(200);
      const bare = bareVerifyMs(sample, cert.pem);
      const signed = med('SOAP GetMachine, WS-Security signed');
      const unsigned = med('SOAP GetMachine');
      // a call's CPU on the one server core is 1/req/s; the signature's share is the difference to the unsigned call
      const extra = 1000 / signed.rps - 1000 / unsigned.rps;
      log(`signed SOAP: bare xml-crypto verify ${bare.toFixed(2)} ms/call; the gateway's signed call costs ${extra.toFixed(2)} ms more than the unsigned one (${(extra / bare).toFixed(2)}× the bare verify)`);
    }
    // BENCH_DOORS_WALKS (default 1): walks one after the other, so that a warm walk can be told from a cold one
    for (let i = 0; wanted('WS-Man walk') && i < Number(process.env.BENCH_DOORS_WALKS ?? 1); i++) {
      await gw.call('reset');
      if (PROFILE) await gw.call('prof-start');
      const w = await walk(gw.port);
      const wLag = (await gw.call<{ maxMs: number }>('read')).maxMs;
      if (PROFILE) await gw.call('prof-stop', { file: join(PROFILE, `${engine}-walk-${i}.cpuprofile`) });
      log(`WS-Man walk: ${w.items} machines in ${w.pages} pages of ≤ 100: ${w.totalMs.toFixed(0)} ms, worst page ${w.worstPageMs.toFixed(1)} ms, worst lag ${ms(wLag)} ms`);
    }
    if (!wanted('write mix')) return;
    const mix = await writeMix(gw, config);
    log(`write mix (8 clients: create STARTED → Job end → delete): ${mix.cycles} cycles, ${mix.perS.toFixed(1)}/s, p99 of a call ${ms(mix.p99)} ms, worst lag ${ms(mix.lagMs)} ms`);
  } finally {
    // the servers' own shutdown still writes (job leases, audit flush): drop their schema only once they are gone,
    // or PostgreSQL's DROP SCHEMA … CASCADE deadlocks with them
    await Promise.all(servers.map(stopServer));
    certs.cleanup();
    if (tlsDir) rmSync(tlsDir, { recursive: true, force: true });
    await db.drop();
  }
}

async function main(): Promise<void> {
  spawnSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
  if (PROFILE) mkdirSync(PROFILE, { recursive: true });
  const pgUrl = join(REPO, '.test-artifacts', 'pg-url');
  const engines: ('sqlite' | 'postgres')[] = ['sqlite'];
  if (process.env.BENCH_PG !== '0' && existsSync(pgUrl)) {
    process.env.TEST_DATABASE_URL = readFileSync(pgUrl, 'utf8').trim();
    engines.push('postgres');
  } else log('PostgreSQL: skipped (no .test-artifacts/pg-url: run `npm run test:setup` first, or BENCH_PG=0)');
  for (const e of engines) await engineRun(e);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench:doors failed: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  },
);
