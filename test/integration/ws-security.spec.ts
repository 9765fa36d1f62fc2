import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { WS_SECURITY_VERIFIER, WsSecurityError, type WsSecurityVerifier } from '../../src/adapters/soap/ws-security/ws-security.contract';
import { CertificateService } from '../../src/model/identity/certificate.service';
import type { OperationContext } from '../../src/model/shared/operation-context';
import { REPLAY_CACHE, type ReplayCache } from '../../src/model/shared/ports';
import { DATA_SOURCE } from '../../src/persistence/typeorm/data-source';
import type { DataSource } from 'typeorm';
import { startHarness, type Harness } from '../support/app-harness';
import { ENGINES } from '../support/databases';
import { CertFactory, xmlsec1Envelope, zeepEnvelopes, type TestCert, type ZeepRequest } from '../support/wsse/zeep-wsse';

/**
 * WS-Security verification (issue 4 §6) against envelopes built by zeep's wsse plugins (UsernameToken, Signature,
 * BinarySignature via python3-xmlsec), with the tampering done here. The verifier is the one the Nest app
 * resolves, on a real database; a second app instance on the same database shares the replay cache.
 */
// zeep and key generation run in child processes; the machine is shared
jest.setTimeout(30000);

const TYPES = 'urn:cimi-gateway:test';
const BODY = `<t:GetMachine xmlns:t="${TYPES}"><t:id>m-1</t:id></t:GetMachine>`;
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const SECRET_KEY = 'wss-test-secret-key-0123456789abcdef';

const parse = (xml: string): Document => new DOMParser().parseFromString(xml, 'text/xml');
const serialize = (doc: Document): string => new XMLSerializer().serializeToString(doc);
const first = (doc: Document | Element, ns: string, name: string): Element => doc.getElementsByTagNameNS(ns, name).item(0)!;
const soapNs = (doc: Document) => doc.documentElement!.namespaceURI!;

function edit(xml: string, fn: (doc: Document) => void): string {
  const doc = parse(xml);
  fn(doc);
  return serialize(doc);
}

async function rejected(p: Promise<unknown>, code: string, message?: RegExp): Promise<WsSecurityError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(WsSecurityError);
  const w = e as WsSecurityError;
  expect({ code: w.code, message: w.message }).toEqual({ code, message: message ? expect.stringMatching(message) : expect.any(String) });
  return w;
}

