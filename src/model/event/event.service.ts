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

  async list(ctx: OperationContext, resourceId: string, query: CollectionQuery): Promise<{ resource: Resource; page: Page<ResourceEvent> }> {
    const resource = await this.logOf(ctx, resourceId);
    const page = await this.uow.read(ctx.tenantId, (tx) => tx.events.list(resourceId, query));
    return { resource, page };
  }

  async get(ctx: OperationContext, resourceId: string, eventId: string): Promise<{ resource: Resource; event: ResourceEvent }> {
    const resource = await this.logOf(ctx, resourceId);
    const event = isValidId(eventId) ? await this.uow.read(ctx.tenantId, (tx) => tx.events.get(resourceId, eventId)) : undefined;
    if (!event) throw new NotFoundError('Event', eventId);
    return { resource, event };
  }
}
