import { InvalidInputError } from '../../../model/shared/model-error';
import type { CompareOp, FilterExpr, FilterValue } from '../../../model/shared/query';

/**
 * The WQL / CQL subset of WS-Man enumeration filters (docs/wsman.md §2.3; DSP0227 §8 names CQL, DSP0202;
 * Microsoft and OpenPegasus name WQL):
 *
 *   Query     ::= SELECT ( '*' | Prop ( ',' Prop )* ) FROM Class [ WHERE Cond ]
 *   Cond      ::= AndCond ( OR AndCond )*
 *   AndCond   ::= NotCond ( AND NotCond )*
 *   NotCond   ::= NOT NotCond | Primary
 *   Primary   ::= '(' Cond ')' | Prop Op Literal | Literal Op Prop | Prop IS [NOT] NULL | Prop LIKE String
 *   Op        ::= '=' | '<>' | '!=' | '<' | '<=' | '>' | '>='
 *   Literal   ::= String ('…' with '' for a quote, or "…") | Number (-?digits[.digits][e±d]) | TRUE | FALSE | NULL
 *
 * Keywords and names are case-insensitive (CIM names are; DSP0004 §7.6.1). The parser builds an AST and knows no
 * classes; `toFilterExpr` translates it to the model's FilterExpr through a property resolver the class
 * catalogue supplies. Every error is a WqlError (invalid-input, code QUERY.INVALID_FILTER), which the enumeration
 * answers as CannotProcessFilter.
 */

export const WQL_DIALECTS = {
  /** Microsoft WQL (WinRM, Dell, openwsman) */
  wqlMs: 'http://schemas.microsoft.com/wbem/wsman/1/WQL',
  /** OpenPegasus' spelling of the same dialect */
  wqlDmtf: 'http://schemas.dmtf.org/wbem/wsman/1/WQL',
  /** CQL (DSP0202), named by DSP0227 */
  cql: 'http://schemas.dmtf.org/wbem/cql/1/dsp0202.pdf',
} as const;

export const QUERY_DIALECT_URIS: readonly string[] = Object.values(WQL_DIALECTS);

export const MAX_QUERY_LENGTH = 4096;
export const MAX_QUERY_DEPTH = 32;

export class WqlError extends InvalidInputError {
  constructor(message: string) {
    super(message, 'filter', 'QUERY.INVALID_FILTER');
    this.name = 'WqlError';
  }
}

export type WqlValue = string | number | boolean | null;
export type WqlOp = CompareOp;

export type WqlCond =
  | { kind: 'and' | 'or'; left: WqlCond; right: WqlCond }
  | { kind: 'not'; operand: WqlCond }
  | { kind: 'cmp'; property: string; op: WqlOp; value: WqlValue }
  | { kind: 'like'; property: string; pattern: string };

export interface WqlQuery {
  /** `*`, or the listed property names */
  select: '*' | string[];
  from: string;
  where?: WqlCond;
}

type Tok =
  | { t: 'word'; v: string; pos: number }
  | { t: 'str'; v: string; pos: number }
  | { t: 'num'; v: number; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'punct'; v: '(' | ')' | ',' | '*'; pos: number }
  | { t: 'end'; pos: number };

const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /-?\d+(\.\d+)?([eE][+-]?\d+)?/y;

function tokenize(text: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      // SQL style: a doubled quote stands for one quote (DSP0202 §5.1.1 string literals)
      let v = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new WqlError(`unterminated string starting at position ${i}`);
        if (text[j] === c) {
          if (text[j + 1] === c) {
            v += c;
            j += 2;
            continue;
          }
          break;
        }
        v += text[j++];
      }
      out.push({ t: 'str', v, pos: i });
      i = j + 1;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = /[-\d]/.test(c) ? NUMBER.exec(text) : null;
    if (num) {
      const end = i + num[0].length;
      if (end < text.length && /[A-Za-z0-9_]/.test(text[end])) throw new WqlError(`bad number at position ${i}`);
      const v = Number(num[0]);
      if (!Number.isFinite(v) || (Number.isInteger(v) && !Number.isSafeInteger(v))) throw new WqlError(`number out of range at position ${i}`);
      out.push({ t: 'num', v, pos: i });
      i = end;
      continue;
    }
    NAME.lastIndex = i;
    const name = NAME.exec(text);
    if (name) {
      out.push({ t: 'word', v: name[0], pos: i });
      i += name[0].length;
      continue;
    }
    const two = text.slice(i, i + 2);
    if (two === '<=' || two === '>=' || two === '<>' || two === '!=') {
      out.push({ t: 'op', v: two, pos: i });
      i += 2;
      continue;
    }
    if (c === '=' || c === '<' || c === '>') {
      out.push({ t: 'op', v: c, pos: i });
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === '*') {
      out.push({ t: 'punct', v: c, pos: i });
      i++;
      continue;
    }
    throw new WqlError(`unexpected character ${JSON.stringify(c)} at position ${i}`);
  }
  out.push({ t: 'end', pos: text.length });
  return out;
}

const KEYWORDS = new Set(['select', 'from', 'where', 'and', 'or', 'not', 'is', 'null', 'like', 'true', 'false']);

