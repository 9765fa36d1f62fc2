import { readFileSync } from 'node:fs';
import { LibvirtDriver } from '../../src/provider/libvirt/libvirt.driver';
import { BASE_IMAGE, QEMU, libvirtUp, lockLibvirt, virsh } from '../support/libvirt';
import { driverContract } from './driver-contract';

/** real QEMU guests (TCG: no /dev/kvm here), asked about through virsh, the hypervisor's own client */
let release: () => void;
beforeAll(async () => {
  release = await lockLibvirt();
  libvirtUp();
}, 600000);
afterAll(() => release?.());

const libvirtdPid = () => Number(readFileSync('/run/cimi-gateway-libvirt/libvirtd.pid', 'utf8').trim());

driverContract({
  name: 'libvirt qemu:///system',
  make: () => new LibvirtDriver({ uri: QEMU, pool: 'cimi', shutdownTimeoutMs: 1500, pollMs: 100 }),
  imageLocation: async () => BASE_IMAGE,
  outside: {
    powerOff: async (id) => void virsh('destroy', `cimi-${id}`),
    remove: async (id) => void virsh('undefine', `cimi-${id}`),
  },
  availability: {
    // libvirtd stopped under a running gateway: libvirt-dbus stays, its calls fail until libvirtd is back
    down: async () => {
      const pid = libvirtdPid();
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 100; i++) {
        try {
          process.kill(pid, 0);
          await new Promise((r) => setTimeout(r, 100));
        } catch {
          return;
        }
      }
    },
    up: async () => libvirtUp(),
  },
  disks: async (id) => virsh('domblklist', `cimi-${id}`).split('\n').filter((l) => /^\s*(vd|sd|hd)[a-z]/.test(l) && !/\s-$/.test(l)).map((l) => l.trim()),
});
