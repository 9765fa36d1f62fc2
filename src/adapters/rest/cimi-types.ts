import type { ResourceType } from '../../model/shared/resource';

export const CIMI_NS = 'http://schemas.dmtf.org/cimi/1';
export const CIMI_ACTION = `${CIMI_NS}/action/`;

/**
 * The CIMI 1.1 names of every top-level resource type (docs/cimi.md §1, §8.2): its path segment and CEP
 * attribute (the short `machineConfigs` form), and the JSON array key of its collection (the full
 * `machineConfigurations` form). One table, read by routing, hrefs, serialization and the entry point.
 */
export interface CimiTypeInfo {
  type: ResourceType;
  /** path segment under /cimi and the CloudEntryPoint attribute */
  segment: string;
  /** JSON array key of the collection's items */
  itemsKey: string;
  /** the `<Type>Create` wrapper and its template attribute, for types created from a template */
  create?: { wrapper: string; templateAttr: string };
}

export const CIMI_TYPES: readonly CimiTypeInfo[] = [
  { type: 'System', segment: 'systems', itemsKey: 'systems', create: { wrapper: 'SystemCreate', templateAttr: 'systemTemplate' } },
  { type: 'SystemTemplate', segment: 'systemTemplates', itemsKey: 'systemTemplates' },
  { type: 'Machine', segment: 'machines', itemsKey: 'machines', create: { wrapper: 'MachineCreate', templateAttr: 'machineTemplate' } },
  { type: 'MachineTemplate', segment: 'machineTemplates', itemsKey: 'machineTemplates' },
  { type: 'MachineConfiguration', segment: 'machineConfigs', itemsKey: 'machineConfigurations' },
  { type: 'MachineImage', segment: 'machineImages', itemsKey: 'machineImages' },
  { type: 'Credential', segment: 'credentials', itemsKey: 'credentials', create: { wrapper: 'CredentialCreate', templateAttr: 'credentialTemplate' } },
  { type: 'CredentialTemplate', segment: 'credentialTemplates', itemsKey: 'credentialTemplates' },
  { type: 'Volume', segment: 'volumes', itemsKey: 'volumes', create: { wrapper: 'VolumeCreate', templateAttr: 'volumeTemplate' } },
  { type: 'VolumeTemplate', segment: 'volumeTemplates', itemsKey: 'volumeTemplates' },
  { type: 'VolumeConfiguration', segment: 'volumeConfigs', itemsKey: 'volumeConfigurations' },
  { type: 'VolumeImage', segment: 'volumeImages', itemsKey: 'volumeImages' },
  { type: 'Network', segment: 'networks', itemsKey: 'networks', create: { wrapper: 'NetworkCreate', templateAttr: 'networkTemplate' } },
  { type: 'NetworkTemplate', segment: 'networkTemplates', itemsKey: 'networkTemplates' },
  { type: 'NetworkConfiguration', segment: 'networkConfigs', itemsKey: 'networkConfigurations' },
  { type: 'NetworkPort', segment: 'networkPorts', itemsKey: 'networkPorts', create: { wrapper: 'NetworkPortCreate', templateAttr: 'networkPortTemplate' } },
  { type: 'NetworkPortTemplate', segment: 'networkPortTemplates', itemsKey: 'networkPortTemplates' },
  { type: 'NetworkPortConfiguration', segment: 'networkPortConfigs', itemsKey: 'networkPortConfigurations' },
  { type: 'Address', segment: 'addresses', itemsKey: 'addresses', create: { wrapper: 'AddressCreate', templateAttr: 'addressTemplate' } },
  { type: 'AddressTemplate', segment: 'addressTemplates', itemsKey: 'addressTemplates' },
  { type: 'ForwardingGroup', segment: 'forwardingGroups', itemsKey: 'forwardingGroups', create: { wrapper: 'ForwardingGroupCreate', templateAttr: 'forwardingGroupTemplate' } },
  { type: 'ForwardingGroupTemplate', segment: 'forwardingGroupTemplates', itemsKey: 'forwardingGroupTemplates' },
  // DSP0263 2.0.0 §5.17.6, §5.17.9 (CEP attributes meterTemplates, meterConfigs); Meters: cimi-meters.ts
  { type: 'MeterTemplate', segment: 'meterTemplates', itemsKey: 'meterTemplates' },
  { type: 'MeterConfiguration', segment: 'meterConfigs', itemsKey: 'meterConfigurations' },
];

/** Sub-collections (1.x link items, docs/cimi.md §2.9): parent type, path segment, item type, JSON array key. */
export interface CimiSubCollection {
  parent: ResourceType;
  segment: string;
  type: ResourceType;
  itemsKey: string;
}

export const CIMI_SUBCOLLECTIONS: readonly CimiSubCollection[] = [
  { parent: 'Machine', segment: 'disks', type: 'Disk', itemsKey: 'disks' },
  { parent: 'Machine', segment: 'volumes', type: 'MachineVolume', itemsKey: 'machineVolumes' },
  { parent: 'Machine', segment: 'networkInterfaces', type: 'MachineNetworkInterface', itemsKey: 'machineNetworkInterfaces' },
  { parent: 'System', segment: 'systems', type: 'SystemSystem', itemsKey: 'systemSystems' },
  { parent: 'System', segment: 'machines', type: 'SystemMachine', itemsKey: 'systemMachines' },
  { parent: 'System', segment: 'credentials', type: 'SystemCredential', itemsKey: 'systemCredentials' },
  { parent: 'System', segment: 'volumes', type: 'SystemVolume', itemsKey: 'systemVolumes' },
  { parent: 'System', segment: 'networks', type: 'SystemNetwork', itemsKey: 'systemNetworks' },
  { parent: 'System', segment: 'networkPorts', type: 'SystemNetworkPort', itemsKey: 'systemNetworkPorts' },
  { parent: 'System', segment: 'addresses', type: 'SystemAddress', itemsKey: 'systemAddresses' },
  { parent: 'System', segment: 'forwardingGroups', type: 'SystemForwardingGroup', itemsKey: 'systemForwardingGroups' },
];

export const BY_SEGMENT = new Map(CIMI_TYPES.map((t) => [t.segment, t]));
export const BY_TYPE = new Map<ResourceType, CimiTypeInfo>(CIMI_TYPES.map((t) => [t.type, t]));

export function subCollection(parent: ResourceType, segment: string): CimiSubCollection | undefined {
  return CIMI_SUBCOLLECTIONS.find((s) => s.parent === parent && s.segment === segment);
}

export function subCollectionOf(type: ResourceType): CimiSubCollection | undefined {
  return CIMI_SUBCOLLECTIONS.find((s) => s.type === type);
}

export const resourceUri = (type: string) => `${CIMI_NS}/${type}`;
export const collectionUri = (type: string) => `${CIMI_NS}/${type}Collection`;
