import { All, Controller, Delete, Get, Inject, Post, Put, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config/env.schema';
import { IdentityService } from '../../model/identity/identity.service';
import { JobService } from '../../model/job/job.service';
import { MachineService, MACHINE_ACTIONS } from '../../model/machine/machine.service';
import { NetworkService } from '../../model/network/network.service';
import { UnauthenticatedError, InvalidInputError, NotFoundError } from '../../model/shared/model-error';
import type { OperationContext } from '../../model/shared/operation-context';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, type CollectionQuery } from '../../model/shared/query';
import type { Ref, Resource, ResourceType } from '../../model/shared/resource';
import { descriptorOf } from '../../model/shared/resource-types';
import { ResourceService, type OperationOutcome } from '../../model/shared/resource.service';
import { SystemService } from '../../model/system/system.service';
import { BY_VALUE_TYPES, CatalogService, type ByValueType } from '../../model/template/catalog.service';
import { VolumeService } from '../../model/volume/volume.service';
import { ImageService } from '../../model/image/image.service';
import { CimiErrorFilter } from './cimi-error.filter';
import { bodyFormat, etag, idempotencyKey, ifMatch, negotiateFormat, negotiateVersion, requireObject, RestError, type CimiFormat } from './cimi-http';
import { CimiMapper, WIRE, wireInput, type CimiDoc } from './cimi.mapper';
import { CimiRequest, componentDescriptors } from './cimi-request';
import { BY_SEGMENT, CIMI_NS, CIMI_TYPES, subCollection, type CimiTypeInfo } from './cimi-types';
import { CimiUris } from './cimi-uris';
import { parseCimiQuery, type ParsedCimiQuery } from './query/cimi-query';
import { fromCimiXml, normaliseRoot, toCimiXml } from './xml/cimi-xml';
import { ResourceMetadataCatalog } from './resource-metadata';
import { buildOpenApi } from './openapi';
import { auditScopeOf } from '../shared/audit-hook';
import { claimedUser, decodeBasic } from '../shared/basic-credentials';
import { AuditService } from '../../model/audit/audit.service';
import { AUDIT_LOG_ID } from '../../model/audit/cadf';
import { auditEventDoc, auditFilter, auditLogDoc, eventLogHref, eventLogsHref, resourceEventDoc, resourceLogDoc } from './cimi-events';
import { EventService } from '../../model/event/event.service';

interface Call {
  ctx: OperationContext;
  uris: CimiUris;
  format: CimiFormat;
  version: string;
  map: CimiMapper;
  wire: CimiRequest;
}

/**
 * The DMTF CIMI HTTP binding (DSP0263 2.0.0 §4, on the 1.1 wire; docs/cimi.md). Handlers parse, call one
 * application-service method, and map the result; every rule lives in the model.
 */
@Controller('cimi')
@UseFilters(CimiErrorFilter)
export class CimiController {
  constructor(
    @Inject(APP_CONFIG) private readonly cfg: AppConfig,
    private readonly identity: IdentityService,
    private readonly resources: ResourceService,
    private readonly machines: MachineService,
    private readonly volumes: VolumeService,
    private readonly images: ImageService,
    private readonly networks: NetworkService,
    private readonly systems: SystemService,
    private readonly catalog: CatalogService,
    private readonly jobs: JobService,
    private readonly metadata: ResourceMetadataCatalog,
    private readonly audit: AuditService,
    private readonly events: EventService,
  ) {}

  /** serialized OpenAPI documents by version and base URI */
  private readonly openApiCache = new Map<string, string>();

