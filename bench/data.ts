import type { DataSource } from 'typeorm';
import { recountCollections } from '../src/persistence/typeorm/collection-counts';
import { dialectOf } from '../src/persistence/typeorm/data-source';

/**
 * Deterministic bulk data for the list benchmark: one big tenant with `rows` Machines, plus a tenth of that as
 * Machines of a second tenant and a tenth as other types (Volume, Network, Disk sub-resources) of the big
 * tenant, so that tenant and type scoping both matter. Rows are written with raw multi-row INSERTs through the
 * DataSource in a few big transactions (the store's insert is per row), then the engine's statistics are built.
 */

export const TENANT = 'bench-tenant-a';
export const OTHER_TENANT = 'bench-tenant-b';
/** first created time: 2022-01-01T00:00:00Z; rows spread over ~3 years */
export const T0 = Date.UTC(2022, 0, 1);
export const SPAN_MS = 3 * 365 * 86_400_000;

/** small, fast, seeded PRNG (mulberry32) so that every run (and both engines) load the same rows */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HEX = '0123456789abcdef';
/** a lowercase v4-shaped UUID from the PRNG (ids.ts accepts it; order is as random as randomUUID's) */
function uuid(rnd: () => number): string {
  let s = '';
  for (let i = 0; i < 32; i++) {
    let d = (rnd() * 16) | 0;
    if (i === 12) d = 4;
    else if (i === 16) d = 8 | (d & 3);
    s += HEX[d];
    if (i === 7 || i === 11 || i === 15 || i === 19) s += '-';
  }
  return s;
}

function pick<T>(rnd: () => number, weighted: readonly (readonly [T, number])[]): T {
  let r = rnd();
  for (const [v, w] of weighted) {
    if ((r -= w) < 0) return v;
  }
  return weighted[weighted.length - 1][0];
}

const MACHINE_STATES = [
  ['STARTED', 0.5],
  ['STOPPED', 0.3],
  ['PAUSED', 0.05],
  ['SUSPENDED', 0.04],
  ['CREATING', 0.03],
  ['STARTING', 0.02],
  ['STOPPING', 0.02],
  ['ERROR', 0.02],
  ['DELETING', 0.02],
] as const;
const CPUS = [
  [1, 0.2],
  [2, 0.35],
  [4, 0.25],
  [8, 0.12],
  [16, 0.06],
  [32, 0.02],
] as const;
const ARCHS = [
  ['x86_64', 0.8],
  ['aarch64', 0.2],
] as const;
const ENVS = ['prod', 'staging', 'dev', 'test'];
const REGIONS = ['eu-west', 'eu-central', 'us-east', 'us-west', 'ap-south'];

export const COLUMNS = [
  'id',
  'tenant_id',
  'type',
  'parent_id',
  'name',
  'description',
  'state',
  'created_ms',
  'updated_ms',
  'version',
  'properties',
  'attrs',
] as const;
type Row = unknown[];

export interface LoadPlan {
  machines: number;
  otherTenantMachines: number;
  otherTypes: number;
}

export function loadPlan(rows: number): LoadPlan {
  const tenth = Math.max(1, Math.round(rows / 10));
  return { machines: rows, otherTenantMachines: tenth, otherTypes: tenth };
}

/** What the benchmark needs to know about the loaded data. */
export interface LoadedInfo {
  total: number;
  machines: number;
  seconds: number;
  /** ids of a few Machines of the big tenant, to parent Disks */
  sampleMachineIds: string[];
}

/**
 * Yields rows in created order (as a gateway writes them: created grows with insertion, with jitter), the
 * three populations interleaved so that the big tenant's Machines are not one contiguous run of the table.
 */
