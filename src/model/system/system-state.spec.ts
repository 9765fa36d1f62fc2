import { MACHINE_STATES } from '../machine/machine-state';
import { InvalidStateError, type ModelError } from '../shared/model-error';
import { DERIVED, GONE, PREVIOUS, type TransitionRule } from '../shared/state-machine';
import { SYSTEM_STATES, deriveSystemState, systemStateMachine as sm, type SystemState } from './system-state';

/**
 * System (DSP0263 2.0.0 §5.13): the Machine states minus capture/restore/failed, plus MIXED. System actions apply
 * recursively to the component Machines, and the final state is derived from theirs. The expected table below is
 * the specification, written out independently of the table under test.
 */

interface Outcome {
  via: string[];
  to: string;
}

function allowedFrom(states: SystemState[], outcome: Outcome): Partial<Record<SystemState, Outcome>> {
  return Object.fromEntries(states.map((s) => [s, outcome]));
}

const SETTLED: SystemState[] = ['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED', 'MIXED', 'ERROR'];

const EXPECTED: Record<string, Partial<Record<SystemState, Outcome>>> = {
  restart: allowedFrom(['STARTED', 'STOPPED', 'MIXED', 'ERROR'], { via: ['STARTING(restart)'], to: DERIVED }),
  start: allowedFrom(['STOPPED', 'PAUSED', 'SUSPENDED', 'MIXED', 'ERROR'], {
    via: ['STARTING(start)'],
    to: DERIVED,
  }),
  stop: allowedFrom(['STARTED', 'PAUSED', 'SUSPENDED', 'MIXED', 'ERROR'], {
    via: ['STOPPING(stop)'],
    to: DERIVED,
  }),
  pause: allowedFrom(['STARTED', 'MIXED'], { via: ['PAUSING(pause)'], to: DERIVED }),
  suspend: allowedFrom(['STARTED', 'MIXED'], { via: ['SUSPENDING(suspend)'], to: DERIVED }),
  delete: allowedFrom(SETTLED, { via: ['DELETING(delete)'], to: GONE }),
  edit: allowedFrom(SETTLED, { via: [], to: PREVIOUS }),
};
const ACTIONS = Object.keys(EXPECTED);
const UNKNOWN_ACTIONS = ['capture', 'restore', 'attachVolume', 'use', 'Start', ''];
const TRANSIENT: SystemState[] = ['CREATING', 'STARTING', 'STOPPING', 'PAUSING', 'SUSPENDING', 'DELETING'];

const fmtPhases = (r: TransitionRule<string>) => r.phases.map((p) => `${p.state}(${p.step})`);

function expectInvalidState(action: string, state: string | undefined, id = 's-1') {
  let err: unknown;
  try {
    sm.require(action, state, id);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InvalidStateError);
  const e = err as ModelError;
  expect(e.kind).toBe('invalid-state');
  expect(e.code).toBe('SYSTEM.INVALID_STATE');
  expect(e.message.startsWith(`${action} `)).toBe(true);
  expect(e.message).toContain(`System ${id}`);
  expect(e.message).toContain(`in state ${state ?? '(none)'}`);
  expect(e.details).toMatchObject({ resourceType: 'System', resourceId: id, action, state });
}

