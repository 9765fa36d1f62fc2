import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** A tenant's Events in id order (WS-Man enumerates CIM_LogEntry over every EventLog of the tenant, keyset by id). */
export class TenantEventIndex1700000000007 implements MigrationInterface {
  name = 'TenantEventIndex1700000000007';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('resource_event', new TableIndex({ name: 'ix_resource_event_tenant', columnNames: ['tenant_id', 'id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('resource_event', 'ix_resource_event_tenant');
  }
}
