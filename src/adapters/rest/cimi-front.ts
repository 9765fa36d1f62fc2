import { Inject, Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config/env.schema';
import { UnauthenticatedError, InvalidInputError, NotFoundError } from '../../model/shared/model-error';
import type { OperationContext } from '../../model/shared/operation-context';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type CollectionQuery } from '../../model/shared/query';
import type { Ref, Resource, ResourceType } from '../../model/shared/resource';
import type { OperationOutcome } from '../../model/shared/resource.service';
import { bodyFormat, etag, negotiateFormat, negotiateVersion, requireObject, RestError, type CimiFormat } from './cimi-http';
import { CimiMapper, type CimiDoc } from './cimi.mapper';
import { CimiRequest } from './cimi-request';
import { BY_SEGMENT, CIMI_NS, subCollection, type CimiTypeInfo } from './cimi-types';
import { CimiUris } from './cimi-uris';
import { parseCimiQuery, type ParsedCimiQuery } from './query/cimi-query';
import { fromCimiXml, normaliseRoot, toCimiXml } from './xml/cimi-xml';
import { CimiProjection, selectAttrs } from './cimi-projection';
import { auditScopeOf } from '../shared/audit-hook';
import { basicToken, CallerFront, type Credential } from '../shared/caller-front';

export interface Call {
  ctx: OperationContext;
  uris: CimiUris;
  format: CimiFormat;
  version: string;
  map: CimiMapper;
  wire: CimiRequest;
}

/**
 * The CIMI door's front (DSP0263 2.0.0 §4, on the 1.1 wire; docs/cimi.md): authentication, version and format
 * negotiation, the request's audit intent, body and query parsing, projection and the answer. The controllers keep
 * only their routes: parse, call the model, map.
 */
/** callers admitted by admitEarly, by request */
const ADMITTED = new WeakMap<Request, Credential>();

@Injectable()
export class CimiFront {
  constructor(
    @Inject(APP_CONFIG) private readonly cfg: AppConfig,
    private readonly caller: CallerFront,
    private readonly projection: CimiProjection,
  ) {}

  /** authentication (HTTP Basic against the model's users), version and format negotiation */
  async begin(req: Request): Promise<Call> {
    auditScopeOf(req)?.intent(...restIntent(req));
    const version = negotiateVersion(req.headers['cimi-specification-version']);
    const format = negotiateFormat(req);
    const credential = ADMITTED.get(req) ?? (await this.caller.admitCaller(req, () => this.authenticate(req)));
    const rid = (req as unknown as { id?: string }).id ?? randomUUID();
    const ctx = this.caller.context(req, 'rest', String(rid), credential);
    const uris = this.urisOf(req);
    return { ctx, uris, format, version, map: new CimiMapper(uris, ctx), wire: new CimiRequest(uris) };
  }

  /**
   * The caller admitted before a large body is read (an OVF package upload, up to OVF_MAX_PACKAGE_BYTES): a caller
   * with wrong or no credentials is refused before the gateway reads or stores a byte of it; begin() then uses it.
   */
  async admitEarly(req: Request): Promise<void> {
    auditScopeOf(req)?.intent(...restIntent(req));
    ADMITTED.set(req, await this.caller.admitCaller(req, () => this.authenticate(req)));
  }

  /** HTTP Basic against the model's users; without an Authorization header, the TLS client certificate */
  private async authenticate(req: Request): Promise<Credential> {
    const cert = req.headers.authorization ? undefined : await this.caller.certificate(req);
    if (cert) return cert;
    const token = basicToken(req);
    if (!token) throw new UnauthenticatedError('HTTP Basic credentials required');
    return this.caller.basic(req, token);
  }

  /** hrefs under PUBLIC_BASE_URL when set (behind a proxy), else under the request's own origin */
  urisOf(req: Request): CimiUris {
    return new CimiUris(this.cfg.PUBLIC_BASE_URL ?? `${req.protocol}://${req.headers.host ?? `${this.cfg.HOST}:${this.cfg.PORT}`}`);
  }

  /** the collection type of the request's first segment; other routes' URIs (jobs, the CEP, …) are 405 here */
  info(req: Request): CimiTypeInfo {
    const segment = param(req, 'seg');
    const info = BY_SEGMENT.get(segment);
    if (!info) throw notRouted(req);
    return info;
  }

