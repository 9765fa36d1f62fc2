import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';

/**
 * Helpers for the tiers that run against a real libvirt (started by scripts/libvirt-up.sh, which .ci/test.sh
 * runs before jest). `virsh` is the hypervisor's own client: the tests ask it, not the gateway, what is true.
 */
export const QEMU = 'qemu:///system';
export const TEST_URI = 'test:///default';
export const BASE_IMAGE = 'tiny-boot.qcow2';

export function virsh(...args: string[]): string {
  return execFileSync('virsh', ['-q', '-c', QEMU, ...args], { encoding: 'utf8', timeout: 60000 }).trim();
}

export function domstate(machineId: string): string {
  try {
    return virsh('domstate', `cimi-${machineId}`);
  } catch {
    return 'absent';
  }
}

export function libvirtUp(): void {
  try {
    execFileSync('bash', ['scripts/libvirt-up.sh'], { encoding: 'utf8', stdio: 'pipe', timeout: 600000 });
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string };
    throw new Error(`scripts/libvirt-up.sh failed:\n${x.stdout ?? ''}${x.stderr ?? ''}`);
  }
}

const LOCK = '/tmp/cimi-gateway-libvirt-tests.lock';

/**
 * Suites that start, stop or break the one libvirtd must not overlap (jest runs two files at a time): a directory
 * made atomically is the lock; a stale one (older than 20 min, from a killed run) is taken over.
 */
export async function lockLibvirt(): Promise<() => void> {
  for (;;) {
    try {
      mkdirSync(LOCK);
      return () => rmdirSync(LOCK);
    } catch {
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > 20 * 60000) rmdirSync(LOCK);
      } catch {
        /* released meanwhile */
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
