import { parseWql, toFilterExpr, WqlError, type WqlPropertyResolver } from './wql';

const MACHINE_STATES: Record<number, string[]> = { 2: ['STARTED'], 3: ['STOPPED'], 1: ['CREATING', 'DELETING'] };

/** a resolver shaped like the catalogue's for CIM_ComputerSystem */
const resolve: WqlPropertyResolver = (p) => {
  switch (p.toLowerCase()) {
    case 'name':
      return { attr: 'id' };
    case 'elementname':
      return { attr: 'name' };
    case 'creationclassname':
      return { constant: 'CIM_ComputerSystem' };
    case 'numberofprocessors':
      return { attr: 'cpu', ordered: true };
    case 'enabledstate':
      return { attr: 'state', toModel: (v) => (typeof v === 'number' ? (MACHINE_STATES[v] ?? []) : []) };
    default:
      return undefined;
  }
};

const where = (q: string) => toFilterExpr(parseWql(q), resolve);

describe('WQL/CQL subset parser', () => {
  it('parses the captured CQL and WQL queries (docs/wsman.md §2.3, capture 05)', () => {
    expect(parseWql("select * from CIM_ComputerSystem where Name='vm-1'")).toEqual({
      select: '*',
      from: 'CIM_ComputerSystem',
      where: { kind: 'cmp', property: 'Name', op: '=', value: 'vm-1' },
    });
    expect(parseWql('SELECT * FROM CIM_ComputerSystem WHERE EnabledState=2').where).toEqual({ kind: 'cmp', property: 'EnabledState', op: '=', value: 2 });
    expect(parseWql('select * from CIM_ComputerSystem')).toEqual({ select: '*', from: 'CIM_ComputerSystem', where: undefined });
  });

  it('builds AND before OR, honours parentheses, NOT, IS [NOT] NULL and literal-first comparisons', () => {
    const q = parseWql("select * from C where a = 1 or b <> 'x' and (c >= 2.5 or not d is null) and 3 < e and f is not null");
    expect(q.where).toEqual({
      kind: 'or',
      left: { kind: 'cmp', property: 'a', op: '=', value: 1 },
      right: {
        kind: 'and',
        left: {
          kind: 'and',
          left: {
            kind: 'and',
            left: { kind: 'cmp', property: 'b', op: '!=', value: 'x' },
            right: { kind: 'or', left: { kind: 'cmp', property: 'c', op: '>=', value: 2.5 }, right: { kind: 'not', operand: { kind: 'cmp', property: 'd', op: '=', value: null } } },
          },
          right: { kind: 'cmp', property: 'e', op: '>', value: 3 },
        },
        right: { kind: 'cmp', property: 'f', op: '!=', value: null },
      },
    });
  });

  it('reads string literals with doubled quotes, double-quoted strings, booleans, negative numbers, != and <>', () => {
    expect(parseWql("select * from C where n = 'it''s'").where).toMatchObject({ value: "it's" });
    expect(parseWql('select * from C where n = "a b"').where).toMatchObject({ value: 'a b' });
    expect(parseWql('select * from C where n = TRUE').where).toMatchObject({ value: true });
    expect(parseWql('select * from C where n=-42').where).toMatchObject({ value: -42 });
    expect(parseWql('select * from C where n!=1').where).toMatchObject({ op: '!=' });
    expect(parseWql('select * from C where n<>1').where).toMatchObject({ op: '!=' });
    expect(parseWql("select * from C where n like 'a%'").where).toEqual({ kind: 'like', property: 'n', pattern: 'a%' });
    expect(parseWql('select Name, ElementName from C').select).toEqual(['Name', 'ElementName']);
  });

  it.each([
    ['', 'empty'],
    ['select from C', 'property'],
    ['select * C', 'FROM'],
    ['select * from', 'class name'],
    ["select * from C where Name = 'x", 'unterminated'],
    ['select * from C where Name =', 'literal'],
    ['select * from C where Name', 'operator'],
    ['select * from C where (Name = 1', ')'],
    ['select * from C where Name = 1 garbage', 'unexpected text'],
    ['select * from C where Name == 1', 'literal'],
    ['select * from C where Name = 12abc', 'bad number'],
    ['select * from C where Name ~ 1', 'unexpected character'],
    ['select * from C where 1 = 2', 'property name'],
    ['select * from C where Name = 99999999999999999999', 'out of range'],
    ['select * from C where ' + '('.repeat(40) + 'a=1' + ')'.repeat(40), 'deeper'],
    ['select * from C where a=1' + ' and a=1'.repeat(600), 'longer'],
  ])('rejects query %#', (text, why) => {
    expect(() => parseWql(text)).toThrow(WqlError);
    expect(() => parseWql(text)).toThrow(new RegExp(why.replace(/[()]/g, '\\$&'), 'i'));
  });

  it('gives invalid-input errors with the code the enumeration maps to CannotProcessFilter', () => {
    try {
      parseWql('select');
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(WqlError);
      expect((e as WqlError).kind).toBe('invalid-input');
      expect((e as WqlError).code).toBe('QUERY.INVALID_FILTER');
    }
  });
});

