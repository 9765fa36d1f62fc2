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
  /** utilization readings for Meters (UtilizationSource, below); a driver without it reports no samples */
  utilization?: UtilizationSource['utilization'];
  /** disk files of an OVF package kept in the backend's storage (ImageStore, below); a driver without it keeps none */
  storeImage?: ImageStore['storeImage'];
  removeImage?: ImageStore['removeImage'];
  /** a Machine's disk or a Volume written to a local file, for an export (ImageStore) */
  exportDisk?: ImageStore['exportDisk'];
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

/**
 * Utilization the backend reports (issue 14; DSP0263 2.0.0 §5.16 Meters). Counters (`*.time`, `*.bytes`, `*.ops`,
 * `*.packets`) are totals since the resource was provisioned or last started; gauges (`memory.*`) are the value now.
 * Units: nanoseconds, bytes, operations, packets; memory in KB like every CIMI memory attribute (§5.9.3).
 *  - Machine: cpu.time, memory.used, memory.total, disk.* summed over its disks, net.* summed over its interfaces
 *  - Volume: disk.* of the device it is attached as (nothing when it is attached nowhere)
 *  - Network: net.* summed over the interfaces of every machine connected to it
 */
export const UTILIZATION_METRICS = [
  'cpu.time',
  'memory.used',
  'memory.total',
  'disk.read.bytes',
  'disk.write.bytes',
  'disk.read.ops',
  'disk.write.ops',
  'net.rx.bytes',
  'net.tx.bytes',
  'net.rx.packets',
  'net.tx.packets',
] as const;
export type UtilizationMetric = (typeof UTILIZATION_METRICS)[number];

/** one reading of one resource: the metrics the backend could read for it now (absent ones are unknown) */
export interface UtilizationReading {
  at: Date;
  values: Partial<Record<UtilizationMetric, number>>;
}

/**
 * The optional utilization port of a driver (Meters sample it). One answer per ref, same order; `null` for a
 * resource the backend has no live object for (not provisioned, stopped, gone). Throws ProviderError(unavailable).
 */
export interface UtilizationSource {
  utilization(refs: readonly ObservedRef[]): Promise<(UtilizationReading | null)[]>;
}

/** what the backend kept of a disk file (issue 17 §1): where it is now, and what it was */
export interface StoredImage {
  /** the MachineImage / VolumeImage imageLocation that names it in the backend */
  imageLocation: string;
  /** the file's format as the backend read it (raw, qcow2, vmdk) */
  format: string;
  /** the disk's virtual size in bytes, when the backend reads the format */
  virtualSize?: number;
  /** the uploaded file's size and SHA-256 (hex) */
  bytes: number;
  sha256: string;
}

/**
 * The optional image storage port (issue 17 §1, §2): disk files of an OVA go into the backend's storage as the image
 * `imageId`; a Machine's disk or a Volume comes out as a file. Every call is idempotent by id; removeImage of an
 * image never stored is no error. A file the backend cannot take is refused with the file named.
 */
export interface ImageStore {
  storeImage(req: { imageId: string; file: string; name: string }): Promise<StoredImage>;
  removeImage(imageId: string): Promise<void>;
  exportDisk(req: { type: 'Machine' | 'Volume'; id: string; format: 'vmdk' | 'qcow2'; file: string }): Promise<{ virtualSize: number }>;
}
