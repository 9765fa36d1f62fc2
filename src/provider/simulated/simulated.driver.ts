import type {
  ProviderCapabilities,
  ProviderDriver,
  ProviderOperation,
  ProviderResult,
} from '../../model/provider/provider-driver';
import { ProviderError, ProviderInterrupted } from '../../model/provider/provider-driver';

export interface SimulatedOptions {
  /** default latency of every step, ms */
  latencyMs: number;
  /** per-step latency overrides, ms */
  stepLatencyMs: Record<string, number>;
  /** deterministic: no jitter, provider-set values derived from ids only */
  deterministic: boolean;
  /** initial fault injections, e.g. { start: 2 } fails the next two start steps */
  faults: Record<string, number>;
}

interface Fault {
  remaining: number;
  fatal: boolean;
  message: string;
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

  constructor(private readonly opts: SimulatedOptions) {
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
    return true;
  }

  async perform(op: ProviderOperation): Promise<ProviderResult> {
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
