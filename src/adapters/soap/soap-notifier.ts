import { Injectable, type OnModuleInit } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { NotificationSink, PendingNotification, SendResult, Subscription } from '../../model/subscription/subscription';
import { SubscriptionDelivery } from '../../model/subscription/subscription-delivery';
import { acknowledged, postToSubscriber } from '../shared/subscriber-post';
import { xmlEscape } from '../xml/xml-hardening';
import { SOAP11_ENV, SoapContract, TYPES_NS } from './soap-contract';
import { encodeHooks } from './soap-mapping';

export const NOTIFICATION_ACTION = 'urn:cimi-gateway:soap:1:EventNotification';

/** a notification's id: the same for one Event to one subscription on every attempt and after a restart */
export function soapNotificationId(subscriptionId: string, eventId: string): string {
  return `urn:cimi-gateway:notification:${createHash('sha256').update(`${subscriptionId}/${eventId}`).digest('hex').slice(0, 32)}`;
}

/**
 * The SOAP door's notification sink (issue 14 §2): each Event POSTed to the subscriber's notifyTo as a SOAP 1.1
 * envelope, Body `t:EventNotification` (the WSDL's `t:Event` type, encoded from the XSD like every answer), header
 * `t:NotificationId`. SOAP 1.1 (text/xml, SOAPAction) because it is what every SOAP toolkit can serve as a listener
 * (WS-I Basic Profile 1.1 is SOAP 1.1). A 2xx answer acknowledges it; no end message (the client reads GetSubscription).
 */
@Injectable()
export class SoapNotifier implements NotificationSink, OnModuleInit {
  constructor(
    private readonly delivery: SubscriptionDelivery,
    private readonly contract: SoapContract,
  ) {}

  onModuleInit(): void {
    this.delivery.register('soap', this);
  }

  render(s: Subscription, n: PendingNotification): { xml: string; id: string } {
    const id = soapNotificationId(s.id, n.event.id);
    const body = this.contract.schema.encode('EventNotification', { subscription: s.id, notificationId: id, event: n.event }, encodeHooks);
    const xml =
      `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11_ENV}"><soap:Header>` +
      `<t:NotificationId xmlns:t="${TYPES_NS}">${xmlEscape(id)}</t:NotificationId></soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;
    return { xml, id };
  }

  async send(s: Subscription, n: PendingNotification): Promise<SendResult> {
    const { xml } = this.render(s, n);
    try {
      const r = await postToSubscriber(s.notifyTo, { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${NOTIFICATION_ACTION}"` }, xml, this.delivery.addressPolicy);
      return acknowledged(r);
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
  }

  async end(): Promise<void> {
    // no SOAP end message: the Subscribe operation takes no endTo (docs/soap.md "Subscriptions")
  }
}