  /** the service method behind each `<Type>Create` wrapper (the wrapper names come from cimi-types.ts) */
  private readonly creators: Partial<Record<ResourceType, (ctx: OperationContext, input: never, opts: { idempotencyKey?: string }) => Promise<OperationOutcome>>> = {
    Machine: (ctx, i, o) => this.machines.create(ctx, i, o),
    Volume: (ctx, i, o) => this.volumes.create(ctx, i, o),
    Credential: (ctx, i, o) => this.catalog.createCredential(ctx, i, o),
    Network: (ctx, i, o) => this.networks.createNetwork(ctx, i, o),
    NetworkPort: (ctx, i, o) => this.networks.createNetworkPort(ctx, i, o),
    Address: (ctx, i, o) => this.networks.createAddress(ctx, i, o),
    ForwardingGroup: (ctx, i, o) => this.networks.createForwardingGroup(ctx, i, o),
    System: (ctx, i, o) => this.systems.create(ctx, i, o),
  };

  // ---- entry point and metadata ----

  @Get(['', 'cloudEntryPoint'])
  async entryPoint(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const doc: CimiDoc = {
      resourceURI: `${CIMI_NS}/CloudEntryPoint`,
      id: c.uris.cloudEntryPoint,
      name: `cimi-gateway (${c.ctx.tenantId})`,
      description: `Cloud entry point of tenant ${c.ctx.tenantId}`,
      baseURI: c.uris.baseURI,
      resourceMetadata: { href: c.uris.resourceMetadata() },
    };
    for (const t of CIMI_TYPES) doc[t.segment] = { href: c.uris.collection(t.type) };
    doc.jobs = { href: c.uris.jobs() };
    doc.eventLogs = { href: eventLogsHref(c.uris) };
    this.send(res, c, 200, 'CloudEntryPoint', this.select(await this.expand(c, doc, req), req));
  }

  @Get('resourceMetadata')
  async metadataCollection(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const items = this.metadata.all(c.uris);
    const doc = c.map.collection('ResourceMetadata', 'resourceMetadata', c.uris.resourceMetadata(), items, items.length, false);
    this.send(res, c, 200, 'Collection', this.select(doc, req, 'resourceMetadata'));
  }

  @Get('resourceMetadata/:id')
  async metadataItem(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const doc = this.metadata.one(c.uris, param(req, 'id'));
    if (!doc) throw new NotFoundError('ResourceMetadata', param(req, 'id'));
    this.send(res, c, 200, 'ResourceMetadata', doc);
  }

  /**
   * The OpenAPI 3 description of this binding, generated from the routing tables (openapi.ts). Served without
   * credentials: it describes the API and shows no tenant data. JSON only, whatever Accept says.
   */
  @Get('openapi.json')
  openApi(@Req() req: Request, @Res() res: Response) {
    const version = negotiateVersion(req.headers['cimi-specification-version']);
    const uris = this.urisOf(req);
    // the document only depends on the base URI and the version: built once per pair (a few, bounded: Host is the client's)
    const key = `${version} ${uris.base}`;
    let text = this.openApiCache.get(key);
    if (text === undefined) {
      text = JSON.stringify(buildOpenApi(uris, version));
      if (this.openApiCache.size >= 16) this.openApiCache.delete(this.openApiCache.keys().next().value!);
      this.openApiCache.set(key, text);
    }
    res.status(200).setHeader('CIMI-Specification-Version', version);
    res.type('application/json').send(text);
  }

  // ---- jobs ----

  @Get('jobs')
  async jobList(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const q = this.query(req);
    const page = await this.jobs.list(c.ctx, q.query);
    const items = page.items.map((j) => c.map.job(j));
    const doc = c.map.collection('Job', 'jobs', c.uris.jobs(), items, page.count, false);
    this.send(res, c, 200, 'Collection', this.select(doc, req, 'jobs'));
  }

  @Get('jobs/:id')
  async jobGet(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const j = await this.jobs.get(c.ctx, param(req, 'id'));
    const nested = (await this.jobs.nested(c.ctx, j.id)).map((n) => n.id);
    this.send(res, c, 200, 'Job', this.select(c.map.job(j, nested), req), { ETag: etag(j.version) });
  }

  @Post('jobs/:id/stop')
  async jobStop(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    this.action(c, req, 'stop');
    const j = await this.jobs.stop(c.ctx, param(req, 'id'), { idempotencyKey: idempotencyKey(req) });
    this.send(res, c, 202, 'Job', c.map.job(j), { 'CIMI-Job-URI': c.uris.job(j.id) });
  }

