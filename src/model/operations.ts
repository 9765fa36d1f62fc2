import type { MachineService } from './machine/machine.service';
import type { NetworkService } from './network/network.service';
import type { MutationOptions } from './shared/mutation';
import type { OperationContext } from './shared/operation-context';
import { RESOURCE_TYPES, type Ref, type ResourceType } from './shared/resource';
import { descriptorOf } from './shared/resource-types';
import { actionRole } from './shared/action-roles';
import type { OperationOutcome, ResourceService } from './shared/resource.service';
import type { SystemService } from './system/system.service';
import { BY_VALUE_TYPES, type ByValueType, type CatalogService } from './template/catalog.service';
import type { VolumeService } from './volume/volume.service';
import type { ImageService } from './image/image.service';

/**
 * The operation catalogue: every operation the model offers, by stable id (`<Type>.<verb>`), with the one service
 * method that runs it, whether it makes a Job and the verb its audit record carries. Derived from the type
 * descriptors and their state machines, so a new type or action adds its operations here. The doors bind their
 * requests to these ids (REST routes, SOAP operation names, WS-Man actions and RequestedState values) and run them
 * through `ModelFacade` (model.facade.ts); the parity matrix in docs/operations.md must match it row for row
 * (test/e2e/parity/00-matrix.spec.ts).
 */
export interface ModelOperation {
  /** stable id, e.g. `Machine.start` */
  op: string;
  /** `Service.method` (src/model/**) */
  service: string;
  /** the resource or record type the operation is about (`Machine`, `Job`, `Tenant`, …) */
  type: string;
  kind: OperationKind;
  /** a state-machine action's name (`start`), for kind `action` */
  action?: string;
  /** it records its change as a Job (every change to a resource does: DSP0263 2.0.0 §5.17.1) */
  job: boolean;
  /** the CADF action of its audit record (read, list, create, update, delete, or the model action) */
  audit: string;
  /** the CADF target type of its audit record: the type, `<type>Collection` for a query (audit-scope.ts) */
  auditType: string;
}

export type OperationKind = 'create' | 'read' | 'query' | 'update' | 'delete' | 'action' | 'attach' | 'detach' | 'other';

export { actionRole, NON_OPERATION_ACTIONS, type ActionRole } from './shared/action-roles';

/** The services a catalogue runner calls; ModelFacade passes its own. */
export interface CatalogueServices {
  resources: ResourceService;
  machines: MachineService;
  volumes: VolumeService;
  images: ImageService;
  networks: NetworkService;
  systems: SystemService;
  catalog: CatalogService;
}

/** each creatable type's create input, as its service method declares it (type-checked against the method) */
export type CreateInputs = {
  Machine: Parameters<MachineService['create']>[1];
  Volume: Parameters<VolumeService['create']>[1];
  MachineImage: Parameters<ImageService['create']>[2];
  VolumeImage: Parameters<ImageService['create']>[2];
  Credential: Parameters<CatalogService['createCredential']>[1];
  Network: Parameters<NetworkService['createNetwork']>[1];
  NetworkPort: Parameters<NetworkService['createNetworkPort']>[1];
  Address: Parameters<NetworkService['createAddress']>[1];
  ForwardingGroup: Parameters<NetworkService['createForwardingGroup']>[1];
  System: Parameters<SystemService['create']>[1];
} & { [T in ByValueType]: Parameters<CatalogService['create']>[2] };

export type CreatableType = keyof CreateInputs;

type Runner<I> = (s: CatalogueServices, ctx: OperationContext, input: I, opts: MutationOptions) => Promise<OperationOutcome>;

interface CreateRow<T extends CreatableType> {
  service: string;
  run: Runner<CreateInputs[T]>;
}

const byValue = <T extends ByValueType>(type: T): CreateRow<T> => ({ service: 'CatalogService.create', run: (s, ctx, i, o) => s.catalog.create(ctx, type, i, o) });

