import { DERIVED, GONE, PREVIOUS, StateMachine } from '../shared/state-machine';

/** DSP0263 2.0.0 §5.13: Machine states minus capture/restore/failed, plus MIXED. */
export const SYSTEM_STATES = [
  'CREATING',
  'STARTING',
  'STARTED',
  'STOPPING',
  'STOPPED',
  'PAUSING',
  'PAUSED',
  'SUSPENDING',
  'SUSPENDED',
  'MIXED',
  'DELETING',
  'ERROR',
] as const;
export type SystemState = (typeof SYSTEM_STATES)[number];

const SETTLED: SystemState[] = ['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED', 'MIXED', 'ERROR'];

/**
 * System actions are recursive: each applies to every component Machine that allows it, and the System's final
 * state is derived from its Machines (MIXED when they differ or there are none).
 */
export const systemStateMachine = new StateMachine<SystemState>(
  'System',
  SYSTEM_STATES,
  [
    { action: 'restart', from: ['STARTED', 'STOPPED', 'MIXED', 'ERROR'], phases: [{ state: 'STARTING', step: 'restart' }], to: DERIVED },
    { action: 'start', from: ['STOPPED', 'PAUSED', 'SUSPENDED', 'MIXED', 'ERROR'], phases: [{ state: 'STARTING', step: 'start' }], to: DERIVED },
    { action: 'stop', from: ['STARTED', 'PAUSED', 'SUSPENDED', 'MIXED', 'ERROR'], phases: [{ state: 'STOPPING', step: 'stop' }], to: DERIVED },
    { action: 'pause', from: ['STARTED', 'MIXED'], phases: [{ state: 'PAUSING', step: 'pause' }], to: DERIVED },
    { action: 'suspend', from: ['STARTED', 'MIXED'], phases: [{ state: 'SUSPENDING', step: 'suspend' }], to: DERIVED },
    { action: 'delete', from: SETTLED, phases: [{ state: 'DELETING', step: 'delete' }], to: GONE },
    { action: 'edit', from: SETTLED, phases: [], to: PREVIOUS },
  ],
  ['STOPPED', 'STARTED'],
  'STOPPED',
  'CREATING',
  'ERROR',
);

/** The System state implied by its Machines' states (DSP0263 2.0.0 §5.13.1: MIXED if none or if they differ). */
export function deriveSystemState(machineStates: readonly string[]): SystemState {
  if (machineStates.length === 0) return 'MIXED';
  const first = machineStates[0];
  if (!machineStates.every((s) => s === first)) return 'MIXED';
  if (first === 'FAILED') return 'ERROR';
  return (SYSTEM_STATES as readonly string[]).includes(first) ? (first as SystemState) : 'MIXED';
}
