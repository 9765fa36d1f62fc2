import { AUDIT_FILTER_ATTRS, AUDIT_LOG_ID, type AuditEvent } from '../../model/audit/cadf';
import { EVENT_FILTER_ATTRS, type ResourceEvent } from '../../model/event/resource-event';
import { JOB_FILTER_ATTRS, type Job } from '../../model/job/job';
import { JOB_STATES } from '../../model/job/job-state';
import { InvalidInputError, NotFoundError } from '../../model/shared/model-error';
import { meterName, meterSampleInterval, samplePoints, type Meter, type MeterSamples } from '../../model/meter/meter';
import { COMMON_FILTER_ATTRS, MAX_PAGE_SIZE, type CollectionQuery, type FilterExpr, type FilterKind, type Page } from '../../model/shared/query';
import type { Resource, ResourceType } from '../../model/shared/resource';
import { descriptorOf } from '../../model/shared/resource-types';
import type { WsmanCall } from './wsman-dispatcher';

/**
 * Where the instances of each catalogue `model` come from: the model service that reads them (docs/operations.md
 * rows) and which of their attributes a filter may name. Records that are not resources (Events, audit records,
 * the audit log) are shown as a RecordView, a resource-shaped object the catalogue's `source` vocabulary reads.
 */

/** a model record as the catalogue reads it: the plain sources (id, name, created, state, …) and `attrs.<name>` */
export interface RecordView {
  id: string;
  tenantId: string;
  created: Date;
  updated: Date;
  name?: string;
  description?: string;
  state?: string;
  attrs: Record<string, unknown>;
}

export type CimSource = Resource | Job | RecordView;

/** a model attribute a filter may compare, and whether it is ordered (<, >) */
export interface FilterAttr {
  ordered: boolean;
}

export interface ModelSource {
  /** the CIMI type an audit record names as the target (the audit log is a CIMI EventLog, its records Events) */
  cimiType: string;
  get(call: WsmanCall, id: string): Promise<CimSource>;
  /** a page in the order `query` asks (WS-Man asks id order with `after`), with the count of all matches */
  list(call: WsmanCall, query: CollectionQuery): Promise<Page<CimSource>>;
  /** the states a state converter maps (cim-query.ts) */
  states: readonly string[];
  /** a model attribute (plain: id, name, state, created, … or an `attrs.<name>`) a filter may name */
  filterAttr(attr: string): FilterAttr | undefined;
}

/** a model's filterable attribute (its store's query names, the model's own table of them) as WQL compares it */
function filterAttrOf(kinds: Readonly<Record<string, FilterKind>>, attr: string): FilterAttr | undefined {
  if (!Object.prototype.hasOwnProperty.call(kinds, attr)) return undefined;
  return { ordered: kinds[attr] === 'integer' || kinds[attr] === 'dateTime' };
}

function resourceSource(type: ResourceType): ModelSource {
  const d = descriptorOf(type);
  return {
    cimiType: type,
    get: (call, id) => call.services.model.read(call.ctx, type, id),
    list: (call, q) => call.services.model.query(call.ctx, type, q),
    states: d.stateMachine?.states ?? [],
    filterAttr: (attr) => {
      const common = filterAttrOf(COMMON_FILTER_ATTRS, attr);
      if (common) return common;
      const spec = d.attrs.find((a) => a.name === attr);
      // references, structures and secrets are not comparable in the database (filter-compiler allow-list)
      if (!spec || spec.secret || !['string', 'uri', 'integer', 'boolean'].includes(spec.kind)) return undefined;
      return { ordered: spec.kind === 'integer' };
    },
  };
}

const JOB_SOURCE: ModelSource = {
  cimiType: 'Job',
  get: (call, id) => call.services.jobs.get(call.ctx, id),
  list: (call, q) => call.services.jobs.list(call.ctx, q),
  states: JOB_STATES,
  filterAttr: (attr) => filterAttrOf(JOB_FILTER_ATTRS, attr),
};