/** The create of each creatable type: one row, its service method named once and called once. */
export const CREATES: { readonly [T in CreatableType]: CreateRow<T> } = {
  ...(Object.fromEntries(BY_VALUE_TYPES.map((t) => [t, byValue(t)])) as { [T in ByValueType]: CreateRow<T> }),
  Machine: { service: 'MachineService.create', run: (s, ctx, i, o) => s.machines.create(ctx, i, o) },
  Volume: { service: 'VolumeService.create', run: (s, ctx, i, o) => s.volumes.create(ctx, i, o) },
  MachineImage: { service: 'ImageService.create', run: (s, ctx, i, o) => s.images.create(ctx, 'MachineImage', i, o) },
  VolumeImage: { service: 'ImageService.create', run: (s, ctx, i, o) => s.images.create(ctx, 'VolumeImage', i, o) },
  Credential: { service: 'CatalogService.createCredential', run: (s, ctx, i, o) => s.catalog.createCredential(ctx, i, o) },
  Network: { service: 'NetworkService.createNetwork', run: (s, ctx, i, o) => s.networks.createNetwork(ctx, i, o) },
  NetworkPort: { service: 'NetworkService.createNetworkPort', run: (s, ctx, i, o) => s.networks.createNetworkPort(ctx, i, o) },
  Address: { service: 'NetworkService.createAddress', run: (s, ctx, i, o) => s.networks.createAddress(ctx, i, o) },
  ForwardingGroup: { service: 'NetworkService.createForwardingGroup', run: (s, ctx, i, o) => s.networks.createForwardingGroup(ctx, i, o) },
  System: { service: 'SystemService.create', run: (s, ctx, i, o) => s.systems.create(ctx, i, o) },
};

/** whether `<type>.create` is an operation of the catalogue */
export function isCreatable(type: string): type is CreatableType {
  return Object.prototype.hasOwnProperty.call(CREATES, type);
}

/** The parameters an Action carries (DSP0263 2.0.0 §4.2.1.4: `force`; restore's `image`). */
export interface ActionParams {
  force?: boolean;
  image?: Ref;
}

export interface ActInput {
  id: string;
  params: ActionParams;
}

interface ActRow {
  service: string;
  run: Runner<ActInput>;
}

/** The service method behind an action of a type (the state machine decides whether it may run now). */
function actRow(type: ResourceType, action: string): ActRow {
  if (type === 'Machine') return { service: 'MachineService.act', run: (s, ctx, i, o) => s.machines.act(ctx, i.id, action, i.params, o) };
  if (action === 'restore') return { service: 'ResourceService.restore', run: (s, ctx, i, o) => s.resources.restore(ctx, type as 'Volume', i.id, i.params.image, o) };
  if (type === 'System') return { service: 'SystemService.act', run: (s, ctx, i, o) => s.systems.act(ctx, i.id, action, i.params.force === undefined ? {} : { force: i.params.force }, o) };
  if (type === 'Network' || type === 'NetworkPort') return { service: 'NetworkService.act', run: (s, ctx, i, o) => s.networks.act(ctx, type, i.id, action, o) };
  return { service: 'ResourceService.act', run: (s, ctx, i, o) => s.resources.act(ctx, type, i.id, action, { ...i.params }, o) };
}

/** the action operations of a type, in its state machine's order */
export function actionsOf(type: ResourceType): string[] {
  return (descriptorOf(type).stateMachine?.actions ?? []).filter((a) => actionRole(a) === 'operation');
}

const ACTS = new Map<string, ActRow>();
for (const type of RESOURCE_TYPES) for (const a of actionsOf(type)) ACTS.set(`${type}.${a}`, actRow(type, a));

/** the runner of `<type>.<action>`, or undefined when the type has no such action operation */
export function actRunner(type: ResourceType, action: string): Runner<ActInput> | undefined {
  return ACTS.get(`${type}.${action}`)?.run;
}

const AUDIT_NAMES: Readonly<Record<string, string>> = { AuditLog: 'EventLog', AuditEvent: 'Event' };

