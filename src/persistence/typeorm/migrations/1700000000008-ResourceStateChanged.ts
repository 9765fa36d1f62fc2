import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * When each resource's state last changed (CIM TimeOfLastStateChange, DSP1052), which `updated` is not: a Job
 * moves the state without touching `updated`, an edit moves `updated` without a state change. Rows written
 * before this column take their latest state Event's time, else `updated` (the best bound known then).
 */
export class ResourceStateChanged1700000000008 implements MigrationInterface {
  name = 'ResourceStateChanged1700000000008';

  async up(q: QueryRunner): Promise<void> {
    // plain ALTER TABLE on both engines: TypeORM's addColumn rebuilds a SQLite table and would drop the raw
    // expression index of migration 1700000000001
    await q.query('ALTER TABLE resource ADD COLUMN state_changed_ms bigint');
    await q.query(
      `UPDATE resource SET state_changed_ms = COALESCE(
         (SELECT MAX(e.timestamp_ms) FROM resource_event e WHERE e.tenant_id = resource.tenant_id AND e.resource_id = resource.id),
         updated_ms)
       WHERE state IS NOT NULL`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE resource DROP COLUMN state_changed_ms');
  }
}
