import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelError } from '../../model/shared/model-error';
import type { ResourceType } from '../../model/shared/resource';
import {
  OBSERVED_GONE,
  ProviderError,
  ProviderInterrupted,
  type Observation,
  type ObservedRef,
  type ProviderCapabilities,
  type ProviderDriver,
  type ProviderOperation,
  type ProviderResult,
  type StoredImage,
  type UtilizationMetric,
  type UtilizationReading,
} from '../../model/provider/provider-driver';
import { LibvirtCallError, LibvirtDbus } from './libvirt-dbus';
import { writeSeedIso } from './cloud-init';
import { convertDisk, digestFile, inspectDisk } from './disk-image';
import { domainDisks, domainInterfaces, domainXml, names, networkXml, nextScsiTarget, poolPath, uuidFor, volumeCapacity, volumeDiskXml, volumeFormat, volumeXml } from './libvirt-xml';

export interface LibvirtOptions {
  /** LIBVIRT_URI: qemu:///system or test:///default */
  uri: string;
  /** LIBVIRT_POOL: the storage pool for disks, volumes and images */
  pool: string;
  /** how long stop waits for the guest to answer ACPI before it destroys the domain */
  shutdownTimeoutMs: number;
  /** how often stop, capture and delete poll libvirt */
  pollMs: number;
}

// libvirt constants (libvirt-domain.h, libvirt-storage.h)
const VIR_DOMAIN = { NOSTATE: 0, RUNNING: 1, BLOCKED: 2, PAUSED: 3, SHUTDOWN: 4, SHUTOFF: 5, CRASHED: 6, PMSUSPENDED: 7 } as const;
const AFFECT_LIVE = 1;
const AFFECT_CONFIG = 2;
const XML_INACTIVE = 2;
const UNDEFINE_MANAGED_SAVE = 1;
const UNDEFINE_SNAPSHOTS_METADATA = 2;
const BLOCK_COPY_TRANSIENT_JOB = 4;
// virDomainStatsTypes and virConnectGetAllDomainStatsFlags (libvirt-domain.h)
const STATS_STATE = 1;
const STATS_CPU_TOTAL = 2;
const STATS_BALLOON = 4;
const STATS_INTERFACE = 16;
const STATS_BLOCK = 32;
const UTILIZATION_STATS = STATS_STATE | STATS_CPU_TOTAL | STATS_BALLOON | STATS_INTERFACE | STATS_BLOCK;
const GET_ALL_DOMAINS_STATS_ACTIVE = 1;
/** DSP0263 capacities are kilobytes (1000 bytes) */
const KB = 1000;

const STEPS = {
  Machine: ['create', 'start', 'stop', 'pause', 'suspend', 'capture', 'restore', 'delete', 'attach', 'detach'],
  Volume: ['create', 'capture', 'restore', 'delete'],
  MachineImage: ['create', 'delete'],
  VolumeImage: ['create', 'delete'],
  Network: ['create', 'start', 'stop', 'delete'],
  // a System is the gateway's grouping: libvirt has no object for it, so its steps have nothing to do there
  System: ['create', 'delete'],
} as const;

type Params = Record<string, unknown>;
interface ImageRef {
  id?: string;
  imageLocation?: string;
}

/**
 * The libvirt backend (issue 12): every CIMI Machine is a persistent libvirt domain `cimi-<id>` with a qcow2
 * overlay on its MachineImage, every Volume a pool volume, every Network an isolated libvirt network on its own
 * bridge. Names come from resource ids, so every step finds what an interrupted run of itself left and finishes
 * it (the port's idempotency rule). Talks to libvirt only through libvirt-dbus.
 */
export class LibvirtDriver implements ProviderDriver {
  readonly name = 'libvirt';
  readonly observable: readonly ResourceType[] = ['Machine', 'Network'];
  readonly capabilities: ProviderCapabilities;
  private readonly lv: LibvirtDbus;
  private readonly local: boolean;
  private pool?: Promise<{ path: string; dir: string }>;

  constructor(private readonly opts: LibvirtOptions) {
    this.lv = new LibvirtDbus(opts.uri);
    // the test driver keeps its pool in memory: nothing can be written into its directory
    this.local = opts.uri === 'qemu:///system';
    // libvirt's test driver has no device hot-plug (virDomainAttachDeviceFlags): it says so instead of failing later
    const steps = this.local ? STEPS : { ...STEPS, Machine: STEPS.Machine.filter((s) => s !== 'attach' && s !== 'detach') };
    this.capabilities = { machineStopForce: true, restoreFromImage: true, steps };
  }

  private get domainType(): 'qemu' | 'test' {
    return this.opts.uri.startsWith('test:') ? 'test' : 'qemu';
  }

  async healthy(): Promise<boolean> {
    try {
      await this.poolInfo(true);
      return true;
    } catch {
      return false;
    }
  }