  @Delete('jobs/:id')
  async jobDelete(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    await this.jobs.delete(c.ctx, param(req, 'id'));
    this.send(res, c, 200, undefined, undefined);
  }

  // ---- the audit trail (issue 6 §3): admins only ----

  @Get('eventLogs')
  async eventLogs(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const { query } = this.query(req);
    if (query.filter || query.orderBy) throw new InvalidInputError('the eventLogs collection has one order (the audit log, then the resources\' logs by id) and no filter; filter the events of a log instead', '$filter', 'QUERY.INVALID_FILTER');
    // DSP0263 2.0.0 §5.17.10: the collection of every EventLog the caller may read: the audit trail (admins), then the
    // EventLog of each evented resource of the tenant, paged together
    const audit = c.ctx.roles.includes('admin') ? 1 : 0;
    const from = Math.max(1, query.first! - audit);
    const to = query.last! - audit;
    const page = await this.events.logs(c.ctx, to >= from ? { first: from, last: to } : { first: 1, last: 1 });
    const logs = [
      ...(audit && query.first! <= 1 ? [auditLogDoc(c.uris)] : []),
      ...(to >= from ? page.items.map((r) => resourceLogDoc(c.uris, r, c.uris.resource(r.type, r.id))) : []),
    ];
    const doc = c.map.collection('EventLog', 'eventLogs', eventLogsHref(c.uris), logs, page.count + audit, false);
    this.send(res, c, 200, 'Collection', this.select(doc, req, 'eventLogs'));
  }

  @Get('eventLogs/:id')
  async eventLog(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const id = param(req, 'id');
    if (id === AUDIT_LOG_ID) {
      await this.audit.list(c.ctx, { first: 1, last: 1 });
      return this.send(res, c, 200, 'EventLog', this.select(auditLogDoc(c.uris), req));
    }
    const r = await this.events.logOf(c.ctx, id);
    this.send(res, c, 200, 'EventLog', this.select(resourceLogDoc(c.uris, r, c.uris.resource(r.type, r.id)), req));
  }

  @Get('eventLogs/:id/events')
  async logEvents(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const id = param(req, 'id');
    const { query } = this.query(req);
    const href = `${eventLogHref(c.uris, id)}/events`;
    if (id === AUDIT_LOG_ID) {
      if (query.filter) query.filter = auditFilter(query.filter);
      if (query.orderBy) query.orderBy = query.orderBy.map((o) => ({ ...o, attr: o.attr === 'timestamp' ? 'eventTime' : o.attr }));
      const page = await this.audit.list(c.ctx, query);
      const doc = c.map.collection('Event', 'events', href, page.items.map((e) => auditEventDoc(c.uris, e)), page.count, false);
      return this.send(res, c, 200, 'Collection', this.select(doc, req, 'events'));
    }
    const { resource, page } = await this.events.list(c.ctx, id, query);
    const target = c.uris.resource(resource.type, resource.id);
    const doc = c.map.collection('Event', 'events', href, page.items.map((e) => resourceEventDoc(c.uris, e, target)), page.count, false);
    this.send(res, c, 200, 'Collection', this.select(doc, req, 'events'));
  }

  @Get('eventLogs/:id/events/:eid')
  async logEvent(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const id = param(req, 'id');
    if (id === AUDIT_LOG_ID) {
      const e = await this.audit.get(c.ctx, param(req, 'eid'));
      if (!e) throw new NotFoundError('Event', param(req, 'eid'));
      return this.send(res, c, 200, 'Event', this.select(auditEventDoc(c.uris, e), req));
    }
    const { resource, event } = await this.events.get(c.ctx, id, param(req, 'eid'));
    this.send(res, c, 200, 'Event', this.select(resourceEventDoc(c.uris, event, c.uris.resource(resource.type, resource.id)), req));
  }

  // ---- collections and resources ----

