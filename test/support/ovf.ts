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
