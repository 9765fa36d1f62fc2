import type { Protocol } from '../shared/operation-context';

/** the doors a policy rule may name; `internal` requests (the gateway's own) and the admin CLI keep the default */
const DOORS = ['rest', 'soap', 'wsman'] as const satisfies readonly Protocol[];

/**
 * How much of a request the audit trail keeps, per door and class of request (issue 13 §3, after Kubernetes'
 * audit policy levels None / Metadata / RequestResponse):
 * - `none`: no record;
 * - `metadata`: the CADF record (who, what, which resource, outcome, reason);
 * - `full`: the record plus the request itself as a CADF attachment (request line and body, secrets removed).
 */
export const AUDIT_LEVELS = ['none', 'metadata', 'full'] as const;
export type AuditLevel = (typeof AUDIT_LEVELS)[number];

/** read: reads and lists that succeeded; mutation: a change (or a Job's end); refusal: any request that failed */
export const AUDIT_CLASSES = ['read', 'mutation', 'refusal'] as const;
export type AuditClass = (typeof AUDIT_CLASSES)[number];

export type AuditPolicy = Record<Protocol, Record<AuditClass, AuditLevel>>;

export const DEFAULT_AUDIT_POLICY = 'read=metadata,mutation=metadata,refusal=metadata';

export class AuditPolicyError extends Error {}

/**
 * Parses `AUDIT_POLICY`: comma-separated rules `[<door>.]<class>=<level>`, door one of rest, soap, wsman (no door:
 * every door), later rules overriding earlier ones, e.g. `read=none,wsman.read=metadata,mutation=full`. Mutations
 * and refusals are always recorded: `none` is refused for them, since an audit trail that can miss a change or a
 * refused login is no audit trail.
 */
export function parseAuditPolicy(text: string): AuditPolicy {
  const policy = Object.fromEntries([...DOORS, 'internal', 'cli'].map((p) => [p, { read: 'metadata', mutation: 'metadata', refusal: 'metadata' }])) as AuditPolicy;
  for (const raw of text.split(',')) {
    const rule = raw.trim();
    if (!rule) continue;
    const m = /^(?:([a-z]+)\.)?([a-z]+)=([a-z]+)$/.exec(rule);
    if (!m) throw new AuditPolicyError(`audit policy rule "${rule}" is not [<door>.]<class>=<level>`);
    const [, door, cls, level] = m;
    if (door !== undefined && !(DOORS as readonly string[]).includes(door)) throw new AuditPolicyError(`audit policy rule "${rule}": the door is one of ${DOORS.join(', ')}`);
    if (!(AUDIT_CLASSES as readonly string[]).includes(cls)) throw new AuditPolicyError(`audit policy rule "${rule}": the class is one of ${AUDIT_CLASSES.join(', ')}`);
    if (!(AUDIT_LEVELS as readonly string[]).includes(level)) throw new AuditPolicyError(`audit policy rule "${rule}": the level is one of ${AUDIT_LEVELS.join(', ')}`);
    if (level === 'none' && cls !== 'read') throw new AuditPolicyError(`audit policy rule "${rule}": ${cls}s are always recorded (metadata or full)`);
    for (const p of door ? [door as Protocol] : DOORS) policy[p][cls as AuditClass] = level as AuditLevel;
  }
  return policy;
}
