import type { DataSource } from 'typeorm';
import type { Job } from '../../model/job/job';
import { FINAL_JOB_STATES, type JobState } from '../../model/job/job-state';
import type { JobQueue, TenantTx } from '../../model/shared/ports';
import { noteCounts } from './collection-counts';
import { dialectOf } from './data-source';
import { fromJobRecord } from './mappers';
import { JobRecord } from './records';
import { inList, Sql, type Params } from './sql';
import { inTransaction, outsideTransaction, readOutsideTransaction, tenantTx } from './typeorm-unit-of-work';

const RUNNABLE_STATES: readonly JobState[] = ['QUEUED', 'RUNNING', 'STOPPING'];
/** candidates looked at per claim: more than one so that a lost race falls through to the next job */
const CLAIM_CANDIDATES = 5;

/**
 * The cross-tenant job queue of the job engine. A claim is a lease in the job row: owner and expiry, taken with
 * a conditional UPDATE so that two claimers (threads, processes, hosts) never both get a job. On PostgreSQL the
 * candidates are read FOR UPDATE SKIP LOCKED, so concurrent claimers pick different jobs instead of colliding.
 * Lease bookkeeping (renew, release) does not change the job's version: it is not a change of the Job a client
 * sees, and must not make the engine's own versioned updates fail.
 */
export class TypeormJobQueue implements JobQueue {
  private readonly postgres: boolean;

  constructor(private readonly ds: DataSource) {
    this.postgres = dialectOf(ds) === 'postgres';
  }

  claimNext(owner: string, leaseMs: number, now: Date): Promise<Job | undefined> {
    const nowMs = now.getTime();
    const expires = nowMs + leaseMs;
    return inTransaction(this.ds, async (manager) => {
      const sql = new Sql(manager);
      const params: Params = { now: nowMs, n: CLAIM_CANDIDATES };
      const states = inList('s', RUNNABLE_STATES, params);
      const candidates = await sql.rows(
        `SELECT j.id, j.version FROM job j
         WHERE j.state IN (${states}) AND j.pending_children = 0 AND (j.lease_owner IS NULL OR j.lease_expires_ms < :now)
         ORDER BY j.created_ms ASC, j.id ASC LIMIT :n${this.postgres ? ' FOR UPDATE SKIP LOCKED' : ''}`,
        params,
      );
      for (const c of candidates) {
        const claimed = await sql.exec(
          `UPDATE job SET lease_owner = :owner, lease_expires_ms = :expires, attempts = attempts + 1,
             state = CASE WHEN state = :queued THEN :running ELSE state END, version = version + 1
           WHERE id = :id AND version = :version AND pending_children = 0 AND (lease_owner IS NULL OR lease_expires_ms < :now)`,
          {
            owner,
            expires,
            queued: 'QUEUED',
            running: 'RUNNING',
            id: c.id,
            version: Number(c.version),
            now: nowMs,
          },
        );
        if (claimed !== 1) continue; // another claimer won this one: try the next
        const rec = await sql.selectOne(JobRecord, 'SELECT j.* FROM job j WHERE j.id = :id', { id: c.id });
        if (rec) return fromJobRecord(rec);
      }
      return undefined;
    });
  }

  async renew(jobId: string, owner: string, leaseMs: number, now: Date): Promise<boolean> {
    const changed = await outsideTransaction(this.ds, (manager) =>
      new Sql(manager).exec(
        'UPDATE job SET lease_expires_ms = :expires WHERE id = :id AND lease_owner = :owner',
        {
          expires: now.getTime() + leaseMs,
          id: jobId,
          owner,
        },
      ),
    );
    return changed === 1;
  }

  async release(jobId: string, owner: string): Promise<void> {
    await outsideTransaction(this.ds, (manager) =>
      new Sql(manager).exec(
        'UPDATE job SET lease_owner = NULL, lease_expires_ms = NULL WHERE id = :id AND lease_owner = :owner',
        { id: jobId, owner },
      ),
    );
  }

  whileOwned<T>(
    jobId: string,
    owner: string,
    fn: (tx: TenantTx, job: Job) => Promise<T>,
  ): Promise<T | undefined> {
    return inTransaction(this.ds, async (manager) => {
      // FOR UPDATE: a renew, a claim or a concurrent update of this job waits until this transaction ends
      const rec = await new Sql(manager).selectOne(
        JobRecord,
        `SELECT j.* FROM job j WHERE j.id = :id${this.postgres ? ' FOR UPDATE' : ''}`,
        { id: jobId },
      );
      if (!rec || rec.leaseOwner !== owner) return undefined;
      return fn(tenantTx(manager, rec.tenantId), fromJobRecord(rec));
    });
  }

  async countByState(): Promise<Partial<Record<JobState, number>>> {
    const rows = await readOutsideTransaction(this.ds, (manager) =>
      new Sql(manager).rows('SELECT state, COUNT(*) AS n FROM job GROUP BY state'),
    );
    const out: Partial<Record<JobState, number>> = {};
    for (const r of rows) out[r.state as JobState] = Number(r.n);
    return out;
  }

  /** finished jobs whose status changed before the cutoff; a child of a job still running is kept for its parent */
  purgeFinishedBefore(cutoff: Date): Promise<number> {
    return inTransaction(this.ds, async (manager) => {
      const params: Params = { cutoff: cutoff.getTime() };
      const finished = inList('f', FINAL_JOB_STATES, params);
      const unfinished = inList('u', RUNNABLE_STATES, params);
      // RETURNING: the tenants whose Job collections shrink (job_count, in this transaction)
      const gone = await new Sql(manager).rows(
        `DELETE FROM job WHERE state IN (${finished}) AND status_changed_ms < :cutoff
           AND (parent_job_id IS NULL OR NOT EXISTS (SELECT 1 FROM job p WHERE p.id = job.parent_job_id AND p.state IN (${unfinished})))
         RETURNING tenant_id`,
        params,
      );
      await noteCounts(manager, (d) => {
        for (const g of gone) d.job(String(g.tenant_id), -1);
      });
      return gone.length;
    });
  }
}
