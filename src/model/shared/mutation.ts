import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import type { Job, JobFinal, JobPayload, JobStep } from '../job/job';
import { JobEngine } from '../job/job-engine';
import { isFinalJobState, type JobState } from '../job/job-state';
import { CLOCK, type Clock } from './clock';
import { ConcurrentModificationError, InvalidInputError, ModelError, UnsupportedError } from './model-error';
import { newId } from './ids';
import type { OperationContext } from './operation-context';
import { UNIT_OF_WORK, type TenantTx, type UnitOfWork } from './ports';
import type { Ref, Resource, ResourceType } from './resource';
import { requireWrite } from './authorization';
import { checkXmlSafeText } from './attr-validation';
import { AuditService } from '../audit/audit.service';
import { withStateEvents } from '../event/resource-event';
import { PROVIDER_DRIVER, type ProviderDriver } from '../provider/provider-driver';
import { quotaViolation } from '../quota/quota';

export interface MutationOptions {
  /** client idempotency key (REST Idempotency-Key; docs/reliability.md rule 2) */
  idempotencyKey?: string;
  /** the version the client last saw (ETag / If-Match, WS-Man Put) */
  expectedVersion?: number;
}

/** Idempotency records are kept 24 h (AWS ClientToken semantics, docs/reliability.md §1). */
export const IDEMPOTENCY_WINDOW_MS = 24 * 3600 * 1000;
export const KEY_PATTERN = /^[\x21-\x7e]{1,64}$/;

export interface JobSpec {
  action: string;
  target: Job['targetResource'];
  affected: Ref[];
  steps?: JobStep[];
  finals?: JobFinal[];
  parentJobId?: string;
  pendingChildren?: number;
  /** a finished synchronous job (no provider work) */
  done?: boolean;
}

/**
 * The one path every mutating operation takes: authorization, the idempotency key, one transaction holding the
 * change and its Job, and a wake-up of the job engine after commit.
 */
@Injectable()
export class Mutations {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly engine: JobEngine,
    private readonly audit: AuditService,
    @Inject(PROVIDER_DRIVER) private readonly driver: ProviderDriver,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  async run<R extends Resource | undefined>(
    ctx: OperationContext,
    operation: string,
    input: unknown,
    opts: MutationOptions,
    fn: (tx: TenantTx) => Promise<{ resource?: R; job: Job }>,
  ): Promise<{ resource?: Resource; job: Job; completed: boolean; replayed?: boolean }> {
    const key = opts.idempotencyKey;
    try {
      requireWrite(ctx, operation);
      checkXmlSafeText(input);
      if (key !== undefined && !KEY_PATTERN.test(key)) {
        throw new InvalidInputError('idempotency key must be 1 to 64 printable ASCII characters', 'idempotencyKey');
      }
    } catch (e) {
      if (e instanceof ModelError) await this.audit.recordMutationFailure(ctx, operation, e.kind, e.code);
      throw e;
    }
    const hash = key === undefined ? '' : requestHash(operation, input);
    for (let attempt = 0; ; attempt++) {
      try {
        const out = await this.uow.transaction(ctx.tenantId, async (raw) => {
          ctx.deadline?.check();
          // state changes report CIMI state Events in the same transaction (issue 6 §4)
          const tx = withStateEvents(raw, () => this.now());
          if (key !== undefined) {
            const prior = await tx.idempotency.find(ctx.principal.userId, key);
            if (prior && prior.created.getTime() > this.now().getTime() - IDEMPOTENCY_WINDOW_MS) {
              if (prior.requestHash !== hash || prior.operation !== operation) {
                throw new ModelError('conflict', 'GENERIC.IDEMPOTENCY_KEY_REUSED', `idempotency key ${key} was used for a different request`);
              }
              const job = (await tx.jobs.get(prior.jobId))!;
              const resource = prior.resourceId ? await tx.resources.get(prior.resourceType!, prior.resourceId) : undefined;
              await this.audit.recordMutation(tx, ctx, operation, resource ?? job.targetResource, job, isFinalJobState(job.state) ? 'success' : 'pending');
              ctx.deadline?.enterCommit();
              return { resource, job, replayed: true };
            }
          }
          // quotas (issue 16 §3): the tenant's limit rows stay locked to the commit, so two concurrent changes
          // are measured one after the other; usage is read before and after the change, in this transaction
          const limits = await tx.quotas.limits(true);
          const before = Object.keys(limits).length > 0 ? await tx.quotas.usage() : undefined;
          const res = await fn(tx);
          if (before) {
            const refused = quotaViolation(limits, before, await tx.quotas.usage());
            if (refused) throw refused;
          }
          // DSP0262: one record per request, committed with the change it describes (issue 6 §3)
          await this.audit.recordMutation(tx, ctx, operation, res.resource ?? res.job.targetResource, res.job, isFinalJobState(res.job.state) ? 'success' : 'pending');
          if (key !== undefined) {
            await tx.idempotency.insert({
              key,
              principalId: ctx.principal.userId,
              operation,
              requestHash: hash,
              resourceType: res.resource?.type,
              resourceId: res.resource?.id,
              jobId: res.job.id,
              created: this.now(),
            });
          }
          // the request's deadline (WS-Man OperationTimeout): past it, the whole change rolls back (Deadline)
          ctx.deadline?.enterCommit();
          return { ...res, replayed: false };
        });
        if (ctx.audit) {
          ctx.audit.recorded = true;
          ctx.audit.jobId = out.job.id;
        }
        if (!out.replayed) this.engine.kick();
        return { ...out, completed: isFinalJobState(out.job.state) };
      } catch (e) {
        // a concurrent request with the same idempotency key won the insert: replay its answer. A request that
        // names the version it expects (If-Match) and lost a race is run once more, so that it fails as what it
        // is, a precondition failure, and never as a generic conflict (DSP0263 2.0.0 §4.1.7.2: exactly one wins).
        if ((key !== undefined || opts.expectedVersion !== undefined) && attempt === 0 && e instanceof ConcurrentModificationError) continue;
        if (e instanceof ModelError) await this.audit.recordMutationFailure(ctx, operation, e.kind, e.code);
        throw e;
      }
    }
  }

