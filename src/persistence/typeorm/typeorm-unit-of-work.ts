import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import type { Job } from '../../model/job/job';
import { ConcurrentModificationError, InvalidInputError } from '../../model/shared/model-error';
import type {
  IdempotencyRecord,
  IdempotencyStore,
  JobStore,
  ResourceStore,
  TenantTx,
  UnitOfWork,
} from '../../model/shared/ports';
import type { CollectionQuery, Page } from '../../model/shared/query';
import type { Resource, ResourceType } from '../../model/shared/resource';
import { descriptorOf } from '../../model/shared/resource-types';
import { noteCounts, withCountDeltas } from './collection-counts';
import { dialectOf, readerOf, type Dialect } from './data-source';
import { compileCollectionQuery, jobTarget, resourceTarget, type QueryTarget } from './filter-compiler';
import {
  fromIdempotencyRow,
  fromJobRecord,
  fromResourceRecord,
  toIdempotencyRow,
  toJobRecord,
  toResourceRecord,
} from './mappers';
import { IdempotencyRecordRow, JobRecord, ResourceRecord } from './records';
import { inList, Sql, type Params } from './sql';
import { TypeormTenantAuditLog } from './typeorm-audit-log';
import { TypeormEventStore } from './typeorm-event-store';
import { TypeormQuotaStore } from './typeorm-quota-store';
import { TypeormTenantSubscriptionStore } from './typeorm-subscription-store';
import { TypeormMeterStore } from './typeorm-meter-store';

/** what the holder of a SqliteWriteLock knows: whether it still holds it, and how deep its transactions nest */
interface LockHolder {
  active: boolean;
  depth: number;
}

/**
 * Serializes the work of the writer connection of one SQLite DataSource. better-sqlite3 has a single connection
 * (TypeORM shares one query runner), so two interleaved transactions would be one transaction; this promise-chain
 * mutex makes every transaction (and every single write) run alone. Reads outside a transaction do not take it on
 * a file database: they go to the read-only connection (readOutsideTransaction); on `:memory:` they still queue,
 * so that no one sees another's uncommitted rows. Re-entrant: code already holding the lock (a read inside a
 * transaction) runs at once. On PostgreSQL it is a pass-through: the pool and the database isolate transactions.
 */
export class SqliteWriteLock {
  private static readonly locks = new WeakMap<DataSource, SqliteWriteLock>();
  private tail: Promise<void> = Promise.resolve();
  private readonly holder = new AsyncLocalStorage<LockHolder>();
  private inLine = 0;

  private constructor(readonly enabled: boolean) {}

  /** writers holding or waiting for the lock (monitoring: /metrics) */
  get depth(): number {
    return this.inLine;
  }

  /** the one lock of a DataSource (shared by the unit of work, the job queue and the identity store) */
  static for(ds: DataSource): SqliteWriteLock {
    let lock = SqliteWriteLock.locks.get(ds);
    if (!lock) {
      lock = new SqliteWriteLock(dialectOf(ds) === 'sqlite');
      SqliteWriteLock.locks.set(ds, lock);
    }
    return lock;
  }

  /** the holder state of the calling async context, when it holds the lock */
  current(): LockHolder | undefined {
    const h = this.holder.getStore();
    return h?.active ? h : undefined;
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.enabled || this.current()) return fn();
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((r) => (release = r));
    const token: LockHolder = { active: true, depth: 0 };
    this.inLine += 1;
    return previous
      .then(() => this.holder.run(token, fn))
      .finally(() => {
        // work started inside and still running after release must queue like anyone else
        token.active = false;
        this.inLine -= 1;
        release();
      });
  }
}

/**
 * An SQLite transaction under the lock. BEGIN IMMEDIATE (not TypeORM's deferred BEGIN) takes the database write
 * lock at the start, waiting up to busy_timeout for another process: a deferred transaction that read first and
 * then writes fails at once with SQLITE_BUSY when another process (a second gateway on the same file) wrote
 * meanwhile. Nested (re-entrant) calls become savepoints.
 */
