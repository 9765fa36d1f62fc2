/**
 * Collection-page benchmark (issue: indexes that keep a filtered, ordered page of a collection cheap at 10^6
 * rows). `npm run bench`.
 *
 * For each engine: a fresh database (migrations applied) bulk-loaded with BENCH_ROWS Machines of one tenant
 * (plus a tenth of that for a second tenant and a tenth of other types), then each case runs three ways,
 * interleaved:
 *   ours     TypeormUnitOfWork.read → ResourceStore.list (count + page + hydration to model objects)
 *   baseline the equivalent hand-written SQL (count + page) as prepared statements on the bare driver
 *            connection (SQLite: the DataSource's own better-sqlite3 handle; PostgreSQL: a raw pg Client)
 *   gen-SQL  the SQL our layer generated (captured from the run), executed the baseline's way: the part of
 *            `ours` that is the query plan rather than the layer
 * and prints one table: medians, p95, ours/baseline ratio and the plan of our queries (a full SCAN of
 * `resource` is flagged). A second phase measures the index change proposed for the migration on the same data.
 *
 * Env: BENCH_ROWS (default 1000000), BENCH_REPS (max repetitions per case, default 20; at least 5),
 * BENCH_CASE_MS (time budget per case, default 3000), BENCH_PROPOSED=0 (skip the proposed-index phase),
 * BENCH_SQLITE_FILE=<path> (keep the loaded SQLite file and reuse it in later runs).
 * PostgreSQL: by default on the server of scripts/test-setup.sh when .test-artifacts/pg-url exists (in a schema
 * of its own, dropped afterwards), else skipped with a note; BENCH_PG=1 starts a private throwaway server instead
 * (pg-server.ts: why not test-setup.sh itself), BENCH_PG=0 skips PostgreSQL.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { CollectionQuery, Page } from '../src/model/shared/query';
import type { Resource } from '../src/model/shared/resource';
import { dialectOf, openDatabase, type Dialect } from '../src/persistence/typeorm/data-source';
import { TypeormUnitOfWork } from '../src/persistence/typeorm/typeorm-unit-of-work';
import { cases, deepFirst, proposedIndexes, withoutNullsOnNotNullKeys, type Case } from './cases';
import { bulkLoad, loadPlan, TENANT, type LoadedInfo } from './data';
import { fmtMs, fmtRatio, measure, mib, now, table, type Measured } from './measure';
import { startPrivatePg } from './pg-server';
import { pgPlan, sqlitePlan, type PlanSummary } from './plans';

const REPO = resolve(__dirname, '..');

function intEnv(name: string, dflt: number): number {
  const v = process.env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 1) throw new Error(`${name} must be a positive number, not ${v}`);
  return Math.floor(n);
}

const ROWS = intEnv('BENCH_ROWS', 1_000_000);
const MAX_REPS = Math.max(5, intEnv('BENCH_REPS', 20));
const MIN_REPS = 5;
const CASE_MS = intEnv('BENCH_CASE_MS', 3000);
const PROPOSED = process.env.BENCH_PROPOSED !== '0';

const log = (s = '') => process.stdout.write(`${s}\n`);

/** synchronous clean-ups for Ctrl-C / SIGTERM (the scratch directory, a private PostgreSQL) */
const onInterrupt: (() => void)[] = [];
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const f of onInterrupt.reverse()) {
      try {
        f();
      } catch {
        // best effort
      }
    }
    process.exit(130);
  });
}

// ---------------------------------------------------------------------------------------------------------
// loading runs in a child process, so that the measuring process's peak RSS is the list path's, not the load's
// ---------------------------------------------------------------------------------------------------------

interface LoadRequest {
  sqlitePath?: string;
  databaseUrl?: string;
  rows: number;
  out: string;
}
interface LoadResult {
  info: LoadedInfo;
  maxRssKiB: number;
}

