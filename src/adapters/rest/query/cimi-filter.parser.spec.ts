import { InvalidInputError, ModelError } from '../../../model/shared/model-error';
import type { CompareOp, FilterExpr, FilterValue } from '../../../model/shared/query';
import {
  CimiQueryError,
  MAX_FILTER_DEPTH,
  MAX_FILTER_LENGTH,
  combineFilters,
  parseCimiFilter,
} from './cimi-filter.parser';

const cmp = (attr: string, op: CompareOp, value: FilterValue): FilterExpr => ({
  kind: 'cmp',
  attr,
  op,
  value,
});
const andE = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: 'and', left, right });
const orE = (left: FilterExpr, right: FilterExpr): FilterExpr => ({ kind: 'or', left, right });
const prop = (key: string, op: '=' | '!=', value: string): FilterExpr => ({ kind: 'prop', key, op, value });

const A = cmp('a', '=', 1);
const B = cmp('b', '=', 2);
const C = cmp('c', '=', 3);
const D = cmp('d', '=', 4);

/** the CimiQueryError `fn` throws */
function errorOf(fn: () => unknown): CimiQueryError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CimiQueryError) return e;
    throw e;
  }
  throw new Error('expected a CimiQueryError');
}

const OPS: CompareOp[] = ['<', '<=', '=', '>=', '>', '!='];
const FLIPPED: Record<CompareOp, CompareOp> = {
  '<': '>',
  '<=': '>=',
  '=': '=',
  '>=': '<=',
  '>': '<',
  '!=': '!=',
};

