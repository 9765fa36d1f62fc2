import { cimiTypeUri } from '../../model/audit/cadf';
import type { Job } from '../../model/job/job';
import { isRef, type Ref, type Resource } from '../../model/shared/resource';
import type { CimCatalogue, CimClass, CimProperty } from './cim-catalogue';
import type { CimSource, RecordView } from './model-sources';
import type { Selector } from './wsman-envelope';
import { WsmanFault } from './wsman-fault';

/** A reference value: the EPR of an instance (DSP0230 reference properties). */
export interface CimRef {
  cls: CimClass;
  selectors: { name: string; value: string }[];
}

export type CimScalar = string | number | boolean | Date | CimRef;
export type CimValue = CimScalar | CimScalar[] | null;

/** One CIM instance: its concrete class, property values by name, and its key selectors. */
export interface CimInstance {
  cls: CimClass;
  values: Map<string, CimValue>;
  /** key selectors; an association's keys are references (DSP0227: EPR-valued selectors) */
  selectors: { name: string; value: string | CimRef }[];
  /** the model object it came from */
  source: CimSource;
}

export function isCimRef(v: unknown): v is CimRef {
  return typeof v === 'object' && v !== null && 'cls' in v && 'selectors' in v;
}

/** docs/wsman.md §5.3: cloud Machine state → EnabledState / RequestedState. */
const MACHINE_ENABLED: Record<string, number> = { STARTED: 2, STOPPED: 3, STOPPING: 4, STARTING: 10, PAUSED: 9, SUSPENDED: 6, PAUSING: 2, SUSPENDING: 2, CREATING: 1, DELETING: 1, ERROR: 0, FAILED: 0 };
const MACHINE_REQUESTED: Record<string, number> = { STARTING: 2, STOPPING: 3, PAUSING: 9, SUSPENDING: 6 };
/** CIM_ConcreteJob.JobState (docs/wsman.md §5.3) */
const JOB_STATE: Record<string, number> = { QUEUED: 2, RUNNING: 4, SUCCESS: 7, FAILED: 10, STOPPING: 6, STOPPED: 8 };

/** CIM_RecordForLog.PerceivedSeverity from a CIMI Event severity: 2 Information, 4 Minor, 5 Major, 6 Critical */
const PERCEIVED_SEVERITY: Record<string, number> = { low: 2, medium: 4, high: 5, critical: 6 };

const asResource = (s: CimSource) => s as Resource;
const asJob = (s: CimSource) => s as Job;
const attr = (s: CimSource, name: string) => (s as RecordView).attrs?.[name];

/** Values no plain `source` can express; referenced from wsman/classes.json as `fn:<name>`. */
export const CONVERTERS: Record<string, (src: CimSource) => CimValue> = {
  machineEnabledState: (s) => {
    const st = asResource(s).state ?? '';
    // CAPTURING / RESTORING keep the source state's value; the model does not keep it, STOPPED is the common case
    return MACHINE_ENABLED[st] ?? (st === 'CAPTURING' || st === 'RESTORING' ? 3 : 0);
  },
  machineOtherEnabledState: (s) => {
    const st = asResource(s).state;
    return st === 'CREATING' ? 'Creating' : st === 'DELETING' ? 'Deleting' : null;
  },
  machineRequestedState: (s) => MACHINE_REQUESTED[asResource(s).state ?? ''] ?? 12,
  /** a Meter (meter-state.ts): 2 Enabled while it records samples, 3 Disabled while stopped */
  meterEnabledState: (s) => ((s as RecordView).state === 'STOPPED' ? 3 : 2),
  volumeEnabledState: (s) => {
    const st = asResource(s).state;
    return st === 'AVAILABLE' || st === 'CAPTURING' ? 2 : st === 'CREATING' || st === 'DELETING' ? 1 : 0;
  },
  /** CIM HealthState: 5 OK, 25 Critical failure, 30 Non-recoverable error */
  healthState: (s) => {
    const st = asResource(s).state;
    return st === 'ERROR' ? 25 : st === 'FAILED' ? 30 : 5;
  },
  /** CIM OperationalStatus: 2 OK, 6 Error, 8 Starting, 9 Stopping, 10 Stopped, 11 In Service */
  operationalStatus: (s) => {
    const st = asResource(s).state;
    if (st === 'ERROR' || st === 'FAILED') return [6];
    if (st === 'CREATING' || st === 'STARTING') return [8];
    if (st === 'STOPPING' || st === 'DELETING') return [9];
    if (st === 'STOPPED') return [10];
    return [2];
  },
  jobName: (s) => `${asJob(s).action} ${asJob(s).targetResource.type} ${asJob(s).targetResource.id}`,
  jobDescription: (s) => asJob(s).description ?? null,
  jobState: (s) => JOB_STATE[asJob(s).state] ?? 0,
  jobStatus: (s) => asJob(s).statusMessage ?? asJob(s).state,
  jobProgress: (s) => asJob(s).progress,
  jobErrorCode: (s) => (asJob(s).state === 'FAILED' ? (asJob(s).returnCode ?? 1) : asJob(s).state === 'SUCCESS' ? 0 : null),
  jobErrorDescription: (s) => (asJob(s).state === 'FAILED' ? (asJob(s).statusMessage ?? 'failed') : null),
  jobTimeOfStatusChange: (s) => asJob(s).timeOfStatusChange,
  jobOperationalStatus: (s) => {
    const st = asJob(s).state;
    return st === 'FAILED' ? [6] : st === 'SUCCESS' || st === 'STOPPED' ? [2, 17] : [2];
  },
  /** an EventLog is shown by its resource: the resource's CIMI type URI */
  cimiTypeUri: (s) => cimiTypeUri(asResource(s).type),
  eventPerceivedSeverity: (s) => PERCEIVED_SEVERITY[String(attr(s, 'severity'))] ?? 0,
  /** an audit record in one line: `<action> <outcome> by <initiator> via <protocol>` */
  auditSummary: (s) => `${String(attr(s, 'action'))} ${String(attr(s, 'outcome'))} by ${String(attr(s, 'initiator') ?? attr(s, 'initiatorId'))} via ${String(attr(s, 'protocol'))}`,
};

