import { Inject, Injectable, Logger, OnApplicationShutdown, Optional } from '@nestjs/common';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { CLOCK, type Clock } from '../shared/clock';
import { JOB_QUEUE, type JobQueue, type TenantTx } from '../shared/ports';
import { PROVIDER_DRIVER, ProviderError, ProviderInterrupted, type ProviderDriver } from '../provider/provider-driver';
import { descriptorOf } from '../shared/resource-types';
import { ConcurrentModificationError } from '../shared/model-error';
import { DERIVED, GONE, PREVIOUS } from '../shared/state-machine';
import { deriveSystemState } from '../system/system-state';
import type { Job, JobFinal } from './job';
import { nextJobState } from './job-state';
import { AuditService } from '../audit/audit.service';
import { withStateEvents } from '../event/resource-event';
import { MODEL_METRICS, NO_METRICS, type ModelMetrics } from '../shared/metrics';

export interface JobEngineOptions {
  /** how long a claimed job stays owned without a heartbeat */
  leaseMs: number;
  /** how often an idle worker looks for runnable jobs (new jobs also wake it at once) */
  pollMs: number;
  /** jobs run at once by this process */
  concurrency: number;
  /** claims of one job before it is failed instead of resumed */
  maxAttempts: number;
  /** how long shutdown waits for running jobs to reach a safe point */
  shutdownGraceMs: number;
  /** start the worker loop (false for API-only nodes) */
  autoStart: boolean;
  /** finished jobs older than this are removed (CIMI JobRetention capability) */
  retentionMs: number;
  /** how long a step waits (retrying, lease held) for a backend that cannot be reached before the Job fails */
  unavailableWaitMs?: number;
}
export const JOB_ENGINE_OPTIONS = Symbol('JOB_ENGINE_OPTIONS');

type Outcome = { ok: true } | { ok: false; message: string; fatal: boolean; code: number };

/**
 * Runs jobs durably (issue 2 §7): a job is claimed with a lease in the database, its provider steps run one by
 * one with the cursor persisted after each, and its completion moves resources and Job to their final states in
 * one transaction guarded by the lease. After a crash another process (or the restarted one) claims the job when
 * the lease expires and resumes at the interrupted step; a job claimed more than `maxAttempts` times is failed.
 * The lease guard makes completion happen exactly once even if two workers ever ran the same step.
 */
