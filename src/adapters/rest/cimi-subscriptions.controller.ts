import { Controller, Delete, Get, Post, Put, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InvalidInputError } from '../../model/shared/model-error';
import { SubscriptionService } from '../../model/subscription/subscription.service';
import { CimiErrorFilter } from './cimi-error.filter';
import { CimiFront, param, type Call } from './cimi-front';
import { idempotencyKey } from './cimi-http';
import { normaliseRoot } from './xml/cimi-xml';
import { renewInput, subscribeInput, subscriptionDoc, subscriptionsHref } from './cimi-subscriptions';

/**
 * The `subscriptions` collection (a gateway extension, docs/cimi.md "Subscriptions"; issue 14 §2): webhook
 * registrations for the tenant's state Events. POST creates (201, Location), GET lists and reads, PUT renews
 * (only `expires` changes), DELETE ends. Another tenant's subscription is 404.
 */
@Controller('cimi')
@UseFilters(CimiErrorFilter)
export class CimiSubscriptionsController {
  constructor(
    private readonly front: CimiFront,
    private readonly subscriptions: SubscriptionService,
  ) {}

  private body(req: Request): Record<string, unknown> {
    const { root, doc } = this.front.body(req);
    if (root && normaliseRoot(root) !== 'Subscription') throw new InvalidInputError(`expected <Subscription>, not <${root}>`, 'body', 'REST.WRONG_ROOT');
    return doc;
  }

  private sendOne(res: Response, c: Call, req: Request, status: number, doc: Record<string, unknown>, headers: Record<string, string> = {}): void {
    this.front.send(res, c, status, 'Subscription', this.front.select(doc, req), headers);
  }

  @Get('subscriptions')
  async list(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const { query } = this.front.query(req);
    if (query.filter || query.orderBy) throw new InvalidInputError('the subscriptions collection is in creation order and has no filter', '$filter', 'QUERY.INVALID_FILTER');
    const all = await this.subscriptions.list(c.ctx);
    const page = all.slice((query.first ?? 1) - 1, query.last);
    const doc = c.map.collection('Subscription', 'subscriptions', subscriptionsHref(c.uris), page.map((s) => subscriptionDoc(c.uris, s)), all.length);
    this.front.send(res, c, 200, 'Collection', this.front.select(doc, req, 'subscriptions'));
  }

  @Post('subscriptions')
  async create(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const s = await this.subscriptions.create(c.ctx, { ...subscribeInput(c.uris, this.body(req)), idempotencyKey: idempotencyKey(req) });
    const doc = subscriptionDoc(c.uris, s);
    this.sendOne(res, c, req, 201, doc, { Location: String(doc.id) });
  }

  @Get('subscriptions/:id')
  async get(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    this.sendOne(res, c, req, 200, subscriptionDoc(c.uris, await this.subscriptions.status(c.ctx, param(req, 'id'))));
  }

  @Put('subscriptions/:id')
  async renew(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const id = param(req, 'id');
    const current = subscriptionDoc(c.uris, await this.subscriptions.status(c.ctx, id));
    const s = await this.subscriptions.renew(c.ctx, id, renewInput(this.body(req), current));
    this.sendOne(res, c, req, 200, subscriptionDoc(c.uris, s));
  }

  @Delete('subscriptions/:id')
  async delete(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    await this.subscriptions.delete(c.ctx, param(req, 'id'));
    this.front.send(res, c, 200, undefined, undefined);
  }
}