function sqliteTransaction<T>(ds: DataSource, fn: (manager: EntityManager) => Promise<T>): Promise<T> {
  const lock = SqliteWriteLock.for(ds);
  return lock.run(async () => {
    const holder = lock.current()!;
    const qr = ds.createQueryRunner();
    const savepoint = holder.depth > 0 ? `cimi_sp_${holder.depth}` : undefined;
    await qr.query(savepoint ? `SAVEPOINT ${savepoint}` : 'BEGIN IMMEDIATE');
    holder.depth += 1;
    try {
      const result = await withCountDeltas(qr.manager, () => fn(qr.manager));
      await qr.query(savepoint ? `RELEASE ${savepoint}` : 'COMMIT');
      return result;
    } catch (e) {
      try {
        if (savepoint) {
          await qr.query(`ROLLBACK TO ${savepoint}`);
          await qr.query(`RELEASE ${savepoint}`);
        } else {
          await qr.query('ROLLBACK');
        }
      } catch {
        // SQLite may have rolled back already (e.g. on SQLITE_FULL): the original error is what matters
      }
      throw e;
    } finally {
      holder.depth -= 1;
    }
  });
}

/** Runs `fn` in one transaction of `ds`: serialized (BEGIN IMMEDIATE) on SQLite, READ COMMITTED on PostgreSQL. */
export function inTransaction<T>(ds: DataSource, fn: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (dialectOf(ds) === 'postgres') return ds.transaction('READ COMMITTED', (m) => withCountDeltas(m, () => fn(m)));
  return sqliteTransaction(ds, fn);
}

/** Runs `fn` outside a transaction on the writer connection (still serialized with transactions on SQLite). */
export function outsideTransaction<T>(
  ds: DataSource,
  fn: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  return SqliteWriteLock.for(ds).run(() => fn(ds.manager));
}

/**
 * Runs reads outside a transaction. On a SQLite file they use the read-only connection and never wait for the
 * lock: a WAL reader sees the last commit made before each statement starts, never a transaction still open
 * (sqlite.org/wal.html, "Concurrency"); a write there fails (SQLITE_READONLY). Each statement is its own snapshot,
 * as on the PostgreSQL pool outside a transaction. Code holding the lock (inside a transaction) stays on the writer
 * connection, to read its own writes; `:memory:` has no second connection and queues as before.
 */
export function readOutsideTransaction<T>(
  ds: DataSource,
  fn: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  const lock = SqliteWriteLock.for(ds);
  const reader = lock.enabled && !lock.current() ? readerOf(ds) : undefined;
  return reader ? fn(reader.manager) : outsideTransaction(ds, fn);
}

function checkTenant(tenantId: string): string {
  if (typeof tenantId !== 'string' || tenantId.length === 0)
    throw new Error('a tenant-scoped store needs a tenant id');
  return tenantId;
}

const UNFINISHED_JOB_STATES = ['QUEUED', 'RUNNING', 'STOPPING'] as const;

/**
 * Page of records: the count of all matches, and the subset first..last (or after a keyset). `total`, when given,
 * is the kept row count of the whole (unfiltered) collection and replaces the COUNT(*); a filtered count stays an
 * exact COUNT(*), linear in its matches (DSP0263 2.0.0 §4.1.6.1: `count` is the number of matching Resources).
 */
