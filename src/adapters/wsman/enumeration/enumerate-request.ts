import type { Element } from '@xmldom/xmldom';
import { childElements, firstChild, textOf } from '../../xml/xml-hardening';
import { parseDuration, parseEpr, parseSelectorSet, type Epr, type Selector } from '../wsman-envelope';
import { WsmanFault } from '../wsman-fault';
import { NS } from '../wsman-ns';
import { QUERY_DIALECT_URIS } from './wql';

/** Filter dialects of WS-Man enumeration (docs/wsman.md §2.3). */
export const DIALECTS = {
  selector: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/SelectorFilter',
  association: 'http://schemas.dmtf.org/wbem/wsman/1/cimbinding/associationFilter',
} as const;
export const SUPPORTED_DIALECTS: readonly string[] = [DIALECTS.selector, ...QUERY_DIALECT_URIS, DIALECTS.association];

export type EnumerationMode = 'object' | 'epr' | 'objepr';
export type Polymorphism = 'include' | 'exclude' | 'none';

export interface AssociationFilter {
  /** AssociatedInstances ("associators") or AssociationInstances ("references"), DSP0227 §8.2 */
  kind: 'associated' | 'references';
  object: Epr;
  associationClassName?: string;
  resultClassName?: string;
  role?: string;
  resultRole?: string;
}

export type EnumerationFilter =
  | { dialect: 'selector'; selectors: Selector[] }
  | { dialect: 'query'; uri: string; text: string }
  | { dialect: 'association'; association: AssociationFilter };

export interface EnumerateRequest {
  optimize: boolean;
  /** meaningful with `optimize` only (DSP0226 §8.2.3) */
  maxElements?: number;
  mode: EnumerationMode;
  polymorphism: Polymorphism;
  filter?: EnumerationFilter;
  /** wsman:Filter (DSP0226) or wsen:Filter (WS-Enumeration): decides the namespace of CannotProcessFilter */
  filterNs?: 'wsman' | 'wsen';
  expires?: { at: Date } | { afterMs: number };
}

const MODES: Record<string, EnumerationMode> = { EnumerateEPR: 'epr', EnumerateObjectAndEPR: 'objepr' };
const POLYMORPHISM: Record<string, Polymorphism> = { IncludeSubClassProperties: 'include', ExcludeSubClassProperties: 'exclude', None: 'none' };

/** CannotProcessFilter in the namespace of the Filter element that carried the filter (docs/wsman.md §2.3). */
export function cannotProcessFilter(ns: 'wsman' | 'wsen' | undefined, message: string, code?: string): WsmanFault {
  return new WsmanFault(ns === 'wsen' ? 'EnumCannotProcessFilter' : 'CannotProcessFilter', message, code ? { code } : {});
}

function positiveInt(el: Element, what: string): number {
  const t = textOf(el).trim();
  if (!/^\d{1,9}$/.test(t) || Number(t) < 1) throw new WsmanFault('InvalidParameter', `${what} must be a positive integer`, { detail: 'TypeMismatch' });
  return Number(t);
}

/** wsen:Expires: an xs:duration or an xs:dateTime (WS-Enumeration §3.1) */
function parseExpires(el: Element): { at: Date } | { afterMs: number } {
  const t = textOf(el).trim();
  if (/^-?P/.test(t)) {
    // a zero or negative duration is a valid xs:duration: the model refuses it as InvalidExpirationTime
    const ms = parseDuration(t.replace(/^-/, ''));
    if (ms !== undefined) return { afterMs: t.startsWith('-') ? -ms : ms };
  } else if (/^\d{4}-\d{2}-\d{2}T/.test(t) && Number.isFinite(Date.parse(t))) {
    return { at: new Date(Date.parse(t)) };
  }
  throw new WsmanFault('UnsupportedExpirationType', `Expires ${t.slice(0, 60)} is neither an xs:duration nor an xs:dateTime`);
}

/** The body of wsen:Enumerate, children in any order (wsl sends MaxElements first, docs/wsman.md §7.17). */
export function parseEnumerate(el: Element | undefined): EnumerateRequest {
  if (!el || el.namespaceURI !== NS.wsen || el.localName !== 'Enumerate') throw new WsmanFault('SchemaValidationError', 'the Body of an Enumerate must be wsen:Enumerate');
  const out: EnumerateRequest = { optimize: false, mode: 'object', polymorphism: 'include' };
  let filterEl: Element | undefined;
  for (const c of childElements(el)) {
    const ns = c.namespaceURI;
    const name = c.localName;
    if (ns === NS.wsman && name === 'OptimizeEnumeration') out.optimize = true;
    else if (ns === NS.wsman && name === 'MaxElements') out.maxElements = positiveInt(c, 'MaxElements');
    else if (ns === NS.wsman && name === 'EnumerationMode') {
      const m = MODES[textOf(c).trim()];
      if (!m) throw new WsmanFault('UnsupportedFeature', `EnumerationMode ${textOf(c).trim().slice(0, 60)} is not supported`, { detail: 'EnumerationMode' });
      out.mode = m;
    } else if (ns === NS.wsmb && name === 'PolymorphismMode') {
      const p = POLYMORPHISM[textOf(c).trim()];
      if (!p) throw new WsmanFault('PolymorphismModeNotSupported', `PolymorphismMode ${textOf(c).trim().slice(0, 60)} is not supported`);
      out.polymorphism = p;
    } else if ((ns === NS.wsman || ns === NS.wsen) && name === 'Filter') {
      if (filterEl) throw new WsmanFault('SchemaValidationError', 'an Enumerate carries at most one Filter');
      filterEl = c;
    } else if (ns === NS.wsen && name === 'Expires') out.expires = parseExpires(c);
    // wsen:EndTo asks for an EnumerationEnd message should the enumeration end early; ours only end by Release
    // or expiry, which the client caused or chose, so there is nothing to send (WS-Enumeration §3.1)
    else if (ns === NS.wsen && name === 'EndTo') continue;
    else if (ns === NS.wsman && name === 'IncludeExpensiveProperties') continue;
    else throw new WsmanFault('SchemaValidationError', `unexpected element ${name} in Enumerate`);
  }
  if (filterEl) {
    out.filterNs = filterEl.namespaceURI === NS.wsen ? 'wsen' : 'wsman';
    out.filter = parseFilter(filterEl, out.filterNs);
  }
  return out;
}

