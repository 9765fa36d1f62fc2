import { All, Controller, Delete, Get, Post, Put, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { InvalidInputError, NotFoundError } from '../../model/shared/model-error';
import { descriptorOf } from '../../model/shared/resource-types';
import { ModelFacade } from '../../model/model.facade';
import { CimiErrorFilter } from './cimi-error.filter';
import { etag, idempotencyKey, ifMatch, requireObject, RestError } from './cimi-http';
import { WIRE, wireInput } from './cimi.mapper';
import { componentDescriptors } from './cimi-request';
import { subCollection } from './cimi-types';
import { normaliseRoot } from './xml/cimi-xml';
import { CimiFront, notRouted, param, queryOf } from './cimi-front';

/** Collections and resources of the entry point: list, create, read, update, delete, actions, and the Machine's sub-collections (DSP0263 2.0.0 §4.2). Registered last: its `:seg` routes and the fallback must not shadow the others. */
@Controller('cimi')
@UseFilters(CimiErrorFilter)
export class CimiCollectionsController {
  constructor(
    private readonly front: CimiFront,
    private readonly model: ModelFacade,
  ) {}

  @Get(':seg')
  async list(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const info = this.front.info(req);
    const q = this.front.query(req);
    const page = await this.model.query(c.ctx, info.type, q.query);
    const items = await Promise.all(page.items.map((r) => this.front.expand(c, c.map.resource(r), req)));
    const doc = c.map.collection(info.type, info.itemsKey, c.uris.collection(info.type), items, page.count);
    this.front.send(res, c, 200, 'Collection', this.front.select(doc, req, info.itemsKey));
  }

  @Post(':seg')
  async create(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const info = this.front.info(req);
    const { root, doc } = this.front.body(req);
    const opts = { idempotencyKey: idempotencyKey(req) };
    // Deltacloud clients capture with a <MachineImageCreate> (or <machineImageCreate>) root (docs/cimi.md §6)
    const expectedRoots = info.create ? [info.create.wrapper] : info.type === 'MachineImage' ? ['MachineImage', 'MachineImageCreate'] : [info.type];
    if (root && !expectedRoots.includes(normaliseRoot(root))) throw new InvalidInputError(`expected <${expectedRoots[0]}>, not <${root}>`, 'body', 'REST.WRONG_ROOT');
    const w = c.wire;
    if (!this.model.canCreate(info.type)) throw new RestError(405, 'REST.METHOD_NOT_ALLOWED', `${info.type} cannot be created`);
    let input: unknown;
    if (info.create) {
      // DSP0263 §4.2.1.1: a `<Type>Create` wrapper carrying the template slot
      input = w.createWrapper(doc, info.create.wrapper, info.create.templateAttr, descriptorOf(info.type).templateType!);
    } else if (info.type === 'MachineImage' || info.type === 'VolumeImage') {
      const v = w.byValue(doc, info.type, WIRE[info.type]!);
      const loc = v.attrs.imageLocation;
      const source = info.type === 'MachineImage' ? 'Machine' : 'Volume';
      // capture when imageLocation is one of our Machines (Volumes) (DSP0263 2.0.0 §5.14.7.1)
      const captureOf = typeof loc === 'string' ? this.front.ownRef(c, loc, source) : undefined;
      input = { ...v, ...(v.attrs as object), captureOf };
    } else {
      input = w.byValue(doc, info.type, wireInput(info.type));
      if (info.type === 'SystemTemplate') componentDescriptors((input as { attrs: Record<string, unknown> }).attrs);
    }
    this.front.created(res, c, await this.model.create(c.ctx, info.type, input as never, opts));
  }

  @Get(':seg/:id')
  async get(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const info = this.front.info(req);
    const r = await this.model.read(c.ctx, info.type, param(req, 'id'));
    const doc = await this.front.expand(c, c.map.resource(r), req);
    this.front.send(res, c, 200, info.type, this.front.select(doc, req), { ETag: etag(r.version) });
  }

  /** full PUT, or partial with `?$select=` (DSP0263 2.0.0 §4.2.1.3.1) */
  @Put(':seg/:id')
  async update(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const info = this.front.info(req);
    const { root, doc } = this.front.body(req);
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
    const out = await this.model.update(c.ctx, info.type, param(req, 'id'), input, { expectedVersion: ifMatch(req), idempotencyKey: idempotencyKey(req) });
    this.front.send(res, c, 200, info.type, c.map.resource(out.resource!), { ETag: etag(out.resource!.version), 'CIMI-Job-URI': c.uris.job(out.job.id) });
  }

  @Delete(':seg/:id')
  async remove(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const info = this.front.info(req);
    const out = await this.model.delete(c.ctx, info.type, param(req, 'id'), { expectedVersion: ifMatch(req), idempotencyKey: idempotencyKey(req) });
    this.front.send(res, c, out.completed ? 200 : 202, 'Job', c.map.job(out.job), { 'CIMI-Job-URI': c.uris.job(out.job.id) });
  }

  /** an action (POST of an Action to an operation href), or an add to a sub-collection (attach) */
  @Post(':seg/:id/:op')
  async actOrAdd(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const info = this.front.info(req);
    const id = param(req, 'id');
    const op = param(req, 'op');
    const opts = { idempotencyKey: idempotencyKey(req), expectedVersion: ifMatch(req) };
    const sub = subCollection(info.type, op);
    if (sub) {
      if (sub.type !== 'MachineVolume') throw new RestError(405, 'REST.METHOD_NOT_ALLOWED', `${op} of a ${info.type} cannot be added to`);
      const { root, doc } = this.front.body(req);
      if (root && normaliseRoot(root) !== 'MachineVolume') throw new InvalidInputError(`expected <MachineVolume>, not <${root}>`, 'body', 'REST.WRONG_ROOT');
      c.wire.checkResourceUri(doc, ['MachineVolume']);
      c.wire.onlyKeys(doc, ['resourceURI', 'name', 'description', 'properties', 'initialLocation', 'volume'], 'MachineVolume');
      const volume = c.uris.parse(requireObject(doc.volume, 'volume').href, 'volume', 'Volume');
      const out = await this.model.attachVolume(c.ctx, id, { ...c.wire.common(doc), volume, initialLocation: doc.initialLocation as string }, opts);
      return this.front.created(res, c, out);
    }
    const params = this.front.action(c, req, op, info.type === 'Volume' ? 'VolumeImage' : 'MachineImage');
    const out = await this.model.act(c.ctx, info.type, id, op, params, opts);
    // docs/cimi.md §4.3: actions answer 202 (the Deltacloud suite requires exactly 202)
    this.front.send(res, c, 202, 'Job', c.map.job(out.job), { 'CIMI-Job-URI': c.uris.job(out.job.id) });
  }

  @Get(':seg/:id/:sub')
  async listSub(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const info = this.front.info(req);
    const sub = subCollection(info.type, param(req, 'sub'));
    if (!sub) throw new NotFoundError('collection', param(req, 'sub'));
    const q = this.front.query(req);
    const page = await this.model.queryChildren(c.ctx, info.type, param(req, 'id'), sub.type, q.query);
    const items = await Promise.all(page.items.map((r) => this.front.expand(c, c.map.resource(r), req)));
    const href = c.uris.subCollection(info.type, param(req, 'id'), sub.segment);
    const doc = c.map.collection(sub.type, sub.itemsKey, href, items, page.count, sub.type === 'MachineVolume');
    this.front.send(res, c, 200, 'Collection', this.front.select(doc, req, sub.itemsKey));
  }

  @Get(':seg/:id/:sub/:subId')
  async getSub(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const info = this.front.info(req);
    const sub = subCollection(info.type, param(req, 'sub'));
    if (!sub) throw new NotFoundError('collection', param(req, 'sub'));
    const r = await this.model.readChild(c.ctx, info.type, param(req, 'id'), sub.type, param(req, 'subId'));
    this.front.send(res, c, 200, sub.type, this.front.select(await this.front.expand(c, c.map.resource(r), req), req), { ETag: etag(r.version) });
  }

  /** detach: DELETE of the MachineVolume link (docs/cimi.md §2.3) */
  @Delete(':seg/:id/:sub/:subId')
  async removeSub(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const info = this.front.info(req);
    const sub = subCollection(info.type, param(req, 'sub'));
    if (!sub) throw new NotFoundError('collection', param(req, 'sub'));
    if (sub.type !== 'MachineVolume') throw new RestError(405, 'REST.METHOD_NOT_ALLOWED', `${sub.type} items cannot be deleted`);
    const out = await this.model.detachVolume(c.ctx, param(req, 'id'), param(req, 'subId'), { expectedVersion: ifMatch(req), idempotencyKey: idempotencyKey(req) });
    this.front.send(res, c, out.completed ? 200 : 202, 'Job', c.map.job(out.job), { 'CIMI-Job-URI': c.uris.job(out.job.id) });
  }

  /**
   * Anything no route above took (declared last, so Nest registers it last): 405 with `Allow` when the URI has
   * other methods, 404 otherwise — both with a Job body (docs/cimi.md §4.4), never Nest's own error JSON.
   */
  @All(['', '*path'])
  async fallback(@Req() req: Request) {
    await this.front.begin(req);
    throw notRouted(req);
  }

}
