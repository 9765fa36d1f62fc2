import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Heartbeats (DSP0226 10.2.5; docs/operations.md "Subscriptions"): a subscription's interval and when a message to
 * its subscriber was last acknowledged, in the database so that whichever process holds the lease sends the
 * heartbeat. The resource_event index serves resuming from a bookmark (DSP0226 10.2.6): a tenant's Events after
 * one, in time order.
 */
export class SubscriptionHeartbeats1700000000016 implements MigrationInterface {
  name = 'SubscriptionHeartbeats1700000000016';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('subscription', [
      new TableColumn({ name: 'heartbeat_ms', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'last_sent_ms', type: 'bigint', isNullable: true }),
    ]);
    await q.createIndex('resource_event', new TableIndex({ name: 'idx_resource_event_tenant_time', columnNames: ['tenant_id', 'timestamp_ms', 'id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('resource_event', 'idx_resource_event_tenant_time');
    await q.dropColumn('subscription', 'last_sent_ms');
    await q.dropColumn('subscription', 'heartbeat_ms');
  }
}
