import { Controller, Get, Req, Res, UseFilters } from '@nestjs/common';
import type { Request, Response } from 'express';
import { NotFoundError } from '../../model/shared/model-error';
import { CimiErrorFilter } from './cimi-error.filter';
import { negotiateVersion } from './cimi-http';
import { type CimiDoc } from './cimi.mapper';
import { CIMI_NS, CIMI_TYPES } from './cimi-types';
import { ResourceMetadataCatalog } from './resource-metadata';
import { buildOpenApi } from './openapi';
import { eventLogsHref } from './cimi-events';
import { metersHref } from './cimi-meters';
import { CimiFront, param } from './cimi-front';
import { QuotaService } from '../../model/quota/quota.service';

/** The cloud entry point, ResourceMetadata and the OpenAPI description (DSP0263 2.0.0 §5.5, §5.16). */
@Controller('cimi')
@UseFilters(CimiErrorFilter)
export class CimiEntryController {
  constructor(
    private readonly front: CimiFront,
    private readonly metadata: ResourceMetadataCatalog,
    private readonly quotas: QuotaService,
  ) {}
  /** serialized OpenAPI documents by version and base URI */
  private readonly openApiCache = new Map<string, string>();

  @Get(['', 'cloudEntryPoint'])
  async entryPoint(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
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
    doc.meters = { href: metersHref(c.uris) };
    this.front.send(res, c, 200, 'CloudEntryPoint', this.front.select(await this.front.expand(c, doc, req), req));
  }

  @Get('resourceMetadata')
  async metadataCollection(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const items = this.metadata.all(c.uris, await this.quotas.get(c.ctx));
    const doc = c.map.collection('ResourceMetadata', 'resourceMetadata', c.uris.resourceMetadata(), items, items.length, false);
    this.front.send(res, c, 200, 'Collection', this.front.select(doc, req, 'resourceMetadata'));
  }

  @Get('resourceMetadata/:id')
  async metadataItem(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const doc = this.metadata.one(c.uris, param(req, 'id'), await this.quotas.get(c.ctx));
    if (!doc) throw new NotFoundError('ResourceMetadata', param(req, 'id'));
    this.front.send(res, c, 200, 'ResourceMetadata', doc);
  }

  /**
   * The OpenAPI 3 description of this binding, generated from the routing tables (openapi.ts). Served without
   * credentials: it describes the API and shows no tenant data. JSON only, whatever Accept says.
   */
  @Get('openapi.json')
  openApi(@Req() req: Request, @Res() res: Response) {
    const version = negotiateVersion(req.headers['cimi-specification-version']);
    const uris = this.front.urisOf(req);
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

}
