import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { startGatewayProcess } from '../../support/gateway-process';
import { AUDIT_LOG, type AuditLog } from '../../../src/model/shared/ports';
import { AuditService } from '../../../src/model/audit/audit.service';
import { CADF_EVENT_TYPE_URI, OBSERVER, type AuditEvent } from '../../../src/model/audit/cadf';
import { ConfigError, loadConfig } from '../../../src/config/env.schema';
import { BASIC, soapCall, useSoapApp } from '../soap/soap-support';

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';

/**
 * The audit policy and retention (issue 13 §3), through the doors of a running app: reads can be dropped per door,
 * mutations and refusals are always recorded, and `full` keeps the request with its secrets removed.
 */
describe.each(ENGINES)('audit policy [%s]', (engine) => {
  const env = useSoapApp(engine, { AUDIT_FLUSH_MS: '0', AUDIT_POLICY: 'read=none,soap.read=metadata,mutation=full,refusal=full' });
  const log = () => env().h.app.get<AuditLog>(AUDIT_LOG);
  const records = async (rid: string) => {
    await env().h.get(AuditService).flush();
    return (await log().list({ filter: { kind: 'cmp', attr: 'correlationId', op: '=', value: rid }, first: 1, last: 100 })).items;
  };
  const rest = (path: string, init: RequestInit = {}) => {
    const rid = `pol-${randomUUID()}`;
    const res = fetch(`${env().base}${path}`, { ...init, headers: { Authorization: BASIC, 'X-Request-Id': rid, ...(init.headers as Record<string, string>) } });
    return { rid, res };
  };

  it('read=none keeps no record of a REST read; soap.read=metadata keeps the SOAP one, without the request', async () => {
    const r = rest('/cimi/machines');
    expect((await r.res).status).toBe(200);
    expect(await records(r.rid)).toEqual([]);
    const before = (await log().list({ filter: { kind: 'cmp', attr: 'protocol', op: '=', value: 'soap' }, first: 1, last: 100000 })).count;
    expect((await soapCall(env(), '1.1', 'ListMachines', '')).status).toBe(200);
    await env().h.get(AuditService).flush();
    const soap = await log().list({ filter: { kind: 'cmp', attr: 'protocol', op: '=', value: 'soap' }, orderBy: [{ attr: 'eventTime', desc: true }], first: 1, last: 100000 });
    expect(soap.count).toBe(before + 1);
    expect(soap.items[0].action).toBe('read/list');
    expect(soap.items[0].attachments).toBeUndefined();
  });

  it('a failed read is a refusal, recorded even with read=none, with its request line', async () => {
    const r = rest('/cimi/machines/no-such-machine?$select=name');
    expect((await r.res).status).toBe(404);
    const [e] = await records(r.rid);
    expect(e.outcome).toBe('failure');
    expect(e.attachments).toEqual([{ name: 'request', typeURI: 'text/plain', content: 'GET /cimi/machines/no-such-machine?$select=name' }]);
  });

  it('mutation=full keeps the body of a create, its password and key replaced', async () => {
    const body = { resourceURI: 'http://schemas.dmtf.org/cimi/1/CredentialTemplate', name: `ct-${randomUUID()}`, userName: 'ops', password: 'hunter2-secret', key: 'ssh-rsa AAAAsecretkey' };
    const cep = (await (await fetch(`${env().base}/cimi/cloudEntryPoint`, { headers: { Authorization: BASIC, Accept: 'application/json' } })).json()) as { credentialTemplates: { href: string } };
    const r = rest(new URL(cep.credentialTemplates.href, env().base).pathname, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
    expect((await r.res).status).toBe(201);
    const [e] = await records(r.rid);
    expect(e.action).toBe('create');
    const content = e.attachments?.find((a) => a.name === 'request')?.content ?? '';
    expect(content).toMatch(/^POST \/cimi\/credentialTemplates\n\n/);
    expect(JSON.parse(content.split('\n\n')[1])).toEqual({ ...body, password: '***', key: '***' });
    expect(JSON.stringify(e)).not.toMatch(/hunter2|secretkey/);
  });

  it('a refused SOAP login (wrong UsernameToken) is recorded in full, without the WS-Security header', async () => {
    const rid = `pol-${randomUUID()}`;
    const header = `<wsse:Security xmlns:wsse="${WSSE}"><wsse:UsernameToken><wsse:Username>admin</wsse:Username><wsse:Password>wrong-pass-xyz</wsse:Password></wsse:UsernameToken></wsse:Security>`;
    const res = await fetch(`${env().base}/soap`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"urn:cimi-gateway:soap:1:ListMachines"', 'X-Request-Id': rid },
      body: `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="urn:cimi-gateway:soap:1:types"><s:Header>${header}</s:Header><s:Body><t:ListMachines/></s:Body></s:Envelope>`,
    });
    expect(res.status).toBe(500);
    const [e] = await records(rid);
    expect(e).toMatchObject({ action: 'authenticate', outcome: 'failure' });
    const content = e.attachments?.find((a) => a.name === 'request')?.content ?? '';
    expect(content).toMatch(/^POST \/soap\n\n<n0:Envelope /);
    expect(content).toMatch(/ListMachines/);
    expect(content).not.toMatch(/wrong-pass|UsernameToken|Security/);
  });

  it('a policy that would drop mutations or refusals, or names an unknown door, stops the start', () => {
    for (const bad of ['mutation=none', 'refusal=none', 'ftp.read=none', 'read=verbose', 'read']) {
      expect(() => loadConfig({ AUDIT_POLICY: bad })).toThrow(ConfigError);
    }
    expect(loadConfig({ AUDIT_POLICY: 'read=none,wsman.read=full' }).auditPolicy.wsman.read).toBe('full');
  });

  it('AUDIT_RETENTION_DAYS: a gateway deletes older records at start and keeps the rest', async () => {
    const old = (id: string, daysAgo: number): AuditEvent => ({
      id,
      typeURI: CADF_EVENT_TYPE_URI,
      eventType: 'activity',
      eventTime: new Date(Date.now() - daysAgo * 86400000).toISOString(),
      action: 'read',
      outcome: 'success',
      initiator: { id: 'u', typeURI: 'service/security/account/user', host: { agent: 'rest' } },
      target: { id: 'cimi-gateway', typeURI: 'service/compute' },
      observer: OBSERVER,
      reason: { reasonType: 'cimi-gateway', reasonCode: 'OK' },
      correlationId: 'retention-test',
    });
    const ids = Array.from({ length: 2500 }, (_, i) => `ret-old-${i}`);
    await log().appendMany(ids.map((id) => old(id, 40)));
    await log().appendMany([old('ret-recent', 10)]);
    const h = env().h;
    const p = await startGatewayProcess({ DATABASE_URL: h.db.databaseUrl, SQLITE_PATH: h.db.sqlitePath, ADMIN_PASSWORD, SEED_DEMO: 'false', JOB_WORKER: 'false', AUDIT_RETENTION_DAYS: '30' });
    try {
      const left = async () => (await log().list({ filter: { kind: 'cmp', attr: 'correlationId', op: '=', value: 'retention-test' }, first: 1, last: 10000 })).items.map((e) => e.id);
      const deadline = Date.now() + 20000;
      while ((await left()).length > 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await left()).toEqual(['ret-recent']);
    } finally {
      await p.kill();
    }
  });
});
