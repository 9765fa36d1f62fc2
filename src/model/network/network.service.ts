import { Injectable } from '@nestjs/common';
import { checkAttrs, checkCommon, type CommonInput } from '../shared/attr-validation';
import { InvalidInputError } from '../shared/model-error';
import { Mutations, type MutationOptions } from '../shared/mutation';
import type { OperationContext } from '../shared/operation-context';
import type { TenantTx } from '../shared/ports';
import type { Ref, Resource } from '../shared/resource';
import { ResourceService, type OperationOutcome } from '../shared/resource.service';
import type { JobFinal, JobStep } from '../job/job';
import { optInt, optRef, optStr, resolveSlot, slotOf, type Slot } from '../template/template-resolution';
import { NETWORK_INITIAL_PHASES, networkStateMachine } from './network-state';

export interface NetworkCreateInput extends CommonInput {
  networkTemplate: Slot;
}
export interface NetworkPortCreateInput extends CommonInput {
  networkPortTemplate: Slot;
}
export interface AddressCreateInput extends CommonInput {
  addressTemplate: Slot;
}
export interface ForwardingGroupCreateInput extends CommonInput {
  forwardingGroupTemplate: Slot;
}

export const NETWORK_ACTIONS = ['start', 'stop'] as const;

/** The 1.x network model (docs/cimi.md §2.4): Network, NetworkPort, Address, ForwardingGroup. */
@Injectable()
export class NetworkService {
  constructor(
    private readonly mutations: Mutations,
    private readonly resources: ResourceService,
  ) {}

  async createNetwork(ctx: OperationContext, input: NetworkCreateInput, opts: MutationOptions = {}): Promise<OperationOutcome> {
    return this.mutations.run(ctx, 'Network.create', input, opts, async (tx) => {
      const built = await this.buildNetwork(ctx, tx, input);
      const job = this.mutations.newJob(ctx, { action: 'add', target: { type: 'NetworkCollection', id: ctx.tenantId }, ...built });
      await tx.jobs.insert(job);
      return { resource: built.resource, job };
    });
  }

  /** Writes a Network in CREATING and returns its provider work, in the caller's transaction. */
  async buildNetwork(ctx: OperationContext, tx: TenantTx, input: NetworkCreateInput): Promise<{ resource: Resource; steps: JobStep[]; finals: JobFinal[]; affected: Ref[] }> {
    const common = checkCommon(input);
    const t = await resolveSlot(tx, 'NetworkTemplate', input.networkTemplate, 'networkTemplate');
    if (!t) throw new InvalidInputError('networkTemplate is required', 'networkTemplate');
    const cfg = await resolveSlot(tx, 'NetworkConfiguration', slotOf(t.attrs.networkConfig), 'networkConfig');
    if (!cfg) throw new InvalidInputError('networkTemplate needs a networkConfig', 'networkConfig');
    const initialState = this.initialState(t.attrs);
    const fg = optRef(t.attrs.forwardingGroup, 'ForwardingGroup', 'forwardingGroup');
    if (fg && !(await tx.resources.get('ForwardingGroup', fg.id))) throw new InvalidInputError('forwardingGroup does not exist', 'forwardingGroup', 'TEMPLATE.BAD_REFERENCE');
    const n = this.mutations.newResource(
      ctx,
      'Network',
      common,
      { networkType: optStr(cfg.attrs, 'networkType', 32), mtu: optInt(cfg.attrs, 'mtu', 68), classOfService: optStr(cfg.attrs, 'classOfService', 255), forwardingGroup: fg },
      { state: 'CREATING' },
    );
    await tx.resources.insert(n);
    const ref: Ref = { type: 'Network', id: n.id };
    const steps: JobStep[] = [{ ref, state: 'CREATING', step: 'create' }, ...NETWORK_INITIAL_PHASES[initialState].map((p) => ({ ref, ...p }))];
    return { resource: n, steps, finals: [{ ref, to: initialState }], affected: [ref] };
  }

  async createNetworkPort(ctx: OperationContext, input: NetworkPortCreateInput, opts: MutationOptions = {}): Promise<OperationOutcome> {
    const common = checkCommon(input);
    return this.mutations.run(ctx, 'NetworkPort.create', input, opts, async (tx) => {
      const t = await resolveSlot(tx, 'NetworkPortTemplate', input.networkPortTemplate, 'networkPortTemplate');
      if (!t) throw new InvalidInputError('networkPortTemplate is required', 'networkPortTemplate');
      const net = optRef(slotOf(t.attrs.network)?.ref ?? t.attrs.network, 'Network', 'network');
      if (!net) throw new InvalidInputError('networkPortTemplate needs a network', 'network');
      const n = await tx.resources.get('Network', net.id);
      if (!n) throw new InvalidInputError('network does not exist', 'network', 'TEMPLATE.BAD_REFERENCE');
      networkStateMachine.require('use', n.state, n.id);
      const cfg = await resolveSlot(tx, 'NetworkPortConfiguration', slotOf(t.attrs.networkPortConfig), 'networkPortConfig');
      const initialState = this.initialState(t.attrs);
      const p = this.mutations.newResource(
        ctx,
        'NetworkPort',
        common,
        { network: net, portType: cfg ? optStr(cfg.attrs, 'portType', 64) : undefined, classOfService: cfg ? optStr(cfg.attrs, 'classOfService', 255) : undefined },
        { state: 'CREATING' },
      );
      await tx.resources.insert(p);
      const ref: Ref = { type: 'NetworkPort', id: p.id };
      const job = this.mutations.newJob(ctx, {
        action: 'add',
        target: { type: 'NetworkPortCollection', id: ctx.tenantId },
        affected: [ref, net],
        steps: [{ ref, state: 'CREATING', step: 'create' }, ...NETWORK_INITIAL_PHASES[initialState].map((ph) => ({ ref, ...ph }))],
        finals: [{ ref, to: initialState }],
      });
      await tx.jobs.insert(job);
      return { resource: p, job };
    });
  }

