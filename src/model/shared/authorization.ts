import { ForbiddenError } from './model-error';
import type { OperationContext } from './operation-context';
import type { Resource } from './resource';
import { descriptorOf } from './resource-types';
import { actionRole } from './action-roles';


export function canWrite(ctx: OperationContext): boolean {
  return ctx.roles.includes('admin') || ctx.roles.includes('user');
}

/** `reader` may read everything in its tenant and change nothing (issue 2 §5). */
export function requireWrite(ctx: OperationContext, what: string): void {
  if (!canWrite(ctx)) throw new ForbiddenError(`role ${ctx.roles.join(',') || '(none)'} may not ${what}`);
}

export function requireAdmin(ctx: OperationContext, what: string): void {
  if (!ctx.roles.includes('admin')) throw new ForbiddenError(`only an admin may ${what}`);
}

/**
 * What this principal may do to this resource now: `edit`, `delete` and the state machine's actions allowed in
 * the current state. The one place adapters read to render CIMI `operations`, WS-Man capabilities and SOAP docs.
 * `capture` is listed while the state allows it: it is performed by creating a MachineImage (DSP0263 §5.14.7).
 */
export function allowedOperations(ctx: OperationContext, r: Resource): string[] {
  if (!canWrite(ctx)) return [];
  const sm = descriptorOf(r.type).stateMachine;
  if (!sm) return ['edit', 'delete'];
  // guards are checked by other operations, attach/detachVolume are the Machine's volumes collection (action-roles.ts)
  return sm.actionsIn(r.state).filter((a) => !['guard', 'child'].includes(actionRole(a)));
}

/** Collection-level operations (CIMI `add`). */
export function allowedCollectionOperations(ctx: OperationContext): string[] {
  return canWrite(ctx) ? ['add'] : [];
}
