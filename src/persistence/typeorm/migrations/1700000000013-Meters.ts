import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Meters and their samples (issue 14 §1; DSP0263 2.0.0 §5.17.3). One sample per (meter, instant): the key is also
 * the rate bound a second reading of the same instant cannot pass. `at_ms` is indexed for the retention purge.
 * Keep in step with records.ts (MeterRow, MeterSampleRow).
 */
export class Meters1700000000013 implements MigrationInterface {
  name = 'Meters1700000000013';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'meter',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'tenant_id', type: 'varchar', length: '64' },
          { name: 'resource_type', type: 'varchar', length: '48' },
          { name: 'resource_id', type: 'varchar', length: '36' },
          { name: 'metric', type: 'varchar', length: '32' },
          { name: 'units', type: 'varchar', length: '32' },
          { name: 'created_ms', type: 'bigint' },
        ],
      }),
      true,
    );
    await q.createIndex('meter', new TableIndex({ name: 'idx_meter_tenant', columnNames: ['tenant_id', 'id'] }));
    await q.createTable(
      new Table({
        name: 'meter_sample',
        columns: [
          { name: 'meter_id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'at_ms', type: 'bigint', isPrimary: true },
          { name: 'tenant_id', type: 'varchar', length: '64' },
          { name: 'value', type: 'double precision' },
        ],
      }),
      true,
    );
    await q.createIndex('meter_sample', new TableIndex({ name: 'idx_meter_sample_at', columnNames: ['at_ms'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('meter_sample', true);
    await q.dropTable('meter', true);
  }
}
