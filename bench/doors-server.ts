/**
 * One server under test for the door benchmark (doors.ts), run as its own process pinned to one CPU:
 *   node:http   a bare node:http server answering GET with the machine JSON doors.ts hands it
 *   node:https  the same over node:https with TLS_CERT_FILE / TLS_KEY_FILE (BENCH_DOORS_TLS): the floor of TLS
 *   nest        a bare Nest + Express app with one route answering the same JSON
 *   xml         a bare node:http POST that parses the body with the gateway's hardened parser and answers a
 *               fixed small XML: what any XML door pays before it does anything
 *   gateway     the gateway itself (createApp with the process env), bulk-loaded with BENCH_DOORS_MACHINES
 *               Machines of the demo tenant before it listens; with TLS_CERT_FILE / TLS_KEY_FILE it listens through
 *               main's listen(): HTTPS on PORT and, with HTTP_PORT and HTTP_PORT_SCOPE=all, the same app over plain
 *               HTTP, so that doors.ts measures both in one process on one database
 * Each reports {port} (the gateway's plain one; node:https's HTTPS one) and the gateway its {tlsPort} over IPC when
 * listening and keeps a monitorEventLoopDelay histogram that doors.ts resets and reads around every case ('reset' /
 * 'read' messages), so the worst stall of each case is measured where it happens, and the process's CPU time
 * between them (process.cpuUsage), which doors.ts divides by the requests served: CPU µs per request.
 */
import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { parseXml } from '../src/adapters/xml/safe-xml';
import { bulkLoad } from './data';

const mode = process.argv[2];
const body = Buffer.from(process.env.BENCH_BODY ?? '{}');
const lag = monitorEventLoopDelay({ resolution: 5 });
lag.enable();
let cpuAt = process.cpuUsage();
// GC pauses of the case (BENCH_DOORS_VERBOSE): the longest one and the total, to tell a GC stall from others
let gc = { maxMs: 0, totalMs: 0, count: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries() as PerformanceEntry[]) {
    gc.count++;
    gc.totalMs += e.duration;
    gc.maxMs = Math.max(gc.maxMs, e.duration);
  }
}).observe({ entryTypes: ['gc'] });

// CPU profile of one case, on request (BENCH_DOORS_PROFILE in doors.ts): the V8 profiler, no restart, no flags
const inspector = new Session();
const post = (method: string) => new Promise<unknown>((ok, fail) => inspector.post(method, (e, r) => (e ? fail(e) : ok(r))));

process.on('message', (m: { cmd: string; file?: string }) => {
  if (m.cmd === 'prof-start') {
    inspector.connect();
    void post('Profiler.enable')
      .then(() => post('Profiler.start'))
      .then(() => process.send!({ cmd: 'prof-start' }));
  } else if (m.cmd === 'prof-stop') {
    void post('Profiler.stop').then((r) => {
      writeFileSync(m.file!, JSON.stringify((r as { profile: unknown }).profile));
      inspector.disconnect();
      process.send!({ cmd: 'prof-stop' });
    });
  } else if (m.cmd === 'reset') {
    lag.reset();
    cpuAt = process.cpuUsage();
    gc = { maxMs: 0, totalMs: 0, count: 0 };
    process.send!({ cmd: 'reset' });
  } else if (m.cmd === 'read') {
    // this process's user + system CPU since 'reset': robust to other load on the machine, unlike req/s
    const cpu = process.cpuUsage(cpuAt);
    process.send!({ cmd: 'read', maxMs: lag.max / 1e6, cpuUs: cpu.user + cpu.system, gc });
  }
  else if (m.cmd === 'exit') process.exit(0);
});

const ready = (server: NetServer, extra: Record<string, unknown> = {}) =>
  process.send!({ cmd: 'ready', port: (server.address() as AddressInfo).port, ...extra });

async function main(): Promise<void> {
  if (mode === 'node:http' || mode === 'node:https') {
    const answer = (_req: unknown, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
      res.end(body);
    };
    const s =
      mode === 'node:https' ? createHttpsServer({ cert: readFileSync(process.env.TLS_CERT_FILE!), key: readFileSync(process.env.TLS_KEY_FILE!) }, answer) : createServer(answer);
    s.keepAliveTimeout = 65000;
    s.listen(0, '127.0.0.1', () => ready(s));
  } else if (mode === 'xml') {
    const answer = Buffer.from('<?xml version="1.0" encoding="utf-8"?><ok/>');
    const s = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        parseXml(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Length': answer.length });
        res.end(answer);
      });
    });
    s.keepAliveTimeout = 65000;
    s.listen(0, '127.0.0.1', () => ready(s));
  } else if (mode === 'nest') {
    const { Controller, Get, Header, Module } = await import('@nestjs/common');
    const { NestFactory } = await import('@nestjs/core');
    const json = JSON.parse(body.toString('utf8')) as unknown;
    @Controller()
    class BareController {
      @Get('machine')
      @Header('Content-Type', 'application/json')
      get(): unknown {
        return json;
      }
    }
    @Module({ controllers: [BareController] })
    class BareModule {}
    const app = await NestFactory.create(BareModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    ready(app.getHttpServer() as Server);
  } else if (mode === 'gateway') {
    const { createApp, listen } = await import('../src/main');
    const { loadConfig } = await import('../src/config/env.schema');
    const { openDatabase } = await import('../src/persistence/typeorm/data-source');
    // first start: migrations, the demo tenant, its admin and catalog; then stop, so that the bulk load below
    // does not share the connection with the app's own transactions (job engine, reconciliation)
    const first = await createApp(loadConfig());
    await first.init();
    await first.close();
    const ds = await openDatabase({ databaseUrl: process.env.DATABASE_URL || undefined, sqlitePath: process.env.SQLITE_PATH ?? ':memory:' });
    const n = Number(process.env.BENCH_DOORS_MACHINES ?? 10000);
    await bulkLoad(ds, { machines: n, otherTenantMachines: Math.ceil(n / 10), otherTypes: Math.ceil(n / 10) }, () => undefined);
    // the bulk rows belong to bench-tenant-a; hand them to the demo tenant, whose admin the bench logs in as
    const [{ tenant }] = (await ds.query(`SELECT MIN(tenant_id) AS tenant FROM resource WHERE tenant_id NOT LIKE 'bench-tenant-%'`)) as { tenant: string }[];
    await ds.query(`UPDATE resource SET tenant_id = '${tenant}' WHERE tenant_id = 'bench-tenant-a'`);
    // rows moved around the stores: their collection counters follow (collection-counts.ts)
    const { recountCollections } = await import('../src/persistence/typeorm/collection-counts');
    await ds.transaction((m) => recountCollections((sql) => m.query(sql)));
    const [{ id }] = (await ds.query(`SELECT id FROM resource WHERE tenant_id = '${tenant}' AND type = 'Machine' AND state = 'STARTED' ORDER BY id LIMIT 1`)) as { id: string }[];
    await ds.destroy();
    const cfg = loadConfig();
    const app = await createApp(cfg);
    // as main() listens: with TLS, PORT is HTTPS and the plain HTTP_PORT (scope all) serves the same app
    const l = await listen(app, cfg);
    process.send!({ cmd: 'ready', port: l.httpPort ?? l.port, tlsPort: cfg.tls ? l.port : undefined, machineId: id });
  } else {
    throw new Error(`unknown mode ${mode}`);
  }
}

main().catch((e) => {
  process.stderr.write(`doors-server ${mode}: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
