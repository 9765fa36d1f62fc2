import { Inject, Injectable } from '@nestjs/common';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PROVIDER_DRIVER, type ProviderDriver, type StoredImage } from '../provider/provider-driver';
import { requireWrite } from '../shared/authorization';
import { newId } from '../shared/ids';
import { checkAttrs, checkCommon } from '../shared/attr-validation';
import { checkId } from '../shared/ids';
import { InvalidInputError, ModelError, NotFoundError } from '../shared/model-error';
import { Mutations, type MutationOptions } from '../shared/mutation';
import type { OperationContext } from '../shared/operation-context';
import { UNIT_OF_WORK, type TenantTx, type UnitOfWork } from '../shared/ports';
import type { Ref, Resource, ResourceType } from '../shared/resource';
import type { OperationOutcome } from '../shared/resource.service';
import { resolveSlot, type Slot } from '../template/template-resolution';
import { resolveMachineTemplate } from '../machine/machine.service';
import { resolveVolumeTemplate } from '../volume/volume-template';
import { planSystem, type ComponentDescriptor } from './system-plan';
import { CAPACITY_UNIT, readOvf, writeOvf, type OvfSpec } from './ovf/ovf-mapping';
import type { OvfNode } from './ovf/ovf-tree';
import { SystemService } from './system.service';

export interface OvfImportInput {
  /** the package's descriptor, parsed by the door's hardened XML reader */
  descriptor: OvfNode;
  /** the OVA's other entries, when the descriptor came in one (References are checked against them) */
  files?: string[];
  /**
   * the OVA's entries as local files the door wrote (name → path, size): those a DiskSection/Disk names through its
   * References/File go into the provider's storage (issue 17 §1)
   */
  diskFiles?: Record<string, { path: string; size: number }>;
  /** DSP0263 2.0.0 §5.13.4 importImage: where the package came from, kept in the template's properties */
  source?: string;
}

export interface OvfExport {
  spec: OvfSpec;
  envelope: OvfNode;
  /** the disk files of an OVA export, in References order (name in the package → local path) */
  files?: { name: string; path: string }[];
}

/** a disk file of the package kept by the provider: the image resource it becomes, and what the provider kept */
interface StoredDisk {
  diskId: string;
  type: 'MachineImage' | 'VolumeImage';
  imageId: string;
  stored: StoredImage;
}

const NAME = /[^A-Za-z0-9_.-]/g;
/** a caller who may not write stores no disk files: Mutations.run refuses it then, and audits the refusal */
function mayWrite(ctx: OperationContext, operation: string): boolean {
  try {
    requireWrite(ctx, operation);
    return true;
  } catch {
    return false;
  }
}

/** what of the stored disks enters the idempotency hash: their content, never the ids this request drew */
const digests = (stored: StoredDisk[]) => stored.map((s) => `${s.diskId}:${s.stored.sha256}`);
const MAX_WARNINGS_TEXT = 2000;

/**
 * OVF import and export (DSP0263 2.0.0 §5.13.4, §5.13.5, Annex A; docs/operations.md): a descriptor becomes a
 * SystemTemplate with its Machine, Volume and Network templates, written in one transaction; a System or
 * SystemTemplate is described as an OVF descriptor.
 */
@Injectable()
export class OvfService {
  constructor(
    private readonly mutations: Mutations,
    @Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork,
    private readonly systems: SystemService,
    @Inject(PROVIDER_DRIVER) private readonly driver: ProviderDriver,
  ) {}

