import type { ResourceType } from './resource';
import type { StateMachine } from './state-machine';
import { machineStateMachine } from '../machine/machine-state';
import { machineImageStateMachine, volumeImageStateMachine, volumeStateMachine } from '../volume/volume-state';
import { networkPortStateMachine, networkStateMachine } from '../network/network-state';
import { systemStateMachine } from '../system/system-state';

/** Attribute value kinds, shared by every adapter's representation and by the query allow-lists. */
export type AttrKind = 'string' | 'integer' | 'boolean' | 'dateTime' | 'uri' | 'ref' | 'refs' | 'struct' | 'structs' | 'strings';

export interface AttrSpec {
  name: string;
  kind: AttrKind;
  /** for ref/refs: the type referred to */
  refType?: ResourceType;
  /** set by the provider, never by a client (docs/reliability.md rule 10) */
  readOnly?: boolean;
  /** never returned to clients (secrets) */
  secret?: boolean;
}

export interface ResourceTypeDescriptor {
  type: ResourceType;
  /** sub-resources name their parent type */
  parentType?: ResourceType;
  /** type-specific attributes in DSP8009 order */
  attrs: readonly AttrSpec[];
  stateMachine?: StateMachine<string>;
  /** created through a provider job (CREATING ... initial state), not synchronously */
  provisioned: boolean;
  /** the template type a `<Type>Create` wrapper carries (DSP0263 §4.2.1.1) */
  templateType?: ResourceType;
}

const s = (name: string, extra: Partial<AttrSpec> = {}): AttrSpec => ({ name, kind: 'string', ...extra });
const i = (name: string, extra: Partial<AttrSpec> = {}): AttrSpec => ({ name, kind: 'integer', ...extra });
const b = (name: string, extra: Partial<AttrSpec> = {}): AttrSpec => ({ name, kind: 'boolean', ...extra });
const u = (name: string, extra: Partial<AttrSpec> = {}): AttrSpec => ({ name, kind: 'uri', ...extra });
const ref = (name: string, refType: ResourceType, extra: Partial<AttrSpec> = {}): AttrSpec => ({ name, kind: 'ref', refType, ...extra });
const refs = (name: string, refType: ResourceType, extra: Partial<AttrSpec> = {}): AttrSpec => ({ name, kind: 'refs', refType, ...extra });
const st = (name: string, extra: Partial<AttrSpec> = {}): AttrSpec => ({ name, kind: 'struct', ...extra });
const sts = (name: string, extra: Partial<AttrSpec> = {}): AttrSpec => ({ name, kind: 'structs', ...extra });

const DISK_SPECS = sts('disks'); // [{capacity (KB), format, initialLocation}]

