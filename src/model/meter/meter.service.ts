import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../shared/clock';
import { checkId } from '../shared/ids';
import { InvalidInputError, NotFoundError } from '../shared/model-error';
import type { OperationContext } from '../shared/operation-context';
import { UNIT_OF_WORK, type UnitOfWork } from '../shared/ports';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type Page } from '../shared/query';
import type { Meter, MeterSamples, SampleQuery } from './meter';
import { METER_OPTIONS, type MeterOptions } from './meter-sampler';
import { METER_ACTIONS, nextMeterState } from './meter-state';
import { Mutations, type MutationOptions } from '../shared/mutation';
import type { Job } from '../job/job';
import { ModelError } from '../shared/model-error';
import { checkCommon, type CommonInput } from '../shared/attr-validation';
import { newId } from '../shared/ids';
import type { Slot } from '../template/template-resolution';
import { resolveMeterTemplate } from './meter-definition';

/** MeterCreate (DSP0263 2.0.0 §5.17.4.1, DSP8009 MeterCreate): common attributes and a MeterTemplate slot */
export interface MeterCreateInput extends CommonInput {
  meterTemplate: Slot;
}

/** what a door asks of a Meter's samples; absent bounds default to the retention window up to now */
export interface SampleRequest {
  from?: Date;
  to?: Date;
  /** seconds */
  interval?: number;
  first?: number;
  last?: number;
  /**
   * keyset paging: the start of the last sample a previous page handed out; this page starts at the next one
   * (a reading 1 ms later, an interval one interval later, on the same grid)
   */
  after?: Date;
}

/**
 * the most Meters clients may define on one resource: each one is written at every pass, so their number bounds
 * the samples a resource costs (issue 14 §1: samples are kept "with a retention and a bounded rate")
 */
export const MAX_CLIENT_METERS_PER_RESOURCE = 32;

/** the longest aggregation interval: 31 days */
const MAX_INTERVAL_S = 31 * 86400;

/**
 * Meter.read, Meter.query, Meter.start, Meter.stop and MeterSample.query (docs/operations.md): a tenant reads and
 * changes its own Meters only.
 */
