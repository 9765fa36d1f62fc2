import type { Request } from 'express';
import { InvalidInputError, ModelError } from '../../model/shared/model-error';

/** An error that only exists at the HTTP edge (media types, versions, sizes); mapped by the same filter. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** response headers that go with the error (e.g. `Allow` on a 405) */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export type CimiFormat = 'json' | 'xml';

/**
 * Response format (docs/cimi.md §4): `$format` (first occurrence, case-insensitive) overrides `Accept`;
 * `*​/*`, `application/*` and no Accept give JSON; nothing acceptable is 406.
 */
export function negotiateFormat(req: Request): CimiFormat {
  const raw = req.query.$format;
  const f = Array.isArray(raw) ? raw[0] : raw;
  if (typeof f === 'string') {
    const v = f.toLowerCase();
    if (v === 'json' || v === 'xml') return v;
    throw new RestError(406, 'REST.NOT_ACCEPTABLE', `$format=${f.slice(0, 40)} is not json or xml`);
  }
  const accept = req.headers.accept;
  if (!accept) return 'json';
  const ranges = accept
    .split(',')
    .map((p, i) => {
      const [type, ...params] = p.trim().toLowerCase().split(';');
      const q = params.map((x) => x.trim()).find((x) => x.startsWith('q='));
      return { type: type.trim(), q: q ? Number(q.slice(2)) : 1, i };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const r of ranges) {
    if (r.type === 'application/json') return 'json';
    if (r.type === 'application/xml' || r.type === 'text/xml') return 'xml';
    if (r.type === '*/*' || r.type === 'application/*') return 'json';
  }
  throw new RestError(406, 'REST.NOT_ACCEPTABLE', `none of ${accept.slice(0, 100)} can be produced; use application/json or application/xml`);
}

/** Supported CIMI versions, preferred first (docs/cimi.md §4.1; 1.0.x clients share the 1.x namespace). */
export const SUPPORTED_VERSIONS = ['1.1.0', '1.0.1'];

/**
 * CIMI-Specification-Version negotiation as the 1.0.x servers do it (docs/cimi.md §4.1): absent → default;
 * else the first requested major.minor we support; none → 400. Never required.
 */
export function negotiateVersion(header: string | string[] | undefined): string {
  const h = (Array.isArray(header) ? header.join(',') : header ?? '').trim();
  if (!h) return SUPPORTED_VERSIONS[0];
  for (const entry of h.split(',')) {
    const m = /^\s*(\d+)\.(\d+)(?:\.\d+)?\s*$/.exec(entry);
    if (!m) continue;
    const hit = SUPPORTED_VERSIONS.find((v) => v.startsWith(`${m[1]}.${m[2]}.`));
    if (hit) return hit;
  }
  throw new RestError(400, 'REST.UNSUPPORTED_VERSION', `none of the requested CIMI versions (${h.slice(0, 80)}) is supported; supported: ${SUPPORTED_VERSIONS.join(', ')}`);
}

/** Request media type of a body: JSON, or XML (application/xml and text/xml, docs/cimi.md §4); else 415. */
export function bodyFormat(req: Request): CimiFormat {
  const ct = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (ct === 'application/json') return 'json';
  if (ct === 'application/xml' || ct === 'text/xml') return 'xml';
  throw new RestError(415, 'REST.UNSUPPORTED_MEDIA_TYPE', `Content-Type ${ct || '(none)'} is not supported; use application/json or application/xml`);
}

/** ETag from the resource version (strong; docs/reliability.md rule 1). */
export function etag(version: number): string {
  return `"${version}"`;
}

/** If-Match → the version the client expects; `*` or absent means no precondition. */
export function ifMatch(req: Request): number | undefined {
  const h = req.headers['if-match'];
  if (!h || h.trim() === '*') return undefined;
  const m = /^\s*(?:W\/)?"(\d+)"\s*$/.exec(h);
  // an ETag we never issued cannot match the current one (RFC 9110 §13.1.1)
  if (!m) throw new ModelError('precondition', 'GENERIC.VERSION_MISMATCH', `If-Match ${h.slice(0, 40)} does not match`);
  return Number(m[1]);
}

export function idempotencyKey(req: Request): string | undefined {
  const h = req.headers['idempotency-key'];
  return typeof h === 'string' ? h : undefined;
}

export function requireObject(v: unknown, what: string): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new InvalidInputError(`${what} must be an object`, what, 'REST.MALFORMED_BODY');
  return v as Record<string, unknown>;
}
