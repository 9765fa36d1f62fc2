import { AUDIT_FILTER_ATTRS, AUDIT_LOG_ID, type AuditEvent, type CadfOutcome } from '../../model/audit/cadf';
import { eventLogName, type ResourceEvent } from '../../model/event/resource-event';
import { InvalidInputError } from '../../model/shared/model-error';
import type { FilterExpr } from '../../model/shared/query';
import { CIMI_NS } from './cimi-types';
import type { CimiDoc } from './cimi.mapper';
import type { CimiUris } from './cimi-uris';

/**
 * The CADF audit trail on the CIMI wire: one EventLog (`audit`) whose Events carry a CADF record as `content`
 * (DSP0263 2.0.0 §5.17.13 Table 54: `content` maps other event models into a CIMI Event).
 */
const CADF_TYPE = 'http://schemas.dmtf.org/cloud/audit/1.0/event';

const OUTCOME: Record<CadfOutcome, string> = { success: 'Success', failure: 'Failure', pending: 'Pending' };

export function eventLogsHref(uris: CimiUris): string {
  return `${uris.base}/eventLogs`;
}

export function auditLogDoc(uris: CimiUris): CimiDoc {
  const id = `${eventLogsHref(uris)}/${AUDIT_LOG_ID}`;
  return {
    resourceURI: `${CIMI_NS}/EventLog`,
    id,
    name: 'audit',
    description: 'CADF audit trail of every request through every door (CIMI REST, SOAP, WS-Management)',
    targetResource: { href: uris.cloudEntryPoint },
    persistence: 'durable',
    events: { href: `${id}/events` },
  };
}

export function auditEventDoc(uris: CimiUris, e: AuditEvent): CimiDoc {
  return {
    resourceURI: `${CIMI_NS}/Event`,
    id: `${eventLogsHref(uris)}/${AUDIT_LOG_ID}/events/${e.id}`,
    timestamp: e.eventTime,
    type: CADF_TYPE,
    content: e,
    outcome: OUTCOME[e.outcome],
    // refused authorizations matter more than ordinary failures (DSP0263 Table 54 severity levels)
    severity: e.outcome !== 'failure' ? 'low' : e.eventType === 'control' || e.action === 'authenticate' ? 'high' : 'medium',
  };
}

/** `$filter` names on audit Events -> the audit log's attributes; `outcome` accepts the CIMI spelling too. */
const NAMES: Record<string, keyof typeof AUDIT_FILTER_ATTRS> = {
  timestamp: 'eventTime',
  eventTime: 'eventTime',
  action: 'action',
  outcome: 'outcome',
  initiator: 'initiator',
  initiatorId: 'initiatorId',
  target: 'target',
  targetType: 'targetType',
  eventType: 'eventType',
  protocol: 'protocol',
  tenant: 'tenant',
  correlationId: 'correlationId',
  reason: 'reason',
  jobId: 'jobId',
};

export function auditFilter(e: FilterExpr): FilterExpr {
  if (e.kind === 'and' || e.kind === 'or') return { kind: e.kind, left: auditFilter(e.left), right: auditFilter(e.right) };
  if (e.kind !== 'cmp') throw new InvalidInputError('audit events have no properties to filter on', '$filter', 'QUERY.UNKNOWN_ATTRIBUTE');
  const attr = NAMES[e.attr];
  if (!attr) throw new InvalidInputError(`audit events cannot be filtered on ${e.attr}; use one of ${Object.keys(NAMES).join(', ')}`, '$filter', 'QUERY.UNKNOWN_ATTRIBUTE');
  const value = attr === 'outcome' && typeof e.value === 'string' ? e.value.toLowerCase() : e.value;
  return { ...e, attr, value };
}

// ---- the EventLog of a Machine, Volume, Network or System (issue 6 §4) ----

/** a resource's EventLog is named by the resource's id */
export function eventLogHref(uris: CimiUris, resourceId: string): string {
  return `${eventLogsHref(uris)}/${resourceId}`;
}

export function resourceLogDoc(uris: CimiUris, r: { id: string; type: string; name?: string }, targetHref: string): CimiDoc {
  const id = eventLogHref(uris, r.id);
  return {
    resourceURI: `${CIMI_NS}/EventLog`,
    id,
    name: eventLogName(r),
    targetResource: { href: targetHref },
    persistence: 'durable',
    events: { href: `${id}/events` },
  };
}

export function resourceEventDoc(uris: CimiUris, e: ResourceEvent, targetHref: string): CimiDoc {
  const { resource: _ref, ...rest } = e.content;
  return {
    resourceURI: `${CIMI_NS}/Event`,
    id: `${eventLogHref(uris, e.resourceId)}/events/${e.id}`,
    timestamp: e.timestamp.toISOString(),
    type: e.type,
    content: { resName: rest.resName, resource: { href: targetHref }, resType: rest.resType, state: rest.state, ...(rest.previous ? { previous: rest.previous } : {}) },
    outcome: e.outcome,
    severity: e.severity,
  };
}
