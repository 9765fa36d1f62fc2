import { ModelError } from '../shared/model-error';
import type { ResourceType } from '../shared/resource';

/**
 * Per-tenant quotas (issue 16 §3), as data: what each metric measures. Usage counts every stored resource of the
 * type whatever its state (a Machine being deleted still holds its vCPUs until the provider has released it), and
 * every unfinished Job. Units are CIMI's: memory and capacity in kilobytes (DSP0263 2.0.0 §5.14.4, §5.15.3).
 */
export const QUOTA_METRICS = {
  machines: { of: 'Machine', label: 'machines' },
  cpu: { of: 'Machine', sum: 'cpu', label: 'vCPUs' },
  memory: { of: 'Machine', sum: 'memory', label: 'KB of machine memory' },
  volumes: { of: 'Volume', label: 'volumes' },
  storage: { of: 'Volume', sum: 'capacity', label: 'KB of volume capacity' },
  networks: { of: 'Network', label: 'networks' },
  concurrentJobs: { of: 'Job', label: 'unfinished jobs' },
} as const satisfies Record<string, QuotaMetricSpec>;

/** a count of the type's resources, or the sum of one of their integer attributes; for 'Job', the unfinished Jobs */
export interface QuotaMetricSpec {
  of: ResourceType | 'Job';
  sum?: string;
  label: string;
}

export type QuotaMetric = keyof typeof QUOTA_METRICS;
export const QUOTA_METRIC_NAMES = Object.keys(QUOTA_METRICS) as QuotaMetric[];

/** the limits a tenant has; a metric without one is unlimited */
export type QuotaLimits = Partial<Record<QuotaMetric, number>>;
/** what a tenant uses now, every metric */
export type QuotaUsage = Record<QuotaMetric, number>;

export function isQuotaMetric(name: string): name is QuotaMetric {
  return Object.prototype.hasOwnProperty.call(QUOTA_METRICS, name);
}

/**
 * The refusal of a change that raised a metric past its limit. A metric already over its limit (the limit was
 * lowered) refuses only what would raise it further: deletes, stops and anything that does not add still work.
 */
export function quotaViolation(limits: QuotaLimits, before: QuotaUsage, after: QuotaUsage): ModelError | undefined {
  for (const m of QUOTA_METRIC_NAMES) {
    const max = limits[m];
    if (max === undefined || after[m] <= max || after[m] <= before[m]) continue;
    const { label } = QUOTA_METRICS[m];
    return new ModelError(
      'quota',
      'QUOTA.EXCEEDED',
      `quota exceeded: this request needs ${after[m] - before[m]} ${label} and the tenant uses ${before[m]} of its limit of ${max} (quota ${m})`,
      { metric: m, limit: max, used: before[m], requested: after[m] - before[m] },
    );
  }
  return undefined;
}
