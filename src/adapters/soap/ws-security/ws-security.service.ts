import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import type { Element } from '@xmldom/xmldom';
import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';
import { ExclusiveCanonicalization } from 'xml-crypto';
import { APP_CONFIG, type AppConfig } from '../../../config/env.schema';
import { CertificateService } from '../../../model/identity/certificate.service';
import { IdentityService, type AuthenticatedUser } from '../../../model/identity/identity.service';
import { CLOCK, type Clock } from '../../../model/shared/clock';
import { isModelError } from '../../../model/shared/model-error';
import { REPLAY_CACHE, type ReplayCache } from '../../../model/shared/ports';
import { WsSecurityError, type WsSecurityVerifier, type WssResult } from './ws-security.contract';
import { claimedUser } from '../../shared/basic-credentials';
import { SignatureWorkers } from './signature-workers';
import {
  allElements,
  childElements,
  children,
  decodeBase64,
  inScopeAncestorNamespaces,
  NS,
  optionalChild,
  parseDateTime,
  parseEnvelope,
  stringOf,
  textOf,
  WSSE_NAMESPACES,
  wsuId,
  type ParsedEnvelope,
} from './wss-xml';

const UT_PROFILE = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0';
const PASSWORD_TEXT = `${UT_PROFILE}#PasswordText`;
const PASSWORD_DIGEST = `${UT_PROFILE}#PasswordDigest`;
const BASE64_BINARY = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary';
const X509V3 = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const MAX_REFERENCES = 16;

