/**
 * Element-order table for the CIMI 1.x XML representation (namespace http://schemas.dmtf.org/cimi/1).
 *
 * Extracted from DSP8009 1.0.2 "CIMI Schema" (../shared/specs/dsp8009_1.0.2.xsd, header date 2014-02-11) by a
 * one-off script that flattened every global element, `xs:group`, `*Ref` / `opt*Ref` / `*CollRef` complex type and
 * anonymous complex type into the lists below. Entries and children are in schema order (`xs:sequence`: order
 * matters). Lines marked "project" are additions the schema allows only through lax `xs:any` content or that map the
 * JSON side; they are not DSP8009 text. See docs/cimi.md §2.7, §8, §8.4.
 *
 * Reading the table:
 * - `children` are the XML child elements in order; each names its JSON attribute (`json`), e.g. repeated `<disk>`
 *   ↔ `disks`, `<property key>` ↔ the `properties` map, `<operation rel href/>` ↔ `operations` [{rel, href}].
 * - `ref`: an expandable reference `<x href="…"/>`; when expanded (or given by value, e.g. `machineConfig` inside a
 *   MachineTemplate) it holds the children of `type` directly, without the target's wrapper element. JSON
 *   `{href, …attributes of type}`. A ref without `type` is DSP8009 `expRef` (any target).
 * - `coll`: a collection reference `<x href="…"/>`, expanded as `id`, `count`, item elements named after `type`,
 *   then `operation*` (absent for the `noOps` collections, whose DSP8009 type has no `operation`). JSON
 *   `{href, id, count, <items key>: [...], operations}` with the items key from {@link collectionItemsKey}.
 * - `struct`: a nested structure of `type` with no href.
 * - `attributes` on a type: XML attributes of that element (besides `href`); `href: true` when the element itself
 *   may carry an `href`; `wrap`: the element's `href` and children belong to the JSON sub-object named by `wrap`,
 *   its XML attributes to the outer JSON item (MachineTemplate `<volume href initialLocation/>` ↔
 *   `{volume: {href}, initialLocation}`).
 * - `choice`: at most one group (exactly one when `required`) of the listed elements may be present.
 * - `root`: DSP8009 declares a global element of that name (a document root or a Collection item).
 */

export const CIMI_NS = 'http://schemas.dmtf.org/cimi/1';

/** How a child element maps between XML and JSON. */
export type CimiXmlKind =
  'text' | 'integer' | 'boolean' | 'ref' | 'collection' | 'struct' | 'property' | 'operation';

/** XSD simple type of a text element: decides whitespace handling and lexical checks. */
export type CimiXmlTextType = 'string' | 'anyURI' | 'dateTime' | 'duration' | 'hexBinary';

export interface CimiXmlChildSpec {
  /** XML element name */
  readonly el: string;
  /** JSON attribute name */
  readonly json: string;
  readonly kind: CimiXmlKind;
  /** for `text` */
  readonly xsd?: CimiXmlTextType;
  /** ref / struct: the type of the content; collection: the item type */
  readonly type?: string;
  /** repeated element (maxOccurs unbounded) ↔ JSON array */
  readonly many?: boolean;
  /** minOccurs 1 in DSP8009 */
  readonly required?: boolean;
  /** collection whose expanded form has no `operation` elements in DSP8009 */
  readonly noOps?: boolean;
  /** a JSON array whose XML element may occur at most this many times */
  readonly max?: number;
}

export interface CimiXmlAttributeSpec {
  readonly attr: string;
  readonly json: string;
  readonly kind: 'text' | 'integer' | 'boolean';
  /** for `text` */
  readonly xsd?: CimiXmlTextType;
  readonly required?: boolean;
}

export interface CimiXmlChoice {
  readonly groups: readonly (readonly string[])[];
  readonly required: boolean;
}

