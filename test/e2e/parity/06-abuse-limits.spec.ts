import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD, eventually, startHarness, type Harness } from '../../support/app-harness';
import { AuditService } from '../../../src/model/audit/audit.service';
import { IdentityService } from '../../../src/model/identity/identity.service';
import type { AuditEvent } from '../../../src/model/audit/cadf';

/**
 * Issue 16 §4 abuse limits through the real doors: failed logins delayed then locked (per user name and client
 * address, one throttle in IdentityService for REST Basic, SOAP Basic, SOAP UsernameToken and WS-Man Basic), a
 * correct password refused while locked, other users unaffected, the refusals in the CADF trail, the lock expiring;
 * and the in-flight cap per caller. Client addresses come from X-Forwarded-For (TRUST_PROXY=loopback), so each
 * case has its own address.
 */
const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
const TNS = 'urn:cimi-gateway:soap:1:types';
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const PW = 'password-123';
const LOCK_S = 2;

interface Answer {
  status: number;
  retryAfter?: string;
  /** each WWW-Authenticate value (several for WS-Man's challenges) */
  challenges: string[];
  body: string;
}

type Door = 'rest' | 'soap-basic' | 'soap-usernametoken' | 'wsman' | 'wsman-digest';
const DOORS: Door[] = ['rest', 'soap-basic', 'soap-usernametoken', 'wsman', 'wsman-digest'];

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function request(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = http.request(`${base}${path}`, { method, headers: { ...headers, ...(body ? { 'Content-Length': String(Buffer.byteLength(body)) } : {}) } }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (b += c));
      const values = res.rawHeaders.flatMap((v, i) => (i % 2 === 1 && res.rawHeaders[i - 1].toLowerCase() === 'www-authenticate' ? [v] : []));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] as string | undefined, challenges: values, body: b }));
    });
    r.on('error', reject);
    r.end(body);
  });
}

/** one login attempt through a door, as its usual client sends it */
function login(base: string, door: Door, user: string, password: string, address: string): Promise<Answer> {
  const xff = { 'X-Forwarded-For': address };
  switch (door) {
    case 'rest':
      return request(base, 'GET', '/cimi/cloudEntryPoint', { ...xff, Accept: 'application/json', Authorization: basic(user, password) });
    case 'soap-basic':
    case 'soap-usernametoken': {
      const header =
        door === 'soap-usernametoken'
          ? `<soap:Header><wsse:Security xmlns:wsse="${WSSE}"><wsse:UsernameToken><wsse:Username>${user}</wsse:Username><wsse:Password>${password}</wsse:Password></wsse:UsernameToken></wsse:Security></soap:Header>`
          : '';
      const env = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11}" xmlns:t="${TNS}">${header}<soap:Body><t:ListMachineConfigurations/></soap:Body></soap:Envelope>`;
      const headers: Record<string, string> = { ...xff, 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"urn:cimi-gateway:soap:1:ListMachineConfigurations"' };
      if (door === 'soap-basic') headers.Authorization = basic(user, password);
      return request(base, 'POST', '/soap', headers, env);
    }
    case 'wsman':
      // Identify with credentials authenticates (docs/wsman.md §1.5)
      return request(base, 'POST', '/wsman', { ...xff, 'Content-Type': 'application/soap+xml;charset=UTF-8', Authorization: basic(user, password) }, IDENTIFY);
    case 'wsman-digest':
      return digestLogin(base, user, password, xff);
  }
}

const IDENTIFY = `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>`;