async function loadChild(req: LoadRequest): Promise<void> {
  const ds = await openDatabase({ databaseUrl: req.databaseUrl, sqlitePath: req.sqlitePath ?? ':memory:' });
  try {
    const info = await bulkLoad(ds, loadPlan(req.rows), log);
    const result: LoadResult = { info, maxRssKiB: process.resourceUsage().maxRSS };
    writeFileSync(req.out, JSON.stringify(result));
  } finally {
    await ds.destroy();
  }
}

function loadInChild(req: Omit<LoadRequest, 'out'>, scratch: string): LoadResult {
  const out = join(scratch, `load-${randomBytes(4).toString('hex')}.json`);
  const r = spawnSync(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', __filename, '--load', JSON.stringify({ ...req, out })],
    { cwd: REPO, stdio: ['ignore', 'inherit', 'inherit'] },
  );
  if (r.status !== 0 || !existsSync(out)) throw new Error(`loader failed (exit ${r.status ?? r.signal})`);
  const res = JSON.parse(readFileSync(out, 'utf8')) as LoadResult;
  rmSync(out, { force: true });
  return res;
}

// ---------------------------------------------------------------------------------------------------------
// engines: the bare connection the baseline uses, plans, DDL
// ---------------------------------------------------------------------------------------------------------

type Rows = Record<string, unknown>[];

