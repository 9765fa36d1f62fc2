import { digestAuthorization, digestChallenge } from '../client/auth';
import { CheckFailed, CheckSkipped, type CheckResult, type Exchange, type Protocol } from './check';

export interface Credentials {
  user?: string;
  password?: string;
  /** WS-Man: answer the 401 Digest challenge (RFC 7616) instead of sending Basic */
  wsmanDigest?: boolean;
}

export interface SendOptions {
  headers?: Record<string, string>;
  body?: string;
  /** send no Authorization header (e.g. WS-Man Identify, a wrong-password probe) */
  anonymous?: boolean;
  /** authenticate with HTTP Digest: send without credentials, answer the challenge of the 401 */
  digest?: boolean;
  timeoutMs?: number;
}

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const BODY_CAP = 256 * 1024;

/**
 * One run against one endpoint: sends HTTP requests, records each exchange on the check that made it, and keeps the
 * cleanup to do (LIFO) so the run leaves nothing behind even after a failure.
 */
export class InteropSession {
  readonly results: CheckResult[] = [];
  private current?: Exchange[];
  private readonly cleanups: { what: string; run: () => Promise<void> }[] = [];

  constructor(
    readonly creds: Credentials,
    readonly readOnly: boolean,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  private nc = 0;

  async send(method: string, url: string, o: SendOptions = {}): Promise<Reply> {
    if (!o.digest || o.anonymous || this.creds.user === undefined) return this.sendOnce(method, url, o);
    const first = await this.sendOnce(method, url, { ...o, anonymous: true });
    const ch = first.status === 401 ? digestChallenge(first.headers['www-authenticate'] ?? null) : undefined;
    if (!ch) return first;
    const { pathname, search } = new URL(url);
    const authorization = digestAuthorization(ch, this.creds.user, this.creds.password ?? '', method, `${pathname}${search}`, ++this.nc);
    return this.sendOnce(method, url, { ...o, anonymous: true, headers: { ...(o.headers ?? {}), Authorization: authorization } });
  }

  private async sendOnce(method: string, url: string, o: SendOptions): Promise<Reply> {
    const headers: Record<string, string> = { ...(o.headers ?? {}) };
    if (!o.anonymous && this.creds.user !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${this.creds.user}:${this.creds.password ?? ''}`).toString('base64')}`;
    }
    const x: Exchange = { method, url, requestHeaders: redact(headers), requestBody: cap(o.body), ms: 0 };
    this.current?.push(x);
    const t0 = performance.now();
    try {
      const r = await fetch(url, { method, headers, body: o.body, redirect: 'manual', signal: AbortSignal.timeout(o.timeoutMs ?? 30000) });
      const body = await r.text();
      const h: Record<string, string> = {};
      r.headers.forEach((v, k) => (h[k] = v));
      Object.assign(x, { status: r.status, responseHeaders: h, responseBody: cap(body), ms: Math.round(performance.now() - t0) });
      return { status: r.status, headers: h, body };
    } catch (e) {
      x.error = (e as Error).cause ? `${(e as Error).message}: ${String(((e as Error).cause as Error).message ?? (e as Error).cause)}` : (e as Error).message;
      x.ms = Math.round(performance.now() - t0);
      throw new CheckFailed(`an HTTP response from ${url}`, `transport error: ${x.error}`);
    }
  }

  /** runs one check; its exchanges, duration and verdict become one result */
  async check(protocol: Protocol, id: string, clause: string, title: string, body: () => Promise<void>, needs: string[] = []): Promise<boolean> {
    const exchanges: Exchange[] = [];
    const t0 = performance.now();
    const r: CheckResult = { id, protocol, title, clause, verdict: 'pass', exchanges, ms: 0 };
    const unmet = needs.filter((n) => this.results.find((x) => x.id === n)?.verdict !== 'pass');
    if (unmet.length) {
      r.verdict = 'skip';
      r.reason = `needs ${unmet.join(', ')} to pass first`;
    } else {
      this.current = exchanges;
      try {
        await body();
      } catch (e) {
        if (e instanceof CheckSkipped) Object.assign(r, { verdict: 'skip', reason: e.message });
        else if (e instanceof CheckFailed) Object.assign(r, { verdict: 'fail', expected: e.expected, actual: e.actual });
        else Object.assign(r, { verdict: 'fail', expected: 'the check to complete', actual: `error: ${(e as Error).message}` });
      } finally {
        this.current = undefined;
      }
    }
    r.ms = Math.round(performance.now() - t0);
    this.results.push(r);
    this.log(`${r.verdict.padEnd(4)} ${id} (${clause})${r.verdict === 'fail' ? `: expected ${r.expected}; got ${r.actual}` : r.reason ? `: ${r.reason}` : ''}`);
    return r.verdict === 'pass';
  }

  passed(id: string): boolean {
    return this.results.find((x) => x.id === id)?.verdict === 'pass';
  }

  /** something to undo at the end of the run (a created resource) */
  onCleanup(what: string, run: () => Promise<void>): void {
    this.cleanups.push({ what, run });
  }

  /** undoes in reverse order; returns what could not be undone */
  async cleanup(): Promise<string[]> {
    const left: string[] = [];
    while (this.cleanups.length) {
      const c = this.cleanups.pop()!;
      try {
        await c.run();
      } catch (e) {
        left.push(`${c.what}: ${(e as Error).message}`);
      }
    }
    return left;
  }
}

function cap(s: string | undefined): string | undefined {
  return s !== undefined && s.length > BODY_CAP ? `${s.slice(0, BODY_CAP)}\n… (${s.length - BODY_CAP} more characters)` : s;
}

/** reports are shared: they never carry the password */
function redact(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k, /^authorization$/i.test(k) ? `${v.split(' ')[0]} …` : v]));
}
