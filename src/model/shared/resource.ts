/** A typed reference to another resource of the model; adapters turn it into an href, an EPR or an id. */
export interface Ref {
  type: ResourceType;
  id: string;
}

export const RESOURCE_TYPES = [
  'Machine',
  'MachineTemplate',
  'MachineConfiguration',
  'MachineImage',
  'Credential',
  'CredentialTemplate',
  'Volume',
  'VolumeTemplate',
  'VolumeConfiguration',
  'VolumeImage',
  'Network',
  'NetworkTemplate',
  'NetworkConfiguration',
  'NetworkPort',
  'NetworkPortTemplate',
  'NetworkPortConfiguration',
  'Address',
  'AddressTemplate',
  'ForwardingGroup',
  'ForwardingGroupTemplate',
  'System',
  'SystemTemplate',
  // Meter definitions (DSP0263 2.0.0 §5.17.5, §5.17.7); Meters themselves are gateway records (meter.ts)
  'MeterTemplate',
  'MeterConfiguration',
  // sub-resources (1.x link items, docs/cimi.md §2.9): they live under a parent
  'Disk',
  'MachineVolume',
  'MachineNetworkInterface',
  'SystemMachine',
  'SystemVolume',
  'SystemNetwork',
  'SystemCredential',
  'SystemNetworkPort',
  'SystemAddress',
  'SystemForwardingGroup',
  'SystemSystem',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/**
 * Common attributes of every CIMI resource (DSP0263 2.0.0 Table 5) plus what the gateway needs to keep it:
 * its tenant, an optimistic-concurrency version, and for sub-resources the parent.
 * `attrs` holds the type-specific attributes (see resource-types.ts for each type's list).
 */
export interface Resource<A extends object = Record<string, unknown>> {
  id: string;
  tenantId: string;
  type: ResourceType;
  parentId?: string;
  name?: string;
  description?: string;
  created: Date;
  updated: Date;
  properties: Record<string, string>;
  state?: string;
  /** when `state` last changed (stamped by withStateEvents on every state change; CIM TimeOfLastStateChange) */
  stateChanged?: Date;
  version: number;
  attrs: A;
}

export function isRef(v: unknown): v is Ref {
  return typeof v === 'object' && v !== null && typeof (v as Ref).id === 'string' && typeof (v as Ref).type === 'string';
}
