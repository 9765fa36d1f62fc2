import { Inject, Injectable } from '@nestjs/common';
import { requireAdmin } from '../shared/authorization';
import { InvalidInputError, NotFoundError } from '../shared/model-error';
import type { OperationContext } from '../shared/operation-context';
import { IDENTITY_STORE, UNIT_OF_WORK, type IdentityStore, type TenantRecord, type UnitOfWork } from '../shared/ports';
import { isQuotaMetric, QUOTA_METRIC_NAMES, type QuotaLimits, type QuotaMetric } from './quota';

/** one metric of a tenant: its limit (absent: unlimited) and what is in use now */
export interface QuotaLine {
  metric: QuotaMetric;
  limit?: number;
  used: number;
}

export interface QuotaReport {
  tenant: string;
  metrics: QuotaLine[];
}

/** a change of limits: a number sets the metric's limit, null removes it (unlimited) */
export type QuotaChange = Partial<Record<string, number | null>>;

/**
 * Quota limits and usage per tenant (issue 16 §3). The limits are enforced by Mutations.run, in the transaction of
 * every change; this service reads them with the usage and lets an admin change them.
 */
@Injectable()
export class QuotaService {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork,
    @Inject(IDENTITY_STORE) private readonly identities: IdentityStore,
  ) {}

  /** `Quota.read`: the caller's own tenant, or (an admin) any tenant named */
  async get(ctx: OperationContext, tenantName?: string): Promise<QuotaReport> {
    const t = await this.tenantOf(ctx, tenantName);
    if (t.id !== ctx.tenantId) requireAdmin(ctx, "read another tenant's quota");
    return this.report(t);
  }

  /** `Quota.set`: changes the named metrics' limits of a tenant, the others stay as they are */
  async set(ctx: OperationContext, tenantName: string, change: QuotaChange): Promise<QuotaReport> {
    requireAdmin(ctx, 'set quotas');
    const entries = Object.entries(change);
    if (entries.length === 0) throw new InvalidInputError('name at least one quota metric to change', 'limit');
    for (const [metric, max] of entries) {
      if (!isQuotaMetric(metric)) throw new InvalidInputError(`unknown quota metric ${metric}; the metrics are ${QUOTA_METRIC_NAMES.join(', ')}`, 'metric', 'QUOTA.UNKNOWN_METRIC');
      if (max !== null && max !== undefined && (!Number.isSafeInteger(max) || max < 0)) throw new InvalidInputError(`the limit of ${metric} must be a whole number from 0 up, not ${max}`, 'max');
    }
    const t = await this.tenantOf(ctx, tenantName);
    await this.uow.transaction(t.id, async (tx) => {
      const limits: QuotaLimits = { ...(await tx.quotas.limits(true)) };
      for (const [metric, max] of entries) {
        if (max === null || max === undefined) delete limits[metric as QuotaMetric];
        else limits[metric as QuotaMetric] = max;
      }
      await tx.quotas.replace(limits);
    });
    return this.report(t);
  }

  private async report(t: TenantRecord): Promise<QuotaReport> {
    const [limits, usage] = await this.uow.read(t.id, (tx) => Promise.all([tx.quotas.limits(), tx.quotas.usage()]));
    return { tenant: t.name, metrics: QUOTA_METRIC_NAMES.map((metric) => ({ metric, ...(limits[metric] !== undefined ? { limit: limits[metric] } : {}), used: usage[metric] })) };
  }

  private async tenantOf(ctx: OperationContext, name: string | undefined): Promise<TenantRecord> {
    const t = name === undefined || name === '' ? await this.identities.findTenant(ctx.tenantId) : await this.identities.findTenantByName(name);
    if (!t) throw new NotFoundError('Tenant', name ?? ctx.tenantId);
    return t;
  }
}