  async perform(op: ProviderOperation): Promise<ProviderResult> {
    const known = (this.capabilities.steps as Record<string, readonly string[]>)[op.resourceType];
    if (!known?.includes(op.step)) throw new ProviderError(`libvirt provider has no ${op.step} for ${op.resourceType}`);
    if (op.signal.aborted) throw new ProviderInterrupted();
    try {
      return (await this.step(op)) ?? {};
    } catch (e) {
      throw toProviderError(e);
    }
  }

  private async step(op: ProviderOperation): Promise<ProviderResult | void> {
    const { resourceId: id, params } = op;
    switch (`${op.resourceType}.${op.step}`) {
      case 'Machine.create':
        return this.createMachine(op);
      case 'Machine.start':
        return this.startDomain(id);
      case 'Machine.stop':
        return this.stopDomain(id, params.force === true, op.signal);
      case 'Machine.pause':
        return this.pauseDomain(id);
      case 'Machine.suspend':
        return this.suspendDomain(id);
      case 'Machine.capture':
        return this.captureMachine(id, String(params.imageId), op.signal);
      case 'Machine.restore':
        return this.restoreMachine(id, { id: String(params.imageId), imageLocation: params.imageLocation as string | undefined });
      case 'Machine.delete':
        return this.deleteMachine(id);
      case 'Machine.attach':
        return this.attachVolume(id, String(params.volumeId), params.initialLocation as string | undefined);
      case 'Machine.detach':
        return this.detachVolume(id, String(params.volumeId));
      case 'Volume.create':
        return this.createVolume(id, op.spec);
      case 'Volume.capture':
        return this.copyVolume(names.volume(id), names.image(String(params.imageId)), true);
      case 'Volume.restore':
        return this.restoreVolume(id, String(params.imageId));
      case 'Volume.delete':
        return this.deleteVolume(names.volume(id));
      case 'MachineImage.create':
      case 'VolumeImage.create':
        // registration: the image must be a volume the pool has (or one this gateway captured)
        await this.imageVolume({ id, imageLocation: op.spec.imageLocation as string | undefined });
        return;
      case 'MachineImage.delete':
      case 'VolumeImage.delete':
        // only a captured image is the gateway's own copy; a registered base volume stays in the pool
        return this.deleteVolume(names.image(id));
      case 'Network.create':
        await this.lv.connect('NetworkDefineXML', networkXml(id, op.spec.mtu as number | undefined));
        return;
      case 'Network.start':
        return this.startNetwork(id);
      case 'Network.stop':
        return this.stopNetwork(id);
      case 'Network.delete':
        return this.deleteNetwork(id);
      case 'System.create':
      case 'System.delete':
        return;
    }
  }

  // --- storage -------------------------------------------------------------------------------------------------

  private poolInfo(fresh = false): Promise<{ path: string; dir: string }> {
    if (!this.pool || fresh) {
      this.pool = (async () => {
        const path = await this.lv.lookup('StoragePoolLookupByName', this.opts.pool);
        if (!path) throw new ProviderError(`libvirt storage pool ${this.opts.pool} does not exist (LIBVIRT_POOL; npm run libvirt:up defines it)`, false, false);
        if (!(await this.lv.property<boolean>(path, 'StoragePool', 'Active'))) await this.lv.call(path, 'StoragePool', 'Create', 0);
        const dir = poolPath(await this.lv.call<string>(path, 'StoragePool', 'GetXMLDesc', 0));
        return { path, dir };
      })();
      this.pool.catch(() => (this.pool = undefined));
    }
    return this.pool;
  }

  private async vol(name: string): Promise<{ name: string; path: string; file: string; key: string; format: string; capacity: number } | undefined> {
    const pool = await this.poolInfo();
    const p = await this.lv.lookup('StorageVolLookupByName', name, pool.path);
    if (!p) return undefined;
    const xml = await this.lv.call<string>(p, 'StorageVol', 'GetXMLDesc', 0);
    return {
      name,
      path: p,
      file: await this.lv.property<string>(p, 'StorageVol', 'Path'),
      key: await this.lv.property<string>(p, 'StorageVol', 'Key'),
      format: volumeFormat(xml),
      capacity: volumeCapacity(xml),
    };
  }

  private async createVol(xml: string, from?: string): Promise<void> {
    const pool = await this.poolInfo();
    if (from) await this.lv.call(pool.path, 'StoragePool', 'StorageVolCreateXMLFrom', xml, from, 0);
    else await this.lv.call(pool.path, 'StoragePool', 'StorageVolCreateXML', xml, 0);
  }

  private async deleteVolume(name: string): Promise<void> {
    const v = await this.vol(name);
    if (v) await this.lv.call(v.path, 'StorageVol', 'Delete', 0);
  }

  /** the pool volume behind a MachineImage/VolumeImage: the gateway's captured copy, else its imageLocation */
  private async imageVolume(img: ImageRef) {
    if (img.id) {
      const own = await this.vol(names.image(img.id));
      if (own) return own;
    }
    const loc = img.imageLocation;
    if (loc) {
      const name = loc.startsWith('/') ? loc.slice(loc.lastIndexOf('/') + 1) : loc;
      const v = /^[A-Za-z0-9._-]+$/.test(name) ? await this.vol(name) : undefined;
      if (v && (!loc.startsWith('/') || v.file === loc)) return v;
    }
    throw new ProviderError(`image ${loc ?? img.id} is not a volume of libvirt pool ${this.opts.pool} (the libvirt provider fetches nothing from the network)`);
  }

