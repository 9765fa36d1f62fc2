import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { WsSecurityError, type WssFaultCode } from './ws-security.contract';

/** Namespaces of SOAP 1.1/1.2, WSS 1.0/1.1 (OASIS 200401 and 1.1 schemas) and XML-DSig. */
export const NS = {
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsse11: 'http://docs.oasis-open.org/wss/oasis-wss-wssecurity-secext-1.1.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  ds: 'http://www.w3.org/2000/09/xmldsig#',
  xmlns: 'http://www.w3.org/2000/xmlns/',
} as const;

/** WSS 1.1 keeps the Security header in the 1.0 namespace; a few senders use the 1.1 one, accepted alike. */
export const WSSE_NAMESPACES: readonly string[] = [NS.wsse, NS.wsse11];

const ELEMENT_NODE = 1;
const MAX_DEPTH = 64;

export interface ParsedEnvelope {
  doc: Document;
  envelope: Element;
  header?: Element;
  body: Element;
  soapNs: string;
}

const bad = (message: string) => new WsSecurityError('InvalidSecurity', message);

/**
 * Parses the raw envelope namespace-aware with xmldom, after refusing what could make two parsers disagree: DTDs
 * and entity declarations (WS-I BP R1008), processing instructions other than the XML declaration (R1009), and
 * entity references other than XML's five (node-soap's sax expands HTML entities such as &nbsp;, xmldom does not,
 * so the bytes checked here and the bytes node-soap dispatches would differ: docs/soap.md §2.4).
 */
export function parseEnvelope(raw: string, soapVersion: '1.1' | '1.2'): ParsedEnvelope {
  if (/<!DOCTYPE|<!ENTITY/i.test(raw)) throw bad('DTDs and entity declarations are not allowed');
  if (/<\?/.test(raw.replace(/^\uFEFF?\s*<\?xml\s[^>]*\?>/, ''))) throw bad('processing instructions are not allowed');
  if (/&(?!(?:lt|gt|amp|quot|apos|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)/.test(raw)) throw bad('only the predefined XML entities are allowed');
  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level, msg) => {
        if (level !== 'warning') throw new Error(msg);
      },
    }).parseFromString(raw, 'text/xml');
  } catch {
    throw bad('the envelope is not well-formed XML');
  }
  const envelope = doc.documentElement;
  // canonicalisation and signature code recurse per level; a SOAP request of ours is a few levels deep
  if (envelope && depthExceeds(envelope, MAX_DEPTH)) throw bad(`the envelope is nested deeper than ${MAX_DEPTH} levels`);
  const soapNs = soapVersion === '1.2' ? NS.soap12 : NS.soap11;
  if (!envelope || envelope.localName !== 'Envelope' || envelope.namespaceURI !== soapNs) throw bad(`the root element must be a SOAP ${soapVersion} Envelope`);
  const parts = childElements(envelope);
  const headers = parts.filter((e) => e.namespaceURI === soapNs && e.localName === 'Header');
  const bodies = parts.filter((e) => e.namespaceURI === soapNs && e.localName === 'Body');
  if (bodies.length !== 1 || headers.length > 1) throw bad('the Envelope must have exactly one Body and at most one Header');
  // SOAP 1.1 §4 / 1.2 §5: Header (optional) then Body; nothing else a verifier would have to reason about
  if (parts.length !== headers.length + 1 || parts[parts.length - 1] !== bodies[0]) throw bad('the Envelope must contain only an optional Header followed by the Body');
  return { doc, envelope, header: headers[0], body: bodies[0], soapNs };
}

export function childElements(parent: Node): Element[] {
  const out: Element[] = [];
  for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === ELEMENT_NODE) out.push(n as Element);
  return out;
}

export function children(parent: Node, ns: string | readonly string[], localName: string): Element[] {
  const nss = typeof ns === 'string' ? [ns] : ns;
  return childElements(parent).filter((e) => e.localName === localName && nss.includes(e.namespaceURI ?? ''));
}

/** at most one child; undefined when absent */
export function optionalChild(parent: Element, ns: string | readonly string[], localName: string, code: 'InvalidSecurity' | 'InvalidSecurityToken' = 'InvalidSecurity'): Element | undefined {
  const found = children(parent, ns, localName);
  if (found.length > 1) throw new WsSecurityError(code, `more than one ${localName} in ${parent.localName}`);
  return found[0];
}

/** descendant elements in document order (iterative: nesting depth is bounded by parseEnvelope, not the stack) */
export function allElements(root: Node): Element[] {
  const out: Element[] = [];
  const stack: Node[] = [...childElements(root)].reverse();
  while (stack.length) {
    const e = stack.pop()!;
    out.push(e as Element);
    stack.push(...childElements(e).reverse());
  }
  return out;
}

function depthExceeds(root: Node, max: number): boolean {
  const stack: [Node, number][] = [[root, 1]];
  while (stack.length) {
    const [n, d] = stack.pop()!;
    if (d > max) return true;
    for (const c of childElements(n)) stack.push([c, d + 1]);
  }
  return false;
}

/** the wsu:Id of an element (the attribute zeep, WSS4J and WCF put on signed parts) */
export function wsuId(e: Element): string | undefined {
  return e.getAttributeNS(NS.wsu, 'Id') || undefined;
}

/** text of an element with only text content; whitespace around it is formatting (XML Schema whiteSpace collapse) */
export function textOf(e: Element): string {
  if (childElements(e).length) throw bad(`${e.localName} must contain text only`);
  return (e.textContent ?? '').trim();
}

/** text of an element with only text content, exactly as sent (xsd:string) */
export function stringOf(e: Element): string {
  if (childElements(e).length) throw bad(`${e.localName} must contain text only`);
  return e.textContent ?? '';
}

/** strict base64 (whitespace allowed between groups, as in XML-DSig and WSS Base64Binary values) */
export function decodeBase64(text: string, what: string, code: WssFaultCode = 'InvalidSecurity'): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!compact || compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw new WsSecurityError(code, `${what} is not base64`);
  return Buffer.from(compact, 'base64');
}

/**
 * xsd:dateTime with an explicit zone (WSS 1.1 §10: UTC recommended); a time without a zone is ambiguous and
 * refused rather than read as local time.
 */
export function parseDateTime(text: string, what: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  const t = m ? Date.parse(text) : NaN;
  if (!m || Number.isNaN(t)) throw bad(`${what} must be an xsd:dateTime with a time zone`);
  return new Date(t);
}

/** namespace declarations in scope at `e` from its ancestors (nearest wins), for exclusive canonicalisation */
export function inScopeAncestorNamespaces(e: Element): { prefix: string; namespaceURI: string }[] {
  const seen = new Map<string, string>();
  for (let p = e.parentNode; p && p.nodeType === ELEMENT_NODE; p = p.parentNode) {
    const attrs = (p as Element).attributes;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs.item(i)!;
      if (a.namespaceURI === NS.xmlns && a.prefix === 'xmlns' && !seen.has(a.localName!)) seen.set(a.localName!, a.value);
    }
  }
  return [...seen].map(([prefix, namespaceURI]) => ({ prefix, namespaceURI }));
}
