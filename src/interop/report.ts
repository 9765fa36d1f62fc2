import type { CheckResult, Exchange, Protocol, Verdict } from './check';

/** what a run was: against what, when, and every check's result */
export interface InteropRun {
  endpoint: string;
  started: Date;
  ms: number;
  results: CheckResult[];
  /** resources the cleanup could not remove */
  leftBehind: string[];
}

const VERDICTS: Verdict[] = ['pass', 'fail', 'skip'];
/** fixed colours: the report test finds them in the screenshot */
export const COLOURS: Record<Verdict, string> = { pass: '#2e7d32', fail: '#c62828', skip: '#9e9e9e' };

export function tally(results: CheckResult[]): Record<Verdict, number> {
  const t = { pass: 0, fail: 0, skip: 0 };
  for (const r of results) t[r.verdict]++;
  return t;
}

const x = (s: unknown) => String(s ?? '').replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);
// XML 1.0 forbids most C0 controls even as references: a report of a broken endpoint must still parse
const xml = (s: unknown) => x(s).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '\uFFFD');

/** JUnit XML (the Ant/Jenkins schema CI systems read): one testsuite per protocol, one testcase per check */
export function junitXml(run: InteropRun): string {
  const suites = groups(run.results).map(([protocol, rs]) => {
    const t = tally(rs);
    const cases = rs.map((r) => {
      const inner =
        r.verdict === 'fail'
          ? `<failure message="${xml(`expected ${r.expected}; got ${r.actual}`)}" type="${xml(r.clause)}">${xml(exchangesText(r.exchanges))}</failure>`
          : r.verdict === 'skip'
            ? `<skipped message="${xml(r.reason)}"/>`
            : '';
      return `    <testcase classname="interop.${protocol}" name="${xml(`${r.id}: ${r.title} (${r.clause})`)}" time="${(r.ms / 1000).toFixed(3)}">${inner}</testcase>`;
    });
    const ms = rs.reduce((a, r) => a + r.ms, 0);
    return `  <testsuite name="interop.${protocol}" tests="${rs.length}" failures="${t.fail}" errors="0" skipped="${t.skip}" time="${(ms / 1000).toFixed(3)}" timestamp="${run.started.toISOString().slice(0, 19)}" hostname="${xml(run.endpoint)}">\n${cases.join('\n')}\n  </testsuite>`;
  });
  const t = tally(run.results);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="cimi interop ${xml(run.endpoint)}" tests="${run.results.length}" failures="${t.fail}" errors="0" skipped="${t.skip}" time="${(run.ms / 1000).toFixed(3)}">\n${suites.join('\n')}\n</testsuites>\n`;
}

/** One self-contained HTML page: a bar chart per protocol (inline SVG, no script), every check, each failing exchange. */
export function htmlReport(run: InteropRun): string {
  const g = groups(run.results);
  const chart = (protocol: Protocol, rs: CheckResult[]) => {
    const t = tally(rs);
    const w = 360;
    let at = 0;
    const bars = VERDICTS.filter((v) => t[v]).map((v) => {
      const bw = Math.max(2, Math.round((t[v] / rs.length) * w));
      const rect = `<rect class="bar-${v}" x="${at}" y="24" width="${bw}" height="28" fill="${COLOURS[v]}"><title>${v}: ${t[v]}</title></rect>`;
      at += bw;
      return rect;
    });
    return `<figure class="chart" data-protocol="${protocol}"><svg xmlns="http://www.w3.org/2000/svg" width="${w + 4}" height="60" role="img" aria-label="${protocol}: ${t.pass} pass, ${t.fail} fail, ${t.skip} skip"><text x="0" y="16" font-size="14" font-family="sans-serif">${protocol.toUpperCase()}: ${t.pass} pass · ${t.fail} fail · ${t.skip} skip</text>${bars.join('')}</svg></figure>`;
  };
  const rows = run.results.map(
    (r) =>
      `<tr class="${r.verdict}"><td><span class="v" style="background:${COLOURS[r.verdict]}">${r.verdict}</span></td><td>${x(r.protocol)}</td><td><code>${x(r.id)}</code></td><td>${x(r.title)}</td><td>${x(r.clause)}</td><td>${r.verdict === 'fail' ? `expected ${x(r.expected)}<br>got <b>${x(r.actual)}</b>` : x(r.reason ?? '')}</td><td>${r.ms} ms</td></tr>`,
  );
  const failures = run.results
    .filter((r) => r.verdict === 'fail')
    .map((r) => `<section class="failure"><h3><code>${x(r.id)}</code> — ${x(r.title)} (${x(r.clause)})</h3><p>expected ${x(r.expected)}; got <b>${x(r.actual)}</b></p>${r.exchanges.map((e, i) => `<details${i === r.exchanges.length - 1 ? ' open' : ''}><summary>${x(e.method)} ${x(e.url)} → ${e.status ?? x(e.error)}</summary><pre>${x(exchangeText(e))}</pre></details>`).join('')}</section>`);
  const t = tally(run.results);
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cimi interop: ${x(run.endpoint)}</title>
<style>
body{font-family:sans-serif;margin:24px;color:#212121}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #616161;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#e0e0e0}
.v{color:#fff;padding:1px 6px;border-radius:3px}
.charts{display:flex;gap:24px;flex-wrap:wrap}
pre{background:#f5f5f5;padding:8px;overflow:auto;max-height:400px;font-size:12px}
</style></head><body>
<h1>cimi interop</h1>
<p>Endpoint <code>${x(run.endpoint)}</code>, ${run.started.toISOString()}, ${(run.ms / 1000).toFixed(1)} s: <b>${t.pass} pass, ${t.fail} fail, ${t.skip} skip</b>.${run.leftBehind.length ? ` Left behind by the cleanup: ${x(run.leftBehind.join('; '))}.` : ' Nothing left behind.'}</p>
<div class="charts">${g.map(([p, rs]) => chart(p, rs)).join('')}</div>
<h2>Checks</h2>
<table id="checks"><thead><tr><th>verdict</th><th>protocol</th><th>check</th><th>what</th><th>clause</th><th>detail</th><th>time</th></tr></thead><tbody>
${rows.join('\n')}
</tbody></table>
<h2>Failing exchanges</h2>
${failures.join('\n') || '<p>None.</p>'}
</body></html>
`;
}

function groups(results: CheckResult[]): [Protocol, CheckResult[]][] {
  const m = new Map<Protocol, CheckResult[]>();
  for (const r of results) m.set(r.protocol, [...(m.get(r.protocol) ?? []), r]);
  return [...m];
}

function exchangeText(e: Exchange): string {
  const h = (o?: Record<string, string>) => Object.entries(o ?? {}).map(([k, v]) => `${k}: ${v}`).join('\n');
  return `${e.method} ${e.url}\n${h(e.requestHeaders)}\n\n${e.requestBody ?? ''}\n\n--- ${e.error ? `error: ${e.error}` : `HTTP ${e.status} (${e.ms} ms)`}\n${h(e.responseHeaders)}\n\n${e.responseBody ?? ''}`;
}

function exchangesText(xs: Exchange[]): string {
  return xs.map(exchangeText).join('\n\n======\n\n');
}
