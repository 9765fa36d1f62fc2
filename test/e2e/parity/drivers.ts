import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { MODEL_OPERATIONS, NON_OPERATION_ACTIONS } from '../../../src/model/operations';
import { descriptorOf } from '../../../src/model/shared/resource-types';
import { RESOURCE_TYPES, type ResourceType } from '../../../src/model/shared/resource';
import { BY_TYPE } from '../../../src/adapters/rest/cimi-types';
import { CIM, NS, VENDOR } from '../../support/wsman-client';

/**
 * The parity drivers: for each model operation (docs/operations.md "Parity matrix") and each door that has a form for
 * it, one function that drives it through that door's real protocol over HTTP (REST via fetch, SOAP and WS-Man as
 * raw envelopes) and reports what the door answered in door-neutral terms (ids, Job id, error kind). The matrix test
 * requires a driver here for every form the table names; the parity and isolation suites run them.
 */
export type Door = 'rest' | 'soap' | 'wsman';
export const DOORS: readonly Door[] = ['rest', 'soap', 'wsman'];

export interface Who {
  user: string;
  pass: string;
  /** the tenant id (WS-Man Volume keys carry it) */
  tenant: string;
}

export interface Args {
  type: ResourceType | 'Job';
  id?: string;
  /** parent id of a sub-resource / the machine of attach/detach */
  parent?: string;
  /** a door form from the matrix cell (RequestStateChange(3) vs (4)) */
  form?: string;
  /** references for creates and actions, by type */
  refs?: Partial<Record<string, string>>;
  name?: string;
  description?: string;
  /** a stale version for the conflict rows */
  expectedVersion?: number;
  /** an invalid input for the invalid-input rows */
  bad?: boolean;
  /** extra: a volume id (attach), a CIMI filter (audit query), a PEM, a tenant */
  extra?: string;
  /** query: only resources with this name (REST $filter, SOAP filter condition, WS-Man WQL) */
  filterName?: string;
}

export interface Outcome {
  status: number;
  ok: boolean;
  id?: string;
  ids?: string[];
  job?: string;
  /** the model error kind the door's answer maps back to */
  kind?: string;
  /** the model's stable code when the door carries it */
  code?: string;
  text: string;
}

export interface World {
  base: string;
  port: number;
  /** X-Request-Id of the next request (the audit correlation id) */
  rid?: string;
}

export type Driver = (w: World, who: Who, a: Args) => Promise<Outcome>;

const CIMI = 'http://schemas.dmtf.org/cimi/1';
const lastSeg = (href: string) => href.split('/').pop()!;
const auth = (who: Who) => `Basic ${Buffer.from(`${who.user}:${who.pass}`).toString('base64')}`;
const cap = (s: string) => s[0].toUpperCase() + s.slice(1);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
function headers(w: World, who: Who, more: Record<string, string> = {}): Record<string, string> {
  return { Authorization: auth(who), 'X-Request-Id': w.rid ?? randomUUID(), ...more };
}

// ------------------------------------------------------------------ REST ------------------------------------------------------------------

const REST_STATUS_KIND: Record<number, string> = { 400: 'invalid-input', 401: 'unauthenticated', 403: 'forbidden', 404: 'not-found', 409: 'invalid-state', 412: 'precondition', 422: 'invalid-input' };

