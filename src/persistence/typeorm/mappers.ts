import type { Job, JobPayload } from '../../model/job/job';
import type { JobState } from '../../model/job/job-state';
import type { Principal, Role } from '../../model/shared/operation-context';
import type { IdempotencyRecord, TenantRecord, UserRecord } from '../../model/shared/ports';
import type { Ref, Resource, ResourceType } from '../../model/shared/resource';
import { IdempotencyRecordRow, JobRecord, ResourceRecord, TenantRow, UserRow } from './records';

/**
 * Record <-> model mapping. Model objects never hold a TypeORM record (nor share nested objects with one):
 * JSON columns are parsed into fresh objects and times become Dates.
 */

const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);
const nul = <T>(v: T | undefined): T | null => (v === undefined ? null : v);
const parse = <T>(json: string | null | undefined, fallback: T): T =>
  json ? (JSON.parse(json) as T) : fallback;

export function toResourceRecord(r: Resource): ResourceRecord {
  const rec = new ResourceRecord();
  rec.id = r.id;
  rec.tenantId = r.tenantId;
  rec.type = r.type;
  rec.parentId = nul(r.parentId);
  rec.name = nul(r.name);
  rec.description = nul(r.description);
  rec.state = nul(r.state);
  rec.createdMs = r.created.getTime();
  rec.updatedMs = r.updated.getTime();
  rec.stateChangedMs = r.stateChanged ? r.stateChanged.getTime() : null;
  rec.version = r.version;
  rec.properties = JSON.stringify(r.properties ?? {});
  rec.attrs = JSON.stringify(r.attrs ?? {});
  return rec;
}

export function fromResourceRecord(rec: ResourceRecord): Resource {
  return {
    id: rec.id,
    tenantId: rec.tenantId,
    type: rec.type as ResourceType,
    parentId: opt(rec.parentId),
    name: opt(rec.name),
    description: opt(rec.description),
    created: new Date(rec.createdMs),
    updated: new Date(rec.updatedMs),
    properties: parse<Record<string, string>>(rec.properties, {}),
    state: opt(rec.state),
    ...(rec.stateChangedMs === null || rec.stateChangedMs === undefined ? {} : { stateChanged: new Date(rec.stateChangedMs) }),
    version: rec.version,
    attrs: parse<Record<string, unknown>>(rec.attrs, {}),
  };
}

/** the resource a job holds (what `activeFor` looks up): the target, unless the target is a collection */
export function jobResourceId(target: Job['targetResource']): string | null {
  return target.type.endsWith('Collection') ? null : target.id;
}

export function toJobRecord(j: Job): JobRecord {
  const rec = new JobRecord();
  rec.id = j.id;
  rec.tenantId = j.tenantId;
  rec.name = nul(j.name);
  rec.description = nul(j.description);
  rec.properties = JSON.stringify(j.properties ?? {});
  rec.version = j.version;
  rec.state = j.state;
  rec.action = j.action;
  rec.targetType = j.targetResource.type;
  rec.targetId = j.targetResource.id;
  rec.affected = JSON.stringify(j.affectedResources ?? []);
  rec.returnCode = nul(j.returnCode);
  rec.progress = j.progress;
  rec.statusMessage = nul(j.statusMessage);
  rec.statusChangedMs = j.timeOfStatusChange.getTime();
  rec.createdMs = j.created.getTime();
  rec.updatedMs = j.updated.getTime();
  rec.parentJobId = nul(j.parentJobId);
  rec.correlationId = j.correlationId;
  rec.initiator = JSON.stringify(j.initiator);
  rec.payload = JSON.stringify(j.payload);
  rec.pendingChildren = j.pendingChildren;
  rec.attempts = j.attempts;
  rec.leaseOwner = nul(j.leaseOwner);
  rec.leaseExpiresMs = j.leaseExpires ? j.leaseExpires.getTime() : null;
  rec.resourceId = jobResourceId(j.targetResource);
  return rec;
}

export function fromJobRecord(rec: JobRecord): Job {
  return {
    id: rec.id,
    tenantId: rec.tenantId,
    name: opt(rec.name),
    description: opt(rec.description),
    created: new Date(rec.createdMs),
    updated: new Date(rec.updatedMs),
    properties: parse<Record<string, string>>(rec.properties, {}),
    version: rec.version,
    state: rec.state as JobState,
    action: rec.action,
    targetResource: { type: rec.targetType, id: rec.targetId } as Job['targetResource'],
    affectedResources: parse<Ref[]>(rec.affected, []),
    returnCode: opt(rec.returnCode),
    progress: rec.progress,
    statusMessage: opt(rec.statusMessage),
    timeOfStatusChange: new Date(rec.statusChangedMs),
    parentJobId: opt(rec.parentJobId),
    correlationId: rec.correlationId,
    initiator: parse<Principal>(rec.initiator, { userId: '', userName: '' }),
    payload: parse<JobPayload>(rec.payload, { steps: [], cursor: 0, finals: [] }),
    pendingChildren: rec.pendingChildren,
    attempts: rec.attempts,
    leaseOwner: opt(rec.leaseOwner),
    leaseExpires:
      rec.leaseExpiresMs === null || rec.leaseExpiresMs === undefined
        ? undefined
        : new Date(rec.leaseExpiresMs),
  };
}

export function toIdempotencyRow(tenantId: string, r: IdempotencyRecord): IdempotencyRecordRow {
  const row = new IdempotencyRecordRow();
  row.tenantId = tenantId;
  row.principalId = r.principalId;
  row.idemKey = r.key;
  row.operation = r.operation;
  row.requestHash = r.requestHash;
  row.resourceType = nul(r.resourceType);
  row.resourceId = nul(r.resourceId);
  row.jobId = r.jobId;
  row.createdMs = r.created.getTime();
  return row;
}

export function fromIdempotencyRow(row: IdempotencyRecordRow): IdempotencyRecord {
  return {
    key: row.idemKey,
    principalId: row.principalId,
    operation: row.operation,
    requestHash: row.requestHash,
    resourceType: opt(row.resourceType) as ResourceType | undefined,
    resourceId: opt(row.resourceId),
    jobId: row.jobId,
    created: new Date(row.createdMs),
  };
}

export function toTenantRow(t: TenantRecord): TenantRow {
  const row = new TenantRow();
  row.id = t.id;
  row.name = t.name;
  row.createdMs = t.created.getTime();
  row.disabled = t.disabled ?? false;
  return row;
}

export function fromTenantRow(row: TenantRow): TenantRecord {
  return { id: row.id, name: row.name, created: new Date(row.createdMs), disabled: Boolean(row.disabled) };
}

export function toUserRow(u: UserRecord): UserRow {
  const row = new UserRow();
  row.id = u.id;
  row.tenantId = u.tenantId;
  row.userName = u.userName;
  row.passwordHash = u.passwordHash;
  row.sealedPassword = u.sealedPassword ?? null;
  row.roles = u.roles.join(',');
  row.createdMs = u.created.getTime();
  row.disabled = u.disabled ?? false;
  return row;
}

export function fromUserRow(row: UserRow): UserRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    userName: row.userName,
    passwordHash: row.passwordHash,
    sealedPassword: row.sealedPassword ?? undefined,
    roles: row.roles
      .split(',')
      .map((r) => r.trim())
      .filter((r): r is Role => r.length > 0),
    created: new Date(row.createdMs),
    disabled: Boolean(row.disabled),
  };
}
