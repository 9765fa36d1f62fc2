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

const BUSY_TIMEOUT_MS = 5000;

interface BetterSqliteHandle {
  pragma(source: string): unknown;
}

/**
 * SQLite on a file: the TypeORM DataSource of the one writer connection (serialized by SqliteWriteLock), plus
 * `reader`, a read-only connection on the same file for reads made outside a transaction. In WAL mode "readers do
 *   not block writers and a writer does not block readers" (sqlite.org/wal.html, "Concurrency"), and each read
 *   statement outside an explicit transaction starts a read transaction that sees every commit made before it.
 * A `:memory:` database has none: a second connection would open another, empty database.
 */
export class SqliteDataSource extends DataSource {
  /** the read-only connection, once initialized, on a file database */
  reader?: DataSource;

  constructor(
    private readonly file: string | undefined,
    options: ConstructorParameters<typeof DataSource>[0],
  ) {
    super(options);
  }

  override async initialize(): Promise<this> {
    await super.initialize();
    if (!this.file) return this;
    try {
      const reader = new DataSource({
        type: 'better-sqlite3',
        database: this.file,
        readonly: true,
        fileMustExist: true,
        timeout: BUSY_TIMEOUT_MS,
        // the writer made the file WAL (a persistent mode): a read-only connection cannot set it, and needs not
        enableWAL: false,
        prepareDatabase: (db: BetterSqliteHandle) => void db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`),
        entities: RECORDS,
        synchronize: false,
        migrationsRun: false,
        logging: this.options.logging,
      });
      await reader.initialize();
      this.reader = reader;
    } catch (e) {
      await this.destroy().catch(() => undefined);
      throw e;
    }
    return this;
  }

  override async destroy(): Promise<void> {
    const { reader } = this;
    this.reader = undefined;
    if (reader?.isInitialized) await reader.destroy();
    // the writer closes last: as the last connection it checkpoints the whole WAL and deletes it
    if (this.isInitialized) await super.destroy();
  }
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
  const file = opts.sqlitePath !== ':memory:' ? opts.sqlitePath : undefined;
  if (file) mkdirSync(dirname(file), { recursive: true });
  return new SqliteDataSource(file, {
    type: 'better-sqlite3',
    database: opts.sqlitePath,
    enableWAL: !!file,
    timeout: BUSY_TIMEOUT_MS,
    prepareDatabase: (db: BetterSqliteHandle) => {
      if (file) db.pragma('journal_mode = WAL');
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = NORMAL');
    },
    ...common,
  });
}

/** the read-only connection of a SQLite file database; undefined on PostgreSQL and `:memory:` */
export function readerOf(ds: DataSource): DataSource | undefined {
  return ds instanceof SqliteDataSource ? ds.reader : undefined;
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
