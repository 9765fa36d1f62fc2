import { Inject, Injectable } from '@nestjs/common';
import { checkId } from '../shared/ids';
import { InvalidStateError, NotFoundError } from '../shared/model-error';
import { Mutations, type MutationOptions } from '../shared/mutation';
import type { OperationContext } from '../shared/operation-context';
import { UNIT_OF_WORK, type UnitOfWork } from '../shared/ports';
import type { CollectionQuery, Page } from '../shared/query';
import type { Job } from './job';
import { canJob, isFinalJobState, nextJobState } from './job-state';

/** Jobs are readable by every role of the tenant; stop and delete need write access (DSP0263 2.0.0 §5.17). */
@Injectable()
export class JobService {
  constructor(
    @Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork,
    private readonly mutations: Mutations,
  ) {}

  async get(ctx: OperationContext, id: string): Promise<Job> {
    checkId('Job', id);
    const j = await this.uow.read(ctx.tenantId, (tx) => tx.jobs.get(id));
    if (!j) throw new NotFoundError('Job', id);
    return j;
  }

  list(ctx: OperationContext, query: CollectionQuery = {}): Promise<Page<Job>> {
    return this.uow.read(ctx.tenantId, (tx) => tx.jobs.list(query));
  }

  nested(ctx: OperationContext, id: string): Promise<Job[]> {
    return this.uow.read(ctx.tenantId, (tx) => tx.jobs.children(id));
  }

  /** `stop` (the only way to cancel a Job): QUEUED/RUNNING -> STOPPING; the engine stops it at the next step. */
  async stop(ctx: OperationContext, id: string, opts: MutationOptions = {}): Promise<Job> {
    checkId('Job', id);
    const out = await this.mutations.run(ctx, 'Job.stop', { id }, opts, async (tx) => {
      const j = await tx.jobs.get(id);
      if (!j) throw new NotFoundError('Job', id);
      if (!canJob('stop', j.state)) throw new InvalidStateError('Job', id, 'stop', j.state);
      j.state = nextJobState('stop', j.state);
      j.timeOfStatusChange = this.mutations.now();
      j.version += 1;
      await tx.jobs.update(j);
      return { job: j };
    });
    return out.job;
  }

  /** Only finished Jobs can be deleted; a running one must be stopped first (DSP0263 2.0.0 §5.17.2). */
  async delete(ctx: OperationContext, id: string, opts: MutationOptions = {}): Promise<void> {
    checkId('Job', id);
    await this.mutations.run(ctx, 'Job.delete', { id }, opts, async (tx) => {
      const j = await tx.jobs.get(id);
      if (!j) throw new NotFoundError('Job', id);
      if (!isFinalJobState(j.state)) throw new InvalidStateError('Job', id, 'delete', j.state);
      await tx.jobs.remove(id);
      return { job: j };
    });
  }
}
