import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { ACTION, CIMI_NS, items, ok, op, parseResponse, useRestApp, type CimiClient, type CimiResponse, type Doc } from '../../support/cimi-client';
import { diskOvf, fixture, ovaWithManifest, summarize, tar } from '../../support/ovf';

/**
 * OVF import and export on the CIMI door (issue 17; DSP0263 2.0.0 §5.13.1, §5.13.4, §5.13.5; docs/operations.md):
 * the interop fixtures import to the expected templates, an import → System → export → import round-trips, the
 * gateway's OVA reads with the system tar, and bad packages are refused with nothing written.
 */
const COUNTED = ['systemTemplates', 'machineTemplates', 'machineConfigs', 'volumeTemplates', 'machineImages', 'volumeImages', 'networkTemplates', 'jobs', 'systems', 'machines', 'volumes', 'networks'];
const auth = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

/** a small OVF_MAX_PACKAGE_BYTES, so that the tests cross both it and the 1 MiB cap of other CIMI bodies */
const PACKAGE_CAP = 2 * 1024 * 1024;

describe.each(ENGINES)('REST OVF [%s]', (engine) => {
  const env = useRestApp(engine, { OVF_MAX_PACKAGE_BYTES: String(PACKAGE_CAP) });

  async function raw(method: string, href: string, body?: string | Buffer, contentType?: string, accept = 'application/json'): Promise<{ status: number; headers: Headers; bytes: Buffer }> {
    const res = await fetch(href, { method, headers: { Authorization: auth, Accept: accept, ...(contentType ? { 'Content-Type': contentType } : {}) }, body });
    return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
  }
  const asCimi = async (r: { status: number; headers: Headers; bytes: Buffer }): Promise<CimiResponse> => {
    const h: Record<string, string> = {};
    r.headers.forEach((v, k) => (h[k] = v));
    return parseResponse(r.status, h, r.bytes.toString('utf8'), 'OVF request');
  };
  async function importHref(c: CimiClient): Promise<string> {
    const coll = ok(await c.get((await c.cep()).systemTemplates.href), 200).doc;
    return op(coll, 'import');
  }
  async function upload(c: CimiClient, body: string | Buffer, type = 'application/ovf+xml'): Promise<CimiResponse> {
    return asCimi(await raw('POST', await importHref(c), body, type));
  }
  async function counts(c: CimiClient): Promise<Record<string, number>> {
    const cep = await c.cep();
    const out: Record<string, number> = {};
    for (const k of COUNTED) out[k] = ok(await c.get(cep[k].href, { $last: '1' }), 200).doc.count;
    return out;
  }
  /** the template's machines and networks, followed through their hrefs */
  async function shape(c: CimiClient, stHref: string) {
    const st = ok(await c.get(stHref), 200).doc;
    const machines = [];
    for (const d of st.componentDescriptors.filter((x: Doc) => x.type === `${CIMI_NS}/Machine`)) {
      const mt = ok(await c.get(d.machineTemplate.href), 200).doc;
      const cfg = ok(await c.get(mt.machineConfig.href), 200).doc;
      const disks = [];
      for (const v of mt.volumeTemplates ?? []) {
        const vt = ok(await c.get(v.volumeTemplate.href), 200).doc;
        disks.push({ capacity: vt.volumeConfig.capacity, format: vt.volumeConfig.format });
      }
      machines.push({ name: d.name, cpu: cfg.cpu, memory: cfg.memory, disks, networks: (d.machineTemplate.networkInterfaces ?? []).map((n: Doc) => n.network.href) });
    }
    const networks = st.componentDescriptors.filter((x: Doc) => x.type === `${CIMI_NS}/Network`).map((d: Doc) => d.name);
    return { st, machines, networks };
  }
  async function exportOf(c: CimiClient, href: string, format?: string): Promise<{ location: string; body: Buffer; type: string }> {
    const doc = c.format === 'json' ? JSON.stringify({ resourceURI: `${CIMI_NS}/Action`, action: `${ACTION}export`, ...(format ? { format } : {}) }) : `<Action xmlns="${CIMI_NS}"><action>${ACTION}export</action>${format ? `<format>${format}</format>` : ''}</Action>`;
    const resource = ok(await c.get(href), 200).doc;
    const r = await raw('POST', op(resource, 'export'), doc, c.mediaType);
    expect(r.status).toBe(201);
    const location = r.headers.get('location')!;
    const got = await raw('GET', location, undefined, undefined, '*/*');
    expect(got.status).toBe(200);
    return { location, body: got.bytes, type: got.headers.get('content-type') ?? '' };
  }

  const EXPECTED: Record<string, { name: string; cpu: number; memory: number; disk: { capacity: number; format: string }; network: string; warns: string[] }> = {
    'vmware-ovftool.ovf': { name: 'web01', cpu: 2, memory: 4194304, disk: { capacity: 17179870, format: 'vmdk' }, network: 'VM_Network', warns: ['ResourceType 6', 'ResourceType 24'] },
    'virtualbox-export.ovf': { name: 'Ubuntu_22.04', cpu: 1, memory: 2097152, disk: { capacity: 10737419, format: 'vmdk' }, network: 'NAT', warns: ['ResourceType 5', 'ResourceType 20', 'ResourceType 15', 'ResourceType 35'] },
    'virt-v2v-ovirt.ovf': { name: 'rhel9-guest', cpu: 2, memory: 4194304, disk: { capacity: 21474837, format: 'qcow2' }, network: 'ovirtmgmt', warns: ['ResourceType 23', 'ResourceType 20'] },
  };

  it.each(Object.keys(EXPECTED))('imports the %s shape to a SystemTemplate with its Machine, Volume and Network templates', async (file) => {
    const c = env().client('json');
    const e = EXPECTED[file];
    const r = ok(await upload(c, fixture(file)), 201);
    expect(r.headers['cimi-job-uri']).toBeTruthy();
    const job = ok(await c.get(r.headers['cimi-job-uri']), 200).doc;
    expect(job.state).toBe('SUCCESS');
    const { st, machines, networks } = await shape(c, r.headers.location);
    expect(networks).toEqual([e.network]);
    expect(machines).toEqual([{ name: e.name, cpu: e.cpu, memory: e.memory, disks: [e.disk], networks: [`#${e.network}`] }]);
    for (const w of e.warns) expect(st.properties['ovf:warnings']).toContain(w);
    expect(st.operations.map((o: Doc) => o.rel)).toContain(`${ACTION}export`);
  });

  it.each(['json', 'xml'] as const)('imports from a data: source URI in an Action (%s)', async (format) => {
    const c = env().client(format);
    const source = `data:application/ovf+xml;base64,${Buffer.from(fixture('vmware-ovftool.ovf')).toString('base64')}`;
    const r = ok(await c.action(await importHref(c), 'import', { source }), 201);
    const { machines } = await shape(c, r.headers.location);
    expect(machines.map((m) => m.cpu)).toEqual([2]);
  });

  it.each(['json', 'xml'] as const)('import → System → export → import gives back an equivalent template (%s)', async (format) => {
    const c = env().client(format);
    const first = ok(await upload(c, fixture('vmware-ovftool.ovf')), 201).headers.location;
    const systems = ok(await c.get((await c.cep()).systems.href), 200).doc;
    const sr = ok(await c.post(op(systems, 'add'), 'SystemCreate', { name: `ovf-sys-${format}`, systemTemplate: { href: first } }), 201, 202);
    expect((await c.waitJob(sr.headers['cimi-job-uri'])).state).toBe('SUCCESS');
    const sysExport = await exportOf(c, sr.headers.location);
    expect(sysExport.location).toBe(`${sr.headers.location}/export.ovf`);
    expect(sysExport.type).toMatch(/^application\/ovf\+xml/);
    const fromSystem = summarize(sysExport.body.toString('utf8'));
    expect(fromSystem).toEqual([{ name: 'web01', cpu: 2, memoryMB: 4096, disksKB: [17179870], connections: ['VM_Network'] }]);

    const second = ok(await upload(c, sysExport.body), 201).headers.location;
    const a = await shape(c, first);
    const b = await shape(c, second);
    expect(b.networks).toEqual(a.networks);
    expect(b.machines).toEqual(a.machines);
    // and the templates' own exports say the same
    expect(summarize((await exportOf(c, second)).body.toString('utf8'))).toEqual(summarize((await exportOf(c, first)).body.toString('utf8')));
  });

  it.each(['json', 'xml'] as const)('imports a package as a System in one step: its template, Machines, Volumes and Networks (%s)', async (format) => {
    const c = env().client(format);
    const systems = ok(await c.get((await c.cep()).systems.href), 200).doc;
    const r = await asCimi(await raw('POST', op(systems, 'import'), fixture('vmware-ovftool.ovf'), 'application/ovf+xml', c.mediaType));
    // DSP0263 2.0.0 §4.2.1.1: 202 while the Job provisions it; the body is the System as it is now
    ok(r, 202);
    expect(r.headers.location).toMatch(/\/systems\/[^/]+$/);
    expect(r.doc.id).toBe(r.headers.location);
    const job = await c.waitJob(r.headers['cimi-job-uri']);
    expect(job.state).toBe('SUCCESS');
    expect(job.action).toBe(`${ACTION}import`);
    const sys = ok(await c.get(r.headers.location), 200).doc;
    expect(sys.state).toBe('STOPPED');
    // made from the package's template, which the Job names with the components it created
    const affected: string[] = job.affectedResources.map((x: Doc) => x.href);
    const stHref = affected.find((h) => h.includes('/systemTemplates/'))!;
    expect(affected).toContain(r.headers.location);
    const st = await shape(c, stHref);
    expect(st.machines.map((m) => [m.name, m.cpu, m.memory, m.disks])).toEqual([['web01', 2, 4194304, [{ capacity: 17179870, format: 'vmdk' }]]]);
    const machines = ok(await c.get(sys.machines.href), 200).doc;
    expect(machines.count).toBe(1);
    const m = ok(await c.get(items(machines)[0].machine.href), 200).doc;
    expect([m.name, m.cpu, m.memory, m.state]).toEqual(['web01', 2, 4194304, 'STOPPED']);
    const networks = ok(await c.get(sys.networks.href), 200).doc;
    expect(networks.count).toBe(1);
    expect(ok(await c.get(items(networks)[0].network.href), 200).doc.name).toBe('VM_Network');
    // the System exports back to the package's shape
    expect(summarize((await exportOf(c, r.headers.location)).body.toString('utf8'))).toEqual([{ name: 'web01', cpu: 2, memoryMB: 4096, disksKB: [17179870], connections: ['VM_Network'] }]);
  });

  it('System import from a data: source URI; a refused package leaves no template and no System', async () => {
    const c = env().client('json');
    const systems = ok(await c.get((await c.cep()).systems.href), 200).doc;
    const good = ok(await c.action(op(systems, 'import'), 'import', { source: `data:application/ovf+xml;base64,${Buffer.from(fixture('virt-v2v-ovirt.ovf')).toString('base64')}` }), 202);
    expect((await c.waitJob(good.headers['cimi-job-uri'])).state).toBe('SUCCESS');
    const sys = ok(await c.get(good.headers.location), 200).doc;
    expect(items(ok(await c.get(sys.machines.href), 200).doc).length).toBe(1);
    // two Volumes of one name (CIMI names need not be unique) attached to the Machine get a Disk each in the
    // export, and the package imports back with both (their ids, `<machine>-<volume>`, used to collide)
    const machine = ok(await c.get(items(ok(await c.get(sys.machines.href), 200).doc)[0].machine.href), 200).doc;
    const before = summarize((await exportOf(c, good.headers.location)).body.toString('utf8'))[0].disksKB.length;
    const cep = await c.cep();
    for (const dev of ['/dev/vdc', '/dev/vdd']) {
      const vol = ok(await c.post(cep.volumes.href, 'VolumeCreate', { name: 'twin', volumeTemplate: { volumeConfig: { capacity: 1000000, format: 'ext4' } } }), 201, 202);
      await c.waitJob(vol.headers['cimi-job-uri']);
      const att = ok(await c.post(machine.volumes.href, 'MachineVolume', { volume: { href: vol.headers.location }, initialLocation: dev }), 201, 202);
      await c.waitJob(att.headers['cimi-job-uri']);
    }
    const exported = summarize((await exportOf(c, good.headers.location)).body.toString('utf8'));
    const ids = (await exportOf(c, good.headers.location)).body.toString('utf8').match(/ovf:diskId="[^"]*"/g) ?? [];
    expect(new Set(ids).size).toBe(ids.length);
    expect(exported[0].disksKB).toHaveLength(before + 2);
    const again = ok(await upload(c, (await exportOf(c, good.headers.location)).body), 201).headers.location;
    expect(summarize((await exportOf(c, again)).body.toString('utf8'))[0].disksKB).toHaveLength(before + 2);
    for (const [body, type, status, code] of [
      [fixture('vmware-ovftool.ovf').replace('ovf:/disk/vmdisk1', 'ovf:/disk/vmdisk7'), 'application/ovf+xml', 400, 'OVF.BAD_REFERENCE'],
      [tar([{ name: '../x.ovf', data: fixture('vmware-ovftool.ovf') }]), 'application/x-ova', 400, 'OVF.PATH_TRAVERSAL'],
    ] as const) {
      const before = await counts(c);
      const r = await asCimi(await raw('POST', op(systems, 'import'), body, type));
      expect(r.status).toBe(status);
      expect(r.text).toContain(code);
      expect(await counts(c)).toEqual(before);
    }
  });

  it('exports an OVA that the system tar lists, and imports it back', async () => {
    const c = env().client('json');
    const st = ok(await upload(c, fixture('virtualbox-export.ovf')), 201).headers.location;
    const ova = await exportOf(c, st, 'application/x-ova');
    expect(ova.location).toBe(`${st}/export.ova`);
    const dir = mkdtempSync(join(tmpdir(), 'ova-'));
    try {
      const file = join(dir, 'x.ova');
      writeFileSync(file, ova.body);
      const listing = execFileSync('tar', ['-tvf', file], { encoding: 'utf8' }).trim().split('\n');
      expect(listing).toHaveLength(2);
      expect(listing[0]).toMatch(/ Ubuntu_22\.04\.ovf$/);
      expect(listing[1]).toMatch(/ Ubuntu_22\.04\.mf$/);
      const mf = execFileSync('tar', ['-xOf', file, 'Ubuntu_22.04.mf'], { encoding: 'utf8' });
      const sha = execFileSync('sh', ['-c', `tar -xOf '${file}' Ubuntu_22.04.ovf | sha256sum`], { encoding: 'utf8' }).split(' ')[0];
      expect(mf).toBe(`SHA256(Ubuntu_22.04.ovf)= ${sha}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const back = ok(await upload(c, ova.body, 'application/x-ova'), 201).headers.location;
    expect((await shape(c, back)).machines).toEqual((await shape(c, st)).machines);
  });

  it('imports an OVA whose References are in the archive; unknown ResourceTypes only warn', async () => {
    const c = env().client('json');
    const ovf = fixture('vmware-ovftool.ovf').replace('<rasd:ResourceType>24</rasd:ResourceType>', '<rasd:ResourceType>99</rasd:ResourceType>');
    const r = ok(await upload(c, tar([{ name: 'web01.ovf', data: sized(ovf, 4) }, { name: 'web01-disk1.vmdk', data: 'KDMV' }]), 'application/x-ova'), 201);
    expect(ok(await c.get(r.headers.location), 200).doc.properties['ovf:warnings']).toContain('ResourceType 99 is not mapped');
  });

  const vmware = () => fixture('vmware-ovftool.ovf');
  /** the descriptor with its References/File ovf:size set to the disk entry's size (DSP0243 §7.1), which is checked */
  const sized = (ovf: string, n: number) => ovf.replace('ovf:size="1048576"', `ovf:size="${n}"`);
  const BAD: [string, () => string | Buffer, string, number, string][] = [
    ['not XML', () => 'this is not an OVF descriptor', 'application/ovf+xml', 400, 'OVF.NOT_XML'],
    ['a DTD', () => vmware().replace('<Envelope', '<!DOCTYPE Envelope [<!ENTITY x "y">]>\n<Envelope'), 'application/ovf+xml', 400, 'OVF.DTD'],
    ['not an Envelope', () => '<Machine xmlns="http://schemas.dmtf.org/cimi/1"/>', 'application/ovf+xml', 400, 'OVF.NOT_OVF'],
    ['a Disk whose fileRef is not in References', () => vmware().replace('ovf:fileRef="file1"', 'ovf:fileRef="file9"'), 'application/ovf+xml', 400, 'OVF.MISSING_FILE'],
    ['a disk Item naming no Disk', () => vmware().replace('ovf:/disk/vmdisk1', 'ovf:/disk/vmdisk7'), 'application/ovf+xml', 400, 'OVF.BAD_REFERENCE'],
    ['a Connection to no Network', () => vmware().replace('<rasd:Connection>VM Network</rasd:Connection>', '<rasd:Connection>Elsewhere</rasd:Connection>'), 'application/ovf+xml', 400, 'OVF.BAD_REFERENCE'],
    ['no memory Item', () => vmware().replace('<rasd:ResourceType>4</rasd:ResourceType>', '<rasd:ResourceType>1</rasd:ResourceType>'), 'application/ovf+xml', 400, 'OVF.NO_MEMORY'],
    ['an OVA missing a References file', () => tar([{ name: 'web01.ovf', data: vmware() }]), 'application/x-ova', 400, 'OVF.MISSING_FILE'],
    ['an OVA entry climbing out (../)', () => tar([{ name: 'web01.ovf', data: vmware() }, { name: '../web01-disk1.vmdk', data: 'x' }]), 'application/x-ova', 400, 'OVF.PATH_TRAVERSAL'],
    ['an OVA entry with an absolute name', () => tar([{ name: '/etc/web01.ovf', data: vmware() }]), 'application/x-ova', 400, 'OVF.PATH_TRAVERSAL'],
    ['an OVA whose first entry is not the descriptor', () => tar([{ name: 'web01-disk1.vmdk', data: 'x' }, { name: 'web01.ovf', data: vmware() }]), 'application/x-ova', 400, 'OVF.NO_DESCRIPTOR'],
    ['an OVA with a bad checksum', () => { const t = tar([{ name: 'web01.ovf', data: vmware() }]); t[0] ^= 1; return t; }, 'application/x-ova', 400, 'OVF.BAD_TAR'],
    ['a package over OVF_MAX_PACKAGE_BYTES', () => tar([{ name: 'web01.ovf', data: vmware() }, { name: 'web01-disk1.vmdk', data: Buffer.alloc(PACKAGE_CAP, 1) }]), 'application/x-ova', 413, 'REST.BODY_TOO_LARGE'],
    ['a descriptor over 1 MiB', () => vmware().replace('<Envelope', `<!-- ${'x'.repeat(1024 * 1024)} -->\n<Envelope`), 'application/ovf+xml', 400, 'OVF.TOO_LARGE'],
  ];

  it('takes an OVA over the 1 MiB cap of other CIMI bodies, up to OVF_MAX_PACKAGE_BYTES; the Action body keeps 1 MiB', async () => {
    const c = env().client('json');
    const big = tar([{ name: 'web01.ovf', data: sized(vmware(), PACKAGE_CAP - 64 * 1024) }, { name: 'web01-disk1.vmdk', data: Buffer.alloc(PACKAGE_CAP - 64 * 1024, 1) }]);
    expect(big.length).toBeGreaterThan(1024 * 1024);
    expect(big.length).toBeLessThanOrEqual(PACKAGE_CAP);
    ok(await upload(c, big, 'application/x-ova'), 201);
    const before = await counts(c);
    const r = await c.action(await importHref(c), 'import', { source: `data:application/x-ova;base64,${big.toString('base64')}` });
    expect(r.status).toBe(413);
    expect(await counts(c)).toEqual(before);
  });

  it.each(BAD)('refuses %s with a CIMI error and writes nothing', async (_what, body, type, status, code) => {
    const c = env().client('json');
    const before = await counts(c);
    const r = await upload(c, body(), type);
    expect(r.status).toBe(status);
    expect(r.doc.state).toBe('FAILED');
    if (code) expect(r.text).toContain(code);
    expect(await counts(c)).toEqual(before);
  });

  it('refuses a source that is not a data: URI (the gateway fetches nothing) and an export destination, with 501', async () => {
    const c = env().client('json');
    const before = await counts(c);
    const r = await c.action(await importHref(c), 'import', { source: 'http://169.254.169.254/latest/meta-data' });
    expect(r.status).toBe(501);
    expect(r.text).toContain('OVF.SOURCE_UNSUPPORTED');
    const bad64 = await c.action(await importHref(c), 'import', { source: 'data:;base64,@@@@' });
    expect(bad64.status).toBe(400);
    expect(await counts(c)).toEqual(before);
    const st = ok(await upload(c, vmware()), 201).headers.location;
    const dest = await raw('POST', `${st}/export`, JSON.stringify({ resourceURI: `${CIMI_NS}/Action`, action: `${ACTION}export`, destination: 'http://example.invalid/x.ovf' }), 'application/json');
    expect(dest.status).toBe(501);
    const fmt = await raw('POST', `${st}/export`, JSON.stringify({ resourceURI: `${CIMI_NS}/Action`, action: `${ACTION}export`, format: 'application/zip' }), 'application/json');
    expect(fmt.status).toBe(501);
    expect((await raw('GET', `${st.replace(/[0-9a-f]{8}-/, '00000000-')}/export.ovf`)).status).toBe(404);
  });

  it('the Location renders the package from the template as it is now (no stored copy)', async () => {
    const c = env().client('json');
    const st = ok(await upload(c, vmware()), 201).headers.location;
    const got = await raw('GET', `${st}/export.ovf`, undefined, undefined, '*/*');
    expect(got.status).toBe(200);
    expect(summarize(got.bytes.toString('utf8'))[0]).toMatchObject({ name: 'web01', cpu: 2 });
    expect(ok(await c.delete(st), 200).status).toBe(200);
    expect((await raw('GET', `${st}/export.ovf`, undefined, undefined, '*/*')).status).toBe(404);
  });

  describe('an OVA with disk files (issue 17 §1)', () => {
    const boot = Buffer.alloc(3 * 512, 7);
    const data = Buffer.from('a data disk\n'.repeat(100));
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const ovf = (bootSize = boot.length) =>
      diskOvf('diskful', [
        { id: 'root', href: 'diskful-root.img', size: bootSize, capacityBytes: 1_000_000 },
        { id: 'data', href: 'diskful-data.img', size: data.length, capacityBytes: 2_000_000 },
      ]);
    const files = [{ name: 'diskful-root.img', data: boot }, { name: 'diskful-data.img', data }];

    it('keeps each disk file in the provider: the first disk is the MachineImage, the other the VolumeImage of a Volume', async () => {
      const c = env().client('json');
      const r = ok(await upload(c, ovaWithManifest('diskful', ovf(), files), 'application/x-ova'), 201);
      const st = ok(await c.get(r.headers.location), 200).doc;
      const d = st.componentDescriptors.find((x: Doc) => x.type === `${CIMI_NS}/Machine`);
      const mt = ok(await c.get(d.machineTemplate.href), 200).doc;
      // the first disk is the Machine's own (its image and capacity), the second a Volume made from its image
      const mi = ok(await c.get(mt.machineImage.href), 200).doc;
      expect(mi).toMatchObject({ state: 'AVAILABLE', type: 'IMAGE' });
      expect(mi.properties).toMatchObject({ 'ovf:diskId': 'root', 'ovf:file': 'diskful-root.img', 'ovf:sha256': sha(boot), 'ovf:bytes': String(boot.length) });
      expect(ok(await c.get(mt.machineConfig.href), 200).doc.disks).toEqual([{ capacity: 1000, format: 'vmdk' }]);
      expect(mt.volumeTemplates).toHaveLength(1);
      const vt = ok(await c.get(mt.volumeTemplates[0].volumeTemplate.href), 200).doc;
      expect(vt.volumeConfig.capacity).toBe(2000);
      const vi = ok(await c.get(vt.volumeImage.href), 200).doc;
      expect(vi.state).toBe('AVAILABLE');
      expect(vi.properties).toMatchObject({ 'ovf:diskId': 'data', 'ovf:sha256': sha(data), 'ovf:bytes': String(data.length) });
      // the template exports with its disks' capacities, and imports back to the same shape
      const back = ok(await upload(c, (await exportOf(c, r.headers.location)).body.toString('utf8')), 201).headers.location;
      const b = ok(await c.get(back), 200).doc.componentDescriptors.find((x: Doc) => x.type === `${CIMI_NS}/Machine`);
      const bmt = ok(await c.get(b.machineTemplate.href), 200).doc;
      const caps = [];
      for (const v of bmt.volumeTemplates) caps.push(ok(await c.get(v.volumeTemplate.href), 200).doc.volumeConfig.capacity);
      expect(caps).toEqual([1000, 2000]);
    });

    it('imports it as a System: its Machine and Volume are made from the kept images', async () => {
      const c = env().client('json');
      const r = await asCimi(await raw('POST', (await importHref(c)).replace('systemTemplates', 'systems'), ovaWithManifest('diskful', ovf(), files), 'application/x-ova'));
      ok(r, 201, 202);
      expect((await c.waitJob(r.headers['cimi-job-uri'])).state).toBe('SUCCESS');
      const sys = ok(await c.get(r.headers.location), 200).doc;
      const [link] = items(ok(await c.get(sys.machines.href), 200).doc);
      const m = ok(await c.get(link.machine.href), 200).doc;
      // the Machine's own disk is the first disk (the MachineImage's), its Volume the second
      expect(items(ok(await c.get(m.disks.href), 200).doc).map((d: Doc) => d.capacity)).toEqual([1000]);
      const [mv] = items(ok(await c.get(m.volumes.href), 200).doc);
      const v = ok(await c.get(mv.volume.href), 200).doc;
      expect(v.capacity).toBe(2000);
      // the simulator kept both files' size and digest under the images' ids
      const job = ok(await c.get(r.headers['cimi-job-uri']), 200).doc;
      const images = job.affectedResources.map((a: Doc) => a.href).filter((h: string) => /\/(machine|volume)Images\//.test(h));
      expect(images).toHaveLength(2);
      expect(images.map((h: string) => env().h.driver.storedImages.get(h.split('/').pop()!)?.sha256).sort()).toEqual([sha(boot), sha(data)].sort());
    });

    it('a reader may not import: 403, and no disk file is kept', async () => {
      const c = env().client('json');
      await env().h.user('demo', ['reader'], `ovf-reader-${engine}`);
      const before = await counts(c);
      const kept = env().h.driver.storedImages.size;
      const r = await fetch(await importHref(c), { method: 'POST', headers: { Authorization: `Basic ${Buffer.from(`ovf-reader-${engine}:password-123`).toString('base64')}`, Accept: 'application/json', 'Content-Type': 'application/x-ova' }, body: ovaWithManifest('diskful', ovf(), files) });
      expect(r.status).toBe(403);
      expect(await counts(c)).toEqual(before);
      expect(env().h.driver.storedImages.size).toBe(kept);
    });

    const REFUSED: [string, () => Buffer, string][] = [
      ['a disk file whose manifest digest is wrong', () => ovaWithManifest('diskful', ovf(), files, 'diskful-data.img'), 'OVF.DIGEST_MISMATCH'],
      ['a manifest line that is not ALGORITHM(file)= digest', () => tar([{ name: 'diskful.ovf', data: ovf() }, { name: 'diskful.mf', data: 'MD5(diskful.ovf)= 00\n' }, ...files]), 'OVF.BAD_MANIFEST'],
      ['a manifest naming a file not in the package', () => tar([{ name: 'diskful.ovf', data: ovf() }, { name: 'diskful.mf', data: `SHA256(other.img)= ${sha(boot)}\n` }, ...files]), 'OVF.MISSING_FILE'],
      ['a References/File whose ovf:size is not the file', () => ovaWithManifest('diskful', ovf(boot.length + 1), files), 'OVF.SIZE_MISMATCH'],
      ['a compressed References/File', () => ovaWithManifest('diskful', ovf().replace('ovf:size=', 'ovf:compression="gzip" ovf:size='), files), 'OVF.UNSUPPORTED_FILE'],
    ];
    it.each(REFUSED)('refuses %s and writes nothing', async (_what, body, code) => {
      const c = env().client('json');
      const before = await counts(c);
      const kept = env().h.driver.storedImages.size;
      const r = await upload(c, body(), 'application/x-ova');
      expect(r.status).toBe(400);
      expect(r.text).toContain(code);
      expect(await counts(c)).toEqual(before);
      expect(env().h.driver.storedImages.size).toBe(kept);
    });
  });

  describe('a package body is read after its caller is admitted, into a file (issue 17 §3)', () => {
    /**
     * A chunked upload that sends `first` and then keeps the request open, sending `more` bytes a chunk at a time:
     * the answer that comes while the body is still unfinished is what the gateway decided without (all of) it.
     */
    const streamed = (authorization: string | undefined, first: Buffer, more = 0): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> =>
      new Promise((resolve, reject) => {
        const u = new URL(env().origin);
        const req = httpRequest({ host: u.hostname, port: u.port, method: 'POST', path: '/cimi/systemTemplates/import', headers: { 'Content-Type': 'application/x-ova', Accept: 'application/json', ...(authorization ? { Authorization: authorization } : {}) } });
        let timer: NodeJS.Timeout | undefined;
        req.on('response', (res) => {
          clearInterval(timer);
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString('utf8')));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
          res.on('error', reject);
        });
        req.on('error', () => undefined);
        req.write(first);
        let sent = 0;
        if (more) timer = setInterval(() => {
          if (sent >= more) return;
          sent += 256 * 1024;
          req.write(Buffer.alloc(256 * 1024, 2));
        }, 5);
        setTimeout(() => {
          clearInterval(timer);
          req.destroy();
          reject(new Error('no answer while the body was unfinished'));
        }, 20000).unref();
      });
    const head = tar([{ name: 'web01.ovf', data: vmware() }]).subarray(0, 1024);

    it.each([
      ['wrong Basic credentials', `Basic ${Buffer.from('admin:not-the-password').toString('base64')}`],
      ['no credentials', undefined],
    ])('refuses %s with 401 before it reads the body', async (_what, authorization) => {
      const r = await streamed(authorization, head);
      expect(r.status).toBe(401);
      expect(r.headers['www-authenticate']).toMatch(/^Basic /);
      expect(JSON.parse(r.body).statusMessage).toMatch(/^AUTH\.UNAUTHENTICATED/);
    });

    it('stops reading a chunked body once it passes OVF_MAX_PACKAGE_BYTES: 413, nothing written', async () => {
      const c = env().client('json');
      const before = await counts(c);
      const r = await streamed(auth, head, 2 * PACKAGE_CAP);
      expect(r.status).toBe(413);
      expect(r.body).toContain('REST.BODY_TOO_LARGE');
      expect(await counts(c)).toEqual(before);
    });

    it('inflates a gzip Content-Encoding as it spools (the cap counts inflated bytes)', async () => {
      const c = env().client('json');
      const ova = tar([{ name: 'web01.ovf', data: sized(vmware(), 4) }, { name: 'web01-disk1.vmdk', data: 'KDMV' }]);
      const r = await fetch(await importHref(c), { method: 'POST', headers: { Authorization: auth, Accept: 'application/json', 'Content-Type': 'application/x-ova', 'Content-Encoding': 'gzip' }, body: gzipSync(ova) });
      expect(r.status).toBe(201);
      const bomb = gzipSync(tar([{ name: 'web01.ovf', data: vmware() }, { name: 'web01-disk1.vmdk', data: Buffer.alloc(PACKAGE_CAP + 1024) }]));
      expect(bomb.length).toBeLessThan(PACKAGE_CAP);
      const before = await counts(c);
      const big = await fetch(await importHref(c), { method: 'POST', headers: { Authorization: auth, Accept: 'application/json', 'Content-Type': 'application/x-ova', 'Content-Encoding': 'gzip' }, body: bomb });
      expect(big.status).toBe(413);
      expect(await counts(c)).toEqual(before);
    });
  });
});
