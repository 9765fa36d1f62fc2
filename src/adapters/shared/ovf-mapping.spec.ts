import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXml } from '../xml/safe-xml';
import { CAPACITY_UNIT, readOvf, unitBytes, writeOvf } from '../../model/system/ovf/ovf-mapping';
import type { OvfNode } from '../../model/system/ovf/ovf-tree';

const fixture = (f: string) => parseXml(readFileSync(join(__dirname, '../../../test/fixtures/ovf', f), 'utf8')) as OvfNode;

describe('OVF mapping (DSP0263 2.0.0 Annex A)', () => {
  it('reads the ovftool, VirtualBox and virt-v2v shapes', () => {
    const vm = readOvf(fixture('vmware-ovftool.ovf'));
    expect(vm.machines).toEqual([{ name: 'web01', description: 'A virtual machine', cpu: 2, memory: 4194304, disks: ['vmdisk1'], networks: ['VM Network'] }]);
    expect(vm.disks).toEqual([{ id: 'vmdisk1', capacity: 17179870, format: 'vmdk', file: 'web01-disk1.vmdk' }]);
    expect(readOvf(fixture('virtualbox-export.ovf')).machines[0]).toMatchObject({ name: 'Ubuntu 22.04', cpu: 1, memory: 2097152, networks: ['NAT'] });
    const v2v = readOvf(fixture('virt-v2v-ovirt.ovf'));
    expect(v2v.machines[0]).toMatchObject({ name: 'rhel9-guest', cpu: 2, memory: 4194304 });
    expect(v2v.disks[0]).toMatchObject({ capacity: 21474837, format: 'qcow2' });
  });

  it('round-trips through its own envelope', () => {
    const spec = readOvf(fixture('vmware-ovftool.ovf'));
    const again = readOvf(writeOvf(spec));
    expect(again.machines.map(({ description: _d, ...m }) => m)).toEqual(spec.machines.map(({ description: _d, ...m }) => m));
    expect(again.disks.map((d) => [d.capacity, d.format])).toEqual(spec.disks.map((d) => [d.capacity, d.format]));
  });

  it('reads and writes disk capacity in CIMI kilobytes of 1000 bytes, as the providers do (docs/cimi.md §8.5)', () => {
    // the libvirt driver makes a Volume of capacity × 1000 bytes: a 10 GiB disk must come back at least 10 GiB, within 1 KB
    const gib10 = 10 * 2 ** 30;
    const disk = (attrs: string) => readOvf(parseXml(`<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"><DiskSection><Disk ovf:diskId="d" ${attrs}/></DiskSection><VirtualSystem ovf:id="vm"><VirtualHardwareSection><Item><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item><Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>64</rasd:VirtualQuantity></Item></VirtualHardwareSection></VirtualSystem></Envelope>`) as OvfNode);
    for (const attrs of ['ovf:capacity="10" ovf:capacityAllocationUnits="byte * 2^30"', `ovf:capacity="${gib10}"`, 'ovf:capacity="10240" ovf:capacityAllocationUnits="MegaBytes"']) {
      const spec = disk(attrs);
      expect(spec.disks[0].capacity * CAPACITY_UNIT).toBeGreaterThanOrEqual(gib10);
      expect(spec.disks[0].capacity * CAPACITY_UNIT - gib10).toBeLessThan(CAPACITY_UNIT);
      expect(spec.machines[0].memory).toBe(65536);
    }
    // export: the descriptor's bytes are the capacity × 1000, exact, and read back to the same capacity
    const spec = disk('ovf:capacity="10" ovf:capacityAllocationUnits="byte * 2^30"');
    for (const kb of [spec.disks[0].capacity, 1000000, 2 ** 27, 1234]) {
      const env = writeOvf({ ...spec, disks: [{ id: 'd', capacity: kb }] });
      const d = env.children.find((c) => c.local === 'DiskSection')!.children.find((c) => c.local === 'Disk')!;
      const attr = (n: string) => d.attrs.find((a) => a.local === n)!.value;
      expect(Number(attr('capacity')) * unitBytes(attr('capacityAllocationUnits'), 'x')).toBe(kb * CAPACITY_UNIT);
      expect(readOvf(env).disks[0].capacity).toBe(kb);
    }
    expect(unitBytes('byte * 10^3', 'x')).toBe(1000);
  });

  it('understands DSP0004 programmatic units and the named ones, and refuses others', () => {
    expect(unitBytes('byte * 2^20', 'x')).toBe(2 ** 20);
    expect(unitBytes('MegaBytes', 'x')).toBe(2 ** 20);
    expect(unitBytes(undefined, 'x')).toBe(1);
    expect(() => unitBytes('furlongs', 'Item 2')).toThrow(/Item 2: allocation units furlongs/);
  });
});