const SHA256_FAMILY = {
  signature: ['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512'],
  digest: ['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512'],
};
const SHA1 = { signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1', digest: 'http://www.w3.org/2000/09/xmldsig#sha1' };

/** the children of wsse:Security this verifier processes; anything else must not be silently ignored (WSS 1.1 §6) */
const KNOWN_SECURITY_CHILDREN = new Set([`${NS.wsse}|UsernameToken`, `${NS.wsse}|BinarySecurityToken`, `${NS.wsu}|Timestamp`, `${NS.ds}|Signature`]);


/**
 * WS-Security verification for the SOAP door (OASIS WSS 1.1, UsernameToken Profile 1.1, X.509 Token Profile 1.1),
 * run on the raw envelope before node-soap parses it (node-soap verifies nothing itself: docs/soap.md §1.4).
 *
 * UsernameToken: PasswordText through IdentityService.authenticate; PasswordDigest = Base64(SHA-1(nonce + created +
 * password)) against the user's sealed password, compared in constant time. Signatures: the safe recipe of
 * docs/soap.md §2.3 with xml-crypto: one Signature in the Security header, the key only from the trust store
 * (pinned DER), checkSignature === true, the actual Body and Timestamp among the signed references, an algorithm
 * allow-list. Nonces and signature values go to the database replay cache shared by every gateway process.
 */
@Injectable()
export class WsSecurityService implements WsSecurityVerifier, OnModuleDestroy {
  private readonly log = new Logger('WsSecurity');
  private readonly skewMs: number;
  private readonly maxAgeMs: number;
  private readonly signatureAlgorithms: string[];
  private readonly digestAlgorithms: string[];
  private readonly workers: SignatureWorkers;

  constructor(
    private readonly identity: IdentityService,
    private readonly certificates: CertificateService,
    @Inject(REPLAY_CACHE) private readonly replay: ReplayCache,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(APP_CONFIG) cfg: AppConfig,
  ) {
    this.skewMs = cfg.WSS_CLOCK_SKEW_SECONDS * 1000;
    this.maxAgeMs = cfg.WSS_MAX_AGE_SECONDS * 1000;
    this.signatureAlgorithms = [...SHA256_FAMILY.signature, ...(cfg.WSS_ALLOW_SHA1 ? [SHA1.signature] : [])];
    this.digestAlgorithms = [...SHA256_FAMILY.digest, ...(cfg.WSS_ALLOW_SHA1 ? [SHA1.digest] : [])];
    this.workers = new SignatureWorkers(cfg.WSS_VERIFY_THREADS);
  }

  onModuleDestroy(): Promise<void> {
    return this.workers.stop();
  }

  async verify(raw: string, soapVersion: '1.1' | '1.2', clientAddress?: string): Promise<WssResult | undefined> {
    try {
      return await this.check(raw, soapVersion, clientAddress);
    } catch (e) {
      // the fault names only the wsse code (WSS 1.1 §12); the reason is for the operator, and never holds a secret
      if (e instanceof WsSecurityError) this.log.log(`WS-Security refused a request: ${e.code}: ${e.message}`);
      throw e;
    }
  }

  private async check(raw: string, soapVersion: '1.1' | '1.2', clientAddress?: string): Promise<WssResult | undefined> {
    // element names cannot be escaped, so without these letters there is no Security header and no Signature
    if (!raw.includes('Security') && !raw.includes('Signature')) return undefined;
    const env = parseEnvelope(raw, soapVersion);
    const securities = env.header ? children(env.header, WSSE_NAMESPACES, 'Security') : [];
    const signatures = env.doc.getElementsByTagNameNS(NS.ds, 'Signature');
    if (securities.length === 0) {
      // a Signature outside a Security header would be ignored by the edge: refuse rather than run unsigned
      if (signatures.length) throw new WsSecurityError('InvalidSecurity', 'a ds:Signature must be inside the wsse:Security header');
      return undefined;
    }
    // WSS 1.1 §6.1: several Security headers only for different actors/roles; this gateway is the only one
    if (securities.length > 1) throw new WsSecurityError('InvalidSecurity', 'exactly one wsse:Security header is accepted');
    const security = securities[0];
    for (const e of childElements(security)) {
      if (!KNOWN_SECURITY_CHILDREN.has(`${e.namespaceURI}|${e.localName}`))
        throw new WsSecurityError('InvalidSecurity', `unsupported element ${e.localName} in wsse:Security`);
    }
    const now = this.clock.now();
    const timestamp = optionalChild(security, NS.wsu, 'Timestamp');
    const stamp = timestamp && this.checkTimestamp(timestamp, now);
    const token = optionalChild(security, NS.wsse, 'UsernameToken', 'InvalidSecurityToken');
    if (signatures.length > 1) throw new WsSecurityError('InvalidSecurity', 'exactly one ds:Signature is accepted');
    const signature = signatures.length ? signatures.item(0)! : undefined;
    if (signature && signature.parentNode !== security) throw new WsSecurityError('InvalidSecurity', 'the ds:Signature must be a child of the wsse:Security header');
    if (!token && !signature) throw new WsSecurityError('InvalidSecurity', 'wsse:Security carries neither a UsernameToken nor a Signature');

    let signer: AuthenticatedUser | undefined;
    if (signature) {
      if (!timestamp || !stamp) throw new WsSecurityError('InvalidSecurity', 'a signed message needs a wsu:Timestamp in the Security header');
      signer = await this.verifySignature(raw, env, security, signature, timestamp, stamp, now);
    }
    let tokenUser: { user: AuthenticatedUser; type: WssResult['credentialType'] } | undefined;
    if (token) tokenUser = await this.verifyUsernameToken(token, now, clientAddress);
    if (signer && tokenUser && signer.userId !== tokenUser.user.userId)
      throw new WsSecurityError('FailedAuthentication', 'the UsernameToken and the signing certificate name different users');
    if (signer) return { user: signer, credentialType: 'wss-x509' };
    return { user: tokenUser!.user, credentialType: tokenUser!.type };
  }

  // --- UsernameToken Profile 1.1 -----------------------------------------------------------------------------------

  private async verifyUsernameToken(token: Element, now: Date, clientAddress?: string): Promise<{ user: AuthenticatedUser; type: WssResult['credentialType'] }> {
    const nameEl = optionalChild(token, NS.wsse, 'Username', 'InvalidSecurityToken');
    const passwordEl = optionalChild(token, NS.wsse, 'Password', 'InvalidSecurityToken');
    const nonceEl = optionalChild(token, NS.wsse, 'Nonce', 'InvalidSecurityToken');
    const createdEl = optionalChild(token, NS.wsu, 'Created', 'InvalidSecurityToken');
    // Username and PasswordText are xsd:string (whitespace preserved), unlike the base64 and dateTime values
    const userName = nameEl ? stringOf(nameEl) : '';
    if (!userName) throw new WsSecurityError('InvalidSecurityToken', 'the UsernameToken has no Username');
    if (!passwordEl) throw new WsSecurityError('FailedAuthentication', 'the UsernameToken has no Password');
    const type = passwordEl.getAttribute('Type') || PASSWORD_TEXT; // UsernameToken Profile 1.1 §3.1: Type defaults to PasswordText
    if (type !== PASSWORD_TEXT && type !== PASSWORD_DIGEST) throw new WsSecurityError('InvalidSecurityToken', 'unsupported Password Type');

    let nonce: Buffer | undefined;
    if (nonceEl) {
      const enc = nonceEl.getAttribute('EncodingType') || BASE64_BINARY;
      if (enc !== BASE64_BINARY) throw new WsSecurityError('InvalidSecurityToken', 'the Nonce must be Base64Binary');
      nonce = decodeBase64(textOf(nonceEl), 'the Nonce', 'InvalidSecurityToken');
      if (nonce.length < 8 || nonce.length > 256) throw new WsSecurityError('InvalidSecurityToken', 'the Nonce must have 8 to 256 bytes');
    }
    // the digest covers the Created text exactly as sent (§4.1), so keep the literal string
    const createdText = createdEl ? textOf(createdEl) : undefined;
    const created = createdText !== undefined ? parseDateTime(createdText, 'the UsernameToken Created') : undefined;
    if (created) this.checkCreated(created, now, 'the UsernameToken');
    if (nonce && !created) throw new WsSecurityError('InvalidSecurityToken', 'a Nonce needs a Created');

    let user: AuthenticatedUser;
    if (type === PASSWORD_DIGEST) {
      // §4.1: without a nonce and a fresh Created a digest is a replayable password equivalent
      if (!nonce || !createdText) throw new WsSecurityError('InvalidSecurityToken', 'a PasswordDigest needs a Nonce and a Created');
      const sent = decodeBase64(textOf(passwordEl), 'the PasswordDigest', 'FailedAuthentication');
      const matches = (password: string) => {
        const expected = createHash('sha1').update(nonce).update(createdText, 'utf8').update(password, 'utf8').digest();
        return sent.length === expected.length && timingSafeEqual(sent, expected);
      };
      user = await this.failedAuthentication(userName, () => this.identity.authenticateDigest(userName, clientAddress, matches));
    } else {
      user = await this.failedAuthentication(userName, () => this.identity.authenticate(userName, stringOf(passwordEl), clientAddress));
    }
    // recorded only once the token authenticated, so unauthenticated traffic cannot fill the cache
    if (nonce && created) await this.once(['ut-nonce', user.userId, nonce.toString('base64')], created, now, 'the UsernameToken Nonce was already used');
    return { user, type: type === PASSWORD_DIGEST ? 'wss-password-digest' : 'wss-password-text' };
  }

  /** a refused password is wsse:FailedAuthentication (WSS 1.1 §12); a throttled login stays the model's error */
  private async failedAuthentication(userName: string, attempt: () => Promise<AuthenticatedUser>): Promise<AuthenticatedUser> {
    try {
      return await attempt();
    } catch (e) {
      if (isModelError(e) && e.kind === 'unauthenticated') throw Object.assign(new WsSecurityError('FailedAuthentication', 'invalid user name or password'), { claimedUser: claimedUser(userName) });
      throw e;
    }
  }

  // --- Timestamp (WSS 1.1 §10) ---------------------------------------------------------------------------------------

  private checkTimestamp(ts: Element, now: Date): { created: Date; expires?: Date } {
    const createdEl = optionalChild(ts, NS.wsu, 'Created');
    const expiresEl = optionalChild(ts, NS.wsu, 'Expires');
    if (!createdEl) throw new WsSecurityError('InvalidSecurity', 'the wsu:Timestamp has no Created');
    const created = parseDateTime(textOf(createdEl), 'the Timestamp Created');
    const expires = expiresEl ? parseDateTime(textOf(expiresEl), 'the Timestamp Expires') : undefined;
    if (expires && expires.getTime() < created.getTime()) throw new WsSecurityError('InvalidSecurity', 'the Timestamp expires before it was created');
    this.checkCreated(created, now, 'the message');
    if (expires && expires.getTime() + this.skewMs <= now.getTime()) throw new WsSecurityError('MessageExpired', 'the message has expired');
    return { created, expires };
  }

  private checkCreated(created: Date, now: Date, what: string): void {
    if (created.getTime() > now.getTime() + this.skewMs) throw new WsSecurityError('MessageExpired', `${what} was created in the future`);
    if (now.getTime() - created.getTime() > this.maxAgeMs) throw new WsSecurityError('MessageExpired', `${what} is too old`);
  }

  /** the key is kept as long as a message created at `created` could still pass checkCreated */
  private async once(parts: string[], created: Date, now: Date, message: string): Promise<void> {
    const key = createHash('sha256').update(parts.join('\0')).digest('hex');
    const expires = new Date(created.getTime() + this.maxAgeMs + this.skewMs + 1000);
    if (!(await this.replay.remember(key, expires, now))) throw new WsSecurityError('InvalidSecurity', message);
  }

  // --- X.509 signatures (WSS 1.1 §8, X.509 Token Profile 1.1, docs/soap.md §2.3) ---------------------------------

  private async verifySignature(
    raw: string,
    env: ParsedEnvelope,
    security: Element,
    signature: Element,
    timestamp: Element,
    stamp: { created: Date },
    now: Date,
  ): Promise<AuthenticatedUser> {
    this.checkStructure(env);
    const refs = this.checkSignedInfo(signature);
    const bodyId = wsuId(env.body);
    const tsId = wsuId(timestamp);
    if (!bodyId || !refs.has(bodyId)) throw new WsSecurityError('FailedCheck', 'the soap:Body is not signed');
    if (!tsId || !refs.has(tsId)) throw new WsSecurityError('FailedCheck', 'the wsu:Timestamp is not signed');

    const der = this.presentedCertificate(signature, security);
    const trusted = await this.certificates.identify(der);
    if (!trusted) throw new WsSecurityError('FailedAuthentication', 'the signing certificate is not registered for any user');

    // the digests, c14n and RSA verify run on a worker thread (signature-workers.ts), with the algorithm allow-list
    const verdict = await this.workers.verify({
      raw,
      pem: trusted.pem,
      signatureAlgorithms: this.signatureAlgorithms,
      digestAlgorithms: this.digestAlgorithms,
      canonicalizationAlgorithms: [EXC_C14N],
    });
    if (!verdict.ok) throw new WsSecurityError('FailedCheck', 'the signature is not valid');

    // only what the signature covered may be used: the Body and Timestamp this envelope actually carries must be,
    // byte for byte after exc-c14n, among the verified references (rejects XSW, docs/soap.md §2.3 step 5)
    const signed = new Set(verdict.signedReferences);
    if (!signed.has(this.canonical(env.body, refs.get(bodyId)!))) throw new WsSecurityError('FailedCheck', 'the soap:Body is not the signed one');
    if (!signed.has(this.canonical(timestamp, refs.get(tsId)!))) throw new WsSecurityError('FailedCheck', 'the wsu:Timestamp is not the signed one');

    // keyed by the decoded bytes: base64 has several spellings of the same value (unused trailing bits)
    const value = children(signature, NS.ds, 'SignatureValue')[0];
    const bytes = decodeBase64(value ? textOf(value) : '', 'the SignatureValue', 'FailedCheck');
    await this.once(['signature', bytes.toString('base64')], stamp.created, now, 'the signed message was already received');
    return trusted.user;
  }

  /**
   * Ids must be unique in the whole document (any Id/ID/id attribute, as xml-crypto resolves references by all of
   * them), and nothing may look like a second Envelope/Header/Body to node-soap, which ignores namespaces.
   */
  private checkStructure(env: ParsedEnvelope): void {
    const ids = new Set<string>();
    for (const e of [env.envelope, ...allElements(env.envelope)]) {
      const attrs = e.attributes;
      for (let i = 0; i < attrs.length; i++) {
        const a = attrs.item(i)!;
        if (a.localName !== 'Id' && a.localName !== 'ID' && a.localName !== 'id') continue;
        if (ids.has(a.value)) throw new WsSecurityError('InvalidSecurity', 'duplicate Id attribute values');
        ids.add(a.value);
      }
    }
    for (const e of env.header ? allElements(env.header) : []) {
      if (e.localName === 'Envelope' || e.localName === 'Header' || e.localName === 'Body')
        throw new WsSecurityError('InvalidSecurity', `unexpected ${e.localName} element in the Header`);
    }
  }

  /** SignedInfo on the allow-list; returns the same-document references by Id with their c14n prefix lists */
  private checkSignedInfo(signature: Element): Map<string, string[]> {
    const signedInfo = children(signature, NS.ds, 'SignedInfo');
    if (signedInfo.length !== 1) throw new WsSecurityError('InvalidSecurity', 'the Signature must have one SignedInfo');
    const si = signedInfo[0];
    const c14n = children(si, NS.ds, 'CanonicalizationMethod');
    if (c14n.length !== 1 || c14n[0].getAttribute('Algorithm') !== EXC_C14N) throw new WsSecurityError('InvalidSecurity', 'SignedInfo must use exclusive canonicalization');
    const method = children(si, NS.ds, 'SignatureMethod');
    if (method.length !== 1 || !this.signatureAlgorithms.includes(method[0].getAttribute('Algorithm') ?? ''))
      throw new WsSecurityError('InvalidSecurity', `signature algorithm not allowed (allowed: ${this.signatureAlgorithms.join(', ')})`);
    const refs = new Map<string, string[]>();
    const references = children(si, NS.ds, 'Reference');
    // xml-crypto resolves each reference with a whole-document XPath: bound the work an unauthenticated sender can ask for
    if (references.length > MAX_REFERENCES) throw new WsSecurityError('InvalidSecurity', `at most ${MAX_REFERENCES} signed references are accepted`);
    for (const ref of references) {
      const uri = ref.getAttribute('URI') ?? '';
      if (!/^#[A-Za-z_][\w.-]*$/.test(uri)) throw new WsSecurityError('InvalidSecurity', 'only same-document references by Id are accepted');
      if (refs.has(uri.slice(1))) throw new WsSecurityError('InvalidSecurity', 'the same element is referenced twice');
      const digest = children(ref, NS.ds, 'DigestMethod');
      if (digest.length !== 1 || !this.digestAlgorithms.includes(digest[0].getAttribute('Algorithm') ?? ''))
        throw new WsSecurityError('InvalidSecurity', `digest algorithm not allowed (allowed: ${this.digestAlgorithms.join(', ')})`);
      let prefixes: string[] = [];
      for (const transforms of children(ref, NS.ds, 'Transforms')) {
        for (const t of childElements(transforms)) {
          if (t.localName !== 'Transform' || t.namespaceURI !== NS.ds || t.getAttribute('Algorithm') !== EXC_C14N)
            throw new WsSecurityError('InvalidSecurity', 'only the exclusive canonicalization transform is accepted');
          const incl = children(t, EXC_C14N, 'InclusiveNamespaces')[0];
          if (incl) prefixes = (incl.getAttribute('PrefixList') ?? '').split(/\s+/).filter(Boolean);
        }
      }
      refs.set(uri.slice(1), prefixes);
    }
    if (refs.size === 0) throw new WsSecurityError('InvalidSecurity', 'the Signature has no references');
    return refs;
  }

  /** the certificate the Signature names: a BinarySecurityToken in this header, or X509Data in the KeyInfo */
  private presentedCertificate(signature: Element, security: Element): Buffer {
    const keyInfo = children(signature, NS.ds, 'KeyInfo');
    if (keyInfo.length !== 1) throw new WsSecurityError('InvalidSecurityToken', 'the Signature must have one KeyInfo');
    const str = children(keyInfo[0], NS.wsse, 'SecurityTokenReference');
    const holder = str.length === 1 ? str[0] : keyInfo[0];
    if (str.length > 1) throw new WsSecurityError('InvalidSecurityToken', 'more than one SecurityTokenReference');
    const ref = children(holder, NS.wsse, 'Reference');
    const x509 = children(holder, NS.ds, 'X509Data');
    if (ref.length + x509.length !== 1) throw new WsSecurityError('InvalidSecurityToken', 'the KeyInfo must name exactly one certificate');
    let b64: string;
    if (ref.length) {
      const uri = ref[0].getAttribute('URI') ?? '';
      const vt = ref[0].getAttribute('ValueType');
      if (vt && vt !== X509V3) throw new WsSecurityError('InvalidSecurityToken', 'only X509v3 tokens are accepted');
      const tokens = children(security, NS.wsse, 'BinarySecurityToken').filter((t) => uri === `#${wsuId(t) ?? ''}`);
      if (!uri.startsWith('#') || tokens.length !== 1) throw new WsSecurityError('InvalidSecurityToken', 'the referenced BinarySecurityToken is not in the Security header');
      const t = tokens[0];
      if (t.getAttribute('ValueType') !== X509V3 || (t.getAttribute('EncodingType') || BASE64_BINARY) !== BASE64_BINARY)
        throw new WsSecurityError('InvalidSecurityToken', 'the BinarySecurityToken must be a Base64Binary X509v3 certificate');
      b64 = textOf(t);
    } else {
      const certs = children(x509[0], NS.ds, 'X509Certificate');
      if (certs.length !== 1) throw new WsSecurityError('InvalidSecurityToken', 'the X509Data must carry exactly one X509Certificate');
      b64 = textOf(certs[0]);
    }
    const der = decodeBase64(b64, 'the certificate', 'InvalidSecurityToken');
    try {
      new X509Certificate(der);
    } catch {
      throw new WsSecurityError('InvalidSecurityToken', 'the certificate is not a valid X.509 certificate');
    }
    return der;
  }

  /** xml-crypto's per-instance algorithm maps cut down to the allow-list (defence in depth behind checkSignedInfo) */
  private canonical(node: Element, inclusiveNamespacesPrefixList: string[]): string {
    return new ExclusiveCanonicalization().process(node as never, {
      inclusiveNamespacesPrefixList,
      ancestorNamespaces: inScopeAncestorNamespaces(node),
    });
  }
}
