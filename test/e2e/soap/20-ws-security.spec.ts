import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { CertificateService } from '../../../src/model/identity/certificate.service';
import { ResourceService } from '../../../src/model/shared/resource.service';
import type { OperationContext } from '../../../src/model/shared/operation-context';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../support/app-harness';
import { ENGINES } from '../../support/databases';
import { CertFactory, DEBIAN_PYTHON, duplicateTimestampId, wrapBody, zeepEnvelopes, type TestCert, type ZeepRequest } from '../../support/wsse/zeep-wsse';
import { faultOf, post, snapshot, TNS } from './soap-support';

/**
 * WS-Security through the SOAP door (issue 4 §6): zeep's generated client (from /soap?wsdl) calls the running app
 * over HTTP with UsernameToken PasswordText and PasswordDigest and with an X.509 BinarySignature (RSA-SHA256), on
 * both ports; the certificate is registered through the SOAP admin operation; a Body changed after signing is
 * refused with a wsse fault and changes nothing.
 */
interface ZeepOutcome {
  status: number;
  result?: Record<string, unknown>;
  fault?: { code: string; subcodes: string[]; message: string };
}

interface Call {
  port?: 'CimiGatewayPort' | 'CimiGatewayPort12';
  op: string;
  args?: Record<string, unknown>;
  username?: { user: string; password: string; digest?: boolean };
  signature?: { key: string; cert: string; signature_method?: string; digest_method?: string };
  tamper?: { from: string; to: string };
}

/** SOAP 1.1: faultcode wsse:X; SOAP 1.2: Code Sender with Subcode wsse:X (WSS 1.1 §12) */
const wsseFault = (port: string, code: string) =>
  port === 'CimiGatewayPort12' ? { code: 'soap:Sender', subcodes: [expect.stringContaining(code)] } : { code: `wsse:${code}` };

function zeepCall(wsdl: string, call: Call): Promise<ZeepOutcome> {
  return new Promise((resolve, reject) => {
    const child = execFile(DEBIAN_PYTHON, [join(__dirname, '../../support/wsse/zeep_wss_call.py')], { timeout: 60000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`zeep failed: ${stderr || err.message}`));
      resolve(JSON.parse(stdout) as ZeepOutcome);
    });
    child.stdin!.end(JSON.stringify({ wsdl, ...call }));
  });
}

jest.setTimeout(120000);

