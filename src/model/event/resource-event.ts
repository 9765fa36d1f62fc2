import { newId } from '../shared/ids';
import type { Resource, ResourceType } from '../shared/resource';
import type { ResourceStore, TenantTx } from '../shared/ports';
import type { FilterKind } from '../shared/query';

/**
 * CIMI `state` Events (DSP0263 2.0.0 §5.17.13, Table 55): every state change of a run-time resource that has an
 * EventLog is reported with the resource's name, reference, type URI, new and previous state.
 */
export const STATE_EVENT_TYPE = 'http://schemas.dmtf.org/cimi/2/event/state';
/** the types whose resources carry an `eventLog` (issue 6 §4) */
export const EVENTED_TYPES: readonly ResourceType[] = ['Machine', 'Volume', 'Network', 'System'];
const EVENTED = new Set<string>(EVENTED_TYPES);

/** The attributes an Event query may filter and order on (EventStore.list; REST `$filter`, WS-Man WQL). */
export const EVENT_FILTER_ATTRS = {
  id: 'string',
  timestamp: 'dateTime',
  type: 'string',
  outcome: 'string',
  severity: 'string',
  state: 'string',
  previous: 'string',
  resourceId: 'string',
  resourceType: 'string',
} as const satisfies Record<string, FilterKind>;

export type EventOutcome = 'Pending' | 'Unknown' | 'Status' | 'Success' | 'Warning' | 'Failure';
export type EventSeverity = 'critical' | 'high' | 'medium' | 'low';

export interface ResourceEvent {
  id: string;
  tenantId: string;
  /** the EventLog: one per resource, named by the resource's id */
  resourceId: string;
  resourceType: ResourceType;
  timestamp: Date;
  type: string;
  outcome: EventOutcome;
  severity: EventSeverity;
  content: { resName?: string; resource: { type: ResourceType; id: string }; resType: string; state: string; previous?: string };
}

/** an EventLog's name: its resource's type and name (or id) */
export function eventLogName(r: { type: string; id: string; name?: string }): string {
  return `${r.type} ${r.name ?? r.id}`;
}

export function isEvented(type: string): boolean {
  return EVENTED.has(type);
}

function stateEvent(r: Resource, previous: string | undefined, now: Date): ResourceEvent {
  const failed = r.state === 'ERROR' || r.state === 'FAILED';
  return {
    id: newId(),
    tenantId: r.tenantId,
    resourceId: r.id,
    resourceType: r.type,
    timestamp: now,
    type: STATE_EVENT_TYPE,
    // "Status: the Event reports on the state or status of a Resource" (Table 54); a failure state says more
    outcome: failed ? 'Failure' : 'Status',
    severity: failed ? 'high' : 'low',
    content: { ...(r.name ? { resName: r.name } : {}), resource: { type: r.type, id: r.id }, resType: `http://schemas.dmtf.org/cimi/2/${r.type}`, state: r.state!, ...(previous ? { previous } : {}) },
  };
}

/**
 * The transaction's stores, with a resource store that stamps `stateChanged` whenever a resource is inserted with
 * a state or updated to another state, and appends a state Event for an evented one, in the same transaction. The
 * state a resource had is known from the reads that precede every update, so this costs no extra query in the
 * usual case. Every writer of resources (Mutations, the job engine, reconciliation) goes through it.
 */
export function withStateEvents(tx: TenantTx, now: () => Date): TenantTx {
  const inner = tx.resources;
  const seen = new Map<string, string | undefined>();
  const note = (r: Resource | undefined) => {
    if (r) seen.set(r.id, r.state);
    return r;
  };
  const resources: ResourceStore = {
    tenantId: inner.tenantId,
    get: async (type, id) => note(await inner.get(type, id)),
    children: async (parentId, type) => (await inner.children(parentId, type)).map((r) => note(r)!),
    list: async (type, query, parentId) => {
      const page = await inner.list(type, query, parentId);
      page.items.forEach(note);
      return page;
    },
    referencing: async (type, attr, targetId) => (await inner.referencing(type, attr, targetId)).map((r) => note(r)!),
    insert: async (r) => {
      // created into its first state: that is its last state change
      if (r.state !== undefined) r.stateChanged ??= now();
      await inner.insert(r);
      if (isEvented(r.type) && r.state) await tx.events.append(stateEvent(r, undefined, r.stateChanged ?? now()));
      note(r);
    },
    update: async (r) => {
      const tracked = isEvented(r.type) || r.state !== undefined;
      const before = !tracked ? undefined : seen.has(r.id) ? seen.get(r.id) : (await inner.get(r.type, r.id))?.state;
      const changed = tracked && r.state !== before;
      if (changed) r.stateChanged = now();
      await inner.update(r);
      if (changed && isEvented(r.type) && r.state) await tx.events.append(stateEvent(r, before, r.stateChanged!));
      note(r);
    },
    remove: (type, id) => {
      seen.delete(id);
      return inner.remove(type, id);
    },
  };
  return { ...tx, resources };
}