export interface CimiXmlTypeSpec {
  readonly root?: boolean;
  readonly children: readonly CimiXmlChildSpec[];
  readonly attributes?: readonly CimiXmlAttributeSpec[];
  readonly href?: boolean;
  readonly wrap?: string;
  readonly choice?: CimiXmlChoice;
  /** accepted as a request root although DSP8009 has no such element (never emitted) */
  readonly inputOnly?: boolean;
  /** a gateway extension (docs/cimi.md §2.8): read and written, but DSP8009 has no such element to validate against */
  readonly extension?: boolean;
}

interface ChildOpts {
  json?: string;
  many?: boolean;
  required?: boolean;
  noOps?: boolean;
  max?: number;
}

function spec(
  el: string,
  kind: CimiXmlKind,
  extra: Partial<CimiXmlChildSpec>,
  o: ChildOpts = {},
): CimiXmlChildSpec {
  const json = o.json ?? (o.many ? `${el}s` : el);
  return {
    el,
    json,
    kind,
    ...extra,
    ...(o.many ? { many: true } : {}),
    ...(o.required ? { required: true } : {}),
    ...(o.noOps ? { noOps: true } : {}),
    ...(o.max !== undefined ? { max: o.max } : {}),
  };
}
const text = (el: string, xsd: CimiXmlTextType = 'string', o?: ChildOpts) => spec(el, 'text', { xsd }, o);
const int = (el: string, o?: ChildOpts) => spec(el, 'integer', {}, o);
const bool = (el: string, o?: ChildOpts) => spec(el, 'boolean', {}, o);
const ref = (el: string, type?: string, o?: ChildOpts) => spec(el, 'ref', type ? { type } : {}, o);
const coll = (el: string, type: string, o?: ChildOpts) => spec(el, 'collection', { type }, o);
const struct = (el: string, type: string, o?: ChildOpts) => spec(el, 'struct', { type }, o);
/** `kind` is 'integer', 'boolean' or the XSD type of a text attribute */
const attr = (
  name: string,
  kind: 'integer' | 'boolean' | CimiXmlTextType,
  required = false,
): CimiXmlAttributeSpec => ({
  attr: name,
  json: name,
  ...(kind === 'integer' || kind === 'boolean' ? { kind } : { kind: 'text', xsd: kind }),
  ...(required ? { required } : {}),
});

const PROPERTIES = spec('property', 'property', {}, { json: 'properties', many: true });
const OPERATIONS = spec('operation', 'operation', {}, { json: 'operations', many: true });
/** DSP8009 `commonElements`: id, name, description, created, updated, property* */
const COMMON: readonly CimiXmlChildSpec[] = [
  text('id', 'anyURI'),
  text('name'),
  text('description'),
  text('created', 'dateTime'),
  text('updated', 'dateTime'),
  PROPERTIES,
];

