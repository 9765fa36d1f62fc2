import { UTILIZATION_METRICS, type ObservedRef, type ProviderOperation } from '../../src/model/provider/provider-driver';
import type { ResourceType } from '../../src/model/shared/resource';
import { SimulatedDriver, simulatedUtilization } from '../../src/provider/simulated/simulated.driver';

/**
 * The simulator's side of the utilization port (provider-driver.ts UtilizationSource; issue 14 §1): null for what is
 * not provisioned or not running, every metric of the resource type while it runs, counters monotonic from the last
 * start, the values the pure series function gives for the reading's time.
 */
const MACHINE = '11111111-1111-4111-8111-111111111111';
const VOLUME = '22222222-2222-4222-8222-222222222222';
const NETWORK = '33333333-3333-4333-8333-333333333333';
const ref = (type: ResourceType, id: string): ObservedRef => ({ tenantId: 't', type, id });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('simulated utilization', () => {
  let sim: SimulatedDriver;
  const step = (resourceType: ResourceType, resourceId: string, s: string, spec: Record<string, unknown> = {}, params: Record<string, unknown> = {}) =>
    sim.perform({ tenantId: 't', resourceType, resourceId, step: s, spec, params, signal: new AbortController().signal } as ProviderOperation);
  const read = () => sim.utilization([ref('Machine', MACHINE), ref('Volume', VOLUME), ref('Network', NETWORK)]);

  beforeEach(() => {
    sim = new SimulatedDriver({ latencyMs: 0, stepLatencyMs: {}, deterministic: true, faults: {} });
  });

  it('reports nothing for what is not provisioned or not running', async () => {
    expect(await read()).toEqual([null, null, null]);
    await step('Machine', MACHINE, 'create', { memory: 2048 });
    await step('Volume', VOLUME, 'create');
    await step('Network', NETWORK, 'create');
    expect(await read()).toEqual([null, null, null]);
  });

  it('while running: every metric of its type, counters growing, the series of the reading time; null again once stopped', async () => {
    await step('Machine', MACHINE, 'create', { memory: 2048 });
    await step('Volume', VOLUME, 'create');
    await step('Network', NETWORK, 'create');
    await step('Machine', MACHINE, 'start');
    await step('Network', NETWORK, 'start');
    await step('Machine', MACHINE, 'attach', {}, { volumeId: VOLUME });
    await sleep(20);
    const [m1, v1, n1] = await read();
    expect(Object.keys(m1!.values).sort()).toEqual([...UTILIZATION_METRICS].sort());
    expect(Object.keys(v1!.values).sort()).toEqual(['disk.read.bytes', 'disk.read.ops', 'disk.write.bytes', 'disk.write.ops']);
    expect(Object.keys(n1!.values).sort()).toEqual(['net.rx.bytes', 'net.rx.packets', 'net.tx.bytes', 'net.tx.packets']);
    expect(m1!.values['memory.total']).toBe(2048);
    const since = sim.started.get(MACHINE)!;
    const attached = sim.attached.get(VOLUME)!.sinceMs;
    expect(m1!.values).toEqual(simulatedUtilization('Machine', MACHINE, since, m1!.at.getTime(), { memoryKb: 2048, volumes: [{ id: VOLUME, sinceMs: Math.max(since, attached) }] }));
    expect(v1!.values).toEqual(simulatedUtilization('Volume', VOLUME, Math.max(since, attached), v1!.at.getTime()));
    // the machine's disk counters include its attached volume's
    expect(m1!.values['disk.read.bytes']!).toBeGreaterThan(v1!.values['disk.read.bytes']!);
    await sleep(20);
    const [m2] = await read();
    for (const k of ['cpu.time', 'disk.read.bytes', 'disk.write.bytes', 'net.rx.bytes', 'net.tx.bytes'] as const) expect(m2!.values[k]!).toBeGreaterThan(m1!.values[k]!);
    await step('Machine', MACHINE, 'stop');
    const [m3, v3, n3] = await read();
    expect([m3, v3]).toEqual([null, null]);
    expect(n3).not.toBeNull();
    // started again: the counters start from 0
    await step('Machine', MACHINE, 'start');
    const [m4] = await read();
    expect(m4!.values['cpu.time']!).toBeLessThan(m2!.values['cpu.time']!);
  });

  it('is unavailable when the backend is', async () => {
    sim.setAvailable(false);
    await expect(read()).rejects.toMatchObject({ unavailable: true });
  });
});
