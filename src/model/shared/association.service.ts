import { Inject, Injectable } from '@nestjs/common';
import { checkId } from './ids';
import { NotFoundError } from './model-error';
import type { OperationContext } from './operation-context';
import { UNIT_OF_WORK, type UnitOfWork } from './ports';
import { isRef, type Ref, type Resource, type ResourceType } from './resource';

/**
 * The model's associations between top-level resources, read from the sub-resources that make them:
 * - `machine-volume`: a Machine and a Volume attached to it (its MachineVolume children);
 * - `machine-network`: a Machine and a Network one of its MachineNetworkInterfaces is on.
 * Doors show them in their own terms (WS-Man: CIM_SystemDevice and the machine-network association class for
 * AssociatedInstances / AssociationInstances filters, DSP0227 §8.2). Tenant-scoped like every read.
 */
export type AssociationKind = 'machine-volume' | 'machine-network';

export interface Association {
  kind: AssociationKind;
  machine: Resource;
  /** the Volume or the Network */
  other: Resource;
  /** the sub-resources that link them (MachineVolume; the interfaces on that Network), oldest first */
  links: Resource[];
}

export const ASSOCIATION_KINDS: readonly AssociationKind[] = ['machine-volume', 'machine-network'];

const LINK: Record<AssociationKind, { linkType: ResourceType; attr: string; otherType: ResourceType }> = {
  'machine-volume': { linkType: 'MachineVolume', attr: 'volume', otherType: 'Volume' },
  'machine-network': { linkType: 'MachineNetworkInterface', attr: 'network', otherType: 'Network' },
};

@Injectable()
export class AssociationService {
  constructor(@Inject(UNIT_OF_WORK) private readonly uow: UnitOfWork) {}

  /**
   * The associations of one Machine, Volume or Network (`kinds` narrows them), ordered by the other end's id.
   * not-found when the resource does not exist; other types have none.
   */
  async of(ctx: OperationContext, ref: Ref, kinds: readonly AssociationKind[] = ASSOCIATION_KINDS): Promise<Association[]> {
    checkId(ref.type, ref.id);
    return this.uow.read(ctx.tenantId, async (tx) => {
      const self = await tx.resources.get(ref.type, ref.id);
      if (!self) throw new NotFoundError(ref.type, ref.id);
      const out: Association[] = [];
      for (const kind of kinds) {
        const { linkType, attr, otherType } = LINK[kind];
        if (ref.type === 'Machine') {
          const links = await tx.resources.children(self.id, linkType);
          out.push(...(await this.group(kind, links, (l) => targetOf(l, attr, otherType), async (id) => tx.resources.get(otherType, id), (other) => ({ machine: self, other }))));
        } else if (ref.type === otherType) {
          const links = await tx.resources.referencing(linkType, attr, self.id);
          out.push(...(await this.group(kind, links, (l) => l.parentId, async (id) => tx.resources.get('Machine', id), (machine) => ({ machine, other: self }))));
        }
      }
      return out;
    });
  }

  /** one association per distinct far end; links whose far end is gone are skipped */
  private async group(
    kind: AssociationKind,
    links: Resource[],
    farId: (link: Resource) => string | undefined,
    load: (id: string) => Promise<Resource | undefined>,
    ends: (far: Resource) => { machine: Resource; other: Resource },
  ): Promise<Association[]> {
    const byFar = new Map<string, Resource[]>();
    for (const l of links) {
      const id = farId(l);
      if (!id) continue;
      byFar.set(id, [...(byFar.get(id) ?? []), l]);
    }
    const out: Association[] = [];
    for (const id of [...byFar.keys()].sort()) {
      const far = await load(id);
      if (far) out.push({ kind, ...ends(far), links: byFar.get(id)! });
    }
    return out;
  }
}

function targetOf(link: Resource, attr: string, type: ResourceType): string | undefined {
  const v = (link.attrs as Record<string, unknown>)[attr];
  return isRef(v) && v.type === type ? v.id : undefined;
}
