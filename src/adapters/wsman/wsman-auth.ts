import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { claimedUser, decodeBasic } from '../shared/basic-credentials';
import type { AuthenticatedUser, IdentityService } from '../../model/identity/identity.service';
import type { Keyring } from '../../model/identity/keyring';
import type { ReplayCache } from '../../model/shared/ports';
import { isModelError } from '../../model/shared/model-error';

/**
 * HTTP authentication of the WS-Man door (docs/wsman.md §4): Basic (RFC 7617) and Digest (RFC 7616, MD5 and
 * SHA-256, their -sess variants, qop=auth). Hand-written: `http-auth` (the maintained npm server-side library)
 * offers only MD5/MD5-sess, keeps nonces in one process's memory, and wants the HA1 from a htdigest file or
 * callback per realm; we need SHA-256 and nonces every gateway process on the same database accepts.
 *
 * Nonces are stateless: `<timestamp>.<random>.<HMAC>` under a key derived from the gateway secret (Keyring), valid
 * for NONCE_TTL_MS; an expired but genuine nonce is answered `stale=true` (RFC 7616 §3.3) so clients retry
 * without asking the user. Each accepted (nonce, nc, cnonce) is remembered in the database's replay cache until its
 * nonce expires, so a captured Authorization header replayed to any gateway process is refused (RFC 7616 §5.5).
 */
export const REALM = 'cimi-gateway';
export const NONCE_TTL_MS = 5 * 60 * 1000;

export type AuthResult = { user: AuthenticatedUser; credentialType: 'basic' | 'digest' | 'x509' };

export class AuthFailure extends Error {
  /** the user name the refused request claimed (for the audit trail; never its secret) */
  claimedUser?: string;
  credentialType?: 'basic' | 'digest' | 'x509';

  constructor(
    message: string,
    /** the Digest nonce was genuine but expired (RFC 7616 §3.3 stale=true) */
    readonly stale = false,
  ) {
    super(message);
    this.name = 'AuthFailure';
  }
}

type Algorithm = 'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess';
const HASH: Record<Algorithm, 'md5' | 'sha256'> = { MD5: 'md5', 'MD5-sess': 'md5', 'SHA-256': 'sha256', 'SHA-256-sess': 'sha256' };

export class WsmanAuthenticator {
  constructor(
    private readonly identity: IdentityService,
    private readonly keyring: Keyring,
    private readonly replay: ReplayCache,
    private readonly now: () => number = Date.now,
  ) {}

  /** The WWW-Authenticate values of a 401 (RFC 7616 §3.7: SHA-256 listed before MD5; RFC 7617 Basic last). */
  challenges(stale = false): string[] {
    const nonce = this.nonce();
    const opaque = this.keyring.mac('wsman-digest-opaque', REALM).subarray(0, 12).toString('base64url');
    const s = stale ? ', stale=true' : '';
    return [
      `Digest realm="${REALM}", qop="auth", algorithm=SHA-256, nonce="${nonce}", opaque="${opaque}", charset=UTF-8${s}`,
      `Digest realm="${REALM}", qop="auth", algorithm=MD5, nonce="${nonce}", opaque="${opaque}", charset=UTF-8${s}`,
      `Basic realm="${REALM}", charset="UTF-8"`,
    ];
  }

  /** Verifies an Authorization header; throws AuthFailure (answered 401 with fresh challenges). */
  async authenticate(header: string | undefined, method: string, requestUri: string, clientAddress?: string): Promise<AuthResult> {
    if (!header) throw new AuthFailure('credentials required');
    const sp = header.indexOf(' ');
    const scheme = (sp < 0 ? header : header.slice(0, sp)).toLowerCase();
    const rest = sp < 0 ? '' : header.slice(sp + 1).trim();
    try {
      if (scheme === 'basic') return await this.basic(rest, clientAddress);
      if (scheme === 'digest') return await this.digest(rest, method, requestUri, clientAddress);
    } catch (e) {
      if (e instanceof AuthFailure) e.credentialType ??= scheme as 'basic' | 'digest';
      throw e;
    }
    throw new AuthFailure(`unsupported authentication scheme ${scheme.slice(0, 20)}`);
  }

  private async basic(token: string, clientAddress?: string): Promise<AuthResult> {
    const cred = decodeBasic(token);
    if (!cred) throw new AuthFailure('malformed Basic credentials');
    try {
      return { user: await this.identity.authenticate(cred.userName, cred.password, clientAddress), credentialType: 'basic' };
    } catch (e) {
      if (isModelError(e) && e.kind === 'unauthenticated') throw Object.assign(new AuthFailure(e.message), { claimedUser: claimedUser(cred.userName) });
      throw e;
    }
  }

