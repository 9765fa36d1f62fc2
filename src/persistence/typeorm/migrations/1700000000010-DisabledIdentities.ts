import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Disabled tenants and users (issue 16 §2): a disabled user, or any user of a disabled tenant, cannot authenticate
 * in any door. Keep in step with records.ts (TenantRow, UserRow).
 */
export class DisabledIdentities1700000000010 implements MigrationInterface {
  name = 'DisabledIdentities1700000000010';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('tenant', new TableColumn({ name: 'disabled', type: 'boolean', default: false }));
    await q.addColumn('app_user', new TableColumn({ name: 'disabled', type: 'boolean', default: false }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('app_user', 'disabled');
    await q.dropColumn('tenant', 'disabled');
  }
}
