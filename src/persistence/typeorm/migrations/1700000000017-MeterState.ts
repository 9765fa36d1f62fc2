import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A Meter's state and stop time (DSP0263 2.0.0 §5.17.3.2 start/stop, Table 47 stopTime; meter-state.ts). Every
 * Meter written before this column was recording: STARTED. Keep in step with records.ts (MeterRow).
 */
export class MeterState1700000000017 implements MigrationInterface {
  name = 'MeterState1700000000017';

  async up(q: QueryRunner): Promise<void> {
    await q.query("ALTER TABLE meter ADD COLUMN state varchar(16) NOT NULL DEFAULT 'STARTED'");
    await q.query('ALTER TABLE meter ADD COLUMN stop_ms bigint');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE meter DROP COLUMN stop_ms');
    await q.query('ALTER TABLE meter DROP COLUMN state');
  }
}