function build(): ModelOperation[] {
  const out: ModelOperation[] = [];
  const add = (op: string, service: string, kind: OperationKind, extra: Partial<ModelOperation> = {}) => {
    const [type, verb] = op.split('.');
    const job = ['create', 'update', 'delete', 'action', 'attach', 'detach'].includes(kind);
    const audit = kind === 'query' ? 'list' : kind === 'read' ? 'read' : kind === 'action' ? extra.action! : verb;
    // the audit trail is a CIMI EventLog and its records Events, as every door names them (DSP0263 2.0.0 §5.17.10)
    const named = AUDIT_NAMES[type] ?? type;
    out.push({ op, service, type, kind, job, audit, auditType: kind === 'query' ? `${named}Collection` : named, ...extra });
  };
  for (const type of RESOURCE_TYPES) {
    const d = descriptorOf(type);
    if (d.parentType) continue;
    const create = (CREATES as Partial<Record<string, { service: string }>>)[type];
    if (create) add(`${type}.create`, create.service, 'create');
    add(`${type}.read`, 'ResourceService.get', 'read');
    add(`${type}.query`, 'ResourceService.list', 'query');
    add(`${type}.update`, 'ResourceService.update', 'update');
    add(`${type}.delete`, 'ResourceService.delete', 'delete');
    for (const a of actionsOf(type)) add(`${type}.${a}`, ACTS.get(`${type}.${a}`)!.service, 'action', { action: a });
    // OVF (DSP0263 2.0.0 §5.13.1, §5.13.4, §5.13.5): import makes a SystemTemplate and its templates; export is a read
    if (type === 'System') {
      add('System.import', 'OvfService.importSystem', 'other', { audit: 'import', auditType: 'SystemCollection', job: true });
      add('System.export', 'OvfService.export', 'other', { audit: 'export' });
    }
    if (type === 'SystemTemplate') {
      add('SystemTemplate.import', 'OvfService.importTemplate', 'other', { audit: 'import', auditType: 'SystemTemplateCollection', job: true });
      add('SystemTemplate.export', 'OvfService.export', 'other', { audit: 'export' });
    }
    if (type === 'Machine') {
      add('Machine.attachVolume', 'MachineService.attachVolume', 'attach');
      add('Machine.detachVolume', 'MachineService.detachVolume', 'detach');
    }
  }
  for (const type of RESOURCE_TYPES) {
    if (!descriptorOf(type).parentType) continue;
    add(`${type}.read`, 'ResourceService.getChild', 'read');
    add(`${type}.query`, 'ResourceService.listChildren', 'query');
  }
  add('Association.query', 'AssociationService.of', 'query');
  add('Job.read', 'JobService.get', 'read');
  add('Job.query', 'JobService.list', 'query');
  add('Job.stop', 'JobService.stop', 'other', { audit: 'stop' });
  add('Job.delete', 'JobService.delete', 'other', { audit: 'delete' });
  add('EventLog.read', 'EventService.logOf', 'read');
  add('EventLog.query', 'EventService.logs', 'query');
  add('Event.query', 'EventService.list', 'query');
  add('Event.read', 'EventService.get', 'read');
  add('AuditLog.read', 'AuditService.list', 'read');
  add('AuditEvent.query', 'AuditService.list', 'query');
  add('AuditEvent.read', 'AuditService.get', 'read');
  add('Enumeration.open', 'EnumerationService.open', 'other', { audit: 'list' });
  add('Enumeration.advance', 'EnumerationService.advance', 'other', { audit: 'list' });
  add('Enumeration.release', 'EnumerationService.release', 'other', { audit: 'list' });
  add('Session.authenticate', 'IdentityService.authenticate', 'other', { audit: 'authenticate' });
  add('Tenant.create', 'IdentityService.createTenant', 'other', { audit: 'create' });
  add('Tenant.list', 'IdentityService.listTenants', 'query');
  add('Tenant.disable', 'IdentityService.setTenantDisabled', 'other', { audit: 'disable' });
  add('Tenant.enable', 'IdentityService.setTenantDisabled', 'other', { audit: 'enable' });
  add('Tenant.delete', 'IdentityService.deleteTenant', 'other', { audit: 'delete' });
  add('User.create', 'IdentityService.createUser', 'other', { audit: 'create' });
  add('User.list', 'IdentityService.listUsers', 'query');
  add('User.setRoles', 'IdentityService.setRoles', 'other', { audit: 'update' });
  add('User.setPassword', 'IdentityService.setPassword', 'other', { audit: 'update' });
  add('User.resetPassword', 'IdentityService.resetPassword', 'other', { audit: 'update' });
  add('User.disable', 'IdentityService.setUserDisabled', 'other', { audit: 'disable' });
  add('User.enable', 'IdentityService.setUserDisabled', 'other', { audit: 'enable' });
  add('User.delete', 'IdentityService.deleteUser', 'other', { audit: 'delete' });
  add('Quota.read', 'QuotaService.get', 'read');
  add('Quota.set', 'QuotaService.set', 'other', { audit: 'update' });
  add('Meter.read', 'MeterService.get', 'read');
  add('Meter.query', 'MeterService.list', 'query');
  // DSP0263 2.0.0 §5.17.3.2: synchronous state changes of a gateway record (meter-state.ts) with a finished Job
  add('Meter.start', 'MeterService.act', 'other', { audit: 'start', job: true });
  add('Meter.stop', 'MeterService.act', 'other', { audit: 'stop', job: true });
  add('MeterSample.query', 'MeterService.samples', 'query');
  // DSP0263 2.0.0 §5.17.4.1 (from a MeterTemplate) and §5.17.3.2 delete: synchronous, a finished Job (meter.service.ts)
  add('Meter.create', 'MeterService.create', 'other', { audit: 'create', job: true });
  add('Meter.delete', 'MeterService.delete', 'other', { audit: 'delete', job: true });
  add('Subscription.create', 'SubscriptionService.create', 'other', { audit: 'create' });
  add('Subscription.renew', 'SubscriptionService.renew', 'other', { audit: 'update' });
  add('Subscription.status', 'SubscriptionService.status', 'read');
  add('Subscription.query', 'SubscriptionService.list', 'query');
  add('Subscription.delete', 'SubscriptionService.delete', 'other', { audit: 'delete' });
  add('Subscription.pull', 'SubscriptionService.pull', 'read');
  add('Certificate.register', 'CertificateService.registerCertificate', 'other', { audit: 'create' });
  add('Certificate.list', 'CertificateService.listCertificates', 'query');
  add('Certificate.remove', 'CertificateService.removeCertificate', 'other', { audit: 'delete' });
  return out;
}

