import { DOMParser, XMLSerializer, type Document } from '@xmldom/xmldom';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Debian's python (python3-zeep, python3-xmlsec, python3-cryptography); the pyenv python3 on PATH lacks them. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export interface ZeepRequest {
  soap?: '1.1' | '1.2';
  /** the Body child, namespace-qualified XML */
  body: string;
  username?: { user: string; password: string; digest?: boolean; created_offset?: number; zulu?: boolean };
  timestamp?: { offset?: number; ttl?: number };
  signature?: { key: string; cert: string; binary?: boolean; signature_method?: string; digest_method?: string };
}

/** Envelopes signed / tokenised by zeep's own wsse plugins (the independent client), built offline in one process. */
export function zeepEnvelopes(requests: ZeepRequest[]): string[] {
  const out = execFileSync(DEBIAN_PYTHON, [join(__dirname, 'zeep_wsse.py')], { input: JSON.stringify(requests), encoding: 'utf8', maxBuffer: 1 << 28 });
  return JSON.parse(out) as string[];
}

export interface TestCert {
  key: string;
  cert: string;
  pem: string;
}

/** Throwaway RSA key pairs with self-signed certificates (validity in days relative to now). */
export class CertFactory {
  readonly dir = mkdtempSync(join(tmpdir(), 'wss-certs-'));
  private n = 0;

  make(cn: string, notBeforeDays = -1, notAfterDays = 2, bits = 2048): TestCert {
    const i = ++this.n;
    const key = join(this.dir, `k${i}.pem`);
    const cert = join(this.dir, `c${i}.pem`);
    execFileSync(DEBIAN_PYTHON, [join(__dirname, 'make_cert.py'), key, cert, cn, String(notBeforeDays), String(notAfterDays), String(bits)]);
    return { key, cert, pem: readFileSync(cert, 'utf8') };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Parses, edits with the DOM, and serialises an envelope (the tampering of the negative tests). */
export function editXml(xml: string, fn: (doc: Document) => void): string {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  fn(doc);
  return new XMLSerializer().serializeToString(doc);
}

/** XSW: the signed Body moved into a Header wrapper, a new Body with `payload` in its place (docs/soap.md §2.3). */
export function wrapBody(xml: string, payload: string): string {
  return editXml(xml, (doc) => {
    const ns = doc.documentElement!.namespaceURI!;
    const body = doc.getElementsByTagNameNS(ns, 'Body').item(0)!;
    const wrapper = doc.createElementNS('urn:wrap', 'w:Wrapper');
    doc.getElementsByTagNameNS(ns, 'Header').item(0)!.appendChild(wrapper);
    wrapper.appendChild(body);
    const evil = doc.createElementNS(ns, `${doc.documentElement!.prefix}:Body`);
    evil.appendChild(doc.importNode(new DOMParser().parseFromString(payload, 'text/xml').documentElement!, true));
    doc.documentElement!.appendChild(evil);
  });
}

const WSU_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd';

/** a second element carrying the signed Timestamp's wsu:Id, placed inside the Body's operation element */
export function duplicateTimestampId(xml: string): string {
  return editXml(xml, (doc) => {
    const tsId = doc.getElementsByTagNameNS(WSU_NS, 'Timestamp').item(0)!.getAttributeNS(WSU_NS, 'Id')!;
    const body = doc.getElementsByTagNameNS(doc.documentElement!.namespaceURI!, 'Body').item(0)!;
    const op = body.getElementsByTagName('*').item(0)!;
    const extra = doc.createElementNS(op.namespaceURI!, 'note');
    extra.setAttributeNS(WSU_NS, 'wsu:Id', tsId);
    op.appendChild(extra);
  });
}

/**
 * The same kind of message signed by the xmlsec1 command (libxmlsec1, Debian `xmlsec1`): a WSS4J/WCF-style layout
 * with the Timestamp before the Signature and InclusiveNamespaces prefix lists on every exclusive c14n.
 */
export function xmlsec1Envelope(cert: TestCert, payload: string, soap: '1.1' | '1.2' = '1.1'): string {
  const ns = soap === '1.1' ? 'http://schemas.xmlsoap.org/soap/envelope/' : 'http://www.w3.org/2003/05/soap-envelope';
  const der = cert.pem.replace(/-----[A-Z ]+-----|\s/g, '');
  const now = new Date();
  const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const ec = 'xmlns:ec="http://www.w3.org/2001/10/xml-exc-c14n#"';
  const ref = (uri: string, prefixes: string) =>
    `<ds:Reference URI="#${uri}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces ${ec} PrefixList="${prefixes}"/></ds:Transform></ds:Transforms>` +
    `<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>`;
  const template =
    `<soap:Envelope xmlns:soap="${ns}" xmlns:wsu="${WSU_NS}"><soap:Header>` +
    `<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" soap:mustUnderstand="${soap === '1.1' ? '1' : 'true'}">` +
    `<wsse:BinarySecurityToken EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary" ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3" wsu:Id="X509-1">${der}</wsse:BinarySecurityToken>` +
    `<wsu:Timestamp wsu:Id="TS-1"><wsu:Created>${iso(now)}</wsu:Created><wsu:Expires>${iso(new Date(now.getTime() + 300000))}</wsu:Expires></wsu:Timestamp>` +
    `<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>` +
    `<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"><ec:InclusiveNamespaces ${ec} PrefixList="soap"/></ds:CanonicalizationMethod>` +
    `<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>${ref('TS-1', 'wsse soap')}${ref('Body-1', 'soap wsu')}</ds:SignedInfo>` +
    `<ds:SignatureValue/><ds:KeyInfo><wsse:SecurityTokenReference><wsse:Reference URI="#X509-1" ValueType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-x509-token-profile-1.0#X509v3"/></wsse:SecurityTokenReference></ds:KeyInfo>` +
    `</ds:Signature></wsse:Security></soap:Header><soap:Body wsu:Id="Body-1">${payload}</soap:Body></soap:Envelope>`;
  const dir = mkdtempSync(join(tmpdir(), 'xmlsec1-'));
  try {
    writeFileSync(join(dir, 'tpl.xml'), template);
    execFileSync('xmlsec1', ['--sign', '--privkey-pem', cert.key, '--id-attr:Id', 'Body', '--id-attr:Id', 'Timestamp', '--output', join(dir, 'signed.xml'), join(dir, 'tpl.xml')], { stdio: 'pipe' });
    return readFileSync(join(dir, 'signed.xml'), 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