function* rows(plan: LoadPlan, sampleMachineIds: string[]): Generator<Row> {
  const rnd = prng(20240601);
  const total = plan.machines + plan.otherTenantMachines + plan.otherTypes;
  const step = SPAN_MS / total;
  let m = 0;
  let b = 0;
  let o = 0;
  for (let i = 0; i < total; i++) {
    // interleave by remaining share
    const left = total - i;
    const r = rnd() * left;
    let kind: 'm' | 'b' | 'o';
    if (r < plan.machines - m) kind = 'm';
    else if (r < plan.machines - m + (plan.otherTenantMachines - b)) kind = 'b';
    else kind = 'o';
    const created = Math.round(T0 + i * step + rnd() * step * 0.9);
    const updated = created + Math.round(rnd() * 30 * 86_400_000);
    const id = uuid(rnd);
    const env = ENVS[(rnd() * ENVS.length) | 0];
    const region = REGIONS[(rnd() * REGIONS.length) | 0];
    const props = JSON.stringify({ env, owner: `team-${(rnd() * 40) | 0}`, region });
    const version = 1 + ((rnd() * 5) | 0);
    if (kind === 'm' || kind === 'b') {
      const n = kind === 'm' ? m++ : b++;
      if (kind === 'm' && sampleMachineIds.length < 1000 && n % 997 === 0) sampleMachineIds.push(id);
      const cpu = pick(rnd, CPUS);
      const memory = cpu * (rnd() < 0.5 ? 2 : 4) * 1_048_576; // KiB
      const attrs = JSON.stringify({
        cpu,
        memory,
        cpuArch: pick(rnd, ARCHS),
        cpuSpeed: 2000 + ((rnd() * 12) | 0) * 100,
        machineImage: { type: 'MachineImage', id: uuid(rnd) },
        machineTemplate: { type: 'MachineTemplate', id: uuid(rnd) },
      });
      yield [
        id,
        kind === 'm' ? TENANT : OTHER_TENANT,
        'Machine',
        null,
        `vm-${region}-${env}-${n.toString(36).padStart(5, '0')}`,
        rnd() < 0.3 ? `${env} worker in ${region}` : null,
        pick(rnd, MACHINE_STATES),
        created,
        updated,
        version,
        props,
        attrs,
      ];
    } else {
      const t = o++ % 3;
      if (t === 0) {
        yield [
          id,
          TENANT,
          'Volume',
          null,
          `vol-${o}`,
          null,
          rnd() < 0.9 ? 'AVAILABLE' : 'ERROR',
          created,
          updated,
          version,
          props,
          JSON.stringify({
            capacity: 1_048_576 * (1 + ((rnd() * 100) | 0)),
            bootable: rnd() < 0.3,
            type: 'ssd',
          }),
        ];
      } else if (t === 1) {
        yield [
          id,
          TENANT,
          'Network',
          null,
          `net-${o}`,
          null,
          'STARTED',
          created,
          updated,
          version,
          props,
          JSON.stringify({ mtu: 1500, networkType: 'private', classOfService: 'gold' }),
        ];
      } else {
        const parent = sampleMachineIds.length ? sampleMachineIds[(rnd() * sampleMachineIds.length) | 0] : id;
        yield [
          id,
          TENANT,
          'Disk',
          parent,
          `disk-${o}`,
          null,
          null,
          created,
          updated,
          1,
          '{}',
          JSON.stringify({ capacity: 10_485_760, format: 'ext4' }),
        ];
      }
    }
  }
}

/** Loads the plan into an empty, migrated `resource` table; returns what the cases need. */
export async function bulkLoad(
  ds: DataSource,
  plan: LoadPlan,
  log: (s: string) => void,
): Promise<LoadedInfo> {
  const dialect = dialectOf(ds);
  const started = Date.now();
  // SQLite caps bound variables (32766); PostgreSQL at 65535 per statement
  const perStatement = dialect === 'sqlite' ? 2000 : 4000;
  const perTransaction = 200_000;
  const cols = COLUMNS.length;
  const placeholders = (n: number): string => {
    const out: string[] = [];
    for (let r = 0; r < n; r++) {
      const p: string[] = [];
      for (let c = 0; c < cols; c++) p.push(dialect === 'sqlite' ? '?' : `$${r * cols + c + 1}`);
      out.push(`(${p.join(', ')})`);
    }
    return out.join(', ');
  };
  const insertSql = (n: number) => `INSERT INTO resource (${COLUMNS.join(', ')}) VALUES ${placeholders(n)}`;
  const fullSql = insertSql(perStatement);

  const sampleMachineIds: string[] = [];
  const qr = ds.createQueryRunner();
  if (dialect === 'sqlite') {
    // a big page cache for the load only (the measured phase runs with the gateway's own pragmas)
    await qr.query('PRAGMA cache_size = -1000000');
  } else {
    // Synchronous commits for the load's few transactions: after an asynchronous commit (test-setup.sh's server
    // runs synchronous_commit=off) hint bits cannot be set until the WAL is flushed, so the VACUUM below would
    // leave pages not all-visible and the planner would price index-only COUNT(*)s as heap scans.
    await qr.query('SET synchronous_commit = on');
    // and no autovacuum competing with the load for the two cores
    await qr.query('ALTER TABLE resource SET (autovacuum_enabled = false)');
  }
  let total = 0;
  let inTx = 0;
  let batch: unknown[] = [];
  let batchRows = 0;
  const flush = async () => {
    if (!batchRows) return;
    await qr.query(batchRows === perStatement ? fullSql : insertSql(batchRows), batch);
    batch = [];
    batchRows = 0;
  };
  try {
    await qr.startTransaction();
    for (const row of rows(plan, sampleMachineIds)) {
      for (const v of row) batch.push(v);
      batchRows++;
      total++;
      inTx++;
      if (batchRows === perStatement) await flush();
      if (inTx >= perTransaction) {
        await flush();
        await qr.commitTransaction();
        log(
          `  loaded ${total.toLocaleString('en-US')} rows (${((Date.now() - started) / 1000).toFixed(1)} s)`,
        );
        await qr.startTransaction();
        inTx = 0;
      }
    }
    await flush();
    // the rows went around the stores: their collection counters are rebuilt as the migration's backfill does
    await recountCollections((sql) => qr.query(sql));
    await qr.commitTransaction();
    log(`  loaded ${total.toLocaleString('en-US')} rows (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    if (dialect === 'sqlite') {
      await qr.query('ANALYZE');
      await qr.query('PRAGMA wal_checkpoint(TRUNCATE)');
      await qr.query('PRAGMA cache_size = -2000'); // SQLite's default, as the gateway runs
    } else {
      await qr.query('VACUUM (ANALYZE) resource');
      await qr.query('ALTER TABLE resource RESET (autovacuum_enabled)');
    }
  } finally {
    if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
    await qr.release();
  }
  return { total, machines: plan.machines, seconds: (Date.now() - started) / 1000, sampleMachineIds };
}
