/**
 * CIMI JSON ⇄ CIMI 1.x XML (DSP8009 1.0.2), for the REST adapter. Pure functions, no I/O.
 *
 * - {@link toCimiXml} writes a JSON document (the wire JSON of DSP0263 / docs/cimi.md, used in memory) as XML that
 *   validates against ../shared/specs/dsp8009_1.0.2.xsd: default namespace, children in schema order
 *   (cimi-xml-schema.ts), empty values omitted. Anything it cannot write validly (an unknown key, a wrong value type,
 *   a missing mandatory element) is a programming error and throws {@link CimiXmlSerializationError}.
 * - {@link fromCimiXml} reads a request body into the same JSON shape and throws {@link CimiXmlError} (→ 400) for
 *   anything it does not accept: DTDs and entity declarations, unknown elements or attributes (DSP0263 requires
 *   rejecting unknown attributes), other namespaces, malformed values, and bodies over the caps of
 *   docs/reliability.md rule 7 (nesting depth, element count, attributes per element, text size), which are checked
 *   while streaming, before any tree is built.
 *
 * Parser: saxes (strict XML 1.0 + Namespaces, streaming, so the caps apply as the document is read).
 */
import { NON_XML_CHAR, parseXml, XmlRejectedError, type XElement } from '../../xml/safe-xml';
import {
  CIMI_NS,
  CIMI_XML_TYPES,
  COLLECTION_ROOT,
  collectionContentSpec,
  collectionItemType,
  collectionItemsKey,
  type CimiXmlAttributeSpec,
  type CimiXmlChildSpec,
  type CimiXmlTypeSpec,
} from './cimi-xml-schema';

/** A request body the gateway does not accept (the REST adapter answers 400). */
export class CimiXmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CimiXmlError';
  }
}

/** A document that cannot be written as DSP8009-valid XML: a bug in the caller (the REST adapter answers 500). */
export class CimiXmlSerializationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CimiXmlSerializationError';
  }
}

/** Input caps (docs/reliability.md rule 7). */
export interface CimiXmlLimits {
  /** deepest element nesting, the root being 1 */
  maxDepth: number;
  /** elements in the whole document */
  maxElements: number;
  /** attributes on one element, namespace declarations included */
  maxAttributes: number;
  /** characters of one text node or attribute value */
  maxTextLength: number;
}

export const DEFAULT_CIMI_XML_LIMITS: Readonly<CimiXmlLimits> = {
  maxDepth: 64,
  maxElements: 10_000,
  maxAttributes: 256,
  maxTextLength: 1024 * 1024,
};

/** `machineImageCreate` → `MachineImageCreate` (Deltacloud clients send lower-case roots; docs/cimi.md §6). */
export function normaliseRoot(root: string): string {
  return root.length > 0 ? root[0].toUpperCase() + root.slice(1) : root;
}

// ---------------------------------------------------------------------------------------------------------------
// XML → JSON
// ---------------------------------------------------------------------------------------------------------------

const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';
const XSI_IGNORED = new Set(['schemaLocation', 'noNamespaceSchemaLocation']);
const EMPTY_TYPE: CimiXmlTypeSpec = { children: [] };

interface XAttr {
  uri: string;
  local: string;
  name: string;
  value: string;
}

interface XNode {
  uri: string;
  local: string;
  name: string;
  attrs: XAttr[];
  children: XNode[];
  text: string;
}

/**
 * The body as a small tree, through safe-xml.ts, the one hardening gate of every XML door (no DTD or ENTITY, no
 * processing instructions, namespace-aware, caps on depth, elements, attributes and text), with the CIMI door's caps.
 */
function parseTree(xml: string, limits: CimiXmlLimits): XNode {
  if (typeof xml !== 'string') throw new CimiXmlError('XML body must be a string');
  try {
    return toNode(parseXml(xml, limits));
  } catch (e) {
    if (!(e instanceof XmlRejectedError)) throw e;
    throw new CimiXmlError(e.reason === 'empty' ? 'malformed XML: no root element' : e.message);
  }
}

function toNode(el: XElement): XNode {
  return { uri: el.ns, local: el.local, name: el.name, attrs: el.attrs.map((a) => ({ uri: a.ns, local: a.local, name: a.name, value: a.value })), children: el.children.map(toNode), text: el.text };
}

