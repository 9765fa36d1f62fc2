import type { Subscription } from '../../model/subscription/subscription';
import { AUDIT_LOG_ID, type AuditEvent } from '../../model/audit/cadf';
import { eventLogName, type ResourceEvent } from '../../model/event/resource-event';
import type { Job } from '../../model/job/job';
import { InvalidInputError } from '../../model/shared/model-error';
import { and, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type CollectionQuery, type CompareOp, type FilterExpr, type FilterValue } from '../../model/shared/query';
import { isRef, RESOURCE_TYPES, type Ref, type Resource, type ResourceType } from '../../model/shared/resource';
import type { DecodeHooks, EncodeHooks } from '../xml/xsd-subset';
import { meterName, meterSampleInterval, samplePoints, type Meter, type MeterSamples } from '../../model/meter/meter';

/**
 * The wire table of the SOAP door: XSD values <-> model values. Element names are the model's attribute names, so
 * the mapping is by type only: `<Type>Id` simple types are references, `Properties` is a map, `<Type>Slot` is a
 * template slot, `ComponentDescriptor` names its template slot after the component type.
 */
const REF_TYPE = new Map<string, ResourceType>(RESOURCE_TYPES.map((t) => [`${t}Id`, t]));
const COMPONENT_SLOTS: Record<string, string> = { Machine: 'machineTemplate', Volume: 'volumeTemplate', Network: 'networkTemplate', Credential: 'credentialTemplate' };

export const decodeHooks: DecodeHooks = {
  simple(typeName, value) {
    const t = REF_TYPE.get(typeName);
    return t ? { type: t, id: value } : value;
  },
  complex(typeName, value) {
    if (typeName === 'Properties') {
      const out: Record<string, string> = {};
      for (const p of (value.property as { key: string; value: string }[] | undefined) ?? []) {
        if (p.key in out) throw new InvalidInputError(`property ${p.key.slice(0, 40)} is given twice`, 'properties', 'SOAP.INVALID_ARGUMENT');
        out[p.key] = p.value;
      }
      return out;
    }
    if (typeName === 'ComponentDescriptor') {
      // the model takes one `template` slot; the wire names it after the component type (typed for clients)
      const slots = Object.values(COMPONENT_SLOTS).filter((k) => value[k] !== undefined);
      if (slots.length > 1) throw new InvalidInputError(`component ${String(value.name)} gives more than one template`, 'componentDescriptors', 'SOAP.INVALID_ARGUMENT');
      const expected = COMPONENT_SLOTS[value.type as string];
      if (slots.length === 1 && slots[0] !== expected) throw new InvalidInputError(`component ${String(value.name)} of type ${String(value.type)} needs ${expected}`, 'componentDescriptors', 'SOAP.INVALID_ARGUMENT');
      const out: Record<string, unknown> = { ...value };
      for (const k of Object.values(COMPONENT_SLOTS)) delete out[k];
      if (slots.length) out.template = value[slots[0]];
      return out;
    }
    return value;
  },
};

/** Model values to the XSD shapes (inverse of decodeHooks). Secrets never leave. */
export const encodeHooks: EncodeHooks = {
  simple(typeName, value) {
    if (typeName === 'Secret') return undefined;
    if (isRef(value)) return value.id;
    if (value instanceof Date) return value.toISOString();
    if (typeof value === 'object') return undefined; // a stored shape the contract does not carry
    return String(value);
  },
  complex(typeName, value) {
    if (typeName === 'Properties') {
      return { property: Object.entries((value ?? {}) as Record<string, string>).map(([key, v]) => ({ key, value: v })) };
    }
    if (typeName.endsWith('Slot')) {
      const o = value as Record<string, unknown>;
      if (isRef(o)) return { ref: o };
      if (o && typeof o === 'object' && Object.keys(o).every((k) => k === 'ref' || k === 'value')) return o;
      return { value: o };
    }
    if (typeName === 'ComponentDescriptor') {
      const o = { ...(value as Record<string, unknown>) };
      const slot = COMPONENT_SLOTS[o.type as string];
      if (slot && o.template !== undefined) o[slot] = o.template;
      delete o.template;
      return o;
    }
    if (typeName === 'Job' && isJob(value)) return jobOut(value);
    if (typeName === 'Event') return eventOut(value as ResourceEvent);
    if (typeName === 'AuditEvent') return auditOut(value as AuditEvent);
    if (isResource(value)) return resourceOut(value);
    return value as Record<string, unknown>;
  },
};

