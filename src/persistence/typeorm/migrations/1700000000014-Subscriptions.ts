import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Event subscriptions and their outbox (issue 14 §2; docs/operations.md "Subscriptions"). `resource_event` ids are
 * UUIDs and its timestamps are not commit-ordered, so it cannot serve as a cursor: each state Event is fanned out,
 * in the change's own transaction, to one `subscription_outbox` row per live subscription of the tenant; delivery
 * deletes a row once the subscriber acknowledged it. `seq` orders a subscription's rows (per resource, the commit
 * order: a resource's changes take its row lock). The lease columns keep two processes from sending at once.
 */
export class Subscriptions1700000000014 implements MigrationInterface {
  name = 'Subscriptions1700000000014';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'subscription',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'tenant_id', type: 'varchar', length: '64' },
          { name: 'principal', type: 'varchar', length: '128' },
          { name: 'door', type: 'varchar', length: '16' },
          { name: 'mode', type: 'varchar', length: '16' },
          { name: 'notify_to', type: 'varchar', length: '2048' },
          { name: 'end_to', type: 'varchar', length: '2048', isNullable: true },
          { name: 'delivery', type: 'text' },
          { name: 'filter', type: 'text', isNullable: true },
          { name: 'created_ms', type: 'bigint' },
          { name: 'expires_ms', type: 'bigint' },
          { name: 'failures', type: 'integer', default: 0 },
          { name: 'next_attempt_ms', type: 'bigint' },
          { name: 'bookmark', type: 'varchar', length: '64', isNullable: true },
          { name: 'lease_owner', type: 'varchar', length: '64', isNullable: true },
          { name: 'lease_expires_ms', type: 'bigint', isNullable: true },
        ],
      }),
      true,
    );
    await q.createIndex('subscription', new TableIndex({ name: 'idx_subscription_tenant', columnNames: ['tenant_id', 'expires_ms'] }));
    await q.createIndex('subscription', new TableIndex({ name: 'idx_subscription_due', columnNames: ['next_attempt_ms'] }));
    await q.createTable(
      new Table({
        name: 'subscription_outbox',
        columns: [
          { name: 'seq', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'subscription_id', type: 'varchar', length: '36' },
          { name: 'event_id', type: 'varchar', length: '36' },
        ],
      }),
      true,
    );
    await q.createIndex('subscription_outbox', new TableIndex({ name: 'idx_subscription_outbox_sub', columnNames: ['subscription_id', 'seq'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('subscription_outbox', true);
    await q.dropTable('subscription', true);
  }
}