/** What a key property may be computed from: the identity of the model object, never its changing attributes. */
export type KeyIdentity = Pick<Resource, 'id' | 'tenantId'>;

/** The key selectors of a model object of class `cls` (in the class's key order). */
export function keySelectors(cls: CimClass, src: KeyIdentity): { name: string; value: string }[] {
  return cls.keys.map((k) => {
    const p = cls.property(k)!;
    const s = p.source ?? '';
    const v = s === 'id' ? (p.prefix ?? '') + src.id : s === 'class' ? cls.name : s === 'tenant' ? src.tenantId : s.startsWith('const:') ? s.slice(6) : undefined;
    if (v === undefined) throw new Error(`${cls.name}.${k}: a key must come from id, class, tenant or a constant, not ${s}`);
    return { name: k, value: v };
  });
}

/** The EPR value for a model reference (the referenced resource's concrete class and keys, from its identity). */
export function refOf(cat: CimCatalogue, ref: Ref, tenantId: string): CimRef | null {
  const cls = cat.byModel(ref.type);
  if (!cls) return null;
  return { cls, selectors: keySelectors(cls, { id: ref.id, tenantId }) };
}

function scalarOf(cls: CimClass, p: CimProperty, src: CimSource): CimValue {
  const s = p.source ?? '';
  const r = src as Resource;
  if (s === 'id') return (p.prefix ?? '') + src.id;
  if (s === 'class') return cls.name;
  if (s === 'tenant') return src.tenantId;
  if (s === 'name') return r.name ?? null;
  if (s === 'description') return r.description ?? null;
  if (s === 'created') return src.created;
  if (s === 'updated') return src.updated;
  if (s === 'state') return r.state ?? null;
  // the model's state-change stamp, not `updated` (which a rename moves and a Job's state change does not)
  if (s === 'stateChanged') return r.stateChanged ?? null;
  if (s.startsWith('const:')) {
    const v = s.slice(6);
    if (p.type === 'boolean') return v === 'true';
    if (p.type === 'string') return v;
    return Number(v);
  }
  if (s.startsWith('fn:')) {
    const f = CONVERTERS[s.slice(3)];
    if (!f) throw new Error(`${cls.name}.${p.name}: unknown converter ${s}`);
    return f(src);
  }
  if (s.startsWith('attrs.')) {
    const v = (r.attrs as Record<string, unknown> | undefined)?.[s.slice(6)];
    if (v === undefined || v === null) return null;
    // a model reference in a string property is the referenced id (CIMIGW_Machine.MachineImage, …)
    if (isRef(v)) return v.id;
    if (p.prefix) return p.prefix + String(v);
    return v as CimValue;
  }
  return null;
}