  private async createVolume(id: string, spec: Record<string, unknown>): Promise<void> {
    const name = names.volume(id);
    if (await this.vol(name)) return;
    const image = spec.volumeImage as { id: string } | undefined;
    if (image) {
      const src = await this.imageVolume({ id: image.id });
      return this.createVol(volumeXml(name, Math.max(src.capacity, Number(spec.capacity ?? 0) * KB)), src.key);
    }
    await this.createVol(volumeXml(name, Number(spec.capacity ?? 1) * KB));
  }

  /** a full copy of a volume (qemu-img convert through libvirt), replacing a partial one from an interrupted run */
  private async copyVolume(fromName: string, toName: string, replace: boolean): Promise<void> {
    const src = await this.vol(fromName);
    if (!src) throw new ProviderError(`volume ${fromName} is missing from pool ${this.opts.pool}`);
    if (replace) await this.deleteVolume(toName);
    await this.createVol(volumeXml(toName, src.capacity), src.key);
  }

  private async restoreVolume(id: string, imageId: string): Promise<void> {
    const img = await this.imageVolume({ id: imageId });
    await this.deleteVolume(names.volume(id));
    await this.createVol(volumeXml(names.volume(id), img.capacity), img.key);
  }

  // --- disk files (OVF import and export, issue 17 §1, §2) ---------------------------------------------------

  /**
   * An OVA's disk file as the pool volume `cimi-i-<imageId>.qcow2`. libvirt-dbus's StorageVol has no Upload, so the
   * file is checked (`qemu-img info`), converted to qcow2 in a private staging directory, moved into the pool's
   * directory and the pool refreshed (StoragePool Refresh) so that libvirt knows the volume.
   */
  async storeImage(req: { imageId: string; file: string; name: string }): Promise<StoredImage> {
    try {
      if (!this.local) throw new ProviderError(`libvirt ${this.opts.uri} keeps no disk files (its pool is in libvirtd's memory)`);
      const info = await inspectDisk(req.file, req.name);
      const digest = await digestFile(req.file);
      const pool = await this.poolInfo();
      const name = names.image(req.imageId);
      const stage = await mkdtemp(join(tmpdir(), 'cimi-disk-'));
      try {
        const out = join(stage, name);
        await convertDisk(req.file, info.format, out, 'qcow2');
        const target = join(pool.dir, name);
        // a rename is atomic within one file system; across two the copy lands under a name libvirt does not list
        await rename(out, target).catch(async (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EXDEV') throw e;
          const part = join(pool.dir, `.${name}.part`);
          await copyFile(out, part);
          await rename(part, target);
        });
      } finally {
        await rm(stage, { recursive: true, force: true });
      }
      await this.lv.call(pool.path, 'StoragePool', 'Refresh', 0);
      if (!(await this.vol(name))) throw new ProviderError(`libvirt pool ${this.opts.pool} does not list ${name} after a refresh`);
      return { imageLocation: name, format: info.format, virtualSize: info.virtualSize, ...digest };
    } catch (e) {
      await this.removeImage(req.imageId).catch(() => undefined);
      if (e instanceof ModelError) throw e;
      throw toProviderError(e);
    }
  }

  /** the stored image's volume (and its file, should the pool not list it yet) */
  async removeImage(imageId: string): Promise<void> {
    try {
      await this.deleteVolume(names.image(imageId));
      if (this.local) await rm(join((await this.poolInfo()).dir, names.image(imageId)), { force: true });
    } catch (e) {
      throw toProviderError(e);
    }
  }

  /** a Machine's disk (vda) or a Volume as a vmdk (streamOptimized) or qcow2 file; `-U` reads a running domain's disk */
  async exportDisk(req: { type: 'Machine' | 'Volume'; id: string; format: 'vmdk' | 'qcow2'; file: string }): Promise<{ virtualSize: number }> {
    try {
      const name = req.type === 'Machine' ? names.machineDisk(req.id) : names.volume(req.id);
      const v = await this.vol(name);
      if (!v) throw new ProviderError(`volume ${name} is missing from pool ${this.opts.pool}`);
      if (!this.local) throw new ProviderError(`libvirt ${this.opts.uri} has no disk files to export`);
      await convertDisk(v.file, v.format, req.file, req.format, true);
      return { virtualSize: v.capacity };
    } catch (e) {
      throw toProviderError(e);
    }
  }

  // --- machines ------------------------------------------------------------------------------------------------

  private domain(machineId: string): Promise<string | undefined> {
    return this.lv.lookup('DomainLookupByName', names.domain(machineId));
  }

