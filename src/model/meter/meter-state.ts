import { canWrite } from '../shared/authorization';
import { InvalidStateError } from '../shared/model-error';
import type { OperationContext } from '../shared/operation-context';
import type { TransitionRule } from '../shared/state-machine';

/**
 * A Meter's states and its start/stop operations (DSP0263 2.0.0 §5.17.3.2), as data (docs/architecture.md §4 rule
 * 7): a STARTED Meter records samples of its resource, a STOPPED one does not ("shall no longer be recording
 * samples"). Both are synchronous: no provider step, no transient state, so not a resource StateMachine.
 */
export const METER_STATES = ['STARTED', 'STOPPED'] as const;
export type MeterState = (typeof METER_STATES)[number];

export const METER_RULES: readonly TransitionRule<MeterState>[] = [
  { action: 'start', from: ['STOPPED'], phases: [], to: 'STARTED' },
  { action: 'stop', from: ['STARTED'], phases: [], to: 'STOPPED' },
];

/** the actions of the table, in its order */
export const METER_ACTIONS = METER_RULES.map((r) => r.action);

/** the actions allowed in `state` (what the doors offer: CIMI operations, WS-Man RequestedState values) */
export function meterActionsIn(state: MeterState): string[] {
  return METER_RULES.filter((r) => r.from.includes(state)).map((r) => r.action);
}

/** the state `action` leads to from `state`, or an invalid-state error naming both */
export function nextMeterState(action: string, state: MeterState, id: string): MeterState {
  const r = METER_RULES.find((x) => x.action === action && x.from.includes(state));
  if (!r) throw new InvalidStateError('Meter', id, action, state, false);
  return r.to as MeterState;
}

/**
 * what this principal may do to a Meter in `state` now: the table's actions for a writer, nothing for a reader;
 * `delete` too for a Meter a client made (MeterService.delete)
 */
export function meterOperations(ctx: OperationContext, state: MeterState, origin?: 'provider' | 'client'): string[] {
  if (!canWrite(ctx)) return [];
  return [...meterActionsIn(state), ...(origin === 'client' ? ['delete'] : [])];
}