describe.each(ENGINES)('WS-Security verifier on %s', (engine) => {
  let h: Harness;
  let h2: Harness;
  let v: WsSecurityVerifier;
  let v2: WsSecurityVerifier;
  let certs: CertFactory;
  let admin: OperationContext;
  let alice: OperationContext;
  let trusted: TestCert;
  let untrusted: TestCert;

  beforeAll(async () => {
    h = await startHarness(engine, { SECRET_KEY });
    // a second gateway process on the same database (same SQLite file or PostgreSQL schema), SHA-1 enabled there
    h2 = await startHarness(engine, {
      SECRET_KEY,
      SQLITE_PATH: h.db.sqlitePath,
      ...(h.db.databaseUrl ? { DATABASE_URL: h.db.databaseUrl } : {}),
      WSS_ALLOW_SHA1: 'true',
      SEED_DEMO: 'false',
    });
    v = h.app.get<WsSecurityVerifier>(WS_SECURITY_VERIFIER);
    v2 = h2.app.get<WsSecurityVerifier>(WS_SECURITY_VERIFIER);
    admin = await h.user('acme', ['admin']);
    alice = await h.user('acme', ['user'], `alice-${engine}`);
    certs = new CertFactory();
    trusted = certs.make('interop-test');
    untrusted = certs.make('interop-test'); // same subject, other key: must not be trusted
    await h.get(CertificateService).registerCertificate(admin, alice.principal.userName, trusted.pem);
  }, 60000);

  afterAll(async () => {
    certs?.cleanup();
    await h2?.close();
    await h?.close();
  });

  const aliceName = () => alice.principal.userName;
  const signed = (extra: Partial<ZeepRequest['signature']> = {}, r: Partial<ZeepRequest> = {}): ZeepRequest => ({
    body: BODY,
    timestamp: { ttl: 300 },
    signature: { key: trusted.key, cert: trusted.cert, binary: true, signature_method: 'RSA_SHA256', digest_method: 'SHA256', ...extra },
    ...r,
  });

  it('has nothing to say about an envelope without a Security header (the edge falls back to HTTP Basic)', async () => {
    const raw = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>${BODY}</s:Body></s:Envelope>`;
    await expect(v.verify(raw, '1.1')).resolves.toBeUndefined();
  });

  describe('UsernameToken', () => {
    it('accepts PasswordText and PasswordDigest from zeep on both SOAP versions', async () => {
      const [text11, digest11, text12, digest12, digestZulu] = zeepEnvelopes([
        { body: BODY, username: { user: aliceName(), password: 'password-123' } },
        { body: BODY, username: { user: aliceName(), password: 'password-123', digest: true } },
        { soap: '1.2', body: BODY, username: { user: aliceName(), password: 'password-123' } },
        { soap: '1.2', body: BODY, username: { user: aliceName(), password: 'password-123', digest: true } },
        { body: BODY, username: { user: aliceName(), password: 'password-123', digest: true, zulu: true } },
      ]);
      const user = { userId: alice.principal.userId, userName: aliceName(), tenantId: 'acme', roles: ['user'] };
      await expect(v.verify(text11, '1.1')).resolves.toEqual({ user, credentialType: 'wss-password-text' });
      await expect(v.verify(digest11, '1.1')).resolves.toEqual({ user, credentialType: 'wss-password-digest' });
      await expect(v.verify(text12, '1.2')).resolves.toEqual({ user, credentialType: 'wss-password-text' });
      await expect(v.verify(digest12, '1.2')).resolves.toEqual({ user, credentialType: 'wss-password-digest' });
      await expect(v.verify(digestZulu, '1.1')).resolves.toEqual({ user, credentialType: 'wss-password-digest' });
    });

    it('refuses a wrong password (text and digest) and an unknown user alike', async () => {
      const [text, digest, unknown] = zeepEnvelopes([
        { body: BODY, username: { user: aliceName(), password: 'wrong-password' } },
        { body: BODY, username: { user: aliceName(), password: 'wrong-password', digest: true } },
        { body: BODY, username: { user: 'nobody-here', password: 'password-123', digest: true } },
      ]);
      await rejected(v.verify(text, '1.1'), 'FailedAuthentication', /invalid user name or password/);
      await rejected(v.verify(digest, '1.1'), 'FailedAuthentication', /invalid user name or password/);
      await rejected(v.verify(unknown, '1.1'), 'FailedAuthentication', /invalid user name or password/);
    });

    it('refuses a replayed nonce, also when the replay reaches another gateway process', async () => {
      const [a, b] = zeepEnvelopes([
        { body: BODY, username: { user: aliceName(), password: 'password-123', digest: true } },
        { body: BODY, username: { user: aliceName(), password: 'password-123', digest: true } },
      ]);
      await expect(v.verify(a, '1.1')).resolves.toMatchObject({ credentialType: 'wss-password-digest' });
      await rejected(v.verify(a, '1.1'), 'InvalidSecurity', /Nonce was already used/);
      await rejected(v2.verify(a, '1.1'), 'InvalidSecurity', /Nonce was already used/);
      // the other process first, then this one
      await expect(v2.verify(b, '1.1')).resolves.toMatchObject({ credentialType: 'wss-password-digest' });
      await rejected(v.verify(b, '1.1'), 'InvalidSecurity', /Nonce was already used/);
    });

    it('lets exactly one of two processes accept the same nonce when they race', async () => {
      const [a] = zeepEnvelopes([{ body: BODY, username: { user: aliceName(), password: 'password-123', digest: true } }]);
      const results = await Promise.allSettled([v.verify(a, '1.1'), v2.verify(a, '1.1'), v.verify(a, '1.1'), v2.verify(a, '1.1')]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) expect(r.reason).toMatchObject({ code: 'InvalidSecurity' });
    });

    it('refuses a digest whose Created is outside the window (too old, or in the future beyond the skew)', async () => {
      const [old, future] = zeepEnvelopes([
        { body: BODY, username: { user: aliceName(), password: 'password-123', digest: true, created_offset: -600 } },
        { body: BODY, username: { user: aliceName(), password: 'password-123', digest: true, created_offset: 600 } },
      ]);
      await rejected(v.verify(old, '1.1'), 'MessageExpired', /too old/);
      await rejected(v.verify(future, '1.1'), 'MessageExpired', /future/);
    });

    it('refuses a digest without a nonce, and a digest for a changed Created', async () => {
      const [d] = zeepEnvelopes([{ body: BODY, username: { user: aliceName(), password: 'password-123', digest: true } }]);
      const noNonce = edit(d, (doc) => {
        const n = first(doc, 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd', 'Nonce');
        n.parentNode!.removeChild(n);
      });
      await rejected(v.verify(noNonce, '1.1'), 'InvalidSecurityToken', /needs a Nonce and a Created/);
      const otherCreated = edit(d, (doc) => {
        const c = first(doc, WSU, 'Created');
        c.textContent = new Date(Date.now() - 1000).toISOString();
      });
      await rejected(v.verify(otherCreated, '1.1'), 'FailedAuthentication');
    });
  });

  describe('X.509 signatures', () => {
    it('accepts zeep BinarySignature and Signature (RSA-SHA256) on both SOAP versions, attributed to the registered user', async () => {
      const envs = zeepEnvelopes([signed(), signed({ binary: false }), signed({}, { soap: '1.2' }), signed({ signature_method: 'RSA_SHA512', digest_method: 'SHA512' })]);
      const versions: ('1.1' | '1.2')[] = ['1.1', '1.1', '1.2', '1.1'];
      for (const [i, raw] of envs.entries()) {
        await expect(v.verify(raw, versions[i])).resolves.toEqual({
          user: { userId: alice.principal.userId, userName: aliceName(), tenantId: 'acme', roles: ['user'] },
          credentialType: 'wss-x509',
        });
      }
    });

    it('accepts a message signed by xmlsec1 with InclusiveNamespaces prefix lists (another signer, WSS4J/WCF layout), both SOAP versions', async () => {
      for (const soap of ['1.1', '1.2'] as const) {
        const raw = xmlsec1Envelope(trusted, BODY, soap);
        await expect(v.verify(raw, soap)).resolves.toMatchObject({ credentialType: 'wss-x509', user: { userName: aliceName() } });
        await rejected(v.verify(raw.replace('<t:id>m-1</t:id>', '<t:id>m-2</t:id>'), soap), 'FailedCheck');
      }
    });

    it('refuses a replayed signed message, also on another gateway process', async () => {
      const [a] = zeepEnvelopes([signed()]);
      await expect(v.verify(a, '1.1')).resolves.toMatchObject({ credentialType: 'wss-x509' });
      await rejected(v.verify(a, '1.1'), 'InvalidSecurity', /already received/);
      await rejected(v2.verify(a, '1.1'), 'InvalidSecurity', /already received/);
      // another base64 spelling of the same SignatureValue (unused low bits of the last digit) is the same message
      const respelled = edit(a, (doc) => {
        const sv = first(doc, DS, 'SignatureValue');
        const text = sv.textContent!.replace(/\s+/g, '');
        const m = /([A-Za-z0-9+/])(==?)$/.exec(text)!;
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
        const i = alphabet.indexOf(m[1]);
        const other = alphabet[i ^ 1];
        sv.textContent = text.slice(0, -m[0].length) + other + m[2];
      });
      expect(Buffer.from(first(parse(respelled), DS, 'SignatureValue').textContent!, 'base64')).toEqual(
        Buffer.from(first(parse(a), DS, 'SignatureValue').textContent!.replace(/\s+/g, ''), 'base64'),
      );
      await rejected(v.verify(respelled, '1.1'), 'InvalidSecurity', /already received/);
    });

    it('refuses a tampered Body (checkSignature is false)', async () => {
      const [a] = zeepEnvelopes([signed()]);
      const tampered = a.replace('<t:id>m-1</t:id>', '<t:id>m-2</t:id>');
      expect(tampered).not.toBe(a);
      await rejected(v.verify(tampered, '1.1'), 'FailedCheck', /signature is not valid/);
    });

    it('refuses a wrapped Body (signed Body moved into the Header, a new Body in its place)', async () => {
      const [a] = zeepEnvelopes([signed()]);
      const wrapped = edit(a, (doc) => {
        const ns = soapNs(doc);
        const body = first(doc, ns, 'Body');
        const wrapper = doc.createElementNS('urn:wrap', 'w:Wrapper');
        first(doc, ns, 'Header').appendChild(wrapper);
        wrapper.appendChild(body);
        const evil = doc.createElementNS(ns, 'soap-env:Body');
        evil.appendChild(parse(`<t:DeleteMachine xmlns:t="${TYPES}"><t:id>m-1</t:id></t:DeleteMachine>`).documentElement!);
        doc.documentElement!.appendChild(evil);
      });
      await rejected(v.verify(wrapped, '1.1'), 'InvalidSecurity', /Body/);
      // the same with the new Body carrying the signed Body's Id
      const sameId = edit(wrapped, (doc) => {
        const bodies = doc.getElementsByTagNameNS(soapNs(doc), 'Body');
        const signedBody = bodies.item(0)!;
        bodies.item(1)!.setAttributeNS(WSU, 'wsu:Id', signedBody.getAttributeNS(WSU, 'Id')!);
      });
      await rejected(v.verify(sameId, '1.1'), 'InvalidSecurity');
    });

    it('refuses a signed Body whose signature only covers a copy (Body not signed by Id)', async () => {
      const [a] = zeepEnvelopes([signed()]);
      // the Body loses its Id: the reference now points nowhere in the Body
      const noId = edit(a, (doc) => first(doc, soapNs(doc), 'Body').removeAttributeNS(WSU, 'Id'));
      await rejected(v.verify(noId, '1.1'), 'FailedCheck', /Body is not signed/);
    });

    it('refuses duplicate Id values', async () => {
      const [a] = zeepEnvelopes([signed()]);
      const dup = edit(a, (doc) => {
        const tsId = first(doc, WSU, 'Timestamp').getAttributeNS(WSU, 'Id')!;
        const extra = doc.createElementNS(TYPES, 't:note');
        extra.setAttributeNS(WSU, 'wsu:Id', tsId);
        first(doc, TYPES, 'GetMachine').appendChild(extra);
      });
      await rejected(v.verify(dup, '1.1'), 'InvalidSecurity', /duplicate Id/);
    });

    it('refuses a certificate that is not registered, even with the same subject', async () => {
      const [a, b] = zeepEnvelopes([
        signed({ key: untrusted.key, cert: untrusted.cert }),
        signed({ key: untrusted.key, cert: untrusted.cert, binary: false }),
      ]);
      await rejected(v.verify(a, '1.1'), 'FailedAuthentication', /not registered/);
      await rejected(v.verify(b, '1.1'), 'FailedAuthentication', /not registered/);
      // the trusted certificate in the token, but signed with the untrusted key
      const swapped = edit(a, (doc) => {
        const bst = first(doc, 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd', 'BinarySecurityToken');
        bst.textContent = trusted.pem.replace(/-----[A-Z ]+-----|\s/g, '');
      });
      await rejected(v.verify(swapped, '1.1'), 'FailedCheck', /signature is not valid/);
    });

    it('refuses an expired Timestamp and one created too long ago', async () => {
      const [expired, old] = zeepEnvelopes([signed({}, { timestamp: { offset: -900, ttl: 300 } }), signed({}, { timestamp: { offset: -600, ttl: 3600 } })]);
      await rejected(v.verify(expired, '1.1'), 'MessageExpired');
      await rejected(v.verify(old, '1.1'), 'MessageExpired', /too old/);
    });

    it('refuses SHA-1 by default and accepts it where WSS_ALLOW_SHA1 is set', async () => {
      const [sha1, sha1digest] = zeepEnvelopes([
        signed({ signature_method: 'RSA_SHA1', digest_method: 'SHA1' }),
        signed({ signature_method: 'RSA_SHA256', digest_method: 'SHA1' }),
      ]);
      await rejected(v.verify(sha1, '1.1'), 'InvalidSecurity', /signature algorithm not allowed/);
      await rejected(v.verify(sha1digest, '1.1'), 'InvalidSecurity', /digest algorithm not allowed/);
      await expect(v2.verify(sha1, '1.1')).resolves.toMatchObject({ credentialType: 'wss-x509' });
    });

    it('refuses a signature without a signed Timestamp', async () => {
      const [noTs] = zeepEnvelopes([{ body: BODY, signature: signed().signature }]);
      await rejected(v.verify(noTs, '1.1'), 'InvalidSecurity', /needs a wsu:Timestamp/);
      // an unsigned Timestamp added afterwards
      const unsignedTs = edit(noTs, (doc) => {
        const now = Date.now();
        const ts = parse(
          `<wsu:Timestamp xmlns:wsu="${WSU}" wsu:Id="ts-1"><wsu:Created>${new Date(now).toISOString()}</wsu:Created><wsu:Expires>${new Date(now + 300000).toISOString()}</wsu:Expires></wsu:Timestamp>`,
        ).documentElement!;
        first(doc, 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd', 'Security').appendChild(doc.importNode(ts, true));
      });
      await rejected(v.verify(unsignedTs, '1.1'), 'FailedCheck', /Timestamp is not signed/);
    });

    it('refuses two Signatures, and a Signature outside the Security header', async () => {
      const [a] = zeepEnvelopes([signed()]);
      const two = edit(a, (doc) => {
        const sig = first(doc, DS, 'Signature');
        sig.parentNode!.appendChild(sig.cloneNode(true));
      });
      await rejected(v.verify(two, '1.1'), 'InvalidSecurity', /exactly one ds:Signature/);
      const moved = edit(a, (doc) => {
        const sig = first(doc, DS, 'Signature');
        first(doc, TYPES, 'GetMachine').appendChild(sig);
      });
      await rejected(v.verify(moved, '1.1'), 'InvalidSecurity', /child of the wsse:Security/);
      const manyRefs = edit(a, (doc) => {
        const ref = first(doc, DS, 'Reference');
        for (let i = 0; i < 20; i++) ref.parentNode!.appendChild(ref.cloneNode(true));
      });
      await rejected(v.verify(manyRefs, '1.1'), 'InvalidSecurity', /at most 16 signed references/);
    });

    it('refuses DOCTYPEs, non-XML entities and an envelope of the other SOAP version', async () => {
      const [a] = zeepEnvelopes([signed()]);
      const withDoctype = a.replace('<soap-env:Envelope', '<!DOCTYPE x [<!ENTITY e "boom">]><soap-env:Envelope');
      await rejected(v.verify(withDoctype, '1.1'), 'InvalidSecurity', /DTD/);
      await rejected(v.verify(a.replace('m-1', 'm&nbsp;1'), '1.1'), 'InvalidSecurity', /entities/);
      await rejected(v.verify(a, '1.2'), 'InvalidSecurity', /SOAP 1.2 Envelope/);
      const deep = a.replace('<t:id>m-1</t:id>', '<t:x>'.repeat(100) + '</t:x>'.repeat(100));
      await rejected(v.verify(deep, '1.1'), 'InvalidSecurity', /nested deeper/);
    });

    it('accepts a UsernameToken and a signature of the same user, refuses them naming two users, and refuses a header with neither', async () => {
      const bob = await h.user('acme', ['user'], `carol-${engine}`);
      const [same, mixed, stampOnly] = zeepEnvelopes([
        signed({}, { username: { user: aliceName(), password: 'password-123', digest: true } }),
        signed({}, { username: { user: bob.principal.userName, password: 'password-123', digest: true } }),
        { body: BODY, timestamp: { ttl: 300 } },
      ]);
      await expect(v.verify(same, '1.1')).resolves.toMatchObject({ credentialType: 'wss-x509', user: { userName: aliceName() } });
      await rejected(v.verify(mixed, '1.1'), 'FailedAuthentication', /different users/);
      await rejected(v.verify(stampOnly, '1.1'), 'InvalidSecurity', /neither/);
    });

    it('stops trusting a certificate once it is removed from the trust store', async () => {
      const svc = h.get(CertificateService);
      const other = certs.make('removable');
      const rec = await svc.registerCertificate(admin, aliceName(), other.pem);
      const [a, b] = zeepEnvelopes([signed({ key: other.key, cert: other.cert }), signed({ key: other.key, cert: other.cert })]);
      await expect(v.verify(a, '1.1')).resolves.toMatchObject({ credentialType: 'wss-x509' });
      await svc.removeCertificate(admin, rec.id);
      await rejected(v.verify(b, '1.1'), 'FailedAuthentication', /not registered/);
    });
  });

  describe('trust store', () => {
    it('registers, lists and removes certificates (admin only), refusing invalid, expired and duplicate ones', async () => {
      const svc = h.get(CertificateService);
      const c = certs.make('bob-cert');
      const bob = await h.user('acme', ['user'], `bob-${engine}`);
      await expect(svc.registerCertificate(alice, 'x', c.pem)).rejects.toMatchObject({ kind: 'forbidden' });
      await expect(svc.listCertificates(alice)).rejects.toMatchObject({ kind: 'forbidden' });
      const rec = await svc.registerCertificate(admin, bob.principal.userName, c.pem);
      expect(rec).toMatchObject({ userName: bob.principal.userName, subject: 'CN=bob-cert', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
      await expect(svc.registerCertificate(admin, aliceName(), c.pem)).rejects.toMatchObject({ kind: 'already-exists' });
      expect((await svc.listCertificates(admin, bob.principal.userName)).map((x) => x.id)).toEqual([rec.id]);
      expect((await svc.listCertificates(admin)).map((x) => x.id)).toContain(rec.id);
      await expect(svc.removeCertificate(alice, rec.id)).rejects.toMatchObject({ kind: 'forbidden' });
      await svc.removeCertificate(admin, rec.id);
      await expect(svc.removeCertificate(admin, rec.id)).rejects.toMatchObject({ kind: 'not-found' });
      expect(await svc.listCertificates(admin, bob.principal.userName)).toEqual([]);

      const expired = certs.make('old', -3, -1);
      const future = certs.make('later', 1, 3);
      await expect(svc.registerCertificate(admin, aliceName(), expired.pem)).rejects.toMatchObject({ kind: 'invalid-input', code: 'CERTIFICATE.NOT_VALID' });
      await expect(svc.registerCertificate(admin, aliceName(), future.pem)).rejects.toMatchObject({ kind: 'invalid-input', code: 'CERTIFICATE.NOT_VALID' });
      await expect(svc.registerCertificate(admin, aliceName(), 'not a pem')).rejects.toMatchObject({ kind: 'invalid-input' });
      await expect(svc.registerCertificate(admin, aliceName(), c.pem + '\n' + c.pem)).rejects.toMatchObject({ kind: 'invalid-input' });
      await expect(svc.registerCertificate(admin, 'no-such-user', c.pem)).rejects.toMatchObject({ kind: 'not-found' });
      const weak = certs.make('weak', -1, 2, 1024);
      await expect(svc.registerCertificate(admin, aliceName(), weak.pem)).rejects.toMatchObject({ code: 'CERTIFICATE.KEY_REJECTED' });
    });

    it('has its tables from migration 1700000000003, with the unique fingerprint and the expiry index', async () => {
      const qr = h.app.get<DataSource>(DATA_SOURCE).createQueryRunner();
      try {
        const certTable = (await qr.getTable('client_certificate'))!;
        expect(certTable.indices.map((i) => i.name)).toContain('ix_client_certificate_user');
        const uniques = [...certTable.uniques.map((u) => u.columnNames), ...certTable.indices.filter((i) => i.isUnique).map((i) => i.columnNames)];
        expect(uniques).toContainEqual(['fingerprint']);
        const replay = (await qr.getTable('wss_replay'))!;
        expect(replay.primaryColumns.map((c) => c.name)).toEqual(['key_hash']);
        expect(replay.indices.map((i) => i.name)).toContain('ix_wss_replay_expires');
      } finally {
        await qr.release();
      }
    });

    it('purges expired replay entries', async () => {
      const cache = h.app.get<ReplayCache>(REPLAY_CACHE);
      const now = new Date();
      const key = 'f'.repeat(63) + engine.length;
      expect(await cache.remember(key, new Date(now.getTime() + 1000), now)).toBe(true);
      expect(await cache.remember(key, new Date(now.getTime() + 1000), now)).toBe(false);
      expect(await cache.purgeExpired(new Date(now.getTime() + 5000))).toBeGreaterThanOrEqual(1);
      expect(await cache.remember(key, new Date(now.getTime() + 1000), now)).toBe(true);
    });
  });
});
