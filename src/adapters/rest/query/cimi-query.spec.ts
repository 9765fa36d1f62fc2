import { CimiQueryError } from './cimi-filter.parser';
import { parseCimiQuery, type CimiQueryParams } from './cimi-query';

function errorOf(params: CimiQueryParams): CimiQueryError {
  try {
    parseCimiQuery(params);
  } catch (e) {
    if (e instanceof CimiQueryError) return e;
    throw e;
  }
  throw new Error('expected a CimiQueryError');
}

describe('parseCimiQuery', () => {
  it('no parameters → an empty query and no options', () => {
    expect(parseCimiQuery({})).toStrictEqual({ query: {} });
  });

  it('parameters without $ and unknown $ parameters are ignored', () => {
    expect(
      parseCimiQuery({ foo: 'bar', id: '1', $unknown: 'x', $Filter: 'garbage ((', $aggregation: 'count' }),
    ).toStrictEqual({ query: {} });
  });

  it('undefined values count as absent', () => {
    expect(parseCimiQuery({ $filter: undefined, $first: undefined, $format: undefined })).toStrictEqual({
      query: {},
    });
  });

  it('everything at once', () => {
    expect(
      parseCimiQuery({
        $filter: "name='mine'",
        $orderby: 'created:desc',
        $first: '2',
        $last: '5',
        $select: 'name,description',
        $expand: 'volumes',
        $format: 'XML',
      }),
    ).toStrictEqual({
      query: {
        filter: { kind: 'cmp', attr: 'name', op: '=', value: 'mine' },
        orderBy: [{ attr: 'created', desc: true }],
        first: 2,
        last: 5,
      },
      select: ['name', 'description'],
      expand: ['volumes'],
      format: 'xml',
    });
  });

  describe('$filter', () => {
    it('repeated $filter parameters are ANDed', () => {
      expect(parseCimiQuery({ $filter: ['a=1', 'b=2 or c=3'] }).query.filter).toEqual({
        kind: 'and',
        left: { kind: 'cmp', attr: 'a', op: '=', value: 1 },
        right: {
          kind: 'or',
          left: { kind: 'cmp', attr: 'b', op: '=', value: 2 },
          right: { kind: 'cmp', attr: 'c', op: '=', value: 3 },
        },
      });
    });

    it('errors carry param $filter and the position', () => {
      const e = errorOf({ $filter: 'a=1 and' });
      expect(e.param).toBe('$filter');
      expect(e.position).toBe(7);
    });

    it('an empty $filter is an error', () => {
      expect(errorOf({ $filter: '' }).message).toContain('empty filter');
    });
  });

  describe('$first / $last', () => {
    it('positive integers, 1-based', () => {
      expect(parseCimiQuery({ $first: '1' }).query).toStrictEqual({ first: 1 });
      expect(parseCimiQuery({ $last: '10' }).query).toStrictEqual({ last: 10 });
      expect(parseCimiQuery({ $first: '007' }).query).toStrictEqual({ first: 7 });
      expect(parseCimiQuery({ $first: String(Number.MAX_SAFE_INTEGER) }).query.first).toBe(
        Number.MAX_SAFE_INTEGER,
      );
    });

    it('first > last is not an error (empty range, §4.1.6.2)', () => {
      expect(parseCimiQuery({ $first: '5', $last: '2' }).query).toStrictEqual({ first: 5, last: 2 });
    });

    it('identical repeats are accepted', () => {
      expect(parseCimiQuery({ $first: ['3', '3'] }).query).toStrictEqual({ first: 3 });
    });

    const bad: [string, string, number, string][] = [
      ['$first', '0', 0, 'must be a 1-based ordinal, at least 1'],
      ['$last', '0', 0, 'must be a 1-based ordinal, at least 1'],
      ['$first', '000', 0, 'must be a 1-based ordinal, at least 1'],
      ['$first', '', 0, 'expected a positive integer'],
      ['$first', '-1', 0, 'expected a positive integer'],
      ['$first', '+1', 0, 'expected a positive integer'],
      ['$last', '1.5', 1, 'expected a positive integer'],
      ['$last', '1e3', 1, 'expected a positive integer'],
      ['$first', ' 1', 0, 'expected a positive integer'],
      ['$first', '12x', 2, 'expected a positive integer'],
      ['$first', 'abc', 0, 'expected a positive integer'],
      ['$last', String(Number.MAX_SAFE_INTEGER + 1), 0, 'integer too large'],
    ];
    it.each(bad)('%s=%j fails at %i (%s)', (param, value, position, fragment) => {
      const e = errorOf({ [param]: value });
      expect(e.param).toBe(param);
      expect(e.position).toBe(position);
      expect(e.kind).toBe('invalid-input');
      expect(e.message).toContain(`${param}: ${fragment} at position ${position}`);
    });

    it('repeats with different values are an error', () => {
      const e = errorOf({ $last: ['3', '4'] });
      expect(e.param).toBe('$last');
      expect(e.message).toContain('repeated with a different value');
    });
  });

  describe('$select', () => {
    it('a comma-separated list, trimmed, empty items dropped', () => {
      expect(parseCimiQuery({ $select: 'name, description,,state' }).select).toEqual([
        'name',
        'description',
        'state',
      ]);
    });

    it('repeats merge; duplicates are ignored; unknown names pass through (the serializer ignores them)', () => {
      expect(
        parseCimiQuery({ $select: ['name,state', 'state', 'operations,name', 'disks/name'] }).select,
      ).toEqual(['name', 'state', 'operations', 'disks/name']);
    });

    it("'*' anywhere selects everything (undefined)", () => {
      expect(parseCimiQuery({ $select: '*' }).select).toBeUndefined();
      expect(parseCimiQuery({ $select: ['name', '*'] }).select).toBeUndefined();
      expect('select' in parseCimiQuery({ $select: 'name,*' })).toBe(false);
    });

    it('an empty $select is no subsetting', () => {
      expect(parseCimiQuery({ $select: '' }).select).toBeUndefined();
      expect(parseCimiQuery({ $select: [' ', ','] }).select).toBeUndefined();
    });
  });

  describe('$expand', () => {
    it('a comma-separated list; repeats merge; duplicates ignored', () => {
      expect(parseCimiQuery({ $expand: ['volumes, disks', 'volumes', 'networkInterfaces'] }).expand).toEqual([
        'volumes',
        'disks',
        'networkInterfaces',
      ]);
    });

    it("'*' or an empty value expands everything", () => {
      expect(parseCimiQuery({ $expand: '*' }).expand).toEqual(['*']);
      expect(parseCimiQuery({ $expand: '' }).expand).toEqual(['*']);
      expect(parseCimiQuery({ $expand: ['volumes', '*'] }).expand).toEqual(['*']);
    });

    it('absent → undefined', () => {
      expect(parseCimiQuery({}).expand).toBeUndefined();
    });
  });

  describe('$orderby', () => {
    it('default ascending, :asc, :desc, several keys in order', () => {
      expect(parseCimiQuery({ $orderby: 'cpu:desc,memory:asc,name' }).query.orderBy).toEqual([
        { attr: 'cpu', desc: true },
        { attr: 'memory', desc: false },
        { attr: 'name', desc: false },
      ]);
    });

    it('whitespace around items and the colon is tolerated', () => {
      expect(parseCimiQuery({ $orderby: ' cpu : desc , name ' }).query.orderBy).toEqual([
        { attr: 'cpu', desc: true },
        { attr: 'name', desc: false },
      ]);
    });

    it('repeats concatenate; a later key on the same attribute is dropped', () => {
      expect(parseCimiQuery({ $orderby: ['created:desc', 'name,created'] }).query.orderBy).toEqual([
        { attr: 'created', desc: true },
        { attr: 'name', desc: false },
      ]);
    });

    const bad: [string, number, string][] = [
      ['created:down', 8, "expected 'asc' or 'desc'"],
      ['created:DESC', 8, "expected 'asc' or 'desc'"],
      ['name,created:', 13, "expected 'asc' or 'desc'"],
      ['name, created: up', 15, "expected 'asc' or 'desc'"],
      ['created:desc:asc', 8, "expected 'asc' or 'desc'"],
      ['', 0, 'expected an attribute name'],
      ['name,', 5, 'expected an attribute name'],
      ['name,,cpu', 5, 'expected an attribute name'],
      [':desc', 0, 'expected an attribute name'],
      ['name,1cpu', 5, "invalid attribute name '1cpu'"],
      ['name, a-b:desc', 6, "invalid attribute name 'a-b'"],
      ["name';drop", 0, "invalid attribute name 'name';drop'"],
    ];
    it.each(bad)('%j fails at %i (%s)', (value, position, fragment) => {
      const e = errorOf({ $orderby: value });
      expect(e.param).toBe('$orderby');
      expect(e.position).toBe(position);
      expect(e.message).toContain(`$orderby: ${fragment} at position ${position}`);
    });
  });

  describe('$format', () => {
    it('json and xml, case-insensitive', () => {
      expect(parseCimiQuery({ $format: 'json' }).format).toBe('json');
      expect(parseCimiQuery({ $format: 'XML' }).format).toBe('xml');
      expect(parseCimiQuery({ $format: 'Json' }).format).toBe('json');
    });

    it('only the first occurrence counts, even if a later one is invalid', () => {
      expect(parseCimiQuery({ $format: ['xml', 'json'] }).format).toBe('xml');
      expect(parseCimiQuery({ $format: ['json', 'yaml'] }).format).toBe('json');
    });

    it('other values → CimiQueryError on $format (the REST layer answers 406)', () => {
      for (const value of ['yaml', '', 'application/json', 'jsonx']) {
        const e = errorOf({ $format: value });
        expect(e.param).toBe('$format');
        expect(e.code).toBe('QUERY.UNSUPPORTED_FORMAT');
        expect(e.position).toBe(0);
      }
      expect(errorOf({ $format: ['yaml', 'json'] }).message).toBe(
        `$format: unsupported format (expected 'json' or 'xml') at position 0 near "yaml"`,
      );
    });
  });

  it('a non-string value (an object from an extended query parser) is rejected', () => {
    const e = errorOf({ $select: { a: '1' } as unknown as string });
    expect(e.param).toBe('$select');
  });

  it('parameters are looked up as own properties only', () => {
    const params = Object.create({ $filter: 'a=1' }) as CimiQueryParams;
    expect(parseCimiQuery(params)).toStrictEqual({ query: {} });
  });
});
