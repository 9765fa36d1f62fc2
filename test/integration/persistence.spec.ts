import { randomUUID } from 'node:crypto';
import { Test } from '@nestjs/testing';
import type { DataSource } from 'typeorm';
import {
  ConcurrentModificationError,
  InvalidInputError,
  isModelError,
} from '../../src/model/shared/model-error';
import {
  IDENTITY_STORE,
  JOB_QUEUE,
  UNIT_OF_WORK,
  type IdentityStore,
  type TenantTx,
  type UnitOfWork,
} from '../../src/model/shared/ports';
import type { CollectionQuery, FilterExpr } from '../../src/model/shared/query';
import type { Resource, ResourceType } from '../../src/model/shared/resource';
import { PersistenceModule } from '../../src/persistence/persistence.module';
import { DATA_SOURCE, openDatabase } from '../../src/persistence/typeorm/data-source';
import { TypeormIdentityStore } from '../../src/persistence/typeorm/typeorm-identity-store';
import { TypeormJobQueue } from '../../src/persistence/typeorm/typeorm-job-queue';
import { TypeormUnitOfWork } from '../../src/persistence/typeorm/typeorm-unit-of-work';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases';
import { at, job, resource } from '../support/records';

jest.setTimeout(60000);

const cmp = (
  attr: string,
  op: '=' | '!=' | '<' | '<=' | '>' | '>=',
  value: string | number | boolean | Date | null,
): FilterExpr => ({ kind: 'cmp', attr, op, value });
const and = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: 'and', left, right });
const or = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: 'or', left, right });
const prop = (key: string, op: '=' | '!=', value: string): FilterExpr => ({ kind: 'prop', key, op, value });

async function expectModelError(
  p: Promise<unknown>,
  cls: abstract new (...a: never[]) => Error,
  code?: string,
): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(cls);
  if (code) expect(isModelError(e) && e.code).toBe(code);
}

