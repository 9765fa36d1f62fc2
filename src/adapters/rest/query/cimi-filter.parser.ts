import { InvalidInputError } from '../../../model/shared/model-error';
import { and, type CompareOp, type FilterExpr } from '../../../model/shared/query';

/**
 * CIMI `$filter` text → the model's protocol-neutral FilterExpr (DSP0263 2.0.0 §4.1.6.1, docs/cimi.md §5):
 *
 *   Filter    ::= AndExpr ( 'or' Filter )*
 *   AndExpr   ::= Comp ( 'and' AndExpr )*
 *   Comp      ::= Attribute Op Value | Value Op Attribute | PropExpr | '(' Filter ')'
 *   Op        ::= '<' | '<=' | '=' | '>=' | '>' | '!='
 *   Value     ::= IntValue | DateValue | StringValue | BoolValue
 *   PropExpr  ::= 'property[' StringValue ']' Op StringValue
 *
 * Pure and syntax-only: which attributes exist and which operators suit their types is the filter compiler's
 * allow-list (docs/reliability.md rule 11); this module only guarantees a well-formed, bounded AST.
 *
 * Decisions where the grammar is loose:
 * - `and`/`or` chains build a left-associative tree (`a or b or c` → or(or(a, b), c)), like the model's `and()`.
 * - `and`, `or`, `true`, `false` are case-sensitive keywords and reserved: `AND` is an attribute name (so
 *   `a=1 AND b=2` fails at `AND`), `and=1` is an error, `true` in attribute position is the boolean value.
 * - `Value Op Attribute` is normalised to `Attribute Op' Value` (`<`↔`>`, `<=`↔`>=`).
 * - IntValue is unsigned (`/[0-9]+/`), leading zeros allowed, at most Number.MAX_SAFE_INTEGER.
 * - DateValue: `YYYY-MM-DD(Thh:mm:ss(.s+)?(Z|±hh:mm)?)?`. Without a zone (or without a time) the value is taken
 *   as UTC; fractions beyond milliseconds are truncated. Since form decoding turns a literal `+` into a space,
 *   `…T10:00:00 01:00` is accepted as `+01:00` (a space followed by `hh:mm` after a time can mean nothing else).
 * - Number and date literals must end at a word boundary (`1and`, `12abc`, `2012-01-01T10:00` are errors);
 *   strings and punctuation are self-delimiting (`name='x'and(a=1)` is fine).
 * - StringValue (`"..." | '...'`; the grammar defines no escape): the delimiting quote written twice stands for
 *   itself (`'O''Brien'` → `O'Brien`, `"say ""hi"""` → `say "hi"`), as in WQL; the other quote needs nothing
 *   (`"it's"`), and `\` is an ordinary character; docs/operations.md "Query string literals" compares dialects.
 * - `property` followed by `[` starts a PropExpr (whitespace allowed around `[`, the key and `]`); otherwise
 *   `property` is an ordinary attribute name. PropExpr takes only `=`/`!=` and a string value, and only on the left.
 * - Limits: at most MAX_FILTER_LENGTH characters (for combineFilters: all occurrences together) and at most
 *   MAX_FILTER_DEPTH nested parentheses. An empty or blank filter is an error.
 */

export const MAX_FILTER_LENGTH = 1024;
export const MAX_FILTER_DEPTH = 32;

/**
 * A malformed CIMI query parameter. `param` names it (`$filter`, `$first`, …), `position` is the 0-based character
 * offset inside that parameter's value where parsing broke. An `invalid-input` ModelError, so the REST error
 * mapper answers 400 — except `$format`, which the REST layer answers with 406 (code QUERY.UNSUPPORTED_FORMAT).
 */
export class CimiQueryError extends InvalidInputError {
  constructor(
    readonly param: string,
    readonly position: number,
    message: string,
    code = 'QUERY.INVALID_PARAMETER',
  ) {
    super(message, param, code);
    this.name = 'CimiQueryError';
    this.details.position = position;
  }

