import { Agent } from 'node:http';
import { createHash } from 'node:crypto';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { startGatewayProcess } from '../../support/gateway-process';
import { ACT, basic, CS, envelope, fault, IDENTIFY, NS, one, payload, post, run, text, useWsmanApp, type WsResponse } from '../../support/wsman-client';

/** a Get that needs authentication (the instance does not exist: a fault, but only once authenticated) */
const GET = envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: '00000000-0000-4000-8000-000000000000' } });

function challenge(h: string | string[] | undefined, scheme: string, algorithm?: string): Record<string, string> | undefined {
  const list = Array.isArray(h) ? h : h ? [h] : [];
  const c = list.find((x) => x.toLowerCase().startsWith(scheme.toLowerCase()) && (!algorithm || x.includes(`algorithm=${algorithm}`)));
  if (!c) return undefined;
  const out: Record<string, string> = {};
  for (const m of c.matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)) out[m[1]] = m[2] ?? m[3];
  return out;
}

function digestHeader(ch: Record<string, string>, algorithm: 'MD5' | 'SHA-256', password = ADMIN_PASSWORD, user = 'admin', uri = '/wsman', nc = '00000001'): string {
  const hash = (s: string) => createHash(algorithm === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');
  const cnonce = 'abcdef0123456789';
  const ha1 = hash(`${user}:${ch.realm}:${password}`);
  const ha2 = hash(`POST:${uri}`);
  const response = hash(`${ha1}:${ch.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${user}", realm="${ch.realm}", nonce="${ch.nonce}", uri="${uri}", algorithm=${algorithm}, qop=auth, nc=${nc}, cnonce="${cnonce}", response="${response}", opaque="${ch.opaque}"`;
}

const SECURITY = {
  httpBasic: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/basic',
  httpDigest: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest',
  httpsBasic: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/basic',
  httpsDigest: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/digest',
};
const profiles = (r: WsResponse) => Array.from(payload(r)!.getElementsByTagNameNS(NS.wsmid, 'SecurityProfileName')).map((e) => e.textContent);

/** Behind a TLS proxy (README configuration: TRUST_PROXY): the proxy's X-Forwarded-Proto says the client's transport (DSP0226 §11). */
describe.each(ENGINES)('WS-Man Identify behind a trusted proxy [%s]', (engine) => {
  const env = useWsmanApp(engine, { TRUST_PROXY: 'loopback' });

  it('a request the proxy forwarded from https is told the https profiles; one it forwarded from http the http ones', async () => {
    expect(profiles(await post(env().port, IDENTIFY, { headers: { 'X-Forwarded-Proto': 'https' } }))).toEqual([SECURITY.httpsBasic, SECURITY.httpsDigest]);
    expect(profiles(await post(env().port, IDENTIFY, { headers: { 'X-Forwarded-Proto': 'http' } }))).toEqual([SECURITY.httpBasic, SECURITY.httpDigest]);
    expect(profiles(await post(env().port, IDENTIFY))).toEqual([SECURITY.httpBasic, SECURITY.httpDigest]);
  });
});

describe.each(ENGINES)('WS-Man Identify and authentication [%s]', (engine) => {
  const env = useWsmanApp(engine);

  it('Identify without credentials: protocol version, vendor, version; no security profiles', async () => {
    const r = await post(env().port, IDENTIFY, { auth: null });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/soap+xml;charset=UTF-8');
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
    const p = payload(r)!;
    expect([p.namespaceURI, p.localName]).toEqual([NS.wsmid, 'IdentifyResponse']);
    expect(text(p, NS.wsmid, 'ProtocolVersion')).toBe(NS.wsman);
    expect(text(p, NS.wsmid, 'ProductVendor')).toBe('cimi-gateway');
    expect(text(p, NS.wsmid, 'ProductVersion')).toMatch(/^\d+\.\d+/);
    expect(one(p, NS.wsmid, 'SecurityProfiles')).toBeUndefined();
  });

  it('Identify with WSMANIDENTIFY: unauthenticated, and with credentials (then security profiles are listed)', async () => {
    const anon = await post(env().port, IDENTIFY, { auth: null, headers: { WSMANIDENTIFY: 'unauthenticated' } });
    expect(anon.status).toBe(200);
    const authd = await post(env().port, IDENTIFY);
    expect(authd.status).toBe(200);
    const names = Array.from(payload(authd)!.getElementsByTagNameNS(NS.wsmid, 'SecurityProfileName')).map((e) => e.textContent);
    expect(names).toEqual(expect.arrayContaining(['http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/basic', 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest']));
    const bad = await post(env().port, IDENTIFY, { auth: basic('admin', 'wrong-password') });
    expect(bad.status).toBe(401);
  });

  it('X-Forwarded-Proto is not believed by default (TRUST_PROXY unset): Identify keeps advertising the http profiles', async () => {
    const r = await post(env().port, IDENTIFY, { headers: { 'X-Forwarded-Proto': 'https' } });
    expect(profiles(r)).toEqual([SECURITY.httpBasic, SECURITY.httpDigest]);
  });

  it('Basic: a request without credentials gets 401 with Basic and Digest challenges; the same body with Basic then succeeds on the same connection', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const first = await post(env().port, GET, { auth: null, agent });
    expect(first.status).toBe(401);
    expect(challenge(first.headers['www-authenticate'], 'Basic')?.realm).toBe('cimi-gateway');
    expect(challenge(first.headers['www-authenticate'], 'Digest', 'SHA-256')?.qop).toBe('auth');
    expect(challenge(first.headers['www-authenticate'], 'Digest', 'MD5')?.nonce).toBeTruthy();
    const second = await post(env().port, GET, { auth: basic(), agent });
    expect(second.reusedSocket).toBe(true); // the 401 left the connection open (docs/wsman.md §7.1)
    expect(second.status).toBe(500); // authenticated: the fault for the missing instance
    expect(fault(second).subcode).toBe('DestinationUnreachable');
    const wrong = await post(env().port, GET, { auth: basic('admin', 'not-the-password'), agent });
    expect(wrong.status).toBe(401);
    agent.destroy();
  });

  it.each(['MD5', 'SHA-256'] as const)('Digest %s: challenge, then credentials; wrong password, forged nonce, wrong uri are 401', async (alg) => {
    const first = await post(env().port, GET, { auth: null });
    const ch = challenge(first.headers['www-authenticate'], 'Digest', alg)!;
    expect(ch.realm).toBe('cimi-gateway');
    const ok = await post(env().port, GET, { auth: digestHeader(ch, alg) });
    expect(ok.status).toBe(500);
    expect(fault(ok).subcode).toBe('DestinationUnreachable');
    expect((await post(env().port, GET, { auth: digestHeader(ch, alg, 'wrong-password') })).status).toBe(401);
    expect((await post(env().port, GET, { auth: digestHeader({ ...ch, nonce: `${ch.nonce.slice(0, -4)}AAAA` }, alg) })).status).toBe(401);
    expect((await post(env().port, GET, { auth: digestHeader(ch, alg, ADMIN_PASSWORD, 'admin', '/other') })).status).toBe(401);
  });

  it('Digest with curl --digest (an independent client): the 401 challenge, then the authenticated answer', async () => {
    const r = await run('curl', ['-sS', '-v', '--digest', '-u', `admin:${ADMIN_PASSWORD}`, '-H', 'Content-Type: application/soap+xml;charset=UTF-8', '--data-binary', IDENTIFY, `http://127.0.0.1:${env().port}/wsman`]);
    // Identify with credentials: curl first sends none (answered anonymously with 200), so force a challenge with a Get
    expect(r.code).toBe(0);
    const g = await run('curl', ['-sS', '-v', '--digest', '-u', `admin:${ADMIN_PASSWORD}`, '-H', 'Content-Type: application/soap+xml;charset=UTF-8', '--data-binary', GET, `http://127.0.0.1:${env().port}/wsman`]);
    expect(g.stderr).toMatch(/< HTTP\/1\.1 401/);
    expect(g.stderr).toMatch(/> Authorization: Digest /);
    expect(g.stderr).toMatch(/< HTTP\/1\.1 500/);
    expect(g.stdout).toContain('DestinationUnreachable');
    const bad = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--digest', '-u', 'admin:nope-nope', '-H', 'Content-Type: application/soap+xml', '--data-binary', GET, `http://127.0.0.1:${env().port}/wsman`]);
    expect(bad.stdout).toBe('401');
  });

  it('Digest nonces from one gateway process are accepted by another OS process on the same database', async () => {
    // a second gateway (src/main.ts as its own process) on this suite's database and secret key file
    const other = await startGatewayProcess({ DATABASE_URL: env().h.db.databaseUrl, SQLITE_PATH: env().h.db.sqlitePath, ADMIN_PASSWORD, SEED_DEMO: 'false', JOB_WORKER: 'false' });
    try {
      const first = await post(env().port, GET, { auth: null });
      const ch = challenge(first.headers['www-authenticate'], 'Digest', 'SHA-256')!;
      const r = await post(other.port, GET, { auth: digestHeader(ch, 'SHA-256') });
      expect(r.status).toBe(500);
      expect(fault(r).subcode).toBe('DestinationUnreachable');
      // and the other way round, with MD5
      const back = challenge((await post(other.port, GET, { auth: null })).headers['www-authenticate'], 'Digest', 'MD5')!;
      expect((await post(env().port, GET, { auth: digestHeader(back, 'MD5') })).status).toBe(500);
      // RFC 7616 §5.5: a captured header replayed, to either process, is refused (the nonce counts are shared in the
      // database); the client's next count under the same nonce is accepted
      for (const port of [env().port, other.port]) expect((await post(port, GET, { auth: digestHeader(ch, 'SHA-256') })).status).toBe(401);
      expect((await post(env().port, GET, { auth: digestHeader(ch, 'SHA-256', ADMIN_PASSWORD, 'admin', '/wsman', '00000002') })).status).toBe(500);
    } finally {
      await other.kill('SIGTERM');
    }
  });

  it('unknown schemes and malformed Basic are 401, never a 500 or HTML', async () => {
    for (const auth of ['Negotiate abc', 'Basic !!!', 'Digest username="admin"']) {
      const r = await post(env().port, GET, { auth });
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toBeDefined();
    }
  });
});
