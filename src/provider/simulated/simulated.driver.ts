import type {
  Observation,
  ObservedRef,
  ProviderCapabilities,
  ProviderDriver,
  ProviderOperation,
  ProviderResult,
} from '../../model/provider/provider-driver';
import { OBSERVED_GONE, ProviderError, ProviderInterrupted, type UtilizationMetric, type UtilizationReading } from '../../model/provider/provider-driver';
import type { ResourceType } from '../../model/shared/resource';
import type { StoredImage } from '../../model/provider/provider-driver';
import { digestFile } from '../libvirt/disk-image';

export interface SimulatedOptions {
  /** default latency of every step, ms */
  latencyMs: number;
  /** per-step latency overrides, ms */
  stepLatencyMs: Record<string, number>;
  /** deterministic: no jitter, provider-set values derived from ids only */
  deterministic: boolean;
  /** initial fault injections, e.g. { start: 2 } fails the next two start steps */
  faults: Record<string, number>;
  /**
   * offer its world to reconciliation (SIM_RECONCILE). Off by default: the simulator's world lives in one process,
   * so gateways sharing a database would each see only their own steps and undo each other's.
   */
  observe?: boolean;
}

interface Fault {
  remaining: number;
  fatal: boolean;
  message: string;
}

/** the simulated power states as CIMI states (a Network created but not started is 'ready': STOPPED) */
const SIM_STATES: Record<string, string> = { on: 'STARTED', off: 'STOPPED', ready: 'STOPPED', paused: 'PAUSED', suspended: 'SUSPENDED', crashed: 'ERROR' };

