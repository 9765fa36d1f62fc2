import { GONE, PREVIOUS, StateMachine } from '../shared/state-machine';

/** Network and NetworkPort (1.x; Sirocco; DSP0263 2.0.0 §5.16): start/stop, default initial state STOPPED. */
export const NETWORK_STATES = ['CREATING', 'STARTING', 'STARTED', 'STOPPING', 'STOPPED', 'DELETING', 'ERROR'] as const;
export type NetworkState = (typeof NETWORK_STATES)[number];

function networkMachine(type: string) {
  return new StateMachine<NetworkState>(
    type,
    NETWORK_STATES,
    [
      { action: 'start', from: ['STOPPED', 'ERROR'], phases: [{ state: 'STARTING', step: 'start' }], to: 'STARTED' },
      { action: 'stop', from: ['STARTED', 'ERROR'], phases: [{ state: 'STOPPING', step: 'stop' }], to: 'STOPPED' },
      { action: 'delete', from: ['STARTED', 'STOPPED', 'ERROR'], phases: [{ state: 'DELETING', step: 'delete' }], to: GONE },
      { action: 'edit', from: ['STARTED', 'STOPPED', 'ERROR'], phases: [], to: PREVIOUS },
      // ports, addresses and interfaces can be put on a Network that exists and is not being deleted
      { action: 'use', from: ['STARTED', 'STOPPED'], phases: [], to: PREVIOUS },
    ],
    ['STARTED', 'STOPPED'],
    'STOPPED',
    'CREATING',
    'ERROR',
  );
}
export const networkStateMachine = networkMachine('Network');
export const networkPortStateMachine = networkMachine('NetworkPort');

export const NETWORK_INITIAL_PHASES: Record<string, { state: NetworkState; step: string }[]> = {
  STOPPED: [],
  STARTED: [{ state: 'STARTING', step: 'start' }],
};
