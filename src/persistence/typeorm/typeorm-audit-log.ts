import type { DataSource, EntityManager } from 'typeorm';
import { AUDIT_FILTER_ATTRS, type AuditEvent } from '../../model/audit/cadf';
import type { AuditLog, TenantAuditLog } from '../../model/shared/ports';
import type { CollectionQuery, Page } from '../../model/shared/query';
import { AuditEventRow } from './records';
import { columnTarget, modelColumns, type QueryTarget } from './filter-compiler';
import { inList, Sql, type Params } from './sql';
import { inTransaction, outsideTransaction, page, readOutsideTransaction } from './typeorm-unit-of-work';

function toRow(e: AuditEvent): AuditEventRow {
  const r = new AuditEventRow();
  r.id = e.id;
  r.tenantId = e.tenantId ?? null;
  r.eventTimeMs = Date.parse(e.eventTime);
  r.eventType = e.eventType;
  r.action = e.action;
  r.outcome = e.outcome;
  r.initiatorId = e.initiator.id;
  r.initiatorName = e.initiator.name ?? null;
  r.protocol = e.initiator.host.agent;
  r.targetId = e.target.id;
  r.targetType = e.target.typeURI;
  r.reasonCode = e.reason.reasonCode;
  r.correlationId = e.correlationId;
  r.jobId = e.jobId ?? null;
  r.record = JSON.stringify(e);
  return r;
}

const fromRow = (r: AuditEventRow): AuditEvent => JSON.parse(r.record) as AuditEvent;

const COLUMNS = modelColumns(AUDIT_FILTER_ATTRS, {
  id: 'id',
  eventTime: 'event_time_ms',
  eventType: 'event_type',
  action: 'action',
  outcome: 'outcome',
  initiator: 'initiator_name',
  initiatorId: 'initiator_id',
  protocol: 'protocol',
  target: 'target_id',
  targetType: 'target_type',
  reason: 'reason_code',
  tenant: 'tenant_id',
  correlationId: 'correlation_id',
  jobId: 'job_id',
});

const auditTarget = (alias = 'a'): QueryTarget => columnTarget(alias, COLUMNS, { orderBy: ['event_time_ms ASC', 'id ASC'], propertiesColumn: 'record' });

/** Appends inside a tenant's transaction, so a record commits or rolls back with the change it describes. */
export class TypeormTenantAuditLog implements TenantAuditLog {
  private readonly sql: Sql;

  constructor(manager: EntityManager, private readonly tenantId: string) {
    this.sql = new Sql(manager);
  }

  async append(e: AuditEvent): Promise<void> {
    await this.sql.insert(AuditEventRow, toRow({ ...e, tenantId: e.tenantId ?? this.tenantId }));
  }

  async findByJob(jobId: string): Promise<AuditEvent | undefined> {
    const row = await this.sql.selectOne(
      AuditEventRow,
      'SELECT a.* FROM audit_event a WHERE a.tenant_id = :tenant AND a.job_id = :job ORDER BY a.event_time_ms ASC, a.id ASC LIMIT 1',
      { tenant: this.tenantId, job: jobId },
    );
    return row && fromRow(row);
  }
}

/** The cross-tenant trail: records of requests that changed nothing, and the admin's reads. */
export class TypeormAuditLog implements AuditLog {
  constructor(private readonly ds: DataSource) {}

  append(e: AuditEvent): Promise<void> {
    return outsideTransaction(this.ds, async (m) => void (await new Sql(m).insert(AuditEventRow, toRow(e))));
  }

  appendMany(es: AuditEvent[]): Promise<void> {
    return inTransaction(this.ds, async (m) => {
      const sql = new Sql(m);
      for (const e of es) await sql.insert(AuditEventRow, toRow(e));
    });
  }

  purgeBefore(cutoff: Date, max: number): Promise<number> {
    return inTransaction(this.ds, (m) =>
      new Sql(m).exec(
        'DELETE FROM audit_event WHERE id IN (SELECT id FROM audit_event WHERE event_time_ms < :cutoff ORDER BY event_time_ms ASC, id ASC LIMIT :max)',
        { cutoff: cutoff.getTime(), max },
      ),
    );
  }

  remove(ids: string[]): Promise<number> {
    if (!ids.length) return Promise.resolve(0);
    return inTransaction(this.ds, (m) => {
      const params: Params = {};
      return new Sql(m).exec(`DELETE FROM audit_event WHERE id IN (${inList('id', ids, params)})`, params);
    });
  }

  async get(id: string): Promise<AuditEvent | undefined> {
    const row = await readOutsideTransaction(this.ds, (m) => new Sql(m).selectOne(AuditEventRow, 'SELECT a.* FROM audit_event a WHERE a.id = :id', { id }));
    return row && fromRow(row);
  }

  async list(query: CollectionQuery): Promise<Page<AuditEvent>> {
    const { records, count } = await readOutsideTransaction(this.ds, (m) =>
      page<AuditEventRow>(new Sql(m), AuditEventRow, 'audit_event', auditTarget('a'), ['1 = 1'], {}, query),
    );
    return { items: records.map(fromRow), count };
  }
}
