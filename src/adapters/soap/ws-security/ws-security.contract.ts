import type { AuthenticatedUser } from '../../../model/identity/identity.service';

/**
 * The contract between the SOAP edge and WS-Security verification (OASIS WSS 1.1). The edge hands over the raw
 * envelope (size-limited, decompressed, DOCTYPE-free) before node-soap sees it; `undefined` means the envelope has no
 * wsse:Security header (the edge then falls back to HTTP Basic).
 */
export interface WsSecurityVerifier {
  /** `clientAddress`: for the login throttle (IdentityService), which counts UsernameToken failures too */
  verify(raw: string, soapVersion: '1.1' | '1.2', clientAddress?: string): Promise<WssResult | undefined>;
}

export interface WssResult {
  user: AuthenticatedUser;
  credentialType: 'wss-password-text' | 'wss-password-digest' | 'wss-x509';
}

/** WSS 1.1 §12 fault codes (QNames in the wsse namespace). */
export type WssFaultCode = 'FailedAuthentication' | 'InvalidSecurity' | 'InvalidSecurityToken' | 'FailedCheck' | 'MessageExpired';

export class WsSecurityError extends Error {
  /** the UsernameToken's user name when its password was refused (for the audit trail; never the secret) */
  claimedUser?: string;

  constructor(readonly code: WssFaultCode, message: string) {
    super(message);
    this.name = 'WsSecurityError';
  }
}

export const WS_SECURITY_VERIFIER = Symbol('WS_SECURITY_VERIFIER');
