import type { FilterValue } from '../../../model/shared/query';
import type { Resource } from '../../../model/shared/resource';
import type { CimClass, CimProperty } from '../cim-catalogue';
import { CONVERTERS, type CimValue } from '../cim-instances';
import { sourceOf } from '../model-sources';
import { toFilterExpr, WqlError, type WqlCond, type WqlProperty, type WqlPropertyResolver, type WqlTranslation, type WqlValue } from './wql';

/**
 * CIM properties in model terms, read from the catalogue's `source` of each property (wsman/classes.json), so that
 * WQL/CQL and selector filters compile to the model's FilterExpr and run in the database (never filtered here).
 */

/** Converters that read nothing but the state: a value filter on them is the set of states that produce it. */
const STATE_CONVERTERS = new Set([
  'machineEnabledState',
  'machineRequestedState',
  'machineOtherEnabledState',
  'volumeEnabledState',
  'healthState',
  'operationalStatus',
  'jobState',
  'jobOperationalStatus',
]);
/** Converters that copy one model attribute. */
const ATTR_CONVERTERS: Record<string, { attr: string; ordered: boolean }> = { jobProgress: { attr: 'progress', ordered: true } };

const NUMERIC = new Set(['uint8', 'uint16', 'uint32', 'uint64', 'sint16', 'sint32', 'sint64', 'real64']);

/** DSP0004 datetime (`yyyymmddhhmmss.mmmmmmsutc`) or ISO 8601, as a Date. */
export function parseCimDatetime(v: WqlValue): Date {
  if (typeof v === 'string') {
    const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})\.(\d{6})([+-])(\d{3})$/.exec(v);
    if (m) {
      const [, y, mo, d, h, mi, s, us, sign, off] = m;
      const utc = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, Math.floor(+us / 1000)) - (sign === '-' ? -1 : 1) * +off * 60_000;
      return new Date(utc);
    }
    const t = Date.parse(v);
    if (Number.isFinite(t) && /^\d{4}-\d{2}-\d{2}/.test(v)) return new Date(t);
  }
  throw new WqlError(`${JSON.stringify(v)} is not a datetime (use ISO 8601 or the CIM yyyymmddhhmmss.mmmmmmsutc form)`);
}

function literalAs(cimType: string, v: Exclude<WqlValue, null>, property: string): FilterValue {
  if (cimType === 'datetime') return parseCimDatetime(v);
  if (NUMERIC.has(cimType)) {
    if (typeof v !== 'number') throw new WqlError(`${property} is a number; ${JSON.stringify(v)} is not`);
    return v;
  }
  if (cimType === 'boolean') {
    if (typeof v !== 'boolean') throw new WqlError(`${property} is a boolean; ${JSON.stringify(v)} is not`);
    return v;
  }
  return String(v);
}

/** a converter value equals the literal (an array value: contains it, as WQL reads array properties) */
function sameValue(v: CimValue, lit: Exclude<WqlValue, null>): boolean {
  if (Array.isArray(v)) return v.some((x) => x === lit);
  return v === lit;
}

/** a literal as the model value: without the property's prefix (no value when it lacks it), typed as the property */
function unprefixed(p: CimProperty, v: Exclude<WqlValue, null>): FilterValue[] {
  if (!p.prefix) return [literalAs(p.type, v, p.name)];
  return typeof v === 'string' && v.startsWith(p.prefix) ? [v.slice(p.prefix.length)] : [];
}

/** The resolver of one concrete class (`cls.model` set) for a caller in `tenantId`. */
export function propertyResolver(cls: CimClass, tenantId: string): WqlPropertyResolver {
  return (name: string): WqlProperty | undefined => {
    const p = cls.property(name);
    if (!p || p.createOnly || p.type === 'reference') return undefined;
    const src = p.source ?? '';
    if (src === 'class') {
      // CreationClassName = a superclass name matches too (as selectors do, DSP0227 polymorphism)
      return {
        decide: (op, v) => {
          if (op !== '=' && op !== '!=') throw new WqlError(`operator ${op} does not apply to ${p.name}`);
          const isA = typeof v === 'string' && cls.isA(v);
          return op === '=' ? isA : !isA;
        },
      };
    }
    if (src === 'tenant') return { constant: tenantId };
    if (src.startsWith('const:')) {
      const raw = src.slice(6);
      return { constant: p.type === 'boolean' ? raw === 'true' : NUMERIC.has(p.type) ? Number(raw) : raw };
    }
    const model = sourceOf(String(cls.model));
    // a plain source or an attrs.<name> compares the model attribute of that name, when the model's store can
    const attrName = ['id', 'name', 'description', 'state', 'created', 'updated'].includes(src) ? src : src.startsWith('attrs.') ? src.slice(6) : undefined;
    if (attrName !== undefined) {
      const f = model.filterAttr(attrName);
      if (!f) return undefined;
      return { attr: attrName, ordered: f.ordered, toModel: (v) => unprefixed(p, v) };
    }
    if (src.startsWith('fn:')) {
      const fn = src.slice(3);
      const conv = ATTR_CONVERTERS[fn];
      if (conv) return { attr: conv.attr, ordered: conv.ordered, toModel: (v) => [literalAs(p.type, v, p.name)] };
      if (STATE_CONVERTERS.has(fn) && CONVERTERS[fn]) {
        const states = model.states;
        return {
          attr: 'state',
          toModel: (v) => states.filter((state) => sameValue(CONVERTERS[fn]({ state } as Resource), v)),
        };
      }
    }
    return undefined;
  };
}

/**
 * Selector filter (DSP0226 §8.2.2 SelectorFilter dialect): each selector names a key property of the class and
 * the value it must have; the same translation as `Key = 'value' AND …`.
 */
export function selectorFilter(cls: CimClass, tenantId: string, selectors: readonly { name: string; value: string }[]): WqlTranslation {
  if (selectors.length === 0) throw new WqlError('a selector filter needs at least one selector');
  let where: WqlCond | undefined;
  for (const s of selectors) {
    const key = cls.keys.find((k) => k.toLowerCase() === s.name.toLowerCase());
    if (!key) throw new WqlError(`${s.name} is not a key of ${cls.name}`);
    const cmp: WqlCond = { kind: 'cmp', property: key, op: '=', value: s.value };
    where = where ? { kind: 'and', left: where, right: cmp } : cmp;
  }
  return toFilterExpr({ select: '*', from: cls.name, where }, propertyResolver(cls, tenantId));
}
