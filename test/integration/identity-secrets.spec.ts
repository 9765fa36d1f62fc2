import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ENGINES } from '../support/databases';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../support/app-harness';
import { IdentityService } from '../../src/model/identity/identity.service';
import { IDENTITY_STORE, LOGIN_FAILURE_STORE, type IdentityStore, type LoginFailureStore } from '../../src/model/shared/ports';
import { loadKeyring } from '../../src/ops/secret-key';

/** The sealed password copy that digest schemes (HTTP Digest, WSS PasswordDigest) verify against. */
describe.each(ENGINES)('sealed passwords on %s', (engine) => {
  let h: Harness;
  let identity: IdentityService;
  let store: IdentityStore;

  beforeAll(async () => {
    h = await startHarness(engine);
    identity = h.get(IdentityService);
    store = h.app.get(IDENTITY_STORE);
  });
  afterAll(() => h.close());

  it('keeps only a sealed copy, which secretFor opens', async () => {
    await identity.ensureTenant('sec');
    await identity.addUser({ userName: 'digest-user', password: 'pw-digest-1', tenant: 'sec', roles: ['user'] });
    const rec = await store.findUser('digest-user');
    expect(rec!.sealedPassword).toBeDefined();
    expect(rec!.sealedPassword).not.toContain('pw-digest-1');
    const s = await identity.secretFor('digest-user');
    expect(s).toMatchObject({ password: 'pw-digest-1', user: { userName: 'digest-user', tenantId: 'sec', roles: ['user'] } });
    expect(await identity.secretFor('nobody')).toBeUndefined();
    expect(await identity.secretFor('bad name!')).toBeUndefined();
  });

  it('reads a login\'s user and throttle counts in one statement, as the two separate reads answer them (issue 13)', async () => {
    await identity.ensureTenant('one-read');
    await identity.addUser({ userName: 'one-read-user', password: 'pw-one-read', tenant: 'one-read', roles: ['user'] });
    const failures = h.app.get<LoginFailureStore>(LOGIN_FAILURE_STORE);
    await failures.fail('user:one-read-user', 1000, 0);
    await failures.block('user:one-read-user', 5000);
    const keys = ['user:one-read-user', 'addr:192.0.2.7'];
    const both = await store.findActiveUserWithFailures!('one-read-user', keys);
    expect(both.user).toEqual(await store.findActiveUser('one-read-user'));
    expect(both.failures).toEqual(await failures.get(keys));
    expect(both.failures).toEqual([{ key: 'user:one-read-user', failures: 1, lastFailureMs: 1000, blockedUntilMs: 5000 }]);
    const u = (await store.findUser('one-read-user'))!;
    await store.setUserDisabled(u.id, true);
    expect(await store.findActiveUserWithFailures!('one-read-user', keys)).toMatchObject({ user: undefined, failures: [{ key: 'user:one-read-user' }] });
    await store.setUserDisabled(u.id, false);
    await store.setTenantDisabled('one-read', true); // an enabled user of a disabled tenant is not active either
    expect(await store.findActiveUser('one-read-user')).toBeUndefined();
    expect((await store.findActiveUserWithFailures!('one-read-user', keys)).user).toBeUndefined();
    await store.setTenantDisabled('one-read', false);
    expect((await store.findActiveUserWithFailures!('one-read-user', keys)).user).toEqual(await store.findActiveUser('one-read-user'));
    expect(await store.findActiveUserWithFailures!('nobody-here', ['user:nobody-here'])).toEqual({ user: undefined, failures: [] });
    await failures.clear('user:one-read-user');
  });

  it('backfills the sealed copy at the next password login of an older user', async () => {
    const admin = (await store.findUser('admin'))!;
    await store.setSealedPassword(admin.id, 'v1$stale$value$x');
    expect(await identity.secretFor('admin')).toBeUndefined();
    await identity.authenticate('admin', ADMIN_PASSWORD);
    expect((await identity.secretFor('admin'))?.password).toBe(ADMIN_PASSWORD);
  });

  it('creates the key file once and reuses it', () => {
    const file = join(dirname(h.cfg.SQLITE_PATH), 'secret.key');
    const before = readFileSync(file, 'utf8');
    const again = loadKeyring(h.cfg);
    expect(readFileSync(file, 'utf8')).toBe(before);
    expect(again.open(again.seal('x'))).toBe('x');
  });
});
