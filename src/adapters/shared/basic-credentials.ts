import { xmlChars } from '../xml/safe-xml';

/**
 * HTTP Basic (RFC 7617) credentials from the token after `Basic `; undefined when malformed. Every door reads
 * Basic through this one function.
 */
export function decodeBasic(token: string): { userName: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]+=*$/.test(token)) return undefined;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : { userName: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * the user name a refused request claimed, as its audit record keeps it: bounded, never the password, and without
 * characters XML 1.0 cannot carry (the record is read back through SOAP and WS-Man, where one would break the page)
 */
export function claimedUser(userName: string): string {
  return xmlChars(userName.slice(0, 64));
}