export async function rest(w: World, who: Who, method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Outcome> {
  const r = await fetch(`${w.base}/cimi${path}`, {
    method,
    headers: headers(w, who, { Accept: 'application/json', ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...extra }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let doc: Record<string, unknown> = {};
  try {
    doc = JSON.parse(text) as Record<string, unknown>;
  } catch {
    /* empty body */
  }
  const job = r.headers.get('cimi-job-uri');
  const ok = r.status < 300;
  // an error answer is a CIMI Job whose statusMessage starts with the model's code (cimi-error.filter.ts)
  const code = !ok && typeof doc.statusMessage === 'string' ? /^([A-Z_]+\.[A-Z_]+):/.exec(doc.statusMessage)?.[1] : undefined;
  return { status: r.status, ok, id: ok && typeof doc.id === 'string' ? lastSeg(doc.id) : undefined, job: job ? lastSeg(job) : undefined, kind: ok ? undefined : REST_STATUS_KIND[r.status] ?? `http-${r.status}`, code, text, ...(ok ? { ids: collectIds(doc) } : {}) };
}

function collectIds(doc: Record<string, unknown>): string[] | undefined {
  if (typeof doc.count !== 'number') return undefined;
  const key = Object.keys(doc).find((k) => Array.isArray(doc[k]) && k !== 'operations');
  return key ? (doc[key] as { id?: string }[]).map((i, n) => (i.id ? lastSeg(i.id) : `#${n}`)) : [];
}

const seg = (t: ResourceType) => BY_TYPE.get(t)!.segment;
const href = (w: World, t: ResourceType, id: string) => `${w.base}/cimi/${seg(t)}/${id}`;
const SUB_SEG: Partial<Record<ResourceType, string>> = {
  Disk: 'disks',
  MachineVolume: 'volumes',
  MachineNetworkInterface: 'networkInterfaces',
  SystemMachine: 'machines',
  SystemVolume: 'volumes',
  SystemNetwork: 'networks',
  SystemCredential: 'credentials',
  SystemNetworkPort: 'networkPorts',
  SystemAddress: 'addresses',
  SystemForwardingGroup: 'forwardingGroups',
  SystemSystem: 'systems',
};

/** the types created from a template, and the create input's template slot (REST and SOAP name it alike) */
const TEMPLATE_SLOT: Partial<Record<ResourceType, [string, ResourceType]>> = {
  Machine: ['machineTemplate', 'MachineTemplate'],
  Credential: ['credentialTemplate', 'CredentialTemplate'],
  Volume: ['volumeTemplate', 'VolumeTemplate'],
  Network: ['networkTemplate', 'NetworkTemplate'],
  NetworkPort: ['networkPortTemplate', 'NetworkPortTemplate'],
  Address: ['addressTemplate', 'AddressTemplate'],
  ForwardingGroup: ['forwardingGroupTemplate', 'ForwardingGroupTemplate'],
  System: ['systemTemplate', 'SystemTemplate'],
};

/** REST create bodies (root element name, document) per type: the same inputs as the SOAP and WS-Man bodies below */
function restCreate(w: World, t: ResourceType, a: Args): [string, Record<string, unknown>] {
  const r = (rt: ResourceType) => ({ href: href(w, rt, a.refs?.[rt] ?? '00000000-0000-4000-8000-000000000000') });
  const common = { name: a.name ?? `p-${t}`, description: 'd' };
  const tpl = (slot: string, rt: ResourceType): [string, Record<string, unknown>] => [`${t}Create`, { ...common, [slot]: r(rt) }];
  if (TEMPLATE_SLOT[t]) return tpl(...TEMPLATE_SLOT[t]);
  switch (t) {
    case 'MachineConfiguration': return [t, { ...common, cpu: a.bad ? -1 : 1, memory: 1024, disks: [{ capacity: 1000, format: 'ext4' }], cpuArch: 'x86_64' }];
    case 'VolumeConfiguration': return [t, { ...common, capacity: 5000, format: 'ext4' }];
    case 'NetworkConfiguration': return [t, { ...common, networkType: 'PRIVATE', mtu: 1500 }];
    case 'NetworkPortConfiguration': return [t, { ...common, portType: 'ACCESS' }];
    case 'CredentialTemplate': return [t, { ...common, userName: 'ops', password: 'pw-123456' }];
    case 'MachineTemplate': return [t, { ...common, machineConfig: r('MachineConfiguration'), machineImage: r('MachineImage') }];
    case 'VolumeTemplate': return [t, { ...common, volumeConfig: r('VolumeConfiguration') }];
    case 'NetworkTemplate': return [t, { ...common, networkConfig: r('NetworkConfiguration') }];
    case 'SystemTemplate': return [t, { ...common, componentDescriptors: [{ name: 'web', type: `${CIMI}/Machine`, quantity: 1, machineTemplate: r('MachineTemplate') }] }];
    case 'NetworkPortTemplate': return [t, { ...common, network: r('Network'), networkPortConfig: r('NetworkPortConfiguration') }];
    case 'AddressTemplate': return [t, { ...common, ip: '10.1.1.1', protocol: 'IPv4', network: r('Network') }];
    case 'ForwardingGroupTemplate': return [t, { ...common, networks: [r('Network')] }];
    case 'MachineImage': return [t, { ...common, imageLocation: 'http://images.example/p.qcow2', type: 'IMAGE' }];
    case 'VolumeImage': return [t, { ...common, imageLocation: 'http://images.example/p.raw', bootable: true }];
    case 'MeterConfiguration': return [t, { ...common, aspect: a.bad ? 'urn:cimi-gateway:meter:gpu.time' : 'urn:cimi-gateway:meter:cpu.time', units: 'nanoseconds' }];
    case 'MeterTemplate': return [t, { ...common, targetResource: r('Machine'), meterConfig: r('MeterConfiguration') }];
    default: throw new Error(`no REST create body for ${t}`);
  }
}

/** The creatable types in dependency order (each one's references are made before it). */
export const CREATE_ORDER: readonly ResourceType[] = [
  'MachineConfiguration', 'VolumeConfiguration', 'NetworkConfiguration', 'NetworkPortConfiguration', 'CredentialTemplate', 'MachineImage', 'VolumeImage',
  'MachineTemplate', 'VolumeTemplate', 'NetworkTemplate', 'Credential', 'Network', 'Volume', 'Machine', 'SystemTemplate', 'System',
  'NetworkPortTemplate', 'AddressTemplate', 'ForwardingGroupTemplate', 'NetworkPort', 'Address', 'ForwardingGroup',
  'MeterConfiguration', 'MeterTemplate',
];

const restDrivers: Record<string, Driver> = {};
const TOP = (RESOURCE_TYPES as readonly ResourceType[]).filter((t) => !descriptorOf(t).parentType);
for (const t of TOP) {
  restDrivers[`${t}.read`] = (w, who, a) => rest(w, who, 'GET', `/${seg(t)}/${a.id}`);
  restDrivers[`${t}.query`] = (w, who, a) => rest(w, who, 'GET', `/${seg(t)}?$first=1&$last=1000${a.filterName ? `&$filter=${encodeURIComponent(`name='${a.filterName}'`)}` : ''}`);
  restDrivers[`${t}.update`] = (w, who, a) =>
    rest(w, who, 'PUT', `/${seg(t)}/${a.id}?$select=description`, { resourceURI: `${CIMI}/${t}`, description: a.description ?? 'updated', ...(a.bad ? { noSuchAttribute: 1 } : {}) }, a.expectedVersion !== undefined ? { 'If-Match': `"${a.expectedVersion}"` } : {});
  restDrivers[`${t}.delete`] = (w, who, a) => rest(w, who, 'DELETE', `/${seg(t)}/${a.id}`);
  if (CREATE_ORDER.includes(t)) {
    restDrivers[`${t}.create`] = (w, who, a) => {
      const [root, doc] = restCreate(w, t, a);
      return rest(w, who, 'POST', `/${seg(t)}`, { resourceURI: `${CIMI}/${root}`, ...doc });
    };
  }
  for (const action of descriptorOf(t).stateMachine?.actions ?? []) {
    if (NON_OPERATION_ACTIONS.has(action) || !MODEL_OPERATIONS.some((o) => o.op === `${t}.${action}`)) continue;
    restDrivers[`${t}.${action}`] = (w, who, a) => {
      const params: Record<string, unknown> = {};
      if (action === 'restore') params.image = { href: href(w, t === 'Machine' ? 'MachineImage' : 'VolumeImage', a.refs?.[t === 'Machine' ? 'MachineImage' : 'VolumeImage'] ?? '') };
      if (a.form?.includes('force')) params.force = true;
      return rest(w, who, 'POST', `/${seg(t)}/${a.id}/${action}`, { resourceURI: `${CIMI}/Action`, action: `${CIMI}/action/${action}`, ...params });
    };
  }
}
for (const [t, s] of Object.entries(SUB_SEG) as [ResourceType, string][]) {
  const parent = descriptorOf(t).parentType!;
  restDrivers[`${t}.read`] = (w, who, a) => rest(w, who, 'GET', `/${seg(parent)}/${a.parent}/${s}/${a.id}`);
  restDrivers[`${t}.query`] = (w, who, a) => rest(w, who, 'GET', `/${seg(parent)}/${a.parent}/${s}`);
}
restDrivers['Machine.attachVolume'] = (w, who, a) =>
  rest(w, who, 'POST', `/machines/${a.parent}/volumes`, { resourceURI: `${CIMI}/MachineVolume`, volume: { href: href(w, 'Volume', a.extra!) }, initialLocation: '/dev/vdb' });
restDrivers['Machine.detachVolume'] = (w, who, a) => rest(w, who, 'DELETE', `/machines/${a.parent}/volumes/${a.id}`);
restDrivers['Job.read'] = (w, who, a) => rest(w, who, 'GET', `/jobs/${a.id}`);
restDrivers['Job.query'] = (w, who) => rest(w, who, 'GET', '/jobs?$last=1000');
restDrivers['Job.stop'] = (w, who, a) => rest(w, who, 'POST', `/jobs/${a.id}/stop`, { resourceURI: `${CIMI}/Action`, action: 'http://schemas.dmtf.org/cimi/1/action/stop' });
restDrivers['Job.delete'] = (w, who, a) => rest(w, who, 'DELETE', `/jobs/${a.id}`);
restDrivers['EventLog.read'] = (w, who, a) => rest(w, who, 'GET', `/eventLogs/${a.id}`);
restDrivers['EventLog.query'] = (w, who) => rest(w, who, 'GET', '/eventLogs?$last=1000');
restDrivers['Event.query'] = (w, who, a) => rest(w, who, 'GET', `/eventLogs/${a.id}/events`);
restDrivers['Event.read'] = (w, who, a) => rest(w, who, 'GET', `/eventLogs/${a.parent}/events/${a.id}`);
// the tenant's quota and usage, as the Machine ResourceMetadata's capabilities (issue 16 §3)
restDrivers['Quota.read'] = (w, who) => rest(w, who, 'GET', '/resourceMetadata/Machine');
restDrivers['AuditLog.read'] = async (w, who) => {
  const one = await rest(w, who, 'GET', '/eventLogs/audit');
  if (!one.ok) return one;
  // the audit log as the eventLogs collection lists it (first, for an admin; DSP0263 §5.17.10)
  const list = await rest(w, who, 'GET', '/eventLogs?$first=1&$last=1');
  return { ...list, ids: list.ids?.filter((id) => id === 'audit') };
};
restDrivers['AuditEvent.query'] = (w, who, a) => rest(w, who, 'GET', `/eventLogs/audit/events?$last=1000${a.extra ? `&$filter=${encodeURIComponent(a.extra)}` : ''}`);
restDrivers['AuditEvent.read'] = (w, who, a) => rest(w, who, 'GET', `/eventLogs/audit/events/${a.id}`);
restDrivers['Session.authenticate'] = (w, who) => rest(w, who, 'GET', '/cloudEntryPoint');
// Meters (issue 14 §1): `extra` is a sample query string (from, to, interval)
restDrivers['Meter.read'] = (w, who, a) => rest(w, who, 'GET', `/meters/${a.id}`);
restDrivers['Meter.query'] = (w, who) => rest(w, who, 'GET', '/meters?$first=1&$last=1000');
// Meter.create from the MeterTemplate `refs` names (DSP0263 2.0.0 §5.17.4.1); Meter.delete of a client Meter
restDrivers['Meter.create'] = (w, who, a) => rest(w, who, 'POST', '/meters', { resourceURI: `${CIMI}/MeterCreate`, name: a.name ?? 'p-Meter', meterTemplate: { href: href(w, 'MeterTemplate', a.refs?.MeterTemplate ?? '00000000-0000-4000-8000-000000000000') } });
restDrivers['Meter.delete'] = (w, who, a) => rest(w, who, 'DELETE', `/meters/${a.id}`);
// subscriptions (a gateway extension, docs/cimi.md "Subscriptions"): `a.extra` the notifyTo address or the new expiry
restDrivers['Subscription.create'] = (w, who, a) => rest(w, who, 'POST', '/subscriptions', { notifyTo: a.extra ?? 'http://127.0.0.1:9/events', expires: new Date(Date.now() + 600_000).toISOString() });
restDrivers['Subscription.renew'] = async (w, who, a) => ({ ...(await rest(w, who, 'PUT', `/subscriptions/${a.id}`, { expires: a.extra ?? new Date(Date.now() + 1200_000).toISOString() })), id: a.id });
restDrivers['Subscription.status'] = (w, who, a) => rest(w, who, 'GET', `/subscriptions/${a.id}`);
restDrivers['Subscription.query'] = (w, who) => rest(w, who, 'GET', '/subscriptions');
restDrivers['Subscription.delete'] = (w, who, a) => rest(w, who, 'DELETE', `/subscriptions/${a.id}`);
restDrivers['MeterSample.query'] = (w, who, a) => rest(w, who, 'GET', `/meters/${a.id}/samples${a.extra ? `?${a.extra}` : ''}`);
for (const action of ['start', 'stop']) {
  restDrivers[`Meter.${action}`] = async (w, who, a) => ({ ...(await rest(w, who, 'POST', `/meters/${a.id}/${action}`, { resourceURI: `${CIMI}/Action`, action: `http://schemas.dmtf.org/cimi/1/action/${action}` })), id: a.id });
}

// ------------------------------------------------------------------ SOAP ------------------------------------------------------------------

const TNS = 'urn:cimi-gateway:soap:1:types';
async function soap(w: World, who: Who, op: string, inner: string): Promise<Outcome> {
  const body = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="${TNS}"><soap:Body><t:${op}>${inner}</t:${op}></soap:Body></soap:Envelope>`;
  const r = await fetch(`${w.base}/soap`, { method: 'POST', headers: headers(w, who, { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"urn:cimi-gateway:soap:1:${op}"` }), body });
  const text = await r.text();
  const pick = (re: RegExp) => re.exec(text)?.[1];
  if (r.status !== 200) {
    const kind = r.status === 401 ? 'unauthenticated' : pick(/<t:kind>([^<]+)<\/t:kind>/) ?? 'fault';
    return { status: r.status, ok: false, kind, code: pick(/<t:code>([^<]+)<\/t:code>/), text };
  }
  const items = [...text.matchAll(/<t:item>(?:<t:[A-Za-z]+>[^<]*<\/t:[A-Za-z]+>)*?<t:id>([^<]+)<\/t:id>/g)].map((m) => m[1]);
  const id = pick(/<t:(?:resource|tenant|user|clientCertificate|eventLog|event|auditEvent|meter|subscription)>(?:<t:[A-Za-z]+>[^<]*<\/t:[A-Za-z]+>)*?<t:id>([^<]+)<\/t:id>/);
  const job = pick(/<t:job><t:id>([^<]+)<\/t:id>/);
  return { status: r.status, ok: true, id: id ?? (op === 'GetJob' ? job : undefined), job, ids: /<t:count>/.test(text) ? items : undefined, text };
}

