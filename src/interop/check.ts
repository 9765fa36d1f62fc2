/**
 * The interop kit's unit of verdict (issue 15 §2): one check of one rule of one specification, against one endpoint.
 * A check passes, fails (with what the clause expects and what came) or is skipped (the endpoint does not offer the
 * feature, or an earlier check it needs did not pass), and keeps every HTTP exchange it made so a report can show it.
 */
export type Protocol = 'rest' | 'soap' | 'wsman';
export type Verdict = 'pass' | 'fail' | 'skip';

export interface Exchange {
  method: string;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody?: string;
  status?: number;
  responseHeaders?: Record<string, string>;
  responseBody?: string;
  /** a transport failure instead of a response */
  error?: string;
  ms: number;
}

export interface CheckResult {
  id: string;
  protocol: Protocol;
  title: string;
  /** the clause the rule comes from, e.g. `DSP0263 4.2.1.1` */
  clause: string;
  verdict: Verdict;
  /** fail: what the clause expects; skip: why the check did not run */
  expected?: string;
  actual?: string;
  reason?: string;
  exchanges: Exchange[];
  ms: number;
}

/** thrown by a check body: the rule is broken */
export class CheckFailed extends Error {
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`expected ${expected}; got ${actual}`);
  }
}

/** thrown by a check body: the endpoint does not offer what the check needs */
export class CheckSkipped extends Error {}

/** `expect(cond, expected, actual)`: fails the check unless cond holds */
export function expect(cond: unknown, expected: string, actual: unknown): asserts cond {
  if (!cond) throw new CheckFailed(expected, typeof actual === 'string' ? actual : JSON.stringify(actual));
}

export function skip(reason: string): never {
  throw new CheckSkipped(reason);
}
