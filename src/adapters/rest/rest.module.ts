import { finished } from 'node:stream';
import { Inject, Logger, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../../config/env.schema';
import type { NextFunction, Request, Response } from 'express';
import { text } from 'express';
import { CimiOvfController, isPackageUpload, setSpooledUpload } from './cimi-ovf.controller';
import { spoolUpload } from '../shared/ovf-package';
import { CallerFront } from '../shared/caller-front';
import { dropUnreadBody } from '../shared/admission';
import { CimiCollectionsController } from './cimi-collections.controller';
import { CimiEntryController } from './cimi-entry.controller';
import { CimiEventLogsController } from './cimi-event-logs.controller';
import { CimiFront } from './cimi-front';
import { CimiJobsController } from './cimi-jobs.controller';
import { CimiMetersController } from './cimi-meters.controller';
import { CimiSubscriptionsController } from './cimi-subscriptions.controller';
import { RestWebhookNotifier } from './cimi-subscriptions';
import { sendCimiError } from './cimi-error.filter';
import { ResourceMetadataCatalog } from './resource-metadata';
import { CimiProjection } from './cimi-projection';

/** Request bodies are read as text with a cap (docs/reliability.md rule 5: JSON 1 MiB, inflated size counted). */
export const CIMI_BODY_LIMIT = 1024 * 1024;

const log = new Logger('CimiBody');
const readBody = text({ type: () => true, limit: CIMI_BODY_LIMIT, inflate: true });

/**
 * body-parser errors (413 too large, 415 bad charset or encoding, 400 aborted) answered as CIMI error Jobs. An OVF
 * package uploaded to an import href is binary (a tar with its disk files, up to OVF_MAX_PACKAGE_BYTES): its caller
 * is authenticated first (no credentials, or wrong ones, and not a byte of the body is read: the answer closes the
 * connection), then the body is streamed to a private temporary file, never held whole in memory (spoolUpload).
 */
const SPOOLING = new WeakSet<Request>();

function cimiBody(cfg: AppConfig, front: CimiFront) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!isPackageUpload(req)) {
      // a request without a body (no Transfer-Encoding, no Content-Length: RFC 9112 §6.3), as every GET: body-parser
      // would only find the same and leave req.body undefined, at the cost of its stream checks per request
      if (req.headers['transfer-encoding'] === undefined && req.headers['content-length'] === undefined) {
        req.body = undefined;
        return next();
      }
      return void readBody(req, res, (err?: unknown) => (err ? sendCimiError(req, res, err, log) : next()));
    }
    // both route patterns ('cimi', 'cimi/*path') can run this for one request: its body is read once
    if (SPOOLING.has(req)) return next();
    SPOOLING.add(req);
    const refuse = (err: unknown) => {
      dropUnreadBody(req);
      sendCimiError(req, res, err, log);
    };
    front
      .admitEarly(req)
      .then(() => spoolUpload(req, cfg.OVF_MAX_PACKAGE_BYTES))
      .then((upload) => {
        // finished() also fires for a response already closed (a client gone while the spool was flushing): the
        // temp file never outlives its request
        finished(res, () => void upload.dispose());
        if (res.destroyed) return;
        setSpooledUpload(req, upload);
        next();
      }, refuse);
  };
}

/**
 * The CIMI REST door. Controllers are registered in this order on purpose: the collections controller's `:seg`
 * routes and its catch-all fallback come last, after the fixed paths of the others (Nest registers in order).
 */
@Module({ controllers: [CimiEntryController, CimiJobsController, CimiEventLogsController, CimiMetersController, CimiSubscriptionsController, CimiOvfController, CimiCollectionsController], providers: [ResourceMetadataCatalog, CimiProjection, CimiFront, CallerFront, RestWebhookNotifier] })
export class RestModule implements NestModule {
  constructor(
    @Inject(APP_CONFIG) private readonly cfg: AppConfig,
    private readonly front: CimiFront,
  ) {}

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(cimiBody(this.cfg, this.front)).forRoutes('cimi', 'cimi/*path');
  }
}
