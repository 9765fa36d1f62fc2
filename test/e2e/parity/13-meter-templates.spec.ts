import type { DataSource } from 'typeorm';
import { ENGINES } from '../../support/databases';
import { MeterSampler } from '../../../src/model/meter/meter-sampler';
import { MAX_CLIENT_METERS_PER_RESOURCE, MeterService } from '../../../src/model/meter/meter.service';
import { Sql } from '../../../src/persistence/typeorm/sql';
import { DATA_SOURCE } from '../../../src/persistence/typeorm/data-source';
import { ACT, envelope as wsEnvelope, fault as wsFault, one, post as wsPost, props, restMachine, VENDOR } from '../../support/wsman-client';
import { faultOf, soapCall } from '../soap/soap-support';
import { useSoapApp } from '../soap/soap-support';
import { validateXml } from '../../support/cimi-client';

/**
 * MeterConfiguration, MeterTemplate and Meter create/delete (DSP0263 2.0.0 §5.17.4-§5.17.9, issue 14 §1): a
 * configuration and a template made over REST, a Meter made from the template on a Machine, sampled like the
 * provider's own Meters, read through REST, SOAP and WS-Man with the same numbers; deleted; every refusal
 * (unknown target, another tenant's target, a metric the target's type does not report, XML DSP8009 does not
 * allow) is the door's error and leaves no row.
 */
