import { randomUUID } from 'node:crypto';
import { ENGINES } from '../../support/databases';
import { AuditService } from '../../../src/model/audit/audit.service';
import { AUDIT_LOG, type AuditLog } from '../../../src/model/shared/ports';
import type { AuditEvent } from '../../../src/model/audit/cadf';
import { ACTION, BASIC, envelope, post, useSoapApp, type SoapEnv } from './soap-support';

/** The SOAP door writes the same CADF records as REST (issue 6 §3): one per request, secrets never recorded. */
describe.each(ENGINES)('SOAP audit trail [%s]', (engine) => {
  const env = useSoapApp(engine);
  let e: SoapEnv;
  let log: AuditLog;
  beforeAll(() => {
    e = env();
    log = e.h.app.get(AUDIT_LOG);
  });

  async function call(op: string, inner: string, auth = BASIC): Promise<{ rid: string; status: number; body: string; records: AuditEvent[] }> {
    const rid = randomUUID();
    const r = await post(`${e.base}/soap12`, envelope('1.2', `<t:${op}>${inner}</t:${op}>`), { 'Content-Type': `application/soap+xml; charset=utf-8; action="${ACTION(op)}"`, Authorization: auth, 'X-Request-Id': rid });
    await e.h.get(AuditService).flush();
    const page = await log.list({ filter: { kind: 'cmp', attr: 'correlationId', op: '=', value: rid } });
    return { rid, ...r, records: page.items.filter((x) => !x.requestEventId) };
  }

  async function send(path: string, body: string, headers: Record<string, string>): Promise<{ status: number; body: string; records: AuditEvent[] }> {
    const rid = randomUUID();
    const r = await post(`${e.base}${path}`, body, { ...headers, 'X-Request-Id': rid });
    await e.h.get(AuditService).flush();
    const page = await log.list({ filter: { kind: 'cmp', attr: 'correlationId', op: '=', value: rid } });
    return { ...r, records: page.items.filter((x) => !x.requestEventId) };
  }
  const H11 = (op: string, auth = BASIC) => ({ 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${ACTION(op)}"`, Authorization: auth });
  const H12 = (op: string, auth = BASIC) => ({ 'Content-Type': `application/soap+xml; charset=utf-8; action="${ACTION(op)}"`, Authorization: auth });
  const admin = expect.objectContaining({ id: expect.not.stringMatching(/^unknown$/), name: 'admin', credential: { type: 'basic' } });
  const MC_COLLECTION = { id: '', typeURI: 'http://schemas.dmtf.org/cimi/2/MachineConfigurationCollection' };

  it('records a protocol fault as what it is, with the sender when its credentials are valid, never as a failed login', async () => {
    const unknownHeader = (mu: string) => `<x:Tx xmlns:x="urn:example:tx" soap:mustUnderstand="${mu}">1</x:Tx>`;
    for (const [path, v, mu, H] of [['/soap', '1.1', '1', H11], ['/soap12', '1.2', 'true', H12]] as const) {
      const r = await send(path, envelope(v, '<t:ListMachineConfigurations/>', unknownHeader(mu)), H('ListMachineConfigurations'));
      expect(r.status).toBe(500);
      expect(r.body).toContain('soap:MustUnderstand');
      expect(r.records).toEqual([expect.objectContaining({ action: 'read/list', outcome: 'failure', initiator: admin, target: MC_COLLECTION, reason: { reasonType: 'cimi-gateway', reasonCode: 'SOAP.MUST_UNDERSTAND' } })]);
    }
    // a SOAP 1.2 envelope on the SOAP 1.1 endpoint and the reverse
    for (const [path, v, H] of [['/soap', '1.2', H12], ['/soap12', '1.1', H11]] as const) {
      const r = await send(path, envelope(v, '<t:ListMachineConfigurations/>'), H('ListMachineConfigurations'));
      expect(r.body).toContain('soap:VersionMismatch');
      expect(r.records).toEqual([expect.objectContaining({ action: 'read/list', outcome: 'failure', initiator: admin, target: MC_COLLECTION, reason: { reasonType: 'cimi-gateway', reasonCode: 'SOAP.VERSION_MISMATCH' } })]);
    }
    // wrong credentials: the sender stays unknown, but the record is still the protocol fault, not a login
    const wrong = `Basic ${Buffer.from('admin:Wrong-Password-9').toString('base64')}`;
    const r = await send('/soap', envelope('1.1', '<t:ListMachineConfigurations/>', unknownHeader('1')), H11('ListMachineConfigurations', wrong));
    expect(r.records).toEqual([expect.objectContaining({ action: 'read/list', outcome: 'failure', initiator: expect.objectContaining({ id: 'unknown', name: 'admin' }), reason: { reasonType: 'cimi-gateway', reasonCode: 'SOAP.MUST_UNDERSTAND' } })]);
    // a WS-Security failure still is a refused login, under its wsse code (WSS 1.1 §12)
    const sec = `<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" soap:mustUnderstand="1"/>`;
    const ws = await send('/soap', envelope('1.1', '<t:ListMachineConfigurations/>', sec), { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${ACTION('ListMachineConfigurations')}"` });
    expect(ws.records).toEqual([expect.objectContaining({ action: 'authenticate', outcome: 'failure', initiator: expect.objectContaining({ id: 'unknown' }), reason: { reasonType: 'cimi-gateway', reasonCode: 'WSSE.InvalidSecurity' } })]);
  });

  it('records creates, reads, refused logins and forbidden calls once each, as REST does', async () => {
    const created = await call('CreateMachineConfiguration', '<t:name>audit-soap</t:name><t:cpu>1</t:cpu><t:memory>1024</t:memory>');
    expect(created.status).toBe(200);
    const id = /<t:resource><t:id>([^<]+)</.exec(created.body)?.[1] ?? /<t:id>([^<]+)</.exec(created.body)![1];
    expect(created.records).toEqual([
      expect.objectContaining({ action: 'create', outcome: 'success', initiator: expect.objectContaining({ name: 'admin', host: expect.objectContaining({ agent: 'soap' }), credential: { type: 'basic' } }), target: { id, typeURI: 'http://schemas.dmtf.org/cimi/2/MachineConfiguration' } }),
    ]);

    const read = await call('GetMachineConfiguration', `<t:id>${id}</t:id>`);
    expect(read.status).toBe(200);
    expect(read.records).toEqual([expect.objectContaining({ action: 'read', outcome: 'success', target: { id, typeURI: 'http://schemas.dmtf.org/cimi/2/MachineConfiguration' } })]);

    const pw = 'Not-The-Password-7';
    const refused = await call('ListMachines', '', `Basic ${Buffer.from(`admin:${pw}`).toString('base64')}`);
    expect(refused.status).toBe(401);
    expect(refused.records).toEqual([expect.objectContaining({ action: 'authenticate', outcome: 'failure', initiator: expect.objectContaining({ id: 'unknown', name: 'admin' }) })]);

    await e.h.user(e.h.cfg.DEMO_TENANT, ['reader'], 'soap-audit-reader');
    const denied = await call('DeleteMachineConfiguration', `<t:id>${id}</t:id>`, `Basic ${Buffer.from('soap-audit-reader:password-123').toString('base64')}`);
    expect(denied.status).toBe(400);
    expect(denied.records).toEqual([expect.objectContaining({ eventType: 'control', action: 'delete', outcome: 'failure', reason: { reasonType: 'cimi-gateway', reasonCode: 'AUTH.FORBIDDEN' } })]);

    const all = JSON.stringify((await log.list({ first: 1, last: 1000 })).items);
    expect(all).not.toContain(pw);
    expect(all).not.toContain('password-123');
  });
});
