import { InvalidInputError } from '../../model/shared/model-error';
import {
  COMMON_FILTER_ATTRS,
  type CollectionQuery,
  type CompareOp,
  type FilterExpr,
  type FilterKind,
  type FilterValue,
  type OrderBy,
} from '../../model/shared/query';
import { JOB_FILTER_ATTRS } from '../../model/job/job';
import type { ResourceType } from '../../model/shared/resource';
import { descriptorOf } from '../../model/shared/resource-types';
import type { Dialect } from './data-source';
import type { Params } from './sql';

/**
 * Compiles the model's CollectionQuery (FilterExpr AST, orderBy, first/last, after) into parameterized SQL for
 * one resource type on the `resource` table, or for the `job` table.
 *
 * Two rules make it injection-proof: every value is a bound parameter (`:p0`, `:p1`, …), and every attribute is
 * looked up in an allow-list (common attributes map to columns, the type's descriptor attributes to a JSON
 * extraction whose attribute name comes from the descriptor, never from the query).
 */

type ValueKind = FilterKind;

export interface AttrColumn {
  /** SQL expression (a column, or a JSON extraction) */
  expr: string;
  kind: ValueKind;
}

export interface QueryTarget {
  /** table alias the expressions use */
  readonly alias: string;
  /** what `properties` filters read (the JSON map column) */
  readonly propertiesColumn: string;
  /** the stable tie-breaker and keyset column */
  readonly idColumn: string;
  /** default order */
  readonly defaultOrder: string[];
  attr(name: string): AttrColumn | undefined;
}

/** Most comparisons one filter may hold: bounds the SQL and the parameter count (engines cap both). */
export const MAX_FILTER_TERMS = 200;

const SAFE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** JSON extraction of one top-level attribute of the `attrs` column, typed per dialect. */
export function jsonAttr(dialect: Dialect, column: string, name: string, kind: ValueKind): string {
  if (!SAFE_NAME.test(name)) throw new Error(`attribute name ${name} is not a plain identifier`);
  if (dialect === 'sqlite') return `json_extract(${column}, '$.${name}')`;
  const node = `(${column}::jsonb -> '${name}')`;
  const text = `(${column}::jsonb ->> '${name}')`;
  switch (kind) {
    case 'integer':
      return `(CASE WHEN jsonb_typeof(${node}) = 'number' THEN ${text}::numeric END)`;
    case 'boolean':
      return `(CASE WHEN jsonb_typeof(${node}) = 'boolean' THEN ${text}::boolean END)`;
    default:
      return text;
  }
}

/** sort keys declared NOT NULL in the migration */
const NOT_NULL = /(^|\.)(id|created_ms|updated_ms|status_changed_ms)$/;

/** the columns of the common attributes, in the resource and job tables alike */
const COMMON_COLUMNS: Record<keyof typeof COMMON_FILTER_ATTRS, string> = {
  id: 'id',
  name: 'name',
  description: 'description',
  created: 'created_ms',
  updated: 'updated_ms',
  state: 'state',
};

/** The filterable attributes of one resource type: the common ones, then its string/integer/boolean/uri attrs. */
export function resourceTarget(dialect: Dialect, type: ResourceType, alias = 'r'): QueryTarget {
  const descriptor = descriptorOf(type);
  const typed = new Map<string, ValueKind>();
  for (const a of descriptor.attrs) {
    if (a.secret) continue;
    if (a.kind === 'string' || a.kind === 'uri') typed.set(a.name, 'string');
    else if (a.kind === 'integer') typed.set(a.name, 'integer');
    else if (a.kind === 'boolean') typed.set(a.name, 'boolean');
  }
  const declared = new Set(descriptor.attrs.map((a) => a.name));
  return {
    alias,
    propertiesColumn: `${alias}.properties`,
    idColumn: `${alias}.id`,
    defaultOrder: [`${alias}.created_ms ASC`, `${alias}.id ASC`],
    attr(name) {
      // a type attribute that shadows a common one (MachineNetworkInterface.state) lives in attrs
      const common = (COMMON_FILTER_ATTRS as Readonly<Record<string, FilterKind>>)[name];
      if (
        common &&
        !declared.has(name) &&
        Object.prototype.hasOwnProperty.call(COMMON_COLUMNS, name)
      ) {
        return { expr: `${alias}.${COMMON_COLUMNS[name as keyof typeof COMMON_COLUMNS]}`, kind: common };
      }
      const kind = typed.get(name);
      if (kind) {
        return { expr: jsonAttr(dialect, `${alias}.attrs`, name, kind), kind };
      }
      return undefined;
    },
  };
}

/** A store's columns for a model's filterable attributes: one SQL expression for exactly each of the model's names. */
export function modelColumns<K extends string>(kinds: Readonly<Record<K, ValueKind>>, exprs: Readonly<Record<K, string>>): Record<string, AttrColumn> {
  return Object.fromEntries((Object.keys(kinds) as K[]).map((k) => [k, { expr: exprs[k], kind: kinds[k] }]));
}