describe('WQL -> FilterExpr', () => {
  it('maps properties through the resolver, case-insensitively', () => {
    expect(where("select * from CIM_ComputerSystem where name='vm-1' AND ElementName <> 'x'")).toEqual({
      match: 'filter',
      filter: { kind: 'and', left: { kind: 'cmp', attr: 'id', op: '=', value: 'vm-1' }, right: { kind: 'cmp', attr: 'name', op: '!=', value: 'x' } },
    });
  });

  it('turns an enumerated value standing for several model values into an OR (=) or an AND (!=)', () => {
    expect(where('select * from C where EnabledState = 1')).toEqual({
      match: 'filter',
      filter: { kind: 'or', left: { kind: 'cmp', attr: 'state', op: '=', value: 'CREATING' }, right: { kind: 'cmp', attr: 'state', op: '=', value: 'DELETING' } },
    });
    expect(where('select * from C where EnabledState != 1')).toEqual({
      match: 'filter',
      filter: { kind: 'and', left: { kind: 'cmp', attr: 'state', op: '!=', value: 'CREATING' }, right: { kind: 'cmp', attr: 'state', op: '!=', value: 'DELETING' } },
    });
    // a value no model state has: nothing matches (=), everything matches (!=)
    expect(where('select * from C where EnabledState = 77')).toEqual({ match: 'none' });
    expect(where('select * from C where EnabledState != 77')).toEqual({ match: 'all' });
  });

  it('decides constant properties without the database and simplifies', () => {
    expect(where("select * from C where CreationClassName = 'cim_computersystem'")).toEqual({ match: 'all' });
    expect(where("select * from C where CreationClassName = 'Other'")).toEqual({ match: 'none' });
    expect(where("select * from C where CreationClassName = 'Other' or Name = 'a'")).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'id', op: '=', value: 'a' } });
    expect(where("select * from C where CreationClassName = 'CIM_ComputerSystem' and Name = 'a'")).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'id', op: '=', value: 'a' } });
  });

  it('pushes NOT down to the comparisons (De Morgan)', () => {
    expect(where("select * from C where not (Name = 'a' or NumberOfProcessors < 4)")).toEqual({
      match: 'filter',
      filter: { kind: 'and', left: { kind: 'cmp', attr: 'id', op: '!=', value: 'a' }, right: { kind: 'cmp', attr: 'cpu', op: '>=', value: 4 } },
    });
    expect(where('select * from C where not not NumberOfProcessors > 2')).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'cpu', op: '>', value: 2 } });
  });

  it('maps IS NULL / IS NOT NULL to null comparisons', () => {
    expect(where('select * from C where ElementName is null')).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'name', op: '=', value: null } });
    expect(where('select * from C where ElementName is not null')).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'name', op: '!=', value: null } });
  });

  it.each([
    ["select * from C where Nope = 'a'", 'not a filterable property'],
    ["select * from C where Name < 'a'", 'operator <'],
    ['select * from C where EnabledState > 1', 'operator >'],
    ["select * from C where Name like 'a%'", 'LIKE'],
    ['select Name from C', 'SELECT \\*'],
    ['select * from C where NumberOfProcessors > null', 'NULL'],
  ])('rejects %j', (text, why) => {
    expect(() => where(text)).toThrow(WqlError);
    expect(() => where(text)).toThrow(new RegExp(why));
  });
});
