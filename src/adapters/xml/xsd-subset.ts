import { parseXml, xmlEscape, type XElement } from './safe-xml';

const XSD = 'http://www.w3.org/2001/XMLSchema';

/**
 * An interpreter for the XML Schema 1.0 subset our hand-written contracts use, loaded from the same file the door
 * serves (one source of truth): global elements with inline or named complex types, `sequence` of local elements
 * (minOccurs/maxOccurs), `complexContent/extension`, and simple types restricting xsd:string, int, long, double, boolean,
 * dateTime, base64Binary with enumeration, pattern, min/maxLength and min/maxInclusive. Anything else in the file fails the load,
 * so the subset cannot silently drift from what is validated. No `xsd:group`: the published contract has none, for
 * toolkits without model groups (Perl SOAP::WSDL; scripts/xsd-inline-groups.mjs inlines them).
 */
export interface SimpleTypeDef {
  name: string;
  /** the named base (another simple type or a builtin) */
  base: string;
  enumeration?: string[];
  patterns: RegExp[];
  minLength?: number;
  maxLength?: number;
  minInclusive?: number;
  maxInclusive?: number;
}

export interface ElementDecl {
  name: string;
  /** qualified type name: `xsd:int` style builtins are `{XSD}int`, our own are their local name */
  type: string;
  min: number;
  max: number;
}

interface ComplexTypeDef {
  name: string;
  base?: string;
  particles: ElementDecl[];
}

export type Builtin = 'string' | 'int' | 'long' | 'double' | 'boolean' | 'dateTime' | 'base64Binary';
const BUILTINS: readonly string[] = ['string', 'int', 'long', 'double', 'boolean', 'dateTime', 'base64Binary'];

/** A value a schema check refused: `path` names the argument (e.g. `machineTemplate.value.cpu`). */
export class XsdValidationError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'XsdValidationError';
  }
}

export interface DecodeHooks {
  /** converts a decoded simple value of a named simple type (e.g. an id type into a reference) */
  simple?(typeName: string, value: unknown): unknown;
  /** converts a decoded complex value of a named complex type (e.g. a property list into a map) */
  complex?(typeName: string, value: Record<string, unknown>): unknown;
}

export interface EncodeHooks {
  /** shapes a model value for a named complex type before encoding (the inverse of DecodeHooks.complex) */
  complex?(typeName: string, value: unknown): Record<string, unknown> | undefined;
  /** text of a simple value (the inverse of DecodeHooks.simple); undefined leaves the element out */
  simple?(typeName: string, value: unknown): string | undefined;
}

export class XsdSchema {
  readonly targetNamespace: string;
  private readonly simple = new Map<string, SimpleTypeDef>();
  private readonly complex = new Map<string, ComplexTypeDef>();
  /** global element name -> its complex type name (inline types get the element's name, prefixed `#`) */
  private readonly elements = new Map<string, string>();
  private readonly flat = new Map<string, ElementDecl[]>();

  constructor(xsdText: string) {
    const root = parseXml(xsdText, { maxDepth: 64, maxElements: 200000, maxAttributes: 64 });
    if (root.ns !== XSD || root.local !== 'schema') throw new Error('not an XML Schema');
    this.targetNamespace = attrOf(root, 'targetNamespace') ?? '';
    if (attrOf(root, 'elementFormDefault') !== 'qualified') throw new Error('the subset needs elementFormDefault="qualified"');
    for (const c of xsdChildren(root)) {
      const name = attrOf(c, 'name');
      switch (c.local) {
        case 'simpleType':
          this.simple.set(req(name, c), this.simpleType(c, req(name, c)));
          break;
        case 'complexType':
          this.complex.set(req(name, c), this.complexType(c, req(name, c)));
          break;
        case 'element': {
          const n = req(name, c);
          const type = attrOf(c, 'type');
          if (type) this.elements.set(n, this.typeName(type, c));
          else {
            this.complex.set(`#${n}`, this.complexType(only(c, 'complexType'), `#${n}`));
            this.elements.set(n, `#${n}`);
          }
          break;
        }
        case 'annotation':
          break;
        default:
          throw new Error(`XSD construct ${c.local} is outside the supported subset`);
      }
    }
    // resolve every reference now: a typo in the contract fails the start, not a request
    for (const t of this.complex.keys()) this.decls(t);
    for (const s of this.simple.values()) this.builtinOf(s.name);
    for (const [e, t] of this.elements) if (!this.complex.has(t) && !this.simple.has(t) && !isBuiltin(t)) throw new Error(`element ${e} has unknown type ${t}`);
  }

