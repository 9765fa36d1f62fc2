import { RESOURCE_TYPES, type ResourceType } from './shared/resource';
import { descriptorOf } from './shared/resource-types';
import { BY_VALUE_TYPES } from './template/catalog.service';

/**
 * Every operation the model offers, by stable id (`<Type>.<verb>`), with the one service method that runs it: the
 * single source the parity matrix in docs/operations.md must match row for row (test/e2e/parity/00-matrix.spec.ts).
 * Derived from the type descriptors and their state machines, so a new type or action adds an operation here and
 * the matrix test fails until every door's column says how (or why not) it maps it.
 */
export interface ModelOperation {
  /** stable id, e.g. `Machine.start` */
  op: string;
  /** `Service.method` (src/model/**) */
  service: string;
}

/**
 * State-machine actions that are not operations of their own: `edit`/`delete` are update/delete, `use`/`attach` are
 * guards other operations check, `attachVolume`/`detachVolume` are Machine operations below, `capture` is an image
 * create with `captureOf` (DSP0263 2.0.0 §5.14.1.2).
 */
export const NON_OPERATION_ACTIONS: ReadonlySet<string> = new Set(['edit', 'delete', 'use', 'attach', 'attachVolume', 'detachVolume', 'capture']);

const CREATE_SERVICE: Partial<Record<ResourceType, string>> = {
  Machine: 'MachineService.create',
  MachineImage: 'ImageService.create',
  Volume: 'VolumeService.create',
  VolumeImage: 'ImageService.create',
  Credential: 'CatalogService.createCredential',
  Network: 'NetworkService.createNetwork',
  NetworkPort: 'NetworkService.createNetworkPort',
  Address: 'NetworkService.createAddress',
  ForwardingGroup: 'NetworkService.createForwardingGroup',
  System: 'SystemService.create',
};

const ACT_SERVICE: Partial<Record<ResourceType, string>> = {
  Machine: 'MachineService.act',
  Network: 'NetworkService.act',
  NetworkPort: 'NetworkService.act',
  System: 'SystemService.act',
};

function actService(type: ResourceType, action: string): string {
  if (action === 'restore' && type !== 'Machine') return 'ResourceService.restore';
  return ACT_SERVICE[type] ?? 'ResourceService.act';
}

function build(): ModelOperation[] {
  const out: ModelOperation[] = [];
  const add = (op: string, service: string) => out.push({ op, service });
  for (const type of RESOURCE_TYPES) {
    const d = descriptorOf(type);
    if (d.parentType) continue;
    const create = CREATE_SERVICE[type] ?? ((BY_VALUE_TYPES as readonly string[]).includes(type) ? 'CatalogService.create' : undefined);
    if (create) add(`${type}.create`, create);
    add(`${type}.read`, 'ResourceService.get');
    add(`${type}.query`, 'ResourceService.list');
    add(`${type}.update`, 'ResourceService.update');
    add(`${type}.delete`, 'ResourceService.delete');
    for (const a of d.stateMachine?.actions ?? []) if (!NON_OPERATION_ACTIONS.has(a)) add(`${type}.${a}`, actService(type, a));
    if (type === 'Machine') {
      add('Machine.attachVolume', 'MachineService.attachVolume');
      add('Machine.detachVolume', 'MachineService.detachVolume');
    }
  }
  for (const type of RESOURCE_TYPES) {
    if (!descriptorOf(type).parentType) continue;
    add(`${type}.read`, 'ResourceService.getChild');
    add(`${type}.query`, 'ResourceService.listChildren');
  }
  add('Association.query', 'AssociationService.of');
  add('Job.read', 'JobService.get');
  add('Job.query', 'JobService.list');
  add('Job.stop', 'JobService.stop');
  add('Job.delete', 'JobService.delete');
  add('EventLog.read', 'EventService.logOf');
  add('EventLog.query', 'EventService.logs');
  add('Event.query', 'EventService.list');
  add('Event.read', 'EventService.get');
  add('AuditLog.read', 'AuditService.list');
  add('AuditEvent.query', 'AuditService.list');
  add('AuditEvent.read', 'AuditService.get');
  add('Enumeration.open', 'EnumerationService.open');
  add('Enumeration.advance', 'EnumerationService.advance');
  add('Enumeration.release', 'EnumerationService.release');
  add('Session.authenticate', 'IdentityService.authenticate');
  add('Tenant.create', 'IdentityService.createTenant');
  add('User.create', 'IdentityService.createUser');
  add('User.list', 'IdentityService.listUsers');
  add('Certificate.register', 'CertificateService.registerCertificate');
  add('Certificate.list', 'CertificateService.listCertificates');
  add('Certificate.remove', 'CertificateService.removeCertificate');
  return out;
}

/** The model's operations, in matrix order. */
export const MODEL_OPERATIONS: readonly ModelOperation[] = build();