  @Get(':seg')
  async list(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const info = this.info(req);
    const q = this.query(req);
    const page = await this.resources.list(c.ctx, info.type, q.query);
    const items = await Promise.all(page.items.map((r) => this.expand(c, c.map.resource(r), req)));
    const doc = c.map.collection(info.type, info.itemsKey, c.uris.collection(info.type), items, page.count);
    this.send(res, c, 200, 'Collection', this.select(doc, req, info.itemsKey));
  }

  @Post(':seg')
  async create(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const info = this.info(req);
    const { root, doc } = this.body(req);
    const opts = { idempotencyKey: idempotencyKey(req) };
    // Deltacloud clients capture with a <MachineImageCreate> (or <machineImageCreate>) root (docs/cimi.md §6)
    const expectedRoots = info.create ? [info.create.wrapper] : info.type === 'MachineImage' ? ['MachineImage', 'MachineImageCreate'] : [info.type];
    if (root && !expectedRoots.includes(normaliseRoot(root))) throw new InvalidInputError(`expected <${expectedRoots[0]}>, not <${root}>`, 'body', 'REST.WRONG_ROOT');
    let out: OperationOutcome;
    const w = c.wire;
    if (info.create) {
      // DSP0263 §4.2.1.1: a `<Type>Create` wrapper carrying the template slot
      const input = w.createWrapper(doc, info.create.wrapper, info.create.templateAttr, descriptorOf(info.type).templateType!);
      return this.created(res, c, await this.creators[info.type]!(c.ctx, input as never, opts));
    }
    switch (info.type) {
      case 'MachineImage':
      case 'VolumeImage': {
        const v = w.byValue(doc, info.type, WIRE[info.type]!);
        const loc = v.attrs.imageLocation;
        const source = info.type === 'MachineImage' ? 'Machine' : 'Volume';
        // capture when imageLocation is one of our Machines (Volumes) (DSP0263 2.0.0 §5.14.7.1)
        const captureOf = typeof loc === 'string' ? this.ownRef(c, loc, source) : undefined;
        out = await this.images.create(c.ctx, info.type, { ...v, ...(v.attrs as object), captureOf } as never, opts);
        break;
      }
      default: {
        if (!(BY_VALUE_TYPES as readonly string[]).includes(info.type)) throw new RestError(405, 'REST.METHOD_NOT_ALLOWED', `${info.type} cannot be created`);
        const v = w.byValue(doc, info.type, wireInput(info.type));
        if (info.type === 'SystemTemplate') componentDescriptors(v.attrs);
        out = await this.catalog.create(c.ctx, info.type as ByValueType, v, opts);
      }
    }
    this.created(res, c, out);
  }

  @Get(':seg/:id')
  async get(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const info = this.info(req);
    const r = await this.resources.get(c.ctx, info.type, param(req, 'id'));
    const doc = await this.expand(c, c.map.resource(r), req);
    this.send(res, c, 200, info.type, this.select(doc, req), { ETag: etag(r.version) });
  }