  /** SystemTemplateCollection import (DSP0263 2.0.0 §5.13.5.1): everything is created, or nothing is. */
  async importTemplate(ctx: OperationContext, input: OvfImportInput, opts: MutationOptions = {}): Promise<OperationOutcome & { warnings: string[] }> {
    const spec = this.readInput(input);
    const stored = mayWrite(ctx, 'SystemTemplate.import') ? await this.storeDisks(spec, input) : [];
    const out = await this.keepingDisks(stored, () =>
      this.mutations.run(ctx, 'SystemTemplate.import', { spec, source: input.source, disks: digests(stored) }, opts, async (tx) => {
        const { template, affected } = await this.writeTemplates(ctx, tx, spec, input.source, stored);
        const stRef: Ref = { type: 'SystemTemplate', id: template.id };
        const job = this.mutations.newJob(ctx, { action: 'import', target: { type: 'SystemTemplateCollection', id: ctx.tenantId }, affected: [stRef, ...affected], done: true });
        await tx.jobs.insert(job);
        return { resource: template, job };
      }),
    );
    return { ...out, warnings: spec.warnings };
  }

  /**
   * SystemCollection import (DSP0263 2.0.0 §5.13.2, Annex A): the package's SystemTemplate and a System made from it,
   * its Machines, Volumes and Networks, in one transaction; one Job provisions them as System.create does. A refused
   * package, or a template the System cannot be made from, leaves nothing.
   */
  async importSystem(ctx: OperationContext, input: OvfImportInput & { name?: string; description?: string }, opts: MutationOptions = {}): Promise<OperationOutcome & { warnings: string[] }> {
    const spec = this.readInput(input);
    const stored = mayWrite(ctx, 'System.import') ? await this.storeDisks(spec, input) : [];
    const out = await this.keepingDisks(stored, () =>
      this.mutations.run(ctx, 'System.import', { spec, source: input.source, name: input.name, description: input.description, disks: digests(stored) }, opts, async (tx) => {
        const { template, affected } = await this.writeTemplates(ctx, tx, spec, input.source, stored);
        const stRef: Ref = { type: 'SystemTemplate', id: template.id };
        const b = await this.systems.build(ctx, tx, { name: input.name ?? template.name, description: input.description ?? template.description, systemTemplate: { ref: stRef } });
        const job = this.mutations.newJob(ctx, { action: 'import', target: { type: 'SystemCollection', id: ctx.tenantId }, ...b.job, affected: [...b.job.affected, stRef, ...affected] });
        await tx.jobs.insert(job);
        return { resource: b.resource, job };
      }),
    );
    return { ...out, warnings: spec.warnings };
  }

  /**
   * The package's disk files into the provider's storage, before the transaction (a provider call holds no database
   * lock): a VirtualSystem's first disk becomes its MachineImage, every other disk a VolumeImage. A file the provider
   * refuses, or one larger than its Disk's ovf:capacity, refuses the package and removes what was stored.
   */
  private async storeDisks(spec: OvfSpec, input: OvfImportInput): Promise<StoredDisk[]> {
    const wanted = spec.disks.filter((d) => d.file !== undefined && input.diskFiles?.[d.file] !== undefined);
    if (!wanted.length) return [];
    if (!this.driver.storeImage) throw new ModelError('unsupported', 'OVF.DISKS_UNSUPPORTED', `the ${this.driver.name} provider keeps no disk files; import the descriptor alone`, { field: 'source' });
    const users = new Map<string, number>();
    for (const m of spec.machines) for (const d of m.disks) users.set(d, (users.get(d) ?? 0) + 1);
    // one file stored once: several Disks naming the same File would multiply what one package can write
    const seen = new Set<string>();
    for (const d of wanted) {
      if (seen.has(d.file!)) throw new InvalidInputError(`DiskSection: file ${d.file!.slice(0, 100)} is the fileRef of more than one Disk`, 'source', 'OVF.DUPLICATE_FILE');
      seen.add(d.file!);
    }
    const out: StoredDisk[] = [];
    try {
      for (const d of wanted) {
        const boot = users.get(d.id) === 1 && spec.machines.some((m) => m.disks[0] === d.id);
        const imageId = newId();
        const stored = await this.driver.storeImage({ imageId, file: input.diskFiles![d.file!].path, name: d.file!, maxVirtualSize: d.capacity * CAPACITY_UNIT });
        out.push({ diskId: d.id, type: boot ? 'MachineImage' : 'VolumeImage', imageId, stored });
        if (stored.virtualSize !== undefined && stored.virtualSize > d.capacity * CAPACITY_UNIT) {
          throw new InvalidInputError(`DiskSection/Disk ${d.id.slice(0, 60)}: ${d.file!.slice(0, 100)} holds ${stored.virtualSize} bytes, more than its ovf:capacity (${d.capacity * CAPACITY_UNIT})`, 'source', 'OVF.CAPACITY_EXCEEDED');
        }
      }
      return out;
    } catch (e) {
      await this.dropDisks(out);
      throw e;
    }
  }

