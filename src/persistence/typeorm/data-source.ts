import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { RECORDS } from './records';
import { WalCheckpointer } from './wal-checkpointer';

export const DATA_SOURCE = Symbol('DATA_SOURCE');

export interface DatabaseOptions {
  /** postgres:// or postgresql:// selects PostgreSQL; anything else (or nothing) selects SQLite */
  databaseUrl?: string;
  /** SQLite database file (or ':memory:') */
  sqlitePath: string;
  /** never true in production: the migrations own the schema */
  synchronize?: boolean;
  logging?: boolean;
  /** SQLite file: ms between two checkpoints of the checkpointer thread (0: none, SQLite checkpoints on commit) */
  checkpointEveryMs?: number;
}

export type Dialect = 'sqlite' | 'postgres';

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//i.test(url);
}

export function dialectOf(ds: DataSource): Dialect {
  return ds.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

/** how often the checkpointer thread runs a PASSIVE checkpoint when none is given (0: SQLite's own autocheckpoint) */
export const DEFAULT_CHECKPOINT_EVERY_MS = 1000;
/** SQLite's default wal_autocheckpoint (pages): what the writer goes back to when the checkpointer thread is gone */
const SQLITE_AUTOCHECKPOINT = 1000;
/**
 * wal_autocheckpoint of the writer while the checkpointer thread runs: a backstop (about 40 MiB of 4 KiB pages) that
 * bounds the WAL should the thread fall behind, far above what it leaves between two of its checkpoints, so that a
 * commit (on the event loop) does not checkpoint in normal operation.
 */
const BACKSTOP_AUTOCHECKPOINT = 10000;
const BUSY_TIMEOUT_MS = 5000;

interface BetterSqliteHandle {
  pragma(source: string): unknown;
  open: boolean;
}

/**
 * SQLite on a file: the TypeORM DataSource of the one writer connection (serialized by SqliteWriteLock), plus
 * - `reader`, a read-only connection on the same file for reads made outside a transaction. In WAL mode "readers do
 *   not block writers and a writer does not block readers" (sqlite.org/wal.html, "Concurrency"), and each read
 *   statement outside an explicit transaction starts a read transaction that sees every commit made before it;
 * - a checkpointer thread (WalCheckpointer), so that checkpoints leave the event loop alone.
 * A `:memory:` database has neither: a second connection would open another, empty database.
 */
export class SqliteDataSource extends DataSource {
  /** the read-only connection, once initialized, on a file database */
  reader?: DataSource;
  checkpointer?: WalCheckpointer;
  private readonly dbLog = new Logger('Database');
  private fellBack = false;

  constructor(
    private readonly file: string | undefined,
    private readonly checkpointEveryMs: number,
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
      if (this.checkpointEveryMs > 0) {
        this.checkpointer = await WalCheckpointer.start(this.file, this.checkpointEveryMs, (reason) => {
          // the thread is gone (or failing): SQLite's own checkpoints on commit keep the WAL bounded again
          if (this.fellBack) return;
          this.fellBack = true;
          this.dbLog.warn(`WAL checkpointer: ${reason}; back to wal_autocheckpoint=${SQLITE_AUTOCHECKPOINT}`);
          this.setAutocheckpoint(SQLITE_AUTOCHECKPOINT);
        });
        this.setAutocheckpoint(BACKSTOP_AUTOCHECKPOINT);
      }
    } catch (e) {
      await this.destroy().catch(() => undefined);
      throw e;
    }
    return this;
  }

  override async destroy(): Promise<void> {
    const { checkpointer, reader } = this;
    this.checkpointer = undefined;
    this.reader = undefined;
    await checkpointer?.stop();
    if (reader?.isInitialized) await reader.destroy();
    // the writer closes last: as the last connection it checkpoints the whole WAL and deletes it
    if (this.isInitialized) await super.destroy();
  }

  private setAutocheckpoint(pages: number): void {
    const db = (this.driver as unknown as { databaseConnection?: BetterSqliteHandle }).databaseConnection;
    if (this.isInitialized && db?.open) db.pragma(`wal_autocheckpoint = ${pages}`);
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
  return new SqliteDataSource(file, opts.checkpointEveryMs ?? DEFAULT_CHECKPOINT_EVERY_MS, {
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
