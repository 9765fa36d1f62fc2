import { TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/** The sealed copy of each password that HTTP Digest and WSS PasswordDigest verify against (model Keyring). */
export class SealedPasswords1700000000002 implements MigrationInterface {
  name = 'SealedPasswords1700000000002';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('app_user', new TableColumn({ name: 'sealed_password', type: 'text', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('app_user', 'sealed_password');
  }
}
