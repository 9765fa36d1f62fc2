import type { Job } from '../../model/job/job';
import { canJob, isFinalJobState } from '../../model/job/job-state';
import { allowedCollectionOperations, allowedOperations, canWrite } from '../../model/shared/authorization';
import type { OperationContext } from '../../model/shared/operation-context';
import { isRef, type Ref, type Resource, type ResourceType } from '../../model/shared/resource';
import { descriptorOf } from '../../model/shared/resource-types';
import { CIMI_ACTION, CIMI_SUBCOLLECTIONS, collectionUri, resourceUri } from './cimi-types';
import { isSubResource, type CimiUris } from './cimi-uris';
import { isEvented } from '../../model/event/resource-event';
import { eventLogHref } from './cimi-events';
import { OVF_EXPORTABLE } from '../../model/system/ovf/ovf-mapping';

export type CimiDoc = Record<string, unknown>;

/**
 * Which model attributes go on the CIMI 1.1 wire for each type, in DSP8009 order (docs/cimi.md §8.4). Model
 * attributes that DSP8009 has no element for (e.g. the Machine's image and template, kept for WS-Man) stay off
 * the wire; secrets (Credential password and key) are never returned.
 */
export const WIRE: Partial<Record<ResourceType, readonly string[]>> = {
  Machine: ['cpu', 'memory', 'cpuArch', 'cpuSpeed', 'latestSnapshot'],
  MachineTemplate: ['initialState', 'machineConfig', 'machineImage', 'credential', 'volumes', 'volumeTemplates', 'networkInterfaces', 'userData'],
  MachineConfiguration: ['cpu', 'memory', 'disks', 'cpuArch', 'cpuSpeed'],
  MachineImage: ['type', 'imageLocation', 'relatedImage'],
  Credential: ['userName'],
  CredentialTemplate: ['userName'],
  Volume: ['type', 'capacity', 'bootable'],
  VolumeTemplate: ['volumeConfig', 'volumeImage'],
  VolumeConfiguration: ['type', 'format', 'capacity'],
  VolumeImage: ['imageLocation', 'bootable'],
  Network: ['networkType', 'mtu', 'classOfService', 'forwardingGroup'],
  NetworkTemplate: ['initialState', 'networkConfig', 'forwardingGroup'],
  NetworkConfiguration: ['networkType', 'mtu', 'classOfService'],
  NetworkPort: ['network', 'portType', 'classOfService'],
  NetworkPortTemplate: ['network', 'networkPortConfig'],
  NetworkPortConfiguration: ['portType', 'classOfService'],
  Address: ['ip', 'hostname', 'allocation', 'defaultGateway', 'dns', 'protocol', 'mask', 'network', 'resource'],
  AddressTemplate: ['ip', 'hostname', 'allocation', 'defaultGateway', 'dns', 'protocol', 'mask', 'network'],
  ForwardingGroup: ['networks'],
  ForwardingGroupTemplate: ['networks'],
  SystemTemplate: ['componentDescriptors'],
  MeterTemplate: ['targetResource', 'meterConfig'],
  MeterConfiguration: ['aspect', 'units', 'sampleInterval', 'timeScope', 'intervalDuration', 'isContinuous'],
  Disk: ['capacity', 'initialLocation'],
  MachineVolume: ['initialLocation', 'volume'],
  MachineNetworkInterface: ['addresses', 'network', 'networkPort', 'state', 'macAddress', 'mtu'],
  SystemMachine: ['machine'],
  SystemVolume: ['volume'],
  SystemNetwork: ['network'],
  SystemCredential: ['credential'],
  SystemNetworkPort: ['networkPort'],
  SystemAddress: ['address'],
  SystemForwardingGroup: ['forwardingGroup'],
  SystemSystem: ['system'],
};

/**
 * Types that DSP8009 defines without the common attributes (no id, name, created, …, no operations): a Machine's
 * Disk is only `capacity` and `initialLocation`, so its representation carries just those.
 */
export const NO_COMMON: ReadonlySet<ResourceType> = new Set<ResourceType>(['Disk']);

/**
 * What a client may write for each type: the wire attributes plus the secrets, which are accepted on input
 * (CredentialTemplate by value, docs/cimi.md §2.2) but never rendered.
 */
export function wireInput(type: ResourceType): string[] {
  const secrets = descriptorOf(type).attrs.filter((a) => a.secret).map((a) => a.name);
  return [...(WIRE[type] ?? []), ...secrets];
}

