import { InvalidInputError } from '../shared/model-error';
import type { Mutations } from '../shared/mutation';
import type { OperationContext } from '../shared/operation-context';
import type { TenantTx } from '../shared/ports';
import type { Resource } from '../shared/resource';
import type { CommonInput } from '../shared/attr-validation';
import { optInt, optStr, resolveSlot, slotOf, type Slot } from '../template/template-resolution';

/**
 * Resolves a VolumeTemplate slot (DSP0263 2.0.0 §4.2.1.1, docs/cimi.md §6) to the attributes of the Volume it makes:
 * shared by every volume create (VolumeCreate, a MachineTemplate's volumeTemplates, a System's Volume components).
 */
export async function resolveVolumeTemplate(tx: TenantTx, slot: Slot): Promise<Record<string, unknown>> {
  const t = await resolveSlot(tx, 'VolumeTemplate', slot, 'volumeTemplate');
  if (!t) throw new InvalidInputError('volumeTemplate is required', 'volumeTemplate');
  const cfg = await resolveSlot(tx, 'VolumeConfiguration', slotOf(t.attrs.volumeConfig), 'volumeConfig');
  if (!cfg) throw new InvalidInputError('volumeTemplate needs a volumeConfig', 'volumeConfig');
  const img = await resolveSlot(tx, 'VolumeImage', slotOf(t.attrs.volumeImage), 'volumeImage');
  const capacity = optInt(cfg.attrs, 'capacity', 1);
  if (capacity === undefined) throw new InvalidInputError('volumeConfig needs a capacity', 'capacity');
  return {
    type: optStr(cfg.attrs, 'type', 2048),
    capacity,
    format: optStr(cfg.attrs, 'format', 64),
    bootable: img ? ((img.attrs.bootable as boolean | undefined) ?? false) : false,
    volumeImage: img?.ref,
  };
}

/** Builds a Volume in CREATING from a VolumeTemplate slot. */
export async function buildVolume(tx: TenantTx, mutations: Mutations, ctx: OperationContext, slot: Slot, common: CommonInput): Promise<Resource> {
  return mutations.newResource(ctx, 'Volume', common, await resolveVolumeTemplate(tx, slot), { state: 'CREATING' });
}