  private async requireDomain(machineId: string): Promise<string> {
    const d = await this.domain(machineId);
    if (!d) throw new ProviderError(`libvirt has no domain ${names.domain(machineId)} (removed outside the gateway)`);
    return d;
  }

  private async state(d: string): Promise<number> {
    const [s] = await this.lv.call<[number, number]>(d, 'Domain', 'GetState', 0);
    return s;
  }

  private async createMachine(op: ProviderOperation): Promise<void> {
    const id = op.resourceId;
    const spec = op.spec;
    const params = op.params as Params & { image?: ImageRef; nics?: { mac: string; networkId: string }[]; diskKB?: number; credential?: string; publicKey?: string };
    const arch = (spec.cpuArch as string | undefined) ?? 'x86_64';
    if (this.domainType === 'qemu' && arch !== 'x86_64') throw new ProviderError(`cpuArch ${arch} is not offered here (qemu-system-x86 only)`);
    const diskName = names.machineDisk(id);
    let disk = await this.vol(diskName);
    if (!disk) {
      const wanted = Number(params.diskKB ?? 0) * KB;
      if (params.image && (params.image.id || params.image.imageLocation)) {
        await this.diskFrom(diskName, await this.imageVolume(params.image), wanted);
      } else {
        await this.createVol(volumeXml(diskName, wanted || 1024 ** 3));
      }
      disk = (await this.vol(diskName))!;
    }
    let seed: string | undefined;
    if (this.local && (spec.userData || params.credential)) {
      const pool = await this.poolInfo();
      seed = join(pool.dir, names.seed(id));
      if (!existsSync(seed)) {
        await writeSeedIso(seed, { instanceId: id, hostname: String(spec.name ?? id), userData: spec.userData as string | undefined, userName: params.credential, publicKey: params.publicKey });
        await this.lv.call(pool.path, 'StoragePool', 'Refresh', 0);
      }
    }
    await this.lv.connect(
      'DomainDefineXML',
      domainXml({
        name: names.domain(id),
        uuid: uuidFor(id),
        type: this.domainType,
        vcpus: Number(spec.cpu ?? 1),
        // CIMI memory is KiB (DSP0263 2.0.0 Machine memory, "in kibibytes"), libvirt's unit: no conversion (libvirt-xml.ts)
        memoryKiB: Number(spec.memory ?? 65536),
        arch,
        disk: disk.file,
        seed,
        nics: (params.nics ?? []).map((n) => ({ mac: n.mac, network: names.network(n.networkId) })),
        tenantId: op.tenantId,
        machineId: id,
      }),
    );
  }

  private async startDomain(id: string): Promise<void> {
    const d = await this.requireDomain(id);
    const s = await this.state(d);
    if (s === VIR_DOMAIN.RUNNING || s === VIR_DOMAIN.BLOCKED) return;
    if (s === VIR_DOMAIN.PAUSED) return void (await this.lv.call(d, 'Domain', 'Resume'));
    // Create restores a managed-save image when there is one (a SUSPENDED Machine resumes where it was)
    try {
      await this.lv.call(d, 'Domain', 'Create', 0);
    } catch (e) {
      // someone else started it between GetState and Create (another worker that took the job over after a lost
      // lease, or an operator): libvirt refuses with VIR_ERR_OPERATION_INVALID "domain is already running". The
      // step's goal is met, as when GetState had said RUNNING; any other state is still an error.
      if (!(e instanceof LibvirtCallError && /already running/i.test(e.message))) throw e;
      const now = await this.state(d);
      if (now !== VIR_DOMAIN.RUNNING && now !== VIR_DOMAIN.BLOCKED) throw e;
    }
  }

  /** ACPI shutdown, then destroy on `force` or when the guest does not answer in time (DSP0263 §5.14.1.2 force) */
  private async stopDomain(id: string, force: boolean, signal: AbortSignal): Promise<void> {
    const d = await this.requireDomain(id);
    let s = await this.state(d);
    if (s === VIR_DOMAIN.SHUTOFF || s === VIR_DOMAIN.CRASHED) {
      // a SUSPENDED Machine that is stopped forgets its saved memory
      if (await this.lv.call<boolean>(d, 'Domain', 'HasManagedSaveImage', 0)) await this.lv.call(d, 'Domain', 'ManagedSaveRemove', 0);
      return;
    }
    if (!force && s === VIR_DOMAIN.RUNNING) {
      await this.lv.call(d, 'Domain', 'Shutdown', 0);
      const until = Date.now() + this.opts.shutdownTimeoutMs;
      while (Date.now() < until && !signal.aborted) {
        await sleep(this.opts.pollMs);
        s = await this.state(d);
        if (s === VIR_DOMAIN.SHUTOFF) return;
      }
    }
    if ((await this.state(d)) !== VIR_DOMAIN.SHUTOFF) await this.lv.call(d, 'Domain', 'Destroy', 0);
  }

