import { userInfo } from 'node:os';
import { ENGINES } from '../../support/databases';
import { adminCli } from '../../support/admin-cli';
import { BASIC, soapCall, useSoapApp, type SoapEnv } from '../soap/soap-support';

/** the real CLI as an OS process, on the database the running app uses */
const cli = (e: SoapEnv, args: string[], stdin?: string) => adminCli(e.h, args, stdin);

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * The admin command line (issue 16 §2): an operator's commands on the database of a running gateway take effect
 * in its doors at once, refusals exit 1 and change nothing, and every command is audited with the operator.
 */
describe.each(ENGINES)('admin CLI [%s]', (engine) => {
  const env = useSoapApp(engine);
  const rest = (auth: string, path = '/cimi/machines') => fetch(`${env().base}${path}`, { headers: { Authorization: auth, Accept: 'application/json' } });
  const soapStatus = async (auth: string) => {
    const r = await soapCall(env(), '1.1', 'ListMachines', '', { auth });
    // HTTP Basic refused: 401 with a wsse:FailedAuthentication fault (docs/soap.md)
    return r.status === 401 && /FailedAuthentication/.test(r.body) ? 'refused' : r.status === 200 ? 'ok' : `${r.status} ${r.body.slice(0, 300)}`;
  };
  const t = `cli-${engine}`;
  const user = `cli-user-${engine}`;

  it('creates a tenant and a user the gateway lets in; disable refuses it in REST and SOAP; enable lets it in again', async () => {
    const made = await cli(env(), ['tenant', 'create', t, '--json']);
    expect(made).toMatchObject({ code: 0 });
    expect(JSON.parse(made.stdout)).toMatchObject({ name: t, disabled: false });
    const u = await cli(env(), ['user', 'create', user, '--tenant', t, '--roles', 'user', '--password-stdin'], 'first-password-1\n');
    expect(u.code).toBe(0);
    expect(u.stdout).toMatch(new RegExp(`${user}\\s+${t}\\s+user\\s+false`));
    expect((await rest(basic(user, 'first-password-1'))).status).toBe(200);
    expect(await soapStatus(basic(user, 'first-password-1'))).toBe('ok');

    expect((await cli(env(), ['user', 'disable', user])).code).toBe(0);
    // the gateway had just verified this password (and caches it): disabled in another process still refuses at once
    expect((await rest(basic(user, 'first-password-1'))).status).toBe(401);
    expect(await soapStatus(basic(user, 'first-password-1'))).toBe('refused');
    expect((await cli(env(), ['user', 'enable', user])).code).toBe(0);
    expect((await rest(basic(user, 'first-password-1'))).status).toBe(200);

    // a disabled tenant shuts out its users
    expect((await cli(env(), ['tenant', 'disable', t])).code).toBe(0);
    expect((await rest(basic(user, 'first-password-1'))).status).toBe(401);
    const list = await cli(env(), ['tenant', 'list', '--json']);
    expect((JSON.parse(list.stdout) as { name: string; disabled: boolean }[]).find((x) => x.name === t)).toMatchObject({ disabled: true });
    expect((await cli(env(), ['tenant', 'enable', t])).code).toBe(0);
    expect(await soapStatus(basic(user, 'first-password-1'))).toBe('ok');
  });

  it('set-password: the old password is refused, the new one works; reset-password prints a working one once', async () => {
    expect((await cli(env(), ['user', 'set-password', user, '--password-stdin'], 'second-password-2\n')).code).toBe(0);
    expect((await rest(basic(user, 'first-password-1'))).status).toBe(401);
    expect((await rest(basic(user, 'second-password-2'))).status).toBe(200);
    const reset = await cli(env(), ['user', 'reset-password', user, '--json']);
    expect(reset.code).toBe(0);
    const { password } = JSON.parse(reset.stdout) as { password: string };
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect((await rest(basic(user, 'second-password-2'))).status).toBe(401);
    expect((await rest(basic(user, password))).status).toBe(200);
    // too short: the model's invalid-input, exit 1, the password unchanged
    const short = await cli(env(), ['user', 'set-password', user, '--password-stdin'], 'short\n');
    expect(short.code).toBe(1);
    expect(short.stderr.trim()).toMatch(/^cimi-gateway-admin: passwords have at least 8 characters/);
    expect((await rest(basic(user, password))).status).toBe(200);
    expect((await cli(env(), ['user', 'set-roles', user, '--roles', 'reader', '--json'])).stdout).toMatch(/"roles":"reader"/);
  });

  it('refusals: delete of a tenant with users exits 1 and deletes nothing; unknown names exit 1; bad usage exits 2', async () => {
    const del = await cli(env(), ['tenant', 'delete', t]);
    expect(del.code).toBe(1);
    expect(del.stderr.trim()).toBe(`cimi-gateway-admin: tenant ${t} still has users or resources; delete them first (TENANT.NOT_EMPTY)`);
    expect(JSON.parse((await cli(env(), ['user', 'list', '--tenant', t, '--json'])).stdout)).toHaveLength(1);
    expect((await cli(env(), ['tenant', 'list', '--json'])).stdout).toContain(`"name":"${t}"`);
    expect((await cli(env(), ['user', 'disable', 'no-such-user'])).stderr).toMatch(/User no-such-user not found/);
    const usage = await cli(env(), ['user', 'frobnicate']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/unknown command: user frobnicate/);
    // passwords never come from argv
    expect((await cli(env(), ['user', 'set-password', user, '--password', 'x'])).code).toBe(2);
    // delete the user, then the tenant: both go
    expect((await cli(env(), ['user', 'delete', user])).code).toBe(0);
    expect((await cli(env(), ['tenant', 'delete', t])).code).toBe(0);
    expect((await cli(env(), ['tenant', 'list', '--json'])).stdout).not.toContain(`"name":"${t}"`);
  });

  it('every command left a CADF record with the operator as initiator, read through the REST audit trail', async () => {
    const r = await rest(BASIC, `/cimi/eventLogs/audit/events?$last=1000&$filter=${encodeURIComponent("protocol='cli'")}`);
    expect(r.status).toBe(200);
    const events = ((await r.json()) as { events: { content: { action: string; outcome: string; reason?: { reasonCode?: string }; initiator: { id: string; name: string; host: { agent: string } }; target?: { id: string; typeURI: string } } }[] }).events.map((e) => e.content);
    const operator = `operator:${userInfo().username}`;
    expect(events.every((e) => e.initiator.id === operator && e.initiator.name === operator && e.initiator.host.agent === 'cli')).toBe(true);
    const of = (action: string, id: string, outcome = 'success') => events.filter((e) => e.action === action && e.target?.id === id && e.outcome === outcome);
    expect(of('create', t)).toHaveLength(1);
    expect(of('create', user)).toHaveLength(1);
    expect(of('update/disable', user)).toHaveLength(1);
    expect(of('update/disable', t)).toHaveLength(1);
    expect(of('update', user).length).toBeGreaterThanOrEqual(3); // set-password, reset-password, set-roles
    const refused = of('delete', t, 'failure');
    expect(refused).toHaveLength(1);
    expect(JSON.stringify(refused[0])).toContain('TENANT.NOT_EMPTY');
    expect(of('delete', t)).toHaveLength(1);
    expect(of('delete', user)).toHaveLength(1);
  });
});
