import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource, EntityManager } from 'typeorm';
import { openDatabase, SqliteDataSource } from '../../src/persistence/typeorm/data-source';
import { Sql } from '../../src/persistence/typeorm/sql';
import { TypeormIdentityStore } from '../../src/persistence/typeorm/typeorm-identity-store';
import { TypeormJobQueue } from '../../src/persistence/typeorm/typeorm-job-queue';
import {
  inTransaction,
  outsideTransaction,
  readOutsideTransaction,
  tenantTx,
  TypeormUnitOfWork,
} from '../../src/persistence/typeorm/typeorm-unit-of-work';
import { newId } from '../../src/model/shared/ids';
import type { Resource } from '../../src/model/shared/resource';
import { eventually } from '../support/app-harness';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases';

jest.setTimeout(30000);

function machine(tenantId: string, name: string): Resource {
  const now = new Date();
  return { id: newId(), tenantId, type: 'Machine', name, created: now, updated: now, version: 1, properties: {}, state: 'STOPPED', attrs: { cpu: 1, memory: 1024 } } as Resource;
}

/** a transaction that runs `body`, then stays open until released */
function hold(ds: DataSource, body: (sql: Sql, manager: EntityManager) => Promise<unknown>) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let ready!: () => void;
  const started = new Promise<void>((r) => (ready = r));
  const events: string[] = [];
  const done = inTransaction(ds, async (m) => {
    await body(new Sql(m), m);
    ready();
    await gate;
  }).finally(() => events.push('commit'));
  return { started, release, done, events };
}

const pragma = (ds: DataSource, p: string): unknown =>
  (ds.driver as unknown as { databaseConnection: { pragma(s: string, o: { simple: true }): unknown } }).databaseConnection.pragma(p, { simple: true });

/** Issue 13 §4: reads outside a transaction do not queue behind the writer; writers stay exclusive. */
describe.each(ENGINES)('reads beside an open write transaction on %s', (engine) => {
  let db: TestDatabase;
  let ds: DataSource;
  const tenant = `t-hol-${engine}`;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    ds = await openDatabase({ databaseUrl: db.databaseUrl, sqlitePath: db.sqlitePath });
  });
  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  it('answers the committed state while the transaction is open, and its commit right after', async () => {
    const uow = new TypeormUnitOfWork(ds);
    const identity = new TypeormIdentityStore(ds);
    const queue = new TypeormJobQueue(ds);
    const kept = machine(tenant, 'kept');
    await uow.transaction(tenant, (tx) => tx.resources.insert(kept));
    const added = machine(tenant, 'added');
    const w = hold(ds, async (_sql, m) => {
      const tx = tenantTx(m, tenant);
      await tx.resources.insert(added);
      await tx.resources.update({ ...kept, name: 'renamed', version: kept.version + 1 });
    });
    await w.started;
    try {
      const [got, list, users, jobs] = await Promise.all([
        uow.read(tenant, (tx) => tx.resources.get('Machine', kept.id)),
        uow.read(tenant, (tx) => tx.resources.list('Machine', {})),
        identity.countUsers(),
        queue.countByState(),
      ]);
      expect(w.events).toEqual([]); // all answered with the writer still open
      expect(got!.name).toBe('kept');
      expect(list.items.map((r) => r.id)).toEqual([kept.id]);
      expect(users).toBe(0);
      expect(jobs).toEqual({});
    } finally {
      w.release();
    }
    await w.done;
    expect((await uow.read(tenant, (tx) => tx.resources.get('Machine', kept.id)))!.name).toBe('renamed');
    expect((await uow.read(tenant, (tx) => tx.resources.list('Machine', {}))).count).toBe(2);
  });

  // SQLite routes a read inside a transaction to the writer connection; PostgreSQL's pool never did (unchanged there)
  (engine === 'sqlite' ? it : it.skip)('reads made inside a transaction see its own uncommitted writes', async () => {
    const uow = new TypeormUnitOfWork(ds);
    const m = machine(tenant, 'mine');
    await uow.transaction(tenant, async (tx) => {
      await tx.resources.insert(m);
      expect(await uow.read(tenant, (t2) => t2.resources.get('Machine', m.id))).toBeDefined();
    });
  });
});