  private async pauseDomain(id: string): Promise<void> {
    const d = await this.requireDomain(id);
    const s = await this.state(d);
    if (s === VIR_DOMAIN.PAUSED) return;
    if (s !== VIR_DOMAIN.RUNNING && s !== VIR_DOMAIN.BLOCKED) throw new ProviderError(`domain ${names.domain(id)} is not running`);
    await this.lv.call(d, 'Domain', 'Suspend');
  }

  /** DSP0263 SUSPENDED = memory saved to disk, no process: libvirt's managed save */
  private async suspendDomain(id: string): Promise<void> {
    const d = await this.requireDomain(id);
    const s = await this.state(d);
    if (s === VIR_DOMAIN.SHUTOFF && (await this.lv.call<boolean>(d, 'Domain', 'HasManagedSaveImage', 0))) return;
    if (s === VIR_DOMAIN.SHUTOFF) throw new ProviderError(`domain ${names.domain(id)} is not running`);
    await this.lv.call(d, 'Domain', 'ManagedSave', 0);
  }

  /** a new image from the Machine's disk: a copy when it is off, a live block copy when it runs */
  private async captureMachine(id: string, imageId: string, signal: AbortSignal): Promise<void> {
    const d = await this.requireDomain(id);
    const s = await this.state(d);
    const target = names.image(imageId);
    if (s === VIR_DOMAIN.SHUTOFF || this.domainType === 'test') return this.copyVolume(names.machineDisk(id), target, true);
    const pool = await this.poolInfo();
    await this.deleteVolume(target);
    const file = join(pool.dir, target);
    await this.lv.call(d, 'Domain', 'BlockCopy', 'vda', `<disk type='file'><source file='${file}'/><driver type='qcow2'/></disk>`, {}, BLOCK_COPY_TRANSIENT_JOB);
    try {
      for (;;) {
        if (signal.aborted) throw new ProviderInterrupted();
        const [, , cur, end] = await this.lv.call<[number, number, bigint, bigint]>(d, 'Domain', 'GetBlockJobInfo', 'vda', 0);
        if (BigInt(end) > 0n && BigInt(cur) === BigInt(end)) break;
        await sleep(this.opts.pollMs);
      }
    } finally {
      // abort without pivot: the domain keeps its disk, the copy stays as the image
      await this.lv.call(d, 'Domain', 'BlockJobAbort', 'vda', 0).catch(() => undefined);
    }
    await this.lv.call(pool.path, 'StoragePool', 'Refresh', 0);
  }

  private async restoreMachine(id: string, image: ImageRef): Promise<void> {
    const d = await this.requireDomain(id);
    const base = await this.imageVolume(image);
    if ((await this.state(d)) !== VIR_DOMAIN.SHUTOFF) await this.lv.call(d, 'Domain', 'Destroy', 0);
    if (await this.lv.call<boolean>(d, 'Domain', 'HasManagedSaveImage', 0)) await this.lv.call(d, 'Domain', 'ManagedSaveRemove', 0);
    const disk = await this.vol(names.machineDisk(id));
    await this.deleteVolume(names.machineDisk(id));
    await this.diskFrom(names.machineDisk(id), base, disk?.capacity ?? 0);
  }

  /**
   * A Machine's disk from an image: a qcow2 overlay on a base volume of the pool (which the gateway never
   * deletes), a full copy of an image the gateway captured (which a client may delete while Machines use it).
   */
  private async diskFrom(name: string, base: { name: string; file: string; format: string; capacity: number; key: string }, minBytes: number): Promise<void> {
    const capacity = Math.max(base.capacity, minBytes);
    if (base.name.startsWith('cimi-')) await this.createVol(volumeXml(name, capacity), base.key);
    else await this.createVol(volumeXml(name, capacity, { path: base.file, format: base.format }));
  }

  /** undefine the domain and remove its own disk and seed; attached Volumes are resources of their own and stay */
  private async deleteMachine(id: string): Promise<void> {
    const d = await this.domain(id);
    if (d) {
      if ((await this.state(d)) !== VIR_DOMAIN.SHUTOFF) await this.lv.call(d, 'Domain', 'Destroy', 0);
      await this.lv.call(d, 'Domain', 'Undefine', UNDEFINE_MANAGED_SAVE | UNDEFINE_SNAPSHOTS_METADATA);
    }
    await this.deleteVolume(names.machineDisk(id));
    await this.deleteVolume(names.seed(id));
    if (this.local) {
      const seed = join((await this.poolInfo()).dir, names.seed(id));
      if (existsSync(seed)) await unlink(seed);
    }
  }

  /** hot-plug on a running domain (and its persistent config), config change on a stopped one */
  private async attachVolume(machineId: string, volumeId: string, initialLocation?: string): Promise<void> {
    const d = await this.requireDomain(machineId);
    const v = await this.vol(names.volume(volumeId));
    if (!v) throw new ProviderError(`volume ${names.volume(volumeId)} is missing from pool ${this.opts.pool}`);
    const active = (await this.state(d)) !== VIR_DOMAIN.SHUTOFF;
    const config = domainDisks(await this.lv.call<string>(d, 'Domain', 'GetXMLDesc', XML_INACTIVE));
    if (config.some((x) => x.file === v.file)) return;
    const used = config.map((x) => x.target);
    const target = initialLocation && /^sd[a-z]$/.test(initialLocation) && !used.includes(initialLocation) ? initialLocation : nextScsiTarget(used);
    await this.lv.call(d, 'Domain', 'AttachDevice', volumeDiskXml(v.file, target), active ? AFFECT_LIVE | AFFECT_CONFIG : AFFECT_CONFIG);
  }