describe('parseCimiFilter: values and operators', () => {
  it.each(OPS)('integer with %s', (op) => {
    expect(parseCimiFilter(`cpu${op}4`)).toEqual(cmp('cpu', op, 4));
  });

  it.each(OPS)('string with %s, both quote styles', (op) => {
    expect(parseCimiFilter(`name${op}'mine'`)).toEqual(cmp('name', op, 'mine'));
    expect(parseCimiFilter(`name${op}"mine"`)).toEqual(cmp('name', op, 'mine'));
  });

  it.each(OPS)('date with %s', (op) => {
    expect(parseCimiFilter(`created${op}2012-01-02T03:04:05Z`)).toEqual(
      cmp('created', op, new Date('2012-01-02T03:04:05.000Z')),
    );
  });

  it.each(OPS)('boolean with %s', (op) => {
    expect(parseCimiFilter(`enabled${op}true`)).toEqual(cmp('enabled', op, true));
    expect(parseCimiFilter(`enabled${op}false`)).toEqual(cmp('enabled', op, false));
  });

  it('the spec examples', () => {
    expect(parseCimiFilter("name='mine'")).toEqual(cmp('name', '=', 'mine'));
    expect(parseCimiFilter("format='ntfs'")).toEqual(cmp('format', '=', 'ntfs'));
  });

  it('integers: leading zeros, zero, MAX_SAFE_INTEGER', () => {
    expect(parseCimiFilter('a=007')).toEqual(cmp('a', '=', 7));
    expect(parseCimiFilter('a=0')).toEqual(cmp('a', '=', 0));
    expect(parseCimiFilter(`a=${Number.MAX_SAFE_INTEGER}`)).toEqual(cmp('a', '=', Number.MAX_SAFE_INTEGER));
  });

  it('strings: doubled quotes, a literal backslash, the other quote inside, empty, unicode, operators and keywords inside', () => {
    expect(parseCimiFilter(`name='O''Brien'`)).toEqual(cmp('name', '=', "O'Brien"));
    expect(parseCimiFilter(`name="say ""hi"""`)).toEqual(cmp('name', '=', 'say "hi"'));
    expect(parseCimiFilter(`name=''''`)).toEqual(cmp('name', '=', "'"));
    expect(parseCimiFilter(String.raw`name='back\slash'`)).toEqual(cmp('name', '=', 'back\\slash'));
    expect(parseCimiFilter(String.raw`name='C:\temp\'`)).toEqual(cmp('name', '=', 'C:\\temp\\'));
    expect(parseCimiFilter(String.raw`name='\n\x'`)).toEqual(cmp('name', '=', '\\n\\x'));
    expect(parseCimiFilter(`name="it's"`)).toEqual(cmp('name', '=', "it's"));
    expect(parseCimiFilter(`name='say "hi"'`)).toEqual(cmp('name', '=', 'say "hi"'));
    expect(parseCimiFilter("name=''")).toEqual(cmp('name', '=', ''));
    expect(parseCimiFilter("name='é 日本'")).toEqual(cmp('name', '=', 'é 日本'));
    expect(parseCimiFilter("name='a and b or (c) <= \"'")).toEqual(cmp('name', '=', 'a and b or (c) <= "'));
  });

  it('dates: date only, with time and no zone (UTC), Z, offsets, fractions', () => {
    expect(parseCimiFilter('created>2012-01-02')).toEqual(
      cmp('created', '>', new Date('2012-01-02T00:00:00.000Z')),
    );
    expect(parseCimiFilter('created>2012-01-02T03:04:05')).toEqual(
      cmp('created', '>', new Date('2012-01-02T03:04:05.000Z')),
    );
    expect(parseCimiFilter('created>2012-01-02T03:04:05+01:30')).toEqual(
      cmp('created', '>', new Date('2012-01-02T01:34:05.000Z')),
    );
    expect(parseCimiFilter('created>2012-01-02T03:04:05-05:00')).toEqual(
      cmp('created', '>', new Date('2012-01-02T08:04:05.000Z')),
    );
    expect(parseCimiFilter('created>2012-01-02T03:04:05.5Z')).toEqual(
      cmp('created', '>', new Date('2012-01-02T03:04:05.500Z')),
    );
    expect(parseCimiFilter('created>2012-01-02T03:04:05.123456789Z')).toEqual(
      cmp('created', '>', new Date('2012-01-02T03:04:05.123Z')),
    );
    expect(parseCimiFilter('created>2012-02-29T23:59:59+14:00')).toEqual(
      cmp('created', '>', new Date('2012-02-29T09:59:59.000Z')),
    );
  });

  it('dates: a form-decoded "+" (space) before the offset counts as "+"', () => {
    expect(parseCimiFilter('created>2012-01-02T03:04:05 01:00')).toEqual(
      cmp('created', '>', new Date('2012-01-02T02:04:05.000Z')),
    );
  });

  it('dates: years 0-99 are not shifted to 19xx', () => {
    const v = (parseCimiFilter('created>0050-06-01') as { value: Date }).value;
    expect(v.getUTCFullYear()).toBe(50);
  });

  it('keywords are case-sensitive: True is an attribute name, not a value', () => {
    expect(parseCimiFilter('True=1')).toEqual(cmp('True', '=', 1));
  });

  it('attribute names: underscores, digits after the first char, `property` without a bracket', () => {
    expect(parseCimiFilter('_x9_y=1')).toEqual(cmp('_x9_y', '=', 1));
    expect(parseCimiFilter("property='p'")).toEqual(cmp('property', '=', 'p'));
    expect(parseCimiFilter('andrew=1 and order=2')).toEqual(
      andE(cmp('andrew', '=', 1), cmp('order', '=', 2)),
    );
  });
});

describe('parseCimiFilter: Value Op Attribute', () => {
  it.each(OPS)('%s is flipped onto the attribute', (op) => {
    expect(parseCimiFilter(`4${op}cpu`)).toEqual(cmp('cpu', FLIPPED[op], 4));
    expect(parseCimiFilter(`'x'${op}name`)).toEqual(cmp('name', FLIPPED[op], 'x'));
    expect(parseCimiFilter(`2012-01-01${op}created`)).toEqual(
      cmp('created', FLIPPED[op], new Date('2012-01-01T00:00:00Z')),
    );
    expect(parseCimiFilter(`true${op}enabled`)).toEqual(cmp('enabled', FLIPPED[op], true));
  });

  it('mixed orientations in one filter', () => {
    expect(parseCimiFilter('1<a and a<10')).toEqual(andE(cmp('a', '>', 1), cmp('a', '<', 10)));
  });
});