export async function page<R extends ObjectLiteral>(
  sql: Sql,
  entity: EntityTarget<R>,
  table: string,
  target: QueryTarget,
  base: string[],
  params: Params,
  query: CollectionQuery,
  total?: () => Promise<number>,
): Promise<{ records: R[]; count: number }> {
  const c = compileCollectionQuery(sql.dialect, target, query, params);
  const where = c.filter ? [...base, c.filter] : base;
  const a = target.alias;
  let count: number;
  if (total && !c.filter) count = await total();
  else {
    const countRows = await sql.rows(
      `SELECT COUNT(*) AS n FROM ${table} ${a} WHERE ${where.join(' AND ')}`,
      params,
    );
    count = Number(countRows[0]?.n ?? 0);
  }
  const itemsWhere = c.keyset ? [...where, c.keyset] : where;
  const records = (await sql.select(
    entity,
    `SELECT ${a}.* FROM ${table} ${a} WHERE ${itemsWhere.join(' AND ')} ORDER BY ${c.orderBy} ${c.limit}`,
    params,
  )) as R[];
  return { records, count };
}

/** a counter row's n (collection-counts.ts); no row is an empty collection */
async function keptCount(sql: Sql, text: string, params: Params): Promise<number> {
  const rows = await sql.rows(text, params);
  return Number(rows[0]?.n ?? 0);
}

export class TypeormResourceStore implements ResourceStore {
  private readonly sql: Sql;
  readonly tenantId: string;

  constructor(manager: EntityManager, tenantId: string) {
    this.sql = new Sql(manager);
    this.tenantId = checkTenant(tenantId);
  }

  async get(type: ResourceType, id: string): Promise<Resource | undefined> {
    const rec = await this.sql.selectOne(
      ResourceRecord,
      'SELECT r.* FROM resource r WHERE r.tenant_id = :tenant AND r.type = :type AND r.id = :id',
      {
        tenant: this.tenantId,
        type,
        id,
      },
    );
    return rec && fromResourceRecord(rec);
  }

  async children(parentId: string, type?: ResourceType): Promise<Resource[]> {
    const params: Params = { tenant: this.tenantId, parent: parentId };
    let where = 'r.tenant_id = :tenant AND r.parent_id = :parent';
    if (type !== undefined) {
      where += ' AND r.type = :type';
      params.type = type;
    }
    const recs = await this.sql.select(
      ResourceRecord,
      `SELECT r.* FROM resource r WHERE ${where} ORDER BY r.created_ms ASC, r.id ASC`,
      params,
    );
    return recs.map(fromResourceRecord);
  }

  async list(type: ResourceType, query: CollectionQuery, parentId?: string): Promise<Page<Resource>> {
    const params: Params = { tenant: this.tenantId, type };
    const base = ['r.tenant_id = :tenant', 'r.type = :type'];
    if (parentId !== undefined) {
      base.push('r.parent_id = :parent');
      params.parent = parentId;
    }
    // a top-level collection lists every row of its tenant and type, whatever its state (a DELETING Machine is
    // listed): exactly what resource_count counts. Sub-resources of one parent are counted by COUNT(*).
    const total =
      parentId === undefined
        ? () => keptCount(this.sql, 'SELECT n FROM resource_count WHERE tenant_id = :tenant AND type = :type', { tenant: this.tenantId, type })
        : undefined;
    const { records, count } = await page<ResourceRecord>(
      this.sql,
      ResourceRecord,
      'resource',
      resourceTarget(this.sql.dialect, type, 'r'),
      base,
      params,
      query,
      total,
    );
    return { items: records.map(fromResourceRecord), count };
  }

  async referencing(type: ResourceType, attr: string, targetId: string): Promise<Resource[]> {
    const spec = descriptorOf(type).attrs.find((a) => a.name === attr);
    if (
      !spec ||
      !['ref', 'refs', 'struct', 'structs'].includes(spec.kind) ||
      !/^[A-Za-z][A-Za-z0-9_]*$/.test(attr)
    ) {
      throw new InvalidInputError(
        `${type}.${attr} is not a reference attribute`,
        attr,
        'QUERY.UNKNOWN_ATTRIBUTE',
      );
    }
    const many = spec.kind === 'refs' || spec.kind === 'structs';
    const cond = referenceCondition(this.sql.dialect, attr, many, spec.kind === 'struct');
    const recs = await this.sql.select(
      ResourceRecord,
      `SELECT r.* FROM resource r WHERE r.tenant_id = :tenant AND r.type = :type AND ${cond} ORDER BY r.created_ms ASC, r.id ASC`,
      { tenant: this.tenantId, type, target: targetId },
    );
    return recs.map(fromResourceRecord);
  }

