import { SaxesParser, type SaxesTagNS } from 'saxes';

/** A namespace-aware element: names are compared by (namespace URI, local name), never by prefix. */
export interface XElement {
  ns: string;
  local: string;
  /** the name as written (`prefix:local`), for messages only */
  name: string;
  attrs: XAttr[];
  children: XElement[];
  /** the element's own character data (text and CDATA directly inside it, concatenated) */
  text: string;
}

export interface XAttr {
  ns: string;
  local: string;
  /** the name as written (`prefix:local`), for messages only */
  name: string;
  value: string;
}

export interface XmlLimits {
  /** deepest element nesting accepted */
  maxDepth: number;
  /** elements in the whole document */
  maxElements: number;
  /** attributes on one element */
  maxAttributes: number;
  /** characters of one element's text, or of one attribute value */
  maxTextLength?: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = { maxDepth: 64, maxElements: 20000, maxAttributes: 64, maxTextLength: 1024 * 1024 };

export type XmlRejection = 'malformed' | 'doctype' | 'processing-instruction' | 'limits' | 'empty';

/** Why a document was refused; adapters map it to their protocol's fault. The message never echoes content. */
export class XmlRejectedError extends Error {
  constructor(
    readonly reason: XmlRejection,
    message: string,
  ) {
    super(message);
    this.name = 'XmlRejectedError';
  }
}

const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

/** what else is built from the same parse (xml-hardening's DOM): called after each event passed the checks */
export interface XmlSink {
  open(tag: SaxesTagNS): void;
  close(): void;
  /** character data inside the root element, text or (cdata) a CDATA section */
  text(t: string, cdata: boolean): void;
}

/**
 * Parses a request document with saxes (strict XML 1.0 + namespaces) into a small tree. A DOCTYPE (and with it any
 * ENTITY declaration: XXE, billion laughs) and processing instructions other than the XML declaration are refused
 * (WS-I BP 1.1 R1008, R1009); only the five predefined entities and character references exist. Depth, element and
 * attribute counts are capped so that a small body cannot cost much to walk.
 */
export function parseXml(text: string, limits: XmlLimits = DEFAULT_XML_LIMITS, sink?: XmlSink): XElement {
  if (!text.trim()) throw new XmlRejectedError('empty', 'the request body is empty');
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XElement[] = [];
  let root: XElement | undefined;
  let count = 0;
  const maxText = limits.maxTextLength ?? DEFAULT_XML_LIMITS.maxTextLength!;
  let failure: XmlRejectedError | undefined;
  const fail = (e: XmlRejectedError) => {
    failure ??= e;
    throw e;
  };
  parser.on('doctype', () => fail(new XmlRejectedError('doctype', 'DOCTYPE and entity declarations are not accepted (WS-I BP R1008)')));
  parser.on('processinginstruction', () => fail(new XmlRejectedError('processing-instruction', 'processing instructions are not accepted (WS-I BP R1009)')));
  parser.on('opentag', (tag: SaxesTagNS) => {
    if (++count > limits.maxElements) fail(new XmlRejectedError('limits', `more than ${limits.maxElements} elements`));
    if (stack.length >= limits.maxDepth) fail(new XmlRejectedError('limits', `elements nested deeper than ${limits.maxDepth} levels (at <${tag.name.slice(0, 80)}>)`));
    const attrs: XAttr[] = [];
    for (const a of Object.values(tag.attributes)) {
      if (a.value.length > maxText) fail(new XmlRejectedError('limits', `attribute ${a.name.slice(0, 80)} exceeds ${maxText} characters`));
      if (a.uri === XMLNS_NS || a.prefix === 'xmlns' || a.name === 'xmlns') continue;
      attrs.push({ ns: a.uri ?? '', local: a.local ?? a.name, name: a.name, value: a.value });
    }
    if (attrs.length > limits.maxAttributes) fail(new XmlRejectedError('limits', `more than ${limits.maxAttributes} attributes on one element`));
    const el: XElement = { ns: tag.uri ?? '', local: tag.local ?? tag.name, name: tag.name, attrs, children: [], text: '' };
    if (stack.length) stack[stack.length - 1].children.push(el);
    else root = el;
    stack.push(el);
    sink?.open(tag);
  });
  parser.on('closetag', () => {
    stack.pop();
    sink?.close();
  });
  const addText = (t: string) => {
    const top = stack[stack.length - 1];
    if (!top) return; // whitespace around the root (saxes refuses anything else there)
    if (top.text.length + t.length > maxText) fail(new XmlRejectedError('limits', `text of <${top.local.slice(0, 80)}> exceeds ${maxText} characters`));
    top.text += t;
  };
  parser.on('text', (t) => {
    addText(t);
    if (stack.length) sink?.text(t, false);
  });
  parser.on('cdata', (t) => {
    addText(t);
    sink?.text(t, true);
  });
  try {
    parser.write(text).close();
  } catch (e) {
    if (failure) throw failure;
    // saxes messages carry line:column and a short reason; they never contain the document itself
    throw new XmlRejectedError('malformed', `malformed XML: ${String((e as Error).message).slice(0, 200)}`);
  }
  if (!root) throw new XmlRejectedError('malformed', 'malformed XML: no root element');
  return root;
}

/** The element children of `el` with this (namespace, local name). */
export function childrenNamed(el: XElement, ns: string, local: string): XElement[] {
  return el.children.filter((c) => c.ns === ns && c.local === local);
}

export function attr(el: XElement, ns: string, local: string): string | undefined {
  return el.attrs.find((a) => a.ns === ns && a.local === local)?.value;
}

/**
 * Escapes character data and attribute values (XML 1.0 §2.4, §3.3.3); a character XML 1.0 cannot carry at all
 * (§2.2: controls, lone surrogates) becomes U+FFFD rather than making the whole document unreadable.
 */
export function xmlEscape(s: string): string {
  return xmlChars(s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!));
}

/** A character XML 1.0 cannot carry (§2.2 Char, negated). */
export const NON_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const NON_XML_CHARS = new RegExp(NON_XML_CHAR.source, 'gu');

/** `s` with every character XML 1.0 cannot carry replaced by U+FFFD */
export function xmlChars(s: string): string {
  return s.replace(NON_XML_CHARS, '\uFFFD');
}