  /** A Job as DSP0263 §5.17 describes it; `done` jobs are finished synchronous operations. */
  newJob(ctx: OperationContext, spec: JobSpec): Job {
    // a step the configured backend does not offer is refused now, inside the request's transaction (nothing is
    // written), rather than by a Job that fails later and leaves the resource in ERROR
    for (const st of spec.steps ?? []) {
      if (!this.driver.capabilities.steps[st.ref.type]?.includes(st.step)) {
        throw new UnsupportedError(`the ${this.driver.name} provider cannot ${st.step} a ${st.ref.type}`, 'PROVIDER.UNSUPPORTED');
      }
    }
    const now = this.now();
    const state: JobState = spec.done ? 'SUCCESS' : 'QUEUED';
    const payload: JobPayload = { steps: spec.steps ?? [], cursor: 0, finals: spec.finals ?? [] };
    return {
      id: newId(),
      tenantId: ctx.tenantId,
      created: now,
      updated: now,
      properties: {},
      version: 1,
      state,
      action: spec.action,
      targetResource: spec.target,
      affectedResources: spec.affected,
      progress: spec.done ? 100 : 0,
      returnCode: spec.done ? 0 : undefined,
      statusMessage: spec.done ? 'completed' : undefined,
      timeOfStatusChange: now,
      parentJobId: spec.parentJobId,
      correlationId: ctx.correlationId,
      initiator: ctx.principal,
      payload,
      pendingChildren: spec.pendingChildren ?? 0,
      attempts: 0,
    };
  }

  /** A new resource with the common attributes set by the provider (DSP0263 Table 5). */
  newResource<A extends object>(
    ctx: OperationContext,
    type: ResourceType,
    common: { name?: string; description?: string; properties?: Record<string, string> },
    attrs: A,
    extra: { state?: string; parentId?: string } = {},
  ): Resource {
    const now = this.now();
    return {
      id: newId(),
      tenantId: ctx.tenantId,
      type,
      parentId: extra.parentId,
      name: common.name,
      description: common.description,
      created: now,
      updated: now,
      properties: common.properties ?? {},
      state: extra.state,
      version: 1,
      attrs: attrs as Record<string, unknown>,
    };
  }
}

/** Canonical JSON (sorted keys) so that the same request hashes the same whatever its key order. */
export function requestHash(operation: string, input: unknown): string {
  return createHash('sha256').update(operation).update('\0').update(canonical(input)).digest('hex');
}

function canonical(v: unknown): string {
  if (v === undefined) return 'null';
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const keys = Object.keys(v as object)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}
