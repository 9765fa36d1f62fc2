import { xmlEscape } from '../xml/xml-hardening';
import type { CimClass, CimProperty } from './cim-catalogue';
import { isCimRef, type CimInstance, type CimRef, type CimScalar, type CimValue } from './cim-instances';
import { ANONYMOUS, NS } from './wsman-ns';

/**
 * DSP0230 rendering. Output uses the prefixes the response envelope declares (wsa, wsman, cim, xsi; see
 * ENVELOPE_PREFIXES) and declares the class namespace itself as `p` on the instance element.
 */

/** `<wsman:SelectorSet>` of an EPR; a reference-valued selector nests its EPR (DSP0226 7.2). */
export function renderSelectorSet(selectors: { name: string; value: string | CimRef }[]): string {
  const sel = selectors
    .map((s) => `<wsman:Selector Name="${xmlEscape(s.name)}">${typeof s.value === 'string' ? xmlEscape(s.value) : renderEpr(s.value.cls, s.value.selectors)}</wsman:Selector>`)
    .join('');
  return `<wsman:SelectorSet>${sel}</wsman:SelectorSet>`;
}

/** EPR children (Address + ReferenceParameters), for use inside any element (references, ResourceCreated). */
export function renderEprContent(cls: CimClass, selectors: { name: string; value: string | CimRef }[]): string {
  return `<wsa:Address>${ANONYMOUS}</wsa:Address><wsa:ReferenceParameters><wsman:ResourceURI>${xmlEscape(cls.uri)}</wsman:ResourceURI>${renderSelectorSet(selectors)}</wsa:ReferenceParameters>`;
}

/** `<wsa:EndpointReference>` of an instance (EnumerateEPR items, nested selector EPRs). */
export function renderEpr(cls: CimClass, selectors: { name: string; value: string | CimRef }[]): string {
  return `<wsa:EndpointReference>${renderEprContent(cls, selectors)}</wsa:EndpointReference>`;
}

export function renderInstanceEpr(inst: CimInstance): string {
  return renderEpr(inst.cls, inst.selectors);
}

/** xs:dateTime in UTC for cim:Datetime (DSP0230 §7.2.x) */
function datetime(d: Date): string {
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

function scalar(p: CimProperty, v: CimScalar, tag: string): string {
  if (isCimRef(v)) return `<${tag}>${renderEprContent(v.cls, v.selectors)}</${tag}>`;
  if (p.type === 'datetime') {
    const d = v instanceof Date ? v : new Date(String(v));
    // cim declared here too: line-based clients (wsl put) copy property lines into a new envelope without it
    return `<${tag}><cim:Datetime xmlns:cim="${NS.cim}">${datetime(d)}</cim:Datetime></${tag}>`;
  }
  if (typeof v === 'boolean') return `<${tag}>${v ? 'true' : 'false'}</${tag}>`;
  if (typeof v === 'number') return `<${tag}>${Number.isInteger(v) ? v.toFixed(0) : String(v)}</${tag}>`;
  return `<${tag}>${xmlEscape(String(v))}</${tag}>`;
}

/** One property: NULL is xsi:nil; arrays repeat the element; a NULL or empty array is omitted (DSP0230). */
export function renderProperty(p: CimProperty, v: CimValue | undefined, prefix = 'p'): string {
  const tag = `${prefix}:${p.name}`;
  if (v === null || v === undefined) return p.array ? '' : `<${tag} xsi:nil="true"/>`;
  if (Array.isArray(v)) return v.map((x) => scalar(p, x, tag)).join('');
  if (p.array) return scalar(p, v, tag);
  return scalar(p, v, tag);
}

/**
 * An instance element (DSP0230 §7): element named after the class in the class's namespace, properties in
 * alphabetical order. `view` renders it as a superclass (ExcludeSubClassProperties, DSP0227 polymorphism):
 * the superclass element and only its properties. `declared: false` leaves the `p` prefix to the caller.
 */
export function renderInstance(inst: CimInstance, view: CimClass = inst.cls, opts: { declared?: boolean } = {}): string {
  const props = view.rendered.map((p) => renderProperty(p, inst.values.get(p.name))).join('');
  const decl = opts.declared === false ? '' : ` xmlns:p="${xmlEscape(view.uri)}"`;
  return `<p:${view.name}${decl}>${props}</p:${view.name}>`;
}

/**
 * A `wsman:Item` of EnumerateObjectAndEPR (DSP0226 8.7): the instance and its EPR. The class namespace is declared
 * on the Item, so the instance's start tag has no attributes: wsl finds the instance by the line `<p:Class>`.
 */
export function renderItem(inst: CimInstance, view: CimClass = inst.cls): string {
  return `<wsman:Item xmlns:p="${xmlEscape(view.uri)}">${renderInstance(inst, view, { declared: false })}${renderInstanceEpr(inst)}</wsman:Item>`;
}
