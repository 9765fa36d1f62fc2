import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../shared/clock';
import { checkId, newId } from '../shared/ids';
import { createHash } from 'node:crypto';
import { InvalidInputError, ModelError, NotFoundError } from '../shared/model-error';
import type { OperationContext } from '../shared/operation-context';
import type { FilterExpr } from '../shared/query';
import { requireWrite } from '../shared/authorization';
import { IDEMPOTENCY_WINDOW_MS, KEY_PATTERN, Mutations } from '../shared/mutation';
import type { TenantTx } from '../shared/ports';
import type { Ref } from '../shared/resource';
import { EVENT_FILTER_ATTRS } from '../event/resource-event';
import { checkSubscriberAddress, type PrivateAddressPolicy } from './subscription-address';
import { SUBSCRIPTION_STORE, type DeliveryMode, type PendingNotification, type ResumeFrom, type Subscription, type SubscriptionDoor, type SubscriptionStore } from './subscription';

export interface SubscriptionOptions {
  /** SUBSCRIPTION_MAX_EXPIRES_S: the longest lifetime a subscriber may ask for, and the one it gets when it asks none */
  maxExpiresSeconds: number;
  /** SUBSCRIPTION_MAX_PER_TENANT: live (unexpired) subscriptions a tenant may have at once; absent: 1000 */
  maxPerTenant?: number;
  /** SUBSCRIPTION_PRIVATE_ADDRESSES: whether NotifyTo/EndTo may be loopback, private or link-local (default refuse) */
  privateAddresses?: PrivateAddressPolicy;
}

/** DSP0226 10.2.5: the shortest heartbeat interval offered (delivery polls every SUBSCRIPTION_POLL_MS) */
export const MIN_HEARTBEAT_MS = 1000;
export const SUBSCRIPTION_OPTIONS = Symbol('SUBSCRIPTION_OPTIONS');

export interface SubscribeInput {
  door: SubscriptionDoor;
  mode: DeliveryMode;
  /** required but for pull (nothing is sent) */
  notifyTo: string;
  endTo?: string;
  /** DSP0226 10.2.5: heartbeat interval (push modes only); at least MIN_HEARTBEAT_MS, shorter than the lifetime */
  heartbeatMs?: number;
  /** DSP0226 10.2.6: start after a bookmarked Event (or at the earliest retained one) instead of at the next */
  resume?: ResumeFrom;
  delivery?: Record<string, unknown>;
  filter?: FilterExpr;
  /** absent: the longest allowed */
  expires?: Date;
  /** docs/reliability.md rule 2: a retried create with the same key answers the subscription the first one made */
  idempotencyKey?: string;
}