  /** Address (1.x): allocated synchronously; a referenced Network must exist and be usable. */
  async createAddress(ctx: OperationContext, input: AddressCreateInput, opts: MutationOptions = {}): Promise<OperationOutcome> {
    const common = checkCommon(input);
    return this.mutations.run(ctx, 'Address.create', input, opts, async (tx) => {
      const t = await resolveSlot(tx, 'AddressTemplate', input.addressTemplate, 'addressTemplate');
      if (!t) throw new InvalidInputError('addressTemplate is required', 'addressTemplate');
      const net = optRef(slotOf(t.attrs.network)?.ref ?? t.attrs.network, 'Network', 'network');
      if (net) {
        const n = await tx.resources.get('Network', net.id);
        if (!n) throw new InvalidInputError('network does not exist', 'network', 'TEMPLATE.BAD_REFERENCE');
        networkStateMachine.require('use', n.state, n.id);
      }
      const attrs = checkAttrs('Address', { ...t.attrs, network: net });
      if (attrs.allocation !== undefined && !['dynamic', 'static'].includes(attrs.allocation as string)) {
        throw new InvalidInputError('allocation must be dynamic or static', 'allocation');
      }
      if (attrs.protocol !== undefined && !['IPv4', 'IPv6'].includes(attrs.protocol as string)) throw new InvalidInputError('protocol must be IPv4 or IPv6', 'protocol');
      const a = this.mutations.newResource(ctx, 'Address', common, attrs);
      await tx.resources.insert(a);
      const ref: Ref = { type: 'Address', id: a.id };
      const job = this.mutations.newJob(ctx, { action: 'add', target: { type: 'AddressCollection', id: ctx.tenantId }, affected: net ? [ref, net] : [ref], done: true });
      await tx.jobs.insert(job);
      return { resource: a, job };
    });
  }

  /** ForwardingGroup (1.x): connects Networks; every one must exist in this tenant. */
  async createForwardingGroup(ctx: OperationContext, input: ForwardingGroupCreateInput, opts: MutationOptions = {}): Promise<OperationOutcome> {
    const common = checkCommon(input);
    return this.mutations.run(ctx, 'ForwardingGroup.create', input, opts, async (tx) => {
      const t = await resolveSlot(tx, 'ForwardingGroupTemplate', input.forwardingGroupTemplate, 'forwardingGroupTemplate');
      if (!t) throw new InvalidInputError('forwardingGroupTemplate is required', 'forwardingGroupTemplate');
      const items = (t.attrs.networks as unknown[] | undefined) ?? [];
      if (!Array.isArray(items)) throw new InvalidInputError('networks must be a list', 'networks');
      const networks: Ref[] = [];
      for (const it of items) {
        const r = optRef((it as { network?: unknown }).network ?? it, 'Network', 'networks');
        if (!r || !(await tx.resources.get('Network', r.id))) throw new InvalidInputError('networks refers to a Network that does not exist', 'networks', 'TEMPLATE.BAD_REFERENCE');
        if (!networks.some((n) => n.id === r.id)) networks.push(r);
      }
      const fg = this.mutations.newResource(ctx, 'ForwardingGroup', common, { networks });
      await tx.resources.insert(fg);
      const ref: Ref = { type: 'ForwardingGroup', id: fg.id };
      const job = this.mutations.newJob(ctx, { action: 'add', target: { type: 'ForwardingGroupCollection', id: ctx.tenantId }, affected: [ref, ...networks], done: true });
      await tx.jobs.insert(job);
      return { resource: fg, job };
    });
  }

  /** start / stop of a Network or NetworkPort */
  async act(ctx: OperationContext, type: 'Network' | 'NetworkPort', id: string, action: string, opts: MutationOptions = {}): Promise<OperationOutcome> {
    if (!(NETWORK_ACTIONS as readonly string[]).includes(action)) throw new InvalidInputError(`${type} has no action ${action}`, 'action', 'NETWORK.UNKNOWN_ACTION');
    return this.resources.act(ctx, type, id, action, {}, opts);
  }

  private initialState(attrs: Record<string, unknown>): 'STARTED' | 'STOPPED' {
    const s = optStr(attrs, 'initialState', 32) ?? networkStateMachine.defaultInitialState;
    if (!networkStateMachine.initialStates.includes(s as never)) {
      throw new InvalidInputError(`initialState ${s} is not one of ${networkStateMachine.initialStates.join(', ')}`, 'initialState');
    }
    return s as 'STARTED' | 'STOPPED';
  }
}
