import { Injectable, type OnModuleInit } from '@nestjs/common';
import { createHash, randomUUID } from 'node:crypto';
import type { NotificationSink, PendingNotification, SendResult, Subscription, SubscriptionEndReason } from '../../model/subscription/subscription';
import { SubscriptionDelivery } from '../../model/subscription/subscription-delivery';
import { acknowledged, postToSubscriber } from '../shared/subscriber-post';
import { xmlEscape } from '../xml/xml-hardening';
import { childrenNamed, parseXml } from '../xml/safe-xml';
import { loadCatalogue, type CimCatalogue } from './cim-catalogue';
import { toInstance } from './cim-instances';
import { renderInstance } from './cim-render';
import { EVENT_CLASS, managerEpr, type WsmanDelivery } from './handlers/eventing';
import { eventView } from './model-sources';
import { ACTIONS, EVENTING, NS } from './wsman-ns';

/** a notification's MessageID: the same for one Event to one subscription on every attempt (at-least-once) */
export function notificationId(subscriptionId: string, eventId: string): string {
  const h = createHash('sha1').update(`${subscriptionId}/${eventId}`).digest('hex');
  return `uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** reference parameters echoed as headers, marked as such (WS-Addressing 2004/08 §2.3 binds them as header blocks) */
function echoed(params: string[]): string {
  return params.map((p) => p.replace(/^<([^\s>/]+)/, `<$1 wsa:IsReferenceParameter="true"`)).join('');
}

function envelope(to: string, action: string, messageId: string, headers: string, body: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS.s}" xmlns:wsa="${NS.wsa}" xmlns:wsman="${NS.wsman}" xmlns:wse="${NS.wse}" xmlns:cim="${NS.cim}" xmlns:xsi="${NS.xsi}"><s:Header>` +
    `<wsa:To>${xmlEscape(to)}</wsa:To><wsa:Action>${xmlEscape(action)}</wsa:Action><wsa:MessageID>${messageId}</wsa:MessageID>${headers}</s:Header><s:Body>${body}</s:Body></s:Envelope>`
  );
}

/** PushWithAck (DSP0226 10.7): the answer must be wsman:Ack, RelatesTo the notification's MessageID; read with the hardened parser (no DTD, caps) like every XML the gateway takes in */
function isAck(text: string, messageId: string): boolean {
  try {
    const root = parseXml(text);
    const header = childrenNamed(root, NS.s, 'Header')[0];
    const h = (local: string) => (header ? childrenNamed(header, NS.wsa, local)[0]?.text.trim() : undefined);
    return h('Action') === EVENTING.ack && h('RelatesTo') === messageId;
  } catch {
    return false;
  }
}

/**
 * The WS-Man door's notification sink (DSP0226 10; docs/operations.md "Subscriptions"): each Event as a
 * CIMIGW_Event instance in an envelope to NotifyTo, wsa:Action the class URI, the NotifyTo reference parameters
 * echoed as headers, wsman:AckRequested for PushWithAck, wsman:Bookmark when asked for; SubscriptionEnd to EndTo.
 */
@Injectable()
export class WsmanNotifier implements NotificationSink, OnModuleInit {
  private readonly catalogue: CimCatalogue = loadCatalogue();

  constructor(private readonly delivery: SubscriptionDelivery) {}

  private post(url: string, xml: string) {
    return postToSubscriber(url, { 'Content-Type': 'application/soap+xml;charset=UTF-8' }, xml, this.delivery.addressPolicy);
  }

  onModuleInit(): void {
    this.delivery.register('wsman', this);
  }

  render(s: Subscription, n: PendingNotification): { xml: string; messageId: string } {
    const d = s.delivery as unknown as WsmanDelivery;
    const cls = this.catalogue.byName(EVENT_CLASS)!;
    const messageId = notificationId(s.id, n.event.id);
    const headers =
      `<wsman:ResourceURI>${xmlEscape(cls.uri)}</wsman:ResourceURI>` +
      echoed(d.notifyParams ?? []) +
      (s.mode === 'push-with-ack' ? '<wsman:AckRequested/>' : '') +
      (d.sendBookmarks ? `<wsman:Bookmark>${xmlEscape(n.event.id)}</wsman:Bookmark>` : '');
    const body = renderInstance(toInstance(this.catalogue, cls, eventView(n.event)));
    return { xml: envelope(s.notifyTo, cls.uri, messageId, headers, body), messageId };
  }

  async send(s: Subscription, n: PendingNotification): Promise<SendResult> {
    const { xml, messageId } = this.render(s, n);
    try {
      const r = await this.post(s.notifyTo, xml);
      const sent = acknowledged(r);
      if (!sent.ok) return sent;
      if (s.mode === 'push-with-ack' && !isAck(r.text, messageId)) return { ok: false, reason: 'no wsman:Ack' };
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  }

  /**
   * DSP0226 10.2.5: a heartbeat to NotifyTo (wsa:Action …/wsman/Heartbeat, empty body, the NotifyTo reference
   * parameters, wsman:AckRequested for PushWithAck), acknowledged as a notification is
   */
  async heartbeat(s: Subscription): Promise<SendResult> {
    const d = s.delivery as unknown as WsmanDelivery;
    const messageId = `uuid:${randomUUID()}`;
    const headers = echoed(d.notifyParams ?? []) + (s.mode === 'push-with-ack' ? '<wsman:AckRequested/>' : '');
    try {
      const r = await this.post(s.notifyTo, envelope(s.notifyTo, EVENTING.heartbeat, messageId, headers, ''));
      const sent = acknowledged(r, 'heartbeat: ');
      if (!sent.ok) return sent;
      if (s.mode === 'push-with-ack' && !isAck(r.text, messageId)) return { ok: false, reason: 'heartbeat: no wsman:Ack' };
      return { ok: true };
    } catch (e) {
      return { ok: false, reason: `heartbeat: ${(e as Error).message}` };
    }
  }

  async end(s: Subscription, reason: SubscriptionEndReason): Promise<void> {
    // WS-Eventing 2004/08 §3.5: SubscriptionEnd tells of an unexpected end; an expiry or Unsubscribe is expected
    if (!s.endTo || reason !== 'delivery-failure') return;
    const d = s.delivery as unknown as WsmanDelivery;
    const body =
      `<wse:SubscriptionEnd><wse:SubscriptionManager>${managerEpr(d.manager, s.id)}</wse:SubscriptionManager>` +
      `<wse:Status>${EVENTING.deliveryFailure}</wse:Status><wse:Reason xml:lang="en">the subscriber did not accept notifications</wse:Reason></wse:SubscriptionEnd>`;
    await this.post(s.endTo, envelope(s.endTo, ACTIONS.subscriptionEnd, notificationId(s.id, 'end'), echoed(d.endParams ?? []), body));
  }
}
