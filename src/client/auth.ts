import { createHash, randomBytes } from 'node:crypto';
import { esc } from './protocol';

/** HTTP Basic (RFC 7617) */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

export interface DigestChallenge {
  realm: string;
  nonce: string;
  opaque?: string;
  qop?: string;
  algorithm: string;
}

/** the MD5 Digest challenge among a 401's WWW-Authenticate values (RFC 7616 §3.3), if there is one */
export function digestChallenge(header: string | null): DigestChallenge | undefined {
  if (!header) return undefined;
  for (const c of header.split(/,\s*(?=(?:Digest|Basic|Negotiate|Bearer)\s)/i)) {
    const m = /^Digest\s+(.*)$/is.exec(c.trim());
    if (!m) continue;
    const p: Record<string, string> = {};
    for (const kv of m[1].matchAll(/([a-zA-Z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) p[kv[1].toLowerCase()] = kv[2] ?? kv[3];
    const algorithm = p.algorithm ?? 'MD5';
    if (algorithm.toUpperCase() !== 'MD5' || !p.nonce || p.realm === undefined) continue;
    if (p.qop && !p.qop.split(',').map((q) => q.trim()).includes('auth')) continue;
    return { realm: p.realm, nonce: p.nonce, opaque: p.opaque, qop: p.qop ? 'auth' : undefined, algorithm };
  }
  return undefined;
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

/** RFC 7616 §3.4 Authorization for MD5 with qop=auth; `nc` counts the requests made with this nonce */
export function digestAuthorization(ch: DigestChallenge, user: string, password: string, method: string, uri: string, nc: number, cnonce = randomBytes(12).toString('hex')): string {
  const ha1 = md5(`${user}:${ch.realm}:${password}`);
  const ha2 = md5(`${method}:${uri}`);
  const ncs = nc.toString(16).padStart(8, '0');
  const response = ch.qop ? md5(`${ha1}:${ch.nonce}:${ncs}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${ch.nonce}:${ha2}`);
  const q = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
  const parts = [`username=${q(user)}`, `realm=${q(ch.realm)}`, `nonce=${q(ch.nonce)}`, `uri=${q(uri)}`, `algorithm=MD5`, `response=${q(response)}`];
  if (ch.qop) parts.push('qop=auth', `nc=${ncs}`, `cnonce=${q(cnonce)}`);
  if (ch.opaque !== undefined) parts.push(`opaque=${q(ch.opaque)}`);
  return `Digest ${parts.join(', ')}`;
}

const WSSE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const WSU = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';
const PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';

/**
 * A wsse:Security header with a UsernameToken (UsernameToken Profile 1.1 §3.1, §4.1): PasswordText, or
 * PasswordDigest = Base64(SHA-1(nonce + created + password)) with a fresh Nonce and Created.
 */
export function usernameToken(user: string, password: string, type: 'text' | 'digest'): string {
  const nonce = randomBytes(16);
  const created = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const pw =
    type === 'digest'
      ? `<wsse:Password Type="${PROFILE}#PasswordDigest">${createHash('sha1').update(Buffer.concat([nonce, Buffer.from(created + password, 'utf8')])).digest('base64')}</wsse:Password>`
      : `<wsse:Password Type="${PROFILE}#PasswordText">${esc(password)}</wsse:Password>`;
  return (
    `<wsse:Security xmlns:wsse="${WSSE}" xmlns:wsu="${WSU}"><wsse:UsernameToken>` +
    `<wsse:Username>${esc(user)}</wsse:Username>${pw}` +
    `<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">${nonce.toString('base64')}</wsse:Nonce>` +
    `<wsu:Created>${created}</wsu:Created></wsse:UsernameToken></wsse:Security>`
  );
}
