import { Inject, Injectable } from '@nestjs/common';
import { isValidId } from '../shared/ids';
import { NotFoundError } from '../shared/model-error';
import type { OperationContext } from '../shared/operation-context';
import { UNIT_OF_WORK, type UnitOfWork } from '../shared/ports';
import type { CollectionQuery, Page } from '../shared/query';
import type { Resource } from '../shared/resource';
import { EVENTED_TYPES, type ResourceEvent } from './resource-event';

/** Reading the EventLogs of a tenant's resources (DSP0263 2.0.0 §5.17.12-13); a log is named by its resource's id. */
@Injectable()
export class EventService {
  constructor(@Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork) {}

  /** the resource an EventLog reports on; not-found for other tenants' and non-evented resources alike */
  async logOf(ctx: OperationContext, resourceId: string): Promise<Resource> {
    if (!isValidId(resourceId)) throw new NotFoundError('EventLog', resourceId);
    const r = await this.uow.read(ctx.tenantId, async (tx) => {
      for (const type of EVENTED_TYPES) {
        const found = await tx.resources.get(type, resourceId);
        if (found) return found;
      }
      return undefined;
    });
    if (!r) throw new NotFoundError('EventLog', resourceId);
    return r;
  }

  /** one EventLog's Events, or (`resourceId` null) every Event of the tenant's EventLogs, as WS-Man enumerates them */
  async list(ctx: OperationContext, resourceId: string, query: CollectionQuery): Promise<{ resource: Resource; page: Page<ResourceEvent> }>;
  async list(ctx: OperationContext, resourceId: null, query: CollectionQuery): Promise<{ resource?: undefined; page: Page<ResourceEvent> }>;
  async list(ctx: OperationContext, resourceId: string | null, query: CollectionQuery): Promise<{ resource?: Resource; page: Page<ResourceEvent> }> {
    const resource = resourceId === null ? undefined : await this.logOf(ctx, resourceId);
    const page = await this.uow.read(ctx.tenantId, (tx) => tx.events.list(resourceId, query));
    return { resource, page };
  }

  /**
   * Every EventLog of the tenant (its evented resources), in id order: the four types' keyset pages merged, so a
   * protocol that pages by id (WS-Man Pull) walks them as one collection. Counts are the sum of the types'.
   */
  async logs(ctx: OperationContext, query: CollectionQuery): Promise<Page<Resource>> {
    const pages = await this.uow.read(ctx.tenantId, (tx) =>
      Promise.all(EVENTED_TYPES.map((type) => tx.resources.list(type, { filter: query.filter, after: query.after ?? '', first: 1, last: query.last }))),
    );
    const merged = pages.flatMap((p) => p.items).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const from = (query.first ?? 1) - 1;
    return { items: merged.slice(from, query.last ?? merged.length), count: pages.reduce((n, p) => n + p.count, 0) };
  }

  /** an Event of one EventLog, or (`resourceId` null) of any of the tenant's: a WS-Man selector names no log */
  async get(ctx: OperationContext, resourceId: string, eventId: string): Promise<{ resource: Resource; event: ResourceEvent }>;
  async get(ctx: OperationContext, resourceId: null, eventId: string): Promise<{ resource?: undefined; event: ResourceEvent }>;
  async get(ctx: OperationContext, resourceId: string | null, eventId: string): Promise<{ resource?: Resource; event: ResourceEvent }> {
    const resource = resourceId === null ? undefined : await this.logOf(ctx, resourceId);
    const event = isValidId(eventId) ? await this.uow.read(ctx.tenantId, (tx) => tx.events.get(resourceId, eventId)) : undefined;
    if (!event) throw new NotFoundError('Event', eventId);
    return { resource, event };
  }
}
