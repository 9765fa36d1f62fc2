import { ENGINES } from '../support/databases';
import { startHarness, type Harness } from '../support/app-harness';
import { AssociationService } from '../../src/model/shared/association.service';
import { MachineService } from '../../src/model/machine/machine.service';
import { VolumeService } from '../../src/model/volume/volume.service';
import { NetworkService } from '../../src/model/network/network.service';
import { CatalogService } from '../../src/model/template/catalog.service';
import type { OperationContext } from '../../src/model/shared/operation-context';
import type { Job } from '../../src/model/job/job';
import type { Ref } from '../../src/model/shared/resource';

/** Machine <-> Volume and Machine <-> Network associations in model terms (what WS-Man association filters read). */
describe.each(ENGINES)('associations on %s', (engine) => {
  let h: Harness;
  let ctx: OperationContext;
  let assoc: AssociationService;
  let m1: string;
  let m2: string;
  let v1: string;
  let v2: string;
  let n1: string;
  let n2: string;

  const done = (job: Job) => h.jobEnded(ctx, job);

  beforeAll(async () => {
    h = await startHarness(engine);
    assoc = h.get(AssociationService);
    const machines = h.get(MachineService);
    const volumes = h.get(VolumeService);
    const networks = h.get(NetworkService);
    const catalog = h.get(CatalogService);
    ctx = await h.user('assoc', ['user']);
    const cfg = await catalog.create(ctx, 'MachineConfiguration', { name: 'small', attrs: { cpu: 1, memory: 1048576 } });
    const vc = await catalog.create(ctx, 'VolumeConfiguration', { attrs: { capacity: 1000, format: 'ext4' } });
    const vol = async (name: string) => {
      const v = await volumes.create(ctx, { name, volumeTemplate: { value: { volumeConfig: { ref: { type: 'VolumeConfiguration', id: vc.resource!.id } } } } });
      await done(v.job);
      return v.resource!.id;
    };
    const net = async (name: string) => {
      const n = await networks.createNetwork(ctx, { name, networkTemplate: { value: { initialState: 'STARTED', networkConfig: { value: { networkType: 'PRIVATE' } } } } });
      await done(n.job);
      return n.resource!.id;
    };
    v1 = await vol('v1');
    v2 = await vol('v2');
    n1 = await net('n1');
    n2 = await net('n2');
    const machine = async (nics: Ref[]) => {
      const m = await machines.create(ctx, {
        machineTemplate: { value: { machineConfig: { ref: { type: 'MachineConfiguration', id: cfg.resource!.id } }, networkInterfaces: nics.map((n) => ({ network: { ref: n } })) } },
      });
      await done(m.job);
      return m.resource!.id;
    };
    // m1: on n1 twice (two interfaces) and on n2; m2: on n1
    m1 = await machine([
      { type: 'Network', id: n1 },
      { type: 'Network', id: n1 },
      { type: 'Network', id: n2 },
    ]);
    m2 = await machine([{ type: 'Network', id: n1 }]);
    await done((await machines.attachVolume(ctx, m1, { volume: { type: 'Volume', id: v1 }, initialLocation: '/dev/vdb' })).job);
    await done((await machines.attachVolume(ctx, m1, { volume: { type: 'Volume', id: v2 } })).job);
  }, 60000);
  afterAll(() => h?.close());

  const summary = (list: Awaited<ReturnType<AssociationService['of']>>) => list.map((a) => [a.kind, a.machine.id, a.other.id, a.links.length]);
  const sorted = (...ids: string[]) => [...ids].sort();

  it('machine -> its volumes (MachineVolume children) and its networks (one association per network, however many interfaces)', async () => {
    const all = await assoc.of(ctx, { type: 'Machine', id: m1 });
    const vols = sorted(v1, v2);
    const nets = sorted(n1, n2);
    expect(summary(all)).toEqual([
      ...vols.map((v) => ['machine-volume', m1, v, 1]),
      ...nets.map((n) => ['machine-network', m1, n, n === n1 ? 2 : 1]),
    ]);
    expect(all.find((a) => a.other.id === v1)!.links[0]).toMatchObject({ type: 'MachineVolume', parentId: m1, attrs: { initialLocation: '/dev/vdb' } });
    expect(summary(await assoc.of(ctx, { type: 'Machine', id: m1 }, ['machine-network'])).map((r) => r[2])).toEqual(nets);
    expect(await assoc.of(ctx, { type: 'Machine', id: m2 }, ['machine-volume'])).toEqual([]);
  });

  it('volume -> machine, network -> machines', async () => {
    expect(summary(await assoc.of(ctx, { type: 'Volume', id: v2 }))).toEqual([['machine-volume', m1, v2, 1]]);
    expect(summary(await assoc.of(ctx, { type: 'Network', id: n1 }))).toEqual(
      sorted(m1, m2).map((m) => ['machine-network', m, n1, m === m1 ? 2 : 1]),
    );
    expect(summary(await assoc.of(ctx, { type: 'Network', id: n2 }))).toEqual([['machine-network', m1, n2, 1]]);
    // a Volume has no network associations
    expect(await assoc.of(ctx, { type: 'Volume', id: v2 }, ['machine-network'])).toEqual([]);
  });

  it('is tenant-scoped: another tenant sees not-found, like for an unknown or malformed id', async () => {
    const other = await h.user('assoc-other', ['user']);
    await expect(assoc.of(other, { type: 'Machine', id: m1 })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(assoc.of(ctx, { type: 'Machine', id: '00000000-0000-4000-8000-000000000000' })).rejects.toMatchObject({ kind: 'not-found' });
    await expect(assoc.of(ctx, { type: 'Machine', id: 'vm-1' })).rejects.toMatchObject({ kind: 'not-found' });
  });
});
