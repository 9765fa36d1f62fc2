import { Injectable } from '@nestjs/common';
import { checkId } from '../shared/ids';
import { InvalidInputError, InvalidStateError, NotFoundError } from '../shared/model-error';
import type { OperationContext } from '../shared/operation-context';
import type { TenantTx } from '../shared/ports';
import type { Ref, Resource } from '../shared/resource';
import { Mutations, type MutationOptions } from '../shared/mutation';
import { requireAllowed } from '../shared/guards';
import { checkCommon, type CommonInput } from '../shared/attr-validation';
import { ResourceService, type OperationOutcome } from '../shared/resource.service';
import { machineStateMachine, MACHINE_INITIAL_PHASES } from './machine-state';
import { optInt, optRef, optStr, resolveSlot, slotOf, type Slot } from '../template/template-resolution';
import { volumeStateMachine } from '../volume/volume-state';
import { buildVolume } from '../volume/volume-template';
import { networkStateMachine } from '../network/network-state';
import type { JobStep, JobFinal } from '../job/job';
import { macFor } from '../network/mac';

export interface MachineCreateInput extends CommonInput {
  /** MachineTemplate by reference, by value, or by reference with overrides (docs/cimi.md §6) */
  machineTemplate: Slot;
}

export interface MachineAttrs {
  cpu?: number;
  memory?: number;
  cpuArch?: string;
  cpuSpeed?: number;
  machineImage?: Ref;
  machineTemplate?: Ref;
  latestSnapshot?: Ref;
  userData?: string;
}

/** Actions a client may invoke on a Machine through an Action (DSP0263 §5.14.1.2); capture goes through images. */
export const MACHINE_ACTIONS = ['start', 'stop', 'restart', 'pause', 'suspend', 'restore'] as const;
export type MachineAction = (typeof MACHINE_ACTIONS)[number];

/** The effective template after resolution: what the provider is asked to build. */
export interface MachineSpec {
  templateRef?: Ref;
  attrs: MachineAttrs;
  disks: { capacity: number; format?: string; initialLocation?: string }[];
  credential?: { ref?: Ref; userName?: string; publicKey?: string };
  /** the MachineImage the disk is made from, with where the provider finds it */
  image?: { id?: string; imageLocation?: string };
  volumes: { volume: Ref; initialLocation?: string }[];
  volumeTemplates: { template: Slot; initialLocation?: string }[];
  networkInterfaces: { network?: Ref; networkPort?: Ref; mtu?: number; addresses?: Ref[] }[];
  initialState: string;
}

@Injectable()
export class MachineService {
  constructor(
    private readonly mutations: Mutations,
    private readonly resources: ResourceService,
  ) {}

  /**
   * MachineCreate (DSP0263 2.0.0 §5.14.2): resolve the template, write the Machine in CREATING with its disks,
   * interfaces, attachments and any volumes its template creates, and one Job that provisions everything and
   * brings the Machine to its initial state.
   */
  async create(ctx: OperationContext, input: MachineCreateInput, opts: MutationOptions = {}): Promise<OperationOutcome> {
    return this.mutations.run(ctx, 'Machine.create', input, opts, async (tx) => {
      const built = await this.build(ctx, tx, input);
      const job = this.mutations.newJob(ctx, { action: 'add', target: { type: 'MachineCollection', id: ctx.tenantId }, ...built });
      await tx.jobs.insert(job);
      return { resource: built.resource, job };
    });
  }

