import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { FilterExpr } from '../../src/model/shared/query';
import { recountCollections } from '../../src/persistence/typeorm/collection-counts';
import { openDatabase } from '../../src/persistence/typeorm/data-source';
import { Sql } from '../../src/persistence/typeorm/sql';
import { TypeormIdentityStore } from '../../src/persistence/typeorm/typeorm-identity-store';
import { TypeormJobQueue } from '../../src/persistence/typeorm/typeorm-job-queue';
import { TypeormUnitOfWork } from '../../src/persistence/typeorm/typeorm-unit-of-work';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases';
import { at, job, resource, T0 } from '../support/records';

/**
 * The kept collection counts (resource_count, job_count; migration 1700000000012): after every way rows come and
 * go, each counter equals the COUNT(*) of its rows, and an unfiltered top-level page reports it.
 */
jest.setTimeout(120000);


const all: FilterExpr = { kind: 'cmp', attr: 'created', op: '>=', value: new Date(0) };

describe.each(ENGINES)('collection counts on %s', (engine) => {
  let db: TestDatabase;
  let ds: DataSource;
  let uow: TypeormUnitOfWork;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    ds = await openDatabase({ databaseUrl: db.databaseUrl, sqlitePath: db.sqlitePath });
    uow = new TypeormUnitOfWork(ds);
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  const rows = async (sql: string) => (await ds.query(sql)) as Record<string, unknown>[];
  const keyed = (rs: Record<string, unknown>[], key: (r: Record<string, unknown>) => string) =>
    Object.fromEntries(rs.map((r) => [key(r), Number(r.n)]).filter(([, n]) => n !== 0).sort((a, b) => String(a[0]).localeCompare(String(b[0]))));

  /** every counter against the COUNT(*) of its rows (zero counters are the same as none) */
  async function expectCountsExact(): Promise<void> {
    const byType = (r: Record<string, unknown>) => `${String(r.tenant_id)}/${String(r.type)}`;
    expect(keyed(await rows('SELECT tenant_id, type, n FROM resource_count'), byType)).toEqual(
      keyed(await rows('SELECT tenant_id, type, COUNT(*) AS n FROM resource GROUP BY tenant_id, type'), byType),
    );
    const byTenant = (r: Record<string, unknown>) => String(r.tenant_id);
    expect(keyed(await rows('SELECT tenant_id, n FROM job_count'), byTenant)).toEqual(
      keyed(await rows('SELECT tenant_id, COUNT(*) AS n FROM job GROUP BY tenant_id'), byTenant),
    );
  }

  const machineCount = (tenant: string, filter?: FilterExpr) =>
    uow.read(tenant, async (tx) => (await tx.resources.list('Machine', { first: 1, last: 1, ...(filter ? { filter } : {}) })).count);
  const jobCount = (tenant: string, filter?: FilterExpr) =>
    uow.read(tenant, async (tx) => (await tx.jobs.list({ first: 1, last: 1, ...(filter ? { filter } : {}) })).count);

  it('the migration backfills the counters from the rows already there (and its down drops them)', async () => {
    const tenant = `t-backfill-${engine}`;
    expect(await ds.showMigrations()).toBe(false);
    // back to just before 1700000000012: the later migrations first (all are run again below)
    const qr = ds.createQueryRunner();
    try {
      for (let undone = 0; await qr.hasTable('resource_count'); undone++) {
        expect(undone).toBeLessThan(10);
        await ds.undoLastMigration({ transaction: 'each' });
      }
      expect(await qr.hasTable('resource_count')).toBe(false);
    } finally {
      await qr.release();
    }
    // rows written before the migration: straight SQL (the stores would write the missing counters)
    const sql = new Sql(ds.manager);
    for (const [i, type] of (['Machine', 'Machine', 'Machine', 'Volume'] as const).entries()) {
      await sql.exec(
        `INSERT INTO resource (id, tenant_id, type, created_ms, updated_ms, version, properties, attrs) VALUES (:id, :tenant, :type, :at, :at, 1, '{}', '{}')`,
        { id: randomUUID(), tenant, type, at: T0 + i },
      );
    }
    await sql.exec(
      `INSERT INTO job (id, tenant_id, properties, version, state, action, target_type, target_id, affected, progress, status_changed_ms, created_ms, updated_ms, correlation_id, initiator, payload, pending_children, attempts)
       VALUES (:id, :tenant, '{}', 1, 'RUNNING', 'start', 'Machine', :target, '[]', 50, :at, :at, :at, 'c', '{}', '{}', 0, 0)`,
      { id: randomUUID(), tenant, target: randomUUID(), at: T0 },
    );
    await ds.runMigrations({ transaction: 'each' });
    expect(await ds.showMigrations()).toBe(false);
    expect(keyed(await rows(`SELECT type, n FROM resource_count WHERE tenant_id = '${tenant}'`), (r) => String(r.type))).toEqual({ Machine: 3, Volume: 1 });
    expect(await machineCount(tenant)).toBe(3);
    expect(await jobCount(tenant)).toBe(1);
    await expectCountsExact();
  });

  it('counts inserts, and removes with their sub-resources by type', async () => {
    const tenant = `t-remove-${engine}`;
    const other = `t-remove-other-${engine}`;
    const machines = Array.from({ length: 4 }, (_, i) => resource(tenant, 'Machine', { created: at(i) }));
    const children = machines.flatMap((m, i) => [
      resource(tenant, 'Disk', { parentId: m.id, created: at(10 + i) }),
      resource(tenant, 'Disk', { parentId: m.id, created: at(20 + i) }),
      resource(tenant, 'MachineVolume', { parentId: m.id, created: at(30 + i), attrs: { initialLocation: '/dev/sdb' } }),
    ]);
    await uow.transaction(tenant, async (tx) => {
      for (const r of [...machines, ...children]) await tx.resources.insert(r);
    });
    await uow.transaction(other, (tx) => tx.resources.insert(resource(other, 'Machine')));
    expect(await machineCount(tenant)).toBe(4);
    expect(await machineCount(other)).toBe(1);
    await expectCountsExact();

    await uow.transaction(tenant, async (tx) => {
      await tx.resources.remove('Machine', machines[0].id);
      await tx.resources.remove('Machine', machines[1].id);
      // gone already: nothing more to uncount
      await tx.resources.remove('Machine', machines[1].id);
      await tx.resources.remove('Machine', randomUUID());
    });
    expect(await machineCount(tenant)).toBe(2);
    expect(await machineCount(tenant, all)).toBe(2);
    expect(keyed(await rows(`SELECT type, n FROM resource_count WHERE tenant_id = '${tenant}'`), (r) => String(r.type))).toEqual({ Machine: 2, Disk: 4, MachineVolume: 2 });
    // a sub-resource collection of one parent is counted from its rows
    expect((await uow.read(tenant, (tx) => tx.resources.list('Disk', {}, machines[2].id))).count).toBe(2);
    // inserted and removed in one transaction: no change
    await uow.transaction(tenant, async (tx) => {
      const m = resource(tenant, 'Machine');
      await tx.resources.insert(m);
      await tx.resources.remove('Machine', m.id);
    });
    expect(await machineCount(tenant)).toBe(2);
    expect(await machineCount(other)).toBe(1);
    await expectCountsExact();
  });

  it('an unfiltered top-level page reads the counter; a filtered one counts its matches', async () => {
    const tenant = `t-reads-${engine}`;
    await uow.transaction(tenant, async (tx) => {
      for (let i = 0; i < 3; i++) await tx.resources.insert(resource(tenant, 'Machine', { state: i ? 'STARTED' : 'STOPPED' }));
    });
    // a counter set apart from its rows shows which count a page reports
    await ds.query(`UPDATE resource_count SET n = 1000 WHERE tenant_id = '${tenant}' AND type = 'Machine'`);
    try {
      expect(await machineCount(tenant)).toBe(1000);
      expect(await machineCount(tenant, all)).toBe(3);
      expect(await machineCount(tenant, { kind: 'cmp', attr: 'state', op: '=', value: 'STARTED' })).toBe(2);
    } finally {
      await ds.transaction((m) => recountCollections((sql) => m.query(sql)));
    }
    expect(await machineCount(tenant)).toBe(3);
    // a tenant and type with no rows (no counter row) is an empty collection
    expect(await machineCount(`t-none-${engine}`)).toBe(0);
    expect(await jobCount(`t-none-${engine}`)).toBe(0);
  });

  it('leaves the counters as they were when a transaction fails, a savepoint included', async () => {
    const tenant = `t-rollback-${engine}`;
    const kept = resource(tenant, 'Machine');
    await uow.transaction(tenant, async (tx) => {
      await tx.resources.insert(kept);
      await tx.jobs.insert(job(tenant));
    });
    await expectCountsExact();
    const snapshot = async () => [await machineCount(tenant), await jobCount(tenant)];
    expect(await snapshot()).toEqual([1, 1]);

    await expect(
      uow.transaction(tenant, async (tx) => {
        await tx.resources.insert(resource(tenant, 'Machine'));
        await tx.jobs.insert(job(tenant));
        await tx.resources.remove('Machine', kept.id);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await snapshot()).toEqual([1, 1]);

    // a database error (duplicate key) fails the transaction after the deltas were noted
    await expect(
      uow.transaction(tenant, async (tx) => {
        await tx.resources.insert(resource(tenant, 'Machine'));
        await tx.resources.insert({ ...kept });
      }),
    ).rejects.toThrow();
    expect(await snapshot()).toEqual([1, 1]);

    // an inner transaction that fails takes only its own changes with it
    await uow.transaction(tenant, async (tx) => {
      await tx.resources.insert(resource(tenant, 'Machine'));
      await expect(
        uow.transaction(tenant, async (inner) => {
          await inner.resources.insert(resource(tenant, 'Machine'));
          await inner.jobs.insert(job(tenant));
          throw new Error('inner abort');
        }),
      ).rejects.toThrow('inner abort');
    });
    expect(await snapshot()).toEqual([2, 1]);
    await expectCountsExact();
  });

  it('counts job removes and the purge of finished jobs, per tenant', async () => {
    const a = `t-jobs-a-${engine}`;
    const b = `t-jobs-b-${engine}`;
    const queue = new TypeormJobQueue(ds);
    const parent = job(a, { state: 'RUNNING', pendingChildren: 1 });
    const jobsA = [
      job(a, { state: 'SUCCESS', timeOfStatusChange: at(5) }),
      job(a, { state: 'FAILED', timeOfStatusChange: at(6) }),
      job(a, { state: 'SUCCESS', timeOfStatusChange: at(500) }),
      parent,
      job(a, { state: 'SUCCESS', timeOfStatusChange: at(5), parentJobId: parent.id }),
      job(a),
    ];
    const jobsB = [job(b, { state: 'STOPPED', timeOfStatusChange: at(7) }), job(b)];
    await uow.transaction(a, async (tx) => {
      for (const j of jobsA) await tx.jobs.insert(j);
    });
    await uow.transaction(b, async (tx) => {
      for (const j of jobsB) await tx.jobs.insert(j);
    });
    expect([await jobCount(a), await jobCount(b)]).toEqual([6, 2]);
    await uow.transaction(a, (tx) => tx.jobs.remove(jobsA[5].id));
    await uow.transaction(a, (tx) => tx.jobs.remove(jobsA[5].id));
    expect(await jobCount(a)).toBe(5);

    // finished before minute 100: two of a (not the child of a running parent), one of b
    expect(await queue.purgeFinishedBefore(at(100))).toBe(3);
    expect([await jobCount(a), await jobCount(b)]).toEqual([3, 1]);
    expect(await jobCount(a, all)).toBe(3);
    await expectCountsExact();
  });

  it('drops the zero counters of a tenant deleted when empty', async () => {
    const identity = new TypeormIdentityStore(ds);
    const t = { id: randomUUID(), name: `count-${engine}`, created: at(0) };
    await identity.insertTenant(t);
    const m = resource(t.id, 'Machine');
    await uow.transaction(t.id, (tx) => tx.resources.insert(m));
    expect(await identity.deleteTenantIfEmpty(t.id)).toBe(false);
    expect(await rows(`SELECT n FROM resource_count WHERE tenant_id = '${t.id}'`)).toHaveLength(1);
    await uow.transaction(t.id, (tx) => tx.resources.remove('Machine', m.id));
    expect(await identity.deleteTenantIfEmpty(t.id)).toBe(true);
    expect(await rows(`SELECT n FROM resource_count WHERE tenant_id = '${t.id}'`)).toHaveLength(0);
    await expectCountsExact();
  });

  it('stays exact under concurrent writers of one tenant and type (no deadlock between counter rows)', async () => {
    const tenant = `t-concurrent-${engine}`;
    // PostgreSQL: writers on pool connections, all waiting on the same counter rows; SQLite: the lock queues them
    const writers = 8;
    const perWriter = 15;
    const created: string[][] = Array.from({ length: writers }, () => []);
    await Promise.all(
      Array.from({ length: writers }, async (_, w) => {
        for (let i = 0; i < perWriter; i++) {
          await uow.transaction(tenant, async (tx) => {
            // alternate the order types and jobs are written in: the counters are taken in one order anyway
            const m = resource(tenant, 'Machine');
            const disk = resource(tenant, 'Disk', { parentId: m.id });
            if ((w + i) % 2) {
              await tx.jobs.insert(job(tenant));
              await tx.resources.insert(disk);
              await tx.resources.insert(m);
            } else {
              await tx.resources.insert(m);
              await tx.resources.insert(disk);
              await tx.jobs.insert(job(tenant));
            }
            created[w].push(m.id);
            // and remove an earlier Machine (Disk first, then Machine) every third time
            if (i % 3 === 2) await tx.resources.remove('Machine', created[w].shift()!);
          });
        }
      }),
    );
    const removed = writers * Math.floor(perWriter / 3);
    expect(await machineCount(tenant)).toBe(writers * perWriter - removed);
    expect(await machineCount(tenant, all)).toBe(writers * perWriter - removed);
    expect(await jobCount(tenant)).toBe(writers * perWriter);
    await expectCountsExact();
  });
});
