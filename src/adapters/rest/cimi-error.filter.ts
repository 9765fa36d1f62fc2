import { Catch, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import * as http from 'node:http';
import type { Duplex } from 'node:stream';
import { isModelError, ThrottledError, type ErrorKind } from '../../model/shared/model-error';
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
  // RFC 6585 §4 (one caller over its limits); the whole gateway at its cap is 503 (sendCimiError)
  throttled: 429,
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

/** The transient Job that carries an error (DSP0263 2.0.0 §4.2.2: `id` = ""); the one body of every REST error. */
export function cimiErrorDoc(status: number, code: string, message: string, target: string): Record<string, unknown> {
  return {
    resourceURI: `${CIMI_NS}/Job`,
    id: '',
    state: 'FAILED',
    targetResource: { href: target },
    returnCode: status,
    progress: 100,
    statusMessage: `${code}: ${message}`,
    timeOfStatusChange: new Date().toISOString(),
  };
}

export function sendCimiError(req: Request, res: Response, e: unknown, log: Logger): void {
  let status = 500;
  let message = 'internal error';
  let code = 'GENERIC.INTERNAL';
  if (isModelError(e)) {
    status = e instanceof ThrottledError && e.overloaded ? 503 : STATUS[e.kind];
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
  const doc = cimiErrorDoc(status, code, message, target);
  if (res.headersSent) return void res.end();
  res.status(status);
  res.setHeader('CIMI-Specification-Version', version);
  if (status === 401) res.setHeader('WWW-Authenticate', REALM);
  // RFC 9110 §10.2.3: when to come back (seconds), with 429 (RFC 6585 §4) and 503
  if (e instanceof ThrottledError) res.setHeader('Retry-After', String(e.retryAfterSeconds));
  if (e instanceof RestError) for (const [k, v] of Object.entries(e.headers)) res.setHeader(k, v);
  if (format === 'xml') res.type('application/xml').send(toCimiXml('Job', doc));
  else res.type('application/json').send(JSON.stringify(doc));
}

/** Node's answers to the other malformed requests, as its default `clientError` handling writes them. */
const PLAIN_CLIENT_ERRORS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: '413 Payload Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/**
 * Did the header limit trip inside the request line? `rawPacket` is the chunk being parsed and `bytesParsed` how far
 * the parser got in it: no line end before that point, and the chunk is the start of a request line (method, space)
 * or the tail of one (ends its first line with the HTTP version).
 */
export function overflowInRequestLine(err: { rawPacket?: unknown; bytesParsed?: unknown }): boolean {
  const raw = err.rawPacket;
  if (!Buffer.isBuffer(raw)) return false;
  const parsed = typeof err.bytesParsed === 'number' ? err.bytesParsed : raw.length;
  const eol = raw.indexOf('\r\n');
  if (eol >= 0 && eol < parsed) return false;
  const firstLine = raw.subarray(0, eol < 0 ? raw.length : eol).toString('latin1');
  return /^[A-Z]+ /.test(firstLine) || / HTTP\/\d\.\d$/.test(firstLine);
}

/**
 * `clientError` of the HTTP server: a request line longer than Node's header limit (http.maxHeaderSize) is answered
 * 414 URI Too Long (RFC 9110 §15.5.15) with the CIMI error body when it is addressed to /cimi, and the connection
 * is closed; every other malformed request gets what Node answers by default (400, 408, 413, 431).
 */
export function onClientError(err: NodeJS.ErrnoException & { rawPacket?: unknown; bytesParsed?: unknown }, socket: Duplex): void {
  const inFlight = (socket as unknown as { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  if (err.code === 'HPE_HEADER_OVERFLOW' && overflowInRequestLine(err)) {
    const raw = err.rawPacket as Buffer;
    const path = /^[A-Z]+ (\/[^ ?]*)/.exec(raw.toString('latin1'))?.[1] ?? '';
    let body = '';
    if (path === '/cimi' || path.startsWith('/cimi/')) {
      const local = socket as unknown as { localAddress?: string; localPort?: number };
      const host = local.localAddress?.includes(':') ? `[${local.localAddress}]` : (local.localAddress ?? 'localhost');
      const doc = cimiErrorDoc(414, 'REST.URI_TOO_LONG', `the request line is longer than ${http.maxHeaderSize} bytes`, `http://${host}:${local.localPort ?? 80}${path.length <= 256 ? path : '/cimi'}`);
      body = JSON.stringify(doc);
    }
    const head = [
      'HTTP/1.1 414 URI Too Long',
      'Connection: close',
      ...(body ? ['Content-Type: application/json', `CIMI-Specification-Version: ${SUPPORTED_VERSIONS[0]}`] : []),
      `Content-Length: ${Buffer.byteLength(body)}`,
    ];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  } else {
    socket.end(`HTTP/1.1 ${PLAIN_CLIENT_ERRORS[err.code ?? ''] ?? '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
  }
  // the client may still be sending the rest of the request: do not keep the half-closed socket for long
  setTimeout(() => socket.destroy(), 2000).unref();
}
