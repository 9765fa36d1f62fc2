import { DOMImplementation, DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { DEFAULT_XML_LIMITS, parseXml, type XmlLimits } from './safe-xml';

/**
 * XML input for the DOM-based door (WS-Man): charset decoding (UTF-8, and UTF-16 with its BOM, which DSP0226 clients
 * send) and a DOM built only after safe-xml.ts, the one hardening gate of every XML door, accepted the text (no
 * DTD/ENTITY, no processing instructions, depth/element/attribute caps, well-formed with namespaces).
 */
export class XmlInputError extends Error {
  constructor(
    /** the body's charset or byte encoding was wrong; or xmldom refused what the gate let through */
    readonly reason: 'charset' | 'malformed',
    message: string,
  ) {
    super(message);
    this.name = 'XmlInputError';
  }
}

/** The charset parameter of a Content-Type, lower-cased (undefined when absent). */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m?.[1].toLowerCase();
}

/** The byte encodings the DOM door reads, and answers in (DSP0226 clients send UTF-8 or UTF-16). */
export type XmlEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/**
 * A body's encoding: a BOM decides (UTF-8, UTF-16LE, UTF-16BE); else the Content-Type charset (UTF-8 or UTF-16
 * variants); else UTF-8. XML 1.0 §4.3.3: UTF-16 entities start with a BOM. Other charsets are refused.
 */
export function xmlBodyEncoding(body: Buffer, contentType?: string): XmlEncoding {
  const cs = charsetOf(contentType);
  if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return 'utf-8';
  if (body.length >= 2 && body[0] === 0xff && body[1] === 0xfe) return 'utf-16le';
  if (body.length >= 2 && body[0] === 0xfe && body[1] === 0xff) return 'utf-16be';
  if (cs === undefined || cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii') return 'utf-8';
  if (cs === 'utf-16le') return 'utf-16le';
  if (cs === 'utf-16be') return 'utf-16be';
  // UTF-16 without a BOM: guess from the first '<' (RFC 2781 §4.3 says big-endian; every client here sends a BOM)
  if (cs === 'utf-16') return body.length >= 2 && body[0] === 0x3c && body[1] === 0 ? 'utf-16le' : 'utf-16be';
  throw new XmlInputError('charset', `unsupported charset ${cs}`);
}

/** Bytes to text in the encoding `xmlBodyEncoding` finds, without its BOM. */
export function decodeXmlBody(body: Buffer, contentType?: string): string {
  const enc = xmlBodyEncoding(body, contentType);
  if (enc === 'utf-8') return strictUtf8(body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf ? body.subarray(3) : body);
  const bom = enc === 'utf-16le' ? body[0] === 0xff && body[1] === 0xfe : body[0] === 0xfe && body[1] === 0xff;
  return utf16(bom ? body.subarray(2) : body, enc === 'utf-16le' ? 'le' : 'be');
}

/**
 * A document's text as the bytes of `enc`, to answer a request in its own encoding: UTF-16 starts with its BOM
 * (XML 1.0 §4.3.3) in the request's byte order, and the XML declaration names UTF-16 (XML 1.0 §4.3.3, Appendix F).
 */
export function encodeXml(xml: string, enc: XmlEncoding): Buffer {
  if (enc === 'utf-8') return Buffer.from(xml, 'utf8');
  const text = xml.replace(/^<\?xml version="1.0" encoding="UTF-8"\?>/, '<?xml version="1.0" encoding="UTF-16"?>');
  const bytes = Buffer.from(`\ufeff${text}`, 'utf16le');
  return enc === 'utf-16be' ? bytes.swap16() : bytes;
}

/** The octets a fragment of a document takes in `enc` (no BOM): what MaxEnvelopeSize counts (DSP0226 6.2). */
export function encodedLength(xml: string, enc: XmlEncoding = 'utf-8'): number {
  return enc === 'utf-8' ? Buffer.byteLength(xml, 'utf8') : 2 * xml.length;
}

function strictUtf8(b: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    throw new XmlInputError('charset', 'the body is not valid UTF-8');
  }
}

function utf16(b: Buffer, endian: 'le' | 'be'): string {
  if (b.length % 2) throw new XmlInputError('charset', 'a UTF-16 body has an odd number of bytes');
  try {
    return new TextDecoder(endian === 'le' ? 'utf-16le' : 'utf-16be', { fatal: true }).decode(b);
  } catch {
    throw new XmlInputError('charset', 'the body is not valid UTF-16');
  }
}

/**
 * Decoded text to a namespace-aware DOM (@xmldom/xmldom): safe-xml's gate (XmlRejectedError for DTDs, PIs, limits,
 * malformed or empty documents) builds the DOM from its own saxes events, through xmldom's DOM API: one parse, not
 * the gate's and then xmldom's own (issue 13: xmldom's parser was 9% of a WS-Man Get, compiling a regular
 * expression per end tag). Elements, attributes (namespace declarations included, so a serialized fragment keeps
 * its prefixes), text and CDATA sections as xmldom's parser makes them; comments and the XML declaration are left out (nothing reads them).
 */
export function parseDom(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): Document {
  const doc = DOM.createDocument(null, '');
  const stack: (Document | Element)[] = [doc];
  const top = () => stack[stack.length - 1];
  parseXml(text, limits, {
    open(tag) {
      const el = doc.createElementNS(tag.uri || null, tag.name);
      for (const a of Object.values(tag.attributes)) el.setAttributeNS(a.uri || null, a.name, a.value);
      top().appendChild(el);
      stack.push(el);
    },
    close: () => void stack.pop(),
    text(t, cdata) {
      top().appendChild(cdata ? doc.createCDATASection(t) : doc.createTextNode(t));
    },
  });
  if (!doc.documentElement) throw new XmlInputError('malformed', 'no document element');
  return doc;
}

const DOM = new DOMImplementation();

/** xmldom's own parser after the gate, as parseDom was built before: kept to check parseDom against (its spec) */
export function parseDomWithXmldom(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS): Document {
  parseXml(text, limits);
  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level, msg) => {
        throw new XmlInputError('malformed', `malformed XML (${level}): ${String(msg).split('\n')[0].slice(0, 200)}`);
      },
    }).parseFromString(text, 'text/xml');
  } catch (e) {
    if (e instanceof XmlInputError) throw e;
    // xmldom wraps the handler's exception in a ParseError carrying it as `cause`
    const cause = (e as { cause?: unknown }).cause;
    if (cause instanceof XmlInputError) throw cause;
    throw new XmlInputError('malformed', `malformed XML: ${String((e as Error).message).split('\n')[0].slice(0, 200)}`);
  }
  if (!doc.documentElement) throw new XmlInputError('malformed', 'no document element');
  return doc;
}

/** Element children of `el`, optionally only those with namespace `ns` and local name `local` (never by prefix). */
export function childElements(el: Element, ns?: string, local?: string): Element[] {
  const out: Element[] = [];
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType !== 1) continue;
    const e = c as Element;
    if (ns !== undefined && e.namespaceURI !== ns) continue;
    if (local !== undefined && e.localName !== local) continue;
    out.push(e);
  }
  return out;
}

export function firstChild(el: Element | undefined, ns: string, local: string): Element | undefined {
  return el ? childElements(el, ns, local)[0] : undefined;
}

/** Concatenated text content (character data of the element and its descendants). */
export function textOf(el: Element | undefined): string {
  return el?.textContent ?? '';
}

export { xmlEscape } from './safe-xml';
