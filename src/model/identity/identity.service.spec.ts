import { randomBytes } from 'node:crypto';
import { systemClock } from '../shared/clock';
import type { IdentityStore, LoginFailureRecord, LoginFailureStore, UserRecord } from '../shared/ports';
import { IdentityService } from './identity.service';
import { Keyring } from './keyring';
import { DEFAULT_LOGIN_THROTTLE, LoginThrottle } from './login-throttle';
import { hashPassword } from './password';

/** an IdentityStore holding one user, counting its reads (each verification reads the user once more) */
function storeWith(u: UserRecord & { gone?: boolean }) {
  const calls = { findActiveUser: 0, sealed: 0 };
  const store = {
    findActiveUser: async (name: string) => {
      calls.findActiveUser++;
      return name === u.userName && !u.gone ? { ...u } : undefined;
    },
    setSealedPassword: async (_id: string, sealed: string) => {
      calls.sealed++;
      u.sealedPassword = sealed;
    },
  } as unknown as IdentityStore;
  return { store, calls };
}

describe('IdentityService.authenticate: one scrypt per credential at a time, refreshed before expiry (issue 13)', () => {
  const keyring = new Keyring(randomBytes(32));
  let user: UserRecord;
  beforeAll(async () => {
    user = { id: 'u1', tenantId: 't1', userName: 'alice', passwordHash: await hashPassword('alice-password'), roles: ['user'], created: new Date() };
  });
  afterEach(() => jest.restoreAllMocks());

  it('concurrent first logins with one credential share one verification', async () => {
    const { store, calls } = storeWith({ ...user });
    const ids = new IdentityService(store, systemClock, keyring);
    const users = await Promise.all(Array.from({ length: 10 }, () => ids.authenticate('alice', 'alice-password')));
    expect(users.every((u) => u.userId === 'u1')).toBe(true);
    // one verification (ten separate ones each sealed the password; the joiners only read their own user record)
    expect(calls.sealed).toBe(1);
  });

  it('a login that joins a verification under way is decided by its own read: a user disabled meanwhile is refused', async () => {
    const rec: UserRecord & { gone?: boolean } = { ...user };
    const { store } = storeWith(rec);
    const ids = new IdentityService(store, systemClock, keyring);
    const first = ids.authenticate('alice', 'alice-password');
    await new Promise((r) => setImmediate(r)); // the first has read the user and is hashing
    rec.gone = true;
    await expect(ids.authenticate('alice', 'alice-password')).rejects.toMatchObject({ kind: 'unauthenticated' });
    await expect(first).resolves.toMatchObject({ userId: 'u1' });
  });

  it('concurrent wrong passwords all fail, and a right one after them still succeeds', async () => {
    const { store } = storeWith({ ...user });
    const ids = new IdentityService(store, systemClock, keyring);
    const r = await Promise.allSettled(Array.from({ length: 5 }, () => ids.authenticate('alice', 'wrong-password')));
    expect(r.every((x) => x.status === 'rejected' && (x.reason as { kind?: string }).kind === 'unauthenticated')).toBe(true);
    await expect(ids.authenticate('alice', 'alice-password')).resolves.toMatchObject({ userId: 'u1' });
  });

  it('a hit late in the minute verifies again in the background, so the entry never expires under use', async () => {
    const { store, calls } = storeWith({ ...user });
    const ids = new IdentityService(store, systemClock, keyring);
    const t0 = Date.now();
    const now = jest.spyOn(Date, 'now').mockReturnValue(t0);
    await ids.authenticate('alice', 'alice-password');
    expect(calls.findActiveUser).toBe(1);
    now.mockReturnValue(t0 + 50000); // a hit in the refresh window: the fresh read, and a background verification
    await ids.authenticate('alice', 'alice-password');
    // the background verification's own read (its scrypt runs on the thread pool, later than this call's answer)
    for (let i = 0; i < 100 && calls.findActiveUser < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(calls.findActiveUser).toBe(3);
    const underWay = () => (ids as unknown as { verifying: Map<string, unknown> }).verifying.size;
    for (let i = 0; i < 250 && underWay(); i++) await new Promise((r) => setTimeout(r, 20)); // its scrypt
    now.mockReturnValue(t0 + 70000); // past the first minute, within the refreshed one: a hit, no verification
    await ids.authenticate('alice', 'alice-password');
    expect(calls.findActiveUser).toBe(4);
  });

  it('a password changed elsewhere is refused at once, whatever the cache holds', async () => {
    const rec = { ...user };
    const { store } = storeWith(rec);
    const ids = new IdentityService(store, systemClock, keyring);
    await ids.authenticate('alice', 'alice-password');
    rec.passwordHash = await hashPassword('another-password');
    await expect(ids.authenticate('alice', 'alice-password')).rejects.toMatchObject({ kind: 'unauthenticated' });
    await expect(ids.authenticate('alice', 'another-password')).resolves.toMatchObject({ userId: 'u1' });
  });
});

describe('IdentityService with the throttle: the counts and the user in one read (issue 13)', () => {
  const keyring = new Keyring(randomBytes(32));

  it('a login reads once; a blocked key still refuses a right password, and failures are still counted', async () => {
    const u: UserRecord = { id: 'u1', tenantId: 't1', userName: 'bob', passwordHash: await hashPassword('bob-password'), roles: ['user'], created: new Date() };
    const records = new Map<string, LoginFailureRecord>();
    const reads = { combined: 0, separate: 0 };
    const store = {
      findActiveUser: async () => {
        reads.separate++;
        return { ...u };
      },
      findActiveUserWithFailures: async (name: string, keys: string[]) => {
        reads.combined++;
        return { user: name === 'bob' ? { ...u } : undefined, failures: keys.flatMap((k) => (records.has(k) ? [records.get(k)!] : [])) };
      },
      setSealedPassword: async () => undefined,
    } as unknown as IdentityStore;
    const failures = {
      get: async (keys: string[]) => {
        reads.separate++;
        return keys.flatMap((k) => (records.has(k) ? [records.get(k)!] : []));
      },
      fail: async (key: string, now: number) => {
        const r = records.get(key) ?? { key, failures: 0, lastFailureMs: now, blockedUntilMs: 0 };
        records.set(key, { ...r, failures: r.failures + 1, lastFailureMs: now });
        return r.failures + 1;
      },
      block: async (key: string, until: number) => void records.set(key, { ...records.get(key)!, blockedUntilMs: until }),
      clear: async (key: string) => void records.delete(key),
      purge: async () => 0,
    } as LoginFailureStore;
    const ids = new IdentityService(store, systemClock, keyring, new LoginThrottle(failures, { ...DEFAULT_LOGIN_THROTTLE, userFreeFailures: 1 }));
    await ids.authenticate('bob', 'bob-password', '10.0.0.1');
    await ids.authenticate('bob', 'bob-password', '10.0.0.1'); // a cached hit: still one read
    expect(reads).toEqual({ combined: 2, separate: 0 });
    await expect(ids.authenticate('bob', 'wrong-password', '10.0.0.1')).rejects.toMatchObject({ kind: 'unauthenticated' });
    await expect(ids.authenticate('bob', 'wrong-password', '10.0.0.1')).rejects.toMatchObject({ kind: 'unauthenticated' });
    expect(records.get('user:bob')?.failures).toBe(2);
    // two failures past one free one: the name is blocked, and the right password is refused without a check
    await expect(ids.authenticate('bob', 'bob-password', '10.0.0.1')).rejects.toMatchObject({ code: 'AUTH.DELAYED' });
    expect(reads.separate).toBe(0);
  });
});