  private async digest(params: string, method: string, requestUri: string, clientAddress?: string): Promise<AuthResult> {
    const p = parseAuthParams(params);
    const algorithm = (p.algorithm ?? 'MD5') as Algorithm;
    const algo = Object.keys(HASH).find((a) => a.toLowerCase() === algorithm.toLowerCase()) as Algorithm | undefined;
    if (!algo) throw new AuthFailure('unsupported Digest algorithm');
    const { username, realm, nonce, uri, response, qop, nc, cnonce } = p;
    if (!username || !nonce || !uri || !response || realm !== REALM) throw new AuthFailure('incomplete Digest credentials');
    if (p.userhash === 'true') throw new AuthFailure('userhash is not supported');
    // RFC 7616 §3.4: qop=auth (auth-int is not offered); the legacy RFC 2069 form without qop is refused
    if (qop !== 'auth' || !nc || !cnonce || !/^[0-9a-fA-F]{8}$/.test(nc)) throw new AuthFailure('Digest needs qop=auth, nc and cnonce');
    // RFC 7616 §3.4.6: the digest-uri must be the request-target
    if (!sameTarget(uri, requestUri)) throw new AuthFailure('Digest uri does not match the request');
    const fresh = this.checkNonce(nonce);
    if (fresh === 'forged') throw new AuthFailure('unknown nonce');
    const h = (s: string) => createHash(HASH[algo]).update(s, 'utf8').digest('hex');
    // the model supplies the password (a random one for unknown users, so both failures take the same time) and
    // counts a mismatch in the login throttle, the same one Basic goes through
    const matches = (password: string) => {
      let ha1 = h(`${username}:${REALM}:${password}`);
      if (algo.endsWith('-sess')) ha1 = h(`${ha1}:${nonce}:${cnonce}`);
      const ha2 = h(`${method}:${uri}`);
      const expected = Buffer.from(h(`${ha1}:${nonce}:${nc}:${cnonce}:${qop}:${ha2}`));
      const got = Buffer.from(response.toLowerCase());
      return expected.length === got.length && timingSafeEqual(expected, got);
    };
    const claimed = claimedUser(username);
    let user: AuthenticatedUser;
    try {
      user = await this.identity.authenticateDigest(username, clientAddress, matches);
    } catch (e) {
      if (isModelError(e) && e.kind === 'unauthenticated') throw Object.assign(new AuthFailure('invalid user name or password'), { claimedUser: claimed });
      throw e;
    }
    if (fresh === 'stale') throw Object.assign(new AuthFailure('nonce expired', true), { claimedUser: claimed });
    // RFC 7616 §3.4: the client counts its requests under one nonce; the same count twice is a replayed header
    const seen = createHash('sha256').update(`wsman-digest\0${nonce}\0${nc.toLowerCase()}\0${cnonce}`).digest('hex');
    const expires = new Date(nonceTime(nonce) + NONCE_TTL_MS + 60000);
    if (!(await this.replay.remember(seen, expires, new Date(this.now())))) throw Object.assign(new AuthFailure('Digest nonce count already used (a replayed request)'), { claimedUser: claimed });
    return { user, credentialType: 'digest' };
  }

  private nonce(): string {
    const body = `${this.now().toString(36)}.${randomBytes(9).toString('base64url')}`;
    return `${body}.${this.keyring.mac('wsman-digest-nonce', body).subarray(0, 16).toString('base64url')}`;
  }

  private checkNonce(nonce: string): 'ok' | 'stale' | 'forged' {
    const i = nonce.lastIndexOf('.');
    if (i < 0) return 'forged';
    const body = nonce.slice(0, i);
    const mac = Buffer.from(nonce.slice(i + 1), 'base64url');
    const want = this.keyring.mac('wsman-digest-nonce', body).subarray(0, 16);
    if (mac.length !== want.length || !timingSafeEqual(mac, want)) return 'forged';
    const ts = nonceTime(nonce);
    const age = this.now() - ts;
    return Number.isFinite(ts) && age >= -60000 && age <= NONCE_TTL_MS ? 'ok' : 'stale';
  }
}

/** when a nonce of ours was made (ms since the epoch; NaN for anything else) */
function nonceTime(nonce: string): number {
  return parseInt(nonce.split('.')[0], 36);
}

/** RFC 7235 §2.1 auth-params: `name=token` or `name="quoted string"` (backslash escapes), comma separated. */
export function parseAuthParams(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < s.length && (m = re.exec(s))) {
    out[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  return out;
}

/** the digest-uri names the request target: same path and query (clients may send the absolute form) */
function sameTarget(digestUri: string, requestUri: string): boolean {
  if (digestUri === requestUri) return true;
  try {
    const u = new URL(digestUri, 'http://x');
    return `${u.pathname}${u.search}` === requestUri;
  } catch {
    return false;
  }
}
