import { GONE, PREVIOUS, type StateMachine } from '../shared/state-machine';
import { allowedFrom, describeTransitionTable, type Expected, type Outcome } from '../../../test/support/state-table';
import {
  NETWORK_INITIAL_PHASES,
  NETWORK_STATES,
  networkPortStateMachine,
  networkStateMachine,
} from './network-state';

/**
 * Network and NetworkPort (DSP0263 1.x and 2.0.0 §5.16; Sirocco): start/stop, default initial state STOPPED.
 * The expected table is the specification, written out independently of the table under test.
 */

const GUARD: Outcome = { via: [], to: PREVIOUS };

const EXPECTED: Expected = {
  start: allowedFrom(['STOPPED', 'ERROR'], { via: ['STARTING(start)'], to: 'STARTED' }),
  stop: allowedFrom(['STARTED', 'ERROR'], { via: ['STOPPING(stop)'], to: 'STOPPED' }),
  delete: allowedFrom(['STARTED', 'STOPPED', 'ERROR'], { via: ['DELETING(delete)'], to: GONE }),
  edit: allowedFrom(['STARTED', 'STOPPED', 'ERROR'], GUARD),
  // ports, addresses and interfaces may be put on a Network that exists and is settled (not in ERROR)
  use: allowedFrom(['STARTED', 'STOPPED'], GUARD),
};
const UNKNOWN_ACTIONS = ['restart', 'pause', 'suspend', 'capture', 'attach', 'Start', ''];
const TRANSIENT = ['CREATING', 'STARTING', 'STOPPING', 'DELETING'];

describe.each([
  ['Network', networkStateMachine],
  ['NetworkPort', networkPortStateMachine],
])('%s state machine', (type, machine) => {
  const sm = machine as unknown as StateMachine<string>;

  it('has the Network states in order', () => {
    expect(NETWORK_STATES).toEqual([
      'CREATING',
      'STARTING',
      'STARTED',
      'STOPPING',
      'STOPPED',
      'DELETING',
      'ERROR',
    ]);
    expect(sm.states).toEqual(NETWORK_STATES);
  });

  it(`is the ${type} table: created through CREATING into STARTED or STOPPED (default STOPPED), failing into ERROR`, () => {
    expect(sm.resourceType).toBe(type);
    expect([...sm.initialStates].sort()).toEqual(['STARTED', 'STOPPED']);
    expect(sm.defaultInitialState).toBe('STOPPED');
    expect(sm.creating).toBe('CREATING');
    expect(sm.errorState).toBe('ERROR');
  });

  describeTransitionTable(sm, {
    states: NETWORK_STATES,
    expected: EXPECTED,
    unknownActions: UNKNOWN_ACTIONS,
    transient: TRANSIENT,
    foreignStates: [undefined, 'AVAILABLE', 'started'],
    id: 'n-1',
  });
});

describe('Network tables', () => {
  it('Network and NetworkPort are separate instances', () => {
    expect(networkStateMachine).not.toBe(networkPortStateMachine);
  });

  describe('NETWORK_INITIAL_PHASES', () => {
    it('has an entry for every initial state and nothing else', () => {
      expect(Object.keys(NETWORK_INITIAL_PHASES).sort()).toEqual(
        [...networkStateMachine.initialStates].sort(),
      );
    });

    it.each<[string, string[]]>([
      ['STOPPED', []],
      ['STARTED', ['STARTING(start)']],
    ])('reaching %s after provisioning runs %p', (state, via) => {
      expect(NETWORK_INITIAL_PHASES[state].map((p) => `${p.state}(${p.step})`)).toEqual(via);
    });
  });
});
