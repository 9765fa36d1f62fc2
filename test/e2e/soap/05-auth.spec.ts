import { ENGINES } from '../../support/databases';
import { IdentityService } from '../../../src/model/identity/identity.service';
import { JobService } from '../../../src/model/job/job.service';
import { SoapEdge } from '../../../src/adapters/soap/soap-edge';
import { WsSecurityError, type WsSecurityVerifier, type WssResult } from '../../../src/adapters/soap/ws-security/ws-security.contract';
import { envelope, faultOf, post, snapshot, soapCall, useSoapApp, ACTION, type SoapEnv } from './soap-support';

/**
 * Who is calling: HTTP Basic against the model's users (tenant-bound like REST), and the WS-Security hook — a
 * wsse:Security header is handed, raw and with the endpoint's version, to the verifier bound under
 * WS_SECURITY_VERIFIER (built separately; a recording stand-in here), whose WsSecurityError becomes a wsse fault.
 */
const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const SECURITY = `<wsse:Security xmlns:wsse="${WSSE}"><wsse:UsernameToken><wsse:Username>x</wsse:Username></wsse:UsernameToken></wsse:Security>`;
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe.each(ENGINES)('SOAP authentication [%s]', (engine) => {
  const env = useSoapApp(engine);
  let e: SoapEnv;
  beforeAll(() => {
    e = env();
  });

  it('HTTP Basic users see only their tenant, and only admins may use the admin operations', async () => {
    const ctx = await e.h.user('acme', ['user'], 'acme-user');
    const auth = basic('acme-user', 'password-123');
    const own = await soapCall(e, '1.1', 'CreateMachineConfiguration', '<t:name>acme-small</t:name><t:cpu>1</t:cpu><t:memory>1024</t:memory>', { auth });
    expect(own.status).toBe(200);
    const list = await soapCall(e, '1.2', 'ListMachineConfigurations', '', { auth });
    expect(list.status).toBe(200);
    expect(list.body.match(/<t:item>/g)).toHaveLength(1); // not the demo tenant's catalog
    expect(list.body).toContain('acme-small');
    const job = /<t:job><t:id>([^<]+)</.exec(own.body)![1];
    expect((await e.h.get(JobService).get(ctx, job)).initiator.userName).toBe('acme-user');
    const admin = await soapCall(e, '1.1', 'CreateTenant', '<t:name>nope</t:name>', { auth });
    expect(admin.status).toBe(500);
    expect(faultOf(admin)).toMatchObject({ code: 'soap:Client', kind: 'forbidden', detailCode: 'AUTH.FORBIDDEN' });
  });

  it('an idempotency key replays the original resource and Job', async () => {
    const inner = '<t:name>idem</t:name><t:cpu>1</t:cpu><t:memory>1024</t:memory><t:idempotencyKey>k-1</t:idempotencyKey>';
    const a = await soapCall(e, '1.1', 'CreateMachineConfiguration', inner);
    const b = await soapCall(e, '1.2', 'CreateMachineConfiguration', inner);
    const ids = (body: string) => [...body.matchAll(/<t:id>([^<]+)<\/t:id>/g)].map((m) => m[1]);
    expect(a.status).toBe(200);
    expect(ids(b.body).slice(0, 1)).toEqual(ids(a.body).slice(0, 1));
    expect(/<t:job><t:id>([^<]+)</.exec(b.body)![1]).toBe(/<t:job><t:id>([^<]+)</.exec(a.body)![1]);
  });

  describe('the WS-Security hook', () => {
    const calls: { raw: string; version: string }[] = [];
    let answer: () => Promise<WssResult | undefined>;
    const fake: WsSecurityVerifier = {
      verify: async (raw, version) => {
        calls.push({ raw, version });
        return answer();
      },
    };
    // the stand-in replaces the bound verifier for this block only; the real one is put back after it
    let bound: WsSecurityVerifier | undefined;
    beforeAll(() => {
      bound = (e.h.get(SoapEdge) as unknown as { verifier?: WsSecurityVerifier }).verifier;
      (e.h.get(SoapEdge) as unknown as { verifier?: WsSecurityVerifier }).verifier = fake;
    });
    afterAll(() => {
      (e.h.get(SoapEdge) as unknown as { verifier?: WsSecurityVerifier }).verifier = bound;
    });
    beforeEach(() => {
      calls.length = 0;
    });

    it.each(['1.1', '1.2'] as const)('SOAP %s: the verifier gets the raw envelope and version, and its user runs the operation', async (v) => {
      const identity = e.h.get(IdentityService);
      await e.h.user('wss', ['admin'], `wss-admin-${v}`);
      answer = async () => ({ user: await identity.authenticate(`wss-admin-${v}`, 'password-123'), credentialType: 'wss-password-digest' });
      const body = envelope(v, '<t:CreateMachineConfiguration><t:name>wss</t:name><t:cpu>1</t:cpu><t:memory>1</t:memory></t:CreateMachineConfiguration>', SECURITY.replace('<wsse:Security', `<wsse:Security soap:mustUnderstand="${v === '1.1' ? '1' : 'true'}"`));
      const headers: Record<string, string> =
        v === '1.1' ? { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${ACTION('CreateMachineConfiguration')}"` } : { 'Content-Type': 'application/soap+xml; charset=utf-8' };
      const r = await post(`${e.base}${v === '1.1' ? '/soap' : '/soap12'}`, body, headers); // no Basic credentials at all
      expect(r.status).toBe(200);
      expect(calls).toEqual([{ raw: body, version: v }]);
      const job = /<t:job><t:id>([^<]+)</.exec(r.body)![1];
      const ctx = identity.context(await identity.authenticate(`wss-admin-${v}`, 'password-123'), 'internal', 't');
      expect((await e.h.get(JobService).get(ctx, job)).initiator.userName).toBe(`wss-admin-${v}`);
    });

    it.each([
      ['1.1', 500, 'wsse:FailedAuthentication', undefined],
      ['1.2', 400, 'soap:Sender', 'wsse:FailedAuthentication'],
    ] as const)('SOAP %s: a WsSecurityError is a wsse fault (%i) and nothing runs', async (v, status, code, subcode) => {
      answer = async () => {
        throw new WsSecurityError('FailedAuthentication', 'digest mismatch for user x');
      };
      const before = await snapshot(e);
      const r = await soapCall(e, v, 'CreateMachineConfiguration', '<t:name>never</t:name><t:cpu>1</t:cpu><t:memory>1</t:memory>', { header: SECURITY });
      expect(r.status).toBe(status);
      expect(faultOf(r)).toMatchObject({ code, subcode });
      expect(r.body).not.toContain('digest mismatch'); // which check failed is not revealed (WSS 1.1 §12)
      expect(calls).toHaveLength(1);
      expect(await snapshot(e)).toBe(before);
    });

    it('a verifier finding no token leaves the request to HTTP Basic', async () => {
      answer = async () => undefined;
      const r = await soapCall(e, '1.1', 'ListMachines', '', { header: SECURITY });
      expect(r.status).toBe(200);
      expect(calls).toHaveLength(1);
      const anonymous = await soapCall(e, '1.1', 'ListMachines', '', { header: SECURITY, auth: null });
      expect(anonymous.status).toBe(401);
    });
  });
});
