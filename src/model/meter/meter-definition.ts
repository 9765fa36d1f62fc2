import { InvalidInputError } from '../shared/model-error';
import type { TenantTx } from '../shared/ports';
import type { Ref } from '../shared/resource';
import { resolveSlot, slotOf, type Slot } from '../template/template-resolution';
import type { UtilizationMetric } from '../provider/provider-driver';
import { isMetric, METER_ASPECT, METERED_TYPES, METRIC_UNITS, type MeteredType } from './meter';

/**
 * What the provider reports for each metered type (provider-driver.ts UTILIZATION_METRICS): a Meter can only be
 * defined on a metric its target's type has, or it would never record a sample.
 */
export const METRICS_OF: Readonly<Record<MeteredType, readonly UtilizationMetric[]>> = {
  Machine: Object.keys(METRIC_UNITS) as UtilizationMetric[],
  Volume: ['disk.read.bytes', 'disk.write.bytes', 'disk.read.ops', 'disk.write.ops'],
  Network: ['net.rx.bytes', 'net.tx.bytes', 'net.rx.packets', 'net.tx.packets'],
};

/** the checked content of a MeterConfiguration (DSP0263 2.0.0 Table 50) */
export interface MeterConfig {
  metric: UtilizationMetric;
  units: string;
  /** seconds between two samples; absent: every pass of the sampler */
  sampleInterval?: number;
}

/**
 * The business rules of a MeterConfiguration (DSP0263 2.0.0 Table 50), as far as this provider can honour them:
 * `aspect` is required and names a gateway metric (`urn:cimi-gateway:meter:<metric>`, Table 51 lets a Provider
 * define its own aspect URIs); `units` are that metric's (nothing is converted); the gateway's Meters are point
 * readings of a continuous measure, so `timeScope` is `Point`, `isContinuous` true and there is no
 * `intervalDuration` (aggregates per interval are a query: MeterSample.query).
 */
export function meterConfigOf(attrs: Record<string, unknown>, field: string): MeterConfig {
  const bad = (msg: string, f = field) => new InvalidInputError(msg, f, 'METER.INVALID_CONFIGURATION');
  const aspect = attrs.aspect;
  if (typeof aspect !== 'string') throw bad(`a MeterConfiguration needs an aspect: ${METER_ASPECT}<metric>, one of ${Object.keys(METRIC_UNITS).join(', ')}`);
  const metric = aspect.startsWith(METER_ASPECT) ? aspect.slice(METER_ASPECT.length) : '';
  if (!isMetric(metric)) throw bad(`aspect ${aspect.slice(0, 80)} is not a metric of this provider: use ${METER_ASPECT}<metric>, one of ${Object.keys(METRIC_UNITS).join(', ')}`);
  const units = METRIC_UNITS[metric];
  if (attrs.units !== undefined && attrs.units !== units) throw bad(`the units of ${metric} are ${units}, not ${String(attrs.units).slice(0, 40)}`);
  if (attrs.timeScope !== undefined && attrs.timeScope !== 'Point') throw bad(`timeScope must be Point: the provider's readings are points in time (interval aggregates are a samples query)`);
  if (attrs.intervalDuration !== undefined) throw bad('intervalDuration applies to an Interval timeScope only (DSP0263 2.0.0 Table 50)');
  if (attrs.isContinuous !== undefined && attrs.isContinuous !== true) throw bad('isContinuous must be true: every metric the provider reports is continuous');
  const si = attrs.sampleInterval;
  if (si !== undefined && (typeof si !== 'number' || !Number.isSafeInteger(si) || si < 1 || si > 31 * 86400)) throw bad('sampleInterval must be a whole number of seconds from 1 to 2678400');
  return { metric, units, ...(si !== undefined ? { sampleInterval: si } : {}) };
}

/** a Meter's definition: what a MeterTemplate resolves to (DSP0263 2.0.0 Table 49) */
export interface MeterDefinition extends MeterConfig {
  target?: { type: MeteredType; id: string };
  /** the template, when given by reference */
  template?: Ref;
  name?: string;
  description?: string;
  properties?: Record<string, string>;
}

/**
 * A MeterTemplate slot (by reference, by value, or by reference with overrides; docs/cimi.md §6) resolved in the
 * caller's tenant: its MeterConfiguration slot resolved and checked, its targetResource an existing Machine,
 * Volume or Network of this tenant (another tenant's id is refused like one that never existed) whose type
 * reports the configuration's metric. `needTarget`: a Meter is being made through the Cloud Entry Point's
 * collection, so targetResource "shall be present" (Table 49).
 */
export async function resolveMeterTemplate(tx: TenantTx, slot: Slot | undefined, opts: { needTarget: boolean }): Promise<MeterDefinition> {
  const t = await resolveSlot(tx, 'MeterTemplate', slot, 'meterTemplate');
  if (!t) throw new InvalidInputError('meterTemplate is required', 'meterTemplate');
  const cfgSlot = slotOf(t.attrs.meterConfig);
  const cfg = await resolveSlot(tx, 'MeterConfiguration', cfgSlot, 'meterConfig');
  if (!cfg) throw new InvalidInputError('a MeterTemplate needs a meterConfig', 'meterConfig', 'METER.INVALID_CONFIGURATION');
  const config = meterConfigOf(cfg.attrs, 'meterConfig');
  const target = t.attrs.targetResource as Ref | undefined;
  const out: MeterDefinition = { ...config, ...(t.ref ? { template: t.ref } : {}), ...(t.name !== undefined ? { name: t.name } : {}), ...(t.description !== undefined ? { description: t.description } : {}), ...(t.properties && Object.keys(t.properties).length ? { properties: t.properties } : {}) };
  if (target === undefined || target === null) {
    if (opts.needTarget) throw new InvalidInputError('the MeterTemplate needs a targetResource: the Machine, Volume or Network to meter (DSP0263 2.0.0 Table 49)', 'targetResource', 'METER.INVALID_TARGET');
    return out;
  }
  if (typeof target !== 'object' || typeof target.id !== 'string' || !(METERED_TYPES as readonly string[]).includes(target.type)) {
    throw new InvalidInputError(`targetResource must be a ${METERED_TYPES.join(', ')} (the resources the provider meters)`, 'targetResource', 'METER.INVALID_TARGET');
  }
  const type = target.type as MeteredType;
  if (!(await tx.resources.get(type, target.id))) throw new InvalidInputError(`targetResource refers to a ${type} that does not exist`, 'targetResource', 'TEMPLATE.BAD_REFERENCE');
  if (!METRICS_OF[type].includes(config.metric)) {
    throw new InvalidInputError(`the provider reports no ${config.metric} for a ${type}; its metrics are ${METRICS_OF[type].join(', ')}`, 'meterConfig', 'METER.INVALID_CONFIGURATION');
  }
  return { ...out, target: { type, id: target.id } };
}
