import type { DataSource, EntityManager } from 'typeorm';
import type { FilterExpr } from '../../model/shared/query';
import type { OpenResult, PendingNotification, ResumeFrom, Subscription, SubscriptionStore, TenantSubscriptionStore } from '../../model/subscription/subscription';
import { dialectOf } from './data-source';
import { compileCollectionQuery } from './filter-compiler';
import { ResourceEventRow } from './records';
import { inList, Sql, type Params } from './sql';
import { eventTarget, fromRow } from './typeorm-event-store';
import { inTransaction, outsideTransaction, readOutsideTransaction } from './typeorm-unit-of-work';

/** a filter as stored: its Date values tagged, so that they come back as Dates */
function filterToText(f: FilterExpr | undefined): string | null {
  if (!f) return null;
  return JSON.stringify(f, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    return raw instanceof Date ? { $date: raw.getTime() } : value;
  });
}
function filterFromText(t: unknown): FilterExpr | undefined {
  if (typeof t !== 'string' || !t) return undefined;
  return JSON.parse(t, (_k, v: unknown) => (v && typeof v === 'object' && '$date' in v ? new Date((v as { $date: number }).$date) : v)) as FilterExpr;
}

const fromRaw = (r: Record<string, unknown>): Subscription => ({
  id: String(r.id),
  tenantId: String(r.tenant_id),
  principal: String(r.principal),
  door: r.door as Subscription['door'],
  mode: r.mode as Subscription['mode'],
  notifyTo: String(r.notify_to),
  ...(r.end_to ? { endTo: String(r.end_to) } : {}),
  delivery: JSON.parse(String(r.delivery)) as Record<string, unknown>,
  ...(r.filter ? { filter: filterFromText(r.filter) } : {}),
  created: new Date(Number(r.created_ms)),
  expires: new Date(Number(r.expires_ms)),
  failures: Number(r.failures),
  nextAttempt: new Date(Number(r.next_attempt_ms)),
  ...(r.bookmark ? { bookmark: String(r.bookmark) } : {}),
  ...(r.heartbeat_ms != null ? { heartbeatMs: Number(r.heartbeat_ms) } : {}),
  ...(r.last_sent_ms != null ? { lastSent: new Date(Number(r.last_sent_ms)) } : {}),
});

/**
 * Inserts a subscription with its checks, on the caller's transaction (a change's, with its audit record): at most
 * `maxLive` live ones per tenant, and with `resume` the tenant's stored Events after the bookmark queued first.
 */
async function openSubscription(sql: Sql, postgres: boolean, s: Subscription, maxLive: number, resume?: ResumeFrom): Promise<OpenResult> {
  // the filter compiles now or never: one that names an Event attribute but cannot be compiled (an order operator
  // on a string, a value of the wrong type, too many terms) is refused here instead of stalling every delivery pass
  if (s.filter) compileCollectionQuery(postgres ? 'postgres' : 'sqlite', eventTarget('e'), { filter: s.filter }, {});
  // PostgreSQL: one tenant's opens take turns, so that two concurrent ones cannot both pass the count
  if (postgres) await sql.rows('SELECT pg_advisory_xact_lock(hashtext(:key))', { key: `subscription:${s.tenantId}` });
  const live = await sql.rows('SELECT COUNT(*) AS n FROM subscription WHERE tenant_id = :tenant AND expires_ms > :now', { tenant: s.tenantId, now: s.created.getTime() });
  if (Number(live[0].n) >= maxLive) return 'quota';
  let from: { ts: number; id: string } | undefined;
  if (resume && 'after' in resume) {
    const at = await sql.rows('SELECT timestamp_ms, id FROM resource_event WHERE tenant_id = :tenant AND id = :id', { tenant: s.tenantId, id: resume.after });
    if (!at.length) return 'invalid-bookmark';
    from = { ts: Number(at[0].timestamp_ms), id: String(at[0].id) };
  }
  // an id chosen from an idempotency key may be taken already: checked first, so that PostgreSQL's transaction is
  // not aborted by a failed INSERT (the advisory lock above orders two such opens of one tenant)
  if ((await sql.rows('SELECT 1 AS x FROM subscription WHERE id = :id', { id: s.id })).length) return 'exists';
  await sql.exec(
    `INSERT INTO subscription (id, tenant_id, principal, door, mode, notify_to, end_to, delivery, filter, created_ms, expires_ms, failures, next_attempt_ms, bookmark, heartbeat_ms, last_sent_ms)
     VALUES (:id, :tenant, :principal, :door, :mode, :notifyTo, :endTo, :delivery, :filter, :created, :expires, 0, :next, :bookmark, :heartbeat, NULL)`,
    {
      id: s.id,
      tenant: s.tenantId,
      principal: s.principal,
      door: s.door,
      mode: s.mode,
      notifyTo: s.notifyTo,
      endTo: s.endTo ?? null,
      delivery: JSON.stringify(s.delivery),
      filter: filterToText(s.filter),
      created: s.created.getTime(),
      expires: s.expires.getTime(),
      next: s.nextAttempt.getTime(),
      bookmark: from?.id ?? null,
      heartbeat: s.heartbeatMs ?? null,
    },
  );
  if (resume) {
    // the tenant's stored Events after the bookmark, in (time, id) order, queued before any later change (whose
    // fan-out adds its rows after these: the outbox seq keeps the order)
    const params: Params = { sub: s.id, tenant: s.tenantId, ts: from?.ts ?? 0, id: from?.id ?? '' };
    await sql.exec(
      `INSERT INTO subscription_outbox (subscription_id, event_id) SELECT :sub, e.id FROM resource_event e
       WHERE e.tenant_id = :tenant${from ? ' AND (e.timestamp_ms > :ts OR (e.timestamp_ms = :ts AND e.id > :id))' : ''} ORDER BY e.timestamp_ms ASC, e.id ASC`,
      params,
    );
  }
  return 'ok';
}

