import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { AuditScope } from '../../model/audit/audit-scope';
import type { AuditService } from '../../model/audit/audit.service';
import type { Protocol } from '../../model/shared/operation-context';
import { auditedRequest } from './audit-request';

/** The doors by path prefix: every request through one of them gets an audit scope (issue 6 §3). */
const DOORS: [RegExp, Protocol][] = [
  [/^\/cimi(\/|$)/, 'rest'],
  [/^\/soap(12)?(\/|$)/, 'soap'],
  [/^\/wsman(\/|$)/, 'wsman'],
];

const SCOPE = Symbol('auditScope');

/** told when a door's request ends (metrics): its scope, the status sent (undefined: the client went away), the time */
export type RequestEnded = (scope: AuditScope, status: number | undefined, seconds: number) => void;

export function auditScopeOf(req: Request): AuditScope | undefined {
  return (req as unknown as Record<symbol, AuditScope | undefined>)[SCOPE];
}

/**
 * Express middleware, mounted before every door: opens the request's scope and, when the response is finished (or
 * the client went away), lets the audit service write the request's record if the model has not.
 */
export function auditHook(audit: AuditService, ended?: RequestEnded) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const door = DOORS.find(([re]) => re.test(req.path))?.[1];
    if (!door) return next();
    const began = process.hrtime.bigint();
    // req.ip: the peer, or the client a trusted proxy names (TRUST_PROXY), the address the login throttle counts
    const scope = new AuditScope(door, randomUUID(), req.ip ?? req.socket.remoteAddress);
    (req as unknown as Record<symbol, AuditScope>)[SCOPE] = scope;
    // read at record time, after the door has read the body; only called at audit level `full`
    scope.request = () => auditedRequest(req);
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      const rid = (req as unknown as { id?: unknown }).id;
      if (typeof rid === 'string' || typeof rid === 'number') scope.correlationId = String(rid);
      // a 401 challenge before credentials is part of the authentication exchange, still one request, one record
      audit.closeRequest(scope, res.statusCode >= 400 || !res.writableFinished);
      ended?.(scope, res.writableFinished ? res.statusCode : undefined, Number(process.hrtime.bigint() - began) / 1e9);
    };
    res.on('finish', close);
    res.on('close', close);
    // backpressure when the audit buffer is full: the request waits, its record is never dropped (issue 13 §3)
    const admitted = audit.admission();
    if (admitted) void admitted.then(() => next());
    else next();
  };
}