function isResource(v: unknown): v is Resource {
  return !!v && typeof v === 'object' && 'attrs' in v && 'tenantId' in v && 'version' in v;
}

function isJob(v: unknown): v is Job & { nestedJobs?: string[] } {
  return !!v && typeof v === 'object' && 'payload' in v && 'targetResource' in v;
}

const SYSTEM_COMPONENT_ATTR: Partial<Record<ResourceType, [string, string]>> = {
  SystemMachine: ['Machine', 'machine'],
  SystemVolume: ['Volume', 'volume'],
  SystemNetwork: ['Network', 'network'],
  SystemCredential: ['Credential', 'credential'],
  SystemNetworkPort: ['NetworkPort', 'networkPort'],
  SystemAddress: ['Address', 'address'],
  SystemForwardingGroup: ['ForwardingGroup', 'forwardingGroup'],
  SystemSystem: ['System', 'system'],
};

/** A resource as its XSD type: common attributes, then the type's attributes (the encoder keeps XSD order). */
function resourceOut(r: Resource): Record<string, unknown> {
  const out: Record<string, unknown> = { ...r.attrs, id: r.id, name: r.name, description: r.description, created: r.created, updated: r.updated, properties: r.properties, state: r.state, version: r.version };
  const comp = SYSTEM_COMPONENT_ATTR[r.type];
  if (comp) {
    out.componentType = comp[0];
    out.component = (r.attrs as Record<string, unknown>)[comp[1]];
  }
  return out;
}

function jobOut(j: Job & { nestedJobs?: string[] }): Record<string, unknown> {
  return {
    id: j.id,
    name: j.name,
    description: j.description,
    created: j.created,
    updated: j.updated,
    properties: j.properties,
    version: j.version,
    state: j.state,
    action: j.action,
    targetResource: { type: j.targetResource.type, id: j.targetResource.id },
    affectedResources: j.affectedResources.map((r) => ({ type: r.type, id: r.id })),
    returnCode: j.returnCode,
    progress: j.progress,
    statusMessage: j.statusMessage,
    timeOfStatusChange: j.timeOfStatusChange,
    parentJob: j.parentJobId,
    nestedJobs: j.nestedJobs,
    correlationId: j.correlationId,
    initiator: j.initiator?.userName,
  };
}

/** A resource's EventLog (named by the resource's id, DSP0263 2.0.0 §5.17.9), as REST shows it. */
export function eventLogOut(r: Resource): Record<string, unknown> {
  return { id: r.id, name: eventLogName(r), targetResource: { type: r.type, id: r.id }, persistence: 'durable' };
}

/** A Meter as the contract's Meter type (DSP0263 2.0.0 Table 47). */
export function meterOut(m: Meter, sampleInterval: number): Record<string, unknown> {
  return { id: m.id, name: meterName(m), created: m.created, targetResource: { type: m.resourceType, id: m.resourceId }, metric: m.metric, units: m.units, sampleInterval: meterSampleInterval(m, sampleInterval), timeScope: 'Point', state: m.state, ...(m.stopTime ? { stopTime: m.stopTime } : {}), ...(m.description !== undefined ? { description: m.description } : {}), ...(m.properties ? { properties: m.properties } : {}) };
}

/** Samples as MeterSample items: a raw reading, or an interval ending at `timestamp` whose value is its average */
export function samplesOut(s: MeterSamples): Record<string, unknown>[] {
  return samplePoints(s).map(({ at, value, bucket: b }) => ({ timestamp: at, value, ...(b ? { start: b.start, min: b.min, max: b.max, avg: b.avg, count: b.count } : {}) }));
}

