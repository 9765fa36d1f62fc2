import { InvalidStateError, type ModelError } from '../../src/model/shared/model-error';
import type { StateMachine, TransitionRule } from '../../src/model/shared/state-machine';

/**
 * The scaffolding every transition-table spec shares: the `…-state.spec.ts` files under src/model and
 * src/model/shared/state-machine.spec.ts.
 * Each spec still writes its expected table out by hand, independently of the table under test
 * (docs/architecture.md §4 rule 7: the doors render what is allowed from these tables, so the tables are the spec);
 * this file only checks a table against it. Lives under test/ so that the build (tsconfig.json) never ships it.
 */

/** An allowed transition: the transient phases as `STATE(provider step)` in order, then the final target. */
export interface Outcome {
  via: string[];
  to: string;
}

/** action → the states it is allowed from (every other state refuses it) → what it does */
export type Expected = Record<string, Partial<Record<string, Outcome>>>;

export function allowedFrom<S extends string>(states: readonly S[], outcome: Outcome): Partial<Record<S, Outcome>> {
  return Object.fromEntries(states.map((s) => [s, outcome])) as Partial<Record<S, Outcome>>;
}

export const fmtPhases = (r: TransitionRule<string>): string[] => r.phases.map((p) => `${p.state}(${p.step})`);

/** what `fn` threw; fails the test when it throws nothing */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

/** `require` refuses with the model's invalid-state error, naming the type, the id, the action and the state. */
export function expectInvalidState(sm: StateMachine<string>, action: string, state: string | undefined, id: string): void {
  const err = thrown(() => sm.require(action, state, id));
  expect(err).toBeInstanceOf(InvalidStateError);
  const e = err as ModelError;
  expect(e.kind).toBe('invalid-state');
  expect(e.code).toBe(`${sm.resourceType.toUpperCase()}.INVALID_STATE`);
  expect(e.message.startsWith(`${action} `)).toBe(true);
  expect(e.message).toContain(`${sm.resourceType} ${id}`);
  expect(e.message).toContain(`in state ${state ?? '(none)'}`);
  expect(e.details).toMatchObject({ resourceType: sm.resourceType, resourceId: id, action, state });
}

/** every (action × state) pair, the expected actions first, then actions no rule knows */
export function transitionPairs(states: readonly string[], expected: Expected, unknownActions: readonly string[]) {
  return [...Object.keys(expected), ...unknownActions].flatMap((action) =>
    states.map((state) => {
      const outcome = expected[action]?.[state];
      return { action, state, outcome, verdict: outcome ? `allowed via [${outcome.via.join(', ')}] to ${outcome.to}` : 'refused' };
    }),
  );
}

/** One pair: allowed with exactly the expected phases and target, or refused by can, find and require alike. */
export function expectTransition(sm: StateMachine<string>, action: string, state: string, outcome: Outcome | undefined, id: string): void {
  expect(sm.can(action, state)).toBe(outcome !== undefined);
  if (outcome) {
    const rule = sm.require(action, state, id);
    expect(rule.action).toBe(action);
    expect(rule.from).toContain(state);
    expect(fmtPhases(rule)).toEqual(outcome.via);
    expect(rule.to).toBe(outcome.to);
    expect(sm.find(action, state)).toBe(rule);
  } else {
    expect(sm.find(action, state)).toBeUndefined();
    expectInvalidState(sm, action, state, id);
  }
}

export interface TableSpec {
  /** every state of the type, in specification order */
  states: readonly string[];
  expected: Expected;
  /** actions no row knows: refused in every state */
  unknownActions: readonly string[];
  /** exactly the transient states */
  transient: readonly string[];
  /** states of other tables, other spellings, undefined: refused for every action */
  foreignStates: readonly (string | undefined)[];
  /** the resource id used in require() and expected in its error */
  id: string;
}

/**
 * The checks every table gets against its written-out specification: the transient set, the action set, every
 * (action × state) pair, foreign states, actionsIn per state, and no action while a provider step runs (one job
 * per resource at a time). Call it inside the table's describe.
 */
export function describeTransitionTable(sm: StateMachine<string>, spec: TableSpec): void {
  const actions = Object.keys(spec.expected);
  const pairs = transitionPairs(spec.states, spec.expected, spec.unknownActions);

  it('transient contains exactly the transient states', () => {
    expect([...sm.transient].sort()).toEqual([...spec.transient].sort());
  });

  it.each(spec.states.map((s) => [s, spec.transient.includes(s)] as const))('isTransient(%s) is %p', (state, transient) => {
    expect(sm.isTransient(state)).toBe(transient);
  });

  it('the table knows exactly the actions of the specification', () => {
    expect([...sm.actions].sort()).toEqual([...actions].sort());
  });

  it('covers every state × every action, known and unknown', () => {
    expect(pairs).toHaveLength(spec.states.length * (actions.length + spec.unknownActions.length));
    expect(pairs.filter((p) => p.outcome).length).toBeGreaterThan(0);
  });

  it.each(pairs)('$action from $state: $verdict', ({ action, state, outcome }) => {
    expectTransition(sm, action, state, outcome, spec.id);
  });

  it.each(actions)(`%s is refused when the state is missing or foreign (${spec.foreignStates.map(String).join(', ')})`, (action) => {
    for (const state of spec.foreignStates) {
      expect(sm.can(action, state)).toBe(false);
      expectInvalidState(sm, action, state, spec.id);
    }
  });

  it.each(spec.states)('actionsIn(%s) lists exactly the allowed actions, once each', (state) => {
    const allowed = actions.filter((a) => spec.expected[a][state] !== undefined);
    const got = sm.actionsIn(state);
    expect(new Set(got).size).toBe(got.length);
    expect([...got].sort()).toEqual(allowed.sort());
  });

  it.each(spec.transient)('no action at all is allowed while %s', (state) => {
    expect(sm.actionsIn(state)).toEqual([]);
  });
}