/** Every DSP8009 1.0.2 element type, keyed by type name (global element name, or Parent+Element for inline types). */
export const CIMI_XML_TYPES: Readonly<Record<string, CimiXmlTypeSpec>> = {
  Action: {
    root: true,
    children: [
      text('action', 'anyURI', { required: true }),
      bool('force'),
      ref('image', 'MachineImage'),
      text('source', 'anyURI'),
      text('format'),
      text('destination', 'anyURI'),
      PROPERTIES,
    ],
    choice: { groups: [['force'], ['image'], ['source'], ['format', 'destination']], required: false },
  },
  CloudEntryPoint: {
    root: true,
    children: [
      ...COMMON,
      text('baseURI', 'anyURI'),
      coll('resourceMetadata', 'ResourceMetadata'),
      coll('systems', 'System'),
      coll('systemTemplates', 'SystemTemplate'),
      coll('machines', 'Machine'),
      coll('machineTemplates', 'MachineTemplate'),
      coll('machineConfigs', 'MachineConfiguration'),
      coll('machineImages', 'MachineImage'),
      coll('credentials', 'Credential'),
      coll('credentialTemplates', 'CredentialTemplate'),
      coll('volumes', 'Volume'),
      coll('volumeTemplates', 'VolumeTemplate'),
      coll('volumeConfigs', 'VolumeConfiguration'),
      coll('volumeImages', 'VolumeImage'),
      coll('networks', 'Network'),
      coll('networkTemplates', 'NetworkTemplate'),
      coll('networkConfigs', 'NetworkConfiguration'),
      coll('networkPorts', 'NetworkPort'),
      coll('networkPortTemplates', 'NetworkPortTemplate'),
      coll('networkPortConfigs', 'NetworkPortConfiguration'),
      coll('addresses', 'Address'),
      coll('addressTemplates', 'AddressTemplate'),
      coll('forwardingGroups', 'ForwardingGroup'),
      coll('forwardingGroupTemplates', 'ForwardingGroupTemplate'),
      coll('jobs', 'Job', { noOps: true }),
      coll('meters', 'Meter'),
      coll('meterTemplates', 'MeterTemplate'),
      coll('meterConfigs', 'MeterConfiguration'),
      coll('eventLogs', 'EventLog'),
      coll('eventLogTemplates', 'EventLogTemplate'),
      OPERATIONS,
    ],
  },
  ResourceMetadata: {
    root: true,
    children: [
      text('id', 'anyURI'),
      text('typeURI', 'anyURI'),
      text('name'),
      // DSP8009 quirk (docs/cimi.md §2.7): `<attribute>` has no maxOccurs, so XML carries at most one; JSON keeps the
      // `attributes` array of DSP0263 and a longer array cannot be written as valid XML.
      struct('attribute', 'ResourceMetadataAttribute', { json: 'attributes', many: true, max: 1 }),
      struct('capability', 'ResourceMetadataCapability', { json: 'capabilities', many: true }),
      struct('action', 'ResourceMetadataAction', { many: true }),
      OPERATIONS,
    ],
  },
  System: {
    root: true,
    children: [
      ...COMMON,
      text('state'),
      coll('systems', 'SystemSystem'),
      coll('machines', 'SystemMachine'),
      coll('credentials', 'SystemCredential'),
      coll('volumes', 'SystemVolume'),
      coll('networks', 'SystemNetwork'),
      coll('networkPorts', 'SystemNetworkPort'),
      coll('addresses', 'SystemAddress'),
      coll('forwardingGroups', 'SystemForwardingGroup'),
      coll('meters', 'Meter'),
      ref('eventLog', 'EventLog'),
      OPERATIONS,
    ],
  },
  SystemCreate: {
    root: true,
    children: [...COMMON, ref('systemTemplate', 'SystemTemplate', { required: true })],
  },
  SystemSystem: { root: true, children: [...COMMON, ref('system', 'System'), OPERATIONS] },
  SystemMachine: { root: true, children: [...COMMON, ref('machine', 'Machine'), OPERATIONS] },
  SystemCredential: { root: true, children: [...COMMON, ref('credential', 'Credential'), OPERATIONS] },
  SystemVolume: { root: true, children: [...COMMON, ref('volume', 'Volume'), OPERATIONS] },
  SystemNetwork: { root: true, children: [...COMMON, ref('network', 'Network'), OPERATIONS] },
  SystemNetworkPort: { root: true, children: [...COMMON, ref('networkPort', 'NetworkPort'), OPERATIONS] },
  SystemAddress: { root: true, children: [...COMMON, ref('address', 'Address'), OPERATIONS] },
  SystemForwardingGroup: {
    root: true,
    children: [...COMMON, ref('forwardingGroup', 'ForwardingGroup'), OPERATIONS],
  },
  SystemTemplate: {
    root: true,
    children: [
      ...COMMON,
      struct('componentDescriptor', 'SystemTemplateComponentDescriptor', { many: true }),
      ref('meterTemplate', 'MeterTemplate', { many: true }),
      ref('eventLogTemplate', 'EventLogTemplate'),
      text('importImage', 'anyURI'),
      OPERATIONS,
    ],
  },
  Machine: {
    root: true,
    children: [
      ...COMMON,
      text('state'),
      int('cpu'),
      int('memory'),
      coll('disks', 'Disk'),
      text('cpuArch'),
      int('cpuSpeed'),
      coll('volumes', 'MachineVolume'),
      coll('networkInterfaces', 'MachineNetworkInterface'),
      ref('latestSnapshot', 'MachineImage'),
      coll('snapshots', 'MachineSnapshot', { noOps: true }),
      coll('meters', 'Meter'),
      ref('eventLog', 'EventLog'),
      OPERATIONS,
    ],
  },
  MachineCreate: {
    root: true,
    children: [...COMMON, ref('machineTemplate', 'MachineTemplate', { required: true })],
  },
  // DSP8009 quirk: the Disk item of a Machine's `disks` has no common elements (no id, name…) and no `format`.
  Disk: { root: true, children: [int('capacity'), text('initialLocation')] },
  MachineVolume: {
    root: true,
    children: [...COMMON, text('initialLocation'), ref('volume', 'Volume'), OPERATIONS],
  },
  MachineNetworkInterface: {
    root: true,
    children: [
      ...COMMON,
      coll('addresses', 'MachineNetworkInterfaceAddress'),
      ref('network', 'Network'),
      ref('networkPort', 'NetworkPort'),
      text('state'),
      text('macAddress'),
      int('mtu'),
      OPERATIONS,
    ],
  },
  MachineNetworkInterfaceAddress: {
    root: true,
    children: [...COMMON, ref('address', 'Address'), OPERATIONS],
  },
  // DSP8009 quirk: the MachineSnapshot child is spelt `shapshot` in XML; JSON uses `snapshot`.
  MachineSnapshot: {
    root: true,
    children: [...COMMON, ref('shapshot', 'MachineImage', { json: 'snapshot' }), OPERATIONS],
  },
  MachineTemplate: {
    root: true,
    children: [
      ...COMMON,
      text('initialState'),
      ref('machineConfig', 'MachineConfiguration'),
      ref('machineImage', 'MachineImage'),
      ref('credential', 'CredentialTemplate'),
      struct('volume', 'MachineTemplateVolume', { many: true }),
      struct('volumeTemplate', 'MachineTemplateVolumeTemplate', { many: true }),
      struct('networkInterface', 'NetworkInterface', { many: true }),
      text('userData'),
      ref('meterTemplate', 'MeterTemplate', { many: true }),
      ref('eventLogTemplate', 'EventLogTemplate'),
      OPERATIONS,
    ],
  },
  // MachineTemplate `<networkInterface>`: DSP8009 makes `network` and `state` mandatory.
  NetworkInterface: {
    root: true,
    children: [
      ref('address', 'Address', { json: 'addresses', many: true }),
      ref('network', 'Network', { required: true }),
      ref('networkPort', 'NetworkPort'),
      text('state', 'string', { required: true }),
      int('mtu'),
    ],
  },
  MachineConfiguration: {
    root: true,
    children: [
      ...COMMON,
      int('cpu'),
      int('memory'),
      struct('disk', 'MachineConfigurationDisk', { many: true }),
      text('cpuArch'),
      int('cpuSpeed'),
      OPERATIONS,
    ],
  },
  MachineImage: {
    root: true,
    children: [
      ...COMMON,
      text('state'),
      text('type'),
      text('imageLocation', 'anyURI'),
      ref('relatedImage', 'MachineImage'),
      OPERATIONS,
    ],
  },
  // DSP8009 quirk (docs/cimi.md §8.4): Credential and CredentialTemplate put `operation*` BEFORE userName, password
  // and key; `key` is xs:hexBinary.
  Credential: {
    root: true,
    children: [...COMMON, OPERATIONS, text('userName'), text('password'), text('key', 'hexBinary')],
  },
  CredentialCreate: {
    root: true,
    children: [...COMMON, ref('credentialTemplate', 'CredentialTemplate', { required: true })],
  },
  CredentialTemplate: {
    root: true,
    children: [...COMMON, OPERATIONS, text('userName'), text('password'), text('key', 'hexBinary')],
  },
  Volume: {
    root: true,
    children: [
      ...COMMON,
      text('state'),
      text('type'),
      int('capacity'),
      bool('bootable'),
      coll('images', 'VolumeVolumeImage', { noOps: true }),
      coll('meters', 'Meter'),
      ref('eventLog', 'EventLog'),
      OPERATIONS,
    ],
  },
  VolumeCreate: {
    root: true,
    children: [...COMMON, ref('volumeTemplate', 'VolumeTemplate', { required: true })],
  },
  VolumeVolumeImage: { root: true, children: [...COMMON, ref('volumeImage', 'VolumeImage'), OPERATIONS] },
  VolumeTemplate: {
    root: true,
    children: [
      ...COMMON,
      ref('volumeConfig', 'VolumeConfiguration'),
      ref('volumeImage', 'VolumeImage'),
      ref('meterTemplate', 'MeterTemplate', { many: true }),
      ref('eventLogTemplate', 'EventLogTemplate'),
      OPERATIONS,
    ],
  },
  VolumeConfiguration: {
    root: true,
    children: [...COMMON, text('type', 'anyURI'), text('format'), int('capacity'), OPERATIONS],
  },
  VolumeImage: {
    root: true,
    children: [...COMMON, text('state'), text('imageLocation', 'anyURI'), bool('bootable'), OPERATIONS],
  },
  Network: {
    root: true,
    children: [
      ...COMMON,
      text('state'),
      text('networkType'),
      int('mtu'),
      text('classOfService'),
      coll('networkPorts', 'NetworkNetworkPort', { noOps: true }),
      ref('forwardingGroup', 'ForwardingGroup'),
      coll('meters', 'Meter'),
      ref('eventLog', 'EventLog'),
      OPERATIONS,
    ],
  },
  NetworkNetworkPort: { root: true, children: [...COMMON, ref('networkPort', 'NetworkPort'), OPERATIONS] },
  NetworkCreate: {
    root: true,
    children: [...COMMON, ref('networkTemplate', 'NetworkTemplate', { required: true })],
  },
  NetworkTemplate: {
    root: true,
    children: [
      ...COMMON,
      text('initialState'),
      ref('networkConfig', 'NetworkConfiguration'),
      ref('forwardingGroup', 'ForwardingGroup'),
      ref('meterTemplate', 'MeterTemplate', { many: true }),
      ref('eventLogTemplate', 'EventLogTemplate'),
      OPERATIONS,
    ],
  },
  NetworkConfiguration: {
    root: true,
    children: [...COMMON, text('networkType'), int('mtu'), text('classOfService'), OPERATIONS],
  },
  NetworkPort: {
    root: true,
    children: [
      ...COMMON,
      text('state'),
      ref('network', 'Network'),
      text('portType'),
      text('classOfService'),
      coll('meters', 'Meter'),
      ref('eventLog', 'EventLog'),
      OPERATIONS,
    ],
  },
  NetworkPortCreate: {
    root: true,
    children: [...COMMON, ref('networkPortTemplate', 'NetworkPortTemplate', { required: true })],
  },
  NetworkPortTemplate: {
    root: true,
    children: [
      ...COMMON,
      ref('network', 'Network'),
      ref('networkPortConfig', 'NetworkPortConfiguration'),
      ref('meterTemplate', 'MeterTemplate', { many: true }),
      ref('eventLogTemplate', 'EventLogTemplate'),
      OPERATIONS,
    ],
  },
  NetworkPortConfiguration: {
    root: true,
    children: [...COMMON, text('portType'), text('classOfService'), OPERATIONS],
  },
  Address: {
    root: true,
    children: [
      ...COMMON,
      text('ip'),
      text('hostname'),
      text('allocation'),
      text('defaultGateway'),
      text('dns', 'string', { json: 'dns', many: true }),
      text('protocol'),
      text('mask'),
      ref('network', 'Network'),
      ref('resource'),
      OPERATIONS,
    ],
  },
  AddressCreate: {
    root: true,
    children: [...COMMON, ref('addressTemplate', 'AddressTemplate', { required: true })],
  },
  AddressTemplate: {
    root: true,
    children: [
      ...COMMON,
      text('ip'),
      text('hostname'),
      text('allocation'),
      text('defaultGateway'),
      text('dns', 'string', { json: 'dns', many: true }),
      text('protocol'),
      text('mask'),
      ref('network', 'Network'),
      OPERATIONS,
    ],
  },
  ForwardingGroup: {
    root: true,
    children: [...COMMON, ref('network', 'Network', { many: true }), OPERATIONS],
  },
  ForwardingGroupCreate: {
    root: true,
    children: [...COMMON, ref('forwardingGroupTemplate', 'ForwardingGroupTemplate', { required: true })],
  },
  ForwardingGroupNetwork: { root: true, children: [...COMMON, ref('network', 'Network'), OPERATIONS] },
  // DSP8009 declares the ForwardingGroupTemplate element with ForwardingGroupElements (same children).
  ForwardingGroupTemplate: {
    root: true,
    children: [...COMMON, ref('network', 'Network', { many: true }), OPERATIONS],
  },
  Job: {
    root: true,
    children: [
      ...COMMON,
      text('state'),
      ref('targetResource'),
      ref('affectedResource', undefined, { many: true }),
      text('action'),
      int('returnCode'),
      int('progress'),
      text('statusMessage'),
      text('timeOfStatusChange', 'dateTime'),
      ref('parentJob', 'Job'),
      ref('nestedJob', 'Job', { many: true }),
      OPERATIONS,
    ],
  },
  Meter: {
    root: true,
    children: [
      ...COMMON,
      ref('targetResource'),
      text('aspect', 'anyURI'),
      text('units'),
      int('sampleInterval'),
      text('timeScope'),
      text('intervalDuration', 'duration'),
      bool('isContinuous'),
      coll('samples', 'Sample', { noOps: true }),
      text('minValue'),
      text('maxValue'),
      text('stopTime', 'dateTime'),
      text('expiresTime', 'dateTime'),
      OPERATIONS,
    ],
  },
  MeterCreate: {
    root: true,
    children: [...COMMON, ref('meterTemplate', 'MeterTemplate', { required: true })],
  },
  MeterTemplate: {
    root: true,
    children: [...COMMON, ref('targetResource'), ref('meterConfig', 'MeterConfiguration'), OPERATIONS],
  },
  Sample: { root: true, children: [...COMMON, struct('sample', 'SampleValue', { required: true })] },
  MeterConfiguration: {
    root: true,
    children: [
      ...COMMON,
      ref('associatedTo', undefined, { json: 'associatedTo', many: true }),
      text('aspect', 'anyURI'),
      text('units'),
      int('sampleInterval'),
      text('timeScope'),
      text('intervalDuration', 'duration'),
      bool('isContinuous'),
      OPERATIONS,
    ],
  },
  EventLog: {
    root: true,
    children: [
      ...COMMON,
      ref('targetResource'),
      coll('events', 'Event'),
      text('persistence'),
      struct('summary', 'EventLogSummary'),
      OPERATIONS,
    ],
  },
  EventLogCreate: {
    root: true,
    children: [...COMMON, ref('eventLogTemplate', 'EventLogTemplate', { required: true })],
  },
  EventLogTemplate: {
    root: true,
    children: [...COMMON, ref('targetResource'), text('persistence'), OPERATIONS],
  },
  // DSP8009: Event has no `operation` element.
  Event: {
    root: true,
    children: [
      ...COMMON,
      text('timestamp', 'dateTime'),
      text('type'),
      struct('content', 'EventContent'),
      text('outcome'),
      text('severity'),
      text('contact'),
    ],
  },
  // project: a gateway extension, not DSP8009 (DSP0263 2.0.0 has no subscription resource; docs/cimi.md
  // "Subscriptions"): a webhook registration, its POST/PUT body and its representation
  Subscription: {
    root: true,
    extension: true,
    children: [...COMMON, text('notifyTo', 'anyURI'), text('endTo', 'anyURI'), text('filter'), text('expires', 'dateTime'), text('door'), OPERATIONS],
  },
  // project: the "state" Event content of DSP0263 2.0 §5.17 (lax content)
  EventContent: {
    children: [text('resName'), ref('resource'), text('resType', 'anyURI'), text('state'), text('previous')],
  },
  // DSP8009 quirk: `<summary>` needs the four counts as child ELEMENTS (docs/cimi.md §2.7 says attributes; an
  // attribute-only `<summary low="1" …/>` fails validation: "Missing child element(s). Expected is ( low )").
  EventLogSummary: {
    children: [
      int('low', { required: true }),
      int('medium', { required: true }),
      int('high', { required: true }),
      int('critical', { required: true }),
    ],
  },
  MachineConfigurationDisk: {
    children: [
      int('capacity', { required: true }),
      text('format', 'string', { required: true }),
      text('initialLocation'),
    ],
  },
  MachineTemplateVolume: {
    children: [],
    attributes: [attr('initialLocation', 'string')],
    href: true,
    wrap: 'volume',
  },
  MachineTemplateVolumeTemplate: {
    children: [
      ...COMMON,
      ref('volumeConfig', 'VolumeConfiguration'),
      ref('volumeImage', 'VolumeImage'),
      ref('meterTemplate', 'MeterTemplate', { many: true }),
      ref('eventLogTemplate', 'EventLogTemplate'),
      OPERATIONS,
    ],
    attributes: [attr('initialLocation', 'string')],
    href: true,
    wrap: 'volumeTemplate',
  },
  ResourceMetadataAction: {
    children: [],
    attributes: [
      attr('name', 'string', true),
      attr('uri', 'anyURI', true),
      attr('description', 'string'),
      attr('method', 'string', true),
      attr('inputMessage', 'string'),
      attr('outputMessage', 'string'),
    ],
  },
  // project: DSP0263 2.0 Table 6 constraint flags as child elements (lax content)
  ResourceMetadataAttribute: {
    children: [
      bool('providerMandatory'),
      bool('consumerMandatory'),
      bool('mutable'),
      bool('consumerWritable'),
    ],
    attributes: [
      attr('name', 'string', true),
      attr('namespace', 'anyURI'),
      attr('type', 'string'),
      attr('required', 'boolean'),
    ],
  },
  // project rule (docs/cimi.md §2.7): <capability> is element-only, the value goes in a child <value> (lax content)
  ResourceMetadataCapability: {
    children: [text('value')],
    attributes: [attr('name', 'string'), attr('uri', 'anyURI', true), attr('description', 'string')],
  },
  SampleValue: { children: [], attributes: [attr('timestamp', 'dateTime'), attr('value', 'string')] },
  SystemTemplateComponentDescriptor: {
    children: [
      text('name'),
      text('description'),
      PROPERTIES,
      text('type', 'anyURI', { required: true }),
      ref('addressTemplate', 'AddressTemplate'),
      ref('credentialTemplate', 'CredentialTemplate'),
      ref('eventLogTemplate', 'EventLogTemplate'),
      ref('forwardingGroupTemplate', 'ForwardingGroupTemplate'),
      ref('machineTemplate', 'MachineTemplate'),
      ref('meterTemplate', 'MeterTemplate'),
      ref('networkPortTemplate', 'NetworkPortTemplate'),
      ref('networkTemplate', 'NetworkTemplate'),
      ref('systemTemplate', 'SystemTemplate'),
      ref('volumeTemplate', 'VolumeTemplate'),
      int('quantity'),
    ],
    choice: {
      groups: [
        ['addressTemplate'],
        ['credentialTemplate'],
        ['eventLogTemplate'],
        ['forwardingGroupTemplate'],
        ['machineTemplate'],
        ['meterTemplate'],
        ['networkPortTemplate'],
        ['networkTemplate'],
        ['systemTemplate'],
        ['volumeTemplate'],
      ],
      required: true,
    },
  },
  // project: Deltacloud clients POST `<MachineImageCreate>` / `<machineImageCreate>` (docs/cimi.md §6); DSP8009 has
  // no such element, so it is accepted with MachineImage's children and never emitted.
  MachineImageCreate: {
    inputOnly: true,
    children: [
      ...COMMON,
      text('state'),
      text('type'),
      text('imageLocation', 'anyURI'),
      ref('relatedImage', 'MachineImage'),
    ],
  },
};

