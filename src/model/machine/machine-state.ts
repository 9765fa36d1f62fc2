import { GONE, PREVIOUS, StateMachine } from '../shared/state-machine';

/** DSP0263 2.0.0 Table 16: all fourteen Machine states (docs/cimi.md §2.1 "accept and emit the full 2.0 list"). */
export const MACHINE_STATES = [
  'CREATING',
  'STARTING',
  'STARTED',
  'STOPPING',
  'STOPPED',
  'PAUSING',
  'PAUSED',
  'SUSPENDING',
  'SUSPENDED',
  'CAPTURING',
  'RESTORING',
  'DELETING',
  'ERROR',
  'FAILED',
] as const;
export type MachineState = (typeof MACHINE_STATES)[number];

const STABLE: MachineState[] = ['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED'];

/**
 * Transitions from DSP0263 2.0.0 §5.14.1.2 (transient and final states) and the Sirocco FSM where 2.0 is silent.
 * `restart` lists before `start`: the Deltacloud suite takes the last operation whose rel contains "start".
 * Re-issuing `stop` while STOPPING (2.0 allows it with force) is refused: one job per resource at a time.
 */
export const machineStateMachine = new StateMachine<MachineState>(
  'Machine',
  MACHINE_STATES,
  [
    { action: 'restart', from: ['STARTED'], phases: [{ state: 'STOPPING', step: 'stop' }, { state: 'STARTING', step: 'start' }], to: 'STARTED' },
    // DSP0263 2.0.0 §5.14.1.2: restart of a stopped Machine acts as start
    { action: 'restart', from: ['STOPPED'], phases: [{ state: 'STARTING', step: 'start' }], to: 'STARTED' },
    { action: 'start', from: ['STOPPED', 'PAUSED', 'SUSPENDED', 'ERROR'], phases: [{ state: 'STARTING', step: 'start' }], to: 'STARTED' },
    { action: 'stop', from: ['STARTED', 'PAUSED', 'SUSPENDED', 'ERROR'], phases: [{ state: 'STOPPING', step: 'stop' }], to: 'STOPPED' },
    { action: 'pause', from: ['STARTED'], phases: [{ state: 'PAUSING', step: 'pause' }], to: 'PAUSED' },
    { action: 'suspend', from: ['STARTED'], phases: [{ state: 'SUSPENDING', step: 'suspend' }], to: 'SUSPENDED' },
    // capture blocks other operations while the image is taken, then returns to where it was (§5.14.1.2)
    { action: 'capture', from: STABLE, phases: [{ state: 'CAPTURING', step: 'capture' }], to: PREVIOUS },
    // restore rebuilds the disks from an image; the Machine comes back powered off
    { action: 'restore', from: [...STABLE, 'ERROR'], phases: [{ state: 'RESTORING', step: 'restore' }], to: 'STOPPED' },
    { action: 'delete', from: [...STABLE, 'ERROR', 'FAILED'], phases: [{ state: 'DELETING', step: 'delete' }], to: GONE },
    // synchronous guards: attachments need a Machine that is not mid-transition
    { action: 'attachVolume', from: [...STABLE, 'ERROR'], phases: [], to: PREVIOUS },
    { action: 'detachVolume', from: [...STABLE, 'ERROR'], phases: [], to: PREVIOUS },
    { action: 'edit', from: [...STABLE, 'ERROR', 'FAILED'], phases: [], to: PREVIOUS },
  ],
  ['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED'],
  'STOPPED', // DSP0263 2.0.0 §5.14.2.1: STOPPED unless DefaultInitialState says otherwise
  'CREATING',
  'ERROR',
);

/** Initial states reached after provisioning, as the extra phases the create job runs. */
export const MACHINE_INITIAL_PHASES: Record<string, { state: MachineState; step: string }[]> = {
  STOPPED: [],
  STARTED: [{ state: 'STARTING', step: 'start' }],
  PAUSED: [{ state: 'STARTING', step: 'start' }, { state: 'PAUSING', step: 'pause' }],
  SUSPENDED: [{ state: 'STARTING', step: 'start' }, { state: 'SUSPENDING', step: 'suspend' }],
};
