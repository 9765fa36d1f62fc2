import { randomUUID } from 'node:crypto';
import { OBSERVED_GONE, ProviderError, type ProviderDriver, type ProviderOperation } from '../../src/model/provider/provider-driver';
import type { ResourceType } from '../../src/model/shared/resource';

/**
 * The behaviours every provider driver must show (issue 12 §3). Adding a driver means passing this suite. It
 * drives the port itself (perform, observe, watch, healthy), runs every step twice (the job engine re-runs an
 * interrupted step after a crash: the second run must succeed and change nothing), and checks through the
 * target's own `outside` hooks that changes made behind the gateway's back are observed and announced.
 */
export interface ContractTarget {
  name: string;
  make(): ProviderDriver;
  /** imageLocation of a bootable base image the backend has */
  imageLocation(driver: ProviderDriver): Promise<string>;
  /** changes made outside the gateway, the way an operator would (virsh; the simulator's own hook) */
  outside: {
    powerOff(machineId: string): Promise<void>;
    remove(machineId: string): Promise<void>;
  };
  /** make the backend unreachable and bring it back; absent where the target cannot be taken away */
  availability?: { down(driver: ProviderDriver): Promise<void>; up(driver: ProviderDriver): Promise<void> };
  /** the disks attached to a machine, as the backend reports them (absent: the backend has no such notion) */
  disks?(machineId: string): Promise<string[]>;
}

const tenantId = 'contract-tenant';
// real guests under software emulation take seconds per step
jest.setTimeout(180000);

