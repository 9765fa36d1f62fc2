import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { fromCimiXml, toCimiXml } from '../../src/adapters/rest/xml/cimi-xml';
import { ADMIN_PASSWORD, startHarness, type Harness } from './app-harness';
import { JOB_QUEUE, type JobQueue } from '../../src/model/shared/ports';

/**
 * A small CIMI REST client for the e2e suites (docs/cimi.md): HTTP Basic, JSON or XML on the wire, and every XML
 * response body validated against DSP8009 1.0.2 with xmllint (an independent validator), so that no test can pass
 * on a document the schema rejects. `curl()` drives the same server through an independent HTTP client.
 */

export const CIMI_NS = 'http://schemas.dmtf.org/cimi/1';
export const ACTION = `${CIMI_NS}/action/`;
export const XSD = resolve(__dirname, '..', '..', '..', 'shared', 'specs', 'dsp8009_1.0.2.xsd');
export const FORMATS = ['json', 'xml'] as const;
export type Format = (typeof FORMATS)[number];

export type Doc = Record<string, any>;

/** temp files for xmllint and curl; removed after each suite (useRestApp), made again on demand */
let scratchDir: string | undefined;
function scratch(): string {
  return (scratchDir ??= mkdtempSync(join(tmpdir(), 'cimi-e2e-')));
}
function dropScratch(): void {
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  scratchDir = undefined;
}

