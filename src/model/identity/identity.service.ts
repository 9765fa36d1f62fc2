import { Inject, Injectable, Optional } from '@nestjs/common';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { CLOCK, type Clock } from '../shared/clock';
import { InvalidInputError, ModelError, NotFoundError, UnauthenticatedError } from '../shared/model-error';
import { ROLES, type OperationContext, type Protocol, type Role } from '../shared/operation-context';
import { IDENTITY_STORE, type IdentityStore, type LoginFailureRecord, type TenantRecord, type UserRecord } from '../shared/ports';
import { requireAdmin } from '../shared/authorization';
import { hashPassword, verifyPassword } from './password';
import { KEYRING, type Keyring } from './keyring';
import { LoginThrottle } from './login-throttle';

export interface AuthenticatedUser {
  userId: string;
  userName: string;
  tenantId: string;
  roles: Role[];
}

const NAME = /^[A-Za-z0-9_.@-]{1,64}$/;
/** verified against when the user does not exist, so both failures cost the same (docs/reliability.md rule 13) */
let DUMMY_HASH: Promise<string> | undefined;
/** how long a verified password is remembered, and from when on a hit verifies it again in the background */
const VERIFIED_MS = 60000;
const REFRESH_AFTER_MS = 45000;

/** findUser's answer, when it was read already (with the throttle's counts) */
interface UserRead {
  user: UserRecord | undefined;
}

interface Verified {
  user: AuthenticatedUser;
  passwordHash: string;
  until: number;
  refreshAt: number;
}

@Injectable()
export class IdentityService {
  private readonly verified = new Map<string, Verified>();
  /** verifications under way, per credential: concurrent requests with one credential share one scrypt */
  private readonly verifying = new Map<string, Promise<Verified>>();

  constructor(
    @Inject(IDENTITY_STORE) private readonly store: IdentityStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(KEYRING) private readonly keyring: Keyring,
    @Optional() private readonly throttle?: LoginThrottle,
  ) {}

  /**
   * Verifies a user name and password; the same error for an unknown user and a wrong password. Successful
   * verifications are remembered for a minute (keyed by a hash of both), because HTTP Basic and WS-Security send
   * the password with every request and a deliberately slow hash per request would cap throughput. Throttled per
   * user name and client address (LoginThrottle) before the cache is consulted, so a lock holds against it too.
   * One verification runs per credential at a time (the others await it), and a hit in the last quarter of its
   * minute starts the next one in the background: a busy credential never finds its entry expired, so the load
   * never meets a wave of concurrent ~50 ms scrypt runs at once (issue 13: stalls at every cache expiry).
   */
  async authenticate(userName: string, password: string, clientAddress?: string): Promise<AuthenticatedUser> {
    return this.throttled(userName, clientAddress, async (read) => {
      const key = createHash('sha256').update(userName).update('\0').update(password).digest('base64');
      const hit = this.verified.get(key);
      const now = Date.now();
      // a hit is re-read (one indexed read, no hash): the admin CLI disables users and changes passwords from
      // another process, and neither may wait for the cache to expire (issue 16 §2); roles come from the fresh read
      const fresh = hit && hit.until > now ? (read ? read.user : await this.findUser(userName)) : undefined;
      if (fresh && fresh.passwordHash === hit!.passwordHash) {
        if (now >= hit!.refreshAt) this.verifyOnce(key, userName, password, read).catch(() => this.verified.delete(key));
        return authenticatedUser(fresh);
      }
      // a verification this request joins was started from another request's read: this request's own read decides
      // (the user disabled, the password or roles changed in between); a joined refusal is retried on its own read
      const joined = this.verifying.has(key);
      let v: Verified;
      try {
        v = await this.verifyOnce(key, userName, password, read);
      } catch (e) {
        if (!joined) throw e;
        return (await this.verify(userName, password, read)).user;
      }
      if (!joined) return v.user;
      const own = read ? read.user : await this.findUser(userName);
      if (!own || own.passwordHash !== v.passwordHash) throw new UnauthenticatedError('invalid user name or password');
      return authenticatedUser(own);
    });
  }

  /** the credential's verification under way, or a new one; a success is cached for VERIFIED_MS */
  private verifyOnce(key: string, userName: string, password: string, read?: UserRead): Promise<Verified> {
    let p = this.verifying.get(key);
    if (!p) {
      p = this.verify(userName, password, read)
        .then(({ user, passwordHash }) => {
          const at = Date.now();
          const v = { user, passwordHash, until: at + VERIFIED_MS, refreshAt: at + REFRESH_AFTER_MS };
          if (!this.verified.has(key) && this.verified.size >= 1000) this.verified.delete(this.verified.keys().next().value!);
          this.verified.set(key, v);
          return v;
        })
        .finally(() => this.verifying.delete(key));
      this.verifying.set(key, p);
    }
    return p;
  }