  /** `<param>: <reason> at position <n> near "<text at n>"` */
  static at(param: string, text: string, position: number, reason: string, code?: string): CimiQueryError {
    return new CimiQueryError(
      param,
      position,
      `${param}: ${reason} at position ${position} ${near(text, position)}`,
      code,
    );
  }
}

function near(text: string, position: number): string {
  if (position >= text.length) return '(end of input)';
  const SNIPPET = 20;
  const shown = text.slice(position, position + SNIPPET).replace(/[\u0000-\u001f\u007f]/g, '?');
  return `near "${shown}${text.length > position + SNIPPET ? '…' : ''}"`;
}

// ---------------------------------------------------------------------------------------------------------------
// Lexer

type Literal = string | number | boolean | Date;

type Token =
  | { t: 'op'; op: CompareOp; pos: number; end: number }
  | { t: '(' | ')' | '[' | ']' | 'and' | 'or' | 'eof'; pos: number; end: number }
  | { t: 'ident'; name: string; pos: number; end: number }
  | { t: 'value'; value: Literal; kind: 'string' | 'int' | 'date' | 'bool'; pos: number; end: number };

const OPS: ReadonlySet<string> = new Set(['<', '<=', '=', '>=', '>', '!=']);
const OP_CHARS = /[<>=!]+/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const INT = /[0-9]+/y;
const DATE =
  /([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(?:(Z)|([+\- ])([0-9]{2}):([0-9]{2}))?)?/y;
/** what may not directly follow a number or date literal */
const LITERAL_TAIL = /[A-Za-z0-9_.:+-]/;
const WS = /\s/;

const FLIP: Readonly<Record<CompareOp, CompareOp>> = {
  '<': '>',
  '<=': '>=',
  '=': '=',
  '>=': '<=',
  '>': '<',
  '!=': '!=',
};

class Lexer {
  private i = 0;
  private cached: Token | undefined;

  constructor(
    private readonly param: string,
    readonly text: string,
  ) {}

  error(position: number, reason: string): CimiQueryError {
    return CimiQueryError.at(this.param, this.text, position, reason);
  }

  peek(): Token {
    return (this.cached ??= this.lex());
  }

  next(): Token {
    const tok = this.peek();
    this.cached = undefined;
    return tok;
  }

  /** first non-blank character at or after `from` */
  charAfter(from: number): string | undefined {
    let j = from;
    while (j < this.text.length && WS.test(this.text[j]!)) j++;
    return this.text[j];
  }

  private lex(): Token {
    const s = this.text;
    while (this.i < s.length && WS.test(s[this.i]!)) this.i++;
    const pos = this.i;
    if (pos >= s.length) return { t: 'eof', pos, end: pos };
    const c = s[pos]!;

    if (c === '(' || c === ')' || c === '[' || c === ']') {
      this.i++;
      return { t: c, pos, end: this.i };
    }
    if (c === '<' || c === '>' || c === '=' || c === '!') {
      OP_CHARS.lastIndex = pos;
      const op = OP_CHARS.exec(s)![0];
      if (!OPS.has(op)) throw this.error(pos, `unknown operator '${op}'`);
      this.i = pos + op.length;
      return { t: 'op', op: op as CompareOp, pos, end: this.i };
    }
    if (c === '"' || c === "'") return this.lexString(pos, c);
    if (c >= '0' && c <= '9') return this.lexNumberOrDate(pos);

    IDENT.lastIndex = pos;
    const m = IDENT.exec(s);
    if (m) {
      const name = m[0];
      this.i = pos + name.length;
      if (name === 'and' || name === 'or') return { t: name, pos, end: this.i };
      if (name === 'true' || name === 'false')
        return { t: 'value', value: name === 'true', kind: 'bool', pos, end: this.i };
      return { t: 'ident', name, pos, end: this.i };
    }
    throw this.error(pos, `unexpected character '${c}'`);
  }

  private lexString(pos: number, quote: string): Token {
    const s = this.text;
    let out = '';
    let j = pos + 1;
    while (j < s.length) {
      const c = s[j]!;
      if (c === quote && s[j + 1] === quote) {
        out += quote;
        j += 2;
      } else if (c === quote) {
        this.i = j + 1;
        return { t: 'value', value: out, kind: 'string', pos, end: this.i };
      } else {
        out += c;
        j++;
      }
    }
    throw this.error(pos, 'unterminated string');
  }

  private lexNumberOrDate(pos: number): Token {
    const s = this.text;
    DATE.lastIndex = pos;
    const d = DATE.exec(s);
    if (d) {
      const end = pos + d[0].length;
      if (end < s.length && LITERAL_TAIL.test(s[end]!)) throw this.error(end, 'malformed date');
      this.i = end;
      return { t: 'value', value: this.toDate(pos, d), kind: 'date', pos, end };
    }
    INT.lastIndex = pos;
    const digits = INT.exec(s)![0];
    const end = pos + digits.length;
    if (end < s.length && LITERAL_TAIL.test(s[end]!)) throw this.error(end, 'malformed number or date');
    const n = Number(digits);
    if (!Number.isSafeInteger(n)) throw this.error(pos, `integer too large (max ${Number.MAX_SAFE_INTEGER})`);
    this.i = end;
    return { t: 'value', value: n, kind: 'int', pos, end };
  }

  private toDate(pos: number, m: RegExpExecArray): Date {
    const [, ys, mos, ds, hs, mis, ss, frac, , sign, ohs, oms] = m;
    const y = Number(ys);
    const mo = Number(mos);
    const day = Number(ds);
    const h = Number(hs ?? 0);
    const mi = Number(mis ?? 0);
    const sec = Number(ss ?? 0);
    const oh = Number(ohs ?? 0);
    const om = Number(oms ?? 0);
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    const monthDays = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if (
      mo < 1 ||
      mo > 12 ||
      day < 1 ||
      day > monthDays[mo - 1]! ||
      h > 23 ||
      mi > 59 ||
      sec > 59 ||
      oh > 14 ||
      om > 59 ||
      (oh === 14 && om !== 0)
    ) {
      throw this.error(pos, 'invalid date');
    }
    const ms = frac ? Number(frac.padEnd(3, '0').slice(0, 3)) : 0;
    // setUTCFullYear, not Date.UTC: the latter maps years 0-99 to 1900-1999
    const date = new Date(0);
    date.setUTCFullYear(y, mo - 1, day);
    date.setUTCHours(h, mi, sec, ms);
    const offsetMinutes = (sign === '-' ? -1 : 1) * (oh * 60 + om);
    return new Date(date.getTime() - offsetMinutes * 60_000);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parser (recursive descent; recursion only grows with parentheses, which are capped)

class Parser {
  private depth = 0;

  constructor(private readonly lx: Lexer) {}

  parse(): FilterExpr {
    const expr = this.filter();
    const tok = this.lx.peek();
    if (tok.t !== 'eof') {
      throw this.lx.error(
        tok.pos,
        tok.t === ')' ? "unbalanced ')'" : "expected 'and', 'or' or end of filter",
      );
    }
    return expr;
  }

  private filter(): FilterExpr {
    let left = this.andExpr();
    while (this.lx.peek().t === 'or') {
      this.lx.next();
      left = { kind: 'or', left, right: this.andExpr() };
    }
    return left;
  }

  private andExpr(): FilterExpr {
    let left = this.comp();
    while (this.lx.peek().t === 'and') {
      this.lx.next();
      left = { kind: 'and', left, right: this.comp() };
    }
    return left;
  }

  private comp(): FilterExpr {
    const tok = this.lx.peek();
    switch (tok.t) {
      case '(': {
        if (this.depth >= MAX_FILTER_DEPTH) {
          throw this.lx.error(tok.pos, `parentheses nested deeper than ${MAX_FILTER_DEPTH} levels`);
        }
        this.lx.next();
        this.depth++;
        const inner = this.filter();
        const close = this.lx.next();
        if (close.t !== ')') throw this.lx.error(close.pos, "expected 'and', 'or' or ')'");
        this.depth--;
        return inner;
      }
      case 'ident': {
        if (this.isPropertyStart(tok)) return this.propExpr();
        this.lx.next();
        const op = this.op();
        const value = this.lx.next();
        if (value.t !== 'value') throw this.lx.error(value.pos, 'expected a value');
        return { kind: 'cmp', attr: tok.name, op, value: value.value };
      }
      case 'value': {
        this.lx.next();
        const op = this.op();
        const attr = this.lx.next();
        if (attr.t !== 'ident') throw this.lx.error(attr.pos, 'expected an attribute name');
        if (this.isPropertyStart(attr))
          throw this.lx.error(attr.pos, 'property[…] must be left of the operator');
        return { kind: 'cmp', attr: attr.name, op: FLIP[op], value: tok.value };
      }
      default:
        throw this.lx.error(tok.pos, "expected a comparison, 'property[' or '('");
    }
  }

  private isPropertyStart(tok: Token & { t: 'ident' }): boolean {
    return tok.name === 'property' && this.lx.charAfter(tok.end) === '[';
  }

  private propExpr(): FilterExpr {
    this.lx.next(); // property
    this.lx.next(); // [
    const key = this.lx.next();
    if (key.t !== 'value' || key.kind !== 'string')
      throw this.lx.error(key.pos, 'expected a quoted property key');
    const close = this.lx.next();
    if (close.t !== ']') throw this.lx.error(close.pos, "expected ']'");
    const opTok = this.lx.peek();
    const op = this.op();
    if (op !== '=' && op !== '!=') throw this.lx.error(opTok.pos, "property[…] supports only '=' and '!='");
    const value = this.lx.next();
    if (value.t !== 'value' || value.kind !== 'string') {
      throw this.lx.error(value.pos, 'expected a quoted string value for property[…]');
    }
    return { kind: 'prop', key: key.value as string, op, value: value.value as string };
  }

  private op(): CompareOp {
    const tok = this.lx.next();
    if (tok.t !== 'op') throw this.lx.error(tok.pos, 'expected an operator (<, <=, =, >=, >, !=)');
    return tok.op;
  }
}

const PARAM = '$filter';

/** Parses one `$filter` value (already percent-decoded). Throws CimiQueryError. */
export function parseCimiFilter(text: string): FilterExpr {
  if (text.length > MAX_FILTER_LENGTH) {
    throw new CimiQueryError(
      PARAM,
      MAX_FILTER_LENGTH,
      `${PARAM}: filter longer than ${MAX_FILTER_LENGTH} characters at position ${MAX_FILTER_LENGTH}`,
    );
  }
  if (text.trim() === '') throw CimiQueryError.at(PARAM, text, 0, 'empty filter');
  return new Parser(new Lexer(PARAM, text)).parse();
}

/**
 * Repeated `$filter` parameters are ANDed (DSP0263 2.0.0 §4.1.6.1), left to right. The length cap applies to all
 * occurrences together (otherwise repeating the parameter would bypass it); positions stay relative to the
 * occurrence that failed. No occurrences → undefined.
 */
export function combineFilters(texts: string[]): FilterExpr | undefined {
  let total = 0;
  for (const text of texts) {
    if (total + text.length > MAX_FILTER_LENGTH) {
      const position = MAX_FILTER_LENGTH - total;
      throw new CimiQueryError(
        PARAM,
        position,
        `${PARAM}: filters together longer than ${MAX_FILTER_LENGTH} characters at position ${position}`,
      );
    }
    total += text.length;
  }
  return and(...texts.map(parseCimiFilter));
}