export function driverContract(t: ContractTarget): void {
  describe(`provider driver contract: ${t.name}`, () => {
    let driver: ProviderDriver;
    const machineId = randomUUID();
    const volumeId = randomUUID();
    const networkId = randomUUID();
    const imageId = randomUUID();
    let image: string;

    const op = (resourceType: ResourceType, resourceId: string, step: string, spec: Record<string, unknown> = {}, params: Record<string, unknown> = {}): ProviderOperation => ({
      tenantId,
      resourceType,
      resourceId,
      step,
      spec,
      params,
      signal: new AbortController().signal,
    });
    /** a step, then the same step again (resume after a crash), each answered without error */
    const twice = async (o: ProviderOperation) => {
      await driver.perform(o);
      await driver.perform(o);
    };
    const seen = async (type: ResourceType, id: string) => (await driver.observe([{ tenantId, type, id }]))[0].state;
    const machineSpec = { name: 'contract', cpu: 1, memory: 64 * 1024, cpuArch: 'x86_64' };

    beforeAll(async () => {
      driver = t.make();
      image = await t.imageLocation(driver);
    });
    afterAll(async () => {
      for (const [type, id] of [['Machine', machineId], ['Volume', volumeId], ['Network', networkId], ['MachineImage', imageId]] as const) {
        await driver.perform(op(type, id, 'delete')).catch(() => undefined);
      }
      await driver.close?.();
    });

    it('is healthy, names its steps, and observes what it says it observes', async () => {
      expect(await driver.healthy()).toBe(true);
      for (const type of ['Machine', 'Volume', 'Network'] as const) expect(driver.capabilities.steps[type]).toEqual(expect.arrayContaining(['create', 'delete']));
      expect(driver.observable).toEqual(expect.arrayContaining(['Machine', 'Network']));
    });

    it('refuses a step it does not implement with a ProviderError, not a crash', async () => {
      await expect(driver.perform(op('Machine', machineId, 'teleport'))).rejects.toBeInstanceOf(ProviderError);
    });

    it('Network: create, start, stop, each twice, observed after each', async () => {
      await twice(op('Network', networkId, 'create', { name: 'contract-net' }));
      expect(await seen('Network', networkId)).toBe('STOPPED');
      await twice(op('Network', networkId, 'start'));
      expect(await seen('Network', networkId)).toBe('STARTED');
      await twice(op('Network', networkId, 'stop'));
      expect(await seen('Network', networkId)).toBe('STOPPED');
      await driver.perform(op('Network', networkId, 'start'));
    });

    it('Machine: create from an image on the network, then every lifecycle step twice, observed after each', async () => {
      await twice(op('MachineImage', imageId, 'create', { imageLocation: image }));
      const params = { image: { id: imageId, imageLocation: image }, nics: [{ mac: '52:54:00:12:34:56', networkId }], diskKB: 1000 * 1000 };
      await twice(op('Machine', machineId, 'create', machineSpec, params));
      expect(await seen('Machine', machineId)).toBe('STOPPED');
      const steps: [string, string][] = [
        ['start', 'STARTED'],
        ['pause', 'PAUSED'],
        ['start', 'STARTED'],
        ['suspend', 'SUSPENDED'],
        ['start', 'STARTED'],
        ['stop', 'STOPPED'],
        ['start', 'STARTED'],
      ];
      for (const [step, state] of steps) {
        await twice(op('Machine', machineId, step, machineSpec, step === 'stop' ? { force: true } : {}));
        expect([step, await seen('Machine', machineId)]).toEqual([step, state]);
      }
    });

    it('Volume: create, attach to the running machine, detach, each twice (where the driver offers attach)', async () => {
      await twice(op('Volume', volumeId, 'create', { capacity: 10 * 1000 }));
      // capabilities must match what it does: a driver without attach refuses it as such
      if (!driver.capabilities.steps.Machine?.includes('attach')) {
        await expect(driver.perform(op('Machine', machineId, 'attach', machineSpec, { volumeId }))).rejects.toThrow(/has no attach/);
        return;
      }
      await twice(op('Machine', machineId, 'attach', machineSpec, { volumeId }));
      if (t.disks) expect((await t.disks(machineId)).length).toBe(2);
      await twice(op('Machine', machineId, 'detach', machineSpec, { volumeId }));
      if (t.disks) expect((await t.disks(machineId)).length).toBe(1);
    });

    it('Machine: capture into a new image, restore from it (comes back STOPPED), each twice', async () => {
      const captured = randomUUID();
      await twice(op('Machine', machineId, 'stop', machineSpec, { force: true }));
      await twice(op('Machine', machineId, 'capture', machineSpec, { imageId: captured }));
      await twice(op('Machine', machineId, 'restore', machineSpec, { imageId: captured }));
      expect(await seen('Machine', machineId)).toBe('STOPPED');
      await twice(op('MachineImage', captured, 'delete'));
    });

    it('Machine: two runs of start at once (a job taken over while its first worker still ran) both succeed', async () => {
      expect(await seen('Machine', machineId)).toBe('STOPPED');
      const runs = await Promise.allSettled([driver.perform(op('Machine', machineId, 'start', machineSpec)), driver.perform(op('Machine', machineId, 'start', machineSpec))]);
      expect(runs.map((r) => (r.status === 'rejected' ? String(r.reason) : r.status))).toEqual(['fulfilled', 'fulfilled']);
      expect(await seen('Machine', machineId)).toBe('STARTED');
    });

    it('observes a machine powered off outside the gateway, and announces it through watch', async () => {
      await driver.perform(op('Machine', machineId, 'start', machineSpec));
      const told: string[] = [];
      const unwatch = await driver.watch((ref) => told.push(ref.id));
      await t.outside.powerOff(machineId);
      for (let i = 0; i < 100 && !told.includes(machineId); i++) await new Promise((r) => setTimeout(r, 100));
      unwatch();
      expect(told).toContain(machineId);
      expect(await seen('Machine', machineId)).toBe('STOPPED');
    });

    if (t.availability) {
      const a = t.availability;
      it('reports an unreachable backend as unavailable (health and steps), and works again when it is back', async () => {
        await a.down(driver);
        try {
          expect(await driver.healthy()).toBe(false);
          const err = await driver.perform(op('Machine', machineId, 'start', machineSpec)).catch((e) => e);
          expect(err).toBeInstanceOf(ProviderError);
          expect((err as ProviderError).unavailable).toBe(true);
        } finally {
          await a.up(driver);
        }
        let healthy = false;
        for (let i = 0; i < 50 && !healthy; i++) {
          healthy = await driver.healthy();
          if (!healthy) await new Promise((r) => setTimeout(r, 200));
        }
        expect(healthy).toBe(true);
        await driver.perform(op('Machine', machineId, 'start', machineSpec));
        expect(await seen('Machine', machineId)).toBe('STARTED');
      });
    }

    it('deletes machine, volume and network, each twice; a machine removed outside is observed gone', async () => {
      await twice(op('Machine', machineId, 'delete', machineSpec));
      expect(await seen('Machine', machineId)).toBe(OBSERVED_GONE);
      await twice(op('Volume', volumeId, 'delete'));
      await twice(op('Network', networkId, 'delete'));
      expect(await seen('Network', networkId)).toBe(OBSERVED_GONE);
      const other = randomUUID();
      await driver.perform(op('Machine', other, 'create', machineSpec, { image: { id: imageId, imageLocation: image }, nics: [] }));
      await t.outside.remove(other);
      expect(await seen('Machine', other)).toBe(OBSERVED_GONE);
      await driver.perform(op('Machine', other, 'delete', machineSpec));
    });
  });
}