const JOB_COLUMNS = modelColumns(JOB_FILTER_ATTRS, {
  ...COMMON_COLUMNS,
  action: 'action',
  progress: 'progress',
  returnCode: 'return_code',
  timeOfStatusChange: 'status_changed_ms',
  parentJob: 'parent_job_id',
  targetResource: 'target_id',
  correlationId: 'correlation_id',
});

/** A target whose filterable attributes are all real columns of one table (Jobs, audit records, Events). */
export function columnTarget(alias: string, columns: Readonly<Record<string, AttrColumn>>, opts: { orderBy: string[]; propertiesColumn: string }): QueryTarget {
  return {
    alias,
    propertiesColumn: `${alias}.${opts.propertiesColumn}`,
    idColumn: `${alias}.id`,
    defaultOrder: opts.orderBy.map((o) => `${alias}.${o}`),
    attr(name) {
      if (!Object.prototype.hasOwnProperty.call(columns, name)) return undefined;
      return { expr: `${alias}.${columns[name].expr}`, kind: columns[name].kind };
    },
  };
}

/** The filterable attributes of Jobs. */
export function jobTarget(alias = 'j'): QueryTarget {
  return columnTarget(alias, JOB_COLUMNS, { orderBy: ['created_ms ASC', 'id ASC'], propertiesColumn: 'properties' });
}

export interface CompiledQuery {
  /** filter condition (without keyset), or undefined for none */
  filter?: string;
  /** keyset condition from `after` */
  keyset?: string;
  orderBy: string;
  /** LIMIT/OFFSET clause (may be empty) */
  limit: string;
  /** the named parameters the fragments use */
  params: Params;
}

