import { InvalidStateError } from './model-error';
import type { TenantTx } from './ports';
import type { Resource, ResourceType } from './resource';
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

/**
 * The in-use check before a delete, for every door (docs/operations.md "Parity matrix"). `leaving`: ids deleted in
 * the same Job (a System's components, system/system-delete.ts), whose uses do not count.
 */
export async function checkDeletable(tx: TenantTx, r: Resource, leaving: ReadonlySet<string> = new Set()): Promise<void> {
  const used = async (type: ResourceType, attr: string) =>
    (await tx.resources.referencing(type, attr, r.id)).some((l) => !leaving.has(l.id) && !(l.parentId && leaving.has(l.parentId)));
  // a Volume attached to a Machine must be detached first; a Network in use keeps its ports and the Machine
  // network interfaces on it (an interface must never name a Network that is gone)
  if (r.type === 'Volume' && (await used('MachineVolume', 'volume'))) {
    throw new InvalidStateError('Volume', r.id, 'delete', `${r.state} (attached)`);
  }
  if (r.type === 'Network' && (await used('NetworkPort', 'network'))) {
    throw new InvalidStateError('Network', r.id, 'delete', `${r.state} (has ports)`);
  }
  if (r.type === 'Network' && (await used('MachineNetworkInterface', 'network'))) {
    throw new InvalidStateError('Network', r.id, 'delete', `${r.state} (used by a machine network interface)`);
  }
  // a MeterTemplate resolves its meterConfig at every use (meter-definition.ts): without it, it can neither make a
  // Meter nor be updated, so the configuration stays while a template names it
  if (r.type === 'MeterConfiguration') {
    const t = (await tx.resources.referencing('MeterTemplate', 'meterConfig', r.id)).find((l) => !leaving.has(l.id));
    if (t) throw new InvalidStateError('MeterConfiguration', r.id, 'delete', `${r.state ? `${r.state} ` : ''}(used by MeterTemplate ${t.id})`);
  }
}