interface Engine {
  dialect: Dialect;
  label: string;
  ds: DataSource;
  /** a prepared statement on the bare connection */
  prepare(sql: string): (params: unknown[]) => Promise<Rows>;
  plan(sql: string, params: unknown[]): Promise<PlanSummary>;
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

interface BetterSqlite {
  prepare(sql: string): { all(...p: unknown[]): unknown[]; get(...p: unknown[]): unknown };
  exec(sql: string): unknown;
}

function sqliteEngine(ds: DataSource): Engine {
  // the DataSource's own better-sqlite3 handle: same connection, same page cache, same pragmas
  const raw = (ds.driver as unknown as { databaseConnection: BetterSqlite }).databaseConnection;
  return {
    dialect: 'sqlite',
    label: 'sqlite',
    ds,
    prepare(sql) {
      const st = raw.prepare(sql);
      return async (p) => st.all(...p) as Rows;
    },
    plan: async (sql, params) => sqlitePlan(raw, sql, params),
    exec: async (sql) => void raw.exec(sql),
    close: () => ds.destroy(),
  };
}

async function pgEngine(ds: DataSource, url: string): Promise<Engine> {
  const client = new Client({ connectionString: url });
  await client.connect();
  // prepared once, planned for each execution's values as the unnamed statements TypeORM sends are: a generic
  // plan (chosen after five runs of a named statement) can be far worse (case d1: 1.1 s instead of 0.3 s)
  await client.query('SET plan_cache_mode = force_custom_plan');
  let n = 0;
  return {
    dialect: 'postgres',
    label: 'postgres',
    ds,
    prepare(sql) {
      const name = `bench_${n++}`;
      return async (values) => (await client.query({ name, text: sql, values })).rows as Rows;
    },
    plan: (sql, params) => pgPlan(client, sql, params),
    exec: async (sql) => void (await client.query(sql)),
    close: async () => {
      await client.end();
      await ds.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// one phase: every case, three ways
// ---------------------------------------------------------------------------------------------------------

interface Captured {
  sql: string;
  params: unknown[];
}

/** runs `fn` and returns the SQL TypeORM was asked to run meanwhile (the logger sees every query) */
async function capture<T>(ds: DataSource, fn: () => Promise<T>): Promise<{ result: T; queries: Captured[] }> {
  // SQLite reads outside a transaction go to the read-only connection (data-source.ts): listen on both
  const reader = (ds as { reader?: DataSource }).reader;
  const loggers = [ds, ...(reader ? [reader] : [])].map((d) => d.logger as unknown as { logQuery: (q: string, p?: unknown[]) => unknown });
  const originals = loggers.map((l) => l.logQuery);
  const queries: Captured[] = [];
  for (const l of loggers) l.logQuery = (sql: string, params?: unknown[]) => void queries.push({ sql, params: params ?? [] });
  try {
    return { result: await fn(), queries };
  } finally {
    loggers.forEach((l, i) => (l.logQuery = originals[i]));
  }
}

interface CaseResult {
  engine: string;
  phase: string;
  c: Case;
  count: number;
  ours: Measured;
  base: Measured;
  gen: Measured;
  /** our SQL with the NULLS clauses dropped on NOT NULL sort keys, when that changes the SQL */
  fix?: Measured;
  fixPlan?: PlanSummary;
  oursPlan: { count: PlanSummary; items: PlanSummary };
  basePlan: { count: PlanSummary; items: PlanSummary };
  oursSql: { count: Captured; items: Captured };
  mismatch?: string;
  /** median of 3 runs of the COUNT(*) the counter replaces (unfiltered cases) */
  exactMs?: number;
}

async function runPhase(engine: Engine, phase: string, list: Case[]): Promise<CaseResult[]> {
  const uow = new TypeormUnitOfWork(engine.ds);
  const out: CaseResult[] = [];
  for (const c of list) {
    const t0 = now();
    const ours = (q: CollectionQuery) => uow.read(TENANT, (tx) => tx.resources.list('Machine', q));
    const { result, queries } = await capture(engine.ds, () => ours(c.query));
    // the count: a COUNT(*) when filtered, the kept counter row when not (collection-counts.ts)
    const countQ = queries.find((q) => /^\s*SELECT (COUNT\(\*\)|n FROM resource_count)/i.test(q.sql));
    const itemsQ = queries.find((q) => q !== countQ && /^\s*SELECT/i.test(q.sql));
    if (!countQ || !itemsQ) throw new Error(`case ${c.key}: could not capture the count and page queries`);

    const bCount = engine.prepare(c.baseline.count);
    const bItems = engine.prepare(c.baseline.items);
    const gCount = engine.prepare(countQ.sql);
    const gItems = engine.prepare(itemsQ.sql);
    const fixedSql = withoutNullsOnNotNullKeys(itemsQ.sql);
    const fItems = fixedSql !== itemsQ.sql ? engine.prepare(fixedSql) : undefined;

    // the baseline must be the same page: same count, same ids in the same order
    const bc = Number((await bCount(c.baseline.countParams))[0].n);
    const bi = (await bItems(c.baseline.itemsParams)).map((r) => String(r.id));
    const page = result as Page<Resource>;
    let mismatch: string | undefined;
    let exactMs: number | undefined;
    if (c.exactCount) {
      const exact = engine.prepare(c.exactCount.sql);
      const runs: number[] = [];
      let n = 0;
      for (let i = 0; i < 3; i++) {
        const s = now();
        n = Number((await exact(c.exactCount.params))[0].n);
        runs.push(now() - s);
      }
      exactMs = runs.sort((x, y) => x - y)[1];
      if (n !== page.count) mismatch = `count: ours ${page.count}, COUNT(*) ${n}`;
    }
    if (!mismatch && bc !== page.count) mismatch = `count: ours ${page.count}, baseline ${bc}`;
    else if (!mismatch && bi.join() !== page.items.map((r) => r.id).join())
      mismatch = `items differ (ours ${page.items.length}, baseline ${bi.length})`;

    const oursPlan = {
      count: await engine.plan(countQ.sql, countQ.params),
      items: await engine.plan(itemsQ.sql, itemsQ.params),
    };
    const fixPlan = fItems ? await engine.plan(fixedSql, itemsQ.params) : undefined;
    const basePlan = {
      count: await engine.plan(c.baseline.count, c.baseline.countParams),
      items: await engine.plan(c.baseline.items, c.baseline.itemsParams),
    };

    const timed = async (parts: Record<string, number>, key: string, fn: () => Promise<unknown>) => {
      const s = now();
      await fn();
      parts[key] = now() - s;
    };
    const m = await measure(
      [
        { name: 'ours', run: () => ours(c.query) },
        {
          name: 'base',
          run: async (parts) => {
            await timed(parts, 'count', () => bCount(c.baseline.countParams));
            await timed(parts, 'items', () => bItems(c.baseline.itemsParams));
          },
        },
        {
          name: 'gen',
          secondary: true,
          run: async (parts) => {
            await timed(parts, 'count', () => gCount(countQ.params));
            await timed(parts, 'items', () => gItems(itemsQ.params));
          },
        },
        ...(fItems
          ? [
              {
                name: 'fix',
                secondary: true,
                run: (parts: Record<string, number>) => timed(parts, 'items', () => fItems(itemsQ.params)),
              },
            ]
          : []),
      ],
      { maxReps: MAX_REPS, minReps: MIN_REPS, budgetMs: CASE_MS },
    );
    out.push({
      engine: engine.label,
      phase,
      c,
      count: page.count,
      ours: m.ours,
      base: m.base,
      gen: m.gen,
      fix: m.fix,
      fixPlan,
      oursPlan,
      basePlan,
      oursSql: { count: countQ, items: itemsQ },
      mismatch,
      exactMs,
    });
    log(
      `  ${engine.label}/${phase} ${c.key}: ours ${fmtMs(m.ours.total.median)} ms, baseline ${fmtMs(m.base.total.median)} ms ` +
        `(${m.ours.total.n} reps, ${((now() - t0) / 1000).toFixed(1)} s)${mismatch ? `  MISMATCH ${mismatch}` : ''}`,
    );
  }
  return out;
}

async function caseInputs(engine: Engine): Promise<{ list: Case[]; keysetAfter: string }> {
  const deep = deepFirst(ROWS);
  const sql =
    engine.dialect === 'sqlite'
      ? `SELECT id FROM resource WHERE tenant_id = ? AND type = 'Machine' ORDER BY id LIMIT 1 OFFSET ?`
      : `SELECT id FROM resource WHERE tenant_id = $1 AND type = 'Machine' ORDER BY id LIMIT 1 OFFSET $2`;
  // the id at ordinal deep-1 in id order: the keyset page after it holds ordinals deep..deep+99
  const rows = await engine.prepare(sql)([TENANT, Math.max(0, deep - 2)]);
  const keysetAfter = String(rows[0]?.id ?? '');
  const createdAfter = Date.UTC(2023, 0, 1);
  return { list: cases(engine.dialect, { rows: ROWS, createdAfter, keysetAfter }), keysetAfter };
}

async function benchEngine(engine: Engine): Promise<CaseResult[]> {
  const { list } = await caseInputs(engine);
  const results: CaseResult[] = [];
  log(`\n[${engine.label}] measuring, schema as migrated`);
  results.push(...(await runPhase(engine, 'migrated', list)));
  if (PROPOSED) {
    log(`[${engine.label}] applying the proposed index change`);
    const t0 = now();
    for (const s of proposedIndexes(engine.dialect).apply) await engine.exec(s);
    log(`  done in ${((now() - t0) / 1000).toFixed(1)} s`);
    results.push(...(await runPhase(engine, '+proposed', list)));
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------------
// engines' set-up
// ---------------------------------------------------------------------------------------------------------

interface EngineRun {
  results: CaseResult[];
  notes: string[];
}

async function sqliteRun(scratch: string): Promise<EngineRun> {
  const keep = process.env.BENCH_SQLITE_FILE;
  const path = keep ? resolve(keep) : join(scratch, 'bench.sqlite');
  const notes: string[] = [];
  let reuse = false;
  if (keep && existsSync(path)) {
    const probe = await openDatabase({ sqlitePath: path });
    const n = Number((await probe.query('SELECT COUNT(*) AS n FROM resource'))[0].n);
    await probe.destroy();
    reuse = n > 0;
  }
  if (reuse) {
    notes.push(`reused ${path} (BENCH_SQLITE_FILE); its rows may not match BENCH_ROWS`);
    log(`[sqlite] reusing ${path}`);
  } else {
    log(`[sqlite] loading ${path}`);
    const r = loadInChild({ sqlitePath: path, rows: ROWS }, scratch);
    notes.push(
      `loaded ${r.info.total.toLocaleString('en-US')} rows in ${r.info.seconds.toFixed(1)} s ` +
        `(loader peak RSS ${mib(r.maxRssKiB)}, with a 1 GB load-only page cache); file ${mib(statSync(path).size / 1024)}`,
    );
  }
  const ds = await openDatabase({ sqlitePath: path });
  const engine = sqliteEngine(ds);
  try {
    if (reuse) for (const s of proposedIndexes('sqlite').revert) await engine.exec(s);
    const v = await engine.prepare('SELECT sqlite_version() AS v')([]);
    notes.push(
      `SQLite ${String(v[0].v)} (better-sqlite3), WAL, cache_size default (2 MiB) as the gateway runs`,
    );
    return { results: await benchEngine(engine), notes };
  } finally {
    await engine.close();
  }
}

async function postgresRun(scratch: string): Promise<EngineRun | { skipped: string }> {
  const urlFile = join(REPO, '.test-artifacts', 'pg-url');
  const mode = process.env.BENCH_PG;
  if (mode === '0') return { skipped: 'BENCH_PG=0' };
  let base: string;
  let stop: (() => void) | undefined;
  const notes: string[] = [];
  if (existsSync(urlFile) && mode !== '1') {
    base = readFileSync(urlFile, 'utf8').trim();
    notes.push('server: the running scripts/test-setup.sh server (.test-artifacts/pg-url), own schema');
  } else if (mode === '1') {
    log('\n[postgres] starting a private throwaway server');
    const srv = await startPrivatePg();
    base = srv.url;
    stop = srv.stop;
    onInterrupt.push(srv.stop);
    notes.push(
      `server: private throwaway PostgreSQL ${srv.version} (BENCH_PG=1), fsync off, shared_buffers default`,
    );
  } else {
    return {
      skipped:
        'no .test-artifacts/pg-url (start one with `SKIP_APT=1 bash scripts/test-setup.sh`) and BENCH_PG is not 1',
    };
  }
  const schema = `bench_${randomBytes(5).toString('hex')}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA ${schema}`);
    const u = new URL(base);
    u.searchParams.set('options', `-c search_path=${schema}`);
    const url = u.toString();
    log(`[postgres] loading schema ${schema}`);
    const r = loadInChild({ databaseUrl: url, rows: ROWS }, scratch);
    notes.push(
      `loaded ${r.info.total.toLocaleString('en-US')} rows in ${r.info.seconds.toFixed(1)} s (loader peak RSS ${mib(r.maxRssKiB)})`,
    );
    const ds = await openDatabase({ databaseUrl: url, sqlitePath: ':memory:' });
    const engine = await pgEngine(ds, url);
    try {
      const vm = await engine.prepare(
        `SELECT relpages, relallvisible FROM pg_class WHERE oid = to_regclass('resource')`,
      )([]);
      notes.push(
        `table pages all-visible after the load's VACUUM: ${String(vm[0]?.relallvisible)} of ${String(vm[0]?.relpages)}`,
      );
      const v = await engine.prepare('SHOW server_version')([]);
      notes.push(
        `PostgreSQL ${String(v[0].server_version)}; baseline through a raw pg Client (named prepared statements)`,
      );
      if (dialectOf(ds) !== 'postgres') throw new Error('expected a PostgreSQL DataSource');
      return { results: await benchEngine(engine), notes };
    } finally {
      await engine.close();
    }
  } finally {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end();
    stop?.();
  }
}

// ---------------------------------------------------------------------------------------------------------
// report
// ---------------------------------------------------------------------------------------------------------

function planCell(r: CaseResult): string {
  const flag = r.oursPlan.count.fullScan || r.oursPlan.items.fullScan ? '!! ' : '';
  return `${flag}count: ${r.oursPlan.count.compact} ; page: ${r.oursPlan.items.compact}`;
}

function report(all: CaseResult[], notes: string[], started: number): void {
  log('\n' + '='.repeat(100));
  log(
    `Collection list benchmark: ${ROWS.toLocaleString('en-US')} Machines in the listed tenant; ` +
      `page = ${100} items; times in ms (median of n interleaved runs; p95)`,
  );
  log(
    'ours = ResourceStore.list (count + page + hydration); baseline = hand-written count + page SQL, prepared,',
  );
  log(
    'on the bare connection; gen-SQL = our generated SQL run the same bare way (gen page: its page query alone);',
  );
  log(
    'NULLS fix page = our page query without NULLS FIRST/LAST on NOT NULL sort keys (only where that changes it);',
  );
  log('ratio = ours / baseline');
  log('='.repeat(100));
  const header = [
    'engine/phase  case',
    'count',
    'ours med',
    'base med',
    'ratio',
    'ours p95',
    'base p95',
    'base count',
    'base page',
    'gen-SQL',
    'gen page',
    'NULLS fix page',
    'n',
    'plan of our SQL (!! = full SCAN of resource)',
  ];
  const rows = all.map((r) => [
    `${`${r.engine}/${r.phase}`.padEnd(18)} ${r.c.label}`,
    r.count.toLocaleString('en-US'),
    fmtMs(r.ours.total.median),
    fmtMs(r.base.total.median),
    fmtRatio(r.ours.total.median / r.base.total.median),
    fmtMs(r.ours.total.p95),
    fmtMs(r.base.total.p95),
    fmtMs(r.base.parts.count?.median),
    fmtMs(r.base.parts.items?.median),
    fmtMs(r.gen.total.median),
    fmtMs(r.gen.parts.items?.median),
    fmtMs(r.fix?.parts.items?.median),
    String(r.ours.total.n),
    planCell(r),
  ]);
  log(table(header, rows));

  // before/after of the proposed index change
  const before = all.filter((r) => r.phase === 'migrated');
  const after = all.filter((r) => r.phase === '+proposed');
  if (after.length) {
    log('\nProposed index change, before → after (ours, median ms):');
    log(
      table(
        ['engine  case', 'as migrated', '+proposed', 'speed-up', 'baseline +proposed', 'count plan after'],
        before.map((b) => {
          const a = after.find((x) => x.engine === b.engine && x.c.key === b.c.key);
          return [
            `${b.engine.padEnd(8)} ${b.c.label}`,
            fmtMs(b.ours.total.median),
            fmtMs(a?.ours.total.median),
            a ? fmtRatio(b.ours.total.median / a.ours.total.median) : '-',
            fmtMs(a?.base.total.median),
            a ? a.oursPlan.count.compact : '-',
          ];
        }),
      ),
    );
  }

  // findings
  log('\nFindings:');
  for (const r of all) {
    const tag = `${r.engine}/${r.phase} ${r.c.key}`;
    if (r.mismatch) log(`  ${tag}: baseline is NOT the same page (${r.mismatch})`);
    if (r.oursPlan.count.fullScan) log(`  ${tag}: the count query is a full SCAN of resource`);
    if (r.oursPlan.items.fullScan) log(`  ${tag}: the page query is a full SCAN of resource`);
    if (r.exactMs !== undefined) log(`  ${tag}: count from resource_count; the COUNT(*) it replaces (checked equal) takes ${fmtMs(r.exactMs)} ms`);
    const share = (r.base.parts.count?.median ?? 0) / r.base.total.median;
    if (share >= 0.8 && r.base.total.median >= 5)
      log(
        `  ${tag}: COUNT(*) is ${(share * 100).toFixed(0)} % of the bare cost (${fmtMs(r.base.parts.count?.median)} ms)`,
      );
    const gp = r.gen.parts.items?.median;
    const fp = r.fix?.parts.items?.median;
    if (gp !== undefined && fp !== undefined && fp < gp / 2)
      log(
        `  ${tag}: the page query takes ${fmtMs(gp)} ms as generated and ${fmtMs(fp)} ms without NULLS FIRST/LAST on ` +
          `NOT NULL sort keys (${r.oursPlan.items.compact} → ${r.fixPlan?.compact})`,
      );
    const ratio = r.ours.total.median / r.base.total.median;
    if (ratio >= 1.5)
      log(
        `  ${tag}: ours/baseline ${fmtRatio(ratio)}; generated SQL alone ${fmtMs(r.gen.total.median)} ms vs baseline ` +
          `${fmtMs(r.base.total.median)} ms (plan or layer overhead, see below)`,
      );
  }
  log(
    '  ResourceStore.list counts every match (Page.count): a COUNT(*) when filtered, the resource_count row when not;',
  );
  log('  "ours" includes it; "base count" is the same on the bare connection (the counter row when unfiltered).');

  log('\nPlans and SQL (per engine/phase/case):');
  for (const r of all) {
    log(`  ${r.engine}/${r.phase} ${r.c.key}`);
    log(`    ours count: ${r.oursSql.count.sql.replace(/\s+/g, ' ')}`);
    for (const l of r.oursPlan.count.full) log(`        ${l}`);
    log(`    ours page:  ${r.oursSql.items.sql.replace(/\s+/g, ' ')}`);
    for (const l of r.oursPlan.items.full) log(`        ${l}`);
    if (r.fixPlan) log(`    page without NULLS clauses on NOT NULL keys: ${r.fixPlan.compact}`);
    if (
      r.basePlan.count.compact !== r.oursPlan.count.compact ||
      r.basePlan.items.compact !== r.oursPlan.items.compact
    ) {
      log(
        `    baseline plan differs: count: ${r.basePlan.count.compact} ; page: ${r.basePlan.items.compact}`,
      );
    }
  }

  const ru = process.resourceUsage();
  const mem = process.memoryUsage();
  log('\nNotes:');
  for (const n of notes) log(`  ${n}`);
  log(
    `  peak RSS of the measuring process: ${mib(ru.maxRSS)} (now: RSS ${mib(mem.rss / 1024)}, heap ${mib(mem.heapUsed / 1024)})`,
  );
  log(
    `  machine: ${cpus().length} x ${cpus()[0]?.model ?? '?'}, ${mib(totalmem() / 1024)} RAM, Node ${process.version}; ` +
      `total ${((now() - started) / 1000).toFixed(0)} s`,
  );
}

async function main(): Promise<void> {
  if (process.argv[2] === '--load') return loadChild(JSON.parse(process.argv[3]) as LoadRequest);
  const started = now();
  const scratch = mkdtempSync(join(tmpdir(), 'cimi-bench-'));
  onInterrupt.push(() => rmSync(scratch, { recursive: true, force: true }));
  const notes: string[] = [];
  const all: CaseResult[] = [];
  try {
    const s = await sqliteRun(scratch);
    all.push(...s.results);
    notes.push(...s.notes.map((n) => `sqlite: ${n}`));
    const p = await postgresRun(scratch);
    if ('skipped' in p) notes.push(`postgres: skipped (${p.skipped})`);
    else {
      all.push(...p.results);
      notes.push(...p.notes.map((n) => `postgres: ${n}`));
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  report(all, notes, started);
}

main().then(
  () => process.exit(0),
  (e) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
