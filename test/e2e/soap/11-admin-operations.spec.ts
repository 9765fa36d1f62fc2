import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { IdentityService } from '../../../src/model/identity/identity.service';
import { BASIC, faultOf, PYTHON, runClient, soapCall, useSoapApp } from './soap-support';

const ZEEP = join(__dirname, 'clients', 'zeep_admin.py');
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * The admin CLI's operations in the SOAP admin contract (issue 16 §2), for remote automation: admins only, typed
 * faults from the model's refusals, a disabled user shut out of the door at once; zeep as an independent client.
 */
describe.each(ENGINES)('SOAP admin operations [%s]', (engine) => {
  const env = useSoapApp(engine);
  const t = `soap-adm-${engine}`;

  it('zeep drives them from the WSDL: list, disable, roles, reset, a Conflict fault for a non-empty tenant, deletes', async () => {
    const r = await runClient(PYTHON, [ZEEP, env().base, 'admin', 'admin-secret-pw', `z-${t}`]);
    expect(r).toMatchObject({
      listed: [{ name: `z-${t}`, disabled: false }],
      disabled: true,
      roles: ['reader', 'user'],
      deleteNonEmpty: { code: 'soap:Client', detail: { kind: 'conflict', code: 'TENANT.NOT_EMPTY' } },
      afterDelete: [],
    });
    expect(r.resetLength as number).toBeGreaterThanOrEqual(16);
  });

  it('DeleteTenant of a tenant with users: Client/Conflict with TENANT.NOT_EMPTY on 1.1 and 1.2, nothing deleted', async () => {
    const identity = env().h.get(IdentityService);
    await identity.createTenant(env().admin, t);
    await identity.createUser(env().admin, { userName: `u-${t}`, password: 'password-123', tenant: t, roles: ['user'] });
    for (const v of ['1.1', '1.2'] as const) {
      const r = await soapCall(env(), v, 'DeleteTenant', `<t:name>${t}</t:name>`);
      expect(r.status).toBe(v === '1.1' ? 500 : 400);
      const f = faultOf(r);
      expect(f).toMatchObject({ kind: 'conflict', detailCode: 'TENANT.NOT_EMPTY' });
      if (v === '1.2') expect(f.subcode).toBe('t:Conflict');
    }
    expect((await identity.listTenants(env().admin)).map((x) => x.name)).toContain(t);
    expect((await identity.listUsers(env().admin)).map((x) => x.userName)).toContain(`u-${t}`);
  });

  it('DisableUser shuts the user out of SOAP at once; SetUserPassword: the old password refused, the new one works', async () => {
    const auth = basic(`u-${t}`, 'password-123');
    expect((await soapCall(env(), '1.1', 'ListMachines', '', { auth })).status).toBe(200);
    const d = await soapCall(env(), '1.1', 'DisableUser', `<t:userName>u-${t}</t:userName>`);
    expect(d.status).toBe(200);
    expect(d.body).toMatch(/<t:disabled>true<\/t:disabled>/);
    expect((await soapCall(env(), '1.1', 'ListMachines', '', { auth })).status).toBe(401);
    expect((await soapCall(env(), '1.1', 'EnableUser', `<t:userName>u-${t}</t:userName>`)).status).toBe(200);
    const s = await soapCall(env(), '1.2', 'SetUserPassword', `<t:userName>u-${t}</t:userName><t:password>password-789</t:password>`);
    expect(s.status).toBe(200);
    expect((await soapCall(env(), '1.1', 'ListMachines', '', { auth })).status).toBe(401);
    expect((await soapCall(env(), '1.1', 'ListMachines', '', { auth: basic(`u-${t}`, 'password-789') })).status).toBe(200);
  });

  it('a non-admin caller is refused (NotAuthorized) and changes nothing; unknown names are ResourceNotFound', async () => {
    const auth = basic(`u-${t}`, 'password-789');
    const r = await soapCall(env(), '1.2', 'DisableTenant', `<t:name>${t}</t:name>`, { auth });
    expect(faultOf(r)).toMatchObject({ kind: 'forbidden', subcode: 't:NotAuthorized' });
    expect((await soapCall(env(), '1.1', 'ListTenants', '', { auth })).status).toBe(500);
    const list = await soapCall(env(), '1.1', 'ListTenants', '', { auth: BASIC });
    expect(list.body).toMatch(new RegExp(`<t:name>${t}</t:name><t:created>[^<]+</t:created><t:disabled>false</t:disabled>`));
    const missing = await soapCall(env(), '1.2', 'DeleteUser', `<t:userName>no-such-user</t:userName>`);
    expect(faultOf(missing)).toMatchObject({ kind: 'not-found', subcode: 't:ResourceNotFound' });
  });
});