  /** full PUT, or partial with `?$select=` (DSP0263 2.0.0 §4.2.1.3.1) */
  @Put(':seg/:id')
  async update(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const info = this.info(req);
    const { root, doc } = this.body(req);
    if (root && normaliseRoot(root) !== info.type) throw new InvalidInputError(`expected <${info.type}>, not <${root}>`, 'body', 'REST.WRONG_ROOT');
    const specs = descriptorOf(info.type).attrs;
    const wireAttrs = wireInput(info.type).filter((a) => !specs.find((s) => s.name === a)?.readOnly);
    // secrets are never shown, so a client cannot echo them: absent from a full PUT means unchanged, not removed
    // (a partial PUT that names one in $select still resets it)
    const secrets = specs.filter((s) => s.secret).map((s) => s.name);
    const v = c.wire.byValue(doc, info.type, wireInput(info.type), { ignoreReadOnly: true });
    const select = queryOf(req).select;
    const input: { name?: string; description?: string; properties?: Record<string, string>; attrs: Record<string, unknown> } = { attrs: {} };
    const settable = ['name', 'description', 'properties', ...wireAttrs];
    const listed = select ?? settable;
    for (const k of Object.keys(doc)) {
      if (select && !select.includes(k) && k !== 'resourceURI' && k !== 'id') throw new InvalidInputError(`${k} is not in $select`, k, 'REST.NOT_SELECTED');
    }
    for (const k of listed) {
      if (!settable.includes(k)) continue;
      const present = k in doc;
      if (!present && !select && secrets.includes(k)) continue;
      if (k === 'name' || k === 'description' || k === 'properties') (input as Record<string, unknown>)[k] = present ? (v as Record<string, unknown>)[k] : undefined;
      else input.attrs[k] = present ? v.attrs[k] : null; // absent from a full (or selected) PUT means remove
    }
    const out = await this.resources.update(c.ctx, info.type, param(req, 'id'), input, { expectedVersion: ifMatch(req), idempotencyKey: idempotencyKey(req) });
    this.send(res, c, 200, info.type, c.map.resource(out.resource!), { ETag: etag(out.resource!.version), 'CIMI-Job-URI': c.uris.job(out.job.id) });
  }

  @Delete(':seg/:id')
  async remove(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const info = this.info(req);
    const out = await this.resources.delete(c.ctx, info.type, param(req, 'id'), { expectedVersion: ifMatch(req), idempotencyKey: idempotencyKey(req) });
    this.send(res, c, out.completed ? 200 : 202, 'Job', c.map.job(out.job), { 'CIMI-Job-URI': c.uris.job(out.job.id) });
  }

  /** an action (POST of an Action to an operation href), or an add to a sub-collection (attach) */
  @Post(':seg/:id/:op')
  async actOrAdd(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const info = this.info(req);
    const id = param(req, 'id');
    const op = param(req, 'op');
    const opts = { idempotencyKey: idempotencyKey(req), expectedVersion: ifMatch(req) };
    const sub = subCollection(info.type, op);
    if (sub) {
      if (sub.type !== 'MachineVolume') throw new RestError(405, 'REST.METHOD_NOT_ALLOWED', `${op} of a ${info.type} cannot be added to`);
      const { root, doc } = this.body(req);
      if (root && normaliseRoot(root) !== 'MachineVolume') throw new InvalidInputError(`expected <MachineVolume>, not <${root}>`, 'body', 'REST.WRONG_ROOT');
      c.wire.checkResourceUri(doc, ['MachineVolume']);
      c.wire.onlyKeys(doc, ['resourceURI', 'name', 'description', 'properties', 'initialLocation', 'volume'], 'MachineVolume');
      const volume = c.uris.parse(requireObject(doc.volume, 'volume').href, 'volume', 'Volume');
      const out = await this.machines.attachVolume(c.ctx, id, { ...c.wire.common(doc), volume, initialLocation: doc.initialLocation as string }, opts);
      return this.created(res, c, out);
    }
    const params = this.action(c, req, op, info.type === 'Volume' ? 'VolumeImage' : 'MachineImage');
    let out: OperationOutcome;
    if (info.type === 'Machine' && (MACHINE_ACTIONS as readonly string[]).includes(op)) out = await this.machines.act(c.ctx, id, op, params, opts);
    else if (info.type === 'Volume' && op === 'restore') out = await this.resources.restore(c.ctx, 'Volume', id, params.image, opts);
    else if (info.type === 'System') out = await this.systems.act(c.ctx, id, op, params, opts);
    else if (info.type === 'Network' || info.type === 'NetworkPort') out = await this.networks.act(c.ctx, info.type, id, op, opts);
    else throw new NotFoundError(`${info.type} operation`, op);
    // docs/cimi.md §4.3: actions answer 202 (the Deltacloud suite requires exactly 202)
    this.send(res, c, 202, 'Job', c.map.job(out.job), { 'CIMI-Job-URI': c.uris.job(out.job.id) });
  }

