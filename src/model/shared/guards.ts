import { InvalidStateError } from './model-error';
import type { TenantTx } from './ports';
import type { Resource } from './resource';
import { descriptorOf } from './resource-types';
import type { TransitionRule } from './state-machine';

/**
 * The one check before any change of a resource with a state machine: the transition table must allow the
 * action in the current state, and no Job may be running on the resource (one job per resource at a time, so
 * an action during a job is an invalid-state error, not a race).
 */
export async function requireAllowed(tx: TenantTx, r: Resource, action: string): Promise<TransitionRule<string>> {
  const sm = descriptorOf(r.type).stateMachine;
  if (!sm) throw new InvalidStateError(r.type, r.id, action, r.state);
  const rule = sm.require(action, r.state, r.id);
  const active = await tx.jobs.activeFor(r.id);
  if (active) throw new InvalidStateError(r.type, r.id, action, `${r.state} (job ${active.id} running)`, true);
  return rule;
}
