import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Meters made by clients from a MeterTemplate (DSP0263 2.0.0 §5.17.4.1; meter-definition.ts): who made the Meter
 * (every Meter before this column was the sampler's: provider), its name, description and properties (DSP0263
 * 2.0.0 Table 5, from the MeterCreate or the template), and its configuration's sampleInterval. The index serves the sampler's one insert per reading for every client Meter of
 * that resource and metric. MeterTemplates and MeterConfigurations are resources (the resource table). Keep in
 * step with records.ts (MeterRow).
 */
export class ClientMeters1700000000018 implements MigrationInterface {
  name = 'ClientMeters1700000000018';

  async up(q: QueryRunner): Promise<void> {
    await q.query("ALTER TABLE meter ADD COLUMN origin varchar(16) NOT NULL DEFAULT 'provider'");
    await q.query('ALTER TABLE meter ADD COLUMN name varchar(255)');
    await q.query('ALTER TABLE meter ADD COLUMN description text');
    await q.query('ALTER TABLE meter ADD COLUMN sample_interval integer');
    await q.query('ALTER TABLE meter ADD COLUMN properties text');
    await q.createIndex('meter', new TableIndex({ name: 'idx_meter_target', columnNames: ['tenant_id', 'resource_id', 'metric'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('meter', 'idx_meter_target');
    // DSP0263 2.0.0 §5.17.3: without the columns a client Meter cannot be told from the sampler's; drop them first
    await q.query("DELETE FROM meter_sample WHERE meter_id IN (SELECT id FROM meter WHERE origin = 'client')");
    await q.query("DELETE FROM meter WHERE origin = 'client'");
    await q.query('ALTER TABLE meter DROP COLUMN properties');
    await q.query('ALTER TABLE meter DROP COLUMN sample_interval');
    await q.query('ALTER TABLE meter DROP COLUMN description');
    await q.query('ALTER TABLE meter DROP COLUMN name');
    await q.query('ALTER TABLE meter DROP COLUMN origin');
    // MeterTemplates and MeterConfigurations are types this schema version does not know
    await q.query("DELETE FROM resource WHERE type IN ('MeterTemplate', 'MeterConfiguration')");
    await q.query("DELETE FROM resource_count WHERE type IN ('MeterTemplate', 'MeterConfiguration')");
  }
}
