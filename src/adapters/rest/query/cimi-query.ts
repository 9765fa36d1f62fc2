import type { CollectionQuery, OrderBy } from '../../../model/shared/query';
import { CimiQueryError, combineFilters } from './cimi-filter.parser';

/**
 * CIMI REST query parameters (DSP0263 2.0.0 §4.1.6, docs/cimi.md §5) → the model's protocol-neutral
 * CollectionQuery plus the representation options the REST layer applies itself. Pure: parses only; page-size caps
 * (DEFAULT_PAGE_SIZE / MAX_PAGE_SIZE) are the caller's business.
 *
 * Parameter names are case-sensitive. Parameters not starting with `$` are the Provider's own and ignored here;
 * unknown `$` parameters are ignored too ("Unsupported, or unknown, query parameters shall be silently ignored",
 * §4.1.6). Errors are CimiQueryError with `param` set and `position` the 0-based offset inside that value.
 */
export interface ParsedCimiQuery {
  query: CollectionQuery;
  /** attribute names to keep; undefined = everything (also for `*`) */
  select?: string[];
  /** reference attributes to expand; `['*']` = all (`*` or an empty value) */
  expand?: string[];
  /** overrides Accept (§4.1.6.5) */
  format?: 'json' | 'xml';
}

export type CimiQueryParams = Record<string, string | string[] | undefined>;

const ATTR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function parseCimiQuery(params: CimiQueryParams): ParsedCimiQuery {
  const query: CollectionQuery = {};
  const result: ParsedCimiQuery = { query };

  const filters = values(params, '$filter');
  if (filters.length) query.filter = combineFilters(filters);

  const orderBy = parseOrderBy(values(params, '$orderby'));
  if (orderBy) query.orderBy = orderBy;

  const first = parseOrdinal(values(params, '$first'), '$first');
  if (first !== undefined) query.first = first;
  const last = parseOrdinal(values(params, '$last'), '$last');
  if (last !== undefined) query.last = last;

  const select = values(params, '$select');
  if (select.length) {
    const names = nameList(select);
    // `*` = all attributes including operations; nothing but empty items = no subsetting either
    if (names.length && !names.includes('*')) result.select = names;
  }

  const expand = values(params, '$expand');
  if (expand.length) {
    const names = nameList(expand);
    // `*` or no attribute name list at all = all references (§4.1.6.4)
    result.expand = names.length === 0 || names.includes('*') ? ['*'] : names;
  }

  const format = values(params, '$format');
  if (format.length) result.format = parseFormat(format[0]!);

  return result;
}

/** The occurrences of one parameter, in order. */
function values(params: CimiQueryParams, name: string): string[] {
  const raw = Object.prototype.hasOwnProperty.call(params, name) ? params[name] : undefined;
  if (raw === undefined) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  for (const v of list) {
    // a query parser that builds objects (qs: `$filter[a]=1`) must not slip a non-string past us
    if (typeof v !== 'string')
      throw new CimiQueryError(name, 0, `${name}: malformed parameter at position 0`);
  }
  return list;
}

/**
 * Comma-separated names merged over all occurrences; items trimmed, empty items dropped, later duplicates ignored
 * (§4.1.6.3/§4.1.6.4). Names are not validated: unknown ones are ignored by the serializer, as the spec requires.
 */
function nameList(occurrences: string[]): string[] {
  const seen = new Set<string>();
  for (const occurrence of occurrences) {
    for (const item of occurrence.split(',')) {
      const name = item.trim();
      if (name) seen.add(name);
    }
  }
  return [...seen];
}

/** `$first` / `$last`: 1-based ordinals. Repeats must agree. */
function parseOrdinal(occurrences: string[], param: string): number | undefined {
  let result: number | undefined;
  for (const text of occurrences) {
    if (!/^[0-9]+$/.test(text)) {
      const bad = text.search(/[^0-9]/);
      throw CimiQueryError.at(param, text, bad < 0 ? 0 : bad, 'expected a positive integer');
    }
    const n = Number(text);
    if (n < 1) throw CimiQueryError.at(param, text, 0, 'must be a 1-based ordinal, at least 1');
    if (!Number.isSafeInteger(n)) throw CimiQueryError.at(param, text, 0, 'integer too large');
    if (result !== undefined && result !== n)
      throw CimiQueryError.at(param, text, 0, 'repeated with a different value');
    result = n;
  }
  return result;
}

/**
 * `$orderby=attr[:asc|:desc],…` (§4.1.6.6). Occurrences concatenate in order; a later key on an attribute already
 * sorted by is redundant and dropped. Directions are lowercase as in the spec. Whitespace around items, names and
 * the colon is tolerated; empty items are errors.
 */
function parseOrderBy(occurrences: string[]): OrderBy[] | undefined {
  if (!occurrences.length) return undefined;
  const result: OrderBy[] = [];
  const seen = new Set<string>();
  for (const text of occurrences) {
    let offset = 0;
    for (const item of text.split(',')) {
      const colon = item.indexOf(':');
      const namePart = colon < 0 ? item : item.slice(0, colon);
      const attr = namePart.trim();
      const attrPos = offset + (attr ? namePart.indexOf(attr) : 0);
      if (!attr) throw CimiQueryError.at('$orderby', text, attrPos, 'expected an attribute name');
      if (!ATTR_NAME.test(attr))
        throw CimiQueryError.at('$orderby', text, attrPos, `invalid attribute name '${attr}'`);
      let desc = false;
      if (colon >= 0) {
        const dirPart = item.slice(colon + 1);
        const dir = dirPart.trim();
        const dirPos = offset + colon + 1 + (dir ? dirPart.indexOf(dir) : 0);
        if (dir === 'desc') desc = true;
        else if (dir !== 'asc') throw CimiQueryError.at('$orderby', text, dirPos, "expected 'asc' or 'desc'");
      }
      if (!seen.has(attr)) {
        seen.add(attr);
        result.push({ attr, desc });
      }
      offset += item.length + 1;
    }
  }
  return result;
}

/**
 * `$format` (§4.1.6.5): case-insensitive json|xml; only the first occurrence counts (the caller passes it alone).
 * Any other value is a CimiQueryError with param `$format` and code QUERY.UNSUPPORTED_FORMAT, which the REST layer
 * answers with 406 Not Acceptable rather than 400.
 */
function parseFormat(text: string): 'json' | 'xml' {
  const f = text.trim().toLowerCase();
  if (f === 'json' || f === 'xml') return f;
  const pos = text.length - text.trimStart().length;
  throw CimiQueryError.at(
    '$format',
    text,
    pos,
    "unsupported format (expected 'json' or 'xml')",
    'QUERY.UNSUPPORTED_FORMAT',
  );
}