describe.each(ENGINES)('persistence on %s', (engine) => {
  let db: TestDatabase;
  let ds: DataSource;
  let uow: UnitOfWork;
  let queue: TypeormJobQueue;
  let identity: TypeormIdentityStore;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    ds = await openDatabase({ databaseUrl: db.databaseUrl, sqlitePath: db.sqlitePath });
    uow = new TypeormUnitOfWork(ds);
    queue = new TypeormJobQueue(ds);
    identity = new TypeormIdentityStore(ds);
  });

  afterAll(async () => {
    if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  describe('migrations', () => {
    it('creates the tables and named indexes, and has nothing left to run', async () => {
      expect(ds.options.type).toBe(engine === 'postgres' ? 'postgres' : 'better-sqlite3');
      expect(await ds.showMigrations()).toBe(false);
      const qr = ds.createQueryRunner();
      try {
        for (const t of ['resource', 'job', 'idempotency_key', 'tenant', 'app_user', 'resource_count', 'job_count'])
          expect(await qr.hasTable(t)).toBe(true);
        const resourceIdx = (await qr.getTable('resource'))!.indices.map((i) => i.name).sort();
        expect(resourceIdx).toEqual(
          [
            'ix_resource_parent_type',
            'ix_resource_tenant_type_created',
            'ix_resource_tenant_type_id',
            'ix_resource_tenant_type_name',
            'ix_resource_tenant_type_state',
            'ix_resource_tenant_type_state_created',
            'ix_resource_tenant_type_updated',
            // the JSON expression index exists on SQLite only (migration 1700000000001)
            ...(engine === 'sqlite' ? ['ix_resource_attr_cpu'] : []),
          ].sort(),
        );
        const jobIdx = (await qr.getTable('job'))!.indices.map((i) => i.name).sort();
        expect(jobIdx).toEqual([
          'ix_job_parent',
          'ix_job_resource_state',
          'ix_job_runnable',
          'ix_job_tenant_created',
        ]);
        expect((await qr.getTable('idempotency_key'))!.indices.map((i) => i.name)).toEqual([
          'ix_idempotency_created',
        ]);
      } finally {
        await qr.release();
      }
    });

    it('answers a keyset page from the (tenant, type, id) index, not by walking the primary key', async () => {
      if (engine !== 'sqlite') return; // PostgreSQL's planner prefers a scan at this test's table size
      const plan = (await ds.query(
        'EXPLAIN QUERY PLAN SELECT r.* FROM resource r WHERE r.tenant_id = ? AND r.type = ? AND r.id > ? ORDER BY r.id ASC LIMIT 100',
        ['t', 'Machine', 'm'],
      )) as { detail: string }[];
      expect(plan.map((p) => p.detail).join('; ')).toMatch(/USING INDEX ix_resource_tenant_type_id \(tenant_id=\? AND type=\? AND id>\?\)/);
      expect(plan.map((p) => p.detail).join('; ')).not.toMatch(/TEMP B-TREE/);
    });

    it('is idempotent: opening the database again runs nothing', async () => {
      if (engine === 'sqlite') {
        const again = await openDatabase({ sqlitePath: db.sqlitePath });
        expect(await again.showMigrations()).toBe(false);
        await again.destroy();
      } else {
        const again = await openDatabase({ databaseUrl: db.databaseUrl, sqlitePath: db.sqlitePath });
        expect(await again.showMigrations()).toBe(false);
        await again.destroy();
      }
    });
  });

  describe('resources and queries', () => {
    const tenant = `t-query-${engine}`;
    const machines: Resource[] = [];

    beforeAll(async () => {
      const specs = [
        { name: 'alpha', cpu: 1, memory: 1024, cpuArch: 'x86_64', state: 'STARTED', env: 'prod' },
        { name: 'beta', cpu: 2, memory: 2048, cpuArch: 'x86_64', state: 'STOPPED', env: 'dev' },
        { name: 'gamma', cpu: 4, memory: 4096, cpuArch: 'arm64', state: 'STARTED', env: 'prod' },
        { name: 'delta', cpu: 8, memory: 8192, cpuArch: 'arm64', state: 'STOPPED' },
        { name: undefined, cpu: 16, memory: 512, cpuArch: 'x86_64', state: 'ERROR' },
      ];
      await uow.transaction(tenant, async (tx) => {
        for (const [i, s] of specs.entries()) {
          const r = resource(tenant, 'Machine', {
            name: s.name,
            description: i === 0 ? 'the first' : undefined,
            state: s.state,
            created: at(i),
            updated: at(10 - i),
            properties: s.env ? { env: s.env, 'odd "key"': `v${i}` } : {},
            attrs: {
              cpu: s.cpu,
              memory: s.memory,
              cpuArch: s.cpuArch,
              machineImage: { type: 'MachineImage', id: randomUUID() },
            },
          });
          machines.push(r);
          await tx.resources.insert(r);
        }
        await tx.resources.insert(
          resource(tenant, 'Volume', { name: 'boot', attrs: { capacity: 10, bootable: true } }),
        );
        await tx.resources.insert(
          resource(tenant, 'Volume', { name: 'data', attrs: { capacity: 100, bootable: false } }),
        );
      });
    });

    const names = async (query: CollectionQuery, type: ResourceType = 'Machine') =>
      (await uow.read(tenant, (tx) => tx.resources.list(type, query))).items.map((r) => r.name ?? '(none)');

    it('gets what it inserted, as a model object', async () => {
      const got = await uow.read(tenant, (tx) => tx.resources.get('Machine', machines[0].id));
      expect(got).toEqual({ ...machines[0], parentId: undefined });
      expect(got!.created).toBeInstanceOf(Date);
      expect(await uow.read(tenant, (tx) => tx.resources.get('Volume', machines[0].id))).toBeUndefined();
    });

    it('lists in creation order by default, with the count', async () => {
      const page = await uow.read(tenant, (tx) => tx.resources.list('Machine', {}));
      expect(page.count).toBe(5);
      expect(page.items.map((r) => r.id)).toEqual(machines.map((m) => m.id));
    });

    it('compares integers with every operator', async () => {
      expect(await names({ filter: cmp('cpu', '=', 2) })).toEqual(['beta']);
      expect(await names({ filter: cmp('cpu', '!=', 2) })).toEqual(['alpha', 'gamma', 'delta', '(none)']);
      expect(await names({ filter: cmp('cpu', '<', 4) })).toEqual(['alpha', 'beta']);
      expect(await names({ filter: cmp('cpu', '<=', 4) })).toEqual(['alpha', 'beta', 'gamma']);
      expect(await names({ filter: cmp('cpu', '>', 4) })).toEqual(['delta', '(none)']);
      expect(await names({ filter: cmp('cpu', '>=', 4) })).toEqual(['gamma', 'delta', '(none)']);
      expect(await names({ filter: cmp('memory', '>', 2000) })).toEqual(['beta', 'gamma', 'delta']);
    });

    it('compares strings (= and != only), columns and attributes', async () => {
      expect(await names({ filter: cmp('name', '=', 'gamma') })).toEqual(['gamma']);
      expect(await names({ filter: cmp('name', '!=', 'gamma') })).toEqual([
        'alpha',
        'beta',
        'delta',
        '(none)',
      ]);
      expect(await names({ filter: cmp('cpuArch', '=', 'arm64') })).toEqual(['gamma', 'delta']);
      expect(await names({ filter: cmp('state', '=', 'STOPPED') })).toEqual(['beta', 'delta']);
      expect(await names({ filter: cmp('id', '=', machines[3].id) })).toEqual(['delta']);
      expect(await names({ filter: cmp('description', '=', null) })).toEqual([
        'beta',
        'gamma',
        'delta',
        '(none)',
      ]);
      expect(await names({ filter: cmp('name', '!=', null) })).toEqual(['alpha', 'beta', 'gamma', 'delta']);
      await expectModelError(
        names({ filter: cmp('name', '<', 'm') }),
        InvalidInputError,
        'QUERY.INVALID_OPERATOR',
      );
    });

    it('compares booleans and dates', async () => {
      expect(await names({ filter: cmp('bootable', '=', true) }, 'Volume')).toEqual(['boot']);
      expect(await names({ filter: cmp('bootable', '!=', true) }, 'Volume')).toEqual(['data']);
      expect(await names({ filter: cmp('capacity', '>=', 50) }, 'Volume')).toEqual(['data']);
      expect(await names({ filter: cmp('created', '>', at(2)) })).toEqual(['delta', '(none)']);
      expect(await names({ filter: cmp('created', '<=', at(1)) })).toEqual(['alpha', 'beta']);
      expect(await names({ filter: cmp('updated', '=', at(8)) })).toEqual(['gamma']);
      expect(await names({ filter: cmp('created', '>=', at(3).toISOString()) })).toEqual(['delta', '(none)']);
    });

    it('combines with and/or', async () => {
      expect(await names({ filter: and(cmp('cpuArch', '=', 'x86_64'), cmp('cpu', '>', 1)) })).toEqual([
        'beta',
        '(none)',
      ]);
      expect(await names({ filter: or(cmp('name', '=', 'alpha'), cmp('cpu', '=', 8)) })).toEqual([
        'alpha',
        'delta',
      ]);
      expect(
        await names({
          filter: and(or(cmp('state', '=', 'STARTED'), cmp('state', '=', 'ERROR')), cmp('cpu', '<', 10)),
        }),
      ).toEqual(['alpha', 'gamma']);
    });

    it('filters on properties', async () => {
      expect(await names({ filter: prop('env', '=', 'prod') })).toEqual(['alpha', 'gamma']);
      expect(await names({ filter: prop('env', '!=', 'prod') })).toEqual(['beta', 'delta', '(none)']);
      expect(await names({ filter: prop('odd "key"', '=', 'v1') })).toEqual(['beta']);
      expect(await names({ filter: prop('missing', '=', 'prod') })).toEqual([]);
    });

    it('orders by attributes, ties broken by id', async () => {
      expect(await names({ orderBy: [{ attr: 'cpu', desc: true }] })).toEqual([
        '(none)',
        'delta',
        'gamma',
        'beta',
        'alpha',
      ]);
      expect(await names({ orderBy: [{ attr: 'memory', desc: false }] })).toEqual([
        '(none)',
        'alpha',
        'beta',
        'gamma',
        'delta',
      ]);
      expect(await names({ orderBy: [{ attr: 'name', desc: false }] })).toEqual([
        '(none)',
        'alpha',
        'beta',
        'delta',
        'gamma',
      ]);
      expect(
        await names({
          orderBy: [
            { attr: 'cpuArch', desc: false },
            { attr: 'updated', desc: false },
          ],
        }),
      ).toEqual(['delta', 'gamma', '(none)', 'beta', 'alpha']);
      await expectModelError(
        names({ orderBy: [{ attr: 'nope', desc: false }] }),
        InvalidInputError,
        'QUERY.UNKNOWN_ATTRIBUTE',
      );
    });

    it('subsets with first/last (1-based, inclusive) and counts before subsetting', async () => {
      const q = (query: CollectionQuery) => uow.read(tenant, (tx) => tx.resources.list('Machine', query));
      let p = await q({ first: 2, last: 3 });
      expect([p.count, p.items.map((r) => r.name)]).toEqual([5, ['beta', 'gamma']]);
      p = await q({ first: 4 });
      expect([p.count, p.items.map((r) => r.name ?? '(none)')]).toEqual([5, ['delta', '(none)']]);
      p = await q({ last: 2 });
      expect([p.count, p.items.map((r) => r.name)]).toEqual([5, ['alpha', 'beta']]);
      p = await q({ first: 2, last: 2, filter: cmp('cpuArch', '=', 'x86_64') });
      expect([p.count, p.items.map((r) => r.name)]).toEqual([3, ['beta']]);
      p = await q({ first: 7 });
      expect([p.count, p.items]).toEqual([5, []]);
      await expectModelError(q({ first: 0 }), InvalidInputError);
    });

    it('pages by keyset with after, in id order', async () => {
      const sorted = [...machines].map((m) => m.id).sort();
      // first/last count within what follows the keyset: `last: n` is a page of n; count ignores the keyset
      const p = await uow.read(tenant, (tx) => tx.resources.list('Machine', { after: sorted[1], last: 2 }));
      expect([p.count, p.items.map((r) => r.id)]).toEqual([5, sorted.slice(2, 4)]);
      const rest = await uow.read(tenant, (tx) =>
        tx.resources.list('Machine', { after: sorted[3], orderBy: [{ attr: 'cpu', desc: true }] }),
      );
      expect(rest.items.map((r) => r.id)).toEqual(sorted.slice(4));
    });

    it('rejects unknown and unfilterable attributes', async () => {
      await expectModelError(
        names({ filter: cmp('nope', '=', 1) }),
        InvalidInputError,
        'QUERY.UNKNOWN_ATTRIBUTE',
      );
      // struct/ref attributes are not filterable; a name can never reach the SQL text
      await expectModelError(
        names({ filter: cmp('machineImage', '=', 'x') }),
        InvalidInputError,
        'QUERY.UNKNOWN_ATTRIBUTE',
      );
      await expectModelError(
        names({ filter: cmp("cpu') OR 1=1 --", '=', 1) }),
        InvalidInputError,
        'QUERY.UNKNOWN_ATTRIBUTE',
      );
      await expectModelError(
        names({ filter: cmp('cpu', '=', 'many') }),
        InvalidInputError,
        'QUERY.INVALID_VALUE',
      );
      // secret attributes are never filterable (no oracle on a password)
      await expectModelError(
        names({ filter: cmp('password', '=', 'x') }, 'Credential'),
        InvalidInputError,
        'QUERY.UNKNOWN_ATTRIBUTE',
      );
      for (const attr of ['constructor', '__proto__', 'toString', 'attrs', 'tenant_id']) {
        await expectModelError(
          names({ filter: cmp(attr, '=', 'x') }),
          InvalidInputError,
          'QUERY.UNKNOWN_ATTRIBUTE',
        );
      }
    });

    it('binds every value: injection attempts match nothing', async () => {
      expect(await names({ filter: cmp('name', '=', "' OR 1=1 --") })).toEqual([]);
      expect(await names({ filter: cmp('cpuArch', '=', "x' OR '1'='1") })).toEqual([]);
      expect(await names({ filter: prop("env') OR 1=1 --", '=', "' OR 1=1 --") })).toEqual([]);
      expect(await names({ filter: prop('env', '=', "prod' OR '1'='1") })).toEqual([]);
      expect(await uow.read(tenant, (tx) => tx.resources.get('Machine', "' OR 1=1 --"))).toBeUndefined();
      // and the table is still there
      expect((await uow.read(tenant, (tx) => tx.resources.list('Machine', {}))).count).toBe(5);
    });

    it('lists sub-resources of a parent, finds references, and removes a resource with its children', async () => {
      const m = resource(tenant, 'Machine', { name: 'with-children', created: at(100) });
      const vol = resource(tenant, 'Volume', { name: 'attached', created: at(100) });
      const disks = [0, 1].map((i) =>
        resource(tenant, 'Disk', { parentId: m.id, created: at(101 + i), attrs: { capacity: 10 * (i + 1) } }),
      );
      const mv = resource(tenant, 'MachineVolume', {
        parentId: m.id,
        created: at(103),
        attrs: { volume: { type: 'Volume', id: vol.id }, initialLocation: '/dev/sdb' },
      });
      const fg = resource(tenant, 'ForwardingGroup', {
        created: at(104),
        attrs: {
          networks: [
            { type: 'Network', id: 'n-1' },
            { type: 'Network', id: vol.id },
          ],
        },
      });
      await uow.transaction(tenant, async (tx) => {
        for (const r of [m, vol, ...disks, mv, fg]) await tx.resources.insert(r);
      });
      const page = await uow.read(tenant, (tx) =>
        tx.resources.list('Disk', { filter: cmp('capacity', '>', 10) }, m.id),
      );
      expect([page.count, page.items.map((d) => d.id)]).toEqual([1, [disks[1].id]]);
      expect((await uow.read(tenant, (tx) => tx.resources.children(m.id))).map((r) => r.id)).toEqual(
        [...disks, mv].map((r) => r.id),
      );
      expect(
        (await uow.read(tenant, (tx) => tx.resources.children(m.id, 'MachineVolume'))).map((r) => r.id),
      ).toEqual([mv.id]);
      expect(
        (await uow.read(tenant, (tx) => tx.resources.referencing('MachineVolume', 'volume', vol.id))).map(
          (r) => r.id,
        ),
      ).toEqual([mv.id]);
      expect(
        (await uow.read(tenant, (tx) => tx.resources.referencing('ForwardingGroup', 'networks', vol.id))).map(
          (r) => r.id,
        ),
      ).toEqual([fg.id]);
      expect(
        await uow.read(tenant, (tx) => tx.resources.referencing('MachineVolume', 'volume', "' OR 1=1 --")),
      ).toEqual([]);
      await expectModelError(
        uow.read(tenant, (tx) => tx.resources.referencing('MachineVolume', 'initialLocation', vol.id)),
        InvalidInputError,
      );

      await uow.transaction(tenant, (tx) => tx.resources.remove('Machine', m.id));
      expect(await uow.read(tenant, (tx) => tx.resources.get('Machine', m.id))).toBeUndefined();
      expect(await uow.read(tenant, (tx) => tx.resources.children(m.id))).toEqual([]);
      expect(await uow.read(tenant, (tx) => tx.resources.get('Volume', vol.id))).toBeDefined();
    });
  });

  describe('tenant scoping', () => {
    const A = `tenant-a-${engine}`;
    const B = `tenant-b-${engine}`;

    it('keeps each tenant to its own rows', async () => {
      const r = resource(A, 'Network', { name: 'private-net', state: 'STARTED' });
      const child = resource(A, 'Disk', { parentId: r.id });
      const j = job(A, { targetResource: { type: 'Network', id: r.id } });
      await uow.transaction(A, async (tx) => {
        await tx.resources.insert(r);
        await tx.resources.insert(child);
        await tx.jobs.insert(j);
        await tx.idempotency.insert({
          key: 'k1',
          principalId: 'p1',
          operation: 'op',
          requestHash: 'h',
          jobId: j.id,
          created: at(0),
        });
      });

      await uow.read(B, async (tx) => {
        expect(await tx.resources.get('Network', r.id)).toBeUndefined();
        expect((await tx.resources.list('Network', {})).count).toBe(0);
        expect(await tx.resources.children(r.id)).toEqual([]);
        expect(await tx.jobs.get(j.id)).toBeUndefined();
        expect(await tx.jobs.activeFor(r.id)).toBeUndefined();
        expect((await tx.jobs.list({})).count).toBe(0);
        expect(await tx.idempotency.find('p1', 'k1')).toBeUndefined();
      });

      // B cannot update A's row even with A's tenant id copied into a B store's argument
      await expectModelError(
        uow.transaction(B, (tx) => tx.resources.update({ ...r, tenantId: B, name: 'stolen', version: 2 })),
        ConcurrentModificationError,
      );
      await expect(
        uow.transaction(B, (tx) => tx.resources.update({ ...r, name: 'stolen', version: 2 })),
      ).rejects.toThrow(/another tenant/);
      await expect(
        uow.transaction(B, (tx) => tx.resources.insert({ ...r, id: randomUUID() })),
      ).rejects.toThrow(/another tenant/);
      await expectModelError(
        uow.transaction(B, (tx) => tx.jobs.update({ ...j, tenantId: B, version: 2 })),
        ConcurrentModificationError,
      );
      await uow.transaction(B, async (tx) => {
        await tx.resources.remove('Network', r.id);
        await tx.jobs.remove(j.id);
        expect(await tx.idempotency.purgeOlderThan(at(1000))).toBe(0);
      });

      await uow.read(A, async (tx) => {
        expect((await tx.resources.get('Network', r.id))!.name).toBe('private-net');
        expect(await tx.resources.children(r.id)).toHaveLength(1);
        expect((await tx.jobs.get(j.id))!.id).toBe(j.id);
        expect((await tx.jobs.activeFor(r.id))!.id).toBe(j.id);
        expect(await tx.idempotency.find('p1', 'k1')).toBeDefined();
      });
    });
  });

  describe('transactions and optimistic concurrency', () => {
    const tenant = `t-tx-${engine}`;

    it('updates conditionally on the previous version', async () => {
      const r = resource(tenant, 'Machine', { name: 'v1', state: 'STOPPED' });
      await uow.transaction(tenant, (tx) => tx.resources.insert(r));
      await uow.transaction(tenant, (tx) =>
        tx.resources.update({
          ...r,
          name: 'v2',
          state: 'STARTING',
          version: 2,
          updated: at(5),
          attrs: { cpu: 2 },
        }),
      );
      const got = (await uow.read(tenant, (tx) => tx.resources.get('Machine', r.id)))!;
      expect([got.name, got.state, got.version, got.updated.getTime(), got.attrs]).toEqual([
        'v2',
        'STARTING',
        2,
        at(5).getTime(),
        { cpu: 2 },
      ]);
      // a writer that read version 1 loses
      await expectModelError(
        uow.transaction(tenant, (tx) => tx.resources.update({ ...r, name: 'stale', version: 2 })),
        ConcurrentModificationError,
        'GENERIC.CONCURRENT_MODIFICATION',
      );
      expect((await uow.read(tenant, (tx) => tx.resources.get('Machine', r.id)))!.name).toBe('v2');
    });

    it('rolls back everything on a throw', async () => {
      const r = resource(tenant, 'Machine', { name: 'rolled-back' });
      await expect(
        uow.transaction(tenant, async (tx) => {
          await tx.resources.insert(r);
          await tx.jobs.insert(job(tenant));
          throw new Error('boom');
        }),
      ).rejects.toThrow('boom');
      expect(await uow.read(tenant, (tx) => tx.resources.get('Machine', r.id))).toBeUndefined();
    });

    it('allows reads and nested transactions inside a transaction (no self-deadlock)', async () => {
      const a = resource(tenant, 'Machine', { name: 'outer' });
      const b = resource(tenant, 'Machine', { name: 'inner' });
      await uow.transaction(tenant, async (tx) => {
        await tx.resources.insert(a);
        await uow.read(tenant, (t2) => t2.resources.list('Machine', {}));
        await expect(
          uow.transaction(tenant, async (t2) => {
            await t2.resources.insert(b);
            throw new Error('inner');
          }),
        ).rejects.toThrow('inner');
      });
      expect(await uow.read(tenant, (tx) => tx.resources.get('Machine', a.id))).toBeDefined();
      expect(await uow.read(tenant, (tx) => tx.resources.get('Machine', b.id))).toBeUndefined();
    });

    it('lets exactly one of many concurrent read-modify-writes win per version', async () => {
      const r = resource(tenant, 'Machine', { name: 'counter', attrs: { cpu: 0 } });
      await uow.transaction(tenant, (tx) => tx.resources.insert(r));
      const bump = async () => {
        for (;;) {
          try {
            return await uow.transaction(tenant, async (tx) => {
              const cur = (await tx.resources.get('Machine', r.id))!;
              cur.attrs = { cpu: (cur.attrs.cpu as number) + 1 };
              cur.version += 1;
              await tx.resources.update(cur);
            });
          } catch (e) {
            if (!(e instanceof ConcurrentModificationError)) throw e;
          }
        }
      };
      await Promise.all(Array.from({ length: 10 }, bump));
      const got = (await uow.read(tenant, (tx) => tx.resources.get('Machine', r.id)))!;
      expect([got.attrs.cpu, got.version]).toEqual([10, 11]);
    });

    it('takes an idempotency key once', async () => {
      const rec = {
        key: 'idem-1',
        principalId: 'alice',
        operation: 'Machine.start',
        requestHash: 'abc',
        resourceType: 'Machine' as const,
        resourceId: randomUUID(),
        jobId: randomUUID(),
        created: at(0),
      };
      await uow.transaction(tenant, (tx) => tx.idempotency.insert(rec));
      expect(await uow.read(tenant, (tx) => tx.idempotency.find('alice', 'idem-1'))).toEqual(rec);
      await expectModelError(
        uow.transaction(tenant, (tx) => tx.idempotency.insert({ ...rec, requestHash: 'other' })),
        ConcurrentModificationError,
      );
      // the same key of another principal, or of another tenant, is another key
      await uow.transaction(tenant, (tx) => tx.idempotency.insert({ ...rec, principalId: 'bob' }));
      await uow.transaction(`${tenant}-other`, (tx) => tx.idempotency.insert(rec));
      // concurrent inserts of one key: exactly one wins
      const racers = await Promise.allSettled(
        Array.from({ length: 5 }, () =>
          uow.transaction(tenant, (tx) =>
            tx.idempotency.insert({ ...rec, key: 'idem-race', created: at(10) }),
          ),
        ),
      );
      expect(racers.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
      expect(
        racers.filter((x) => x.status === 'rejected' && x.reason instanceof ConcurrentModificationError),
      ).toHaveLength(4);
      expect(await uow.transaction(tenant, (tx) => tx.idempotency.purgeOlderThan(at(5)))).toBe(2);
      expect(await uow.read(tenant, (tx) => tx.idempotency.find('alice', 'idem-race'))).toBeDefined();
    });
  });

  describe('jobs', () => {
    const tenant = `t-jobs-${engine}`;

    it('stores, lists and finds the active job of a resource', async () => {
      const resId = randomUUID();
      const parent = job(tenant, {
        action: 'start',
        targetResource: { type: 'System', id: resId },
        created: at(1),
        pendingChildren: 1,
      });
      const child = job(tenant, {
        action: 'start',
        parentJobId: parent.id,
        created: at(2),
        state: 'SUCCESS',
        progress: 100,
        returnCode: 0,
      });
      const onCollection = job(tenant, {
        action: 'add',
        targetResource: { type: 'MachineCollection', id: resId },
        created: at(3),
      });
      await uow.transaction(tenant, async (tx) => {
        for (const j of [parent, child, onCollection]) await tx.jobs.insert(j);
      });
      const got = await uow.read(tenant, (tx) => tx.jobs.get(child.id));
      expect(got).toEqual(child);
      expect((await uow.read(tenant, (tx) => tx.jobs.children(parent.id))).map((j) => j.id)).toEqual([
        child.id,
      ]);
      // a collection target holds no resource
      expect((await uow.read(tenant, (tx) => tx.jobs.activeFor(resId)))!.id).toBe(parent.id);
      const list = await uow.read(tenant, (tx) =>
        tx.jobs.list({ filter: cmp('state', '=', 'QUEUED'), orderBy: [{ attr: 'created', desc: true }] }),
      );
      expect([list.count, list.items.map((j) => j.id)]).toEqual([2, [onCollection.id, parent.id]]);
      const byCode = await uow.read(tenant, (tx) =>
        tx.jobs.list({ filter: and(cmp('returnCode', '=', 0), cmp('progress', '>=', 100)) }),
      );
      expect(byCode.items.map((j) => j.id)).toEqual([child.id]);
      await expectModelError(
        uow.read(tenant, (tx) => tx.jobs.list({ filter: cmp('payload', '=', 'x') })),
        InvalidInputError,
        'QUERY.UNKNOWN_ATTRIBUTE',
      );

      await uow.transaction(tenant, (tx) =>
        tx.jobs.update({ ...parent, state: 'SUCCESS', version: 2, pendingChildren: 0 }),
      );
      expect(await uow.read(tenant, (tx) => tx.jobs.activeFor(resId))).toBeUndefined();
      await expectModelError(
        uow.transaction(tenant, (tx) => tx.jobs.update({ ...parent, version: 2 })),
        ConcurrentModificationError,
      );
      await uow.transaction(tenant, (tx) => tx.jobs.remove(onCollection.id));
      expect(await uow.read(tenant, (tx) => tx.jobs.get(onCollection.id))).toBeUndefined();
    });
  });

  describe('job queue', () => {
    const tenant = `t-queue-${engine}`;
    const now = at(1000);

    beforeEach(async () => {
      // the queue is cross-tenant: start each test from an empty job table
      await ds.query('DELETE FROM job');
      await ds.query('DELETE FROM job_count'); // its counters went with it (around the stores)
    });

    it('claims, renews, releases, and guards work with the lease', async () => {
      const j = job(tenant, { created: at(1) });
      const waiting = job(tenant, { created: at(0), pendingChildren: 2 });
      await uow.transaction(tenant, async (tx) => {
        await tx.jobs.insert(j);
        await tx.jobs.insert(waiting);
      });

      const claimed = (await queue.claimNext('worker-a', 1000, now))!;
      expect([
        claimed.id,
        claimed.state,
        claimed.attempts,
        claimed.leaseOwner,
        claimed.leaseExpires!.getTime(),
        claimed.version,
      ]).toEqual([j.id, 'RUNNING', 1, 'worker-a', now.getTime() + 1000, 2]);
      // nothing else is runnable: the other job waits for its children, this one is leased
      expect(await queue.claimNext('worker-b', 1000, now)).toBeUndefined();

      expect(await queue.renew(j.id, 'worker-b', 1000, now)).toBe(false);
      expect(await queue.renew(j.id, 'worker-a', 5000, at(1000.5))).toBe(true);
      // still leased at the old expiry
      expect(await queue.claimNext('worker-b', 1000, new Date(now.getTime() + 2000))).toBeUndefined();

      // whileOwned: only the owner runs, in the job's tenant, in one transaction
      expect(await queue.whileOwned(j.id, 'worker-b', async () => 'ran')).toBeUndefined();
      const r = resource(tenant, 'Machine', { name: 'via-lease' });
      const out = await queue.whileOwned(j.id, 'worker-a', async (tx: TenantTx, current) => {
        expect(tx.resources.tenantId).toBe(tenant);
        await tx.resources.insert(r);
        current.payload.cursor = 1;
        current.version += 1;
        await tx.jobs.update(current);
        return current;
      });
      expect(out!.payload.cursor).toBe(1);
      expect((await uow.read(tenant, (tx) => tx.jobs.get(j.id)))!.payload.cursor).toBe(1);
      expect(await uow.read(tenant, (tx) => tx.resources.get('Machine', r.id))).toBeDefined();
      // a throw inside rolls back
      await expect(
        queue.whileOwned(j.id, 'worker-a', async (tx) => {
          await tx.resources.remove('Machine', r.id);
          throw new Error('step failed');
        }),
      ).rejects.toThrow('step failed');
      expect(await uow.read(tenant, (tx) => tx.resources.get('Machine', r.id))).toBeDefined();

      // the lease expires: another worker takes the job over (crash recovery), attempts counts the claims
      const expired = new Date(now.getTime() + 60_000);
      const taken = (await queue.claimNext('worker-b', 1000, expired))!;
      expect([taken.id, taken.leaseOwner, taken.attempts, taken.state]).toEqual([
        j.id,
        'worker-b',
        2,
        'RUNNING',
      ]);
      expect(await queue.renew(j.id, 'worker-a', 1000, expired)).toBe(false);
      expect(await queue.whileOwned(j.id, 'worker-a', async () => 'ran')).toBeUndefined();

      // release by a non-owner does nothing; by the owner makes the job claimable at once
      await queue.release(j.id, 'worker-a');
      expect(await queue.claimNext('worker-c', 1000, expired)).toBeUndefined();
      await queue.release(j.id, 'worker-b');
      const again = (await queue.claimNext('worker-c', 1000, expired))!;
      expect([again.id, again.leaseOwner, again.attempts]).toEqual([j.id, 'worker-c', 3]);

      expect(await queue.countByState()).toEqual({ QUEUED: 1, RUNNING: 1 });
    });

    it('never gives one job to two concurrent claimers', async () => {
      const jobs = Array.from({ length: 30 }, (_, i) =>
        job(i % 2 ? tenant : `${tenant}-2`, { created: at(i) }),
      );
      await uow.transaction(tenant, async (tx) => {
        for (const j of jobs.filter((x) => x.tenantId === tenant)) await tx.jobs.insert(j);
      });
      await uow.transaction(`${tenant}-2`, async (tx) => {
        for (const j of jobs.filter((x) => x.tenantId !== tenant)) await tx.jobs.insert(j);
      });
      // a second DataSource on PostgreSQL: two "processes" competing through the database
      const other =
        engine === 'postgres'
          ? await openDatabase({ databaseUrl: db.databaseUrl, sqlitePath: db.sqlitePath })
          : undefined;
      try {
        const queues = [queue, other ? new TypeormJobQueue(other) : queue];
        const claims: { owner: string; id: string }[] = [];
        await Promise.all(
          Array.from({ length: 6 }, async (_, w) => {
            const q = queues[w % queues.length];
            for (;;) {
              const got = await q.claimNext(`w${w}`, 60_000, now);
              if (!got) return;
              claims.push({ owner: `w${w}`, id: got.id });
            }
          }),
        );
        const ids = claims.map((c) => c.id);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.sort()).toEqual(jobs.map((j) => j.id).sort());
      } finally {
        await other?.destroy();
      }
    });

    it('claims oldest first, runs STOPPING jobs, and purges finished ones', async () => {
      const old = job(tenant, { created: at(1) });
      const stopping = job(tenant, { created: at(2), state: 'STOPPING' });
      const done = job(tenant, { created: at(0), state: 'SUCCESS', timeOfStatusChange: at(5) });
      const recent = job(tenant, { created: at(0), state: 'FAILED', timeOfStatusChange: at(500) });
      const runningParent = job(tenant, { created: at(0), state: 'RUNNING', pendingChildren: 1 });
      const finishedChild = job(tenant, {
        created: at(0),
        state: 'SUCCESS',
        timeOfStatusChange: at(5),
        parentJobId: runningParent.id,
      });
      await uow.transaction(tenant, async (tx) => {
        for (const j of [old, stopping, done, recent, runningParent, finishedChild]) await tx.jobs.insert(j);
      });
      expect((await queue.claimNext('w', 1000, now))!.id).toBe(old.id);
      const s = (await queue.claimNext('w', 1000, now))!;
      expect([s.id, s.state]).toEqual([stopping.id, 'STOPPING']);
      expect(await queue.claimNext('w', 1000, now)).toBeUndefined();

      expect(await queue.purgeFinishedBefore(at(100))).toBe(1);
      expect(await uow.read(tenant, (tx) => tx.jobs.get(done.id))).toBeUndefined();
      expect(await uow.read(tenant, (tx) => tx.jobs.get(recent.id))).toBeDefined();
      expect(await uow.read(tenant, (tx) => tx.jobs.get(finishedChild.id))).toBeDefined();
    });
  });

  describe('identity store', () => {
    it('stores tenants and users', async () => {
      const t = { id: randomUUID(), name: `acme-${engine}`, created: at(0) };
      await identity.insertTenant(t);
      // a tenant is stored enabled (migration 1700000000010, the admin CLI's disable)
      expect(await identity.findTenant(t.id)).toEqual({ ...t, disabled: false });
      expect(await identity.findTenantByName(t.name)).toEqual({ ...t, disabled: false });
      expect(await identity.findTenantByName("' OR 1=1 --")).toBeUndefined();
      await expect(identity.insertTenant({ ...t, id: randomUUID() })).rejects.toMatchObject({
        kind: 'already-exists',
      });
      expect((await identity.listTenants()).map((x) => x.name)).toContain(t.name);

      const before = await identity.countUsers();
      const u = {
        id: randomUUID(),
        tenantId: t.id,
        userName: `alice-${engine}`,
        passwordHash: 'scrypt$xyz',
        roles: ['admin', 'user'] as ('admin' | 'user')[],
        created: at(1),
      };
      await identity.insertUser(u);
      await expect(identity.insertUser({ ...u, id: randomUUID() })).rejects.toMatchObject({
        kind: 'already-exists',
      });
      expect(await identity.findUser(u.userName)).toEqual({ ...u, disabled: false });
      expect(await identity.findUser('nobody')).toBeUndefined();
      expect(await identity.listUsers(t.id)).toEqual([{ ...u, disabled: false }]);
      expect((await identity.listUsers()).length).toBe(before + 1);
      expect(await identity.countUsers()).toBe(before + 1);

      // findActiveUser: the one read of a login, refusing a disabled user or a user of a disabled tenant
      expect(await identity.findActiveUser(u.userName)).toEqual({ ...u, disabled: false });
      expect(await identity.findActiveUser('nobody')).toBeUndefined();
      await identity.setUserDisabled(u.id, true);
      expect(await identity.findActiveUser(u.userName)).toBeUndefined();
      await identity.setUserDisabled(u.id, false);
      await identity.setTenantDisabled(t.id, true);
      expect(await identity.findActiveUser(u.userName)).toBeUndefined();
      await identity.setTenantDisabled(t.id, false);
      expect(await identity.findActiveUser(u.userName)).toEqual({ ...u, disabled: false });
    });
  });
});

describe.each(ENGINES)('PersistenceModule on %s', (engine) => {
  it('binds the ports and closes the database on shutdown', async () => {
    const db = await createTestDatabase(engine);
    try {
      const app = await Test.createTestingModule({
        imports: [PersistenceModule.forRoot({ databaseUrl: db.databaseUrl, sqlitePath: db.sqlitePath })],
      }).compile();
      await app.init();
      const ds = app.get<DataSource>(DATA_SOURCE);
      expect(ds.isInitialized).toBe(true);
      expect(app.get(UNIT_OF_WORK)).toBeInstanceOf(TypeormUnitOfWork);
      expect(app.get(JOB_QUEUE)).toBeInstanceOf(TypeormJobQueue);
      const identity = app.get<IdentityStore>(IDENTITY_STORE);
      expect(await identity.countUsers()).toBe(0);
      await app.close();
      expect(ds.isInitialized).toBe(false);
    } finally {
      await db.drop();
    }
  });
});
