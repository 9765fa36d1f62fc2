import { assemblePage, collect, EnvelopeLimitError, listSegment, nextPage, totalCount, utf8Bytes, type Cursor, type Segment } from './paging';

const seg = (prefix: string, n: number): Segment<string> => listSegment(Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`), (s) => s);

describe('page assembly', () => {
  const sized = (sizes: number[]) => sizes.map((bytes, i) => ({ item: i, bytes }));

  it('stops at MaxElements', () => {
    expect(assemblePage(sized([10, 10, 10, 10]), false, { maxElements: 2, itemBytes: 1000 })).toEqual({ items: [0, 1], end: false });
  });

  it('stops before the envelope budget would be exceeded', () => {
    expect(assemblePage(sized([40, 40, 40]), true, { maxElements: 10, itemBytes: 100 })).toEqual({ items: [0, 1], end: false });
    expect(assemblePage(sized([40, 60, 1]), true, { maxElements: 10, itemBytes: 100 })).toEqual({ items: [0, 1], end: false });
  });

  it('ends the sequence only when every remaining item was taken', () => {
    expect(assemblePage(sized([1, 1]), true, { maxElements: 5, itemBytes: 100 })).toEqual({ items: [0, 1], end: true });
    expect(assemblePage(sized([1, 1]), false, { maxElements: 5, itemBytes: 100 })).toEqual({ items: [0, 1], end: false });
    expect(assemblePage([], true, { maxElements: 5, itemBytes: 100 })).toEqual({ items: [], end: true });
  });

  it('EncodingLimit when not even one item fits (DSP0226: at least one item per page)', () => {
    expect(() => assemblePage(sized([101]), true, { maxElements: 5, itemBytes: 100 })).toThrow(EnvelopeLimitError);
    expect(() => assemblePage(sized([1]), true, { maxElements: 5, itemBytes: -3 })).toThrow(EnvelopeLimitError);
  });

  it('measures UTF-8 bytes, not characters', () => {
    expect(utf8Bytes('é€')).toBe(5);
  });
});

describe('segments', () => {
  it('collects across segments in order, and knows when nothing follows', async () => {
    const segments = [seg('a', 2), seg('b', 0), seg('c', 3)];
    const r = await collect(segments, { s: 0 }, 4);
    expect(r.candidates.map((c) => c.key)).toEqual(['a0000', 'a0001', 'c0000', 'c0001']);
    expect(r.exhausted).toBe(false);
    const r2 = await collect(segments, { s: 2, after: 'c0001' }, 4);
    expect(r2.candidates.map((c) => [c.segment, c.key])).toEqual([[2, 'c0002']]);
    expect(r2.exhausted).toBe(true);
    expect(await totalCount(segments)).toBe(5);
  });

  it('pages through every item exactly once under both limits, whatever the item sizes', async () => {
    const segments = [seg('m', 37), seg('v', 5), seg('n', 11)];
    const all = ['m', 'v', 'n'].flatMap((p, i) => Array.from({ length: [37, 5, 11][i] }, (_, j) => `${p}${String(j).padStart(4, '0')}`));
    // item size varies; the budget holds 3-4 items, MaxElements 5
    const render = (k: string) => `<i>${k}${'x'.repeat((k.charCodeAt(4) % 7) * 5)}</i>`;
    let cursor: Cursor = { s: 0 };
    const got: string[] = [];
    for (let pages = 0; pages < 100; pages++) {
      const p = await nextPage(segments, cursor, { maxElements: 5, itemBytes: 150 }, render);
      expect(p.xml.length).toBeGreaterThan(0);
      expect(p.xml.length).toBeLessThanOrEqual(5);
      expect(p.xml.reduce((n, x) => n + utf8Bytes(x), 0)).toBeLessThanOrEqual(150);
      got.push(...p.xml.map((x) => x.slice(3, 8)));
      cursor = p.cursor;
      if (p.end) break;
    }
    expect(got).toEqual(all);
  });

  it('an exact fit ends with the last item (the extra candidate tells)', async () => {
    const p = await nextPage([seg('a', 3)], { s: 0 }, { maxElements: 3, itemBytes: 1000 }, (k) => k);
    expect(p).toEqual({ xml: ['a0000', 'a0001', 'a0002'], cursor: { s: 0, after: 'a0002' }, end: true });
    const q = await nextPage([seg('a', 4)], { s: 0 }, { maxElements: 3, itemBytes: 1000 }, (k) => k);
    expect(q.end).toBe(false);
  });
});
