import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { recountCollections } from '../collection-counts';

/**
 * Row counts of the collections, kept by the stores in the writing transaction (collection-counts.ts): the `count`
 * of an unfiltered page is a key lookup, not a COUNT(*) over the whole collection (issue 13: 48x from 10^4 to 10^6
 * Machines). Backfilled from the rows already there. Keep in step with records.ts (ResourceCountRow, JobCountRow).
 */
export class CollectionCounts1700000000012 implements MigrationInterface {
  name = 'CollectionCounts1700000000012';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'resource_count',
        columns: [
          { name: 'tenant_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'type', type: 'varchar', length: '48', isPrimary: true },
          { name: 'n', type: 'bigint' },
        ],
      }),
      true,
    );
    await q.createTable(
      new Table({
        name: 'job_count',
        columns: [
          { name: 'tenant_id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'n', type: 'bigint' },
        ],
      }),
      true,
    );
    await recountCollections((sql) => q.query(sql));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('job_count', true);
    await q.dropTable('resource_count', true);
  }
}
