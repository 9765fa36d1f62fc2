import { Injectable } from '@nestjs/common';
import { checkCommon, type CommonInput } from '../shared/attr-validation';
import { checkId } from '../shared/ids';
import { InvalidInputError } from '../shared/model-error';
import { Mutations, type MutationOptions } from '../shared/mutation';
import { requireAllowed } from '../shared/guards';
import type { OperationContext } from '../shared/operation-context';
import type { Ref, Resource } from '../shared/resource';
import type { TenantTx } from '../shared/ports';
import { SYSTEM_LINK_TYPES } from '../shared/resource-types';
import { ResourceService, type OperationOutcome } from '../shared/resource.service';
import { DERIVED } from '../shared/state-machine';
import type { JobFinal, JobStep } from '../job/job';
import { resolveSlot, type Slot } from '../template/template-resolution';
import { MachineService } from '../machine/machine.service';
import { machineStateMachine } from '../machine/machine-state';
import { NetworkService } from '../network/network.service';
import { CatalogService } from '../template/catalog.service';
import { buildVolume } from '../volume/volume-template';
import { bindSymbols, planSystem } from './system-plan';

export interface SystemCreateInput extends CommonInput {
  systemTemplate: Slot;
}

export const SYSTEM_ACTIONS = ['start', 'stop', 'restart', 'pause', 'suspend'] as const;

@Injectable()
export class SystemService {
  constructor(
    private readonly mutations: Mutations,
    private readonly resources: ResourceService,
    private readonly machines: MachineService,
    private readonly networks: NetworkService,
    private readonly catalog: CatalogService,
  ) {}

  /**
   * SystemCreate (DSP0263 2.0.0 §5.13): every component of the template is written in CREATING with a link from
   * the System, `#name` references are bound to the created components, and one Job provisions them in
   * dependency order; the System's final state is derived from its Machines.
   */
  async create(ctx: OperationContext, input: SystemCreateInput, opts: MutationOptions = {}): Promise<OperationOutcome> {
    checkCommon(input);
    return this.mutations.run(ctx, 'System.create', input, opts, async (tx) => {
      const b = await this.build(ctx, tx, input);
      const job = this.mutations.newJob(ctx, { action: 'add', target: { type: 'SystemCollection', id: ctx.tenantId }, ...b.job });
      await tx.jobs.insert(job);
      return { resource: b.resource, job };
    });
  }

  /** the System and its components in `tx`, and what its Job must do (System.create, System.import) */
  async build(ctx: OperationContext, tx: TenantTx, input: SystemCreateInput): Promise<{ resource: Resource; job: { affected: Ref[]; steps: JobStep[]; finals: JobFinal[] } }> {
    const common = checkCommon(input);
    const t = await resolveSlot(tx, 'SystemTemplate', input.systemTemplate, 'systemTemplate');
    if (!t) throw new InvalidInputError('systemTemplate is required', 'systemTemplate');
    const plan = planSystem(t.attrs);
    const system = this.mutations.newResource(ctx, 'System', common, { systemTemplate: t.ref }, { state: 'CREATING' });
    await tx.resources.insert(system);
    const sref: Ref = { type: 'System', id: system.id };
    const steps: JobStep[] = [{ ref: sref, state: 'CREATING', step: 'create' }];
    const finals: JobFinal[] = [];
    const affected: Ref[] = [sref];
    const created = new Map<string, string[]>();
    const pendingVolumes = new Set<string>();
    for (const c of plan) {
      const ids: string[] = [];
      for (let i = 0; i < c.quantity; i++) {
        const base = { name: c.instanceNames[i], description: c.description, properties: c.properties };
        let ref: Ref;
        if (c.resource) {
          checkId(c.type, c.resource.id);
          if (!(await tx.resources.get(c.type, c.resource.id))) throw new InvalidInputError(`component ${c.name} refers to a ${c.type} that does not exist`, 'componentDescriptors', 'TEMPLATE.BAD_REFERENCE');
          ref = c.resource;
        } else {
          const template = bindSymbols(c.template!, created, i);
          if (c.type === 'Machine') {
            const b = await this.machines.build(ctx, tx, { ...base, machineTemplate: template }, pendingVolumes);
            steps.push(...b.steps);
            finals.push(...b.finals);
            affected.push(...b.affected);
            ref = { type: 'Machine', id: b.resource.id };
          } else if (c.type === 'Network') {
            const b = await this.networks.buildNetwork(ctx, tx, { ...base, networkTemplate: template });
            steps.push(...b.steps);
            finals.push(...b.finals);
            affected.push(...b.affected);
            ref = { type: 'Network', id: b.resource.id };
            pendingVolumes.add(b.resource.id); // its Machines may use it before its create step has run
          } else if (c.type === 'Volume') {
            const v = await buildVolume(tx, this.mutations, ctx, template, base);
            await tx.resources.insert(v);
            ref = { type: 'Volume', id: v.id };
            pendingVolumes.add(v.id);
            steps.push({ ref, state: 'CREATING', step: 'create' });
            finals.push({ ref, to: 'AVAILABLE' });
            affected.push(ref);
          } else {
            const cr = await this.catalog.buildCredential(ctx, tx, { ...base, credentialTemplate: template });
            ref = { type: 'Credential', id: cr.id };
            affected.push(ref);
          }
        }
        ids.push(ref.id);
        const link = SYSTEM_LINK_TYPES[c.type]!;
        await tx.resources.insert(this.mutations.newResource(ctx, link.linkType, {}, { [link.attr]: ref }, { parentId: system.id }));
      }
      created.set(c.name, ids);
    }
    // volumes must exist before the machines that attach them: the plan order already puts their steps first
    finals.push({ ref: sref, to: DERIVED });
    return { resource: system, job: { affected, steps, finals } };
  }

  /**
   * start, stop, restart, pause, suspend of a System (DSP0263 2.0.0 §5.13.1): one nested Job per component
   * Machine that allows the action; the parent Job ends when they all have, and the System state is derived.
   */
  async act(ctx: OperationContext, id: string, action: string, params: { force?: boolean } = {}, opts: MutationOptions = {}): Promise<OperationOutcome> {
    if (!(SYSTEM_ACTIONS as readonly string[]).includes(action)) throw new InvalidInputError(`System has no action ${action}`, 'action', 'SYSTEM.UNKNOWN_ACTION');
    checkId('System', id);
    return this.mutations.run(ctx, `System.${action}`, { id, params }, opts, async (tx) => {
      const s = await this.resources.load(tx, 'System', id, opts);
      const rule = await requireAllowed(tx, s, action);
      const links = await tx.resources.children(s.id, 'SystemMachine');
      const machines = [];
      for (const l of links) {
        const m = await tx.resources.get('Machine', (l.attrs as { machine: Ref }).machine.id);
        if (m && machineStateMachine.can(action, m.state) && !(await tx.jobs.activeFor(m.id))) machines.push(m);
      }
      const sref: Ref = { type: 'System', id: s.id };
      const previous = s.state;
      const parent = this.mutations.newJob(ctx, {
        action,
        target: sref,
        affected: [sref, ...machines.map((m) => ({ type: 'Machine' as const, id: m.id }))],
        finals: [{ ref: sref, to: rule.to, previous }],
        pendingChildren: machines.length,
      });
      s.state = rule.phases[0].state;
      s.version += 1;
      await tx.resources.update(s);
      await tx.jobs.insert(parent);
      for (const m of machines) {
        await this.resources.startTransition(ctx, tx, m, action, params.force === undefined ? {} : { force: params.force }, { parentJobId: parent.id });
      }
      return { resource: s, job: parent };
    });
  }
}
