import type { Job } from '../job/job';
import type { OperationContext, Protocol } from '../shared/operation-context';
import type { FilterKind } from '../shared/query';

/**
 * The audit record: a DMTF CADF event (DSP0262 1.0; field names as in OpenStack pycadf). One per request through
 * any door, plus one when an asynchronous Job ends. Secrets never enter a record: the builders below take only
 * names, ids, addresses and codes.
 */
export const CADF_EVENT_TYPE_URI = 'http://schemas.dmtf.org/cloud/audit/1.0/event';
export const CIMI_TYPE_BASE = 'http://schemas.dmtf.org/cimi/2/';
/** the audit trail is one log, named `audit` in every door (REST `eventLogs/audit`, WS-Man `CIMIGW:audit`) */
export const AUDIT_LOG_ID = 'audit';
export const OBSERVER = { id: 'cimi-gateway', typeURI: 'service/compute', name: 'cimi-gateway' } as const;

/** The attributes an audit query may filter and order on (AuditLog.list; REST maps its `$filter` names onto them). */
export const AUDIT_FILTER_ATTRS = {
  id: 'string',
  eventTime: 'dateTime',
  eventType: 'string',
  action: 'string',
  outcome: 'string',
  initiator: 'string',
  initiatorId: 'string',
  protocol: 'string',
  target: 'string',
  targetType: 'string',
  reason: 'string',
  tenant: 'string',
  correlationId: 'string',
  jobId: 'string',
} as const satisfies Record<string, FilterKind>;

export type CadfOutcome = 'success' | 'failure' | 'pending';
/** activity: an operation; control: a policy decision (authorization refused); monitor: not used by requests */
export type CadfEventType = 'activity' | 'monitor' | 'control';

export interface CadfInitiator {
  /** the user id, or `unknown` when authentication failed */
  id: string;
  /** a user, or the provider when the backend changed a resource (reconciliation) */
  typeURI: 'service/security/account/user' | 'service/compute/provider';
  name?: string;
  /** the tenant (pycadf: project_id) */
  project_id?: string;
  host: { address?: string; agent: Protocol };
  credential?: { type: string };
}

export interface AuditEvent {
  id: string;
  typeURI: typeof CADF_EVENT_TYPE_URI;
  eventType: CadfEventType;
  eventTime: string;
  action: string;
  outcome: CadfOutcome;
  initiator: CadfInitiator;
  target: { id: string; typeURI: string; name?: string };
  observer: typeof OBSERVER;
  /** reasonType `cimi-gateway` with the model's stable code (`OK`, `MACHINE.INVALID_STATE`, …), the same whatever the door */
  reason: { reasonType: string; reasonCode: string };
  correlationId: string;
  /** the tenant whose resource this is about (absent when unknown, e.g. a refused login) */
  tenantId?: string;
  /** the Job the request made, or the Job whose completion this record reports */
  jobId?: string;
  /** the request record a completion record follows up */
  requestEventId?: string;
  /** CADF attachments: readable details (e.g. why the backend changed a resource's state) */
  attachments?: { name: string; typeURI: string; content: string }[];
}

/**
 * CADF action taxonomy (DSP0262 Annex A) for every model verb: the operation names of `Mutations.run` are
 * `<Type>.<verb>`. Verbs the taxonomy lacks are qualified (`update/pause`) as the taxonomy allows.
 */
const ACTIONS: Record<string, string> = {
  create: 'create',
  read: 'read',
  list: 'read/list',
  update: 'update',
  delete: 'delete',
  start: 'start',
  stop: 'stop',
  restart: 'update/restart',
  pause: 'update/pause',
  suspend: 'update/suspend',
  restore: 'restore',
  capture: 'capture',
  attachVolume: 'update/attach',
  detachVolume: 'update/detach',
  authenticate: 'authenticate',
  // a state the backend reports, taken over by reconciliation
  observe: 'monitor',
};

export function cadfAction(verb: string): string {
  return ACTIONS[verb] ?? `update/${verb}`;
}

/** `Machine.start` -> `start` */
export function operationVerb(operation: string): string {
  return operation.slice(operation.indexOf('.') + 1);
}

export function cimiTypeUri(type: string): string {
  return `${CIMI_TYPE_BASE}${type}`;
}

export function initiatorOf(ctx: OperationContext): CadfInitiator {
  return {
    id: ctx.principal.userId,
    typeURI: 'service/security/account/user',
    name: ctx.principal.userName,
    project_id: ctx.tenantId,
    host: { address: ctx.clientAddress, agent: ctx.protocol },
    ...(ctx.credentialType ? { credential: { type: ctx.credentialType } } : {}),
  };
}

export function jobCompletionEvent(id: string, job: Job, now: Date, protocol: Protocol): AuditEvent {
  const ok = job.state === 'SUCCESS';
  return {
    id,
    typeURI: CADF_EVENT_TYPE_URI,
    eventType: 'activity',
    eventTime: now.toISOString(),
    action: cadfAction(job.action === 'add' ? 'create' : job.action === 'edit' ? 'update' : job.action),
    outcome: ok ? 'success' : 'failure',
    initiator: { id: job.initiator.userId, typeURI: 'service/security/account/user', name: job.initiator.userName, project_id: job.tenantId, host: { agent: protocol } },
    target: { id: job.targetResource.id, typeURI: cimiTypeUri(job.targetResource.type) },
    observer: OBSERVER,
    reason: { reasonType: 'cimi-gateway', reasonCode: ok ? 'OK' : `JOB.${job.state}` },
    correlationId: job.correlationId,
    tenantId: job.tenantId,
    jobId: job.id,
  };
}
