import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { ENGINES } from '../../support/databases';
import { MeterSampler } from '../../../src/model/meter/meter-sampler';
import { meterId } from '../../../src/model/meter/meter';
import { simulatedUtilization } from '../../../src/provider/simulated/simulated.driver';
import { UTILIZATION_METRICS, type UtilizationMetric } from '../../../src/model/provider/provider-driver';
import { Sql } from '../../../src/persistence/typeorm/sql';
import { DATA_SOURCE } from '../../../src/persistence/typeorm/data-source';
import { ACT, all, envelope as wsEnvelope, fault as wsFault, NS, one, post as wsPost, props, restJob, restMachine, restPost, text, VENDOR } from '../../support/wsman-client';
import { MAX_PAGE_SIZE } from '../../../src/model/shared/query';
import { faultOf, PYTHON, runClient, soapCall, useSoapApp } from '../soap/soap-support';
import { validateXml } from '../../support/cimi-client';

const ZEEP = join(__dirname, '..', 'soap', 'clients', 'zeep_meters.py');
const idOf = (href: string) => href.split('/').pop()!;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN = basic('admin', 'admin-secret-pw');
const METER_CLASS = `${VENDOR}CIMIGW_Meter`;
const SAMPLE_CLASS = `${VENDOR}CIMIGW_MeterSample`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** an aggregated interval as every door is compared: [start, end) ms, min, max, avg, count */
interface Bucket {
  start: number;
  end: number;
  min: number;
  max: number;
  avg: number;
  count: number;
}

/** the SOAP items of a response: the text children of each <t:item> (the first of a name: an item's own id before its target's) */
function soapItems(body: string): Record<string, string>[] {
  return [...body.matchAll(/<t:item>([\s\S]*?)<\/t:item>/g)].map((m) => Object.fromEntries([...m[1].matchAll(/<t:(\w+)>([^<]*)<\/t:\1>/g)].reverse().map((x) => [x[1], x[2]])));
}

/** the XML Samples of a CIMI collection (sample timestamp/value attributes, property min/max/avg/count/start) */
function xmlSamples(xml: string): Record<string, string>[] {
  return [...xml.matchAll(/<Sample>([\s\S]*?)<\/Sample>/g)].map((m) => {
    const out: Record<string, string> = {};
    const s = /<sample ([^>]*)\/>/.exec(m[1])?.[1] ?? '';
    for (const a of s.matchAll(/(\w+)="([^"]*)"/g)) out[a[1]] = a[2];
    for (const p of m[1].matchAll(/<property key="(\w+)">([^<]*)<\/property>/g)) out[p[1]] = p[2];
    return out;
  });
}

