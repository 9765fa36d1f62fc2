import type { CollectionQuery } from '../src/model/shared/query';
import type { Dialect } from '../src/persistence/typeorm/data-source';
import { TENANT } from './data';

/**
 * The benchmark cases: a CollectionQuery for our store, and the hand-written SQL a person would write for the
 * same page (same rows, same order, same count) — the bare baseline. Baseline SQL uses `?` placeholders;
 * `positional` turns them into `$n` for PostgreSQL.
 */
export interface BaselineSql {
  count: string;
  countParams: unknown[];
  items: string;
  itemsParams: unknown[];
}

export interface Case {
  key: string;
  label: string;
  query: CollectionQuery;
  baseline: BaselineSql;
  /** the COUNT(*) an unfiltered baseline's counter read replaces: run a few times, to check and to show its cost */
  exactCount?: { sql: string; params: unknown[] };
}

export interface CaseInputs {
  rows: number;
  /** `created > createdAfter` in case b */
  createdAfter: number;
  /** the id after which the keyset form of the deep page starts (the id at the deep page's offset, in id order) */
  keysetAfter: string;
}

/** `?` → `$1`, `$2`, … (the baseline SQL holds no other question marks) */
export function positional(dialect: Dialect, sql: string): string {
  if (dialect === 'sqlite') return sql;
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

/** the JSON extraction of attrs.cpu, written as the engine wants it (PostgreSQL: guarded cast to numeric) */
function cpuExpr(dialect: Dialect): string {
  return dialect === 'sqlite'
    ? `json_extract(attrs, '$.cpu')`
    : `(CASE WHEN jsonb_typeof(attrs::jsonb -> 'cpu') = 'number' THEN (attrs::jsonb ->> 'cpu')::numeric END)`;
}

export const PAGE = 100;

/** 1-based first ordinal of the deep page: 90 % into the collection */
export function deepFirst(rows: number): number {
  return Math.max(1, Math.floor(rows * 0.9) + 1);
}

export function cases(dialect: Dialect, input: CaseInputs): Case[] {
  const scope = 'tenant_id = ? AND type = ?';
  const sp = [TENANT, 'Machine'];
  const deep = deepFirst(input.rows);
  const b = (count: string, countParams: unknown[], items: string, itemsParams: unknown[]): BaselineSql => ({
    count: positional(dialect, count),
    countParams,
    items: positional(dialect, items),
    itemsParams,
  });
  // unfiltered: what a hand-written page reads from this schema is the kept counter (migration 1700000000012);
  // a bare COUNT(*) here would also evict the 2 MiB page cache between the repetitions of `ours`
  const all = `SELECT n FROM resource_count WHERE ${scope}`;
  const exactCount = { sql: positional(dialect, `SELECT COUNT(*) AS n FROM resource WHERE ${scope}`), params: sp };
  return [
    {
      key: 'a',
      label: `a  first page, default order (created)`,
      query: { first: 1, last: PAGE },
      baseline: b(all, sp, `SELECT * FROM resource WHERE ${scope} ORDER BY created_ms, id LIMIT ${PAGE}`, sp),
      exactCount,
    },
    {
      key: 'b',
      label: `b  state='STARTED' and created>${new Date(input.createdAfter).toISOString().slice(0, 10)}, created desc`,
      query: {
        filter: {
          kind: 'and',
          left: { kind: 'cmp', attr: 'state', op: '=', value: 'STARTED' },
          right: { kind: 'cmp', attr: 'created', op: '>', value: new Date(input.createdAfter) },
        },
        orderBy: [{ attr: 'created', desc: true }],
        first: 1,
        last: PAGE,
      },
      baseline: b(
        `SELECT COUNT(*) AS n FROM resource WHERE ${scope} AND state = ? AND created_ms > ?`,
        [...sp, 'STARTED', input.createdAfter],
        `SELECT * FROM resource WHERE ${scope} AND state = ? AND created_ms > ? ORDER BY created_ms DESC, id LIMIT ${PAGE}`,
        [...sp, 'STARTED', input.createdAfter],
      ),
    },
    {
      key: 'c',
      label: `c  cpu >= 4 (JSON attribute), default order`,
      query: { filter: { kind: 'cmp', attr: 'cpu', op: '>=', value: 4 }, first: 1, last: PAGE },
      baseline: b(
        `SELECT COUNT(*) AS n FROM resource WHERE ${scope} AND ${cpuExpr(dialect)} >= ?`,
        [...sp, 4],
        `SELECT * FROM resource WHERE ${scope} AND ${cpuExpr(dialect)} >= ? ORDER BY created_ms, id LIMIT ${PAGE}`,
        [...sp, 4],
      ),
    },
    {
      key: 'd1',
      label: `d1 deep page by offset: first=${deep} last=${deep + PAGE - 1}`,
      query: { first: deep, last: deep + PAGE - 1 },
      baseline: b(
        all,
        sp,
        `SELECT * FROM resource WHERE ${scope} ORDER BY created_ms, id LIMIT ${PAGE} OFFSET ${deep - 1}`,
        sp,
      ),
      exactCount,
    },
    {
      key: 'd2',
      label: `d2 deep page by keyset: after=<id #${deep - 1}> last=${PAGE}`,
      query: { after: input.keysetAfter, last: PAGE },
      baseline: b(all, sp, `SELECT * FROM resource WHERE ${scope} AND id > ? ORDER BY id LIMIT ${PAGE}`, [
        ...sp,
        input.keysetAfter,
      ]),
      exactCount,
    },
    {
      key: 'e',
      label: `e  newest first: orderBy created desc, no filter`,
      query: { orderBy: [{ attr: 'created', desc: true }], first: 1, last: PAGE },
      baseline: b(
        all,
        sp,
        `SELECT * FROM resource WHERE ${scope} ORDER BY created_ms DESC, id LIMIT ${PAGE}`,
        sp,
      ),
      exactCount,
    },
  ];
}

/**
 * Index changes proposed for the migration (measured in the second phase on the same data):
 *  - ix_resource_tenant_type_state_created (tenant_id, type, state, created_ms, id): answers case b's count
 *    from the index alone and gives its page in created order. On SQLite it replaces ix_resource_tenant_type_state
 *    (its prefix); on PostgreSQL that one stays: B-tree deduplication makes it ~8 MB for 10^6 rows, the cheapest
 *    index to COUNT(*) a whole collection with (dropping it doubled case a's count there).
 *  - ix_resource_attr_cpu: an expression index on attrs.cpu, written exactly as the filter compiler generates it.
 */
export function proposedIndexes(dialect: Dialect): { apply: string[]; revert: string[] } {
  const cpu =
    dialect === 'sqlite'
      ? `json_extract(attrs, '$.cpu')`
      : `(CASE WHEN jsonb_typeof((attrs::jsonb -> 'cpu')) = 'number' THEN (attrs::jsonb ->> 'cpu')::numeric END)`;
  const analyze = dialect === 'sqlite' ? 'ANALYZE' : 'ANALYZE resource';
  return {
    apply: [
      ...(dialect === 'sqlite' ? ['DROP INDEX IF EXISTS ix_resource_tenant_type_state'] : []),
      'CREATE INDEX IF NOT EXISTS ix_resource_tenant_type_state_created ON resource (tenant_id, type, state, created_ms, id)',
      `CREATE INDEX IF NOT EXISTS ix_resource_attr_cpu ON resource (tenant_id, type, ${cpu})`,
      analyze,
    ],
    revert: [
      'DROP INDEX IF EXISTS ix_resource_tenant_type_state_created',
      'DROP INDEX IF EXISTS ix_resource_attr_cpu',
      'CREATE INDEX IF NOT EXISTS ix_resource_tenant_type_state ON resource (tenant_id, type, state)',
      analyze,
    ],
  };
}

/**
 * Our generated SQL with the NULLS FIRST/LAST clauses dropped from the sort keys that are NOT NULL columns
 * (created_ms, updated_ms, id): the same order, but one PostgreSQL can read from a plain index (it does not use
 * NOT NULL to match `DESC NULLS LAST` with an index's `DESC NULLS FIRST`). What a filter-compiler fix would emit.
 */
export function withoutNullsOnNotNullKeys(sql: string): string {
  return sql.replace(/(\.(?:created_ms|updated_ms|id)) (ASC|DESC) NULLS (?:FIRST|LAST)/g, '$1 $2');
}