  ownRef(c: Call, href: string, type: ResourceType) {
    try {
      return c.uris.parse(href, 'imageLocation', type);
    } catch {
      return undefined;
    }
  }

  body(req: Request): { root?: string; doc: Record<string, unknown> } {
    const text = typeof req.body === 'string' ? req.body : '';
    const fmt = bodyFormat(req);
    if (fmt === 'xml') {
      const { root, doc } = fromCimiXml(text);
      return { root, doc };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new InvalidInputError(`malformed JSON: ${(e as Error).message}`, 'body', 'REST.MALFORMED_JSON');
    }
    return { doc: requireObject(parsed, 'body') };
  }

  /** An Action body (docs/cimi.md §3): the action is matched on its last path segment; params force, image. */
  action(c: Call, req: Request, op: string, imageType: 'MachineImage' | 'VolumeImage' = 'MachineImage'): { force?: boolean; image?: Ref } {
    const { root, doc } = this.body(req);
    if (root && normaliseRoot(root) !== 'Action') throw new InvalidInputError(`expected <Action>, not <${root}>`, 'body', 'REST.WRONG_ROOT');
    c.wire.checkResourceUri(doc, ['Action']);
    c.wire.onlyKeys(doc, ['resourceURI', 'action', 'force', 'image', 'properties'], 'Action');
    const action = typeof doc.action === 'string' ? doc.action.trim().split('/').pop() : undefined;
    if (action !== op) throw new InvalidInputError(`the Action's action must be ${CIMI_NS}/action/${op}`, 'action', 'REST.ACTION_MISMATCH');
    const params: { force?: boolean; image?: Ref } = {};
    if (doc.force !== undefined) params.force = doc.force as boolean;
    if (doc.image !== undefined) params.image = c.uris.parse(requireObject(doc.image, 'image').href, 'image', imageType);
    return params;
  }

  query(req: Request): { query: CollectionQuery } {
    const parsed = queryOf(req);
    const q = { ...parsed.query };
    // docs/reliability.md rule 4: pages of 100 by default, 1000 at most; `count` tells the client what it missed
    const first = q.first ?? 1;
    const last = q.last ?? first + DEFAULT_PAGE_SIZE - 1;
    q.first = first;
    q.last = Math.min(last, first + MAX_PAGE_SIZE - 1);
    return { query: q };
  }

  /** `$select` of the request (cimi-projection.ts) */
  select(doc: CimiDoc, req: Request, itemsKey?: string): CimiDoc {
    return selectAttrs(doc, queryOf(req).select, itemsKey);
  }

  /** `$expand` of the request (cimi-projection.ts) */
  expand(c: Call, doc: CimiDoc, req: Request): Promise<CimiDoc> {
    return this.projection.expand(c, doc, queryOf(req).expand);
  }

  created(res: Response, c: Call, out: OperationOutcome): void {
    const r = out.resource as Resource;
    const headers: Record<string, string> = { Location: c.uris.resource(r.type, r.id, r.parentId), 'CIMI-Job-URI': c.uris.job(out.job.id), ETag: etag(r.version) };
    // DSP0263 2.0.0 §4.2.1.1: 201 when done, 202 while the Job runs (the body is the resource as it is now)
    this.send(res, c, out.completed ? 201 : 202, r.type, c.map.resource(r), headers);
  }

  send(res: Response, c: Call, status: number, root: string | undefined, doc: CimiDoc | undefined, headers: Record<string, string> = {}): void {
    res.status(status);
    res.setHeader('CIMI-Specification-Version', c.version);
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (!doc || !root) return void res.end();
    if (c.format === 'xml') res.type('application/xml').send(toCimiXml(root, doc));
    else res.type('application/json').send(JSON.stringify(doc));
  }
}

/** a route parameter as a string (Express 5 types allow arrays for wildcard routes) */
export function param(req: Request, name: string): string {
  const v = req.params[name];
  return Array.isArray(v) ? v.join('/') : String(v ?? '');
}