@Injectable()
export class JobEngine implements OnApplicationShutdown {
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly log = new Logger(JobEngine.name);
  private readonly running = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private timer?: NodeJS.Timeout;
  private purgeTimer?: NodeJS.Timeout;
  private stopping = false;
  private started = false;
  private pumping = false;
  private pumpAgain = false;
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    @Inject(JOB_QUEUE) private readonly queue: JobQueue,
    @Inject(PROVIDER_DRIVER) private readonly driver: ProviderDriver,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(JOB_ENGINE_OPTIONS) private readonly opts: JobEngineOptions,
    private readonly audit: AuditService,
    @Optional() @Inject(MODEL_METRICS) private readonly metrics: ModelMetrics = NO_METRICS,
  ) {}

  start(): void {
    if (this.started || !this.opts.autoStart) return;
    this.started = true;
    this.timer = setInterval(() => this.kick(), this.opts.pollMs);
    this.timer.unref();
    // docs/reliability.md rule 3: finished jobs expire after the retention period
    this.purgeTimer = setInterval(() => void this.purge(), Math.min(60000, this.opts.retentionMs));
    this.purgeTimer.unref();
    this.kick();
  }

  async purge(): Promise<number> {
    try {
      return await this.queue.purgeFinishedBefore(new Date(this.clock.now().getTime() - this.opts.retentionMs));
    } catch (e) {
      this.log.error(`job purge failed: ${(e as Error).message}`);
      return 0;
    }
  }

  /** wake the worker: called after a transaction that queued jobs commits */
  kick(): void {
    if (this.stopping || !this.started) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    void this.pump();
  }

  get activeJobs(): number {
    return this.running.size;
  }

  /** resolves when no job runs in this process (tests, benchmarks) */
  whenIdle(): Promise<void> {
    if (this.running.size === 0 && !this.pumping) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        while (!this.stopping && this.running.size < this.opts.concurrency) {
          const job = await this.queue.claimNext(this.owner, this.opts.leaseMs, this.clock.now());
          if (!job) break;
          if (this.running.has(job.id)) {
            // This process still runs the job: its lease lapsed only because the heartbeat could not fire in time
            // (the event loop was blocked or the process was not scheduled for longer than leaseMs, e.g. on a
            // loaded host), and the claim just took it back for the same owner. A second execution would run the
            // same step concurrently with the first (seen as libvirt's "domain is already running" failing a
            // start Job), and the lease guard cannot tell the two apart, as both hold the lease as this.owner.
            // The running execution keeps the job, its lease now renewed (the claim counted one more attempt).
            this.log.warn(`job ${job.id}: lease lapsed while this process was still running it (event loop stalled longer than ${this.opts.leaseMs} ms); the running execution keeps it`);
            continue;
          }
          this.launch(job);
        }
      } while (this.pumpAgain && !this.stopping);
    } catch (e) {
      this.log.error(`job claim failed: ${(e as Error).message}`);
    } finally {
      this.pumping = false;
      this.notifyIdle();
    }
  }

  private launch(job: Job): void {
    const abort = new AbortController();
    const done = this.execute(job, abort.signal)
      .catch((e) => this.log.error(`job ${job.id} crashed in the engine: ${(e as Error).stack ?? e}`))
      .finally(() => {
        this.running.delete(job.id);
        this.notifyIdle();
        this.kick();
      });
    this.running.set(job.id, { abort, done });
  }

  private notifyIdle(): void {
    if (this.running.size === 0 && !this.pumping) this.idleWaiters.splice(0).forEach((r) => r());
  }

  /** Runs one claimed job to its end, or until the lease is lost or shutdown interrupts it. */
  async execute(job: Job, signal: AbortSignal): Promise<void> {
    const heartbeat = setInterval(() => {
      void this.queue.renew(job.id, this.owner, this.opts.leaseMs, this.clock.now()).then((held) => {
        if (!held) this.running.get(job.id)?.abort.abort();
      });
    }, Math.max(50, Math.floor(this.opts.leaseMs / 3)));
    heartbeat.unref();
    try {
      if (job.attempts > this.opts.maxAttempts) {
        return void (await this.finish(job, { ok: false, fatal: false, code: 500, message: `abandoned after ${job.attempts - 1} interrupted attempts` }));
      }
      if (job.state === 'STOPPING') return void (await this.finishStopped(job));
      while (job.payload.cursor < job.payload.steps.length) {
        if (signal.aborted) return void (await this.queue.release(job.id, this.owner));
        const step = job.payload.steps[job.payload.cursor];
        const prepared = await this.owned(job.id, async (tx, current) => {
          if (current.state === 'STOPPING') return 'stop' as const;
          const r = await tx.resources.get(step.ref.type, step.ref.id);
          if (!r) return 'gone' as const;
          if (r.state !== step.state) {
            r.state = step.state;
            r.version += 1;
            await tx.resources.update(r);
          }
          return { spec: { ...r.attrs, name: r.name, parentId: r.parentId } };
        });
        if (prepared === undefined) return; // lease lost: someone else owns the job now
        if (prepared === 'stop') return void (await this.finishStopped(job));
        if (prepared === 'gone') {
          return void (await this.finish(job, { ok: false, fatal: false, code: 404, message: `${step.ref.type} ${step.ref.id} disappeared` }));
        }
        let result;
        const waitUntil = Date.now() + (this.opts.unavailableWaitMs ?? 0);
        for (let attempt = 1; ; attempt++) {
          const began = process.hrtime.bigint();
          try {
            result = await this.driver.perform({
              tenantId: job.tenantId,
              resourceType: step.ref.type,
              resourceId: step.ref.id,
              step: step.step,
              spec: prepared.spec,
              params: step.params ?? {},
              signal,
            });
            this.metrics.observeProviderStep(this.driver.name, step.step, seconds(began), false);
            break;
          } catch (e) {
            if (e instanceof ProviderInterrupted) return void (await this.queue.release(job.id, this.owner));
            this.metrics.observeProviderStep(this.driver.name, step.step, seconds(began), true);
            const pe = e instanceof ProviderError ? e : new ProviderError((e as Error).message);
            // issue 12 §2: an unreachable backend makes the Job wait (its lease kept by the heartbeat), not fail;
            // steps are idempotent, so running this one again is safe
            if (pe.unavailable && Date.now() < waitUntil && !signal.aborted) {
              this.log.warn(`job ${job.id}: backend unavailable (${pe.message}); retrying ${step.step}`);
              await new Promise((r) => setTimeout(r, Math.min(5000, 250 * 2 ** Math.min(attempt, 5))));
              if (signal.aborted) return void (await this.queue.release(job.id, this.owner));
              continue;
            }
            return void (await this.finish(job, { ok: false, fatal: pe.fatal, code: pe.unavailable ? 503 : 500, message: pe.message }));
          }
        }
        const advanced = await this.owned(job.id, async (tx, current) => {
          if (result.attrs) {
            const r = await tx.resources.get(step.ref.type, step.ref.id);
            if (r) {
              r.attrs = { ...r.attrs, ...result.attrs };
              r.version += 1;
              await tx.resources.update(r);
            }
          }
          current.payload.cursor += 1;
          current.progress = Math.min(99, Math.round((current.payload.cursor / current.payload.steps.length) * 100));
          current.version += 1;
          await tx.jobs.update(current);
          return current;
        });
        if (!advanced) return;
        job = advanced;
      }
      await this.finish(job, { ok: true });
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** a transaction on a job this engine holds, whose state changes report CIMI state Events (issue 6 §4) */
  private async owned<T>(jobId: string, fn: (tx: TenantTx, job: Job) => Promise<T>): Promise<T | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.queue.whileOwned(jobId, this.owner, (tx, job) => fn(withStateEvents(tx, () => this.clock.now()), job));
      } catch (e) {
        // sibling nested Jobs ending together both count their parent down: the loser's transaction rolled back
        // whole, so running it again on fresh reads is safe
        if (!(e instanceof ConcurrentModificationError) || attempt >= 5) throw e;
        await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
      }
    }
  }

  /** Completion: resources and Job reach their final states in one transaction (issue 2 §7). */
  private async finish(job: Job, outcome: Outcome): Promise<void> {
    this.observe(await this.owned(job.id, async (tx, current) => {
      let failed = !outcome.ok;
      let message = outcome.ok ? undefined : outcome.message;
      if (outcome.ok && current.pendingChildren === 0) {
        const kids = await tx.jobs.children(current.id);
        const bad = kids.find((k) => k.state !== 'SUCCESS');
        if (bad) {
          failed = true;
          message = `nested job ${bad.id} ended ${bad.state}${bad.statusMessage ? `: ${bad.statusMessage}` : ''}`;
        }
      }
      for (const f of current.payload.finals) await this.settle(tx, f, failed, outcome.ok ? false : outcome.fatal);
      current.state = nextJobState(failed ? 'fail' : 'succeed', current.state === 'QUEUED' ? 'RUNNING' : current.state);
      current.returnCode = failed ? (outcome.ok ? 500 : outcome.code) : 0;
      await this.close(tx, current, failed ? message : 'completed');
      return current;
    }));
  }

  /** a Job's end, reported once its transaction committed (a retried transaction is not counted twice) */
  private observe(job: Job | undefined): void {
    if (job) this.metrics.observeJob(`${job.targetResource.type.replace(/Collection$/, '')}.${job.action}`, job.state, (job.timeOfStatusChange.getTime() - job.created.getTime()) / 1000);
  }

  /** a job stopped by its owner (CIMI Job `stop`): resources go back if nothing ran yet, else to their error state */
  private async finishStopped(job: Job): Promise<void> {
    this.observe(await this.owned(job.id, async (tx, current) => {
      const untouched = current.payload.cursor === 0;
      for (const f of current.payload.finals) {
        const r = await tx.resources.get(f.ref.type, f.ref.id);
        if (!r) continue;
        const sm = descriptorOf(r.type).stateMachine;
        r.state = untouched && f.previous !== undefined ? f.previous : sm?.errorState ?? r.state;
        r.version += 1;
        await tx.resources.update(r);
      }
      current.state = nextJobState('stopped', 'STOPPING');
      await this.close(tx, current, 'stopped on request');
      return current;
    }));
  }

  /** a Job that stops executing: progress 100 (DSP0263 §5.17), lease dropped, its parent told */
  private async close(tx: TenantTx, job: Job, statusMessage: string | undefined): Promise<void> {
    job.progress = 100;
    job.statusMessage = statusMessage;
    job.timeOfStatusChange = this.clock.now();
    job.leaseOwner = undefined;
    job.leaseExpires = undefined;
    job.version += 1;
    await tx.jobs.update(job);
    // the request's record said `pending`; its outcome is recorded with the Job's end (issue 6 §3)
    if (!job.parentJobId) await this.audit.recordJobEnd(tx, job);
    await this.childDone(tx, job);
  }

  private async childDone(tx: TenantTx, child: Job): Promise<void> {
    if (!child.parentJobId) return;
    const parent = await tx.jobs.get(child.parentJobId);
    if (!parent) return;
    parent.pendingChildren = Math.max(0, parent.pendingChildren - 1);
    parent.version += 1;
    await tx.jobs.update(parent);
  }

  private async settle(tx: TenantTx, f: JobFinal, failed: boolean, fatal: boolean): Promise<void> {
    const r = await tx.resources.get(f.ref.type, f.ref.id);
    if (!r) return;
    const sm = descriptorOf(r.type).stateMachine;
    if (failed) {
      if (!sm) return;
      // DSP0263 2.0.0 §5.14: ERROR when an operation fails; FAILED when the provider says recovery is needed
      r.state = fatal && sm.states.includes('FAILED') ? 'FAILED' : sm.errorState;
    } else if (f.to === GONE) {
      return tx.resources.remove(r.type, r.id);
    } else if (f.to === PREVIOUS) {
      r.state = f.previous;
    } else if (f.to === DERIVED) {
      const links = await tx.resources.children(r.id, 'SystemMachine');
      const states: string[] = [];
      for (const l of links) {
        const ref = (l.attrs as { machine?: { id: string } }).machine;
        const m = ref && (await tx.resources.get('Machine', ref.id));
        if (m?.state) states.push(m.state);
      }
      r.state = deriveSystemState(states);
    } else {
      r.state = f.to;
    }
    r.version += 1;
    await tx.resources.update(r);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }

  /** Graceful shutdown: stop claiming, interrupt running jobs at a safe point, and release their leases. */
  async shutdown(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    const all = [...this.running.values()];
    const settled = Promise.all(all.map((r) => r.done));
    const grace = new Promise<void>((r) => setTimeout(r, this.opts.shutdownGraceMs).unref());
    // give short steps the chance to finish normally, then interrupt the rest at their next safe point
    await Promise.race([settled, grace]);
    for (const r of this.running.values()) r.abort.abort();
    await settled;
  }
}

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}
