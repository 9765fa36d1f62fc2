import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { expect } from './check';

/** Parses a response body; a body that is not well-formed XML fails the check (it is the endpoint's fault). */
export function parseXml(text: string, what: string): Document {
  // a DTD in a response is refused like any XML door refuses one (entity expansion)
  expect(!/<!DOCTYPE/i.test(text), `${what} without a DTD`, 'a <!DOCTYPE declaration');
  let problem: string | undefined;
  const doc = new DOMParser({ onError: (level, msg) => void (level !== 'warning' && (problem ??= msg)) }).parseFromString(text, 'text/xml');
  expect(!problem && doc.documentElement, `${what} as well-formed XML`, problem ?? 'no document element');
  return doc;
}

export function children(el: Element | Document | undefined, ns: string | null, local: string): Element[] {
  if (!el) return [];
  const out: Element[] = [];
  const walk = (e: Element) => {
    for (let c = e.firstChild; c; c = c.nextSibling) {
      if (c.nodeType !== 1) continue;
      const ce = c as Element;
      if (ce.localName === local && (ns === null || ce.namespaceURI === ns)) out.push(ce);
      walk(ce);
    }
  };
  walk('documentElement' in el ? el.documentElement! : el);
  if ('documentElement' in el && el.documentElement?.localName === local && (ns === null || el.documentElement.namespaceURI === ns)) out.unshift(el.documentElement);
  return out;
}

export function first(el: Element | Document | undefined, ns: string | null, local: string): Element | undefined {
  return children(el, ns, local)[0];
}

export function textOf(el: Element | Document | undefined, ns: string | null, local: string): string | undefined {
  const e = first(el, ns, local);
  return e ? (e.textContent ?? '').trim() : undefined;
}

/** direct element children */
export function elements(el: Element | undefined): Element[] {
  const out: Element[] = [];
  for (let c = el?.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) out.push(c as Element);
  return out;
}

export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
}

/**
 * Validates a document against an XML schema with libxml2's `xmllint` (an independent validator): undefined when it
 * validates, else xmllint's messages. `null` when xmllint is not installed.
 */
export function xmllintValidate(xml: string, xsd: string): string | undefined | null {
  const dir = mkdtempSync(join(tmpdir(), 'cimi-interop-'));
  try {
    const file = join(dir, 'doc.xml');
    writeFileSync(file, xml);
    const r = spawnSync('xmllint', ['--nonet', '--noout', '--schema', xsd, file], { encoding: 'utf8' });
    if (r.error) return null;
    if (r.status === 0) return undefined;
    // DSP8009 imports xml.xsd, which --nonet cannot load: that warning is not the document's fault
    return r.stderr
      .split('\n')
      .filter((l) => l && !/xml\.xsd|failed to load external entity|Skipping the import/.test(l))
      .map((l) => l.replace(file, 'document'))
      .join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