/** The methods the routes above serve for a path under /cimi (segments after `cimi`), or undefined if none. */
function allowedMethods(path: string[]): string[] | undefined {
  if (path.length === 0 || (path.length === 1 && ['cloudEntryPoint', 'resourceMetadata', 'openapi.json'].includes(path[0]))) return ['GET'];
  if (path[0] === 'resourceMetadata' && path.length === 2) return ['GET'];
  if (path[0] === 'meters') {
    if (path.length <= 2) return path.length === 1 ? ['GET', 'POST'] : ['GET', 'DELETE'];
    return path.length === 3 && path[2] === 'samples' ? ['GET'] : path.length === 3 && ['start', 'stop'].includes(path[2]) ? ['POST'] : undefined;
  }
  if (path[0] === 'subscriptions') return path.length === 1 ? ['GET', 'POST'] : path.length === 2 ? ['GET', 'PUT', 'DELETE'] : undefined;
  if (path[0] === 'jobs') return path.length === 1 ? ['GET'] : path.length === 2 ? ['GET', 'DELETE'] : path.length === 3 && path[2] === 'stop' ? ['POST'] : undefined;
  const info = BY_SEGMENT.get(path[0]);
  if (!info) return undefined;
  switch (path.length) {
    case 1:
      return ['GET', 'POST'];
    case 2:
      return ['GET', 'PUT', 'DELETE'];
    case 3:
      return subCollection(info.type, path[2]) ? ['GET', 'POST'] : ['POST'];
    case 4:
      return subCollection(info.type, path[2]) ? ['GET', 'DELETE'] : undefined;
    default:
      return undefined;
  }
}

/** A request no handler serves: 405 (with `Allow`) if its URI has other methods, else 404. */
export function notRouted(req: Request): Error {
  const path = req.path.replace(/\/+$/, '').split('/').filter(Boolean).slice(1); // after 'cimi'
  const allowed = allowedMethods(path);
  if (allowed && !allowed.includes(req.method)) {
    return new RestError(405, 'REST.METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path.slice(0, 200)}; allowed: ${allowed.join(', ')}`, { Allow: allowed.join(', ') });
  }
  return new NotFoundError('resource', req.path.slice(0, 200));
}

/** the query parameters, parsed once per request ($expand runs once per item of a page of up to 1000) */
const parsedQueries = new WeakMap<Request, ParsedCimiQuery>();
export function queryOf(req: Request): ParsedCimiQuery {
  let q = parsedQueries.get(req);
  if (!q) parsedQueries.set(req, (q = parseCimiQuery(req.query as never)));
  return q;
}

/** What a request is about, for its audit record when the model does not write it (reads, early refusals). */
function restIntent(req: Request): [string, { type: string; id: string }] {
  const parts = req.path.split('/').filter(Boolean).slice(1);
  const [seg, id, op, subId] = parts;
  const info = seg === undefined ? undefined : BY_SEGMENT.get(seg);
  // a Meter's samples are the MeterSample.query operation (src/model/operations.ts)
  if (seg === 'meters' && req.method === 'POST' && id !== undefined && op !== undefined) return [op, { type: 'Meter', id }];
  // Meter.create and Meter.delete (DSP0263 2.0.0 §5.17.4.1, §5.17.3.2)
  if (seg === 'meters' && req.method === 'POST' && id === undefined) return ['create', { type: 'Meter', id: '' }];
  if (seg === 'meters' && req.method === 'DELETE' && id !== undefined && op === undefined) return ['delete', { type: 'Meter', id }];
  if (seg === 'meters') return op === 'samples' ? ['list', { type: 'MeterSampleCollection', id: id ?? '' }] : id === undefined ? ['list', { type: 'MeterCollection', id: '' }] : ['read', { type: 'Meter', id }];
  const type = seg === 'jobs' ? 'Job' : seg === undefined || seg === 'cloudEntryPoint' ? 'CloudEntryPoint' : info?.type ?? seg;
  const one = id !== undefined && op === undefined;
  const target = { type: one || seg === 'cloudEntryPoint' || seg === undefined ? type : `${type}Collection`, id: id ?? '' };
  switch (req.method) {
    case 'GET':
    case 'HEAD':
      return [one || seg === undefined || seg === 'cloudEntryPoint' ? 'read' : 'list', target];
    case 'PUT':
      return ['update', target];
    case 'DELETE':
      return [subId !== undefined ? 'detachVolume' : 'delete', target];
    default:
      return [op === undefined ? 'create' : info && subCollection(info.type, op) ? 'attachVolume' : op, { type, id: id ?? '' }];
  }
}