interface ReadContext {
  /** namespace of the root: CIMI_NS, or '' for a non-namespaced document; every element must share it */
  ns: string;
}

function qname(n: { uri: string; local: string }): string {
  return n.uri ? `{${n.uri}}${n.local}` : n.local;
}

function isIgnoredAttr(a: XAttr): boolean {
  // xmlns declarations never reach here (safe-xml drops them); xsi:schemaLocation hints are ignored
  return a.uri === XSI_NS && XSI_IGNORED.has(a.local);
}

function attrsOf(node: XNode): XAttr[] {
  return node.attrs.filter((a) => !isIgnoredAttr(a));
}

function checkLeaf(node: XNode): void {
  const child = node.children[0];
  if (child) throw new CimiXmlError(`unknown element <${child.local}> in <${node.local}>`);
  const a = attrsOf(node)[0];
  if (a) throw new CimiXmlError(`unknown attribute ${a.name} on <${node.local}>`);
}

function parseInteger(raw: string, what: string): number {
  const s = raw.trim();
  if (!/^[+-]?\d+$/.test(s)) throw new CimiXmlError(`${what} must be an integer, got "${truncate(raw)}"`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new CimiXmlError(`${what} is out of range: ${truncate(raw)}`);
  return n;
}

function parseBoolean(raw: string, what: string): boolean {
  const s = raw.trim();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw new CimiXmlError(`${what} must be a boolean (true or false), got "${truncate(raw)}"`);
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** xs:hexBinary → the UTF-8 text it encodes (the JSON side of a CIMI byte[] such as Credential `key`). */
function decodeHex(raw: string, what: string): string {
  const hex = raw.trim();
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new CimiXmlError(`${what} must be hexBinary`);
  const text = Buffer.from(hex, 'hex').toString('utf8');
  if (Buffer.from(text, 'utf8').toString('hex') !== hex.toLowerCase()) {
    throw new CimiXmlError(`${what} does not encode UTF-8 text`);
  }
  return text;
}

function readAttribute(spec: CimiXmlAttributeSpec, raw: string, what: string): unknown {
  if (spec.kind === 'integer') return parseInteger(raw, what);
  if (spec.kind === 'boolean') return parseBoolean(raw, what);
  if (spec.xsd === undefined || spec.xsd === 'string') return raw;
  const v = raw.trim();
  checkLexical(
    spec.xsd,
    v,
    () => new CimiXmlError(`${what} must be an xs:${spec.xsd}, got "${truncate(v)}"`),
  );
  return v;
}

// Lexical forms of the XSD types xmllint checks strictly (xs:anyURI is not checked by libxml2 in practice).
const DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/;
const DURATION =
  /^-?P(?=\d|T\d)(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+(?:\.\d+)?S)?)?$/;

function checkLexical(xsd: string | undefined, v: string, error: () => Error): void {
  if ((xsd === 'dateTime' && !DATE_TIME.test(v)) || (xsd === 'duration' && !DURATION.test(v))) throw error();
}

/** True when the element carries nothing: no attributes (but namespace declarations), no children, no text. */
function isEmptyNode(node: XNode): boolean {
  return node.children.length === 0 && node.text.length === 0 && attrsOf(node).length === 0;
}

/** Reads an element whose content is `type` (attributes, optional href, children) into a JSON object. */
function readTyped(
  node: XNode,
  type: CimiXmlTypeSpec,
  allowHref: boolean,
  ctx: ReadContext,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const inner: Record<string, unknown> = type.wrap ? {} : out;
  for (const a of attrsOf(node)) {
    if (a.uri === '' && a.local === 'href' && (allowHref || type.href)) {
      inner.href = a.value;
      continue;
    }
    const spec = a.uri === '' ? type.attributes?.find((s) => s.attr === a.local) : undefined;
    if (!spec) throw new CimiXmlError(`unknown attribute ${a.name} on <${node.local}>`);
    out[spec.json] = readAttribute(spec, a.value, `attribute ${a.local} of <${node.local}>`);
  }
  readChildren(node, type, inner, ctx);
  if (type.wrap && Object.keys(inner).length > 0) out[type.wrap] = inner;
  return out;
}

function readChildren(
  node: XNode,
  type: CimiXmlTypeSpec,
  out: Record<string, unknown>,
  ctx: ReadContext,
): void {
  if (node.text.trim() !== '') throw new CimiXmlError(`unexpected text in <${node.local}>`);
  const counts = new Map<CimiXmlChildSpec, number>();
  for (const child of node.children) {
    const spec = child.uri === ctx.ns ? type.children.find((c) => c.el === child.local) : undefined;
    if (!spec) {
      const name = child.uri === ctx.ns ? child.local : qname(child);
      throw new CimiXmlError(`unknown element <${name}> in <${node.local}>`);
    }
    const n = (counts.get(spec) ?? 0) + 1;
    counts.set(spec, n);
    if (!spec.many && n > 1) throw new CimiXmlError(`element <${child.local}> repeated in <${node.local}>`);
    if (spec.max !== undefined && n > spec.max) {
      throw new CimiXmlError(`at most ${spec.max} <${child.local}> allowed in <${node.local}>`);
    }
    if (spec.kind === 'property') {
      const [key, value] = readProperty(child);
      const props = (out.properties ??= {}) as Record<string, string>;
      if (Object.prototype.hasOwnProperty.call(props, key)) {
        throw new CimiXmlError(`property "${truncate(key)}" repeated in <${node.local}>`);
      }
      // an own property even for a key such as "__proto__"
      Object.defineProperty(props, key, { value, enumerable: true, writable: true, configurable: true });
      continue;
    }
    const value = readChild(child, spec, ctx);
    if (spec.many) {
      if (value !== null) ((out[spec.json] ??= []) as unknown[]).push(value);
    } else {
      out[spec.json] = value;
    }
  }
}

function readProperty(node: XNode): [string, string] {
  if (node.children.length > 0)
    throw new CimiXmlError(`unknown element <${node.children[0].local}> in <property>`);
  let key: string | undefined;
  for (const a of attrsOf(node)) {
    if (a.uri === '' && a.local === 'key') key = a.value;
    else throw new CimiXmlError(`unknown attribute ${a.name} on <property>`);
  }
  if (key === undefined) throw new CimiXmlError('<property> needs a key attribute');
  return [key, node.text];
}

function readOperation(node: XNode): { rel: string; href: string } {
  if (node.children.length > 0)
    throw new CimiXmlError(`unknown element <${node.children[0].local}> in <operation>`);
  const op: Record<string, string> = {};
  for (const a of attrsOf(node)) {
    if (a.uri === '' && (a.local === 'rel' || a.local === 'href')) op[a.local] = a.value;
    else throw new CimiXmlError(`unknown attribute ${a.name} on <operation>`);
  }
  if (op.rel === undefined || op.href === undefined)
    throw new CimiXmlError('<operation> needs rel and href attributes');
  if (node.text.trim() !== '') throw new CimiXmlError('unexpected text in <operation>');
  return { rel: op.rel, href: op.href };
}

function typeSpec(name: string | undefined): CimiXmlTypeSpec {
  if (name === undefined) return EMPTY_TYPE; // DSP8009 expRef: only the href is understood
  const t = CIMI_XML_TYPES[name];
  if (!t) throw new Error(`cimi-xml-schema: no type ${name}`);
  return t;
}

function readChild(node: XNode, spec: CimiXmlChildSpec, ctx: ReadContext): unknown {
  const what = `<${node.local}>`;
  switch (spec.kind) {
    case 'text': {
      checkLeaf(node);
      // An empty element erases the attribute in an override (docs/cimi.md §6), except the empty id of an
      // error Job, which is a value.
      if (node.text === '') return spec.el === 'id' ? '' : null;
      if (spec.xsd === 'hexBinary') return decodeHex(node.text, what);
      if (spec.xsd === 'string') return node.text;
      const v = node.text.trim(); // the other XSD types collapse whitespace
      checkLexical(
        spec.xsd,
        v,
        () => new CimiXmlError(`${what} must be an xs:${spec.xsd}, got "${truncate(v)}"`),
      );
      return v;
    }
    case 'integer':
      checkLeaf(node);
      return node.text.trim() === '' ? null : parseInteger(node.text, what);
    case 'boolean':
      checkLeaf(node);
      return node.text.trim() === '' ? null : parseBoolean(node.text, what);
    case 'ref':
      if (isEmptyNode(node)) return null;
      return readTyped(node, typeSpec(spec.type), true, ctx);
    case 'collection':
      if (isEmptyNode(node)) return null;
      return readTyped(node, collectionContentSpec(spec.type!, spec.noOps), true, ctx);
    case 'struct': {
      if (isEmptyNode(node)) return null;
      const t = typeSpec(spec.type);
      return readTyped(node, t, t.href === true, ctx);
    }
    case 'operation':
      return readOperation(node);
    case 'property':
      throw new Error('unreachable: properties are read by readChildren');
  }
}

/**
 * Parses a CIMI XML request body. `root` is the root element's local name as sent (see {@link normaliseRoot});
 * `doc` has the JSON shape of DSP0263 (`resourceURI` only for a `<Collection>`, whose XML carries it).
 * Repeated elements become arrays, `<property key>` the `properties` map, `<x href/>` `{href}` (child elements
 * become further attributes of that object: a template by reference with overrides), an empty element `null`.
 */
export function fromCimiXml(
  xml: string,
  limits: Partial<CimiXmlLimits> = {},
): { root: string; doc: Record<string, unknown> } {
  const tree = parseTree(xml, { ...DEFAULT_CIMI_XML_LIMITS, ...limits });
  if (tree.uri !== CIMI_NS && tree.uri !== '') {
    throw new CimiXmlError(`root element <${tree.local}> is in namespace ${tree.uri}, expected ${CIMI_NS}`);
  }
  const ctx: ReadContext = { ns: tree.uri };
  const typeName = normaliseRoot(tree.local);

  if (typeName === COLLECTION_ROOT) {
    const attrs = attrsOf(tree);
    const bad = attrs.find((a) => !(a.uri === '' && a.local === 'resourceURI'));
    if (bad) throw new CimiXmlError(`unknown attribute ${bad.name} on <${tree.local}>`);
    const resourceURI = attrs[0]?.value;
    if (resourceURI === undefined) throw new CimiXmlError(`<${tree.local}> needs a resourceURI attribute`);
    const itemType = collectionItemType(resourceURI.trim());
    if (!itemType) throw new CimiXmlError(`unknown collection resourceURI ${truncate(resourceURI)}`);
    const doc: Record<string, unknown> = { resourceURI: resourceURI.trim() };
    readChildren(tree, collectionContentSpec(itemType), doc, ctx);
    return { root: tree.local, doc };
  }

  const type = CIMI_XML_TYPES[typeName];
  if (!type || !(type.root || type.inputOnly)) throw new CimiXmlError(`unknown root element <${tree.local}>`);
  return { root: tree.local, doc: readTyped(tree, type, false, ctx) };
}

// ---------------------------------------------------------------------------------------------------------------
// JSON → XML
// ---------------------------------------------------------------------------------------------------------------

// XML 1.0 Char production; with the u flag a lone surrogate is one code point outside these ranges.

function checkChars(s: string, where: string): void {
  if (NON_XML_CHAR.test(s))
    throw new CimiXmlSerializationError(`${where} contains a character XML 1.0 cannot carry`);
}

function escText(s: string, where: string): string {
  checkChars(s, where);
  return s.replace(/[&<>\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&#13;',
  );
}

const ATTR_ESC: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

function escAttr(s: string, where: string): string {
  checkChars(s, where);
  return s.replace(/[&<>"\t\n\r]/g, (c) => ATTR_ESC[c]);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/** Empty values are omitted (docs/cimi.md §8.1): undefined, null, '', [] and {}. */
function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (isPlainObject(v)) return Object.keys(v).length === 0;
  return false;
}

function scalarText(v: unknown, where: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (v instanceof Date) return v.toISOString();
  throw new CimiXmlSerializationError(`${where} must be a string, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v;
}

/** Renders a JSON attribute value as the text of an element or XML attribute of the given kind. */
function renderScalar(kind: 'text' | 'integer' | 'boolean', v: unknown, where: string, hex = false): string {
  if (kind === 'integer') {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      throw new CimiXmlSerializationError(
        `${where} must be an integer, got ${describe(v)} ${truncate(String(v))}`,
      );
    }
    return String(v);
  }
  if (kind === 'boolean') {
    if (typeof v !== 'boolean')
      throw new CimiXmlSerializationError(`${where} must be a boolean, got ${describe(v)}`);
    return v ? 'true' : 'false';
  }
  const s = scalarText(v, where);
  return hex ? Buffer.from(s, 'utf8').toString('hex') : s;
}

class XmlWriter {
  private readonly parts: string[] = [];

  line(depth: number, s: string): void {
    this.parts.push('  '.repeat(depth), s, '\n');
  }

  append(other: XmlWriter): void {
    this.parts.push(...other.parts);
  }

  toString(): string {
    return this.parts.join('');
  }
}

interface WriteOptions {
  /** the element may carry an href (a reference) */
  href: boolean;
  /** extra leading attributes, already escaped: xmlns, Collection resourceURI */
  lead?: string;
}

/**
 * Writes `<el …>` whose content is `type`, from the JSON object `obj`. `where` names the JSON path for messages.
 */
function writeTyped(
  w: XmlWriter,
  depth: number,
  el: string,
  type: CimiXmlTypeSpec,
  obj: unknown,
  opts: WriteOptions,
  where: string,
): void {
  if (!isPlainObject(obj))
    throw new CimiXmlSerializationError(`${where} must be an object, got ${describe(obj)}`);
  const hrefAllowed = opts.href || type.href === true;
  let content: Record<string, unknown> = obj;

  // keys of the outer object
  const outerKeys = new Set<string>(['resourceURI', ...(type.attributes ?? []).map((a) => a.json)]);
  if (type.wrap) {
    outerKeys.add(type.wrap);
    const inner = obj[type.wrap];
    if (inner !== undefined && inner !== null && !isPlainObject(inner)) {
      throw new CimiXmlSerializationError(`${where}.${type.wrap} must be an object, got ${describe(inner)}`);
    }
    content = (inner as Record<string, unknown> | undefined | null) ?? {};
  } else {
    for (const c of type.children) outerKeys.add(c.json);
    if (hrefAllowed) outerKeys.add('href');
  }
  for (const k of Object.keys(obj)) {
    if (obj[k] !== undefined && !outerKeys.has(k))
      throw new CimiXmlSerializationError(`unknown attribute "${k}" at ${where} (<${el}>)`);
  }
  if (type.wrap) {
    const innerKeys = new Set<string>(['resourceURI', ...type.children.map((c) => c.json)]);
    if (hrefAllowed) innerKeys.add('href');
    for (const k of Object.keys(content)) {
      if (content[k] !== undefined && !innerKeys.has(k))
        throw new CimiXmlSerializationError(`unknown attribute "${k}" at ${where}.${type.wrap}`);
    }
  }

  // attributes
  let attrs = opts.lead ?? '';
  const href = content.href;
  if (hrefAllowed && !isEmpty(href))
    attrs += ` href="${escAttr(scalarText(href, `${where}.href`), `${where}.href`)}"`;
  for (const a of type.attributes ?? []) {
    const v = obj[a.json];
    if (isEmpty(v)) {
      if (a.required) throw new CimiXmlSerializationError(`${where}.${a.json} is required in <${el}>`);
      continue;
    }
    const at = `${where}.${a.json}`;
    const s = renderScalar(a.kind, v, at);
    checkLexical(
      a.xsd,
      s,
      () => new CimiXmlSerializationError(`${at} is not an xs:${a.xsd}: "${truncate(s)}"`),
    );
    attrs += ` ${a.attr}="${escAttr(s, at)}"`;
  }

  // choice groups
  if (type.choice) {
    const present = type.choice.groups.filter((g) =>
      g.some((name) => {
        const c = type.children.find((x) => x.el === name)!;
        return !isEmpty(content[c.json]);
      }),
    );
    if (present.length > 1) {
      throw new CimiXmlSerializationError(
        `${where}: only one of ${present.map((g) => g.join('+')).join(', ')} may be given`,
      );
    }
    if (present.length === 0 && type.choice.required) {
      throw new CimiXmlSerializationError(
        `${where}: one of ${type.choice.groups.map((g) => g.join('+')).join(', ')} is required`,
      );
    }
  }

  // children, into a nested writer so an element without content closes itself
  const body = new XmlWriter();
  let hasChildren = false;
  for (const c of type.children) {
    const v = content[c.json];
    const at = `${where}.${c.json}`;
    // the error Job of docs/cimi.md §4.4 carries an empty <id>
    if (c.el === 'id' && v === '') {
      body.line(depth + 1, `<id></id>`);
      hasChildren = true;
      continue;
    }
    if (isEmpty(v)) {
      if (c.required) throw new CimiXmlSerializationError(`${at} is required in <${el}>`);
      continue;
    }
    const wrote = writeChild(body, depth + 1, c, v, at);
    if (c.required && !wrote) throw new CimiXmlSerializationError(`${at} is required in <${el}>`);
    hasChildren = hasChildren || wrote;
  }
  if (!hasChildren) {
    w.line(depth, `<${el}${attrs}/>`);
    return;
  }
  w.line(depth, `<${el}${attrs}>`);
  w.append(body);
  w.line(depth, `</${el}>`);
}

/** Writes one child attribute; returns whether anything was written. */
function writeChild(w: XmlWriter, depth: number, c: CimiXmlChildSpec, v: unknown, where: string): boolean {
  if (c.kind === 'property') {
    if (!isPlainObject(v)) throw new CimiXmlSerializationError(`${where} must be a map, got ${describe(v)}`);
    for (const [k, pv] of Object.entries(v)) {
      if (pv === undefined || pv === null) continue;
      const at = `${where}.${k}`;
      w.line(depth, `<property key="${escAttr(k, at)}">${escText(scalarText(pv, at), at)}</property>`);
    }
    return Object.values(v).some((pv) => pv !== undefined && pv !== null);
  }
  if (c.many) {
    if (!Array.isArray(v))
      throw new CimiXmlSerializationError(`${where} must be an array, got ${describe(v)}`);
    const items = v.filter((item) => !isEmpty(item));
    if (c.max !== undefined && items.length > c.max) {
      throw new CimiXmlSerializationError(
        `${where} has ${items.length} items but DSP8009 allows at most ${c.max} <${c.el}> (docs/cimi.md §2.7)`,
      );
    }
    items.forEach((item, i) => writeOne(w, depth, c, item, `${where}[${i}]`));
    return items.length > 0;
  }
  writeOne(w, depth, c, v, where);
  return true;
}

function writeOne(w: XmlWriter, depth: number, c: CimiXmlChildSpec, v: unknown, where: string): void {
  switch (c.kind) {
    case 'text':
    case 'integer':
    case 'boolean': {
      const s = renderScalar(c.kind, v, where, c.xsd === 'hexBinary');
      checkLexical(
        c.xsd,
        s,
        () => new CimiXmlSerializationError(`${where} is not an xs:${c.xsd}: "${truncate(s)}"`),
      );
      w.line(depth, `<${c.el}>${escText(s, where)}</${c.el}>`);
      return;
    }
    case 'operation': {
      if (!isPlainObject(v))
        throw new CimiXmlSerializationError(`${where} must be an object, got ${describe(v)}`);
      for (const k of Object.keys(v)) {
        if (k !== 'rel' && k !== 'href')
          throw new CimiXmlSerializationError(`unknown attribute "${k}" at ${where}`);
      }
      if (typeof v.rel !== 'string' || typeof v.href !== 'string' || v.rel === '' || v.href === '') {
        throw new CimiXmlSerializationError(`${where} needs rel and href strings`);
      }
      w.line(depth, `<operation rel="${escAttr(v.rel, where)}" href="${escAttr(v.href, where)}"/>`);
      return;
    }
    case 'ref':
      writeTyped(w, depth, c.el, refType(c, v, where), v, { href: true }, where);
      return;
    case 'collection': {
      if (!isPlainObject(v))
        throw new CimiXmlSerializationError(`${where} must be an object, got ${describe(v)}`);
      const expanded = Object.keys(v).some((k) => k !== 'href' && k !== 'resourceURI' && !isEmpty(v[k]));
      const t = expanded ? collectionContentSpec(c.type!, c.noOps) : EMPTY_TYPE;
      writeTyped(w, depth, c.el, t, v, { href: true }, where);
      return;
    }
    case 'struct': {
      const t = typeSpec(c.type);
      writeTyped(w, depth, c.el, t, v, { href: t.href === true }, where);
      return;
    }
    case 'property':
      throw new Error('unreachable: properties are written by writeChild');
  }
}

/**
 * The content type of a reference. DSP8009 `expRef` (targetResource, affectedResource…) names no target type: an
 * expanded one is written with the type its `resourceURI` names, otherwise only the href is allowed.
 */
function refType(c: CimiXmlChildSpec, v: unknown, where: string): CimiXmlTypeSpec {
  if (c.type !== undefined) return typeSpec(c.type);
  if (isPlainObject(v) && typeof v.resourceURI === 'string') {
    const name = /\/([A-Za-z]+)$/.exec(v.resourceURI)?.[1];
    const t = name ? CIMI_XML_TYPES[name] : undefined;
    if (!t || !t.root || t.inputOnly) {
      throw new CimiXmlSerializationError(
        `${where}.resourceURI names no CIMI type: ${truncate(v.resourceURI)}`,
      );
    }
    return t;
  }
  return EMPTY_TYPE;
}

/**
 * Writes the CIMI JSON document `doc` as CIMI 1.x XML rooted at `<type>` (e.g. 'Machine', 'Job', 'Collection',
 * 'CloudEntryPoint'), with the XML declaration and the default namespace. `resourceURI` is not written as an
 * element; a `<Collection>` carries it as its resourceURI attribute, takes its item type from it
 * (`…/MachineVolumeCollection` → `<MachineVolume>` items) and its items from the one array-valued key that is not
 * `operations` (`machines`, `resourceMetadata`, …).
 */
export function toCimiXml(type: string, doc: Record<string, unknown>): string {
  const w = new XmlWriter();
  w.line(0, '<?xml version="1.0" encoding="UTF-8"?>');
  const xmlns = ` xmlns="${CIMI_NS}"`;
  if (type === COLLECTION_ROOT) {
    if (!isPlainObject(doc))
      throw new CimiXmlSerializationError(`Collection must be an object, got ${describe(doc)}`);
    const resourceURI = doc.resourceURI;
    if (typeof resourceURI !== 'string')
      throw new CimiXmlSerializationError('a Collection needs its resourceURI');
    const itemType = collectionItemType(resourceURI);
    if (!itemType)
      throw new CimiXmlSerializationError(`not a CIMI collection resourceURI: ${truncate(resourceURI)}`);
    const fixed = new Set(['resourceURI', 'id', 'count', 'operations']);
    const others = Object.keys(doc).filter((k) => !fixed.has(k) && doc[k] !== undefined);
    const notArray = others.find((k) => !Array.isArray(doc[k]));
    if (notArray !== undefined)
      throw new CimiXmlSerializationError(`unknown attribute "${notArray}" at Collection`);
    const itemKeys = others;
    if (itemKeys.length > 1) {
      throw new CimiXmlSerializationError(
        `a Collection has one item array; got ${itemKeys.map((k) => `"${k}"`).join(', ')}`,
      );
    }
    const itemsKey = collectionItemsKey(itemType);
    const normalised: Record<string, unknown> = { ...doc };
    if (itemKeys.length === 1 && itemKeys[0] !== itemsKey) {
      normalised[itemsKey] = doc[itemKeys[0]];
      delete normalised[itemKeys[0]];
    }
    const lead = `${xmlns} resourceURI="${escAttr(resourceURI, 'resourceURI')}"`;
    writeTyped(
      w,
      0,
      COLLECTION_ROOT,
      collectionContentSpec(itemType),
      normalised,
      { href: false, lead },
      'Collection',
    );
    return w.toString();
  }
  const spec = CIMI_XML_TYPES[type];
  if (!spec || !spec.root || spec.inputOnly)
    throw new CimiXmlSerializationError(`<${type}> is not a DSP8009 root element`);
  writeTyped(w, 0, type, spec, doc, { href: false, lead: xmlns }, type);
  return w.toString();
}