  /** runs the import; a refused, failed or replayed one removes the disks it stored (nothing half-created is left) */
  private async keepingDisks<T extends { replayed?: boolean }>(stored: StoredDisk[], run: () => Promise<T>): Promise<T> {
    let out: T;
    try {
      out = await run();
    } catch (e) {
      await this.dropDisks(stored);
      throw e;
    }
    if (out.replayed) await this.dropDisks(stored);
    return out;
  }

  private async dropDisks(stored: StoredDisk[]): Promise<void> {
    for (const s of stored) await this.driver.removeImage?.(s.imageId).catch(() => undefined);
  }

  private readInput(input: OvfImportInput): OvfSpec {
    const files = input.files ? new Map(input.files.map((f) => [f, input.diskFiles?.[f]?.size])) : undefined;
    const spec = readOvf(input.descriptor, files);
    if (input.source !== undefined && (typeof input.source !== 'string' || input.source.length > 2048)) throw new InvalidInputError('source must be a URI of at most 2048 characters', 'source');
    return spec;
  }

  /** the SystemTemplate of a package and its Machine, Volume and Network templates (DSP0263 2.0.0 Annex A) */
  private async writeTemplates(ctx: OperationContext, tx: TenantTx, spec: OvfSpec, source: string | undefined, stored: StoredDisk[]): Promise<{ template: Resource; affected: Ref[] }> {
    const affected: Ref[] = [];
    const insert = async (type: ResourceType, common: { name?: string; description?: string; properties?: Record<string, string> }, attrs: Record<string, unknown>): Promise<Ref> => {
      const r = this.mutations.newResource(ctx, type, checkCommon(common), checkAttrs(type, attrs));
      await tx.resources.insert(r);
      const ref = { type, id: r.id };
      affected.push(ref);
      return ref;
    };
    const used = new Set<string>();
    const symbol = (raw: string) => {
      const base = (/^[A-Za-z_]/.test(raw) ? raw : `_${raw}`).replace(NAME, '_').slice(0, 60);
      let s = base;
      for (let k = 2; used.has(s); k++) s = `${base}_${k}`;
      used.add(s);
      return s;
    };
    const descriptors: ComponentDescriptor[] = [];
    const netSymbols = new Map<string, string>();
    for (const n of spec.networks) {
      // an OVF Network is the appliance's own logical network: its Machines need it up to start (a libvirt domain on a stopped network does not)
      const ref = await insert('NetworkTemplate', { name: n.name, description: n.description }, { networkConfig: { value: {} }, initialState: 'STARTED' });
      const sym = symbol(n.name);
      netSymbols.set(n.name, sym);
      descriptors.push({ name: sym, type: 'Network', template: { ref } });
    }
    const volumeTemplates = new Map<string, Ref>();
    const machineImages = new Map<string, Ref>();
    for (const d of spec.disks) {
      const properties: Record<string, string> = { 'ovf:diskId': d.id };
      if (d.file) properties['ovf:file'] = d.file;
      const kept = stored.find((s) => s.diskId === d.id);
      let image: Ref | undefined;
      if (kept) {
        // the provider has it already: the image is AVAILABLE as written (DSP0263 2.0.0 §5.14.7, §5.15.5)
        const attrs = kept.type === 'MachineImage' ? { type: 'IMAGE', imageLocation: kept.stored.imageLocation } : { imageLocation: kept.stored.imageLocation, bootable: false };
        const r = this.mutations.newResource(ctx, kept.type, checkCommon({ name: d.id, properties: { ...properties, 'ovf:sha256': kept.stored.sha256, 'ovf:bytes': String(kept.stored.bytes), 'ovf:format': kept.stored.format } }), checkAttrs(kept.type, attrs), { state: 'AVAILABLE' });
        r.id = kept.imageId;
        await tx.resources.insert(r);
        image = { type: kept.type, id: r.id };
        affected.push(image);
        if (kept.type === 'MachineImage') {
          machineImages.set(d.id, image);
          continue;
        }
      }
      const volumeConfig = { value: { capacity: d.capacity, ...(d.format ? { format: d.format } : {}) } };
      volumeTemplates.set(d.id, await insert('VolumeTemplate', { name: d.id, properties }, { volumeConfig, ...(image ? { volumeImage: { ref: image } } : {}) }));
    }
    for (const m of spec.machines) {
      // a first disk kept as a MachineImage is the Machine's own disk (its capacity), not a Volume
      const boot = machineImages.get(m.disks[0]);
      const bootDisk = boot && spec.disks.find((d) => d.id === m.disks[0])!;
      const cfg = await insert('MachineConfiguration', { name: m.name }, { cpu: m.cpu, memory: m.memory, ...(bootDisk ? { disks: [{ capacity: bootDisk.capacity, ...(bootDisk.format ? { format: bootDisk.format } : {}) }] } : {}) });
      const volumes = m.disks.filter((d) => !machineImages.has(d));
      const mt = await insert('MachineTemplate', { name: m.name, description: m.description }, { machineConfig: { ref: cfg }, ...(boot ? { machineImage: { ref: boot } } : {}), volumeTemplates: volumes.map((d) => ({ volumeTemplate: { ref: volumeTemplates.get(d)! } })) });
      // the interfaces name the System's own Networks: `#name` references (DSP0263 2.0.0 §5.13.2), bound at create
      const template: Slot = { ref: mt, ...(m.networks.length ? { value: { networkInterfaces: m.networks.map((n) => ({ network: { type: 'Network', id: `#${netSymbols.get(n)}` }, state: 'Active' })) } } : {}) };
      descriptors.push({ name: symbol(m.name), description: m.description, type: 'Machine', template });
    }
    // a disk no VirtualSystem uses is a Volume of the System
    const attached = new Set(spec.machines.flatMap((m) => m.disks));
    for (const d of spec.disks.filter((x) => !attached.has(x.id) && volumeTemplates.has(x.id))) descriptors.push({ name: symbol(d.id), type: 'Volume', template: { ref: volumeTemplates.get(d.id)! } });
    const attrs = { componentDescriptors: descriptors };
    planSystem(attrs);
    const properties: Record<string, string> = {};
    if (source) properties['ovf:source'] = source;
    if (spec.warnings.length) properties['ovf:warnings'] = spec.warnings.join('; ').slice(0, MAX_WARNINGS_TEXT);
    const st = this.mutations.newResource(ctx, 'SystemTemplate', checkCommon({ name: spec.name.slice(0, 255), description: spec.description, properties }), checkAttrs('SystemTemplate', attrs));
    await tx.resources.insert(st);
    return { template: st, affected };
  }

