import { Injectable } from '@nestjs/common';
import { MachineService } from './machine/machine.service';
import { NetworkService } from './network/network.service';
import {
  actRunner,
  CREATES,
  isCreatable,
  type ActionParams,
  type CatalogueServices,
  type CreatableType,
  type CreateInputs,
} from './operations';
import { NotFoundError } from './shared/model-error';
import type { MutationOptions } from './shared/mutation';
import type { OperationContext } from './shared/operation-context';
import type { CollectionQuery, Page } from './shared/query';
import type { Ref, Resource, ResourceType } from './shared/resource';
import { ResourceService, type OperationOutcome, type UpdateInput } from './shared/resource.service';
import { SystemService } from './system/system.service';
import { OvfService, type OvfExport, type OvfImportInput } from './system/ovf.service';
import { CatalogService } from './template/catalog.service';
import { VolumeService } from './volume/volume.service';
import { ImageService } from './image/image.service';

/**
 * What the doors call to run a resource operation of the catalogue (src/model/operations.ts): the create, action,
 * attach and detach of any type go through the catalogue's one row for it, so no door keeps its own switch from
 * type or action name to service method.
 */
@Injectable()
export class ModelFacade {
  private readonly services: CatalogueServices;

  constructor(
    resources: ResourceService,
    machines: MachineService,
    volumes: VolumeService,
    images: ImageService,
    networks: NetworkService,
    systems: SystemService,
    catalog: CatalogService,
    private readonly ovf: OvfService,
  ) {
    this.services = { resources, machines, volumes, images, networks, systems, catalog };
  }

  /** whether `<type>.create` is an operation */
  canCreate(type: string): type is CreatableType {
    return isCreatable(type);
  }

  /** `<type>.create` */
  create<T extends CreatableType>(
    ctx: OperationContext,
    type: T,
    input: CreateInputs[T],
    opts: MutationOptions = {},
  ): Promise<OperationOutcome> {
    return CREATES[type].run(this.services, ctx, input, opts);
  }

  /** `<type>.<action>` (start, stop, restore, …): unknown to the catalogue is a NotFound of that operation */
  act(
    ctx: OperationContext,
    type: ResourceType,
    id: string,
    action: string,
    params: ActionParams = {},
    opts: MutationOptions = {},
  ): Promise<OperationOutcome> {
    const run = actRunner(type, action);
    if (!run) throw new NotFoundError(`${type} operation`, action);
    return run(this.services, ctx, { id, params }, opts);
  }

  read(ctx: OperationContext, type: ResourceType, id: string): Promise<Resource> {
    return this.services.resources.get(ctx, type, id);
  }

  query(ctx: OperationContext, type: ResourceType, q: CollectionQuery = {}): Promise<Page<Resource>> {
    return this.services.resources.list(ctx, type, q);
  }

  /** a sub-resource (`Disk`, `MachineVolume`, `System<Component>`, …) of a parent */
  readChild(
    ctx: OperationContext,
    parentType: ResourceType,
    parentId: string,
    type: ResourceType,
    id: string,
  ): Promise<Resource> {
    return this.services.resources.getChild(ctx, parentType, parentId, type, id);
  }

  queryChildren(
    ctx: OperationContext,
    parentType: ResourceType,
    parentId: string,
    type: ResourceType,
    q: CollectionQuery = {},
  ): Promise<Page<Resource>> {
    return this.services.resources.listChildren(ctx, parentType, parentId, type, q);
  }

  update(
    ctx: OperationContext,
    type: ResourceType,
    id: string,
    input: UpdateInput,
    opts: MutationOptions = {},
  ): Promise<OperationOutcome> {
    return this.services.resources.update(ctx, type, id, input, opts);
  }

  delete(
    ctx: OperationContext,
    type: ResourceType,
    id: string,
    opts: MutationOptions = {},
  ): Promise<OperationOutcome> {
    return this.services.resources.delete(ctx, type, id, opts);
  }

  /** `SystemTemplate.import` (DSP0263 2.0.0 §5.13.5.1) */
  importSystemTemplate(ctx: OperationContext, input: OvfImportInput, opts: MutationOptions = {}): Promise<OperationOutcome & { warnings: string[] }> {
    return this.ovf.importTemplate(ctx, input, opts);
  }

  /** `System.import` (DSP0263 2.0.0 §5.13.2): the package's SystemTemplate and a System made from it */
  importSystem(ctx: OperationContext, input: OvfImportInput, opts: MutationOptions = {}): Promise<OperationOutcome & { warnings: string[] }> {
    return this.ovf.importSystem(ctx, input, opts);
  }

  /** `System.export`, `SystemTemplate.export` (DSP0263 2.0.0 §5.13.1, §5.13.4); with `diskDir`, an OVA's disk files go there */
  exportOvf(ctx: OperationContext, type: 'System' | 'SystemTemplate', id: string, diskDir?: string): Promise<OvfExport> {
    return diskDir ? this.ovf.exportPackage(ctx, type, id, diskDir) : this.ovf.export(ctx, type, id);
  }

  /** `Machine.attachVolume` */
  attachVolume(
    ctx: OperationContext,
    machineId: string,
    input: Parameters<MachineService['attachVolume']>[2],
    opts: MutationOptions = {},
  ): Promise<OperationOutcome> {
    return this.services.machines.attachVolume(ctx, machineId, input, opts);
  }

  /** `Machine.detachVolume` */
  detachVolume(
    ctx: OperationContext,
    machineId: string,
    linkId: string,
    opts: MutationOptions = {},
  ): Promise<OperationOutcome> {
    return this.services.machines.detachVolume(ctx, machineId, linkId, opts);
  }
}

export type { ActionParams, CreatableType, CreateInputs, Ref };