/** A resource's EventLog is shown by the resource itself (its id, name, type). */
const EVENT_LOG_SOURCE: ModelSource = {
  cimiType: 'EventLog',
  get: (call, id) => call.services.events.logOf(call.ctx, id),
  list: (call, q) => call.services.events.logs(call.ctx, q),
  states: [],
  // the logged resources' common attributes (a log has no state of its own)
  filterAttr: (attr) => (attr === 'state' ? undefined : filterAttrOf(COMMON_FILTER_ATTRS, attr)),
};

export const eventView = (e: ResourceEvent): RecordView => ({
  id: e.id,
  tenantId: e.tenantId,
  created: e.timestamp,
  updated: e.timestamp,
  name: e.content.resName,
  state: e.content.state,
  attrs: {
    timestamp: e.timestamp,
    resourceId: e.resourceId,
    resourceType: e.resourceType,
    type: e.type,
    outcome: e.outcome,
    severity: e.severity,
    previous: e.content.previous,
    record: JSON.stringify({ id: e.id, timestamp: e.timestamp.toISOString(), type: e.type, outcome: e.outcome, severity: e.severity, content: e.content }),
  },
});

const EVENT_SOURCE: ModelSource = {
  cimiType: 'Event',
  get: async (call, id) => eventView((await call.services.events.get(call.ctx, null, id)).event),
  list: async (call, q) => {
    const { page } = await call.services.events.list(call.ctx, null, q);
    return { items: page.items.map(eventView), count: page.count };
  },
  states: [],
  filterAttr: (attr) => filterAttrOf(EVENT_FILTER_ATTRS, attr),
};

/** the audit trail as one log instance; AuditService decides who may read it */
const auditLogView = (call: WsmanCall): RecordView => ({ id: AUDIT_LOG_ID, tenantId: call.ctx.tenantId, created: new Date(0), updated: new Date(0), attrs: {} });

/** does the one audit log instance pass a filter (only its id is filterable: equality comparisons, and/or) */
function auditLogMatches(f: FilterExpr): boolean {
  if (f.kind === 'and') return auditLogMatches(f.left) && auditLogMatches(f.right);
  if (f.kind === 'or') return auditLogMatches(f.left) || auditLogMatches(f.right);
  if (f.kind !== 'cmp' || f.attr !== 'id' || (f.op !== '=' && f.op !== '!=')) throw new InvalidInputError('the audit log is one instance: only its InstanceID can be compared, with = or <>', 'filter', 'QUERY.INVALID_FILTER');
  return (f.value === AUDIT_LOG_ID) === (f.op === '=');
}

const AUDIT_LOG_SOURCE: ModelSource = {
  cimiType: 'EventLog',
  get: async (call, id) => {
    call.services.audit.assertReader(call.ctx);
    if (id !== AUDIT_LOG_ID) throw new NotFoundError('EventLog', id);
    return auditLogView(call);
  },
  list: async (call, q) => {
    call.services.audit.assertReader(call.ctx);
    const all = !q.filter || auditLogMatches(q.filter) ? [auditLogView(call)] : [];
    const items = q.after !== undefined && q.after >= AUDIT_LOG_ID ? [] : all;
    return { items: items.slice((q.first ?? 1) - 1, q.last ?? 1), count: all.length };
  },
  states: [],
  filterAttr: (attr) => (attr === 'id' ? filterAttrOf(COMMON_FILTER_ATTRS, attr) : undefined),
};

const auditView = (a: AuditEvent): RecordView => ({
  id: a.id,
  tenantId: a.tenantId ?? '',
  created: new Date(a.eventTime),
  updated: new Date(a.eventTime),
  attrs: {
    eventTime: new Date(a.eventTime),
    eventType: a.eventType,
    action: a.action,
    outcome: a.outcome,
    initiatorId: a.initiator.id,
    initiator: a.initiator.name,
    initiatorAddress: a.initiator.host.address,
    protocol: a.initiator.host.agent,
    credentialType: a.initiator.credential?.type,
    target: a.target.id,
    targetType: a.target.typeURI,
    reason: a.reason.reasonCode,
    tenant: a.tenantId,
    correlationId: a.correlationId,
    jobId: a.jobId,
    record: JSON.stringify(a),
  },
});

