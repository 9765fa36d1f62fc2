import type { EntityManager } from 'typeorm';
import { EVENT_FILTER_ATTRS, type ResourceEvent } from '../../model/event/resource-event';
import type { EventStore } from '../../model/shared/ports';
import type { CollectionQuery, Page } from '../../model/shared/query';
import type { ResourceType } from '../../model/shared/resource';
import { columnTarget, modelColumns, type QueryTarget } from './filter-compiler';
import { ResourceEventRow } from './records';
import { Sql } from './sql';
import { page } from './typeorm-unit-of-work';

const COLUMNS = modelColumns(EVENT_FILTER_ATTRS, {
  id: 'id',
  timestamp: 'timestamp_ms',
  type: 'type',
  outcome: 'outcome',
  severity: 'severity',
  state: 'state',
  previous: 'previous',
  resourceId: 'resource_id',
  resourceType: 'resource_type',
});

/** the Event's log still exists: its resource does (EventService.logOf reads the same) */
const LOG_EXISTS = 'EXISTS (SELECT 1 FROM resource r WHERE r.tenant_id = e.tenant_id AND r.id = e.resource_id)';

export const eventTarget = (alias = 'e'): QueryTarget => columnTarget(alias, COLUMNS, { orderBy: ['timestamp_ms ASC', 'id ASC'], propertiesColumn: 'content' });

export const fromRow = (r: ResourceEventRow): ResourceEvent => ({
  id: r.id,
  tenantId: r.tenantId,
  resourceId: r.resourceId,
  resourceType: r.resourceType as ResourceType,
  timestamp: new Date(r.timestampMs),
  type: r.type,
  outcome: r.outcome as ResourceEvent['outcome'],
  severity: r.severity as ResourceEvent['severity'],
  content: JSON.parse(r.content) as ResourceEvent['content'],
});

/** A tenant's resource Events; every query names the tenant, like every other tenant store. */
export class TypeormEventStore implements EventStore {
  private readonly sql: Sql;

  private readonly postgres: boolean;

  constructor(manager: EntityManager, private readonly tenantId: string) {
    this.sql = new Sql(manager);
    this.postgres = manager.connection.options.type === 'postgres';
  }

  async append(e: ResourceEvent): Promise<void> {
    const r = new ResourceEventRow();
    r.id = e.id;
    r.tenantId = this.tenantId;
    r.resourceId = e.resourceId;
    r.resourceType = e.resourceType;
    r.timestampMs = e.timestamp.getTime();
    r.type = e.type;
    r.outcome = e.outcome;
    r.severity = e.severity;
    r.state = e.content.state;
    r.previous = e.content.previous ?? null;
    r.content = JSON.stringify(e.content);
    await this.sql.insert(ResourceEventRow, r);
    // PostgreSQL (READ COMMITTED): a subscription opening with a bookmark holds this tenant's lock exclusively
    // (typeorm-subscription-store.ts openSubscription) while it queues the stored Events. Waiting for it here means
    // this Event is either seen by its resume select or fans out to its committed row below, never missed by both.
    if (this.postgres) await this.sql.rows('SELECT pg_advisory_xact_lock_shared(hashtext(:key))', { key: `subscription:${this.tenantId}` });
    // the subscriptions' outbox (migration 14): one row per live subscription of the tenant, in this transaction
    await this.sql.exec(
      'INSERT INTO subscription_outbox (subscription_id, event_id) SELECT s.id, :event FROM subscription s WHERE s.tenant_id = :tenant AND s.expires_ms > :now',
      { event: e.id, tenant: this.tenantId, now: e.timestamp.getTime() },
    );
  }

  async list(resourceId: string | null, query: CollectionQuery): Promise<Page<ResourceEvent>> {
    // every log of the tenant: the Events of resources that still exist (a deleted resource's log went with it, as
    // reading it by id says)
    const where = resourceId === null ? ['e.tenant_id = :tenant', LOG_EXISTS] : ['e.tenant_id = :tenant', 'e.resource_id = :resource'];
    const { records, count } = await page<ResourceEventRow>(
      this.sql,
      ResourceEventRow,
      'resource_event',
      eventTarget('e'),
      where,
      resourceId === null ? { tenant: this.tenantId } : { tenant: this.tenantId, resource: resourceId },
      query,
    );
    return { items: records.map(fromRow), count };
  }

  async get(resourceId: string | null, id: string): Promise<ResourceEvent | undefined> {
    const row = await this.sql.selectOne(
      ResourceEventRow,
      `SELECT e.* FROM resource_event e WHERE e.tenant_id = :tenant AND e.id = :id AND ${resourceId === null ? LOG_EXISTS : 'e.resource_id = :resource'}`,
      resourceId === null ? { tenant: this.tenantId, id } : { tenant: this.tenantId, resource: resourceId, id },
    );
    return row && fromRow(row);
  }
}
