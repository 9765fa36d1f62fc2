import { Module } from '@nestjs/common';
import { WS_SECURITY_VERIFIER } from './ws-security.contract';
import { WsSecurityService } from './ws-security.service';

/**
 * WS-Security verification for the SOAP door. The SOAP module imports this and injects WS_SECURITY_VERIFIER into
 * its HTTP edge; the model services (IdentityService, CertificateService) and the REPLAY_CACHE port come from the
 * global model and persistence modules.
 */
@Module({
  providers: [WsSecurityService, { provide: WS_SECURITY_VERIFIER, useExisting: WsSecurityService }],
  exports: [WS_SECURITY_VERIFIER, WsSecurityService],
})
export class WsSecurityModule {}
