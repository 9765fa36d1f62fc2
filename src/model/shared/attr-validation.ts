import { InvalidInputError } from './model-error';
import type { ResourceType } from './resource';
import { descriptorOf, type AttrSpec } from './resource-types';

const MAX_STRING = 4096;

/**
 * Checks client-given type attributes against the type's descriptor: unknown attributes are rejected
 * (DSP0263 2.0.0 §5.3: a Provider must reject an unknown attribute), read-only ones are dropped silently
 * (l.1025-1027), values must have their declared kind. Business invariants stay in the services.
 */
export function checkAttrs(type: ResourceType, input: Record<string, unknown>, opts: { allowNull?: boolean } = {}): Record<string, unknown> {
  const specs = new Map(descriptorOf(type).attrs.map((a) => [a.name, a]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    const spec = specs.get(k);
    if (!spec) throw new InvalidInputError(`${type} has no attribute ${k}`, k, 'GENERIC.UNKNOWN_ATTRIBUTE');
    if (spec.readOnly) continue;
    if (v === undefined) continue;
    if (v === null) {
      if (!opts.allowNull) continue;
      out[k] = null;
      continue;
    }
    checkKind(spec, v);
    out[k] = v;
  }
  return out;
}

function checkKind(spec: AttrSpec, v: unknown): void {
  const bad = (what: string) => new InvalidInputError(`${spec.name} must be ${what}`, spec.name);
  switch (spec.kind) {
    case 'string':
    case 'uri':
      if (typeof v !== 'string' || v.length > MAX_STRING) throw bad(`a string of at most ${MAX_STRING} characters`);
      return;
    case 'integer':
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad('a non-negative integer');
      return;
    case 'boolean':
      if (typeof v !== 'boolean') throw bad('a boolean');
      return;
    case 'strings':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw bad('a list of strings');
      return;
    case 'ref':
      if (typeof v !== 'object' || typeof (v as { id?: unknown }).id !== 'string') throw bad('a reference');
      return;
    case 'refs':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || typeof x?.id !== 'string')) throw bad('a list of references');
      return;
    case 'struct':
      if (typeof v !== 'object' || Array.isArray(v)) throw bad('an object');
      return;
    case 'structs':
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'object' || x === null || Array.isArray(x))) throw bad('a list of objects');
      return;
    case 'dateTime':
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) throw bad('a date-time');
      return;
  }
}

export interface CommonInput {
  name?: string;
  description?: string;
  properties?: Record<string, string>;
}

/** Common attributes (DSP0263 Table 5): name and description strings, properties a string map. */
export function checkCommon(input: CommonInput): CommonInput {
  if (input.name !== undefined && (typeof input.name !== 'string' || input.name.length > 255)) {
    throw new InvalidInputError('name must be a string of at most 255 characters', 'name');
  }
  if (input.description !== undefined && (typeof input.description !== 'string' || input.description.length > MAX_STRING)) {
    throw new InvalidInputError(`description must be a string of at most ${MAX_STRING} characters`, 'description');
  }
  if (input.properties !== undefined) {
    if (typeof input.properties !== 'object' || input.properties === null || Array.isArray(input.properties)) {
      throw new InvalidInputError('properties must be a map of strings', 'properties');
    }
    for (const [k, v] of Object.entries(input.properties)) {
      if (typeof v !== 'string' || k.length > 255 || v.length > MAX_STRING) throw new InvalidInputError(`property ${k.slice(0, 40)} must be a string`, 'properties');
    }
  }
  return { name: input.name, description: input.description, properties: input.properties };
}

/** Rejects attribute names the type does not have (values by value inside templates; DSP0263 2.0.0 §5.1). */
export function checkAttrNames(type: ResourceType, input: Record<string, unknown>, field: string): void {
  const names = new Set(descriptorOf(type).attrs.map((a) => a.name));
  for (const k of Object.keys(input)) {
    if (!names.has(k)) throw new InvalidInputError(`${field}: ${type} has no attribute ${k}`, field, 'GENERIC.UNKNOWN_ATTRIBUTE');
  }
}

// XML 1.0 Char production; with the u flag a lone surrogate is one code point outside these ranges.
const NON_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * Every text a client stores must be representable in XML 1.0: two of the three doors (CIMI XML, SOAP, WS-Man)
 * can only answer in XML, so a control character accepted through JSON would make the resource — and every
 * collection listing it — unreadable there. Walks strings and map keys anywhere in an operation's input
 * (iteratively: the depth of a client document is not trusted).
 */
export function checkXmlSafeText(input: unknown): void {
  const stack: { v: unknown; path: string }[] = [{ v: input, path: '' }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (NON_XML_CHAR.test(v)) throw new InvalidInputError(`${path || 'a value'} contains a character that XML 1.0 cannot carry`, path.split(/[.[]/)[0] || undefined);
    } else if (Array.isArray(v)) {
      v.forEach((x, i) => stack.push({ v: x, path: `${path}[${i}]` }));
    } else if (v && typeof v === 'object' && !(v instanceof Date)) {
      for (const [k, x] of Object.entries(v)) {
        const at = path ? `${path}.${k}` : k;
        if (NON_XML_CHAR.test(k)) throw new InvalidInputError(`a key in ${path || 'the input'} contains a character that XML 1.0 cannot carry`, path.split(/[.[]/)[0] || undefined);
        stack.push({ v: x, path: at });
      }
    }
  }
}