const plural = (t: string) => `${t}${t.endsWith('s') ? 'es' : 's'}`;
const ref = (a: Args, t: string) => a.refs?.[t] ?? '00000000-0000-4000-8000-000000000000';
const slot = (a: Args, t: string) => `<t:ref>${ref(a, t)}</t:ref>`;

/** SOAP create content per type (element order of the XSD sequences) */
function soapCreate(t: ResourceType, a: Args): string {
  const common = `<t:name>${esc(a.name ?? `p-${t}`)}</t:name><t:description>d</t:description>`;
  const tpl = (s: string, rt: string) => `${common}<t:${s}>${slot(a, rt)}</t:${s}>`;
  if (TEMPLATE_SLOT[t]) return tpl(...TEMPLATE_SLOT[t]);
  switch (t) {
    case 'MachineConfiguration': return `${common}<t:cpu>${a.bad ? -1 : 1}</t:cpu><t:memory>1024</t:memory><t:disks><t:capacity>1000</t:capacity><t:format>ext4</t:format></t:disks><t:cpuArch>x86_64</t:cpuArch>`;
    case 'VolumeConfiguration': return `${common}<t:format>ext4</t:format><t:capacity>5000</t:capacity>`;
    case 'NetworkConfiguration': return `${common}<t:networkType>PRIVATE</t:networkType><t:mtu>1500</t:mtu>`;
    case 'NetworkPortConfiguration': return `${common}<t:portType>ACCESS</t:portType>`;
    case 'CredentialTemplate': return `${common}<t:userName>ops</t:userName><t:password>pw-123456</t:password>`;
    case 'MachineTemplate': return `${common}<t:machineConfig>${slot(a, 'MachineConfiguration')}</t:machineConfig><t:machineImage>${slot(a, 'MachineImage')}</t:machineImage>`;
    case 'VolumeTemplate': return `${common}<t:volumeConfig>${slot(a, 'VolumeConfiguration')}</t:volumeConfig>`;
    case 'NetworkTemplate': return `${common}<t:networkConfig>${slot(a, 'NetworkConfiguration')}</t:networkConfig>`;
    case 'SystemTemplate': return `${common}<t:componentDescriptors><t:name>web</t:name><t:type>Machine</t:type><t:quantity>1</t:quantity><t:machineTemplate>${slot(a, 'MachineTemplate')}</t:machineTemplate></t:componentDescriptors>`;
    case 'NetworkPortTemplate': return `${common}<t:network>${ref(a, 'Network')}</t:network><t:networkPortConfig>${slot(a, 'NetworkPortConfiguration')}</t:networkPortConfig>`;
    case 'AddressTemplate': return `${common}<t:ip>10.1.1.1</t:ip><t:protocol>IPv4</t:protocol><t:network>${ref(a, 'Network')}</t:network>`;
    case 'ForwardingGroupTemplate': return `${common}<t:networks>${ref(a, 'Network')}</t:networks>`;
    case 'MachineImage': return `${common}<t:type>IMAGE</t:type><t:imageLocation>http://images.example/p.qcow2</t:imageLocation>`;
    case 'VolumeImage': return `${common}<t:imageLocation>http://images.example/p.raw</t:imageLocation><t:bootable>true</t:bootable>`;
    case 'MeterConfiguration': return `${common}<t:aspect>urn:cimi-gateway:meter:${a.bad ? 'gpu' : 'cpu'}.time</t:aspect><t:units>nanoseconds</t:units>`;
    case 'MeterTemplate': return `${common}<t:targetResource><t:type>Machine</t:type><t:id>${ref(a, 'Machine')}</t:id></t:targetResource><t:meterConfig>${slot(a, 'MeterConfiguration')}</t:meterConfig>`;
    default: throw new Error(`no SOAP create for ${t}`);
  }
}

