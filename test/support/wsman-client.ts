import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import { execFile } from 'node:child_process';
import { request, Agent } from 'node:http';
import { randomUUID } from 'node:crypto';
import { ADMIN_PASSWORD, startHarness, type Harness } from './app-harness';

/**
 * Test-side WS-Man helpers: raw envelopes posted over node:http (so tests control bytes, headers and
 * connections), responses parsed by namespace with @xmldom/xmldom. Real-client interop lives in the wsl and
 * pywinrm suites; these helpers only build what those clients send (docs/wsman.md §6, captures).
 */
export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsman: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  wxf: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
  wsen: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration',
  wsmb: 'http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd',
  wsmid: 'http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd',
  cim: 'http://schemas.dmtf.org/wbem/wscim/1/common',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  msf: 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
};
export const ANON = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';
export const CIM = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/';
export const VENDOR = 'http://schemas.cimi-gateway.invalid/wbem/wscim/1/cim-schema/2/';
export const CS = `${CIM}CIM_ComputerSystem`;
export const ACT = {
  get: `${NS.wxf}/Get`,
  put: `${NS.wxf}/Put`,
  create: `${NS.wxf}/Create`,
  delete: `${NS.wxf}/Delete`,
};

export interface WsResponse {
  /** the request went out on a kept-alive socket that served an earlier request */
  reusedSocket?: boolean;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  doc?: Document;
  /** the body as received (text is it decoded as its BOM says, UTF-8 without one) */
  raw?: Buffer;
}

/** a response body's text: a UTF-16 BOM (either byte order) or a UTF-8 one decides, as an XML parser does (XML 1.0 Appendix F) */
function decodeBody(b: Buffer): string {
  if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return b.subarray(2).toString('utf16le');
  if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return Buffer.from(b.subarray(2)).swap16().toString('utf16le');
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) return b.subarray(3).toString('utf8');
  return b.toString('utf8');
}

export interface EnvelopeOpts {
  action: string;
  resourceUri?: string;
  selectors?: Record<string, string> | [string, string][];
  body?: string;
  to?: string;
  messageId?: string | null;
  extraHeaders?: string;
  /** omit wsa:ReplyTo */
  noReplyTo?: boolean;
  ns?: string;
}

/** A request envelope in wsmancli's style (prefixes s/wsa/wsman, mustUnderstand on To/Action/ResourceURI). */
export function envelope(o: EnvelopeOpts): string {
  const sel = o.selectors ? (Array.isArray(o.selectors) ? o.selectors : Object.entries(o.selectors)) : [];
  const selXml = sel.length ? `<wsman:SelectorSet>${sel.map(([k, v]) => `<wsman:Selector Name="${k}">${v}</wsman:Selector>`).join('')}</wsman:SelectorSet>` : '';
  const mid = o.messageId === null ? '' : `<wsa:MessageID>${o.messageId ?? `uuid:${randomUUID()}`}</wsa:MessageID>`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS.s}" xmlns:wsa="${NS.wsa}" xmlns:wsman="${NS.wsman}"${o.ns ?? ''}><s:Header>` +
    `<wsa:To s:mustUnderstand="true">${o.to ?? 'http://127.0.0.1:5985/wsman'}</wsa:To>` +
    (o.resourceUri ? `<wsman:ResourceURI s:mustUnderstand="true">${o.resourceUri}</wsman:ResourceURI>` : '') +
    (o.noReplyTo ? '' : `<wsa:ReplyTo><wsa:Address s:mustUnderstand="true">${ANON}</wsa:Address></wsa:ReplyTo>`) +
    `<wsa:Action s:mustUnderstand="true">${o.action}</wsa:Action>` +
    `<wsman:MaxEnvelopeSize s:mustUnderstand="true">153600</wsman:MaxEnvelopeSize>` +
    mid +
    `<wsman:Locale xml:lang="en-US" s:mustUnderstand="false"/>` +
    selXml +
    `<wsman:OperationTimeout>PT60.000S</wsman:OperationTimeout>` +
    (o.extraHeaders ?? '') +
    `</s:Header><s:Body>${o.body ?? ''}</s:Body></s:Envelope>`
  );
}

export const IDENTIFY = `<s:Envelope xmlns:s="${NS.s}" xmlns:wsmid="${NS.wsmid}"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>`;

export function basic(user = 'admin', password = ADMIN_PASSWORD): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

