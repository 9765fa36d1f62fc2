import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { restGet, restPost, useWsmanApp } from '../../support/wsman-client';
import { domstate, libvirtRest, useLibvirt, virsh } from '../../support/libvirt';
import { diskOvf, ovaWithManifest, summarize } from '../../support/ovf';
import { items } from '../../support/cimi-client';

/**
 * Issue 17 done-when on the libvirt provider: an OVF package imported as a System (DSP0263 2.0.0 §5.13.2) becomes
 * real libvirt objects (a domain with its volume, an isolated network), starts, exports as an OVA that the system
 * tar lists, and the export imports back to an equivalent SystemTemplate. The guest is tiny (64 MiB, 1 vCPU, a
 * 16 MB disk). A descriptor alone names capacities: libvirt makes blank volumes. An OVA with disk files (issue 17
 * §1, §2) puts them into the pool, and its export carries the disks as streamOptimized vmdk that qemu-img reads.
 */
const idOf = (href: string) => href.split('/').pop()!;
const BASIC = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;
const ACTION = (a: string) => ({ resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: `http://schemas.dmtf.org/cimi/1/action/${a}` });
const DESCRIPTOR = `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
  <References/>
  <DiskSection><Info>disks</Info><Disk ovf:diskId="root" ovf:capacity="16" ovf:capacityAllocationUnits="byte * 10^6" ovf:format="http://www.gnome.org/~markmc/qcow-image-format.html"/></DiskSection>
  <NetworkSection><Info>networks</Info><Network ovf:name="ovfnet"><Description>the appliance's network</Description></Network></NetworkSection>
  <VirtualSystem ovf:id="ovf-tiny">
    <Info>a tiny guest</Info>
    <Name>ovf-tiny</Name>
    <VirtualHardwareSection><Info>hw</Info>
      <Item><rasd:ElementName>cpu</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>mem</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>64</rasd:VirtualQuantity></Item>
      <Item><rasd:ElementName>disk</rasd:ElementName><rasd:HostResource>ovf:/disk/root</rasd:HostResource><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>
      <Item><rasd:Connection>ovfnet</rasd:Connection><rasd:ElementName>nic</rasd:ElementName><rasd:InstanceID>4</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;

useLibvirt();

describe.each(ENGINES)('OVF on a real libvirt [%s]', (engine) => {
  const env = useWsmanApp(engine, { PROVIDER: 'libvirt', LIBVIRT_URI: 'qemu:///system', LIBVIRT_SHUTDOWN_TIMEOUT_S: '1', METER_SAMPLING: 'false' });
  jest.setTimeout(400000);
  const machines: string[] = [];
  const networks: string[] = [];
  const volumes: string[] = [];
  const images: string[] = [];

  afterAll(() => {
    for (const id of images) try { virsh('vol-delete', '--pool', 'cimi', `cimi-i-${id}.qcow2`); } catch { /* gone */ }
    // what a failed run left: the gateway's delete is part of the test
    for (const id of machines) for (const a of [['destroy', `cimi-${id}`], ['undefine', '--managed-save', `cimi-${id}`], ['vol-delete', '--pool', 'cimi', `cimi-m-${id}-disk0.qcow2`]]) try { virsh(...a); } catch { /* gone */ }
    for (const id of volumes) try { virsh('vol-delete', '--pool', 'cimi', `cimi-v-${id}.qcow2`); } catch { /* gone */ }
    for (const id of networks) for (const a of ['net-destroy', 'net-undefine']) try { virsh(a, `cimi-${id}`); } catch { /* gone */ }
  });

  const { job } = libvirtRest(() => env().port);
  const upload = async (body: string | Buffer, type: string, seg: string) => {
    const r = await fetch(`http://127.0.0.1:${env().port}/cimi/${seg}/import`, { method: 'POST', headers: { Authorization: BASIC, Accept: 'application/json', 'Content-Type': type }, body });
    return { status: r.status, headers: r.headers, doc: (await r.json()) as Record<string, unknown> };
  };
  const components = async (href: string, attr: string) => {
    const coll = (await restGet(env().port, new URL(href).pathname)).doc;
    return (items(coll) as Record<string, Record<string, string>>[]).map((l) => idOf(l[attr].href));
  };
  /** the MachineImages and VolumeImages an import's Job made (the pool volumes `cimi-i-<id>.qcow2`) */
  const imagesOf = async (headers: Headers) => {
    const j = (await restGet(env().port, `/cimi/jobs/${idOf(headers.get('cimi-job-uri')!)}`)).doc.affectedResources as { href: string }[];
    const out = j.filter((r) => /\/(machine|volume)Images\//.test(r.href)).map((r) => idOf(r.href));
    images.push(...out);
    return out;
  };
  /** a SystemTemplate's Machine components as [name, cpu, memory, disk capacities (the Machine's own, then its Volumes')] */
  const shape = async (stId: string) => {
    const st = (await restGet(env().port, `/cimi/systemTemplates/${stId}`)).doc;
    const out = [];
    for (const d of (st.componentDescriptors as Record<string, Record<string, unknown>>[]).filter((x) => String(x.type).endsWith('/Machine'))) {
      const mt = (await restGet(env().port, new URL(String((d.machineTemplate as { href: string }).href)).pathname)).doc;
      const cfg = (await restGet(env().port, new URL((mt.machineConfig as { href: string }).href).pathname)).doc;
      const disks: unknown[] = ((cfg.disks ?? []) as { capacity: number }[]).map((d) => d.capacity);
      for (const v of (mt.volumeTemplates ?? []) as { volumeTemplate: { href: string } }[]) disks.push(((await restGet(env().port, new URL(v.volumeTemplate.href).pathname)).doc.volumeConfig as Record<string, unknown>).capacity);
      out.push([d.name, cfg.cpu, cfg.memory, disks]);
    }
    return out;
  };

  it('imports a package as a System of libvirt objects, starts it, exports it as an OVA and imports that back', async () => {
    const port = env().port;
    const imp = await upload(DESCRIPTOR, 'application/ovf+xml', 'systems');
    expect(imp.status).toBe(202);
    const sid = idOf(imp.headers.get('location')!);
    const sys = (await restGet(port, `/cimi/systems/${sid}`)).doc as Record<string, { href: string }>;
    machines.push(...(await components(sys.machines.href, 'machine')));
    networks.push(...(await components(sys.networks.href, 'network')));
    await job(imp.headers);
    expect(machines).toHaveLength(1);
    expect(networks).toHaveLength(1);
    const [mid] = machines;
    // the hypervisor's own view: a defined domain of the package's size, its network defined
    expect(domstate(mid)).toBe('shut off');
    const dom = virsh('dumpxml', `cimi-${mid}`);
    expect(dom).toMatch(/<memory unit='KiB'>65536<\/memory>/);
    expect(dom).toMatch(/<vcpu[^>]*>1<\/vcpu>/);
    expect(virsh('net-info', `cimi-${networks[0]}`)).toMatch(/cimi-/);
    const m = (await restGet(port, `/cimi/machines/${mid}`)).doc as Record<string, { href: string }>;
    volumes.push(...(await components(m.volumes.href, 'volume')));
    expect(volumes).toHaveLength(1);
    // the 16 MB the descriptor says, in bytes, as libvirt made the volume (CIMI KB are 1000 bytes)
    expect(virsh('vol-info', '--bytes', '--pool', 'cimi', `cimi-v-${volumes[0]}.qcow2`)).toMatch(/Capacity:\s+16000000 bytes/);

    const st = await restPost(port, `/cimi/systems/${sid}/start`, ACTION('start'));
    expect(st.status).toBe(202);
    await job(st.headers);
    expect(domstate(mid)).toBe('running');

    // 201 with no body: the package is at the Location (DSP0263 2.0.0 §5.13.1)
    const ex = await fetch(`http://127.0.0.1:${port}/cimi/systems/${sid}/export`, { method: 'POST', headers: { Authorization: BASIC, 'Content-Type': 'application/json' }, body: JSON.stringify({ ...ACTION('export'), format: 'application/x-ova' }) });
    expect(ex.status).toBe(201);
    const got = await fetch(ex.headers.get('location')!, { headers: { Authorization: BASIC, Accept: '*/*' } });
    expect(got.status).toBe(200);
    const ova = Buffer.from(await got.arrayBuffer());
    const dir = mkdtempSync(join(tmpdir(), 'ova-lv-'));
    let descriptor: string;
    try {
      const file = join(dir, 'x.ova');
      writeFileSync(file, ova);
      const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' }).trim().split('\n');
      // the descriptor, its manifest, then the Volume as a vmdk (the Machine has no Disk of its own here)
      expect(listing.map((l) => l.split(/\s+/).pop())).toEqual(['ovf-tiny.ovf', 'ovf-tiny.mf', expect.stringMatching(/^ovf-tiny-.+\.vmdk$/)]);
      descriptor = execFileSync('tar', ['-xOf', file, 'ovf-tiny.ovf'], { encoding: 'utf8' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // the running System as it is on libvirt: the Machine's size and its network
    expect(summarize(descriptor)).toEqual([{ name: 'ovf-tiny', cpu: 1, memoryMB: 64, disksKB: [16000], connections: ['ovfnet'] }]);

    const back = await upload(ova, 'application/x-ova', 'systemTemplates');
    expect(back.status).toBe(201);
    // the exported disk came back into the pool as the first disk's MachineImage
    expect(await imagesOf(back.headers)).toHaveLength(1);
    const firstTemplate = (await restGet(port, `/cimi/jobs/${idOf(imp.headers.get('cimi-job-uri')!)}`)).doc.affectedResources as { href: string }[];
    const stFirst = idOf(firstTemplate.find((r) => r.href.includes('/systemTemplates/'))!.href);
    expect(await shape(idOf(back.headers.get('location')!))).toEqual(await shape(stFirst));
    expect(await shape(stFirst)).toEqual([['ovf-tiny', 1, 65536, [16000]]]);

    const stop = await restPost(port, `/cimi/systems/${sid}/stop`, { ...ACTION('stop'), force: true });
    expect(stop.status).toBe(202);
    await job(stop.headers);
    const del = await fetch(`http://127.0.0.1:${port}/cimi/systems/${sid}`, { method: 'DELETE', headers: { Authorization: BASIC, Accept: 'application/json' } });
    expect([200, 202]).toContain(del.status);
    if (del.headers.get('cimi-job-uri')) await job(del.headers);
    expect(domstate(mid)).toBe('absent');
  });

  it('puts an OVA\'s disk files into the pool, exports the running System with its disks as vmdk, and they import back equal', async () => {
    const port = env().port;
    const dir = mkdtempSync(join(tmpdir(), 'ova-disks-'));
    const run = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', cwd: dir });
    /** the SHA-256 of a disk's guest-visible bytes, whatever its format */
    const rawDigest = (file: string) => {
      const out = join(dir, `digest-${createHash('sha1').update(file).digest('hex')}.raw`);
      run('qemu-img', 'convert', '-U', '-O', 'raw', file, out);
      const d = createHash('sha256').update(readFileSync(out)).digest('hex');
      rmSync(out);
      return d;
    };
    try {
      // a boot disk as qcow2 and a data disk as vmdk, each with recognisable bytes; sizes are whole KB and sectors
      const rootRaw = join(dir, 'root.raw');
      const root = Buffer.alloc(8_192_000);
      for (let i = 0; i < root.length; i += 4096) root.write(`root block ${i / 4096}\n`, i);
      writeFileSync(rootRaw, root);
      const dataRaw = join(dir, 'data.raw');
      writeFileSync(dataRaw, Buffer.alloc(2_048_000, 'data disk '));
      run('qemu-img', 'convert', '-f', 'raw', '-O', 'qcow2', rootRaw, 'root.qcow2');
      run('qemu-img', 'convert', '-f', 'raw', '-O', 'vmdk', '-o', 'subformat=streamOptimized', dataRaw, 'data.vmdk');
      const files = [{ name: 'diskful-root.qcow2', data: readFileSync(join(dir, 'root.qcow2')) }, { name: 'diskful-data.vmdk', data: readFileSync(join(dir, 'data.vmdk')) }];
      const ovf = diskOvf('diskful', [
        { id: 'root', href: files[0].name, size: files[0].data.length, capacityBytes: root.length, format: 'qcow2' },
        { id: 'data', href: files[1].name, size: files[1].data.length, capacityBytes: 2_048_000 },
      ]);
      const want = { root: rawDigest(rootRaw), data: rawDigest(dataRaw) };

      // a disk in a format the pool does not take: refused, naming the file, with nothing left in the pool
      const poolBefore = virsh('vol-list', 'cimi');
      run('qemu-img', 'create', '-q', '-f', 'vdi', 'bad.vdi', '1M');
      const vdi = readFileSync(join(dir, 'bad.vdi'));
      const bad = await upload(ovaWithManifest('diskful', ovf.replace(`ovf:size="${files[1].data.length}"`, `ovf:size="${vdi.length}"`), [files[0], { name: files[1].name, data: vdi }]), 'application/x-ova', 'systems');
      expect(bad.status).toBe(400);
      expect(String(bad.doc.statusMessage)).toMatch(/OVF\.BAD_DISK: disk file diskful-data\.vmdk is in format vdi/);
      expect(virsh('vol-list', 'cimi')).toBe(poolBefore);

      const imp = await upload(ovaWithManifest('diskful', ovf, files), 'application/x-ova', 'systems');
      expect(imp.status).toBe(202);
      const sid = idOf(imp.headers.get('location')!);
      const sys = (await restGet(port, `/cimi/systems/${sid}`)).doc as Record<string, { href: string }>;
      const [mid] = await components(sys.machines.href, 'machine');
      machines.push(mid);
      networks.push(...(await components(sys.networks.href, 'network')));
      expect(await imagesOf(imp.headers)).toHaveLength(2);
      await job(imp.headers);
      const m = (await restGet(port, `/cimi/machines/${mid}`)).doc as Record<string, { href: string }>;
      const [vid] = await components(m.volumes.href, 'volume');
      volumes.push(vid);
      // libvirt's own view: the domain's disk and the Volume hold the package's bytes
      const pool = '/var/lib/cimi-gateway/pool';
      expect(rawDigest(join(pool, `cimi-m-${mid}-disk0.qcow2`))).toBe(want.root);
      expect(rawDigest(join(pool, `cimi-v-${vid}.qcow2`))).toBe(want.data);

      const st = await restPost(port, `/cimi/systems/${sid}/start`, ACTION('start'));
      await job(st.headers);
      expect(domstate(mid)).toBe('running');
      const ex = await fetch(`http://127.0.0.1:${port}/cimi/systems/${sid}/export`, { method: 'POST', headers: { Authorization: BASIC, 'Content-Type': 'application/json' }, body: JSON.stringify({ ...ACTION('export'), format: 'application/x-ova' }) });
      expect(ex.status).toBe(201);
      const got = await fetch(ex.headers.get('location')!, { headers: { Authorization: BASIC, Accept: '*/*' } });
      expect(got.status).toBe(200);
      const ova = Buffer.from(await got.arrayBuffer());
      writeFileSync(join(dir, 'export.ova'), ova);
      const names = run('tar', '-tvf', 'export.ova').trim().split('\n').map((l) => l.split(/\s+/).pop()!);
      expect(names).toEqual(['diskful.ovf', 'diskful.mf', 'diskful-disk0.vmdk', expect.stringMatching(/^diskful-.+\.vmdk$/)]);
      run('tar', '-xf', 'export.ova');
      // every disk reads as a streamOptimized vmdk of the package's virtual size, with the same guest bytes
      const info = (f: string) => JSON.parse(run('qemu-img', 'info', '--output=json', f)) as { format: string; 'virtual-size': number; 'format-specific': { data: { 'create-type': string } } };
      expect([info(names[2]), info(names[3])].map((i) => [i.format, i['format-specific'].data['create-type'], i['virtual-size']])).toEqual([
        ['vmdk', 'streamOptimized', root.length],
        ['vmdk', 'streamOptimized', 2_048_000],
      ]);
      expect([rawDigest(names[2]), rawDigest(names[3])]).toEqual([want.root, want.data]);
      // the descriptor names them with their sizes, the manifest with their digests
      const descriptor = readFileSync(join(dir, 'diskful.ovf'), 'utf8');
      for (const n of names.slice(2)) {
        expect(descriptor).toContain(`ovf:href="${n}" ovf:id="file-${n.replace(/\.vmdk$/, '')}" ovf:size="${readFileSync(join(dir, n)).length}"`);
        expect(readFileSync(join(dir, 'diskful.mf'), 'utf8')).toContain(`SHA256(${n})= ${createHash('sha256').update(readFileSync(join(dir, n))).digest('hex')}`);
      }

      // round trip: the export imports back, its disks into the pool with the same bytes
      const back = await upload(ova, 'application/x-ova', 'systemTemplates');
      expect(back.status).toBe(201);
      const [mi, vi] = await imagesOf(back.headers);
      expect([rawDigest(join(pool, `cimi-i-${mi}.qcow2`)), rawDigest(join(pool, `cimi-i-${vi}.qcow2`))]).toEqual([want.root, want.data]);

      const stop = await restPost(port, `/cimi/systems/${sid}/stop`, { ...ACTION('stop'), force: true });
      await job(stop.headers);
      const del = await fetch(`http://127.0.0.1:${port}/cimi/systems/${sid}`, { method: 'DELETE', headers: { Authorization: BASIC, Accept: 'application/json' } });
      if (del.headers.get('cimi-job-uri')) await job(del.headers);
      expect(domstate(mid)).toBe('absent');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
