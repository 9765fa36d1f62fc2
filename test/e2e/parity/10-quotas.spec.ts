import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { adminCli } from '../../support/admin-cli';
import { IdentityService } from '../../../src/model/identity/identity.service';
import { QuotaService, type QuotaChange } from '../../../src/model/quota/quota.service';
import { QUOTA_METRIC_NAMES, type QuotaMetric } from '../../../src/model/quota/quota';
import { ACT, CS, catalogIds, envelope, fault, post, restGet, restJob, VENDOR } from '../../support/wsman-client';
import { faultOf, PYTHON, runClient, soapCall, useSoapApp } from '../soap/soap-support';

const ZEEP = join(__dirname, '..', 'soap', 'clients', 'zeep_quota.py');
const CIMI = 'http://schemas.dmtf.org/cimi/1';
const idOf = (href: string) => href.split('/').pop()!;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * Per-tenant quotas (issue 16 §3): limits set by the admin CLI or SOAP, enforced in the transaction of every change
 * (so concurrent creates cannot pass a limit together), refused in each door as the model's quota error, with
 * nothing written; usage readable by the tenant in CIMI ResourceMetadata and SOAP GetQuota.
 */
describe.each(ENGINES)('quotas [%s]', (engine) => {
  const env = useSoapApp(engine);
  const port = () => Number(new URL(env().base).port);
  const quotas = () => env().h.get(QuotaService);
  const used = async (m: QuotaMetric) => (await quotas().get(env().admin)).metrics.find((l) => l.metric === m)!.used;
  const setLimits = (change: QuotaChange) => quotas().set(env().admin, 'demo', change);
  let c: Awaited<ReturnType<typeof catalogIds>>;
  const cimi = (path: string) => `${env().base}/cimi/${path}`;
  const rest = async (method: string, path: string, body?: unknown, auth = `Basic ${Buffer.from('admin:admin-secret-pw').toString('base64')}`) => {
    const r = await fetch(cimi(path), { method, headers: { Authorization: auth, Accept: 'application/json', ...(body ? { 'Content-Type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    const text = await r.text();
    return { status: r.status, headers: r.headers, doc: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };
  const machineBody = (name: string, config = c.config) => ({
    resourceURI: `${CIMI}/MachineCreate`,
    name,
    machineTemplate: { machineConfig: { href: cimi(`machineConfigs/${config}`) }, machineImage: { href: cimi(`machineImages/${c.image}`) }, initialState: 'STOPPED' },
  });
  const createMachine = (name: string) => rest('POST', 'machines', machineBody(name));
  /** what a refused change must leave as it was: the tenant's machines, volumes, networks and Jobs */
  const counts = async () => {
    const n = async (seg: string) => (await rest('GET', `${seg}?$first=1&$last=1`)).doc.count;
    return { machines: await n('machines'), volumes: await n('volumes'), networks: await n('networks'), jobs: await n('jobs') };
  };
  const capabilities = async (type: string) => {
    const r = await rest('GET', `resourceMetadata/${type}`);
    expect(r.status).toBe(200);
    return Object.fromEntries(((r.doc.capabilities ?? []) as { name: string; value: string }[]).map((x) => [x.name, x.value]));
  };

  beforeAll(async () => {
    c = await catalogIds(port());
  });
  afterEach(async () => {
    await setLimits(Object.fromEntries(QUOTA_METRIC_NAMES.map((m) => [m, null])));
    await env().h.idle();
  });

  it('the admin CLI sets and shows limits; the tenant reads its quota and usage in CIMI ResourceMetadata and SOAP GetQuota', async () => {
    const machines = await used('machines');
    const set = await adminCli(env().h, ['quota', 'set', 'demo', `machines=${machines + 2}`, 'cpu=64', '--json']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual(expect.arrayContaining([{ tenant: 'demo', metric: 'machines', limit: machines + 2, used: machines }, expect.objectContaining({ metric: 'cpu', limit: 64 })]));
    const shown = await adminCli(env().h, ['quota', 'show', 'demo']);
    expect(shown.stdout).toMatch(new RegExp(`demo\\s+machines\\s+${machines + 2}\\s+${machines}\\n`));
    expect(shown.stdout).toMatch(/demo\s+volumes\s+none\s+\d+\n/);
    // DSP0263 §5.11: Provider-defined constraints of the type, for this tenant
    expect(await capabilities('Machine')).toMatchObject({ QuotaMachines: String(machines + 2), UsageMachines: String(machines), QuotaCpu: '64' });
    expect(await capabilities('Volume')).not.toHaveProperty('QuotaVolumes');
    const g = await soapCall(env(), '1.1', 'GetQuota', '');
    expect(g.status).toBe(200);
    expect(g.body).toContain(`<t:metric><t:metric>machines</t:metric><t:limit>${machines + 2}</t:limit><t:used>${machines}</t:used></t:metric>`);
    // none removes a limit; the CLI's refusals: a model refusal exits 1, a usage error 2, neither changes anything
    expect((await adminCli(env().h, ['quota', 'set', 'demo', 'cpu=none'])).code).toBe(0);
    expect(await capabilities('Machine')).not.toHaveProperty('QuotaCpu');
    const unknown = await adminCli(env().h, ['quota', 'set', 'demo', 'disks=3']);
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining('QUOTA.UNKNOWN_METRIC') });
    expect((await adminCli(env().h, ['quota', 'set', 'no-such-tenant', 'machines=1'])).code).toBe(1);
    expect((await adminCli(env().h, ['quota', 'set', 'demo', 'machines'])).code).toBe(2);
    expect((await capabilities('Machine')).QuotaMachines).toBe(String(machines + 2));
  });

  it('a create past the machine limit is refused in every door as the quota error, and writes nothing', async () => {
    await setLimits({ machines: (await used('machines')) + 1 });
    const first = await createMachine('q-first');
    expect(first.status).toBe(202);
    await restJob(port(), idOf(first.headers.get('cimi-job-uri')!));
    const before = await counts();

    const r = await createMachine('q-second');
    expect(r.status).toBe(409);
    expect(String(r.doc.statusMessage)).toMatch(/quota exceeded: .*machines.*quota machines/);
    for (const v of ['1.1', '1.2'] as const) {
      const s = await soapCall(env(), v, 'CreateMachine', `<t:name>q-soap</t:name><t:machineTemplate><t:value><t:machineConfig><t:ref>${c.config}</t:ref></t:machineConfig><t:machineImage><t:ref>${c.image}</t:ref></t:machineImage></t:value></t:machineTemplate>`);
      expect(s.status).toBe(v === '1.1' ? 500 : 400);
      expect(faultOf(s)).toMatchObject({ kind: 'quota', detailCode: 'QUOTA.EXCEEDED', ...(v === '1.2' ? { subcode: 't:QuotaExceeded' } : { code: 'soap:Client' }) });
    }
    const body = `<n1:CIMIGW_Machine xmlns:n1="${VENDOR}CIMIGW_Machine"><n1:ElementName>q-wsman</n1:ElementName><n1:MachineConfiguration>${c.config}</n1:MachineConfiguration><n1:MachineImage>${c.image}</n1:MachineImage></n1:CIMIGW_Machine>`;
    const w = await post(port(), envelope({ action: ACT.create, resourceUri: CS, body }));
    expect(fault(w)).toMatchObject({ subcode: 'QuotaLimit', wsmanFaultCode: 'QUOTA.EXCEEDED' });
    // waiting does not lift a quota: no Retry-After, unlike the throttles' QuotaLimit
    expect(w.headers['retry-after']).toBeUndefined();
    expect(await counts()).toEqual(before);

    await setLimits({ machines: null });
    expect((await createMachine('q-after-lift')).status).toBe(202);
  });

  it('concurrent creates cannot pass a limit together: exactly the headroom is accepted', async () => {
    await setLimits({ machines: (await used('machines')) + 3 });
    const before = await used('machines');
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => createMachine(`q-race-${i}`)));
    expect(all.map((r) => r.status).sort()).toEqual([202, 202, 202, 409, 409, 409, 409, 409]);
    expect(await used('machines')).toBe(before + 3);
  });

  it('vCPUs, volume capacity and networks count what the resources hold', async () => {
    // one more machine of the 1-vCPU "small" configuration fits, a second does not
    await setLimits({ cpu: (await used('cpu')) + 1 });
    expect((await createMachine('q-cpu-1')).status).toBe(202);
    const r = await createMachine('q-cpu-2');
    expect(r.status).toBe(409);
    expect(String(r.doc.statusMessage)).toMatch(/needs 1 vCPUs .*quota cpu/);

    // volume-10g holds 10 GB (10^7 KB): 1 KB less than that is refused
    const before = await counts();
    await setLimits({ storage: (await used('storage')) + 10_000_000 - 1 });
    const vol = await rest('POST', 'volumes', { resourceURI: `${CIMI}/VolumeCreate`, name: 'q-vol', volumeTemplate: { volumeConfig: { href: cimi(`volumeConfigs/${c.volumeConfig}`) } } });
    expect(vol.status).toBe(409);
    expect(String(vol.doc.statusMessage)).toMatch(/needs 10000000 KB of volume capacity .*quota storage/);
    await setLimits({ networks: await used('networks') });
    const net = await rest('POST', 'networks', { resourceURI: `${CIMI}/NetworkCreate`, name: 'q-net', networkTemplate: { networkConfig: { networkType: 'PRIVATE', mtu: 1500 } } });
    expect(net.status).toBe(409);
    expect(String(net.doc.statusMessage)).toMatch(/quota networks/);
    expect(await counts()).toEqual(before);
  });

  it('a limit lowered below usage refuses only what would add: stop, start and delete still work', async () => {
    const made = await createMachine('q-lowered');
    await restJob(port(), idOf(made.headers.get('cimi-job-uri')!));
    const id = idOf(made.headers.get('location')!);
    await setLimits({ machines: 0, cpu: 0, memory: 0 });
    const act = async (action: string) => {
      const r = await rest('POST', `machines/${id}/${action}`, { resourceURI: `${CIMI}/Action`, action: `${CIMI}/action/${action}` });
      expect({ action, status: r.status }).toEqual({ action, status: 202 });
      await restJob(port(), idOf(r.headers.get('cimi-job-uri')!));
    };
    await act('start');
    await act('stop');
    expect((await createMachine('q-refused')).status).toBe(409);
    const del = await rest('DELETE', `machines/${id}`);
    expect(del.status).toBe(202);
    await restJob(port(), idOf(del.headers.get('cimi-job-uri')!));
    expect((await restGet(port(), `/cimi/machines/${id}`)).status).toBe(404);
  });

  it('concurrentJobs counts unfinished Jobs: at 0, a change that makes provider work is refused, a synchronous one is not', async () => {
    await setLimits({ concurrentJobs: 0 });
    const r = await createMachine('q-jobs');
    expect(r.status).toBe(409);
    expect(String(r.doc.statusMessage)).toMatch(/unfinished jobs .*quota concurrentJobs/);
    // a MachineConfiguration is made at once: its Job is finished when the request returns
    const cfg = await rest('POST', 'machineConfigs', { resourceURI: `${CIMI}/MachineConfiguration`, name: 'q-cfg', cpu: 1, memory: 1024, disks: [{ capacity: 1000, format: 'ext4' }] });
    expect(cfg.status).toBe(201);
  });

  it('zeep sets and reads quotas from the WSDL and gets a typed QuotaExceeded fault; a user reads only its own tenant and sets nothing', async () => {
    const z = await runClient(PYTHON, [ZEEP, env().base, 'admin', 'admin-secret-pw', 'demo', c.config, c.image]);
    const machines = await used('machines');
    expect(z).toMatchObject({
      set: { machines: { limit: machines, used: machines }, cpu: { limit: 1000 } },
      create: { code: 'soap:Client', detail: { kind: 'quota', code: 'QUOTA.EXCEEDED' } },
      cleared: { machines: { limit: null }, cpu: { limit: null } },
    });
    const identity = env().h.get(IdentityService);
    await identity.ensureTenant(`other-${engine}`);
    await identity.addUser({ userName: `q-user-${engine}`, password: 'password-123', tenant: 'demo', roles: ['user'] });
    const auth = basic(`q-user-${engine}`, 'password-123');
    expect((await soapCall(env(), '1.1', 'GetQuota', '', { auth })).status).toBe(200);
    expect(faultOf(await soapCall(env(), '1.1', 'GetQuota', `<t:tenant>other-${engine}</t:tenant>`, { auth }))).toMatchObject({ kind: 'forbidden' });
    expect(faultOf(await soapCall(env(), '1.1', 'SetQuota', '<t:tenant>demo</t:tenant><t:limit><t:metric>machines</t:metric><t:max>100</t:max></t:limit>', { auth }))).toMatchObject({ kind: 'forbidden' });
    // the tenant sees its own usage in CIMI too, and a bad limit is an invalid-input fault
    expect((await capabilities('Machine')).UsageMachines).toBe(String(machines));
    expect(faultOf(await soapCall(env(), '1.1', 'SetQuota', '<t:tenant>demo</t:tenant><t:limit><t:metric>machines</t:metric><t:max>-1</t:max></t:limit>'))).toMatchObject({ kind: 'invalid-input' });
  });
});
