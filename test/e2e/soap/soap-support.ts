import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { gzipSync } from 'node:zlib';
import { ADMIN_PASSWORD, startHarness, type Harness } from '../../support/app-harness';
import { JobService } from '../../../src/model/job/job.service';
import { ResourceService } from '../../../src/model/shared/resource.service';
import { IdentityService } from '../../../src/model/identity/identity.service';
import { RESOURCE_TYPES, type ResourceType } from '../../../src/model/shared/resource';
import { descriptorOf } from '../../../src/model/shared/resource-types';
import type { OperationContext } from '../../../src/model/shared/operation-context';

export const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12 = 'http://www.w3.org/2003/05/soap-envelope';
export const TNS = 'urn:cimi-gateway:soap:1:types';
export const ACTION = (op: string) => `urn:cimi-gateway:soap:1:${op}`;
/** Debian's interpreter: the pyenv python3 on PATH cannot import python3-zeep (docs/soap.md §5) */
export const PYTHON = '/usr/bin/python3';
export const BASIC = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

export interface SoapEnv {
  h: Harness;
  base: string;
  admin: OperationContext;
}

/** Boots the real app listening on 127.0.0.1:0 for the suite (closed after it). */
export function useSoapApp(engine: 'sqlite' | 'postgres', env: Record<string, string> = {}): () => SoapEnv {
  // booting on a shared 2-core machine can exceed jest's 5 s default (the project testTimeout is not applied per project)
  jest.setTimeout(120000);
  let state: SoapEnv | undefined;
  beforeAll(async () => {
    const h = await startHarness(engine, env, { listen: true });
    await h.idle(); // the seeded catalog (images) is provisioned by Jobs
    const addr = h.app.getHttpServer().address() as { port: number };
    const identity = h.get(IdentityService);
    const admin = identity.context(await identity.authenticate('admin', ADMIN_PASSWORD), 'internal', 'test');
    state = { h, base: `http://127.0.0.1:${addr.port}`, admin };
  }, 120000);
  afterAll(async () => {
    await state?.h.idle().catch(() => undefined);
    await state?.h.close();
  }, 60000);
  return () => state!;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A plain HTTP POST (no client library between the test and the edge). */
export function post(url: string, body: string | Buffer, headers: Record<string, string>): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const data = typeof body === 'string' ? Buffer.from(body) : body;
    const r = request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: 'POST', headers: { 'Content-Length': String(data.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    r.on('error', reject);
    r.end(data);
  });
}

export function envelope(version: '1.1' | '1.2', body: string, header = ''): string {
  const ns = version === '1.1' ? SOAP11 : SOAP12;
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${ns}" xmlns:t="${TNS}">${header ? `<soap:Header>${header}</soap:Header>` : ''}<soap:Body>${body}</soap:Body></soap:Envelope>`;
}

/** POSTs an operation the way a SOAP 1.1 or 1.2 client does (SOAPAction header, or the `action` media-type parameter). */
export function soapCall(e: SoapEnv, version: '1.1' | '1.2', op: string, inner: string, opts: { action?: string; auth?: string | null; header?: string } = {}): Promise<RawResponse> {
  const action = opts.action ?? ACTION(op);
  const headers: Record<string, string> =
    version === '1.1' ? { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${action}"` } : { 'Content-Type': `application/soap+xml; charset=utf-8; action="${action}"` };
  if (opts.auth !== null) headers.Authorization = opts.auth ?? BASIC;
  return post(`${e.base}${version === '1.1' ? '/soap' : '/soap12'}`, envelope(version, `<t:${op}>${inner}</t:${op}>`, opts.header), headers);
}

export { gzipSync };

/** The fault of a response, read namespace-blind enough for assertions (the XML itself is checked by the clients). */
export function faultOf(r: RawResponse): { code?: string; subcode?: string; reason?: string; detailCode?: string; kind?: string } {
  const pick = (re: RegExp) => re.exec(r.body)?.[1];
  return {
    code: pick(/<faultcode>([^<]+)<\/faultcode>/) ?? pick(/<soap:Code><soap:Value>([^<]+)<\/soap:Value>/),
    subcode: pick(/<soap:Subcode><soap:Value>([^<]+)<\/soap:Value>/),
    reason: pick(/<faultstring>([^<]*)<\/faultstring>/) ?? pick(/<soap:Text[^>]*>([^<]*)<\/soap:Text>/),
    detailCode: pick(/<t:code>([^<]+)<\/t:code>/),
    kind: pick(/<t:kind>([^<]+)<\/t:kind>/),
  };
}

/**
 * Everything the model holds for a tenant, as comparable JSON: every resource of every type (sub-resources too,
 * through their parents) and every Job. Used to prove that a refused request changed nothing.
 */
export async function snapshot(e: SoapEnv, ctx: OperationContext = e.admin): Promise<string> {
  const resources = e.h.get(ResourceService);
  const jobs = e.h.get(JobService);
  const out: Record<string, unknown> = {};
  for (const t of RESOURCE_TYPES as readonly ResourceType[]) {
    if (descriptorOf(t).parentType) continue;
    const page = await resources.list(ctx, t, { first: 1, last: 1000 });
    out[t] = page.items.map((r) => ({ id: r.id, state: r.state, version: r.version, name: r.name }));
  }
  const j = await jobs.list(ctx, { first: 1, last: 1000 });
  out.jobs = j.items.map((x) => ({ id: x.id, state: x.state, action: x.action }));
  const identity = e.h.get(IdentityService);
  out.users = (await identity.listUsers(ctx)).map((u) => u.userName).sort();
  return JSON.stringify(out);
}

/** Runs a Python (Debian) or PHP client script and parses the JSON it prints last. */
export function runClient(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 240000): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...env, PYTHONWARNINGS: 'default' }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line));
      } catch {
        reject(new Error(`${cmd} ${args.join(' ')} failed: ${err?.message ?? ''}\nstdout: ${stdout.slice(-4000)}\nstderr: ${stderr.slice(-4000)}`));
      }
    });
  });
}
