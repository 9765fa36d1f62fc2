import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Enumeration contexts (WS-Man Enumerate/Pull/Release, DSP0226 §8): held in the database so that any gateway
 * process on it can serve the next Pull. Keep in step with EnumerationContextRow in records.ts.
 */
export class WsmanEnumeration1700000000004 implements MigrationInterface {
  name = 'WsmanEnumeration1700000000004';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'enumeration_context',
        columns: [
          { name: 'id', type: 'varchar', length: '64', isPrimary: true, isNullable: false },
          { name: 'tenant_id', type: 'varchar', length: '64', isNullable: false },
          { name: 'principal_id', type: 'varchar', length: '128', isNullable: false },
          { name: 'resource_uri', type: 'text', isNullable: false },
          { name: 'query', type: 'text', isNullable: false },
          { name: 'cursor', type: 'text', isNullable: true },
          { name: 'idle_ms', type: 'bigint', isNullable: true },
          { name: 'expires_ms', type: 'bigint', isNullable: false },
          { name: 'created_ms', type: 'bigint', isNullable: false },
          { name: 'version', type: 'int', isNullable: false },
        ],
      }),
      true,
    );
    // purge scans by expiry; the quota counts one principal's live contexts
    await q.createIndex('enumeration_context', new TableIndex({ name: 'ix_enumeration_context_expires', columnNames: ['expires_ms'] }));
    await q.createIndex(
      'enumeration_context',
      new TableIndex({ name: 'ix_enumeration_context_principal', columnNames: ['tenant_id', 'principal_id', 'expires_ms'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('enumeration_context', true);
  }
}
