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

export interface ProviderDriver {
  readonly name: string;
  readonly capabilities: ProviderCapabilities;
  perform(op: ProviderOperation): Promise<ProviderResult>;
  /** readiness: false when the backend cannot be reached */
  healthy(): Promise<boolean>;
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
