import { Inject, Injectable } from '@nestjs/common';
import { isDeepStrictEqual } from 'node:util';
import type { Job } from '../job/job';
import { checkId, isValidId } from './ids';
import { InvalidInputError, InvalidStateError, NotFoundError, PreconditionFailedError } from './model-error';
import type { OperationContext } from './operation-context';
import { UNIT_OF_WORK, type TenantTx, type UnitOfWork } from './ports';
import type { CollectionQuery, Page } from './query';
import type { Ref, Resource, ResourceType } from './resource';
import { descriptorOf } from './resource-types';
import { Mutations, type MutationOptions } from './mutation';
import { checkDeletable, requireAllowed } from './guards';
import { startSystemDelete } from '../system/system-delete';
import { checkAttrs, checkCommon, type CommonInput } from './attr-validation';
import { assertRefsResolve } from './reference-check';
import { meterConfigOf, resolveMeterTemplate } from '../meter/meter-definition';

export interface UpdateInput extends CommonInput {
  /** writable type attributes; `null` removes one */
  attrs?: Record<string, unknown>;
}

export interface OperationOutcome {
  resource?: Resource;
  job: Job;
  completed: boolean;
  replayed?: boolean;
}

/**
 * Operations every resource type shares: read, query, update, delete, and state-machine actions. Family
 * services (machines, volumes, networks, systems, …) add the creates and the actions with extra rules.
 */
