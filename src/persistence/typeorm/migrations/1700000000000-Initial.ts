import {
  Table,
  TableIndex,
  TableUnique,
  type MigrationInterface,
  type QueryRunner,
  type TableColumnOptions,
} from 'typeorm';

/**
 * The initial schema, written with the portable QueryRunner API so that one migration set serves SQLite and
 * PostgreSQL. Keep in step with records.ts (same tables, columns, index names).
 */
const varchar = (
  name: string,
  length: number,
  extra: Partial<TableColumnOptions> = {},
): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: false,
  ...extra,
});
const text = (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
  name,
  type: 'text',
  isNullable: false,
  ...extra,
});
const int = (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
  name,
  type: 'int',
  isNullable: false,
  ...extra,
});
const bigint = (name: string, extra: Partial<TableColumnOptions> = {}): TableColumnOptions => ({
  name,
  type: 'bigint',
  isNullable: false,
  ...extra,
});
const nullable = { isNullable: true };
const primary = { isPrimary: true };

/** built afresh for each run: the query runner may keep and change the Table objects it is given */
const tables = (): { table: Table; indices: TableIndex[] }[] => [
  {
    table: new Table({
      name: 'resource',
      columns: [
        varchar('id', 36, primary),
        varchar('tenant_id', 64),
        varchar('type', 48),
        varchar('parent_id', 36, nullable),
        varchar('name', 255, nullable),
        text('description', nullable),
        varchar('state', 24, nullable),
        bigint('created_ms'),
        bigint('updated_ms'),
        int('version'),
        text('properties'),
        text('attrs'),
      ],
    }),
    indices: [
      new TableIndex({
        name: 'ix_resource_tenant_type_created',
        columnNames: ['tenant_id', 'type', 'created_ms', 'id'],
      }),
      new TableIndex({ name: 'ix_resource_tenant_type_name', columnNames: ['tenant_id', 'type', 'name'] }),
      new TableIndex({ name: 'ix_resource_tenant_type_state', columnNames: ['tenant_id', 'type', 'state'] }),
      new TableIndex({
        name: 'ix_resource_tenant_type_updated',
        columnNames: ['tenant_id', 'type', 'updated_ms'],
      }),
      new TableIndex({ name: 'ix_resource_parent_type', columnNames: ['parent_id', 'type'] }),
    ],
  },
  {
    table: new Table({
      name: 'job',
      columns: [
        varchar('id', 36, primary),
        varchar('tenant_id', 64),
        varchar('name', 255, nullable),
        text('description', nullable),
        text('properties'),
        int('version'),
        varchar('state', 16),
        varchar('action', 64),
        varchar('target_type', 64),
        varchar('target_id', 36),
        text('affected'),
        int('return_code', nullable),
        int('progress'),
        text('status_message', nullable),
        bigint('status_changed_ms'),
        bigint('created_ms'),
        bigint('updated_ms'),
        varchar('parent_job_id', 36, nullable),
        varchar('correlation_id', 128),
        text('initiator'),
        text('payload'),
        int('pending_children'),
        int('attempts'),
        varchar('lease_owner', 128, nullable),
        bigint('lease_expires_ms', nullable),
        varchar('resource_id', 36, nullable),
      ],
    }),
    indices: [
      new TableIndex({ name: 'ix_job_tenant_created', columnNames: ['tenant_id', 'created_ms', 'id'] }),
      new TableIndex({
        name: 'ix_job_runnable',
        columnNames: ['state', 'pending_children', 'lease_expires_ms'],
      }),
      new TableIndex({ name: 'ix_job_resource_state', columnNames: ['resource_id', 'state'] }),
      new TableIndex({ name: 'ix_job_parent', columnNames: ['parent_job_id'] }),
    ],
  },
  {
    table: new Table({
      name: 'idempotency_key',
      columns: [
        varchar('tenant_id', 64, primary),
        varchar('principal_id', 128, primary),
        varchar('idem_key', 64, primary),
        varchar('operation', 128),
        varchar('request_hash', 64),
        varchar('resource_type', 48, nullable),
        varchar('resource_id', 36, nullable),
        varchar('job_id', 36),
        bigint('created_ms'),
      ],
    }),
    indices: [new TableIndex({ name: 'ix_idempotency_created', columnNames: ['created_ms'] })],
  },
  {
    table: new Table({
      name: 'tenant',
      columns: [varchar('id', 64, primary), varchar('name', 255), bigint('created_ms')],
      uniques: [new TableUnique({ name: 'uq_tenant_name', columnNames: ['name'] })],
    }),
    indices: [],
  },
  {
    table: new Table({
      name: 'app_user',
      columns: [
        varchar('id', 64, primary),
        varchar('tenant_id', 64),
        varchar('user_name', 255),
        text('password_hash'),
        text('roles'),
        bigint('created_ms'),
      ],
      uniques: [new TableUnique({ name: 'uq_app_user_user_name', columnNames: ['user_name'] })],
    }),
    indices: [],
  },
];

export class Initial1700000000000 implements MigrationInterface {
  name = 'Initial1700000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const { table, indices } of tables()) {
      await queryRunner.createTable(table, true);
      for (const index of indices) await queryRunner.createIndex(table.name, index);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // dropping a table drops its indexes on both engines
    for (const { table } of tables().reverse()) await queryRunner.dropTable(table.name, true);
  }
}
