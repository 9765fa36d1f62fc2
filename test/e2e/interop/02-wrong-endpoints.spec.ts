import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runInterop } from '../../../src/interop/runner';
import type { CheckResult, Protocol } from '../../../src/interop/check';
import { htmlReport, junitXml } from '../../../src/interop/report';
import { ADMIN_PASSWORD } from '../../support/app-harness';
import { XSD } from '../../support/cimi-client';
import { useWsmanApp } from '../../support/wsman-client';

/**
 * Issue 15 §3: the runner can fail. Each endpoint here is the real gateway behind a proxy that breaks exactly one
 * rule; the runner must report that rule's check as `fail` with what it expected, and every other check as before.
 */
interface Breakage {
  name: string;
  protocols: Protocol[];
  /** rewrites one response; answers undefined to leave it */
  rewrite(req: { method: string; url: string; body: string }, res: { status: number; type: string; body: string }): { status: number; body: string } | undefined;
  check: string;
  /** what the failure must say */
  actual: RegExp;
}

const BREAKAGES: Breakage[] = [
  {
    name: 'a wrong status code (200 for an unknown resource)',
    protocols: ['rest'],
    rewrite: (req, res) => (req.method === 'GET' && res.status === 404 && /no-such/.test(req.url) ? { status: 200, body: res.body } : undefined),
    check: 'rest.error.not-found',
    actual: /HTTP 200/,
  },
  {
    name: "a missing operations href (no start on a stopped Machine)",
    protocols: ['rest'],
    rewrite: (req, res) => {
      if (req.method !== 'GET' || !/json/.test(res.type) || !/\/machines\/[^/?]+$/.test(req.url)) return undefined;
      const doc = JSON.parse(res.body) as { operations?: { rel: string }[] };
      doc.operations = (doc.operations ?? []).filter((o) => !/\/action\/start$/.test(o.rel));
      return { status: res.status, body: JSON.stringify(doc) };
    },
    check: 'rest.machine.start',
    actual: /^\[(?!.*action\/start)/,
  },
  {
    name: 'an XML document that breaks the DSP8009 schema',
    protocols: ['rest'],
    rewrite: (req, res) => (/xml/.test(res.type) && /<\/CloudEntryPoint>/.test(res.body) ? { status: res.status, body: res.body.replace('</CloudEntryPoint>', '<notInTheSchema>1</notInTheSchema></CloudEntryPoint>') } : undefined),
    check: 'rest.xml.schema',
    actual: /notInTheSchema/,
  },
  {
    name: 'a WS-Man fault with the wrong subcode',
    protocols: ['wsman'],
    rewrite: (req, res) => (/InvalidSelectors/.test(res.body) ? { status: res.status, body: res.body.replace(/wsman:InvalidSelectors/g, 'wsman:InternalError') } : undefined),
    check: 'wsman.fault.selectors',
    actual: /InternalError/,
  },
  {
    name: 'a Pull that repeats items',
    // with REST the run has a machine of its own while WS-Man enumerates: the Pull has an item to repeat
    protocols: ['rest', 'wsman'],
    rewrite: (req, res) => {
      if (!/\/enumeration\/PullResponse/.test(res.body)) return undefined;
      // the first item of the page again at its end
      const m = /(<wsen:Items>)(<([\w:]+)[\s>][\s\S]*?<\/\3>)/.exec(res.body);
      return m ? { status: res.status, body: res.body.replace('</wsen:Items>', `${m[2]}</wsen:Items>`) } : undefined;
    },
    check: 'wsman.enumerate',
    actual: /repeated/,
  },
];

describe('interop runner against deliberately wrong endpoints', () => {
  const env = useWsmanApp('sqlite');
  jest.setTimeout(180000);
  let baseline: CheckResult[] = [];

  /** the gateway behind a proxy applying `b` (hrefs rewritten to point at the proxy) */
  async function proxy(b?: Breakage): Promise<{ url: string; server: Server }> {
    const target = `http://127.0.0.1:${env().port}`;
    const self = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['content-length', 'connection', 'transfer-encoding'].includes(k)).map(([k, v]) => [k, String(v)]));
        fetch(`${target}${req.url}`, { method: req.method, headers, body: ['GET', 'HEAD'].includes(req.method!) ? undefined : body, redirect: 'manual' })
          .then(async (r) => {
            let status = r.status;
            let text = await r.text();
            const type = r.headers.get('content-type') ?? '';
            // the gateway's absolute hrefs and headers point at itself: make them point at the proxy
            text = text.split(target).join(self());
            const changed = b?.rewrite({ method: req.method!, url: req.url!, body }, { status, type, body: text });
            if (changed) ({ status, body: text } = changed);
            const out: Record<string, string> = {};
            r.headers.forEach((v, k) => {
              if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)) out[k] = v.split(target).join(self());
            });
            res.writeHead(status, { ...out, 'content-length': String(Buffer.byteLength(text)) });
            res.end(text);
          })
          .catch((e: Error) => {
            res.writeHead(502);
            res.end(e.message);
          });
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
  }

  const runThrough = async (b: Breakage | undefined, protocols: Protocol[]) => {
    const p = await proxy(b);
    try {
      return await runInterop({
        restUrl: `${p.url}/cimi/cloudEntryPoint`,
        wsmanUrl: `${p.url}/wsman`,
        protocols,
        user: 'admin',
        password: ADMIN_PASSWORD,
        schema: XSD,
        jobTimeoutMs: 20000,
      });
    } finally {
      p.server.closeAllConnections();
      await new Promise((r) => p.server.close(r));
    }
  };

  it('the unbroken proxy passes (the baseline the breakages are measured against)', async () => {
    const run = await runThrough(undefined, ['rest', 'wsman']);
    expect(run.results.filter((r) => r.verdict === 'fail').map((r) => `${r.id}: ${r.actual}`)).toEqual([]);
    baseline = run.results;
    for (const b of BREAKAGES) expect({ check: b.check, verdict: baseline.find((r) => r.id === b.check)?.verdict }).toEqual({ check: b.check, verdict: 'pass' });
  });

  it.each(BREAKAGES.map((b) => [b.name, b] as const))('reports %s as the right failure', async (_name, b) => {
    const run = await runThrough(b, b.protocols);
    const r = run.results.find((x) => x.id === b.check)!;
    expect({ id: r.id, verdict: r.verdict }).toEqual({ id: b.check, verdict: 'fail' });
    expect(r.actual).toMatch(b.actual);
    expect(r.expected).toBeTruthy();
    // the failing exchange is kept and shown
    expect(r.exchanges.length).toBeGreaterThan(0);
    expect(htmlReport(run)).toContain(`<section class="failure"><h3><code>${b.check}</code>`);
    expect(junitXml(run)).toMatch(new RegExp(`name="${b.check.replace(/\./g, '\\.')}:[^"]*"[^>]*><failure message=`));
    // the breakage is one rule: a check that passed before and does not depend on it still passes
    const others = run.results.filter((x) => x.verdict === 'fail' && x.id !== b.check).map((x) => x.id);
    expect(others.every((id) => DEPENDS[b.check]?.includes(id))).toBe(true);
    expect(run.leftBehind).toEqual([]);
  });
});

/** checks that may fail with a breakage because they share its cause */
const DEPENDS: Record<string, string[]> = {
  // without its start operation the Machine is never STARTED, so it cannot be stopped either
  'rest.machine.start': ['rest.machine.stop'],
  // a repeated item also repeats in the optimized enumeration's later Pulls, and the WQL/Get checks use its items
  'wsman.enumerate': [],
  'rest.error.not-found': [],
  'rest.xml.schema': [],
  'wsman.fault.selectors': [],
};