  /** System / SystemTemplate export (DSP0263 2.0.0 §5.13.1, §5.13.4): the descriptor of what it is now. */
  async export(ctx: OperationContext, type: 'System' | 'SystemTemplate', id: string): Promise<OvfExport> {
    checkId(type, id);
    const spec = await this.uow.read(ctx.tenantId, async (tx) => {
      const r = await tx.resources.get(type, id);
      if (!r) throw new NotFoundError(type, id);
      return type === 'System' ? systemSpec(tx, r) : templateSpec(tx, r);
    });
    return { spec, envelope: writeOvf(spec) };
  }

  /**
   * An export with its disk files (issue 17 §2): with a provider that writes disks out (libvirt), each of a System's
   * Machine disks and Volumes becomes a streamOptimized vmdk in `dir` (DSP0243 §5.2 names that format), named by
   * the descriptor's References/File with its ovf:size; other exports carry the descriptor alone.
   */
  async exportPackage(ctx: OperationContext, type: 'System' | 'SystemTemplate', id: string, dir: string): Promise<OvfExport> {
    const out = await this.export(ctx, type, id);
    if (type !== 'System' || !this.driver.exportDisk) return out;
    const files: { name: string; path: string }[] = [];
    for (const d of out.spec.disks) {
      if (!d.source) continue;
      const name = `${d.id}.vmdk`;
      const path = join(dir, name);
      await this.driver.exportDisk({ ...d.source, format: 'vmdk', file: path });
      const { size } = await stat(path);
      Object.assign(d, { file: name, fileSize: size, format: 'vmdk' });
      files.push({ name, path });
    }
    return { spec: out.spec, envelope: writeOvf(out.spec), files };
  }
}

