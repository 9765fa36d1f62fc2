import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD, eventually, startHarness, type Harness } from '../../support/app-harness';
import { CS, NS, envelope, run } from '../../support/wsman-client';
import { startGatewayProcess } from '../../support/gateway-process';
import { listen, type Listening } from '../../../src/main';
import { ConfigError, loadConfig } from '../../../src/config/env.schema';
import { CertificateService } from '../../../src/model/identity/certificate.service';
import { AuditService } from '../../../src/model/audit/audit.service';
import type { AuditEvent } from '../../../src/model/audit/cadf';
import type { NestExpressApplication } from '@nestjs/platform-express';

// openssl's keys, a harness boot and curl/python clients take longer than jest's 5 s default on a busy 2-core machine
// (the project-level testTimeout in jest.config.js is a global option jest ignores per project)
jest.setTimeout(60000);

const MUTUAL = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual';
const ENUMERATE = envelope({ action: `${NS.wsen}/Enumerate`, resourceUri: CS, body: `<wsen:Enumerate xmlns:wsen="${NS.wsen}"><wsman:OptimizeEnumeration/><wsman:MaxElements>10</wsman:MaxElements></wsen:Enumerate>` });
const IDENTIFY = '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:wsmid="http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>';

/** a CA, two server certificates (SAN 127.0.0.1, localhost) and client certificates, made with openssl */
function makePki(dir: string): void {
  const ssl = (...a: string[]) => execFileSync('openssl', a, { cwd: dir, stdio: 'pipe' });
  // the extensions strict X.509 verification (Python 3.13's ssl default) wants: CA constraints, key identifiers
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nauthorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\nbasicConstraints=CA:FALSE\n');
  writeFileSync(join(dir, 'client.ext'), 'authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\nbasicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=test CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const n of ['server', 'server2']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', `/CN=${n}`);
    ssl('x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${n}.pem`, '-days', '2', '-extfile', 'san.ext');
  }
  for (const n of ['alice', 'stranger']) {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${n}.key`, '-out', `${n}.csr`, '-subj', `/CN=${n}`);
    ssl('x509', '-req', '-in', `${n}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${n}.pem`, '-days', '2', '-extfile', 'client.ext');
  }
  // signed by nobody the gateway trusts
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'self.key', '-out', 'self.pem', '-days', '2', '-subj', '/CN=alice');
}

/** the serial of the certificate a new TLS connection is shown */
function servedSerial(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost' }, () => {
      resolve(s.getPeerCertificate().serialNumber);
      s.end();
    });
    s.on('error', reject);
  });
}

describe.each(ENGINES)('TLS on the gateway port [%s]', (engine) => {
  let dir: string;
  let h: Harness;
  let l: Listening;
  let base: string;
  const f = (n: string) => join(dir, n);
  const curl = (...a: string[]) => run('curl', ['-sS', '--cacert', f('ca.pem'), '-o', '-', '-w', '\n%{http_code}', ...a], { timeoutMs: 30000 });
  const status = (r: { stdout: string }) => Number(r.stdout.trim().split('\n').pop());

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tls-'));
    makePki(dir);
    writeFileSync(f('cert.pem'), readFileSync(f('server.pem')));
    writeFileSync(f('key.pem'), readFileSync(f('server.key')));
    h = await startHarness(engine, { TLS_CERT_FILE: f('cert.pem'), TLS_KEY_FILE: f('key.pem'), TLS_CLIENT_CA_FILE: f('ca.pem'), HTTP_PORT: '0' });
    l = await listen(h.app as NestExpressApplication, h.cfg);
    base = `https://127.0.0.1:${l.port}`;
    const alice = await h.user('tls', ['user'], `alice-${engine}`);
    await h.get(CertificateService).registerCertificate(await h.user('tls', ['admin']), alice.principal.userName, readFileSync(f('alice.pem'), 'utf8'));
    // openssl key generation and a boot: more than jest's 5 s on a loaded 2-core machine
  }, 120000);
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  }, 60000);

  it('curl --cacert reads the CloudEntryPoint over HTTPS with Basic; plain HTTP on PORT gets no answer', async () => {
    const r = await curl('-u', `admin:${ADMIN_PASSWORD}`, `${base}/cimi/cloudEntryPoint`);
    expect(status(r)).toBe(200);
    expect(JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('\n'))).baseURI).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const plain = await run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', `http://127.0.0.1:${l.port}/cimi/cloudEntryPoint`], { timeoutMs: 30000 });
    expect(plain.stdout).not.toBe('200');
  });

  const body = (r: { stdout: string }) => r.stdout.slice(0, r.stdout.lastIndexOf('\n'));
  const rid = (id: string) => ['-H', `X-Request-Id: ${id}`];
  const SOAP_XML = ['-H', 'Content-Type: text/xml; charset=utf-8'];
  const WSMAN_XML = ['-H', 'Content-Type: application/soap+xml;charset=UTF-8'];
  const LIST_MACHINES = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><t:ListMachines xmlns:t="urn:cimi-gateway:soap:1:types"/></s:Body></s:Envelope>';

  /** the CADF request record of one X-Request-Id, read by an admin through the CIMI door's audit EventLog (DSP0263 2.0.0 §5.17.10) */
  async function auditRecord(correlationId: string): Promise<AuditEvent> {
    const events = await eventually(async () => {
      await h.get(AuditService).flush(); // records are group-committed (AUDIT_FLUSH_MS)
      const r = await curl('-u', `admin:${ADMIN_PASSWORD}`, '-G', '--data-urlencode', `$filter=correlationId='${correlationId}'`, `${base}/cimi/eventLogs/audit/events`);
      expect(status(r)).toBe(200);
      const doc = JSON.parse(body(r)) as { events?: { content: AuditEvent }[] };
      return doc.events?.length ? doc.events : undefined;
    });
    expect(events).toHaveLength(1);
    return events[0].content;
  }

  it('a client certificate registered to a user authenticates every door as that user (credential x509); others are refused', async () => {
    const cert = ['--cert', f('alice.pem'), '--key', f('alice.key')];
    const ids = { rest: randomUUID(), soap: randomUUID(), identify: randomUUID(), wsman: randomUUID(), stranger: randomUUID() };
    const cep = await curl(...cert, ...rid(ids.rest), `${base}/cimi/machines`);
    expect(status(cep)).toBe(200);
    const soap = await curl(...cert, ...rid(ids.soap), ...SOAP_XML, '--data', LIST_MACHINES, `${base}/soap`);
    expect(status(soap)).toBe(200);
    expect(soap.stdout).toContain('ListMachinesResponse');
    const ws = await curl(...cert, ...rid(ids.identify), '-H', `Authorization: ${MUTUAL}`, ...WSMAN_XML, '--data', IDENTIFY, `${base}/wsman`);
    expect(status(ws)).toBe(200);
    expect(ws.stdout).toContain(MUTUAL);
    expect(ws.stdout).toContain('secprofile/https/basic');
    expect(ws.stdout).not.toContain('secprofile/http/basic');
    // an ordinary WS-Man operation (not Identify), the certificate alone as WinRM's https/mutual sends it
    const en = await curl(...cert, ...rid(ids.wsman), '-H', `Authorization: ${MUTUAL}`, ...WSMAN_XML, '--data', ENUMERATE, `${base}/wsman`);
    expect(status(en)).toBe(200);
    expect(en.stdout).toContain('EnumerateResponse');
    // an unregistered certificate from the CA, and one from no trusted CA
    expect(status(await curl('--cert', f('stranger.pem'), '--key', f('stranger.key'), ...rid(ids.stranger), `${base}/cimi/machines`))).toBe(401);
    expect(status(await curl('--cert', f('self.pem'), '--key', f('self.key'), `${base}/cimi/machines`))).toBe(401);
    expect(status(await curl(`${base}/cimi/machines`))).toBe(401);

    // each door's record names the user and the credential the TLS handshake carried (CADF initiator.credential)
    const user = `alice-${engine}`;
    for (const [door, agent] of [['rest', 'rest'], ['soap', 'soap'], ['identify', 'wsman'], ['wsman', 'wsman']] as const) {
      const rec = await auditRecord(ids[door]);
      expect({ door, outcome: rec.outcome, initiator: rec.initiator }).toMatchObject({ door, outcome: 'success', initiator: { name: user, host: { agent }, credential: { type: 'x509' } } });
    }
    // a refused certificate is still an x509 login, under its subject's name, never the user of another credential
    expect(await auditRecord(ids.stranger)).toMatchObject({ action: 'authenticate', outcome: 'failure', initiator: { id: 'unknown', name: 'stranger', credential: { type: 'x509' } } });
    // the SOAP door's own audit read shows the same credential type (XSD AuditInitiator/credentialType)
    const listAudit = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><t:ListAuditEvents xmlns:t="urn:cimi-gateway:soap:1:types"><t:filter><t:condition><t:attribute>correlationId</t:attribute><t:operator>eq</t:operator><t:stringValue>${ids.soap}</t:stringValue></t:condition></t:filter></t:ListAuditEvents></s:Body></s:Envelope>`;
    const viaSoap = await curl('-u', `admin:${ADMIN_PASSWORD}`, ...SOAP_XML, '-H', 'SOAPAction: "urn:cimi-gateway:soap:1:ListAuditEvents"', '--data', listAudit, `${base}/soap`);
    expect(status(viaSoap)).toBe(200);
    expect(body(viaSoap)).toMatch(/<(\w+:)?count>1<\//);
    expect(body(viaSoap)).toMatch(new RegExp(`<(\\w+:)?name>${user}</`));
    expect(body(viaSoap)).toMatch(/<(\w+:)?credentialType>x509<\//);
  });

  it('a Basic login over the same TLS port is recorded as credential basic in every door, not x509', async () => {
    const ids = { rest: randomUUID(), soap: randomUUID(), wsman: randomUUID() };
    const admin = ['-u', `admin:${ADMIN_PASSWORD}`];
    expect(status(await curl(...admin, ...rid(ids.rest), `${base}/cimi/machines`))).toBe(200);
    expect(status(await curl(...admin, ...rid(ids.soap), ...SOAP_XML, '--data', LIST_MACHINES, `${base}/soap`))).toBe(200);
    expect(status(await curl(...admin, ...rid(ids.wsman), ...WSMAN_XML, '--data', ENUMERATE, `${base}/wsman`))).toBe(200);
    for (const door of ['rest', 'soap', 'wsman'] as const) {
      const rec = await auditRecord(ids[door]);
      expect({ door, outcome: rec.outcome, initiator: rec.initiator }).toMatchObject({ door, outcome: 'success', initiator: { name: 'admin', host: { agent: door }, credential: { type: 'basic' } } });
    }
  });

  it('zeep (requests Session verify=CA) reads the WSDL over HTTPS and calls ListMachines at its https address', async () => {
    const py = `
import sys, requests, zeep
from zeep.transports import Transport
s = requests.Session(); s.trust_env = False; s.verify = sys.argv[2]; s.auth = ('admin', sys.argv[3])  # no REQUESTS_CA_BUNDLE from the environment over verify
c = zeep.Client(sys.argv[1] + '/soap?wsdl', transport=Transport(session=s))
r = c.service.ListMachines()
print(c.service._binding_options['address'], r['count'] if 'count' in r else len(r))
`;
    const r = await run('/usr/bin/python3', ['-c', py, base, f('ca.pem'), ADMIN_PASSWORD], { timeoutMs: 60000 });
    if (r.code !== 0) throw new Error(r.stderr);
    expect(r.stdout).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/soap \d+/);
  });

  it('pywinrm transport=ssl: Basic over HTTPS against the CA, and a client certificate (https/mutual) as the registered user', async () => {
    const py = `
import sys, json
from winrm.protocol import Protocol
from winrm.exceptions import WinRMError, WinRMTransportError, InvalidCredentialsError
url, ca, pw, cert, key = sys.argv[1:6]
ident = open(sys.argv[6]).read()
out = {}
p = Protocol(endpoint=url, transport='ssl', username='admin', password=pw, server_cert_validation='validate', ca_trust_path=ca)
out['basic'] = p.send_message(ident).decode()
m = Protocol(endpoint=url, transport='ssl', cert_pem=cert, cert_key_pem=key, server_cert_validation='validate', ca_trust_path=ca)
out['mutual'] = m.send_message(ident).decode()
try:
    Protocol(endpoint=url, transport='ssl', cert_pem=sys.argv[7], cert_key_pem=sys.argv[8], server_cert_validation='validate', ca_trust_path=ca).send_message(ident)
    out['stranger'] = 'accepted'
except (WinRMError, WinRMTransportError, InvalidCredentialsError) as e:
    out['stranger'] = type(e).__name__
print(json.dumps(out))
`;
    writeFileSync(f('identify.xml'), IDENTIFY);
    const r = await run('/usr/bin/python3', ['-c', py, `${base}/wsman`, f('ca.pem'), ADMIN_PASSWORD, f('alice.pem'), f('alice.key'), f('identify.xml'), f('stranger.pem'), f('stranger.key')], { timeoutMs: 60000 });
    if (r.code !== 0) throw new Error(r.stderr);
    const out = JSON.parse(r.stdout);
    expect(out.basic).toContain('secprofile/https/basic');
    expect(out.mutual).toContain(MUTUAL);
    expect(out.stranger).toBe('InvalidCredentialsError');
  });

  it('wsl in its SSL mode (https, no WSNOSSL; curl trusts the CA through CURL_CA_BUNDLE) identifies the gateway', async () => {
    const wdir = mkdtempSync(join(dir, 'wsl-'));
    const r = await run('wsl', ['id', 'check'], { cwd: wdir, env: { HOME: wdir, WSENDPOINT: `localhost:${l.port}`, WSUSER: 'admin', WSPASS: ADMIN_PASSWORD, OUTLEVEL: '1', KEEPHISTORY: '0', WSAUTOMATED: '1', CURL_CA_BUNDLE: f('ca.pem') }, timeoutMs: 60000 });
    expect(r.code).toBe(0);
    expect(readFileSync(join(wdir, 'response.xml'), 'utf8')).toContain('IdentifyResponse');
  });

  it('the WSDL served over TLS names https addresses', async () => {
    const r = await curl(`${base}/soap?wsdl`);
    expect(status(r)).toBe(200);
    expect(r.stdout).toMatch(/location="https:\/\/127\.0\.0\.1:\d+\/soap"/);
    expect(r.stdout).not.toMatch(/location="http:\/\//);
  });

  it('the plain HTTP_PORT answers /health and refuses a CIMI path', async () => {
    const health = await fetch(`http://127.0.0.1:${l.httpPort}/health`);
    expect(health.status).toBe(200);
    const cimi = await fetch(`http://127.0.0.1:${l.httpPort}/cimi/cloudEntryPoint`, { headers: { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` } });
    expect(cimi.status).toBe(403);
  });

  it('reload swaps the certificate for new connections while an open keep-alive connection keeps working; a bad file keeps the old one', async () => {
    const ca = readFileSync(f('ca.pem'), 'utf8');
    const serial = (n: string) => execFileSync('openssl', ['x509', '-in', f(n), '-noout', '-serial']).toString().trim().split('=')[1];
    expect((await servedSerial(l.port, ca)).toUpperCase()).toBe(serial('server.pem').toUpperCase());
    // one keep-alive connection open across the reload
    const https = await import('node:https');
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca });
    const get = () =>
      new Promise<{ status: number; socket: unknown }>((resolve, reject) => {
        https.get(`${base}/health`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, socket: res.socket }));
        }).on('error', reject);
      });
    const first = await get();
    writeFileSync(f('cert.pem'), readFileSync(f('server2.pem')));
    writeFileSync(f('key.pem'), readFileSync(f('server2.key')));
    l.reloadTls();
    expect((await servedSerial(l.port, ca)).toUpperCase()).toBe(serial('server2.pem').toUpperCase());
    const second = await get();
    expect(second.status).toBe(200);
    expect(second.socket).toBe(first.socket);
    agent.destroy();
    writeFileSync(f('key.pem'), 'not a key');
    expect(() => l.reloadTls()).toThrow(/TLS_KEY_FILE/);
    expect((await servedSerial(l.port, ca)).toUpperCase()).toBe(serial('server2.pem').toUpperCase());
  });
});

describe('TLS in a gateway process', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tlsproc-'));
    makePki(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('SIGHUP makes main() serve the new certificate to new connections', async () => {
    const f = (n: string) => join(dir, n);
    writeFileSync(f('cert.pem'), readFileSync(f('server.pem')));
    writeFileSync(f('key.pem'), readFileSync(f('server.key')));
    const ca = readFileSync(f('ca.pem'), 'utf8');
    const gw = await startGatewayProcess({ TLS_CERT_FILE: f('cert.pem'), TLS_KEY_FILE: f('key.pem'), SQLITE_PATH: f('g.sqlite'), ADMIN_PASSWORD, SEED_DEMO: 'false', LOG_LEVEL: 'info' }, 60000, { ca });
    try {
      const serial = (n: string) => execFileSync('openssl', ['x509', '-in', f(n), '-noout', '-serial']).toString().trim().split('=')[1].toUpperCase();
      expect((await servedSerial(gw.port, ca)).toUpperCase()).toBe(serial('server.pem'));
      writeFileSync(f('cert.pem'), readFileSync(f('server2.pem')));
      writeFileSync(f('key.pem'), readFileSync(f('server2.key')));
      gw.child.kill('SIGHUP');
      const end = Date.now() + 10000;
      while (!gw.output().includes('TLS certificate and key reloaded') && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect((await servedSerial(gw.port, ca)).toUpperCase()).toBe(serial('server2.pem'));
      expect(gw.child.exitCode).toBeNull();
    } finally {
      await gw.kill();
    }
  }, 90000);

  it('a certificate without a key stops the start with exit 78 and a message naming the variable', async () => {
    await expect(startGatewayProcess({ TLS_CERT_FILE: join(dir, 'server.pem'), SQLITE_PATH: join(dir, 'h.sqlite') })).rejects.toThrow(/exited with 78[\s\S]*TLS_KEY_FILE: must be set with TLS_CERT_FILE/);
  }, 90000);
});

describe('TLS configuration', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tlscfg-'));
    makePki(dir);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    [{ TLS_CERT_FILE: 'server.pem' }, /TLS_KEY_FILE: must be set with TLS_CERT_FILE/],
    [{ TLS_CERT_FILE: 'server.pem', TLS_KEY_FILE: 'missing.key' }, /TLS_KEY_FILE=.*cannot be read \(ENOENT\)/],
    [{ TLS_CERT_FILE: 'san.ext', TLS_KEY_FILE: 'server.key' }, /TLS_CERT_FILE=.*not a PEM certificate/],
    [{ TLS_CERT_FILE: 'server.pem', TLS_KEY_FILE: 'alice.key' }, /not usable together/],
    [{ TLS_CERT_FILE: 'server.pem', TLS_KEY_FILE: 'server.key', TLS_CLIENT_CA_FILE: 'san.ext' }, /TLS_CLIENT_CA_FILE=.*not a PEM certificate/],
    [{ HTTP_PORT: '8081' }, /HTTP_PORT: a second, plain port needs TLS/],
  ])('refuses %j with a clear message', (env, message) => {
    const abs = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, k.endsWith('_FILE') ? join(dir, v) : v]));
    expect(() => loadConfig(abs)).toThrow(ConfigError);
    expect(() => loadConfig(abs)).toThrow(message);
  });
});