@Injectable()
export class MeterService {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(METER_OPTIONS) private readonly opts: MeterOptions,
    private readonly mutations: Mutations,
  ) {}

  /** the sampling interval of every Meter, seconds (DSP0263 2.0.0 Table 47 sampleInterval) */
  get sampleInterval(): number {
    return this.opts.sampleSeconds;
  }

  /** `Meter.read` */
  async get(ctx: OperationContext, id: string): Promise<Meter> {
    checkId('Meter', id);
    const m = await this.uow.read(ctx.tenantId, (tx) => tx.meters.get(id));
    if (!m) throw new NotFoundError('Meter', id);
    return m;
  }

  /**
   * `Meter.start` / `Meter.stop` (DSP0263 2.0.0 §5.17.3.2): the state table decides (meter-state.ts); no provider
   * step, so its Job is finished when it is written (every change records a Job, §5.17.1). A stopped Meter keeps
   * no samples until started again; stopTime says since when.
   */
  async act(ctx: OperationContext, id: string, action: string, opts: MutationOptions = {}): Promise<{ meter: Meter; job: Job }> {
    if (!METER_ACTIONS.includes(action)) throw new InvalidInputError(`a Meter has no action ${action}; its actions are ${METER_ACTIONS.join(', ')}`, 'action');
    checkId('Meter', id);
    const { job } = await this.mutations.run(ctx, `Meter.${action}`, { id }, opts, async (tx) => {
      const m = await tx.meters.get(id);
      if (!m) throw new NotFoundError('Meter', id);
      const state = nextMeterState(action, m.state, id);
      await tx.meters.setState(id, state, state === 'STOPPED' ? this.clock.now() : undefined);
      const j = this.mutations.newJob(ctx, { action, target: { type: 'Meter', id }, affected: [], done: true });
      await tx.jobs.insert(j);
      return { job: j };
    });
    // read after the transaction: an idempotent replay runs nothing and answers the Meter as it is now
    return { meter: await this.get(ctx, id), job };
  }

  /**
   * `Meter.create` (DSP0263 2.0.0 §5.17.4.1: "the add operation requires that a MeterTemplate be used"): the
   * template by reference or by value (meter-definition.ts decides what it may name); synchronous, so its Job is
   * finished when it is written. The Meter records from the sampler's next pass (meter-sampler.ts).
   */
  async create(ctx: OperationContext, input: MeterCreateInput, opts: MutationOptions = {}): Promise<{ meter: Meter; job: Job }> {
    const common = checkCommon(input);
    let id = '';
    const { job } = await this.mutations.run(ctx, 'Meter.create', input, opts, async (tx) => {
      const def = await resolveMeterTemplate(tx, input.meterTemplate, { needTarget: true });
      if (def.sampleInterval !== undefined && def.sampleInterval < this.opts.sampleSeconds) {
        throw new InvalidInputError(`sampleInterval ${def.sampleInterval} is shorter than the provider's sampling period of ${this.opts.sampleSeconds} seconds`, 'meterConfig', 'METER.INVALID_CONFIGURATION');
      }
      const target = def.target!;
      if ((await tx.meters.countClientMeters(target.id)) >= MAX_CLIENT_METERS_PER_RESOURCE) {
        throw new ModelError('quota', 'METER.TOO_MANY', `${target.type} ${target.id} has ${MAX_CLIENT_METERS_PER_RESOURCE} Meters made from templates already, the most it may have: delete one first`, { resourceId: target.id, resourceType: target.type });
      }
      const name = common.name ?? def.name;
      const description = common.description ?? def.description;
      const properties = common.properties ?? def.properties;
      const m: Meter = {
        id: newId(),
        tenantId: ctx.tenantId,
        resourceType: target.type,
        resourceId: target.id,
        metric: def.metric,
        units: def.units,
        created: this.clock.now(),
        state: 'STARTED',
        origin: 'client',
        ...(name !== undefined ? { name } : {}),
        ...(description !== undefined ? { description } : {}),
        ...(properties && Object.keys(properties).length ? { properties } : {}),
        ...(def.sampleInterval !== undefined ? { sampleInterval: def.sampleInterval } : {}),
      };
      await tx.meters.insert(m);
      const j = this.mutations.newJob(ctx, { action: 'add', target: { type: 'Meter', id: m.id }, affected: [target], done: true });
      await tx.jobs.insert(j);
      return { job: j };
    });
    // an idempotent replay ran nothing: its Job names the Meter it made
    id = job.targetResource.id;
    return { meter: await this.get(ctx, id), job };
  }

  /**
   * `Meter.delete` (DSP0263 2.0.0 §5.17.3.2) of a Meter a client made, with its samples. The sampler's Meters are
   * the provider's readings of a resource (made again on its next pass): they are stopped, not deleted.
   */
  async delete(ctx: OperationContext, id: string, opts: MutationOptions = {}): Promise<{ job: Job }> {
    checkId('Meter', id);
    const { job } = await this.mutations.run(ctx, 'Meter.delete', { id }, opts, async (tx) => {
      const m = await tx.meters.get(id);
      if (!m) throw new NotFoundError('Meter', id);
      if (m.origin !== 'client') {
        throw new ModelError('invalid-state', 'METER.NOT_DELETABLE', `Meter ${id} is the provider's reading of ${m.resourceType} ${m.resourceId}, made again on the next pass: stop it instead`, { resourceId: id, resourceType: 'Meter', action: 'delete' });
      }
      await tx.meters.delete(id);
      const j = this.mutations.newJob(ctx, { action: 'delete', target: { type: 'Meter', id }, affected: [{ type: m.resourceType, id: m.resourceId }], done: true });
      await tx.jobs.insert(j);
      return { job: j };
    });
    return { job };
  }

  /** `Meter.query`: in id order */
  async list(ctx: OperationContext, q: { first?: number; last?: number; after?: string } = {}): Promise<Page<Meter>> {
    const [first, last] = pageOf(q.first, q.last);
    return this.uow.read(ctx.tenantId, (tx) => tx.meters.list({ first, last, ...(q.after !== undefined ? { after: q.after } : {}) }));
  }

  /**
   * `MeterSample.query`: the readings of [from, to), or with `interval` (seconds) the min, max, average and count
   * of each interval that has readings, aggregated by the database (DSP0263 2.0.0 Table 48: timestamp, value).
   */
  async samples(ctx: OperationContext, id: string, r: SampleRequest = {}): Promise<MeterSamples> {
    const q = this.checkQuery(r);
    const meter = await this.get(ctx, id);
    if (r.after !== undefined) {
      const next = r.after.getTime() + Math.max(1, (q.interval ?? 0) * 1000);
      if (next >= q.to.getTime()) return { meter, from: q.from, to: q.to, ...(q.interval !== undefined ? { interval: q.interval, buckets: [] } : { readings: [] }), count: 0 };
      if (next > q.from.getTime()) q.from = new Date(next);
    }
    if (q.interval === undefined) {
      const page = await this.uow.read(ctx.tenantId, (tx) => tx.meters.readings(id, q));
      return { meter, from: q.from, to: q.to, readings: page.items, count: page.count };
    }
    const page = await this.uow.read(ctx.tenantId, (tx) => tx.meters.buckets(id, { ...q, interval: q.interval! }));
    return { meter, from: q.from, to: q.to, interval: q.interval, buckets: page.items, count: page.count };
  }

  /** the business rules of a sample query, checked before anything is read */
  private checkQuery(r: SampleRequest): SampleQuery {
    for (const [k, d] of [['from', r.from], ['to', r.to], ['after', r.after]] as const) if (d !== undefined && !Number.isFinite(d.getTime())) throw new InvalidInputError(`${k} is not a time`, k, 'METER.INVALID_RANGE');
    // `to` is exclusive: by default just after now, so that a reading taken now is in
    const to = r.to ?? new Date(this.clock.now().getTime() + 1);
    const from = r.from ?? new Date(to.getTime() - this.opts.retentionHours * 3600_000);
    if (from.getTime() >= to.getTime()) throw new InvalidInputError(`from (${from.toISOString()}) must be before to (${to.toISOString()})`, 'from', 'METER.INVALID_RANGE');
    if (r.interval !== undefined && (!Number.isSafeInteger(r.interval) || r.interval < 1 || r.interval > MAX_INTERVAL_S)) {
      throw new InvalidInputError(`interval must be a whole number of seconds from 1 to ${MAX_INTERVAL_S}, not ${r.interval}`, 'interval', 'METER.INVALID_INTERVAL');
    }
    const [first, last] = pageOf(r.first, r.last);
    return { from, to, ...(r.interval !== undefined ? { interval: r.interval } : {}), first, last };
  }
}

/** 1-based first/last with the page caps of every collection (docs/reliability.md rule 4) */
function pageOf(first?: number, last?: number): [number, number] {
  const f = first ?? 1;
  if (!Number.isSafeInteger(f) || f < 1) throw new InvalidInputError(`first must be a whole number from 1, not ${first}`, 'first');
  const l = last ?? f + DEFAULT_PAGE_SIZE - 1;
  if (!Number.isSafeInteger(l) || l < f) throw new InvalidInputError(`last must be a whole number not below first, not ${last}`, 'last');
  return [f, Math.min(l, f + MAX_PAGE_SIZE - 1)];
}