/** RFC 7616 §3.4 SHA-256, qop=auth: the challenge of a credential-less POST (a wsmancli's first request), then the answer */
async function digestLogin(base: string, user: string, password: string, xff: Record<string, string>): Promise<Answer> {
  const headers = { ...xff, 'Content-Type': 'application/soap+xml;charset=UTF-8' };
  // not an Identify (answered anonymously): an empty Body, challenged before it is looked at
  const first = await request(base, 'POST', '/wsman', headers, IDENTIFY.replace('<wsmid:Identify/>', ''));
  const ch = first.challenges.find((c) => /^Digest .*algorithm=SHA-256/.test(c));
  if (!ch) return first; // refused before the challenge (the in-flight cap)
  const p = Object.fromEntries([...ch.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
  const h = (x: string) => createHash('sha256').update(x).digest('hex');
  const cnonce = 'abcdef0123456789';
  const response = h(`${h(`${user}:${p.realm}:${password}`)}:${p.nonce}:00000001:${cnonce}:auth:${h('POST:/wsman')}`);
  const auth = `Digest username="${user}", realm="${p.realm}", nonce="${p.nonce}", uri="/wsman", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="${cnonce}", response="${response}", opaque="${p.opaque}"`;
  return request(base, 'POST', '/wsman', { ...headers, Authorization: auth }, IDENTIFY);
}

/** what each door answers a wrong password (docs/cimi.md §4, docs/soap.md §4, docs/wsman.md §3) */
function expectRefused(door: Door, a: Answer): void {
  if (door === 'soap-usernametoken') {
    expect(a.status).toBe(500);
    expect(a.body).toContain('FailedAuthentication');
  } else expect(a.status).toBe(401);
}

/** what each door answers a throttled login: 429 + Retry-After (REST, SOAP), wsman:QuotaLimit with 500 + Retry-After */
function expectThrottled(door: Door, a: Answer, code: 'AUTH.DELAYED' | 'AUTH.LOCKED'): void {
  expect(Number(a.retryAfter)).toBeGreaterThanOrEqual(1);
  if (door === 'rest') {
    expect(a.status).toBe(429);
    expect(JSON.parse(a.body).statusMessage).toMatch(new RegExp(`^${code.replace('.', '\\.')}:`));
  } else if (door.startsWith('wsman')) {
    expect(a.status).toBe(500);
    expect(a.body).toMatch(/<s:Value>wsman:QuotaLimit<\/s:Value>/);
    expect(a.body).toContain(`Code="${code}"`);
  } else {
    expect(a.status).toBe(429);
    expect(a.body).toContain('<faultcode>soap:Client</faultcode>');
    expect(a.body).toContain(`<t:code>${code}</t:code>`);
  }
}

describe.each(ENGINES)('abuse limits [%s]', (engine) => {
  let h: Harness;
  let base: string;
  beforeAll(async () => {
    h = await startHarness(
      engine,
      {
        TRUST_PROXY: 'loopback',
        AUTH_USER_FREE_FAILURES: '2',
        AUTH_USER_LOCK_FAILURES: '4',
        AUTH_ADDRESS_FREE_FAILURES: '50',
        AUTH_ADDRESS_LOCK_FAILURES: '100',
        AUTH_DELAY_BASE_MS: '300',
        AUTH_DELAY_MAX_MS: '1000',
        AUTH_LOCK_SECONDS: String(LOCK_S),
        MAX_INFLIGHT_PER_CALLER: '2',
        AUDIT_FLUSH_MS: '0',
      },
      { listen: true },
    );
    base = `http://127.0.0.1:${(h.app.getHttpServer().address() as AddressInfo).port}`;
    const identity = h.get(IdentityService);
    await identity.ensureTenant('abuse');
    for (const n of DOORS) {
      await identity.addUser({ userName: `victim-${n}`, password: PW, tenant: 'abuse', roles: ['user'] });
      await identity.addUser({ userName: `bystander-${n}`, password: PW, tenant: 'abuse', roles: ['user'] });
    }
  }, 60000);
  afterAll(() => h?.close());

  async function auditOf(userName: string): Promise<AuditEvent[]> {
    const audit = h.get(AuditService);
    await audit.flush();
    const admin = h.get(IdentityService);
    const ctx = admin.context(await admin.authenticate('admin', ADMIN_PASSWORD), 'internal', 'test');
    const page = await audit.list(ctx, { first: 1, last: 1000 });
    return page.items.filter((e) => e.initiator.name === userName);
  }

  it.each(DOORS)(
    '%s: failed logins are delayed, then locked; the lock refuses the right password, spares others, is audited and expires',
    async (door) => {
      const user = `victim-${door}`;
      const addr = `198.51.100.${DOORS.indexOf(door) + 10}`;
      const other = `203.0.113.${DOORS.indexOf(door) + 10}`;
      // two free failures, the third is still answered as a wrong password but starts a delay
      for (let i = 0; i < 3; i++) expectRefused(door, await login(base, door, user, 'wrong-password', addr));
      const delayed = await login(base, door, user, PW, addr);
      expectThrottled(door, delayed, 'AUTH.DELAYED');
      // not held open: refused at once, with the time to wait
      await sleep(Number(delayed.retryAfter) * 1000);
      // the fourth failure locks the user name
      expectRefused(door, await login(base, door, user, 'wrong-password', addr));
      const locked = await login(base, door, user, PW, addr);
      expectThrottled(door, locked, 'AUTH.LOCKED');
      // from another address too: the lock is on the user name
      expectThrottled(door, await login(base, door, user, PW, other), 'AUTH.LOCKED');
      // another user is unaffected
      expect((await login(base, door, `bystander-${door}`, PW, other)).status).toBe(200);
      // the trail: wrong passwords, then the throttle's refusals, all `authenticate` failures with the address
      const records = await auditOf(user);
      const codes = records.map((e) => e.reason.reasonCode);
      expect(codes).toEqual(expect.arrayContaining([door === 'soap-usernametoken' ? 'WSSE.FailedAuthentication' : 'AUTH.UNAUTHENTICATED', 'AUTH.DELAYED', 'AUTH.LOCKED']));
      const lockRecord = records.find((e) => e.reason.reasonCode === 'AUTH.LOCKED')!;
      expect(lockRecord).toMatchObject({ action: 'authenticate', outcome: 'failure', initiator: { id: 'unknown', host: { address: addr } } });
      // the lock expires; the right password then works and clears the count
      await sleep(LOCK_S * 1000 + 200);
      const back = await login(base, door, user, PW, addr);
      expect(back.status).toBe(200);
      expectRefused(door, await login(base, door, user, 'wrong-password', addr));
      expect((await login(base, door, user, PW, addr)).status).toBe(200);
    },
    30000,
  );

  it('the in-flight cap per caller: 429 with Retry-After on every door, freed when the requests end', async () => {
    const addr = '192.0.2.77';
    // two requests whose bodies have not arrived yet stay in flight (counted from their headers)
    const held = [0, 1].map(() => {
      const r = http.request(`${base}/cimi/machines`, { method: 'POST', headers: { 'X-Forwarded-For': addr, 'Content-Type': 'application/json', 'Content-Length': '2', Authorization: basic('admin', ADMIN_PASSWORD) } });
      const done = new Promise<number>((resolve) => r.on('response', (res) => (res.resume(), resolve(res.statusCode!))));
      r.on('error', () => undefined);
      r.write('{');
      return { r, done };
    });
    await eventually(async () => {
      const a = await login(base, 'rest', 'admin', ADMIN_PASSWORD, addr);
      return a.status === 429 ? a : undefined;
    }).then((a) => {
      expect(a.retryAfter).toBe('1');
      expect(JSON.parse(a.body).statusMessage).toMatch(/^GENERIC\.TOO_MANY_REQUESTS:/);
    });
    const soap = await login(base, 'soap-basic', 'admin', ADMIN_PASSWORD, addr);
    expect(soap.status).toBe(429);
    expect(soap.retryAfter).toBe('1');
    expect(soap.body).toContain('<t:code>GENERIC.TOO_MANY_REQUESTS</t:code>');
    const wsman = await login(base, 'wsman', 'admin', ADMIN_PASSWORD, addr);
    expect(wsman.status).toBe(500);
    expect(wsman.retryAfter).toBe('1');
    expect(wsman.body).toContain('wsman:QuotaLimit');
    // other callers are not affected
    expect((await login(base, 'rest', 'admin', ADMIN_PASSWORD, '192.0.2.78')).status).toBe(200);
    for (const x of held) x.r.end('}');
    await Promise.all(held.map((x) => x.done));
    expect((await login(base, 'rest', 'admin', ADMIN_PASSWORD, addr)).status).toBe(200);
  });
});
