import { DOMParser, type Document as XDocument, type Element as XElement } from '@xmldom/xmldom';
import { createHash } from 'node:crypto';

/**
 * The libvirt XML the driver writes (domain, network, storage volume: libvirt.org/format*.html) and the few
 * things it reads back from libvirt's own XML. Every value is escaped; names come from resource ids only.
 */
export const META_NS = 'urn:cimi-gateway:libvirt:1';

export function esc(v: string | number): string {
  return String(v).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

/** a stable UUID for a resource id (libvirt identifies objects by UUID; a re-define must keep it) */
export function uuidFor(id: string): string {
  const h = createHash('sha256').update(`cimi-gateway:${id}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export const names = {
  domain: (machineId: string) => `cimi-${machineId}`,
  network: (networkId: string) => `cimi-${networkId}`,
  /** Linux bridge names are at most 15 bytes (IFNAMSIZ) */
  bridge: (networkId: string) => `cimibr${createHash('sha256').update(networkId).digest('hex').slice(0, 8)}`,
  machineDisk: (machineId: string) => `cimi-m-${machineId}-disk0.qcow2`,
  seed: (machineId: string) => `cimi-m-${machineId}-seed.iso`,
  volume: (volumeId: string) => `cimi-v-${volumeId}.qcow2`,
  image: (imageId: string) => `cimi-i-${imageId}.qcow2`,
};

export interface DomainSpec {
  name: string;
  uuid: string;
  type: 'qemu' | 'test';
  vcpus: number;
  /**
   * CIMI `memory` as is: DSP0263 2.0.0 gives Machine and MachineConfiguration memory "in kibibytes" (the Machine and
   * MachineConfiguration attribute tables; docs/cimi.md §8.5), libvirt's `<memory unit='KiB'>` is the same unit. Only
   * disk and Volume capacities are kilobytes of 1000 bytes (converted by the driver, KB).
   */
  memoryKiB: number;
  arch: string;
  disk: string;
  seed?: string;
  nics: { mac: string; network: string }[];
  tenantId: string;
  machineId: string;
}

export function domainXml(s: DomainSpec): string {
  const nics = s.nics
    .map((n) => `<interface type='network'><mac address='${esc(n.mac)}'/><source network='${esc(n.network)}'/><model type='virtio'/></interface>`)
    .join('');
  const seed = s.seed ? `<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='${esc(s.seed)}'/><target dev='hdc' bus='ide'/><readonly/></disk>` : '';
  return (
    `<domain type='${s.type}'><name>${esc(s.name)}</name><uuid>${s.uuid}</uuid>` +
    `<metadata><cimi:machine xmlns:cimi='${META_NS}' tenant='${esc(s.tenantId)}' id='${esc(s.machineId)}'/></metadata>` +
    `<memory unit='KiB'>${s.memoryKiB}</memory><vcpu>${s.vcpus}</vcpu>` +
    `<os><type arch='${esc(s.arch)}'>hvm</type><boot dev='hd'/></os><features><acpi/></features>` +
    `<on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>` +
    `<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${esc(s.disk)}'/><target dev='vda' bus='virtio'/></disk>` +
    // attached Volumes go on virtio-scsi: its unplug needs no guest cooperation (a virtio-blk unplug does)
    `${seed}<controller type='scsi' index='0' model='virtio-scsi'/>${nics}</devices></domain>`
  );
}

export function volumeDiskXml(path: string, target: string): string {
  return `<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='${esc(path)}'/><target dev='${esc(target)}' bus='scsi'/></disk>`;
}

export function volumeXml(name: string, capacityBytes: number, backing?: { path: string; format: string }): string {
  const b = backing ? `<backingStore><path>${esc(backing.path)}</path><format type='${esc(backing.format)}'/></backingStore>` : '';
  return `<volume><name>${esc(name)}</name><capacity unit='bytes'>${Math.max(1, Math.round(capacityBytes))}</capacity><target><format type='qcow2'/></target>${b}</volume>`;
}

export function rawVolumeXml(name: string, capacityBytes: number): string {
  return `<volume><name>${esc(name)}</name><capacity unit='bytes'>${Math.max(1, Math.round(capacityBytes))}</capacity><target><format type='raw'/></target></volume>`;
}

/** an isolated network (no <forward>: DSP0263 PRIVATE) on its own bridge, with DHCP on a /24 derived from the id */
export function networkXml(networkId: string, mtu?: number): string {
  const h = createHash('sha256').update(networkId).digest();
  const net = `10.${200 + (h[0] % 50)}.${h[1]}`;
  return (
    `<network><name>${esc(names.network(networkId))}</name><uuid>${uuidFor(networkId)}</uuid>` +
    `<bridge name='${names.bridge(networkId)}' stp='on' delay='0'/>${mtu ? `<mtu size='${mtu}'/>` : ''}` +
    `<ip address='${net}.1' netmask='255.255.255.0'><dhcp><range start='${net}.100' end='${net}.200'/></dhcp></ip></network>`
  );
}

function parse(xml: string): XDocument {
  // libvirt's own output: trusted, but parsed without DTD processing like everything else
  return new DOMParser({ onError: () => undefined }).parseFromString(xml, 'text/xml');
}

function all(doc: XDocument | XElement, tag: string): XElement[] {
  return Array.from((doc as unknown as XElement).getElementsByTagName(tag) as unknown as ArrayLike<XElement>);
}

/** the disks of a domain: target dev and source file */
export function domainDisks(xml: string): { target: string; file?: string; device: string }[] {
  return all(parse(xml), 'disk').map((d) => ({
    device: d.getAttribute('device') ?? 'disk',
    target: all(d, 'target')[0]?.getAttribute('dev') ?? '',
    file: all(d, 'source')[0]?.getAttribute('file') ?? undefined,
  }));
}

/** the MAC addresses of a domain's interfaces */
export function domainMacs(xml: string): string[] {
  return all(parse(xml), 'interface').map((i) => all(i, 'mac')[0]?.getAttribute('address') ?? '');
}

/** the interfaces of a running domain: its tap device (`target dev`, what GetStats names `net.<n>.name`) and network */
export function domainInterfaces(xml: string): { target: string; network?: string }[] {
  return all(parse(xml), 'interface').map((i) => ({
    target: all(i, 'target')[0]?.getAttribute('dev') ?? '',
    network: all(i, 'source')[0]?.getAttribute('network') ?? undefined,
  }));
}

/** a storage pool's target directory */
export function poolPath(xml: string): string {
  const t = all(parse(xml), 'target')[0];
  return (t && all(t, 'path')[0]?.textContent?.trim()) || '';
}

/** a volume's format (qcow2, raw) */
export function volumeFormat(xml: string): string {
  const t = all(parse(xml), 'target')[0];
  return (t && all(t, 'format')[0]?.getAttribute('type')) || 'raw';
}

/** a volume's capacity in bytes (libvirt writes <capacity unit='bytes'>) */
export function volumeCapacity(xml: string): number {
  const c = all(parse(xml), 'capacity')[0];
  const n = Number(c?.textContent?.trim() ?? 0);
  const unit = c?.getAttribute('unit') ?? 'bytes';
  return unit === 'bytes' || unit === 'B' ? n : n * (({ KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 } as Record<string, number>)[unit] ?? 1);
}

/** the next free SCSI target name (sda, sdb, …) */
export function nextScsiTarget(used: string[]): string {
  for (let i = 0; i < 26; i++) {
    const t = `sd${String.fromCharCode(97 + i)}`;
    if (!used.includes(t)) return t;
  }
  throw new Error('no free SCSI target');
}
