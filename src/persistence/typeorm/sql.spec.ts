import { bindNamed } from './sql';

describe('bindNamed', () => {
  const sql = 'SELECT * FROM t WHERE a = :a AND b = :b AND c::jsonb ? :a2 AND d = :a';

  it('numbers placeholders per engine and binds values in their order, casts left alone', () => {
    expect(bindNamed('postgres', sql, { a: 1, b: 'x', a2: 'k' })).toEqual(['SELECT * FROM t WHERE a = $1 AND b = $2 AND c::jsonb ? $3 AND d = $4', [1, 'x', 'k', 1]]);
    expect(bindNamed('sqlite', sql, { a: true, b: undefined, a2: new Date(5) })).toEqual(['SELECT * FROM t WHERE a = ? AND b = ? AND c::jsonb ? ? AND d = ?', [1, null, 5, 1]]);
  });

  it('reads the values again on every call of a text it has seen, and still refuses a missing one', () => {
    bindNamed('sqlite', sql, { a: 1, b: 2, a2: 3 });
    expect(bindNamed('sqlite', sql, { a: 7, b: 8, a2: 9 })[1]).toEqual([7, 8, 9, 7]);
    expect(() => bindNamed('sqlite', sql, { a: 7, a2: 9 })).toThrow('SQL parameter :b has no value');
    expect(bindNamed('postgres', sql, { a: false, b: 2, a2: 3 })[1]).toEqual([false, 2, 3, false]);
  });

  it('stays correct past the cache size (texts with variable parts)', () => {
    for (let i = 0; i < 2100; i++) expect(bindNamed('sqlite', `SELECT :x${i}, :y`, { [`x${i}`]: i, y: 'y' })).toEqual([`SELECT ?, ?`, [i, 'y']]);
  });
});
