import { execFileSync } from 'node:child_process';
import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { eventually } from './app-harness';
import { restGet } from './wsman-client';

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

/** the suite holds the libvirt lock and has libvirtd up for all its tests (one file at a time touches libvirtd) */
export function useLibvirt(): void {
  let release: (() => void) | undefined;
  beforeAll(async () => {
    release = await lockLibvirt();
    libvirtUp();
  }, 600000);
  afterAll(() => release?.());
}

/** REST helpers of the libvirt suites: a Job followed to its end (real domains on a loaded host: up to 120 s), a catalog item */
export function libvirtRest(port: () => number) {
  // a Job that did not succeed says why (its statusMessage) in the failure, not only FAILED
  const jobById = async (jid: string) => {
    const j = await eventually(async () => {
      const d = (await restGet(port(), `/cimi/jobs/${jid}`)).doc;
      return ['SUCCESS', 'FAILED', 'STOPPED'].includes(String(d.state)) ? d : undefined;
    }, 120000, 200);
    expect({ state: j.state, statusMessage: j.state === 'SUCCESS' ? undefined : j.statusMessage }).toEqual({ state: 'SUCCESS', statusMessage: undefined });
  };
  const job = (headers: Headers) => jobById(headers.get('cimi-job-uri')!.split('/').pop()!);
  const pick = async (seg: string, key: string, pred: (d: Record<string, unknown>) => boolean) =>
    eventually(async () => (((await restGet(port(), `/cimi/${seg}`)).doc[key] ?? []) as Record<string, unknown>[]).find(pred), 60000, 200);
  return { job, jobById, pick };
}