const SQL_OPS: Record<CompareOp, string> = {
  '=': '=',
  '!=': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

export class FilterCompiler {
  private n = 0;
  private terms = 0;

  constructor(
    private readonly dialect: Dialect,
    private readonly target: QueryTarget,
    readonly params: Params = {},
    private readonly prefix = 'p',
  ) {}

  /** binds a value and returns its placeholder */
  bind(value: unknown): string {
    const name = `${this.prefix}${this.n++}`;
    this.params[name] = value;
    return `:${name}`;
  }

  compile(query: CollectionQuery): CompiledQuery {
    const filter = query.filter ? this.filter(query.filter) : undefined;
    const keyset =
      query.after !== undefined ? `${this.target.idColumn} > ${this.bind(String(query.after))}` : undefined;
    const orderBy = query.after !== undefined ? `${this.target.idColumn} ASC` : this.order(query.orderBy);
    return { filter, keyset, orderBy, limit: this.limit(query.first, query.last), params: this.params };
  }

  filter(e: FilterExpr): string {
    switch (e.kind) {
      case 'and':
      case 'or':
        return `(${this.filter(e.left)} ${e.kind === 'and' ? 'AND' : 'OR'} ${this.filter(e.right)})`;
      case 'prop':
        return this.prop(e.key, e.op, e.value);
      case 'cmp':
        return this.cmp(e.attr, e.op, e.value);
      default:
        throw new InvalidInputError(`unsupported filter expression`, 'filter', 'QUERY.INVALID_FILTER');
    }
  }

  order(orderBy: readonly OrderBy[] | undefined): string {
    if (!orderBy || orderBy.length === 0) return this.target.defaultOrder.join(', ');
    const parts: string[] = [];
    let hasId = false;
    for (const o of orderBy) {
      const a = this.resolve(o.attr);
      if (a.expr === this.target.idColumn) hasId = true;
      // NULLS clauses only where a key can be NULL: on NOT NULL keys PostgreSQL would not match them to a plain
      // index and would sort the whole collection (bench: 292 ms -> 0.9 ms for a newest-first page at 10^6 rows)
      parts.push(NOT_NULL.test(a.expr) ? `${a.expr} ${o.desc ? 'DESC' : 'ASC'}` : `${a.expr} ${o.desc ? 'DESC NULLS LAST' : 'ASC NULLS FIRST'}`);
    }
    // a stable order whatever the sort keys: ties are broken by id
    if (!hasId) parts.push(`${this.target.idColumn} ASC`);
    return parts.join(', ');
  }

  /** DSP0263 §4.1.6.3: 1-based inclusive ordinals `first`..`last` */
  limit(first: number | undefined, last: number | undefined): string {
    const check = (v: number | undefined, name: string) => {
      if (v !== undefined && (!Number.isInteger(v) || v < 1))
        throw new InvalidInputError(`${name} must be a positive integer`, name, 'QUERY.INVALID_RANGE');
    };
    check(first, 'first');
    check(last, 'last');
    if (first === undefined && last === undefined) return '';
    const from = first ?? 1;
    const offset = from - 1;
    if (last === undefined) {
      if (offset === 0) return '';
      return this.dialect === 'sqlite'
        ? `LIMIT -1 OFFSET ${this.bind(offset)}`
        : `OFFSET ${this.bind(offset)}`;
    }
    const count = Math.max(0, last - from + 1);
    return `LIMIT ${this.bind(count)} OFFSET ${this.bind(offset)}`;
  }

  private countTerm(): void {
    if (++this.terms > MAX_FILTER_TERMS) {
      throw new InvalidInputError(
        `filter has more than ${MAX_FILTER_TERMS} comparisons`,
        'filter',
        'QUERY.TOO_COMPLEX',
      );
    }
  }

  private resolve(attr: string): AttrColumn {
    const a = typeof attr === 'string' ? this.target.attr(attr) : undefined;
    if (!a)
      throw new InvalidInputError(
        `unknown or unfilterable attribute ${String(attr).slice(0, 64)}`,
        String(attr).slice(0, 64),
        'QUERY.UNKNOWN_ATTRIBUTE',
      );
    return a;
  }

  private prop(key: string, op: '=' | '!=', value: string): string {
    this.countTerm();
    if (typeof key !== 'string')
      throw new InvalidInputError('property filter needs a key', 'property', 'QUERY.INVALID_FILTER');
    if (op !== '=' && op !== '!=')
      throw new InvalidInputError(
        `operator ${String(op)} is not allowed on properties`,
        'property',
        'QUERY.INVALID_OPERATOR',
      );
    if (value === null || value === undefined) {
      const expr = this.propExpr(key);
      return op === '=' ? `${expr} IS NULL` : `${expr} IS NOT NULL`;
    }
    const v = this.bind(String(value));
    const expr = this.propExpr(key);
    return op === '=' ? `${expr} = ${v}` : `(${expr} IS NULL OR ${expr} <> ${v})`;
  }

  /** the value of key `key` in the properties map; the key is a bound parameter too */
  private propExpr(key: string): string {
    const col = this.target.propertiesColumn;
    if (this.dialect === 'sqlite') {
      const path = `$."${key.replace(/["\\]/g, (c) => `\\${c}`)}"`;
      return `json_extract(${col}, ${this.bind(path)})`;
    }
    return `(${col}::jsonb ->> CAST(${this.bind(key)} AS TEXT))`;
  }

  private cmp(attr: string, op: CompareOp, value: FilterValue): string {
    this.countTerm();
    const a = this.resolve(attr);
    const sqlOp = Object.prototype.hasOwnProperty.call(SQL_OPS, op) ? SQL_OPS[op] : undefined;
    if (!sqlOp) throw new InvalidInputError(`unknown operator ${String(op)}`, attr, 'QUERY.INVALID_OPERATOR');
    if (value === null || value === undefined) {
      if (op === '=') return `${a.expr} IS NULL`;
      if (op === '!=') return `${a.expr} IS NOT NULL`;
      throw new InvalidInputError(
        `${attr} ${op} null is not a valid comparison`,
        attr,
        'QUERY.INVALID_OPERATOR',
      );
    }
    if ((a.kind === 'string' || a.kind === 'boolean') && op !== '=' && op !== '!=') {
      throw new InvalidInputError(
        `operator ${op} is not allowed on ${a.kind} attribute ${attr}`,
        attr,
        'QUERY.INVALID_OPERATOR',
      );
    }
    let p = this.bind(this.coerce(attr, a.kind, value));
    // PostgreSQL infers a parameter's type from the other operand: make numbers numeric whatever the column
    if (this.dialect === 'postgres' && a.kind === 'integer') p = `CAST(${p} AS NUMERIC)`;
    if (op === '!=') return `(${a.expr} IS NULL OR ${a.expr} <> ${p})`;
    return `${a.expr} ${sqlOp} ${p}`;
  }

  private coerce(
    attr: string,
    kind: ValueKind,
    value: Exclude<FilterValue, null>,
  ): string | number | boolean {
    const bad = () =>
      new InvalidInputError(
        `${attr} is ${kind === 'integer' ? 'an integer' : `a ${kind}`}; ${JSON.stringify(value)?.slice(0, 64)} does not compare with it`,
        attr,
        'QUERY.INVALID_VALUE',
      );
    switch (kind) {
      case 'string':
        if (value instanceof Date) return value.toISOString();
        return String(value);
      case 'integer': {
        const n =
          typeof value === 'number'
            ? value
            : typeof value === 'string' && value.trim() !== ''
              ? Number(value)
              : NaN;
        if (!Number.isFinite(n)) throw bad();
        return n;
      }
      case 'boolean':
        if (typeof value === 'boolean') return value;
        if (value === 'true' || value === 'false') return value === 'true';
        throw bad();
      case 'dateTime': {
        const ms =
          value instanceof Date
            ? value.getTime()
            : typeof value === 'number'
              ? value
              : typeof value === 'string'
                ? Date.parse(value)
                : NaN;
        if (!Number.isFinite(ms)) throw bad();
        return Math.trunc(ms);
      }
    }
  }
}

/** Compiles a collection query for `target`, with parameter names `p0`, `p1`, … added to `params`. */
export function compileCollectionQuery(
  dialect: Dialect,
  target: QueryTarget,
  query: CollectionQuery,
  params: Params = {},
): CompiledQuery {
  return new FilterCompiler(dialect, target, params).compile(query);
}
