import { GONE, PREVIOUS } from '../shared/state-machine';
import { allowedFrom, describeTransitionTable, type Outcome } from '../../../test/support/state-table';
import {
  MACHINE_INITIAL_PHASES,
  MACHINE_STATES,
  machineStateMachine as sm,
  type MachineState,
} from './machine-state';

/**
 * The Machine life cycle as a specification, written out independently of the table under test.
 *
 * Source: DSP0263 2.0.0 §5.14.1.2 (Machine states; transient states pass through the provider step and end in a
 * final state), §5.14.2.1 (default initial state STOPPED). Where 2.0 is silent the gateway follows the Sirocco FSM,
 * narrowed by one gateway policy: one job per resource at a time, so a transient state accepts no action at all.
 */

const START: Outcome = { via: ['STARTING(start)'], to: 'STARTED' };
const STOP: Outcome = { via: ['STOPPING(stop)'], to: 'STOPPED' };
const CAPTURE: Outcome = { via: ['CAPTURING(capture)'], to: PREVIOUS };
const RESTORE: Outcome = { via: ['RESTORING(restore)'], to: 'STOPPED' };
const DELETE: Outcome = { via: ['DELETING(delete)'], to: GONE };
const GUARD: Outcome = { via: [], to: PREVIOUS };

/** action → the states it is allowed from (every other state refuses it) → what it does. */
const EXPECTED: Record<string, Partial<Record<MachineState, Outcome>>> = {
  // §5.14.1.2: restart stops then starts a STARTED Machine; on a STOPPED Machine restart acts as start
  restart: {
    STARTED: { via: ['STOPPING(stop)', 'STARTING(start)'], to: 'STARTED' },
    STOPPED: { via: ['STARTING(start)'], to: 'STARTED' },
  },
  // §5.14.1.2: start also resumes a PAUSED or SUSPENDED Machine (there is no separate resume operation)
  start: allowedFrom(['STOPPED', 'PAUSED', 'SUSPENDED', 'ERROR'], START),
  stop: allowedFrom(['STARTED', 'PAUSED', 'SUSPENDED', 'ERROR'], STOP),
  pause: allowedFrom(['STARTED'], { via: ['PAUSING(pause)'], to: 'PAUSED' }),
  suspend: allowedFrom(['STARTED'], { via: ['SUSPENDING(suspend)'], to: 'SUSPENDED' }),
  // §5.14.1.2: CAPTURING, then the Machine returns to the state it was in
  capture: allowedFrom(['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED'], CAPTURE),
  // 2.0 restore: the disks are rebuilt from an image and the Machine comes back powered off
  restore: allowedFrom(['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED', 'ERROR'], RESTORE),
  // FAILED (unrecoverable) can only be deleted (or renamed)
  delete: allowedFrom(['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED', 'ERROR', 'FAILED'], DELETE),
  // synchronous guards: no transient phase, the state does not change
  attachVolume: allowedFrom(['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED', 'ERROR'], GUARD),
  detachVolume: allowedFrom(['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED', 'ERROR'], GUARD),
  edit: allowedFrom(['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED', 'ERROR', 'FAILED'], GUARD),
};

/** Actions no Machine table row knows: refused in every state. */
const UNKNOWN_ACTIONS = ['resume', 'snapshot', 'import', 'export', 'Start', 'STOP', ''];

const TRANSIENT: MachineState[] = [
  'CREATING',
  'STARTING',
  'STOPPING',
  'PAUSING',
  'SUSPENDING',
  'CAPTURING',
  'RESTORING',
  'DELETING',
];