/** POSTs bytes to /wsman; `auth` undefined sends no Authorization header. */
export function post(port: number, body: string | Buffer, opts: { auth?: string | null; contentType?: string; headers?: Record<string, string>; agent?: Agent; chunked?: boolean; path?: string; method?: string } = {}): Promise<WsResponse> {
  const buf = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  const headers: Record<string, string> = { 'Content-Type': opts.contentType ?? 'application/soap+xml;charset=UTF-8', ...(opts.headers ?? {}) };
  const auth = opts.auth === undefined ? basic() : opts.auth;
  if (auth) headers.Authorization = auth;
  if (!opts.chunked) headers['Content-Length'] = String(buf.length);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: opts.path ?? '/wsman', method: opts.method ?? 'POST', headers, agent: opts.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        const text = decodeBody(raw);
        let doc: Document | undefined;
        if (text.trim().startsWith('<')) doc = new DOMParser().parseFromString(text, 'text/xml');
        // headersDistinct keeps repeated headers (several WWW-Authenticate challenges) apart
        resolve({ reusedSocket: req.reusedSocket, status: res.statusCode ?? 0, headers: { ...res.headers, 'www-authenticate': res.headersDistinct['www-authenticate'] }, text, doc, raw });
      });
    });
    req.on('error', reject);
    if (opts.chunked) {
      // two chunks: Transfer-Encoding: chunked (docs/wsman.md §4)
      req.write(buf.subarray(0, Math.floor(buf.length / 2)));
      req.end(buf.subarray(Math.floor(buf.length / 2)));
    } else req.end(buf);
  });
}

/** all descendant elements with namespace `ns` and local name `local` */
export function all(node: Document | Element | undefined, ns: string, local: string): Element[] {
  if (!node) return [];
  return Array.from((node as Element).getElementsByTagNameNS(ns, local) as unknown as ArrayLike<Element>);
}

export function one(node: Document | Element | undefined, ns: string, local: string): Element | undefined {
  return all(node, ns, local)[0];
}

export function text(node: Document | Element | undefined, ns: string, local: string): string | undefined {
  const e = one(node, ns, local);
  return e ? (e.textContent ?? '') : undefined;
}

/** the s:Body's first element */
export function payload(r: WsResponse): Element | undefined {
  const body = one(r.doc, NS.s, 'Body');
  if (!body) return undefined;
  for (let c = body.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) return c as Element;
  return undefined;
}

export interface Fault {
  code?: string;
  subcode?: string;
  subcodeNs?: string;
  reason?: string;
  detail?: string;
  action?: string;
  wsmanFaultCode?: string;
}

/** a fault response: HTTP 500, Code/Subcode resolved to namespace URI + local name (never by prefix) */
export function fault(r: WsResponse): Fault {
  const f = one(r.doc, NS.s, 'Fault');
  if (!f) throw new Error(`not a fault (HTTP ${r.status}): ${r.text.slice(0, 500)}`);
  const resolve = (el: Element | undefined) => {
    const q = (el?.textContent ?? '').trim();
    const [p, l] = q.includes(':') ? q.split(':') : ['', q];
    return { ns: el?.lookupNamespaceURI(p || null) ?? undefined, local: l };
  };
  const codeEl = one(one(f, NS.s, 'Code'), NS.s, 'Value');
  const sub = one(one(f, NS.s, 'Subcode'), NS.s, 'Value');
  const code = resolve(codeEl);
  const s = sub ? resolve(sub) : undefined;
  return {
    code: code.ns === NS.s ? code.local : `{${code.ns}}${code.local}`,
    subcode: s?.local,
    subcodeNs: s?.ns,
    reason: text(f, NS.s, 'Text'),
    detail: text(f, NS.wsman, 'FaultDetail'),
    action: text(r.doc, NS.wsa, 'Action'),
    wsmanFaultCode: one(f, NS.msf, 'WSManFault')?.getAttribute('Code') ?? undefined,
  };
}

/** properties of an instance element as name -> text (arrays joined by ','; nil -> null) */
export function props(el: Element | undefined): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  if (!el) return out;
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType !== 1) continue;
    const e = c as Element;
    const v = e.getAttributeNS(NS.xsi, 'nil') === 'true' ? null : (e.textContent ?? '');
    out[e.localName!] = e.localName! in out && out[e.localName!] !== null ? `${out[e.localName!]},${v}` : v;
  }
  return out;
}

/** selectors of an EPR-like element (wsa:ReferenceParameters inside) */
export function eprSelectors(el: Element | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of all(el, NS.wsman, 'Selector')) out[s.getAttribute('Name')!] = s.textContent ?? '';
  return out;
}