async function setSubscriptionExpires(sql: Sql, tenantId: string, id: string, expires: Date): Promise<boolean> {
  return (await sql.exec('UPDATE subscription SET expires_ms = :expires WHERE tenant_id = :tenant AND id = :id', { expires: expires.getTime(), tenant: tenantId, id })) === 1;
}

async function removeSubscription(sql: Sql, tenantId: string, id: string): Promise<boolean> {
  await sql.exec('DELETE FROM subscription_outbox WHERE subscription_id = :id AND subscription_id IN (SELECT id FROM subscription WHERE tenant_id = :tenant)', { id, tenant: tenantId });
  return (await sql.exec('DELETE FROM subscription WHERE tenant_id = :tenant AND id = :id', { tenant: tenantId, id })) === 1;
}

/** A tenant's subscriptions on a change's transaction (TenantTx.subscriptions): written with its audit record. */
export class TypeormTenantSubscriptionStore implements TenantSubscriptionStore {
  private readonly sql: Sql;
  private readonly postgres: boolean;
  constructor(
    manager: EntityManager,
    private readonly tenantId: string,
  ) {
    this.sql = new Sql(manager);
    this.postgres = dialectOf(manager.connection) === 'postgres';
  }
  open(s: Subscription, maxLive: number, resume?: ResumeFrom): Promise<OpenResult> {
    if (s.tenantId !== this.tenantId) throw new Error("a subscription is written in its own tenant's transaction");
    return openSubscription(this.sql, this.postgres, s, maxLive, resume);
  }
  setExpires(id: string, expires: Date): Promise<boolean> {
    return setSubscriptionExpires(this.sql, this.tenantId, id, expires);
  }
  remove(id: string): Promise<boolean> {
    return removeSubscription(this.sql, this.tenantId, id);
  }
}

/**
 * Subscriptions and their outbox (migration 14). Every tenant-facing query names the tenant. A claim is a lease
 * (owner, expiry) taken with a conditional UPDATE, as the job queue's; on PostgreSQL the candidates are read
 * FOR UPDATE SKIP LOCKED so that concurrent claimers pick different subscriptions.
 */
export class TypeormSubscriptionStore implements SubscriptionStore {
  private readonly postgres: boolean;

  constructor(private readonly ds: DataSource) {
    this.postgres = dialectOf(ds) === 'postgres';
  }