const diskFormat = (f: unknown) => (typeof f === 'string' ? f : undefined);

/** a SystemTemplate's components as OVF: Machines (each instance), their Volumes, the Networks they use */
async function templateSpec(tx: TenantTx, st: Resource): Promise<OvfSpec> {
  const spec: OvfSpec = { name: st.name ?? st.id, description: st.description, networks: [], disks: [], machines: [], warnings: [] };
  const plan = planSystem(st.attrs as Record<string, unknown>);
  const netName = new Map<string, string>();
  for (const c of plan.filter((p) => p.type === 'Network')) {
    const t = c.template ? await resolveSlot(tx, 'NetworkTemplate', c.template, 'componentDescriptors') : undefined;
    for (const n of c.instanceNames) spec.networks.push({ name: n, description: c.description ?? t?.description });
    netName.set(c.name, c.instanceNames[0]);
  }
  const addNetwork = async (ref: Ref, index: number, c: { quantity: number }) => {
    if (ref.id.startsWith('#')) {
      const sym = ref.id.slice(1);
      const comp = plan.find((p) => p.name === sym)!;
      return comp.quantity === 1 ? comp.instanceNames[0] : comp.instanceNames[c.quantity === 1 ? 0 : index];
    }
    const n = await tx.resources.get('Network', ref.id);
    const name = n?.name ?? ref.id;
    if (!spec.networks.some((x) => x.name === name)) spec.networks.push({ name, description: n?.description });
    return name;
  };
  for (const c of plan) {
    if (c.type === 'Volume' && c.template) {
      const v = await resolveVolumeTemplate(tx, c.template);
      for (const n of c.instanceNames) spec.disks.push({ id: n, capacity: v.capacity as number, format: diskFormat(v.format) });
    } else if (c.type === 'Machine' && c.template) {
      const { spec: m } = await resolveMachineTemplate(tx, c.template);
      const resolved = await resolveSlot(tx, 'MachineTemplate', c.template, 'componentDescriptors');
      for (const [i, name] of c.instanceNames.entries()) {
        const disks: string[] = [];
        for (const [k, d] of m.disks.entries()) {
          spec.disks.push({ id: `${name}-disk${k}`, capacity: d.capacity, format: d.format });
          disks.push(`${name}-disk${k}`);
        }
        for (const [k, vt] of m.volumeTemplates.entries()) {
          const v = await resolveVolumeTemplate(tx, vt.template);
          const t = await resolveSlot(tx, 'VolumeTemplate', vt.template, 'volumeTemplates');
          const id = `${name}-${(t?.name ?? `volume${k}`).replace(/[^A-Za-z0-9_.-]/g, '_')}`;
          spec.disks.push({ id, capacity: v.capacity as number, format: diskFormat(v.format) });
          disks.push(id);
        }
        const networks: string[] = [];
        for (const nic of m.networkInterfaces) if (nic.network) networks.push(await addNetwork(nic.network, i, c));
        spec.machines.push({ name, description: c.description ?? resolved?.description, cpu: m.attrs.cpu ?? 1, memory: m.attrs.memory ?? 1024, disks, networks });
      }
    } else if (c.type !== 'Network') {
      spec.warnings.push(`component ${c.name} (${c.type}${c.resource ? ', an existing resource' : ''}) has no OVF form`);
    }
  }
  return spec;
}

