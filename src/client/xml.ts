import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import { CliError, EXIT, type Doc } from './protocol';

/** XML reading for the SOAP and WS-Man clients: by namespace URI and local name, never by prefix. */
export function parseXml(text: string, what: string): Document {
  // a DTD is refused as every XML door of the gateway refuses one: entity expansion is an attack, never a need
  if (/<!DOCTYPE/i.test(text)) throw new CliError(EXIT.transport, `${what}: the endpoint answered XML with a DTD, which is refused`);
  let failed: string | undefined;
  let doc: Document | undefined;
  try {
    doc = new DOMParser({ onError: (level, msg) => void (level !== 'warning' && (failed ??= msg)) }).parseFromString(text, 'text/xml');
  } catch (e) {
    failed ??= (e as Error).message;
  }
  if (failed || !doc?.documentElement) throw new CliError(EXIT.transport, `${what}: the endpoint answered no XML (${(failed ?? text.slice(0, 120)).trim()})`);
  return doc;
}

export function childElements(el: Element | Document | undefined): Element[] {
  const out: Element[] = [];
  for (let c = el?.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) out.push(c as Element);
  return out;
}

export function child(el: Element | Document | undefined, ns: string | null, local: string): Element | undefined {
  return childElements(el).find((c) => c.localName === local && (ns === null || c.namespaceURI === ns));
}

export function descendants(el: Element | Document | undefined, ns: string, local: string): Element[] {
  if (!el) return [];
  return Array.from((el as Element).getElementsByTagNameNS(ns, local) as unknown as ArrayLike<Element>);
}

export function textOf(el: Element | undefined): string | undefined {
  return el ? (el.textContent ?? '').trim() : undefined;
}

export function serialize(el: Element): string {
  return new XMLSerializer().serializeToString(el);
}

/** an element as a JSON-shaped document: leaves are text (numbers when they look like integers), repeated names arrays */
export function elementDoc(el: Element): Doc {
  const out: Doc = {};
  for (const c of childElements(el)) {
    const name = c.localName!;
    const kids = childElements(c);
    let v: unknown;
    if (name === 'properties' && kids.every((k) => k.localName === 'property')) {
      v = Object.fromEntries(kids.map((p) => [textOf(child(p, null, 'key')), textOf(child(p, null, 'value'))]));
    } else if (kids.length) v = elementDoc(c);
    else if (c.getAttributeNS('http://www.w3.org/2001/XMLSchema-instance', 'nil') === 'true') v = null;
    else {
      const t = textOf(c) ?? '';
      v = /^-?\d{1,15}$/.test(t) ? Number(t) : t;
    }
    if (name in out) out[name] = Array.isArray(out[name]) ? [...out[name], v] : [out[name], v];
    else out[name] = v;
  }
  return out;
}
