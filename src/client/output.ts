import { esc, type Doc, type JobView } from './protocol';

export type Format = 'table' | 'json' | 'xml';

/** the first of these attribute names an item has is its id / name / state column (CIMI, SOAP, CIM names) */
const COLUMNS = [
  ['id', 'InstanceID', 'DeviceID', 'Id', 'Name'],
  ['name', 'ElementName'],
  ['state', 'CimiState', 'JobState'],
];

function cell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function grid(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

export function table(items: Doc[], select?: string[]): string {
  if (select?.length) return grid([select.map((c) => c.toUpperCase()), ...items.map((i) => select.map((c) => cell(i[c])))]);
  // the id, name and state columns under one heading whatever the protocol calls them
  const picked = COLUMNS.map((names, n) => [['ID', 'NAME', 'STATE'][n], names.find((a) => items.some((i) => a in i))] as const).filter((c): c is readonly [string, string] => !!c[1]);
  if (!picked.length) return grid([['(no items)']]);
  return grid([picked.map(([h]) => h), ...items.map((i) => picked.map(([, a]) => cell(i[a])))]);
}

export function record(doc: Doc): string {
  const keys = Object.keys(doc).filter((k) => k !== 'operations');
  const rows = keys.map((k) => [k, cell(doc[k])]);
  const ops = (doc.operations ?? []) as { rel: string }[];
  if (ops.length) rows.push(['operations', ops.map((o) => o.rel.replace(/^.*\/action\//, '')).join(', ')]);
  return rows.length ? grid(rows) : '(empty)';
}

/** a document as XML when the protocol gave none (names kept, arrays repeated) */
export function toXml(root: string, v: unknown): string {
  const el = (name: string, x: unknown): string => {
    const n = name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^(?![A-Za-z_])/, '_');
    if (Array.isArray(x)) return x.map((i) => el(n, i)).join('');
    if (x !== null && typeof x === 'object') return `<${n}>${Object.entries(x as Doc).map(([k, y]) => el(k, y)).join('')}</${n}>`;
    return x === undefined || x === null ? `<${n}/>` : `<${n}>${esc(String(x))}</${n}>`;
  };
  return el(root, v);
}

export function jobLine(j: JobView): string {
  return `job ${j.id}: ${j.state}${j.progress !== undefined ? ` ${j.progress}%` : ''}${j.message ? ` ${j.message}` : ''}`;
}

/** progress on a terminal (one redrawn bar), plain lines otherwise (one per change) */
export class Progress {
  private last = '';
  constructor(private readonly out: NodeJS.WriteStream) {}
  update(j: JobView, terminal: boolean): void {
    // without a terminal the final state is the command's own output line
    if (terminal && !this.out.isTTY) return;
    const line = jobLine(j);
    if (line === this.last) return;
    this.last = line;
    if (this.out.isTTY) {
      const pct = Math.max(0, Math.min(100, j.progress ?? 0));
      const bar = '#'.repeat(Math.round(pct / 5)).padEnd(20, '.');
      this.out.write(`\r[${bar}] ${String(pct).padStart(3)}% ${j.state.padEnd(9)}`);
    } else this.out.write(`${line}\n`);
  }
  done(): void {
    if (this.out.isTTY && this.last) this.out.write('\n');
  }
}
