import type { EntityManager, EntityTarget, ObjectLiteral, ValueTransformer } from 'typeorm';
import { ConcurrentModificationError } from '../../model/shared/model-error';
import { dialectOf, type Dialect } from './data-source';

/** Named parameters (`:p0`, `:tenant`, …) as the SQL texts of this layer write them; values are always bound. */
export type Params = Record<string, unknown>;

/** `:name` not preceded by another colon (so PostgreSQL casts such as `::jsonb` are left alone) */
const NAMED = /(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)/g;

/**
 * Turns named parameters into the engine's positional placeholders (`?` for SQLite, `$n` for PostgreSQL) and
 * the value list. Unlike TypeORM's escapeQueryWithParameters it never inlines a value (numbers included), and a
 * name that has no value is an error rather than text left in the query. The rewritten text and the order of the
 * names are kept per SQL text (issue 13: the regular expression pass was 1-1.6% of a door request): the values are
 * still read from `params` on every call.
 */
export function bindNamed(dialect: Dialect, sql: string, params: Params): [string, unknown[]] {
  const cache = BOUND[dialect];
  let b = cache.get(sql);
  if (!b) {
    const names: string[] = [];
    const text = sql.replace(NAMED, (_m, name: string) => {
      names.push(name);
      return dialect === 'postgres' ? `$${names.length}` : '?';
    });
    b = { text, names };
    // texts built with variable parts (IN lists, filters) are many: a full cache starts again rather than grow;
    // long texts (batched inserts, long IN lists: one per row count) are not kept, so the cache stays small in bytes
    if (sql.length <= BOUND_TEXT_MAX && names.length <= BOUND_NAMES_MAX) {
      if (cache.size >= BOUND_MAX) cache.clear();
      cache.set(sql, b);
    }
  }
  const values: unknown[] = new Array(b.names.length);
  for (let i = 0; i < b.names.length; i++) {
    const name = b.names[i];
    if (!Object.prototype.hasOwnProperty.call(params, name))
      throw new Error(`SQL parameter :${name} has no value`);
    let v = params[name];
    if (v === undefined) v = null;
    if (v instanceof Date) v = v.getTime();
    if (typeof v === 'boolean' && dialect === 'sqlite') v = v ? 1 : 0;
    values[i] = v;
  }
  return [b.text, values];
}

const BOUND_MAX = 2000;
const BOUND_TEXT_MAX = 4096;
const BOUND_NAMES_MAX = 64;
const BOUND: Record<Dialect, Map<string, { text: string; names: string[] }>> = { sqlite: new Map(), postgres: new Map() };

/** `IN (...)` over a list of values, each bound as a parameter named `<prefix><i>` */
export function inList(prefix: string, values: readonly string[], params: Params): string {
  return values
    .map((v, i) => {
      params[`${prefix}${i}`] = v;
      return `:${prefix}${i}`;
    })
    .join(', ');
}

/** PostgreSQL deadlock_detected (40P01) or serialization_failure (40001) */
export function isTransactionConflict(e: unknown): boolean {
  const err = e as { code?: string; driverError?: { code?: string } } | undefined;
  const code = err?.driverError?.code ?? err?.code;
  return code === '40P01' || code === '40001';
}

/** The unique-constraint violation of either engine (SQLite SQLITE_CONSTRAINT_*; PostgreSQL 23505). */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; driverError?: { code?: string } } | undefined;
  const code = err?.driverError?.code ?? err?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * Runs hand-written, parameterized SQL on one EntityManager (the transaction's, or the DataSource's) and
 * hydrates TypeORM records from result rows with the entity metadata (column transformers included).
 */
export class Sql {
  readonly dialect: Dialect;

  constructor(readonly manager: EntityManager) {
    this.dialect = dialectOf(manager.dataSource);
  }

  /** rows of a SELECT (or a statement with RETURNING) */
  async rows(sql: string, params: Params = {}): Promise<Record<string, unknown>[]> {
    const res = await this.run(sql, params);
    return (res.records ?? []) as Record<string, unknown>[];
  }

  /** number of rows a DML statement changed */
  async exec(sql: string, params: Params = {}): Promise<number> {
    const res = await this.run(sql, params);
    return res.affected ?? 0;
  }

  async select<E extends ObjectLiteral>(
    entity: EntityTarget<E>,
    sql: string,
    params: Params = {},
  ): Promise<E[]> {
    const rows = await this.rows(sql, params);
    return rows.map((r) => this.hydrate(entity, r));
  }

  async selectOne<E extends ObjectLiteral>(
    entity: EntityTarget<E>,
    sql: string,
    params: Params = {},
  ): Promise<E | undefined> {
    return (await this.select(entity, sql, params))[0];
  }

  /** INSERT of one record; with `onConflict` (the key columns) a duplicate is skipped and 0 returned */
  async insert<E extends ObjectLiteral>(
    entity: EntityTarget<E>,
    record: E,
    onConflict?: string[],
  ): Promise<number> {
    const meta = this.manager.dataSource.getMetadata(entity);
    const params: Params = {};
    const cols: string[] = [];
    const names: string[] = [];
    meta.columns.forEach((c, i) => {
      cols.push(c.databaseName);
      names.push(`:c${i}`);
      params[`c${i}`] = (record as ObjectLiteral)[c.propertyName] ?? null;
    });
    const conflict = onConflict ? ` ON CONFLICT (${onConflict.join(', ')}) DO NOTHING` : '';
    return this.exec(
      `INSERT INTO ${meta.tableName} (${cols.join(', ')}) VALUES (${names.join(', ')})${conflict}`,
      params,
    );
  }

  hydrate<E extends ObjectLiteral>(entity: EntityTarget<E>, row: Record<string, unknown>): E {
    const meta = this.manager.dataSource.getMetadata(entity);
    const rec = meta.create() as ObjectLiteral;
    for (const c of meta.columns) {
      let v = row[c.databaseName];
      if (v === undefined) continue;
      const t = c.transformer as ValueTransformer | undefined;
      if (t && !Array.isArray(t)) v = t.from(v);
      rec[c.propertyName] = v;
    }
    return rec as E;
  }

  private async run(sql: string, params: Params) {
    const [text, values] = bindNamed(this.dialect, sql, params);
    const own = this.manager.queryRunner;
    const qr = own ?? this.manager.dataSource.createQueryRunner();
    try {
      return await qr.query(text, values, true);
    } catch (e) {
      // PostgreSQL aborts one side of a deadlock or a serialization conflict: the same answer as a lost
      // optimistic update (callers retry or report a conflict), not an internal error
      if (isTransactionConflict(e)) throw new ConcurrentModificationError('Transaction', 'conflict');
      throw e;
    } finally {
      if (!own) await qr.release();
    }
  }
}
