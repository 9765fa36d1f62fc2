import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';
import { jsonAttr } from '../filter-compiler';

/**
 * Indexes from the 10^6-row benchmark (bench/README.md): a filtered, ordered page by state and time is answered
 * from one index (count 213 -> 24 ms on SQLite), and the most common type-attribute filter (Machine cpu) has an
 * expression index on SQLite (581 -> 20 ms). The PostgreSQL form of a JSON-attribute index is not chosen by its
 * planner at ordinary selectivities; jsonb or generated columns are the way there (bench notes).
 */
export class ResourceListIndexes1700000000001 implements MigrationInterface {
  name = 'ResourceListIndexes1700000000001';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('resource', new TableIndex({ name: 'ix_resource_tenant_type_state_created', columnNames: ['tenant_id', 'type', 'state', 'created_ms', 'id'] }));
    if (q.connection.options.type !== 'postgres') {
      // the expression must stay textually the filter compiler's, or SQLite will not use the index
      await q.query(`CREATE INDEX ix_resource_attr_cpu ON resource (tenant_id, type, ${jsonAttr('sqlite', 'attrs', 'cpu', 'integer')})`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX IF EXISTS ix_resource_attr_cpu');
    await q.dropIndex('resource', 'ix_resource_tenant_type_state_created');
  }
}
