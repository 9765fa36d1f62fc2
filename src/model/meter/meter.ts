import { createHash } from 'node:crypto';
import { UTILIZATION_METRICS, type UtilizationMetric } from '../provider/provider-driver';
import type { ResourceType } from '../shared/resource';
import type { MeterState } from './meter-state';

/**
 * Meters (DSP0263 2.0.0 §5.17.3): one Meter per (resource, metric) the provider reports, made by the MeterSampler
 * the first time the driver reports the metric for the resource. Its samples are the raw readings; a query asks a
 * time range and optionally an interval, aggregated (min, max, average) by the database.
 */
export const METERED_TYPES = ['Machine', 'Volume', 'Network'] as const satisfies readonly ResourceType[];
export type MeteredType = (typeof METERED_TYPES)[number];

/** the aspect URI of a gateway metric (DSP0263 2.0.0 Table 51: a Provider may define its own aspects) */
export const METER_ASPECT = 'urn:cimi-gateway:meter:';

/** the units of each metric (provider-driver.ts UTILIZATION_METRICS) */
export const METRIC_UNITS: Readonly<Record<UtilizationMetric, string>> = {
  'cpu.time': 'nanoseconds',
  'memory.used': 'KB',
  'memory.total': 'KB',
  'disk.read.bytes': 'bytes',
  'disk.write.bytes': 'bytes',
  'disk.read.ops': 'operations',
  'disk.write.ops': 'operations',
  'net.rx.bytes': 'bytes',
  'net.tx.bytes': 'bytes',
  'net.rx.packets': 'packets',
  'net.tx.packets': 'packets',
};

/** counters only grow while the resource runs; gauges (memory.*) are the value now */
export const isCounter = (m: UtilizationMetric) => !m.startsWith('memory.');

export function isMetric(m: string): m is UtilizationMetric {
  return (UTILIZATION_METRICS as readonly string[]).includes(m);
}

export interface Meter {
  id: string;
  tenantId: string;
  resourceType: MeteredType;
  resourceId: string;
  metric: UtilizationMetric;
  units: string;
  created: Date;
  /** STARTED: it records samples; STOPPED: it does not (meter-state.ts) */
  state: MeterState;
  /** when it was stopped (DSP0263 2.0.0 Table 47 stopTime: "the time from which the meter stops tracking samples") */
  stopTime?: Date;
  /**
   * `provider`: made by the sampler for what the driver reports (one per resource and metric, id meterId());
   * `client`: made by Meter.create from a MeterTemplate (DSP0263 2.0.0 §5.17.4.1), a random id
   */
  origin?: MeterOrigin;
  name?: string;
  description?: string;
  properties?: Record<string, string>;
  /** a client Meter's own seconds between samples (its MeterConfiguration's sampleInterval); absent: every pass */
  sampleInterval?: number;
}

export type MeterOrigin = 'provider' | 'client';

/** one raw reading */
export interface MeterReading {
  at: Date;
  value: number;
}

/** one interval of an aggregated query: [start, end) */
export interface MeterBucket {
  start: Date;
  end: Date;
  min: number;
  max: number;
  avg: number;
  count: number;
}

export interface SampleQuery {
  from: Date;
  to: Date;
  /** seconds; absent: the raw readings */
  interval?: number;
  /** 1-based ordinals of the raw readings or buckets (paging) */
  first: number;
  last: number;
}

export interface MeterSamples {
  meter: Meter;
  from: Date;
  to: Date;
  interval?: number;
  /** raw readings (no interval) */
  readings?: MeterReading[];
  /** buckets with samples, oldest first (interval given) */
  buckets?: MeterBucket[];
  /** readings or buckets in the range, before first/last */
  count: number;
}

/** the id of the Meter of a resource's metric: a name-based UUID (RFC 4122 §4.3 layout), the same in every process */
export function meterId(resourceId: string, metric: UtilizationMetric): string {
  const h = createHash('sha1').update(`cimi-gateway meter ${resourceId} ${metric}`).digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * a Meter's seconds between two samples, the same in every door (DSP0263 2.0.0 Table 47 sampleInterval): its
 * own (its MeterConfiguration's), else the sampler's period (METER_SAMPLE_SECONDS)
 */
export function meterSampleInterval(m: Pick<Meter, 'sampleInterval'>, sampleSeconds: number): number {
  return m.sampleInterval ?? sampleSeconds;
}

/**
 * whether a Meter records a reading taken at `at`, its last one being at `lastAt`: when at least its sampleInterval
 * has passed (Table 47: "the time between consecutive samples"), less half a sampler period. A pass reads each
 * resource a little earlier or later than the one before; without the slack, a reading that came a few
 * milliseconds early would wait a whole further pass (an interval of 60 s sampled every 120 s).
 */
export function sampleDue(m: Pick<Meter, 'sampleInterval'>, lastAt: Date | undefined, at: Date, sampleSeconds: number): boolean {
  if (lastAt === undefined) return true;
  return at.getTime() - lastAt.getTime() >= meterSampleInterval(m, sampleSeconds) * 1000 - sampleSeconds * 500;
}

/** a Meter's readable name, the same in every door */
export function meterName(m: Pick<Meter, 'metric' | 'resourceType' | 'resourceId' | 'name'>): string {
  return m.name ?? `${m.metric} of ${m.resourceType} ${m.resourceId}`;
}

/** one Sample as every door shows it: its time, its value, and for an interval the bucket it stands for */
export interface SamplePoint {
  /** the reading's time; an interval's end (DSP0263 2.0.0 §5.17.3.1.1 Table 48: "the end of the time interval") */
  at: Date;
  /** the reading; an interval's average */
  value: number;
  /** the time the sample starts from (a reading's own time) and its interval in seconds (0 for a raw reading) */
  start: Date;
  interval: number;
  bucket?: MeterBucket;
}

/** The Samples of a query as points: the one rule of what a Sample's timestamp and value are (all three doors). */
export function samplePoints(s: MeterSamples): SamplePoint[] {
  if (s.buckets) return s.buckets.map((b) => ({ at: b.end, value: b.avg, start: b.start, interval: s.interval!, bucket: b }));
  return (s.readings ?? []).map((r) => ({ at: r.at, value: r.value, start: r.at, interval: 0 }));
}
