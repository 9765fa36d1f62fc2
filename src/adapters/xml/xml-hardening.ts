import { DOMParser, type Document, type Element } from '@xmldom/xmldom';

/**
 * XML input hardening shared by the XML doors (SOAP, WS-Man): charset decoding, DTD/entity rejection, strict
 * namespace-aware parsing with size and depth caps (docs/soap.md §3, WS-I BP R1008/R1009).
 */
export class XmlInputError extends Error {
  constructor(
    /** what was wrong: the body's charset/encoding, a DTD, a processing instruction, or plain malformed XML */
    readonly reason: 'charset' | 'doctype' | 'pi' | 'malformed' | 'limit' | 'empty',
    message: string,
  ) {
    super(message);
    this.name = 'XmlInputError';
  }
}

/** Defaults for request bodies: 512 KiB after inflation, 64 levels, 20 000 elements. */
export const XML_LIMITS = { bodyBytes: 512 * 1024, depth: 64, elements: 20000 };

/** The charset parameter of a Content-Type, lower-cased (undefined when absent). */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m?.[1].toLowerCase();
}

/**
 * Bytes to text: a BOM decides (UTF-8, UTF-16LE, UTF-16BE); else the Content-Type charset (UTF-8 or UTF-16
 * variants); else UTF-8. XML 1.0 §4.3.3: UTF-16 entities start with a BOM. Other charsets are refused.
 */
export function decodeXmlBody(body: Buffer, contentType?: string): string {
  const cs = charsetOf(contentType);
  if (body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf) return strictUtf8(body.subarray(3));
  if (body.length >= 2 && body[0] === 0xff && body[1] === 0xfe) return utf16(body.subarray(2), 'le');
  if (body.length >= 2 && body[0] === 0xfe && body[1] === 0xff) return utf16(body.subarray(2), 'be');
  if (cs === undefined || cs === 'utf-8' || cs === 'utf8' || cs === 'us-ascii') return strictUtf8(body);
  if (cs === 'utf-16le') return utf16(body, 'le');
  if (cs === 'utf-16be') return utf16(body, 'be');
  // UTF-16 without a BOM: guess from the first '<' (RFC 2781 §4.3 says big-endian; every client here sends a BOM)
  if (cs === 'utf-16') return utf16(body, body.length >= 2 && body[0] === 0x3c && body[1] === 0 ? 'le' : 'be');
  throw new XmlInputError('charset', `unsupported charset ${cs}`);
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

/** WS-I BP R1008 (no DTD, hence no entity declarations: XXE, billion laughs) and R1009 (no PIs but the XML declaration). */
export function rejectDtdAndPis(text: string): void {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) throw new XmlInputError('doctype', 'DOCTYPE and ENTITY declarations are not allowed');
  const rest = text.replace(/^\uFEFF?\s*<\?xml\s[^?]*\?>/, '');
  if (/<\?/.test(rest)) throw new XmlInputError('pi', 'processing instructions are not allowed');
}

/**
 * Decoded text to a DOM: DTDs and PIs refused first, then @xmldom/xmldom with every warning and error fatal (an
 * unknown entity such as `&nbsp;` is an error, not a literal), then depth and element caps.
 */
export function parseXml(text: string, limits: { depth: number; elements: number } = XML_LIMITS): Document {
  if (!text.trim()) throw new XmlInputError('empty', 'the body is empty');
  rejectDtdAndPis(text);
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
  let count = 0;
  const walk = (el: Element, depth: number): void => {
    if (depth > limits.depth) throw new XmlInputError('limit', `elements nest deeper than ${limits.depth}`);
    if (++count > limits.elements) throw new XmlInputError('limit', `more than ${limits.elements} elements`);
    for (let c = el.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) walk(c as Element, depth + 1);
  };
  walk(doc.documentElement, 1);
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

/** XML 1.0 escaping for text and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}
