import type { Meter, MeterSamples } from '../../model/meter/meter';
import { isCounter, METER_ASPECT, meterName, meterSampleInterval, samplePoints } from '../../model/meter/meter';
import { InvalidInputError } from '../../model/shared/model-error';
import type { SampleRequest } from '../../model/meter/meter.service';
import { CIMI_ACTION, CIMI_NS } from './cimi-types';
import type { CimiDoc } from './cimi.mapper';
import type { CimiUris } from './cimi-uris';

/** Meters on the CIMI wire (DSP0263 2.0.0 §5.17.3, Tables 47 and 48). */

export function metersHref(uris: CimiUris): string {
  return `${uris.base}/meters`;
}

/** a Meter; `ops`: the actions the caller may run now (meter-state.ts), as CIMI operations (DSP0263 2.0.0 §4.2) */
export function meterDoc(uris: CimiUris, m: Meter, sampleInterval: number, ops: readonly string[] = []): CimiDoc {
  const id = `${metersHref(uris)}/${m.id}`;
  return {
    resourceURI: `${CIMI_NS}/Meter`,
    id,
    name: meterName(m),
    description: m.description ?? (isCounter(m.metric) ? `total ${m.units} since the ${m.resourceType} was last started` : `${m.units} now`),
    created: m.created.toISOString(),
    ...(m.properties ? { properties: m.properties } : {}),
    targetResource: { href: uris.resource(m.resourceType, m.resourceId) },
    aspect: `${METER_ASPECT}${m.metric}`,
    units: m.units,
    sampleInterval: meterSampleInterval(m, sampleInterval),
    timeScope: 'Point',
    isContinuous: true,
    samples: { href: `${id}/samples` },
    // Table 47 stopTime: a stopped Meter tracks no samples from then on; absent while it records
    ...(m.stopTime ? { stopTime: m.stopTime.toISOString() } : {}),
    // DSP0263 2.0.0 §4.2: delete is a plain rel on the Meter's own href, start/stop are actions
    ...(ops.length ? { operations: ops.map((a) => (a === 'delete' ? { rel: 'delete', href: id } : { rel: `${CIMI_ACTION}${a}`, href: `${id}/${a}` })) } : {}),
  };
}

/**
 * The Samples of a query: a raw reading is `sample` {timestamp, value}; an interval's sample is its average at the
 * interval's end (Table 48: "the end of the time interval"), with min, max, avg, count and start as properties.
 */
export function sampleDocs(s: MeterSamples): CimiDoc[] {
  return samplePoints(s).map(({ at, value, bucket: b }) => ({
    sample: { timestamp: at.toISOString(), value: String(value) },
    ...(b ? { properties: { start: b.start.toISOString(), min: String(b.min), max: String(b.max), avg: String(b.avg), count: String(b.count) } } : {}),
  }));
}

/** `from`, `to` (ISO 8601) and `interval` (whole seconds) of the query string; the ranges are the model's to check */
export function sampleRequest(query: Record<string, unknown>): SampleRequest {
  const one = (k: string): string | undefined => {
    const v = query[k];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw new InvalidInputError(`${k} must be given once`, k, 'METER.INVALID_RANGE');
    return v;
  };
  const time = (k: string): Date | undefined => {
    const v = one(k);
    if (v === undefined) return undefined;
    const t = /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : NaN;
    if (!Number.isFinite(t)) throw new InvalidInputError(`${k} must be an ISO 8601 date-time, not ${JSON.stringify(v.slice(0, 40))}`, k, 'METER.INVALID_RANGE');
    return new Date(t);
  };
  const out: SampleRequest = {};
  const from = time('from');
  const to = time('to');
  if (from) out.from = from;
  if (to) out.to = to;
  const interval = one('interval');
  if (interval !== undefined) {
    if (!/^\d{1,9}$/.test(interval)) throw new InvalidInputError(`interval must be a whole number of seconds, not ${JSON.stringify(interval.slice(0, 40))}`, 'interval', 'METER.INVALID_INTERVAL');
    out.interval = Number(interval);
  }
  return out;
}
