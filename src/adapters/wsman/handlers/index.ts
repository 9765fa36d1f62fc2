import type { HandlerEntry } from '../wsman-dispatcher';
import { ACTIONS } from '../wsman-ns';
import { requestStateChange } from './request-state-change';
import { create, get, put, remove } from './transfer';
import { enumerate, pull, release } from '../enumeration/enumeration.handlers';
import { getStatus, renew, subscribe, unsubscribe } from './eventing';

/**
 * THE dispatch table: request wsa:Action → handler (docs/wsman.md §1.4). Identify has no Action and is answered
 * by the controller before dispatch. Enumeration (Enumerate/Pull/Release) registers here from its own files.
 */
export const ACTION_HANDLERS: ReadonlyMap<string, HandlerEntry> = new Map<string, HandlerEntry>([
  [ACTIONS.get, { handler: get, operation: 'transfer', verb: 'read' }],
  [ACTIONS.put, { handler: put, operation: 'transfer', verb: 'update' }],
  [ACTIONS.create, { handler: create, operation: 'transfer', verb: 'create' }],
  [ACTIONS.delete, { handler: remove, operation: 'transfer', verb: 'delete' }],
  [ACTIONS.enumerate, { handler: enumerate, operation: 'enumerate', verb: 'list' }],
  [ACTIONS.pull, { handler: pull, operation: 'enumerate', verb: 'list' }],
  [ACTIONS.release, { handler: release, operation: 'enumerate', verb: 'list' }],
  [ACTIONS.subscribe, { handler: subscribe, operation: 'other', verb: 'create' }],
  [ACTIONS.eventRenew, { handler: renew, operation: 'other', verb: 'update' }],
  [ACTIONS.eventGetStatus, { handler: getStatus, operation: 'other', verb: 'read' }],
  [ACTIONS.unsubscribe, { handler: unsubscribe, operation: 'other', verb: 'delete' }],
]);

/** Custom methods (Action `<class URI>/<Method>`, DSP0227 8.x), by method name; the class must list the method. */
export const METHOD_HANDLERS: Readonly<Record<string, HandlerEntry>> = {
  RequestStateChange: { handler: requestStateChange, operation: 'method', verb: 'RequestStateChange' },
};