export function run(cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = execFile(cmd, args, { env: { ...process.env, ...(opts.env ?? {}) }, cwd: opts.cwd, timeout: opts.timeoutMs ?? 60000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) p.stdin!.end(opts.input);
  });
}

export interface WsmanEnv {
  h: Harness;
  port: number;
}

/** boots the app on a fresh database for the suite (listening on 127.0.0.1:0) */
export function useWsmanApp(engine: 'sqlite' | 'postgres', env: Record<string, string> = {}): () => WsmanEnv {
  // scenarios wait for provider jobs and run real clients: jest's 5 s default is too short on a loaded machine (the
  // project-level testTimeout in jest.config.js is a global option jest ignores per project)
  jest.setTimeout(60000);
  let e: WsmanEnv | undefined;
  beforeAll(async () => {
    const h = await startHarness(engine, env, { listen: true });
    const addr = h.app.getHttpServer().address() as { port: number };
    e = { h, port: addr.port };
  }, 60000);
  afterAll(async () => {
    await e?.h.close();
  }, 60000);
  return () => e!;
}

/** REST GET with admin Basic credentials, JSON */
export async function restGet(port: number, path: string): Promise<{ status: number; doc: Record<string, unknown> }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { Authorization: basic(), Accept: 'application/json' } });
  return { status: r.status, doc: (await r.json()) as Record<string, unknown> };
}

export async function restPost(port: number, path: string, body: unknown): Promise<{ status: number; doc: Record<string, unknown>; headers: Headers }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { Authorization: basic(), Accept: 'application/json', 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, doc: (await r.json()) as Record<string, unknown>, headers: r.headers };
}

const idOf = (href: string) => href.split('/').pop()!;

async function waitUntil<T>(fn: () => Promise<T | undefined | false>, ms = 20000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** ids of the demo catalog (seeded at start; images become AVAILABLE through their jobs) */
export async function catalogIds(port: number): Promise<{ config: string; image: string; network: string; volumeConfig: string }> {
  const pick = async (seg: string, key: string, pred: (d: Record<string, unknown>) => boolean) =>
    waitUntil(async () => {
      const items = ((await restGet(port, `/cimi/${seg}`)).doc[key] ?? []) as Record<string, unknown>[];
      const hit = items.find(pred);
      return hit ? idOf(String(hit.id)) : undefined;
    });
  return {
    config: await pick('machineConfigs', 'machineConfigurations', (d) => d.name === 'small'),
    image: await pick('machineImages', 'machineImages', (d) => d.state === 'AVAILABLE'),
    network: await pick('networks', 'networks', (d) => d.name === 'demo-net' && d.state === 'STARTED'),
    volumeConfig: await pick('volumeConfigs', 'volumeConfigurations', (d) => d.name === 'volume-10g'),
  };
}

/** waits for a REST Job (by id) to end; returns its JSON */
export async function restJob(port: number, jobId: string): Promise<Record<string, unknown>> {
  return waitUntil(async () => {
    const j = (await restGet(port, `/cimi/jobs/${jobId}`)).doc;
    return ['SUCCESS', 'FAILED', 'STOPPED'].includes(String(j.state)) ? j : undefined;
  });
}

/** a Machine made over REST (by-value template), waited for; returns its id */
export async function restMachine(port: number, name: string, initialState = 'STARTED'): Promise<string> {
  const c = await catalogIds(port);
  const base = `http://127.0.0.1:${port}/cimi`;
  const r = await restPost(port, '/cimi/machines', {
    resourceURI: 'http://schemas.dmtf.org/cimi/1/MachineCreate',
    name,
    machineTemplate: { machineConfig: { href: `${base}/machineConfigs/${c.config}` }, machineImage: { href: `${base}/machineImages/${c.image}` }, initialState },
  });
  if (r.status !== 202 && r.status !== 201) throw new Error(`machine create: ${r.status} ${JSON.stringify(r.doc)}`);
  await restJob(port, idOf(r.headers.get('cimi-job-uri')!));
  return idOf(r.headers.get('location')!);
}

/** Get of a CIM_ComputerSystem by Name (admin Basic) */
export function getMachine(port: number, id: string, selectors: [string, string][] = [['CreationClassName', 'CIM_ComputerSystem'], ['Name', id]]): Promise<WsResponse> {
  return post(port, envelope({ action: ACT.get, resourceUri: CS, selectors }));
}
