import { Inject, Injectable } from '@nestjs/common';
import { checkAttrs, checkCommon } from '../shared/attr-validation';
import { checkId } from '../shared/ids';
import { InvalidInputError, NotFoundError } from '../shared/model-error';
import { Mutations, type MutationOptions } from '../shared/mutation';
import type { OperationContext } from '../shared/operation-context';
import { UNIT_OF_WORK, type TenantTx, type UnitOfWork } from '../shared/ports';
import type { Ref, Resource, ResourceType } from '../shared/resource';
import type { OperationOutcome } from '../shared/resource.service';
import { resolveSlot, type Slot } from '../template/template-resolution';
import { resolveMachineTemplate } from '../machine/machine.service';
import { resolveVolumeTemplate } from '../volume/volume-template';
import { planSystem, type ComponentDescriptor } from './system-plan';
import { readOvf, writeOvf, type OvfSpec } from './ovf/ovf-mapping';
import type { OvfNode } from './ovf/ovf-tree';
import { SystemService } from './system.service';

export interface OvfImportInput {
  /** the package's descriptor, parsed by the door's hardened XML reader */
  descriptor: OvfNode;
  /** the OVA's other entries, when the descriptor came in one (References are checked against them) */
  files?: string[];
  /** DSP0263 2.0.0 §5.13.4 importImage: where the package came from, kept in the template's properties */
  source?: string;
}

export interface OvfExport {
  spec: OvfSpec;
  envelope: OvfNode;
}

const NAME = /[^A-Za-z0-9_.-]/g;
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
  ) {}

  /** SystemTemplateCollection import (DSP0263 2.0.0 §5.13.5.1): everything is created, or nothing is. */
  async importTemplate(ctx: OperationContext, input: OvfImportInput, opts: MutationOptions = {}): Promise<OperationOutcome & { warnings: string[] }> {
    const spec = this.readInput(input);
    const out = await this.mutations.run(ctx, 'SystemTemplate.import', { spec, source: input.source }, opts, async (tx) => {
      const { template, affected } = await this.writeTemplates(ctx, tx, spec, input.source);
      const stRef: Ref = { type: 'SystemTemplate', id: template.id };
      const job = this.mutations.newJob(ctx, { action: 'import', target: { type: 'SystemTemplateCollection', id: ctx.tenantId }, affected: [stRef, ...affected], done: true });
      await tx.jobs.insert(job);
      return { resource: template, job };
    });
    return { ...out, warnings: spec.warnings };
  }

  /**
   * SystemCollection import (DSP0263 2.0.0 §5.13.2, Annex A): the package's SystemTemplate and a System made from it,
   * its Machines, Volumes and Networks, in one transaction; one Job provisions them as System.create does. A refused
   * package, or a template the System cannot be made from, leaves nothing.
   */
  async importSystem(ctx: OperationContext, input: OvfImportInput & { name?: string; description?: string }, opts: MutationOptions = {}): Promise<OperationOutcome & { warnings: string[] }> {
    const spec = this.readInput(input);
    const out = await this.mutations.run(ctx, 'System.import', { spec, source: input.source, name: input.name, description: input.description }, opts, async (tx) => {
      const { template, affected } = await this.writeTemplates(ctx, tx, spec, input.source);
      const stRef: Ref = { type: 'SystemTemplate', id: template.id };
      const b = await this.systems.build(ctx, tx, { name: input.name ?? template.name, description: input.description ?? template.description, systemTemplate: { ref: stRef } });
      const job = this.mutations.newJob(ctx, { action: 'import', target: { type: 'SystemCollection', id: ctx.tenantId }, ...b.job, affected: [...b.job.affected, stRef, ...affected] });
      await tx.jobs.insert(job);
      return { resource: b.resource, job };
    });
    return { ...out, warnings: spec.warnings };
  }

  private readInput(input: OvfImportInput): OvfSpec {
    const spec = readOvf(input.descriptor, input.files ? new Set(input.files) : undefined);
    if (input.source !== undefined && (typeof input.source !== 'string' || input.source.length > 2048)) throw new InvalidInputError('source must be a URI of at most 2048 characters', 'source');
    return spec;
  }

  /** the SystemTemplate of a package and its Machine, Volume and Network templates (DSP0263 2.0.0 Annex A) */
  private async writeTemplates(ctx: OperationContext, tx: TenantTx, spec: OvfSpec, source: string | undefined): Promise<{ template: Resource; affected: Ref[] }> {
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
    for (const d of spec.disks) {
      const properties: Record<string, string> = { 'ovf:diskId': d.id };
      if (d.file) properties['ovf:file'] = d.file;
      volumeTemplates.set(d.id, await insert('VolumeTemplate', { name: d.id, properties }, { volumeConfig: { value: { capacity: d.capacity, ...(d.format ? { format: d.format } : {}) } } }));
    }
    for (const m of spec.machines) {
      const cfg = await insert('MachineConfiguration', { name: m.name }, { cpu: m.cpu, memory: m.memory });
      const mt = await insert('MachineTemplate', { name: m.name, description: m.description }, { machineConfig: { ref: cfg }, volumeTemplates: m.disks.map((d) => ({ volumeTemplate: { ref: volumeTemplates.get(d)! } })) });
      // the interfaces name the System's own Networks: `#name` references (DSP0263 2.0.0 §5.13.2), bound at create
      const template: Slot = { ref: mt, ...(m.networks.length ? { value: { networkInterfaces: m.networks.map((n) => ({ network: { type: 'Network', id: `#${netSymbols.get(n)}` }, state: 'Active' })) } } : {}) };
      descriptors.push({ name: symbol(m.name), description: m.description, type: 'Machine', template });
    }
    // a disk no VirtualSystem uses is a Volume of the System
    const attached = new Set(spec.machines.flatMap((m) => m.disks));
    for (const d of spec.disks.filter((x) => !attached.has(x.id))) descriptors.push({ name: symbol(d.id), type: 'Volume', template: { ref: volumeTemplates.get(d.id)! } });
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
  for (const n of await link('SystemNetwork', 'network', 'Network')) spec.networks.push({ name: names(n), description: n.description });
  const seenVolumes = new Set<string>();
  for (const m of await link('SystemMachine', 'machine', 'Machine')) {
    const a = m.attrs as Record<string, unknown>;
    const name = names(m);
    const disks: string[] = [];
    for (const [k, d] of (await tx.resources.children(m.id, 'Disk')).entries()) {
      const da = d.attrs as Record<string, unknown>;
      spec.disks.push({ id: `${name}-disk${k}`, capacity: da.capacity as number, format: diskFormat(da.format) });
      disks.push(`${name}-disk${k}`);
    }
    for (const mv of await tx.resources.children(m.id, 'MachineVolume')) {
      const v = await tx.resources.get('Volume', ((mv.attrs as Record<string, Ref>).volume).id);
      if (!v) continue;
      seenVolumes.add(v.id);
      const va = v.attrs as Record<string, unknown>;
      const id = `${name}-${names(v)}`;
      spec.disks.push({ id, capacity: va.capacity as number, format: diskFormat(va.format) });
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
    spec.disks.push({ id: names(v), capacity: va.capacity as number, format: diskFormat(va.format) });
  }
  return spec;
}
