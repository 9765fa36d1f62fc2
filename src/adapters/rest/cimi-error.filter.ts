import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { isModelError, type ErrorKind } from '../../model/shared/model-error';
import { toCimiXml, CimiXmlError } from './xml/cimi-xml';
import { negotiateFormat, negotiateVersion, RestError, SUPPORTED_VERSIONS } from './cimi-http';
import { CIMI_NS } from './cimi-types';
import { auditScopeOf } from '../shared/audit-hook';

/** The ONLY place a model error becomes an HTTP status (docs/architecture.md §3; docs/cimi.md §4.4 table). */
const STATUS: Record<ErrorKind, number> = {
  'not-found': 404,
  'invalid-input': 400,
  'invalid-state': 409,
  'already-exists': 409,
  conflict: 409,
  precondition: 412,
  quota: 409,
  unsupported: 501,
  unauthenticated: 401,
  forbidden: 403,
  'backend-unavailable': 503,
  internal: 500,
};

export const REALM = 'Basic realm="cimi-gateway", charset="UTF-8"';

/** Maps any error on /cimi to its status and a transient Job body (DSP0263 2.0.0 §4.2.2: `id` = ""). */
@Catch()
export class CimiErrorFilter implements ExceptionFilter {
  private readonly log = new Logger('CimiErrorFilter');

  catch(e: unknown, host: ArgumentsHost): void {
    const req = host.switchToHttp().getRequest<Request>();
    const res = host.switchToHttp().getResponse<Response>();
    sendCimiError(req, res, e, this.log);
  }
}

export function sendCimiError(req: Request, res: Response, e: unknown, log: Logger): void {
  let status = 500;
  let message = 'internal error';
  let code = 'GENERIC.INTERNAL';
  if (isModelError(e)) {
    status = STATUS[e.kind];
    code = e.code;
    message = e.message;
    auditScopeOf(req)?.failed(e.kind, e.code);
  } else if (e instanceof RestError) {
    status = e.status;
    code = e.code;
    message = e.message;
  } else if (e instanceof CimiXmlError) {
    status = 400;
    code = 'REST.MALFORMED_XML';
    message = e.message;
  } else if (typeof (e as { status?: unknown })?.status === 'number' && (e as { status: number }).status < 500) {
    // body-parser and Nest routing errors: payload too large (413), bad encoding (415), unknown route (404)
    status = (e as { status: number }).status;
    code = status === 413 ? 'REST.BODY_TOO_LARGE' : status === 404 ? 'GENERIC.NOT_FOUND' : 'REST.BAD_REQUEST';
    message = status === 413 ? 'request body too large' : status === 404 ? `no resource at ${req.path}` : ((e as Error).message ?? 'bad request');
  } else {
    const rid = (req as unknown as { id?: string }).id;
    log.error(`request ${rid ?? ''} failed: ${(e as Error)?.stack ?? String(e)}`);
    message = `internal error (request id ${rid ?? 'unknown'})`;
  }
  let format: 'json' | 'xml' = 'json';
  try {
    format = negotiateFormat(req);
  } catch {
    /* the error body of a 406 is JSON */
  }
  let version = SUPPORTED_VERSIONS[0];
  try {
    version = negotiateVersion(req.headers['cimi-specification-version']);
  } catch {
    /* answered with the default */
  }
  const target = `${req.protocol}://${req.headers.host ?? 'localhost'}${req.originalUrl.split('?')[0]}`;
  const doc: Record<string, unknown> = {
    resourceURI: `${CIMI_NS}/Job`,
    id: '',
    state: 'FAILED',
    targetResource: { href: target },
    returnCode: status,
    progress: 100,
    statusMessage: `${code}: ${message}`,
    timeOfStatusChange: new Date().toISOString(),
  };
  if (res.headersSent) return void res.end();
  res.status(status);
  res.setHeader('CIMI-Specification-Version', version);
  if (status === 401) res.setHeader('WWW-Authenticate', REALM);
  if (e instanceof RestError) for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  if (format === 'xml') res.type('application/xml').send(toCimiXml('Job', doc));
  else res.type('application/json').send(JSON.stringify(doc));
}