const CIMI = 'http://schemas.dmtf.org/cimi/1';
const ASPECT = 'urn:cimi-gateway:meter:';
const idOf = (href: string) => href.split('/').pop()!;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN = basic('admin', 'admin-secret-pw');
const METER_CLASS = `${VENDOR}CIMIGW_Meter`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(ENGINES)('meter templates [%s]', (engine) => {
  const env = useSoapApp(engine, { METER_SAMPLE_SECONDS: '1', METER_RETENTION_HOURS: '1', METER_SAMPLING: 'false' });
  const port = () => Number(new URL(env().base).port);
  const sampler = () => env().h.get(MeterSampler);
  const cimi = (p: string) => `${env().base}/cimi/${p}`;
  const rest = async (method: string, path: string, body?: unknown, opts: { auth?: string; xml?: boolean } = {}) => {
    const headers: Record<string, string> = { Authorization: opts.auth ?? ADMIN, Accept: opts.xml ? 'application/xml' : 'application/json' };
    if (body !== undefined) headers['Content-Type'] = opts.xml ? 'application/xml' : 'application/json';
    const r = await fetch(cimi(path), { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
    const text = await r.text();
    let doc: Record<string, unknown> = {};
    try {
      doc = text && !opts.xml ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      doc = {};
    }
    return { status: r.status, text, doc, headers: r.headers };
  };
  /** rows a refusal must leave as they were: Meters, samples, Meter definitions and Jobs */
  const rows = async () => {
    const sql = new Sql(env().h.app.get<DataSource>(DATA_SOURCE).manager);
    const n = async (q: string) => Number((await sql.rows(q))[0].n);
    return {
      meters: await n('SELECT COUNT(*) AS n FROM meter'),
      samples: await n('SELECT COUNT(*) AS n FROM meter_sample'),
      definitions: await n("SELECT COUNT(*) AS n FROM resource WHERE type IN ('MeterTemplate', 'MeterConfiguration')"),
      jobs: await n('SELECT COUNT(*) AS n FROM job'),
    };
  };
  let machine: string;

  beforeAll(async () => {
    machine = await restMachine(port(), 'metered', 'STARTED');
  });

  let config: string;
  let template: string;
  let meter: string;

  it('a MeterConfiguration and a MeterTemplate by value: 201 with Location, in the CloudEntryPoint, JSON and XML (DSP8009)', async () => {
    const cep = await rest('GET', 'cloudEntryPoint');
    expect(cep.doc).toMatchObject({ meterTemplates: { href: cimi('meterTemplates') }, meterConfigs: { href: cimi('meterConfigs') } });
    await validateXml((await rest('GET', 'cloudEntryPoint', undefined, { xml: true })).text, 'CloudEntryPoint');
    const c = await rest('POST', 'meterConfigs', { resourceURI: `${CIMI}/MeterConfiguration`, name: 'cpu every 2 s', aspect: `${ASPECT}cpu.time`, units: 'nanoseconds', sampleInterval: 2, timeScope: 'Point', isContinuous: true });
    expect(c.status).toBe(201);
    config = idOf(c.headers.get('location')!);
    expect(c.doc).toMatchObject({ id: cimi(`meterConfigs/${config}`), aspect: `${ASPECT}cpu.time`, units: 'nanoseconds', sampleInterval: 2, timeScope: 'Point', isContinuous: true });
    expect((c.doc.operations as { rel: string }[]).map((o) => o.rel).sort()).toEqual(['delete', 'edit']);
    const t = await rest('POST', 'meterTemplates', { resourceURI: `${CIMI}/MeterTemplate`, name: 'cpu of metered', targetResource: { href: cimi(`machines/${machine}`) }, meterConfig: { href: cimi(`meterConfigs/${config}`) } });
    expect(t.status).toBe(201);
    template = idOf(t.headers.get('location')!);
    expect(t.doc).toMatchObject({ targetResource: { href: cimi(`machines/${machine}`) }, meterConfig: { href: cimi(`meterConfigs/${config}`) } });
    for (const p of [`meterConfigs/${config}`, `meterTemplates/${template}`, 'meterConfigs', 'meterTemplates']) {
      const x = await rest('GET', p, undefined, { xml: true });
      expect(x.status).toBe(200);
      await validateXml(x.text, p);
    }
    // XML create, validated on the way in and out
    const xc = await rest('POST', 'meterConfigs', `<MeterConfiguration xmlns="${CIMI}"><name>rx</name><aspect>${ASPECT}net.rx.bytes</aspect><units>bytes</units></MeterConfiguration>`, { xml: true });
    expect(xc.status).toBe(201);
    await validateXml(xc.text, 'created MeterConfiguration');
    expect(xc.text).toContain(`<aspect>${ASPECT}net.rx.bytes</aspect>`);
  });

  it('a Meter from the template by reference: 201, sampled like the provider Meters, the same numbers through REST, SOAP and WS-Man', async () => {
    const before = await rows();
    const m = await rest('POST', 'meters', { resourceURI: `${CIMI}/MeterCreate`, name: 'my cpu', properties: { tier: 'web' }, meterTemplate: { href: cimi(`meterTemplates/${template}`) } });
    expect(m.status).toBe(201);
    meter = idOf(m.headers.get('location')!);
    expect(m.doc).toMatchObject({ id: cimi(`meters/${meter}`), name: 'my cpu', properties: { tier: 'web' }, targetResource: { href: cimi(`machines/${machine}`) }, aspect: `${ASPECT}cpu.time`, units: 'nanoseconds', sampleInterval: 2 });
    expect((m.doc.operations as { rel: string }[]).map((o) => o.rel)).toEqual([`${CIMI}/action/stop`, 'delete']);
    const job = await rest('GET', `jobs/${idOf(m.headers.get('cimi-job-uri')!)}`);
    expect(job.doc).toMatchObject({ state: 'SUCCESS', action: 'add', targetResource: { href: cimi(`meters/${meter}`) } });
    expect(await rows()).toMatchObject({ meters: before.meters + 1, jobs: before.jobs + 1 });
    // three passes a second apart: the sampleInterval of 2 s keeps every other reading
    for (let i = 0; i < 4; i++) {
      await sampler().sampleNow();
      await sleep(1050);
    }
    const own = ((await rest('GET', `meters/${meter}/samples`)).doc.samples ?? []) as { sample: { timestamp: string; value: string } }[];
    expect(own.length).toBeGreaterThanOrEqual(2);
    expect(own.length).toBeLessThan(4);
    const gaps = own.slice(1).map((s, i) => Date.parse(s.sample.timestamp) - Date.parse(own[i].sample.timestamp));
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(2000);
    // the values are the provider's cpu.time readings at the same instants
    const provider = ((await rest('GET', `meters?$last=1000`)).doc.meters as { id: string; aspect: string; targetResource: { href: string }; name: string }[]).find(
      (x) => x.aspect === `${ASPECT}cpu.time` && x.targetResource.href === cimi(`machines/${machine}`) && x.name !== 'my cpu',
    )!;
    const theirs = new Map((((await rest('GET', `meters/${idOf(provider.id)}/samples`)).doc.samples ?? []) as { sample: { timestamp: string; value: string } }[]).map((s) => [s.sample.timestamp, s.sample.value]));
    for (const s of own) expect(theirs.get(s.sample.timestamp)).toBe(s.sample.value);
    // SOAP and WS-Man read the same Meter and samples
    const g = await soapCall(env(), '1.1', 'GetMeter', `<t:id>${meter}</t:id>`);
    expect(g.status).toBe(200);
    expect(g.body).toContain(`<t:name>my cpu</t:name>`);
    expect(g.body).toContain('<t:properties><t:property><t:key>tier</t:key><t:value>web</t:value></t:property></t:properties>');
    expect(g.body).toContain(`<t:targetResource><t:type>Machine</t:type><t:id>${machine}</t:id></t:targetResource><t:metric>cpu.time</t:metric><t:units>nanoseconds</t:units><t:sampleInterval>2</t:sampleInterval>`);
    const ls = await soapCall(env(), '1.2', 'ListMeterSamples', `<t:id>${meter}</t:id>`);
    const soapValues = [...ls.body.matchAll(/<t:value>([^<]+)<\/t:value>/g)].map((x) => x[1]);
    expect(soapValues).toEqual(own.map((s) => s.sample.value));
    const w = await wsPost(port(), wsEnvelope({ action: ACT.get, resourceUri: METER_CLASS, selectors: { Id: `CIMIGW:meter:${meter}` } }), {});
    expect(w.status).toBe(200);
    expect(props(one(w.doc, METER_CLASS, 'CIMIGW_Meter'))).toMatchObject({ Id: `CIMIGW:meter:${meter}`, Units: 'nanoseconds', SampleInterval: '2', MeasuredElement: machine, MeasuredElementType: 'Machine' });
  });

  it('a Meter from a template by value with its configuration by value; XML MeterCreate validated against DSP8009', async () => {
    const body = `<MeterCreate xmlns="${CIMI}"><name>mem</name><meterTemplate><targetResource href="${cimi(`machines/${machine}`)}"/><meterConfig><aspect>${ASPECT}memory.used</aspect></meterConfig></meterTemplate></MeterCreate>`;
    await validateXml(body, 'MeterCreate');
    const m = await rest('POST', 'meters', body, { xml: true });
    expect(m.status).toBe(201);
    await validateXml(m.text, 'created Meter');
    expect(m.text).toContain(`<aspect>${ASPECT}memory.used</aspect>`);
    expect(m.text).toContain('<units>KB</units>');
    const d = await rest('DELETE', `meters/${idOf(m.headers.get('location')!)}`);
    expect(d.status).toBe(200);
  });

  it('SOAP reads the configuration and template REST made; WS-Man Create of a CIMIGW_Meter names the template, Delete removes it', async () => {
    const gc = await soapCall(env(), '1.1', 'GetMeterConfiguration', `<t:id>${config}</t:id>`);
    expect(gc.status).toBe(200);
    expect(gc.body).toContain(`<t:aspect>${ASPECT}cpu.time</t:aspect><t:units>nanoseconds</t:units><t:sampleInterval>2</t:sampleInterval><t:timeScope>Point</t:timeScope><t:isContinuous>true</t:isContinuous>`);
    const gt = await soapCall(env(), '1.2', 'GetMeterTemplate', `<t:id>${template}</t:id>`);
    expect(gt.body).toContain(`<t:targetResource><t:type>Machine</t:type><t:id>${machine}</t:id></t:targetResource><t:meterConfig><t:ref>${config}</t:ref></t:meterConfig>`);
    const lt = await soapCall(env(), '1.1', 'ListMeterTemplates', '');
    expect(lt.body).toContain('<t:count>1</t:count>');
    const before = await rows();
    const body = `<p:CIMIGW_Meter xmlns:p="${METER_CLASS}"><p:ElementName>ws cpu</p:ElementName><p:MeterTemplate>${template}</p:MeterTemplate></p:CIMIGW_Meter>`;
    const c = await wsPost(port(), wsEnvelope({ action: ACT.create, resourceUri: METER_CLASS, body }), {});
    expect(c.status).toBe(200);
    const id = /<wsman:Selector Name="Id">CIMIGW:meter:([^<]+)<\/wsman:Selector>/.exec(c.text)![1];
    const r = await rest('GET', `meters/${id}`);
    expect(r.doc).toMatchObject({ name: 'ws cpu', targetResource: { href: cimi(`machines/${machine}`) }, aspect: `${ASPECT}cpu.time`, sampleInterval: 2 });
    expect((await rows()).meters).toBe(before.meters + 1);
    // by value: the Volume-less Machine's memory, with a configuration by id
    const byValue = `<p:CIMIGW_Meter xmlns:p="${METER_CLASS}"><p:MeasuredElement>${machine}</p:MeasuredElement><p:MeasuredElementType>Machine</p:MeasuredElementType><p:MeterConfiguration>${config}</p:MeterConfiguration></p:CIMIGW_Meter>`;
    const c2 = await wsPost(port(), wsEnvelope({ action: ACT.create, resourceUri: METER_CLASS, body: byValue }), {});
    expect(c2.status).toBe(200);
    const id2 = /<wsman:Selector Name="Id">CIMIGW:meter:([^<]+)<\/wsman:Selector>/.exec(c2.text)![1];
    for (const x of [id, id2]) {
      const d = await wsPost(port(), wsEnvelope({ action: ACT.delete, resourceUri: METER_CLASS, selectors: { Id: `CIMIGW:meter:${x}` } }), {});
      expect(d.status).toBe(200);
      expect((await rest('GET', `meters/${x}`)).status).toBe(404);
    }
    // Put stays refused: a Meter's definition is its template's
    const put = await wsPost(port(), wsEnvelope({ action: ACT.put, resourceUri: METER_CLASS, selectors: { Id: `CIMIGW:meter:${meter}` }, body: `<p:CIMIGW_Meter xmlns:p="${METER_CLASS}"/>` }), {});
    expect(wsFault(put).subcode).toBe('ActionNotSupported');
    expect(await rows()).toEqual({ ...before, jobs: before.jobs + 4, samples: (await rows()).samples });
  });

  it('delete: the Meter and its samples go; the template and configuration stay until deleted themselves', async () => {
    const before = await rows();
    const d = await rest('DELETE', `meters/${meter}`);
    expect(d.status).toBe(200);
    expect(d.doc).toMatchObject({ state: 'SUCCESS', action: 'delete' });
    expect((await rest('GET', `meters/${meter}`)).status).toBe(404);
    const after = await rows();
    expect(after.meters).toBe(before.meters - 1);
    expect(after.samples).toBeLessThan(before.samples);
    // a provider Meter is the provider's reading: stopped, not deleted
    const provider = ((await rest('GET', 'meters?$last=1')).doc.meters as { id: string }[])[0];
    const pd = await rest('DELETE', `meters/${idOf(provider.id)}`);
    expect(pd.status).toBe(409);
    expect((await rest('GET', `meters/${idOf(provider.id)}`)).status).toBe(200);
    expect((await rest('DELETE', `meterTemplates/${template}`)).status).toBe(200);
    expect((await rest('GET', `meterTemplates/${template}`)).status).toBe(404);
  });

  it('refusals write nothing: unknown target, another tenant’s target, a metric the type does not report, bad configuration, bad XML', async () => {
    await env().h.user('tenant-meter-b', ['user'], 'meter-bob');
    const bob = basic('meter-bob', 'password-123');
    const before = await rows();
    const cfg = (aspect: string) => ({ meterConfig: { aspect } });
    const cases: [string, unknown, number, string][] = [
      ['unknown target', { meterTemplate: { targetResource: { href: cimi('machines/00000000-0000-4000-8000-000000000000') }, ...cfg(`${ASPECT}cpu.time`) } }, 400, 'TEMPLATE.BAD_REFERENCE'],
      ['no target', { meterTemplate: cfg(`${ASPECT}cpu.time`) }, 400, 'METER.INVALID_TARGET'],
      ['a Network has no cpu', { meterTemplate: { targetResource: { href: cimi(`networks/${await demoNetwork()}`) }, ...cfg(`${ASPECT}cpu.time`) } }, 400, 'METER.INVALID_CONFIGURATION'],
      ['unknown metric', { meterTemplate: { targetResource: { href: cimi(`machines/${machine}`) }, ...cfg(`${ASPECT}gpu.time`) } }, 400, 'METER.INVALID_CONFIGURATION'],
      ['wrong units', { meterTemplate: { targetResource: { href: cimi(`machines/${machine}`) }, meterConfig: { aspect: `${ASPECT}cpu.time`, units: 'percent' } } }, 400, 'METER.INVALID_CONFIGURATION'],
      ['sampleInterval below the sampling period', { meterTemplate: { targetResource: { href: cimi(`machines/${machine}`) }, meterConfig: { aspect: `${ASPECT}cpu.time`, sampleInterval: 0 } } }, 400, 'METER.INVALID_CONFIGURATION'],
      ['not a Meter target type', { meterTemplate: { targetResource: { href: cimi(`meterConfigs/${config}`) }, ...cfg(`${ASPECT}cpu.time`) } }, 400, 'METER.INVALID_TARGET'],
      ['unknown template', { meterTemplate: { href: cimi('meterTemplates/00000000-0000-4000-8000-000000000000') } }, 400, 'TEMPLATE.BAD_REFERENCE'],
    ];
    for (const [what, body, status, code] of cases) {
      const r = await rest('POST', 'meters', { resourceURI: `${CIMI}/MeterCreate`, ...(body as object) });
      expect({ what, status: r.status, code: String(r.doc.statusMessage).split(':')[0] }).toEqual({ what, status, code });
    }
    // another tenant's Machine is refused exactly like one that never existed
    const bobMeter = await rest('POST', 'meters', { meterTemplate: { targetResource: { href: cimi(`machines/${machine}`) }, ...cfg(`${ASPECT}cpu.time`) } }, { auth: bob });
    expect(bobMeter.status).toBe(400);
    const bobTemplate = await rest('POST', 'meterTemplates', { targetResource: { href: cimi(`machines/${machine}`) }, meterConfig: { aspect: `${ASPECT}cpu.time` } }, { auth: bob });
    expect(bobTemplate.status).toBe(400);
    // configurations the provider cannot honour
    for (const c of [{ aspect: 'http://schemas.dmtf.org/cimi/2/aspect/cpu' }, { aspect: `${ASPECT}cpu.time`, timeScope: 'Interval' }, { aspect: `${ASPECT}cpu.time`, isContinuous: false }, { units: 'bytes' }]) {
      const r = await rest('POST', 'meterConfigs', c);
      expect({ c, status: r.status }).toEqual({ c, status: 400 });
    }
    // an update that would make a configuration or template the provider cannot honour is refused like a create
    const badUpdate = await rest('PUT', `meterConfigs/${config}?$select=aspect`, { aspect: `${ASPECT}gpu.time` });
    expect({ status: badUpdate.status, code: String(badUpdate.doc.statusMessage).split(':')[0] }).toEqual({ status: 400, code: 'METER.INVALID_CONFIGURATION' });
    expect((await rest('GET', `meterConfigs/${config}`)).doc).toMatchObject({ aspect: `${ASPECT}cpu.time`, sampleInterval: 2 });
    const netTemplate = await rest('POST', 'meterTemplates', { targetResource: { href: cimi(`networks/${await demoNetwork()}`) }, meterConfig: { href: cimi(`meterConfigs/${config}`) } });
    expect(netTemplate.status).toBe(400);
    const su = await soapCall(env(), '1.1', 'UpdateMeterConfiguration', `<t:id>${config}</t:id><t:units>bytes</t:units>`);
    expect(faultOf(su).detailCode).toBe('METER.INVALID_CONFIGURATION');
    // XML the schema does not allow (an element MeterCreate has not, before meterTemplate) and malformed XML
    const badXml = `<MeterCreate xmlns="${CIMI}"><bogus>1</bogus><meterTemplate href="${cimi(`meterTemplates/${template}`)}"/></MeterCreate>`;
    expect((await rest('POST', 'meters', badXml, { xml: true })).status).toBe(400);
    expect((await rest('POST', 'meters', '<MeterCreate xmlns="x"><name>', { xml: true })).status).toBe(400);
    // SOAP and WS-Man refusals of a Meter on an unknown Machine
    const s = await soapCall(env(), '1.1', 'CreateMeter', `<t:meterTemplate><t:value><t:targetResource><t:type>Machine</t:type><t:id>00000000-0000-4000-8000-000000000000</t:id></t:targetResource><t:meterConfig><t:value><t:aspect>${ASPECT}cpu.time</t:aspect></t:value></t:meterConfig></t:value></t:meterTemplate>`);
    expect(s.status).toBe(500);
    expect(faultOf(s).detailCode).toBe('TEMPLATE.BAD_REFERENCE');
    const wsCreate = await wsPost(port(), wsEnvelope({ action: ACT.create, resourceUri: METER_CLASS, body: `<p:CIMIGW_Meter xmlns:p="${METER_CLASS}"><p:MeasuredElement>00000000-0000-4000-8000-000000000000</p:MeasuredElement><p:MeasuredElementType>Machine</p:MeasuredElementType><p:MeterConfiguration>${config}</p:MeterConfiguration></p:CIMIGW_Meter>` }), {});
    expect(wsCreate.status).toBeGreaterThanOrEqual(400);
    expect(wsFault(wsCreate).subcode).toBeDefined();
    // SOAP: bob's CreateMeter on alice's Machine is a bad reference, like an unknown id
    const sb = await soapCall(env(), '1.2', 'CreateMeter', `<t:meterTemplate><t:value><t:targetResource><t:type>Machine</t:type><t:id>${machine}</t:id></t:targetResource><t:meterConfig><t:ref>${config}</t:ref></t:meterConfig></t:value></t:meterTemplate>`, { auth: bob });
    expect(faultOf(sb).detailCode).toBe('TEMPLATE.BAD_REFERENCE');
    const wsDelete = await wsPost(port(), wsEnvelope({ action: ACT.delete, resourceUri: METER_CLASS, selectors: { Id: 'CIMIGW:meter:00000000-0000-4000-8000-000000000000' } }), {});
    expect(wsDelete.status).toBeGreaterThanOrEqual(400);
    expect(wsFault(wsDelete).subcode).toBeDefined();
    expect(await rows()).toEqual(before);
  });

  it('a resource holds at most MAX_CLIENT_METERS_PER_RESOURCE client Meters: one more is a quota refusal that writes nothing', async () => {
    const svc = env().h.get(MeterService);
    const slot = { value: { targetResource: { type: 'Machine', id: machine }, meterConfig: { value: { aspect: `${ASPECT}net.rx.bytes` } } } };
    const made: string[] = [];
    const clientMeters = async () => (await svc.list(env().admin, { last: 1000 })).items.filter((m) => m.origin === 'client' && m.resourceId === machine);
    while ((await clientMeters()).length < MAX_CLIENT_METERS_PER_RESOURCE - 1) {
      made.push((await svc.create(env().admin, { meterTemplate: slot as never })).meter.id);
    }
    // one place left and six creates at once: exactly one gets it (the count and the insert are one turn per resource)
    const racing = await Promise.all(Array.from({ length: 6 }, () => rest('POST', 'meters', { meterTemplate: { targetResource: { href: cimi(`machines/${machine}`) }, meterConfig: { aspect: `${ASPECT}net.rx.bytes` } } })));
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
    for (const r of racing) if (r.status === 409) expect(String(r.doc.statusMessage).split(':')[0]).toBe('METER.TOO_MANY');
    made.push(idOf(racing.find((r) => r.status === 201)!.headers.get('location')!));
    expect((await clientMeters()).length).toBe(MAX_CLIENT_METERS_PER_RESOURCE);
    const before = await rows();
    const r = await rest('POST', 'meters', { meterTemplate: { targetResource: { href: cimi(`machines/${machine}`) }, meterConfig: { aspect: `${ASPECT}net.rx.bytes` } } });
    expect({ status: r.status, code: String(r.doc.statusMessage).split(':')[0] }).toEqual({ status: 409, code: 'METER.TOO_MANY' });
    const s = await soapCall(env(), '1.1', 'CreateMeter', `<t:meterTemplate><t:value><t:targetResource><t:type>Machine</t:type><t:id>${machine}</t:id></t:targetResource><t:meterConfig><t:ref>${config}</t:ref></t:meterConfig></t:value></t:meterTemplate>`);
    expect(faultOf(s)).toMatchObject({ detailCode: 'METER.TOO_MANY' });
    expect(await rows()).toEqual(before);
    for (const id of made) await svc.delete(env().admin, id);
  });

  it('a sampleInterval of 31 days (the most meter-definition.ts allows) samples once and does not stop the pass for the other Meters', async () => {
    const c = await rest('POST', 'meterConfigs', { name: 'monthly', aspect: `${ASPECT}cpu.time`, sampleInterval: 2678400 });
    expect(c.status).toBe(201);
    const monthlyCfg = idOf(c.headers.get('location')!);
    const m = await rest('POST', 'meters', { meterTemplate: { targetResource: { href: cimi(`machines/${machine}`) }, meterConfig: { href: cimi(`meterConfigs/${monthlyCfg}`) } } });
    expect(m.status).toBe(201);
    expect(m.doc).toMatchObject({ sampleInterval: 2678400 });
    const monthly = idOf(m.headers.get('location')!);
    const sql = new Sql(env().h.app.get<DataSource>(DATA_SOURCE).manager);
    const samplesOf = async (where: string) => Number((await sql.rows(`SELECT COUNT(*) AS n FROM meter_sample s JOIN meter m ON m.id = s.meter_id WHERE ${where}`))[0].n);
    const providers = () => samplesOf(`m.origin = 'provider' AND m.resource_id = '${machine}'`);
    const mine = () => samplesOf(`m.id = '${monthly}'`);
    for (let i = 1; i <= 2; i++) {
      const before = await providers();
      await sleep(1050);
      expect(await sampler().sampleNow()).toBeGreaterThan(0);
      // the provider's Meters of the same Machine record at every pass; the monthly Meter once in its interval
      expect(await providers()).toBeGreaterThan(before);
      expect(await mine()).toBe(1);
    }
    expect((await rest('DELETE', `meters/${monthly}`)).status).toBe(200);
    expect((await rest('DELETE', `meterConfigs/${monthlyCfg}`)).status).toBe(200);
  });

  it('a MeterConfiguration a MeterTemplate names is not deleted (REST 409, SOAP fault, both INVALID_STATE like an attached Volume); the template still works', async () => {
    const c = await rest('POST', 'meterConfigs', { name: 'kept', aspect: `${ASPECT}memory.used` });
    const cfg = idOf(c.headers.get('location')!);
    const t = await rest('POST', 'meterTemplates', { name: 'uses kept', targetResource: { href: cimi(`machines/${machine}`) }, meterConfig: { href: cimi(`meterConfigs/${cfg}`) } });
    expect(t.status).toBe(201);
    const tpl = idOf(t.headers.get('location')!);
    const before = await rows();
    const r = await rest('DELETE', `meterConfigs/${cfg}`);
    expect({ status: r.status, code: String(r.doc.statusMessage).split(':')[0] }).toEqual({ status: 409, code: 'METERCONFIGURATION.INVALID_STATE' });
    const s = await soapCall(env(), '1.1', 'DeleteMeterConfiguration', `<t:id>${cfg}</t:id>`);
    expect(faultOf(s)).toMatchObject({ code: 'soap:Client', kind: 'invalid-state', detailCode: 'METERCONFIGURATION.INVALID_STATE' });
    expect(await rows()).toMatchObject({ meters: before.meters, definitions: before.definitions });
    expect((await rest('GET', `meterConfigs/${cfg}`)).status).toBe(200);
    // the template is whole: a rename passes and a Meter can still be made from it
    const rename = await rest('PUT', `meterTemplates/${tpl}?$select=name`, { name: 'renamed' });
    expect(rename.status).toBe(200);
    const m = await rest('POST', 'meters', { meterTemplate: { href: cimi(`meterTemplates/${tpl}`) } });
    expect(m.status).toBe(201);
    expect((await rest('DELETE', `meters/${idOf(m.headers.get('location')!)}`)).status).toBe(200);
    // once the template is gone, so may the configuration be
    expect((await rest('DELETE', `meterTemplates/${tpl}`)).status).toBe(200);
    expect((await soapCall(env(), '1.2', 'DeleteMeterConfiguration', `<t:id>${cfg}</t:id>`)).status).toBe(200);
    expect((await rest('GET', `meterConfigs/${cfg}`)).status).toBe(404);
  });

  it('sampleInterval has half a sampler period of slack: a reading a little early is kept, not put off a whole pass', async () => {
    const m = await rest('POST', 'meters', { meterTemplate: { targetResource: { href: cimi(`machines/${machine}`) }, meterConfig: { aspect: `${ASPECT}cpu.time`, sampleInterval: 2 } } });
    expect(m.status).toBe(201);
    const id = idOf(m.headers.get('location')!);
    const sql = new Sql(env().h.app.get<DataSource>(DATA_SOURCE).manager);
    const count = async () => Number((await sql.rows(`SELECT COUNT(*) AS n FROM meter_sample WHERE meter_id = '${id}'`))[0].n);
    await sleep(1050);
    await sampler().sampleNow();
    expect(await count()).toBe(1);
    await sleep(1050);
    // the first reading as if it had been taken 1.7 s before this pass: 0.3 s short of the interval of 2 s, within
    // the slack of half the sampler's 1 s period
    await sql.exec(`UPDATE meter_sample SET at_ms = ${Date.now() - 1700} WHERE meter_id = '${id}'`);
    await sampler().sampleNow();
    expect(await count()).toBe(2);
    // about 1 s after that one: more than half a period short, not due
    await sleep(1050);
    await sampler().sampleNow();
    expect(await count()).toBe(2);
    expect((await rest('DELETE', `meters/${id}`)).status).toBe(200);
  });

  it('SOAP and WS-Man Meter refusals are the faults docs/operations.md lists, and write nothing', async () => {
    await env().h.user(env().admin.tenantId, ['reader'], 'meter-reader');
    const reader = basic('meter-reader', 'password-123');
    const provider = idOf(((await rest('GET', 'meters?$last=1')).doc.meters as { id: string }[])[0].id);
    const before = await rows();
    const soapFaults: [string, string, string, string | undefined][] = [];
    const soapOf = async (what: string, op: string, body: string, auth?: string) => {
      const f = faultOf(await soapCall(env(), '1.2', op, body, auth ? { auth } : {}));
      soapFaults.push([what, String(f.subcode), String(f.detailCode), undefined]);
    };
    const slot = (type: string, id: string, aspect: string) => `<t:meterTemplate><t:value><t:targetResource><t:type>${type}</t:type><t:id>${id}</t:id></t:targetResource><t:meterConfig><t:value><t:aspect>${ASPECT}${aspect}</t:aspect></t:value></t:meterConfig></t:value></t:meterTemplate>`;
    await soapOf('reader create', 'CreateMeter', slot('Machine', machine, 'cpu.time'), reader);
    await soapOf('reader delete', 'DeleteMeter', `<t:id>${provider}</t:id>`, reader);
    await soapOf('reader stop', 'StopMeter', `<t:id>${provider}</t:id>`, reader);
    await soapOf('provider Meter delete', 'DeleteMeter', `<t:id>${provider}</t:id>`);
    await soapOf('unknown target', 'CreateMeter', slot('Machine', '00000000-0000-4000-8000-000000000000', 'cpu.time'));
    await soapOf('no cpu on a Network', 'CreateMeter', slot('Network', await demoNetwork(), 'cpu.time'));
    expect(soapFaults.map(([w, sub, code]) => [w, sub, code])).toEqual([
      ['reader create', 't:NotAuthorized', 'AUTH.FORBIDDEN'],
      ['reader delete', 't:NotAuthorized', 'AUTH.FORBIDDEN'],
      ['reader stop', 't:NotAuthorized', 'AUTH.FORBIDDEN'],
      ['provider Meter delete', 't:Conflict', 'METER.NOT_DELETABLE'],
      ['unknown target', 't:InvalidArgument', 'TEMPLATE.BAD_REFERENCE'],
      ['no cpu on a Network', 't:InvalidArgument', 'METER.INVALID_CONFIGURATION'],
    ]);
    const ws = async (what: string, env_: string, auth?: string) => {
      const r = await wsPost(port(), env_, auth ? { auth } : {});
      const f = wsFault(r);
      return [what, f.subcode, /[A-Z]+\.[A-Z_]+/.exec(r.text.slice(r.text.indexOf('Fault')))?.[0]];
    };
    const create = (body: string) => wsEnvelope({ action: ACT.create, resourceUri: METER_CLASS, body: `<p:CIMIGW_Meter xmlns:p="${METER_CLASS}">${body}</p:CIMIGW_Meter>` });
    const del = wsEnvelope({ action: ACT.delete, resourceUri: METER_CLASS, selectors: { Id: `CIMIGW:meter:${provider}` } });
    expect([
      await ws('reader create', create(`<p:MeterTemplate>${template}</p:MeterTemplate>`), reader),
      await ws('reader delete', del, reader),
      await ws('provider Meter delete', del),
      await ws('unknown target', create(`<p:MeasuredElement>00000000-0000-4000-8000-000000000000</p:MeasuredElement><p:MeasuredElementType>Machine</p:MeasuredElementType><p:MeterConfiguration>${config}</p:MeterConfiguration>`)),
    ]).toEqual([
      ['reader create', 'AccessDenied', 'AUTH.FORBIDDEN'],
      ['reader delete', 'AccessDenied', 'AUTH.FORBIDDEN'],
      ['provider Meter delete', 'Concurrency', 'METER.NOT_DELETABLE'],
      ['unknown target', 'InvalidRepresentation', 'TEMPLATE.BAD_REFERENCE'],
    ]);
    expect(await rows()).toMatchObject({ meters: before.meters, samples: before.samples, definitions: before.definitions });
  });

  const demoNetwork = async () => idOf(((await rest('GET', 'networks')).doc.networks as { id: string; name: string }[]).find((n) => n.name === 'demo-net')!.id);
});