  private async detachVolume(machineId: string, volumeId: string): Promise<void> {
    const d = await this.requireDomain(machineId);
    const v = await this.vol(names.volume(volumeId));
    const file = v?.file ?? join((await this.poolInfo()).dir, names.volume(volumeId));
    const active = (await this.state(d)) !== VIR_DOMAIN.SHUTOFF;
    const config = domainDisks(await this.lv.call<string>(d, 'Domain', 'GetXMLDesc', XML_INACTIVE)).find((x) => x.file === file);
    const live = active ? domainDisks(await this.lv.call<string>(d, 'Domain', 'GetXMLDesc', 0)).find((x) => x.file === file) : undefined;
    const flags = (config ? AFFECT_CONFIG : 0) | (live ? AFFECT_LIVE : 0);
    const disk = config ?? live;
    if (!disk || !flags) return;
    await this.lv.call(d, 'Domain', 'DetachDevice', volumeDiskXml(file, disk.target), flags);
  }

  // --- networks ------------------------------------------------------------------------------------------------

  private async network(id: string, required = true): Promise<string | undefined> {
    const n = await this.lv.lookup('NetworkLookupByName', names.network(id));
    if (!n && required) throw new ProviderError(`libvirt has no network ${names.network(id)} (removed outside the gateway)`);
    return n;
  }

  private async startNetwork(id: string): Promise<void> {
    const n = (await this.network(id))!;
    if (!(await this.lv.property<boolean>(n, 'Network', 'Active'))) await this.lv.call(n, 'Network', 'Create');
  }

  private async stopNetwork(id: string): Promise<void> {
    const n = (await this.network(id))!;
    if (await this.lv.property<boolean>(n, 'Network', 'Active')) await this.lv.call(n, 'Network', 'Destroy');
  }

  private async deleteNetwork(id: string): Promise<void> {
    const n = await this.network(id, false);
    if (!n) return;
    if (await this.lv.property<boolean>(n, 'Network', 'Active')) await this.lv.call(n, 'Network', 'Destroy');
    await this.lv.call(n, 'Network', 'Undefine');
  }

  // --- observation ---------------------------------------------------------------------------------------------

  async observe(refs: readonly ObservedRef[]): Promise<Observation[]> {
    try {
      const out: Observation[] = [];
      for (const r of refs) out.push(r.type === 'Machine' ? await this.observeMachine(r.id) : r.type === 'Network' ? await this.observeNetwork(r.id) : { state: 'unknown' });
      return out;
    } catch (e) {
      throw toProviderError(e);
    }
  }

  private async observeMachine(id: string): Promise<Observation> {
    const d = await this.domain(id);
    if (!d) return { state: OBSERVED_GONE, reason: `libvirt domain ${names.domain(id)} no longer exists` };
    switch (await this.state(d)) {
      case VIR_DOMAIN.RUNNING:
      case VIR_DOMAIN.BLOCKED:
        return { state: 'STARTED' };
      case VIR_DOMAIN.PAUSED:
        return { state: 'PAUSED' };
      case VIR_DOMAIN.PMSUSPENDED:
        return { state: 'SUSPENDED', reason: 'the guest suspended itself' };
      case VIR_DOMAIN.CRASHED:
        return { state: 'ERROR', reason: `libvirt domain ${names.domain(id)} crashed` };
      case VIR_DOMAIN.SHUTDOWN:
        return { state: 'STOPPING' };
      default:
        return { state: (await this.lv.call<boolean>(d, 'Domain', 'HasManagedSaveImage', 0)) ? 'SUSPENDED' : 'STOPPED' };
    }
  }

  private async observeNetwork(id: string): Promise<Observation> {
    const n = await this.network(id, false);
    if (!n) return { state: OBSERVED_GONE, reason: `libvirt network ${names.network(id)} no longer exists` };
    return { state: (await this.lv.property<boolean>(n, 'Network', 'Active')) ? 'STARTED' : 'STOPPED' };
  }

  // --- utilization (Meters) -----------------------------------------------------------------------------------

