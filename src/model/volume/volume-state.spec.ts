import { InvalidStateError, type ModelError } from '../shared/model-error';
import { GONE, PREVIOUS, type StateMachine, type TransitionRule } from '../shared/state-machine';
import {
  IMAGE_STATES,
  VOLUME_STATES,
  machineImageStateMachine,
  volumeImageStateMachine,
  volumeStateMachine,
} from './volume-state';

/**
 * Volume (DSP0263 1.0.1 / 2.0.0 §5.15: CREATING, AVAILABLE, CAPTURING, DELETING, ERROR; RESTORING from 2.0) and the
 * shared image life cycle of MachineImage / VolumeImage (CREATING, AVAILABLE, DELETING, ERROR), written out as the
 * specification independently of the tables under test.
 */

interface Outcome {
  via: string[];
  to: string;
}
type Expected = Record<string, Partial<Record<string, Outcome>>>;

function allowedFrom(states: string[], outcome: Outcome): Partial<Record<string, Outcome>> {
  return Object.fromEntries(states.map((s) => [s, outcome]));
}

const GUARD: Outcome = { via: [], to: PREVIOUS };
const DELETE: Outcome = { via: ['DELETING(delete)'], to: GONE };

const VOLUME_EXPECTED: Expected = {
  // capture: CAPTURING while the VolumeImage is taken, then back to where it was
  capture: allowedFrom(['AVAILABLE'], { via: ['CAPTURING(capture)'], to: PREVIOUS }),
  restore: allowedFrom(['AVAILABLE', 'ERROR'], { via: ['RESTORING(restore)'], to: 'AVAILABLE' }),
  delete: allowedFrom(['AVAILABLE', 'ERROR'], DELETE),
  // attach (to a Machine) is a synchronous guard: only an AVAILABLE Volume can be attached
  attach: allowedFrom(['AVAILABLE'], GUARD),
  edit: allowedFrom(['AVAILABLE', 'ERROR'], GUARD),
};

const IMAGE_EXPECTED: Expected = {
  delete: allowedFrom(['AVAILABLE', 'ERROR'], DELETE),
  edit: allowedFrom(['AVAILABLE', 'ERROR'], GUARD),
  // use (as the image of a new Machine / Volume) needs an AVAILABLE image
  use: allowedFrom(['AVAILABLE'], GUARD),
};

const UNKNOWN_ACTIONS = ['start', 'stop', 'detach', 'snapshot', 'Capture', ''];

const fmtPhases = (r: TransitionRule<string>) => r.phases.map((p) => `${p.state}(${p.step})`);

function expectInvalidState(sm: StateMachine<string>, action: string, state: string | undefined, id = 'v-1') {
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

function pairsOf(states: readonly string[], expected: Expected) {
  return [...Object.keys(expected), ...UNKNOWN_ACTIONS].flatMap((action) =>
    states.map((state) => {
      const outcome = expected[action]?.[state];
      return {
        action,
        state,
        outcome,
        verdict: outcome ? `allowed via [${outcome.via.join(', ')}] to ${outcome.to}` : 'refused',
      };
    }),
  );
}

function checkPair(sm: StateMachine<string>, action: string, state: string, outcome: Outcome | undefined) {
  expect(sm.can(action, state)).toBe(outcome !== undefined);
  if (outcome) {
    const rule = sm.require(action, state, 'v-1');
    expect(rule.action).toBe(action);
    expect(rule.from).toContain(state);
    expect(fmtPhases(rule)).toEqual(outcome.via);
    expect(rule.to).toBe(outcome.to);
    expect(sm.find(action, state)).toBe(rule);
  } else {
    expect(sm.find(action, state)).toBeUndefined();
    expectInvalidState(sm, action, state);
  }
}

describe('Volume state machine', () => {
  const sm = volumeStateMachine as unknown as StateMachine<string>;
  const TRANSIENT = ['CREATING', 'CAPTURING', 'RESTORING', 'DELETING'];

  it('has the Volume states in order', () => {
    expect(VOLUME_STATES).toEqual(['CREATING', 'AVAILABLE', 'CAPTURING', 'RESTORING', 'DELETING', 'ERROR']);
    expect(sm.states).toEqual(VOLUME_STATES);
  });

  it('is created into AVAILABLE through CREATING, fails into ERROR', () => {
    expect(sm.resourceType).toBe('Volume');
    expect(sm.initialStates).toEqual(['AVAILABLE']);
    expect(sm.defaultInitialState).toBe('AVAILABLE');
    expect(sm.creating).toBe('CREATING');
    expect(sm.errorState).toBe('ERROR');
  });

  it('transient contains exactly the transient states', () => {
    expect([...sm.transient].sort()).toEqual([...TRANSIENT].sort());
  });

  it.each(VOLUME_STATES.map((s) => [s, TRANSIENT.includes(s)] as const))(
    'isTransient(%s) is %p',
    (state, t) => {
      expect(sm.isTransient(state)).toBe(t);
    },
  );

  it('the table knows exactly the actions of the specification', () => {
    expect([...sm.actions].sort()).toEqual(Object.keys(VOLUME_EXPECTED).sort());
  });

  it.each(pairsOf(VOLUME_STATES, VOLUME_EXPECTED))(
    '$action from $state: $verdict',
    ({ action, state, outcome }) => {
      checkPair(sm, action, state, outcome);
    },
  );

  it.each(Object.keys(VOLUME_EXPECTED))('%s is refused when the state is missing or unknown', (action) => {
    for (const state of [undefined, 'STARTED', 'available']) {
      expect(sm.can(action, state)).toBe(false);
      expectInvalidState(sm, action, state);
    }
  });

  it.each(VOLUME_STATES)('actionsIn(%s) lists exactly the allowed actions, once each', (state) => {
    const expected = Object.keys(VOLUME_EXPECTED).filter((a) => VOLUME_EXPECTED[a][state]);
    const got = sm.actionsIn(state);
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort()).toEqual(expected.sort());
  });

  it.each(TRANSIENT)('no action at all is allowed while %s', (state) => {
    expect(sm.actionsIn(state)).toEqual([]);
  });

  it('attach is a synchronous guard that never changes the state', () => {
    const r = sm.require('attach', 'AVAILABLE', 'v-1');
    expect(r.phases).toEqual([]);
    expect(r.to).toBe(PREVIOUS);
  });
});