@Injectable()
export class ResourceService {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork,
    private readonly mutations: Mutations,
  ) {}

  async get(ctx: OperationContext, type: ResourceType, id: string): Promise<Resource> {
    checkId(type, id);
    const r = await this.uow.read(ctx.tenantId, (tx) => tx.resources.get(type, id));
    if (!r) throw new NotFoundError(type, id);
    return r;
  }

  async list(ctx: OperationContext, type: ResourceType, query: CollectionQuery = {}): Promise<Page<Resource>> {
    if (descriptorOf(type).parentType) throw new Error(`${type} is listed through its parent`);
    return this.uow.read(ctx.tenantId, (tx) => tx.resources.list(type, query));
  }

  /** sub-resources of a parent (Machine disks, volumes, interfaces; System components) */
  async listChildren(ctx: OperationContext, parentType: ResourceType, parentId: string, type: ResourceType, query: CollectionQuery = {}): Promise<Page<Resource>> {
    await this.get(ctx, parentType, parentId);
    return this.uow.read(ctx.tenantId, (tx) => tx.resources.list(type, query, parentId));
  }

  async getChild(ctx: OperationContext, parentType: ResourceType, parentId: string, type: ResourceType, id: string): Promise<Resource> {
    const r = await this.get(ctx, type, id);
    if (r.parentId !== parentId) throw new NotFoundError(type, id);
    await this.get(ctx, parentType, parentId);
    return r;
  }

  /**
   * Update (DSP0263 2.0.0 §4.2.1.3): common attributes and the type's writable attributes; read-only ones are
   * ignored. Synchronous: the Job is written finished in the same transaction.
   */
  async update(ctx: OperationContext, type: ResourceType, id: string, input: UpdateInput, opts: MutationOptions = {}): Promise<OperationOutcome> {
    checkId(type, id);
    const common = checkCommon(input);
    const attrs = input.attrs ? checkAttrs(type, input.attrs, { allowNull: true }) : {};
    return this.mutations.run(ctx, `${type}.update`, { id, input }, opts, async (tx) => {
      const r = await this.load(tx, type, id, opts);
      const sm = descriptorOf(type).stateMachine;
      if (sm) sm.require('edit', r.state, id);
      await assertRefsResolve(tx, attrs);
      const before = { name: r.name, description: r.description, properties: r.properties, attrs: { ...r.attrs } };
      if ('name' in input) r.name = common.name;
      if ('description' in input) r.description = common.description;
      if ('properties' in input) r.properties = common.properties ?? {};
      for (const [k, v] of Object.entries(attrs)) {
        if (v === null) delete (r.attrs as Record<string, unknown>)[k];
        else (r.attrs as Record<string, unknown>)[k] = v;
      }
      // an update that changes nothing leaves the resource as it was: same version (every client's ETag stays
      // valid, DSP0263 2.0.0 §4.1.7.2) and `updated`, nothing written; the same rule for every door
      // a Meter definition stays one the provider can honour (meter-definition.ts), as at its create
      if (type === 'MeterConfiguration') meterConfigOf(r.attrs as Record<string, unknown>, 'aspect');
      if (type === 'MeterTemplate') await resolveMeterTemplate(tx, { value: r.attrs as Record<string, unknown> }, { needTarget: false });
      const after = { name: r.name, description: r.description, properties: r.properties, attrs: r.attrs };
      if (!isDeepStrictEqual(normalized(before), normalized(after))) {
        r.updated = this.mutations.now();
        r.version += 1;
        await tx.resources.update(r);
      }
      const job = this.mutations.newJob(ctx, { action: 'edit', target: { type, id }, affected: [{ type, id }], done: true });
      await tx.jobs.insert(job);
      return { resource: r, job };
    });
  }

  /** Delete: through the provider (DELETING, then gone) for provisioned types, at once for the others. */
  async delete(ctx: OperationContext, type: ResourceType, id: string, opts: MutationOptions = {}): Promise<OperationOutcome> {
    checkId(type, id);
    return this.mutations.run(ctx, `${type}.delete`, { id }, opts, async (tx) => {
      const r = await this.load(tx, type, id, opts);
      await checkDeletable(tx, r);
      if (!descriptorOf(type).stateMachine) {
        await tx.resources.remove(type, id);
        const job = this.mutations.newJob(ctx, { action: 'delete', target: { type, id }, affected: [{ type, id }], done: true });
        await tx.jobs.insert(job);
        return { job };
      }
      // a System takes its components with it: system-owned (system/system-delete.ts)
      if (type === 'System') return startSystemDelete(ctx, tx, this.mutations, r);
      return this.startTransition(ctx, tx, r, 'delete', {});
    });
  }

  /** A state-machine action (start, stop, …) as a provider job. */
  async act(ctx: OperationContext, type: ResourceType, id: string, action: string, params: Record<string, unknown> = {}, opts: MutationOptions = {}): Promise<OperationOutcome> {
    checkId(type, id);
    return this.mutations.run(ctx, `${type}.${action}`, { id, params }, opts, async (tx) => {
      const r = await this.load(tx, type, id, opts);
      return this.startTransition(ctx, tx, r, action, params);
    });
  }

  /**
   * restore (DSP0263 2.0.0 §5.14.1.2 Machine, §5.15 Volume): rebuilds the resource from one of its images, which
   * must exist and be AVAILABLE; a provider job through the state machine's `restore` rule.
   */
  async restore(ctx: OperationContext, type: 'Machine' | 'Volume', id: string, image: Ref | undefined, opts: MutationOptions = {}): Promise<OperationOutcome> {
    const imageType: ResourceType = type === 'Machine' ? 'MachineImage' : 'VolumeImage';
    if (!image) throw new InvalidInputError('restore needs an image', 'image');
    if (image.type !== imageType) throw new InvalidInputError(`image must refer to a ${imageType}`, 'image', 'TEMPLATE.BAD_REFERENCE');
    checkId(type, id);
    return this.mutations.run(ctx, `${type}.restore`, { id, params: { image } }, opts, async (tx) => {
      const img = isValidId(image.id) ? await tx.resources.get(imageType, image.id) : undefined;
      if (!img) throw new InvalidInputError(`image refers to a ${imageType} that does not exist`, 'image', 'TEMPLATE.BAD_REFERENCE');
      if (img.state !== 'AVAILABLE') throw new InvalidStateError(imageType, img.id, 'restore', img.state);
      const r = await this.load(tx, type, id, opts);
      return this.startTransition(ctx, tx, r, 'restore', { imageId: img.id, imageLocation: (img.attrs as { imageLocation?: string }).imageLocation });
    });
  }

  /** loads for a change: exists in this tenant, and at the version the client expects */
  async load(tx: TenantTx, type: ResourceType, id: string, opts: MutationOptions = {}): Promise<Resource> {
    const r = await tx.resources.get(type, id);
    if (!r) throw new NotFoundError(type, id);
    if (opts.expectedVersion !== undefined && opts.expectedVersion !== r.version) {
      throw new PreconditionFailedError(type, id, opts.expectedVersion, r.version);
    }
    return r;
  }

  /**
   * Moves the resource into the first transient state of the rule and queues the Job, in the caller's
   * transaction. One job per resource at a time: an action while a job runs is an invalid-state error.
   */
  async startTransition(ctx: OperationContext, tx: TenantTx, r: Resource, action: string, params: Record<string, unknown>, extra: { parentJobId?: string } = {}) {
    const rule = await requireAllowed(tx, r, action);
    const ref = { type: r.type, id: r.id };
    const previous = r.state;
    const job = this.mutations.newJob(ctx, {
      action,
      target: ref,
      affected: [ref],
      parentJobId: extra.parentJobId,
      steps: rule.phases.map((p) => ({ ref, state: p.state, step: p.step, params })),
      finals: [{ ref, to: rule.to, previous }],
    });
    if (rule.phases.length > 0) {
      r.state = rule.phases[0].state;
      r.version += 1;
      await tx.resources.update(r);
    }
    await tx.jobs.insert(job);
    return { resource: r, job };
  }
}

/** a value as it is stored (JSON): an absent attribute and an undefined one are the same */
function normalized(v: unknown): unknown {
  return JSON.parse(JSON.stringify(v ?? null)) as unknown;
}
