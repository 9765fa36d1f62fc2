/**
 * Job states (DSP0263 2.0.0 Table 46; 1.0.1 StratusLab schema). Transitions as data, like every other state machine.
 * QUEUED -claim-> RUNNING -succeed-> SUCCESS | -fail-> FAILED; stop: QUEUED|RUNNING -> STOPPING -> STOPPED.
 */
export const JOB_STATES = ['QUEUED', 'RUNNING', 'SUCCESS', 'FAILED', 'STOPPING', 'STOPPED'] as const;
export type JobState = (typeof JOB_STATES)[number];

export type JobEvent = 'claim' | 'succeed' | 'fail' | 'stop' | 'stopped';

export const JOB_TRANSITIONS: Readonly<Record<JobEvent, { from: readonly JobState[]; to: JobState }>> = {
  // a RUNNING job whose lease expired is claimed again by another worker (crash recovery)
  // a STOPPING job whose lease expired is re-leased without a claim transition: it keeps STOPPING
  claim: { from: ['QUEUED', 'RUNNING'], to: 'RUNNING' },
  // a stop that arrives while the last step completes loses the race: the work is done
  succeed: { from: ['RUNNING', 'STOPPING'], to: 'SUCCESS' },
  fail: { from: ['QUEUED', 'RUNNING', 'STOPPING'], to: 'FAILED' },
  stop: { from: ['QUEUED', 'RUNNING'], to: 'STOPPING' },
  stopped: { from: ['STOPPING'], to: 'STOPPED' },
};

export const FINAL_JOB_STATES: readonly JobState[] = ['SUCCESS', 'FAILED', 'STOPPED'];

export function canJob(event: JobEvent, state: JobState): boolean {
  return JOB_TRANSITIONS[event].from.includes(state);
}

export function nextJobState(event: JobEvent, state: JobState): JobState {
  const t = JOB_TRANSITIONS[event];
  if (!t.from.includes(state)) throw new Error(`job cannot ${event} from ${state}`);
  return t.to;
}

export function isFinalJobState(state: JobState): boolean {
  return FINAL_JOB_STATES.includes(state);
}