describe.each(ENGINES)('meters [%s]', (engine) => {
  const env = useSoapApp(engine, { METER_SAMPLE_SECONDS: '1', METER_RETENTION_HOURS: '1', METER_SAMPLING: 'false' });
  const port = () => Number(new URL(env().base).port);
  const sampler = () => env().h.get(MeterSampler);
  const rest = async (path: string, opts: { auth?: string; accept?: string } = {}) => {
    const r = await fetch(`${env().base}/cimi/${path}`, { headers: { Authorization: opts.auth ?? ADMIN, Accept: opts.accept ?? 'application/json' } });
    return { status: r.status, text: await r.text() };
  };
  const json = async (path: string) => {
    const r = await rest(path);
    expect({ path, status: r.status }).toEqual({ path, status: 200 });
    return JSON.parse(r.text) as Record<string, unknown>;
  };
  /** meter_sample rows, counted with SQL (what a refusal must leave as it was) */
  const sampleRows = async () => {
    const ds = env().h.app.get<DataSource>(DATA_SOURCE);
    const [r] = await new Sql(ds.manager).rows('SELECT COUNT(*) AS n FROM meter_sample');
    return Number(r.n);
  };
  let machine: string;

  beforeAll(async () => {
    // a Machine created STOPPED and started through REST
    machine = await restMachine(port(), 'metered', 'STOPPED');
    await sampler().sampleNow(); // stopped: the driver reports nothing for it (the demo network is sampled)
    expect((await json('meters?$last=1000')).meters).not.toContainEqual(expect.objectContaining({ targetResource: { href: `${env().base}/cimi/machines/${machine}` } }));
    const started = await restPost(port(), `/cimi/machines/${machine}/start`, { resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: 'http://schemas.dmtf.org/cimi/1/action/start' });
    expect(started.status).toBe(202);
    expect((await restJob(port(), idOf(started.headers.get('cimi-job-uri')!))).state).toBe('SUCCESS');
    for (let i = 0; i < 3; i++) {
      await sleep(1100);
      expect(await sampler().sampleNow()).toBeGreaterThan(0);
      // the rate bound: a second pass within METER_SAMPLE_SECONDS keeps nothing
      if (i === 0) expect(await sampler().sampleNow()).toBe(0);
    }
  });

  /** WS-Man Enumerate (optimized, one answer) of a class with a WQL filter */
  const wsEnumerate = async (cls: string, where?: string, who = ADMIN) => {
    const filter = where ? `<wsman:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">select * from ${cls.split('/').pop()} where ${where.replace(/</g, '&lt;')}</wsman:Filter>` : '';
    const body = `<wsen:Enumerate xmlns:wsen="${NS.wsen}"><wsman:OptimizeEnumeration/><wsman:MaxElements>500</wsman:MaxElements>${filter}</wsen:Enumerate>`;
    return wsPost(port(), wsEnvelope({ action: `${NS.wsen}/Enumerate`, resourceUri: cls, body }), { auth: who });
  };
  const wsInstances = (r: Awaited<ReturnType<typeof wsEnumerate>>, cls: string) => all(r.doc, cls, cls.split('/').pop()!).map((e) => props(e));
  const cpuMeter = () => meterId(machine, 'cpu.time');
  /** the readings the app took of cpu.time, from the database through REST: [at ms, value] */
  const raw = async (): Promise<[number, number][]> => (((await json(`meters/${cpuMeter()}/samples`)).samples ?? []) as { sample: { timestamp: string; value: string } }[]).map((s) => [Date.parse(s.sample.timestamp), Number(s.sample.value)]);
  /** what [from, to) per `interval` s must give, computed here from the readings */
  const expected = (readings: [number, number][], from: number, to: number, interval: number): Bucket[] => {
    const by = new Map<number, number[]>();
    for (const [at, v] of readings) if (at >= from && at < to) by.set(Math.floor((at - from) / (interval * 1000)), [...(by.get(Math.floor((at - from) / (interval * 1000))) ?? []), v]);
    return [...by.entries()].sort((a, b) => a[0] - b[0]).map(([b, vs]) => ({ start: from + b * interval * 1000, end: from + (b + 1) * interval * 1000, min: Math.min(...vs), max: Math.max(...vs), avg: vs.reduce((x, y) => x + y, 0) / vs.length, count: vs.length }));
  };
  const close = (a: Bucket[], b: Bucket[]) => {
    expect(a.map((x) => ({ ...x, avg: Math.round(x.avg) }))).toEqual(b.map((x) => ({ ...x, avg: Math.round(x.avg) })));
    a.forEach((x, i) => expect(x.avg).toBeCloseTo(b[i].avg, 0));
  };

  it('one Meter per metric the driver reports, in the CloudEntryPoint, through REST (JSON, XML), SOAP and WS-Man alike', async () => {
    const cep = await json('cloudEntryPoint');
    expect(cep.meters).toEqual({ href: `${env().base}/cimi/meters` });
    const list = await json('meters?$last=1000');
    const mine = (list.meters as Record<string, unknown>[]).filter((m) => (m.targetResource as { href: string }).href.endsWith(`/machines/${machine}`));
    expect(mine.map((m) => String(m.aspect).split(':').pop()).sort()).toEqual([...UTILIZATION_METRICS].sort());
    const cpu = await json(`meters/${cpuMeter()}`);
    expect(cpu).toMatchObject({ resourceURI: 'http://schemas.dmtf.org/cimi/1/Meter', units: 'nanoseconds', sampleInterval: 1, timeScope: 'Point', samples: { href: `${env().base}/cimi/meters/${cpuMeter()}/samples` } });
    const xml = await rest(`meters/${cpuMeter()}`, { accept: 'application/xml' });
    expect(xml.status).toBe(200);
    expect(xml.text).toContain('<units>nanoseconds</units>');
    expect(xml.text).toContain(`<targetResource href="${env().base}/cimi/machines/${machine}"/>`);
    const g = await soapCall(env(), '1.1', 'GetMeter', `<t:id>${cpuMeter()}</t:id>`);
    expect(g.status).toBe(200);
    expect(g.body).toContain(`<t:targetResource><t:type>Machine</t:type><t:id>${machine}</t:id></t:targetResource><t:metric>cpu.time</t:metric><t:units>nanoseconds</t:units><t:sampleInterval>1</t:sampleInterval>`);
    const l = await soapCall(env(), '1.2', 'ListMeters', '<t:first>1</t:first><t:last>1000</t:last>');
    expect(soapItems(l.body).map((i) => i.id).sort()).toEqual((list.meters as { id: string }[]).map((m) => idOf(m.id)).sort());
    const w = await wsPost(port(), wsEnvelope({ action: ACT.get, resourceUri: METER_CLASS, selectors: { Id: `CIMIGW:meter:${cpuMeter()}` } }), {});
    expect(w.status).toBe(200);
    expect(props(one(w.doc, METER_CLASS, 'CIMIGW_Meter'))).toMatchObject({ Id: `CIMIGW:meter:${cpuMeter()}`, Name: 'cpu.time', Units: 'nanoseconds', SampleInterval: '1', MeasuredElement: machine, MeasuredElementType: 'Machine' });
    const we = wsInstances(await wsEnumerate(METER_CLASS), METER_CLASS);
    expect(we.map((i) => i.Id!.replace('CIMIGW:meter:', '')).sort()).toEqual(soapItems(l.body).map((i) => i.id).sort());
  });

  it('raw samples are the simulated series, the same through every door', async () => {
    const since = env().h.driver.started.get(machine)!;
    const readings = await raw();
    expect(readings).toHaveLength(3);
    for (const metric of ['cpu.time', 'memory.used', 'disk.read.bytes', 'net.tx.packets'] as UtilizationMetric[]) {
      const r = (await json(`meters/${meterId(machine, metric)}/samples`)).samples as { sample: { timestamp: string; value: string } }[];
      expect(r.map((s) => Number(s.sample.value))).toEqual(r.map((s) => simulatedUtilization('Machine', machine, since, Date.parse(s.sample.timestamp), { memoryKb: 1024 * 1024 })[metric]));
    }
    // counters grow while it runs
    expect(readings[1][1]).toBeGreaterThan(readings[0][1]);
    expect(readings[2][1]).toBeGreaterThan(readings[1][1]);
    const s = await soapCall(env(), '1.1', 'ListMeterSamples', `<t:id>${cpuMeter()}</t:id>`);
    expect(soapItems(s.body).map((i) => [Date.parse(i.timestamp), Number(i.value)])).toEqual(readings);
    const w = wsInstances(await wsEnumerate(SAMPLE_CLASS, `MetricDefinitionId = 'CIMIGW:meter:${cpuMeter()}'`), SAMPLE_CLASS);
    expect(w.map((i) => [Date.parse(i.TimeStamp!), Number(i.MetricValue)])).toEqual(readings);
    expect(w.every((i) => i.IntervalSeconds === '0')).toBe(true);
  });

  it('a time range aggregated per interval by the database: min, max, average, count agree between doors and with the series', async () => {
    const readings = await raw();
    // from just before the first reading, to just before the last: the last reading is outside [from, to)
    const from = readings[0][0] - 300;
    const to = readings[2][0];
    const want = expected(readings, from, to, 2);
    expect(want.reduce((n, b) => n + b.count, 0)).toBe(2);
    const q = `from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&interval=2`;
    const j = await json(`meters/${cpuMeter()}/samples?${q}`);
    const asBucket = (x: { start: string; end: string; min: string; max: string; avg: string; count: string }): Bucket => ({ start: Date.parse(x.start), end: Date.parse(x.end), min: Number(x.min), max: Number(x.max), avg: Number(x.avg), count: Number(x.count) });
    const restJson = (j.samples as { sample: { timestamp: string; value: string }; properties: Record<string, string> }[]).map((x) => asBucket({ ...x.properties, end: x.sample.timestamp } as never));
    close(restJson, want);
    expect(j.count).toBe(want.length);
    const x = await rest(`meters/${cpuMeter()}/samples?${q}`, { accept: 'application/xml' });
    expect(x.status).toBe(200);
    close(xmlSamples(x.text).map((s) => asBucket({ ...s, end: s.timestamp } as never)), want);
    const so = await soapCall(env(), '1.1', 'ListMeterSamples', `<t:id>${cpuMeter()}</t:id><t:from>${new Date(from).toISOString()}</t:from><t:to>${new Date(to).toISOString()}</t:to><t:interval>2</t:interval>`);
    close(soapItems(so.body).map((i) => asBucket({ ...i, end: i.timestamp } as never)), want);
    const zeep = (await runClient(PYTHON, [ZEEP, env().base, 'admin', 'admin-secret-pw', cpuMeter(), new Date(from).toISOString(), new Date(to).toISOString(), '2'])) as {
      meter: Record<string, string>;
      listed: string[];
      raw: { timestamp: string; value: number }[];
      agg: { count: number; items: { timestamp: string; start: string; min: number; max: number; avg: number; count: number }[] };
      zero: { code: string; detail: Record<string, string> };
    };
    expect(zeep.meter).toEqual({ id: cpuMeter(), metric: 'cpu.time', units: 'nanoseconds', target: machine });
    expect(zeep.listed).toContain(cpuMeter());
    expect(zeep.raw.map((r) => [Date.parse(r.timestamp), r.value])).toEqual(readings);
    expect(zeep.agg.count).toBe(want.length);
    close(zeep.agg.items.map((i) => ({ start: Date.parse(i.start), end: Date.parse(i.timestamp), min: i.min, max: i.max, avg: i.avg, count: i.count })), want);
    expect(zeep.zero).toMatchObject({ detail: { kind: 'invalid-input', code: 'METER.INVALID_INTERVAL' } });
    const wsWhere = `MetricDefinitionId = 'CIMIGW:meter:${cpuMeter()}' AND TimeStamp >= '${new Date(from).toISOString()}' AND TimeStamp < '${new Date(to).toISOString()}' AND IntervalSeconds = 2`;
    const wi = wsInstances(await wsEnumerate(SAMPLE_CLASS, wsWhere), SAMPLE_CLASS);
    const wsBuckets = wi.map((i) => ({ start: Date.parse(i.IntervalStart!), end: Date.parse(i.TimeStamp!), min: Number(i.MinValue), max: Number(i.MaxValue), avg: Number(i.AverageValue), count: Number(i.SampleCount) }));
    close(wsBuckets, want);
    // a Get of one interval reads it again
    const got = await wsPost(port(), wsEnvelope({ action: ACT.get, resourceUri: SAMPLE_CLASS, selectors: { InstanceId: wi[0].InstanceId! } }), {});
    expect(props(one(got.doc, SAMPLE_CLASS, 'CIMIGW_MeterSample'))).toMatchObject({ InstanceId: wi[0].InstanceId, SampleCount: wi[0].SampleCount, AverageValue: wi[0].AverageValue });
    // one interval over the whole range: the extremes are the first and the last reading in it
    const whole = await json(`meters/${cpuMeter()}/samples?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&interval=3600`);
    expect((whole.samples as { properties: Record<string, string> }[])[0].properties).toMatchObject({ min: String(readings[0][1]), max: String(readings[1][1]), count: '2' });
  });

  it("another tenant's Meter does not exist in any door", async () => {
    await env().h.user('other-tenant', ['user'], 'meter-other');
    const other = basic('meter-other', 'password-123');
    expect((await rest(`meters/${cpuMeter()}`, { auth: other })).status).toBe(404);
    expect((await rest(`meters/${cpuMeter()}/samples?interval=60`, { auth: other })).status).toBe(404);
    expect(JSON.parse((await rest('meters', { auth: other })).text).count).toBe(0);
    const s = await soapCall(env(), '1.1', 'GetMeter', `<t:id>${cpuMeter()}</t:id>`, { auth: other });
    expect(faultOf(s)).toMatchObject({ code: 'soap:Client', kind: 'not-found' });
    const ss = await soapCall(env(), '1.1', 'ListMeterSamples', `<t:id>${cpuMeter()}</t:id>`, { auth: other });
    expect(faultOf(ss)).toMatchObject({ kind: 'not-found' });
    const w = await wsPost(port(), wsEnvelope({ action: ACT.get, resourceUri: METER_CLASS, selectors: { Id: `CIMIGW:meter:${cpuMeter()}` } }), { auth: other });
    expect(wsFault(w).subcode).toBe('DestinationUnreachable');
    const we = await wsEnumerate(SAMPLE_CLASS, `MetricDefinitionId = 'CIMIGW:meter:${cpuMeter()}'`, other);
    expect(wsFault(we).subcode).toBe('DestinationUnreachable');
  });

  it('bad queries get CIMI 400, a SOAP Client fault, a WS-Man fault, and write nothing', async () => {
    const before = await sampleRows();
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    for (const q of ['interval=0', 'interval=abc', 'interval=-5', `from=${iso(now)}&to=${iso(now - 1000)}`, 'from=garbage', 'to=2026-13-45T00:00:00Z', 'interval=99999999']) {
      const r = await rest(`meters/${cpuMeter()}/samples?${q}`);
      expect({ q, status: r.status }).toEqual({ q, status: 400 });
      expect(JSON.parse(r.text).resourceURI).toBe('http://schemas.dmtf.org/cimi/1/Job');
    }
    for (const inner of ['<t:interval>0</t:interval>', `<t:from>${iso(now)}</t:from><t:to>${iso(now - 1000)}</t:to>`, '<t:from>garbage</t:from>', '<t:interval>x</t:interval>']) {
      const r = await soapCall(env(), '1.1', 'ListMeterSamples', `<t:id>${cpuMeter()}</t:id>${inner}`);
      expect({ inner, status: r.status, code: faultOf(r).code }).toEqual({ inner, status: 500, code: 'soap:Client' });
    }
    const zero = await soapCall(env(), '1.2', 'ListMeterSamples', `<t:id>${cpuMeter()}</t:id><t:interval>0</t:interval>`);
    expect(faultOf(zero)).toMatchObject({ code: 'soap:Sender', detailCode: 'METER.INVALID_INTERVAL' });
    for (const where of [`MetricDefinitionId = 'CIMIGW:meter:${cpuMeter()}' AND IntervalSeconds = 0`, `MetricDefinitionId = 'CIMIGW:meter:${cpuMeter()}' AND TimeStamp >= '${iso(now)}' AND TimeStamp < '${iso(now - 1000)}'`, "TimeStamp >= '2026-01-01T00:00:00Z'", `MetricDefinitionId = 'CIMIGW:meter:${cpuMeter()}' AND TimeStamp >= 'garbage'`, `MetricDefinitionId = 'CIMIGW:meter:${cpuMeter()}' OR IntervalSeconds = 5`]) {
      const r = await wsEnumerate(SAMPLE_CLASS, where);
      expect({ where, status: r.status, fault: wsFault(r).subcode }).toEqual({ where, status: 500, fault: 'CannotProcessFilter' });
    }
    expect(await sampleRows()).toBe(before);
  });

  it('WS-Man Pull walks every sample of a meter, more than one page (MAX_PAGE_SIZE) of them, raw and per interval', async () => {
    // review finding: the enumeration read at most one database page; 1,205 more readings of one meter, by SQL
    const net = meterId(machine, 'net.rx.bytes');
    const ds = env().h.app.get<DataSource>(DATA_SOURCE);
    const sql = new Sql(ds.manager);
    const [{ tenant_id: tenant }] = await sql.rows('SELECT tenant_id FROM meter WHERE id = :id', { id: net });
    const base = Date.now() - 60_000;
    await ds.transaction(async (m) => {
      const tx = new Sql(m);
      for (let i = 0; i < MAX_PAGE_SIZE + 205; i++) {
        await tx.exec('INSERT INTO meter_sample (meter_id, at_ms, tenant_id, value) VALUES (:m, :at, :t, :v) ON CONFLICT (meter_id, at_ms) DO NOTHING', { m: net, at: base + i * 10, t: tenant, v: i });
      }
    });
    const [{ n }] = await sql.rows('SELECT COUNT(*) AS n FROM meter_sample WHERE meter_id = :id', { id: net });
    expect(Number(n)).toBeGreaterThan(MAX_PAGE_SIZE + 200);
    /** Enumerate (not optimized), then Pull `max` at a time to EndOfSequence; the instances in order */
    const drain = async (where: string, max: number) => {
      const filter = `<wsman:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">select * from CIMIGW_MeterSample where ${where.replace(/</g, '&lt;')}</wsman:Filter>`;
      const e = await wsPost(port(), wsEnvelope({ action: `${NS.wsen}/Enumerate`, resourceUri: SAMPLE_CLASS, body: `<wsen:Enumerate xmlns:wsen="${NS.wsen}">${filter}</wsen:Enumerate>` }), {});
      expect(e.status).toBe(200);
      let ctx = text(e.doc, NS.wsen, 'EnumerationContext');
      const out: Record<string, string | null>[] = [];
      for (let pulls = 0; ctx; pulls++) {
        if (pulls > 100) throw new Error('the enumeration does not end');
        const body = `<wsen:Pull xmlns:wsen="${NS.wsen}"><wsen:EnumerationContext>${ctx}</wsen:EnumerationContext><wsen:MaxElements>${max}</wsen:MaxElements></wsen:Pull>`;
        const r = await wsPost(port(), wsEnvelope({ action: `${NS.wsen}/Pull`, resourceUri: SAMPLE_CLASS, body }), {});
        expect({ status: r.status, fault: r.status === 200 ? undefined : wsFault(r) }).toEqual({ status: 200 });
        const items = wsInstances(r, SAMPLE_CLASS);
        expect(items.length).toBeLessThanOrEqual(max);
        out.push(...items);
        ctx = one(r.doc, NS.wsen, 'EndOfSequence') ? undefined : text(r.doc, NS.wsen, 'EnumerationContext');
      }
      return out;
    };
    const rawWs = await drain(`MetricDefinitionId = 'CIMIGW:meter:${net}'`, 400);
    expect(rawWs).toHaveLength(Number(n));
    expect(new Set(rawWs.map((i) => i.InstanceId)).size).toBe(Number(n));
    const times = rawWs.map((i) => Date.parse(i.TimeStamp!));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    const [{ mn }] = await sql.rows('SELECT MIN(at_ms) AS mn FROM meter_sample WHERE meter_id = :id', { id: net });
    expect(times[0]).toBe(Number(mn));
    // per interval, several Pulls of a few intervals each: the same buckets as REST's one answer
    const from = new Date(base).toISOString();
    const to = new Date(base + 13_000).toISOString();
    const buckets = await drain(`MetricDefinitionId = 'CIMIGW:meter:${net}' AND TimeStamp >= '${from}' AND TimeStamp < '${to}' AND IntervalSeconds = 1`, 4);
    const r = (await json(`meters/${net}/samples?from=${from}&to=${to}&interval=1`)).samples as { sample: { timestamp: string }; properties: Record<string, string> }[];
    expect(r.length).toBeGreaterThan(10);
    expect(buckets.map((b) => [b.IntervalStart, b.TimeStamp, b.SampleCount])).toEqual(r.map((x) => [x.properties.start, x.sample.timestamp, x.properties.count]));
  });

  it('stop and start (DSP0263 §5.17.3.2) through REST, SOAP and WS-Man: a stopped Meter takes no samples, started it does again', async () => {
    const sql = new Sql(env().h.app.get<DataSource>(DATA_SOURCE).manager);
    const count = async (id: string) => Number((await sql.rows('SELECT COUNT(*) AS n FROM meter_sample WHERE meter_id = :id', { id }))[0].n);
    const [cpu, mem, disk, net] = [cpuMeter(), meterId(machine, 'memory.used'), meterId(machine, 'disk.read.bytes'), meterId(machine, 'net.tx.bytes')];
    const action = (a: string) => ({ resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: `http://schemas.dmtf.org/cimi/1/action/${a}` });
    const post = (path: string, body: unknown, auth = ADMIN) => fetch(`${env().base}/cimi/${path}`, { method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/json', Accept: 'application/json' }, body: JSON.stringify(body) });
    const rsc = (id: string, state: number, auth = ADMIN) =>
      wsPost(port(), wsEnvelope({ action: `${METER_CLASS}/RequestStateChange`, resourceUri: METER_CLASS, selectors: { Id: `CIMIGW:meter:${id}` }, body: `<p:RequestStateChange_INPUT xmlns:p="${METER_CLASS}"><p:RequestedState>${state}</p:RequestedState></p:RequestStateChange_INPUT>` }), { auth });
    const returnValue = (r: Awaited<ReturnType<typeof rsc>>) => one(r.doc, METER_CLASS, 'ReturnValue')?.textContent?.trim();
    const wsGet = async (id: string) => props(one((await wsPost(port(), wsEnvelope({ action: ACT.get, resourceUri: METER_CLASS, selectors: { Id: `CIMIGW:meter:${id}` } }), {})).doc, METER_CLASS, 'CIMIGW_Meter'));
    const pass = async () => {
      await sleep(1100);
      expect(await sampler().sampleNow()).toBeGreaterThan(0);
    };
    // recording: the Meter offers stop (and only stop), has no stopTime; WS-Man shows it Enabled
    const before = await json(`meters/${cpu}`);
    expect(before.operations).toEqual([{ rel: 'http://schemas.dmtf.org/cimi/1/action/stop', href: `${env().base}/cimi/meters/${cpu}/stop` }]);
    expect(before.stopTime).toBeUndefined();
    expect(await wsGet(disk)).toMatchObject({ EnabledState: '2', MeterState: 'STARTED' });

    // bad input, another tenant, a reader: refused, nothing changes
    expect((await post(`meters/${cpu}/stop`, action('start'))).status).toBe(400);
    expect((await post(`meters/${cpu}/stop`, { resourceURI: 'http://schemas.dmtf.org/cimi/1/Machine', action: action('stop').action })).status).toBe(400);
    expect(returnValue(await rsc(disk, 9))).toBe('1');
    expect(wsFault(await wsPost(port(), wsEnvelope({ action: `${METER_CLASS}/RequestStateChange`, resourceUri: METER_CLASS, selectors: { Id: `CIMIGW:meter:${disk}` }, body: `<p:RequestStateChange_INPUT xmlns:p="${METER_CLASS}"><p:RequestedState>x</p:RequestedState></p:RequestStateChange_INPUT>` }), {})).subcode).toBe('InvalidParameter');
    await env().h.user('other-tenant', ['user'], 'meter-other2');
    const other = basic('meter-other2', 'password-123');
    expect((await post(`meters/${cpu}/stop`, action('stop'), other)).status).toBe(404);
    expect(faultOf(await soapCall(env(), '1.1', 'StopMeter', `<t:id>${mem}</t:id>`, { auth: other }))).toMatchObject({ kind: 'not-found' });
    expect(wsFault(await rsc(disk, 3, other)).subcode).toBe('DestinationUnreachable');
    const [{ tenant_id: tenant }] = await sql.rows('SELECT tenant_id FROM meter WHERE id = :id', { id: cpu });
    await env().h.user(String(tenant), ['reader'], 'meter-reader');
    const reader = basic('meter-reader', 'password-123');
    expect((await post(`meters/${cpu}/stop`, action('stop'), reader)).status).toBe(403);
    expect(JSON.parse((await rest(`meters/${cpu}`, { auth: reader })).text).operations).toBeUndefined();
    const rows = await sql.rows("SELECT COUNT(*) AS n FROM meter WHERE state <> 'STARTED'");
    expect(Number(rows[0].n)).toBe(0);

    // stop one Meter through each door; REST answers 202 with the finished Job (docs/cimi.md §4.3), SOAP the Meter and its Job
    const st = await post(`meters/${cpu}/stop`, action('stop'));
    expect(st.status).toBe(202);
    const job = (await st.json()) as Record<string, unknown>;
    expect(job).toMatchObject({ state: 'SUCCESS', targetResource: { href: `${env().base}/cimi/meters/${cpu}` }, action: 'http://schemas.dmtf.org/cimi/1/action/stop' });
    expect(st.headers.get('cimi-job-uri')).toBe(job.id);
    const so = await soapCall(env(), '1.2', 'StopMeter', `<t:id>${mem}</t:id>`);
    expect(so.status).toBe(200);
    expect(so.body).toMatch(/<t:state>STOPPED<\/t:state><t:stopTime>[^<]+<\/t:stopTime><\/t:meter><t:job><t:id>[^<]+<\/t:id>/);
    expect(returnValue(await rsc(disk, 3))).toBe('0');
    const stopped = await json(`meters/${cpu}`);
    expect(stopped.operations).toEqual([{ rel: 'http://schemas.dmtf.org/cimi/1/action/start', href: `${env().base}/cimi/meters/${cpu}/start` }]);
    expect(Date.parse(String(stopped.stopTime))).toBeLessThanOrEqual(Date.now());
    const xml = await rest(`meters/${cpu}`, { accept: 'application/xml' });
    expect(xml.text).toMatch(/<stopTime>[^<]+<\/stopTime>/);
    await validateXml(xml.text, 'a stopped Meter');
    expect(await wsGet(disk)).toMatchObject({ EnabledState: '3', MeterState: 'STOPPED' });
    // the wrong state: 409, a Conflict fault, ReturnValue 4097
    const again = await post(`meters/${cpu}/stop`, action('stop'));
    expect(again.status).toBe(409);
    expect(faultOf(await soapCall(env(), '1.1', 'StopMeter', `<t:id>${mem}</t:id>`))).toMatchObject({ code: 'soap:Client', kind: 'invalid-state' });
    expect(returnValue(await rsc(disk, 3))).toBe('4097');

    // a pass keeps samples of the others, none of the stopped three
    const counts = async () => Promise.all([cpu, mem, disk, net].map(count));
    const [c0, m0, d0, n0] = await counts();
    await pass();
    expect(await counts()).toEqual([c0, m0, d0, n0 + 1]);

    // started again through each door: the next pass samples them
    expect((await post(`meters/${cpu}/start`, action('start'))).status).toBe(202);
    expect((await soapCall(env(), '1.1', 'StartMeter', `<t:id>${mem}</t:id>`)).body).toMatch(/<t:state>STARTED<\/t:state><\/t:meter><t:job>/);
    expect(returnValue(await rsc(disk, 2))).toBe('0');
    expect((await json(`meters/${cpu}`)).stopTime).toBeUndefined();
    await pass();
    expect(await counts()).toEqual([c0 + 1, m0 + 1, d0 + 1, n0 + 2]);
  });

  it('retention purges samples older than METER_RETENTION_HOURS; what is left stays readable', async () => {
    const readings = await raw();
    // as of 30 minutes after the second reading (retention 1 h): nothing is old yet
    expect(await sampler().purge(new Date(readings[1][0] + 30 * 60_000))).toBe(0);
    // as of 1 h after the second reading: the first two are purged, the later ones (the stop/start test's) stay
    expect(readings.length).toBeGreaterThanOrEqual(3);
    const purged = await sampler().purge(new Date(readings[1][0] + 3600_000 + 1));
    expect(purged).toBeGreaterThanOrEqual(2);
    expect(await raw()).toEqual(readings.slice(2));
    const s = await soapCall(env(), '1.1', 'ListMeterSamples', `<t:id>${cpuMeter()}</t:id>`);
    expect(soapItems(s.body).map((i) => [Date.parse(i.timestamp), Number(i.value)])).toEqual(readings.slice(2));
    expect(await sampler().purge(new Date(Date.now() + 2 * 3600_000))).toBeGreaterThan(0);
    expect(await raw()).toEqual([]);
    expect(await sampleRows()).toBe(0);
  });

  it('the Meters of a deleted Machine are deleted with it (DSP0263 §5.17.3), a client Meter too; a MeterCreate needs its template', async () => {
    expect((await fetch(`${env().base}/cimi/meters`, { method: 'POST', headers: { Authorization: ADMIN, 'Content-Type': 'application/json' }, body: '{}' })).status).toBe(400);
    // a Meter made from a template by value on the Machine (13-meter-templates covers create itself)
    const made = await restPost(port(), '/cimi/meters', { resourceURI: 'http://schemas.dmtf.org/cimi/1/MeterCreate', meterTemplate: { targetResource: { href: `${env().base}/cimi/machines/${machine}` }, meterConfig: { aspect: 'urn:cimi-gateway:meter:cpu.time' } } });
    expect(made.status).toBe(201);
    const clientMeter = idOf(made.headers.get('location')!);
    const stop = await restPost(port(), `/cimi/machines/${machine}/stop`, { resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: 'http://schemas.dmtf.org/cimi/1/action/stop' });
    expect((await restJob(port(), idOf(stop.headers.get('cimi-job-uri')!))).state).toBe('SUCCESS');
    const del = await fetch(`${env().base}/cimi/machines/${machine}`, { method: 'DELETE', headers: { Authorization: ADMIN, Accept: 'application/json' } });
    expect((await restJob(port(), idOf(del.headers.get('cimi-job-uri')!))).state).toBe('SUCCESS');
    expect((await rest(`meters/${cpuMeter()}`)).status).toBe(200);
    await sampler().purge();
    expect((await rest(`meters/${cpuMeter()}`)).status).toBe(404);
    expect((await rest(`meters/${clientMeter}`)).status).toBe(404);
    expect(((await json('meters?$last=1000')).meters as { targetResource: { href: string } }[] | undefined)?.filter((m) => m.targetResource.href.endsWith(machine)) ?? []).toEqual([]);
  });
});
