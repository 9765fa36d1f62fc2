import { randomUUID } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';

/** Test-side WS-Man enumeration client: envelopes shaped like wsmancli's (capture 02/05/06), responses parsed by namespace. */

import { CIM, NS } from '../../support/wsman-client';

export { CIM, NS };
export const ALL = 'http://schemas.dmtf.org/wbem/wscim/1/*';
export const ACTION = {
  enumerate: `${NS.wsen}/Enumerate`,
  pull: `${NS.wsen}/Pull`,
  release: `${NS.wsen}/Release`,
};
export const DIALECT = {
  selector: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter',
  wqlMs: 'http://schemas.microsoft.com/wbem/wsman/1/WQL',
  wqlDmtf: 'http://schemas.dmtf.org/wbem/wsman/1/WQL',
  cql: 'http://schemas.dmtf.org/wbem/cql/1/dsp0202.pdf',
  association: 'http://schemas.dmtf.org/wbem/wsman/1/cimbinding/associationFilter',
};

export interface EnvOpts {
  action: string;
  resourceUri: string;
  body: string;
  maxEnvelopeSize?: number;
  count?: boolean;
  /** extra header XML */
  headers?: string;
}

export function envelope(o: EnvOpts): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS.s}" xmlns:wsa="${NS.wsa}" xmlns:wsman="${NS.wsman}" xmlns:wsen="${NS.wsen}" xmlns:wsmb="${NS.wsmb}"><s:Header>` +
    `<wsa:Action s:mustUnderstand="true">${o.action}</wsa:Action><wsa:To s:mustUnderstand="true">http://127.0.0.1:1/wsman</wsa:To>` +
    `<wsman:ResourceURI s:mustUnderstand="true">${o.resourceUri}</wsman:ResourceURI><wsa:MessageID s:mustUnderstand="true">uuid:${randomUUID()}</wsa:MessageID>` +
    `<wsa:ReplyTo><wsa:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></wsa:ReplyTo>` +
    (o.maxEnvelopeSize ? `<wsman:MaxEnvelopeSize s:mustUnderstand="true">${o.maxEnvelopeSize}</wsman:MaxEnvelopeSize>` : '') +
    (o.count ? '<wsman:RequestTotalItemsCountEstimate/>' : '') +
    (o.headers ?? '') +
    `</s:Header><s:Body>${o.body}</s:Body></s:Envelope>`
  );
}

export interface Reply {
  status: number;
  text: string;
  bytes: number;
  doc: Element;
}

export async function post(url: string, auth: { user: string; pass: string }, xml: string): Promise<Reply> {
  const r = await fetch(`${url}/wsman`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/soap+xml;charset=UTF-8', Authorization: `Basic ${Buffer.from(`${auth.user}:${auth.pass}`).toString('base64')}` },
    body: xml,
  });
  const buf = Buffer.from(await r.arrayBuffer());
  const text = buf.toString('utf8');
  const doc = new DOMParser().parseFromString(text, 'application/xml').documentElement as unknown as Element;
  return { status: r.status, text, bytes: buf.length, doc };
}

export function all(el: Element | undefined, ns: string, local: string): Element[] {
  if (!el) return [];
  return Array.from(el.getElementsByTagNameNS(ns, local) as unknown as ArrayLike<Element>);
}
export function one(el: Element | undefined, ns: string, local: string): Element | undefined {
  return all(el, ns, local)[0];
}
export function children(el: Element | undefined): Element[] {
  const out: Element[] = [];
  for (let c = el?.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) out.push(c as Element);
  return out;
}
export const text = (el: Element | undefined) => (el?.textContent ?? '').trim();

/** the fault subcode as {ns, local} (QName resolved against the document) */
export function faultSubcode(r: Reply): { ns: string | null; local: string } | undefined {
  const sub = one(one(r.doc, NS.s, 'Subcode'), NS.s, 'Value');
  if (!sub) return undefined;
  const [prefix, local] = text(sub).split(':');
  return { ns: sub.lookupNamespaceURI(prefix), local };
}

export function expectFault(r: Reply, ns: string, local: string, detail?: string): void {
  if (r.status !== 500 || !faultSubcode(r)) throw new Error(`expected fault ${local}, got HTTP ${r.status}: ${r.text.slice(0, 800)}`);
  expect(faultSubcode(r)).toEqual({ ns, local });
  if (detail) expect(text(one(r.doc, NS.wsman, 'FaultDetail'))).toBe(`http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/${detail}`);
}

export function ok(r: Reply): Reply {
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${r.text.slice(0, 1500)}`);
  return r;
}

/** the enumeration's wire state after a response: items (element children of Items), context text, EndOfSequence */
export function page(r: Reply): { items: Element[]; context?: string; contextPresent: boolean; end: boolean; estimate?: number } {
  const resp = one(r.doc, NS.wsen, 'EnumerateResponse') ?? one(r.doc, NS.wsen, 'PullResponse');
  const itemsEl = children(resp).find((c) => c.localName === 'Items');
  const ctx = children(resp).find((c) => c.namespaceURI === NS.wsen && c.localName === 'EnumerationContext');
  const est = one(r.doc, NS.wsman, 'TotalItemsCountEstimate');
  return {
    items: children(itemsEl),
    context: ctx ? text(ctx) || undefined : undefined,
    contextPresent: !!ctx,
    end: children(resp).some((c) => c.localName === 'EndOfSequence'),
    estimate: est ? Number(text(est)) : undefined,
  };
}

/** a property value of an instance element (child by local name, in the instance's own namespace) */
export function prop(inst: Element, name: string): string | undefined {
  const c = children(inst).find((e) => e.localName === name && e.namespaceURI === inst.namespaceURI);
  return c ? text(c) : undefined;
}

/** a selector of an EPR element */
export function selector(epr: Element, name: string): string | undefined {
  const s = all(epr, NS.wsman, 'Selector').find((e) => e.getAttribute('Name') === name);
  return s ? text(s) : undefined;
}

export const enumerateBody = (inner = '') => `<wsen:Enumerate>${inner}</wsen:Enumerate>`;
export const pullBody = (ctx: string, max?: number) => `<wsen:Pull><wsen:EnumerationContext>${ctx}</wsen:EnumerationContext>${max ? `<wsen:MaxElements>${max}</wsen:MaxElements>` : ''}</wsen:Pull>`;
export const releaseBody = (ctx: string) => `<wsen:Release><wsen:EnumerationContext>${ctx}</wsen:EnumerationContext></wsen:Release>`;