/**
 * `<Collection resourceURI="…/<Item>Collection">`: DSP8009 requires `id` then `count`, then lax content; the
 * gateway puts the items (elements named after the item type) and then `operation*` there.
 */
export const COLLECTION_ROOT = 'Collection';

/** Item type of a collection resourceURI: `…/MachineVolumeCollection` → `MachineVolume`; undefined if not one. */
export function collectionItemType(resourceURI: string): string | undefined {
  const m = /\/([A-Za-z]+)Collection$/.exec(resourceURI);
  if (!m) return undefined;
  const t = m[1];
  const spec = CIMI_XML_TYPES[t];
  return spec?.root && !spec.inputOnly ? t : undefined;
}

/**
 * JSON key of the item array of a collection of `itemType` (docs/cimi.md §8.2): lowerCamel plural, e.g.
 * `machines`, `machineConfigurations`, `addresses`; `resourceMetadata` for ResourceMetadata (project rule).
 */
export function collectionItemsKey(itemType: string): string {
  const lower = itemType[0].toLowerCase() + itemType.slice(1);
  if (itemType === 'ResourceMetadata') return lower;
  if (/(ss|sh|ch|x)$/.test(lower)) return `${lower}es`;
  if (/s$/.test(lower)) return `${lower}es`;
  return `${lower}s`;
}

