import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { AuditService } from '../../../src/model/audit/audit.service';
import { AUDIT_LOG, type AuditLog } from '../../../src/model/shared/ports';
import { PYTHON, runClient, useSoapApp } from './soap-support';
import { guideBlock } from './generated-clients';

/**
 * suds (Debian python3-suds), the integrator's Python client, on the SOAP 1.1 port: its HttpAuthenticated
 * transport sends Basic credentials only after a 401, so each call is two requests and leaves a refused-login
 * record; with the Authorization header set up front it is one request (the tip in wsdl/README.md, which the
 * script runs verbatim).
 */
const SCRIPT = join(__dirname, 'clients', 'suds_auth.py');

describe.each(ENGINES)('SOAP interop with suds [%s]', (engine) => {
  const env = useSoapApp(engine);

  it("runs wsdl/README.md's preemptive-header lines as written", () => {
    const indented = guideBlock('suds-preemptive').replace(/^(?=.)/gm, '    ');
    expect(readFileSync(SCRIPT, 'utf8')).toContain(indented);
  });

  it('HttpAuthenticated costs a 401 and a refused-login record per call; a preset Authorization header does not', async () => {
    const rid = randomUUID();
    const report = (await runClient(PYTHON, [SCRIPT, env().base, 'admin', ADMIN_PASSWORD, rid])) as Record<string, { ok: boolean; error?: string }>;
    expect({ challenge: report.challenge, preemptive: report.preemptive }).toEqual({ challenge: { ok: true, count: expect.any(Number) }, preemptive: { ok: true, count: expect.any(Number) } });
    await env().h.get(AuditService).flush();
    const log: AuditLog = env().h.app.get(AUDIT_LOG);
    const records = async (tag: string) => {
      const page = await log.list({ filter: { kind: 'cmp', attr: 'correlationId', op: '=', value: `${rid}-${tag}` } });
      return page.items.filter((x) => !x.requestEventId).map((x) => `${x.action} ${x.outcome} ${x.initiator.name ?? x.initiator.id}`);
    };
    expect((await records('challenge')).sort()).toEqual(['authenticate failure unknown', 'read/list success admin']);
    expect(await records('preemptive')).toEqual(['read/list success admin']);
  });
});
