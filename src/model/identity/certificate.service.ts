import { Inject, Injectable } from '@nestjs/common';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { requireAdmin } from '../shared/authorization';
import { CLOCK, type Clock } from '../shared/clock';
import { InvalidInputError, NotFoundError } from '../shared/model-error';
import type { OperationContext } from '../shared/operation-context';
import {
  CERTIFICATE_STORE,
  IDENTITY_STORE,
  type CertificateStore,
  type ClientCertificateRecord,
  type IdentityStore,
} from '../shared/ports';
import type { AuthenticatedUser } from './identity.service';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----/g;
const MIN_RSA_BITS = 2048;

export const certificateFingerprint = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

/**
 * The WS-Security X.509 trust store (issue 4 §6): client certificates registered per user by an admin. A signed
 * message is attributed to a user only when the certificate it names is one of these, byte for byte (pinned DER);
 * a certificate carried in a message is never trusted by itself (WSS X.509 Token Profile 1.1 §3.3).
 */
@Injectable()
export class CertificateService {
  constructor(
    @Inject(CERTIFICATE_STORE) private readonly store: CertificateStore,
    @Inject(IDENTITY_STORE) private readonly identities: IdentityStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async registerCertificate(ctx: OperationContext, userName: string, pem: string): Promise<ClientCertificateRecord> {
    requireAdmin(ctx, 'register certificates');
    const cert = parseSingleCertificate(pem);
    const now = this.clock.now();
    if (!isValidAt(cert, now)) throw new InvalidInputError(`the certificate is not valid now (valid ${cert.validFrom} to ${cert.validTo})`, 'certificate', 'CERTIFICATE.NOT_VALID');
    const key = cert.publicKey;
    // the signature allow-list is RSA only (rsa-sha256/512), so other keys could never verify
    if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS)
      throw new InvalidInputError(`only RSA keys of at least ${MIN_RSA_BITS} bits are accepted`, 'certificate', 'CERTIFICATE.KEY_REJECTED');
    const user = typeof userName === 'string' ? await this.identities.findUser(userName) : undefined;
    if (!user) throw new NotFoundError('User', String(userName));
    const record: ClientCertificateRecord = {
      id: randomUUID(),
      userId: user.id,
      userName: user.userName,
      subject: cert.subject.replace(/\n/g, ', '),
      fingerprint: certificateFingerprint(cert.raw),
      pem: cert.toString(),
      notBefore: new Date(cert.validFrom),
      notAfter: new Date(cert.validTo),
      created: now,
    };
    await this.store.insert(record);
    return record;
  }

  async listCertificates(ctx: OperationContext, userName?: string): Promise<ClientCertificateRecord[]> {
    requireAdmin(ctx, 'list certificates');
    if (userName === undefined) return this.store.list();
    const user = await this.identities.findUser(userName);
    if (!user) throw new NotFoundError('User', userName);
    return this.store.list(user.id);
  }

  async removeCertificate(ctx: OperationContext, id: string): Promise<void> {
    requireAdmin(ctx, 'remove certificates');
    if (typeof id !== 'string' || !(await this.store.remove(id))) throw new NotFoundError('Certificate', String(id));
  }

  /**
   * The user a presented certificate (DER) is registered to, with the registered PEM to verify against; undefined
   * when it is not registered, not valid now, or its user no longer exists.
   */
  async identify(der: Buffer): Promise<{ user: AuthenticatedUser; pem: string; subject: string } | undefined> {
    const rec = await this.store.findByFingerprint(certificateFingerprint(der));
    if (!rec) return undefined;
    const registered = new X509Certificate(rec.pem);
    if (!registered.raw.equals(der) || !isValidAt(registered, this.clock.now())) return undefined;
    // a disabled user (or tenant) is not let in by its certificate either (issue 16 §2)
    const u = await this.identities.findActiveUser(rec.userName);
    if (!u || u.id !== rec.userId) return undefined;
    return { user: { userId: u.id, userName: u.userName, tenantId: u.tenantId, roles: u.roles }, pem: rec.pem, subject: rec.subject };
  }
}

/** exactly one PEM CERTIFICATE block and nothing else (a private key pasted along is refused, not stored) */
function parseSingleCertificate(pem: unknown): X509Certificate {
  if (typeof pem !== 'string' || pem.length > 64 * 1024) throw new InvalidInputError('certificate must be one PEM certificate', 'certificate', 'CERTIFICATE.INVALID');
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  const rest = pem.replace(PEM_BLOCK, '').trim();
  if (blocks.length !== 1 || blocks[0][1] !== 'CERTIFICATE' || rest !== '')
    throw new InvalidInputError('certificate must be exactly one PEM CERTIFICATE block', 'certificate', 'CERTIFICATE.INVALID');
  try {
    return new X509Certificate(blocks[0][0]);
  } catch {
    throw new InvalidInputError('certificate is not a valid X.509 certificate', 'certificate', 'CERTIFICATE.INVALID');
  }
}

function isValidAt(cert: X509Certificate, now: Date): boolean {
  return new Date(cert.validFrom).getTime() <= now.getTime() && now.getTime() <= new Date(cert.validTo).getTime();
}
