import { Table, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Failed-login counts shared by every gateway process (LoginThrottle, docs/reliability.md rule 13). Keep in step
 * with records.ts (LoginFailureRow). The primary key makes the counting upsert atomic on both engines.
 */
export class LoginFailures1700000000009 implements MigrationInterface {
  name = 'LoginFailures1700000000009';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'login_failure',
        columns: [
          { name: 'throttle_key', type: 'varchar', length: '200', isPrimary: true },
          { name: 'failures', type: 'integer' },
          { name: 'last_failure_ms', type: 'bigint' },
          { name: 'blocked_until_ms', type: 'bigint' },
        ],
      }),
      true,
    );
    await q.createIndex('login_failure', new TableIndex({ name: 'ix_login_failure_last', columnNames: ['last_failure_ms'] }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('login_failure', true);
  }
}