  /** Writes a Machine and its parts in CREATING and returns the provider work, in the caller's transaction. */
  async build(ctx: OperationContext, tx: TenantTx, input: MachineCreateInput, pendingVolumes: ReadonlySet<string> = new Set()): Promise<{ resource: Resource; steps: JobStep[]; finals: JobFinal[]; affected: Ref[] }> {
    const common = checkCommon(input);
    {
      const spec = await resolveMachineTemplate(tx, input.machineTemplate);
      const machine = this.mutations.newResource(ctx, 'Machine', common, spec.spec.attrs, { state: 'CREATING' });
      await tx.resources.insert(machine);
      const mref: Ref = { type: 'Machine', id: machine.id };
      const steps: JobStep[] = [];
      const finals: JobFinal[] = [];
      const affected: Ref[] = [mref];

      for (const d of spec.spec.disks) {
        await tx.resources.insert(this.mutations.newResource(ctx, 'Disk', {}, d, { parentId: machine.id }));
      }
      // volumes created from the template's volumeTemplates (DSP0263 §5.14.2: created with the Machine)
      const newVolumes: { volume: Ref; initialLocation?: string }[] = [];
      for (const vt of spec.spec.volumeTemplates) {
        const v = await buildVolume(tx, this.mutations, ctx, vt.template, {});
        await tx.resources.insert(v);
        const vref: Ref = { type: 'Volume', id: v.id };
        steps.push({ ref: vref, state: 'CREATING', step: 'create' });
        finals.push({ ref: vref, to: 'AVAILABLE' });
        affected.push(vref);
        newVolumes.push({ volume: vref, initialLocation: vt.initialLocation });
      }
      // what a real backend needs to build the Machine besides its own attributes (issue 12 §1)
      const createParams: Record<string, unknown> = { credential: spec.spec.credential?.userName, image: spec.spec.image, diskKB: spec.spec.disks[0]?.capacity, nics: [] };
      if (spec.spec.credential?.publicKey) createParams.publicKey = spec.spec.credential.publicKey;
      steps.push({ ref: mref, state: 'CREATING', step: 'create', params: createParams });
      for (const v of spec.spec.volumes) {
        const vol = await tx.resources.get('Volume', v.volume.id);
        if (!vol) throw new InvalidInputError('volumes refers to a Volume that does not exist', 'volumes', 'TEMPLATE.BAD_REFERENCE');
        // a Volume created by the same System plan is attached once its create step has run
        if (!pendingVolumes.has(vol.id)) await this.checkAttachable(tx, vol);
      }
      for (const v of [...spec.spec.volumes, ...newVolumes]) {
        const link = this.mutations.newResource(ctx, 'MachineVolume', {}, { volume: v.volume, initialLocation: v.initialLocation }, { parentId: machine.id });
        await tx.resources.insert(link);
        steps.push({ ref: mref, state: 'CREATING', step: 'attach', params: { volumeId: v.volume.id, initialLocation: v.initialLocation } });
      }
      for (const nic of spec.spec.networkInterfaces) {
        if (nic.network) {
          const n = await tx.resources.get('Network', nic.network.id);
          if (!n) throw new InvalidInputError('networkInterfaces refers to a Network that does not exist', 'networkInterfaces', 'TEMPLATE.BAD_REFERENCE');
          // a Network created by the same System plan is provisioned by an earlier step of the same Job
          if (!pendingVolumes.has(n.id)) networkStateMachine.require('use', n.state, n.id);
        }
        const r = this.mutations.newResource(ctx, 'MachineNetworkInterface', {}, { ...nic, state: 'Active' }, { parentId: machine.id });
        (r.attrs as Record<string, unknown>).macAddress = macFor(r.id);
        await tx.resources.insert(r);
        if (nic.network) (createParams.nics as { mac: string; networkId: string }[]).push({ mac: macFor(r.id), networkId: nic.network.id });
      }
      for (const p of MACHINE_INITIAL_PHASES[spec.spec.initialState]) steps.push({ ref: mref, state: p.state, step: p.step });
      finals.push({ ref: mref, to: spec.spec.initialState });
      return { resource: machine, steps, finals, affected };
    }
  }

  /** start, stop (force), restart (force), pause, suspend, restore (image) — DSP0263 2.0.0 §5.14.1.2 */
  async act(ctx: OperationContext, id: string, action: string, params: { force?: boolean; image?: Ref } = {}, opts: MutationOptions = {}): Promise<OperationOutcome> {
    if (!(MACHINE_ACTIONS as readonly string[]).includes(action)) throw new InvalidInputError(`Machine has no action ${action}`, 'action', 'MACHINE.UNKNOWN_ACTION');
    if (params.force !== undefined && typeof params.force !== 'boolean') throw new InvalidInputError('force must be a boolean', 'force');
    if (action === 'restore') return this.resources.restore(ctx, 'Machine', id, params.image, opts);
    const p = params.force === undefined ? {} : { force: params.force };
    return this.resources.act(ctx, 'Machine', id, action, p, opts);
  }