describe.each(ENGINES)('SOAP WS-Security with zeep on %s', (engine) => {
  let h: Harness;
  let wsdl: string;
  let base: string;
  let alice: OperationContext;
  let acmeAdmin: OperationContext;
  let certs: CertFactory;
  let trusted: TestCert;
  const admin = { user: 'admin', password: ADMIN_PASSWORD };
  const alicePw = () => ({ user: alice.principal.userName, password: 'password-123' });
  const configs = async () => (await h.get(ResourceService).list(alice, 'MachineConfiguration')).items.map((r) => r.name);

  beforeAll(async () => {
    h = await startHarness(engine, {}, { listen: true });
    const { port } = h.app.getHttpServer().address() as { port: number };
    base = `http://127.0.0.1:${port}`;
    wsdl = `${base}/soap?wsdl`;
    alice = await h.user('acme', ['user'], `alice-${engine}`);
    certs = new CertFactory();
    trusted = certs.make('alice-client');
    // the certificate the signature tests use (registration through SOAP is tested below with other certificates)
    await h.get(CertificateService).registerCertificate(await h.user('acme', ['admin']), alice.principal.userName, trusted.pem);
    acmeAdmin = await h.user('acme', ['admin']);
  });

  afterAll(async () => {
    certs?.cleanup();
    await h?.close();
  });

  it('an admin registers, lists and removes client certificates through the SOAP admin operations (UsernameToken text)', async () => {
    const spare = certs.make('spare');
    const reg = await zeepCall(wsdl, { op: 'RegisterCertificate', args: { userName: alice.principal.userName, certificate: spare.pem }, username: admin });
    expect(reg.status).toBe(200);
    const rec = reg.result!; // zeep unwraps a response of one element (clientCertificate)
    expect(rec).toMatchObject({ userName: alice.principal.userName, subject: 'CN=spare', fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const list = await zeepCall(wsdl, { op: 'ListCertificates', args: { userName: alice.principal.userName }, username: admin, port: 'CimiGatewayPort12' });
    expect(list.result).toMatchObject({ count: 2 });
    expect((list.result!.item as { id: string }[]).map((x) => x.id)).toContain(rec.id);
    const dup = await zeepCall(wsdl, { op: 'RegisterCertificate', args: { userName: alice.principal.userName, certificate: spare.pem }, username: admin });
    expect(dup).toMatchObject({ status: 500, fault: { code: expect.stringContaining('Client') } });
    const removed = await zeepCall(wsdl, { op: 'RemoveCertificate', args: { id: rec.id }, username: admin });
    expect(removed.status).toBe(200);
    // a user may not register certificates (the model's requireAdmin)
    const forbidden = await zeepCall(wsdl, { op: 'RegisterCertificate', args: { userName: alice.principal.userName, certificate: spare.pem }, username: alicePw() });
    expect(forbidden).toMatchObject({ status: 500, fault: { code: 'soap:Client', message: expect.stringMatching(/only an admin/) } });
    const none = await zeepCall(wsdl, { op: 'ListCertificates', args: { userName: alice.principal.userName }, username: admin });
    expect(none.result).toMatchObject({ count: 1, item: [{ subject: 'CN=alice-client' }] });
  });

  it.each([
    ['CimiGatewayPort', false],
    ['CimiGatewayPort', true],
    ['CimiGatewayPort12', false],
    ['CimiGatewayPort12', true],
  ] as const)('calls an operation on %s with a UsernameToken (digest %s)', async (port, digest) => {
    const name = `ut-${port}-${digest}`;
    const r = await zeepCall(wsdl, { port, op: 'CreateMachineConfiguration', args: { name, cpu: 2, memory: 4194304 }, username: { ...alicePw(), digest } });
    expect(r).toMatchObject({ status: 200, result: { resource: { name } } });
    expect(await configs()).toContain(name);
  });

  it.each(['CimiGatewayPort', 'CimiGatewayPort12'] as const)('calls an operation on %s with an X.509 BinarySignature (RSA-SHA256), attributed to the certificate\'s user', async (port) => {
    const name = `x509-${port}`;
    const r = await zeepCall(wsdl, { port, op: 'CreateMachineConfiguration', args: { name, cpu: 1, memory: 1048576 }, signature: { key: trusted.key, cert: trusted.cert } });
    expect(r).toMatchObject({ status: 200, result: { resource: { name } } });
    expect(await configs()).toContain(name);
  });

  it('refuses a wrong password with wsse:FailedAuthentication', async () => {
    const r = await zeepCall(wsdl, { op: 'CreateMachineConfiguration', args: { name: 'never-pw', cpu: 1, memory: 1048576 }, username: { ...alicePw(), password: 'wrong-password' } });
    expect(r).toMatchObject({ status: 500, fault: wsseFault('CimiGatewayPort', 'FailedAuthentication') });
    expect(await configs()).not.toContain('never-pw');
  });

  it.each([
    ['CimiGatewayPort', 500],
    ['CimiGatewayPort12', 400],
  ] as const)('refuses a Body changed after signing on %s (wsse:FailedCheck, HTTP %d) and changes nothing', async (port, status) => {
    const before = await configs();
    const r = await zeepCall(wsdl, {
      port,
      op: 'CreateMachineConfiguration',
      args: { name: `signed-${port}`, cpu: 1, memory: 1048576 },
      signature: { key: trusted.key, cert: trusted.cert },
      tamper: { from: `signed-${port}`, to: `evil-${port}` },
    });
    expect(r).toMatchObject({ status, fault: wsseFault(port, 'FailedCheck') });
    expect(await configs()).toEqual(before);
  });

  describe('zeep-built envelopes posted as they are, tampered or replayed', () => {
    const ACTION = '"urn:cimi-gateway:soap:1:CreateMachineConfiguration"';
    const body = (name: string) => `<t:CreateMachineConfiguration xmlns:t="${TNS}"><t:name>${name}</t:name><t:cpu>1</t:cpu><t:memory>1048576</t:memory></t:CreateMachineConfiguration>`;
    const send = (raw: string) => post(`${base}/soap`, raw, { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: ACTION });
    const signedReq = (name: string, extra: Partial<ZeepRequest> = {}): ZeepRequest => ({
      body: body(name),
      timestamp: { ttl: 300 },
      signature: { key: trusted.key, cert: trusted.cert, binary: true, signature_method: 'RSA_SHA256', digest_method: 'SHA256' },
      ...extra,
    });
    const state = () => snapshot({ h, base, admin: acmeAdmin }, acmeAdmin);

    async function refused(raw: string, code: string): Promise<void> {
      const before = await state();
      const r = await send(raw);
      expect({ status: r.status, code: faultOf(r).code }).toEqual({ status: 500, code: `wsse:${code}` });
      expect(r.headers['content-type']).toMatch(/^text\/xml/);
      expect(await state()).toEqual(before);
    }

    it('refuses a wrapped Body, a duplicate Id, an expired Timestamp and SHA-1 (not enabled), changing nothing', async () => {
      const [a, b, expired, sha1] = zeepEnvelopes([
        signedReq('raw-wrapped'),
        signedReq('raw-dup'),
        signedReq('raw-expired', { timestamp: { offset: -900, ttl: 300 } }),
        signedReq('raw-sha1', { signature: { key: trusted.key, cert: trusted.cert, binary: true, signature_method: 'RSA_SHA1', digest_method: 'SHA1' } }),
      ]);
      await refused(wrapBody(a, body('raw-evil')), 'InvalidSecurity');
      await refused(duplicateTimestampId(b), 'InvalidSecurity');
      await refused(expired, 'MessageExpired');
      await refused(sha1, 'InvalidSecurity');
      expect(await configs()).not.toEqual(expect.arrayContaining(['raw-evil']));
    });

    it('refuses a SignatureValue that is not the signer\'s (references intact) with wsse:FailedCheck, changing nothing', async () => {
      const [a] = zeepEnvelopes([signedReq('raw-forged')]);
      // one base64 character of the RSA value changed: every digest still matches, only the signature is wrong
      const forged = a.replace(/(<(?:\w+:)?SignatureValue[^>]*>\s*)(.)/, (_m, open: string, c: string) => `${open}${c === 'A' ? 'B' : 'A'}`);
      expect(forged).not.toBe(a);
      await refused(forged, 'FailedCheck');
      expect(await configs()).not.toContain('raw-forged');
    });

    it('accepts a signed message once and refuses its replay', async () => {
      const [a] = zeepEnvelopes([signedReq('raw-signed-once')]);
      expect((await send(a)).status).toBe(200);
      await refused(a, 'InvalidSecurity');
      expect((await configs()).filter((n) => n === 'raw-signed-once')).toHaveLength(1);
    });

    it('accepts a PasswordDigest once and refuses its replayed nonce', async () => {
      const [a] = zeepEnvelopes([{ body: body('raw-digest-once'), username: { ...alicePw(), digest: true } }]);
      expect((await send(a)).status).toBe(200);
      await refused(a, 'InvalidSecurity');
      expect((await configs()).filter((n) => n === 'raw-digest-once')).toHaveLength(1);
    });
  });

  it('refuses a certificate that is not registered with wsse:FailedAuthentication', async () => {
    const stranger = certs.make('alice-client'); // same subject, not registered
    const r = await zeepCall(wsdl, { op: 'CreateMachineConfiguration', args: { name: 'never-cert', cpu: 1, memory: 1048576 }, signature: { key: stranger.key, cert: stranger.cert } });
    expect(r).toMatchObject({ status: 500, fault: wsseFault('CimiGatewayPort', 'FailedAuthentication') });
    expect(await configs()).not.toContain('never-cert');
  });
});
