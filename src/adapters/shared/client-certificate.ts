import type { Request } from 'express';
import type { AppConfig } from '../../config/env.schema';
import type { TLSSocket } from 'node:tls';
import type { CertificateService } from '../../model/identity/certificate.service';
import type { AuthenticatedUser } from '../../model/identity/identity.service';
import { UnauthenticatedError } from '../../model/shared/model-error';
import { auditScopeOf } from './audit-hook';
import { claimedUser } from './basic-credentials';

/** the connection is this gateway's own TLS and asked for client certificates (TLS_CLIENT_CA_FILE) */
export function mutualOffered(req: Request, cfg: AppConfig): boolean {
  return !!(req.socket as TLSSocket).encrypted && !!cfg.tls?.clientCaFile;
}

/** the TLS connection presented a client certificate (trusted or not) */
export function hasPeerCertificate(req: Request): boolean {
  const s = req.socket as TLSSocket;
  return !!s.encrypted && typeof s.getPeerCertificate === 'function' && !!s.getPeerCertificate()?.raw;
}

/**
 * The user of the request's TLS client certificate (README "TLS"), for every door: undefined when the connection
 * presented none. A presented certificate authenticates only when it chains to TLS_CLIENT_CA_FILE (the handshake's
 * verification) and is registered to a user, byte for byte (the same registry as WS-Security X.509,
 * CertificateService.identify); otherwise the request is refused, never downgraded to anonymous.
 */
export async function clientCertificateUser(req: Request, certificates: CertificateService): Promise<AuthenticatedUser | undefined> {
  const s = req.socket as TLSSocket;
  if (!s.encrypted || typeof s.getPeerCertificate !== 'function') return undefined;
  const peer = s.getPeerCertificate();
  if (!peer || !peer.raw) return undefined;
  const audit = auditScopeOf(req);
  if (audit) {
    audit.credentialType = 'x509';
    const cn = peer.subject?.CN;
    if (cn) audit.claimedUser = claimedUser(Array.isArray(cn) ? cn[0] : cn);
  }
  if (!s.authorized) throw new UnauthenticatedError(`the client certificate is not trusted (${String(s.authorizationError ?? 'unverified').slice(0, 80)})`);
  const found = await certificates.identify(peer.raw);
  if (!found) throw new UnauthenticatedError('the client certificate is not registered to a user');
  if (audit) audit.user = found.user;
  return found.user;
}
