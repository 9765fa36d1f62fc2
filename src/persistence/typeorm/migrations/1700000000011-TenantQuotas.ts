import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Per-tenant quota limits (issue 16 §3). Keep in step with records.ts (TenantQuotaRow). The rows are also the lock
 * that serializes the quota checks of one tenant on PostgreSQL (SELECT … FOR UPDATE).
 */
export class TenantQuotas1700000000011 implements MigrationInterface {
  name = 'TenantQuotas1700000000011';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'tenant_quota',
        columns: [
          { name: 'tenant_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'metric', type: 'varchar', length: '32', isPrimary: true },
          { name: 'max_value', type: 'bigint' },
        ],
      }),
      true,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('tenant_quota', true);
  }
}
