import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CLOCK, type Clock } from '../shared/clock';
import type { PrivateAddressPolicy } from './subscription-address';
import { SUBSCRIPTION_STORE, type NotificationSink, type Subscription, type SubscriptionDoor, type SubscriptionEndReason, type SubscriptionStore } from './subscription';
import { PeriodicPass } from '../shared/periodic-pass';

export interface DeliveryOptions {
  /** SUBSCRIPTION_POLL_MS: how often due subscriptions are looked for */
  pollMs: number;
  /** SUBSCRIPTION_LEASE_MS: how long a claimed subscription is this process's alone */
  leaseMs: number;
  /** SUBSCRIPTION_MAX_FAILURES: failed attempts in a row before the subscription is ended */
  maxFailures: number;
  /** SUBSCRIPTION_RETRY_BASE_MS: the first retry's delay, doubled per failure up to 5 minutes */
  retryBaseMs: number;
  /** false: no timer (passes only when asked: deliverNow) */
  timer: boolean;
  /** SUBSCRIPTION_PRIVATE_ADDRESSES, checked again at each delivery's connect (absent: refuse) */
  privateAddresses?: PrivateAddressPolicy;
}
export const DELIVERY_OPTIONS = Symbol('DELIVERY_OPTIONS');

const CLAIM = 20;
const BATCH = 50;
const MAX_BACKOFF_MS = 300_000;

/**
 * Sends the outbox (docs/operations.md "Subscriptions"): claims due subscriptions with a lease (several gateway
 * processes never send one subscription's notifications at the same time), sends each one's notifications in
 * order through its door's sink, drops a notification only once the subscriber acknowledged it (at-least-once,
 * the Event id as the notification id on every attempt), retries with exponential backoff, and ends a
 * subscription that failed `maxFailures` times in a row or expired, telling EndTo (DSP0226 10.7 SubscriptionEnd).
 */
@Injectable()
export class SubscriptionDelivery implements OnApplicationShutdown {
  private readonly log = new Logger('SubscriptionDelivery');
  private readonly owner = `delivery-${randomUUID()}`;
  private readonly sinks = new Map<SubscriptionDoor, NotificationSink>();
  private readonly passes = new PeriodicPass('delivery pass', this.log, () => this.pass());

  constructor(
    @Inject(SUBSCRIPTION_STORE) private readonly store: SubscriptionStore,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DELIVERY_OPTIONS) private readonly opts: DeliveryOptions,
  ) {}

  /** a door registers how it sends (the model renders no envelope) */
  register(door: SubscriptionDoor, sink: NotificationSink): void {
    this.sinks.set(door, sink);
  }

  /** whether a sink may connect to loopback, private or link-local addresses (SUBSCRIPTION_PRIVATE_ADDRESSES) */
  get addressPolicy(): PrivateAddressPolicy {
    return this.opts.privateAddresses ?? 'refuse';
  }

  start(): void {
    if (this.opts.timer) this.passes.every(this.opts.pollMs);
  }

  /** one pass now (or the running one); returns how many notifications were acknowledged */
  deliverNow(): Promise<number> {
    return this.passes.run();
  }

  private backoff(failures: number): number {
    return Math.min(MAX_BACKOFF_MS, this.opts.retryBaseMs * 2 ** Math.max(0, failures - 1));
  }

  private async pass(): Promise<number> {
    const due = await this.store.claimDue(this.owner, this.opts.leaseMs, this.clock.now(), CLAIM);
    // each subscription's count is its own promise's result: `acked += await …` would lose concurrent additions
    const counts = await Promise.all(
      due.map(async (s) => {
        try {
          return await this.deliver(s);
        } catch (e) {
          this.log.error(`subscription ${s.id}: ${(e as Error).message}`);
          await this.store.release(s, this.owner, new Date(this.clock.now().getTime() + this.opts.pollMs)).catch(() => undefined);
          return 0;
        }
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  }

  private async end(s: Subscription, reason: SubscriptionEndReason): Promise<void> {
    await this.store.remove(s.tenantId, s.id);
    await this.sinks
      .get(s.door)
      ?.end(s, reason)
      .catch((e) => this.log.warn(`SubscriptionEnd to ${s.endTo} failed: ${(e as Error).message}`));
  }

  private async deliver(s: Subscription): Promise<number> {
    const now = this.clock.now();
    if (s.expires.getTime() <= now.getTime()) {
      await this.end(s, 'expired');
      return 0;
    }
    // DSP0226 10.2.9: a pull subscriber takes its notifications itself; only its expiry is this service's
    if (s.mode === 'pull') {
      await this.store.release(s, this.owner, s.expires);
      return 0;
    }
    const sink = this.sinks.get(s.door);
    const pending = sink ? await this.store.pending(s, BATCH) : [];
    const seqs: number[] = [];
    let bookmark = s.bookmark;
    let failure: string | undefined;
    // the lease is not renewed: stop sending well before it can lapse, so no other process claims this
    // subscription while this one still sends (at most one sender per subscription keeps per-resource order)
    const started = performance.now();
    for (const n of pending) {
      if (this.passes.stopped || performance.now() - started > this.opts.leaseMs / 2) break;
      const r = await sink!.send({ ...s, bookmark }, n);
      if (!r.ok) {
        failure = r.reason;
        break;
      }
      seqs.push(n.seq);
      bookmark = n.event.id;
    }
    if (seqs.length) await this.store.acknowledged(s, seqs, bookmark, this.owner);
    // DSP0226 10.2.5: nothing sent for the heartbeat interval (counted from the last acknowledged message, kept in
    // the database so that whichever process holds the lease sends it): a heartbeat, failing as a notification does
    const idleSince = (s.lastSent ?? s.created).getTime();
    if (sink?.heartbeat && s.heartbeatMs && !failure && !seqs.length && !pending.length && now.getTime() - idleSince >= s.heartbeatMs) {
      const r = await sink.heartbeat(s);
      if (r.ok) await this.store.sent(s, this.clock.now());
      else failure = r.reason;
    } else if (seqs.length && s.heartbeatMs) await this.store.sent(s, this.clock.now());
    const later = this.clock.now().getTime();
    if (failure === undefined) {
      // more waiting: come back at once; otherwise at the next poll
      await this.store.release(s, this.owner, new Date((pending.length === BATCH || seqs.length < pending.length) && !this.passes.stopped ? later : later + this.opts.pollMs));
      return seqs.length;
    }
    const failures = seqs.length ? 1 : s.failures + 1;
    if (failures >= this.opts.maxFailures) {
      this.log.warn(`subscription ${s.id} ended after ${failures} failed deliveries (${failure})`);
      await this.end(s, 'delivery-failure');
    } else await this.store.failed(s, this.owner, new Date(later + this.backoff(failures)), failures);
    return seqs.length;
  }

  onApplicationShutdown(): Promise<void> {
    return this.passes.stop();
  }
}