describe('parseCimiFilter: property[…]', () => {
  it('both quote styles and both operators', () => {
    expect(parseCimiFilter(`property['owner']='bob'`)).toEqual(prop('owner', '=', 'bob'));
    expect(parseCimiFilter(`property["owner"]!="bob"`)).toEqual(prop('owner', '!=', 'bob'));
    expect(parseCimiFilter(`property["ow'ner"]='b''ob'`)).toEqual(prop("ow'ner", '=', "b'ob"));
    expect(parseCimiFilter(`property['a''b']="x""y"`)).toEqual(prop("a'b", '=', 'x"y'));
  });

  it('whitespace around the bracket, key and operator', () => {
    expect(parseCimiFilter(` property [ 'k' ] = 'v' `)).toEqual(prop('k', '=', 'v'));
  });

  it('combines with comparisons', () => {
    expect(parseCimiFilter(`property['a']='1' and (name='x' or property['b']!='2')`)).toEqual(
      andE(prop('a', '=', '1'), orE(cmp('name', '=', 'x'), prop('b', '!=', '2'))),
    );
  });
});

describe('parseCimiFilter: and / or / parentheses', () => {
  it('and binds tighter than or', () => {
    expect(parseCimiFilter('a=1 or b=2 and c=3')).toEqual(orE(A, andE(B, C)));
    expect(parseCimiFilter('a=1 and b=2 or c=3')).toEqual(orE(andE(A, B), C));
    expect(parseCimiFilter('a=1 or b=2 and c=3 or d=4')).toEqual(orE(orE(A, andE(B, C)), D));
    expect(parseCimiFilter('a=1 and b=2 or c=3 and d=4')).toEqual(orE(andE(A, B), andE(C, D)));
  });

  it('chains are left-associative', () => {
    expect(parseCimiFilter('a=1 and b=2 and c=3')).toEqual(andE(andE(A, B), C));
    expect(parseCimiFilter('a=1 or b=2 or c=3')).toEqual(orE(orE(A, B), C));
  });

  it('parentheses override precedence and grouping', () => {
    expect(parseCimiFilter('(a=1 or b=2) and c=3')).toEqual(andE(orE(A, B), C));
    expect(parseCimiFilter('a=1 and (b=2 or c=3)')).toEqual(andE(A, orE(B, C)));
    expect(parseCimiFilter('a=1 or (b=2 or c=3)')).toEqual(orE(A, orE(B, C)));
    expect(parseCimiFilter('((a=1))')).toEqual(A);
    expect(parseCimiFilter('(a=1 or b=2) and (c=3 or d=4)')).toEqual(andE(orE(A, B), orE(C, D)));
  });

  it('whitespace is optional around punctuation and quoted strings, allowed everywhere between tokens', () => {
    expect(parseCimiFilter("(a=1)or(name='x')and(b=2)")).toEqual(orE(A, andE(cmp('name', '=', 'x'), B)));
    expect(parseCimiFilter("name='x'and b=2")).toEqual(andE(cmp('name', '=', 'x'), B));
    expect(parseCimiFilter(' \t a \n = \r 1  and\tb=2 ')).toEqual(andE(A, B));
  });

  it(`nesting up to ${MAX_FILTER_DEPTH} parentheses`, () => {
    const text = '('.repeat(MAX_FILTER_DEPTH) + 'a=1' + ')'.repeat(MAX_FILTER_DEPTH);
    expect(parseCimiFilter(text)).toEqual(A);
  });

  it(`text of exactly ${MAX_FILTER_LENGTH} characters`, () => {
    const text = `name='${'x'.repeat(MAX_FILTER_LENGTH - 7)}'`;
    expect(text).toHaveLength(MAX_FILTER_LENGTH);
    expect(parseCimiFilter(text)).toEqual(cmp('name', '=', 'x'.repeat(MAX_FILTER_LENGTH - 7)));
  });
});

