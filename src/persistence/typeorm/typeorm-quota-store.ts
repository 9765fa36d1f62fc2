import type { EntityManager } from 'typeorm';
import { FINAL_JOB_STATES, JOB_STATES } from '../../model/job/job-state';
import { QUOTA_METRICS, QUOTA_METRIC_NAMES, type QuotaLimits, type QuotaMetricSpec, type QuotaUsage } from '../../model/quota/quota';
import type { QuotaStore } from '../../model/shared/ports';
import { inList, Sql, type Params } from './sql';

const UNFINISHED = JOB_STATES.filter((s) => !FINAL_JOB_STATES.includes(s));
const RESOURCE_METRICS = QUOTA_METRIC_NAMES.filter((m) => QUOTA_METRICS[m].of !== 'Job');
const SUMMED: string[] = [...new Set(RESOURCE_METRICS.flatMap((m) => { const spec: QuotaMetricSpec = QUOTA_METRICS[m]; return spec.sum ? [spec.sum] : []; }))];

/** A tenant's quota rows and its usage, aggregated by the database in two statements (issue 16 §3). */
export class TypeormQuotaStore implements QuotaStore {
  private readonly sql: Sql;

  constructor(
    manager: EntityManager,
    readonly tenantId: string,
  ) {
    this.sql = new Sql(manager);
  }

  async limits(lock = false): Promise<QuotaLimits> {
    // SQLite has no row locks: its write transactions already run one at a time (BEGIN IMMEDIATE)
    const forUpdate = lock && this.sql.dialect === 'postgres' ? ' FOR UPDATE' : '';
    const rows = await this.sql.rows(`SELECT metric, max_value FROM tenant_quota WHERE tenant_id = :tenant${forUpdate}`, { tenant: this.tenantId });
    const out: QuotaLimits = {};
    for (const r of rows) if (QUOTA_METRIC_NAMES.includes(r.metric as never)) out[r.metric as keyof QuotaLimits] = Number(r.max_value);
    return out;
  }

  async replace(limits: QuotaLimits): Promise<void> {
    await this.sql.exec('DELETE FROM tenant_quota WHERE tenant_id = :tenant', { tenant: this.tenantId });
    for (const [metric, max] of Object.entries(limits)) {
      if (max === undefined) continue;
      await this.sql.exec('INSERT INTO tenant_quota (tenant_id, metric, max_value) VALUES (:tenant, :metric, :max)', { tenant: this.tenantId, metric, max });
    }
  }

  async usage(): Promise<QuotaUsage> {
    const params: Params = { tenant: this.tenantId };
    const types = inList('t', [...new Set(RESOURCE_METRICS.map((m) => QUOTA_METRICS[m].of))], params);
    const sums = SUMMED.map((a, i) => `, COALESCE(SUM(${this.intAttr(a)}), 0) AS s${i}`).join('');
    const rows = await this.sql.rows(`SELECT r.type AS type, COUNT(*) AS n${sums} FROM resource r WHERE r.tenant_id = :tenant AND r.type IN (${types}) GROUP BY r.type`, params);
    const jobParams: Params = { tenant: this.tenantId };
    const [jobs] = await this.sql.rows(`SELECT COUNT(*) AS n FROM job WHERE tenant_id = :tenant AND state IN (${inList('s', UNFINISHED, jobParams)})`, jobParams);
    const out = {} as QuotaUsage;
    for (const m of QUOTA_METRIC_NAMES) {
      const spec: QuotaMetricSpec = QUOTA_METRICS[m];
      if (spec.of === 'Job') {
        out[m] = Number(jobs?.n ?? 0);
        continue;
      }
      const row = rows.find((r) => r.type === spec.of);
      out[m] = row ? Number(spec.sum ? row[`s${SUMMED.indexOf(spec.sum)}`] : row.n) : 0;
    }
    return out;
  }

  /** an integer attribute of `r.attrs` (JSON text); the names come from QUOTA_METRICS, never from a request */
  private intAttr(name: string): string {
    return this.sql.dialect === 'sqlite' ? `CAST(json_extract(r.attrs, '$.${name}') AS INTEGER)` : `((r.attrs::jsonb ->> '${name}')::bigint)`;
  }
}