  /**
   * For schemes that verify a digest of the password themselves (HTTP Digest RFC 7616, WSS PasswordDigest):
   * `matches` gets the user's password (a random one for unknown users, so both failures cost the same) and says
   * whether the digest sent is right. Throttled exactly like `authenticate`: the one throttle of every door.
   */
  async authenticateDigest(userName: string, clientAddress: string | undefined, matches: (password: string) => boolean): Promise<AuthenticatedUser> {
    return this.throttled(userName, clientAddress, async (read) => {
      const secret = await this.secretFor(userName, read);
      const ok = matches(secret?.password ?? randomUUID());
      if (!secret || !ok) throw new UnauthenticatedError('invalid user name or password');
      return secret.user;
    });
  }

  /**
   * refuses while blocked; counts an `unauthenticated` failure; clears the user's count on success. The throttle's
   * records and the user come from one read where the store can (findActiveUserWithFailures): `attempt` gets that
   * user, read in the same statement as the counts, as current as a read of its own would be.
   */
  private async throttled(userName: string, clientAddress: string | undefined, attempt: (read?: UserRead) => Promise<AuthenticatedUser>): Promise<AuthenticatedUser> {
    if (!this.throttle) return attempt();
    let rows: LoginFailureRecord[];
    let read: UserRead | undefined;
    if (!NAME.test(userName)) {
      rows = await this.throttle.check(userName, clientAddress);
      read = { user: undefined }; // findUser's answer for such a name, without a read
    } else if (this.store.findActiveUserWithFailures) {
      const both = await this.store.findActiveUserWithFailures(userName, this.throttle.keysOf(userName, clientAddress));
      rows = this.throttle.assess(userName, both.failures);
      read = { user: both.user };
    } else rows = await this.throttle.check(userName, clientAddress);
    try {
      const user = await attempt(read);
      await this.throttle.succeeded(userName, rows);
      return user;
    } catch (e) {
      if (e instanceof ModelError && e.kind === 'unauthenticated') await this.throttle.failed(userName, clientAddress);
      throw e;
    }
  }

  private async verify(userName: string, password: string, read?: UserRead): Promise<{ user: AuthenticatedUser; passwordHash: string }> {
    const u = read ? read.user : await this.findUser(userName);
    DUMMY_HASH ??= hashPassword(randomUUID());
    const ok = await verifyPassword(password, u?.passwordHash ?? (await DUMMY_HASH));
    if (!u || !ok) throw new UnauthenticatedError('invalid user name or password');
    // users from before sealed passwords existed become digest-capable at their next password login
    if (!u.sealedPassword || this.keyring.open(u.sealedPassword) !== password) await this.store.setSealedPassword(u.id, this.keyring.seal(password));
    return { user: authenticatedUser(u), passwordHash: u.passwordHash };
  }

  /**
   * The user record for protocols that verify a secret themselves (HTTP Digest, WS-Security digest): undefined for
   * a disabled user or a user of a disabled tenant, so that no door lets them in (issue 16 §2).
   */
  async findUser(userName: string): Promise<UserRecord | undefined> {
    return NAME.test(userName) ? this.store.findActiveUser(userName) : undefined;
  }

  /**
   * The password itself, for schemes that verify a digest of it (HTTP Digest RFC 7616, WSS UsernameToken
   * PasswordDigest). undefined for unknown users and for users whose password was never seen since sealing began.
   */
  async secretFor(userName: string, read?: UserRead): Promise<{ user: AuthenticatedUser; password: string } | undefined> {
    const u = read ? read.user : await this.findUser(userName);
    const password = u?.sealedPassword && this.keyring.open(u.sealedPassword);
    if (!u || !password) return undefined;
    return { user: authenticatedUser(u), password };
  }

  context(u: AuthenticatedUser, protocol: Protocol, correlationId: string, extra: Partial<OperationContext> = {}): OperationContext {
    return { principal: { userId: u.userId, userName: u.userName }, tenantId: u.tenantId, roles: u.roles, correlationId, protocol, ...extra };
  }

  async createTenant(ctx: OperationContext, name: string): Promise<TenantRecord> {
    requireAdmin(ctx, 'create tenants');
    return this.ensureTenant(name);
  }

  async createUser(ctx: OperationContext, input: { userName: string; password: string; tenant: string; roles: Role[] }): Promise<UserRecord> {
    requireAdmin(ctx, 'create users');
    return this.addUser(input);
  }

  listUsers(ctx: OperationContext): Promise<UserRecord[]> {
    requireAdmin(ctx, 'list users');
    return this.store.listUsers();
  }

  listTenants(ctx: OperationContext): Promise<TenantRecord[]> {
    requireAdmin(ctx, 'list tenants');
    return this.store.listTenants();
  }

  async setTenantDisabled(ctx: OperationContext, name: string, disabled: boolean): Promise<TenantRecord> {
    requireAdmin(ctx, `${disabled ? 'disable' : 'enable'} tenants`);
    const t = await this.tenantNamed(name);
    await this.store.setTenantDisabled(t.id, disabled);
    return { ...t, disabled };
  }