/** The model's operations, in matrix order. */
export const MODEL_OPERATIONS: readonly ModelOperation[] = build();

const BY_ID = new Map(MODEL_OPERATIONS.map((o) => [o.op, o]));

/** the catalogue entry of an operation id, or undefined */
export function operation(id: string): ModelOperation | undefined {
  return BY_ID.get(id);
}

/** The audit intent of a request bound to operation `id` about the record `targetId` (AuditScope.intent's arguments). */
export function intentOf(id: string, targetId = ''): [string, { type: string; id: string }] {
  const o = requireOperation(id);
  return [o.audit, { type: o.auditType, id: targetId }];
}

/** the catalogue entry of an operation id that a door binds to: a binding to an id that does not exist fails at load */
export function requireOperation(id: string): ModelOperation {
  const o = BY_ID.get(id);
  if (!o) throw new Error(`no model operation ${id} (src/model/operations.ts)`);
  return o;
}

const BY_INTENT = new Map<string, string>();
for (const o of MODEL_OPERATIONS) if (!BY_INTENT.has(`${o.audit} ${o.auditType}`)) BY_INTENT.set(`${o.audit} ${o.auditType}`, o.op);

/** the catalogue id of an audit intent (intentOf's inverse: `read` + `Machine` -> `Machine.read`), or undefined */
export function operationOfIntent(verb: string, auditType: string): string | undefined {
  return BY_INTENT.get(`${verb} ${auditType}`);
}
