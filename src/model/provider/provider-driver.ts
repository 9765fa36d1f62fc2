import type { ResourceType } from '../shared/resource';

/**
 * The provider driver port: what a backend (simulated, libvirt, …) must do. Steps are named by the transition
 * tables (create, start, stop, pause, suspend, capture, restore, delete, attach, detach). Every step must be
 * idempotent: after a crash the job engine runs the interrupted step again (resume), never a finished one.
 */
export interface ProviderOperation {
  tenantId: string;
  resourceType: ResourceType;
  resourceId: string;
  step: string;
  /** the resource's attributes at the time of the step (what to create, what it is) */
  spec: Record<string, unknown>;
  params: Record<string, unknown>;
  /** aborted on graceful shutdown; a driver may stop at a safe point and throw ProviderInterrupted */
  signal: AbortSignal;
}

export interface ProviderResult {
  /** provider-set attributes to merge into the resource (e.g. a MAC address, an allocated IP) */
  attrs?: Record<string, unknown>;
}

export interface ProviderCapabilities {
  /** DSP0263 MachineStopForce */
  machineStopForce: boolean;
  /** DSP0263 RestoreFromImage */
  restoreFromImage: boolean;
  /** steps this driver implements, per resource type */
  steps: Partial<Record<ResourceType, readonly string[]>>;
}

/** What the backend reports for one resource (reconciliation, issue 12 §2). */
export interface Observation {
  /** the CIMI state the backend's own state maps to; `GONE` when the backend has no such object any more */
  state: string | typeof OBSERVED_GONE;
  /** readable words for a state the gateway did not cause (e.g. "the domain crashed") */
  reason?: string;
}
export const OBSERVED_GONE = '@gone';

/** a resource the gateway asks the backend about */
export interface ObservedRef {
  tenantId: string;
  type: ResourceType;
  id: string;
}

export interface ProviderDriver {
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  perform(op: ProviderOperation): Promise<ProviderResult>;
  /** readiness: false when the backend cannot be reached */
  healthy(): Promise<boolean>;
  /** the types whose state the backend can be asked about (observe) */
  readonly observable: readonly ResourceType[];
  /** the backend's view of these resources now (one answer per ref, same order); throws ProviderError(unavailable) */
  observe(refs: readonly ObservedRef[]): Promise<Observation[]>;
  /**
   * Backend-initiated changes (lifecycle events): the listener is told which resource may have changed and
   * re-observes it. Returns the unsubscribe function.
   */
  watch(listener: (ref: { type: ResourceType; id: string }) => void): Promise<() => void>;
  /** the machine images the backend really has (a demo seed registers them) */
  images(): Promise<{ name: string; description: string; imageLocation: string }[]>;
  close?(): Promise<void>;
}
export const PROVIDER_DRIVER = Symbol('PROVIDER_DRIVER');

/** A backend failure. `fatal` leaves the resource FAILED (needs recovery) instead of ERROR. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly fatal = false,
    readonly unavailable = false,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** Thrown by a driver that stopped at a safe point because its signal was aborted (shutdown). */
export class ProviderInterrupted extends Error {
  constructor() {
    super('interrupted by shutdown');
    this.name = 'ProviderInterrupted';
  }
}