/** the id a keyed create gets: the same for one tenant, user and key, so a retry finds what the first made */
function keyedId(ctx: OperationContext, key: string): string {
  const h = createHash('sha256').update(`subscription/${ctx.tenantId}/${ctx.principal.userId}/${key}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** what makes two keyed creates the same request (expires aside: a retry's default expiry is later) */
const requestOf = (s: Subscription) => JSON.stringify([s.door, s.mode, s.notifyTo, s.endTo ?? null, s.filter ?? null, s.heartbeatMs ?? null]);

/** a keyed create found its id taken by a concurrent one (rolled back, then answered as a replay) */
class KeyTaken extends Error {}

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

/** a filter names only Event attributes (EVENT_FILTER_ATTRS): one that names others could never be compiled for delivery */
function checkFilter(f: FilterExpr): FilterExpr {
  if (f.kind === 'and' || f.kind === 'or') {
    checkFilter(f.left);
    checkFilter(f.right);
  } else if (f.kind !== 'cmp' || !(f.attr in EVENT_FILTER_ATTRS))
    throw new InvalidInputError(`a subscription filter names Event attributes only: ${Object.keys(EVENT_FILTER_ATTRS).join(', ')}`, 'filter', 'SUBSCRIPTION.INVALID_FILTER');
  return f;
}

/** a Subscription is no CIMI resource: its audit target names it by type and id (CADF target) */
const target = (id: string) => ({ type: 'Subscription', id }) as unknown as Ref;

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
    private readonly mutations: Mutations,
  ) {}

  /** the service's clock: a door's relative expiry (an xs:duration) counts from the instant the service checks it against */
  now(): Date {
    return this.clock.now();
  }

  /**
   * One change of a subscription through Mutations.run: authorization, its CADF record in the same transaction.
   * The Job is the synchronous change's (done, not stored: a Subscription is not a CIMI resource with Jobs).
   */
  private async change(ctx: OperationContext, operation: string, action: string, id: string, input: unknown, fn: (tx: TenantTx) => Promise<void>): Promise<void> {
    await this.mutations.run(ctx, operation, input, {}, async (tx) => {
      await fn(tx);
      return { job: this.mutations.newJob(ctx, { action, target: target(id), affected: [], done: true }) };
    });
  }

  private expiry(expires: Date | undefined, now: Date): Date {
    const max = new Date(now.getTime() + this.opts.maxExpiresSeconds * 1000);
    if (expires === undefined) return max;
    // DSP0226 10.2.3 / WS-Eventing 3.1: an expiry in the past, or beyond what the service grants, is refused
    if (Number.isNaN(expires.getTime()) || expires.getTime() <= now.getTime() || expires.getTime() > max.getTime())
      throw new InvalidInputError(`the expiration must be in the future and at most ${this.opts.maxExpiresSeconds} s away`, 'expires', 'SUBSCRIPTION.INVALID_EXPIRATION');
    return expires;
  }

  async create(ctx: OperationContext, input: SubscribeInput): Promise<Subscription> {
    // authorization before any check that resolves a name: a reader learns nothing of the gateway's network
    requireWrite(ctx, 'Subscription.create');
    const now = this.clock.now();
    const expires = this.expiry(input.expires, now);
    const hb = input.heartbeatMs;
    if (hb !== undefined && (input.mode === 'pull' || !Number.isInteger(hb) || hb < MIN_HEARTBEAT_MS || hb >= expires.getTime() - now.getTime()))
      throw new InvalidInputError(
        input.mode === 'pull' ? 'heartbeats are sent to push subscribers only' : `the heartbeat interval must be at least ${MIN_HEARTBEAT_MS} ms and shorter than the subscription's lifetime`,
        'heartbeat',
        'SUBSCRIPTION.INVALID_HEARTBEAT',
      );
    const key = input.idempotencyKey;
    if (key !== undefined && !KEY_PATTERN.test(key)) throw new InvalidInputError('idempotency key must be 1 to 64 printable ASCII characters', 'idempotencyKey');
    const s: Subscription = {
      id: key === undefined ? newId() : keyedId(ctx, key),
      tenantId: ctx.tenantId,
      principal: ctx.principal.userName,
      door: input.door,
      mode: input.mode,
      notifyTo: input.mode === 'pull' ? '' : checkUrl(input.notifyTo, 'notifyTo'),
      ...(input.endTo !== undefined ? { endTo: checkUrl(input.endTo, 'endTo') } : {}),
      delivery: input.delivery ?? {},
      ...(input.filter ? { filter: checkFilter(input.filter) } : {}),
      created: now,
      expires,
      failures: 0,
      nextAttempt: now,
      ...(hb !== undefined ? { heartbeatMs: hb } : {}),
    };
    if (key !== undefined) {
      const replay = await this.replay(ctx, s);
      if (replay) return replay;
    }
    const policy = this.opts.privateAddresses ?? 'refuse';
    if (s.notifyTo) await checkSubscriberAddress(s.notifyTo, 'notifyTo', policy);
    if (s.endTo) await checkSubscriberAddress(s.endTo, 'endTo', policy);
    const max = this.opts.maxPerTenant ?? 1000;
    const audited = { door: s.door, mode: s.mode, notifyTo: s.notifyTo, endTo: s.endTo, expires: s.expires };
    try {
      await this.change(ctx, 'Subscription.create', 'subscribe', s.id, audited, async (tx) => {
        const r = await tx.subscriptions.open(s, max, input.resume);
        if (r === 'exists') throw new KeyTaken();
      if (r === 'quota') throw new ModelError('quota', 'SUBSCRIPTION.TOO_MANY', `a tenant may have at most ${max} live subscriptions; unsubscribe some`);
      // DSP0226 10.2.6: a bookmark this tenant's stored Events do not have (unknown, or its Event no longer retained)
        if (r === 'invalid-bookmark') throw new InvalidInputError('the bookmark names no retained Event of this tenant', 'bookmark', 'SUBSCRIPTION.INVALID_BOOKMARK');
      });
    } catch (e) {
      if (!(e instanceof KeyTaken)) throw e;
      const replay = await this.replay(ctx, s);
      if (replay) return replay;
      throw e;
    }
    return s;
  }

  /**
   * A keyed create whose id is taken: the first request's subscription when it is the same request (and still
   * live, within the idempotency window); a conflict when the key was used for another one.
   */
  private async replay(ctx: OperationContext, s: Subscription): Promise<Subscription | undefined> {
    const prior = await this.store.get(ctx.tenantId, s.id);
    if (!prior) return undefined;
    const live = prior.expires.getTime() > this.clock.now().getTime() && prior.created.getTime() > this.clock.now().getTime() - IDEMPOTENCY_WINDOW_MS;
    if (!live || requestOf(prior) !== requestOf(s)) throw new ModelError('conflict', 'GENERIC.IDEMPOTENCY_KEY_REUSED', 'the idempotency key was used for a different subscription');
    return prior;
  }

  /**
   * DSP0226 10.2.9 Pull delivery: up to `max` of the oldest notifications, removed from the outbox as they are
   * handed out (a lost response loses them for this subscription; the subscriber resumes from its last bookmark
   * with a new Subscribe, which gets them again: at-least-once through bookmarks). `fit` says how many of the
   * oldest a door can carry in one response (its envelope limit); only those are removed.
   */
  async pull(ctx: OperationContext, id: string, max: number, fit: (items: PendingNotification[]) => number = (i) => i.length): Promise<PendingNotification[]> {
    const s = await this.status(ctx, id);
    if (s.mode !== 'pull') throw new InvalidInputError('this subscription is not in pull mode', 'mode', 'SUBSCRIPTION.NOT_PULL');
    const pending = await this.store.pending(s, Math.max(1, Math.min(max, 100)));
    const items = pending.slice(0, Math.max(0, Math.min(pending.length, fit(pending))));
    if (items.length) await this.store.acknowledged(s, items.map((n) => n.seq), items[items.length - 1].event.id);
    return items;
  }

  async status(ctx: OperationContext, id: string): Promise<Subscription> {
    const s = await this.store.get(ctx.tenantId, checkId('Subscription', id));
    // an expired one is gone for its subscriber, even before the delivery service ends it
    if (!s || s.expires.getTime() <= this.clock.now().getTime()) throw new NotFoundError('Subscription', id);
    return s;
  }

  /** the tenant's live subscriptions, every door's (a gateway extension collection on REST, docs/cimi.md) */
  list(ctx: OperationContext): Promise<Subscription[]> {
    return this.store.list(ctx.tenantId, this.clock.now());
  }

  async renew(ctx: OperationContext, id: string, expires?: Date): Promise<Subscription> {
    const s = await this.status(ctx, id);
    const next = this.expiry(expires, this.clock.now());
    await this.change(ctx, 'Subscription.renew', 'renew', s.id, { id, expires: next }, async (tx) => {
      if (!(await tx.subscriptions.setExpires(s.id, next))) throw new NotFoundError('Subscription', id);
    });
    return { ...s, expires: next };
  }

  async delete(ctx: OperationContext, id: string): Promise<void> {
    await this.status(ctx, id);
    await this.change(ctx, 'Subscription.delete', 'unsubscribe', id, { id }, async (tx) => {
      if (!(await tx.subscriptions.remove(id))) throw new NotFoundError('Subscription', id);
    });
  }
}
