import { Logger, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { raw } from 'express';
import { CallerFront } from '../shared/caller-front';
import { WsmanController } from './wsman.controller';
import { WsmanNotifier } from './wsman-notifier';
import { buildEnvelope } from './wsman-envelope';
import { faultNamespaces, renderFaultBody, WsmanFault } from './wsman-fault';

/** Request bodies: raw bytes (decoded by charset/BOM in the controller), capped after inflation (docs/soap.md §3). */
export const WSMAN_BODY_LIMIT = 512 * 1024;

const log = new Logger('WsmanBody');
const readBody = raw({ type: () => true, limit: WSMAN_BODY_LIMIT, inflate: true });

/** body-parser errors (413 too large, 415 encoding, 400 aborted) answered as WS-Man faults with HTTP 500 (§3) */
function wsmanBody(req: Request, res: Response, next: NextFunction): void {
  readBody(req, res, (err?: unknown) => {
    if (!err) return next();
    const status = (err as { status?: number }).status;
    const f =
      status === 413
        ? new WsmanFault('EncodingLimit', `the request exceeds ${WSMAN_BODY_LIMIT} bytes`, { detail: 'ServiceEnvelopeLimit' })
        : status === 415
          ? new WsmanFault('EncodingLimit', 'unsupported content encoding', { detail: 'EncodingType' })
          : new WsmanFault('InvalidMessageInformationHeader', 'the request body could not be read');
    if (!status || status >= 500) log.warn(`body read failed: ${(err as Error).message}`);
    const xml = Buffer.from(buildEnvelope({ action: f.action, body: renderFaultBody(f), namespaces: faultNamespaces(f) }));
    res.status(500).setHeader('Content-Type', 'application/soap+xml;charset=UTF-8');
    res.setHeader('Content-Length', String(xml.length));
    res.end(xml);
  });
}

@Module({ controllers: [WsmanController], providers: [CallerFront, WsmanNotifier] })
export class WsmanModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(wsmanBody).forRoutes('wsman', 'wsman/*path');
  }
}
