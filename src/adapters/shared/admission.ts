import type { NextFunction, Request, Response } from 'express';
import { addressKey } from '../../model/identity/login-throttle';
import { ThrottledError } from '../../model/shared/model-error';

/** what a refused client is told to wait: in-flight slots free up within a request's time */
const RETRY_AFTER_S = 1;
const DOOR = /^\/(cimi|soap(12)?|wsman)(\/|$)/;
const SLOT = Symbol('admissionSlot');

interface Slot {
  /** the caller the request counts under: its client address until it authenticates, then its user */
  caller?: string;
  refused?: ThrottledError;
  released: boolean;
}

/**
 * In-flight caps (docs/reliability.md rule 5, after Kubernetes' max-requests-inflight): requests in progress in
 * this process, and per caller. Counted from arrival to the response's end; a request over a cap is marked here
 * and refused by its door (`admit`), so the answer is that door's own error (CIMI 429/503, SOAP fault,
 * wsman:QuotaLimit) with Retry-After. Per process on purpose: the cap protects this process's event loop and
 * database pool, which another process's load does not use.
 */
export class Admission {
  private total = 0;
  private readonly perCaller = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly maxPerCaller: number,
  ) {}

  /** Express middleware before every door */
  hook() {
    return (req: Request, res: Response, next: NextFunction): void => {
      if (!DOOR.test(req.path)) return next();
      const slot: Slot = { released: false };
      (req as unknown as Record<symbol, Slot>)[SLOT] = slot;
      const caller = `addr:${addressKey(req.ip ?? '') ?? req.ip ?? 'unknown'}`;
      if (this.total >= this.max) slot.refused = new ThrottledError('GENERIC.OVERLOADED', `the gateway is serving ${this.max} requests; try again in ${RETRY_AFTER_S} s`, RETRY_AFTER_S);
      else if (!this.take(caller)) slot.refused = tooMany(this.maxPerCaller);
      else {
        this.total++;
        slot.caller = caller;
        const release = () => {
          if (slot.released) return;
          slot.released = true;
          this.total--;
          if (slot.caller) this.drop(slot.caller);
        };
        res.on('finish', release);
        res.on('close', release);
      }
      next();
    };
  }

  /** the counts, for tests */
  inFlight(): number {
    return this.total;
  }

  take(caller: string): boolean {
    const n = this.perCaller.get(caller) ?? 0;
    if (n >= this.maxPerCaller) return false;
    this.perCaller.set(caller, n + 1);
    return true;
  }

  drop(caller: string): void {
    const n = (this.perCaller.get(caller) ?? 1) - 1;
    if (n > 0) this.perCaller.set(caller, n);
    else this.perCaller.delete(caller);
  }

  /**
   * Called by each door where it authenticates: before (no user; throws the refusal made at arrival, so a
   * refused request costs no password hash) and after (the request now counts under the user, not the address).
   */
  admit(req: Request, user?: { userId: string }): void {
    const slot = (req as unknown as Record<symbol, Slot | undefined>)[SLOT];
    if (!slot) return;
    if (slot.refused) throw slot.refused;
    const to = user && `user:${user.userId}`;
    if (!to || slot.released || !slot.caller || slot.caller === to) return;
    if (!this.take(to)) {
      slot.refused = tooMany(this.maxPerCaller);
      throw slot.refused;
    }
    this.drop(slot.caller);
    slot.caller = to;
  }
}

function tooMany(cap: number): ThrottledError {
  return new ThrottledError('GENERIC.TOO_MANY_REQUESTS', `more than ${cap} requests of this caller are in progress; try again in ${RETRY_AFTER_S} s`, RETRY_AFTER_S);
}

/** the one Admission of the application (createApp makes it; the doors reach it through the request) */
const ADMISSION = Symbol('admission');

export function admissionHook(a: Admission) {
  const hook = a.hook();
  return (req: Request, res: Response, next: NextFunction): void => {
    (req as unknown as Record<symbol, Admission>)[ADMISSION] = a;
    hook(req, res, next);
  };
}

/** the door's call (see Admission.admit); a no-op for requests that came in without the hook (unit tests) */
export function admit(req: Request, user?: { userId: string }): void {
  (req as unknown as Record<symbol, Admission | undefined>)[ADMISSION]?.admit(req, user);
}

/** how long a refused request's unread body is still read (and dropped) so that its client sees the answer */
export const UNREAD_BODY_GRACE_MS = 5000;

/**
 * A request answered before its body was read (a refused login, an over-cap upload): the rest of the body is
 * read and dropped for a short while, then the connection is closed. Closing at once would make the kernel reset
 * a connection that still has unread data, and a client still sending would see ECONNRESET instead of the answer.
 */
export function dropUnreadBody(req: Request): void {
  const timer = setTimeout(() => req.socket?.destroy(), UNREAD_BODY_GRACE_MS);
  timer.unref();
  const done = () => clearTimeout(timer);
  req.once('end', done);
  req.once('close', done);
  req.resume();
}
