import { randomUUID } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import { childElements, firstChild, textOf, xmlEscape, type XmlEncoding } from '../xml/xml-hardening';
import { WsmanFault } from './wsman-fault';
import { ANONYMOUS, ENVELOPE_PREFIXES, NS } from './wsman-ns';

/** A selector: a plain value, or an EPR for reference-typed keys (DSP0226 7.2, DSP0227 7.x). */
export interface Selector {
  name: string;
  value: string;
  epr?: Epr;
}

export interface Epr {
  address?: string;
  resourceUri?: string;
  selectors: Selector[];
}

export interface WsmanOption {
  name: string;
  value: string;
  mustComply: boolean;
  type?: string;
}

/** Everything of a request envelope a handler may need, parsed by namespace (docs/wsman.md §1.2). */
export interface WsmanRequest {
  doc: Document;
  /** the body's encoding, which the response uses too (set by the controller; UTF-8 when absent) */
  encoding?: XmlEncoding;
  header?: Element;
  body?: Element;
  /** first element child of s:Body (the operation's payload), if any */
  payload?: Element;
  /** wsa:To as sent; never validated (docs/wsman.md §7.5) */
  to?: string;
  action: string;
  /** may be '' (wsl without uuidgen); echoed in RelatesTo */
  messageId: string;
  resourceUri?: string;
  /** SelectorSet minus `__cimnamespace`, in the order sent */
  selectors: Selector[];
  cimNamespace?: string;
  options: WsmanOption[];
  maxEnvelopeSize?: number;
  /** OperationTimeout in milliseconds */
  operationTimeoutMs?: number;
  locale?: string;
  /** wsman:RequestTotalItemsCountEstimate present (Enumerate/Pull) */
  requestTotalItemsCountEstimate: boolean;
  /** header elements this door does not interpret (for handlers that want them) */
  extraHeaders: Element[];
}

/** Headers this door understands (DSP0226; the MS ones are honoured as "ignorable"). */
const UNDERSTOOD = new Set<string>(
  [
    [NS.wsa, 'To'],
    [NS.wsa, 'ReplyTo'],
    [NS.wsa, 'Action'],
    [NS.wsa, 'MessageID'],
    [NS.wsa, 'From'],
    [NS.wsa, 'FaultTo'],
    [NS.wsman, 'ResourceURI'],
    [NS.wsman, 'SelectorSet'],
    [NS.wsman, 'OptionSet'],
    [NS.wsman, 'MaxEnvelopeSize'],
    [NS.wsman, 'OperationTimeout'],
    [NS.wsman, 'Locale'],
    [NS.wsman, 'RequestTotalItemsCountEstimate'],
    // the SubscriptionManager's reference parameter (WS-Eventing 2004/08 §3.2-3.4)
    [NS.wse, 'Identifier'],
  ].map(([n, l]) => `{${n}}${l}`),
);

/** DSP0226 6.2: a MaxEnvelopeSize below 8192 octets is refused (docs/wsman.md §1.2). */
export const MIN_ENVELOPE_SIZE = 8192;

export function envelopeParts(doc: Document): { header?: Element; body?: Element } {
  const env = doc.documentElement!;
  if (env.localName === 'Envelope' && env.namespaceURI !== NS.s) {
    // SOAP 1.2 Part 1 §5.4.7: an Envelope of another version is env:VersionMismatch, with the Upgrade header (§5.4.7
    // Example 6) naming the one we support; answered in SOAP 1.2 as DSP0226 defines every fault (docs/wsman.md §1)
    throw new WsmanFault('VersionMismatch', `this endpoint speaks SOAP 1.2 (${NS.s}), not ${(env.namespaceURI ?? 'no namespace').slice(0, 100)}`);
  }
  if (env.namespaceURI !== NS.s || env.localName !== 'Envelope') {
    throw new WsmanFault('SchemaValidationError', 'the document is not a SOAP 1.2 Envelope');
  }
  const headers = childElements(env, NS.s, 'Header');
  const bodies = childElements(env, NS.s, 'Body');
  if (headers.length > 1 || bodies.length !== 1) throw new WsmanFault('SchemaValidationError', 'a SOAP Envelope has at most one Header and exactly one Body');
  return { header: headers[0], body: bodies[0] };
}

/** Identify is recognised by its body alone; it has no addressing headers (DSP0226 11). */
export function isIdentify(body: Element | undefined): boolean {
  const p = body ? childElements(body)[0] : undefined;
  return !!p && p.namespaceURI === NS.wsmid && p.localName === 'Identify';
}

/** The request's wsa:MessageID, read before the other headers are checked so that a header fault still relates to it. */
export function peekMessageId(header: Element | undefined): string | undefined {
  const id = header ? childElements(header, NS.wsa, 'MessageID')[0] : undefined;
  return id ? textOf(id).trim() : undefined;
}

/** SOAP 1.2 mustUnderstand: only the attribute in the envelope namespace counts (docs/wsman.md §1.2, pywinrm). */
function mustUnderstand(el: Element): boolean {
  const v = el.getAttributeNS(NS.s, 'mustUnderstand');
  return v === 'true' || v === '1';
}

