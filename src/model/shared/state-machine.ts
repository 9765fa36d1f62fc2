import { InvalidStateError } from './model-error';

/** Final-state markers besides a concrete state. */
export const PREVIOUS = '@previous'; // back to the state before the operation (capture)
export const DERIVED = '@derived'; // computed from components (System)
export const GONE = '@gone'; // the resource is removed (delete)
export type FinalTarget<S extends string> = S | typeof PREVIOUS | typeof DERIVED | typeof GONE;

/** One transient phase: the resource shows `state` while the provider performs `step`. */
export interface Phase<S extends string> {
  state: S;
  step: string;
}

/**
 * A row of a transition table: `action` is allowed in any state of `from`; the resource passes through the
 * phases in order, then lands in `to`. No phases = a synchronous guard (e.g. attach needs an AVAILABLE volume).
 */
export interface TransitionRule<S extends string> {
  action: string;
  from: readonly S[];
  phases: readonly Phase<S>[];
  to: FinalTarget<S>;
}

/**
 * State machines are data (docs/architecture.md §4 rule 7): each adapter renders CIMI operations, WS-Man
 * ReturnValues and SOAP faults from the same table, so the three doors cannot disagree about what is allowed.
 */
export class StateMachine<S extends string> {
  readonly transient: ReadonlySet<S>;

  constructor(
    readonly resourceType: string,
    readonly states: readonly S[],
    readonly rules: readonly TransitionRule<S>[],
    /** states a resource may be created into (DSP0263 initialState / InitialStates capability) */
    readonly initialStates: readonly S[],
    readonly defaultInitialState: S,
    /** state while the provider creates the resource */
    readonly creating: S,
    /** state an operation failure leaves the resource in */
    readonly errorState: S,
  ) {
    const t = new Set<S>();
    for (const r of rules) for (const p of r.phases) t.add(p.state);
    t.add(creating);
    this.transient = t;
    for (const r of rules) {
      const final = r.to === PREVIOUS || r.to === DERIVED || r.to === GONE ? [] : [r.to];
      for (const s of [...r.from, ...r.phases.map((p) => p.state), ...final]) {
        if (!states.includes(s)) throw new Error(`${resourceType}: rule ${r.action} names unknown state ${s}`);
      }
    }
  }

  isTransient(state: string | undefined): boolean {
    return state !== undefined && this.transient.has(state as S);
  }

  /** The rule for `action` in `state`, or undefined when the table does not allow it. */
  find(action: string, state: string | undefined): TransitionRule<S> | undefined {
    return this.rules.find((r) => r.action === action && r.from.includes(state as S));
  }

  can(action: string, state: string | undefined): boolean {
    return this.find(action, state) !== undefined;
  }

  /** The rule, or an invalid-state error naming the action and the current state. */
  require(action: string, state: string | undefined, id: string): TransitionRule<S> {
    const rule = this.find(action, state);
    if (!rule) throw new InvalidStateError(this.resourceType, id, action, state, this.isTransient(state));
    return rule;
  }

  /** Every action the table allows in `state`, in table order. */
  actionsIn(state: string | undefined): string[] {
    const seen = new Set<string>();
    for (const r of this.rules) if (r.from.includes(state as S)) seen.add(r.action);
    return [...seen];
  }

  /** Every action the table knows, in table order. */
  get actions(): string[] {
    return [...new Set(this.rules.map((r) => r.action))];
  }
}