/** The JSON attribute names a document of `type` may carry in XML (besides `resourceURI`), in schema order. */
export function cimiXmlAttributeNames(type: string): string[] {
  const t = CIMI_XML_TYPES[type];
  if (!t) throw new Error(`unknown CIMI XML type ${type}`);
  return [...(t.attributes ?? []).map((a) => a.json), ...t.children.map((c) => c.json)];
}

const collectionSpecs = new Map<string, CimiXmlTypeSpec>();

/**
 * Content of an expanded collection of `itemType` (DSP8009 `*CollRef`, second branch): `id` and `count` (both
 * required once anything is expanded), the items as `<itemType>` elements, then `operation*` unless `noOps`.
 * The `<Collection>` root has the same content (its lax `xs:any` validates items against their global elements).
 */
export function collectionContentSpec(itemType: string, noOps = false): CimiXmlTypeSpec {
  const key = `${itemType}|${noOps}`;
  let s = collectionSpecs.get(key);
  if (!s) {
    s = {
      children: [
        text('id', 'anyURI', { required: true }),
        int('count', { required: true }),
        struct(itemType, itemType, { json: collectionItemsKey(itemType), many: true }),
        ...(noOps ? [] : [OPERATIONS]),
      ],
    };
    collectionSpecs.set(key, s);
  }
  return s;
}
