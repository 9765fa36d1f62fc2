/**
 * A namespace-aware element tree, the shape the doors' hardened XML reader produces (docs/architecture.md §1: the
 * model imports no XML code, so it names the shape it reads and writes, not the parser).
 */
export interface OvfNode {
  ns: string;
  local: string;
  /** the name as written, for messages only */
  name?: string;
  attrs: { ns: string; local: string; name?: string; value: string }[];
  children: OvfNode[];
  text: string;
}

/** DSP0243 1.x and 2.0 envelope namespaces (oVirt writes the 1.x one with a trailing slash). */
export const OVF_NS = 'http://schemas.dmtf.org/ovf/envelope/1';
export const OVF_NS_2 = 'http://schemas.dmtf.org/ovf/envelope/2';
export const RASD_NS = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData';
export const VSSD_NS = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData';
export const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

export function isOvfNs(ns: string): boolean {
  const n = ns.replace(/\/+$/, '');
  return n === OVF_NS || n === OVF_NS_2;
}

/** oVirt (virt-v2v -o rhv) writes the envelope's children unqualified, with no default namespace */
export function isOvfElementNs(ns: string): boolean {
  return ns === '' || isOvfNs(ns);
}

/** an ovf: attribute (either envelope version), or an unqualified one of that name */
export function ovfAttr(el: OvfNode, local: string): string | undefined {
  return (el.attrs.find((a) => a.local === local && isOvfNs(a.ns)) ?? el.attrs.find((a) => a.local === local && a.ns === ''))?.value;
}

/** the element's xsi:type local part (oVirt writes `<Section xsi:type="ovf:DiskSection_Type">`) */
export function xsiType(el: OvfNode): string | undefined {
  const t = el.attrs.find((a) => a.ns === XSI_NS && a.local === 'type')?.value;
  return t?.split(':').pop();
}

/** ovf children of `el` of this kind: by element name, or a `Section`/`Content` whose xsi:type is `<kind>_Type` */
export function ovfChildren(el: OvfNode, kind: string): OvfNode[] {
  return el.children.filter((c) => isOvfKind(c, kind));
}

export function isOvfKind(c: OvfNode, kind: string): boolean {
  return isOvfElementNs(c.ns) && (c.local === kind || ((c.local === 'Section' || c.local === 'Content') && xsiType(c) === `${kind}_Type`));
}

export function childText(el: OvfNode, local: string): string | undefined {
  const c = el.children.find((x) => x.local === local);
  return c ? c.text.trim() : undefined;
}

export const el = (ns: string, local: string, attrs: Record<string, string | undefined> = {}, children: (OvfNode | undefined)[] = [], text = ''): OvfNode => ({
  ns,
  local,
  attrs: Object.entries(attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => {
      const [p, l] = k.includes(':') ? k.split(':') : ['', k];
      return { ns: p === 'ovf' ? OVF_NS : p === 'xsi' ? XSI_NS : '', local: l, value: v! };
    }),
  children: children.filter((c): c is OvfNode => !!c),
  text,
});