  /** Attach (1.x, docs/cimi.md §2.3): a MachineVolume link POSTed to the Machine's volumes; a provider job. */
  async attachVolume(ctx: OperationContext, machineId: string, input: CommonInput & { volume: Ref; initialLocation?: string }, opts: MutationOptions = {}): Promise<OperationOutcome> {
    checkId('Machine', machineId);
    const common = checkCommon(input);
    const initialLocation = optStr(input as unknown as Record<string, unknown>, 'initialLocation', 255);
    const vref = optRef(input.volume, 'Volume', 'volume');
    if (!vref) throw new InvalidInputError('volume is required', 'volume');
    return this.mutations.run(ctx, 'Machine.attachVolume', { machineId, input }, opts, async (tx) => {
      const m = await this.resources.load(tx, 'Machine', machineId, opts);
      await requireAllowed(tx, m, 'attachVolume');
      const vol = await tx.resources.get('Volume', checkId('Volume', vref.id));
      if (!vol) throw new InvalidInputError('volume refers to a Volume that does not exist', 'volume', 'TEMPLATE.BAD_REFERENCE');
      await this.checkAttachable(tx, vol);
      const link = this.mutations.newResource(ctx, 'MachineVolume', common, { volume: vref, initialLocation }, { parentId: m.id });
      await tx.resources.insert(link);
      const mref: Ref = { type: 'Machine', id: m.id };
      const job = this.mutations.newJob(ctx, {
        action: 'add',
        target: { type: 'MachineVolume', id: link.id },
        affected: [mref, vref, { type: 'MachineVolume', id: link.id }],
        steps: [{ ref: mref, state: m.state!, step: 'attach', params: { volumeId: vol.id, initialLocation } }],
        finals: [{ ref: mref, to: m.state!, previous: m.state }],
      });
      await tx.jobs.insert(job);
      return { resource: link, job };
    });
  }

  /** Detach: DELETE of the MachineVolume link (1.x, Deltacloud capture); a provider job. */
  async detachVolume(ctx: OperationContext, machineId: string, linkId: string, opts: MutationOptions = {}): Promise<OperationOutcome> {
    checkId('Machine', machineId);
    checkId('MachineVolume', linkId);
    return this.mutations.run(ctx, 'Machine.detachVolume', { machineId, linkId }, opts, async (tx) => {
      const m = await this.resources.load(tx, 'Machine', machineId);
      const link = await tx.resources.get('MachineVolume', linkId);
      if (!link || link.parentId !== m.id) throw new NotFoundError('MachineVolume', linkId);
      if (opts.expectedVersion !== undefined && opts.expectedVersion !== link.version) await this.resources.load(tx, 'MachineVolume', linkId, opts);
      await requireAllowed(tx, m, 'detachVolume');
      const vref = (link.attrs as { volume: Ref }).volume;
      const mref: Ref = { type: 'Machine', id: m.id };
      const lref: Ref = { type: 'MachineVolume', id: link.id };
      const job = this.mutations.newJob(ctx, {
        action: 'delete',
        target: lref,
        affected: [mref, vref],
        steps: [{ ref: mref, state: m.state!, step: 'detach', params: { volumeId: vref.id } }],
        finals: [
          { ref: lref, to: '@gone' },
          { ref: mref, to: m.state!, previous: m.state },
        ],
      });
      await tx.jobs.insert(job);
      return { resource: link, job };
    });
  }

  /** one attachment per Volume unless the provider shares volumes (SharedVolumeSupport is not offered) */
  private async checkAttachable(tx: TenantTx, vol: Resource): Promise<void> {
    volumeStateMachine.require('attach', vol.state, vol.id);
    if ((await tx.resources.referencing('MachineVolume', 'volume', vol.id)).length > 0) {
      throw new InvalidStateError('Volume', vol.id, 'attach', `${vol.state} (already attached)`);
    }
  }
}