function parseFilter(el: Element, ns: 'wsman' | 'wsen'): EnumerationFilter {
  // WS-Enumeration §3.1: an absent Dialect means XPath 1.0, which this service does not offer
  const dialect = (el.getAttribute('Dialect') ?? '').trim() || 'http://www.w3.org/TR/1999/REC-xpath-19991116';
  if (dialect === DIALECTS.selector) {
    const set = firstChild(el, NS.wsman, 'SelectorSet');
    if (!set) throw cannotProcessFilter(ns, 'a SelectorFilter holds a wsman:SelectorSet');
    return { dialect: 'selector', selectors: parseSelectorSet(set).selectors };
  }
  if (QUERY_DIALECT_URIS.includes(dialect)) return { dialect: 'query', uri: dialect, text: textOf(el).trim() };
  if (dialect === DIALECTS.association) return { dialect: 'association', association: parseAssociation(el, ns) };
  throw new WsmanFault('FilterDialectRequestedUnavailable', `filter dialect ${dialect.slice(0, 200)} is not supported`, {
    detailXml: SUPPORTED_DIALECTS.map((d) => `<wsen:SupportedDialect>${d}</wsen:SupportedDialect>`).join(''),
  });
}

function parseAssociation(el: Element, ns: 'wsman' | 'wsen'): AssociationFilter {
  const kids = childElements(el, NS.wsmb);
  if (kids.length !== 1 || (kids[0].localName !== 'AssociatedInstances' && kids[0].localName !== 'AssociationInstances')) {
    throw cannotProcessFilter(ns, 'an association filter holds one wsmb:AssociatedInstances or wsmb:AssociationInstances');
  }
  const a = kids[0];
  const kind = a.localName === 'AssociatedInstances' ? 'associated' : 'references';
  const text = (local: string) => {
    const e = firstChild(a, NS.wsmb, local);
    return e ? textOf(e).trim() || undefined : undefined;
  };
  const objectEl = firstChild(a, NS.wsmb, 'Object');
  if (!objectEl) throw cannotProcessFilter(ns, 'the association filter names no wsmb:Object');
  // wsmancli sends only ReferenceParameters, wsl an Address too (docs/wsman.md §7.9): parseEpr takes both
  const object = parseEpr(objectEl);
  if (!object.resourceUri) throw cannotProcessFilter(ns, 'the wsmb:Object has no ResourceURI');
  if (firstChild(a, NS.wsmb, 'IncludeResultProperty')) throw cannotProcessFilter(ns, 'IncludeResultProperty is not supported: results carry every property');
  const filter: AssociationFilter = { kind, object, resultClassName: text('ResultClassName'), role: text('Role') };
  if (kind === 'associated') {
    filter.associationClassName = text('AssociationClassName');
    filter.resultRole = text('ResultRole');
  } else if (firstChild(a, NS.wsmb, 'AssociationClassName') || firstChild(a, NS.wsmb, 'ResultRole')) {
    // DSP0227 §8.2: AssociationInstances takes Object, ResultClassName (the association class) and Role only
    throw cannotProcessFilter(ns, 'AssociationInstances takes ResultClassName and Role, not AssociationClassName or ResultRole');
  }
  return filter;
}

export interface PullRequest {
  context: string;
  maxElements: number;
  maxCharacters?: number;
}

function contextOf(el: Element, op: string): string {
  const c = firstChild(el, NS.wsen, 'EnumerationContext');
  // a missing or empty context cannot name a live enumeration
  if (!c || !textOf(c).trim()) throw new WsmanFault('InvalidEnumerationContext', `the ${op} carries no EnumerationContext`);
  return textOf(c).trim();
}

/** wsen:Pull: EnumerationContext, MaxElements (default 1, WS-Enumeration §3.2), MaxCharacters; MaxTime needs nothing (items are always ready). */
export function parsePull(el: Element | undefined): PullRequest {
  if (!el || el.namespaceURI !== NS.wsen || el.localName !== 'Pull') throw new WsmanFault('SchemaValidationError', 'the Body of a Pull must be wsen:Pull');
  const me = firstChild(el, NS.wsen, 'MaxElements');
  const mc = firstChild(el, NS.wsen, 'MaxCharacters');
  return { context: contextOf(el, 'Pull'), maxElements: me ? positiveInt(me, 'MaxElements') : 1, maxCharacters: mc ? positiveInt(mc, 'MaxCharacters') : undefined };
}

export function parseRelease(el: Element | undefined): string {
  if (!el || el.namespaceURI !== NS.wsen || el.localName !== 'Release') throw new WsmanFault('SchemaValidationError', 'the Body of a Release must be wsen:Release');
  return contextOf(el, 'Release');
}