class Parser {
  private i = 0;
  private depth = 0;

  constructor(private readonly toks: Tok[]) {}

  private peek(): Tok {
    return this.toks[this.i];
  }

  private next(): Tok {
    return this.toks[this.i++];
  }

  private isKw(tok: Tok, kw: string): boolean {
    return tok.t === 'word' && tok.v.toLowerCase() === kw;
  }

  private expectKw(kw: string): void {
    const tok = this.next();
    if (!this.isKw(tok, kw)) throw new WqlError(`expected ${kw.toUpperCase()} at position ${tok.pos}`);
  }

  private name(what: string): string {
    const tok = this.next();
    if (tok.t !== 'word' || KEYWORDS.has(tok.v.toLowerCase())) throw new WqlError(`expected ${what} at position ${tok.pos}`);
    return tok.v;
  }

  query(): WqlQuery {
    this.expectKw('select');
    let select: WqlQuery['select'];
    const first = this.peek();
    if (first.t === 'punct' && first.v === '*') {
      this.next();
      select = '*';
    } else {
      select = [this.name('a property name or *')];
      while (this.peek().t === 'punct' && (this.peek() as { v: string }).v === ',') {
        this.next();
        select.push(this.name('a property name'));
      }
    }
    this.expectKw('from');
    const from = this.name('a class name');
    let where: WqlCond | undefined;
    if (this.isKw(this.peek(), 'where')) {
      this.next();
      where = this.cond();
    }
    const end = this.next();
    if (end.t !== 'end') throw new WqlError(`unexpected text at position ${end.pos}`);
    return { select, from, where };
  }

  private cond(): WqlCond {
    if (++this.depth > MAX_QUERY_DEPTH) throw new WqlError(`query nests deeper than ${MAX_QUERY_DEPTH}`);
    let left = this.andCond();
    while (this.isKw(this.peek(), 'or')) {
      this.next();
      left = { kind: 'or', left, right: this.andCond() };
    }
    this.depth--;
    return left;
  }

  private andCond(): WqlCond {
    let left = this.notCond();
    while (this.isKw(this.peek(), 'and')) {
      this.next();
      left = { kind: 'and', left, right: this.notCond() };
    }
    return left;
  }

  private notCond(): WqlCond {
    if (this.isKw(this.peek(), 'not')) {
      this.next();
      if (++this.depth > MAX_QUERY_DEPTH) throw new WqlError(`query nests deeper than ${MAX_QUERY_DEPTH}`);
      const operand = this.notCond();
      this.depth--;
      return { kind: 'not', operand };
    }
    return this.primary();
  }

  private literal(): WqlValue | undefined {
    const tok = this.peek();
    if (tok.t === 'str' || tok.t === 'num') {
      this.next();
      return tok.v;
    }
    if (this.isKw(tok, 'true') || this.isKw(tok, 'false')) {
      this.next();
      return (tok as { v: string }).v.toLowerCase() === 'true';
    }
    if (this.isKw(tok, 'null')) {
      this.next();
      return null;
    }
    return undefined;
  }

  private op(): WqlOp {
    const tok = this.next();
    if (tok.t !== 'op') throw new WqlError(`expected a comparison operator at position ${tok.pos}`);
    return tok.v === '<>' ? '!=' : (tok.v as WqlOp);
  }

  private primary(): WqlCond {
    const tok = this.peek();
    if (tok.t === 'punct' && tok.v === '(') {
      this.next();
      const inner = this.cond();
      const close = this.next();
      if (!(close.t === 'punct' && close.v === ')')) throw new WqlError(`expected ) at position ${close.pos}`);
      return inner;
    }
    const lit = this.literal();
    if (lit !== undefined || (tok.t !== 'word' && tok.t !== 'end')) {
      if (lit === undefined) throw new WqlError(`expected a condition at position ${tok.pos}`);
      // Literal Op Prop: normalised to Prop Op' Literal
      const op = this.op();
      const property = this.name('a property name');
      return { kind: 'cmp', property, op: FLIP[op], value: lit };
    }
    const property = this.name('a property name');
    if (this.isKw(this.peek(), 'is')) {
      this.next();
      const negated = this.isKw(this.peek(), 'not');
      if (negated) this.next();
      this.expectKw('null');
      return { kind: 'cmp', property, op: negated ? '!=' : '=', value: null };
    }
    if (this.isKw(this.peek(), 'like')) {
      this.next();
      const p = this.next();
      if (p.t !== 'str') throw new WqlError(`LIKE needs a string pattern at position ${p.pos}`);
      return { kind: 'like', property, pattern: p.v };
    }
    const op = this.op();
    const at = this.peek().pos;
    const value = this.literal();
    if (value === undefined) throw new WqlError(`expected a literal at position ${at}`);
    return { kind: 'cmp', property, op, value };
  }
}

const FLIP: Record<WqlOp, WqlOp> = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };
const NEGATE: Record<WqlOp, WqlOp> = { '=': '!=', '!=': '=', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };

/** Parses query text; throws WqlError. */
export function parseWql(text: string): WqlQuery {
  if (typeof text !== 'string' || text.trim() === '') throw new WqlError('the query is empty');
  if (text.length > MAX_QUERY_LENGTH) throw new WqlError(`the query is longer than ${MAX_QUERY_LENGTH} characters`);
  return new Parser(tokenize(text)).query();
}

/**
 * How one class property reads in model terms; the class catalogue supplies it.
 * - `attr`: the FilterExpr attribute; `toModel` turns a WQL literal into the model value(s) it stands for (an
 *   enumeration such as EnabledState 1 may stand for several model states: `=` becomes an OR of them, `!=` an
 *   AND); returning `[]` means no model value matches. `ordered` allows `< <= > >=` (numbers, times).
 * - `constant`: a property with one value for every instance of the class (SystemCreationClassName,
 *   NameFormat): the comparison is decided here, without the database.
 * - `decide`: the same, with the class's own rule (CreationClassName matches the class or a superclass name).
 */
export type WqlProperty =
  | { attr: string; toModel?: (v: Exclude<WqlValue, null>) => FilterValue[]; ordered?: boolean }
  | { constant: string | number | boolean | null }
  | { decide: (op: WqlOp, value: WqlValue) => boolean };

/** `undefined` = the class has no such (filterable) property: CannotProcessFilter. Match names case-insensitively. */
export type WqlPropertyResolver = (property: string) => WqlProperty | undefined;

/**
 * The WHERE clause in model terms. `match: 'all'` = no condition left (every instance matches); `'none'` = the
 * condition is false for every instance (answer an empty enumeration without asking the database).
 */
export type WqlTranslation = { match: 'filter'; filter: FilterExpr } | { match: 'all' } | { match: 'none' };

type Tri = FilterExpr | true | false;

function combine(kind: 'and' | 'or', l: Tri, r: Tri): Tri {
  if (kind === 'and') {
    if (l === false || r === false) return false;
    if (l === true) return r;
    if (r === true) return l;
  } else {
    if (l === true || r === true) return true;
    if (l === false) return r;
    if (r === false) return l;
  }
  return { kind, left: l, right: r };
}

export function compareConst(a: string | number | boolean | null, op: WqlOp, b: WqlValue): boolean {
  if (a === null || b === null) return op === '=' ? a === b : op === '!=' ? a !== b : false;
  // CIM string comparison of class names is case-insensitive (DSP0004 §7.6.1)
  const x = typeof a === 'string' ? a.toLowerCase() : a;
  const y = typeof b === 'string' ? b.toLowerCase() : b;
  if (typeof x !== typeof y) return op === '!=';
  switch (op) {
    case '=':
      return x === y;
    case '!=':
      return x !== y;
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
}

/** Translates the WHERE clause of a parsed query to the model's FilterExpr; throws WqlError. */
export function toFilterExpr(query: WqlQuery, resolve: WqlPropertyResolver): WqlTranslation {
  if (query.select !== '*') throw new WqlError('only SELECT * is supported (property lists would need projected instances)');
  if (!query.where) return { match: 'all' };
  const out = translate(query.where, resolve, false);
  if (out === true) return { match: 'all' };
  if (out === false) return { match: 'none' };
  return { match: 'filter', filter: out };
}

function translate(c: WqlCond, resolve: WqlPropertyResolver, negated: boolean): Tri {
  switch (c.kind) {
    case 'not':
      return translate(c.operand, resolve, !negated);
    case 'and':
    case 'or': {
      // De Morgan: NOT is pushed down to the comparisons, since FilterExpr has no negation
      const kind = negated ? (c.kind === 'and' ? 'or' : 'and') : c.kind;
      return combine(kind, translate(c.left, resolve, negated), translate(c.right, resolve, negated));
    }
    case 'like':
      throw new WqlError(`LIKE is not supported (on ${c.property})`);
    case 'cmp':
      return comparison(c.property, negated ? NEGATE[c.op] : c.op, c.value, resolve);
  }
}

function comparison(property: string, op: WqlOp, value: WqlValue, resolve: WqlPropertyResolver): Tri {
  const p = resolve(property);
  if (!p) throw new WqlError(`${property} is not a filterable property of the class`);
  if ('constant' in p) return compareConst(p.constant, op, value);
  if ('decide' in p) return p.decide(op, value);
  if (value === null) {
    if (op !== '=' && op !== '!=') throw new WqlError(`${property} ${op} NULL is not a valid comparison`);
    return { kind: 'cmp', attr: p.attr, op, value: null };
  }
  if (op !== '=' && op !== '!=' && !p.ordered) throw new WqlError(`operator ${op} does not apply to ${property}`);
  const values = p.toModel ? p.toModel(value) : [value];
  if (values.length === 0) return op === '!=';
  if (values.length > 1 && op !== '=' && op !== '!=') throw new WqlError(`operator ${op} does not apply to ${property}`);
  let out: Tri = { kind: 'cmp', attr: p.attr, op, value: values[0] };
  for (const v of values.slice(1)) out = combine(op === '=' ? 'or' : 'and', out, { kind: 'cmp', attr: p.attr, op, value: v });
  return out;
}
