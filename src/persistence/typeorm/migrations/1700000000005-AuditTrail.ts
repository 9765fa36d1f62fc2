import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The CADF audit trail (issue 6): one row per request through any door and per finished asynchronous Job. */
export class AuditTrail1700000000005 implements MigrationInterface {
  name = 'AuditTrail1700000000005';

  async up(q: QueryRunner): Promise<void> {
    const v = (name: string, length: number, nullable = false) => ({ name, type: 'varchar', length: String(length), isNullable: nullable });
    await q.createTable(
      new Table({
        name: 'audit_event',
        columns: [
          { ...v('id', 36), isPrimary: true },
          v('tenant_id', 64, true),
          { name: 'event_time_ms', type: 'bigint' },
          v('event_type', 16),
          v('action', 64),
          v('outcome', 16),
          v('initiator_id', 128),
          v('initiator_name', 255, true),
          v('protocol', 16),
          v('target_id', 255),
          v('target_type', 255),
          v('reason_code', 128),
          v('correlation_id', 128),
          v('job_id', 36, true),
          { name: 'record', type: 'text' },
        ],
      }),
    );
    await q.createIndex('audit_event', new TableIndex({ name: 'ix_audit_time', columnNames: ['event_time_ms', 'id'] }));
    await q.createIndex('audit_event', new TableIndex({ name: 'ix_audit_tenant_time', columnNames: ['tenant_id', 'event_time_ms'] }));
    await q.createIndex('audit_event', new TableIndex({ name: 'ix_audit_job', columnNames: ['job_id'] }));
    await q.createIndex('audit_event', new TableIndex({ name: 'ix_audit_correlation', columnNames: ['correlation_id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('audit_event');
  }
}