  /**
   * Utilization from libvirt's bulk statistics (virDomainGetStats: `cpu.time`, `balloon.*`, `block.<n>.*`,
   * `net.<n>.*`), one call per domain. Machines alone: GetStats of each; with Volumes or Networks in the batch
   * one GetAllDomainStats of the running domains answers all (a Volume is found by its file, a Network by the
   * interfaces the live domain XML puts on it). A domain that is not running has no counters: null. Metrics and
   * units: provider-driver.ts (issue 14; DSP0263 2.0.0 §5.16).
   */
  async utilization(refs: readonly ObservedRef[]): Promise<(UtilizationReading | null)[]> {
    try {
      const wide = refs.some((r) => r.type === 'Volume' || r.type === 'Network');
      const live = wide ? await this.allDomainStats() : new Map<string, LiveStats>();
      if (!wide) {
        for (const r of refs) {
          const name = names.domain(r.id);
          if (r.type !== 'Machine' || live.has(name)) continue;
          const d = await this.domain(r.id);
          // undefined between the lookup and the read: gone, like no domain at all
          const st = d ? await this.domainStats(d).catch((e: unknown) => (e instanceof LibvirtCallError && e.notFound ? undefined : Promise.reject(e))) : undefined;
          if (st && RUNNING_STATES.has(Number(st.stats['state.state']))) live.set(name, st);
        }
      }
      let nets: Map<string, { at: Date; values: Values }> | undefined;
      const out: (UtilizationReading | null)[] = [];
      for (const r of refs) {
        if (r.type === 'Machine') {
          const st = live.get(names.domain(r.id));
          out.push(st ? { at: st.at, values: machineValues(st.stats) } : null);
        } else if (r.type === 'Volume') {
          out.push(await this.volumeUtilization(r.id, live));
        } else if (r.type === 'Network') {
          nets ??= await this.networkCounters(live);
          out.push(await this.networkUtilization(r.id, nets, live));
        } else out.push(null);
      }
      return out;
    } catch (e) {
      throw toProviderError(e);
    }
  }

  private async domainStats(d: string): Promise<LiveStats> {
    const rec = await this.lv.call<Record<string, Variant>>(d, 'Domain', 'GetStats', UTILIZATION_STATS, 0);
    return { at: new Date(), stats: plain(rec) };
  }

  /** the statistics of every running (or paused) domain, by domain name */
  private async allDomainStats(): Promise<Map<string, LiveStats>> {
    const recs = await this.lv.connect<[string, Record<string, Variant>][]>('GetAllDomainStats', UTILIZATION_STATS, GET_ALL_DOMAINS_STATS_ACTIVE);
    const at = new Date();
    return new Map(recs.map(([name, rec]) => [name, { at, stats: plain(rec) }]));
  }

  /** the block device whose source is the Volume's file, on whichever running domain has it attached */
  private async volumeUtilization(id: string, live: Map<string, LiveStats>): Promise<UtilizationReading | null> {
    const file = join((await this.poolInfo()).dir, names.volume(id));
    for (const { at, stats } of live.values()) {
      const devices = indices(stats, 'block').filter((i) => stats[`block.${i}.path`] === file);
      if (devices.length) return { at, values: blockValues(stats, devices) };
    }
    return null;
  }

  /** net.* of every running domain, summed per libvirt network (tap device → network from the live XML) */
  private async networkCounters(live: Map<string, LiveStats>): Promise<Map<string, { at: Date; values: Values }>> {
    const out = new Map<string, { at: Date; values: Values }>();
    for (const [name, { at, stats }] of live) {
      const taps = indices(stats, 'net');
      if (!taps.length) continue;
      const d = await this.lv.lookup('DomainLookupByName', name);
      if (!d) continue;
      const ifaces = domainInterfaces(await this.lv.call<string>(d, 'Domain', 'GetXMLDesc', 0));
      for (const i of taps) {
        const network = ifaces.find((x) => x.target === stats[`net.${i}.name`])?.network;
        if (!network) continue;
        const acc = out.get(network) ?? { at, values: {} };
        add(acc.values, netValues(stats, [i]));
        out.set(network, acc);
      }
    }
    return out;
  }

  /** an active network: the sum over its interfaces (zero counters when no running machine is on it) */
  private async networkUtilization(id: string, nets: Map<string, { at: Date; values: Values }>, live: Map<string, LiveStats>): Promise<UtilizationReading | null> {
    const n = await this.network(id, false);
    if (!n || !(await this.lv.property<boolean>(n, 'Network', 'Active'))) return null;
    const sum = nets.get(names.network(id));
    const at = sum?.at ?? live.values().next().value?.at ?? new Date();
    return { at, values: { 'net.rx.bytes': 0, 'net.tx.bytes': 0, 'net.rx.packets': 0, 'net.tx.packets': 0, ...sum?.values } };
  }

  async watch(listener: (ref: { type: ResourceType; id: string }) => void): Promise<() => void> {
    try {
      return await this.lv.onDomainEvent((name) => {
        if (name.startsWith('cimi-')) listener({ type: 'Machine', id: name.slice(5) });
      });
    } catch (e) {
      throw toProviderError(e);
    }
  }

