import { InvalidInputError } from '../../shared/model-error';
import { childText, el, isOvfElementNs, isOvfKind, isOvfNs, ovfAttr, ovfChildren, OVF_NS, RASD_NS, VSSD_NS, type OvfNode } from './ovf-tree';

/**
 * What the gateway maps of an OVF descriptor (DSP0263 2.0.0 Annex A, DSP0243): the one shape both import and
 * export go through, so an export imports back to the same template.
 */
export interface OvfSpec {
  name: string;
  description?: string;
  networks: { name: string; description?: string }[];
  /**
   * capacity in kilobytes (docs/cimi.md §8.5); `file` the References/File href, `fileSize` its ovf:size in bytes;
   * `source` (export only) the Machine whose disk, or the Volume, the file is made from
   */
  disks: { id: string; capacity: number; format?: string; file?: string; fileSize?: number; source?: { type: 'Machine' | 'Volume'; id: string } }[];
  /** memory in KiB; disks by DiskSection id; networks by NetworkSection name */
  machines: { name: string; description?: string; cpu: number; memory: number; disks: string[]; networks: string[] }[];
  /** what the descriptor holds that the gateway does not map (Items of other ResourceTypes) */
  warnings: string[];
}

export const OVF_LIMITS = { machines: 100, disks: 64, networks: 64, items: 256 };
const MAX_KB = Number.MAX_SAFE_INTEGER / 1024;
/** DSP0263 2.0.0 Disk and Volume capacity is in kilobytes of 1000 bytes (docs/cimi.md §8.5); memory is in KiB */
export const CAPACITY_UNIT = 1000;
export const MEMORY_UNIT = 1024;

const bad = (msg: string, code = 'OVF.INVALID') => new InvalidInputError(msg, 'source', code);

/** DSP0004 Annex C programmatic units (`byte * 2^20`) and the names oVirt and VirtualBox write (`MegaBytes`) → bytes */
export function unitBytes(units: string | undefined, where: string): number {
  if (units === undefined || units.trim() === '') return 1;
  const u = units.replace(/\s+/g, '').toLowerCase();
  const named: Record<string, number> = { byte: 1, bytes: 1, kilobytes: 2 ** 10, kb: 2 ** 10, megabytes: 2 ** 20, mb: 2 ** 20, gigabytes: 2 ** 30, gb: 2 ** 30, terabytes: 2 ** 40, tb: 2 ** 40 };
  if (named[u] !== undefined) return named[u];
  const m = /^bytes?\*(\d+)\^(\d+)$/.exec(u);
  if (m && Number(m[2]) <= 60) return Number(m[1]) ** Number(m[2]);
  throw bad(`${where}: allocation units ${units.slice(0, 40)} are not understood`, 'OVF.BAD_UNITS');
}

function count(v: string | undefined, where: string): number {
  if (v === undefined || !/^\d{1,15}$/.test(v.trim())) throw bad(`${where} needs a whole number, not ${JSON.stringify((v ?? '').slice(0, 40))}`);
  return Number(v.trim());
}

/** a quantity of `bytesPerUnit` units → whole units of `unit` bytes (rounded up: a disk never shrinks) */
function toUnits(quantity: number, bytesPerUnit: number, unit: number, where: string): number {
  const kb = Math.ceil((quantity * bytesPerUnit) / unit);
  if (!Number.isSafeInteger(kb) || kb < 1 || kb > MAX_KB) throw bad(`${where}: size out of range`);
  return kb;
}

/** a short disk format name from a DSP0243 Disk ovf:format URI (or oVirt's ovf:volume-format) */
export function formatOf(uri: string | undefined): string | undefined {
  if (!uri) return undefined;
  const u = uri.toLowerCase();
  for (const f of ['vmdk', 'qcow2', 'vhdx', 'vhd', 'vdi', 'raw']) if (u.includes(f)) return f;
  // oVirt's ovf:volume-format: COW is qcow2
  if (u.includes('qcow') || u === 'cow') return 'qcow2';
  return u.startsWith('urn:cimi-gateway:disk-format:') ? u.slice('urn:cimi-gateway:disk-format:'.length) : undefined;
}

