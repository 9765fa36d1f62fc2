import { InvalidInputError } from '../../model/shared/model-error';
import type { Ref, ResourceType } from '../../model/shared/resource';
import { descriptorOf } from '../../model/shared/resource-types';
import type { CommonInput } from '../../model/shared/attr-validation';
import { CIMI_NS } from './cimi-types';
import type { CimiUris } from './cimi-uris';
import { requireObject } from './cimi-http';

const COMMON = ['resourceURI', 'name', 'description', 'properties'];
/** read-only attributes a client echoes back on a full PUT: ignored, not errors (DSP0263 2.0.0 l.1025-1027) */
const READ_ONLY = ['id', 'created', 'updated', 'state', 'operations', 'disks', 'volumes', 'networkInterfaces', 'systems', 'machines', 'credentials', 'networks', 'networkPorts', 'addresses', 'forwardingGroups', 'images', 'meters', 'eventLog', 'snapshots', 'latestSnapshot'];

/**
 * Wire documents to model inputs. Every `{href, …}` becomes a template slot `{ref, value}` (by reference with
 * overrides, docs/cimi.md §6) or a plain Ref; everything else keeps its CIMI attribute names, which the model
 * uses too. Hrefs are resolved here, once.
 */
export class CimiRequest {
  constructor(private readonly uris: CimiUris) {}

  /** the root `resourceURI`, if given, must name what the endpoint expects (docs/cimi.md §6 step 1) */
  checkResourceUri(doc: Record<string, unknown>, expected: string[]): void {
    const v = doc.resourceURI;
    if (v === undefined) return;
    if (typeof v !== 'string' || !expected.some((e) => v === `${CIMI_NS}/${e}`)) {
      throw new InvalidInputError(`resourceURI must be ${expected.map((e) => `${CIMI_NS}/${e}`).join(' or ')}`, 'resourceURI', 'REST.WRONG_RESOURCE_URI');
    }
  }

  onlyKeys(doc: Record<string, unknown>, allowed: readonly string[], what: string): void {
    for (const k of Object.keys(doc)) {
      if (!allowed.includes(k)) throw new InvalidInputError(`${what} has no attribute ${k}`, k, 'GENERIC.UNKNOWN_ATTRIBUTE');
    }
  }

  common(doc: Record<string, unknown>): CommonInput {
    const out: CommonInput = {};
    if ('name' in doc) out.name = doc.name as string;
    if ('description' in doc) out.description = doc.description as string;
    if ('properties' in doc) out.properties = (doc.properties ?? {}) as Record<string, string>;
    return out;
  }

  /** `<Type>Create` wrapper: common attributes and the template slot, nothing else */
  createWrapper(doc: Record<string, unknown>, wrapper: string, templateAttr: string, templateType: ResourceType) {
    this.checkResourceUri(doc, [wrapper]);
    this.onlyKeys(doc, [...COMMON, templateAttr], wrapper);
    const t = doc[templateAttr];
    if (t === undefined || t === null) throw new InvalidInputError(`${wrapper} needs ${templateAttr}`, templateAttr);
    return { ...this.common(doc), [templateAttr]: this.slot(requireObject(t, templateAttr), templateAttr, templateType) };
  }

  /** A resource written by value (templates, configurations): its wire attributes become model attributes. */
  byValue(doc: Record<string, unknown>, type: ResourceType, wire: readonly string[], opts: { ignoreReadOnly?: boolean } = {}) {
    this.checkResourceUri(doc, [type]);
    const attrs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(doc)) {
      if (COMMON.includes(k)) continue;
      if (opts.ignoreReadOnly && READ_ONLY.includes(k)) continue;
      if (!wire.includes(k)) throw new InvalidInputError(`${type} has no attribute ${k}`, k, 'GENERIC.UNKNOWN_ATTRIBUTE');
      attrs[k] = this.value(v, k);
    }
    return { ...this.common(doc), attrs };
  }

  /** a template/configuration/image slot: `{href}` by reference (+ overrides), or an object by value */
  slot(v: Record<string, unknown>, field: string, type?: ResourceType): { ref?: Ref; value?: Record<string, unknown> } {
    const { href, ...rest } = v;
    const value = Object.keys(rest).length ? (this.value(rest, field) as Record<string, unknown>) : undefined;
    if (href === undefined) return { value: value ?? {} };
    return { ref: this.uris.parse(href, field, type), value };
  }

  /** deep conversion of wire values: nested `{href}` objects become Refs (or slots when they carry overrides) */
  value(v: unknown, field: string): unknown {
    if (Array.isArray(v)) return v.map((x) => this.value(x, field));
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('href' in o) {
        // MachineTemplate volumes: 1.x items may also come as {href, initialLocation} (docs/cimi.md §2.2)
        const volumeItem = field === 'volumes';
        const expected = volumeItem ? 'Volume' : SLOT_TYPES[field];
        const { href, ...rest } = o;
        const ref = this.uris.parse(href, field, expected);
        if (volumeItem) return { volume: ref, ...(this.value(rest, field) as object) };
        if (Object.keys(rest).length === 0) return SLOT_FIELDS.has(field) ? { ref } : ref;
        return { ref, value: this.value(rest, field) };
      }
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, this.value(x, k)]));
    }
    return v;
  }
}

