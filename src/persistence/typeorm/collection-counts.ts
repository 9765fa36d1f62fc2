import type { EntityManager } from 'typeorm';
import { Sql, type Params } from './sql';

/**
 * Row counts of the collections (migration 1700000000012): `resource_count` per (tenant, type), `job_count` per
 * tenant. An unfiltered top-level page reports its `count` (DSP0263 2.0.0 §5.5.12: the number of Resources in the
 * Collection) from one key lookup instead of a COUNT(*) linear in the collection (bench/README.md, 10^6 Machines).
 *
 * The stores note deltas as they insert and delete rows; inTransaction applies them at the end of the transaction,
 * before COMMIT, so a counter changes exactly when its rows do (a rollback drops both). Applied at the end and in
 * one order (resource counts by tenant and type, then job counts by tenant): a PostgreSQL counter row is locked only
 * from there to COMMIT, and two transactions never take counter rows in opposite orders (no deadlock between them).
 */
export class CountDeltas {
  private readonly resources = new Map<string, number>();
  private readonly jobs = new Map<string, number>();

  resource(tenantId: string, type: string, delta: number): void {
    const key = JSON.stringify([tenantId, type]);
    this.resources.set(key, (this.resources.get(key) ?? 0) + delta);
  }

  job(tenantId: string, delta: number): void {
    this.jobs.set(tenantId, (this.jobs.get(tenantId) ?? 0) + delta);
  }

  /** the upserts of the deltas that are not zero, in the one lock order */
  async apply(sql: Sql): Promise<void> {
    const resources = [...this.resources].filter(([, d]) => d !== 0).map(([k, d]) => [...(JSON.parse(k) as [string, string]), d] as const);
    const jobs = [...this.jobs].filter(([, d]) => d !== 0);
    this.resources.clear();
    this.jobs.clear();
    resources.sort((a, b) => cmp(a[0], b[0]) || cmp(a[1], b[1]));
    jobs.sort((a, b) => cmp(a[0], b[0]));
    if (resources.length) {
      const params: Params = {};
      const values = resources.map(([t, ty, d], i) => {
        Object.assign(params, { [`t${i}`]: t, [`y${i}`]: ty, [`d${i}`]: d });
        return `(:t${i}, :y${i}, :d${i})`;
      });
      await sql.exec(
        `INSERT INTO resource_count (tenant_id, type, n) VALUES ${values.join(', ')}
         ON CONFLICT (tenant_id, type) DO UPDATE SET n = resource_count.n + excluded.n`,
        params,
      );
    }
    if (jobs.length) {
      const params: Params = {};
      const values = jobs.map(([t, d], i) => {
        Object.assign(params, { [`t${i}`]: t, [`d${i}`]: d });
        return `(:t${i}, :d${i})`;
      });
      await sql.exec(
        `INSERT INTO job_count (tenant_id, n) VALUES ${values.join(', ')}
         ON CONFLICT (tenant_id) DO UPDATE SET n = job_count.n + excluded.n`,
        params,
      );
    }
  }
}

/** code-point order, the same in every locale (the lock order must not depend on one) */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The deltas of the transactions open on a manager, innermost last. SQLite nests transactions as savepoints on its
 * one query runner (one manager), so each level has its own deltas: a savepoint rolled back drops only its own.
 */
const open = new WeakMap<EntityManager, CountDeltas[]>();

/** Runs `fn` as one transaction level of `manager` and applies its deltas when `fn` succeeds (before COMMIT/RELEASE). */
export async function withCountDeltas<T>(manager: EntityManager, fn: () => Promise<T>): Promise<T> {
  const deltas = new CountDeltas();
  let stack = open.get(manager);
  if (!stack) open.set(manager, (stack = []));
  stack.push(deltas);
  try {
    const result = await fn();
    await deltas.apply(new Sql(manager));
    return result;
  } finally {
    stack.splice(stack.lastIndexOf(deltas), 1);
    if (stack.length === 0) open.delete(manager);
  }
}

/**
 * Notes a change of counted rows made on `manager`: into its innermost open transaction, or, written outside any
 * (no caller does that today), applied at once.
 */
export async function noteCounts(manager: EntityManager, note: (d: CountDeltas) => void): Promise<void> {
  const stack = open.get(manager);
  const current = stack?.[stack.length - 1];
  if (current) return note(current);
  const d = new CountDeltas();
  note(d);
  await d.apply(new Sql(manager));
}

/**
 * Rebuilds both tables from the rows (GROUP BY): the migration's backfill, and what a bulk load that wrote rows
 * around the stores (bench/data.ts) runs afterwards. Run it in a transaction, with no writer beside it.
 */
export async function recountCollections(query: (sql: string) => Promise<unknown>): Promise<void> {
  await query('DELETE FROM resource_count');
  await query('INSERT INTO resource_count (tenant_id, type, n) SELECT tenant_id, type, COUNT(*) FROM resource GROUP BY tenant_id, type');
  await query('DELETE FROM job_count');
  await query('INSERT INTO job_count (tenant_id, n) SELECT tenant_id, COUNT(*) FROM job GROUP BY tenant_id');
}
