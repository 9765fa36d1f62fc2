import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { all, envelope as wsEnvelope, NS, post as wsPost, props, restGet, restPost, useWsmanApp, VENDOR } from '../../support/wsman-client';
import { libvirtRest, useLibvirt, virsh } from '../../support/libvirt';
import { MeterSampler } from '../../../src/model/meter/meter-sampler';
import { meterId } from '../../../src/model/meter/meter';

/**
 * Issue 14 §1, done-when: Meters of a real libvirt machine (a QEMU/TCG guest made and started through REST) read
 * through all three doors, with the same numbers: REST samples, SOAP ListMeterSamples, WS-Man CIMIGW_MeterSample.
 * The readings are libvirt's own (the guest's CPU time grows between two samples; its memory is its config's).
 */
const idOf = (href: string) => href.split('/').pop()!;
const SAMPLE_CLASS = `${VENDOR}CIMIGW_MeterSample`;
const TNS = 'urn:cimi-gateway:soap:1:types';
const BASIC = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

useLibvirt();

describe.each(ENGINES)('Meters of a real libvirt machine through every door [%s]', (engine) => {
  const env = useWsmanApp(engine, { PROVIDER: 'libvirt', LIBVIRT_URI: 'qemu:///system', LIBVIRT_SHUTDOWN_TIMEOUT_S: '1', METER_SAMPLING: 'false', METER_SAMPLE_SECONDS: '1' });
  jest.setTimeout(300000);
  const made: string[] = [];
  const networks = new Set<string>();

  afterAll(() => {
    for (const id of made) {
      for (const a of [['destroy', `cimi-${id}`], ['undefine', '--managed-save', `cimi-${id}`], ['vol-delete', '--pool', 'cimi', `cimi-m-${id}-disk0.qcow2`]]) try { virsh(...a); } catch { /* gone */ }
    }
    // the demo seed's network of this app's database
    for (const id of networks) for (const a of ['net-destroy', 'net-undefine']) try { virsh(a, `cimi-${id}`); } catch { /* gone */ }
  });

  const { job, pick } = libvirtRest(() => env().port);

  /** [timestamp ms, value] of a meter's raw samples, per door */
  const viaRest = async (meter: string) =>
    ((await restGet(env().port, `/cimi/meters/${meter}/samples`)).doc.samples as { sample: { timestamp: string; value: string } }[]).map((s) => [Date.parse(s.sample.timestamp), Number(s.sample.value)]);
  const viaSoap = async (meter: string) => {
    const r = await fetch(`http://127.0.0.1:${env().port}/soap`, {
      method: 'POST',
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: '"urn:cimi-gateway:soap:1:ListMeterSamples"', Authorization: BASIC },
      body: `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="${TNS}"><soap:Body><t:ListMeterSamples><t:id>${meter}</t:id></t:ListMeterSamples></soap:Body></soap:Envelope>`,
    });
    const body = await r.text();
    expect({ status: r.status, fault: /Fault>/.test(body) }).toEqual({ status: 200, fault: false });
    return [...body.matchAll(/<t:item>([\s\S]*?)<\/t:item>/g)].map((m) => [Date.parse(/<t:timestamp>([^<]+)</.exec(m[1])![1]), Number(/<t:value>([^<]+)</.exec(m[1])![1])]);
  };
  const viaWsman = async (meter: string) => {
    const filter = `<wsman:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">select * from CIMIGW_MeterSample where MetricDefinitionId = 'CIMIGW:meter:${meter}'</wsman:Filter>`;
    const r = await wsPost(env().port, wsEnvelope({ action: `${NS.wsen}/Enumerate`, resourceUri: SAMPLE_CLASS, body: `<wsen:Enumerate xmlns:wsen="${NS.wsen}"><wsman:OptimizeEnumeration/><wsman:MaxElements>500</wsman:MaxElements>${filter}</wsen:Enumerate>` }), {});
    expect(r.status).toBe(200);
    return all(r.doc, SAMPLE_CLASS, 'CIMIGW_MeterSample').map((e) => props(e)).map((p) => [Date.parse(p.TimeStamp!), Number(p.MetricValue)]);
  };

  it('a started guest is sampled from libvirt, and REST, SOAP and WS-Man give the same samples', async () => {
    const port = env().port;
    const image = await pick('machineImages', 'machineImages', (d) => d.name === 'tiny-boot' && d.state === 'AVAILABLE');
    const config = await pick('machineConfigs', 'machineConfigurations', (d) => d.name === 'tiny');
    const net = await pick('networks', 'networks', (d) => d.name === 'demo-net');
    networks.add(idOf(String(net.id)));
    const cr = await restPost(port, '/cimi/machines', {
      resourceURI: 'http://schemas.dmtf.org/cimi/1/MachineCreate',
      name: 'metered-doors',
      machineTemplate: { machineConfig: { href: String(config.id) }, machineImage: { href: String(image.id) }, initialState: 'STOPPED' },
    });
    expect([201, 202]).toContain(cr.status);
    const mid = idOf(cr.headers.get('location')!);
    made.push(mid);
    await job(cr.headers);
    const sampler = env().h.get(MeterSampler);
    const st = await restPost(port, `/cimi/machines/${mid}/start`, { resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: 'http://schemas.dmtf.org/cimi/1/action/start' });
    expect(st.status).toBe(202);
    await job(st.headers);

    // two passes at least METER_SAMPLE_SECONDS apart, each keeping this guest's readings
    for (let i = 0; i < 2; i++) {
      await new Promise((r) => setTimeout(r, 1500));
      expect(await sampler.sampleNow()).toBeGreaterThan(0);
    }
    const cpu = meterId(mid, 'cpu.time');
    const rest = await viaRest(cpu);
    expect(rest).toHaveLength(2);
    // libvirt's cumulative CPU time of a running TCG guest: positive and growing
    expect(rest[0][1]).toBeGreaterThan(0);
    expect(rest[1][1]).toBeGreaterThan(rest[0][1]);
    expect(await viaSoap(cpu)).toEqual(rest);
    expect(await viaWsman(cpu)).toEqual(rest);

    // memory.total is the domain's memory (libvirt holds the configured number as KiB), reported in KB (1000 bytes)
    const mem = await viaRest(meterId(mid, 'memory.total'));
    const kb = (Number(config.memory) * 1024) / 1000;
    expect(mem.map(([, v]) => v)).toEqual([kb, kb]);
    expect(await viaSoap(meterId(mid, 'memory.total'))).toEqual(mem);
    expect(await viaWsman(meterId(mid, 'memory.total'))).toEqual(mem);

    const del = await fetch(`http://127.0.0.1:${port}/cimi/machines/${mid}`, { method: 'DELETE', headers: { Authorization: BASIC, Accept: 'application/json' } });
    expect([200, 202]).toContain(del.status);
    if (del.headers.get('cimi-job-uri')) await job(del.headers);
  });
});
