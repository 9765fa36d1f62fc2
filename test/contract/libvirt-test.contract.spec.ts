import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { LibvirtDriver } from '../../src/provider/libvirt/libvirt.driver';
import { TEST_URI, libvirtUp, lockLibvirt } from '../support/libvirt';
import { driverContract } from './driver-contract';

/** libvirt's own in-memory test hypervisor, reached through libvirt-dbus (/org/libvirt/Test) like qemu */
const vt = (...a: string[]) => execFileSync('dbus-send', ['--system', '--print-reply', '--dest=org.libvirt', ...a], { encoding: 'utf8' });
let release: () => void;
beforeAll(async () => {
  release = await lockLibvirt();
  libvirtUp();
}, 600000);
afterAll(() => release?.());

driverContract({
  name: 'libvirt test:///default',
  make: () => new LibvirtDriver({ uri: TEST_URI, pool: 'default-pool', shutdownTimeoutMs: 2000, pollMs: 50 }),
  // the test driver's pool holds no files: a volume made there through libvirt-dbus stands for a base image (not one
  // of the gateway's own cimi-… volumes, which no imageLocation may name)
  imageLocation: async () => {
    const name = `base-${randomUUID()}.qcow2`;
    const pool = /object path "([^"]+)"/.exec(vt('/org/libvirt/Test', 'org.libvirt.Connect.StoragePoolLookupByName', 'string:default-pool'))![1];
    vt(pool, 'org.libvirt.StoragePool.StorageVolCreateXML', `string:<volume><name>${name}</name><capacity unit='KiB'>1000</capacity></volume>`, 'uint32:0');
    return name;
  },
  outside: {
    // the test hypervisor lives inside libvirt-dbus: an outside change goes through its D-Bus API directly
    powerOff: async (id) => void vt(domainPath(id), 'org.libvirt.Domain.Destroy', 'uint32:0'),
    remove: async (id) => void vt(domainPath(id), 'org.libvirt.Domain.Undefine', 'uint32:0'),
  },
});

function domainPath(machineId: string): string {
  const out = vt('/org/libvirt/Test', 'org.libvirt.Connect.DomainLookupByName', `string:cimi-${machineId}`);
  return /object path "([^"]+)"/.exec(out)![1];
}