  async insert(resource: Resource): Promise<void> {
    this.own(resource.tenantId, resource.type, resource.id);
    const n = await this.sql.insert(ResourceRecord, toResourceRecord(resource));
    await noteCounts(this.sql.manager, (d) => d.resource(this.tenantId, resource.type, n));
  }

  async update(resource: Resource): Promise<void> {
    this.own(resource.tenantId, resource.type, resource.id);
    const rec = toResourceRecord(resource);
    const changed = await this.sql.exec(
      `UPDATE resource SET parent_id = :parentId, name = :name, description = :description, state = :state, updated_ms = :updatedMs,
         state_changed_ms = :stateChangedMs, version = :version, properties = :properties, attrs = :attrs
       WHERE id = :id AND tenant_id = :tenant AND type = :type AND version = :prev`,
      {
        parentId: rec.parentId,
        name: rec.name,
        description: rec.description,
        state: rec.state,
        updatedMs: rec.updatedMs,
        stateChangedMs: rec.stateChangedMs,
        version: rec.version,
        properties: rec.properties,
        attrs: rec.attrs,
        id: rec.id,
        tenant: this.tenantId,
        type: rec.type,
        prev: resource.version - 1,
      },
    );
    if (changed !== 1) throw new ConcurrentModificationError(resource.type, resource.id);
  }

  async remove(type: ResourceType, id: string): Promise<void> {
    // sub-resources have no children of their own: one level is the whole tree; RETURNING: the types to uncount
    const children = await this.sql.rows('DELETE FROM resource WHERE tenant_id = :tenant AND parent_id = :id RETURNING type', {
      tenant: this.tenantId,
      id,
    });
    const n = await this.sql.exec('DELETE FROM resource WHERE tenant_id = :tenant AND type = :type AND id = :id', {
      tenant: this.tenantId,
      type,
      id,
    });
    await noteCounts(this.sql.manager, (d) => {
      for (const c of children) d.resource(this.tenantId, String(c.type), -1);
      d.resource(this.tenantId, type, -n);
    });
  }

  private own(tenantId: string, type: string, id: string): void {
    if (tenantId !== this.tenantId)
      throw new Error(`${type} ${id} belongs to another tenant than this store`);
  }
}

/** `r.attrs.<attr>` (one ref) or an element of `r.attrs.<attr>` (a list of refs) has `id` = :target */
/** `slot`: a struct attribute may also be a template slot by reference, stored as {ref: {type, id}} (template-resolution.ts slotOf) */
function referenceCondition(dialect: Dialect, attr: string, many: boolean, slot = false): string {
  if (slot && !many) {
    return dialect === 'sqlite'
      ? `(json_extract(r.attrs, '$.${attr}.id') = :target OR json_extract(r.attrs, '$.${attr}.ref.id') = :target)`
      : `((r.attrs::jsonb -> '${attr}' ->> 'id') = :target OR (r.attrs::jsonb -> '${attr}' -> 'ref' ->> 'id') = :target)`;
  }
  if (dialect === 'sqlite') {
    if (!many) return `json_extract(r.attrs, '$.${attr}.id') = :target`;
    return `(json_type(r.attrs, '$.${attr}') = 'array' AND EXISTS (SELECT 1 FROM json_each(r.attrs, '$.${attr}') e WHERE e.type = 'object' AND json_extract(e.value, '$.id') = :target))`;
  }
  if (!many) return `(r.attrs::jsonb -> '${attr}' ->> 'id') = :target`;
  return `(jsonb_typeof(r.attrs::jsonb -> '${attr}') = 'array' AND EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(r.attrs::jsonb -> '${attr}') = 'array' THEN r.attrs::jsonb -> '${attr}' ELSE '[]'::jsonb END) e WHERE (e ->> 'id') = :target))`;
}

