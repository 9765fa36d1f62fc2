import { Injectable } from '@nestjs/common';
import { checkCommon, type CommonInput } from '../shared/attr-validation';
import { InvalidInputError } from '../shared/model-error';
import { Mutations, type MutationOptions } from '../shared/mutation';
import { requireAllowed } from '../shared/guards';
import type { OperationContext } from '../shared/operation-context';
import type { Ref, ResourceType } from '../shared/resource';
import { ResourceService, type OperationOutcome } from '../shared/resource.service';
import { optBool, optStr } from '../template/template-resolution';

/** MachineImage / VolumeImage creation: capture of a resource (imageLocation names it) or registration. */
export interface ImageCreateInput extends CommonInput {
  /** the URI as the client gave it */
  imageLocation?: string;
  /** set by the adapter when imageLocation is the href of one of our Machines / Volumes: capture it */
  captureOf?: Ref;
  type?: string;
  relatedImage?: Ref;
  bootable?: boolean;
}

const IMAGE_TYPES = ['IMAGE', 'SNAPSHOT', 'PARTIAL_SNAPSHOT'];

/** MachineImage and VolumeImage share one create: their life cycle is the same image table (volume/volume-state.ts). */
@Injectable()
export class ImageService {
  constructor(
    private readonly mutations: Mutations,
    private readonly resources: ResourceService,
  ) {}

  /**
   * A MachineImage (or VolumeImage). When `captureOf` names a Machine (Volume) this is capture (DSP0263 2.0.0
   * §5.14.7.1): the source passes through CAPTURING and returns to its state; otherwise the image at
   * `imageLocation` is registered with the provider.
   */
  async create(ctx: OperationContext, type: 'MachineImage' | 'VolumeImage', input: ImageCreateInput, opts: MutationOptions = {}): Promise<OperationOutcome> {
    const common = checkCommon(input);
    const imageLocation = optStr(input as unknown as Record<string, unknown>, 'imageLocation', 2048);
    const bootable = optBool(input as unknown as Record<string, unknown>, 'bootable');
    if (input.type !== undefined && (type !== 'MachineImage' || !IMAGE_TYPES.includes(input.type))) {
      throw new InvalidInputError(`type must be one of ${IMAGE_TYPES.join(', ')}`, 'type');
    }
    const sourceType: ResourceType = type === 'MachineImage' ? 'Machine' : 'Volume';
    if (input.captureOf && input.captureOf.type !== sourceType) throw new InvalidInputError(`imageLocation must be a ${sourceType}`, 'imageLocation');
    if (!imageLocation && !input.captureOf) throw new InvalidInputError('imageLocation is required', 'imageLocation');
    return this.mutations.run(ctx, `${type}.create`, input, opts, async (tx) => {
      const attrs: Record<string, unknown> =
        type === 'MachineImage'
          ? { type: input.type ?? 'IMAGE', imageLocation, relatedImage: input.relatedImage }
          : { imageLocation, bootable: bootable ?? false };
      const image = this.mutations.newResource(ctx, type, common, attrs, { state: 'CREATING' });
      const iref: Ref = { type, id: image.id };
      const target = { type: `${type}Collection` as const, id: ctx.tenantId };
      if (!input.captureOf) {
        await tx.resources.insert(image);
        const job = this.mutations.newJob(ctx, { action: 'add', target, affected: [iref], steps: [{ ref: iref, state: 'CREATING', step: 'create' }], finals: [{ ref: iref, to: 'AVAILABLE' }] });
        await tx.jobs.insert(job);
        return { resource: image, job };
      }
      const src = await this.resources.load(tx, sourceType, input.captureOf.id);
      const rule = await requireAllowed(tx, src, 'capture');
      await tx.resources.insert(image);
      const sref: Ref = { type: sourceType, id: src.id };
      const previous = src.state;
      src.state = rule.phases[0].state;
      src.version += 1;
      await tx.resources.update(src);
      const job = this.mutations.newJob(ctx, {
        action: 'capture',
        target,
        affected: [iref, sref],
        steps: [{ ref: sref, state: rule.phases[0].state, step: 'capture', params: { imageId: image.id } }],
        finals: [
          { ref: iref, to: 'AVAILABLE' },
          { ref: sref, to: rule.to, previous },
        ],
      });
      await tx.jobs.insert(job);
      return { resource: image, job };
    });
  }
}
