import type { EntityManager } from 'typeorm';
import type { Meter, MeterBucket, MeterReading, MeteredType, SampleQuery } from '../../model/meter/meter';
import type { MeterState } from '../../model/meter/meter-state';
import type { UtilizationMetric } from '../../model/provider/provider-driver';
import type { ClientMeterDue, MeterStore } from '../../model/shared/ports';
import type { Page } from '../../model/shared/query';
import { inList, Sql, type Params } from './sql';

/** rows per statement: well under either engine's bound-parameter limit (SQLite 32766, PostgreSQL 65535) */
const CHUNK = 500;

const COLS = 'id, tenant_id, resource_type, resource_id, metric, units, created_ms, state, stop_ms, origin, name, description, sample_interval, properties';

/** A tenant's Meters and samples; time ranges, paging and per-interval aggregates are SQL (issue 14 §1). */
export class TypeormMeterStore implements MeterStore {
  private readonly sql: Sql;

  constructor(
    manager: EntityManager,
    readonly tenantId: string,
  ) {
    this.sql = new Sql(manager);
  }

  /** an integer parameter as an integer in either engine (better-sqlite3 may bind a number as REAL) */
  private int(name: string): string {
    return this.sql.dialect === 'sqlite' ? `CAST(:${name} AS INTEGER)` : `CAST(:${name} AS BIGINT)`;
  }

  async ensure(meters: readonly Meter[]): Promise<void> {
    // one statement per chunk, not per Meter: the sampler calls this for every page of resources
    for (let i = 0; i < meters.length; i += CHUNK) {
      const params: Params = { tenant: this.tenantId };
      const rows = meters.slice(i, i + CHUNK).map((m, j) => {
        Object.assign(params, { [`i${j}`]: m.id, [`t${j}`]: m.resourceType, [`r${j}`]: m.resourceId, [`m${j}`]: m.metric, [`u${j}`]: m.units, [`c${j}`]: m.created.getTime(), [`s${j}`]: m.state, [`x${j}`]: m.stopTime?.getTime() ?? null });
        return `(:i${j}, :tenant, :t${j}, :r${j}, :m${j}, :u${j}, ${this.int(`c${j}`)}, :s${j}, ${this.int(`x${j}`)}, 'provider', NULL, NULL, NULL, NULL)`;
      });
      await this.sql.exec(`INSERT INTO meter (${COLS}) VALUES ${rows.join(', ')} ON CONFLICT (id) DO NOTHING`, params);
    }
  }

  async insert(m: Meter): Promise<void> {
    await this.sql.exec(`INSERT INTO meter (${COLS}) VALUES (:id, :tenant, :type, :resource, :metric, :units, :created, :state, :stop, :origin, :name, :description, :interval, :properties)`, {
      id: m.id,
      tenant: this.tenantId,
      type: m.resourceType,
      resource: m.resourceId,
      metric: m.metric,
      units: m.units,
      created: m.created.getTime(),
      state: m.state,
      stop: m.stopTime?.getTime() ?? null,
      origin: m.origin ?? 'client',
      name: m.name ?? null,
      description: m.description ?? null,
      interval: m.sampleInterval ?? null,
      properties: m.properties && Object.keys(m.properties).length ? JSON.stringify(m.properties) : null,
    });
  }

  async countClientMeters(resourceId: string): Promise<number> {
    // PostgreSQL READ COMMITTED: two creates would both count 31 and both insert; they take turns per resource
    // (SQLite runs one write transaction at a time already)
    if (this.sql.dialect === 'postgres') await this.sql.rows('SELECT pg_advisory_xact_lock(hashtext(:key))', { key: `meter:${this.tenantId}:${resourceId}` });
    const [r] = await this.sql.rows("SELECT COUNT(*) AS n FROM meter WHERE tenant_id = :tenant AND resource_id = :resource AND origin = 'client'", { tenant: this.tenantId, resource: resourceId });
    return Number(r?.n ?? 0);
  }

  async delete(id: string): Promise<boolean> {
    const p = { tenant: this.tenantId, id };
    await this.sql.exec('DELETE FROM meter_sample WHERE tenant_id = :tenant AND meter_id = :id', p);
    return (await this.sql.exec('DELETE FROM meter WHERE tenant_id = :tenant AND id = :id', p)) > 0;
  }