/** the columns JobStore.update writes (all but the identity and creation columns) */
const JOB_UPDATE_SET = `name = :name, description = :description, properties = :properties, version = :version, state = :state, action = :action,
  target_type = :targetType, target_id = :targetId, affected = :affected, return_code = :returnCode, progress = :progress,
  status_message = :statusMessage, status_changed_ms = :statusChangedMs, updated_ms = :updatedMs, parent_job_id = :parentJobId,
  correlation_id = :correlationId, initiator = :initiator, payload = :payload, pending_children = :pendingChildren, attempts = :attempts,
  lease_owner = :leaseOwner, lease_expires_ms = :leaseExpiresMs, resource_id = :resourceId`;

export class TypeormJobStore implements JobStore {
  private readonly sql: Sql;
  readonly tenantId: string;

  constructor(manager: EntityManager, tenantId: string) {
    this.sql = new Sql(manager);
    this.tenantId = checkTenant(tenantId);
  }

  async get(id: string): Promise<Job | undefined> {
    const rec = await this.sql.selectOne(
      JobRecord,
      'SELECT j.* FROM job j WHERE j.tenant_id = :tenant AND j.id = :id',
      { tenant: this.tenantId, id },
    );
    return rec && fromJobRecord(rec);
  }

  async list(query: CollectionQuery): Promise<Page<Job>> {
    // every Job of the tenant is listed, finished or not: exactly what job_count counts
    const total = () => keptCount(this.sql, 'SELECT n FROM job_count WHERE tenant_id = :tenant', { tenant: this.tenantId });
    const { records, count } = await page<JobRecord>(
      this.sql,
      JobRecord,
      'job',
      jobTarget('j'),
      ['j.tenant_id = :tenant'],
      { tenant: this.tenantId },
      query,
      total,
    );
    return { items: records.map(fromJobRecord), count };
  }

  async children(parentJobId: string): Promise<Job[]> {
    const recs = await this.sql.select(
      JobRecord,
      'SELECT j.* FROM job j WHERE j.tenant_id = :tenant AND j.parent_job_id = :parent ORDER BY j.created_ms ASC, j.id ASC',
      {
        tenant: this.tenantId,
        parent: parentJobId,
      },
    );
    return recs.map(fromJobRecord);
  }

  async activeFor(resourceId: string): Promise<Job | undefined> {
    const params: Params = { tenant: this.tenantId, resource: resourceId };
    const states = inList('s', UNFINISHED_JOB_STATES, params);
    const rec = await this.sql.selectOne(
      JobRecord,
      `SELECT j.* FROM job j WHERE j.tenant_id = :tenant AND j.resource_id = :resource AND j.state IN (${states})
       ORDER BY j.created_ms DESC, j.id DESC LIMIT 1`,
      params,
    );
    return rec && fromJobRecord(rec);
  }

  async insert(job: Job): Promise<void> {
    this.own(job);
    const n = await this.sql.insert(JobRecord, toJobRecord(job));
    await noteCounts(this.sql.manager, (d) => d.job(this.tenantId, n));
  }

  async update(job: Job): Promise<void> {
    this.own(job);
    const r = toJobRecord(job);
    const changed = await this.sql.exec(
      `UPDATE job SET ${JOB_UPDATE_SET} WHERE id = :id AND tenant_id = :tenant AND version = :prev`,
      {
        name: r.name,
        description: r.description,
        properties: r.properties,
        version: r.version,
        state: r.state,
        action: r.action,
        targetType: r.targetType,
        targetId: r.targetId,
        affected: r.affected,
        returnCode: r.returnCode,
        progress: r.progress,
        statusMessage: r.statusMessage,
        statusChangedMs: r.statusChangedMs,
        updatedMs: r.updatedMs,
        parentJobId: r.parentJobId,
        correlationId: r.correlationId,
        initiator: r.initiator,
        payload: r.payload,
        pendingChildren: r.pendingChildren,
        attempts: r.attempts,
        leaseOwner: r.leaseOwner,
        leaseExpiresMs: r.leaseExpiresMs,
        resourceId: r.resourceId,
        id: r.id,
        tenant: this.tenantId,
        prev: job.version - 1,
      },
    );
    if (changed !== 1) throw new ConcurrentModificationError('Job', job.id);
  }

