import { encodedLength, type XmlEncoding } from '../../xml/xml-hardening';

/**
 * Paging of an enumeration (DSP0226 §8.2-8.4, docs/wsman.md §2.2): items come from one or more keyset-ordered
 * segments (a polymorphic enumeration of a CIM base class reads one model collection per subclass, in a fixed
 * order), and a page holds at most MaxElements items AND fits in MaxEnvelopeSize. Pure: the segments' fetch
 * functions do the I/O, the caller renders.
 */

/** Smallest MaxEnvelopeSize a client may ask for (DSP0226 R6.2-4; below it: EncodingLimit MinimumEnvelopeLimit). */
export const MIN_ENVELOPE_SIZE = 8192;
/** MaxElements above this is served as this many (MaxElements is an upper bound, DSP0226 §8.2.3). */
export const MAX_ELEMENTS_CAP = 1000;

/** A single item larger than the whole envelope budget: EncodingLimit, faultDetail MaxEnvelopeSize. */
export class EnvelopeLimitError extends Error {
  constructor(
    readonly itemBytes: number,
    readonly budgetBytes: number,
  ) {
    super(`an item needs ${itemBytes} bytes but the response may hold ${Math.max(0, budgetBytes)} (MaxEnvelopeSize)`);
    this.name = 'EnvelopeLimitError';
  }
}

/** Position after the last item handed out: segment index and the key of that item inside it. */
export interface Cursor {
  s: number;
  after?: string;
}

export interface SegmentPage<T> {
  items: T[];
}

export interface Segment<T> {
  /** the items strictly after `after` in key order, at most `limit` */
  fetch(after: string | undefined, limit: number): Promise<SegmentPage<T>>;
  /** matches in the whole segment (TotalItemsCountEstimate) */
  count(): Promise<number>;
  /** the keyset key of an item */
  keyOf(item: T): string;
}

export interface Candidate<T> {
  segment: number;
  key: string;
  item: T;
}

/**
 * Up to `limit` items after the cursor, crossing into the next segments as each one runs out. `exhausted`:
 * nothing follows the returned items.
 */
export async function collect<T>(segments: readonly Segment<T>[], cursor: Cursor, limit: number): Promise<{ candidates: Candidate<T>[]; exhausted: boolean }> {
  const candidates: Candidate<T>[] = [];
  for (let s = cursor.s; s < segments.length; s++) {
    const want = limit - candidates.length;
    if (want <= 0) return { candidates, exhausted: false };
    const seg = segments[s];
    const { items } = await seg.fetch(s === cursor.s ? cursor.after : undefined, want);
    for (const item of items) candidates.push({ segment: s, key: seg.keyOf(item), item });
    if (items.length >= want) return { candidates, exhausted: false };
  }
  return { candidates, exhausted: true };
}

export interface PageBudget {
  maxElements: number;
  /** bytes the items may take: MaxEnvelopeSize minus the rest of the response envelope */
  itemBytes: number;
  /** the encoding the response travels in (the request's): UTF-16 takes two octets per code unit */
  encoding?: XmlEncoding;
}

/**
 * Takes the longest prefix of `sized` that respects both limits; at least one item, or EnvelopeLimitError when
 * even the first does not fit. `end`: the page holds everything that was left.
 */
export function assemblePage<T>(sized: readonly { item: T; bytes: number }[], exhausted: boolean, budget: PageBudget): { items: T[]; end: boolean } {
  const items: T[] = [];
  let used = 0;
  for (const c of sized) {
    if (items.length >= budget.maxElements) break;
    if (used + c.bytes > budget.itemBytes) {
      if (items.length === 0) throw new EnvelopeLimitError(c.bytes, budget.itemBytes);
      break;
    }
    items.push(c.item);
    used += c.bytes;
  }
  return { items, end: exhausted && items.length === sized.length };
}

/** The UTF-8 size of a rendered item. */
export function utf8Bytes(xml: string): number {
  return encodedLength(xml, 'utf-8');
}

/**
 * One page: collects MaxElements + 1 candidates (the extra one tells whether the sequence ends here), renders
 * them, keeps what fits. Returns the rendered items, the cursor after the last one, and whether the sequence
 * ended.
 */
export async function nextPage<T>(
  segments: readonly Segment<T>[],
  cursor: Cursor,
  budget: PageBudget,
  render: (item: T) => string,
): Promise<{ xml: string[]; cursor: Cursor; end: boolean }> {
  const max = Math.max(1, Math.min(budget.maxElements, MAX_ELEMENTS_CAP));
  const { candidates, exhausted } = await collect(segments, cursor, max + 1);
  const sized = candidates.map((c) => {
    const xml = render(c.item);
    // the size as it will travel, in the response's encoding
    return { item: { c, xml }, bytes: encodedLength(xml, budget.encoding) };
  });
  const page = assemblePage(sized, exhausted, { maxElements: max, itemBytes: budget.itemBytes });
  const last = page.items[page.items.length - 1];
  return {
    xml: page.items.map((p) => p.xml),
    cursor: last ? { s: last.c.segment, after: last.c.key } : cursor,
    end: page.end,
  };
}

/** Sum of the segments' counts (TotalItemsCountEstimate, DSP0226 §8.2.2). */
export async function totalCount<T>(segments: readonly Segment<T>[]): Promise<number> {
  let n = 0;
  for (const s of segments) n += await s.count();
  return n;
}

/** Keyset segment over an in-memory, key-sorted list (association results, computed per request). */
export function listSegment<T>(all: readonly T[], keyOf: (t: T) => string): Segment<T> {
  const sorted = [...all].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  return {
    keyOf,
    count: async () => sorted.length,
    fetch: async (after, limit) => ({ items: sorted.filter((t) => after === undefined || keyOf(t) > after).slice(0, limit) }),
  };
}
