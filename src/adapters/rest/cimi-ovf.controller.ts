import { Controller, Get, Inject, Post, Req, Res, UseFilters } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/env.schema';
import type { Request, Response } from 'express';
import { InvalidInputError, ModelError } from '../../model/shared/model-error';
import { ModelFacade } from '../../model/model.facade';
import { CimiErrorFilter } from './cimi-error.filter';
import { idempotencyKey } from './cimi-http';
import { CIMI_NS } from './cimi-types';
import { normaliseRoot } from './xml/cimi-xml';
import { CimiFront, param, type Call } from './cimi-front';
import { exportFile, packageOfSource, withExportDir, withPackage, withSpooledPackage, type PackageInput, type SpooledUpload } from '../shared/ovf-package';

/** media types of a package uploaded as the body of an import (the descriptor, or an OVA) */
const PACKAGE_TYPES = ['application/ovf+xml', 'application/ovf', 'application/x-ova', 'application/ova', 'application/x-tar', 'application/octet-stream'];
/** the `format` of an export (DSP0263 2.0.0 §5.13.1: default application/ovf) → the Location's extension */
const FORMATS: Record<string, 'ovf' | 'ova'> = { 'application/ovf': 'ovf', 'application/ovf+xml': 'ovf', 'application/x-ova': 'ova', 'application/ova': 'ova' };

export function isPackageUpload(req: Request): boolean {
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return req.method === 'POST' && /\/cimi\/(?:systems|systemTemplates)\/import\/?(?:\?|$)/.test(req.originalUrl) && PACKAGE_TYPES.includes(type);
}

const UPLOADS = new WeakMap<Request, SpooledUpload>();

/** the file an import's package body was spooled to (rest.module.ts), removed when the response ends */
export function setSpooledUpload(req: Request, upload: SpooledUpload): void {
  UPLOADS.set(req, upload);
}

function spooledUpload(req: Request): SpooledUpload | undefined {
  return UPLOADS.get(req);
}

const EXPORTABLE: Record<string, 'System' | 'SystemTemplate'> = { systems: 'System', systemTemplates: 'SystemTemplate' };

/**
 * OVF import and export on the CIMI wire (DSP0263 2.0.0 §5.13.1, §5.13.4, §5.13.5; docs/operations.md). Registered
 * before the collections controller, whose `:seg/:id/:op` routes would take these paths.
 */
@Controller('cimi')
@UseFilters(CimiErrorFilter)
export class CimiOvfController {
  constructor(
    private readonly front: CimiFront,
    private readonly model: ModelFacade,
    @Inject(APP_CONFIG) private readonly cfg: AppConfig,
  ) {}

  /**
   * import: an Action with a `source` URI, or the package itself as the body. `systemTemplates/import` makes the
   * SystemTemplate (DSP0263 2.0.0 §5.13.5.1); `systems/import` also a System from it (§5.13.2), 202 while its Job runs.
   */
  @Post(['systemTemplates/import', 'systems/import'])
  async import(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    let bytes: Buffer | undefined;
    let source: string | undefined;
    const upload = spooledUpload(req);
    if (!upload) {
      const doc = this.actionDoc(c, req, 'import', ['source']);
      source = doc.source as string;
      bytes = packageOfSource(doc.source, 'source', this.cfg.OVF_MAX_PACKAGE_BYTES);
      // a data: URI is the package itself; only a short one is worth keeping as where it came from
      if (source.startsWith('data:')) source = undefined;
    }
    const opts = { idempotencyKey: idempotencyKey(req) };
    const system = req.path.split('/').filter(Boolean)[1] === 'systems';
    const run = (pkg: PackageInput) => {
      const input = { ...pkg, source };
      return system ? this.model.importSystem(c.ctx, input, opts) : this.model.importSystemTemplate(c.ctx, input, opts);
    };
    const max = this.cfg.OVF_MAX_PACKAGE_BYTES;
    const out = upload ? await withSpooledPackage(upload, 'source', max, run) : await withPackage(bytes!, 'source', max, run);
    this.front.created(res, c, out);
  }

  /** export: the package is at the Location (DSP0263 2.0.0 §5.13.1: no destination given) */
  @Post(['systems/:id/export', 'systemTemplates/:id/export'])
  async export(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const type = this.exportable(req);
    const doc = this.actionDoc(c, req, 'export', ['format', 'destination']);
    if (doc.destination !== undefined) throw new ModelError('unsupported', 'OVF.DESTINATION_UNSUPPORTED', 'destination is not supported: GET the package at the Location', { field: 'destination' });
    const format = doc.format === undefined ? 'application/ovf' : String(doc.format);
    const ext = FORMATS[format];
    if (!ext) throw new ModelError('unsupported', 'OVF.FORMAT_UNSUPPORTED', `format ${format.slice(0, 60)} is not supported (application/ovf, application/x-ova)`, { field: 'format' });
    const id = param(req, 'id');
    await this.model.exportOvf(c.ctx, type, id);
    this.front.send(res, c, 201, undefined, undefined, { Location: `${c.uris.resource(type, id)}/export.${ext}` });
  }

  /** the export package, as the System or SystemTemplate is now */
  @Get(['systems/:id/export.:ext', 'systemTemplates/:id/export.:ext'])
  async package(@Req() req: Request, @Res() res: Response) {
    const c = await this.front.begin(req);
    const type = this.exportable(req);
    const ext = param(req, 'ext');
    if (ext !== 'ovf' && ext !== 'ova') throw new InvalidInputError(`no export format .${ext.slice(0, 20)}`, 'format', 'OVF.FORMAT_UNSUPPORTED');
    const id = param(req, 'id');
    // an OVA carries the disks (issue 17 §2); they are written out for this response only
    const file = ext === 'ova' ? await withExportDir(async (dir) => exportFile(await this.model.exportOvf(c.ctx, type, id, dir), true)) : await exportFile(await this.model.exportOvf(c.ctx, type, id), false);
    res.status(200).setHeader('CIMI-Specification-Version', c.version);
    res.setHeader('Content-Disposition', `attachment; filename="${file.fileName}"`);
    // the descriptor as text keeps Express's `; charset=utf-8`; the OVA is bytes
    res.type(file.mediaType).send(ext === 'ovf' ? file.bytes.toString('utf8') : file.bytes);
  }

  private exportable(req: Request): 'System' | 'SystemTemplate' {
    return EXPORTABLE[req.path.split('/').filter(Boolean)[1]];
  }

  /** an Action body (docs/cimi.md §3) for `op`, with its parameters */
  private actionDoc(c: Call, req: Request, op: string, params: string[]): Record<string, unknown> {
    const { root, doc } = this.front.body(req);
    if (root && normaliseRoot(root) !== 'Action') throw new InvalidInputError(`expected <Action>, not <${root}>`, 'body', 'REST.WRONG_ROOT');
    c.wire.checkResourceUri(doc, ['Action']);
    c.wire.onlyKeys(doc, ['resourceURI', 'action', 'properties', ...params], 'Action');
    const action = typeof doc.action === 'string' ? doc.action.trim().split('/').pop() : undefined;
    if (action !== op) throw new InvalidInputError(`the Action's action must be ${CIMI_NS}/action/${op}`, 'action', 'REST.ACTION_MISMATCH');
    for (const p of params) if (doc[p] !== undefined && typeof doc[p] !== 'string') throw new InvalidInputError(`${p} must be a string`, p);
    return doc;
  }
}