  @Get(':seg/:id/:sub')
  async listSub(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const info = this.info(req);
    const sub = subCollection(info.type, param(req, 'sub'));
    if (!sub) throw new NotFoundError('collection', param(req, 'sub'));
    const q = this.query(req);
    const page = await this.resources.listChildren(c.ctx, info.type, param(req, 'id'), sub.type, q.query);
    const items = await Promise.all(page.items.map((r) => this.expand(c, c.map.resource(r), req)));
    const href = c.uris.subCollection(info.type, param(req, 'id'), sub.segment);
    const doc = c.map.collection(sub.type, sub.itemsKey, href, items, page.count, sub.type === 'MachineVolume');
    this.send(res, c, 200, 'Collection', this.select(doc, req, sub.itemsKey));
  }

  @Get(':seg/:id/:sub/:subId')
  async getSub(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const info = this.info(req);
    const sub = subCollection(info.type, param(req, 'sub'));
    if (!sub) throw new NotFoundError('collection', param(req, 'sub'));
    const r = await this.resources.getChild(c.ctx, info.type, param(req, 'id'), sub.type, param(req, 'subId'));
    this.send(res, c, 200, sub.type, this.select(await this.expand(c, c.map.resource(r), req), req), { ETag: etag(r.version) });
  }

  /** detach: DELETE of the MachineVolume link (docs/cimi.md §2.3) */
  @Delete(':seg/:id/:sub/:subId')
  async removeSub(@Req() req: Request, @Res() res: Response) {
    const c = await this.begin(req);
    const info = this.info(req);
    const sub = subCollection(info.type, param(req, 'sub'));
    if (!sub) throw new NotFoundError('collection', param(req, 'sub'));
    if (sub.type !== 'MachineVolume') throw new RestError(405, 'REST.METHOD_NOT_ALLOWED', `${sub.type} items cannot be deleted`);
    const out = await this.machines.detachVolume(c.ctx, param(req, 'id'), param(req, 'subId'), { expectedVersion: ifMatch(req), idempotencyKey: idempotencyKey(req) });
    this.send(res, c, out.completed ? 200 : 202, 'Job', c.map.job(out.job), { 'CIMI-Job-URI': c.uris.job(out.job.id) });
  }

  /**
   * Anything no route above took (declared last, so Nest registers it last): 405 with `Allow` when the URI has
   * other methods, 404 otherwise — both with a Job body (docs/cimi.md §4.4), never Nest's own error JSON.
   */
  @All(['', '*path'])
  async fallback(@Req() req: Request) {
    await this.begin(req);
    throw notRouted(req);
  }

  // ---- helpers ----

  /** authentication (HTTP Basic against the model's users), version and format negotiation */
  private async begin(req: Request): Promise<Call> {
    const audit = auditScopeOf(req);
    audit?.intent(...restIntent(req));
    const version = negotiateVersion(req.headers['cimi-specification-version']);
    const format = negotiateFormat(req);
    const auth = req.headers.authorization;
    const m = auth ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(auth) : null;
    if (!m) throw new UnauthenticatedError('HTTP Basic credentials required');
    const cred = decodeBasic(m[1]);
    if (!cred) throw new UnauthenticatedError('malformed Basic credentials');
    if (audit) {
      audit.claimedUser = claimedUser(cred.userName);
      audit.credentialType = 'basic';
    }
    const user = await this.identity.authenticate(cred.userName, cred.password);
    const rid = (req as unknown as { id?: string }).id ?? randomUUID();
    if (audit) audit.user = user;
    const ctx = this.identity.context(user, 'rest', String(rid), { clientAddress: req.socket.remoteAddress, credentialType: 'basic', audit });
    const uris = this.urisOf(req);
    return { ctx, uris, format, version, map: new CimiMapper(uris, ctx), wire: new CimiRequest(uris) };
  }