const FORMAT_URIS: Record<string, string> = {
  vmdk: 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized',
  qcow2: 'http://www.gnome.org/~markmc/qcow-image-format.html',
  vdi: 'http://www.virtualbox.org/manual/ch12.html#vdi',
  vhd: 'http://technet.microsoft.com/en-us/virtualization/bb676673.aspx',
};
const formatUri = (f: string | undefined) => (f ? (FORMAT_URIS[f] ?? `urn:cimi-gateway:disk-format:${f}`) : 'urn:cimi-gateway:disk-format:raw');

/** the DiskSection id an Item's HostResource names: `ovf:/disk/<id>`, `/disk/<id>`, `ovf:<id>`, oVirt's `<image>/<id>` */
function diskIdOf(hostResource: string): string {
  const h = hostResource.trim();
  const m = /^(?:ovf:)?\/?disk\/(.+)$/.exec(h) ?? /^ovf:(.+)$/.exec(h);
  return m ? m[1] : h;
}

/**
 * An OVF Envelope → OvfSpec. Every refusal names the element at fault. `files`, when the descriptor came in an OVA,
 * are the package's other entries: a References File must be one of them (DSP0243 §5.1).
 */
export function readOvf(envelope: OvfNode, files?: ReadonlySet<string> | ReadonlyMap<string, number | undefined>): OvfSpec {
  if (!isOvfNs(envelope.ns) || envelope.local !== 'Envelope') throw bad(`the descriptor's root must be an ovf:Envelope, not <${(envelope.name ?? envelope.local).slice(0, 60)}>`, 'OVF.NOT_OVF');
  const warnings: string[] = [];
  const refs = new Map<string, string>();
  for (const r of ovfChildren(envelope, 'References')) {
    for (const f of ovfChildren(r, 'File')) {
      const id = ovfAttr(f, 'id');
      const href = ovfAttr(f, 'href');
      if (!id || !href) throw bad('References/File needs ovf:id and ovf:href', 'OVF.INVALID');
      const where = `References/File ${id.slice(0, 60)}`;
      if (files && !/^[a-z][a-z0-9+.-]*:/i.test(href) && !files.has(href)) throw bad(`${where}: ${href.slice(0, 100)} is not in the package`, 'OVF.MISSING_FILE');
      // DSP0243 §7.1: ovf:compression and ovf:chunkSize change what the entry's bytes are; the gateway reads plain files
      const compression = ovfAttr(f, 'compression');
      if (compression !== undefined && compression !== 'identity') throw bad(`${where}: ovf:compression ${compression.slice(0, 20)} is not supported`, 'OVF.UNSUPPORTED_FILE');
      if (ovfAttr(f, 'chunkSize') !== undefined) throw bad(`${where}: chunked files (ovf:chunkSize) are not supported`, 'OVF.UNSUPPORTED_FILE');
      const size = ovfAttr(f, 'size');
      const actual = files instanceof Map ? files.get(href) : undefined;
      if (size !== undefined && actual !== undefined && count(size, `${where} ovf:size`) !== actual) throw bad(`${where}: ovf:size ${size.slice(0, 20)} is not the size of ${href.slice(0, 100)} (${actual} bytes)`, 'OVF.SIZE_MISMATCH');
      refs.set(id, href);
    }
  }
  const disks: OvfSpec['disks'] = [];
  for (const s of ovfChildren(envelope, 'DiskSection')) {
    for (const d of ovfChildren(s, 'Disk')) {
      const id = ovfAttr(d, 'diskId');
      if (!id) throw bad('DiskSection/Disk needs an ovf:diskId');
      const where = `DiskSection/Disk ${id.slice(0, 60)}`;
      // DSP0243: a diskId identifies one Disk; a second with the same id would leave its HostResource ambiguous
      if (disks.some((x) => x.id === id)) throw bad(`${where}: ovf:diskId is used by more than one Disk`, 'OVF.DUPLICATE_DISK');
      const fileRef = ovfAttr(d, 'fileRef');
      // oVirt's fileRef names the File's href (`<image>/<volume>`), not its id
      const file = fileRef === undefined ? undefined : (refs.get(fileRef) ?? [...refs.values()].find((h) => h === fileRef));
      if (fileRef && !file) throw bad(`${where}: ovf:fileRef ${fileRef.slice(0, 60)} is not a References/File`, 'OVF.MISSING_FILE');
      // oVirt writes ovf:size in GB and no ovf:capacity
      const capacity = ovfAttr(d, 'capacity') !== undefined
        ? toUnits(count(ovfAttr(d, 'capacity'), `${where} ovf:capacity`), unitBytes(ovfAttr(d, 'capacityAllocationUnits'), where), CAPACITY_UNIT, where)
        : toUnits(count(ovfAttr(d, 'size'), `${where} ovf:capacity`), 2 ** 30, CAPACITY_UNIT, where);
      disks.push({ id, capacity, format: formatOf(ovfAttr(d, 'volume-format')) ?? formatOf(ovfAttr(d, 'format')), file });
    }
  }
  if (disks.length > OVF_LIMITS.disks) throw bad(`DiskSection: more than ${OVF_LIMITS.disks} disks`, 'OVF.TOO_LARGE');
  const networks: OvfSpec['networks'] = [];
  for (const s of ovfChildren(envelope, 'NetworkSection')) {
    for (const n of ovfChildren(s, 'Network')) {
      const name = ovfAttr(n, 'name');
      if (!name) throw bad('NetworkSection/Network needs an ovf:name');
      if (!networks.some((x) => x.name === name)) networks.push({ name, description: childText(n, 'Description') || undefined });
    }
  }
  if (networks.length > OVF_LIMITS.networks) throw bad(`NetworkSection: more than ${OVF_LIMITS.networks} networks`, 'OVF.TOO_LARGE');
  const systems: OvfNode[] = [];
  const collect = (e: OvfNode, depth: number) => {
    for (const c of e.children) {
      if (isOvfKind(c, 'VirtualSystem')) systems.push(c);
      else if (depth < 4 && isOvfKind(c, 'VirtualSystemCollection')) collect(c, depth + 1);
    }
  };
  collect(envelope, 0);
  if (!systems.length) throw bad('the Envelope has no VirtualSystem', 'OVF.NO_VIRTUAL_SYSTEM');
  if (systems.length > OVF_LIMITS.machines) throw bad(`more than ${OVF_LIMITS.machines} VirtualSystems`, 'OVF.TOO_LARGE');
  const collection = envelope.children.find((c) => isOvfKind(c, 'VirtualSystemCollection'));
  const top = collection ?? systems[0];
  const machines = systems.map((vs, i) => readVirtualSystem(vs, i, disks, networks, warnings));
  return { name: ovfAttr(top, 'id') ?? childText(top, 'Name') ?? 'imported', description: childText(top, 'Info') || undefined, networks, disks, machines, warnings };
}

