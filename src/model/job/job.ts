import type { Principal } from '../shared/operation-context';
import { COMMON_FILTER_ATTRS, type FilterKind } from '../shared/query';
import type { Ref, ResourceType } from '../shared/resource';
import type { FinalTarget } from '../shared/state-machine';
import type { JobState } from './job-state';

/** One provider step of a job: the resource shows `state` while the provider performs `step`. */
export interface JobStep {
  ref: Ref;
  state: string;
  step: string;
  params?: Record<string, unknown>;
}

/** Where each resource the job moved lands when the job ends. */
export interface JobFinal {
  ref: Ref;
  to: FinalTarget<string>;
  /** the state before the operation (for PREVIOUS, and to roll back a stopped job) */
  previous?: string;
}

/** What the engine must do; persisted so that any gateway process can resume it after a crash. */
export interface JobPayload {
  steps: JobStep[];
  /** index of the next step to run; steps before it are done (resumption point) */
  cursor: number;
  finals: JobFinal[];
}

export interface Job {
  id: string;
  tenantId: string;
  name?: string;
  description?: string;
  created: Date;
  updated: Date;
  properties: Record<string, string>;
  version: number;
  state: JobState;
  /** action URI suffix (start, stop, …) or a core operation: add, edit, delete */
  action: string;
  /** a resource, a collection (creates), or a Meter (its start and stop, DSP0263 2.0.0 §5.17.3.2) */
  targetResource: Ref | { type: `${ResourceType}Collection`; id: string } | { type: 'Meter'; id: string };
  affectedResources: Ref[];
  returnCode?: number;
  progress: number;
  statusMessage?: string;
  timeOfStatusChange: Date;
  parentJobId?: string;
  correlationId: string;
  initiator: Principal;
  payload: JobPayload;
  /** nested jobs still running; the job waits for them before its finals run */
  pendingChildren: number;
  attempts: number;
  leaseOwner?: string;
  leaseExpires?: Date;
}

/** The result of every mutating operation: the resource (when it still exists) and its Job (DSP0263 §4.2.1.6). */
export interface OperationResult<R> {
  resource?: R;
  job: Job;
  /** true when the job was already finished when the operation returned (synchronous operation) */
  completed: boolean;
  /** true when an idempotency key replayed an earlier result */
  replayed?: boolean;
}

/** The attributes a Job query may filter and order on (JobStore). */
export const JOB_FILTER_ATTRS = {
  ...COMMON_FILTER_ATTRS,
  action: 'string',
  progress: 'integer',
  returnCode: 'integer',
  timeOfStatusChange: 'dateTime',
  parentJob: 'string',
  targetResource: 'string',
  correlationId: 'string',
} as const satisfies Record<string, FilterKind>;