/**
 * The header block of a non-Identify request. Faults: s:MustUnderstand for an unknown header marked by the SOAP
 * attribute, wsa:MessageInformationHeaderRequired for a missing To/ReplyTo/Action/MessageID, wsa:Invalid… for a
 * bad value, wsman:EncodingLimit for a MaxEnvelopeSize below the minimum.
 */
export function parseRequest(doc: Document, header: Element | undefined, body: Element | undefined): WsmanRequest {
  const hs = header ? childElements(header) : [];
  const extraHeaders: Element[] = [];
  for (const h of hs) {
    const key = `{${h.namespaceURI ?? ''}}${h.localName}`;
    if (UNDERSTOOD.has(key)) continue;
    if (mustUnderstand(h)) {
      // FragmentTransfer is a known feature we do not offer: DSP0226 7.7 names its own fault
      if (h.namespaceURI === NS.wsman && h.localName === 'FragmentTransfer') throw new WsmanFault('UnsupportedFeature', 'fragment transfer is not supported', { detail: 'FragmentLevelAccess' });
      throw new WsmanFault('MustUnderstand', `header ${h.localName} (${h.namespaceURI ?? 'no namespace'}) is not understood`, { notUnderstood: { ns: h.namespaceURI ?? '', local: h.localName! } });
    }
    extraHeaders.push(h);
  }
  const one = (ns: string, local: string): Element | undefined => {
    const found = hs.filter((h) => h.namespaceURI === ns && h.localName === local);
    if (found.length > 1) throw new WsmanFault('InvalidMessageInformationHeader', `header ${local} appears more than once`);
    return found[0];
  };
  const toEl = one(NS.wsa, 'To');
  const actionEl = one(NS.wsa, 'Action');
  const idEl = one(NS.wsa, 'MessageID');
  const replyEl = one(NS.wsa, 'ReplyTo');
  const missing = (name: string) => new WsmanFault('MessageInformationHeaderRequired', `the wsa:${name} header is required`, { detailXml: `<wsa:${name}/>` });
  if (!actionEl || !textOf(actionEl).trim()) throw missing('Action');
  if (!toEl) throw missing('To');
  if (!idEl) throw missing('MessageID');
  if (!replyEl) throw missing('ReplyTo');
  const replyTo = textOf(firstChild(replyEl, NS.wsa, 'Address')).trim();
  // docs/wsman.md §1.2: only the anonymous reply endpoint (the synchronous HTTP response) is supported
  if (replyTo !== ANONYMOUS) throw new WsmanFault('UnsupportedFeature', 'only the anonymous ReplyTo address is supported', { detail: 'AddressingMode' });

  const rUri = one(NS.wsman, 'ResourceURI');
  const sel = one(NS.wsman, 'SelectorSet');
  const opt = one(NS.wsman, 'OptionSet');
  const mes = one(NS.wsman, 'MaxEnvelopeSize');
  const ot = one(NS.wsman, 'OperationTimeout');
  const loc = one(NS.wsman, 'Locale');

  let maxEnvelopeSize: number | undefined;
  if (mes) {
    const t = textOf(mes).trim();
    if (!/^\d{1,10}$/.test(t)) throw new WsmanFault('InvalidMessageInformationHeader', 'MaxEnvelopeSize must be a positive integer', { detailXml: '<wsman:MaxEnvelopeSize/>' });
    maxEnvelopeSize = Number(t);
    if (maxEnvelopeSize < MIN_ENVELOPE_SIZE) throw new WsmanFault('EncodingLimit', `MaxEnvelopeSize must be at least ${MIN_ENVELOPE_SIZE}`, { detail: 'MinimumEnvelopeLimit' });
  }
  let operationTimeoutMs: number | undefined;
  if (ot) {
    operationTimeoutMs = parseDuration(textOf(ot).trim());
    if (operationTimeoutMs === undefined) throw new WsmanFault('InvalidMessageInformationHeader', 'OperationTimeout must be an xs:duration', { detailXml: '<wsman:OperationTimeout/>' });
  }
  const { selectors, cimNamespace } = sel ? parseSelectorSet(sel) : { selectors: [], cimNamespace: undefined };
  const options: WsmanOption[] = opt
    ? childElements(opt, NS.wsman, 'Option').map((o) => ({
        name: o.getAttribute('Name') ?? '',
        value: textOf(o),
        mustComply: ['true', '1'].includes(o.getAttribute('MustComply') ?? ''),
        type: o.getAttribute('Type') ?? undefined,
      }))
    : [];
  const payload = body ? childElements(body)[0] : undefined;
  return {
    doc,
    header,
    body,
    payload,
    to: textOf(toEl).trim(),
    action: textOf(actionEl).trim(),
    messageId: textOf(idEl).trim(),
    resourceUri: rUri ? textOf(rUri).trim() : undefined,
    selectors,
    cimNamespace,
    options,
    maxEnvelopeSize,
    operationTimeoutMs,
    locale: loc ? (loc.getAttributeNS(NS.xml, 'lang') ?? loc.getAttribute('xml:lang') ?? undefined) || undefined : undefined,
    requestTotalItemsCountEstimate: hs.some((h) => h.namespaceURI === NS.wsman && h.localName === 'RequestTotalItemsCountEstimate'),
    extraHeaders,
  };
}