function readVirtualSystem(vs: OvfNode, index: number, disks: OvfSpec['disks'], networks: OvfSpec['networks'], warnings: string[]): OvfSpec['machines'][number] {
  const name = childText(vs, 'Name') || ovfAttr(vs, 'id') || `vm${index + 1}`;
  const where = `VirtualSystem ${name.slice(0, 60)}`;
  const hw = ovfChildren(vs, 'VirtualHardwareSection');
  if (hw.length !== 1) throw bad(`${where} needs one VirtualHardwareSection`, 'OVF.NO_HARDWARE');
  const items = hw[0].children.filter((c) => isOvfElementNs(c.ns) && ['Item', 'StorageItem', 'EthernetPortItem'].includes(c.local));
  if (items.length > OVF_LIMITS.items) throw bad(`${where}: more than ${OVF_LIMITS.items} Items`, 'OVF.TOO_LARGE');
  let cpu: number | undefined;
  let memory: number | undefined;
  const ds: string[] = [];
  const ns: string[] = [];
  items.forEach((item, k) => {
    const val = (local: string) => item.children.find((c) => c.local === local && c.ns !== '')?.text.trim();
    const rt = val('ResourceType');
    const iw = `${where} VirtualHardwareSection/Item ${k + 1}${val('ElementName') ? ` (${val('ElementName')!.slice(0, 40)})` : ''}`;
    if (rt === undefined || !/^\d{1,5}$/.test(rt)) throw bad(`${iw} needs a numeric rasd:ResourceType`, 'OVF.INVALID');
    switch (Number(rt)) {
      case 3:
        // oVirt gives sockets × cores per socket instead of a VirtualQuantity
        cpu = val('VirtualQuantity') === undefined && val('num_of_sockets') !== undefined
          ? count(val('num_of_sockets'), `${iw} rasd:num_of_sockets`) * count(val('cpu_per_socket') ?? '1', `${iw} rasd:cpu_per_socket`)
          : count(val('VirtualQuantity'), `${iw} rasd:VirtualQuantity`);
        if (cpu < 1 || cpu > 1024) throw bad(`${iw}: ${cpu} CPUs is out of range`);
        return;
      case 4:
        memory = toUnits(count(val('VirtualQuantity'), `${iw} rasd:VirtualQuantity`), unitBytes(val('AllocationUnits'), iw), MEMORY_UNIT, iw);
        return;
      case 17: {
        const host = val('HostResource');
        if (!host) throw bad(`${iw} (a disk) needs a rasd:HostResource`, 'OVF.BAD_REFERENCE');
        const id = diskIdOf(host);
        const d = disks.find((x) => x.id === id || (x.file !== undefined && x.file === host) || host.endsWith(`/${x.id}`));
        if (!d) throw bad(`${iw}: rasd:HostResource ${host.slice(0, 80)} is not a DiskSection/Disk`, 'OVF.BAD_REFERENCE');
        ds.push(d.id);
        return;
      }
      case 10: {
        const conn = val('Connection');
        if (!conn) return void warnings.push(`${iw}: an ethernet adapter without rasd:Connection is ignored`);
        if (!networks.some((n) => n.name === conn)) throw bad(`${iw}: rasd:Connection ${conn.slice(0, 60)} is not a NetworkSection/Network`, 'OVF.BAD_REFERENCE');
        ns.push(conn);
        return;
      }
      default:
        // DSP0263 Annex A maps CPU, memory, disks and networks; controllers, drives, sound, USB … are the hypervisor's
        warnings.push(`${iw}: ResourceType ${rt} is not mapped`);
    }
  });
  if (cpu === undefined) throw bad(`${where}: the VirtualHardwareSection has no CPU Item (ResourceType 3)`, 'OVF.NO_CPU');
  if (memory === undefined) throw bad(`${where}: the VirtualHardwareSection has no memory Item (ResourceType 4)`, 'OVF.NO_MEMORY');
  return { name, description: childText(vs, 'Info') || undefined, cpu, memory, disks: ds, networks: ns };
}