const AUDIT_EVENT_SOURCE: ModelSource = {
  cimiType: 'Event',
  get: async (call, id) => {
    const a = await call.services.audit.get(call.ctx, id);
    if (!a) throw new NotFoundError('Event', id);
    return auditView(a);
  },
  list: async (call, q) => {
    const page = await call.services.audit.list(call.ctx, q);
    return { items: page.items.map(auditView), count: page.count };
  },
  states: [],
  filterAttr: (attr) => filterAttrOf(AUDIT_FILTER_ATTRS, attr),
};

const meterView = (m: Meter, sampleInterval: number): RecordView => ({
  id: m.id,
  tenantId: m.tenantId,
  created: m.created,
  updated: m.created,
  name: meterName(m),
  state: m.state,
  attrs: { metric: m.metric, units: m.units, sampleInterval: meterSampleInterval(m, sampleInterval), resourceId: m.resourceId, resourceType: m.resourceType, ...(m.stopTime ? { stopTime: m.stopTime } : {}) },
});

const METER_SOURCE: ModelSource = {
  cimiType: 'Meter',
  get: async (call, id) => meterView(await call.services.meters.get(call.ctx, id), call.services.meters.sampleInterval),
  list: async (call, q) => {
    if (q.filter) throw new InvalidInputError('CIMIGW_Meter is enumerated in id order without a filter', 'filter', 'QUERY.INVALID_FILTER');
    const page = await call.services.meters.list(call.ctx, { first: q.first, last: q.last, ...(q.after ? { after: q.after } : {}) });
    return { items: page.items.map((m) => meterView(m, call.services.meters.sampleInterval)), count: page.count };
  },
  states: [],
  filterAttr: () => undefined,
};

/**
 * A sample instance's id names its query: `<meter id>.<start ms, 15 digits>.<interval s>` (0: a raw reading), so
 * ids sort in time order within a meter and a Get can read the same interval again.
 */
const SAMPLE_ID = /^([0-9a-f-]{36})\.(\d{15})\.(\d{1,9})$/;
const sampleId = (meter: string, startMs: number, interval: number) => `${meter}.${String(startMs).padStart(15, '0')}.${interval}`;

function sampleViews(s: MeterSamples): RecordView[] {
  const view = (startMs: number, interval: number, at: Date, attrs: Record<string, unknown>): RecordView => ({
    id: sampleId(s.meter.id, startMs, interval),
    tenantId: s.meter.tenantId,
    created: at,
    updated: at,
    attrs: { meterId: s.meter.id, resourceId: s.meter.resourceId, timestamp: at, interval, ...attrs },
  });
  return samplePoints(s).map(({ at, value, start, interval, bucket: b }) => view(start.getTime(), interval, at, { value: String(value), ...(b ? { start: b.start, min: b.min, max: b.max, avg: b.avg, count: b.count } : {}) }));
}

