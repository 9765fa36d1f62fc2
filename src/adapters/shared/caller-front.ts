import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { CertificateService } from '../../model/identity/certificate.service';
import { IdentityService, type AuthenticatedUser } from '../../model/identity/identity.service';
import { UnauthenticatedError } from '../../model/shared/model-error';
import type { OperationContext, Protocol } from '../../model/shared/operation-context';
import { admit } from './admission';
import { auditScopeOf } from './audit-hook';
import { claimedUser, decodeBasic } from './basic-credentials';
import { clientCertificateUser } from './client-certificate';

/** who a door's credential check found, and by which credential (CADF initiator.credential.type) */
export interface Credential {
  user: AuthenticatedUser;
  credentialType: string;
}

/**
 * The caller front the three doors share (issue 11 §2): the in-flight caps before any password work, the door's
 * credential check, the caller's own cap, the audit scope's user, and the OperationContext. A door keeps only which
 * credentials it reads (REST: Basic or a client certificate; SOAP: WS-Security, a client certificate or Basic;
 * WS-Man: Basic, Digest or a client certificate) and how it answers a refusal.
 */
@Injectable()
export class CallerFront {
  constructor(
    private readonly identity: IdentityService,
    private readonly certificates: CertificateService,
  ) {}

  /** admission, the door's credential check, admission of the caller, and the audit scope's user */
  async admitCaller(req: Request, check: () => Promise<Credential>): Promise<Credential> {
    admit(req); // the in-flight caps (admission.ts): refused before any password work
    const c = await check();
    admit(req, c.user);
    const audit = auditScopeOf(req);
    if (audit) {
      audit.user = c.user;
      audit.credentialType = c.credentialType;
    }
    return c;
  }

  /** the OperationContext of an admitted caller: client address, credential and the request's audit scope */
  context(req: Request, protocol: Protocol, correlationId: string, c: Credential, extra: Partial<OperationContext> = {}): OperationContext {
    return this.identity.context(c.user, protocol, correlationId, { clientAddress: req.ip, credentialType: c.credentialType, audit: auditScopeOf(req), ...extra });
  }

  /** HTTP Basic (RFC 7617) from the token after `Basic `: the claimed name and the scheme are audited before the check */
  async basic(req: Request, token: string): Promise<Credential> {
    const cred = decodeBasic(token);
    if (!cred) throw new UnauthenticatedError('malformed Basic credentials');
    const audit = auditScopeOf(req);
    if (audit) {
      audit.claimedUser = claimedUser(cred.userName);
      audit.credentialType = 'basic';
    }
    return { user: await this.identity.authenticate(cred.userName, cred.password, req.ip), credentialType: 'basic' };
  }

  /** the TLS client certificate's user, when the connection presented one (refused when untrusted or unregistered) */
  async certificate(req: Request): Promise<Credential | undefined> {
    const user = await clientCertificateUser(req, this.certificates);
    return user && { user, credentialType: 'x509' };
  }
}

/** the token of an `Authorization: Basic …` header, or undefined */
export function basicToken(req: Request): string | undefined {
  return /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}
