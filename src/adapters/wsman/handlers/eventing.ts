import { XMLSerializer, type Element } from '@xmldom/xmldom';
import type { SubscribeInput } from '../../../model/subscription/subscription.service';
import type { DeliveryMode, PendingNotification, ResumeFrom, Subscription } from '../../../model/subscription/subscription';
import type { FilterExpr } from '../../../model/shared/query';
import { childElements, encodeXml, firstChild, textOf, xmlEscape } from '../../xml/xml-hardening';
import { parseWql, toFilterExpr, WqlError, WQL_DIALECTS } from '../enumeration/wql';
import { propertyResolver } from '../enumeration/cim-query';
import type { PullRequest } from '../enumeration/enumerate-request';
import { toInstance } from '../cim-instances';
import { renderInstance } from '../cim-render';
import { eventView } from '../model-sources';
import type { WsmanCall, WsmanReply } from '../wsman-dispatcher';
import { parseDuration } from '../wsman-envelope';
import { WsmanFault } from '../wsman-fault';
import { EVENTING, NS } from '../wsman-ns';

/** a pull subscription's wsen:EnumerationContext: this prefix and the subscription id (an enumeration's is a bare id) */
export const PULL_CONTEXT_PREFIX = 'subscription:';

/** the class whose instances a subscription delivers (wsman/classes.json): a CIMI state Event */
export const EVENT_CLASS = 'CIMIGW_Event';

/** what the WS-Man door keeps with a subscription (Subscription.delivery) */
export interface WsmanDelivery {
  /** the NotifyTo and EndTo wsa:ReferenceParameters children, serialized: echoed as headers (WS-Addressing 2004/08 §2.3) */
  notifyParams: string[];
  endParams: string[];
  /** wsman:SendBookmarks: each notification carries wsman:Bookmark (DSP0226 10.2.6) */
  sendBookmarks: boolean;
  /** the endpoint address the subscriber used: the SubscriptionManager's (and SubscriptionEnd's) Address */
  manager: string;
}

const SERIALIZER = new XMLSerializer();

/** an EPR's wsa:Address and reference parameters (WS-Addressing 2004/08 §2.1); no address is a bad request */
function epr(el: Element, what: string): { address: string; params: string[] } {
  const address = textOf(firstChild(el, NS.wsa, 'Address')).trim();
  if (!address) throw new WsmanFault('InvalidMessage', `${what} has no wsa:Address`);
  const rp = firstChild(el, NS.wsa, 'ReferenceParameters');
  const params = rp ? childElements(rp).map((c) => SERIALIZER.serializeToString(c)) : [];
  if (params.join('').length > 8192) throw new WsmanFault('InvalidMessage', `the reference parameters of ${what} are too large`);
  return { address, params };
}

/** wse:Expires: an xs:duration from now or an xs:dateTime (WS-Eventing 2004/08 §3.1); anything else is refused */
function parseExpires(el: Element | undefined, now: number): Date | undefined {
  if (!el) return undefined;
  const t = textOf(el).trim();
  if (/^-?P/.test(t)) {
    const ms = parseDuration(t.replace(/^-/, ''));
    if (ms !== undefined) return new Date(now + (t.startsWith('-') ? -ms : ms));
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(t) && Number.isFinite(Date.parse(t))) return new Date(Date.parse(t));
  throw new WsmanFault('EventInvalidExpirationTime', `Expires ${t.slice(0, 60)} is neither an xs:duration nor an xs:dateTime`);
}

/** DSP0226 10.2.5 wsman:Heartbeats: an xs:duration; the model checks its range (SUBSCRIPTION.INVALID_HEARTBEAT) */
function parseHeartbeats(el: Element | undefined): number | undefined {
  if (!el) return undefined;
  const t = textOf(el).trim();
  const ms = parseDuration(t);
  if (ms === undefined) throw new WsmanFault('InvalidMessage', `Heartbeats ${t.slice(0, 60)} is not an xs:duration`);
  return ms;
}

/** DSP0226 10.2.6 wsman:Bookmark: a bookmark this service sent (an Event id), or the `…/bookmark/earliest` URI */
function parseBookmark(el: Element | undefined): ResumeFrom | undefined {
  if (!el) return undefined;
  const t = textOf(el).trim();
  if (t === EVENTING.earliest) return { earliest: true };
  if (!t || t.length > 64) throw new WsmanFault('InvalidBookmark', 'the bookmark is not one this service sent', { detail: 'Invalid' });
  return { after: t };
}

