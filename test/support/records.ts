import { randomUUID } from 'node:crypto';
import type { Job } from '../../src/model/job/job';
import type { Resource, ResourceType } from '../../src/model/shared/resource';

/** Stored-record fixtures for the persistence tier: a fixed clock and whole Resource and Job rows. */
export const T0 = Date.UTC(2024, 0, 1);
export const at = (minutes: number) => new Date(T0 + minutes * 60_000);

export function resource(tenantId: string, type: ResourceType, over: Partial<Resource> = {}): Resource {
  return { id: randomUUID(), tenantId, type, created: at(0), updated: at(0), properties: {}, version: 1, attrs: {}, ...over };
}

/** a QUEUED `start` Job of one Machine, one step */
export function job(tenantId: string, over: Partial<Job> = {}): Job {
  const target = over.targetResource ?? { type: 'Machine' as const, id: randomUUID() };
  return {
    id: randomUUID(),
    tenantId,
    created: at(0),
    updated: at(0),
    properties: {},
    version: 1,
    state: 'QUEUED',
    action: 'start',
    targetResource: target,
    affectedResources: [target as { type: ResourceType; id: string }],
    progress: 0,
    timeOfStatusChange: at(0),
    correlationId: 'corr-1',
    initiator: { userId: 'u1', userName: 'alice' },
    payload: {
      steps: [{ ref: { type: 'Machine', id: target.id }, state: 'STARTING', step: 'start' }],
      cursor: 0,
      finals: [],
    },
    pendingChildren: 0,
    attempts: 0,
    ...over,
  };
}
