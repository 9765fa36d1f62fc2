import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { RECORDS } from './records';

export const DATA_SOURCE = Symbol('DATA_SOURCE');

export interface DatabaseOptions {
  /** postgres:// or postgresql:// selects PostgreSQL; anything else (or nothing) selects SQLite */
  databaseUrl?: string;
  /** SQLite database file (or ':memory:') */
  sqlitePath: string;
  /** never true in production: the migrations own the schema */
  synchronize?: boolean;
  logging?: boolean;
}

export type Dialect = 'sqlite' | 'postgres';

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}

export function dialectOf(ds: DataSource): Dialect {
  return ds.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

/** Builds (does not open) the DataSource: PostgreSQL for a postgres URL, else better-sqlite3 on `sqlitePath`. */
export function createDataSource(opts: DatabaseOptions): DataSource {
  const common = {
    entities: RECORDS,
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: opts.synchronize ?? false,
    logging: opts.logging ?? false,
  };
  if (isPostgresUrl(opts.databaseUrl)) {
    return new DataSource({ type: 'postgres', url: opts.databaseUrl, ...common });
  }
  if (opts.sqlitePath !== ':memory:') mkdirSync(dirname(opts.sqlitePath), { recursive: true });
  return new DataSource({
    type: 'better-sqlite3',
    database: opts.sqlitePath,
    enableWAL: opts.sqlitePath !== ':memory:',
    timeout: 5000,
    prepareDatabase: (db: { pragma(source: string): unknown }) => {
      if (opts.sqlitePath !== ':memory:') db.pragma('journal_mode = WAL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
    },
    ...common,
  });
}

/** Opens the database and applies pending migrations (each in its own transaction). */
export async function openDatabase(opts: DatabaseOptions): Promise<DataSource> {
  const ds = createDataSource(opts);
  await ds.initialize();
  try {
    await ds.runMigrations({ transaction: 'each' });
  } catch (e) {
    await ds.destroy().catch(() => undefined);
    throw e;
  }
  return ds;
}
