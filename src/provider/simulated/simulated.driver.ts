import type {
  Observation,
  ObservedRef,
  ProviderCapabilities,
  ProviderDriver,
  ProviderOperation,
  ProviderResult,
} from '../../model/provider/provider-driver';
import { OBSERVED_GONE, ProviderError, ProviderInterrupted } from '../../model/provider/provider-driver';
import type { ResourceType } from '../../model/shared/resource';

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

  async images(): Promise<{ name: string; description: string; imageLocation: string }[]> {
    return [];
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
        return {};
      case 'delete':
        this.world.delete(op.resourceId);
        this.vanished.add(op.resourceId);
        return {};
      case 'start':
        this.world.set(op.resourceId, 'on');
        return {};
      case 'stop':
        this.world.set(op.resourceId, 'off');
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