describe('Machine state machine (DSP0263 2.0.0 §5.14)', () => {
  describe('vocabulary', () => {
    it('has all 14 DSP0263 Machine states, in DSP0263 order', () => {
      expect(MACHINE_STATES).toEqual([
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
      ]);
      expect(sm.states).toEqual(MACHINE_STATES);
    });

    it('is the Machine table, creating into CREATING and failing into ERROR', () => {
      expect(sm.resourceType).toBe('Machine');
      expect(sm.creating).toBe('CREATING');
      expect(sm.errorState).toBe('ERROR');
    });

    it('may be created into STARTED, STOPPED, PAUSED or SUSPENDED (InitialStates capability)', () => {
      expect([...sm.initialStates].sort()).toEqual(['PAUSED', 'STARTED', 'STOPPED', 'SUSPENDED']);
    });

    it('defaults to STOPPED (DSP0263 2.0.0 §5.14.2.1)', () => {
      expect(sm.defaultInitialState).toBe('STOPPED');
      expect(sm.initialStates).toContain(sm.defaultInitialState);
    });
  });

  describe('the table against the specification', () => {
    describeTransitionTable(sm, {
      states: MACHINE_STATES,
      expected: EXPECTED,
      unknownActions: UNKNOWN_ACTIONS,
      transient: TRANSIENT,
      foreignStates: [undefined, 'RUNNING', 'started', 'MIXED', 'AVAILABLE'],
      id: 'm-1',
    });
  });

  describe('named transitions', () => {
    it('restart from STARTED goes STOPPING(stop) then STARTING(start) to STARTED', () => {
      const r = sm.require('restart', 'STARTED', 'm-1');
      expect(r.phases).toEqual([
        { state: 'STOPPING', step: 'stop' },
        { state: 'STARTING', step: 'start' },
      ]);
      expect(r.to).toBe('STARTED');
    });

    it('restart from STOPPED only goes STARTING(start) to STARTED (§5.14.1.2: acts as start)', () => {
      const r = sm.require('restart', 'STOPPED', 'm-1');
      expect(r.phases).toEqual([{ state: 'STARTING', step: 'start' }]);
      expect(r.to).toBe('STARTED');
    });

    it('capture goes CAPTURING then back to the previous state', () => {
      for (const s of ['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED'] as const) {
        const r = sm.require('capture', s, 'm-1');
        expect(r.phases).toEqual([{ state: 'CAPTURING', step: 'capture' }]);
        expect(r.to).toBe(PREVIOUS);
      }
    });

    it('delete goes DELETING and ends with the Machine gone', () => {
      for (const s of ['STARTED', 'STOPPED', 'PAUSED', 'SUSPENDED', 'ERROR', 'FAILED'] as const) {
        const r = sm.require('delete', s, 'm-1');
        expect(r.phases).toEqual([{ state: 'DELETING', step: 'delete' }]);
        expect(r.to).toBe(GONE);
      }
    });

    it('re-issuing stop while STOPPING is refused (one job per resource)', () => {
      expect(sm.can('stop', 'STOPPING')).toBe(false);
    });
  });

  describe('table invariants', () => {
    it('every phase state is a transient state of the table', () => {
      for (const r of sm.rules) for (const p of r.phases) expect(TRANSIENT).toContain(p.state);
    });

    it('every concrete final target is a known, non-transient state', () => {
      for (const r of sm.rules) {
        if (r.to === PREVIOUS || r.to === GONE) continue;
        expect(MACHINE_STATES).toContain(r.to);
        expect(r.phases.length).toBeGreaterThan(0); // a concrete target is reached through a provider step
        expect(sm.isTransient(r.to)).toBe(false);
      }
    });

    it('FAILED allows only delete and edit', () => {
      expect([...sm.actionsIn('FAILED')].sort()).toEqual(['delete', 'edit']);
    });
  });

  describe('actionsIn', () => {
    // The Deltacloud CIMI suite picks the LAST operation whose rel contains "start", so `restart` must come
    // before `start` wherever both are offered, or the suite would restart when it means to start.
    it.each(MACHINE_STATES)('actionsIn(%s) lists restart before start where both appear', (state) => {
      const got = sm.actionsIn(state);
      const restart = got.indexOf('restart');
      const start = got.indexOf('start');
      if (restart >= 0 && start >= 0) expect(restart).toBeLessThan(start);
      const lastWithStart = [...got].reverse().find((a) => a.includes('start'));
      if (start >= 0) expect(lastWithStart).toBe('start');
    });

    it('the restart-before-start check is not vacuous: STOPPED offers both', () => {
      expect(MACHINE_STATES.filter((s) => sm.can('restart', s) && sm.can('start', s))).toEqual(['STOPPED']);
    });

    it('nothing is listed for a missing or unknown state', () => {
      expect(sm.actionsIn(undefined)).toEqual([]);
      expect(sm.actionsIn('RUNNING')).toEqual([]);
    });
  });

  describe('MACHINE_INITIAL_PHASES (create into a non-default initial state)', () => {
    it('has an entry for every initial state and nothing else', () => {
      expect(Object.keys(MACHINE_INITIAL_PHASES).sort()).toEqual([...sm.initialStates].sort());
    });

    it.each<[string, string[]]>([
      ['STOPPED', []],
      ['STARTED', ['STARTING(start)']],
      ['PAUSED', ['STARTING(start)', 'PAUSING(pause)']],
      ['SUSPENDED', ['STARTING(start)', 'SUSPENDING(suspend)']],
    ])('reaching %s after provisioning runs %p', (state, via) => {
      expect(MACHINE_INITIAL_PHASES[state].map((p) => `${p.state}(${p.step})`)).toEqual(via);
      for (const p of MACHINE_INITIAL_PHASES[state]) expect(sm.isTransient(p.state)).toBe(true);
    });
  });
});
