import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { xmlEscape } from '../../xml/xml-hardening';
import { catalogueFile } from '../cim-catalogue';
import { NS, SECURITY_PROFILES } from '../wsman-ns';

/** The product this door identifies as (DSP0226 11): name and version from the project's package.json. */
export const PRODUCT: { vendor: string; version: string } = (() => {
  const pkg = JSON.parse(readFileSync(join(catalogueFile(), '..', '..', 'package.json'), 'utf8')) as { name: string; version: string };
  return { vendor: pkg.name, version: pkg.version };
})();

/**
 * wsmid:IdentifyResponse (DSP0226 11; docs/wsman.md §1.5). Security profiles are listed only to an authenticated
 * caller [ms]; `https` says which transport profile family applies, `mutual` that client certificates are asked for.
 */
export function identifyResponse(opts: { authenticated: boolean; https: boolean; mutual?: boolean; version?: string }): { body: string; namespaces: Record<string, string> } {
  const profiles = opts.https ? [SECURITY_PROFILES.httpsBasic, SECURITY_PROFILES.httpsDigest, ...(opts.mutual ? [SECURITY_PROFILES.httpsMutual] : [])] : [SECURITY_PROFILES.httpBasic, SECURITY_PROFILES.httpDigest];
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