  async remove(id: string): Promise<void> {
    const n = await this.sql.exec('DELETE FROM job WHERE tenant_id = :tenant AND id = :id', {
      tenant: this.tenantId,
      id,
    });
    await noteCounts(this.sql.manager, (d) => d.job(this.tenantId, -n));
  }

  private own(job: Job): void {
    if (job.tenantId !== this.tenantId)
      throw new Error(`Job ${job.id} belongs to another tenant than this store`);
  }
}

export class TypeormIdempotencyStore implements IdempotencyStore {
  private readonly sql: Sql;
  readonly tenantId: string;

  constructor(manager: EntityManager, tenantId: string) {
    this.sql = new Sql(manager);
    this.tenantId = checkTenant(tenantId);
  }

  async find(principalId: string, key: string): Promise<IdempotencyRecord | undefined> {
    const row = await this.sql.selectOne(
      IdempotencyRecordRow,
      'SELECT k.* FROM idempotency_key k WHERE k.tenant_id = :tenant AND k.principal_id = :principal AND k.idem_key = :key',
      { tenant: this.tenantId, principal: principalId, key },
    );
    return row && fromIdempotencyRow(row);
  }

  /** a key taken concurrently (or earlier) is a ConcurrentModificationError; ON CONFLICT keeps a PostgreSQL transaction usable */
  async insert(record: IdempotencyRecord): Promise<void> {
    const inserted = await this.sql.insert(IdempotencyRecordRow, toIdempotencyRow(this.tenantId, record), [
      'tenant_id',
      'principal_id',
      'idem_key',
    ]);
    if (inserted !== 1) throw new ConcurrentModificationError('Idempotency', record.key);
  }

  async purgeOlderThan(cutoff: Date): Promise<number> {
    return this.sql.exec('DELETE FROM idempotency_key WHERE tenant_id = :tenant AND created_ms < :cutoff', {
      tenant: this.tenantId,
      cutoff: cutoff.getTime(),
    });
  }
}

/** The stores of one tenant on one EntityManager (a transaction's, or the DataSource's for reads). */
export function tenantTx(manager: EntityManager, tenantId: string): TenantTx {
  return {
    resources: new TypeormResourceStore(manager, tenantId),
    jobs: new TypeormJobStore(manager, tenantId),
    idempotency: new TypeormIdempotencyStore(manager, tenantId),
    audit: new TypeormTenantAuditLog(manager, tenantId),
    events: new TypeormEventStore(manager, tenantId),
    quotas: new TypeormQuotaStore(manager, tenantId),
    meters: new TypeormMeterStore(manager, tenantId),
    subscriptions: new TypeormTenantSubscriptionStore(manager, tenantId),
  };
}

export class TypeormUnitOfWork implements UnitOfWork {
  constructor(private readonly ds: DataSource) {}

  transaction<T>(tenantId: string, fn: (tx: TenantTx) => Promise<T>): Promise<T> {
    checkTenant(tenantId);
    return inTransaction(this.ds, (manager) => fn(tenantTx(manager, tenantId)));
  }

  read<T>(tenantId: string, fn: (tx: TenantTx) => Promise<T>): Promise<T> {
    checkTenant(tenantId);
    return readOutsideTransaction(this.ds, (manager) => fn(tenantTx(manager, tenantId)));
  }
}