const soapDrivers: Record<string, Driver> = {};
const version = (a: Args) => (a.expectedVersion !== undefined ? `<t:expectedVersion>${a.expectedVersion}</t:expectedVersion>` : '');
for (const t of TOP) {
  soapDrivers[`${t}.read`] = (w, who, a) => soap(w, who, `Get${t}`, `<t:id>${a.id}</t:id>`);
  soapDrivers[`${t}.query`] = (w, who, a) =>
    soap(w, who, `List${plural(t)}`, `${a.filterName ? `<t:filter><t:condition><t:attribute>name</t:attribute><t:operator>eq</t:operator><t:stringValue>${esc(a.filterName)}</t:stringValue></t:condition></t:filter>` : ''}<t:first>1</t:first><t:last>1000</t:last>`);
  soapDrivers[`${t}.update`] = (w, who, a) => soap(w, who, `Update${t}`, `<t:id>${a.id}</t:id><t:description>${a.description ?? 'updated'}</t:description>${a.bad ? '<t:unset>noSuchAttribute</t:unset>' : ''}${version(a)}`);
  soapDrivers[`${t}.delete`] = (w, who, a) => soap(w, who, `Delete${t}`, `<t:id>${a.id}</t:id>${version(a)}`);
  if (CREATE_ORDER.includes(t)) soapDrivers[`${t}.create`] = (w, who, a) => soap(w, who, `Create${t}`, soapCreate(t, a));
  for (const action of descriptorOf(t).stateMachine?.actions ?? []) {
    if (NON_OPERATION_ACTIONS.has(action) || !MODEL_OPERATIONS.some((o) => o.op === `${t}.${action}`)) continue;
    soapDrivers[`${t}.${action}`] = (w, who, a) => {
      let inner = `<t:id>${a.id}</t:id>`;
      if (action === 'restore') inner += `<t:image>${ref(a, t === 'Machine' ? 'MachineImage' : 'VolumeImage')}</t:image>`;
      else if (action === 'stop' || action === 'restart') inner += a.form?.includes('force') ? '<t:force>true</t:force>' : '';
      return soap(w, who, `${cap(action)}${t}`, inner + version(a));
    };
  }
}
for (const t of ['Disk', 'MachineVolume', 'MachineNetworkInterface'] as ResourceType[]) {
  const name = t === 'Disk' ? 'MachineDisk' : t;
  soapDrivers[`${t}.read`] = (w, who, a) => soap(w, who, `Get${name}`, `<t:machineId>${a.parent}</t:machineId><t:id>${a.id}</t:id>`);
  soapDrivers[`${t}.query`] = (w, who, a) => soap(w, who, `List${name}s`, `<t:machineId>${a.parent}</t:machineId>`);
}
for (const t of Object.keys(SUB_SEG).filter((s) => s.startsWith('System')) as ResourceType[]) {
  const ct = t.slice(6);
  soapDrivers[`${t}.read`] = (w, who, a) => soap(w, who, 'GetSystemComponent', `<t:systemId>${a.parent}</t:systemId><t:componentType>${ct}</t:componentType><t:id>${a.id}</t:id>`);
  soapDrivers[`${t}.query`] = (w, who, a) => soap(w, who, 'ListSystemComponents', `<t:systemId>${a.parent}</t:systemId><t:componentType>${ct}</t:componentType>`);
}
soapDrivers['Machine.attachVolume'] = (w, who, a) => soap(w, who, 'AttachVolume', `<t:machineId>${a.parent}</t:machineId><t:volume>${a.extra}</t:volume><t:initialLocation>/dev/vdb</t:initialLocation>`);
soapDrivers['Machine.detachVolume'] = (w, who, a) => soap(w, who, 'DetachVolume', `<t:machineId>${a.parent}</t:machineId><t:machineVolumeId>${a.id}</t:machineVolumeId>`);
soapDrivers['Job.read'] = (w, who, a) => soap(w, who, 'GetJob', `<t:id>${a.id}</t:id>`);
soapDrivers['Job.query'] = (w, who) => soap(w, who, 'ListJobs', '<t:first>1</t:first><t:last>1000</t:last>');
soapDrivers['Job.stop'] = (w, who, a) => soap(w, who, 'StopJob', `<t:id>${a.id}</t:id>`);
soapDrivers['Job.delete'] = (w, who, a) => soap(w, who, 'DeleteJob', `<t:id>${a.id}</t:id>`);
soapDrivers['EventLog.read'] = (w, who, a) => soap(w, who, 'GetEventLog', `<t:id>${a.id}</t:id>`);
soapDrivers['EventLog.query'] = (w, who) => soap(w, who, 'ListEventLogs', '<t:first>1</t:first><t:last>1000</t:last>');
soapDrivers['Event.query'] = (w, who, a) => soap(w, who, 'ListEvents', `<t:eventLog>${a.id}</t:eventLog><t:first>1</t:first><t:last>1000</t:last>`);
soapDrivers['Event.read'] = (w, who, a) => soap(w, who, 'GetEvent', `<t:eventLog>${a.parent}</t:eventLog><t:id>${a.id}</t:id>`);
soapDrivers['AuditLog.read'] = async (w, who) => {
  const o = await soap(w, who, 'GetAuditLog', '');
  return { ...o, ids: o.ok && o.id ? [o.id] : undefined };
};
soapDrivers['AuditEvent.query'] = (w, who, a) => {
  // a CIMI `$filter` of the parity tests (`attr='value'`) as a typed condition
  const m = a.extra ? /^(\w+)='([^']*)'$/.exec(a.extra) : null;
  if (a.extra && !m) throw new Error(`no SOAP form for the audit filter ${a.extra}`);
  const filter = m ? `<t:filter><t:condition><t:attribute>${m[1]}</t:attribute><t:operator>eq</t:operator><t:stringValue>${esc(m[2])}</t:stringValue></t:condition></t:filter>` : '';
  return soap(w, who, 'ListAuditEvents', `${filter}<t:first>1</t:first><t:last>1000</t:last>`);
};
soapDrivers['AuditEvent.read'] = (w, who, a) => soap(w, who, 'GetAuditEvent', `<t:id>${a.id}</t:id>`);
soapDrivers['Session.authenticate'] = (w, who) => soap(w, who, 'ListMachines', '<t:first>1</t:first><t:last>1</t:last>');
soapDrivers['Tenant.create'] = (w, who, a) => soap(w, who, 'CreateTenant', `<t:name>${a.name}</t:name>`);
soapDrivers['User.create'] = (w, who, a) => soap(w, who, 'CreateUser', `<t:userName>${a.name}</t:userName><t:password>password-123</t:password><t:tenant>${a.extra}</t:tenant><t:roles>user</t:roles>`);
soapDrivers['User.list'] = (w, who) => soap(w, who, 'ListUsers', '');
soapDrivers['Tenant.list'] = (w, who) => soap(w, who, 'ListTenants', '');
soapDrivers['Tenant.disable'] = (w, who, a) => soap(w, who, 'DisableTenant', `<t:name>${a.name}</t:name>`);
soapDrivers['Tenant.enable'] = (w, who, a) => soap(w, who, 'EnableTenant', `<t:name>${a.name}</t:name>`);
soapDrivers['Tenant.delete'] = (w, who, a) => soap(w, who, 'DeleteTenant', `<t:name>${a.name}</t:name>`);
soapDrivers['User.setRoles'] = (w, who, a) => soap(w, who, 'SetUserRoles', `<t:userName>${a.name}</t:userName><t:roles>${a.extra ?? 'user'}</t:roles>`);
soapDrivers['User.setPassword'] = (w, who, a) => soap(w, who, 'SetUserPassword', `<t:userName>${a.name}</t:userName><t:password>${a.extra ?? 'password-456'}</t:password>`);
soapDrivers['User.resetPassword'] = (w, who, a) => soap(w, who, 'ResetUserPassword', `<t:userName>${a.name}</t:userName>`);
soapDrivers['User.disable'] = (w, who, a) => soap(w, who, 'DisableUser', `<t:userName>${a.name}</t:userName>`);
soapDrivers['User.enable'] = (w, who, a) => soap(w, who, 'EnableUser', `<t:userName>${a.name}</t:userName>`);
soapDrivers['User.delete'] = (w, who, a) => soap(w, who, 'DeleteUser', `<t:userName>${a.name}</t:userName>`);
soapDrivers['Meter.read'] = (w, who, a) => soap(w, who, 'GetMeter', `<t:id>${a.id}</t:id>`);
soapDrivers['Meter.query'] = (w, who) => soap(w, who, 'ListMeters', '<t:first>1</t:first><t:last>1000</t:last>');
soapDrivers['Meter.start'] = (w, who, a) => soap(w, who, 'StartMeter', `<t:id>${a.id}</t:id>`);
soapDrivers['Meter.stop'] = (w, who, a) => soap(w, who, 'StopMeter', `<t:id>${a.id}</t:id>`);
soapDrivers['Meter.create'] = (w, who, a) => soap(w, who, 'CreateMeter', `<t:name>${esc(a.name ?? 'p-Meter')}</t:name><t:meterTemplate>${slot(a, 'MeterTemplate')}</t:meterTemplate>`);
soapDrivers['Meter.delete'] = (w, who, a) => soap(w, who, 'DeleteMeter', `<t:id>${a.id}</t:id>`);
soapDrivers['MeterSample.query'] = (w, who, a) => soap(w, who, 'ListMeterSamples', `<t:id>${a.id}</t:id>${a.extra ? `<t:interval>${a.extra}</t:interval>` : ''}`);
soapDrivers['Subscription.create'] = (w, who, a) => soap(w, who, 'Subscribe', `<t:notifyTo>${esc(a.extra ?? 'http://127.0.0.1:9/events')}</t:notifyTo><t:expires>${new Date(Date.now() + 600_000).toISOString()}</t:expires>`);
soapDrivers['Subscription.renew'] = (w, who, a) => soap(w, who, 'RenewSubscription', `<t:id>${a.id}</t:id><t:expires>${a.extra ?? new Date(Date.now() + 1200_000).toISOString()}</t:expires>`);
soapDrivers['Subscription.status'] = (w, who, a) => soap(w, who, 'GetSubscription', `<t:id>${a.id}</t:id>`);
soapDrivers['Subscription.query'] = (w, who) => soap(w, who, 'ListSubscriptions', '');
soapDrivers['Subscription.delete'] = (w, who, a) => soap(w, who, 'Unsubscribe', `<t:id>${a.id}</t:id>`);
soapDrivers['Quota.read'] = (w, who, a) => soap(w, who, 'GetQuota', a.name ? `<t:tenant>${a.name}</t:tenant>` : '');
soapDrivers['Quota.set'] = (w, who, a) => soap(w, who, 'SetQuota', `<t:tenant>${a.name}</t:tenant><t:limit><t:metric>machines</t:metric>${a.extra === undefined ? '' : `<t:max>${a.extra}</t:max>`}</t:limit>`);
soapDrivers['Certificate.register'] = (w, who, a) => soap(w, who, 'RegisterCertificate', `<t:userName>${a.name}</t:userName><t:certificate>${esc(a.extra!)}</t:certificate>`);
soapDrivers['Certificate.list'] = (w, who, a) => soap(w, who, 'ListCertificates', a.name ? `<t:userName>${a.name}</t:userName>` : '');
soapDrivers['Certificate.remove'] = (w, who, a) => soap(w, who, 'RemoveCertificate', `<t:id>${a.id}</t:id>`);

