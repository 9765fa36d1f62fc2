/**
 * What every protocol client of the `cimi` CLI offers (README "The cimi client"): the same commands through REST, SOAP and
 * WS-Man. A client knows only its protocol and what the endpoint publishes (CEP hrefs and operations, the WSDL's
 * operations, the CIM classes); it never imports the gateway's code (client-imports.spec.ts).
 */
export type Doc = Record<string, any>;

/** exit codes of `cimi` (README, `cimi --help`) */
export const EXIT = { ok: 0, usage: 1, notFound: 2, auth: 3, failed: 4, transport: 5 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly exit: ExitCode,
    message: string,
  ) {
    super(message);
  }
}

/** CIMI query options (DSP0263 2.0.0 §4.1.6); each protocol maps what it can and says what it cannot */
export interface Query {
  filter?: string;
  select?: string[];
  orderby?: string;
  first?: number;
  last?: number;
}

/** a Job as the CLI shows and follows it, whatever the protocol */
export interface JobView {
  id: string;
  state: string;
  progress?: number;
  message?: string;
  /** the protocol's handle to read it again */
  handle: unknown;
  doc: Doc;
}

export interface Result {
  doc?: Doc;
  /** the wire representation, for --output xml */
  xml?: string;
  job?: JobView;
}

export interface CreateInput {
  name?: string;
  description?: string;
  config?: string;
  image?: string;
  template?: string;
  /** a protocol-specific body given by the user (REST: JSON) */
  body?: Doc;
}

export interface ProtocolClient {
  /** discovery: the entry point (REST CEP, SOAP service, WS-Man Identify) with the collections it offers */
  cep(wantXml: boolean): Promise<Result>;
  metadata(collection?: string): Promise<Result>;
  list(collection: string, q: Query, wantXml: boolean): Promise<Result & { items: Doc[]; count?: number }>;
  get(collection: string, ref: string, wantXml: boolean): Promise<Result>;
  create(collection: string, input: CreateInput): Promise<Result>;
  update(collection: string, ref: string, changes: { name?: string; description?: string }): Promise<Result>;
  delete(collection: string, ref: string): Promise<Result>;
  action(collection: string, ref: string, action: string): Promise<Result>;
  /** reads a Job again */
  job(job: JobView): Promise<JobView>;
}

export const TERMINAL = ['SUCCESS', 'FAILED', 'STOPPED'];

/** one HTTP exchange; a socket or DNS failure is exit 5 */
export async function send(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new CliError(EXIT.transport, `cannot reach ${url}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
}

/** the singular/plural word a user types (`machine`, `machines`) matched against a collection name */
export function sameCollection(word: string, name: string): boolean {
  const w = word.toLowerCase();
  const n = name.toLowerCase();
  return w === n || `${w}s` === n || `${w}es` === n || (w.endsWith('y') && `${w.slice(0, -1)}ies` === n);
}

/**
 * The subset of CIMI `$filter` (DSP0263 2.0.0 §4.1.6.1) that SOAP's typed filter and WQL can carry: conditions
 * joined all by `and` or all by `or`, `attr op literal` or `property['k']='v'`.
 */
export interface Condition {
  attribute: string;
  property?: boolean;
  op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
  value: string | number | boolean;
  kind: 'string' | 'int' | 'boolean' | 'date';
}

const OPS: Record<string, Condition['op']> = { '=': 'eq', '!=': 'ne', '<': 'lt', '<=': 'le', '>': 'gt', '>=': 'ge' };

export function parseFilter(filter: string): { combine: 'all' | 'any'; conditions: Condition[] } {
  const tokens = filter.match(/\s*(property\['(?:[^']|'')*'\]|'(?:[^']|'')*'|<=|>=|!=|[<>=()]|[^\s<>=!()']+)/g);
  if (!tokens || tokens.join('').replace(/\s/g, '') !== filter.replace(/\s/g, '')) throw new CliError(EXIT.usage, `cannot read --filter ${filter}`);
  const t = tokens.map((x) => x.trim());
  if (t.includes('(') || t.includes(')')) throw new CliError(EXIT.usage, 'this protocol takes --filter without parentheses');
  const conditions: Condition[] = [];
  let combine: 'all' | 'any' | undefined;
  for (let i = 0; i < t.length; ) {
    const [a, o, v] = [t[i], t[i + 1], t[i + 2]];
    if (!a || !o || !v || !(o in OPS)) throw new CliError(EXIT.usage, `cannot read --filter near "${t.slice(i).join(' ')}"`);
    const prop = /^property\['(.*)'\]$/.exec(a);
    let value: Condition['value'];
    let kind: Condition['kind'];
    if (v.startsWith("'")) {
      value = v.slice(1, -1).replace(/''/g, "'");
      kind = /^\d{4}-\d\d-\d\dT/.test(value) ? 'date' : 'string';
    } else if (/^-?\d+$/.test(v)) [value, kind] = [Number(v), 'int'];
    else if (v === 'true' || v === 'false') [value, kind] = [v === 'true', 'boolean'];
    else throw new CliError(EXIT.usage, `--filter: ${v} is not a literal`);
    conditions.push({ attribute: prop ? prop[1].replace(/''/g, "'") : a, property: !!prop, op: OPS[o], value, kind });
    i += 3;
    if (i < t.length) {
      const j = t[i].toLowerCase() === 'and' ? 'all' : t[i].toLowerCase() === 'or' ? 'any' : undefined;
      if (!j || (combine && combine !== j)) throw new CliError(EXIT.usage, 'this protocol takes --filter conditions joined all by "and" or all by "or"');
      combine = j;
      i += 1;
    }
  }
  return { combine: combine ?? 'all', conditions };
}

/** `$orderby=attr[:asc|:desc],…` (DSP0263 2.0.0 §4.1.6.6) */
export function parseOrderBy(orderby: string): { attribute: string; descending: boolean }[] {
  return orderby.split(',').map((s) => {
    const [attribute, dir] = s.trim().split(':');
    if (!attribute || (dir && dir !== 'asc' && dir !== 'desc')) throw new CliError(EXIT.usage, `cannot read --orderby ${orderby}`);
    return { attribute, descending: dir === 'desc' };
  });
}

/** client-side query for protocols that lack an option (WS-Man ordering and paging, SOAP/WS-Man $select) */
export function applyClientSide(items: Doc[], q: Query, opts: { order?: boolean; page?: boolean }): Doc[] {
  let out = items;
  if (opts.order && q.orderby) {
    const keys = parseOrderBy(q.orderby);
    out = [...out].sort((a, b) => {
      for (const k of keys) {
        const [x, y] = [a[k.attribute], b[k.attribute]];
        const c = x === y ? 0 : x === undefined ? 1 : y === undefined ? -1 : typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        if (c) return k.descending ? -c : c;
      }
      return 0;
    });
  }
  if (opts.page && (q.first || q.last)) out = out.slice((q.first ?? 1) - 1, q.last ?? out.length);
  return out;
}

export function project(doc: Doc, select?: string[]): Doc {
  if (!select?.length) return doc;
  const out: Doc = {};
  for (const k of select) if (k in doc) out[k] = doc[k];
  return out;
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