  private write<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return outsideTransaction(this.ds, (m) => fn(new Sql(m)));
  }

  async list(tenantId: string, now: Date): Promise<Subscription[]> {
    const rows = await readOutsideTransaction(this.ds, (m) => new Sql(m).rows('SELECT * FROM subscription WHERE tenant_id = :tenant AND expires_ms > :now ORDER BY created_ms ASC, id ASC', { tenant: tenantId, now: now.getTime() }));
    return rows.map(fromRaw);
  }

  async get(tenantId: string, id: string): Promise<Subscription | undefined> {
    const rows = await readOutsideTransaction(this.ds, (m) => new Sql(m).rows('SELECT * FROM subscription WHERE tenant_id = :tenant AND id = :id', { tenant: tenantId, id }));
    return rows[0] && fromRaw(rows[0]);
  }

  setExpires(tenantId: string, id: string, expires: Date): Promise<boolean> {
    return this.write((sql) => setSubscriptionExpires(sql, tenantId, id, expires));
  }

  remove(tenantId: string, id: string): Promise<boolean> {
    return inTransaction(this.ds, (m) => removeSubscription(new Sql(m), tenantId, id));
  }

  claimDue(owner: string, leaseMs: number, now: Date, limit: number): Promise<Subscription[]> {
    const nowMs = now.getTime();
    return inTransaction(this.ds, async (m) => {
      const sql = new Sql(m);
      const candidates = await sql.rows(
        `SELECT s.id FROM subscription s WHERE (s.next_attempt_ms <= :now OR s.expires_ms <= :now) AND (s.lease_owner IS NULL OR s.lease_expires_ms < :now)
         ORDER BY s.next_attempt_ms ASC, s.id ASC LIMIT :n${this.postgres ? ' FOR UPDATE SKIP LOCKED' : ''}`,
        { now: nowMs, n: limit },
      );
      if (!candidates.length) return [];
      const params: Params = { owner, expires: nowMs + leaseMs, now: nowMs };
      const ids = inList('i', candidates.map((c) => String(c.id)), params);
      await sql.exec(`UPDATE subscription SET lease_owner = :owner, lease_expires_ms = :expires WHERE id IN (${ids}) AND (lease_owner IS NULL OR lease_expires_ms < :now)`, params);
      const mine = await sql.rows(`SELECT * FROM subscription WHERE id IN (${ids}) AND lease_owner = :owner`, params);
      return mine.map(fromRaw);
    });
  }

  async pending(s: Subscription, limit: number): Promise<PendingNotification[]> {
    const params: Params = { sub: s.id, tenant: s.tenantId, n: limit };
    const c = s.filter ? compileCollectionQuery(dialectOf(this.ds), eventTarget('e'), { filter: s.filter }, params) : undefined;
    const passes = c?.filter ?? '1 = 1';
    if (s.filter) {
      // an Event the filter does not pass is never sent: its row goes (as does one whose Event is gone)
      await this.write((w) =>
        w.exec(`DELETE FROM subscription_outbox WHERE subscription_id = :sub AND NOT EXISTS (SELECT 1 FROM resource_event e WHERE e.id = subscription_outbox.event_id AND ${passes})`, params),
      );
    }
    // the filter again: a row committed between the DELETE and this read must not be sent unfiltered
    const rows = await readOutsideTransaction(this.ds, (m) => new Sql(m).rows(
      `SELECT o.seq AS outbox_seq, e.* FROM subscription_outbox o JOIN resource_event e ON e.id = o.event_id AND e.tenant_id = :tenant
       WHERE o.subscription_id = :sub AND ${passes} ORDER BY o.seq ASC LIMIT :n`,
      params,
    ));
    return rows.map((r) => {
      const rec = Object.assign(new ResourceEventRow(), {
        id: String(r.id),
        tenantId: String(r.tenant_id),
        resourceId: String(r.resource_id),
        resourceType: String(r.resource_type),
        timestampMs: Number(r.timestamp_ms),
        type: String(r.type),
        outcome: String(r.outcome),
        severity: String(r.severity),
        state: String(r.state),
        previous: r.previous == null ? null : String(r.previous),
        content: String(r.content),
      });
      return { seq: Number(r.outbox_seq), event: fromRow(rec) };
    });
  }

  acknowledged(s: Subscription, seqs: number[], bookmark: string | undefined, owner?: string): Promise<void> {
    return inTransaction(this.ds, async (m) => {
      const sql = new Sql(m);
      const params: Params = { sub: s.id, bookmark: bookmark ?? null, ...(owner !== undefined ? { owner } : {}) };
      const list = inList('q', seqs.map(String), params);
      seqs.forEach((q, i) => (params[`q${i}`] = q));
      await sql.exec(`DELETE FROM subscription_outbox WHERE subscription_id = :sub AND seq IN (${list})`, params);
      await sql.exec(`UPDATE subscription SET bookmark = :bookmark, failures = 0 WHERE id = :sub${owner !== undefined ? ' AND lease_owner = :owner' : ''}`, params);
    });
  }

  failed(s: Subscription, owner: string, next: Date, failures: number): Promise<void> {
    return this.write(async (sql) => {
      await sql.exec('UPDATE subscription SET failures = :failures, next_attempt_ms = :next, lease_owner = NULL, lease_expires_ms = NULL WHERE id = :id AND lease_owner = :owner', {
        failures,
        next: next.getTime(),
        id: s.id,
        owner,
      });
    });
  }

  sent(s: Subscription, at: Date): Promise<void> {
    return this.write(async (sql) => {
      await sql.exec('UPDATE subscription SET last_sent_ms = :at, failures = 0 WHERE id = :id', { at: at.getTime(), id: s.id });
    });
  }

  release(s: Subscription, owner: string, next: Date): Promise<void> {
    return this.write(async (sql) => {
      await sql.exec('UPDATE subscription SET next_attempt_ms = :next, lease_owner = NULL, lease_expires_ms = NULL WHERE id = :id AND lease_owner = :owner', { next: next.getTime(), id: s.id, owner });
    });
  }
}