/** a fresh self-signed RSA-2048 certificate (PEM) made by python3-cryptography, as the WS-Security tests do */
export function makeCertificate(cn: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'parity-cert-'));
  execFileSync('/usr/bin/python3', [join(__dirname, '../../support/wsse/make_cert.py'), join(dir, 'k.pem'), join(dir, 'c.pem'), cn, '-1', '30', '2048']);
  return readFileSync(join(dir, 'c.pem'), 'utf8');
}

// ------------------------------------------------------------------ WS-Man ------------------------------------------------------------------

/** WS-Man namespaces (the test clients' one table) */
export const WS = NS;
const ASSOC_DIALECT = 'http://schemas.dmtf.org/wbem/wsman/1/cimbinding/associationFilter';

/** the WS-Man class of each model type the catalogue maps: base class URI, concrete class, selectors of an id */
export const WS_CLASS: Partial<Record<string, { base: string; concrete: string; keyOf: (id: string, who: Who) => Record<string, string>; idOf: (sel: Record<string, string>) => string }>> = {
  Machine: { base: `${CIM}CIM_ComputerSystem`, concrete: 'CIMIGW_Machine', keyOf: (id) => ({ CreationClassName: 'CIM_ComputerSystem', Name: id }), idOf: (s) => s.Name },
  Volume: {
    base: `${CIM}CIM_LogicalDisk`,
    concrete: 'CIMIGW_Volume',
    keyOf: (id, who) => ({ SystemCreationClassName: 'CIMIGW_Tenant', SystemName: who.tenant, CreationClassName: 'CIMIGW_Volume', DeviceID: id }),
    idOf: (s) => s.DeviceID,
  },
  Network: { base: `${CIM}CIM_IPConnectivitySubnet`, concrete: 'CIMIGW_Network', keyOf: (id) => ({ InstanceID: `CIMIGW:${id}` }), idOf: (s) => s.InstanceID?.replace(/^CIMIGW:/, '') },
  Job: { base: `${CIM}CIM_ConcreteJob`, concrete: 'CIM_ConcreteJob', keyOf: (id) => ({ InstanceID: `CIMIGW:${id}` }), idOf: (s) => s.InstanceID?.replace(/^CIMIGW:/, '') },
};

const WS_SUBCODE_KIND: Record<string, string> = {
  DestinationUnreachable: 'not-found',
  InvalidRepresentation: 'invalid-input',
  InvalidParameter: 'invalid-input',
  CannotProcessFilter: 'invalid-input',
  Concurrency: 'invalid-state',
  AccessDenied: 'forbidden',
  AlreadyExists: 'already-exists',
};

function els(el: Element | undefined, ns: string, local: string): Element[] {
  return el ? Array.from(el.getElementsByTagNameNS(ns, local) as unknown as ArrayLike<Element>) : [];
}
function selectorsIn(el: Element | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of els(el, WS.wsman, 'Selector')) out[s.getAttribute('Name')!] = (s.textContent ?? '').trim();
  return out;
}

