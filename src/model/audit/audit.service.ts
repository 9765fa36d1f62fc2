import { Inject, Injectable, Logger, Optional, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { CLOCK, type Clock } from '../shared/clock';
import { newId } from '../shared/ids';
import type { ErrorKind } from '../shared/model-error';
import type { OperationContext } from '../shared/operation-context';
import { AUDIT_LOG, type AuditLog, type TenantTx } from '../shared/ports';
import type { CollectionQuery, Page } from '../shared/query';
import { requireAdmin } from '../shared/authorization';
import type { Job } from '../job/job';
import type { AuditScope } from './audit-scope';
import { parseAuditPolicy, DEFAULT_AUDIT_POLICY, type AuditClass, type AuditLevel, type AuditPolicy } from './audit-policy';
import {
  CADF_EVENT_TYPE_URI,
  OBSERVER,
  cadfAction,
  cimiTypeUri,
  initiatorOf,
  jobCompletionEvent,
  operationVerb,
  type AuditEvent,
  type CadfInitiator,
  type CadfOutcome,
} from './cadf';

const GATEWAY_TARGET = { id: 'cimi-gateway', typeURI: 'service/compute' };

/** group commit of request records (issue 13 §3, after Kubernetes' batching audit backend) */
export interface AuditOptions {
  /** the longest a record waits for its commit (0: one commit per record, at once) */
  flushMs: number;
  /** buffered records beyond which the doors wait before admitting a request (backpressure, nothing dropped) */
  bufferMax: number;
  /** what each door keeps of each class of request (AUDIT_POLICY) */
  policy?: AuditPolicy;
  /** records older than this many days are deleted (0: kept until an operator removes them) */
  retentionDays?: number;
}
export const AUDIT_OPTIONS = Symbol('AUDIT_OPTIONS');
/** records per commit: big enough to amortize the commit, small enough to keep one write short */
const BATCH = 500;
/** rows per retention DELETE: each statement stays short (no long lock, no event-loop stall on SQLite) */
const PURGE_BATCH = 2000;
const DAY_MS = 86400000;
/** how often retention runs (also once at start) */
const PURGE_EVERY_MS = 3600000;
const READ_VERBS = new Set(['read', 'list']);

/** The CADF audit trail (issue 6 §3): who did what to which resource, through which door, with what outcome. */
@Injectable()
export class AuditService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly pending = new Set<Promise<void>>();
  private buffer: AuditEvent[] = [];
  private timer?: NodeJS.Timeout;
  private drained?: { promise: Promise<void>; resolve: () => void };
  private readonly policy: AuditPolicy;
  private purgeTimer?: NodeJS.Timeout;
  private purging?: Promise<number>;
  private readonly logger = new Logger('Audit');

  constructor(
    @Inject(AUDIT_LOG) private readonly log: AuditLog,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(AUDIT_OPTIONS) private readonly options: AuditOptions = { flushMs: 0, bufferMax: 10000 },
  ) {
    this.policy = options.policy ?? parseAuditPolicy(DEFAULT_AUDIT_POLICY);
  }

  /** the policy level of a request of this class through its door */
  private level(protocol: AuditScope['protocol'], cls: AuditClass): AuditLevel {
    return this.policy[protocol][cls];
  }

  /** at `full`, the request itself (what its door captured, secrets removed) as a CADF attachment */
  private withRequest(e: AuditEvent, scope: AuditScope | undefined, level: AuditLevel): AuditEvent {
    const request = level === 'full' ? scope?.request?.() : undefined;
    if (request) e.attachments = [...(e.attachments ?? []), { name: 'request', typeURI: request.contentType, content: request.content }];
    return e;
  }

  /** the record of a mutating request, written in the transaction of its change (Mutations.run) */
  async recordMutation(tx: TenantTx, ctx: OperationContext, operation: string, target: { type: string; id: string }, job: Job, outcome: CadfOutcome): Promise<void> {
    const e = this.event(initiatorOf(ctx), ctx.tenantId, ctx.correlationId, operationVerb(operation), target, outcome, undefined, undefined, job.id);
    await tx.audit.append(this.withRequest(e, ctx.audit, this.level(ctx.protocol, 'mutation')));
  }

  /** the record of a mutating request the model refused or that rolled back (written after the rollback) */
  async recordMutationFailure(ctx: OperationContext, operation: string, kind: ErrorKind, code: string): Promise<void> {
    const scope = ctx.audit;
    if (!scope || scope.recorded) return;
    const target = scope.target ?? { type: operation.slice(0, operation.indexOf('.')), id: '' };
    const e = this.event(initiatorOf(ctx), ctx.tenantId, ctx.correlationId, operationVerb(operation), target, 'failure', kind, code);
    await this.log.append(this.withRequest(e, scope, this.level(ctx.protocol, 'refusal')));
    scope.recorded = true;
  }

  /**
   * A state change the backend made (reconciliation, issue 12 §2), in the transaction that records it. The
   * initiator is the provider, not a user: CADF `service/compute/provider` with the driver's name.
   */
  async recordProviderChange(tx: TenantTx, provider: string, r: { type: string; id: string; tenantId: string }, previous: string, reason: string): Promise<void> {
    const initiator: CadfInitiator = { id: `provider:${provider}`, typeURI: 'service/compute/provider', name: provider, host: { agent: 'internal' } };
    const e = this.event(initiator, r.tenantId, newId(), 'observe', r, 'success', undefined, 'PROVIDER.STATE_CHANGED');
    e.eventType = 'monitor';
    e.attachments = [{ name: 'reason', typeURI: 'text/plain', content: `${previous} -> ${(r as { state?: string }).state}: ${reason}` }];
    await tx.audit.append(e);
  }

  /** the later record of an asynchronous Job's end, in the transaction that ends it, linked to its request record */
  async recordJobEnd(tx: TenantTx, job: Job): Promise<void> {
    const request = await tx.audit.findByJob(job.id);
    const e = jobCompletionEvent(newId(), job, this.clock.now(), request?.initiator.host.agent ?? 'internal');
    if (request) {
      e.initiator = request.initiator;
      e.target = request.target;
      e.requestEventId = request.id;
    }
    await tx.audit.append(e);
  }

  /**
   * Called by each door when a request ends: writes the request's record unless the model already did. Writing is
   * not awaited by the response; shutdown waits for pending writes.
   */
  closeRequest(scope: AuditScope, failedStatus?: boolean): void {
    // an operator at the admin CLI belongs to no tenant: its records have none (issue 16 §2)
    if (scope.recorded) return;
    scope.recorded = true;
    const failed = failedStatus || scope.errorKind !== undefined;
    const refusedLogin = !scope.user && failed;
    const initiator: CadfInitiator = scope.user
      ? { id: scope.user.userId, typeURI: 'service/security/account/user', name: scope.user.userName, project_id: scope.user.tenantId || undefined, host: { address: scope.clientAddress, agent: scope.protocol } }
      : { id: 'unknown', typeURI: 'service/security/account/user', name: scope.claimedUser, host: { address: scope.clientAddress, agent: scope.protocol } };
    if (scope.credentialType) initiator.credential = { type: scope.credentialType };
    // a login refused by the throttle (AUTH.DELAYED, AUTH.LOCKED) is an `authenticate` record like a wrong password
    const login = scope.errorKind === 'unauthenticated' || scope.errorKind === undefined || (scope.errorKind === 'throttled' && scope.errorCode?.startsWith('AUTH.'));
    const verb = refusedLogin && login ? 'authenticate' : scope.verb ?? 'read';
    const level = this.level(scope.protocol, failed ? 'refusal' : READ_VERBS.has(verb) ? 'read' : 'mutation');
    if (level === 'none') return;
    const target = refusedLogin ? undefined : scope.target;
    const kind = scope.errorKind ?? (failed ? 'invalid-input' : undefined);
    const e = this.withRequest(
      this.event(initiator, scope.user?.tenantId || undefined, scope.correlationId, verb, target, failed ? 'failure' : 'success', kind, scope.errorCode ?? (failed && !scope.errorKind ? 'GENERIC.BAD_REQUEST' : undefined), scope.jobId),
      scope,
      level,
    );
    if (this.options.flushMs === 0) return this.track(this.log.append(e));
    this.buffer.push(e);
    if (this.buffer.length >= BATCH) this.writeBuffer();
    else this.timer ??= setTimeout(() => this.writeBuffer(), this.options.flushMs);
  }

  /** request records buffered for their group commit (monitoring) */
  get bufferDepth(): number {
    return this.buffer.length;
  }

  /**
   * Undefined when a door may go on; otherwise a promise to wait for before admitting the request: the buffer holds
   * bufferMax records still to commit. Waiting (not dropping) keeps every record; it holds new requests, not answers.
   */
  admission(): Promise<void> | undefined {
    if (this.buffer.length < this.options.bufferMax) return undefined;
    if (!this.drained) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    this.writeBuffer();
    return this.drained.promise;
  }

  /** starts the commit of up to BATCH buffered records; the next batch follows when this one is written */
  private writeBuffer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.buffer.length) return;
    const batch = this.buffer.splice(0, BATCH);
    this.track(
      this.log.appendMany(batch).finally(() => {
        if (this.buffer.length) this.writeBuffer();
        else if (this.drained) {
          this.drained.resolve();
          this.drained = undefined;
        }
      }),
    );
  }

  private track(write: Promise<void>): void {
    const p = write.catch(() => undefined);
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  /** writes the buffered records and waits for every record still being written (tests, shutdown) */
  async flush(): Promise<void> {
    this.writeBuffer();
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  onApplicationBootstrap(): void {
    if (!this.options.retentionDays) return;
    const run = () => void this.purgeExpired().catch((e: unknown) => this.logger.warn(`audit retention failed: ${(e as Error).message}`));
    this.purgeTimer = setInterval(run, PURGE_EVERY_MS).unref();
    setImmediate(run);
  }

  /**
   * Deletes the records older than AUDIT_RETENTION_DAYS, PURGE_BATCH rows per statement, yielding between them so
   * that a large backlog never holds the database or the event loop for long. Returns how many went.
   */
  purgeExpired(): Promise<number> {
    const days = this.options.retentionDays;
    if (!days) return Promise.resolve(0);
    this.purging ??= (async () => {
      const cutoff = new Date(this.clock.now().getTime() - days * DAY_MS);
      let total = 0;
      for (;;) {
        const n = await this.log.purgeBefore(cutoff, PURGE_BATCH);
        total += n;
        if (n < PURGE_BATCH) break;
        await new Promise((r) => setImmediate(r));
      }
      if (total) this.logger.log(`audit retention: ${total} records older than ${cutoff.toISOString()} deleted`);
      return total;
    })().finally(() => (this.purging = undefined));
    return this.purging;
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    await this.purging?.catch(() => undefined);
    await this.flush();
  }

  /** who may read the audit trail (the audit log itself, before any of its records): admins */
  assertReader(ctx: OperationContext): void {
    requireAdmin(ctx, 'read the audit trail');
  }

  list(ctx: OperationContext, query: CollectionQuery): Promise<Page<AuditEvent>> {
    this.assertReader(ctx);
    return this.log.list(query);
  }

  get(ctx: OperationContext, id: string): Promise<AuditEvent | undefined> {
    this.assertReader(ctx);
    return this.log.get(id);
  }

  private event(
    initiator: CadfInitiator,
    tenantId: string | undefined,
    correlationId: string,
    verb: string,
    target: { type: string; id: string } | undefined,
    outcome: CadfOutcome,
    kind?: ErrorKind,
    code?: string,
    jobId?: string,
  ): AuditEvent {
    return {
      id: newId(),
      typeURI: CADF_EVENT_TYPE_URI,
      eventType: kind === 'forbidden' ? 'control' : 'activity',
      eventTime: this.clock.now().toISOString(),
      action: cadfAction(verb),
      outcome,
      initiator,
      target: target ? { id: target.id, typeURI: cimiTypeUri(target.type) } : GATEWAY_TARGET,
      observer: OBSERVER,
      reason: { reasonType: 'cimi-gateway', reasonCode: code ?? (kind ? kind.toUpperCase() : 'OK') },
      correlationId,
      ...(tenantId ? { tenantId } : {}),
      ...(jobId ? { jobId } : {}),
    };
  }
}