describe('parseCimiFilter: errors', () => {
  it('is an invalid-input ModelError carrying param and position', () => {
    const e = errorOf(() => parseCimiFilter('name='));
    expect(e).toBeInstanceOf(InvalidInputError);
    expect(e).toBeInstanceOf(ModelError);
    expect(e.kind).toBe('invalid-input');
    expect(e.code).toBe('QUERY.INVALID_PARAMETER');
    expect(e.param).toBe('$filter');
    expect(e.details).toEqual({ field: '$filter', position: 5 });
    expect(e.message).toBe('$filter: expected a value at position 5 (end of input)');
  });

  it('message shows where it broke', () => {
    expect(errorOf(() => parseCimiFilter('name = = 1')).message).toBe(
      '$filter: expected a value at position 7 near "= 1"',
    );
    expect(errorOf(() => parseCimiFilter(`name='x' and foo bar baz quux blah blah blah`)).message).toBe(
      '$filter: expected an operator (<, <=, =, >=, >, !=) at position 17 near "bar baz quux blah bl…"',
    );
  });

  // [text, position, message fragment]
  const cases: [string, number, string][] = [
    // empty
    ['', 0, 'empty filter'],
    ['   ', 0, 'empty filter'],
    // unterminated string: position of the opening quote
    ["name='mine", 5, 'unterminated string'],
    ['name="mine', 5, 'unterminated string'],
    ["name='mine''", 5, 'unterminated string'],
    ["name='mine''s", 5, 'unterminated string'],
    ['name="mine\'', 5, 'unterminated string'],
    // missing value
    ['name=', 5, 'expected a value'],
    ['name= and b=1', 6, 'expected a value'],
    ['a=b', 2, 'expected a value'],
    ['a=null', 2, 'expected a value'],
    ['a=-1', 2, "unexpected character '-'"],
    ['a=True', 2, 'expected a value'],
    // missing operator / attribute
    ['name', 4, 'expected an operator'],
    ["name 'x'", 5, 'expected an operator'],
    ['1=2', 2, 'expected an attribute name'],
    ["'x'=", 4, 'expected an attribute name'],
    ['1=and', 2, 'expected an attribute name'],
    // bad operators
    ['a==1', 1, "unknown operator '=='"],
    ['a=>1', 1, "unknown operator '=>'"],
    ['a<>1', 1, "unknown operator '<>'"],
    ['a!1', 1, "unknown operator '!'"],
    ['a^=1', 1, "unexpected character '^'"],
    ['a~1', 1, "unexpected character '~'"],
    // trailing garbage and keywords
    ['a=1 b=2', 4, "expected 'and', 'or' or end of filter"],
    ['a=1 AND b=2', 4, "expected 'and', 'or' or end of filter"],
    ['a=1 )', 4, "unbalanced ')'"],
    ['a=1 and', 7, 'expected a comparison'],
    ['a=1 or or b=2', 7, 'expected a comparison'],
    ['and=1', 0, 'expected a comparison'],
    ['or', 0, 'expected a comparison'],
    [')', 0, 'expected a comparison'],
    ['()', 1, 'expected a comparison'],
    ['(a=1', 4, "expected 'and', 'or' or ')'"],
    ['(a=1 b=2)', 5, "expected 'and', 'or' or ')'"],
    // malformed literals
    ['a=1and b=2', 3, 'malformed number or date'],
    ['a=12abc', 4, 'malformed number or date'],
    ['a=1.5', 3, 'malformed number or date'],
    ['a=2012-1-01', 6, 'malformed number or date'],
    [`a=${Number.MAX_SAFE_INTEGER + 1}`, 2, 'integer too large'],
    ['a=99999999999999999999', 2, 'integer too large'],
    ['created>2012-01-01T10:00', 18, 'malformed date'],
    ['created>2012-01-01T10:00:00+01', 27, 'malformed date'],
    ['created>2012-01-01T10:00:00.Z', 27, 'malformed date'],
    ['created>2012-01-01X', 18, 'malformed date'],
    ['created>2012-13-01', 8, 'invalid date'],
    ['created>2012-00-01', 8, 'invalid date'],
    ['created>2013-02-29', 8, 'invalid date'],
    ['created>2012-04-31', 8, 'invalid date'],
    ['created>2012-01-01T24:00:00Z', 8, 'invalid date'],
    ['created>2012-01-01T23:60:00Z', 8, 'invalid date'],
    ['created>2012-01-01T23:00:60Z', 8, 'invalid date'],
    ['created>2012-01-01T23:00:00+15:00', 8, 'invalid date'],
    ['created>2012-01-01T23:00:00+14:30', 8, 'invalid date'],
    ['name=\u0001', 5, "unexpected character '\u0001'"],
    ['né=1', 1, "unexpected character 'é'"],
    // property[…]
    ["property['k']<'v'", 13, "property[…] supports only '=' and '!='"],
    ["property['k']>='v'", 13, "property[…] supports only '=' and '!='"],
    ["property['k']=1", 14, 'expected a quoted string value for property[…]'],
    ["property['k']=true", 14, 'expected a quoted string value for property[…]'],
    ["property['k']", 13, 'expected an operator'],
    ["property[k]='v'", 9, 'expected a quoted property key'],
    ["property[1]='v'", 9, 'expected a quoted property key'],
    ["property['k'='v'", 12, "expected ']'"],
    ["'v'=property['k']", 4, 'property[…] must be left of the operator'],
  ];

  it.each(cases)('%j fails at %i with %j', (text, position, fragment) => {
    const e = errorOf(() => parseCimiFilter(text));
    expect(e.param).toBe('$filter');
    expect(e.position).toBe(position);
    expect(e.message).toContain(fragment);
    expect(e.message).toContain(`at position ${position}`);
  });

  it(`too long: more than ${MAX_FILTER_LENGTH} characters`, () => {
    const text = `name='${'x'.repeat(MAX_FILTER_LENGTH - 6)}'`;
    expect(text).toHaveLength(MAX_FILTER_LENGTH + 1);
    const e = errorOf(() => parseCimiFilter(text));
    expect(e.position).toBe(MAX_FILTER_LENGTH);
    expect(e.message).toBe(
      `$filter: filter longer than ${MAX_FILTER_LENGTH} characters at position ${MAX_FILTER_LENGTH}`,
    );
  });

  it(`too deep: more than ${MAX_FILTER_DEPTH} nested parentheses`, () => {
    const text = '('.repeat(MAX_FILTER_DEPTH + 1) + 'a=1' + ')'.repeat(MAX_FILTER_DEPTH + 1);
    const e = errorOf(() => parseCimiFilter(text));
    expect(e.position).toBe(MAX_FILTER_DEPTH);
    expect(e.message).toContain(`parentheses nested deeper than ${MAX_FILTER_DEPTH} levels`);
  });

  it('depth counts nesting, not the number of groups', () => {
    const many = Array.from({ length: 60 }, (_, i) => `(a=${i})`).join(' or ');
    expect(() => parseCimiFilter(many)).not.toThrow();
  });

  it('the snippet hides control characters and is cut at 20 characters', () => {
    const e = errorOf(() => parseCimiFilter('a=1 \u0007bcdefghijklmnopqrstuvwxyz'));
    expect(e.message).toBe(
      `$filter: unexpected character '\u0007' at position 4 near "?bcdefghijklmnopqrst…"`,
    );
  });
});

