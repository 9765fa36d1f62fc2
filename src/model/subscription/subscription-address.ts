import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { InvalidInputError } from '../shared/model-error';

/**
 * SUBSCRIPTION_PRIVATE_ADDRESSES (docs/operations.md "Subscriptions"): `refuse` (the default) keeps a subscriber
 * from making the gateway send to its own host or network (SSRF): a NotifyTo/EndTo whose host is, or resolves to,
 * a loopback, private, link-local, shared (CGNAT) or unspecified address is refused. `allow` accepts them (a
 * gateway whose subscribers are on the same private network, or a test listener on 127.0.0.1).
 */
export type PrivateAddressPolicy = 'refuse' | 'allow';

const BLOCKED = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], // "this network" (RFC 1122)
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // shared address space (RFC 6598)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata services live here)
  ['172.16.0.0', 12], // RFC 1918
  ['192.168.0.0', 16], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments (RFC 6890)
  ['198.18.0.0', 15], // benchmarking (RFC 2544)
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['fc00::', 7], // unique local (RFC 4193)
  ['fe80::', 10], // link-local
  ['ff00::', 8], // multicast
  ['::', 96], // IPv4-compatible (deprecated; WHATWG URLs write ::127.0.0.1 as ::7f00:1)
  ['64:ff9b::', 96], // NAT64 well-known prefix (RFC 6052): reaches the IPv4 address it embeds
  ['64:ff9b:1::', 48], // local-use NAT64 (RFC 8215)
  ['2002::', 16], // 6to4 (RFC 3056): embeds an IPv4 address
] as const)
  BLOCKED.addSubnet(net, bits, 'ipv6');

/** an IPv4-mapped or -compatible IPv6 address (::ffff:127.0.0.1) is checked as the IPv4 address it carries */
export function isBlockedAddress(address: string): boolean {
  const mapped = /^::(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return BLOCKED.check(mapped[1], 'ipv4');
  const family = isIP(address);
  return family === 4 ? BLOCKED.check(address, 'ipv4') : family === 6 ? BLOCKED.check(address, 'ipv6') : true;
}

/** the addresses of a URL's host: itself when it is a literal, else every address the resolver gives */
async function addressesOf(host: string): Promise<string[]> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare)) return [bare];
  try {
    return (await lookup(bare, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

/**
 * refuses (invalid-input, nothing stored) a NotifyTo/EndTo the policy does not allow; every resolved address counts.
 * Registration's check; each delivery checks the address it connects to again (adapters/shared/subscriber-post.ts),
 * so a name that re-resolves to a private address later (DNS rebinding) is not sent to.
 */
export async function checkSubscriberAddress(url: string, field: string, policy: PrivateAddressPolicy): Promise<void> {
  if (policy === 'allow') return;
  const host = new URL(url).hostname;
  const addrs = await addressesOf(host);
  if (!addrs.length) throw new InvalidInputError(`${field}: the host ${host.slice(0, 100)} does not resolve`, field, 'SUBSCRIPTION.INVALID_ADDRESS');
  const bad = addrs.find(isBlockedAddress);
  // the resolved address is not echoed: the answer must not map the gateway's internal names to addresses
  if (bad) throw new InvalidInputError(`${field}: ${host.slice(0, 100)} is, or resolves to, a loopback, private or link-local address; this gateway refuses them (SUBSCRIPTION_PRIVATE_ADDRESSES=refuse)`, field, 'SUBSCRIPTION.PRIVATE_ADDRESS');
}