/** Secrets of a Credential (password, key): never returned, also not from inside a template (docs/cimi.md §2.2). */
const CREDENTIAL_SECRETS = new Set(descriptorOf('Credential').attrs.filter((a) => a.secret).map((a) => a.name));
/** Attributes whose value is a Credential (template) slot. */
const CREDENTIAL_SLOTS = new Set(['credential', 'credentialTemplate']);

/** Attributes whose JSON form is an array of `{href}` items (1.x repeated ref elements). */
const REF_ARRAYS = new Set(['networks', 'addresses']);

export class CimiMapper {
  constructor(
    private readonly uris: CimiUris,
    private readonly ctx: OperationContext,
  ) {}

  /** A model resource as its CIMI JSON document (the shape XML is produced from, too). */
  resource(r: Resource): CimiDoc {
    const href = this.uris.resource(r.type, r.id, r.parentId);
    if (NO_COMMON.has(r.type)) {
      const bare: CimiDoc = { resourceURI: resourceUri(r.type) };
      for (const name of WIRE[r.type] ?? []) {
        const v = (r.attrs as Record<string, unknown>)[name];
        if (v !== undefined && v !== null) bare[name] = this.render(v);
      }
      return bare;
    }
    const doc: CimiDoc = { resourceURI: resourceUri(r.type), id: href };
    common(doc, r);
    if (descriptorOf(r.type).stateMachine) doc.state = r.state;
    for (const name of WIRE[r.type] ?? []) {
      const v = (r.attrs as Record<string, unknown>)[name];
      if (v === undefined || v === null) continue;
      doc[name] = name === 'componentDescriptors' ? this.componentDescriptors(v) : this.render(v, REF_ARRAYS.has(name), name);
    }
    for (const sub of CIMI_SUBCOLLECTIONS.filter((s) => s.parent === r.type)) {
      doc[sub.segment] = { href: this.uris.subCollection(r.type, r.id, sub.segment) };
    }
    if (isEvented(r.type)) doc.eventLog = { href: eventLogHref(this.uris, r.id) };
    const ops = this.operations(r, href);
    if (ops.length) doc.operations = ops;
    return doc;
  }

  /**
   * SystemTemplate components back in CIMI form (docs/cimi.md §2.6), the inverse of the request side's
   * `componentDescriptors()`: `type` as the component's resource URI, the model's `template` in the
   * `<type>Template` slot (`machineTemplate`, …), an associated resource as `<type>` (`machine`, …).
   */
  private componentDescriptors(v: unknown): unknown {
    if (!Array.isArray(v)) return this.render(v);
    return v.map((d: Record<string, unknown>) => {
      const { type, template, resource, ...rest } = d;
      const slot = typeof type === 'string' ? type[0].toLowerCase() + type.slice(1) : undefined;
      const out: CimiDoc = this.render(rest) as CimiDoc;
      if (typeof type === 'string') out.type = resourceUri(type);
      if (slot && template !== undefined && template !== null) out[`${slot}Template`] = this.render(template, false, `${slot}Template`);
      if (slot && resource !== undefined && resource !== null) out[slot] = this.render(resource);
      return out;
    });
  }

  /** CIMI `operations` (DSP0263 2.0.0 §4.2): what this user may do now, from the model's one rule source. */
  private operations(r: Resource, href: string): { rel: string; href: string }[] {
    // link items: only a MachineVolume has an operation, its delete (= detach; the Deltacloud suite reads it first)
    if (descriptorOf(r.type).parentType) return r.type === 'MachineVolume' && canWrite(this.ctx) ? [{ rel: 'delete', href }] : [];
    const ops = allowedOperations(this.ctx, r).map((op) => {
      if (op === 'edit' || op === 'delete') return { rel: op, href };
      // capture is done by POSTing an image whose imageLocation is this resource (docs/cimi.md §2.2)
      if (op === 'capture') return { rel: `${CIMI_ACTION}capture`, href: this.uris.collection(r.type === 'Volume' ? 'VolumeImage' : 'MachineImage') };
      return { rel: `${CIMI_ACTION}${op}`, href: `${href}/${op}` };
    });
    // DSP0263 2.0.0 §5.13.1, §5.13.4: export is a read, offered to every role
    if (OVF_EXPORTABLE.includes(r.type)) ops.push({ rel: `${CIMI_ACTION}export`, href: `${href}/export` });
    return ops;
  }

