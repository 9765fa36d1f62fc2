import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  CIMI_NS,
  CIMI_XML_TYPES,
  cimiXmlAttributeNames,
  collectionItemType,
  collectionItemsKey,
  type CimiXmlTypeSpec,
} from './cimi-xml-schema';
import { CimiXmlError, CimiXmlSerializationError, fromCimiXml, normaliseRoot, toCimiXml } from './cimi-xml';

// ---------------------------------------------------------------------------------------------------------------
// DSP8009 validation with xmllint (../shared/specs/README.md)
// ---------------------------------------------------------------------------------------------------------------

const XSD = resolve(__dirname, '../../../../../shared/specs/dsp8009_1.0.2.xsd');
const XMLLINT = '/usr/bin/xmllint';
let dir: string;
let seq = 0;

beforeAll(() => {
  if (!existsSync(XMLLINT))
    throw new Error(`${XMLLINT} is missing: install libxml2-utils (scripts/test-setup.sh)`);
  if (!existsSync(XSD)) throw new Error(`${XSD} is missing (shared/ must sit beside the project)`);
  dir = mkdtempSync(join(tmpdir(), 'cimi-xml-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Validates `xml` against DSP8009 1.0.2; fails the test with xmllint's message otherwise. */
function expectValid(xml: string, label = 'doc'): void {
  const file = join(dir, `${String(++seq).padStart(3, '0')}-${label.replace(/[^A-Za-z0-9]/g, '_')}.xml`);
  writeFileSync(file, xml);
  try {
    execFileSync(XMLLINT, ['--nonet', '--noout', '--schema', XSD, file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = e as { status?: number; stderr?: Buffer };
    const msg = (err.stderr?.toString() ?? '')
      .split('\n')
      .filter((l) => l && !/xml\.xsd|Skipping the import/.test(l))
      .join('\n');
    throw new Error(`xmllint exit ${err.status} for ${label}:\n${msg}\n--- document ---\n${xml}`);
  }
}

/** The JSON shape fromCimiXml returns: no resourceURI (XML implies it), except on a Collection root. */
function withoutResourceURI(v: unknown, keepTop = false): unknown {
  if (Array.isArray(v)) return v.map((x) => withoutResourceURI(x));
  if (typeof v === 'object' && v !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === 'resourceURI' && !keepTop) continue;
      out[k] = withoutResourceURI(x);
    }
    return out;
  }
  return v;
}

/** Writes, validates with xmllint, reads back and compares. Returns the XML. */
function roundTrip(type: string, doc: Record<string, unknown>): string {
  const xml = toCimiXml(type, doc);
  expectValid(xml, type);
  const back = fromCimiXml(xml);
  expect(back.root).toBe(type);
  expect(back.doc).toEqual(withoutResourceURI(doc, type === 'Collection'));
  return xml;
}

const expectXmlError = (xml: string, message: RegExp) => {
  let err: unknown;
  try {
    fromCimiXml(xml);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(CimiXmlError);
  expect((err as Error).message).toMatch(message);
};

const expectWriteError = (type: string, doc: Record<string, unknown>, message: RegExp) => {
  expect(() => toCimiXml(type, doc)).toThrow(CimiXmlSerializationError);
  expect(() => toCimiXml(type, doc)).toThrow(message);
};

/** Index of `needle` in `xml`, failing when absent. */
const at = (xml: string, needle: string): number => {
  const i = xml.indexOf(needle);
  expect({ needle, found: i >= 0 }).toEqual({ needle, found: true });
  return i;
};

// ---------------------------------------------------------------------------------------------------------------
// Representative documents, one or more per root type
// ---------------------------------------------------------------------------------------------------------------

const H = 'http://localhost:3000/cimi';
const U = 'http://schemas.dmtf.org/cimi/1';
const T0 = '2025-01-01T00:00:00Z';
const T1 = '2025-01-02T10:30:00+02:00';
const common = (path: string, name: string) => ({
  id: `${H}/${path}`,
  name,
  description: `${name} description`,
  created: T0,
  updated: T1,
  properties: { owner: 'alice', tier: 'gold' },
});
const ops = (path: string, ...extra: string[]) => [
  { rel: 'edit', href: `${H}/${path}` },
  { rel: 'delete', href: `${H}/${path}` },
  ...extra.map((a) => ({ rel: `${U}/action/${a}`, href: `${H}/${path}/${a}` })),
];
const link = (path: string) => ({ href: `${H}/${path}` });

const SAMPLES: Record<string, Record<string, unknown>> = {
  CloudEntryPoint: {
    resourceURI: `${U}/CloudEntryPoint`,
    id: `${H}/cloudEntryPoint`,
    name: 'gateway',
    created: T0,
    baseURI: `${H}/`,
    resourceMetadata: link('resourceMetadata'),
    systems: link('systems'),
    systemTemplates: link('systemTemplates'),
    machines: link('machines'),
    machineTemplates: link('machineTemplates'),
    machineConfigs: link('machineConfigs'),
    machineImages: link('machineImages'),
    credentials: link('credentials'),
    credentialTemplates: link('credentialTemplates'),
    volumes: link('volumes'),
    volumeTemplates: link('volumeTemplates'),
    volumeConfigs: link('volumeConfigs'),
    volumeImages: link('volumeImages'),
    networks: link('networks'),
    networkTemplates: link('networkTemplates'),
    networkConfigs: link('networkConfigs'),
    networkPorts: link('networkPorts'),
    networkPortTemplates: link('networkPortTemplates'),
    networkPortConfigs: link('networkPortConfigs'),
    addresses: link('addresses'),
    addressTemplates: link('addressTemplates'),
    forwardingGroups: link('forwardingGroups'),
    forwardingGroupTemplates: link('forwardingGroupTemplates'),
    jobs: link('jobs'),
    eventLogs: link('eventLogs'),
    operations: [{ rel: 'edit', href: `${H}/cloudEntryPoint` }],
  },
  Machine: {
    resourceURI: `${U}/Machine`,
    ...common('machines/m1', 'm1'),
    state: 'STARTED',
    cpu: 2,
    memory: 4194304,
    disks: link('machines/m1/disks'),
    cpuArch: 'x86_64',
    cpuSpeed: 2400,
    volumes: link('machines/m1/volumes'),
    networkInterfaces: link('machines/m1/networkInterfaces'),
    latestSnapshot: link('machineImages/snap1'),
    snapshots: link('machines/m1/snapshots'),
    eventLog: link('eventLogs/el1'),
    operations: ops('machines/m1', 'restart', 'stop', 'capture'),
  },
  MachineCreate: {
    resourceURI: `${U}/MachineCreate`,
    name: 'web1',
    description: 'by value',
    properties: { role: 'web' },
    machineTemplate: {
      machineConfig: link('machineConfigs/small'),
      machineImage: link('machineImages/img1'),
      credential: { userName: 'root', key: 'ssh-rsa AAAAB3Nza root@h' },
      userData: 'IyEvYmluL3NoCmVjaG8gaGk=',
    },
  },
  MachineTemplate: {
    resourceURI: `${U}/MachineTemplate`,
    ...common('machineTemplates/t1', 't1'),
    initialState: 'STARTED',
    machineConfig: {
      cpu: 4,
      memory: 8388608,
      disks: [
        { capacity: 10485760, format: 'ext4', initialLocation: '/dev/sda' },
        { capacity: 2097152, format: 'swap' },
      ],
      cpuArch: 'x86_64',
    },
    machineImage: link('machineImages/img1'),
    credential: link('credentialTemplates/ct1'),
    volumes: [{ volume: link('volumes/v1'), initialLocation: '/dev/sdb' }, { volume: link('volumes/v2') }],
    volumeTemplates: [
      { volumeTemplate: link('volumeTemplates/vt1'), initialLocation: '/dev/sdc' },
      { volumeTemplate: { volumeConfig: { capacity: 1048576, format: 'xfs' } }, initialLocation: '/dev/sdd' },
    ],
    networkInterfaces: [
      {
        addresses: [link('addresses/a1')],
        network: link('networks/n1'),
        networkPort: link('networkPorts/p1'),
        state: 'ACTIVE',
        mtu: 1500,
      },
    ],
    userData: 'aGVsbG8=',
    meterTemplates: [link('meterTemplates/mt1')],
    eventLogTemplate: link('eventLogTemplates/elt1'),
    operations: ops('machineTemplates/t1'),
  },
  MachineConfiguration: {
    resourceURI: `${U}/MachineConfiguration`,
    ...common('machineConfigs/small', 'small'),
    cpu: 1,
    memory: 1048576,
    disks: [{ capacity: 20971520, format: 'ext4', initialLocation: '/dev/vda' }],
    cpuArch: 'ARM',
    cpuSpeed: 1000,
    operations: ops('machineConfigs/small'),
  },
  MachineImage: {
    resourceURI: `${U}/MachineImage`,
    ...common('machineImages/img1', 'img1'),
    state: 'AVAILABLE',
    type: 'IMAGE',
    imageLocation: 'http://images.example/debian-12.qcow2',
    relatedImage: link('machineImages/img0'),
    operations: ops('machineImages/img1'),
  },
  Disk: { resourceURI: `${U}/Disk`, capacity: 10485760, initialLocation: '/dev/vda' },
  MachineVolume: {
    resourceURI: `${U}/MachineVolume`,
    ...common('machines/m1/volumes/mv1', 'mv1'),
    initialLocation: '/dev/sdb',
    volume: link('volumes/v1'),
    operations: [{ rel: 'delete', href: `${H}/machines/m1/volumes/mv1` }],
  },
  MachineNetworkInterface: {
    resourceURI: `${U}/MachineNetworkInterface`,
    ...common('machines/m1/networkInterfaces/ni1', 'eth0'),
    addresses: link('machines/m1/networkInterfaces/ni1/addresses'),
    network: link('networks/n1'),
    networkPort: link('networkPorts/p1'),
    state: 'ACTIVE',
    macAddress: '02:00:00:00:00:01',
    mtu: 9000,
    operations: ops('machines/m1/networkInterfaces/ni1'),
  },
  MachineNetworkInterfaceAddress: {
    ...common('machines/m1/networkInterfaces/ni1/addresses/x1', 'x1'),
    address: link('addresses/a1'),
    operations: [{ rel: 'delete', href: `${H}/machines/m1/networkInterfaces/ni1/addresses/x1` }],
  },
  MachineSnapshot: {
    ...common('machines/m1/snapshots/s1', 's1'),
    snapshot: link('machineImages/snap1'),
    operations: [{ rel: 'delete', href: `${H}/machines/m1/snapshots/s1` }],
  },
  NetworkInterface: {
    addresses: [link('addresses/a1'), link('addresses/a2')],
    network: link('networks/n1'),
    state: 'ACTIVE',
  },
  Credential: {
    resourceURI: `${U}/Credential`,
    ...common('credentials/c1', 'c1'),
    operations: ops('credentials/c1'),
    userName: 'root',
    password: 's3cret',
    key: 'ssh-ed25519 AAAAC3Nza alice@example',
  },
  CredentialCreate: {
    resourceURI: `${U}/CredentialCreate`,
    name: 'c2',
    credentialTemplate: { userName: 'admin', password: 'pw', key: 'ssh-rsa AAAA' },
  },
  CredentialTemplate: {
    resourceURI: `${U}/CredentialTemplate`,
    ...common('credentialTemplates/ct1', 'ct1'),
    operations: ops('credentialTemplates/ct1'),
    userName: 'deploy',
    key: 'ssh-rsa AAAAB3 deploy',
  },
  Volume: {
    resourceURI: `${U}/Volume`,
    ...common('volumes/v1', 'v1'),
    state: 'AVAILABLE',
    type: `${U}/mapped`,
    capacity: 1048576,
    bootable: false,
    images: link('volumes/v1/images'),
    meters: link('volumes/v1/meters'),
    eventLog: link('eventLogs/el2'),
    operations: ops('volumes/v1'),
  },
  VolumeCreate: {
    resourceURI: `${U}/VolumeCreate`,
    name: 'data',
    volumeTemplate: { href: `${H}/volumeTemplates/vt1`, volumeConfig: link('volumeConfigs/big') },
  },
  VolumeTemplate: {
    resourceURI: `${U}/VolumeTemplate`,
    ...common('volumeTemplates/vt1', 'vt1'),
    volumeConfig: link('volumeConfigs/big'),
    volumeImage: link('volumeImages/vi1'),
    meterTemplates: [link('meterTemplates/mt1'), link('meterTemplates/mt2')],
    eventLogTemplate: link('eventLogTemplates/elt1'),
    operations: ops('volumeTemplates/vt1'),
  },
  VolumeConfiguration: {
    resourceURI: `${U}/VolumeConfiguration`,
    ...common('volumeConfigs/big', 'big'),
    type: `${U}/mapped`,
    format: 'ext4',
    capacity: 104857600,
    operations: ops('volumeConfigs/big'),
  },
  VolumeImage: {
    resourceURI: `${U}/VolumeImage`,
    ...common('volumeImages/vi1', 'vi1'),
    state: 'AVAILABLE',
    imageLocation: 'http://images.example/data.img',
    bootable: true,
    operations: ops('volumeImages/vi1'),
  },
  VolumeVolumeImage: {
    ...common('volumes/v1/images/x', 'x'),
    volumeImage: link('volumeImages/vi1'),
    operations: [{ rel: 'delete', href: `${H}/volumes/v1/images/x` }],
  },
  Network: {
    resourceURI: `${U}/Network`,
    ...common('networks/n1', 'n1'),
    state: 'STARTED',
    networkType: 'PRIVATE',
    mtu: 1500,
    classOfService: 'gold',
    networkPorts: link('networks/n1/networkPorts'),
    forwardingGroup: link('forwardingGroups/fg1'),
    meters: link('networks/n1/meters'),
    eventLog: link('eventLogs/el3'),
    operations: ops('networks/n1', 'stop'),
  },
  NetworkNetworkPort: {
    ...common('networks/n1/networkPorts/x', 'x'),
    networkPort: link('networkPorts/p1'),
  },
  NetworkCreate: {
    resourceURI: `${U}/NetworkCreate`,
    name: 'n2',
    networkTemplate: {
      networkConfig: { networkType: 'PUBLIC', mtu: 1500 },
      forwardingGroup: link('forwardingGroups/fg1'),
    },
  },
  NetworkTemplate: {
    resourceURI: `${U}/NetworkTemplate`,
    ...common('networkTemplates/nt1', 'nt1'),
    initialState: 'STARTED',
    networkConfig: link('networkConfigs/nc1'),
    forwardingGroup: link('forwardingGroups/fg1'),
    meterTemplates: [link('meterTemplates/mt1')],
    eventLogTemplate: link('eventLogTemplates/elt1'),
    operations: ops('networkTemplates/nt1'),
  },
  NetworkConfiguration: {
    resourceURI: `${U}/NetworkConfiguration`,
    ...common('networkConfigs/nc1', 'nc1'),
    networkType: 'PRIVATE',
    mtu: 9000,
    classOfService: 'silver',
    operations: ops('networkConfigs/nc1'),
  },
  NetworkPort: {
    resourceURI: `${U}/NetworkPort`,
    ...common('networkPorts/p1', 'p1'),
    state: 'STARTED',
    network: link('networks/n1'),
    portType: 'ACCESS',
    classOfService: 'gold',
    meters: link('networkPorts/p1/meters'),
    eventLog: link('eventLogs/el4'),
    operations: ops('networkPorts/p1', 'stop'),
  },
  NetworkPortCreate: {
    resourceURI: `${U}/NetworkPortCreate`,
    name: 'p2',
    networkPortTemplate: { network: link('networks/n1'), networkPortConfig: { portType: 'TRUNK' } },
  },
  NetworkPortTemplate: {
    resourceURI: `${U}/NetworkPortTemplate`,
    ...common('networkPortTemplates/pt1', 'pt1'),
    network: link('networks/n1'),
    networkPortConfig: link('networkPortConfigs/pc1'),
    meterTemplates: [link('meterTemplates/mt1')],
    eventLogTemplate: link('eventLogTemplates/elt1'),
    operations: ops('networkPortTemplates/pt1'),
  },
  NetworkPortConfiguration: {
    resourceURI: `${U}/NetworkPortConfiguration`,
    ...common('networkPortConfigs/pc1', 'pc1'),
    portType: 'ACCESS',
    classOfService: 'bronze',
    operations: ops('networkPortConfigs/pc1'),
  },
  Address: {
    resourceURI: `${U}/Address`,
    ...common('addresses/a1', 'a1'),
    ip: '192.0.2.10',
    hostname: 'web1.example',
    allocation: 'static',
    defaultGateway: '192.0.2.1',
    dns: ['192.0.2.53', '198.51.100.53'],
    protocol: 'IPv4',
    mask: '255.255.255.0',
    network: link('networks/n1'),
    resource: link('machines/m1'),
    operations: ops('addresses/a1'),
  },
  AddressCreate: {
    resourceURI: `${U}/AddressCreate`,
    name: 'a2',
    addressTemplate: { href: `${H}/addressTemplates/at1`, hostname: 'override.example' },
  },
  AddressTemplate: {
    resourceURI: `${U}/AddressTemplate`,
    ...common('addressTemplates/at1', 'at1'),
    ip: '2001:db8::10',
    allocation: 'dynamic',
    dns: ['2001:db8::53'],
    protocol: 'IPv6',
    mask: '64',
    network: link('networks/n1'),
    operations: ops('addressTemplates/at1'),
  },
  ForwardingGroup: {
    resourceURI: `${U}/ForwardingGroup`,
    ...common('forwardingGroups/fg1', 'fg1'),
    networks: [link('networks/n1'), link('networks/n2')],
    operations: ops('forwardingGroups/fg1'),
  },
  ForwardingGroupCreate: {
    resourceURI: `${U}/ForwardingGroupCreate`,
    name: 'fg2',
    forwardingGroupTemplate: { networks: [link('networks/n1')] },
  },
  ForwardingGroupTemplate: {
    resourceURI: `${U}/ForwardingGroupTemplate`,
    ...common('forwardingGroupTemplates/fgt1', 'fgt1'),
    networks: [link('networks/n1')],
    operations: ops('forwardingGroupTemplates/fgt1'),
  },
  ForwardingGroupNetwork: {
    ...common('forwardingGroups/fg1/networks/x', 'x'),
    network: link('networks/n1'),
    operations: [{ rel: 'delete', href: `${H}/forwardingGroups/fg1/networks/x` }],
  },
  System: {
    resourceURI: `${U}/System`,
    ...common('systems/s1', 's1'),
    state: 'MIXED',
    systems: link('systems/s1/systems'),
    machines: link('systems/s1/machines'),
    credentials: link('systems/s1/credentials'),
    volumes: link('systems/s1/volumes'),
    networks: link('systems/s1/networks'),
    networkPorts: link('systems/s1/networkPorts'),
    addresses: link('systems/s1/addresses'),
    forwardingGroups: link('systems/s1/forwardingGroups'),
    meters: link('systems/s1/meters'),
    eventLog: link('eventLogs/el5'),
    operations: ops('systems/s1', 'start', 'stop', 'export'),
  },
  SystemCreate: {
    resourceURI: `${U}/SystemCreate`,
    name: 's2',
    properties: { env: 'prod' },
    systemTemplate: link('systemTemplates/st1'),
  },
  SystemTemplate: {
    resourceURI: `${U}/SystemTemplate`,
    ...common('systemTemplates/st1', 'st1'),
    componentDescriptors: [
      {
        name: 'web',
        description: 'web tier',
        properties: { tier: 'front' },
        type: `${U}/Machine`,
        machineTemplate: {
          href: `${H}/machineTemplates/t1`,
          machineConfig: link('machineConfigs/small'),
          networkInterfaces: [{ network: { href: '#net' }, state: 'ACTIVE' }],
        },
        quantity: 2,
      },
      { name: 'net', type: `${U}/Network`, networkTemplate: { networkConfig: { networkType: 'PRIVATE' } } },
      { name: 'data', type: `${U}/Volume`, volumeTemplate: link('volumeTemplates/vt1') },
      { name: 'key', type: `${U}/Credential`, credentialTemplate: { userName: 'ops' } },
      { name: 'sub', type: `${U}/System`, systemTemplate: link('systemTemplates/st0') },
    ],
    meterTemplates: [link('meterTemplates/mt1')],
    eventLogTemplate: link('eventLogTemplates/elt1'),
    importImage: 'http://images.example/stack.ovf',
    operations: ops('systemTemplates/st1', 'export'),
  },
  ...Object.fromEntries(
    (
      [
        ['SystemMachine', 'machine', 'machines/m1'],
        ['SystemVolume', 'volume', 'volumes/v1'],
        ['SystemNetwork', 'network', 'networks/n1'],
        ['SystemCredential', 'credential', 'credentials/c1'],
        ['SystemNetworkPort', 'networkPort', 'networkPorts/p1'],
        ['SystemAddress', 'address', 'addresses/a1'],
        ['SystemForwardingGroup', 'forwardingGroup', 'forwardingGroups/fg1'],
        ['SystemSystem', 'system', 'systems/s0'],
      ] as const
    ).map(([type, attr, target]) => [
      type,
      {
        resourceURI: `${U}/${type}`,
        ...common(`systems/s1/${attr}s/x`, `${attr}-link`),
        [attr]: link(target),
        operations: [{ rel: 'delete', href: `${H}/systems/s1/${attr}s/x` }],
      },
    ]),
  ),
  Job: {
    resourceURI: `${U}/Job`,
    ...common('jobs/j1', 'j1'),
    state: 'RUNNING',
    targetResource: link('machines/m1'),
    affectedResources: [link('machines/m1'), link('volumes/v1')],
    action: `${U}/action/start`,
    returnCode: 0,
    progress: 40,
    statusMessage: 'starting',
    timeOfStatusChange: T1,
    parentJob: link('jobs/j0'),
    nestedJobs: [link('jobs/j2'), link('jobs/j3')],
    operations: [{ rel: `${U}/action/stop`, href: `${H}/jobs/j1/stop` }],
  },
  Action: {
    resourceURI: `${U}/Action`,
    action: `${U}/action/stop`,
    force: true,
    properties: { reason: 'maintenance' },
  },
  ResourceMetadata: {
    resourceURI: `${U}/ResourceMetadata`,
    id: `${H}/resourceMetadata/Machine`,
    typeURI: `${U}/Machine`,
    name: 'Machine',
    attributes: [{ name: 'cpu', required: false, providerMandatory: true, mutable: false }],
    capabilities: [
      { name: 'DefaultInitialState', uri: `${U}/capability/Machine/DefaultInitialState`, value: 'STOPPED' },
      {
        name: 'MachineConfigByValue',
        uri: `${U}/capability/Machine/MachineConfigByValue`,
        description: 'machineConfig may be given by value',
        value: 'true',
      },
      { uri: `${U}/capability/Machine/MachineStopForce` },
    ],
    actions: [
      { name: 'start', uri: `${U}/action/start`, method: 'POST', inputMessage: 'application/json' },
      {
        name: 'stop',
        uri: `${U}/action/stop`,
        description: 'stop it',
        method: 'POST',
        outputMessage: 'application/xml',
      },
    ],
    operations: [{ rel: 'edit', href: `${H}/resourceMetadata/Machine` }],
  },
  Meter: {
    resourceURI: `${U}/Meter`,
    ...common('meters/me1', 'me1'),
    targetResource: link('machines/m1'),
    aspect: `${U}/aspect/cpu`,
    units: 'percent',
    sampleInterval: 60,
    timeScope: 'Interval',
    intervalDuration: 'PT5M',
    isContinuous: true,
    samples: link('meters/me1/samples'),
    minValue: '0',
    maxValue: '100',
    stopTime: T1,
    expiresTime: T1,
    operations: ops('meters/me1', 'start', 'stop'),
  },
  MeterCreate: { name: 'me2', meterTemplate: link('meterTemplates/mt1') },
  MeterTemplate: {
    ...common('meterTemplates/mt1', 'mt1'),
    targetResource: link('machines/m1'),
    meterConfig: {
      aspect: `${U}/aspect/memory`,
      units: 'KiB',
      sampleInterval: 30,
      associatedTo: [link('machines/m1')],
    },
    operations: ops('meterTemplates/mt1'),
  },
  MeterConfiguration: {
    ...common('meterConfigs/mc1', 'mc1'),
    associatedTo: [link('machines/m1'), link('volumes/v1')],
    aspect: `${U}/aspect/disk`,
    units: 'KB',
    sampleInterval: 300,
    timeScope: 'Point',
    intervalDuration: 'PT1H',
    isContinuous: false,
    operations: ops('meterConfigs/mc1'),
  },
  Sample: { id: `${H}/meters/me1/samples/1`, sample: { timestamp: T0, value: '42' } },
  EventLog: {
    resourceURI: `${U}/EventLog`,
    ...common('eventLogs/el1', 'el1'),
    targetResource: link('machines/m1'),
    events: link('eventLogs/el1/events'),
    persistence: 'P30D',
    summary: { low: 3, medium: 2, high: 1, critical: 0 },
    operations: ops('eventLogs/el1'),
  },
  EventLogCreate: {
    name: 'el9',
    eventLogTemplate: { targetResource: link('machines/m1'), persistence: 'P7D' },
  },
  EventLogTemplate: {
    ...common('eventLogTemplates/elt1', 'elt1'),
    targetResource: link('machines/m1'),
    persistence: 'P7D',
    operations: ops('eventLogTemplates/elt1'),
  },
  Event: {
    resourceURI: `${U}/Event`,
    ...common('eventLogs/el1/events/e1', 'e1'),
    timestamp: T1,
    type: 'http://schemas.dmtf.org/cimi/2/event/state',
    content: {
      resName: 'm1',
      resource: link('machines/m1'),
      resType: `${U}/Machine`,
      state: 'STARTED',
      previous: 'STARTING',
    },
    outcome: 'Success',
    severity: 'low',
    contact: 'ops@example',
  },
};

// ---------------------------------------------------------------------------------------------------------------

describe('CIMI XML: representative documents of every root type', () => {
  const roots = Object.entries(CIMI_XML_TYPES)
    .filter(([, t]) => t.root && !t.inputOnly && !t.extension)
    .map(([n]) => n);

  test('every DSP8009 root type has a sample', () => {
    expect(roots.filter((r) => !SAMPLES[r])).toEqual([]);
  });

  test.each(Object.keys(SAMPLES))('%s: writes DSP8009-valid XML and reads it back', (type) => {
    roundTrip(type, SAMPLES[type]);
  });
});

describe('CIMI XML: exhaustive documents built from the table', () => {
  // Fills every child of a type (first group of a choice) so xmllint checks the whole element order; refs and
  // collections are expanded one level deep, which checks $expand content for every reference type.
  const scalar = (kind: string, xsd?: string): unknown => {
    if (kind === 'integer') return 7;
    if (kind === 'boolean') return true;
    if (xsd === 'anyURI') return 'http://h/x';
    if (xsd === 'dateTime') return T0;
    if (xsd === 'duration') return 'PT1H';
    return 'text value';
  };
  const fill = (typeName: string, level: number): Record<string, unknown> => {
    const t = CIMI_XML_TYPES[typeName];
    const skip = new Set(t.choice ? t.choice.groups.slice(1).flat() : []);
    const obj: Record<string, unknown> = {};
    for (const a of t.attributes ?? []) obj[a.json] = scalar(a.kind, a.xsd);
    const inner: Record<string, unknown> = t.wrap ? {} : obj;
    if (t.href) inner.href = 'http://h/target';
    for (const c of t.children) {
      if (skip.has(c.el)) continue;
      let v: unknown;
      switch (c.kind) {
        case 'property':
          v = { k1: 'v1', 'k 2': 'v2' };
          break;
        case 'operation':
          v = { rel: 'edit', href: 'http://h/x' };
          break;
        case 'text':
        case 'integer':
        case 'boolean':
          v = scalar(c.kind, c.xsd);
          break;
        case 'ref':
          v =
            c.type && level > 0
              ? { href: 'http://h/ref', ...fill(c.type, level - 1) }
              : { href: 'http://h/ref' };
          break;
        case 'collection':
          v =
            level > 0
              ? {
                  href: 'http://h/coll',
                  id: 'http://h/coll',
                  count: 1,
                  [collectionItemsKey(c.type!)]: [fill(c.type!, 0)],
                  ...(c.noOps ? {} : { operations: [{ rel: 'add', href: 'http://h/coll' }] }),
                }
              : { href: 'http://h/coll' };
          break;
        case 'struct':
          v = fill(c.type!, level);
          break;
      }
      inner[c.json] = c.many && c.kind !== 'property' ? [v] : v;
    }
    if (t.wrap) obj[t.wrap] = inner;
    return obj;
  };

  const roots = Object.entries(CIMI_XML_TYPES)
    .filter(([, t]) => t.root && !t.inputOnly && !t.extension)
    .map(([n]) => n);
  test.each(roots)('%s with every element filled validates and round-trips', (type) => {
    roundTrip(type, fill(type, 1));
  });
});

describe('CIMI XML: writing', () => {
  test('Machine with properties, operations and expanded references', () => {
    const doc = {
      ...SAMPLES.Machine,
      disks: {
        href: `${H}/machines/m1/disks`,
        id: `${H}/machines/m1/disks`,
        count: 2,
        disks: [{ capacity: 1024, initialLocation: '/dev/vda' }, { capacity: 2048 }],
        operations: [{ rel: 'add', href: `${H}/machines/m1/disks` }],
      },
      volumes: {
        href: `${H}/machines/m1/volumes`,
        id: `${H}/machines/m1/volumes`,
        count: 1,
        machineVolumes: [
          {
            id: `${H}/machines/m1/volumes/mv1`,
            initialLocation: '/dev/sdb',
            volume: { href: `${H}/volumes/v1`, name: 'v1', state: 'IN_USE', capacity: 1048576 },
            operations: [{ rel: 'delete', href: `${H}/machines/m1/volumes/mv1` }],
          },
        ],
      },
      latestSnapshot: {
        href: `${H}/machineImages/snap1`,
        state: 'AVAILABLE',
        type: 'SNAPSHOT',
        relatedImage: link('machineImages/img1'),
      },
    };
    const xml = roundTrip('Machine', doc);
    expect(
      xml.startsWith(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Machine xmlns="http://schemas.dmtf.org/cimi/1">',
      ),
    ).toBe(true);
    expect(xml).toContain('<property key="owner">alice</property>');
    expect(xml).toContain(`<disks href="${H}/machines/m1/disks">`);
    expect(xml).toContain('<Disk>');
    expect(xml).toContain(`<volume href="${H}/volumes/v1">`);
    expect(xml).not.toContain('resourceURI');
    // common, then type-specific in DSP8009 order, operations last
    const order = [
      '<id>',
      '<name>',
      '<created>',
      '<property ',
      '<state>',
      '<cpu>',
      '<memory>',
      '<disks ',
      '<cpuArch>',
      '<cpuSpeed>',
      '<volumes ',
      '<networkInterfaces ',
      '<latestSnapshot ',
      '<snapshots ',
      '<eventLog ',
      '<operation ',
    ];
    const idx = order.map((n) => (n === '<operation ' ? xml.lastIndexOf(n) : at(xml, n)));
    expect(idx).toEqual([...idx].sort((a, b) => a - b));
  });

  test('Collection of Machines with count and an add operation', () => {
    const doc = {
      resourceURI: `${U}/MachineCollection`,
      id: `${H}/machines`,
      count: 2,
      machines: [
        SAMPLES.Machine,
        { resourceURI: `${U}/Machine`, id: `${H}/machines/m2`, name: 'm2', state: 'STOPPED' },
      ],
      operations: [{ rel: 'add', href: `${H}/machines` }],
    };
    const xml = roundTrip('Collection', doc);
    expect(xml).toContain(`<Collection xmlns="${CIMI_NS}" resourceURI="${U}/MachineCollection">`);
    expect(at(xml, '<id>')).toBeLessThan(at(xml, '<count>2</count>'));
    expect(at(xml, '<count>')).toBeLessThan(at(xml, '<Machine>'));
    expect(xml.lastIndexOf('<operation rel="add"')).toBeGreaterThan(xml.lastIndexOf('</Machine>'));
    expect(xml.match(/<Machine>/g)).toHaveLength(2);
  });

  test('Collection item element comes from the resourceURI, whatever the JSON array key', () => {
    const vols = {
      resourceURI: `${U}/MachineVolumeCollection`,
      id: `${H}/machines/m1/volumes`,
      count: 1,
      volumes: [SAMPLES.MachineVolume],
      operations: [{ rel: 'add', href: `${H}/machines/m1/volumes` }],
    };
    const xml = toCimiXml('Collection', vols);
    expectValid(xml, 'MachineVolumeCollection');
    expect(xml).toContain('<MachineVolume>');
    // read back under the canonical key (docs/cimi.md §2.9)
    expect(fromCimiXml(xml).doc.machineVolumes).toHaveLength(1);

    const rmd = {
      resourceURI: `${U}/ResourceMetadataCollection`,
      id: `${H}/resourceMetadata`,
      count: 1,
      resourceMetadata: [SAMPLES.ResourceMetadata],
    };
    expect(roundTrip('Collection', rmd)).toContain('<ResourceMetadata>');

    const empty = { resourceURI: `${U}/JobCollection`, id: `${H}/jobs`, count: 0, jobs: [] };
    const exml = roundTrip('Collection', { ...empty, jobs: undefined });
    expect(toCimiXml('Collection', empty)).toBe(exml);
  });

  test('error Job with an empty id (docs/cimi.md §4.4)', () => {
    const job = {
      resourceURI: `${U}/Job`,
      id: '',
      state: 'FAILED',
      targetResource: link('machines/m1'),
      affectedResources: [link('machines/m1')],
      action: `${U}/action/start`,
      returnCode: 409,
      progress: 100,
      statusMessage: 'MACHINE.INVALID_STATE: start is not allowed in state STARTING',
    };
    const xml = roundTrip('Job', job);
    expect(xml).toContain('<id></id>');
    expect(xml).toContain(`<affectedResource href="${H}/machines/m1"/>`);
    expect(fromCimiXml(xml).doc.id).toBe('');
  });

  test('error Job with nested jobs expanded inline', () => {
    const job = {
      id: '',
      state: 'FAILED',
      nestedJobs: [
        { href: `${H}/jobs/j2`, state: 'FAILED', returnCode: 500, progress: 100, statusMessage: 'boom' },
      ],
    };
    expect(roundTrip('Job', job)).toContain(`<nestedJob href="${H}/jobs/j2">`);
  });

  test('an expanded expRef (Job targetResource) is written with the type its resourceURI names', () => {
    const job = {
      id: `${H}/jobs/j1`,
      targetResource: {
        href: `${H}/machines/m1`,
        resourceURI: `${U}/Machine`,
        name: 'm1',
        cpu: 2,
        state: 'STARTED',
      },
    };
    const xml = toCimiXml('Job', job);
    expectValid(xml, 'Job-expanded-target');
    expect(at(xml, '<name>m1</name>')).toBeLessThan(at(xml, '<state>STARTED</state>'));
    expect(at(xml, '<state>STARTED</state>')).toBeLessThan(at(xml, '<cpu>2</cpu>'));
    expectWriteError('Job', { targetResource: { href: 'x', name: 'no type' } }, /unknown attribute "name"/);
  });

  test('ResourceMetadata: capability value in a child <value>, one <attribute> at most', () => {
    const xml = roundTrip('ResourceMetadata', SAMPLES.ResourceMetadata);
    expect(xml).toContain(
      `<capability name="DefaultInitialState" uri="${U}/capability/Machine/DefaultInitialState">`,
    );
    expect(xml).toContain('<value>STOPPED</value>');
    expect(xml).toContain(`<capability uri="${U}/capability/Machine/MachineStopForce"/>`);
    expect(xml).toContain('<attribute name="cpu" required="false">');
    expect(at(xml, '<typeURI>')).toBeLessThan(at(xml, '<name>'));
    expect(at(xml, '<attribute ')).toBeLessThan(at(xml, '<capability '));
    expect(at(xml, '<capability ')).toBeLessThan(at(xml, '<action '));
    expectWriteError(
      'ResourceMetadata',
      { ...SAMPLES.ResourceMetadata, attributes: [{ name: 'cpu' }, { name: 'memory' }] },
      /at most 1 <attribute>/,
    );
    expectWriteError('ResourceMetadata', { capabilities: [{ name: 'no uri' }] }, /uri is required/);
  });

  test('Credential puts operations BEFORE userName, password and key (DSP8009 trap)', () => {
    for (const type of ['Credential', 'CredentialTemplate']) {
      const xml = roundTrip(type, SAMPLES[type]);
      const lastOp = xml.lastIndexOf('<operation ');
      expect(lastOp).toBeGreaterThan(0);
      expect(lastOp).toBeLessThan(at(xml, '<userName>'));
      expect(at(xml, '<property ')).toBeLessThan(xml.indexOf('<operation '));
    }
    const xml = toCimiXml('Credential', SAMPLES.Credential);
    // key is xs:hexBinary: the UTF-8 bytes of the JSON string
    expect(xml).toContain(`<key>${Buffer.from(SAMPLES.Credential.key as string).toString('hex')}</key>`);
  });

  test('MachineTemplate: <volume href initialLocation/> attributes and by-value machineConfig with disks', () => {
    const xml = roundTrip('MachineTemplate', SAMPLES.MachineTemplate);
    expect(xml).toContain(`<volume href="${H}/volumes/v1" initialLocation="/dev/sdb"/>`);
    expect(xml).toContain(`<volume href="${H}/volumes/v2"/>`);
    expect(xml).toContain(`<volumeTemplate href="${H}/volumeTemplates/vt1" initialLocation="/dev/sdc"/>`);
    expect(xml).toContain('<volumeTemplate initialLocation="/dev/sdd">');
    expect(xml).toMatch(
      /<machineConfig>\s*<cpu>4<\/cpu>\s*<memory>8388608<\/memory>\s*<disk>\s*<capacity>10485760<\/capacity>\s*<format>ext4<\/format>/,
    );
    expect(xml.match(/<disk>/g)).toHaveLength(2);
    expect(at(xml, '<volume ')).toBeLessThan(at(xml, '<volumeTemplate '));
    expect(at(xml, '<networkInterface>')).toBeLessThan(at(xml, '<userData>'));
    expect(at(xml, '<userData>')).toBeLessThan(at(xml, '<meterTemplate '));
    // the volume itself cannot be expanded inside <volume> (only ##other content there)
    expectWriteError(
      'MachineTemplate',
      { volumes: [{ volume: { href: 'x', name: 'v' } }] },
      /unknown attribute "name" at MachineTemplate.volumes\[0\].volume/,
    );
  });

  test('SystemTemplate with componentDescriptors (one template slot each)', () => {
    const xml = roundTrip('SystemTemplate', SAMPLES.SystemTemplate);
    expect(xml.match(/<componentDescriptor>/g)).toHaveLength(5);
    expect(at(xml, '<type>')).toBeLessThan(at(xml, `<machineTemplate href="${H}/machineTemplates/t1">`));
    expect(at(xml, `<machineTemplate href=`)).toBeLessThan(at(xml, '<quantity>2</quantity>'));
    expectWriteError(
      'SystemTemplate',
      { componentDescriptors: [{ name: 'x', type: `${U}/Machine` }] },
      /one of .* is required/,
    );
    expectWriteError(
      'SystemTemplate',
      {
        componentDescriptors: [
          { type: `${U}/Machine`, machineTemplate: link('a'), volumeTemplate: link('b') },
        ],
      },
      /only one of/,
    );
    expectWriteError(
      'SystemTemplate',
      { componentDescriptors: [{ machineTemplate: link('a') }] },
      /type is required/,
    );
  });

  test('CloudEntryPoint in DSP8009 order, as in docs/cimi.md §1', () => {
    const cep = {
      resourceURI: `${U}/CloudEntryPoint`,
      id: `${H}/cloudEntryPoint`,
      name: 'gateway',
      created: T0,
      baseURI: `${H}/`,
      jobs: link('jobs'),
      volumes: link('volumes'),
      credentials: link('credentials'),
      machineImages: link('machineImages'),
      machineConfigs: link('machineConfigs'),
      machines: link('machines'),
      resourceMetadata: link('resourceMetadata'),
    };
    const xml = roundTrip('CloudEntryPoint', cep);
    expect(xml).toBe(
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<CloudEntryPoint xmlns="http://schemas.dmtf.org/cimi/1">',
        `  <id>${H}/cloudEntryPoint</id>`,
        '  <name>gateway</name>',
        `  <created>${T0}</created>`,
        `  <baseURI>${H}/</baseURI>`,
        `  <resourceMetadata href="${H}/resourceMetadata"/>`,
        `  <machines href="${H}/machines"/>`,
        `  <machineConfigs href="${H}/machineConfigs"/>`,
        `  <machineImages href="${H}/machineImages"/>`,
        `  <credentials href="${H}/credentials"/>`,
        `  <volumes href="${H}/volumes"/>`,
        `  <jobs href="${H}/jobs"/>`,
        '</CloudEntryPoint>',
        '',
      ].join('\n'),
    );
  });

  test('EventLog summary counts are child elements (DSP8009), not attributes', () => {
    const xml = roundTrip('EventLog', SAMPLES.EventLog);
    expect(xml).toMatch(
      /<summary>\s*<low>3<\/low>\s*<medium>2<\/medium>\s*<high>1<\/high>\s*<critical>0<\/critical>\s*<\/summary>/,
    );
    expectWriteError('EventLog', { summary: { low: 1 } }, /medium is required/);
  });

  test('Action allows one parameter group', () => {
    expect(
      roundTrip('Action', { action: `${U}/action/restore`, image: link('machineImages/snap1') }),
    ).toContain('<image href=');
    roundTrip('Action', {
      action: `${U}/action/export`,
      format: 'application/ovf',
      destination: 'http://h/out.ova',
    });
    roundTrip('Action', { action: `${U}/action/start` });
    expectWriteError(
      'Action',
      { action: `${U}/action/stop`, force: true, image: link('i') },
      /only one of force, image/,
    );
    expectWriteError('Action', { force: false }, /action is required/);
  });

  test('empty values are omitted, booleans are lower-case, 0 and false are kept', () => {
    const xml = toCimiXml('Volume', {
      id: `${H}/volumes/v1`,
      name: '',
      description: null,
      properties: {},
      capacity: 0,
      bootable: false,
      images: {},
      operations: [],
    });
    expectValid(xml, 'Volume-empties');
    expect(xml).not.toMatch(/<name|<description|<property|<images|<operation/);
    expect(xml).toContain('<capacity>0</capacity>');
    expect(xml).toContain('<bootable>false</bootable>');
    expect(toCimiXml('Volume', { bootable: true })).toContain('<bootable>true</bootable>');
    expect(toCimiXml('Machine', {})).toBe(
      `<?xml version="1.0" encoding="UTF-8"?>\n<Machine xmlns="${CIMI_NS}"/>\n`,
    );
  });

  test('text and attribute values are escaped, and survive the round trip', () => {
    const doc = {
      id: `${H}/machines/m1?a=1&b=2`,
      name: `<b>"Tom" & 'Jerry'</b> ]]> end`,
      description: 'line 1\nline 2\r\n\ttabbed  ',
      properties: { 'k"<&>': 'v "quoted" <&>\n', 'ünï©ødé 🚀': '日本語' },
      operations: [{ rel: 'edit', href: `${H}/machines/m1?x="y"&z=<1>` }],
    };
    const xml = roundTrip('Machine', doc);
    expect(xml).toContain('&lt;b&gt;"Tom" &amp; \'Jerry\'&lt;/b&gt; ]]&gt; end');
    expect(xml).toContain('<property key="k&quot;&lt;&amp;&gt;">v "quoted" &lt;&amp;&gt;\n</property>');
    expect(xml).toContain('&#13;');
  });

  test('keys whose value is undefined are ignored like absent ones', () => {
    const xml = toCimiXml('Machine', {
      name: 'm',
      bogus: undefined,
      disks: { href: `${H}/d`, count: undefined },
    });
    expect(xml).toContain(`<disks href="${H}/d"/>`);
    expectValid(xml, 'undefined-keys');
  });

  test('dates are written as given', () => {
    const xml = toCimiXml('Machine', { created: '2012-12-28T13:08:27+02:00', updated: new Date(T0) });
    expect(xml).toContain('<created>2012-12-28T13:08:27+02:00</created>');
    expect(xml).toContain('<updated>2025-01-01T00:00:00.000Z</updated>');
    expectValid(xml, 'dates');
  });

  test('programming errors throw instead of emitting invalid XML', () => {
    expectWriteError('Machine', { cpu: 2, userData: 'x' }, /unknown attribute "userData" at Machine/);
    expectWriteError('Disk', { capacity: 1, format: 'ext4' }, /unknown attribute "format"/);
    expectWriteError('Machine', { cpu: '4' }, /Machine.cpu must be an integer/);
    expectWriteError('Machine', { cpu: 1.5 }, /must be an integer/);
    expectWriteError('Volume', { bootable: 'true' }, /must be a boolean/);
    expectWriteError('Machine', { name: { first: 'x' } }, /Machine.name must be a string/);
    expectWriteError('Machine', { name: 'bell\u0007' }, /character XML 1.0 cannot carry/);
    expectWriteError('Machine', { name: 'lone \ud800 surrogate' }, /character XML 1.0 cannot carry/);
    expectWriteError('Machine', { properties: ['a'] }, /must be a map/);
    expectWriteError('Machine', { operations: [{ rel: 'edit' }] }, /needs rel and href/);
    expectWriteError(
      'Machine',
      { operations: [{ rel: 'edit', href: 'x', available: true }] },
      /unknown attribute "available"/,
    );
    expectWriteError('Machine', { disks: ['x'] }, /must be an object/);
    expectWriteError('Machine', { disks: { href: 'x', count: 1 } }, /disks.id is required/);
    expectWriteError('MachineCreate', { name: 'x' }, /machineTemplate is required/);
    expectWriteError('MachineConfiguration', { disks: [{ capacity: 1 }] }, /format is required/);
    expectWriteError('MachineTemplate', { networkInterfaces: [{ network: link('n') }] }, /state is required/);
    expectWriteError('Collection', { resourceURI: `${U}/MachineCollection`, id: 'x' }, /count is required/);
    expectWriteError('Collection', { id: 'x', count: 0 }, /needs its resourceURI/);
    expectWriteError('Collection', { resourceURI: `${U}/Bogus`, id: 'x', count: 0 }, /not a CIMI collection/);
    expectWriteError(
      'Collection',
      { resourceURI: `${U}/MachineCollection`, id: 'x', count: 0, a: [], b: [] },
      /one item array/,
    );
    expectWriteError(
      'Collection',
      { resourceURI: `${U}/MachineCollection`, id: 'x', count: 1, machines: [{ bogus: 1 }] },
      /unknown attribute "bogus"/,
    );
    expectWriteError(
      'Collection',
      { resourceURI: `${U}/MachineCollection`, id: 'x', count: 0, updated: T0 },
      /unknown attribute "updated" at Collection/,
    );
    expectWriteError('Machine', { created: '28/12/2012' }, /Machine.created is not an xs:dateTime/);
    expectWriteError('Meter', { intervalDuration: '5 minutes' }, /is not an xs:duration/);
    expectWriteError(
      'Sample',
      { sample: { timestamp: 'yesterday' } },
      /Sample.sample.timestamp is not an xs:dateTime/,
    );
    expectWriteError('Bogus', {}, /not a DSP8009 root/);
    expectWriteError('MachineImageCreate', {}, /not a DSP8009 root/);
    expectWriteError(
      'ResourceMetadata',
      { attributes: [{ name: 'a', required: 'yes' }] },
      /required must be a boolean/,
    );
  });
});

describe('CIMI XML: reading requests', () => {
  test('MachineCreate by value (docs/cimi.md §6) in the default namespace', () => {
    const { root, doc } = fromCimiXml(`<?xml version="1.0"?>
      <MachineCreate xmlns="http://schemas.dmtf.org/cimi/1">
        <name>web1</name>
        <property key="role">web</property>
        <machineTemplate>
          <machineConfig href="${H}/machineConfigs/small"/>
          <machineImage href="${H}/machineImages/img1"/>
        </machineTemplate>
      </MachineCreate>`);
    expect(root).toBe('MachineCreate');
    expect(doc).toEqual({
      name: 'web1',
      properties: { role: 'web' },
      machineTemplate: {
        machineConfig: link('machineConfigs/small'),
        machineImage: link('machineImages/img1'),
      },
    });
  });

  test('template by reference with overrides and a null erase', () => {
    const { doc } = fromCimiXml(`<MachineCreate xmlns="${CIMI_NS}"><name>web2</name>
      <machineTemplate href="${H}/machineTemplates/t1">
        <machineConfig><cpu> 4 </cpu><memory>8388608</memory></machineConfig>
        <userData/>
        <volumeTemplate initialLocation="/dev/sdb"><volumeConfig href="${H}/volumeConfigs/big"/></volumeTemplate>
      </machineTemplate></MachineCreate>`);
    expect(doc).toEqual({
      name: 'web2',
      machineTemplate: {
        href: `${H}/machineTemplates/t1`,
        machineConfig: { cpu: 4, memory: 8388608 },
        userData: null,
        volumeTemplates: [
          { initialLocation: '/dev/sdb', volumeTemplate: { volumeConfig: link('volumeConfigs/big') } },
        ],
      },
    });
  });

  test('a prefixed CIMI namespace, and a non-namespaced document (Deltacloud suite)', () => {
    const prefixed = fromCimiXml(
      `<c:VolumeCreate xmlns:c="${CIMI_NS}" xmlns:x="urn:unused"><c:name>v</c:name><c:volumeTemplate><c:volumeConfig><c:capacity>1024</c:capacity></c:volumeConfig></c:volumeTemplate></c:VolumeCreate>`,
    );
    expect(prefixed).toEqual({
      root: 'VolumeCreate',
      doc: { name: 'v', volumeTemplate: { volumeConfig: { capacity: 1024 } } },
    });

    const plain = fromCimiXml(
      '<MachineCreate><name>m</name><machineTemplate href="http://h/t"/></MachineCreate>',
    );
    expect(plain).toEqual({
      root: 'MachineCreate',
      doc: { name: 'm', machineTemplate: { href: 'http://h/t' } },
    });
  });

  test('lower-case roots are returned as given; normaliseRoot upper-cases the first letter', () => {
    const r = fromCimiXml(
      `<machineImageCreate xmlns="${CIMI_NS}"><name>snap</name><imageLocation>${H}/machines/m1</imageLocation></machineImageCreate>`,
    );
    expect(r).toEqual({
      root: 'machineImageCreate',
      doc: { name: 'snap', imageLocation: `${H}/machines/m1` },
    });
    expect(normaliseRoot(r.root)).toBe('MachineImageCreate');
    expect(normaliseRoot('machine')).toBe('Machine');
    expect(normaliseRoot('')).toBe('');
    expect(
      fromCimiXml('<MachineImageCreate><imageLocation>http://h/m</imageLocation></MachineImageCreate>').root,
    ).toBe('MachineImageCreate');
  });

  test('Deltacloud Action with a leading space: xs:anyURI whitespace is collapsed, xs:string is kept', () => {
    const a = fromCimiXml(
      `<Action xmlns="${CIMI_NS}"><action> http://http://schemas.dmtf.org/cimi/1/action/stop</action><force>1</force></Action>`,
    );
    expect(a.doc).toEqual({ action: 'http://http://schemas.dmtf.org/cimi/1/action/stop', force: true });
    const m = fromCimiXml(
      `<Machine xmlns="${CIMI_NS}"><name>  spaced </name><description><![CDATA[a <b> & c]]></description></Machine>`,
    );
    expect(m.doc).toEqual({ name: '  spaced ', description: 'a <b> & c' });
  });

  test('integers and booleans become JSON numbers and booleans; hexBinary becomes text', () => {
    const { doc } = fromCimiXml(
      `<CredentialTemplate xmlns="${CIMI_NS}"><userName>u</userName><key>${Buffer.from('ssh-rsa K').toString('hex').toUpperCase()}</key></CredentialTemplate>`,
    );
    expect(doc).toEqual({ userName: 'u', key: 'ssh-rsa K' });
    expect(
      fromCimiXml(`<Volume xmlns="${CIMI_NS}"><capacity>+12</capacity><bootable> false </bootable></Volume>`)
        .doc,
    ).toEqual({
      capacity: 12,
      bootable: false,
    });
    expect(fromCimiXml(`<Volume xmlns="${CIMI_NS}"><capacity/><bootable/></Volume>`).doc).toEqual({
      capacity: null,
      bootable: null,
    });
  });

  test('property keys are plain data, "__proto__" included', () => {
    const { doc } = fromCimiXml(
      `<Machine xmlns="${CIMI_NS}"><property key="__proto__">x</property><property key="constructor"></property></Machine>`,
    );
    const props = doc.properties as Record<string, string>;
    expect(Object.keys(props)).toEqual(['__proto__', 'constructor']);
    expect(props.constructor).toBe('');
    expect(Object.getPrototypeOf(props)).toBe(Object.prototype);
    expect(toCimiXml('Machine', doc)).toContain('<property key="__proto__">x</property>');
  });

  test('xsi:schemaLocation and namespace declarations are ignored; comments are skipped', () => {
    const { doc } = fromCimiXml(
      `<Machine xmlns="${CIMI_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="${CIMI_NS} dsp8009.xsd"><!-- hi --><name>m</name></Machine>`,
    );
    expect(doc).toEqual({ name: 'm' });
  });
});

describe('CIMI XML: rejected requests', () => {
  test('DOCTYPE, entity declarations and undeclared entities', () => {
    expectXmlError(`<!DOCTYPE Machine><Machine xmlns="${CIMI_NS}"/>`, /DOCTYPE/);
    expectXmlError(
      `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><Machine xmlns="${CIMI_NS}"><name>&lol2;</name></Machine>`,
      /DOCTYPE/,
    );
    expectXmlError(
      `<!DOCTYPE Machine [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Machine xmlns="${CIMI_NS}"><name>&xxe;</name></Machine>`,
      /DOCTYPE/,
    );
    // one gate for every door (safe-xml.ts): a comment that mentions a declaration is only a comment (XML 1.0 §2.5)
    expect(fromCimiXml(`<Machine xmlns="${CIMI_NS}"><!-- <!ENTITY x "y"> --><name>m</name></Machine>`).doc.name).toBe('m');
    expectXmlError(`<Machine xmlns="${CIMI_NS}"><name>&xxe;</name></Machine>`, /malformed XML.*entity/i);
  });

  test('unknown elements and attributes (DSP0263: reject unknown attributes)', () => {
    expectXmlError(`<Machine xmlns="${CIMI_NS}"><bogus/></Machine>`, /unknown element <bogus> in <Machine>/);
    expectXmlError(
      `<MachineCreate xmlns="${CIMI_NS}"><machineTemplate><cpu>1</cpu></machineTemplate></MachineCreate>`,
      /unknown element <cpu> in <machineTemplate>/,
    );
    expectXmlError(`<Machine xmlns="${CIMI_NS}" color="red"/>`, /unknown attribute color on <Machine>/);
    expectXmlError(`<Machine xmlns="${CIMI_NS}" href="http://h/m"/>`, /unknown attribute href/);
    expectXmlError(
      `<Machine xmlns="${CIMI_NS}"><name lang="en">m</name></Machine>`,
      /unknown attribute lang on <name>/,
    );
    expectXmlError(
      `<Machine xmlns="${CIMI_NS}"><name><b>m</b></name></Machine>`,
      /unknown element <b> in <name>/,
    );
    expectXmlError(`<Machine xmlns="${CIMI_NS}"><property>v</property></Machine>`, /needs a key/);
    expectXmlError(`<Machine xmlns="${CIMI_NS}"><operation rel="edit"/></Machine>`, /needs rel and href/);
    expectXmlError(
      `<Machine xmlns="${CIMI_NS}"><targetResource href="x"/></Machine>`,
      /unknown element <targetResource>/,
    );
    expectXmlError(
      `<Job xmlns="${CIMI_NS}"><targetResource href="x"><name>n</name></targetResource></Job>`,
      /unknown element <name> in <targetResource>/,
    );
    expectXmlError(`<Bogus xmlns="${CIMI_NS}"/>`, /unknown root element <Bogus>/);
    expectXmlError(
      `<Machine xmlns="${CIMI_NS}">stray text<name>m</name></Machine>`,
      /unexpected text in <Machine>/,
    );
  });

  test('wrong namespace: another root namespace, extension elements, mixed namespaces', () => {
    expectXmlError(
      '<Machine xmlns="http://schemas.dmtf.org/cimi/2"><name>m</name></Machine>',
      /namespace http:\/\/schemas.dmtf.org\/cimi\/2/,
    );
    expectXmlError(
      `<Machine xmlns="${CIMI_NS}" xmlns:ext="urn:ext"><name>m</name><ext:color>red</ext:color></Machine>`,
      /unknown element <\{urn:ext\}color>/,
    );
    expectXmlError(`<Machine xmlns="${CIMI_NS}"><name xmlns="">m</name></Machine>`, /unknown element <name>/);
    expectXmlError(
      `<Machine><name xmlns="${CIMI_NS}">m</name></Machine>`,
      /unknown element <\{http:\/\/schemas.dmtf.org\/cimi\/1\}name>/,
    );
    expectXmlError(`<Machine xmlns="${CIMI_NS}" xmlns:e="urn:e" e:flag="1"/>`, /unknown attribute e:flag/);
    expectXmlError('<c:Machine xmlns:c="urn:other"/>', /namespace urn:other/);
  });

  test('bad integers, booleans and hexBinary name the element', () => {
    expectXmlError(
      `<MachineConfiguration xmlns="${CIMI_NS}"><cpu>four</cpu></MachineConfiguration>`,
      /<cpu> must be an integer, got "four"/,
    );
    expectXmlError(
      `<MachineConfiguration xmlns="${CIMI_NS}"><memory>1.5</memory></MachineConfiguration>`,
      /<memory> must be an integer/,
    );
    expectXmlError(
      `<MachineConfiguration xmlns="${CIMI_NS}"><memory>99999999999999999999</memory></MachineConfiguration>`,
      /<memory> is out of range/,
    );
    expectXmlError(
      `<MachineTemplate xmlns="${CIMI_NS}"><machineConfig><disk><capacity>big</capacity><format>x</format></disk></machineConfig></MachineTemplate>`,
      /<capacity> must be an integer/,
    );
    expectXmlError(
      `<Volume xmlns="${CIMI_NS}"><bootable>yes</bootable></Volume>`,
      /<bootable> must be a boolean/,
    );
    expectXmlError(
      `<ResourceMetadata xmlns="${CIMI_NS}"><attribute name="a" required="maybe"/></ResourceMetadata>`,
      /attribute required of <attribute> must be a boolean/,
    );
    expectXmlError(
      `<Credential xmlns="${CIMI_NS}"><key>ssh-rsa AAAA</key></Credential>`,
      /<key> must be hexBinary/,
    );
    expectXmlError(
      `<Machine xmlns="${CIMI_NS}"><created>yesterday</created></Machine>`,
      /<created> must be an xs:dateTime/,
    );
    expectXmlError(
      `<Meter xmlns="${CIMI_NS}"><intervalDuration>5m</intervalDuration></Meter>`,
      /<intervalDuration> must be an xs:duration/,
    );
    expect(fromCimiXml(`<Machine xmlns="${CIMI_NS}"><created> ${T1} </created></Machine>`).doc).toEqual({
      created: T1,
    });
    expectXmlError(
      `<Credential xmlns="${CIMI_NS}"><key>ff</key></Credential>`,
      /<key> does not encode UTF-8 text/,
    );
  });

  test('repeated singular elements, repeated property keys, more than one <attribute>', () => {
    expectXmlError(
      `<Machine xmlns="${CIMI_NS}"><name>a</name><name>b</name></Machine>`,
      /element <name> repeated in <Machine>/,
    );
    expectXmlError(
      `<Machine xmlns="${CIMI_NS}"><property key="k">1</property><property key="k">2</property></Machine>`,
      /property "k" repeated/,
    );
    expectXmlError(
      `<ResourceMetadata xmlns="${CIMI_NS}"><attribute name="a"/><attribute name="b"/></ResourceMetadata>`,
      /at most 1 <attribute>/,
    );
  });

  test('nesting deeper than 64 levels is refused while streaming', () => {
    const deep = `<MachineCreate xmlns="${CIMI_NS}">${'<a>'.repeat(70)}${'</a>'.repeat(70)}</MachineCreate>`;
    expectXmlError(deep, /nested deeper than 64 levels/);
    // far deeper input dies on the cap, not in the tree builder
    const huge = `<MachineCreate xmlns="${CIMI_NS}">${'<a>'.repeat(200_000)}`;
    expectXmlError(huge, /nested deeper than 64 levels/);
    expectXmlError(
      `<MachineCreate xmlns="${CIMI_NS}">${'<a>'.repeat(5)}${'</a>'.repeat(5)}</MachineCreate>`,
      /unknown element <a>/,
    );
    expect(() => fromCimiXml(`<Machine xmlns="${CIMI_NS}"/>`, { maxDepth: 1 })).not.toThrow();
    expectXmlErrorWith(
      { maxDepth: 1 },
      `<Machine xmlns="${CIMI_NS}"><name>m</name></Machine>`,
      /deeper than 1 levels/,
    );
  });

  test('element count, attribute count and text size caps', () => {
    const many = `<Machine xmlns="${CIMI_NS}">${'<property key="k">v</property>'.repeat(10_000)}</Machine>`;
    expectXmlError(many, /more than 10000 elements/);
    const attrs = Array.from({ length: 300 }, (_, i) => `a${i}="x"`).join(' ');
    expectXmlError(`<Machine xmlns="${CIMI_NS}" ${attrs}/>`, /more than 256 attributes/);
    expectXmlErrorWith(
      { maxTextLength: 10 },
      `<Machine xmlns="${CIMI_NS}"><name>${'x'.repeat(11)}</name></Machine>`,
      /exceeds 10 characters/,
    );
    expectXmlErrorWith(
      { maxTextLength: 10 },
      `<Machine xmlns="${CIMI_NS}"><operation rel="edit" href="${'x'.repeat(11)}"/></Machine>`,
      /exceeds 10 characters/,
    );
  });

  test('malformed XML, processing instructions, empty input', () => {
    expectXmlError(`<Machine xmlns="${CIMI_NS}"><name>m</Machine>`, /malformed XML/);
    expectXmlError('', /malformed XML|no root/);
    expectXmlError('not xml', /malformed XML/);
    expectXmlError(`<Machine xmlns="${CIMI_NS}"/><Machine xmlns="${CIMI_NS}"/>`, /malformed XML/);
    expectXmlError(`<?xml-stylesheet href="x"?><Machine xmlns="${CIMI_NS}"/>`, /processing instruction/);
    expectXmlError('<p:Machine/>', /malformed XML.*prefix/i);
  });

  test('a Collection body must name a known collection and use its item element', () => {
    expectXmlError(
      `<Collection xmlns="${CIMI_NS}"><id>x</id><count>0</count></Collection>`,
      /needs a resourceURI/,
    );
    expectXmlError(
      `<Collection xmlns="${CIMI_NS}" resourceURI="${U}/BogusCollection"/>`,
      /unknown collection resourceURI/,
    );
    expectXmlError(
      `<Collection xmlns="${CIMI_NS}" resourceURI="${U}/MachineCollection"><id>x</id><count>1</count><Volume/></Collection>`,
      /unknown element <Volume> in <Collection>/,
    );
  });
});

describe('cimi-xml-schema table', () => {
  test('collection helpers', () => {
    expect(collectionItemType(`${U}/MachineCollection`)).toBe('Machine');
    expect(collectionItemType(`${U}/MachineVolumeCollection`)).toBe('MachineVolume');
    expect(collectionItemType(`${U}/ResourceMetadataCollection`)).toBe('ResourceMetadata');
    expect(collectionItemType(`${U}/Machine`)).toBeUndefined();
    expect(collectionItemType(`${U}/BogusCollection`)).toBeUndefined();
    expect(collectionItemsKey('Machine')).toBe('machines');
    expect(collectionItemsKey('MachineConfiguration')).toBe('machineConfigurations');
    expect(collectionItemsKey('Address')).toBe('addresses');
    expect(collectionItemsKey('MachineNetworkInterfaceAddress')).toBe('machineNetworkInterfaceAddresses');
    expect(collectionItemsKey('ResourceMetadata')).toBe('resourceMetadata');
  });

  test('JSON names of repeated elements (docs/cimi.md §8.1)', () => {
    const jsonOf = (type: string, el: string) => CIMI_XML_TYPES[type].children.find((c) => c.el === el)?.json;
    expect(jsonOf('MachineConfiguration', 'disk')).toBe('disks');
    expect(jsonOf('MachineTemplate', 'volume')).toBe('volumes');
    expect(jsonOf('MachineTemplate', 'volumeTemplate')).toBe('volumeTemplates');
    expect(jsonOf('MachineTemplate', 'networkInterface')).toBe('networkInterfaces');
    expect(jsonOf('MachineTemplate', 'meterTemplate')).toBe('meterTemplates');
    expect(jsonOf('SystemTemplate', 'componentDescriptor')).toBe('componentDescriptors');
    expect(jsonOf('Address', 'dns')).toBe('dns');
    expect(jsonOf('ForwardingGroup', 'network')).toBe('networks');
    expect(jsonOf('Job', 'affectedResource')).toBe('affectedResources');
    expect(jsonOf('Job', 'nestedJob')).toBe('nestedJobs');
    expect(jsonOf('ResourceMetadata', 'capability')).toBe('capabilities');
    expect(jsonOf('ResourceMetadata', 'attribute')).toBe('attributes');
    expect(jsonOf('ResourceMetadata', 'action')).toBe('actions');
    expect(jsonOf('Machine', 'property')).toBe('properties');
    expect(jsonOf('Machine', 'operation')).toBe('operations');
    expect(jsonOf('NetworkInterface', 'address')).toBe('addresses');
    expect(jsonOf('MachineSnapshot', 'shapshot')).toBe('snapshot');
  });

  test('cimiXmlAttributeNames lists what XML can carry for a type', () => {
    expect(cimiXmlAttributeNames('Disk')).toEqual(['capacity', 'initialLocation']);
    expect(cimiXmlAttributeNames('Credential').slice(-4)).toEqual([
      'operations',
      'userName',
      'password',
      'key',
    ]);
    expect(() => cimiXmlAttributeNames('Bogus')).toThrow();
  });

  test('every type referenced by the table exists', () => {
    const missing: string[] = [];
    for (const [name, t] of Object.entries(CIMI_XML_TYPES) as [string, CimiXmlTypeSpec][]) {
      for (const c of t.children)
        if (c.type && !CIMI_XML_TYPES[c.type]) missing.push(`${name}.${c.el} → ${c.type}`);
    }
    expect(missing).toEqual([]);
  });
});

function expectXmlErrorWith(limits: Parameters<typeof fromCimiXml>[1], xml: string, message: RegExp): void {
  expect(() => fromCimiXml(xml, limits)).toThrow(CimiXmlError);
  expect(() => fromCimiXml(xml, limits)).toThrow(message);
}