  /** refused (conflict TENANT.NOT_EMPTY) while the tenant has users or resources: nothing is deleted then */
  async deleteTenant(ctx: OperationContext, name: string): Promise<void> {
    requireAdmin(ctx, 'delete tenants');
    const t = await this.tenantNamed(name);
    if (!(await this.store.deleteTenantIfEmpty(t.id)))
      throw new ModelError('conflict', 'TENANT.NOT_EMPTY', `tenant ${t.name} still has users or resources; delete them first`, { resourceType: 'Tenant', resourceId: t.id });
  }

  async setRoles(ctx: OperationContext, userName: string, roles: Role[]): Promise<UserRecord> {
    requireAdmin(ctx, 'set roles');
    checkRoles(roles);
    const u = await this.userNamed(userName);
    await this.store.setRoles(u.id, roles);
    return { ...u, roles };
  }

  /** the operator chooses the password */
  async setPassword(ctx: OperationContext, userName: string, password: string): Promise<UserRecord> {
    requireAdmin(ctx, 'set passwords');
    checkPassword(password);
    const u = await this.userNamed(userName);
    await this.store.setPassword(u.id, await hashPassword(password), this.keyring.seal(password));
    return u;
  }

  /** a random password, returned once (never stored in clear: only its hash and its sealed copy) */
  async resetPassword(ctx: OperationContext, userName: string): Promise<{ user: UserRecord; password: string }> {
    requireAdmin(ctx, 'reset passwords');
    const u = await this.userNamed(userName);
    const password = randomBytes(18).toString('base64url');
    await this.store.setPassword(u.id, await hashPassword(password), this.keyring.seal(password));
    return { user: u, password };
  }

  async setUserDisabled(ctx: OperationContext, userName: string, disabled: boolean): Promise<UserRecord> {
    requireAdmin(ctx, `${disabled ? 'disable' : 'enable'} users`);
    const u = await this.userNamed(userName);
    await this.store.setUserDisabled(u.id, disabled);
    return { ...u, disabled };
  }

  /** the user and its registered certificates */
  async deleteUser(ctx: OperationContext, userName: string): Promise<void> {
    requireAdmin(ctx, 'delete users');
    const u = await this.userNamed(userName);
    await this.store.deleteUser(u.id);
  }

  private async tenantNamed(name: string): Promise<TenantRecord> {
    const t = typeof name === 'string' && NAME.test(name) ? await this.store.findTenantByName(name) : undefined;
    if (!t) throw new NotFoundError('Tenant', String(name));
    return t;
  }

  /** any user, disabled or not (admin operations; authentication goes through findUser) */
  private async userNamed(userName: string): Promise<UserRecord> {
    const u = typeof userName === 'string' && NAME.test(userName) ? await this.store.findUser(userName) : undefined;
    if (!u) throw new NotFoundError('User', String(userName));
    return u;
  }

  /** bootstrap and admin operations share these; they assume authorization was checked */
  async ensureTenant(name: string): Promise<TenantRecord> {
    if (!NAME.test(name)) throw new InvalidInputError('tenant names are 1-64 letters, digits and _ . @ -', 'tenant');
    const existing = await this.store.findTenantByName(name);
    if (existing) return existing;
    const t = { id: name, name, created: this.clock.now() };
    await this.store.insertTenant(t);
    return t;
  }

  async addUser(input: { userName: string; password: string; tenant: string; roles: Role[] }): Promise<UserRecord> {
    if (!NAME.test(input.userName)) throw new InvalidInputError('user names are 1-64 letters, digits and _ . @ -', 'userName');
    checkPassword(input.password);
    checkRoles(input.roles);
    const tenant = await this.store.findTenantByName(input.tenant);
    if (!tenant) throw new InvalidInputError(`tenant ${input.tenant} does not exist`, 'tenant');
    if (await this.store.findUser(input.userName)) throw new ModelError('already-exists', 'USER.ALREADY_EXISTS', `user ${input.userName} exists`);
    const u: UserRecord = { id: randomUUID(), tenantId: tenant.id, userName: input.userName, passwordHash: await hashPassword(input.password), sealedPassword: this.keyring.seal(input.password), roles: input.roles, created: this.clock.now() };
    await this.store.insertUser(u);
    return u;
  }

  countUsers(): Promise<number> {
    return this.store.countUsers();
  }
}

function checkPassword(password: unknown): void {
  if (typeof password !== 'string' || password.length < 8) throw new InvalidInputError('passwords have at least 8 characters', 'password');
}

function checkRoles(roles: unknown): asserts roles is Role[] {
  if (!Array.isArray(roles) || !roles.length || roles.some((r) => !ROLES.includes(r as Role))) throw new InvalidInputError(`roles are ${ROLES.join(', ')}`, 'roles');
}

function authenticatedUser(u: UserRecord): AuthenticatedUser {
  return { userId: u.id, userName: u.userName, tenantId: u.tenantId, roles: u.roles };
}
