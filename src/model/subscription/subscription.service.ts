import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../shared/clock';
import { checkId, newId } from '../shared/ids';
import { InvalidInputError, NotFoundError } from '../shared/model-error';
import type { OperationContext } from '../shared/operation-context';
import type { FilterExpr } from '../shared/query';
import { SUBSCRIPTION_STORE, type DeliveryMode, type Subscription, type SubscriptionDoor, type SubscriptionStore } from './subscription';

export interface SubscriptionOptions {
  /** SUBSCRIPTION_MAX_EXPIRES_S: the longest lifetime a subscriber may ask for, and the one it gets when it asks none */
  maxExpiresSeconds: number;
}
export const SUBSCRIPTION_OPTIONS = Symbol('SUBSCRIPTION_OPTIONS');

export interface SubscribeInput {
  door: SubscriptionDoor;
  mode: DeliveryMode;
  notifyTo: string;
  endTo?: string;
  delivery?: Record<string, unknown>;
  filter?: FilterExpr;
  /** absent: the longest allowed */
  expires?: Date;
}

/** notifications go to absolute http(s) URLs only (no file:, no relative or credential-bearing addresses) */
function checkUrl(v: string, field: string): string {
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new InvalidInputError(`${field} is not an absolute URL`, field, 'SUBSCRIPTION.INVALID_ADDRESS');
  }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.username || u.password || v.length > 2048)
    throw new InvalidInputError(`${field} must be an http or https URL without credentials`, field, 'SUBSCRIPTION.INVALID_ADDRESS');
  return v;
}

/**
 * Subscriptions to a tenant's state Events (issue 14 §2; docs/operations.md "Subscriptions"): create, renew, read
 * and delete. SubscriptionDelivery sends what they subscribed to. Another tenant's subscription is not found.
 */
@Injectable()
export class SubscriptionService {
  constructor(
    @Inject(SUBSCRIPTION_STORE) private readonly store: SubscriptionStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(SUBSCRIPTION_OPTIONS) private readonly opts: SubscriptionOptions,
  ) {}

  private expiry(expires: Date | undefined, now: Date): Date {
    const max = new Date(now.getTime() + this.opts.maxExpiresSeconds * 1000);
    if (expires === undefined) return max;
    // DSP0226 10.2.3 / WS-Eventing 3.1: an expiry in the past, or beyond what the service grants, is refused
    if (Number.isNaN(expires.getTime()) || expires.getTime() <= now.getTime() || expires.getTime() > max.getTime())
      throw new InvalidInputError(`the expiration must be in the future and at most ${this.opts.maxExpiresSeconds} s away`, 'expires', 'SUBSCRIPTION.INVALID_EXPIRATION');
    return expires;
  }

  async create(ctx: OperationContext, input: SubscribeInput): Promise<Subscription> {
    const now = this.clock.now();
    const s: Subscription = {
      id: newId(),
      tenantId: ctx.tenantId,
      principal: ctx.principal.userName,
      door: input.door,
      mode: input.mode,
      notifyTo: checkUrl(input.notifyTo, 'notifyTo'),
      ...(input.endTo !== undefined ? { endTo: checkUrl(input.endTo, 'endTo') } : {}),
      delivery: input.delivery ?? {},
      ...(input.filter ? { filter: input.filter } : {}),
      created: now,
      expires: this.expiry(input.expires, now),
      failures: 0,
      nextAttempt: now,
    };
    await this.store.insert(s);
    return s;
  }

  async status(ctx: OperationContext, id: string): Promise<Subscription> {
    const s = await this.store.get(ctx.tenantId, checkId('Subscription', id));
    // an expired one is gone for its subscriber, even before the delivery service ends it
    if (!s || s.expires.getTime() <= this.clock.now().getTime()) throw new NotFoundError('Subscription', id);
    return s;
  }

  async renew(ctx: OperationContext, id: string, expires?: Date): Promise<Subscription> {
    const s = await this.status(ctx, id);
    const next = this.expiry(expires, this.clock.now());
    if (!(await this.store.setExpires(ctx.tenantId, s.id, next))) throw new NotFoundError('Subscription', id);
    return { ...s, expires: next };
  }

  async delete(ctx: OperationContext, id: string): Promise<void> {
    await this.status(ctx, id);
    if (!(await this.store.remove(ctx.tenantId, id))) throw new NotFoundError('Subscription', id);
  }
}