/** wsman:Filter (or wse:Filter) in the WQL dialect over the Event class, as Enumerate takes it (docs/wsman.md §2.3) */
function parseFilter(call: WsmanCall, el: Element | undefined): FilterExpr | undefined {
  if (!el) return undefined;
  const dialect = el.getAttribute('Dialect') || WQL_DIALECTS.wqlMs;
  if (!(Object.values(WQL_DIALECTS) as string[]).includes(dialect)) throw new WsmanFault('EventFilteringNotSupported', `filter dialect ${dialect.slice(0, 200)} is not supported for subscriptions; use WQL`);
  const cls = call.catalogue.byName(EVENT_CLASS)!;
  try {
    const q = parseWql(textOf(el));
    const from = call.catalogue.byName(q.from);
    if (!from || !cls.isA(from)) throw new WqlError(`subscriptions deliver ${EVENT_CLASS}: FROM ${q.from.slice(0, 100)} does not name it`);
    const t = toFilterExpr(q, propertyResolver(cls, call.ctx.tenantId));
    if (t.match === 'all') return undefined;
    // a filter nothing can pass: an id no Event has
    if (t.match === 'none') return { kind: 'cmp', attr: 'id', op: '=', value: '' };
    return t.filter;
  } catch (e) {
    if (e instanceof WqlError) throw new WsmanFault('CannotProcessFilter', e.message);
    throw e;
  }
}

/** the subscription a Renew, GetStatus or Unsubscribe names: its wse:Identifier header (the manager EPR's parameter) */
function identifier(call: WsmanCall): string {
  const h = call.req.header ? firstChild(call.req.header, NS.wse, 'Identifier') : undefined;
  const id = textOf(h).trim().replace(/^uuid:/, '');
  if (!id) throw new WsmanFault('InvalidMessage', 'the wse:Identifier header of the subscription is missing');
  return id;
}

function managerEpr(address: string, id: string): string {
  return `<wsa:Address>${xmlEscape(address)}</wsa:Address><wsa:ReferenceParameters><wse:Identifier>uuid:${id}</wse:Identifier></wsa:ReferenceParameters>`;
}

const ns = { wse: NS.wse, wsen: NS.wsen };
const expiresXml = (s: Subscription) => `<wse:Expires>${s.expires.toISOString()}</wse:Expires>`;

/** DSP0226 10.2 Subscribe → SubscriptionService.create (`Subscription.create`) */
export async function subscribe(call: WsmanCall): Promise<WsmanReply> {
  const body = call.req.payload;
  if (!body || body.namespaceURI !== NS.wse || body.localName !== 'Subscribe') throw new WsmanFault('InvalidMessage', 'the body must be wse:Subscribe');
  const cls = call.catalogue.byName(EVENT_CLASS)!;
  const named = call.req.resourceUri ? call.catalogue.byUri(call.req.resourceUri) : cls;
  if (!named || !cls.isA(named))
    throw new WsmanFault('DestinationUnreachable', `events are offered on ${cls.uri}`, { detail: 'InvalidResourceURI' });
  const delivery = firstChild(body, NS.wse, 'Delivery');
  if (!delivery) throw new WsmanFault('InvalidMessage', 'wse:Delivery is required');
  const modeUri = delivery.getAttribute('Mode') || EVENTING.push;
  const modes: Record<string, DeliveryMode> = { [EVENTING.push]: 'push', [EVENTING.pushWithAck]: 'push-with-ack', [EVENTING.pull]: 'pull' };
  const mode = modes[modeUri] as DeliveryMode | undefined;
  if (!mode)
    throw new WsmanFault('DeliveryModeRequestedUnavailable', `delivery mode ${modeUri.slice(0, 200)} is not supported`, {
      detailXml: Object.keys(modes).map((m) => `<wse:SupportedDeliveryMode>${m}</wse:SupportedDeliveryMode>`).join(''),
    });
  const notifyEl = firstChild(delivery, NS.wse, 'NotifyTo');
  // DSP0226 10.2.9: in pull mode nothing is sent, so there is no NotifyTo
  if (!notifyEl && mode !== 'pull') throw new WsmanFault('InvalidMessage', 'wse:NotifyTo is required for push delivery');
  const notify = notifyEl && mode !== 'pull' ? epr(notifyEl, 'wse:NotifyTo') : { address: '', params: [] };
  const endEl = firstChild(body, NS.wse, 'EndTo');
  const end = endEl ? epr(endEl, 'wse:EndTo') : undefined;
  const heartbeatMs = parseHeartbeats(firstChild(delivery, NS.wsman, 'Heartbeats'));
  const resume = parseBookmark(firstChild(body, NS.wsman, 'Bookmark'));
  const filter = parseFilter(call, firstChild(body, NS.wsman, 'Filter') ?? firstChild(body, NS.wse, 'Filter'));
  // relative to the service's clock, the one it checks the expiry against
  const expires = parseExpires(firstChild(body, NS.wse, 'Expires'), call.services.subscriptions.now().getTime());
  const manager = call.req.to || 'http://localhost/wsman';
  const wsman: WsmanDelivery = { notifyParams: notify.params, endParams: end?.params ?? [], sendBookmarks: !!firstChild(body, NS.wsman, 'SendBookmarks'), manager };
  const input: SubscribeInput = {
    door: 'wsman',
    mode,
    notifyTo: notify.address,
    ...(end ? { endTo: end.address } : {}),
    delivery: { ...wsman },
    ...(filter ? { filter } : {}),
    ...(expires ? { expires } : {}),
    ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
    ...(resume ? { resume } : {}),
  };
  const s = await call.services.subscriptions.create(call.ctx, input);
  // DSP0226 10.2.9: a pull subscription's notifications are pulled with this context (wsen:Pull)
  const context = mode === 'pull' ? `<wsen:EnumerationContext>${PULL_CONTEXT_PREFIX}${s.id}</wsen:EnumerationContext>` : '';
  return { namespaces: ns, body: `<wse:SubscribeResponse><wse:SubscriptionManager>${managerEpr(manager, s.id)}</wse:SubscriptionManager>${expiresXml(s)}${context}</wse:SubscribeResponse>` };
}

