import { Injectable, type OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../../model/shared/model-error';
import type { NotificationSink, PendingNotification, SendResult, Subscription, SubscriptionEndReason } from '../../model/subscription/subscription';
import { SubscriptionDelivery } from '../../model/subscription/subscription-delivery';
import type { SubscribeInput } from '../../model/subscription/subscription.service';
import { acknowledged, postToSubscriber } from '../shared/subscriber-post';
import { requireObject } from './cimi-http';
import { resourceEventDoc } from './cimi-events';
import { CIMI_NS } from './cimi-types';
import { CimiUris } from './cimi-uris';
import type { CimiDoc } from './cimi.mapper';
import { parseCimiFilter } from './query/cimi-filter.parser';

/**
 * Subscriptions on the CIMI REST door: a gateway extension (docs/cimi.md "Subscriptions"). DSP0263 2.0.0 defines
 * no subscription resource and the 1.1 wire is silent, so this is a webhook registration: the tenant's state
 * Events (the EventLogs' Events, §5.17.13) POSTed as CIMI JSON to `notifyTo`.
 */

/** what the REST door keeps with a subscription (Subscription.delivery): the origin the Events' hrefs are under */
export interface RestDelivery {
  origin: string;
  /** the filter as the subscriber wrote it (shown back on GET) */
  filterText?: string;
}

export const SUBSCRIPTION_RESOURCE_URI = `${CIMI_NS}/Subscription`;
export const NOTIFICATION_ID_HEADER = 'X-CIMI-Notification-Id';
const WRITABLE = ['resourceURI', 'notifyTo', 'endTo', 'filter', 'expires'];

export const subscriptionsHref = (uris: CimiUris) => `${uris.base}/subscriptions`;

export function subscriptionDoc(uris: CimiUris, s: Subscription): CimiDoc {
  const id = `${subscriptionsHref(uris)}/${s.id}`;
  const d = s.delivery as Partial<RestDelivery>;
  return {
    resourceURI: SUBSCRIPTION_RESOURCE_URI,
    id,
    created: s.created.toISOString(),
    notifyTo: s.notifyTo,
    ...(s.endTo ? { endTo: s.endTo } : {}),
    ...(d.filterText ? { filter: d.filterText } : {}),
    expires: s.expires.toISOString(),
    // one made through WS-Man or SOAP is listed too, and may be renewed or ended here (the tenant's, any door's:
    // ending one is an Unsubscribe, so a WS-Man subscriber gets no SubscriptionEnd; docs/cimi.md §2.8)
    door: s.door,
    operations: [{ rel: 'edit', href: id }, { rel: 'delete', href: id }],
  };
}

function expiresOf(doc: Record<string, unknown>): Date | undefined {
  if (doc.expires === undefined) return undefined;
  const t = typeof doc.expires === 'string' ? Date.parse(doc.expires) : NaN;
  if (!/^\d{4}-\d{2}-\d{2}T/.test(String(doc.expires)) || Number.isNaN(t)) throw new InvalidInputError('expires must be an xs:dateTime', 'expires', 'SUBSCRIPTION.INVALID_EXPIRATION');
  return new Date(t);
}

const str = (doc: Record<string, unknown>, k: string): string | undefined => {
  const v = doc[k];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new InvalidInputError(`${k} must be a string`, k, 'SUBSCRIPTION.INVALID_ADDRESS');
  return v;
};

/** a POST body (JSON or `<Subscription>` XML) → the model's input; the filter is REST `$filter` syntax over the Event attributes */
export function subscribeInput(uris: CimiUris, doc: Record<string, unknown>): SubscribeInput {
  requireObject(doc, 'body');
  for (const k of Object.keys(doc)) if (!WRITABLE.includes(k)) throw new InvalidInputError(`Subscription has no writable attribute ${k}`, k, 'GENERIC.UNKNOWN_ATTRIBUTE');
  const notifyTo = str(doc, 'notifyTo');
  if (!notifyTo) throw new InvalidInputError('notifyTo is required', 'notifyTo', 'SUBSCRIPTION.INVALID_ADDRESS');
  const endTo = str(doc, 'endTo');
  const filterText = doc.filter === undefined ? undefined : String(doc.filter);
  const delivery: RestDelivery = { origin: uris.base.replace(/\/cimi$/, ''), ...(filterText ? { filterText } : {}) };
  const expires = expiresOf(doc);
  return { door: 'rest', mode: 'push', notifyTo, ...(endTo !== undefined ? { endTo } : {}), delivery: { ...delivery }, ...(filterText ? { filter: parseCimiFilter(filterText) } : {}), ...(expires ? { expires } : {}) };
}

/**
 * a PUT body: only `expires` may change (renew); any other attribute given must be what it is (`current`: the
 * subscription as GET shows it), so a GET-edit-PUT round trip works and a PUT naming another subscription's id fails
 */
export function renewInput(doc: Record<string, unknown>, current: CimiDoc): Date | undefined {
  requireObject(doc, 'body');
  for (const [k, v] of Object.entries(doc)) {
    if (k === 'expires') continue;
    if (!(k in current)) throw new InvalidInputError(`Subscription has no attribute ${k}`, k, 'GENERIC.UNKNOWN_ATTRIBUTE');
    if (JSON.stringify(v) !== JSON.stringify(current[k])) throw new InvalidInputError(`only expires can be changed on a Subscription (renew); delete it and create another for ${k}`, k, 'GENERIC.READ_ONLY');
  }
  return expiresOf(doc);
}

/** a webhook's notification id: the same for one Event to one subscription on every attempt and after a restart */
export function webhookId(subscriptionId: string, eventId: string): string {
  return `${subscriptionId}:${createHash('sha256').update(`${subscriptionId}/${eventId}`).digest('hex').slice(0, 32)}`;
}

/**
 * The REST door's notification sink: each Event as the CIMI JSON the EventLog serves (resourceEventDoc), POSTed
 * to notifyTo with the headers webhook receivers look for (Standard Webhooks: `webhook-id`, `webhook-timestamp`;
 * and X-CIMI-Notification-Id, the same id); a 2xx is the acknowledgement.
 */
@Injectable()
export class RestWebhookNotifier implements NotificationSink, OnModuleInit {
  constructor(private readonly delivery: SubscriptionDelivery) {}

  onModuleInit(): void {
    this.delivery.register('rest', this);
  }

  render(s: Subscription, n: PendingNotification): { body: string; id: string } {
    const uris = new CimiUris((s.delivery as Partial<RestDelivery>).origin ?? 'http://localhost');
    const e = n.event;
    return { body: JSON.stringify(resourceEventDoc(uris, e, uris.resource(e.resourceType, e.resourceId))), id: webhookId(s.id, e.id) };
  }

  async send(s: Subscription, n: PendingNotification): Promise<SendResult> {
    const { body, id } = this.render(s, n);
    try {
      const headers = { 'Content-Type': 'application/json', [NOTIFICATION_ID_HEADER]: id, 'webhook-id': id, 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'X-CIMI-Subscription': s.id };
      const r = await postToSubscriber(s.notifyTo, headers, body, this.delivery.addressPolicy);
      return acknowledged(r);
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  }

  /** an end the subscriber did not ask for (delivery failure): a small JSON notice to endTo, best effort */
  async end(s: Subscription, reason: SubscriptionEndReason): Promise<void> {
    if (!s.endTo || reason !== 'delivery-failure') return;
    const uris = new CimiUris((s.delivery as Partial<RestDelivery>).origin ?? 'http://localhost');
    const id = webhookId(s.id, 'end');
    const headers = { 'Content-Type': 'application/json', [NOTIFICATION_ID_HEADER]: id, 'webhook-id': id, 'webhook-timestamp': String(Math.floor(Date.now() / 1000)) };
    const body = JSON.stringify({ resourceURI: `${SUBSCRIPTION_RESOURCE_URI}End`, subscription: { href: `${subscriptionsHref(uris)}/${s.id}` }, reason });
    await postToSubscriber(s.endTo, headers, body, this.delivery.addressPolicy);
  }
}