/** the sample query a WQL filter asks: MetricDefinitionId = '…' AND TimeStamp >= … AND TimeStamp < … AND IntervalSeconds = n */
function sampleQuery(f: FilterExpr | undefined): { meter: string; from?: Date; to?: Date; interval?: number } {
  const out: { meter?: string; from?: Date; to?: Date; interval?: number } = {};
  const refuse = (why: string) => new InvalidInputError(`CIMIGW_MeterSample: ${why}; filter on MetricDefinitionId (=), TimeStamp (>=, >, <, <=) and IntervalSeconds (=), joined by AND`, 'filter', 'QUERY.INVALID_FILTER');
  const walk = (e: FilterExpr): void => {
    if (e.kind === 'and') return (walk(e.left), walk(e.right));
    if (e.kind !== 'cmp') throw refuse('only AND of comparisons');
    // a Pull reads the filter back from the stored enumeration context, where a time is its ISO text
    const ms = e.value instanceof Date ? e.value.getTime() : typeof e.value === 'string' && e.attr === 'timestamp' && /^\d{4}-\d{2}-\d{2}T/.test(e.value) ? Date.parse(e.value) : NaN;
    if (e.attr === 'meterId' && e.op === '=' && typeof e.value === 'string') out.meter = e.value;
    else if (e.attr === 'timestamp' && (e.op === '>=' || e.op === '>') && Number.isFinite(ms)) out.from = new Date(e.op === '>' ? ms + 1 : ms);
    else if (e.attr === 'timestamp' && (e.op === '<' || e.op === '<=') && Number.isFinite(ms)) out.to = new Date(e.op === '<=' ? ms + 1 : ms);
    else if (e.attr === 'interval' && e.op === '=' && typeof e.value === 'number') out.interval = e.value;
    else throw refuse(`${e.attr} ${e.op} cannot be asked`);
  };
  if (f) walk(f);
  if (!out.meter) throw refuse('name the meter (MetricDefinitionId)');
  return out as { meter: string };
}

const SAMPLE_FILTER_ATTRS: Readonly<Record<string, FilterAttr>> = { meterId: { ordered: false }, timestamp: { ordered: true }, interval: { ordered: false } };

const METER_SAMPLE_SOURCE: ModelSource = {
  cimiType: 'MeterSample',
  get: async (call, id) => {
    const m = SAMPLE_ID.exec(id);
    if (!m) throw new NotFoundError('MeterSample', id);
    const start = Number(m[2]);
    const interval = Number(m[3]);
    const s = await call.services.meters.samples(call.ctx, m[1], { from: new Date(start), to: new Date(start + Math.max(1, interval * 1000)), ...(interval ? { interval } : {}), first: 1, last: 1 });
    const [v] = sampleViews(s);
    if (!v || v.id !== id) throw new NotFoundError('MeterSample', id);
    return v;
  },
  list: async (call, q) => {
    const { meter, ...range } = sampleQuery(q.filter);
    const first = q.first ?? 1;
    // WS-Man paging's keyset (CollectionQuery.after) is a sample id: each Pull reads its own page from the
    // database, starting after the interval that id names (ids sort by meter, then start time)
    const k = q.after ? SAMPLE_ID.exec(q.after) : null;
    const ours = !!k && k[1] === meter && Number(k[3]) === (range.interval ?? 0);
    if (q.after && !ours && q.after > `${meter}.`) return { items: [], count: 0 };
    const s = await call.services.meters.samples(call.ctx, meter, { ...range, ...(ours ? { after: new Date(Number(k![2])) } : {}), first, last: q.last ?? first + MAX_PAGE_SIZE - 1 });
    return { items: sampleViews(s), count: s.count };
  },
  states: [],
  filterAttr: (attr) => SAMPLE_FILTER_ATTRS[attr],
};

const SOURCES = new Map<string, ModelSource>([
  ['Meter', METER_SOURCE],
  ['MeterSample', METER_SAMPLE_SOURCE],
  ['Job', JOB_SOURCE],
  ['EventLog', EVENT_LOG_SOURCE],
  ['Event', EVENT_SOURCE],
  ['AuditLog', AUDIT_LOG_SOURCE],
  ['AuditEvent', AUDIT_EVENT_SOURCE],
]);

/** the source of a catalogue `model` (a resource type, Job, or one of the record models above) */
export function sourceOf(model: string): ModelSource {
  let s = SOURCES.get(model);
  if (!s) {
    s = resourceSource(model as ResourceType);
    SOURCES.set(model, s);
  }
  return s;
}

/** the record models a catalogue `model` may name besides the resource types */
export const RECORD_MODELS = ['Job', 'EventLog', 'Event', 'AuditLog', 'AuditEvent', 'Meter', 'MeterSample'] as const;