/** The audit trail's EventLog, as REST shows it. */
export function auditLogOut(): Record<string, unknown> {
  return { id: AUDIT_LOG_ID, name: AUDIT_LOG_ID, persistence: 'durable' };
}

/** a Subscription as its XSD type (t:Subscription) */
export function subscriptionOut(s: Subscription): Record<string, unknown> {
  return { id: s.id, notifyTo: s.notifyTo, created: s.created, expires: s.expires, door: s.door };
}

export function eventOut(e: ResourceEvent): Record<string, unknown> {
  return { id: e.id, eventLog: e.resourceId, timestamp: e.timestamp, type: e.type, outcome: e.outcome, severity: e.severity, content: e.content };
}

/** A CADF record as its XSD type (pycadf's `project_id` is `projectId` on this wire, `host` flattened). */
function auditOut(a: AuditEvent): Record<string, unknown> {
  const i = a.initiator;
  return {
    ...a,
    eventTime: new Date(a.eventTime),
    initiator: { id: i.id, typeURI: i.typeURI, name: i.name, projectId: i.project_id, address: i.host.address, agent: i.host.agent, credentialType: i.credential?.type },
  };
}

const OPS: Record<string, CompareOp> = { eq: '=', ne: '!=', lt: '<', le: '<=', gt: '>', ge: '>=' };

interface WireCondition {
  attribute: string;
  operator: string;
  stringValue?: string;
  intValue?: number;
  booleanValue?: boolean;
  dateTimeValue?: Date;
}

interface WireListArgs {
  filter?: { combine?: 'all' | 'any'; condition?: WireCondition[]; propertyCondition?: { key: string; operator: string; value: string }[] };
  orderBy?: { attribute: string; descending?: boolean }[];
  first?: number;
  last?: number;
}

/** The typed filter, ordering and paging of a List operation as the model's CollectionQuery (CIMI $filter/$orderby/$first/$last). */
export function toQuery(args: WireListArgs): CollectionQuery {
  const exprs: FilterExpr[] = [];
  for (const [i, c] of (args.filter?.condition ?? []).entries()) {
    const values = (['stringValue', 'intValue', 'booleanValue', 'dateTimeValue'] as const).filter((k) => c[k] !== undefined);
    if (values.length !== 1) throw new InvalidInputError(`filter.condition[${i}] needs exactly one of stringValue, intValue, booleanValue, dateTimeValue`, 'filter', 'SOAP.INVALID_ARGUMENT');
    exprs.push({ kind: 'cmp', attr: c.attribute, op: OPS[c.operator], value: c[values[0]] as FilterValue });
  }
  for (const [i, p] of (args.filter?.propertyCondition ?? []).entries()) {
    if (p.operator !== 'eq' && p.operator !== 'ne') throw new InvalidInputError(`filter.propertyCondition[${i}].operator must be eq or ne`, 'filter', 'SOAP.INVALID_ARGUMENT');
    exprs.push({ kind: 'prop', key: p.key, op: OPS[p.operator] as '=' | '!=', value: p.value });
  }
  const filter = args.filter?.combine === 'any' ? exprs.reduce<FilterExpr | undefined>((acc, e) => (acc ? { kind: 'or', left: acc, right: e } : e), undefined) : and(...exprs);
  // docs/reliability.md rule 4: pages of 100 by default, 1000 at most; `count` tells the client what it missed
  const first = args.first ?? 1;
  const last = Math.min(args.last ?? first + DEFAULT_PAGE_SIZE - 1, first + MAX_PAGE_SIZE - 1);
  const q: CollectionQuery = { first, last };
  if (filter) q.filter = filter;
  if (args.orderBy?.length) q.orderBy = args.orderBy.map((o) => ({ attr: o.attribute, desc: !!o.descending }));
  return q;
}

/** the id inside a decoded `<Type>Id` value */
export function idOf(v: unknown): string {
  return isRef(v) ? v.id : String(v);
}

export function refOf(v: unknown): Ref | undefined {
  return isRef(v) ? { type: v.type, id: v.id } : undefined;
}
