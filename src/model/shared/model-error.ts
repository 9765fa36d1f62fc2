/**
 * One protocol-neutral error taxonomy (docs/architecture.md §3). Adapters translate `kind` in exactly one mapper each;
 * the model never knows an HTTP status, a SOAP fault code or a WS-Man subcode.
 */
export type ErrorKind =
  | 'not-found'
  | 'invalid-input'
  | 'invalid-state'
  | 'already-exists'
  | 'conflict'
  | 'precondition'
  | 'quota'
  | 'unsupported'
  | 'unauthenticated'
  | 'forbidden'
  | 'throttled'
  | 'backend-unavailable'
  | 'internal';

export interface ModelErrorDetails {
  /** id of the resource the error is about, if any */
  resourceId?: string;
  resourceType?: string;
  /** for invalid-input: the attribute or parameter that is wrong */
  field?: string;
  /** anything else a mapper may show (never secrets) */
  [k: string]: unknown;
}

export class ModelError extends Error {
  constructor(
    readonly kind: ErrorKind,
    /** stable, documented code such as MACHINE.INVALID_STATE */
    readonly code: string,
    message: string,
    readonly details: ModelErrorDetails = {},
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

export class NotFoundError extends ModelError {
  constructor(type: string, id: string) {
    super('not-found', 'GENERIC.NOT_FOUND', `${type} ${id} not found`, { resourceId: id, resourceType: type });
  }
}

export class InvalidInputError extends ModelError {
  constructor(message: string, field?: string, code = 'GENERIC.INVALID_INPUT') {
    super('invalid-input', code, message, { field });
  }
}

export class InvalidStateError extends ModelError {
  /** `busy`: refused because a transition is under way (a transient state or a running Job); later it may pass */
  constructor(type: string, id: string, action: string, state: string | undefined, readonly busy = false) {
    super(
      'invalid-state',
      `${type.toUpperCase()}.INVALID_STATE`,
      `${action} is not allowed on ${type} ${id} in state ${state ?? '(none)'}`,
      { resourceId: id, resourceType: type, action, state },
    );
  }
}

/** Optimistic-concurrency loss: someone else changed the resource between read and write. */
export class ConcurrentModificationError extends ModelError {
  constructor(type: string, id: string) {
    super('conflict', 'GENERIC.CONCURRENT_MODIFICATION', `${type} ${id} was modified concurrently; retry`, {
      resourceId: id,
      resourceType: type,
    });
  }
}

/** The client's expected version (ETag / If-Match, WS-Man Put) is not the current one. */
export class PreconditionFailedError extends ModelError {
  constructor(type: string, id: string, expected: number, actual: number) {
    super('precondition', 'GENERIC.VERSION_MISMATCH', `${type} ${id} is at version ${actual}, not ${expected}`, {
      resourceId: id,
      resourceType: type,
      expected,
      actual,
    });
  }
}

export class ForbiddenError extends ModelError {
  constructor(message: string) {
    super('forbidden', 'AUTH.FORBIDDEN', message);
  }
}

export class UnauthenticatedError extends ModelError {
  constructor(message = 'authentication required') {
    super('unauthenticated', 'AUTH.UNAUTHENTICATED', message);
  }
}

/**
 * Refused for now, to be tried again after `retryAfterSeconds` (RFC 6585 §4 / RFC 9110 §10.2.3 Retry-After):
 * logins after too many failures (AUTH.DELAYED, AUTH.LOCKED), a caller over its in-flight cap
 * (GENERIC.TOO_MANY_REQUESTS), or the whole gateway at its cap (`overloaded`, GENERIC.OVERLOADED).
 */
export class ThrottledError extends ModelError {
  constructor(
    code: 'AUTH.DELAYED' | 'AUTH.LOCKED' | 'GENERIC.TOO_MANY_REQUESTS' | 'GENERIC.OVERLOADED',
    message: string,
    readonly retryAfterSeconds: number,
    /** the claimed user name of a refused login (for the audit trail; never a secret) */
    readonly userName?: string,
  ) {
    super('throttled', code, message, { retryAfter: retryAfterSeconds });
  }

  /** the gateway as a whole is at its cap (HTTP 503), not this caller (429) */
  get overloaded(): boolean {
    return this.code === 'GENERIC.OVERLOADED';
  }
}

export class UnsupportedError extends ModelError {
  constructor(message: string, code = 'GENERIC.UNSUPPORTED') {
    super('unsupported', code, message);
  }
}

export function isModelError(e: unknown): e is ModelError {
  return e instanceof ModelError;
}