/**
 * Names in one descriptor made unique and short: two Machines named `a b` and `a_b`, or a Volume named `disk0`
 * beside a Machine's first Disk, would otherwise share an id, and a disk file's name (id + `.vmdk`) must fit a tar
 * header's 99 characters (POSIX ustar name field).
 */
function uniqueIds(): (base: string) => string {
  const taken = new Set<string>();
  return (base) => {
    const stem = base.slice(0, 80);
    let id = stem;
    for (let n = 2; taken.has(id); n++) id = `${stem}-${n}`;
    taken.add(id);
    return id;
  };
}

/** a System's component Machines as they are now, their Volumes and Disks, the Networks their interfaces use */
async function systemSpec(tx: TenantTx, s: Resource): Promise<OvfSpec> {
  const spec: OvfSpec = { name: s.name ?? s.id, description: s.description, networks: [], disks: [], machines: [], warnings: [] };
  const link = async (linkType: ResourceType, attr: string, type: ResourceType) => {
    const out: Resource[] = [];
    for (const l of await tx.resources.children(s.id, linkType)) {
      const r = await tx.resources.get(type, ((l.attrs as Record<string, Ref>)[attr]).id);
      if (r) out.push(r);
    }
    return out.sort((a, b) => (a.name ?? a.id).localeCompare(b.name ?? b.id));
  };
  const names = (r: Resource) => (r.name ?? r.id).replace(/[^A-Za-z0-9_.-]/g, '_');
  const machineId = uniqueIds();
  const diskId = uniqueIds();
  for (const n of await link('SystemNetwork', 'network', 'Network')) spec.networks.push({ name: names(n), description: n.description });
  const seenVolumes = new Set<string>();
  for (const m of await link('SystemMachine', 'machine', 'Machine')) {
    const a = m.attrs as Record<string, unknown>;
    const name = machineId(names(m));
    const disks: string[] = [];
    for (const [k, d] of (await tx.resources.children(m.id, 'Disk')).entries()) {
      const da = d.attrs as Record<string, unknown>;
      // the provider's Machine disk is its first Disk (libvirt: vda)
      const id = diskId(`${name}-disk${k}`);
      spec.disks.push({ id, capacity: da.capacity as number, format: diskFormat(da.format), ...(k === 0 ? { source: { type: 'Machine' as const, id: m.id } } : {}) });
      disks.push(id);
    }
    for (const mv of await tx.resources.children(m.id, 'MachineVolume')) {
      const v = await tx.resources.get('Volume', ((mv.attrs as Record<string, Ref>).volume).id);
      if (!v) continue;
      seenVolumes.add(v.id);
      const va = v.attrs as Record<string, unknown>;
      const id = diskId(`${name}-${names(v)}`);
      spec.disks.push({ id, capacity: va.capacity as number, format: diskFormat(va.format), source: { type: 'Volume', id: v.id } });
      disks.push(id);
    }
    const networks: string[] = [];
    for (const nic of await tx.resources.children(m.id, 'MachineNetworkInterface')) {
      const ref = (nic.attrs as Record<string, Ref | undefined>).network;
      if (!ref) continue;
      const n = await tx.resources.get('Network', ref.id);
      const nn = n ? names(n) : ref.id;
      if (!spec.networks.some((x) => x.name === nn)) spec.networks.push({ name: nn, description: n?.description });
      networks.push(nn);
    }
    spec.machines.push({ name, description: m.description, cpu: a.cpu as number, memory: a.memory as number, disks, networks });
  }
  for (const v of await link('SystemVolume', 'volume', 'Volume')) {
    if (seenVolumes.has(v.id)) continue;
    const va = v.attrs as Record<string, unknown>;
    spec.disks.push({ id: diskId(names(v)), capacity: va.capacity as number, format: diskFormat(va.format), source: { type: 'Volume', id: v.id } });
  }
  return spec;
}
