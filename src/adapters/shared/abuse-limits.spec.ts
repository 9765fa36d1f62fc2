import type { Request, Response } from 'express';
import { EventEmitter } from 'node:events';
import { Admission } from './admission';
import { toSoapFault } from '../soap/soap-fault';
import { toFault } from '../wsman/wsman-fault';
import { loadConfig } from '../../config/env.schema';
import { ThrottledError } from '../../model/shared/model-error';
import type { LoginFailureRecord, LoginFailureStore } from '../../model/shared/ports';
import { addressKey, LoginThrottle, type LoginThrottleOptions } from '../../model/identity/login-throttle';

/** the LoginFailureStore contract in memory (the database one runs in test/e2e/parity/06-abuse-limits) */
function memoryStore(): LoginFailureStore {
  const rows = new Map<string, LoginFailureRecord>();
  return {
    get: async (keys) => keys.flatMap((k) => (rows.has(k) ? [{ ...rows.get(k)! }] : [])),
    fail: async (key, now, reset) => {
      const r = rows.get(key);
      const failures = r && r.lastFailureMs >= reset ? r.failures + 1 : 1;
      rows.set(key, { key, failures, lastFailureMs: now, blockedUntilMs: r?.blockedUntilMs ?? 0 });
      return failures;
    },
    block: async (key, until) => {
      const r = rows.get(key)!;
      r.blockedUntilMs = Math.max(r.blockedUntilMs, until);
    },
    clear: async (key) => void rows.delete(key),
    purge: async () => 0,
  };
}

const OPTS: LoginThrottleOptions = { userFreeFailures: 2, userLockFailures: 4, addressFreeFailures: 3, addressLockFailures: 0, baseDelayMs: 1000, maxDelayMs: 3000, lockMs: 60000, windowMs: 600000 };

describe('LoginThrottle', () => {
  it('free failures, then doubling delays, then a lock; refusals say how long to wait', async () => {
    const t = new LoginThrottle(memoryStore(), OPTS);
    const refusal = async (now: number) => t.check('bob', '10.0.0.1', now).then(() => undefined, (e: ThrottledError) => [e.code, e.retryAfterSeconds]);
    await t.failed('bob', '10.0.0.1', 0);
    await t.failed('bob', '10.0.0.1', 0);
    expect(await refusal(0)).toBeUndefined();
    await t.failed('bob', '10.0.0.1', 0); // third: 1 s
    expect(await refusal(0)).toEqual(['AUTH.DELAYED', 1]);
    expect(await refusal(1000)).toBeUndefined();
    await t.failed('bob', '10.0.0.1', 1000); // fourth: the lock (and the address is now delayed: 3 free)
    expect(await refusal(1000)).toEqual(['AUTH.LOCKED', 60]);
    expect(await refusal(60999)).toEqual(['AUTH.LOCKED', 1]);
    expect(await refusal(61000)).toBeUndefined();
  });

  it('the address counts every user name from it; addressLockFailures 0 only delays, at most maxDelayMs', async () => {
    const t = new LoginThrottle(memoryStore(), OPTS);
    for (let i = 0; i < 10; i++) await t.failed(`u${i}`, '10.0.0.2', 0);
    await expect(t.check('someone-else', '10.0.0.2', 0)).rejects.toMatchObject({ code: 'AUTH.DELAYED', retryAfterSeconds: 3 });
    await expect(t.check('someone-else', '10.0.0.3', 0)).resolves.toEqual([]);
  });

  it('success clears the user name, not the address', async () => {
    const store = memoryStore();
    const t = new LoginThrottle(store, OPTS);
    await t.failed('carol', '10.0.0.4', 0);
    await t.succeeded('carol', await t.check('carol', '10.0.0.4', 0));
    expect((await store.get(['user:carol', 'addr:10.0.0.4'])).map((r) => r.key)).toEqual(['addr:10.0.0.4']);
  });

  it('keys IPv4 (also mapped) per address and IPv6 per /64', () => {
    expect(addressKey('::ffff:192.0.2.1')).toBe('addr:192.0.2.1');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('addr:2001:0db8:0001:0002::/64');
    expect(addressKey('2001:db8:1:2::99')).toBe(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff'));
    expect(addressKey('fe80::1%eth0')).toBe('addr:fe80:0000:0000:0000::/64');
    expect(addressKey('not an address')).toBeUndefined();
  });
});

describe('Admission (in-flight caps)', () => {
  const req = (ip: string) => ({ path: '/cimi/machines', ip }) as unknown as Request;
  const res = () => Object.assign(new EventEmitter(), {}) as unknown as Response & EventEmitter;

  it('per caller: the address until authenticated, then the user; the process cap is 503-shaped', () => {
    const a = new Admission(3, 2);
    const hook = a.hook();
    const pass = (r: Request, s: Response) => hook(r, s, () => undefined);
    const [r1, s1, r2, s2, r3, s3] = [req('10.0.0.1'), res(), req('10.0.0.1'), res(), req('10.0.0.1'), res()];
    pass(r1, s1);
    pass(r2, s2);
    pass(r3, s3);
    expect(() => a.admit(r3)).toThrow(expect.objectContaining({ code: 'GENERIC.TOO_MANY_REQUESTS', retryAfterSeconds: 1 }));
    // r1 authenticates: its address slot moves to the user
    a.admit(r1, { userId: 'u1' });
    const [r4, s4] = [req('10.0.0.1'), res()];
    pass(r4, s4);
    expect(() => a.admit(r4)).not.toThrow();
    const [r5, s5] = [req('10.0.0.9'), res()];
    pass(r5, s5);
    expect(() => a.admit(r5)).toThrow(expect.objectContaining({ code: 'GENERIC.OVERLOADED', overloaded: true }));
    s1.emit('finish');
    s1.emit('close'); // released once
    expect(a.inFlight()).toBe(2);
  });
});

describe('throttled refusals per door', () => {
  const locked = new ThrottledError('AUTH.LOCKED', 'locked', 42, 'bob');
  it('SOAP: 429 (503 overloaded) with Retry-After and a fault body', () => {
    expect(toSoapFault(locked, '1.2')).toMatchObject({ status: 429, code: 'Client', subcode: 'TooManyRequests', headers: { 'Retry-After': '42' }, cause: { kind: 'throttled', code: 'AUTH.LOCKED' } });
    expect(toSoapFault(new ThrottledError('GENERIC.OVERLOADED', 'busy', 1), '1.1')).toMatchObject({ status: 503, code: 'Server', subcode: 'Unavailable' });
  });
  it('WS-Man: wsman:QuotaLimit carrying the code', () => {
    expect(toFault(locked)).toMatchObject({ kind: 'QuotaLimit', opts: { code: 'AUTH.LOCKED' } });
  });
  it('config: validated like every key', () => {
    expect(() => loadConfig({ AUTH_DELAY_BASE_MS: '5000', AUTH_DELAY_MAX_MS: '1000' })).toThrow(/AUTH_DELAY_MAX_MS/);
    expect(() => loadConfig({ MAX_INFLIGHT_REQUESTS: '10', MAX_INFLIGHT_PER_CALLER: '20' })).toThrow(/MAX_INFLIGHT_PER_CALLER/);
    expect(() => loadConfig({ AUTH_LOCK_SECONDS: 'soon' })).toThrow(/AUTH_LOCK_SECONDS/);
  });
});
