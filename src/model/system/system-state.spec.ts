import { MACHINE_STATES } from '../machine/machine-state';
import { DERIVED, GONE, PREVIOUS } from '../shared/state-machine';
import { allowedFrom, describeTransitionTable, type Outcome } from '../../../test/support/state-table';
import { SYSTEM_STATES, deriveSystemState, systemStateMachine as sm, type SystemState } from './system-state';

/**
 * System (DSP0263 2.0.0 §5.13): the Machine states minus capture/restore/failed, plus MIXED. System actions apply
 * recursively to the component Machines, and the final state is derived from theirs. The expected table below is
 * the specification, written out independently of the table under test.
 */

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
const UNKNOWN_ACTIONS = ['capture', 'restore', 'attachVolume', 'use', 'Start', ''];
const TRANSIENT: SystemState[] = ['CREATING', 'STARTING', 'STOPPING', 'PAUSING', 'SUSPENDING', 'DELETING'];

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
  });

  describe('the table against the specification', () => {
    // MIXED is a settled state, not a transient one; the Machine-only states are foreign here
    describeTransitionTable(sm, {
      states: SYSTEM_STATES,
      expected: EXPECTED,
      unknownActions: UNKNOWN_ACTIONS,
      transient: TRANSIENT,
      foreignStates: [undefined, 'CAPTURING', 'RESTORING', 'FAILED', 'mixed'],
      id: 's-1',
    });

    it('every power action ends in a state derived from the component Machines', () => {
      for (const a of ['restart', 'start', 'stop', 'pause', 'suspend']) {
        for (const r of sm.rules.filter((x) => x.action === a)) expect(r.to).toBe(DERIVED);
      }
    });
  });

  describe('actionsIn', () => {
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
