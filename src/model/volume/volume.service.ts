import { Injectable } from '@nestjs/common';
import { checkCommon, type CommonInput } from '../shared/attr-validation';
import { Mutations, type MutationOptions } from '../shared/mutation';
import type { OperationContext } from '../shared/operation-context';
import type { Ref } from '../shared/resource';
import type { OperationOutcome } from '../shared/resource.service';
import { buildVolume } from './volume-template';
import type { Slot } from '../template/template-resolution';

export interface VolumeCreateInput extends CommonInput {
  volumeTemplate: Slot;
}

@Injectable()
export class VolumeService {
  constructor(private readonly mutations: Mutations) {}

  /** VolumeCreate (docs/cimi.md §2.3): Volume in CREATING, provider job to AVAILABLE. */
  async create(ctx: OperationContext, input: VolumeCreateInput, opts: MutationOptions = {}): Promise<OperationOutcome> {
    const common = checkCommon(input);
    return this.mutations.run(ctx, 'Volume.create', input, opts, async (tx) => {
      const v = await buildVolume(tx, this.mutations, ctx, input.volumeTemplate, common);
      await tx.resources.insert(v);
      const ref: Ref = { type: 'Volume', id: v.id };
      const job = this.mutations.newJob(ctx, {
        action: 'add',
        target: { type: 'VolumeCollection', id: ctx.tenantId },
        affected: [ref],
        steps: [{ ref, state: 'CREATING', step: 'create' }],
        finals: [{ ref, to: 'AVAILABLE' }],
      });
      await tx.jobs.insert(job);
      return { resource: v, job };
    });
  }
}