  /** base volumes in the pool (what the gateway did not make itself) are the images this host really has */
  async images(): Promise<{ name: string; description: string; imageLocation: string }[]> {
    const pool = await this.poolInfo();
    const vols = await this.lv.call<string[]>(pool.path, 'StoragePool', 'ListStorageVolumes', 0);
    const out: { name: string; description: string; imageLocation: string }[] = [];
    for (const p of vols) {
      const name = await this.lv.property<string>(p, 'StorageVol', 'Name');
      if (name.startsWith('cimi-') || name.endsWith('.iso')) continue;
      out.push({ name: name.replace(/\.(qcow2|img|raw)$/, ''), description: `base volume ${name} of libvirt pool ${this.opts.pool}`, imageLocation: name });
    }
    return out;
  }

  async close(): Promise<void> {
    this.lv.close();
  }
}

type Variant = { value: unknown };
type Values = Partial<Record<UtilizationMetric, number>>;
interface LiveStats {
  at: Date;
  stats: Record<string, number | string>;
}
/** a domain that has a QEMU process, hence counters (paused and shutting-down ones too) */
const RUNNING_STATES = new Set<number>([VIR_DOMAIN.RUNNING, VIR_DOMAIN.BLOCKED, VIR_DOMAIN.PAUSED, VIR_DOMAIN.SHUTDOWN, VIR_DOMAIN.PMSUSPENDED]);

/** a{sv} → plain values (dbus-next hands libvirt-dbus's values as a variant in a variant; uint64 as bigint) */
function plain(rec: Record<string, Variant>): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  for (const [k, v] of Object.entries(rec)) {
    let x: unknown = v;
    while (x && typeof x === 'object' && 'value' in x) x = (x as Variant).value;
    out[k] = typeof x === 'bigint' ? Number(x) : typeof x === 'number' || typeof x === 'string' ? x : String(x);
  }
  return out;
}

function num(v: number | string | undefined): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** the device indices of a `block` or `net` group (`block.count`, `block.<n>.*`) */
function indices(s: Record<string, number | string>, group: 'block' | 'net'): number[] {
  return Array.from({ length: num(s[`${group}.count`]) ?? 0 }, (_, i) => i);
}

/** adds what `from` has into `to` (a metric stays absent when no device reported it) */
function add(to: Values, from: Values): void {
  for (const [k, v] of Object.entries(from) as [UtilizationMetric, number][]) to[k] = (to[k] ?? 0) + v;
}

function sum(s: Record<string, number | string>, group: 'block' | 'net', devices: number[], map: Record<string, UtilizationMetric>): Values {
  const out: Values = {};
  for (const i of devices) {
    for (const [field, metric] of Object.entries(map)) {
      const v = num(s[`${group}.${i}.${field}`]);
      if (v !== undefined) out[metric] = (out[metric] ?? 0) + v;
    }
  }
  return out;
}

const blockValues = (s: Record<string, number | string>, devices: number[]) =>
  sum(s, 'block', devices, { 'rd.bytes': 'disk.read.bytes', 'wr.bytes': 'disk.write.bytes', 'rd.reqs': 'disk.read.ops', 'wr.reqs': 'disk.write.ops' });
const netValues = (s: Record<string, number | string>, devices: number[]) =>
  sum(s, 'net', devices, { 'rx.bytes': 'net.rx.bytes', 'tx.bytes': 'net.tx.bytes', 'rx.pkts': 'net.rx.packets', 'tx.pkts': 'net.tx.packets' });

/**
 * A whole domain. libvirt's balloon statistics are KiB; the memory metrics are KB (1000 bytes, the unit of the
 * port and of every CIMI memory attribute, DSP0263 2.0.0 §5.9.3), so each is converted: total = the balloon's
 * current size; used = what the guest's balloon driver reports (available − unused), else the host's resident
 * memory of the guest (`balloon.rss`), at most the total.
 */
export function machineValues(s: Record<string, number | string>): Values {
  const v: Values = {};
  const cpu = num(s['cpu.time']);
  if (cpu !== undefined) v['cpu.time'] = cpu;
  const total = num(s['balloon.current']);
  if (total !== undefined) v['memory.total'] = kibToKb(total);
  const avail = num(s['balloon.available']);
  const unused = num(s['balloon.unused']);
  const rss = num(s['balloon.rss']);
  const used = avail !== undefined && unused !== undefined ? avail - unused : rss !== undefined && total !== undefined ? Math.min(rss, total) : rss;
  if (used !== undefined) v['memory.used'] = kibToKb(used);
  add(v, blockValues(s, indices(s, 'block')));
  add(v, netValues(s, indices(s, 'net')));
  return v;
}

/** libvirt's KiB (1024 bytes) as KB (1000 bytes) */
export const kibToKb = (kib: number): number => (kib * 1024) / KB;

const UNAVAILABLE = /Failed to connect socket|client socket is closed|Cannot (recv|write) data|Connection reset|not alive|End of file while reading|no connection driver/i;

function toProviderError(e: unknown): Error {
  if (e instanceof ProviderError || e instanceof ProviderInterrupted) return e;
  if (e instanceof LibvirtCallError) return new ProviderError(e.message, false, e.unavailable || UNAVAILABLE.test(e.message));
  return new ProviderError((e as Error).message ?? String(e));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