export async function wsman(w: World, who: Who, action: string, resourceUri: string, body = '', selectors: Record<string, string> = {}, extraHeaders = ''): Promise<Outcome & { doc?: Element }> {
  const sel = Object.entries(selectors);
  const xml =
    `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${WS.s}" xmlns:wsa="${WS.wsa}" xmlns:wsman="${WS.wsman}" xmlns:wsen="${WS.wsen}" xmlns:wsmb="${WS.wsmb}"><s:Header>` +
    `<wsa:To s:mustUnderstand="true">${w.base}/wsman</wsa:To><wsman:ResourceURI s:mustUnderstand="true">${resourceUri}</wsman:ResourceURI>` +
    `<wsa:ReplyTo><wsa:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></wsa:ReplyTo>` +
    `<wsa:Action s:mustUnderstand="true">${action}</wsa:Action><wsman:MaxEnvelopeSize s:mustUnderstand="true">512000</wsman:MaxEnvelopeSize><wsa:MessageID>uuid:${randomUUID()}</wsa:MessageID>` +
    (sel.length ? `<wsman:SelectorSet>${sel.map(([k, v]) => `<wsman:Selector Name="${k}">${esc(v)}</wsman:Selector>`).join('')}</wsman:SelectorSet>` : '') +
    `<wsman:OperationTimeout>PT60.000S</wsman:OperationTimeout>${extraHeaders}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
  const r = await fetch(`${w.base}/wsman`, { method: 'POST', headers: headers(w, who, { 'Content-Type': 'application/soap+xml;charset=UTF-8' }), body: xml });
  const text = await r.text();
  if (r.status === 401) return { status: 401, ok: false, kind: 'unauthenticated', text };
  const doc = text.trim().startsWith('<') ? (new DOMParser().parseFromString(text, 'application/xml').documentElement as unknown as Element) : undefined;
  const fault = els(doc, WS.s, 'Fault')[0];
  if (fault) {
    const sub = (els(els(fault, WS.s, 'Subcode')[0], WS.s, 'Value')[0]?.textContent ?? '').trim().split(':').pop()!;
    const code = els(fault, WS.msf, 'WSManFault')[0]?.getAttribute('Code') ?? undefined;
    return { status: r.status, ok: false, kind: WS_SUBCODE_KIND[sub] ?? sub, code, text, doc };
  }
  return { status: r.status, ok: r.status === 200, text, doc };
}

const RSC_STATE: Record<string, string> = { start: '2', stop: '4', restart: '10', pause: '9', suspend: '6' };
const wsDrivers: Record<string, Driver> = {};

async function enumerateAll(w: World, who: Who, uri: string, filter = ''): Promise<Outcome & { items: Element[] }> {
  const first = await wsman(w, who, `${WS.wsen}/Enumerate`, uri, `<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>500</wsman:MaxElements>${filter}</wsen:Enumerate>`);
  if (!first.ok) return { ...first, items: [] };
  const items: Element[] = [];
  let r = first;
  for (let i = 0; i < 50; i++) {
    const resp = els(r.doc, WS.wsen, i === 0 ? 'EnumerateResponse' : 'PullResponse')[0];
    const itemsEl = els(resp, WS.wsman, 'Items')[0] ?? els(resp, WS.wsen, 'Items')[0];
    for (let c = itemsEl?.firstChild; c; c = c.nextSibling) if (c.nodeType === 1) items.push(c as Element);
    const end = els(resp, WS.wsman, 'EndOfSequence').length + els(resp, WS.wsen, 'EndOfSequence').length > 0;
    const ctx = els(resp, WS.wsen, 'EnumerationContext')[0]?.textContent?.trim();
    if (end || !ctx) break;
    r = await wsman(w, who, `${WS.wsen}/Pull`, uri, `<wsen:Pull><wsen:EnumerationContext>${ctx}</wsen:EnumerationContext><wsen:MaxElements>500</wsen:MaxElements></wsen:Pull>`);
    if (!r.ok) return { ...r, items };
  }
  return { ...first, items };
}

/** the model id an instance element shows (Name / DeviceID / InstanceID) */
function instanceId(el: Element): string | undefined {
  for (let c = el.firstChild; c; c = c.nextSibling) {
    const e = c as Element;
    if (c.nodeType !== 1) continue;
    if (['Name', 'DeviceID'].includes(e.localName!) && el.localName !== 'CIMIGW_Network') return (e.textContent ?? '').trim();
    // CIMIGW:<id>, and the log classes' CIMIGW:log:<id>, CIMIGW:event:<id>, CIMIGW:audit:<id> (the audit log: CIMIGW:audit)
    if (e.localName === 'InstanceID') return (e.textContent ?? '').trim().replace(/^CIMIGW:(log:|event:|audit:)?/, '');
  }
  return undefined;
}

for (const t of ['Machine', 'Volume', 'Network', 'Job']) {
  const cls = WS_CLASS[t]!;
  const concreteUri = t === 'Job' ? cls.base : `${VENDOR}${cls.concrete}`;
  wsDrivers[`${t}.read`] = async (w, who, a) => {
    const r = await wsman(w, who, `${WS.wxf}/Get`, cls.base, '', cls.keyOf(a.id!, who));
    const body = els(r.doc, WS.s, 'Body')[0];
    const inst = body && (Array.from(body.childNodes as unknown as ArrayLike<Element>).find((n) => n.nodeType === 1) as Element | undefined);
    return { ...r, id: r.ok && inst ? instanceId(inst) : undefined };
  };
  wsDrivers[`${t}.query`] = async (w, who, a) => {
    const wql = a.filterName ? `<wsman:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">select * from ${cls.concrete} where ElementName = '${esc(a.filterName)}'</wsman:Filter>` : '';
    const r = await enumerateAll(w, who, concreteUri, t === 'Job' ? '' : wql);
    return { ...r, ids: r.ok ? r.items.map(instanceId).filter((x): x is string => !!x) : undefined };
  };
  wsDrivers[`${t}.delete`] = async (w, who, a) => wsman(w, who, `${WS.wxf}/Delete`, cls.base, '', cls.keyOf(a.id!, who));
  if (t === 'Job') continue;
  const localBase = cls.base.slice(CIM.length);
  wsDrivers[`${t}.update`] = (w, who, a) =>
    wsman(w, who, `${WS.wxf}/Put`, cls.base, `<p:${localBase} xmlns:p="${cls.base}">${a.bad ? '<p:NoSuchProperty>1</p:NoSuchProperty>' : `<p:Description>${a.description ?? 'updated'}</p:Description>`}</p:${localBase}>`, cls.keyOf(a.id!, who));
  wsDrivers[`${t}.create`] = async (w, who, a) => {
    const ns = `${VENDOR}${cls.concrete}`;
    const p = (n: string, v: string) => `<p:${n}>${esc(v)}</p:${n}>`;
    const tplProp = { Machine: 'MachineTemplate', Volume: 'VolumeTemplate', Network: 'NetworkTemplate' }[t]!;
    const inner = p('ElementName', a.name ?? `p-${t}`) + p('Description', 'd') + p(tplProp, ref(a, tplProp));
    const r = await wsman(w, who, `${WS.wxf}/Create`, cls.base, `<p:${cls.concrete} xmlns:p="${ns}">${inner}</p:${cls.concrete}>`);
    return { ...r, id: r.ok ? cls.idOf(selectorsIn(els(r.doc, WS.wxf, 'ResourceCreated')[0])) : undefined };
  };
}
for (const [action, state] of Object.entries(RSC_STATE)) {
  wsDrivers[`Machine.${action}`] = async (w, who, a) => {
    const forced = /\((\d+)\)/.exec(a.form ?? '')?.[1] ?? state;
    const r = await wsman(w, who, `${CIM}CIM_ComputerSystem/RequestStateChange`, `${CIM}CIM_ComputerSystem`, `<p:RequestStateChange_INPUT xmlns:p="${CIM}CIM_ComputerSystem"><p:RequestedState>${forced}</p:RequestedState></p:RequestStateChange_INPUT>`, WS_CLASS.Machine!.keyOf(a.id!, who));
    if (!r.ok) return r;
    const rv = els(r.doc, `${CIM}CIM_ComputerSystem`, 'ReturnValue')[0]?.textContent?.trim();
    const job = selectorsIn(els(r.doc, `${CIM}CIM_ComputerSystem`, 'Job')[0]).InstanceID?.replace(/^CIMIGW:/, '');
    if (rv === '4097') return { ...r, ok: false, kind: 'invalid-state', code: rv };
    return { ...r, id: a.id, job, code: rv };
  };
}
/** an association filter (DSP0227 §8.2) on the EPR of a Machine, Volume or Network (its base class and keys) */
const assocEnum = (kind: 'AssociatedInstances' | 'AssociationInstances', who: Who, model: 'Machine' | 'Volume' | 'Network', id: string, more = '') =>
  `<wsman:Filter Dialect="${ASSOC_DIALECT}"><wsmb:${kind}><wsmb:Object><wsa:ReferenceParameters><wsman:ResourceURI>${WS_CLASS[model]!.base}</wsman:ResourceURI><wsman:SelectorSet>${Object.entries(WS_CLASS[model]!.keyOf(id, who))
    .map(([k, v]) => `<wsman:Selector Name="${k}">${esc(v)}</wsman:Selector>`)
    .join('')}</wsman:SelectorSet></wsa:ReferenceParameters></wsmb:Object>${more}</wsmb:${kind}></wsman:Filter>`;
