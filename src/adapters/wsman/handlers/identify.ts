import { xmlEscape } from '../../xml/xml-hardening';
import { NS, SECURITY_PROFILES } from '../wsman-ns';

/** The product this door identifies as (DSP0226 11). */
export const PRODUCT = { vendor: 'cimi-gateway', version: '0.1.0' };

/**
 * wsmid:IdentifyResponse (DSP0226 11; docs/wsman.md §1.5). Security profiles are listed only to an authenticated
 * caller [ms]; `https` says which transport profile family applies.
 */
export function identifyResponse(opts: { authenticated: boolean; https: boolean; version?: string }): { body: string; namespaces: Record<string, string> } {
  const profiles = opts.https ? [SECURITY_PROFILES.httpsBasic, SECURITY_PROFILES.httpsDigest] : [SECURITY_PROFILES.httpBasic, SECURITY_PROFILES.httpDigest];
  const sec = opts.authenticated
    ? `<wsmid:SecurityProfiles>${profiles.map((p) => `<wsmid:SecurityProfileName>${p}</wsmid:SecurityProfileName>`).join('')}</wsmid:SecurityProfiles>`
    : '';
  return {
    namespaces: { wsmid: NS.wsmid },
    body:
      '<wsmid:IdentifyResponse>' +
      `<wsmid:ProtocolVersion>${NS.wsman}</wsmid:ProtocolVersion>` +
      `<wsmid:ProductVendor>${xmlEscape(PRODUCT.vendor)}</wsmid:ProductVendor>` +
      `<wsmid:ProductVersion>${xmlEscape(opts.version ?? PRODUCT.version)}</wsmid:ProductVersion>` +
      sec +
      '</wsmid:IdentifyResponse>',
  };
}