/** FNV-1a 32-bit hash of an id: the per-resource rates of the simulated series */
function fnv(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

type Values = Partial<Record<UtilizationMetric, number>>;

/** disk counters of one device after `ms` milliseconds of I/O (integers, growing with ms) */
function diskSeries(id: string, ms: number): Values {
  const h = fnv(id);
  return { 'disk.read.bytes': ms * (40 + (h % 13)), 'disk.write.bytes': ms * (20 + ((h >>> 4) % 11)), 'disk.read.ops': Math.floor(ms / (50 + (h % 7))), 'disk.write.ops': Math.floor(ms / (80 + ((h >>> 3) % 7))) };
}

/** network counters of one interface after `ms` milliseconds of traffic */
function netSeries(id: string, ms: number): Values {
  const h = fnv(id);
  const rx = ms * (12 + ((h >>> 5) % 9));
  const tx = ms * (6 + ((h >>> 7) % 5));
  return { 'net.rx.bytes': rx, 'net.tx.bytes': tx, 'net.rx.packets': Math.floor(rx / 1200), 'net.tx.packets': Math.floor(tx / 1200) };
}

/**
 * The simulated utilization series (issue 14 §1): a pure function of the resource id, when it was last started
 * (`sinceMs`), its memory (KB) and the time of the reading. Counters are linear in the running time (monotonic
 * while it runs, from 0 at each start); memory.used is a gauge that steps once a second between 40 % and 59 %.
 *  - Machine: cpu.time, memory.*, its own disk plus each attached volume's disk.*, its own net.*
 *  - Volume: the disk.* of its device while its machine runs
 *  - Network: the simulator has no interfaces: a started Network reports its own net.* series
 */
export function simulatedUtilization(type: ResourceType, id: string, sinceMs: number, atMs: number, opts: { memoryKb?: number; volumes?: readonly { id: string; sinceMs: number }[] } = {}): Values {
  const ms = Math.max(0, atMs - sinceMs);
  if (type === 'Volume') return diskSeries(id, ms);
  if (type === 'Network') return netSeries(id, ms);
  const h = fnv(id);
  const out: Values = { 'cpu.time': ms * (250_000 + (h % 50) * 10_000), ...diskSeries(id, ms), ...netSeries(id, ms) };
  for (const v of opts.volumes ?? []) {
    const d = diskSeries(v.id, Math.max(0, atMs - v.sinceMs));
    for (const [k, n] of Object.entries(d)) out[k as UtilizationMetric] = (out[k as UtilizationMetric] ?? 0) + n;
  }
  if (opts.memoryKb !== undefined) {
    out['memory.total'] = opts.memoryKb;
    out['memory.used'] = Math.floor((opts.memoryKb * (40 + ((Math.floor(atMs / 1000) + h) % 20))) / 100);
  }
  return out;
}

/** Provider steps the simulator implements per resource type. */
const STEPS = {
  Machine: ['create', 'start', 'stop', 'pause', 'suspend', 'capture', 'restore', 'delete', 'attach', 'detach'],
  Volume: ['create', 'capture', 'restore', 'delete'],
  MachineImage: ['create', 'delete'],
  VolumeImage: ['create', 'delete'],
  Network: ['create', 'start', 'stop', 'delete'],
  NetworkPort: ['create', 'start', 'stop', 'delete'],
  System: ['create', 'delete'],
} as const;

/**
 * In-process simulated compute/storage/network backend (issue 2 §8). It keeps the power state of what it
 * "runs" in memory, answers after a configurable latency, and fails on demand (fault injection) so that FAILED
 * jobs and ERROR states can be exercised through every door. Steps are idempotent, as the port requires.
 */
export class SimulatedDriver implements ProviderDriver {
  readonly name = 'simulated';
  readonly capabilities: ProviderCapabilities = {
    machineStopForce: true,
    restoreFromImage: true,
    steps: STEPS,
  };
  private readonly faults = new Map<string, Fault>();
  /** what the simulated hypervisor believes: resource id -> power/storage state */
  readonly world = new Map<string, string>();
  /** every step performed, in order (tests read it to prove a step ran exactly once) */
  readonly log: { resourceId: string; step: string }[] = [];
  readonly observable: readonly ResourceType[];
  /** what "vanished" outside the gateway (external), so that observe can tell it from what it never saw */
  private readonly vanished = new Set<string>();
  private readonly listeners = new Set<(ref: { type: ResourceType; id: string }) => void>();
  private down = false;
  /** Machines and Networks running, by id: when they were last started (ms) */
  readonly started = new Map<string, number>();
  /** a Machine's memory in KB, from its create step */
  private readonly memory = new Map<string, number>();
  /** attached volumes: volume id -> machine id and since when (ms) */
  readonly attached = new Map<string, { machineId: string; sinceMs: number }>();

  constructor(private readonly opts: SimulatedOptions) {
    this.observable = opts.observe ? ['Machine', 'Network'] : [];
    for (const [step, n] of Object.entries(opts.faults)) this.injectFault(step, n);
  }

  /** fail the next `count` steps named `step` ('*' = any step) */
  injectFault(step: string, count: number, fatal = false, message = `simulated ${step} failure`): void {
    if (count <= 0) this.faults.delete(step);
    else this.faults.set(step, { remaining: count, fatal, message });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  async healthy(): Promise<boolean> {
    return !this.down;
  }

  /** the backend goes away (or comes back): steps and observations fail as unavailable meanwhile */
  setAvailable(up: boolean): void {
    this.down = !up;
  }

  /**
   * A change made outside the gateway (an operator at the hypervisor): `state` is the simulated power state
   * ('on', 'off', 'paused', 'suspended', 'crashed') or 'gone'. Watchers are told, as a backend event would.
   */
  external(type: ResourceType, id: string, state: string): void {
    if (state === 'gone') {
      this.world.delete(id);
      this.vanished.add(id);
    } else this.world.set(id, state);
    for (const l of this.listeners) l({ type, id });
  }

  async observe(refs: readonly ObservedRef[]): Promise<Observation[]> {
    if (this.down) throw new ProviderError('simulated backend unavailable', false, true);
    return refs.map((r) => {
      if (this.vanished.has(r.id)) return { state: OBSERVED_GONE, reason: `simulated ${r.type} ${r.id} no longer exists` };
      const w = this.world.get(r.id);
      // the simulator's memory does not outlive its process: what it never saw is unknown, not gone
      if (w === undefined) return { state: 'unknown' };
      return { state: SIM_STATES[w] ?? 'unknown', ...(w === 'crashed' ? { reason: `simulated ${r.type} ${r.id} crashed` } : {}) };
    });
  }

  async watch(listener: (ref: { type: ResourceType; id: string }) => void): Promise<() => void> {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** utilization of what runs now (simulatedUtilization); null when it is not provisioned or not running */
  async utilization(refs: readonly ObservedRef[]): Promise<(UtilizationReading | null)[]> {
    if (this.down) throw new ProviderError('simulated backend unavailable', false, true);
    const at = new Date();
    return refs.map((r) => {
      let machine = r.id;
      if (r.type === 'Volume') {
        const a = this.attached.get(r.id);
        if (!a) return null;
        machine = a.machineId;
      }
      const since = this.started.get(machine);
      if (since === undefined || this.world.get(machine) !== 'on') return null;
      if (r.type === 'Volume') return { at, values: simulatedUtilization('Volume', r.id, Math.max(since, this.attached.get(r.id)!.sinceMs), at.getTime()) };
      const volumes = r.type === 'Machine' ? [...this.attached].filter(([, a]) => a.machineId === r.id).map(([id, a]) => ({ id, sinceMs: Math.max(since, a.sinceMs) })) : [];
      return { at, values: simulatedUtilization(r.type, r.id, since, at.getTime(), { memoryKb: r.type === 'Machine' ? this.memory.get(r.id) : undefined, volumes }) };
    });
  }

  async images(): Promise<{ name: string; description: string; imageLocation: string }[]> {
    return [];
  }

  /** disk files kept (issue 17 §1): the simulator keeps each one's size and digest, not its bytes */
  readonly storedImages = new Map<string, { name: string; bytes: number; sha256: string }>();

  async storeImage(req: { imageId: string; file: string; name: string }): Promise<StoredImage> {
    if (this.down) throw new ProviderError('simulated backend unavailable', false, true);
    const d = await digestFile(req.file);
    this.storedImages.set(req.imageId, { name: req.name, ...d });
    this.world.set(req.imageId, 'ready');
    return { imageLocation: `simulated:image/${req.imageId}`, format: 'raw', ...d };
  }

  async removeImage(imageId: string): Promise<void> {
    this.storedImages.delete(imageId);
    this.world.delete(imageId);
  }

  async perform(op: ProviderOperation): Promise<ProviderResult> {
    if (this.down) throw new ProviderError('simulated backend unavailable', false, true);
    const known = (STEPS as Record<string, readonly string[]>)[op.resourceType];
    if (!known?.includes(op.step)) throw new ProviderError(`simulated provider has no ${op.step} for ${op.resourceType}`);
    await this.wait(op);
    const fault = this.faults.get(op.step) ?? this.faults.get('*');
    if (fault) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.faults.delete(this.faults.get(op.step) === fault ? op.step : '*');
      throw new ProviderError(fault.message, fault.fatal);
    }
    this.log.push({ resourceId: op.resourceId, step: op.step });
    return this.apply(op);
  }

  private apply(op: ProviderOperation): ProviderResult {
    switch (op.step) {
      case 'create':
        this.world.set(op.resourceId, op.resourceType === 'Machine' ? 'off' : 'ready');
        if (op.resourceType === 'Machine' && typeof op.spec.memory === 'number') this.memory.set(op.resourceId, op.spec.memory);
        return {};
      case 'delete':
        this.started.delete(op.resourceId);
        this.world.delete(op.resourceId);
        this.vanished.add(op.resourceId);
        return {};
      case 'start':
        // counters restart from 0 at each start (provider-driver.ts UtilizationSource); a repeated step keeps them
        if (this.world.get(op.resourceId) !== 'on') this.started.set(op.resourceId, Date.now());
        this.world.set(op.resourceId, 'on');
        return {};
      case 'stop':
        this.started.delete(op.resourceId);
        this.world.set(op.resourceId, 'off');
        return {};
      case 'attach':
        if (typeof op.params.volumeId === 'string' && !this.attached.has(op.params.volumeId)) this.attached.set(op.params.volumeId, { machineId: op.resourceId, sinceMs: Date.now() });
        return {};
      case 'detach':
        if (typeof op.params.volumeId === 'string') this.attached.delete(op.params.volumeId);
        return {};
      case 'pause':
      case 'suspend':
        this.world.set(op.resourceId, op.step === 'pause' ? 'paused' : 'suspended');
        return {};
      case 'restore':
        // a Machine comes back from its image powered off (machine-state.ts)
        if (op.resourceType === 'Machine') this.world.set(op.resourceId, 'off');
        return {};
      default:
        return {};
    }
  }

  private wait(op: ProviderOperation): Promise<void> {
    const base = this.opts.stepLatencyMs[op.step] ?? this.opts.latencyMs;
    const ms = this.opts.deterministic ? base : Math.round(base * (0.75 + Math.random() * 0.5));
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (op.signal.aborted) return reject(new ProviderInterrupted());
      const t = setTimeout(() => {
        op.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      // a simulated operation that has not begun at the provider is a safe point: stop there on shutdown
      const onAbort = () => {
        clearTimeout(t);
        reject(new ProviderInterrupted());
      };
      op.signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}
