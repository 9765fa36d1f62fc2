import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { CLOCK, type Clock } from '../shared/clock';
import { IDENTITY_STORE, UNIT_OF_WORK, type IdentityStore, type UnitOfWork } from '../shared/ports';
import { PROVIDER_DRIVER, ProviderError, type ProviderDriver, type UtilizationMetric } from '../provider/provider-driver';
import { isMetric, METERED_TYPES, meterId, METRIC_UNITS, sampleDue, type Meter, type MeteredType } from './meter';
import { PeriodicPass } from '../shared/periodic-pass';

export interface MeterOptions {
  /** METER_SAMPLE_SECONDS: the timer's period and the least time between two passes (the rate bound) */
  sampleSeconds: number;
  /** METER_RETENTION_HOURS: samples older than this are purged */
  retentionHours: number;
  /** false: no timer (passes only when asked: sampleNow) */
  timer: boolean;
}
export const METER_OPTIONS = Symbol('METER_OPTIONS');

const PAGE = 200;

/**
 * Samples the provider's utilization (ProviderDriver.utilization) of every Machine, Volume and Network of every
 * tenant, at most once per `sampleSeconds`, and keeps the readings for `retentionHours` (issue 14 §1). A metric the
 * driver reports for a resource gets its Meter the first time (DSP0263 2.0.0 §5.17.3); a resource it reports
 * nothing for (not running) gets no sample, and a STOPPED Meter keeps none (MeterStore.record, DSP0263 2.0.0
 * §5.17.3.2 stop). One pass at a time; started by the bootstrap, stopped at shutdown.
 */
@Injectable()
export class MeterSampler implements OnApplicationShutdown {
  private readonly log = new Logger('MeterSampler');
  private readonly passes = new PeriodicPass('meter pass', this.log, () => this.pass());
  private lastPass = -Infinity;

  constructor(
    @Inject(PROVIDER_DRIVER) private readonly driver: ProviderDriver,
    @Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork,
    @Inject(IDENTITY_STORE) private readonly identity: IdentityStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(METER_OPTIONS) private readonly opts: MeterOptions,
  ) {}

  start(): void {
    if (!this.driver.utilization || !this.opts.timer) return;
    this.passes.every(this.opts.sampleSeconds * 1000, () => this.sampleNow());
  }

  /**
   * One pass now, unless the last one began less than `sampleSeconds` ago (then 0: the rate bound). Returns how
   * many samples it kept. Tests and operators call it; the timer does too.
   */
  sampleNow(): Promise<number> {
    const current = this.passes.current;
    if (current) return current;
    const now = this.clock.now().getTime();
    if (this.passes.stopped || now - this.lastPass < this.opts.sampleSeconds * 1000) return Promise.resolve(0);
    this.lastPass = now;
    return this.passes.run();
  }

  /** removes samples older than the retention (as of `now`) and the Meters of deleted resources; returns how many samples */
  async purge(now = this.clock.now()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.opts.retentionHours * 3600_000);
    let n = 0;
    for (const t of await this.identity.listTenants()) n += await this.uow.transaction(t.id, (tx) => tx.meters.purge(cutoff));
    return n;
  }

  private async pass(): Promise<number> {
    const read = this.driver.utilization?.bind(this.driver);
    if (!read) return 0;
    let kept = 0;
    for (const tenant of await this.identity.listTenants()) {
      for (const type of METERED_TYPES) {
        let after: string | undefined;
        for (;;) {
          if (this.passes.stopped) return kept;
          let page: { items: { id: string }[] };
          try {
            page = await this.uow.read(tenant.id, (tx) => tx.resources.list(type, { first: 1, last: PAGE, ...(after ? { after } : {}) }));
          } catch (e) {
            // one tenant's failure must not cost the other tenants their samples, nor everyone the purge
            this.log.error(`meter pass: listing the ${type}s of tenant ${tenant.id} failed: ${(e as Error).message}`);
            break;
          }
          if (page.items.length) {
            try {
              kept += await this.samplePage(read, tenant.id, type, page.items);
            } catch (e) {
              if (!(e instanceof ProviderError && e.unavailable)) this.log.error(`meter pass: a page of the ${type}s of tenant ${tenant.id} failed: ${(e as Error).message}`);
            }
          }
          if (page.items.length < PAGE) break;
          after = page.items[page.items.length - 1].id;
        }
      }
    }
    await this.purgeEach();
    return kept;
  }

  /** the readings of one page of resources, kept in one transaction; returns how many samples */
  private async samplePage(read: NonNullable<ProviderDriver['utilization']>, tenantId: string, type: MeteredType, items: readonly { id: string }[]): Promise<number> {
    const readings = await read(items.map((r) => ({ tenantId, type, id: r.id })));
    const meters: Meter[] = [];
    const samples: { meterId: string; at: Date; value: number }[] = [];
    items.forEach((r, i) => {
      const reading = readings[i];
      if (!reading) return;
      for (const [metric, value] of Object.entries(reading.values)) {
        if (!isMetric(metric) || typeof value !== 'number' || !Number.isFinite(value)) continue;
        const id = meterId(r.id, metric);
        meters.push({ id, tenantId, resourceType: type, resourceId: r.id, metric: metric as UtilizationMetric, units: METRIC_UNITS[metric], created: reading.at, state: 'STARTED' });
        samples.push({ meterId: id, at: reading.at, value });
      }
    });
    if (!samples.length) return 0;
    return this.uow.transaction(tenantId, async (tx) => {
      await tx.meters.ensure(meters);
      let kept = await tx.meters.record(samples);
      // the Meters clients made from a MeterTemplate (Meter.create) read the same values: read once per page,
      // nothing more to write for a page (or a tenant) that has none
      const clients = await tx.meters.startedClientMeters(meters.map((m) => m.resourceId));
      if (clients.length) {
        const value = new Map(samples.map((x, i) => [`${meters[i].resourceId} ${meters[i].metric}`, x]));
        const due: { meterId: string; at: Date; value: number }[] = [];
        for (const c of clients) {
          const x = value.get(`${c.resourceId} ${c.metric}`);
          if (x && sampleDue(c, c.lastAt, x.at, this.opts.sampleSeconds)) due.push({ meterId: c.id, at: x.at, value: x.value });
        }
        if (due.length) kept += await tx.meters.record(due);
      }
      return kept;
    });
  }

  /** purge, tenant by tenant: one that fails is logged and the others are still purged */
  private async purgeEach(now = this.clock.now()): Promise<void> {
    const cutoff = new Date(now.getTime() - this.opts.retentionHours * 3600_000);
    for (const t of await this.identity.listTenants()) {
      try {
        await this.uow.transaction(t.id, (tx) => tx.meters.purge(cutoff));
      } catch (e) {
        this.log.error(`meter pass: purging tenant ${t.id} failed: ${(e as Error).message}`);
      }
    }
  }

  onApplicationShutdown(): Promise<void> {
    return this.passes.stop();
  }
}
