import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';

/** Test helpers for OVF packages: fixtures, a ustar writer that can write what the gateway must refuse, a reader of descriptors. */
export const FIXTURES = join(__dirname, '..', 'fixtures', 'ovf');
export const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

/** a ustar archive of these entries, names written as given (`../x` included) */
export function tar(entries: { name: string; data: string | Buffer }[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.isBuffer(e.data) ? e.data : Buffer.from(e.data);
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 'utf8');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    h.write('00000000000\0', 136, 'latin1');
    h.write('        ', 148, 'latin1');
    h.write('0', 156, 'latin1');
    h.write('ustar\0', 257, 'latin1');
    h.write('00', 263, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    parts.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return Buffer.concat([...parts, Buffer.alloc(1024)]);
}

export interface VsSummary {
  name: string;
  cpu: number;
  memoryMB: number;
  /** CIMI kilobytes: 1000 bytes (DSP0263 2.0.0 Disk and Volume capacity) */
  disksKB: number[];
  connections: string[];
}

const RASD = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData';
const OVF = 'http://schemas.dmtf.org/ovf/envelope/1';
/** DSP0004 programmatic units `byte * B^E` → bytes */
const unitBytes = (u: string) => {
  const m = /^byte \* (\d+)\^(\d+)$/.exec(u);
  if (!m) throw new Error(`units ${u}`);
  return Number(m[1]) ** Number(m[2]);
};

/** what an exported descriptor says of each VirtualSystem (read with xmldom, independently of the gateway's reader) */
export function summarize(xml: string): VsSummary[] {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const disks = new Map<string, number>();
  for (const d of Array.from(doc.getElementsByTagNameNS(OVF, 'Disk'))) {
    disks.set(d.getAttributeNS(OVF, 'diskId')!, (Number(d.getAttributeNS(OVF, 'capacity')) * unitBytes(d.getAttributeNS(OVF, 'capacityAllocationUnits')!)) / 1000);
  }
  return Array.from(doc.getElementsByTagNameNS(OVF, 'VirtualSystem')).map((vs: Element) => {
    const s: VsSummary = { name: vs.getAttributeNS(OVF, 'id')!, cpu: 0, memoryMB: 0, disksKB: [], connections: [] };
    for (const item of Array.from(vs.getElementsByTagNameNS(OVF, 'Item'))) {
      const v = (n: string) => item.getElementsByTagNameNS(RASD, n)[0]?.textContent ?? '';
      const rt = Number(v('ResourceType'));
      if (rt === 3) s.cpu = Number(v('VirtualQuantity'));
      if (rt === 4) s.memoryMB = (Number(v('VirtualQuantity')) * unitBytes(v('AllocationUnits'))) / 2 ** 20;
      if (rt === 17) s.disksKB.push(disks.get(v('HostResource').replace('ovf:/disk/', ''))!);
      if (rt === 10) s.connections.push(v('Connection'));
    }
    s.disksKB.sort((a, b) => a - b);
    return s;
  });
}

/**
 * A one-VirtualSystem descriptor whose disks are files of the package (References/File with ovf:size, DiskSection
 * Disk ovf:fileRef): the shape of an OVA with disks (issue 17 §1). 64 MiB, 1 vCPU, one network.
 */
export function diskOvf(name: string, disks: { id: string; href: string; size: number; capacityBytes: number; format?: string }[]): string {
  const fmt = (f?: string) => (f === 'qcow2' ? 'http://www.gnome.org/~markmc/qcow-image-format.html' : 'http://www.vmware.com/interfaces/specifications/vmdk.html#streamOptimized');
  return `<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="${RASD}">
  <References>${disks.map((d) => `<File ovf:id="f-${d.id}" ovf:href="${d.href}" ovf:size="${d.size}"/>`).join('')}</References>
  <DiskSection><Info>disks</Info>${disks.map((d) => `<Disk ovf:diskId="${d.id}" ovf:fileRef="f-${d.id}" ovf:capacity="${d.capacityBytes}" ovf:format="${fmt(d.format)}"/>`).join('')}</DiskSection>
  <NetworkSection><Info>networks</Info><Network ovf:name="ovfnet"><Description>the appliance's network</Description></Network></NetworkSection>
  <VirtualSystem ovf:id="${name}">
    <Info>a guest with its disks</Info>
    <Name>${name}</Name>
    <VirtualHardwareSection><Info>hw</Info>
      <Item><rasd:ElementName>cpu</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
      <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>mem</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>64</rasd:VirtualQuantity></Item>
${disks.map((d, k) => `      <Item><rasd:ElementName>disk${k}</rasd:ElementName><rasd:HostResource>ovf:/disk/${d.id}</rasd:HostResource><rasd:InstanceID>${3 + k}</rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>`).join('\n')}
      <Item><rasd:Connection>ovfnet</rasd:Connection><rasd:ElementName>nic</rasd:ElementName><rasd:InstanceID>9</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>
    </VirtualHardwareSection>
  </VirtualSystem>
</Envelope>
`;
}

/** an OVA of a descriptor and its files with a SHA256 manifest (DSP0243 §5.1); `lie` names a file whose digest is wrong */
export function ovaWithManifest(name: string, ovf: string, files: { name: string; data: Buffer }[], lie?: string): Buffer {
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  const mf = [`SHA256(${name}.ovf)= ${sha(ovf)}`, ...files.map((f) => `SHA256(${f.name})= ${f.name === lie ? sha('other') : sha(f.data)}`)].join('\n') + '\n';
  return tar([{ name: `${name}.ovf`, data: ovf }, { name: `${name}.mf`, data: mf }, ...files]);
}