/** DSP0263 2.0.0 §4.2.1.1, docs/cimi.md §6: resolves a MachineTemplate slot and its nested slots, once, here. */
export async function resolveMachineTemplate(tx: TenantTx, slot: Slot | undefined): Promise<{ spec: MachineSpec }> {
  if (!slot || (!slot.ref && !slot.value)) throw new InvalidInputError('machineTemplate is required', 'machineTemplate');
  const t = (await resolveSlot(tx, 'MachineTemplate', slot, 'machineTemplate'))!;
  const cfg = await resolveSlot(tx, 'MachineConfiguration', slotOf(t.attrs.machineConfig), 'machineConfig');
  if (!cfg) throw new InvalidInputError('machineTemplate needs a machineConfig', 'machineConfig');
  const img = await resolveSlot(tx, 'MachineImage', slotOf(t.attrs.machineImage), 'machineImage');
  const cred = await resolveSlot(tx, 'Credential', slotOf(t.attrs.credential), 'credential');
  const cpu = optInt(cfg.attrs, 'cpu', 1);
  const memory = optInt(cfg.attrs, 'memory', 1);
  if (cpu === undefined || memory === undefined) throw new InvalidInputError('machineConfig needs cpu and memory', 'machineConfig');
  const disks = ((cfg.attrs.disks as unknown[]) ?? []).map((d, i) => {
    const o = (d ?? {}) as Record<string, unknown>;
    const capacity = optInt(o, 'capacity', 1);
    if (capacity === undefined) throw new InvalidInputError(`disk ${i + 1} needs a capacity`, 'disks');
    return { capacity, format: optStr(o, 'format', 64), initialLocation: optStr(o, 'initialLocation', 255) };
  });
  const initialState = optStr(t.attrs, 'initialState', 32) ?? machineStateMachine.defaultInitialState;
  // DSP0263 2.0.0 §5.14.2.1: an initial state the provider cannot reach fails the create
  if (!machineStateMachine.initialStates.includes(initialState as never)) {
    throw new InvalidInputError(`initialState ${initialState} is not one of ${machineStateMachine.initialStates.join(', ')}`, 'initialState');
  }
  const volumes = arr(t.attrs.volumes, 'volumes').map((v) => ({ volume: optRef(v.volume, 'Volume', 'volumes')!, initialLocation: optStr(v, 'initialLocation', 255) }));
  if (volumes.some((v) => !v.volume)) throw new InvalidInputError('each of volumes needs a volume reference', 'volumes');
  const volumeTemplates = arr(t.attrs.volumeTemplates, 'volumeTemplates').map((v) => {
    const template = slotOf(v.volumeTemplate);
    if (!template) throw new InvalidInputError('each of volumeTemplates needs a volumeTemplate', 'volumeTemplates');
    return { template, initialLocation: optStr(v, 'initialLocation', 255) };
  });
  const networkInterfaces = arr(t.attrs.networkInterfaces, 'networkInterfaces').map((n) => ({
    network: optRef(n.network, 'Network', 'networkInterfaces'),
    networkPort: optRef(n.networkPort, 'NetworkPort', 'networkInterfaces'),
    mtu: optInt(n, 'mtu', 68),
  }));
  if (img?.source && img.source.state !== 'AVAILABLE') throw new InvalidStateError('MachineImage', img.source.id, 'use', img.source.state);
  const userData = optStr(t.attrs, 'userData', 65536);
  return {
    spec: {
      templateRef: t.ref,
      attrs: {
        cpu,
        memory,
        cpuArch: optStr(cfg.attrs, 'cpuArch', 32),
        cpuSpeed: optInt(cfg.attrs, 'cpuSpeed', 1),
        machineImage: img?.ref,
        machineTemplate: t.ref,
        userData,
      },
      disks,
      credential: cred ? { ref: cred.ref, userName: optStr(cred.attrs, 'userName', 255), publicKey: optStr(cred.attrs, 'key', 16384) } : undefined,
      image: img ? { id: img.ref?.id, imageLocation: optStr(img.attrs, 'imageLocation', 2048) } : undefined,
      volumes,
      volumeTemplates,
      networkInterfaces,
      initialState,
    },
  };
}

function arr(v: unknown, field: string): Record<string, unknown>[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null)) throw new InvalidInputError(`${field} must be a list of objects`, field);
  return v as Record<string, unknown>[];
}
