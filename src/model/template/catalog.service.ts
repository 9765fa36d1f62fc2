import { Injectable } from '@nestjs/common';
import { checkAttrs, checkCommon, type CommonInput } from '../shared/attr-validation';
import { InvalidInputError } from '../shared/model-error';
import { Mutations, type MutationOptions } from '../shared/mutation';
import type { OperationContext } from '../shared/operation-context';
import type { TenantTx } from '../shared/ports';
import type { Ref, Resource, ResourceType } from '../shared/resource';
import type { OperationOutcome } from '../shared/resource.service';
import { optInt, resolveSlot, slotOf, type Slot } from './template-resolution';
import { resolveMachineTemplate } from '../machine/machine.service';
import { resolveVolumeTemplate } from '../volume/volume-template';
import { planSystem } from '../system/system-plan';
import { assertRefsResolve } from '../shared/reference-check';
import { meterConfigOf, resolveMeterTemplate } from '../meter/meter-definition';

/** Types created by POSTing the resource itself, by value (DSP0263 §4.2.1.1; docs/cimi.md §6 step 9). */
export const BY_VALUE_TYPES = [
  'MachineTemplate',
  'MachineConfiguration',
  'CredentialTemplate',
  'VolumeTemplate',
  'VolumeConfiguration',
  'NetworkTemplate',
  'NetworkConfiguration',
  'NetworkPortTemplate',
  'NetworkPortConfiguration',
  'AddressTemplate',
  'ForwardingGroupTemplate',
  'SystemTemplate',
  'MeterTemplate',
  'MeterConfiguration',
] as const satisfies readonly ResourceType[];
export type ByValueType = (typeof BY_VALUE_TYPES)[number];

export interface CredentialCreateInput extends CommonInput {
  credentialTemplate: Slot;
}

/** Templates, configurations and credentials: synchronous creates with a finished Job. */
@Injectable()
export class CatalogService {
  constructor(private readonly mutations: Mutations) {}

  async create(ctx: OperationContext, type: ByValueType, input: CommonInput & { attrs: Record<string, unknown> }, opts: MutationOptions = {}): Promise<OperationOutcome> {
    if (!(BY_VALUE_TYPES as readonly string[]).includes(type)) throw new InvalidInputError(`${type} is not created by value`);
    const common = checkCommon(input);
    const attrs = checkAttrs(type, input.attrs ?? {});
    return this.mutations.run(ctx, `${type}.create`, input, opts, async (tx) => {
      await validateTemplate(tx, type, attrs);
      await assertRefsResolve(tx, attrs);
      const r = this.mutations.newResource(ctx, type, common, attrs);
      await tx.resources.insert(r);
      const ref: Ref = { type, id: r.id };
      const job = this.mutations.newJob(ctx, { action: 'add', target: { type: `${type}Collection`, id: ctx.tenantId }, affected: [ref], done: true });
      await tx.jobs.insert(job);
      return { resource: r, job };
    });
  }

  /** CredentialCreate (docs/cimi.md §2.2): the template by reference or by value; synchronous. */
  async createCredential(ctx: OperationContext, input: CredentialCreateInput, opts: MutationOptions = {}): Promise<OperationOutcome> {
    const common = checkCommon(input);
    return this.mutations.run(ctx, 'Credential.create', input, opts, async (tx) => {
      const r = await this.buildCredential(ctx, tx, { ...input, ...common });
      const job = this.mutations.newJob(ctx, { action: 'add', target: { type: 'CredentialCollection', id: ctx.tenantId }, affected: [{ type: 'Credential', id: r.id }], done: true });
      await tx.jobs.insert(job);
      return { resource: r, job };
    });
  }

  /** Writes a Credential from its template, in the caller's transaction. */
  async buildCredential(ctx: OperationContext, tx: TenantTx, input: CredentialCreateInput): Promise<Resource> {
    const t = await resolveSlot(tx, 'CredentialTemplate', input.credentialTemplate, 'credentialTemplate');
    if (!t) throw new InvalidInputError('credentialTemplate is required', 'credentialTemplate');
    const attrs = checkAttrs('Credential', t.attrs);
    if (attrs.userName === undefined && attrs.key === undefined) throw new InvalidInputError('a credential needs a userName or a key', 'credentialTemplate');
    const r = this.mutations.newResource(ctx, 'Credential', checkCommon(input), attrs);
    await tx.resources.insert(r);
    return r;
  }
}

/** Business checks of a template written by value: its references resolve and its values make sense. */
async function validateTemplate(tx: TenantTx, type: ByValueType, attrs: Record<string, unknown>): Promise<void> {
  switch (type) {
    case 'MachineConfiguration':
      if (optInt(attrs, 'cpu', 1) === undefined || optInt(attrs, 'memory', 1) === undefined) {
        throw new InvalidInputError('a MachineConfiguration needs cpu and memory', 'cpu');
      }
      return;
    case 'VolumeConfiguration':
      if (optInt(attrs, 'capacity', 1) === undefined) throw new InvalidInputError('a VolumeConfiguration needs a capacity', 'capacity');
      return;
    case 'MachineTemplate':
      await resolveMachineTemplate(tx, { value: attrs });
      return;
    case 'VolumeTemplate':
      await resolveVolumeTemplate(tx, { value: attrs });
      return;
    case 'NetworkTemplate':
      await resolveSlot(tx, 'NetworkConfiguration', slotOf(attrs.networkConfig), 'networkConfig');
      return;
    case 'NetworkPortTemplate':
      await resolveSlot(tx, 'NetworkPortConfiguration', slotOf(attrs.networkPortConfig), 'networkPortConfig');
      return;
    case 'SystemTemplate':
      planSystem(attrs);
      return;
    case 'MeterConfiguration':
      meterConfigOf(attrs, 'aspect');
      return;
    case 'MeterTemplate':
      await resolveMeterTemplate(tx, { value: attrs }, { needTarget: false });
      return;
    default:
      return;
  }
}