/** WS-Eventing 3.2 Renew → SubscriptionService.renew (`Subscription.renew`) */
export async function renew(call: WsmanCall): Promise<WsmanReply> {
  const id = identifier(call);
  const body = call.req.payload;
  const s = await call.services.subscriptions.renew(call.ctx, id, parseExpires(body ? firstChild(body, NS.wse, 'Expires') : undefined, call.services.subscriptions.now().getTime()));
  return { namespaces: ns, body: `<wse:RenewResponse>${expiresXml(s)}</wse:RenewResponse>` };
}

/** WS-Eventing 3.3 GetStatus → SubscriptionService.status (`Subscription.status`) */
export async function getStatus(call: WsmanCall): Promise<WsmanReply> {
  const s = await call.services.subscriptions.status(call.ctx, identifier(call));
  return { namespaces: ns, body: `<wse:GetStatusResponse>${expiresXml(s)}</wse:GetStatusResponse>` };
}

/** WS-Eventing 3.4 Unsubscribe → SubscriptionService.delete (`Subscription.delete`) */
export async function unsubscribe(call: WsmanCall): Promise<WsmanReply> {
  await call.services.subscriptions.delete(call.ctx, identifier(call));
  return { namespaces: ns, body: '' };
}

export { managerEpr };

/**
 * wsen:Pull on a pull subscription's context (DSP0226 10.2.9) → SubscriptionService.pull: the oldest
 * notifications as CIMIGW_Event instances, removed from the outbox as they are handed out; the context stays
 * valid while the subscription lives; nothing pending is wsen:TimedOut (WS-Enumeration §3.2). With
 * SendBookmarks the response carries the last item's wsman:Bookmark (DSP0226 10.2.6): a new Subscribe with it
 * gets again whatever a lost response carried.
 */
export async function pullNotifications(call: WsmanCall, req: PullRequest, itemBytes: number): Promise<WsmanReply> {
  const id = req.context.slice(PULL_CONTEXT_PREFIX.length);
  const sub = await call.services.subscriptions.status(call.ctx, id).catch(() => undefined);
  if (!sub) throw new WsmanFault('InvalidEnumerationContext', 'the subscription is unknown, expired or ended');
  const cls = call.catalogue.byName(EVENT_CLASS)!;
  const rendered = new Map<number, string>();
  const xmlOf = (n: PendingNotification) => rendered.get(n.seq) ?? rendered.set(n.seq, renderInstance(toInstance(call.catalogue, cls, eventView(n.event)))).get(n.seq)!;
  let tooLarge = false;
  // only what fits in MaxEnvelopeSize / MaxCharacters is taken out of the outbox (DSP0226 §8.4: the rest waits)
  const fit = (pending: PendingNotification[]) => {
    let used = 0;
    for (let i = 0; i < pending.length; i++) {
      used += encodeXml(xmlOf(pending[i]), call.req.encoding ?? 'utf-8').length;
      if (used > itemBytes) {
        tooLarge = i === 0;
        return i;
      }
    }
    return pending.length;
  };
  const items = await call.services.subscriptions.pull(call.ctx, id, req.maxElements, fit);
  if (tooLarge) throw new WsmanFault('EncodingLimit', 'the next notification does not fit in the envelope; ask for a larger MaxEnvelopeSize', { detail: 'MaxEnvelopeSize' });
  if (!items.length) throw new WsmanFault('EnumTimedOut', 'no notification is waiting');
  const xml = items.map(xmlOf).join('');
  const d = sub.delivery as unknown as WsmanDelivery;
  const headers = d.sendBookmarks ? [`<wsman:Bookmark>${xmlEscape(items[items.length - 1].event.id)}</wsman:Bookmark>`] : [];
  return { body: `<wsen:PullResponse><wsen:EnumerationContext>${xmlEscape(req.context)}</wsen:EnumerationContext><wsen:Items>${xml}</wsen:Items></wsen:PullResponse>`, headers };
}