describe('combineFilters', () => {
  it('no filters → undefined', () => {
    expect(combineFilters([])).toBeUndefined();
  });

  it('one filter → its AST', () => {
    expect(combineFilters(['a=1 or b=2'])).toEqual(orE(A, B));
  });

  it('repeated filters are ANDed left to right, each keeping its own precedence', () => {
    expect(combineFilters(['a=1', 'b=2 or c=3', 'd=4'])).toEqual(andE(andE(A, orE(B, C)), D));
  });

  it('an error names the position inside the occurrence that failed', () => {
    const e = errorOf(() => combineFilters(['a=1', 'b=']));
    expect(e.param).toBe('$filter');
    expect(e.position).toBe(2);
  });

  it('an empty occurrence is an error', () => {
    expect(errorOf(() => combineFilters(['a=1', ''])).message).toContain('empty filter');
  });

  it(`the ${MAX_FILTER_LENGTH}-character cap applies to all occurrences together`, () => {
    const half = `name='${'x'.repeat(MAX_FILTER_LENGTH / 2 - 7)}'`;
    expect(half).toHaveLength(MAX_FILTER_LENGTH / 2);
    expect(() => combineFilters([half, half])).not.toThrow();
    const e = errorOf(() => combineFilters([half, half, 'a=1']));
    expect(e.position).toBe(0);
    expect(e.message).toContain(`together longer than ${MAX_FILTER_LENGTH} characters`);
    expect(errorOf(() => combineFilters([half, `${half}x`])).position).toBe(MAX_FILTER_LENGTH / 2);
  });
});