  /** hrefs under PUBLIC_BASE_URL when set (behind a proxy), else under the request's own origin */
  private urisOf(req: Request): CimiUris {
    return new CimiUris(this.cfg.PUBLIC_BASE_URL ?? `${req.protocol}://${req.headers.host ?? `${this.cfg.HOST}:${this.cfg.PORT}`}`);
  }

  /** the collection type of the request's first segment; other routes' URIs (jobs, the CEP, …) are 405 here */
  private info(req: Request): CimiTypeInfo {
    const segment = param(req, 'seg');
    const info = BY_SEGMENT.get(segment);
    if (!info) throw notRouted(req);
    return info;
  }

  private ownRef(c: Call, href: string, type: ResourceType) {
    try {
      return c.uris.parse(href, 'imageLocation', type);
    } catch {
      return undefined;
    }
  }

  private body(req: Request): { root?: string; doc: Record<string, unknown> } {
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
  private action(c: Call, req: Request, op: string, imageType: 'MachineImage' | 'VolumeImage' = 'MachineImage'): { force?: boolean; image?: Ref } {
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

  private query(req: Request): { query: CollectionQuery } {
    const parsed = queryOf(req);
    const q = { ...parsed.query };
    // docs/reliability.md rule 4: pages of 100 by default, 1000 at most; `count` tells the client what it missed
    const first = q.first ?? 1;
    const last = q.last ?? first + DEFAULT_PAGE_SIZE - 1;
    q.first = first;
    q.last = Math.min(last, first + MAX_PAGE_SIZE - 1);
    return { query: q };
  }

  /** `$select` (docs/cimi.md §5): on a collection, non-collection names apply to each item */
  private select(doc: CimiDoc, req: Request, itemsKey?: string): CimiDoc {
    const sel = queryOf(req).select;
    if (!sel) return doc;
    const keep = (d: CimiDoc, always: string[]) => Object.fromEntries(Object.entries(d).filter(([k]) => always.includes(k) || sel.includes(k)));
    if (!itemsKey) return keep(doc, ['resourceURI']);
    const collAttrs = ['id', 'count', 'operations', itemsKey];
    const out = keep(doc, ['resourceURI', 'id', 'count', itemsKey]);
    const itemSel = sel.filter((s) => !collAttrs.includes(s));
    if (itemSel.length && Array.isArray(out[itemsKey])) {
      out[itemsKey] = (out[itemsKey] as CimiDoc[]).map((i) => Object.fromEntries(Object.entries(i).filter(([k]) => k === 'resourceURI' || itemSel.includes(k))));
    }
    if (!sel.includes('operations')) delete out.operations;
    return out;
  }

  /** `$expand` (docs/cimi.md §5): inline referenced resources and sub-collections */
  private async expand(c: Call, doc: CimiDoc, req: Request): Promise<CimiDoc> {
    const exp = queryOf(req).expand;
    if (!exp) return doc;
    const all = exp.includes('*');
    for (const [k, v] of Object.entries(doc)) {
      if (k === 'id' || k === 'operations' || (!all && !exp.includes(k))) continue;
      if (!v || typeof v !== 'object' || Array.isArray(v) || typeof (v as { href?: unknown }).href !== 'string') continue;
      const inline = await this.resolve(c, (v as { href: string }).href);
      if (inline) {
        const { resourceURI: _ignored, ...rest } = inline;
        doc[k] = { href: (v as { href: string }).href, ...rest };
      }
    }
    return doc;
  }

  private async resolve(c: Call, href: string): Promise<CimiDoc | undefined> {
    const path = new URL(href).pathname.split('/').filter(Boolean); // cimi, seg, id[, sub]
    if (path[0] !== 'cimi') return undefined;
    const info = BY_SEGMENT.get(path[1]);
    try {
      // a collection of the entry point (its first page, as a GET of it without parameters would answer)
      if (path.length === 2) {
        const page = { first: 1, last: DEFAULT_PAGE_SIZE };
        if (path[1] === 'jobs') {
          const jobs = await this.jobs.list(c.ctx, page);
          return c.map.collection('Job', 'jobs', href, jobs.items.map((j) => c.map.job(j)), jobs.count, false);
        }
        if (path[1] === 'resourceMetadata') {
          const all = this.metadata.all(c.uris);
          return c.map.collection('ResourceMetadata', 'resourceMetadata', href, all, all.length, false);
        }
        if (!info) return undefined;
        const list = await this.resources.list(c.ctx, info.type, page);
        return c.map.collection(info.type, info.itemsKey, href, list.items.map((r) => c.map.resource(r)), list.count);
      }
      if (info && path.length === 3) return c.map.resource(await this.resources.get(c.ctx, info.type, path[2]));
      if (info && path.length === 4) {
        const sub = subCollection(info.type, path[3]);
        if (!sub) return undefined;
        const page = await this.resources.listChildren(c.ctx, info.type, path[2], sub.type, { first: 1, last: MAX_PAGE_SIZE });
        return c.map.collection(sub.type, sub.itemsKey, href, page.items.map((r) => c.map.resource(r)), page.count, sub.type === 'MachineVolume');
      }
    } catch {
      return undefined; // a reference that is gone or not visible stays a plain href
    }
    return undefined;
  }

  private created(res: Response, c: Call, out: OperationOutcome): void {
    const r = out.resource as Resource;
    const headers: Record<string, string> = { Location: c.uris.resource(r.type, r.id, r.parentId), 'CIMI-Job-URI': c.uris.job(out.job.id), ETag: etag(r.version) };
    // DSP0263 2.0.0 §4.2.1.1: 201 when done, 202 while the Job runs (the body is the resource as it is now)
    this.send(res, c, out.completed ? 201 : 202, r.type, c.map.resource(r), headers);
  }

  private send(res: Response, c: Call, status: number, root: string | undefined, doc: CimiDoc | undefined, headers: Record<string, string> = {}): void {
    res.status(status);
    res.setHeader('CIMI-Specification-Version', c.version);
    for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
    if (!doc || !root) return void res.end();
    if (c.format === 'xml') res.type('application/xml').send(toCimiXml(root, doc));
    else res.type('application/json').send(JSON.stringify(doc));
  }
}


/** a route parameter as a string (Express 5 types allow arrays for wildcard routes) */
function param(req: Request, name: string): string {
  const v = req.params[name];
  return Array.isArray(v) ? v.join('/') : String(v ?? '');
}

/** The methods the routes above serve for a path under /cimi (segments after `cimi`), or undefined if none. */
function allowedMethods(path: string[]): string[] | undefined {
  if (path.length === 0 || (path.length === 1 && ['cloudEntryPoint', 'resourceMetadata', 'openapi.json'].includes(path[0]))) return ['GET'];
  if (path[0] === 'resourceMetadata' && path.length === 2) return ['GET'];
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
function notRouted(req: Request): Error {
  const path = req.path.replace(/\/+$/, '').split('/').filter(Boolean).slice(1); // after 'cimi'
  const allowed = allowedMethods(path);
  if (allowed && !allowed.includes(req.method)) {
    return new RestError(405, 'REST.METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${req.path.slice(0, 200)}; allowed: ${allowed.join(', ')}`, { Allow: allowed.join(', ') });
  }
  return new NotFoundError('resource', req.path.slice(0, 200));
}

/** the query parameters, parsed once per request ($expand runs once per item of a page of up to 1000) */
const parsedQueries = new WeakMap<Request, ParsedCimiQuery>();
function queryOf(req: Request): ParsedCimiQuery {
  let q = parsedQueries.get(req);
  if (!q) parsedQueries.set(req, (q = parseCimiQuery(req.query as never)));
  return q;
}

/** What a request is about, for its audit record when the model does not write it (reads, early refusals). */
function restIntent(req: Request): [string, { type: string; id: string }] {
  const parts = req.path.split('/').filter(Boolean).slice(1);
  const [seg, id, op, subId] = parts;
  const info = seg === undefined ? undefined : BY_SEGMENT.get(seg);
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