function run(cmd: string, args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      if (err && code === -1) return reject(err);
      resolveRun({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Validates an XML document against DSP8009 1.0.2 with `xmllint --nonet --schema`; throws xmllint's message. */
export async function validateXml(xml: string, what = 'XML document'): Promise<void> {
  const file = join(scratch(), `${randomBytes(8).toString('hex')}.xml`);
  writeFileSync(file, xml);
  try {
    const r = await run('xmllint', ['--nonet', '--noout', '--schema', XSD, file]);
    if (r.code !== 0) {
      // the schema's import of xml.xsd cannot be loaded with --nonet: drop that warning, keep the real errors
      const msg = r.stderr
        .split('\n')
        .filter((l) => l && !/xml\.xsd|failed to load external entity|Skipping the import/.test(l))
        .join('\n');
      throw new Error(`${what} does not validate against DSP8009 1.0.2 (xmllint exit ${r.code}):\n${msg}\n--- document ---\n${xml.slice(0, 4000)}`);
    }
  } finally {
    rmSync(file, { force: true });
  }
}

export interface CimiResponse {
  status: number;
  /** lower-case header names */
  headers: Record<string, string>;
  text: string;
  /** the body as a CIMI JSON-shaped document (XML is parsed with fromCimiXml after validation) */
  doc: Doc;
  /** XML root element name, if the body was XML */
  root?: string;
  contentType: string;
}

export interface RequestOptions {
  body?: string | Buffer;
  contentType?: string;
  accept?: string;
  headers?: Record<string, string>;
  query?: Record<string, string | string[]>;
  /** false: send no Authorization header */
  auth?: boolean;
}

const TERMINAL_JOB = ['SUCCESS', 'FAILED', 'STOPPED'];

export class CimiClient {
  constructor(
    readonly origin: string,
    readonly format: Format,
    readonly user = 'admin',
    readonly password = ADMIN_PASSWORD,
    readonly extraHeaders: Record<string, string> = {},
  ) {}

  /** the same client as another user */
  as(user: string, password: string): CimiClient {
    return new CimiClient(this.origin, this.format, user, password, this.extraHeaders);
  }

  get mediaType(): string {
    return this.format === 'xml' ? 'application/xml' : 'application/json';
  }

  /** the only URI a client must know (docs/cimi.md §1) */
  cepUrl(): string {
    return `${this.origin}/cimi/cloudEntryPoint`;
  }

  async request(method: string, href: string, o: RequestOptions = {}): Promise<CimiResponse> {
    const url = new URL(href);
    for (const [k, v] of Object.entries(o.query ?? {})) for (const x of Array.isArray(v) ? v : [v]) url.searchParams.append(k, x);
    const headers: Record<string, string> = { Accept: o.accept ?? this.mediaType, ...this.extraHeaders, ...(o.headers ?? {}) };
    if (o.auth !== false) headers.Authorization = `Basic ${Buffer.from(`${this.user}:${this.password}`).toString('base64')}`;
    if (o.body !== undefined) headers['Content-Type'] = o.contentType ?? this.mediaType;
    const res = await fetch(url, { method, headers, body: o.body });
    const text = await res.text();
    const hdrs: Record<string, string> = {};
    res.headers.forEach((v, k) => (hdrs[k] = v));
    const r = await parseResponse(res.status, hdrs, text, `${method} ${url.pathname}${url.search}`);
    checkInvariants(method, r);
    return r;
  }

  /** serializes `doc` in this client's format (`root` = the XML root element) */
  encode(root: string, doc: Doc): string {
    return this.format === 'xml' ? toCimiXml(root, stripResourceUri(doc)) : JSON.stringify(doc);
  }

  get(href: string, query?: Record<string, string | string[]>, headers?: Record<string, string>): Promise<CimiResponse> {
    return this.request('GET', href, { query, headers });
  }
  post(href: string, root: string, doc: Doc, headers?: Record<string, string>): Promise<CimiResponse> {
    return this.request('POST', href, { body: this.encode(root, { resourceURI: `${CIMI_NS}/${root}`, ...doc }), headers });
  }
  put(href: string, root: string, doc: Doc, headers?: Record<string, string>, query?: Record<string, string>): Promise<CimiResponse> {
    return this.request('PUT', href, { body: this.encode(root, doc), headers, query });
  }
  delete(href: string, headers?: Record<string, string>): Promise<CimiResponse> {
    return this.request('DELETE', href, { headers });
  }
  /** POSTs an Action to an operation href (docs/cimi.md §3) */
  action(opHref: string, name: string, params: Doc = {}, headers?: Record<string, string>): Promise<CimiResponse> {
    return this.post(opHref, 'Action', { action: `${ACTION}${name}`, ...params }, headers);
  }

  async cep(): Promise<Doc> {
    return ok(await this.get(this.cepUrl()), 200).doc;
  }

  /** follows the CEP to a collection: its href, from the entry point only */
  async collectionHref(name: string): Promise<string> {
    const cep = await this.cep();
    const href = cep[name]?.href;
    if (typeof href !== 'string') throw new Error(`the entry point has no ${name} collection`);
    return href;
  }

  /** polls a Job until it stops executing (bounded); returns the final Job */
  async waitJob(href: string, timeoutMs = 20000): Promise<Doc> {
    const end = Date.now() + timeoutMs;
    for (let step = 5; ; step = Math.min(step * 2, 50)) {
      const j = ok(await this.get(href), 200).doc;
      if (TERMINAL_JOB.includes(j.state)) return j;
      if (Date.now() > end) throw new Error(`job ${href} still ${j.state} after ${timeoutMs} ms`);
      await sleep(step);
    }
  }

  /** polls a resource until `pred` holds (bounded); returns the last representation */
  async waitFor(href: string, pred: (d: Doc) => boolean, timeoutMs = 20000): Promise<Doc> {
    const end = Date.now() + timeoutMs;
    for (let step = 5; ; step = Math.min(step * 2, 50)) {
      const r = await this.get(href);
      if (r.status === 200 && pred(r.doc)) return r.doc;
      if (Date.now() > end) throw new Error(`${href}: condition not met within ${timeoutMs} ms (last ${r.status} ${r.text.slice(0, 300)})`);
      await sleep(step);
    }
  }

  /** polls until GET answers 404 */
  async waitGone(href: string, timeoutMs = 20000): Promise<void> {
    const end = Date.now() + timeoutMs;
    for (let step = 5; ; step = Math.min(step * 2, 50)) {
      const r = await this.get(href);
      if (r.status === 404) return;
      if (Date.now() > end) throw new Error(`${href} still there after ${timeoutMs} ms (${r.status})`);
      await sleep(step);
    }
  }
}

/** Parses (and, for XML, validates) a response body. */
export async function parseResponse(status: number, headers: Record<string, string>, text: string, what: string): Promise<CimiResponse> {
  const contentType = (headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  let doc: Doc = {};
  let root: string | undefined;
  if (text.length > 0) {
    if (contentType === 'application/xml' || contentType === 'text/xml') {
      await validateXml(text, `response to ${what} (${status})`);
      const parsed = fromCimiXml(text);
      doc = parsed.doc;
      root = parsed.root;
    } else if (contentType === 'application/json') {
      doc = JSON.parse(text) as Doc;
    } else {
      throw new Error(`response to ${what} has Content-Type ${contentType || '(none)'}: ${text.slice(0, 200)}`);
    }
  }
  return { status, headers, text, doc, root, contentType };
}

/**
 * What every CIMI response must carry (docs/cimi.md §4): the version header on every response, errors included;
 * `Location` with every 201; `CIMI-Job-URI` on every successful mutating request; an ETag on single resources.
 */
export function checkInvariants(method: string, r: CimiResponse): void {
  const fail = (what: string) => {
    throw new Error(`${method} answered ${r.status} without ${what}: ${JSON.stringify(r.headers)}`);
  };
  if (!/^1\.[01]\.\d+$/.test(r.headers['cimi-specification-version'] ?? '')) fail('CIMI-Specification-Version');
  if (r.status === 201 && !r.headers.location) fail('Location');
  if (r.status < 300 && method !== 'GET' && !r.headers['cimi-job-uri']) fail('CIMI-Job-URI');
  if (r.status >= 400 && r.text && r.doc.state !== 'FAILED') fail('a Job error body');
}

/** asserts the status, with the body in the message when it differs */
export function ok(r: CimiResponse, ...statuses: number[]): CimiResponse {
  if (!statuses.includes(r.status)) throw new Error(`expected HTTP ${statuses.join(' or ')}, got ${r.status}: ${r.text.slice(0, 1500)}`);
  return r;
}

/** the href of the operation whose rel is `rel` (`edit`, `delete`, `add`) or `…/action/<rel>` */
export function op(doc: Doc, rel: string): string {
  const hit = opOrUndefined(doc, rel);
  if (!hit) throw new Error(`no operation ${rel} in ${JSON.stringify(doc.operations ?? [])}`);
  return hit;
}

export function opOrUndefined(doc: Doc, rel: string): string | undefined {
  const ops = (doc.operations ?? []) as { rel: string; href: string }[];
  return ops.find((o) => o.rel === rel || o.rel === `${ACTION}${rel}`)?.href;
}

export function rels(doc: Doc): string[] {
  return ((doc.operations ?? []) as { rel: string }[]).map((o) => o.rel.replace(ACTION, ''));
}

/** the items of a collection document, whatever their key */
export function items(coll: Doc): Doc[] {
  for (const [k, v] of Object.entries(coll)) if (k !== 'operations' && Array.isArray(v)) return v as Doc[];
  return [];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function stripResourceUri(doc: Doc): Doc {
  const { resourceURI: _r, ...rest } = doc;
  return rest;
}

// ---------------------------------------------------------------------------------------------------------------
// curl: an independent HTTP client
// ---------------------------------------------------------------------------------------------------------------

export interface CurlOptions {
  user?: string;
  password?: string;
  headers?: Record<string, string>;
  data?: string;
}

/** Sends one request with curl(1) and parses (validating XML) what it received. */
export async function curl(method: string, url: string, o: CurlOptions = {}): Promise<CimiResponse> {
  const id = randomBytes(8).toString('hex');
  const hdrFile = join(scratch(), `${id}.hdr`);
  const bodyFile = join(scratch(), `${id}.body`);
  const args = ['-sS', '--max-time', '30', '-X', method, '-D', hdrFile, '-o', bodyFile];
  if (o.user !== undefined) args.push('-u', `${o.user}:${o.password ?? ''}`);
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  if (o.data !== undefined) args.push('--data-binary', '@-');
  args.push(url);
  try {
    const r = await run('curl', args, o.data ?? '');
    if (r.code !== 0) throw new Error(`curl ${method} ${url} failed (exit ${r.code}): ${r.stderr}`);
    // with 100-continue there may be several header blocks: the last one is the answer
    const blocks = readFileSync(hdrFile, 'utf8').split(/\r?\n\r?\n/).filter((b) => b.trim());
    const last = blocks[blocks.length - 1].split(/\r?\n/);
    const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(last[0])![1]);
    const headers: Record<string, string> = {};
    for (const line of last.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const text = readFileSync(bodyFile, 'utf8');
    const res = await parseResponse(status, headers, text, `curl ${method} ${new URL(url).pathname}`);
    checkInvariants(method, res);
    return res;
  } finally {
    rmSync(hdrFile, { force: true });
    rmSync(bodyFile, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// suite setup
// ---------------------------------------------------------------------------------------------------------------

export interface RestEnv {
  h: Harness;
  origin: string;
  client(format: Format): CimiClient;
}

/** Boots the real app listening on 127.0.0.1:0 for a describe block; `env()` is valid inside tests and hooks. */
export function useRestApp(engine: 'sqlite' | 'postgres', env: Record<string, string> = {}): () => RestEnv {
  // scenario tests make dozens of requests, each XML answer checked by xmllint: jest's 5 s default is too short
  // (the project-level testTimeout in jest.config.js is a global option that jest ignores per project)
  jest.setTimeout(60000);
  let state: RestEnv | undefined;
  beforeAll(async () => {
    const h = await startHarness(engine, env, { listen: true });
    // the seeded catalog (images) is provisioned by jobs: let them finish so that suites start from a settled state
    const queue = h.app.get(JOB_QUEUE as never) as JobQueue;
    for (const end = Date.now() + 30000; ; await sleep(20)) {
      const n = await queue.countByState();
      if (!n.QUEUED && !n.RUNNING && !n.STOPPING) break;
      if (Date.now() > end) throw new Error(`seed jobs did not finish: ${JSON.stringify(n)}`);
    }
    await h.idle();
    const port = (h.app.getHttpServer().address() as { port: number }).port;
    const origin = `http://127.0.0.1:${port}`;
    state = { h, origin, client: (f) => new CimiClient(origin, f) };
  }, 60000);
  afterAll(async () => {
    await state?.h.idle().catch(() => undefined);
    await state?.h.close();
    dropScratch();
  }, 60000);
  return () => {
    if (!state) throw new Error('the app is not started');
    return state;
  };
}

/** Creates a Machine from the demo catalog's `small` configuration, waits for its Job, and answers its href. */
export async function newMachine(c: CimiClient, name: string): Promise<string> {
  const cep = await c.cep();
  const cfg = items(ok(await c.get(cep.machineConfigs.href, { $filter: "name='small'" }), 200).doc)[0];
  const cr = ok(await c.post(cep.machines.href, 'MachineCreate', { name, machineTemplate: { machineConfig: { href: cfg.id } } }), 201, 202);
  await c.waitJob(cr.headers['cimi-job-uri']);
  return cr.headers.location;
}
