import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The EventLogs of Machines, Volumes, Networks and Systems: their `state` Events (issue 6 §4). */
export class ResourceEvents1700000000006 implements MigrationInterface {
  name = 'ResourceEvents1700000000006';

  async up(q: QueryRunner): Promise<void> {
    const v = (name: string, length: number, nullable = false) => ({ name, type: 'varchar', length: String(length), isNullable: nullable });
    await q.createTable(
      new Table({
        name: 'resource_event',
        columns: [
          { ...v('id', 36), isPrimary: true },
          v('tenant_id', 64),
          v('resource_id', 36),
          v('resource_type', 48),
          { name: 'timestamp_ms', type: 'bigint' },
          v('type', 255),
          v('outcome', 16),
          v('severity', 16),
          v('state', 32),
          v('previous', 32, true),
          { name: 'content', type: 'text' },
        ],
      }),
    );
    await q.createIndex('resource_event', new TableIndex({ name: 'ix_resource_event_log', columnNames: ['tenant_id', 'resource_id', 'timestamp_ms', 'id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('resource_event');
  }
}
