import { Table, TableIndex, TableUnique, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * WS-Security state shared by every gateway process (issue 4 §6): the client-certificate trust store and the replay
 * cache of nonces and signatures. Keep in step with records.ts (ClientCertificateRow, WssReplayRow).
 */
const tables = (): { table: Table; indices: TableIndex[] }[] => [
  {
    table: new Table({
      name: 'client_certificate',
      columns: [
        { name: 'id', type: 'varchar', length: '36', isPrimary: true },
        { name: 'user_id', type: 'varchar', length: '64' },
        { name: 'user_name', type: 'varchar', length: '255' },
        { name: 'subject', type: 'text' },
        { name: 'fingerprint', type: 'varchar', length: '64' },
        { name: 'pem', type: 'text' },
        { name: 'not_before_ms', type: 'bigint' },
        { name: 'not_after_ms', type: 'bigint' },
        { name: 'created_ms', type: 'bigint' },
      ],
      uniques: [new TableUnique({ name: 'uq_client_certificate_fingerprint', columnNames: ['fingerprint'] })],
    }),
    indices: [new TableIndex({ name: 'ix_client_certificate_user', columnNames: ['user_id'] })],
  },
  {
    // the primary key on the hash is what makes "insert or fail" atomic across processes on both engines
    table: new Table({
      name: 'wss_replay',
      columns: [
        { name: 'key_hash', type: 'varchar', length: '64', isPrimary: true },
        { name: 'expires_ms', type: 'bigint' },
      ],
    }),
    indices: [new TableIndex({ name: 'ix_wss_replay_expires', columnNames: ['expires_ms'] })],
  },
];

export class WsSecurity1700000000003 implements MigrationInterface {
  name = 'WsSecurity1700000000003';

  async up(q: QueryRunner): Promise<void> {
    for (const { table, indices } of tables()) {
      await q.createTable(table, true);
      for (const index of indices) await q.createIndex(table.name, index);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const { table } of tables().reverse()) await q.dropTable(table.name, true);
  }
}
