import { InvalidStateError, type ModelError } from '../shared/model-error';
import { GONE, PREVIOUS, type StateMachine, type TransitionRule } from '../shared/state-machine';
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

interface Outcome {
  via: string[];
  to: string;
}

function allowedFrom(states: string[], outcome: Outcome): Partial<Record<string, Outcome>> {
  return Object.fromEntries(states.map((s) => [s, outcome]));
}

const GUARD: Outcome = { via: [], to: PREVIOUS };

const EXPECTED: Record<string, Partial<Record<string, Outcome>>> = {
  start: allowedFrom(['STOPPED', 'ERROR'], { via: ['STARTING(start)'], to: 'STARTED' }),
  stop: allowedFrom(['STARTED', 'ERROR'], { via: ['STOPPING(stop)'], to: 'STOPPED' }),
  delete: allowedFrom(['STARTED', 'STOPPED', 'ERROR'], { via: ['DELETING(delete)'], to: GONE }),
  edit: allowedFrom(['STARTED', 'STOPPED', 'ERROR'], GUARD),
  // ports, addresses and interfaces may be put on a Network that exists and is settled (not in ERROR)
  use: allowedFrom(['STARTED', 'STOPPED'], GUARD),
};
const ACTIONS = Object.keys(EXPECTED);
const UNKNOWN_ACTIONS = ['restart', 'pause', 'suspend', 'capture', 'attach', 'Start', ''];
const TRANSIENT = ['CREATING', 'STARTING', 'STOPPING', 'DELETING'];

const fmtPhases = (r: TransitionRule<string>) => r.phases.map((p) => `${p.state}(${p.step})`);

function expectInvalidState(sm: StateMachine<string>, action: string, state: string | undefined, id = 'n-1') {
  let err: unknown;
  try {
    sm.require(action, state, id);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InvalidStateError);
  const e = err as ModelError;
  expect(e.kind).toBe('invalid-state');
  expect(e.code).toBe(`${sm.resourceType.toUpperCase()}.INVALID_STATE`);
  expect(e.message.startsWith(`${action} `)).toBe(true);
  expect(e.message).toContain(`${sm.resourceType} ${id}`);
  expect(e.message).toContain(`in state ${state ?? '(none)'}`);
  expect(e.details).toMatchObject({ resourceType: sm.resourceType, resourceId: id, action, state });
}

const pairs = [...ACTIONS, ...UNKNOWN_ACTIONS].flatMap((action) =>
  NETWORK_STATES.map((state) => {
    const outcome = EXPECTED[action]?.[state];
    return {
      action,
      state,
      outcome,
      verdict: outcome ? `allowed via [${outcome.via.join(', ')}] to ${outcome.to}` : 'refused',
    };
  }),
);

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

  it('transient contains exactly the transient states', () => {
    expect([...sm.transient].sort()).toEqual([...TRANSIENT].sort());
  });

  it.each(NETWORK_STATES.map((s) => [s, TRANSIENT.includes(s)] as const))(
    'isTransient(%s) is %p',
    (state, t) => {
      expect(sm.isTransient(state)).toBe(t);
    },
  );

  it('the table knows exactly the actions of the specification', () => {
    expect([...sm.actions].sort()).toEqual([...ACTIONS].sort());
  });

  it.each(pairs)('$action from $state: $verdict', ({ action, state, outcome }) => {
    expect(sm.can(action, state)).toBe(outcome !== undefined);
    if (outcome) {
      const rule = sm.require(action, state, 'n-1');
      expect(rule.action).toBe(action);
      expect(rule.from).toContain(state);
      expect(fmtPhases(rule)).toEqual(outcome.via);
      expect(rule.to).toBe(outcome.to);
      expect(sm.find(action, state)).toBe(rule);
    } else {
      expect(sm.find(action, state)).toBeUndefined();
      expectInvalidState(sm, action, state);
    }
  });

  it.each(ACTIONS)('%s is refused when the state is missing or unknown', (action) => {
    for (const state of [undefined, 'AVAILABLE', 'started']) {
      expect(sm.can(action, state)).toBe(false);
      expectInvalidState(sm, action, state);
    }
  });

  it.each(NETWORK_STATES)('actionsIn(%s) lists exactly the allowed actions, once each', (state) => {
    const expected = ACTIONS.filter((a) => EXPECTED[a][state]);
    const got = sm.actionsIn(state);
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort()).toEqual(expected.sort());
  });

  it.each(TRANSIENT)('no action at all is allowed while %s', (state) => {
    expect(sm.actionsIn(state)).toEqual([]);
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