  hasElement(name: string): boolean {
    return this.elements.has(name);
  }

  /** The element declarations of a complex type in document order (base type first). */
  decls(typeName: string): ElementDecl[] {
    let out = this.flat.get(typeName);
    if (out) return out;
    const t = this.complex.get(typeName);
    if (!t) throw new Error(`unknown complex type ${typeName}`);
    out = [...(t.base ? this.decls(t.base) : []), ...t.particles];
    for (const d of out) if (!isBuiltin(d.type) && !this.simple.has(d.type) && !this.complex.has(d.type)) throw new Error(`${typeName}.${d.name} has unknown type ${d.type}`);
    this.flat.set(typeName, out);
    return out;
  }

  isComplex(typeName: string): boolean {
    return this.complex.has(typeName);
  }

  /** Validates a global element's content against its type and decodes it into a plain value. */
  decode(el: XElement, hooks: DecodeHooks = {}): Record<string, unknown> {
    const type = this.elements.get(el.local);
    if (el.ns !== this.targetNamespace || !type) throw new XsdValidationError(el.local, `${el.local} is not an element of ${this.targetNamespace}`);
    return this.decodeComplex(el, type, '', hooks) as Record<string, unknown>;
  }

  /** Serializes a value as the global element `name` (prefix `t`, namespace declared on it). */
  encode(name: string, value: unknown, hooks: EncodeHooks = {}): string {
    const type = this.elements.get(name);
    if (!type) throw new Error(`unknown element ${name}`);
    const inner = this.encodeContent(type, value, hooks);
    return `<t:${name} xmlns:t="${this.targetNamespace}">${inner}</t:${name}>`;
  }

  private encodeContent(type: string, value: unknown, hooks: EncodeHooks): string {
    const shaped = (hooks.complex?.(type, value) ?? value) as Record<string, unknown>;
    let out = '';
    for (const d of this.decls(type)) {
      const v = shaped?.[d.name];
      if (v === undefined || v === null) continue;
      const items = d.max > 1 ? (Array.isArray(v) ? v : [v]) : [v];
      for (const item of items) {
        if (item === undefined || item === null) continue;
        if (this.complex.has(d.type)) out += `<t:${d.name}>${this.encodeContent(d.type, item, hooks)}</t:${d.name}>`;
        else {
          const text = hooks.simple ? hooks.simple(d.type, item) : defaultText(item);
          if (text !== undefined) out += `<t:${d.name}>${xmlEscape(text)}</t:${d.name}>`;
        }
      }
    }
    return out;
  }

  private decodeComplex(el: XElement, type: string, path: string, hooks: DecodeHooks): unknown {
    if (el.attrs.length) throw new XsdValidationError(path || el.local, `${path || el.local} takes no attributes`);
    if (el.text.trim()) throw new XsdValidationError(path || el.local, `${path || el.local} takes elements, not text`);
    const out: Record<string, unknown> = {};
    let i = 0;
    for (const d of this.decls(type)) {
      const found: XElement[] = [];
      while (i < el.children.length && el.children[i].local === d.name && el.children[i].ns === this.targetNamespace && found.length < d.max) found.push(el.children[i++]);
      const at = path ? `${path}.${d.name}` : d.name;
      if (found.length < d.min) {
        const next = el.children[i];
        const foreign = next && (next.ns !== this.targetNamespace || !this.decls(type).some((x) => x.name === next.local));
        throw new XsdValidationError(at, foreign ? `${path || el.local} has no element {${next.ns}}${next.local} (expected ${d.name})` : `${at} is required`);
      }
      if (!found.length) continue;
      const values = found.map((f, k) => this.decodeValue(f, d.type, d.max > 1 ? `${at}[${k}]` : at, hooks));
      out[d.name] = d.max > 1 ? values : values[0];
    }
    if (i < el.children.length) {
      const c = el.children[i];
      const known = this.decls(type).some((d) => d.name === c.local) && c.ns === this.targetNamespace;
      throw new XsdValidationError(path ? `${path}.${c.local}` : c.local, known ? `${c.local} is out of order or repeated in ${path || el.local}` : `${path || el.local} has no element {${c.ns}}${c.local}`);
    }
    return hooks.complex ? hooks.complex(type, out) : out;
  }

