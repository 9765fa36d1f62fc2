import { randomUUID } from 'node:crypto';
import { AuditService } from '../../../src/model/audit/audit.service';
import type { AuditEvent } from '../../../src/model/audit/cadf';
import { AUDIT_LOG, type AuditLog } from '../../../src/model/shared/ports';
import { ENGINES } from '../../support/databases';
import { basic, CS, envelope, fault, NS, post, restMachine, useWsmanApp } from '../../support/wsman-client';

const RSC = `${CS}/RequestStateChange`;
const sel = (id: string) => ({ CreationClassName: 'CIM_ComputerSystem', Name: id });

/** The CADF audit trail through the WS-Man door (one record per request, agent `wsman`), and Concurrency faults. */
describe.each(ENGINES)('WS-Man audit trail and wsman:Concurrency [%s]', (engine) => {
  const env = useWsmanApp(engine, { SIM_STEP_LATENCY_MS: JSON.stringify({ start: 400 }) });

  async function records(rid: string): Promise<AuditEvent[]> {
    await env().h.get(AuditService).flush();
    return (await env().h.app.get<AuditLog>(AUDIT_LOG).list({ filter: { kind: 'cmp', attr: 'correlationId', op: '=', value: rid } })).items;
  }

  it('a RequestStateChange is recorded as the model action with its target; a refused login and a fault once each', async () => {
    const port = env().port;
    const id = await restMachine(port, 'audit-vm', 'STOPPED');
    const rid = randomUUID();
    const body = `<p:RequestStateChange_INPUT xmlns:p="${CS}"><p:RequestedState>2</p:RequestedState></p:RequestStateChange_INPUT>`;
    const r = await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel(id), body }), { headers: { 'X-Request-Id': rid } });
    expect(r.status).toBe(200);
    const [rec] = (await records(rid)).filter((e) => !e.requestEventId);
    expect(rec).toMatchObject({ action: 'start', outcome: 'pending', initiator: { name: 'admin', host: { agent: 'wsman' }, credential: { type: 'basic' } }, target: { id }, correlationId: rid });

    // Put while the start runs: invalid state on a transfer is wsman:Concurrency carrying the model code (docs/wsman.md §5.3)
    const rid2 = randomUUID();
    const put = await post(port, envelope({ action: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Put', resourceUri: CS, selectors: sel(id), body: `<p:CIM_ComputerSystem xmlns:p="${CS}"><p:ElementName>busy</p:ElementName></p:CIM_ComputerSystem>` }), { headers: { 'X-Request-Id': rid2 } });
    expect(fault(put)).toMatchObject({ code: 'Sender', subcode: 'Concurrency', subcodeNs: NS.wsman, wsmanFaultCode: 'MACHINE.INVALID_STATE' });
    expect(await records(rid2)).toEqual([expect.objectContaining({ action: 'update', outcome: 'failure', target: expect.objectContaining({ id }) })]);

    const rid3 = randomUUID();
    const refused = await post(port, envelope({ action: RSC, resourceUri: CS, selectors: sel(id), body }), { auth: basic('admin', 'Wrong-Secret-Pw-42'), headers: { 'X-Request-Id': rid3 } });
    expect(refused.status).toBe(401);
    const recs = await records(rid3);
    expect(recs).toEqual([expect.objectContaining({ action: 'authenticate', outcome: 'failure', initiator: expect.objectContaining({ name: 'admin', credential: { type: 'basic' } }), reason: { reasonType: 'cimi-gateway', reasonCode: 'AUTH.UNAUTHENTICATED' } })]);
    expect(JSON.stringify(recs)).not.toContain('Wrong-Secret-Pw-42');

    const rid4 = randomUUID();
    const missing = await post(port, envelope({ action: 'http://schemas.xmlsoap.org/ws/2004/09/transfer/Get', resourceUri: CS, selectors: sel('00000000-0000-4000-8000-000000000000') }), { headers: { 'X-Request-Id': rid4 } });
    expect(fault(missing).subcode).toBe('DestinationUnreachable');
    expect(await records(rid4)).toEqual([expect.objectContaining({ action: 'read', outcome: 'failure' })]);
  });
});