describe('System state machine (DSP0263 2.0.0 §5.13)', () => {
  describe('vocabulary', () => {
    it('has the System states in order, including MIXED', () => {
      expect(SYSTEM_STATES).toEqual([
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
      ]);
      expect(sm.states).toEqual(SYSTEM_STATES);
    });

    it('is the Machine vocabulary minus CAPTURING, RESTORING and FAILED, plus MIXED', () => {
      const fromMachine = MACHINE_STATES.filter((s) => !['CAPTURING', 'RESTORING', 'FAILED'].includes(s));
      expect([...SYSTEM_STATES].filter((s) => s !== 'MIXED')).toEqual(fromMachine);
    });

    it('is created through CREATING into STOPPED or STARTED (default STOPPED), failing into ERROR', () => {
      expect(sm.resourceType).toBe('System');
      expect([...sm.initialStates].sort()).toEqual(['STARTED', 'STOPPED']);
      expect(sm.defaultInitialState).toBe('STOPPED');
      expect(sm.creating).toBe('CREATING');
      expect(sm.errorState).toBe('ERROR');
    });

    it('transient contains exactly the transient states (MIXED is not transient)', () => {
      expect([...sm.transient].sort()).toEqual([...TRANSIENT].sort());
    });

    it.each(SYSTEM_STATES.map((s) => [s, TRANSIENT.includes(s)] as const))(
      'isTransient(%s) is %p',
      (state, t) => {
        expect(sm.isTransient(state)).toBe(t);
      },
    );

    it('the table knows exactly the actions of the specification', () => {
      expect([...sm.actions].sort()).toEqual([...ACTIONS].sort());
    });
  });

  describe('every (action × state) pair', () => {
    const pairs = [...ACTIONS, ...UNKNOWN_ACTIONS].flatMap((action) =>
      SYSTEM_STATES.map((state) => {
        const outcome = EXPECTED[action]?.[state];
        return {
          action,
          state,
          outcome,
          verdict: outcome ? `allowed via [${outcome.via.join(', ')}] to ${outcome.to}` : 'refused',
        };
      }),
    );

    it.each(pairs)('$action from $state: $verdict', ({ action, state, outcome }) => {
      expect(sm.can(action, state)).toBe(outcome !== undefined);
      if (outcome) {
        const rule = sm.require(action, state, 's-1');
        expect(rule.action).toBe(action);
        expect(rule.from).toContain(state);
        expect(fmtPhases(rule)).toEqual(outcome.via);
        expect(rule.to).toBe(outcome.to);
        expect(sm.find(action, state)).toBe(rule);
      } else {
        expect(sm.find(action, state)).toBeUndefined();
        expectInvalidState(action, state);
      }
    });

    it.each(ACTIONS)('%s is refused when the state is missing or a Machine-only state', (action) => {
      for (const state of [undefined, 'CAPTURING', 'RESTORING', 'FAILED', 'mixed']) {
        expect(sm.can(action, state)).toBe(false);
        expectInvalidState(action, state);
      }
    });

    it('every power action ends in a state derived from the component Machines', () => {
      for (const a of ['restart', 'start', 'stop', 'pause', 'suspend']) {
        for (const r of sm.rules.filter((x) => x.action === a)) expect(r.to).toBe(DERIVED);
      }
    });
  });

  describe('actionsIn', () => {
    it.each(SYSTEM_STATES)('actionsIn(%s) lists exactly the allowed actions, once each', (state) => {
      const expected = ACTIONS.filter((a) => EXPECTED[a][state]);
      const got = sm.actionsIn(state);
      expect(new Set(got).size).toBe(got.length);
      expect([...got].sort()).toEqual(expected.sort());
    });

    // Deltacloud suite rule (see the Machine spec): restart before start wherever both are offered
    it.each(SYSTEM_STATES)('actionsIn(%s) lists restart before start where both appear', (state) => {
      const got = sm.actionsIn(state);
      if (got.includes('restart') && got.includes('start'))
        expect(got.indexOf('restart')).toBeLessThan(got.indexOf('start'));
    });

    it('the restart-before-start check is not vacuous', () => {
      expect(SYSTEM_STATES.filter((s) => sm.can('restart', s) && sm.can('start', s))).toEqual([
        'STOPPED',
        'MIXED',
        'ERROR',
      ]);
    });

    it.each(TRANSIENT)('no action at all is allowed while %s', (state) => {
      expect(sm.actionsIn(state)).toEqual([]);
    });
  });
});

describe('deriveSystemState (DSP0263 2.0.0 §5.13.1)', () => {
  it.each<[string, string[], SystemState]>([
    ['no Machines', [], 'MIXED'],
    ['one STARTED Machine', ['STARTED'], 'STARTED'],
    ['all STARTED', ['STARTED', 'STARTED', 'STARTED'], 'STARTED'],
    ['all STOPPED', ['STOPPED', 'STOPPED'], 'STOPPED'],
    ['all PAUSED', ['PAUSED', 'PAUSED'], 'PAUSED'],
    ['all SUSPENDED', ['SUSPENDED', 'SUSPENDED'], 'SUSPENDED'],
    ['all ERROR', ['ERROR', 'ERROR'], 'ERROR'],
    ['STARTED and STOPPED', ['STARTED', 'STOPPED'], 'MIXED'],
    ['differing only in the last Machine', ['STOPPED', 'STOPPED', 'STARTED'], 'MIXED'],
    ['differing only in the first Machine', ['PAUSED', 'STARTED', 'STARTED'], 'MIXED'],
    ['STARTED and ERROR', ['STARTED', 'ERROR'], 'MIXED'],
    // FAILED has no System equivalent: a System whose Machines all FAILED is in ERROR
    ['one FAILED Machine', ['FAILED'], 'ERROR'],
    ['all FAILED', ['FAILED', 'FAILED', 'FAILED'], 'ERROR'],
    ['FAILED and ERROR differ', ['FAILED', 'ERROR'], 'MIXED'],
    ['FAILED and STARTED differ', ['STARTED', 'FAILED'], 'MIXED'],
    // Machine states with no System equivalent (other than FAILED) give MIXED rather than an invalid System state
    ['all CAPTURING', ['CAPTURING', 'CAPTURING'], 'MIXED'],
    ['all RESTORING', ['RESTORING'], 'MIXED'],
    ['an unknown state', ['BOGUS'], 'MIXED'],
  ])('%s → %s', (_what, machines, expected) => {
    expect(deriveSystemState(machines)).toBe(expected);
  });

  it.each(MACHINE_STATES.filter((s) => (SYSTEM_STATES as readonly string[]).includes(s)))(
    'all Machines %s → the System is %s too',
    (state) => {
      expect(deriveSystemState([state, state])).toBe(state);
    },
  );

  it.each(MACHINE_STATES)('whatever the Machines, the result is a System state (all %s)', (state) => {
    expect(SYSTEM_STATES).toContain(deriveSystemState([state]));
  });

  it('does not modify its input', () => {
    const input = Object.freeze(['STARTED', 'STOPPED']);
    expect(deriveSystemState(input)).toBe('MIXED');
    expect(input).toEqual(['STARTED', 'STOPPED']);
  });
});
