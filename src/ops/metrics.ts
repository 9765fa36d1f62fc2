import { Inject, Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import type { AuditScope } from '../model/audit/audit-scope';
import { AuditService } from '../model/audit/audit.service';
import { JOB_STATES } from '../model/job/job-state';
import { operation, operationOfIntent } from '../model/operations';
import type { ModelMetrics } from '../model/shared/metrics';
import { JOB_QUEUE, type JobQueue } from '../model/shared/ports';
import { DATA_SOURCE } from '../persistence/typeorm/data-source';
import { SqliteWriteLock } from '../persistence/typeorm/typeorm-unit-of-work';

/** request latencies: a cached read is ~1 ms, a SOAP call with WS-Security tens, a slow backend seconds */
const REQUEST_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** jobs and provider steps: simulated steps take milliseconds, libvirt boots and shutdowns up to minutes */
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** the other targets a door's intent names (not catalogue types): bounded, so they may be labels */
const EDGE_TARGETS = new Set(['CloudEntryPoint', 'Identify']);

/**
 * The gateway's Prometheus metrics (issue 16 §5), one Registry per application (tests run several in one process,
 * where prom-client's global registry would register everything twice). Implements the model's metrics port.
 */
@Injectable()
export class GatewayMetrics implements ModelMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({ name: 'cimi_requests_total', help: 'Requests answered, by door, catalogue operation and HTTP status', labelNames: ['door', 'operation', 'status'], registers: [this.registry] });
  private readonly requestSeconds = new Histogram({ name: 'cimi_request_duration_seconds', help: 'Request latency, arrival to the last byte of the answer', labelNames: ['door', 'operation'], buckets: REQUEST_BUCKETS, registers: [this.registry] });
  private readonly jobs = new Counter({ name: 'cimi_jobs_total', help: 'Jobs that reached a final state, by operation and state', labelNames: ['operation', 'state'], registers: [this.registry] });
  private readonly jobSeconds = new Histogram({ name: 'cimi_job_duration_seconds', help: 'Job duration, creation to final state', labelNames: ['operation', 'state'], buckets: JOB_BUCKETS, registers: [this.registry] });
  private readonly stepSeconds = new Histogram({ name: 'cimi_provider_step_duration_seconds', help: 'ProviderDriver step latency', labelNames: ['driver', 'step'], buckets: JOB_BUCKETS, registers: [this.registry] });
  private readonly stepErrors = new Counter({ name: 'cimi_provider_errors_total', help: 'ProviderDriver steps that failed', labelNames: ['driver', 'step'], registers: [this.registry] });

  constructor(
    @Inject(JOB_QUEUE) queue: JobQueue,
    @Inject(DATA_SOURCE) ds: DataSource,
    @Inject(AuditService) audit: AuditService,
  ) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'cimi_jobs',
      help: 'Jobs in the database by current state (all processes sharing it)',
      labelNames: ['state'],
      registers: [this.registry],
      // one COUNT … GROUP BY per scrape
      async collect() {
        const counts = await queue.countByState();
        for (const s of JOB_STATES) this.set({ state: s }, counts[s] ?? 0);
      },
    });
    new Gauge({
      name: 'cimi_audit_buffer_depth',
      help: 'Request audit records waiting for their group commit',
      registers: [this.registry],
      collect() {
        this.set(audit.bufferDepth);
      },
    });
    const pool = (ds.driver as unknown as { master?: { totalCount: number; idleCount: number; waitingCount: number } }).master;
    if (ds.options.type === 'postgres' && pool) {
      new Gauge({
        name: 'cimi_db_pool_connections',
        help: 'PostgreSQL pool connections: total, idle, and clients waiting for one',
        labelNames: ['kind'],
        registers: [this.registry],
        collect() {
          this.set({ kind: 'total' }, pool.totalCount);
          this.set({ kind: 'idle' }, pool.idleCount);
          this.set({ kind: 'waiting' }, pool.waitingCount);
        },
      });
    } else if (ds.options.type !== 'postgres') {
      const lock = SqliteWriteLock.for(ds);
      new Gauge({
        name: 'cimi_db_write_queue_depth',
        help: 'SQLite: transactions holding or waiting for the one writer connection',
        registers: [this.registry],
        collect() {
          this.set(lock.depth);
        },
      });
    }
  }

  /** the audit hook's end-of-request callback: one sample per door request */
  readonly requestEnded = (scope: AuditScope, status: number | undefined, seconds: number): void => {
    const op = operationLabel(scope);
    this.requests.inc({ door: scope.protocol, operation: op, status: status === undefined ? 'aborted' : String(status) });
    this.requestSeconds.observe({ door: scope.protocol, operation: op }, seconds);
  };

  observeJob(op: string, state: string, seconds: number): void {
    this.jobs.inc({ operation: op, state });
    this.jobSeconds.observe({ operation: op, state }, seconds);
  }

  observeProviderStep(driver: string, step: string, seconds: number, failed: boolean): void {
    this.stepSeconds.observe({ driver, step }, seconds);
    if (failed) this.stepErrors.inc({ driver, step });
  }
}

/**
 * The catalogue id of the request's intent, else CADF action and target (`read CloudEntryPoint`) when the target is
 * one the gateway knows; `unknown` otherwise. Never ids or paths: a label value per client-chosen string would let
 * any client grow the registry without bound.
 */
function operationLabel(scope: AuditScope): string {
  const { verb, target } = scope;
  if (!verb || !target) return 'unknown';
  const op = operationOfIntent(verb, target.type);
  if (op) return op;
  const type = target.type.replace(/Collection$/, '');
  const known = EDGE_TARGETS.has(type) || operation(`${type}.read`) !== undefined;
  return known && KNOWN_VERBS.has(verb) ? `${verb} ${target.type}` : 'unknown';
}

const KNOWN_VERBS = new Set(['read', 'list', 'create', 'update', 'delete', 'authenticate', 'invoke']);
