import { Controller, Get, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InvalidInputError, NotFoundError } from '../../model/shared/model-error';
import { CimiErrorFilter } from './cimi-error.filter';
import { AuditService } from '../../model/audit/audit.service';
import { AUDIT_LOG_ID } from '../../model/audit/cadf';
import { auditEventDoc, auditFilter, auditLogDoc, eventLogHref, eventLogsHref, resourceEventDoc, resourceLogDoc } from './cimi-events';
import { EventService } from '../../model/event/event.service';
import { CimiFront, param } from './cimi-front';

/** EventLogs and their Events (DSP0263 2.0.0 §5.17.10): the resources' state events and the CADF audit trail (admins only). */
@Controller('cimi')
@UseFilters(CimiErrorFilter)
export class CimiEventLogsController {
  constructor(
    private readonly front: CimiFront,
    private readonly audit: AuditService,
    private readonly events: EventService,
  ) {}

  @Get('eventLogs')
  async eventLogs(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const { query } = this.front.query(req);
    if (query.filter || query.orderBy) throw new InvalidInputError('the eventLogs collection has one order (the audit log, then the resources\' logs by id) and no filter; filter the events of a log instead', '$filter', 'QUERY.INVALID_FILTER');
    // DSP0263 2.0.0 §5.17.10: the collection of every EventLog the caller may read: the audit trail (admins), then the
    // EventLog of each evented resource of the tenant, paged together
    const audit = c.ctx.roles.includes('admin') ? 1 : 0;
    const from = Math.max(1, query.first! - audit);
    const to = query.last! - audit;
    const page = await this.events.logs(c.ctx, to >= from ? { first: from, last: to } : { first: 1, last: 1 });
    const logs = [
      ...(audit && query.first! <= 1 ? [auditLogDoc(c.uris)] : []),
      ...(to >= from ? page.items.map((r) => resourceLogDoc(c.uris, r, c.uris.resource(r.type, r.id))) : []),
    ];
    const doc = c.map.collection('EventLog', 'eventLogs', eventLogsHref(c.uris), logs, page.count + audit, false);
    this.front.send(res, c, 200, 'Collection', this.front.select(doc, req, 'eventLogs'));
  }

  @Get('eventLogs/:id')
  async eventLog(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const id = param(req, 'id');
    if (id === AUDIT_LOG_ID) {
      await this.audit.list(c.ctx, { first: 1, last: 1 });
      return this.front.send(res, c, 200, 'EventLog', this.front.select(auditLogDoc(c.uris), req));
    }
    const r = await this.events.logOf(c.ctx, id);
    this.front.send(res, c, 200, 'EventLog', this.front.select(resourceLogDoc(c.uris, r, c.uris.resource(r.type, r.id)), req));
  }

  @Get('eventLogs/:id/events')
  async logEvents(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const id = param(req, 'id');
    const { query } = this.front.query(req);
    const href = `${eventLogHref(c.uris, id)}/events`;
    if (id === AUDIT_LOG_ID) {
      if (query.filter) query.filter = auditFilter(query.filter);
      if (query.orderBy) query.orderBy = query.orderBy.map((o) => ({ ...o, attr: o.attr === 'timestamp' ? 'eventTime' : o.attr }));
      const page = await this.audit.list(c.ctx, query);
      const doc = c.map.collection('Event', 'events', href, page.items.map((e) => auditEventDoc(c.uris, e)), page.count, false);
      return this.front.send(res, c, 200, 'Collection', this.front.select(doc, req, 'events'));
    }
    const { resource, page } = await this.events.list(c.ctx, id, query);
    const target = c.uris.resource(resource.type, resource.id);
    const doc = c.map.collection('Event', 'events', href, page.items.map((e) => resourceEventDoc(c.uris, e, target)), page.count, false);
    this.front.send(res, c, 200, 'Collection', this.front.select(doc, req, 'events'));
  }

  @Get('eventLogs/:id/events/:eid')
  async logEvent(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const id = param(req, 'id');
    if (id === AUDIT_LOG_ID) {
      const e = await this.audit.get(c.ctx, param(req, 'eid'));
      if (!e) throw new NotFoundError('Event', param(req, 'eid'));
      return this.front.send(res, c, 200, 'Event', this.front.select(auditEventDoc(c.uris, e), req));
    }
    const { resource, event } = await this.events.get(c.ctx, id, param(req, 'eid'));
    this.front.send(res, c, 200, 'Event', this.front.select(resourceEventDoc(c.uris, event, c.uris.resource(resource.type, resource.id)), req));
  }

}