describe.each([
  ['MachineImage', machineImageStateMachine],
  ['VolumeImage', volumeImageStateMachine],
])('%s state machine (image life cycle)', (type, machine) => {
  const sm = machine as unknown as StateMachine<string>;
  const TRANSIENT = ['CREATING', 'DELETING'];

  it('has the image states in order', () => {
    expect(IMAGE_STATES).toEqual(['CREATING', 'AVAILABLE', 'DELETING', 'ERROR']);
    expect(sm.states).toEqual(IMAGE_STATES);
  });

  it(`is the ${type} table, created into AVAILABLE through CREATING, failing into ERROR`, () => {
    expect(sm.resourceType).toBe(type);
    expect(sm.initialStates).toEqual(['AVAILABLE']);
    expect(sm.defaultInitialState).toBe('AVAILABLE');
    expect(sm.creating).toBe('CREATING');
    expect(sm.errorState).toBe('ERROR');
  });

  it('transient contains exactly the transient states', () => {
    expect([...sm.transient].sort()).toEqual([...TRANSIENT].sort());
  });

  it.each(IMAGE_STATES.map((s) => [s, TRANSIENT.includes(s)] as const))(
    'isTransient(%s) is %p',
    (state, t) => {
      expect(sm.isTransient(state)).toBe(t);
    },
  );

  it('the table knows exactly the actions of the specification', () => {
    expect([...sm.actions].sort()).toEqual(Object.keys(IMAGE_EXPECTED).sort());
  });

  it.each(pairsOf(IMAGE_STATES, IMAGE_EXPECTED))(
    '$action from $state: $verdict',
    ({ action, state, outcome }) => {
      checkPair(sm, action, state, outcome);
    },
  );

  it.each(IMAGE_STATES)('actionsIn(%s) lists exactly the allowed actions, once each', (state) => {
    const expected = Object.keys(IMAGE_EXPECTED).filter((a) => IMAGE_EXPECTED[a][state]);
    const got = sm.actionsIn(state);
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort()).toEqual(expected.sort());
  });

  it('capture is not an image operation (images are captured from Machines / Volumes)', () => {
    for (const s of IMAGE_STATES) expect(sm.can('capture', s)).toBe(false);
  });
});

describe('image tables', () => {
  it('MachineImage and VolumeImage are separate instances with their own resource type', () => {
    expect(machineImageStateMachine).not.toBe(volumeImageStateMachine);
    expect(machineImageStateMachine.resourceType).toBe('MachineImage');
    expect(volumeImageStateMachine.resourceType).toBe('VolumeImage');
  });
});
