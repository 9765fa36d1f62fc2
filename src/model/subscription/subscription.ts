import type { ResourceEvent } from '../event/resource-event';
import type { FilterExpr } from '../shared/query';

/** The doors that deliver notifications (each renders its own envelope: a NotificationSink). */
export type SubscriptionDoor = 'wsman' | 'rest' | 'soap';
/**
 * DSP0226 10.2.2: Push (a 2xx answer is the acknowledgement) and PushWithAck (the subscriber answers wsman:Ack);
 * DSP0226 10.2.9 Pull: nothing is sent, the subscriber pulls (SubscriptionService.pull)
 */
export type DeliveryMode = 'push' | 'push-with-ack' | 'pull';

/**
 * A tenant's subscription to its resources' state Events (issue 14 §2; docs/operations.md "Subscriptions"). What
 * has been delivered is the outbox: every Event not yet acknowledged has a row for it; `bookmark` names the last
 * acknowledged Event (WS-Man wsman:Bookmark).
 */
export interface Subscription {
  id: string;
  tenantId: string;
  /** the user who subscribed (notifications carry only this tenant's Events) */
  principal: string;
  door: SubscriptionDoor;
  mode: DeliveryMode;
  notifyTo: string;
  endTo?: string;
  /** door-specific delivery details (WS-Man: the NotifyTo/EndTo reference parameters), opaque to the model */
  delivery: Record<string, unknown>;
  /** over the Event attributes (EVENT_FILTER_ATTRS); absent: every Event */
  filter?: FilterExpr;
  created: Date;
  expires: Date;
  failures: number;
  nextAttempt: Date;
  bookmark?: string;
  /** DSP0226 10.2.5: a heartbeat goes to NotifyTo when nothing was sent for this long (migration 16) */
  heartbeatMs?: number;
  /** when a notification or heartbeat was last acknowledged (absent: never; `created` counts) */
  lastSent?: Date;
}

/** where a new subscription starts (DSP0226 10.2.6): after a bookmarked Event, or at the earliest retained one */
export type ResumeFrom = { after: string } | { earliest: true };

/** 'exists': a subscription with this id is already stored (an idempotent retry: SubscriptionService.create) */
export type OpenResult = 'ok' | 'quota' | 'invalid-bookmark' | 'exists';

/** one unacknowledged notification: `seq` orders them, the Event id is the notification's stable id */
export interface PendingNotification {
  seq: number;
  event: ResourceEvent;
}

export type SubscriptionEndReason = 'expired' | 'delivery-failure' | 'unsubscribed';

/** Cross-tenant, like the job queue: the delivery service claims due subscriptions of every tenant. */
export interface SubscriptionStore {
  get(tenantId: string, id: string): Promise<Subscription | undefined>;
  setExpires(tenantId: string, id: string, expires: Date): Promise<boolean>;
  remove(tenantId: string, id: string): Promise<boolean>;
  /** the tenant's live subscriptions (not expired at `now`), oldest first */
  list(tenantId: string, now: Date): Promise<Subscription[]>;
  /** leases up to `limit` subscriptions whose next attempt is due (or that have expired) */
  claimDue(owner: string, leaseMs: number, now: Date, limit: number): Promise<Subscription[]>;
  /** the oldest unacknowledged notifications that pass the subscription's filter; rows that do not are dropped */
  pending(s: Subscription, limit: number): Promise<PendingNotification[]>;
  /**
   * the subscriber acknowledged these: drop their rows, move the bookmark, clear the failures. With `owner` (a
   * delivery pass), the bookmark moves only while that lease is still held: a pass that outlived its lease must
   * not move it back behind what the next holder acknowledged.
   */
  acknowledged(s: Subscription, seqs: number[], bookmark: string | undefined, owner?: string): Promise<void>;
  /** a failed attempt: record the failures in a row, schedule the retry, release the lease */
  failed(s: Subscription, owner: string, next: Date, failures: number): Promise<void>;
  /** release the lease; the next attempt is due at `next` */
  release(s: Subscription, owner: string, next: Date): Promise<void>;
  /** a notification or heartbeat was acknowledged at `at` (the heartbeat interval counts from it); clears failures */
  sent(s: Subscription, at: Date): Promise<void>;
}
export const SUBSCRIPTION_STORE = Symbol('SUBSCRIPTION_STORE');

/** A tenant's subscriptions in a change's transaction (TenantTx.subscriptions): written with the change's audit record. */
export interface TenantSubscriptionStore {
  /**
   * inserts a subscription with its checks: at most `maxLive` live ones per tenant (else 'quota'), and with
   * `resume`, the tenant's stored Events after the bookmark queued first, oldest first (an Event id the tenant does
   * not have: 'invalid-bookmark'); nothing is written unless 'ok'
   */
  open(s: Subscription, maxLive: number, resume?: ResumeFrom): Promise<OpenResult>;
  setExpires(id: string, expires: Date): Promise<boolean>;
  remove(id: string): Promise<boolean>;
}

/** What a sink's send answers: acknowledged (the bookmark moves), or a failure (retried with backoff). */
export type SendResult = { ok: true } | { ok: false; reason: string };

/** A door's delivery: renders and sends notifications and SubscriptionEnd to a subscriber. */
export interface NotificationSink {
  /** one notification, in order; its id (the Event id) is the same on every attempt */
  send(s: Subscription, n: PendingNotification): Promise<SendResult>;
  /** tells EndTo (if any) that the subscription ended; best effort, never retried */
  end(s: Subscription, reason: SubscriptionEndReason): Promise<void>;
  /** DSP0226 10.2.5: tells NotifyTo the subscription is alive although no Event happened (WS-Man's; the REST and SOAP doors offer none) */
  heartbeat?(s: Subscription): Promise<SendResult>;
}
