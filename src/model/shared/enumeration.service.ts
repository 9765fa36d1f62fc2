import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { CLOCK, type Clock } from './clock';
import { ENUMERATION_CONTEXTS, type EnumerationContextRecord, type EnumerationContextStore } from './enumeration-context';
import { ConcurrentModificationError, ModelError } from './model-error';
import type { OperationContext } from './operation-context';

/** Idle lifetime of a context when the client asks for none (openwsman keeps 100 s; consoles pause longer). */
export const DEFAULT_ENUMERATION_IDLE_MS = 10 * 60_000;
/** Longest lifetime a client may ask for. */
export const MAX_ENUMERATION_LIFETIME_MS = 24 * 3600_000;
/** Live contexts one principal may hold (WinRM's MaxConcurrentOperationsPerUser is 1500). */
export const MAX_ENUMERATIONS_PER_PRINCIPAL = 1000;
const PURGE_INTERVAL_MS = 60_000;

/** Unknown, expired, released, finished or someone else's context: indistinguishable on purpose. */
export class InvalidEnumerationContextError extends ModelError {
  constructor() {
    super('not-found', 'ENUMERATION.INVALID_CONTEXT', 'the enumeration context is unknown, expired or released');
    this.name = 'InvalidEnumerationContextError';
  }
}

/** An expiry that is not in the future: nothing to grant (WS-Enumeration §3.1, wsen:InvalidExpirationTime). */
export class InvalidExpirationError extends ModelError {
  constructor(message: string) {
    super('invalid-input', 'ENUMERATION.INVALID_EXPIRATION', message);
    this.name = 'InvalidExpirationError';
  }
}

export interface OpenEnumeration {
  resourceUri: string;
  query: Record<string, unknown>;
  /** requested lifetime: an absolute time, or a duration from now; absent = a sliding idle window */
  expires?: { at: Date } | { afterMs: number };
  /** position after the items already handed out with the opening response (optimized enumeration) */
  cursor?: string;
}

/**
 * Enumerations in progress (WS-Enumeration contexts): opened by Enumerate, advanced by each Pull, dropped by
 * Release or when the last item has been handed out. The state is the store's rows only, so any gateway process
 * on the database can serve the next Pull.
 */
@Injectable()
export class EnumerationService {
  constructor(
    @Inject(ENUMERATION_CONTEXTS) private readonly store: EnumerationContextStore,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async open(ctx: OperationContext, input: OpenEnumeration): Promise<EnumerationContextRecord> {
    const now = this.clock.now();
    // checked before anything is stored or counted: a past dateTime or a zero/negative duration is never granted
    if (input.expires && ('at' in input.expires ? input.expires.at.getTime() <= now.getTime() : input.expires.afterMs <= 0)) {
      throw new InvalidExpirationError('at' in input.expires ? `Expires ${input.expires.at.toISOString()} is not in the future` : 'Expires is not a positive duration');
    }
    await this.purge(now);
    if ((await this.store.countLive(ctx.tenantId, ctx.principal.userId, now)) >= MAX_ENUMERATIONS_PER_PRINCIPAL) {
      throw new ModelError('quota', 'ENUMERATION.TOO_MANY', `at most ${MAX_ENUMERATIONS_PER_PRINCIPAL} enumerations may be open at once; release some`);
    }
    let expiresMs: number;
    let idleMs: number | null = null;
    if (!input.expires) {
      idleMs = DEFAULT_ENUMERATION_IDLE_MS;
      expiresMs = now.getTime() + idleMs;
    } else {
      const at = 'at' in input.expires ? input.expires.at.getTime() : now.getTime() + input.expires.afterMs;
      // WS-Enumeration §3.1: the service may grant another expiry than asked; the response carries the granted one
      expiresMs = Math.min(at, now.getTime() + MAX_ENUMERATION_LIFETIME_MS);
    }
    const record: EnumerationContextRecord = {
      id: `uuid:${randomUUID()}`,
      tenantId: ctx.tenantId,
      principalId: ctx.principal.userId,
      resourceUri: input.resourceUri,
      query: input.query,
      cursor: input.cursor ?? null,
      idleMs,
      expires: new Date(expiresMs),
      created: now,
      version: 1,
    };
    ctx.deadline?.enterCommit();
    await this.store.insert(record);
    return record;
  }

  private lastPurge?: number;

  /**
   * Expired contexts of everyone are deleted by the Enumerates that follow (no timer), at most once a minute per
   * process; housekeeping never fails an Enumerate (an expired row is invisible to `find` anyway).
   */
  private async purge(now: Date): Promise<void> {
    const t = now.getTime();
    if (this.lastPurge !== undefined && t >= this.lastPurge && t - this.lastPurge < PURGE_INTERVAL_MS) return;
    this.lastPurge = t;
    await this.store.purgeExpired(now).catch(() => undefined);
  }

  /** the caller's live context; InvalidEnumerationContextError otherwise */
  async resume(ctx: OperationContext, id: string): Promise<EnumerationContextRecord> {
    if (typeof id !== 'string' || id.length === 0 || id.length > 64) throw new InvalidEnumerationContextError();
    const r = await this.store.find(ctx.tenantId, ctx.principal.userId, id, this.clock.now());
    if (!r) throw new InvalidEnumerationContextError();
    return r;
  }

  /**
   * Records the position after a page. A context advanced meanwhile by a concurrent Pull is a conflict (the
   * page just computed may overlap the other one), a context gone meanwhile is invalid.
   */
  async advance(ctx: OperationContext, r: EnumerationContextRecord, cursor: string): Promise<EnumerationContextRecord> {
    const now = this.clock.now();
    const expires = r.idleMs !== null ? new Date(now.getTime() + r.idleMs) : r.expires;
    // a page the door no longer answers must not move the cursor past it (Deadline)
    ctx.deadline?.enterCommit();
    if (await this.store.advance(r, cursor, expires, now)) return { ...r, cursor, expires, version: r.version + 1 };
    const current = await this.store.find(ctx.tenantId, ctx.principal.userId, r.id, now);
    if (!current) throw new InvalidEnumerationContextError();
    throw new ConcurrentModificationError('EnumerationContext', r.id);
  }

  /** drops a context whose last item was handed out (conditional on the version read, like advance) */
  async finish(ctx: OperationContext, r: EnumerationContextRecord): Promise<void> {
    ctx.deadline?.enterCommit();
    if (await this.store.remove(ctx.tenantId, ctx.principal.userId, r.id, r.version)) return;
    const current = await this.store.find(ctx.tenantId, ctx.principal.userId, r.id, this.clock.now());
    if (!current) throw new InvalidEnumerationContextError();
    throw new ConcurrentModificationError('EnumerationContext', r.id);
  }

  /** WS-Enumeration Release: the caller's live context is deleted; anything else is InvalidEnumerationContext */
  async release(ctx: OperationContext, id: string): Promise<void> {
    await this.resume(ctx, id);
    ctx.deadline?.enterCommit();
    if (!(await this.store.remove(ctx.tenantId, ctx.principal.userId, id))) throw new InvalidEnumerationContextError();
  }
}
