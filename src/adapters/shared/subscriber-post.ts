import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isBlockedAddress, type PrivateAddressPolicy } from '../../model/subscription/subscription-address';

/** a subscriber gets this long to answer a notification */
export const SUBSCRIBER_TIMEOUT_MS = 5000;
/** a subscriber's answer is read up to this many bytes (an Ack is a few hundred); the rest is not waited for */
export const ANSWER_CAP = 64 * 1024;

export interface SubscriberAnswer {
  status: number;
  /** the answer's first ANSWER_CAP bytes, as UTF-8 */
  text: string;
}

/** any 2xx acknowledges a notification (every door's sink); anything else is a failed attempt, retried with backoff */
export function acknowledged(r: SubscriberAnswer, what = ''): { ok: true } | { ok: false; reason: string } {
  return r.status >= 200 && r.status <= 299 ? { ok: true } : { ok: false, reason: `${what}HTTP ${r.status}` };
}

/** names the address: this reaches the operator's log (a failed delivery's reason), never a client */
const refused = (host: string, address: string) =>
  Object.assign(new Error(`${host} resolves to ${address}, a loopback, private or link-local address (SUBSCRIPTION_PRIVATE_ADDRESSES=refuse)`), { code: 'EADDRREFUSED' });

/**
 * The resolver the connection uses, refusing private addresses: the address checked is the one connected to, so a
 * name registered with a public address that later resolves to a private one (DNS rebinding) is not sent to.
 */
function guardedLookup(host: string): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => isBlockedAddress(a.address));
      if (bad || !addresses.length) return callback(refused(host, bad?.address ?? 'nothing'), '', 0);
      if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * One notification POST to a subscriber (every door's sink): no redirects followed, a time limit, the answer read
 * up to ANSWER_CAP, and under `refuse` no connection to a loopback, private or link-local address, checked at
 * connect time (docs/operations.md "Subscriptions").
 */
export function postToSubscriber(url: string, headers: Record<string, string>, body: string, policy: PrivateAddressPolicy): Promise<SubscriberAnswer> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (policy === 'refuse' && isIP(host) && isBlockedAddress(host)) return Promise.reject(refused(host, host));
  const send = u.protocol === 'https:' ? httpsRequest : httpRequest;
  const payload = Buffer.from(body, 'utf8');
  return new Promise<SubscriberAnswer>((resolve, reject) => {
    const req = send(
      u,
      {
        method: 'POST',
        headers: { ...headers, 'Content-Length': String(payload.length) },
        timeout: SUBSCRIBER_TIMEOUT_MS,
        ...(policy === 'refuse' ? { lookup: guardedLookup(host) } : {}),
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).subarray(0, ANSWER_CAP).toString('utf8') });
        res.on('data', (c: Buffer) => {
          if (size >= ANSWER_CAP) return;
          chunks.push(c);
          size += c.length;
          if (size >= ANSWER_CAP) {
            done();
            res.destroy();
          }
        });
        res.on('end', done);
        res.on('error', (e) => (size >= ANSWER_CAP ? undefined : reject(e)));
      },
    );
    // the whole exchange is bounded, not only each socket read
    const timer = setTimeout(() => req.destroy(new Error(`the subscriber did not answer within ${SUBSCRIBER_TIMEOUT_MS} ms`)), SUBSCRIBER_TIMEOUT_MS);
    req.on('timeout', () => req.destroy(new Error(`the subscriber did not answer within ${SUBSCRIBER_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.on('close', () => clearTimeout(timer));
    req.end(payload);
  });
}