  async startedClientMeters(resourceIds: readonly string[]): Promise<ClientMeterDue[]> {
    const out: ClientMeterDue[] = [];
    const ids = [...new Set(resourceIds)];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const params: Params = { tenant: this.tenantId };
      const rows = await this.sql.rows(
        `SELECT id, resource_id, metric, sample_interval FROM meter WHERE tenant_id = :tenant AND origin = 'client' AND state = 'STARTED' AND resource_id IN (${inList('r', ids.slice(i, i + CHUNK), params)})`,
        params,
      );
      for (const r of rows) {
        out.push({ id: String(r.id), resourceId: String(r.resource_id), metric: r.metric as UtilizationMetric, ...(r.sample_interval !== null && r.sample_interval !== undefined ? { sampleInterval: Number(r.sample_interval) } : {}) });
      }
    }
    // the last sample only matters to a Meter with its own interval (the others record at every pass)
    const spaced = out.filter((m) => m.sampleInterval !== undefined);
    const byId = new Map(spaced.map((m) => [m.id, m]));
    for (let i = 0; i < spaced.length; i += CHUNK) {
      const params: Params = { tenant: this.tenantId };
      const ids = spaced.slice(i, i + CHUNK).map((m) => m.id);
      // one index seek per Meter (the sample key is meter_id, at_ms): a GROUP BY over the samples read every
      // retained sample of each Meter, inside the sampler's write transaction
      const rows = await this.sql.rows(
        `SELECT m.id AS meter_id, (SELECT MAX(s.at_ms) FROM meter_sample s WHERE s.meter_id = m.id) AS at FROM meter m WHERE m.tenant_id = :tenant AND m.id IN (${inList('m', ids, params)})`,
        params,
      );
      for (const r of rows) if (r.at !== null && r.at !== undefined) byId.get(String(r.meter_id))!.lastAt = new Date(Number(r.at));
    }
    return out;
  }

  async get(id: string): Promise<Meter | undefined> {
    const [r] = await this.sql.rows(`SELECT ${COLS} FROM meter WHERE tenant_id = :tenant AND id = :id`, { tenant: this.tenantId, id });
    return r ? toMeter(r) : undefined;
  }

  async list(q: { first: number; last: number; after?: string }): Promise<Page<Meter>> {
    const params: Params = { tenant: this.tenantId, n: q.last - q.first + 1, skip: q.first - 1 };
    const after = q.after !== undefined ? ' AND id > :after' : '';
    if (q.after !== undefined) params.after = q.after;
    const rows = await this.sql.rows(`SELECT ${COLS} FROM meter WHERE tenant_id = :tenant${after} ORDER BY id LIMIT ${this.int('n')} OFFSET ${this.int('skip')}`, params);
    const [c] = await this.sql.rows(`SELECT COUNT(*) AS n FROM meter WHERE tenant_id = :tenant${after}`, params);
    return { items: rows.map(toMeter), count: Number(c?.n ?? 0) };
  }

  async setState(id: string, state: MeterState, stopTime?: Date): Promise<void> {
    await this.sql.exec('UPDATE meter SET state = :state, stop_ms = :stop WHERE tenant_id = :tenant AND id = :id', { tenant: this.tenantId, id, state, stop: stopTime?.getTime() ?? null });
  }

  async record(samples: readonly { meterId: string; at: Date; value: number }[]): Promise<number> {
    let kept = 0;
    for (let i = 0; i < samples.length; i += CHUNK) {
      const params: Params = { tenant: this.tenantId };
      const rows = samples.slice(i, i + CHUNK).map((x, j) => {
        Object.assign(params, { [`m${j}`]: x.meterId, [`a${j}`]: x.at.getTime(), [`v${j}`]: x.value });
        return `(CAST(:m${j} AS VARCHAR(36)), ${this.int(`a${j}`)}, CAST(:v${j} AS DOUBLE PRECISION))`;
      });
      // DSP0263 2.0.0 §5.17.3.2: a stopped Meter "shall no longer be recording samples", checked in the insert
      // itself; SQLite's upsert needs the SELECT's WHERE to parse, so the join is written there
      kept += await this.sql.exec(
        `INSERT INTO meter_sample (meter_id, at_ms, tenant_id, value) SELECT v.column1, v.column2, :tenant, v.column3 FROM (VALUES ${rows.join(', ')}) v, meter m WHERE m.tenant_id = :tenant AND m.id = v.column1 AND m.state = 'STARTED' ON CONFLICT (meter_id, at_ms) DO NOTHING`,
        params,
      );
    }
    return kept;
  }

  private range(meterId: string, q: SampleQuery): Params {
    return { tenant: this.tenantId, meter: meterId, from: q.from.getTime(), to: q.to.getTime(), n: q.last - q.first + 1, skip: q.first - 1 };
  }

  async readings(meterId: string, q: SampleQuery): Promise<Page<MeterReading>> {
    const p = this.range(meterId, q);
    const where = `tenant_id = :tenant AND meter_id = :meter AND at_ms >= ${this.int('from')} AND at_ms < ${this.int('to')}`;
    const rows = await this.sql.rows(`SELECT at_ms, value FROM meter_sample WHERE ${where} ORDER BY at_ms LIMIT ${this.int('n')} OFFSET ${this.int('skip')}`, p);
    const [c] = await this.sql.rows(`SELECT COUNT(*) AS n FROM meter_sample WHERE ${where}`, p);
    return { items: rows.map((r) => ({ at: new Date(Number(r.at_ms)), value: Number(r.value) })), count: Number(c?.n ?? 0) };
  }

  async buckets(meterId: string, q: SampleQuery & { interval: number }): Promise<Page<MeterBucket>> {
    const p = { ...this.range(meterId, q), step: q.interval * 1000 };
    // at_ms >= from, so the integer division is the floor: bucket b is [from + b·step, from + (b+1)·step)
    const inner = `SELECT (at_ms - ${this.int('from')}) / ${this.int('step')} AS b, value FROM meter_sample WHERE tenant_id = :tenant AND meter_id = :meter AND at_ms >= ${this.int('from')} AND at_ms < ${this.int('to')}`;
    const rows = await this.sql.rows(
      `SELECT s.b AS b, MIN(s.value) AS mn, MAX(s.value) AS mx, AVG(s.value) AS av, COUNT(*) AS n FROM (${inner}) s GROUP BY s.b ORDER BY s.b LIMIT ${this.int('n')} OFFSET ${this.int('skip')}`,
      p,
    );
    const [c] = await this.sql.rows(`SELECT COUNT(DISTINCT s.b) AS n FROM (${inner}) s`, p);
    const from = q.from.getTime();
    const step = q.interval * 1000;
    return {
      items: rows.map((r) => {
        const start = from + Number(r.b) * step;
        return { start: new Date(start), end: new Date(start + step), min: Number(r.mn), max: Number(r.mx), avg: Number(r.av), count: Number(r.n) };
      }),
      count: Number(c?.n ?? 0),
    };
  }

  async purge(cutoff: Date): Promise<number> {
    const p = { tenant: this.tenantId, cutoff: cutoff.getTime() };
    let n = await this.sql.exec(`DELETE FROM meter_sample WHERE tenant_id = :tenant AND at_ms < ${this.int('cutoff')}`, p);
    // DSP0263 2.0.0 §5.17.3: the Meters of a deleted resource are deleted with it
    const orphan = 'SELECT m.id FROM meter m WHERE m.tenant_id = :tenant AND NOT EXISTS (SELECT 1 FROM resource r WHERE r.tenant_id = m.tenant_id AND r.id = m.resource_id)';
    n += await this.sql.exec(`DELETE FROM meter_sample WHERE tenant_id = :tenant AND meter_id IN (${orphan})`, p);
    await this.sql.exec(`DELETE FROM meter WHERE tenant_id = :tenant AND id IN (${orphan})`, p);
    return n;
  }
}

function toMeter(r: Record<string, unknown>): Meter {
  return {
    id: String(r.id),
    tenantId: String(r.tenant_id),
    resourceType: r.resource_type as MeteredType,
    resourceId: String(r.resource_id),
    metric: r.metric as UtilizationMetric,
    units: String(r.units),
    created: new Date(Number(r.created_ms)),
    state: r.state as MeterState,
    ...(r.stop_ms !== null && r.stop_ms !== undefined ? { stopTime: new Date(Number(r.stop_ms)) } : {}),
    origin: r.origin === 'client' ? 'client' : 'provider',
    ...(r.name !== null && r.name !== undefined ? { name: String(r.name) } : {}),
    ...(r.description !== null && r.description !== undefined ? { description: String(r.description) } : {}),
    ...(r.sample_interval !== null && r.sample_interval !== undefined ? { sampleInterval: Number(r.sample_interval) } : {}),
    ...(typeof r.properties === 'string' ? { properties: JSON.parse(r.properties) as Record<string, string> } : {}),
  };
}
