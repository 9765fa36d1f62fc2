/**
 * Protocol-neutral query over a collection: the AST every door builds (CIMI $filter text, SOAP typed filter
 * elements, WS-Man selectors and WQL) and the persistence layer compiles to parameterized SQL.
 */
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';
export type FilterValue = string | number | boolean | Date | null;

export type FilterExpr =
  | { kind: 'and' | 'or'; left: FilterExpr; right: FilterExpr }
  | { kind: 'cmp'; attr: string; op: CompareOp; value: FilterValue }
  | { kind: 'prop'; key: string; op: '=' | '!='; value: string };

export interface OrderBy {
  attr: string;
  desc: boolean;
}

export interface CollectionQuery {
  filter?: FilterExpr;
  orderBy?: OrderBy[];
  /** 1-based inclusive ordinals (DSP0263 2.0.0 §4.1.6.3) */
  first?: number;
  last?: number;
  /** keyset continuation for protocol paging (WS-Man Pull, SOAP list): items strictly after this id in id order */
  after?: string;
}

export interface Page<T> {
  items: T[];
  /** matches before subsetting (DSP0263 2.0.0 §4.1.6.4) */
  count: number;
}

/** Collection page caps (docs/reliability.md rule 4). */
export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** How a filterable attribute compares: text and booleans by equality, numbers and times also by order. */
export type FilterKind = 'string' | 'integer' | 'boolean' | 'dateTime';

/** Filterable common attributes of every resource; type attributes come from its descriptor. */
export const COMMON_FILTER_ATTRS = {
  id: 'string',
  name: 'string',
  description: 'string',
  created: 'dateTime',
  updated: 'dateTime',
  state: 'string',
} as const satisfies Record<string, FilterKind>;

export function and(...exprs: (FilterExpr | undefined)[]): FilterExpr | undefined {
  return exprs.filter((e): e is FilterExpr => !!e).reduce<FilterExpr | undefined>((acc, e) => (acc ? { kind: 'and', left: acc, right: e } : e), undefined);
}