const D: ResourceTypeDescriptor[] = [
  {
    type: 'Machine',
    provisioned: true,
    templateType: 'MachineTemplate',
    stateMachine: machineStateMachine,
    attrs: [
      i('cpu', { readOnly: true }),
      i('memory', { readOnly: true }), // KiB (docs/cimi.md §8.5)
      s('cpuArch', { readOnly: true }),
      i('cpuSpeed', { readOnly: true }), // MHz
      ref('machineImage', 'MachineImage', { readOnly: true }),
      ref('machineTemplate', 'MachineTemplate', { readOnly: true }),
      ref('latestSnapshot', 'MachineImage', { readOnly: true }),
      s('userData', { readOnly: true }),
    ],
  },
  {
    type: 'MachineTemplate',
    provisioned: false,
    attrs: [
      s('initialState'),
      st('machineConfig'), // {ref} or by value
      st('machineImage'),
      st('credential'),
      sts('volumes'), // [{volume: ref, initialLocation}]
      sts('volumeTemplates'), // [{volumeTemplate: ref|value, initialLocation}]
      sts('networkInterfaces'), // [{network, networkPort, addresses, state, mtu}]
      s('userData'),
    ],
  },
  {
    type: 'MachineConfiguration',
    provisioned: false,
    attrs: [i('cpu'), i('memory'), DISK_SPECS, s('cpuArch'), i('cpuSpeed')],
  },
  {
    type: 'MachineImage',
    provisioned: true,
    stateMachine: machineImageStateMachine,
    attrs: [s('type'), u('imageLocation'), ref('relatedImage', 'MachineImage')],
  },
  { type: 'Credential', provisioned: false, templateType: 'CredentialTemplate', attrs: [s('userName'), s('password', { secret: true }), s('key', { secret: true })] },
  { type: 'CredentialTemplate', provisioned: false, attrs: [s('userName'), s('password', { secret: true }), s('key', { secret: true })] },
  {
    type: 'Volume',
    provisioned: true,
    templateType: 'VolumeTemplate',
    stateMachine: volumeStateMachine,
    attrs: [u('type', { readOnly: true }), i('capacity', { readOnly: true }), b('bootable', { readOnly: true }), s('format', { readOnly: true }), ref('volumeImage', 'VolumeImage', { readOnly: true })],
  },
  { type: 'VolumeTemplate', provisioned: false, attrs: [st('volumeConfig'), st('volumeImage')] },
  { type: 'VolumeConfiguration', provisioned: false, attrs: [u('type'), s('format'), i('capacity')] },
  {
    type: 'VolumeImage',
    provisioned: true,
    stateMachine: volumeImageStateMachine,
    attrs: [u('imageLocation'), b('bootable')],
  },
  {
    type: 'Network',
    provisioned: true,
    templateType: 'NetworkTemplate',
    stateMachine: networkStateMachine,
    attrs: [s('networkType', { readOnly: true }), i('mtu', { readOnly: true }), s('classOfService', { readOnly: true }), ref('forwardingGroup', 'ForwardingGroup', { readOnly: true })],
  },
  { type: 'NetworkTemplate', provisioned: false, attrs: [s('initialState'), st('networkConfig'), ref('forwardingGroup', 'ForwardingGroup')] },
  { type: 'NetworkConfiguration', provisioned: false, attrs: [s('networkType'), i('mtu'), s('classOfService')] },
  {
    type: 'NetworkPort',
    provisioned: true,
    templateType: 'NetworkPortTemplate',
    stateMachine: networkPortStateMachine,
    attrs: [ref('network', 'Network', { readOnly: true }), s('portType', { readOnly: true }), s('classOfService', { readOnly: true })],
  },
  { type: 'NetworkPortTemplate', provisioned: false, attrs: [s('initialState'), st('network'), st('networkPortConfig')] },
  { type: 'NetworkPortConfiguration', provisioned: false, attrs: [s('portType'), s('classOfService')] },
  {
    type: 'Address',
    provisioned: false,
    templateType: 'AddressTemplate',
    attrs: [s('ip'), s('hostname'), s('allocation'), s('defaultGateway'), { name: 'dns', kind: 'strings' }, s('protocol'), s('mask'), ref('network', 'Network'), st('resource')],
  },
  {
    type: 'AddressTemplate',
    provisioned: false,
    attrs: [s('ip'), s('hostname'), s('allocation'), s('defaultGateway'), { name: 'dns', kind: 'strings' }, s('protocol'), s('mask'), st('network')],
  },
  { type: 'ForwardingGroup', provisioned: false, templateType: 'ForwardingGroupTemplate', attrs: [refs('networks', 'Network')] },
  { type: 'ForwardingGroupTemplate', provisioned: false, attrs: [sts('networks')] },
  {
    type: 'System',
    provisioned: true,
    templateType: 'SystemTemplate',
    stateMachine: systemStateMachine,
    attrs: [ref('systemTemplate', 'SystemTemplate', { readOnly: true })],
  },
  { type: 'SystemTemplate', provisioned: false, attrs: [sts('componentDescriptors')] },
  // DSP0263 2.0.0 Table 49: the metered resource (a Machine, Volume or Network) and the MeterConfiguration slot
  { type: 'MeterTemplate', provisioned: false, attrs: [ref('targetResource', 'Machine'), st('meterConfig')] },
  // DSP0263 2.0.0 Table 50 (DSP8009 MeterConfigurationElements); the aspect names the metric (meter-definition.ts)
  { type: 'MeterConfiguration', provisioned: false, attrs: [u('aspect'), s('units'), i('sampleInterval'), s('timeScope'), s('intervalDuration'), b('isContinuous')] },
  // sub-resources
  { type: 'Disk', parentType: 'Machine', provisioned: false, attrs: [i('capacity'), s('format'), s('initialLocation')] },
  { type: 'MachineVolume', parentType: 'Machine', provisioned: false, attrs: [s('initialLocation'), ref('volume', 'Volume')] },
  {
    type: 'MachineNetworkInterface',
    parentType: 'Machine',
    provisioned: false,
    attrs: [refs('addresses', 'Address'), ref('network', 'Network'), ref('networkPort', 'NetworkPort'), s('state'), s('macAddress', { readOnly: true }), i('mtu')],
  },
  ...(
    [
      ['SystemMachine', 'machine', 'Machine'],
      ['SystemVolume', 'volume', 'Volume'],
      ['SystemNetwork', 'network', 'Network'],
      ['SystemCredential', 'credential', 'Credential'],
      ['SystemNetworkPort', 'networkPort', 'NetworkPort'],
      ['SystemAddress', 'address', 'Address'],
      ['SystemForwardingGroup', 'forwardingGroup', 'ForwardingGroup'],
      ['SystemSystem', 'system', 'System'],
    ] as const
  ).map(([type, attr, refType]): ResourceTypeDescriptor => ({ type, parentType: 'System', provisioned: false, attrs: [ref(attr, refType)] })),
];

export const RESOURCE_DESCRIPTORS: ReadonlyMap<ResourceType, ResourceTypeDescriptor> = new Map(D.map((d) => [d.type, d]));

export function descriptorOf(type: ResourceType): ResourceTypeDescriptor {
  const d = RESOURCE_DESCRIPTORS.get(type);
  if (!d) throw new Error(`unknown resource type ${type}`);
  return d;
}

/** The link sub-resource type of a System component, keyed by the component's type. */
export const SYSTEM_LINK_TYPES: Partial<Record<ResourceType, { linkType: ResourceType; attr: string }>> = Object.fromEntries(
  D.filter((d) => d.parentType === 'System').map((d) => [d.attrs[0].refType, { linkType: d.type, attr: d.attrs[0].name }]),
);
