import { Inject, Injectable, Optional } from '@nestjs/common';
import { isIP } from 'node:net';
import { ThrottledError } from '../shared/model-error';
import { LOGIN_FAILURE_STORE, type LoginFailureRecord, type LoginFailureStore } from '../shared/ports';

/** AUTH_* settings (README "Abuse limits"); counts are per key: one user name, or one client address */
export interface LoginThrottleOptions {
  /** failures of one user name that cost nothing; each further one blocks that name for a doubling delay */
  userFreeFailures: number;
  /** failures of one user name that lock it for `lockMs` (0: never locked, only delayed) */
  userLockFailures: number;
  /** the same for one client address (any user names): higher, since a NAT or proxy puts many users behind one */
  addressFreeFailures: number;
  addressLockFailures: number;
  /** the first delay; doubled per further failure, at most `maxDelayMs` */
  baseDelayMs: number;
  maxDelayMs: number;
  lockMs: number;
  /** a key's count starts again when its last failure is older than this */
  windowMs: number;
}
export const LOGIN_THROTTLE_OPTIONS = Symbol('LOGIN_THROTTLE_OPTIONS');

export const DEFAULT_LOGIN_THROTTLE: LoginThrottleOptions = {
  userFreeFailures: 5,
  userLockFailures: 10,
  addressFreeFailures: 20,
  addressLockFailures: 100,
  baseDelayMs: 1000,
  maxDelayMs: 60000,
  lockMs: 300000,
  windowMs: 900000,
};

const PURGE_EVERY_MS = 60000;

/**
 * Failed logins throttled per user name and per client address (docs/reliability.md rule 13; OWASP Authentication
 * Cheat Sheet "Login Throttling"): after the free failures each further one blocks the key for a doubling delay,
 * after the lock count for `lockMs`. While a key is blocked every login under it is refused at once with the time
 * to wait (HTTP Retry-After): the password is not even checked, so a correct one is refused too and a guesser
 * learns nothing; nobody's request is held open. Unknown user names are counted like known ones (no oracle).
 *
 * The counts live in the database (LoginFailureStore): every gateway process sharing it counts the same guesses.
 * The price is one primary-key read per authentication (also for cached Basic verifications: a lock must hold
 * against a password verified a minute ago) and writes only on failures.
 */
@Injectable()
export class LoginThrottle {
  private nextPurge = 0;

  constructor(
    @Inject(LOGIN_FAILURE_STORE) private readonly store: LoginFailureStore,
    @Optional() @Inject(LOGIN_THROTTLE_OPTIONS) private readonly opts: LoginThrottleOptions = DEFAULT_LOGIN_THROTTLE,
  ) {}

  /** throws ThrottledError while the user name or the address is blocked; else the records to clear on success */
  async check(userName: string, address: string | undefined, nowMs = Date.now()): Promise<LoginFailureRecord[]> {
    return this.assess(userName, await this.store.get(this.keysOf(userName, address)), nowMs);
  }

  /** the keys whose records `check` reads: for a caller that reads them together with the user (one round trip) */
  keysOf(userName: string, address: string | undefined): string[] {
    return this.keys(userName, address).map((k) => k.key);
  }

  /** `check` on records already read (those of `keysOf`) */
  assess(userName: string, rows: LoginFailureRecord[], nowMs = Date.now()): LoginFailureRecord[] {
    const blocking = rows.filter((r) => r.blockedUntilMs > nowMs).sort((a, b) => b.blockedUntilMs - a.blockedUntilMs)[0];
    if (blocking) {
      const locked = blocking.failures >= this.lockAt(blocking.key);
      const wait = Math.max(1, Math.ceil((blocking.blockedUntilMs - nowMs) / 1000));
      throw new ThrottledError(
        locked ? 'AUTH.LOCKED' : 'AUTH.DELAYED',
        locked ? `login locked after too many failed attempts; try again in ${wait} s` : `too many failed logins; try again in ${wait} s`,
        wait,
        userName,
      );
    }
    return rows;
  }

  /** counts a failed login under the user name and the address, blocking each key that reached a threshold */
  async failed(userName: string, address: string | undefined, nowMs = Date.now()): Promise<void> {
    if (nowMs >= this.nextPurge) {
      this.nextPurge = nowMs + PURGE_EVERY_MS;
      await this.store.purge(nowMs - this.opts.windowMs, nowMs);
    }
    for (const { key, free, lock } of this.keys(userName, address)) {
      const n = await this.store.fail(key, nowMs, nowMs - this.opts.windowMs);
      const until = lock > 0 && n >= lock ? nowMs + this.opts.lockMs : n > free ? nowMs + Math.min(this.opts.baseDelayMs * 2 ** Math.min(n - free - 1, 30), this.opts.maxDelayMs) : 0;
      if (until) await this.store.block(key, until);
    }
  }

  /**
   * A correct password clears the user name's count (its owner is back), not the address's: else a guesser holding
   * one valid account could reset the address count between guesses at others.
   */
  async succeeded(userName: string, rows: LoginFailureRecord[]): Promise<void> {
    const key = userKey(userName);
    if (rows.some((r) => r.key === key)) await this.store.clear(key);
  }

  private lockAt(key: string): number {
    const lock = key.startsWith('user:') ? this.opts.userLockFailures : this.opts.addressLockFailures;
    return lock > 0 ? lock : Infinity;
  }

  private keys(userName: string, address: string | undefined): { key: string; free: number; lock: number }[] {
    const out = [{ key: userKey(userName), free: this.opts.userFreeFailures, lock: this.opts.userLockFailures }];
    const a = address && addressKey(address);
    if (a) out.push({ key: a, free: this.opts.addressFreeFailures, lock: this.opts.addressLockFailures });
    return out;
  }
}

function userKey(userName: string): string {
  return `user:${userName.slice(0, 128)}`;
}

/**
 * One key per client: an IPv4 address (also IPv4-mapped IPv6), or the /64 of an IPv6 address, because one host is
 * usually given a whole /64 (RFC 6177) and could otherwise take a fresh address per guess.
 */
export function addressKey(address: string): string | undefined {
  let a = address.trim().toLowerCase();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) a = mapped[1];
  const family = isIP(a);
  if (family === 4) return `addr:${a}`;
  if (family !== 6) return undefined;
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = a.includes('::') && tail ? tail.split(':') : [];
  // an embedded IPv4 tail takes two groups; only the first four groups matter here
  const groups = [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `addr:${groups
    .slice(0, 4)
    .map((g) => g.padStart(4, '0'))
    .join(':')}::/64`;
}