/** A model object as an instance of its concrete class (`cls.model` must be its type). */
export function toInstance(cat: CimCatalogue, cls: CimClass, src: CimSource): CimInstance {
  const values = new Map<string, CimValue>();
  for (const p of cls.rendered) {
    let v: CimValue;
    if (p.type === 'reference') v = referenceOf(cat, p, src);
    else v = scalarOf(cls, p, src);
    values.set(p.name, v);
  }
  return { cls, values, selectors: cls.keys.map((k) => ({ name: k, value: values.get(k) as string | CimRef })), source: src };
}

/** A reference property: `parent` (the sub-resource's parent) or `attrs.<ref attribute>`, as an EPR value. */
function referenceOf(cat: CimCatalogue, p: CimProperty, src: CimSource): CimRef | null {
  const r = src as Resource;
  let target: unknown;
  if (p.source === 'parent') {
    const base = cat.byName(p.refClass ?? '');
    const model = base ? cat.concreteUnder(base)[0]?.model : undefined;
    target = r.parentId && model ? { type: model, id: r.parentId } : undefined;
  } else if (p.source?.startsWith('attrs.')) {
    target = (r.attrs as Record<string, unknown>)[p.source.slice(6)];
  }
  return isRef(target) ? refOf(cat, target, src.tenantId) : null;
}

/**
 * Selectors of a Get/Put/Delete/Invoke to the concrete class and model id they name (DSP0226 7.2). Names match
 * case-insensitively; a CreationClassName may name the concrete class or any superclass (a Get of
 * `CIM_ComputerSystem?CreationClassName=CIM_ComputerSystem&Name=…` finds the CIMIGW_Machine). Missing or
 * unknown names are wsman:InvalidSelectors; values naming nothing are wsa:DestinationUnreachable (docs/wsman.md §1.6).
 */
export function resolveSelectors(cat: CimCatalogue, requested: CimClass, selectors: Selector[], tenantId: string): { cls: CimClass; id: string } {
  const given = new Map(selectors.map((s) => [s.name.toLowerCase(), s]));
  const keys = requested.keys;
  if (!keys.length) {
    // an abstract superclass without keys (CIM_ManagedElement, CIM_System, …): the concrete class under it whose
    // keys the selectors name answers (DSP0227 polymorphism applied to a Get)
    const names = [...given.keys()].sort().join(',');
    const match = cat.concreteUnder(requested).find((c) => !c.association && c.keys.map((k) => k.toLowerCase()).sort().join(',') === names);
    if (!match) throw new WsmanFault('InvalidSelectors', `no class under ${requested.name} has exactly these keys`, { detail: selectors.length ? 'UnexpectedSelectors' : 'InsufficientSelectors' });
    return resolveSelectors(cat, match, selectors, tenantId);
  }
  for (const s of selectors) {
    if (!keys.some((k) => k.toLowerCase() === s.name.toLowerCase())) throw new WsmanFault('InvalidSelectors', `${requested.name} has no key ${s.name}`, { detail: 'UnexpectedSelectors' });
    if (s.epr) throw new WsmanFault('InvalidSelectors', `selector ${s.name} is not a reference`, { detail: 'TypeMismatch' });
  }
  const missing = keys.filter((k) => !given.has(k.toLowerCase()));
  if (missing.length) throw new WsmanFault('InvalidSelectors', `missing key selectors: ${missing.join(', ')}`, { detail: 'InsufficientSelectors' });
  const unreachable = () => new WsmanFault('DestinationUnreachable', `no ${requested.name} instance has these selectors`, { detail: 'InvalidResourceURI' });
  for (const cls of cat.concreteUnder(requested)) {
    let id: string | undefined;
    let ok = true;
    for (const k of keys) {
      const p = cls.property(k)!;
      const v = given.get(k.toLowerCase())!.value;
      const src = p.source ?? '';
      if (src === 'class') ok &&= cls.lineage.some((c) => c.name.toLowerCase() === v.toLowerCase());
      else if (src === 'tenant') ok &&= v === tenantId;
      else if (src.startsWith('const:')) ok &&= v.toLowerCase() === src.slice(6).toLowerCase();
      else if (src === 'id') {
        const prefix = p.prefix ?? '';
        if (!v.startsWith(prefix)) ok = false;
        else id = v.slice(prefix.length);
      } else ok = false;
    }
    if (ok && id !== undefined) return { cls, id };
  }
  throw unreachable();
}
