/** Timing, statistics and the text table of the benchmark. */

export interface Stats {
  n: number;
  median: number;
  p95: number;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))];
  const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { n: s.length, median: mid, p95: at(0.95) };
}

export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface Variant {
  name: string;
  /** a secondary variant: only 3 repetitions when a round does not fit `minReps` times in the budget */
  secondary?: boolean;
  /** one repetition; may record sub-timings (ms) into `parts` */
  run: (parts: Record<string, number>) => Promise<unknown> | unknown;
}

export interface Measured {
  total: Stats;
  parts: Record<string, Stats>;
}

/**
 * Runs the variants interleaved (A B C, A B C, …) so that drift (page cache, GC, the other core's load) hits
 * them alike. One warm-up round, then as many rounds as fit in `budgetMs` (at least `minReps`, at most
 * `maxReps`; secondary variants drop out after 3 rounds when the rounds are slow).
 */
export async function measure(
  variants: Variant[],
  opts: { maxReps: number; minReps: number; budgetMs: number },
): Promise<Record<string, Measured>> {
  const samples: Record<string, { total: number[]; parts: Record<string, number[]> }> = {};
  for (const v of variants) samples[v.name] = { total: [], parts: {} };
  const t0 = now();
  for (const v of variants) await v.run({});
  const warm = now() - t0;
  const reps = Math.max(
    opts.minReps,
    Math.min(opts.maxReps, Math.floor(opts.budgetMs / Math.max(warm, 0.01))),
  );
  const slow = warm * opts.minReps > opts.budgetMs;
  for (let i = 0; i < reps; i++) {
    for (const v of variants) {
      if (v.secondary && slow && i >= 3) continue;
      const parts: Record<string, number> = {};
      const t0 = now();
      await v.run(parts);
      const dt = now() - t0;
      const s = samples[v.name];
      s.total.push(dt);
      for (const [k, ms] of Object.entries(parts)) (s.parts[k] ??= []).push(ms);
    }
  }
  const out: Record<string, Measured> = {};
  for (const [name, s] of Object.entries(samples)) {
    const parts: Record<string, Stats> = {};
    for (const [k, xs] of Object.entries(s.parts)) parts[k] = stats(xs);
    out[name] = { total: stats(s.total), parts };
  }
  return out;
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms >= 100) return ms.toFixed(0);
  if (ms >= 10) return ms.toFixed(1);
  return ms.toFixed(2);
}

export function fmtRatio(r: number | undefined): string {
  if (r === undefined || !Number.isFinite(r)) return '-';
  return `${r.toFixed(2)}x`;
}

export function mib(kib: number): string {
  return `${(kib / 1024).toFixed(0)} MiB`;
}

/** A plain-text table: left-aligned first column and last column, the others right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const last = header.length - 1;
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === last ? (c ?? '').padEnd(widths[i]) : (c ?? '').padStart(widths[i])))
      .join(' | ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [line(header), sep, ...rows.map(line)].join('\n');
}
