import type { DataSource } from 'typeorm';
import type { Clock } from '../../src/model/shared/clock';
import { DEFAULT_ENUMERATION_IDLE_MS, EnumerationService, InvalidEnumerationContextError } from '../../src/model/shared/enumeration.service';
import { ConcurrentModificationError, type ModelError } from '../../src/model/shared/model-error';
import { systemContext, type OperationContext } from '../../src/model/shared/operation-context';
import { openDatabase } from '../../src/persistence/typeorm/data-source';
import { TypeormEnumerationStore } from '../../src/persistence/typeorm/typeorm-enumeration-store';
import { createTestDatabase, ENGINES, type TestDatabase } from '../support/databases';

jest.setTimeout(60000);

const T0 = Date.UTC(2026, 0, 1);

function user(tenantId: string, userId: string): OperationContext {
  return { ...systemContext(tenantId), principal: { userId, userName: userId }, protocol: 'wsman', roles: ['user'] };
}

describe.each(ENGINES)('enumeration contexts on %s', (engine) => {
  let db: TestDatabase;
  let ds: DataSource;
  let ds2: DataSource;
  let now: number;
  const clock: Clock = { now: () => new Date(now) };
  let svc: EnumerationService;
  /** a second gateway process: its own DataSource on the same database */
  let svc2: EnumerationService;
  const alice = user('t1', 'alice');

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    ds = await openDatabase({ databaseUrl: db.databaseUrl, sqlitePath: db.sqlitePath });
    ds2 = await openDatabase({ databaseUrl: db.databaseUrl, sqlitePath: db.sqlitePath });
    svc = new EnumerationService(new TypeormEnumerationStore(ds), clock);
    svc2 = new EnumerationService(new TypeormEnumerationStore(ds2), clock);
  });
  afterAll(async () => {
    await ds?.destroy();
    await ds2?.destroy();
    await db?.drop();
  });
  beforeEach(() => {
    now = T0;
  });

  const expectInvalid = async (p: Promise<unknown>) => {
    const e = (await p.then(
      () => undefined,
      (err: unknown) => err,
    )) as ModelError | undefined;
    expect(e).toBeInstanceOf(InvalidEnumerationContextError);
    expect(e!.code).toBe('ENUMERATION.INVALID_CONTEXT');
  };

  it('migration 1700000000004 creates the table and indexes the record describes', async () => {
    const qr = ds.createQueryRunner();
    try {
      const t = (await qr.getTable('enumeration_context'))!;
      expect(t.indices.map((i) => i.name).sort()).toEqual(['ix_enumeration_context_expires', 'ix_enumeration_context_principal']);
      expect(t.columns.map((c) => c.name).sort()).toEqual(
        ds.getMetadata('EnumerationContextRow').columns.map((c) => c.databaseName).sort(),
      );
    } finally {
      await qr.release();
    }
  });

  it('opens a context with an unguessable id and reads it back in another process, advancing the cursor there', async () => {
    const a = await svc.open(alice, { resourceUri: 'urn:r', query: { mode: 'epr', filter: { kind: 'cmp', attr: 'id', op: '=', value: 'x' } } });
    const b = await svc.open(alice, { resourceUri: 'urn:r', query: {} });
    expect(a.id).toMatch(/^uuid:[0-9a-f-]{36}$/);
    expect(a.id).not.toBe(b.id);
    expect(a.cursor).toBeNull();
    expect(a.expires.getTime()).toBe(T0 + DEFAULT_ENUMERATION_IDLE_MS);

    const seen = await svc2.resume(alice, a.id);
    expect(seen).toEqual(a);
    now += 1000;
    const moved = await svc2.advance(alice, seen, '{"after":"m-10"}');
    expect(moved.version).toBe(2);
    // the idle window slides with each Pull
    expect(moved.expires.getTime()).toBe(now + DEFAULT_ENUMERATION_IDLE_MS);
    const again = await svc.resume(alice, a.id);
    expect(again.cursor).toBe('{"after":"m-10"}');
    expect(again.query).toEqual(a.query);
  });

  it('a second advance from the same read loses (concurrent Pulls on two processes): conflict, not a duplicate page', async () => {
    const a = await svc.open(alice, { resourceUri: 'urn:r', query: {} });
    const r1 = await svc.resume(alice, a.id);
    const r2 = await svc2.resume(alice, a.id);
    await svc.advance(alice, r1, 'p1');
    await expect(svc2.advance(alice, r2, 'p2')).rejects.toBeInstanceOf(ConcurrentModificationError);
    expect((await svc.resume(alice, a.id)).cursor).toBe('p1');
  });

  it('is invalid for another principal or another tenant, and for unknown or malformed ids', async () => {
    const a = await svc.open(alice, { resourceUri: 'urn:r', query: {} });
    await expectInvalid(svc.resume(user('t1', 'bob'), a.id));
    await expectInvalid(svc.resume(user('t2', 'alice'), a.id));
    await expectInvalid(svc.release(user('t2', 'alice'), a.id));
    await expectInvalid(svc.resume(alice, 'uuid:00000000-0000-0000-0000-000000000000'));
    await expectInvalid(svc.resume(alice, ''));
    await expectInvalid(svc.resume(alice, 'x'.repeat(65)));
    // the foreign attempts left it intact
    expect((await svc.resume(alice, a.id)).id).toBe(a.id);
  });

  it('expires: idle window, fixed Expires (duration and time), capped lifetime; expired rows are purged by the next open', async () => {
    const idle = await svc.open(alice, { resourceUri: 'urn:r', query: {} });
    const fixed = await svc.open(alice, { resourceUri: 'urn:r', query: {}, expires: { afterMs: 5000 } });
    const at = await svc.open(alice, { resourceUri: 'urn:r', query: {}, expires: { at: new Date(T0 + 7000) } });
    const long = await svc.open(alice, { resourceUri: 'urn:r', query: {}, expires: { afterMs: 1e12 } });
    expect(long.expires.getTime()).toBe(T0 + 24 * 3600_000);
    expect(at.expires.getTime()).toBe(T0 + 7000);

    now = T0 + 4000;
    const f = await svc.advance(alice, await svc.resume(alice, fixed.id), 'c');
    expect(f.expires.getTime()).toBe(T0 + 5000); // a Pull does not extend a fixed expiry
    now = T0 + 5000;
    await expectInvalid(svc.resume(alice, fixed.id));
    await expectInvalid(svc2.advance(alice, f, 'd'));
    expect((await svc.resume(alice, at.id)).id).toBe(at.id);
    now = T0 + DEFAULT_ENUMERATION_IDLE_MS;
    await expectInvalid(svc.resume(alice, idle.id));

    const store = new TypeormEnumerationStore(ds);
    const liveBefore = await store.countLive('t1', 'alice', new Date(now));
    await svc.open(alice, { resourceUri: 'urn:r', query: {} });
    const rows = await ds.query('SELECT id FROM enumeration_context');
    expect(rows.map((r: { id: string }) => r.id)).not.toEqual(expect.arrayContaining([fixed.id]));
    expect(rows.map((r: { id: string }) => r.id)).not.toEqual(expect.arrayContaining([idle.id]));
    expect(await store.countLive('t1', 'alice', new Date(now))).toBe(liveBefore + 1);
  });

  it('Release deletes (a second Release or Pull is invalid); finish drops the context after the last page', async () => {
    const a = await svc.open(alice, { resourceUri: 'urn:r', query: {} });
    await svc2.release(alice, a.id);
    await expectInvalid(svc.resume(alice, a.id));
    await expectInvalid(svc.release(alice, a.id));

    const b = await svc.open(alice, { resourceUri: 'urn:r', query: {} });
    const rb = await svc.resume(alice, b.id);
    await svc.finish(alice, rb);
    await expectInvalid(svc.resume(alice, b.id));
    await expectInvalid(svc.finish(alice, rb));
  });

  it('caps the live contexts of one principal (quota)', async () => {
    const store = new TypeormEnumerationStore(ds);
    const bob = user('t3', 'bob');
    const capped = new EnumerationService({ ...bindStore(store), countLive: async () => 1000 }, clock);
    await expect(capped.open(bob, { resourceUri: 'urn:r', query: {} })).rejects.toMatchObject({ kind: 'quota', code: 'ENUMERATION.TOO_MANY' });
    expect(await store.countLive('t3', 'bob', new Date(now))).toBe(0);
  });
});

function bindStore(s: TypeormEnumerationStore) {
  return {
    insert: s.insert.bind(s),
    find: s.find.bind(s),
    advance: s.advance.bind(s),
    remove: s.remove.bind(s),
    countLive: s.countLive.bind(s),
    purgeExpired: s.purgeExpired.bind(s),
  };
}