/** OvfSpec → a DSP0243 1.1 Envelope (References, DiskSection, NetworkSection, VirtualSystemCollection). */
export function writeOvf(spec: OvfSpec): OvfNode {
  const ovf = (local: string, attrs: Record<string, string | undefined> = {}, children: (OvfNode | undefined)[] = [], text = '') => el(OVF_NS, local, attrs, children, text);
  const rasd = (local: string, text: string) => el(RASD_NS, local, {}, [], text);
  const info = (t: string) => ovf('Info', {}, [], t);
  const files = spec.disks.filter((d) => d.file);
  // memory (KiB) in binary units; disk capacity (KB of 1000 bytes) in decimal ones, exact either way (DSP0004 Annex C)
  const unitsOf = (kib: number): [number, string] => (kib % 2 ** 20 === 0 ? [kib / 2 ** 20, 'byte * 2^30'] : kib % 1024 === 0 ? [kib / 1024, 'byte * 2^20'] : [kib, 'byte * 2^10']);
  const capacityUnitsOf = (kb: number): [number, string] => {
    const bytes = kb * CAPACITY_UNIT;
    if (Number.isSafeInteger(bytes) && bytes % 2 ** 30 === 0) return [bytes / 2 ** 30, 'byte * 2^30'];
    return kb % 10 ** 6 === 0 ? [kb / 10 ** 6, 'byte * 10^9'] : kb % 1000 === 0 ? [kb / 1000, 'byte * 10^6'] : [kb, 'byte * 10^3'];
  };
  const item = (id: number, rt: number, name: string, more: OvfNode[]) => ovf('Item', {}, [rasd('ElementName', name), rasd('InstanceID', String(id)), rasd('ResourceType', String(rt)), ...more]);
  const system = (m: OvfSpec['machines'][number]) => {
    let n = 0;
    const [mem, memUnits] = unitsOf(m.memory);
    const items = [
      item(++n, 3, `${m.cpu} virtual CPU(s)`, [rasd('VirtualQuantity', String(m.cpu))]),
      item(++n, 4, `${mem} ${memUnits}`, [rasd('AllocationUnits', memUnits), rasd('VirtualQuantity', String(mem))]),
      ...m.disks.map((d, k) => item(++n, 17, `disk${k}`, [rasd('AddressOnParent', String(k)), rasd('HostResource', `ovf:/disk/${d}`)])),
      ...m.networks.map((c, k) => item(++n, 10, `ethernet${k}`, [rasd('AutomaticAllocation', 'true'), rasd('Connection', c)])),
    ];
    // rasd elements are in alphabetical order in the CIM schema (DSP0243 §8.1)
    for (const it of items) it.children.sort((a, b) => (a.local < b.local ? -1 : 1));
    return ovf('VirtualSystem', { 'ovf:id': m.name }, [
      info(m.description ?? 'A virtual machine'),
      ovf('Name', {}, [], m.name),
      ovf('VirtualHardwareSection', {}, [info('Virtual hardware requirements'), ovf('System', {}, [el(VSSD_NS, 'ElementName', {}, [], 'Virtual Hardware Family'), el(VSSD_NS, 'InstanceID', {}, [], '0'), el(VSSD_NS, 'VirtualSystemIdentifier', {}, [], m.name)]), ...items]),
    ]);
  };
  return ovf('Envelope', {}, [
    ovf('References', {}, files.map((d) => ovf('File', { 'ovf:href': d.file, 'ovf:id': `file-${d.id}`, 'ovf:size': d.fileSize === undefined ? undefined : String(d.fileSize) }))),
    ovf('DiskSection', {}, [
      info('Virtual disks'),
      ...spec.disks.map((d) => {
        const [cap, units] = capacityUnitsOf(d.capacity);
        return ovf('Disk', { 'ovf:capacity': String(cap), 'ovf:capacityAllocationUnits': units, 'ovf:diskId': d.id, 'ovf:fileRef': d.file ? `file-${d.id}` : undefined, 'ovf:format': formatUri(d.format) });
      }),
    ]),
    ovf('NetworkSection', {}, [info('Logical networks'), ...spec.networks.map((n) => ovf('Network', { 'ovf:name': n.name }, [ovf('Description', {}, [], n.description ?? n.name)]))]),
    ovf('VirtualSystemCollection', { 'ovf:id': spec.name }, [info(spec.description ?? 'A CIMI System'), ovf('Name', {}, [], spec.name), ...spec.machines.map(system)]),
  ]);
}

/** the types with an export operation (DSP0263 2.0.0 §5.13.1, §5.13.4) */
export const OVF_EXPORTABLE: readonly string[] = ['System', 'SystemTemplate'];
