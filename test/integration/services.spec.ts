import { ENGINES } from '../support/databases';
import { startHarness, type Harness } from '../support/app-harness';
import { ResourceService } from '../../src/model/shared/resource.service';
import { MachineService } from '../../src/model/machine/machine.service';
import { VolumeService } from '../../src/model/volume/volume.service';
import { ImageService } from '../../src/model/image/image.service';
import { NetworkService } from '../../src/model/network/network.service';
import { SystemService } from '../../src/model/system/system.service';
import { CatalogService } from '../../src/model/template/catalog.service';
import { JobService } from '../../src/model/job/job.service';
import type { OperationContext } from '../../src/model/shared/operation-context';
import type { Job } from '../../src/model/job/job';
import type { Ref } from '../../src/model/shared/resource';

/** Service tests on a real database (issue 2): each runs on SQLite and, in CI, on PostgreSQL. */
describe.each(ENGINES)('application services on %s', (engine) => {
  let h: Harness;
  let ctx: OperationContext;
  let resources: ResourceService;
  let machines: MachineService;
  let volumes: VolumeService;
  let images: ImageService;
  let networks: NetworkService;
  let systems: SystemService;
  let catalog: CatalogService;
  let jobs: JobService;
  let smallConfig: Ref;
  let image: Ref;

  beforeAll(async () => {
    h = await startHarness(engine);
    resources = h.get(ResourceService);
    machines = h.get(MachineService);
    volumes = h.get(VolumeService);
    images = h.get(ImageService);
    networks = h.get(NetworkService);
    systems = h.get(SystemService);
    catalog = h.get(CatalogService);
    jobs = h.get(JobService);
    ctx = await h.user('svc', ['user']);
    const cfg = await catalog.create(ctx, 'MachineConfiguration', { name: 'small', attrs: { cpu: 1, memory: 1048576, cpuArch: 'x86_64', disks: [{ capacity: 1000000 }] } });
    smallConfig = { type: 'MachineConfiguration', id: cfg.resource!.id };
    const img = await images.create(ctx, 'MachineImage', { name: 'img', imageLocation: 'https://images.example.org/a.qcow2' });
    image = { type: 'MachineImage', id: img.resource!.id };
    await done(img.job);
  }, 60000);
  afterAll(() => h?.close());

  const done = (job: Job) => h.jobEnded(ctx, job);
  const stateOf = async (type: Ref['type'], id: string) => (await resources.get(ctx, type, id)).state;

  it('seeds the demo catalog in tenant demo', async () => {
    const admin = await h.user('demo', ['admin']);
    expect((await resources.list(admin, 'MachineConfiguration')).count).toBeGreaterThanOrEqual(3);
    expect((await resources.list(admin, 'MachineImage')).count).toBeGreaterThanOrEqual(2);
    expect((await resources.list(admin, 'VolumeConfiguration')).count).toBeGreaterThanOrEqual(2);
    expect((await resources.list(admin, 'Network')).count).toBe(1);
  });

  it('creates a machine from a template by reference and runs its life cycle', async () => {
    const t = await catalog.create(ctx, 'MachineTemplate', { name: 't1', attrs: { machineConfig: { ref: smallConfig }, machineImage: { ref: image } } });
    const c = await machines.create(ctx, { name: 'm1', machineTemplate: { ref: { type: 'MachineTemplate', id: t.resource!.id } } });
    expect(c.resource!.state).toBe('CREATING');
    expect(c.job.state).toBe('QUEUED');
    const j = await done(c.job);
    expect(j.state).toBe('SUCCESS');
    expect(j.progress).toBe(100);
    const id = c.resource!.id;
    const m = await resources.get(ctx, 'Machine', id);
    expect(m).toMatchObject({ name: 'm1', state: 'STOPPED', attrs: { cpu: 1, memory: 1048576, machineImage: image } });
    expect((await resources.listChildren(ctx, 'Machine', id, 'Disk')).count).toBe(1);
    for (const [action, transient, final] of [
      ['start', 'STARTING', 'STARTED'],
      ['pause', 'PAUSING', 'PAUSED'],
      ['start', 'STARTING', 'STARTED'],
      ['suspend', 'SUSPENDING', 'SUSPENDED'],
      ['start', 'STARTING', 'STARTED'],
      ['restart', 'STOPPING', 'STARTED'],
      ['stop', 'STOPPING', 'STOPPED'],
    ] as const) {
      const r = await machines.act(ctx, id, action);
      expect(r.resource!.state).toBe(transient);
      expect((await done(r.job)).state).toBe('SUCCESS');
      expect(await stateOf('Machine', id)).toBe(final);
    }
    const del = await resources.delete(ctx, 'Machine', id);
    expect(del.resource!.state).toBe('DELETING');
    await done(del.job);
    await expect(resources.get(ctx, 'Machine', id)).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('refuses an illegal transition with invalid-state and changes nothing', async () => {
    const c = await machines.create(ctx, { machineTemplate: { value: { machineConfig: { ref: smallConfig }, initialState: 'STARTED' } } });
    await done(c.job);
    const before = await resources.get(ctx, 'Machine', c.resource!.id);
    expect(before.state).toBe('STARTED');
    await expect(machines.act(ctx, before.id, 'start')).rejects.toMatchObject({ kind: 'invalid-state', code: 'MACHINE.INVALID_STATE' });
    const after = await resources.get(ctx, 'Machine', before.id);
    expect(after.version).toBe(before.version);
    // an action while a job runs is invalid-state, not a race
    const stop = await machines.act(ctx, before.id, 'stop');
    await expect(machines.act(ctx, before.id, 'stop')).rejects.toMatchObject({ kind: 'invalid-state' });
    await done(stop.job);
  });

  it('resolves templates by value with overrides and null erasure, once, in the model', async () => {
    const t = await catalog.create(ctx, 'MachineTemplate', { attrs: { machineConfig: { ref: smallConfig }, userData: 'aGVsbG8=', initialState: 'STOPPED' } });
    const ref = { type: 'MachineTemplate' as const, id: t.resource!.id };
    const c = await machines.create(ctx, {
      machineTemplate: { ref, value: { machineConfig: { value: { cpu: 4, memory: 8388608 } }, userData: null } },
    });
    await done(c.job);
    const m = await resources.get(ctx, 'Machine', c.resource!.id);
    expect(m.attrs).toMatchObject({ cpu: 4, memory: 8388608 });
    expect(m.attrs.userData).toBeUndefined();
    // overrides never change the stored template
    expect((await resources.get(ctx, 'MachineTemplate', ref.id)).attrs).toMatchObject({ userData: 'aGVsbG8=' });
    await expect(machines.create(ctx, { machineTemplate: { ref: { type: 'MachineTemplate', id: '00000000-0000-4000-8000-000000000000' } } })).rejects.toMatchObject({
      kind: 'invalid-input',
      code: 'TEMPLATE.BAD_REFERENCE',
    });
    await expect(machines.create(ctx, { machineTemplate: { value: { machineConfig: { value: { cpu: 1, memory: 1 } }, initialState: 'DELETING' } } })).rejects.toMatchObject({ kind: 'invalid-input' });
  });

  it('fails a job whose provider step fails: Job FAILED with a reason, resource in ERROR', async () => {
    const c = await machines.create(ctx, { machineTemplate: { value: { machineConfig: { ref: smallConfig } } } });
    await done(c.job);
    h.driver.injectFault('start', 1);
    const r = await machines.act(ctx, c.resource!.id, 'start');
    const j = await done(r.job);
    expect(j).toMatchObject({ state: 'FAILED', progress: 100, statusMessage: 'simulated start failure' });
    expect(await stateOf('Machine', c.resource!.id)).toBe('ERROR');
    // ERROR allows start again (Sirocco FSM)
    expect((await done((await machines.act(ctx, c.resource!.id, 'start')).job)).state).toBe('SUCCESS');
  });

  it('attaches and detaches a volume through MachineVolume', async () => {
    const vc = await catalog.create(ctx, 'VolumeConfiguration', { attrs: { capacity: 5000000, format: 'ext4' } });
    const v = await volumes.create(ctx, { name: 'data', volumeTemplate: { value: { volumeConfig: { ref: { type: 'VolumeConfiguration', id: vc.resource!.id } } } } });
    await done(v.job);
    expect(await stateOf('Volume', v.resource!.id)).toBe('AVAILABLE');
    const m = await machines.create(ctx, { machineTemplate: { value: { machineConfig: { ref: smallConfig } } } });
    await done(m.job);
    const a = await machines.attachVolume(ctx, m.resource!.id, { volume: { type: 'Volume', id: v.resource!.id }, initialLocation: '/dev/vdb' });
    await done(a.job);
    const links = await resources.listChildren(ctx, 'Machine', m.resource!.id, 'MachineVolume');
    expect(links.items.map((l) => l.attrs)).toEqual([{ volume: { type: 'Volume', id: v.resource!.id }, initialLocation: '/dev/vdb' }]);
    await expect(resources.delete(ctx, 'Volume', v.resource!.id)).rejects.toMatchObject({ kind: 'invalid-state' });
    await expect(machines.attachVolume(ctx, m.resource!.id, { volume: { type: 'Volume', id: v.resource!.id } })).rejects.toMatchObject({ kind: 'invalid-state' });
    const d = await machines.detachVolume(ctx, m.resource!.id, links.items[0].id);
    await done(d.job);
    expect((await resources.listChildren(ctx, 'Machine', m.resource!.id, 'MachineVolume')).count).toBe(0);
    await done((await resources.delete(ctx, 'Volume', v.resource!.id)).job);
  });

  it('creates the volumes of a MachineTemplate volumeTemplates with the Machine, attached (DSP0263 2.0.0 §5.14.2)', async () => {
    const vc = await catalog.create(ctx, 'VolumeConfiguration', { attrs: { capacity: 2000000, format: 'xfs' } });
    const m = await machines.create(ctx, {
      machineTemplate: { value: { machineConfig: { ref: smallConfig }, volumeTemplates: [{ volumeTemplate: { value: { volumeConfig: { ref: { type: 'VolumeConfiguration', id: vc.resource!.id } } } }, initialLocation: '/dev/vdc' }] } },
    });
    expect((await done(m.job)).state).toBe('SUCCESS');
    const links = await resources.listChildren(ctx, 'Machine', m.resource!.id, 'MachineVolume');
    expect(links.count).toBe(1);
    expect(links.items[0].attrs.initialLocation).toBe('/dev/vdc');
    const vol = await resources.get(ctx, 'Volume', (links.items[0].attrs.volume as Ref).id);
    expect(vol).toMatchObject({ state: 'AVAILABLE', attrs: { capacity: 2000000, format: 'xfs', bootable: false } });
    // a volumeTemplate without a volumeConfig is refused (volume/volume-template.ts)
    await expect(machines.create(ctx, { machineTemplate: { value: { machineConfig: { ref: smallConfig }, volumeTemplates: [{ volumeTemplate: { value: {} } }] } } })).rejects.toMatchObject({ kind: 'invalid-input' });
  });

  it('creates a System from a template with quantity > 1 and #name references, and starts it as a whole', async () => {
    const vc = await catalog.create(ctx, 'VolumeConfiguration', { attrs: { capacity: 1000 } });
    const st = await catalog.create(ctx, 'SystemTemplate', {
      attrs: {
        componentDescriptors: [
          { name: 'web', type: 'Machine', quantity: 2, template: { value: { machineConfig: { ref: smallConfig }, volumes: [{ volume: { type: 'Volume', id: '#disk' }, initialLocation: '/dev/vdb' }] } } },
          { name: 'disk', type: 'Volume', quantity: 2, template: { value: { volumeConfig: { ref: { type: 'VolumeConfiguration', id: vc.resource!.id } } } } },
          { name: 'net', type: 'Network', template: { value: { networkConfig: { value: { networkType: 'PRIVATE' } } } } },
        ],
      },
    });
    const s = await systems.create(ctx, { name: 'sys', systemTemplate: { ref: { type: 'SystemTemplate', id: st.resource!.id } } });
    expect((await done(s.job)).state).toBe('SUCCESS');
    const sid = s.resource!.id;
    const sm = await resources.listChildren(ctx, 'System', sid, 'SystemMachine');
    expect(sm.count).toBe(2);
    const names = await Promise.all(sm.items.map(async (l) => (await resources.get(ctx, 'Machine', (l.attrs.machine as Ref).id)).name));
    expect(names.sort()).toEqual(['web1', 'web2']);
    expect((await resources.listChildren(ctx, 'System', sid, 'SystemVolume')).count).toBe(2);
    // each web machine has its own disk: web1 <-> disk1, web2 <-> disk2
    for (const l of sm.items) {
      const mv = await resources.listChildren(ctx, 'Machine', (l.attrs.machine as Ref).id, 'MachineVolume');
      expect(mv.count).toBe(1);
    }
    expect(await stateOf('System', sid)).toBe('STOPPED');
    const start = await systems.act(ctx, sid, 'start');
    expect(start.resource!.state).toBe('STARTING');
    expect((await done(start.job)).state).toBe('SUCCESS');
    expect(await stateOf('System', sid)).toBe('STARTED');
    expect(await jobs.nested(ctx, start.job.id)).toHaveLength(2);
    const stop = await systems.act(ctx, sid, 'stop');
    await done(stop.job);
    expect(await stateOf('System', sid)).toBe('STOPPED');
    // DSP0263 2.0.0 §5.10.2: the System's components go with it
    const machineIds = sm.items.map((l) => (l.attrs.machine as Ref).id);
    const volumeIds = (await resources.listChildren(ctx, 'System', sid, 'SystemVolume')).items.map((l) => (l.attrs.volume as Ref).id);
    const del = await resources.delete(ctx, 'System', sid);
    expect((await done(del.job)).state).toBe('SUCCESS');
    for (const [type, id] of [['System', sid], ...machineIds.map((m) => ['Machine', m]), ...volumeIds.map((v) => ['Volume', v])] as [Ref['type'], string][]) {
      await expect(resources.get(ctx, type, id)).rejects.toMatchObject({ kind: 'not-found' });
    }
  });

  it('creates networks, ports, addresses and a forwarding group', async () => {
    const n1 = await networks.createNetwork(ctx, { name: 'n1', networkTemplate: { value: { initialState: 'STARTED', networkConfig: { value: { networkType: 'PRIVATE', mtu: 1500 } } } } });
    const n2 = await networks.createNetwork(ctx, { name: 'n2', networkTemplate: { value: { networkConfig: { value: { networkType: 'PUBLIC' } } } } });
    await done(n1.job);
    await done(n2.job);
    expect(await stateOf('Network', n1.resource!.id)).toBe('STARTED');
    expect(await stateOf('Network', n2.resource!.id)).toBe('STOPPED');
    const n1ref = { type: 'Network' as const, id: n1.resource!.id };
    const p = await networks.createNetworkPort(ctx, { networkPortTemplate: { value: { network: { ref: n1ref }, networkPortConfig: { value: { portType: 'ACCESS' } } } } });
    await done(p.job);
    expect(await stateOf('NetworkPort', p.resource!.id)).toBe('STOPPED');
    const a = await networks.createAddress(ctx, { addressTemplate: { value: { ip: '10.0.0.5', protocol: 'IPv4', allocation: 'static', network: { ref: n1ref } } } });
    expect(a.completed).toBe(true);
    const fg = await networks.createForwardingGroup(ctx, { forwardingGroupTemplate: { value: { networks: [{ network: n1ref }, { network: { type: 'Network', id: n2.resource!.id } }] } } });
    expect((fg.resource!.attrs.networks as Ref[]).length).toBe(2);
    await expect(resources.delete(ctx, 'Network', n1.resource!.id)).rejects.toMatchObject({ kind: 'invalid-state' });
    await done((await networks.act(ctx, 'Network', n2.resource!.id, 'start')).job);
    expect(await stateOf('Network', n2.resource!.id)).toBe('STARTED');
  });

  it('replays an idempotent create and refuses the same key with another input', async () => {
    const input = { name: 'idem', machineTemplate: { value: { machineConfig: { ref: smallConfig } } } };
    const a = await machines.create(ctx, input, { idempotencyKey: 'key-1' });
    const b = await machines.create(ctx, input, { idempotencyKey: 'key-1' });
    expect(b.replayed).toBe(true);
    expect(b.resource!.id).toBe(a.resource!.id);
    expect(b.job.id).toBe(a.job.id);
    await expect(machines.create(ctx, { ...input, name: 'other' }, { idempotencyKey: 'key-1' })).rejects.toMatchObject({ kind: 'conflict', code: 'GENERIC.IDEMPOTENCY_KEY_REUSED' });
    const all = await resources.list(ctx, 'Machine', { filter: { kind: 'cmp', attr: 'name', op: '=', value: 'idem' } });
    expect(all.count).toBe(1);
    await done(a.job);
  });

  it('updates with optimistic concurrency: a stale version is a precondition error', async () => {
    const c = await catalog.create(ctx, 'MachineConfiguration', { name: 'v', attrs: { cpu: 2, memory: 2048 } });
    const id = c.resource!.id;
    const u = await resources.update(ctx, 'MachineConfiguration', id, { description: 'x', attrs: { cpu: 3 } }, { expectedVersion: 1 });
    expect(u.resource!.version).toBe(2);
    expect(u.job.state).toBe('SUCCESS');
    await expect(resources.update(ctx, 'MachineConfiguration', id, { description: 'y' }, { expectedVersion: 1 })).rejects.toMatchObject({ kind: 'precondition' });
    await expect(resources.update(ctx, 'MachineConfiguration', id, { attrs: { bogus: 1 } })).rejects.toMatchObject({ kind: 'invalid-input', code: 'GENERIC.UNKNOWN_ATTRIBUTE' });
    expect((await resources.get(ctx, 'MachineConfiguration', id)).attrs).toMatchObject({ cpu: 3, memory: 2048 });
  });

  it('keeps tenants apart and readers read-only', async () => {
    const other = await h.user('other-tenant', ['admin']);
    const reader = await h.user('svc', ['reader']);
    const mine = await catalog.create(ctx, 'MachineConfiguration', { name: 'mine', attrs: { cpu: 1, memory: 1024 } });
    const id = mine.resource!.id;
    await expect(resources.get(other, 'MachineConfiguration', id)).rejects.toMatchObject({ kind: 'not-found' });
    expect((await resources.list(other, 'MachineConfiguration')).items.map((r) => r.id)).not.toContain(id);
    await expect(resources.update(other, 'MachineConfiguration', id, { name: 'stolen' })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(resources.delete(other, 'MachineConfiguration', id)).rejects.toMatchObject({ kind: 'not-found' });
    await expect(machines.create(other, { machineTemplate: { value: { machineConfig: { ref: { type: 'MachineConfiguration', id } } } } })).rejects.toMatchObject({ code: 'TEMPLATE.BAD_REFERENCE' });
    await expect(jobs.get(other, mine.job.id)).rejects.toMatchObject({ kind: 'not-found' });
    expect((await resources.get(reader, 'MachineConfiguration', id)).name).toBe('mine');
    await expect(resources.update(reader, 'MachineConfiguration', id, { name: 'r' })).rejects.toMatchObject({ kind: 'forbidden' });
    await expect(catalog.create(reader, 'MachineConfiguration', { attrs: { cpu: 1, memory: 1 } })).rejects.toMatchObject({ kind: 'forbidden' });
    expect((await resources.get(ctx, 'MachineConfiguration', id)).name).toBe('mine');
  });
});