const ASSOC_OBJECT: Record<string, 'Machine' | 'Volume' | 'Network'> = { CIM_ComputerSystem: 'Machine', CIM_LogicalDisk: 'Volume', CIM_IPConnectivitySubnet: 'Network' };
wsDrivers['Association.query'] = async (w, who, a) => {
  const model = ASSOC_OBJECT[(a.form ?? 'CIM_ComputerSystem').split(' ').pop()!];
  const r = await enumerateAll(w, who, 'http://schemas.dmtf.org/wbem/wscim/1/*', assocEnum('AssociatedInstances', who, model, a.id!));
  return { ...r, ids: r.ok ? r.items.map(instanceId).filter((x): x is string => !!x) : undefined };
};
for (const [t, cls] of [['MachineVolume', 'CIM_SystemDevice'], ['MachineNetworkInterface', 'CIM_MemberOfCollection']] as const) {
  wsDrivers[`${t}.query`] = async (w, who, a) => {
    const r = await enumerateAll(w, who, 'http://schemas.dmtf.org/wbem/wscim/1/*', assocEnum('AssociationInstances', who, 'Machine', a.parent!, `<wsmb:ResultClassName>${cls}</wsmb:ResultClassName>`));
    // an association instance names its other end (PartComponent = the Volume, Collection = the Network): report those ids
    const ends = r.items.map((i) => {
      const other = els(i, i.namespaceURI!, t === 'MachineVolume' ? 'PartComponent' : 'Collection')[0];
      const s = selectorsIn(other);
      return s.DeviceID ?? s.InstanceID?.replace(/^CIMIGW:/, '');
    });
    return { ...r, ids: r.ok ? ends.filter((x): x is string => !!x) : undefined };
  };
}
/** the DSP1010 log classes (wsman/classes.json): vendor class URI and the InstanceID prefix of an id */
const LOG_CLASS: Record<string, { uri: string; prefix: string }> = {
  EventLog: { uri: `${VENDOR}CIMIGW_EventLog`, prefix: 'CIMIGW:log:' },
  Event: { uri: `${VENDOR}CIMIGW_Event`, prefix: 'CIMIGW:event:' },
  AuditLog: { uri: `${VENDOR}CIMIGW_AuditLog`, prefix: 'CIMIGW:' },
  AuditEvent: { uri: `${VENDOR}CIMIGW_AuditRecord`, prefix: 'CIMIGW:audit:' },
};
const getLog = async (w: World, who: Who, model: string, id: string): Promise<Outcome> => {
  const c = LOG_CLASS[model];
  const r = await wsman(w, who, `${WS.wxf}/Get`, c.uri, '', { InstanceID: `${c.prefix}${id}` });
  const inst = els(r.doc, c.uri, c.uri.split('/').pop()!)[0];
  return { ...r, id: r.ok && inst ? instanceId(inst) : undefined };
};
const enumerateLog = async (w: World, who: Who, model: string, where?: string): Promise<Outcome> => {
  const c = LOG_CLASS[model];
  const wql = where ? `<wsman:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">select * from ${c.uri.split('/').pop()} where ${esc(where)}</wsman:Filter>` : '';
  const r = await enumerateAll(w, who, c.uri, wql);
  return { ...r, ids: r.ok ? r.items.map(instanceId).filter((x): x is string => !!x) : undefined };
};
/** a CIMI `$filter` of the parity tests (`attr='value'`) as the audit record's WQL */
const AUDIT_PROPERTY: Record<string, string> = { action: 'Action', outcome: 'Outcome', target: 'Target', protocol: 'Protocol', initiator: 'InitiatorName' };
wsDrivers['EventLog.read'] = (w, who, a) => getLog(w, who, 'EventLog', a.id!);
wsDrivers['EventLog.query'] = (w, who) => enumerateLog(w, who, 'EventLog');
wsDrivers['Event.query'] = (w, who, a) => enumerateLog(w, who, 'Event', `LogInstanceID = 'CIMIGW:log:${a.id}'`);
wsDrivers['Event.read'] = (w, who, a) => getLog(w, who, 'Event', a.id!);
wsDrivers['AuditLog.read'] = async (w, who) => {
  const list = await enumerateLog(w, who, 'AuditLog');
  if (!list.ok) return list;
  return { ...(await getLog(w, who, 'AuditLog', 'audit')), ids: list.ids };
};
wsDrivers['AuditEvent.query'] = (w, who, a) => {
  const m = a.extra ? /^(\w+)='([^']*)'$/.exec(a.extra) : null;
  if (a.extra && !(m && AUDIT_PROPERTY[m[1]])) throw new Error(`no WQL form for the audit filter ${a.extra}`);
  return enumerateLog(w, who, 'AuditEvent', m ? `${AUDIT_PROPERTY[m[1]]} = '${m[2]}'` : undefined);
};
wsDrivers['AuditEvent.read'] = (w, who, a) => getLog(w, who, 'AuditEvent', a.id!);
wsDrivers['Enumeration.open'] = async (w, who) => {
  const r = await wsman(w, who, `${WS.wsen}/Enumerate`, `${CIM}CIM_ManagedElement`, '<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>1</wsman:MaxElements></wsen:Enumerate>');
  return { ...r, id: els(r.doc, WS.wsen, 'EnumerationContext')[0]?.textContent?.trim() };
};
wsDrivers['Enumeration.advance'] = async (w, who, a) => {
  const r = await wsman(w, who, `${WS.wsen}/Pull`, `${CIM}CIM_ManagedElement`, `<wsen:Pull><wsen:EnumerationContext>${a.id}</wsen:EnumerationContext><wsen:MaxElements>1</wsen:MaxElements></wsen:Pull>`);
  const items = els(els(r.doc, WS.wsen, 'Items')[0], '*', '*');
  return { ...r, id: els(r.doc, WS.wsen, 'EnumerationContext')[0]?.textContent?.trim(), ids: items.map(instanceId).filter((x): x is string => !!x) };
};
wsDrivers['Enumeration.release'] = (w, who, a) => wsman(w, who, `${WS.wsen}/Release`, `${CIM}CIM_ManagedElement`, `<wsen:Release><wsen:EnumerationContext>${a.id}</wsen:EnumerationContext></wsen:Release>`);
wsDrivers['Session.authenticate'] = async (w, who) => {
  const r = await wsman(w, who, `${WS.wsen}/Enumerate`, `${CIM}CIM_ConcreteJob`, '<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>1</wsman:MaxElements></wsen:Enumerate>');
  return r;
};