  private decodeValue(el: XElement, type: string, path: string, hooks: DecodeHooks): unknown {
    if (this.complex.has(type)) return this.decodeComplex(el, type, path, hooks);
    if (el.children.length) throw new XsdValidationError(path, `${path} takes text, not elements`);
    if (el.attrs.length) throw new XsdValidationError(path, `${path} takes no attributes`);
    const v = this.simpleValue(el.text, type, path);
    return hooks.simple && !isBuiltin(type) ? hooks.simple(type, v) : v;
  }

  /** Checks a lexical value against a simple type and its facets (all levels of restriction) and converts it. */
  simpleValue(raw: string, type: string, path: string): unknown {
    const builtin = this.builtinOf(type);
    // xsd:string preserves whitespace; the other builtins collapse it (XSD Part 2 §4.3.6)
    const text = builtin === 'string' ? raw : raw.trim();
    let value: unknown;
    switch (builtin) {
      case 'string':
        value = text;
        break;
      case 'int':
      case 'long': {
        if (!/^[+-]?\d{1,19}$/.test(text)) throw new XsdValidationError(path, `${path} must be an integer`);
        const n = Number(text);
        const ok = builtin === 'int' ? n >= -2147483648 && n <= 2147483647 : Number.isSafeInteger(n);
        if (!ok) throw new XsdValidationError(path, `${path} is out of range for xsd:${builtin}`);
        value = n;
        break;
      }
      case 'double':
        // XSD Part 2 §3.2.5 without INF and NaN (no value of this contract is infinite)
        if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$/.test(text) || !Number.isFinite(Number(text))) throw new XsdValidationError(path, `${path} must be a finite xsd:double`);
        value = Number(text);
        break;
      case 'boolean':
        if (!['true', 'false', '1', '0'].includes(text)) throw new XsdValidationError(path, `${path} must be true or false`);
        value = text === 'true' || text === '1';
        break;
      case 'base64Binary': {
        // XSD Part 2 §3.2.16 (RFC 2045 base64; whitespace between groups allowed): the value is the bytes
        const b64 = text.replace(/\s+/g, '');
        if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) throw new XsdValidationError(path, `${path} must be xsd:base64Binary`);
        value = Buffer.from(b64, 'base64');
        break;
      }
      case 'dateTime': {
        // XSD Part 2 §3.2.7: every field in range (Date.parse would roll 2026-02-30 over into March)
        const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))?$/.exec(text);
        const n = m?.map(Number);
        const days = n ? new Date(Date.UTC(n[1], n[2], 0)).getUTCDate() : 0;
        const ok = n && n[2] >= 1 && n[2] <= 12 && n[3] >= 1 && n[3] <= days && n[4] <= 23 && n[5] <= 59 && n[6] <= 59 && (m![9] === undefined || (n[9] <= 14 && n[10] <= 59));
        const d = new Date(text);
        if (!ok || Number.isNaN(d.getTime())) throw new XsdValidationError(path, `${path} must be an xsd:dateTime`);
        value = d;
        break;
      }
    }
    for (let t: string | undefined = type; t && !isBuiltin(t); t = this.simple.get(t)?.base) {
      const s = this.simple.get(t)!;
      const len = [...text].length;
      if (s.enumeration && !s.enumeration.includes(text)) throw new XsdValidationError(path, `${path} must be one of ${s.enumeration.join(', ')}`);
      for (const p of s.patterns) if (!p.test(text)) throw new XsdValidationError(path, `${path} does not match the pattern of ${s.name}`);
      if (s.minLength !== undefined && len < s.minLength) throw new XsdValidationError(path, `${path} must have at least ${s.minLength} characters`);
      if (s.maxLength !== undefined && len > s.maxLength) throw new XsdValidationError(path, `${path} must have at most ${s.maxLength} characters`);
      if (s.minInclusive !== undefined && (value as number) < s.minInclusive) throw new XsdValidationError(path, `${path} must be at least ${s.minInclusive}`);
      if (s.maxInclusive !== undefined && (value as number) > s.maxInclusive) throw new XsdValidationError(path, `${path} must be at most ${s.maxInclusive}`);
    }
    return value;
  }

  private builtinOf(type: string): Builtin {
    const seen = new Set<string>();
    let t = type;
    while (!isBuiltin(t)) {
      if (seen.has(t)) throw new Error(`simple type ${type} derives from itself`);
      seen.add(t);
      const s = this.simple.get(t);
      if (!s) throw new Error(`unknown simple type ${t}`);
      t = s.base;
    }
    return t.slice(XSD.length + 2) as Builtin;
  }

  private simpleType(el: XElement, name: string): SimpleTypeDef {
    const r = only(el, 'restriction');
    const def: SimpleTypeDef = { name, base: this.typeName(req(attrOf(r, 'base'), r), r), patterns: [] };
    for (const f of xsdChildren(r)) {
      const v = req(attrOf(f, 'value'), f);
      switch (f.local) {
        case 'enumeration':
          (def.enumeration ??= []).push(v);
          break;
        case 'pattern':
          // XSD patterns are implicitly anchored (Part 2 §F)
          def.patterns.push(new RegExp(`^(?:${v})$`, 'u'));
          break;
        case 'minLength':
        case 'maxLength':
        case 'minInclusive':
        case 'maxInclusive':
          def[f.local] = Number(v);
          break;
        default:
          throw new Error(`facet ${f.local} of ${name} is outside the supported subset`);
      }
    }
    return def;
  }

  private complexType(el: XElement, name: string): ComplexTypeDef {
    const kids = xsdChildren(el);
    if (kids.length === 0) return { name, particles: [] };
    if (kids.length !== 1) throw new Error(`complex type ${name}: only one sequence or complexContent is supported`);
    const k = kids[0];
    if (k.local === 'sequence') return { name, particles: this.sequence(k) };
    if (k.local === 'complexContent') {
      const ext = only(k, 'extension');
      const seq = xsdChildren(ext);
      if (seq.length > 1 || (seq.length === 1 && seq[0].local !== 'sequence')) throw new Error(`complex type ${name}: extension takes one sequence`);
      return { name, base: this.typeName(req(attrOf(ext, 'base'), ext), ext), particles: seq.length ? this.sequence(seq[0]) : [] };
    }
    throw new Error(`complex type ${name}: ${k.local} is outside the supported subset`);
  }

  private sequence(seq: XElement): ElementDecl[] {
    if (seq.local !== 'sequence') throw new Error(`expected a sequence, not ${seq.local}`);
    return xsdChildren(seq).map((c): ElementDecl => {
      if (c.local !== 'element') throw new Error(`${c.local} inside a sequence is outside the supported subset`);
      if (xsdChildren(c).length) throw new Error(`local element ${attrOf(c, 'name')} must name its type`);
      const max = attrOf(c, 'maxOccurs');
      return {
        name: req(attrOf(c, 'name'), c),
        type: this.typeName(req(attrOf(c, 'type'), c), c),
        min: Number(attrOf(c, 'minOccurs') ?? 1),
        max: max === 'unbounded' ? Infinity : Number(max ?? 1),
      };
    });
  }

  /**
   * `tns:Foo` -> `Foo`, `xsd:int` -> `{XSD}int`. QName values in our own contract files use these two fixed
   * prefixes (the files are ours, not client input); any other prefix fails the load.
   */
  private typeName(qname: string, at: XElement): string {
    const [prefix, local] = qname.includes(':') ? qname.split(':') : ['', qname];
    if (prefix === 'xsd') {
      if (!BUILTINS.includes(local)) throw new Error(`builtin xsd:${local} is outside the supported subset`);
      return `{${XSD}}${local}`;
    }
    if (prefix !== 'tns') throw new Error(`QName ${qname} in xsd:${at.local}: use the prefixes tns and xsd`);
    return local;
  }
}

function isBuiltin(t: string): boolean {
  return t.startsWith(`{${XSD}}`);
}

function xsdChildren(el: XElement): XElement[] {
  return el.children.filter((c) => c.ns === XSD && c.local !== 'annotation');
}

function only(el: XElement, local: string): XElement {
  const kids = xsdChildren(el);
  if (kids.length !== 1 || kids[0].local !== local) throw new Error(`expected exactly one xsd:${local} in ${el.local}`);
  return kids[0];
}

function attrOf(el: XElement, name: string): string | undefined {
  return el.attrs.find((a) => a.ns === '' && a.local === name)?.value;
}

function req<T>(v: T | undefined, el: XElement): T {
  if (v === undefined) throw new Error(`xsd:${el.local} lacks a required attribute`);
  return v;
}

function defaultText(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  return String(v);
}