/** Nested attributes whose value is a template slot of this type (by reference or by value). */
const SLOT_TYPES: Record<string, ResourceType> = {
  machineConfig: 'MachineConfiguration',
  machineImage: 'MachineImage',
  credential: 'Credential',
  volumeTemplate: 'VolumeTemplate',
  volumeConfig: 'VolumeConfiguration',
  volumeImage: 'VolumeImage',
  networkConfig: 'NetworkConfiguration',
  networkPortConfig: 'NetworkPortConfiguration',
  machineTemplate: 'MachineTemplate',
  systemTemplate: 'SystemTemplate',
  credentialTemplate: 'CredentialTemplate',
  networkTemplate: 'NetworkTemplate',
  networkPortTemplate: 'NetworkPortTemplate',
  addressTemplate: 'AddressTemplate',
  forwardingGroupTemplate: 'ForwardingGroupTemplate',
  meterTemplate: 'MeterTemplate',
  meterConfig: 'MeterConfiguration',
  volume: 'Volume',
  network: 'Network',
  networkPort: 'NetworkPort',
  forwardingGroup: 'ForwardingGroup',
  image: 'MachineImage',
  relatedImage: 'MachineImage',
};
const SLOT_FIELDS = new Set(Object.keys(SLOT_TYPES).filter((k) => /Config$|Image$|Template$|^credential$/.test(k)));

/** Component descriptors: the CIMI component slot (`machineTemplate`, …) becomes the model's `template`. */
export function componentDescriptors(attrs: Record<string, unknown>): void {
  const list = attrs.componentDescriptors;
  if (!Array.isArray(list)) return;
  attrs.componentDescriptors = list.map((d) => {
    const o = { ...(d as Record<string, unknown>) };
    const typeUri = o.type;
    if (typeof typeUri === 'string' && typeUri.startsWith(`${CIMI_NS}/`)) o.type = typeUri.slice(CIMI_NS.length + 1);
    for (const slot of ['machineTemplate', 'volumeTemplate', 'networkTemplate', 'credentialTemplate']) {
      if (o[slot] !== undefined) {
        // the model takes a template slot: {ref[, value]} by reference (already so from value()), {value} by value
        const t = o[slot];
        const isSlot = !!t && typeof t === 'object' && !Array.isArray(t) && Object.keys(t).length > 0 && Object.keys(t).every((k) => k === 'ref' || k === 'value');
        o.template = isSlot || t === null || typeof t !== 'object' ? t : { value: t };
        delete o[slot];
      }
    }
    // an existing resource to associate (`machine`, `volume`, …) is a 2.0 shape: DSP8009's componentDescriptor has
    // only template slots, so the 1.1 wire could not show such a template in XML (docs/cimi.md §2.6, §8.4)
    for (const existing of ['machine', 'volume', 'network', 'credential']) {
      if (o[existing] !== undefined) {
        throw new InvalidInputError(`componentDescriptor ${existing}: associating an existing resource is not part of CIMI 1.1; use ${existing}Template`, 'componentDescriptors', 'GENERIC.UNKNOWN_ATTRIBUTE');
      }
    }
    if (o.type !== undefined && !descriptorOfSafe(o.type)) throw new InvalidInputError(`componentDescriptor type ${String(typeUri)} is not a CIMI resource type`, 'componentDescriptors');
    return o;
  });
}

function descriptorOfSafe(t: unknown): boolean {
  try {
    return typeof t === 'string' && !!descriptorOf(t as ResourceType);
  } catch {
    return false;
  }
}
