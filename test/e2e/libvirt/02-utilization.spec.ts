import { readFileSync } from 'node:fs';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD, eventually } from '../../support/app-harness';
import { restGet, restPost, useWsmanApp } from '../../support/wsman-client';
import { domstate, libvirtRest, libvirtUp, useLibvirt, virsh } from '../../support/libvirt';
import { PROVIDER_DRIVER, ProviderError, type ObservedRef, type ProviderDriver, type UtilizationReading } from '../../../src/model/provider/provider-driver';

/**
 * Issue 14 §1, provider side: the libvirt driver's utilization (provider-driver.ts UTILIZATION_METRICS) of a real
 * QEMU guest (TCG) made and started through the REST door, read through the running app's PROVIDER_DRIVER and
 * checked against what libvirt itself says (virsh).
 */
const idOf = (href: string) => href.split('/').pop()!;
const DISK = ['disk.read.bytes', 'disk.write.bytes', 'disk.read.ops', 'disk.write.ops'] as const;
const NET = ['net.rx.bytes', 'net.tx.bytes', 'net.rx.packets', 'net.tx.packets'] as const;

useLibvirt();

describe.each(ENGINES)('libvirt utilization of real domains [%s]', (engine) => {
  const env = useWsmanApp(engine, { PROVIDER: 'libvirt', LIBVIRT_URI: 'qemu:///system', LIBVIRT_SHUTDOWN_TIMEOUT_S: '1' });
  jest.setTimeout(300000);
  const made: { machines: string[]; volumes: string[]; networks: string[] } = { machines: [], volumes: [], networks: [] };

  afterAll(() => {
    for (const id of made.machines) {
      for (const a of [['destroy', `cimi-${id}`], ['undefine', '--managed-save', `cimi-${id}`], ['vol-delete', '--pool', 'cimi', `cimi-m-${id}-disk0.qcow2`]]) try { virsh(...a); } catch { /* gone */ }
    }
    for (const id of made.volumes) try { virsh('vol-delete', '--pool', 'cimi', `cimi-v-${id}.qcow2`); } catch { /* gone */ }
    // the demo seed's network of this app's database
    for (const id of new Set(made.networks)) for (const a of ['net-destroy', 'net-undefine']) try { virsh(a, `cimi-${id}`); } catch { /* gone */ }
  });

  const { job, pick } = libvirtRest(() => env().port);
  const driver = () => env().h.app.get<symbol, ProviderDriver>(PROVIDER_DRIVER);
  const read = (refs: ObservedRef[]) => driver().utilization!(refs);
  /** `virsh domblkstat` of one device: rd_req, rd_bytes, wr_req, wr_bytes */
  const blkstat = (mid: string, dev: string) =>
    Object.fromEntries(virsh('domblkstat', `cimi-${mid}`, dev).split('\n').map((l) => l.trim().split(/\s+/).slice(-2)).map(([k, v]) => [k, Number(v)]));

  it('a running guest reports cpu, memory, disk and net; its Volume and Network theirs; stopped gives null', async () => {
    const port = env().port;
    const base = `http://127.0.0.1:${port}/cimi`;
    const image = await pick('machineImages', 'machineImages', (d) => d.name === 'tiny-boot' && d.state === 'AVAILABLE');
    const config = await pick('machineConfigs', 'machineConfigurations', (d) => d.name === 'tiny');
    const net = await pick('networks', 'networks', (d) => d.name === 'demo-net' && d.state === 'STARTED');
    made.networks.push(idOf(String(net.id)));
    const volCfg = await pick('volumeConfigs', 'volumeConfigurations', (d) => d.name === 'volume-10g');
    const tenantId = 'demo';

    const cr = await restPost(port, '/cimi/machines', {
      resourceURI: 'http://schemas.dmtf.org/cimi/1/MachineCreate',
      name: 'metered',
      machineTemplate: { machineConfig: { href: String(config.id) }, machineImage: { href: String(image.id) }, networkInterfaces: [{ network: { href: String(net.id) } }], initialState: 'STOPPED' },
    });
    expect([201, 202]).toContain(cr.status);
    const mid = idOf(cr.headers.get('location')!);
    made.machines.push(mid);
    await job(cr.headers);
    const vr = await restPost(port, '/cimi/volumes', { resourceURI: 'http://schemas.dmtf.org/cimi/1/VolumeCreate', name: 'metered-data', volumeTemplate: { volumeConfig: { href: String(volCfg.id) } } });
    const vid = idOf(vr.headers.get('location')!);
    made.volumes.push(vid);
    await job(vr.headers);
    const machine: ObservedRef = { tenantId, type: 'Machine', id: mid };
    const volume: ObservedRef = { tenantId, type: 'Volume', id: vid };
    const network: ObservedRef = { tenantId, type: 'Network', id: idOf(String(net.id)) };

    // defined but not running: no live object, no counters; a Volume attached nowhere has none either
    expect(domstate(mid)).toBe('shut off');
    expect(await read([machine])).toEqual([null]);
    expect(await read([machine, volume])).toEqual([null, null]);

    const ar = await restPost(port, `/cimi/machines/${mid}/volumes`, { resourceURI: 'http://schemas.dmtf.org/cimi/1/MachineVolume', volume: { href: `${base}/volumes/${vid}` } });
    expect([201, 202]).toContain(ar.status);
    await job(ar.headers);
    const st = await restPost(port, `/cimi/machines/${mid}/start`, { resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: 'http://schemas.dmtf.org/cimi/1/action/start' });
    await job(st.headers);
    expect(domstate(mid)).toBe('running');
    const dev = virsh('domblklist', `cimi-${mid}`).split('\n').map((l) => l.trim().split(/\s+/)).find(([, src]) => src?.endsWith(`cimi-v-${vid}.qcow2`))![0];
    expect(dev).toMatch(/^sd[a-z]$/);

    // one batch: the Machine, its Volume and its Network from the same libvirt snapshot, once the guest's BIOS
    // (slow under TCG on a loaded host) has read the boot sector from vda
    const [m1, v1, n1] = await eventually(async () => {
      const r = (await read([machine, volume, network])) as UtilizationReading[];
      return r[0] && r[0].values['disk.read.bytes']! > 0 ? r : undefined;
    }, 60000, 250);
    expect(m1.at).toBeInstanceOf(Date);
    expect(m1.values['cpu.time']).toBeGreaterThan(0);
    // the domain's memory, which libvirt holds in KiB (the configured number), reported in KB (1000 bytes)
    expect(virsh('dominfo', `cimi-${mid}`)).toMatch(new RegExp(`Used memory:\\s+${String(config.memory)} KiB`));
    expect(m1.values['memory.total']).toBe((Number(config.memory) * 1024) / 1000);
    expect(m1.values['memory.used']).toBeGreaterThan(0);
    expect(m1.values['memory.used']).toBeLessThanOrEqual(m1.values['memory.total']!);
    for (const k of [...DISK, ...NET]) expect([k, m1.values[k]]).toEqual([k, expect.any(Number)]);
    for (const k of [...DISK, ...NET]) expect(m1.values[k]).toBeGreaterThanOrEqual(0);
    // the Volume is its SCSI device only: what libvirt counts for that device, part of the Machine's sum
    expect(Object.keys(v1.values).sort()).toEqual([...DISK].sort());
    const blk = blkstat(mid, dev);
    expect(v1.values).toEqual({ 'disk.read.bytes': blk.rd_bytes, 'disk.write.bytes': blk.wr_bytes, 'disk.read.ops': blk.rd_req, 'disk.write.ops': blk.wr_req });
    for (const k of DISK) expect(v1.values[k]).toBeLessThanOrEqual(m1.values[k]!);
    // the Network: the sum over the interfaces on it, here this guest's only one
    expect(n1.values).toEqual(Object.fromEntries(NET.map((k) => [k, m1.values[k]])));

    // counters grow (cpu) or never shrink (disk) between reads; a Machine alone is read by its own GetStats
    let m2: UtilizationReading | undefined;
    await eventually(async () => {
      [m2] = (await read([machine])) as UtilizationReading[];
      return m2.values['cpu.time']! > m1.values['cpu.time']!;
    }, 30000, 500);
    expect(m2!.at.getTime()).toBeGreaterThanOrEqual(m1.at.getTime());
    for (const k of [...DISK, ...NET]) expect([k, m2!.values[k]! >= m1.values[k]!]).toEqual([k, true]);
    expect(m2!.values['memory.total']).toBe((Number(config.memory) * 1024) / 1000);

    // a paused domain still has its QEMU process and counters
    const pr = await restPost(port, `/cimi/machines/${mid}/pause`, { resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: 'http://schemas.dmtf.org/cimi/1/action/pause' });
    await job(pr.headers);
    expect(domstate(mid)).toBe('paused');
    const [m3] = (await read([machine])) as UtilizationReading[];
    expect(m3.values['cpu.time']).toBeGreaterThanOrEqual(m2!.values['cpu.time']!);

    // stopped: null for the Machine and the Volume on it; the Network is still active, with nothing on it
    const sp = await restPost(port, `/cimi/machines/${mid}/stop`, { resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: 'http://schemas.dmtf.org/cimi/1/action/stop' });
    await job(sp.headers);
    expect(domstate(mid)).toBe('shut off');
    expect(await read([machine, volume, network])).toEqual([null, null, { at: expect.any(Date), values: { 'net.rx.bytes': 0, 'net.tx.bytes': 0, 'net.rx.packets': 0, 'net.tx.packets': 0 } }]);
    expect(await read([machine])).toEqual([null]);

    // gone: a deleted Machine and an unknown one are null too
    const dr = await fetch(`${base}/machines/${mid}`, { method: 'DELETE', headers: { Authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`, Accept: 'application/json' } });
    expect(dr.status).toBe(202);
    await job(dr.headers);
    expect(domstate(mid)).toBe('absent');
    expect(await read([machine, { tenantId, type: 'Machine', id: 'no-such-machine' }, { tenantId, type: 'System', id: 'x' }])).toEqual([null, null, null]);
  });

  it('libvirtd down: utilization fails as ProviderError(unavailable), and reads again once libvirtd is back', async () => {
    const port = env().port;
    const net = (((await restGet(port, '/cimi/networks')).doc.networks ?? []) as Record<string, unknown>[]).find((d) => d.name === 'demo-net')!;
    const network: ObservedRef = { tenantId: 'demo', type: 'Network', id: idOf(String(net.id)) };
    made.networks.push(network.id);
    expect(await read([network])).toEqual([{ at: expect.any(Date), values: expect.objectContaining({ 'net.rx.bytes': expect.any(Number) }) }]);
    const pid = Number(readFileSync('/run/cimi-gateway-libvirt/libvirtd.pid', 'utf8'));
    process.kill(pid, 'SIGTERM');
    await eventually(async () => { try { process.kill(pid, 0); return false; } catch { return true; } }, 15000, 100);
    try {
      const e = await read([network, { tenantId: 'demo', type: 'Machine', id: 'any' }]).then(() => undefined, (x: unknown) => x);
      expect(e).toBeInstanceOf(ProviderError);
      expect((e as ProviderError).unavailable).toBe(true);
    } finally {
      libvirtUp();
    }
    await eventually(async () => (await read([network]).catch(() => [undefined]))[0] !== undefined, 30000, 200);
  });
});