/**
 * wsman:SelectorSet (DSP0226 7.2): names unique (case-insensitively, as WinRM treats them), values text or one
 * wsa:EndpointReference; `__cimnamespace` split off (docs/wsman.md §5.1).
 */
export function parseSelectorSet(set: Element): { selectors: Selector[]; cimNamespace?: string } {
  const selectors: Selector[] = [];
  let cimNamespace: string | undefined;
  const seen = new Set<string>();
  for (const s of childElements(set, NS.wsman, 'Selector')) {
    const name = (s.getAttribute('Name') ?? '').trim();
    if (!name) throw new WsmanFault('InvalidSelectors', 'a Selector has no Name', { detail: 'InvalidValue' });
    if (seen.has(name.toLowerCase())) throw new WsmanFault('InvalidSelectors', `selector ${name} appears twice`, { detail: 'DuplicateSelectors' });
    seen.add(name.toLowerCase());
    const eprEl = firstChild(s, NS.wsa, 'EndpointReference');
    if (name.toLowerCase() === '__cimnamespace') {
      cimNamespace = textOf(s).trim();
      continue;
    }
    selectors.push(eprEl ? { name, value: '', epr: parseEpr(eprEl) } : { name, value: textOf(s).trim() });
  }
  return { selectors, cimNamespace };
}

/** An EPR element (wsa:EndpointReference, or any element whose children are Address/ReferenceParameters). */
export function parseEpr(el: Element): Epr {
  const rp = firstChild(el, NS.wsa, 'ReferenceParameters') ?? el;
  const set = firstChild(rp, NS.wsman, 'SelectorSet');
  const address = firstChild(el, NS.wsa, 'Address');
  const resourceUri = firstChild(rp, NS.wsman, 'ResourceURI');
  return {
    address: address ? textOf(address).trim() : undefined,
    resourceUri: resourceUri ? textOf(resourceUri).trim() : undefined,
    selectors: set ? parseSelectorSet(set).selectors : [],
  };
}

/**
 * xs:duration (XML Schema 2 §3.2.6) in milliseconds: `PnYnMnDTnHnMnS`, fractional seconds (`PT60.0S`,
 * `PT360.000S`); years and months count as 365 and 30 days. Negative durations are not timeouts: undefined.
 */
export function parseDuration(s: string): number | undefined {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?|\.\d+)S)?)?$/.exec(s);
  if (!m || s === 'P' || s.endsWith('T')) return undefined;
  const [, y, mo, d, h, mi, sec] = m;
  const n = (v: string | undefined) => (v ? Number(v) : 0);
  const ms = ((((n(y) * 365 + n(mo) * 30 + n(d)) * 24 + n(h)) * 60 + n(mi)) * 60 + n(sec)) * 1000;
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** xs:duration for a number of milliseconds (DSP0230 cim:Interval; `P0DT0H1M40S` style). */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(total / 86400);
  const h = Math.floor((total % 86400) / 3600);
  const mi = Math.floor((total % 3600) / 60);
  return `P${d}DT${h}H${mi}M${total % 60}S`;
}

export interface ReplyParts {
  action?: string;
  /** the request's MessageID ('' when it was empty); undefined when the request could not be parsed */
  relatesTo?: string;
  /** extra header XML (e.g. wsman:TotalItemsCountEstimate), using the envelope's prefixes */
  headers?: string[];
  /** body XML (may be empty) */
  body: string;
  /** extra prefixes to declare on the Envelope */
  namespaces?: Record<string, string>;
  /** an empty s:Header (IdentifyResponse, as openwsmand sends it: DSP0226 11 has no addressing there) */
  bare?: boolean;
}

/** A response envelope (docs/wsman.md §1.3): To anonymous, Action, RelatesTo, a fresh MessageID. */
export function buildEnvelope(p: ReplyParts): string {
  const ns = { ...ENVELOPE_PREFIXES, ...(p.namespaces ?? {}) };
  const decl = Object.entries(ns)
    .map(([k, v]) => ` xmlns:${k}="${xmlEscape(v)}"`)
    .join('');
  const hdr = p.bare
    ? ''
    : `<wsa:To>${ANONYMOUS}</wsa:To>` +
    (p.action ? `<wsa:Action>${xmlEscape(p.action)}</wsa:Action>` : '') +
    (p.relatesTo !== undefined ? `<wsa:RelatesTo>${xmlEscape(p.relatesTo)}</wsa:RelatesTo>` : '') +
    `<wsa:MessageID>uuid:${randomUUID()}</wsa:MessageID>` +
    (p.headers ?? []).join('');
  const header = hdr ? `<s:Header>${hdr}</s:Header>` : '<s:Header/>';
  return `<?xml version="1.0" encoding="UTF-8"?><s:Envelope${decl}>${header}<s:Body>${p.body}</s:Body></s:Envelope>`;
}