/** a property's text in an instance element */
const propOf = (el: Element | undefined, name: string) => (el ? Array.from(el.childNodes as unknown as ArrayLike<Element>).find((c) => c.nodeType === 1 && c.localName === name)?.textContent?.trim() : undefined);
const METER_URI = `${VENDOR}CIMIGW_Meter`;
const SAMPLE_URI = `${VENDOR}CIMIGW_MeterSample`;
wsDrivers['Meter.read'] = async (w, who, a) => {
  const r = await wsman(w, who, `${WS.wxf}/Get`, METER_URI, '', { Id: `CIMIGW:meter:${a.id}` });
  return { ...r, id: r.ok ? propOf(els(r.doc, METER_URI, 'CIMIGW_Meter')[0], 'Id')?.replace('CIMIGW:meter:', '') : undefined };
};
wsDrivers['Meter.query'] = async (w, who) => {
  const r = await enumerateAll(w, who, METER_URI);
  return { ...r, ids: r.ok ? r.items.map((i) => propOf(i, 'Id')!.replace('CIMIGW:meter:', '')) : undefined };
};
for (const [action, state] of [['start', 2], ['stop', 3]] as const) {
  wsDrivers[`Meter.${action}`] = async (w, who, a) => {
    const r = await wsman(w, who, `${METER_URI}/RequestStateChange`, METER_URI, `<p:RequestStateChange_INPUT xmlns:p="${METER_URI}"><p:RequestedState>${state}</p:RequestedState></p:RequestStateChange_INPUT>`, { Id: `CIMIGW:meter:${a.id}` });
    if (!r.ok) return r;
    const rv = els(r.doc, METER_URI, 'ReturnValue')[0]?.textContent?.trim();
    if (rv === '4097') return { ...r, ok: false, kind: 'invalid-state', code: rv };
    return { ...r, id: a.id, code: rv };
  };
}
// DSP0226 7.4 / 7.6 on CIMIGW_Meter: a Create naming the MeterTemplate (Meter.create), a Delete (Meter.delete)
wsDrivers['Meter.create'] = async (w, who, a) => {
  const body = `<p:CIMIGW_Meter xmlns:p="${METER_URI}"><p:ElementName>${esc(a.name ?? 'p-Meter')}</p:ElementName><p:MeterTemplate>${ref(a, 'MeterTemplate')}</p:MeterTemplate></p:CIMIGW_Meter>`;
  const r = await wsman(w, who, `${WS.wxf}/Create`, METER_URI, body);
  return { ...r, id: r.ok ? selectorsIn(els(r.doc, WS.wxf, 'ResourceCreated')[0]).Id?.replace('CIMIGW:meter:', '') : undefined };
};
wsDrivers['Meter.delete'] = (w, who, a) => wsman(w, who, `${WS.wxf}/Delete`, METER_URI, '', { Id: `CIMIGW:meter:${a.id}` });
/** the samples of meter `id` (`extra`: IntervalSeconds); form `Get CIMIGW_MeterSample` reads the first one again */
wsDrivers['MeterSample.query'] = async (w, who, a) => {
  const where = `MetricDefinitionId = 'CIMIGW:meter:${a.id}'${a.extra ? ` AND IntervalSeconds = ${a.extra}` : ''}`;
  const r = await enumerateAll(w, who, SAMPLE_URI, `<wsman:Filter Dialect="http://schemas.microsoft.com/wbem/wsman/1/WQL">select * from CIMIGW_MeterSample where ${esc(where)}</wsman:Filter>`);
  const ids = r.items.map((i) => propOf(i, 'InstanceId')!);
  if (!r.ok || !a.form?.startsWith('Get') || !ids.length) return { ...r, ids: r.ok ? ids : undefined };
  const g = await wsman(w, who, `${WS.wxf}/Get`, SAMPLE_URI, '', { InstanceId: ids[0] });
  const got = propOf(els(g.doc, SAMPLE_URI, 'CIMIGW_MeterSample')[0], 'InstanceId');
  return { ...g, id: got, ids: g.ok && got ? [got] : undefined };
};
// OVF (issue 17): a one-VirtualSystem descriptor to import; exports of the resource a.id names
const PARITY_OVF = `<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"><References/><VirtualSystem ovf:id="parity"><Info>x</Info><VirtualHardwareSection><Info>x</Info><Item><rasd:ElementName>cpu</rasd:ElementName><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item><Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:ElementName>mem</rasd:ElementName><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item></VirtualHardwareSection></VirtualSystem></Envelope>`;
const ovfSource = (a: Args) => `data:application/ovf+xml;base64,${Buffer.from(a.bad ? 'not xml' : PARITY_OVF).toString('base64')}`;
restDrivers['SystemTemplate.import'] = (w, who, a) => rest(w, who, 'POST', '/systemTemplates/import', { resourceURI: `${CIMI}/Action`, action: `${CIMI}/action/import`, source: ovfSource(a) });
soapDrivers['SystemTemplate.import'] = (w, who, a) => soap(w, who, 'ImportSystemTemplate', `<t:source>${ovfSource(a)}</t:source>`);
restDrivers['System.import'] = (w, who, a) => rest(w, who, 'POST', '/systems/import', { resourceURI: `${CIMI}/Action`, action: `${CIMI}/action/import`, source: ovfSource(a) });
soapDrivers['System.import'] = (w, who, a) => soap(w, who, 'ImportSystem', `<t:source>${ovfSource(a)}</t:source>`);
for (const t of ['System', 'SystemTemplate'] as const) {
  restDrivers[`${t}.export`] = async (w, who, a) => {
    const posted = await rest(w, who, 'POST', `/${seg(t)}/${a.id}/export`, { resourceURI: `${CIMI}/Action`, action: `${CIMI}/action/export` });
    if (!posted.ok || a.form !== `get${t}Export`) return posted;
    return rest(w, who, 'GET', `/${seg(t)}/${a.id}/export.ovf`);
  };
  soapDrivers[`${t}.export`] = (w, who, a) => soap(w, who, `Export${t}`, `<t:id>${a.id}</t:id>`);
}

/** WS-Eventing (DSP0226 10) on CIMIGW_Event: `a.id` is the subscription id, `a.extra` the NotifyTo address or an expiry */
const WSE = 'http://schemas.xmlsoap.org/ws/2004/08/eventing';
const EVENT_URI = `${VENDOR}CIMIGW_Event`;
const subscriptionOf = (r: Outcome & { doc?: Element }) => els(els(r.doc, WSE, 'SubscriptionManager')[0], WSE, 'Identifier')[0]?.textContent?.trim().replace(/^uuid:/, '');
const managed = (w: World, who: Who, action: string, id: string, body = '') => wsman(w, who, `${WSE}/${action}`, EVENT_URI, body, {}, `<wse:Identifier xmlns:wse="${WSE}">uuid:${id}</wse:Identifier>`);
wsDrivers['Subscription.create'] = async (w, who, a) => {
  const body = `<wse:Subscribe xmlns:wse="${WSE}"><wse:Delivery Mode="${WSE}/DeliveryModes/Push"><wse:NotifyTo><wsa:Address>${esc(a.extra ?? 'http://127.0.0.1:9/events')}</wsa:Address></wse:NotifyTo></wse:Delivery><wse:Expires>PT600S</wse:Expires></wse:Subscribe>`;
  const r = await wsman(w, who, `${WSE}/Subscribe`, EVENT_URI, body);
  return { ...r, id: r.ok ? subscriptionOf(r) : undefined };
};
wsDrivers['Subscription.renew'] = async (w, who, a) => {
  const r = await managed(w, who, 'Renew', a.id!, `<wse:Renew xmlns:wse="${WSE}"><wse:Expires>${a.extra ?? 'PT1200S'}</wse:Expires></wse:Renew>`);
  return { ...r, id: a.id };
};
wsDrivers['Subscription.status'] = async (w, who, a) => {
  const r = await managed(w, who, 'GetStatus', a.id!);
  return { ...r, id: r.ok ? a.id : undefined };
};
wsDrivers['Subscription.delete'] = (w, who, a) => managed(w, who, 'Unsubscribe', a.id!);
/** `a.id`: a pull subscription's id; its context is `subscription:` + the id (DSP0226 10.2.9) */
wsDrivers['Subscription.pull'] = async (w, who, a) => {
  const r = await wsman(w, who, `${WS.wsen}/Pull`, EVENT_URI, `<wsen:Pull xmlns:wsen="${WS.wsen}"><wsen:EnumerationContext>subscription:${a.id}</wsen:EnumerationContext><wsen:MaxElements>5</wsen:MaxElements></wsen:Pull>`);
  return { ...r, id: r.ok ? a.id : undefined };
};

export const DRIVERS: Record<Door, Readonly<Record<string, Driver>>> = { rest: restDrivers, soap: soapDrivers, wsman: wsDrivers };
