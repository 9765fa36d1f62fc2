import { createHash } from 'node:crypto';

/** A stable, locally administered unicast MAC address (IEEE 802: first octet 0x02) for an interface id. */
export function macFor(id: string): string {
  const h = createHash('sha256').update(id).digest();
  return [0x02, h[0], h[1], h[2], h[3], h[4]].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