describe('parseCimiFilter: generated round trips', () => {
  /** mulberry32: deterministic, so a failure is reproducible from the seed */
  function rng(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  function gen(r: () => number, depth: number): FilterExpr {
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    if (depth <= 0 || r() < 0.35) {
      const attr = pick(['a', 'name', '_x1', 'created', 'cpu', 'Enabled', 'property']);
      if (r() < 0.15) {
        return {
          kind: 'prop',
          key: pick(['k', "it's", 'say "x"', '\\']),
          op: pick(['=', '!='] as const),
          value: pick(['', 'v', '\'"', 'a b']),
        };
      }
      const value: FilterValue = pick([
        () => Math.floor(r() * 1e6),
        () => pick(['', 'mine', "it's", 'say "hi"', 'back\\slash', 'a and b', ' ( ) ']),
        () => r() < 0.5,
        () =>
          new Date(
            Date.UTC(
              1990 + Math.floor(r() * 60),
              Math.floor(r() * 12),
              1 + Math.floor(r() * 28),
              Math.floor(r() * 24),
              Math.floor(r() * 60),
              Math.floor(r() * 60),
              Math.floor(r() * 1000),
            ),
          ),
      ])();
      return { kind: 'cmp', attr, op: pick(OPS), value };
    }
    return { kind: r() < 0.5 ? 'and' : 'or', left: gen(r, depth - 1), right: gen(r, depth - 1) };
  }

  function printString(s: string, r: () => number): string {
    const q = r() < 0.5 ? "'" : '"';
    return q + s.replace(new RegExp(q, 'g'), q + q) + q;
  }

  function printValue(v: FilterValue, r: () => number): string {
    if (typeof v === 'string') return printString(v, r);
    if (v instanceof Date) {
      if (r() < 0.5) return v.toISOString();
      // the same instant written with a +02:00 offset
      const shifted = new Date(v.getTime() + 2 * 3600_000).toISOString();
      return `${shifted.slice(0, -1)}+02:00`;
    }
    return String(v);
  }

  /** prints `e`; `parent` decides whether parentheses are needed to keep the exact (left-associative) tree */
  function print(e: FilterExpr, r: () => number): string {
    const ws = () => [' ', '  ', '\t', ' '][Math.floor(r() * 4)]!;
    if (e.kind === 'cmp') {
      if (r() < 0.5) return `${e.attr}${ws()}${e.op}${ws()}${printValue(e.value, r)}`;
      return `${printValue(e.value, r)}${ws()}${FLIPPED[e.op]}${ws()}${e.attr}`;
    }
    if (e.kind === 'prop')
      return `property[${printString(e.key, r)}]${ws()}${e.op}${ws()}${printString(e.value, r)}`;
    const side = (child: FilterExpr, isRight: boolean) => {
      const needs =
        (e.kind === 'and' && child.kind === 'or') ||
        (isRight && (child.kind === 'and' || child.kind === 'or'));
      const text = print(child, r);
      return needs || r() < 0.1 ? `(${ws()}${text}${ws()})` : text;
    };
    return `${side(e.left, false)}${ws()}${e.kind}${ws()}${side(e.right, true)}`;
  }

  it.each(Array.from({ length: 40 }, (_, i) => i + 1))('seed %i: parse(print(ast)) equals ast', (seed) => {
    const r = rng(seed);
    const ast = gen(r, 4);
    const text = print(ast, r);
    expect(text.length).toBeLessThanOrEqual(MAX_FILTER_LENGTH);
    expect(parseCimiFilter(text)).toEqual(ast);
  });

  it('random garbage only ever throws CimiQueryError', () => {
    const r = rng(4242);
    const alphabet = 'ab_01 ()[]\'"\\<>=!-:.TZ+andorpropertytrue';
    for (let n = 0; n < 2000; n++) {
      const len = Math.floor(r() * 30);
      let text = '';
      for (let i = 0; i < len; i++) text += alphabet[Math.floor(r() * alphabet.length)];
      try {
        parseCimiFilter(text);
      } catch (e) {
        expect(e).toBeInstanceOf(CimiQueryError);
        const q = e as CimiQueryError;
        expect(q.position).toBeGreaterThanOrEqual(0);
        expect(q.position).toBeLessThanOrEqual(text.length);
      }
    }
  });
});
