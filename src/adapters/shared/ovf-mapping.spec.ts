import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXml } from '../xml/safe-xml';
import { readOvf, unitBytes, writeOvf } from '../../model/system/ovf/ovf-mapping';
import type { OvfNode } from '../../model/system/ovf/ovf-tree';

const fixture = (f: string) => parseXml(readFileSync(join(__dirname, '../../../test/fixtures/ovf', f), 'utf8')) as OvfNode;

describe('OVF mapping (DSP0263 2.0.0 Annex A)', () => {
  it('reads the ovftool, VirtualBox and virt-v2v shapes', () => {
    const vm = readOvf(fixture('vmware-ovftool.ovf'));
    expect(vm.machines).toEqual([{ name: 'web01', description: 'A virtual machine', cpu: 2, memory: 4194304, disks: ['vmdisk1'], networks: ['VM Network'] }]);
    expect(vm.disks).toEqual([{ id: 'vmdisk1', capacity: 16777216, format: 'vmdk', file: 'web01-disk1.vmdk' }]);
    expect(readOvf(fixture('virtualbox-export.ovf')).machines[0]).toMatchObject({ name: 'Ubuntu 22.04', cpu: 1, memory: 2097152, networks: ['NAT'] });
    const v2v = readOvf(fixture('virt-v2v-ovirt.ovf'));
    expect(v2v.machines[0]).toMatchObject({ name: 'rhel9-guest', cpu: 2, memory: 4194304 });
    expect(v2v.disks[0]).toMatchObject({ capacity: 20971520, format: 'qcow2' });
  });

  it('round-trips through its own envelope', () => {
    const spec = readOvf(fixture('vmware-ovftool.ovf'));
    const again = readOvf(writeOvf(spec));
    expect(again.machines.map(({ description: _d, ...m }) => m)).toEqual(spec.machines.map(({ description: _d, ...m }) => m));
    expect(again.disks.map((d) => [d.capacity, d.format])).toEqual(spec.disks.map((d) => [d.capacity, d.format]));
  });

  it('understands DSP0004 programmatic units and the named ones, and refuses others', () => {
    expect(unitBytes('byte * 2^20', 'x')).toBe(2 ** 20);
    expect(unitBytes('MegaBytes', 'x')).toBe(2 ** 20);
    expect(unitBytes(undefined, 'x')).toBe(1);
    expect(() => unitBytes('furlongs', 'Item 2')).toThrow(/Item 2: allocation units furlongs/);
  });
});
