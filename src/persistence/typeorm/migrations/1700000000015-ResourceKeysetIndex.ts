import { TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Keyset pages (`after`: WS-Man Pull, SOAP lists, REST `after`) are `tenant_id = ? AND type = ? AND id > ? ORDER BY
 * id` (filter-compiler.ts). Without this index both engines walk the primary key on `id` and discard every other
 * tenant's and type's rows on the way, so a page costs in proportion to the whole table, not to the page (issue 13).
 */
export class ResourceKeysetIndex1700000000015 implements MigrationInterface {
  name = 'ResourceKeysetIndex1700000000015';

  async up(q: QueryRunner): Promise<void> {
    await q.createIndex('resource', new TableIndex({ name: 'ix_resource_tenant_type_id', columnNames: ['tenant_id', 'type', 'id'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('resource', 'ix_resource_tenant_type_id');
  }
}