describe('SQLite: one writer, a read-only connection, a checkpointer thread', () => {
  let dir: string;
  const opened: DataSource[] = [];
  const open = async (sqlitePath: string, checkpointEveryMs?: number) => {
    const ds = await openDatabase({ sqlitePath, checkpointEveryMs });
    opened.push(ds);
    return ds as SqliteDataSource;
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'cimi-sqlite-'));
  });
  afterAll(async () => {
    for (const ds of opened) if (ds.isInitialized) await ds.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a write outside a transaction still waits for the open transaction (one writer)', async () => {
    const ds = await open(join(dir, 'writers.sqlite'));
    const w = hold(ds, (sql) => sql.exec("INSERT INTO tenant (id, name, created_ms) VALUES ('a', 'a', 0)"));
    await w.started;
    const second = outsideTransaction(ds, (m) => new Sql(m).exec("INSERT INTO tenant (id, name, created_ms) VALUES ('b', 'b', 0)")).then(() => w.events.push('second write'));
    // the reader answers meanwhile; the second write cannot be interleaved into the open transaction
    expect(await readOutsideTransaction(ds, (m) => new Sql(m).rows('SELECT id FROM tenant'))).toEqual([]);
    w.release();
    await Promise.all([w.done, second]);
    expect(w.events).toEqual(['commit', 'second write']);
  });

  it('refuses a write on the read path (the read-only connection), rather than running it outside the lock', async () => {
    const ds = await open(join(dir, 'readonly.sqlite'));
    await expect(
      readOutsideTransaction(ds, (m) => new Sql(m).exec("INSERT INTO tenant (id, name, created_ms) VALUES ('x', 'x', 0)")),
    ).rejects.toMatchObject({ driverError: { code: 'SQLITE_READONLY' } });
  });

  it('on :memory: (no second connection) a read waits for the transaction and sees its commit', async () => {
    const ds = await open(':memory:');
    expect(ds.reader).toBeUndefined();
    expect(ds.checkpointer).toBeUndefined();
    const w = hold(ds, (sql) => sql.exec("INSERT INTO tenant (id, name, created_ms) VALUES ('m', 'm', 0)"));
    await w.started;
    const read = readOutsideTransaction(ds, (m) => new Sql(m).rows('SELECT id FROM tenant')).then((rows) => {
      w.events.push('read');
      return rows;
    });
    w.release();
    expect(await read).toEqual([{ id: 'm' }]);
    expect(w.events).toEqual(['commit', 'read']);
  });

  it('checkpoints on its own thread; the writer keeps only a backstop autocheckpoint, restored if the thread dies', async () => {
    const ds = await open(join(dir, 'checkpoint.sqlite'), 50);
    expect(pragma(ds, 'wal_autocheckpoint')).toBe(10000);
    await inTransaction(ds, async (m) => {
      const sql = new Sql(m);
      for (let i = 0; i < 200; i++) await sql.exec('INSERT INTO tenant (id, name, created_ms) VALUES (:id, :id, 0)', { id: `t${i}` });
    });
    // far below the backstop: only the thread can have copied these frames into the database
    const done = await eventually(async () => {
      const r = ds.checkpointer!.last;
      return r && r.log > 0 && r.checkpointed === r.log ? r : undefined;
    });
    expect(done.busy).toBe(0);
    await (ds.checkpointer as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await eventually(async () => pragma(ds, 'wal_autocheckpoint') === 1000);
  });

  it('without a checkpointer thread leaves SQLite its own autocheckpoint', async () => {
    const ds = await open(join(dir, 'no-thread.sqlite'), 0);
    expect(ds.reader).toBeDefined();
    expect(ds.checkpointer).toBeUndefined();
    expect(pragma(ds, 'wal_autocheckpoint')).toBe(1000);
  });

  it('destroy closes every connection: the writer, last, checkpoints and removes the WAL', async () => {
    const file = join(dir, 'close.sqlite');
    const ds = await open(file);
    await outsideTransaction(ds, (m) => new Sql(m).exec("INSERT INTO tenant (id, name, created_ms) VALUES ('c', 'c', 0)"));
    const reader = ds.reader!;
    expect(existsSync(`${file}-wal`)).toBe(true);
    await ds.destroy();
    expect(reader.isInitialized).toBe(false);
    expect(existsSync(`${file}-wal`)).toBe(false);
  });
});
