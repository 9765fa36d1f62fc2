import { DOMParser } from '@xmldom/xmldom';
import { readOvf } from '../../model/system/ovf/ovf-mapping';
import { el, OVF_NS, RASD_NS } from '../../model/system/ovf/ovf-tree';
import { domainXml, volumeCapacity, volumeXml } from './libvirt-xml';

/**
 * Units at the libvirt boundary (review finding on memory): CIMI memory is kibibytes (DSP0263 2.0.0 Machine table:
 * "The size of the memory (RAM) in kibibytes"), libvirt's <memory unit='KiB'> too; disk and Volume capacity is
 * kilobytes of 1000 bytes, libvirt's volume capacity bytes.
 */
describe('libvirt units', () => {
  const domain = (memoryKiB: number) =>
    new DOMParser().parseFromString(domainXml({ name: 'd', uuid: '00000000-0000-5000-a000-000000000000', type: 'qemu', vcpus: 1, memoryKiB, arch: 'x86_64', disk: '/x', nics: [], tenantId: 't', machineId: 'm' }), 'text/xml').getElementsByTagName('memory')[0];

  it('an OVF machine of 64 MiB is CIMI memory 65536 and a domain of 65536 KiB (64 MiB again)', () => {
    const rasd = (local: string, text: string) => el(RASD_NS, local, {}, [], text);
    const item = (rt: number, more: ReturnType<typeof el>[]) => el(OVF_NS, 'Item', {}, [rasd('ElementName', 'x'), rasd('InstanceID', String(rt)), rasd('ResourceType', String(rt)), ...more]);
    const envelope = el(OVF_NS, 'Envelope', {}, [
      el(OVF_NS, 'VirtualSystem', { 'ovf:id': 'vm' }, [el(OVF_NS, 'VirtualHardwareSection', {}, [item(3, [rasd('VirtualQuantity', '1')]), item(4, [rasd('AllocationUnits', 'byte * 2^20'), rasd('VirtualQuantity', '64')])])]),
    ]);
    const memory = readOvf(envelope).machines[0].memory;
    expect(memory).toBe(65536);
    const m = domain(memory);
    expect(m.getAttribute('unit')).toBe('KiB');
    expect(Number(m.textContent) * 1024).toBe(64 * 2 ** 20);
  });

  it('a Volume of 16000 KB is a libvirt volume of 16 000 000 bytes, and reads back as such', () => {
    expect(volumeCapacity(volumeXml('v', 16000 * 1000))).toBe(16_000_000);
  });
});