  /**
   * model values to wire values: Refs to {href}, template slots to {href, …overrides} or the value itself.
   * `field` is the attribute the value belongs to: a credential given by value inside a template (`credential`,
   * `credentialTemplate`) loses its secret attributes, like a Credential resource does (docs/cimi.md §2.2).
   */
  render(v: unknown, refArray = false, field?: string): unknown {
    if (v instanceof Date) return v.toISOString();
    if (Array.isArray(v)) return v.map((x) => (refArray && isRef(x) ? { href: this.href(x) } : this.render(x, false, field)));
    if (isRef(v)) return { href: this.href(v) };
    if (v && typeof v === 'object') {
      const o = v as { ref?: Ref; value?: Record<string, unknown> } & Record<string, unknown>;
      if (('ref' in o || 'value' in o) && Object.keys(o).every((k) => k === 'ref' || k === 'value')) {
        const value = o.value ? (this.render(o.value, false, field) as Record<string, unknown>) : {};
        return o.ref ? { href: this.href(o.ref), ...value } : value;
      }
      const secret = field !== undefined && CREDENTIAL_SLOTS.has(field);
      return Object.fromEntries(
        Object.entries(o)
          .filter(([k, x]) => x !== undefined && x !== null && !(secret && CREDENTIAL_SECRETS.has(k)))
          .map(([k, x]) => [k, this.render(x, false, k)]),
      );
    }
    return v;
  }

  private href(r: Ref): string {
    return r.id.startsWith('#') ? r.id : this.uris.resource(r.type, r.id);
  }

  collection(type: string, itemsKey: string, collHref: string, items: CimiDoc[], count: number, addable = true): CimiDoc {
    const doc: CimiDoc = { resourceURI: collectionUri(type), id: collHref, count };
    if (items.length) doc[itemsKey] = items;
    const ops = addable ? allowedCollectionOperations(this.ctx).map((rel) => ({ rel, href: collHref })) : [];
    // DSP0263 2.0.0 §5.13.2, §5.13.5.1: the System and SystemTemplate collections import OVF packages
    if ((type === 'SystemTemplate' || type === 'System') && ops.length) ops.push({ rel: `${CIMI_ACTION}import`, href: `${collHref}/import` });
    if (ops.length) doc.operations = ops;
    return doc;
  }

  /** A Job (DSP0263 2.0.0 §5.17; docs/cimi.md §7). */
  job(j: Job, nested: string[] = []): CimiDoc {
    const href = this.uris.job(j.id);
    const doc: CimiDoc = { resourceURI: resourceUri('Job'), id: href };
    common(doc, j);
    doc.state = j.state;
    // a sub-resource's href needs its parent, which the Job names among its affected resources (a MachineVolume's
    // Machine: machine.service.ts attachVolume/detachVolume)
    const hrefOf = (r: { type: string; id: string }): string | undefined => {
      if (r.type.endsWith('Collection') || r.type === 'Meter' || !isSubResource(r.type as ResourceType)) return this.uris.target(r);
      const parentType = descriptorOf(r.type as ResourceType).parentType;
      const parents = j.affectedResources.filter((a) => a.type === parentType);
      return parents.length === 1 ? this.uris.resource(r.type as ResourceType, r.id, parents[0].id) : undefined;
    };
    const target = hrefOf(j.targetResource);
    if (target) doc.targetResource = { href: target };
    const affected = j.affectedResources.map(hrefOf).filter((h): h is string => !!h).map((h) => ({ href: h }));
    if (affected.length) doc.affectedResources = affected;
    doc.action = jobAction(j.action);
    if (j.returnCode !== undefined) doc.returnCode = j.returnCode;
    doc.progress = j.progress;
    if (j.statusMessage) doc.statusMessage = j.statusMessage;
    doc.timeOfStatusChange = j.timeOfStatusChange.toISOString();
    if (j.parentJobId) doc.parentJob = { href: this.uris.job(j.parentJobId) };
    if (nested.length) doc.nestedJobs = nested.map((id) => ({ href: this.uris.job(id) }));
    if (canWrite(this.ctx)) {
      // the Job state table decides: stop while it can stop, delete once it is final (DSP0263 2.0.0 §5.17)
      const ops = canJob('stop', j.state) ? [{ rel: `${CIMI_ACTION}stop`, href: `${href}/stop` }] : isFinalJobState(j.state) ? [{ rel: 'delete', href }] : [];
      if (ops.length) doc.operations = ops;
    }
    return doc;
  }
}

/** Job `action`: the action URI for actions, the core operation name (add, edit, delete) otherwise. */
export function jobAction(action: string): string {
  return ['add', 'edit', 'delete'].includes(action) ? action : `${CIMI_ACTION}${action}`;
}

function common(doc: CimiDoc, r: { name?: string; description?: string; created: Date; updated: Date; properties: Record<string, string> }): void {
  if (r.name) doc.name = r.name;
  if (r.description) doc.description = r.description;
  doc.created = r.created.toISOString();
  doc.updated = r.updated.toISOString();
  if (Object.keys(r.properties).length) doc.properties = r.properties;
}
