import type { Element } from '@xmldom/xmldom';
import { isValidId } from '../../../model/shared/ids';
import type { Ref, ResourceType } from '../../../model/shared/resource';
import type { OperationOutcome } from '../../../model/shared/resource.service';
import type { Slot } from '../../../model/template/template-resolution';
import { childElements, textOf } from '../../xml/xml-hardening';
import type { CimClass, CimProperty } from '../cim-catalogue';
import { keySelectors, resolveSelectors, toInstance, type CimInstance, type CimValue, type KeyIdentity, isCimRef } from '../cim-instances';
import { sourceOf, type CimSource } from '../model-sources';
import { renderEprContent, renderInstance } from '../cim-render';
import { requireClass, type WsmanCall, type WsmanReply } from '../wsman-dispatcher';
import { WsmanFault } from '../wsman-fault';
import { NS } from '../wsman-ns';

/** Loads the instance the request's ResourceURI and SelectorSet name (DSP0226 7.x: Get/Put/Delete/Invoke addressing). */
export async function addressedInstance(call: WsmanCall, opts: { allowAssociation?: boolean; write?: boolean } = {}): Promise<CimInstance> {
  const requested = requireClass(call)!;
  if (requested.association && !opts.allowAssociation) {
    throw new WsmanFault('UnsupportedFeature', `${requested.name} instances are reached through association filters, not by selectors`, { detail: 'AddressingMode' });
  }
  const { cls, id } = resolveSelectors(call.catalogue, requested, call.req.selectors, call.ctx.tenantId);
  if (call.ctx.audit) call.ctx.audit.target = { type: sourceOf(String(cls.model)).cimiType, id };
  // a Put or Delete of a read-only class is refused whatever the instance (DSP0226 7.5, 7.6)
  if (opts.write) refuseReadOnly(call, cls);
  return toInstance(call.catalogue, cls, await loadModel(call, cls, id));
}

/** The model object behind an instance of concrete class `cls`, read through the model services. */
export function loadModel(call: WsmanCall, cls: CimClass, id: string): Promise<CimSource> {
  return sourceOf(String(cls.model)).get(call, id);
}

/** Put and Delete of a read-only class (logs and their records): the class offers no such action (DSP0226 7.5, 7.6) */
function refuseReadOnly(call: WsmanCall, cls: CimClass): void {
  if (cls.readOnly) throw new WsmanFault('ActionNotSupported', `${cls.name} instances are read-only records`, { detailXml: `<wsa:Action>${call.req.action}</wsa:Action>` });
}

/** wxf:Get (DSP0226 7.3): the instance, as its concrete class. */
export async function get(call: WsmanCall): Promise<WsmanReply> {
  const inst = await addressedInstance(call);
  return { body: renderInstance(inst) };
}

/** the instance element of a Put/Create body: named after a class of `cls`'s lineage, in that class's namespace */
function instanceElement(call: WsmanCall, cls: CimClass, accept: CimClass[]): Element {
  const el = call.req.payload;
  if (!el) throw new WsmanFault('InvalidRepresentation', `the Body must carry a ${cls.name} instance`, { detail: 'MissingValues' });
  const ok = accept.some((c) => el.namespaceURI === c.uri && el.localName === c.name);
  if (!ok) throw new WsmanFault('InvalidRepresentation', `expected a ${cls.name} element in ${cls.uri}`, { detail: 'InvalidNamespace' });
  return el;
}

/** property elements of an instance element, grouped by property name; foreign or unknown ones are faults */
function propertiesOf(el: Element, cls: CimClass): Map<CimProperty, Element[]> {
  const out = new Map<CimProperty, Element[]>();
  for (const c of childElements(el)) {
    if (c.namespaceURI !== el.namespaceURI) throw new WsmanFault('InvalidRepresentation', `${c.localName} is not in the class namespace`, { detail: 'InvalidNamespace' });
    const p = cls.properties.find((x) => x.name === c.localName);
    if (!p) throw new WsmanFault('InvalidRepresentation', `${cls.name} has no property ${c.localName}`, { detail: 'InvalidValues' });
    if (!p.array && out.has(p)) throw new WsmanFault('InvalidRepresentation', `${p.name} is not an array but appears twice`, { detail: 'InvalidValues' });
    out.set(p, [...(out.get(p) ?? []), c]);
  }
  return out;
}

const isNil = (e: Element) => ['true', '1'].includes(e.getAttributeNS(NS.xsi, 'nil') ?? '');

/**
 * the text a client sends for a value (dates inside cim:Datetime, references compared by their selectors); NULL is
 * xsi:nil="true" (DSP0230 §7.2). wsmancli's `put -k P=v` on a NULL property writes v into the element it got and
 * keeps the xsi:nil: content there wins over the nil (XML Schema Part 1 §2.6.2 forbids both; the value is what the
 * client asked for, and ignoring it would answer success for a change never made)
 */
function valueText(e: Element): string | undefined {
  const dt = childElements(e, NS.cim)[0];
  const text = (dt ? textOf(dt) : textOf(e)).trim();
  return isNil(e) && text === '' ? undefined : text;
}

/** does the client's value equal the current one (read-only properties may be echoed, not changed) */
function sameValue(p: CimProperty, els: Element[], current: CimValue | undefined): boolean {
  const cur = current === undefined || current === null ? [] : Array.isArray(current) ? current : [current];
  const given = els.map(valueText).filter((v): v is string => v !== undefined);
  if (cur.length !== given.length) return false;
  return cur.every((c, i) => {
    const g = given[i];
    if (isCimRef(c)) return true; // references are keys or read-only links; their EPR text is not compared
    if (c instanceof Date) return Date.parse(g) === c.getTime();
    if (typeof c === 'boolean') return (g === 'true' || g === '1') === c;
    if (typeof c === 'number') return Number(g) === c;
    return g === String(c);
  });
}

/**
 * wxf:Put (DSP0226 7.5): the whole instance, as wsmancli's Get-modify-Put sends it (docs/wsman.md §7.11).
 * Writable properties (catalogue `write`) are applied through ResourceService.update; read-only properties may be
 * echoed unchanged and are ignored, a changed one is wxf:InvalidRepresentation (InvalidValues); a writable
 * property left out keeps its value. A copy read before the last state change is wsman:Concurrency. Answers the
 * updated instance.
 */
export async function put(call: WsmanCall): Promise<WsmanReply> {
  const inst = await addressedInstance(call, { write: true });
  const el = instanceElement(call, inst.cls, inst.cls.lineage);
  const props = propertiesOf(el, inst.cls);
  // the echoed TimeOfLastStateChange dates the copy a Get-modify-Put started from: another value than the current
  // one means the instance changed since it was read, an optimistic-concurrency conflict (DSP0226 7.5, Annex B
  // wsman:Concurrency), not a client changing read-only values; nothing is written
  for (const [p, els] of props) {
    if (p.source === 'stateChanged' && !sameValue(p, els, inst.values.get(p.name))) {
      throw new WsmanFault('Concurrency', `${inst.cls.name} ${inst.source.id} changed state since it was read (${p.name}): Get it again`);
    }
  }
  const input: { name?: string; description?: string } = {};
  for (const [p, els] of props) {
    if (p.createOnly) throw new WsmanFault('InvalidRepresentation', `${p.name} can only be given at Create`, { detail: 'InvalidValues' });
    if (p.write === 'name' || p.write === 'description') {
      const v = valueText(els[0]);
      input[p.write] = v === undefined || v === '' ? undefined : v;
      continue;
    }
    // a CreationClassName may name the concrete class or a superclass, as in selectors (capture 04 Puts CIM_ComputerSystem)
    if (p.source === 'class' && inst.cls.lineage.some((c) => c.name.toLowerCase() === (valueText(els[0]) ?? '').toLowerCase())) continue;
    if (!sameValue(p, els, inst.values.get(p.name))) throw new WsmanFault('InvalidRepresentation', `${p.name} is read-only`, { detail: 'InvalidValues' });
  }
  if (inst.cls.model === 'Job') {
    if (Object.keys(input).length) throw new WsmanFault('InvalidRepresentation', 'CIM_ConcreteJob has no writable properties', { detail: 'InvalidValues' });
    return { body: renderInstance(inst) };
  }
  const out = await call.services.model.update(call.ctx, inst.cls.model as ResourceType, inst.source.id, input);
  return { body: renderInstance(toInstance(call.catalogue, inst.cls, out.resource!)) };
}

const ref = (type: ResourceType, id: string | undefined): { ref: Ref } | undefined => (id ? { ref: { type, id } } : undefined);

/** the create-input fields of a Create body, by catalogue `create` name (strings; nil = absent) */
function createInput(props: Map<CimProperty, Element[]>): Record<string, string> {
  const input: Record<string, string> = {};
  for (const [p, els] of props) {
    const v = valueText(els[0]);
    if (p.create) {
      if (v !== undefined && v !== '') input[p.create] = v;
      continue;
    }
    // keys are assigned by the service (an existing one is AlreadyExists, checked by the caller); read-only
    // properties in a Create body (a Get output reused as a template) are ignored
  }
  return input;
}

/**
 * The CIM classes instances can be created of: the create-input fields of each to the model type's create input,
 * run as the catalogue's `<Type>.create` (docs/operations.md "Creates").
 */
const CREATORS: Partial<Record<string, (call: WsmanCall, i: Record<string, string>) => Promise<KeyIdentity>>> = {
  Machine: (call, i) => {
    const overrides: Record<string, unknown> = {};
    if (i.machineConfig) overrides.machineConfig = ref('MachineConfiguration', i.machineConfig);
    if (i.machineImage) overrides.machineImage = ref('MachineImage', i.machineImage);
    if (i.credential) overrides.credential = ref('Credential', i.credential);
    if (i.initialState) overrides.initialState = i.initialState;
    const slot: Slot = i.machineTemplate ? { ref: { type: 'MachineTemplate', id: i.machineTemplate }, ...(Object.keys(overrides).length ? { value: overrides } : {}) } : { value: overrides };
    return made(call.services.model.create(call.ctx, 'Machine', { name: i.name, description: i.description, machineTemplate: slot }));
  },
  Volume: (call, i) => {
    const value: Record<string, unknown> = {};
    if (i.volumeConfig) value.volumeConfig = ref('VolumeConfiguration', i.volumeConfig);
    if (i.volumeImage) value.volumeImage = ref('VolumeImage', i.volumeImage);
    const slot: Slot = i.volumeTemplate ? { ref: { type: 'VolumeTemplate', id: i.volumeTemplate }, ...(Object.keys(value).length ? { value } : {}) } : { value };
    return made(call.services.model.create(call.ctx, 'Volume', { name: i.name, description: i.description, volumeTemplate: slot }));
  },
  Network: (call, i) => {
    const value: Record<string, unknown> = {};
    if (i.networkConfig) value.networkConfig = ref('NetworkConfiguration', i.networkConfig);
    else if (i.networkType || i.mtu || i.classOfService) {
      // a configuration by value from the instance's own properties (MTU is a uint32 on the wire)
      const mtu = i.mtu === undefined ? undefined : /^\d{1,9}$/.test(i.mtu) ? Number(i.mtu) : i.mtu;
      value.networkConfig = { value: { networkType: i.networkType, mtu, classOfService: i.classOfService } };
    }
    if (i.initialState) value.initialState = i.initialState;
    const slot: Slot = i.networkTemplate ? { ref: { type: 'NetworkTemplate', id: i.networkTemplate }, ...(Object.keys(value).length ? { value } : {}) } : { value };
    return made(call.services.model.create(call.ctx, 'Network', { name: i.name, description: i.description, networkTemplate: slot }));
  },
  // DSP0263 2.0.0 §5.17.4.1: the MeterTemplate by id, or one by value from MeasuredElement(Type) and a MeterConfiguration id
  Meter: async (call, i) => {
    const value: Record<string, unknown> = {};
    if (i.targetId || i.targetType) value.targetResource = { type: i.targetType ?? 'Machine', id: i.targetId ?? '' };
    if (i.meterConfig) value.meterConfig = ref('MeterConfiguration', i.meterConfig);
    const slot: Slot = i.meterTemplate ? { ref: { type: 'MeterTemplate', id: i.meterTemplate }, ...(Object.keys(value).length ? { value } : {}) } : { value };
    return (await call.services.meters.create(call.ctx, { name: i.name, meterTemplate: slot })).meter;
  },
};

const made = async (o: Promise<OperationOutcome>): Promise<KeyIdentity> => (await o).resource!;

/**
 * wxf:Create (DSP0226 7.4): the body is an instance of the ResourceURI's class or a subclass; its `create`
 * properties become the model create input (MachineService.create, VolumeService.create,
 * NetworkService.createNetwork: the same operations and Jobs as REST). Answers wxf:ResourceCreated with the EPR.
 */
export async function create(call: WsmanCall): Promise<WsmanReply> {
  const requested = requireClass(call)!;
  const concrete = call.catalogue.concreteUnder(requested).find((c) => c.model && CREATORS[c.model]);
  if (!concrete) throw new WsmanFault('ActionNotSupported', `${requested.name} instances cannot be created`, { detailXml: `<wsa:Action>${call.req.action}</wsa:Action>` });
  const el = instanceElement(call, requested, concrete.lineage.filter((c) => c.isA(requested) || requested.isA(c)));
  const cls = call.catalogue.byUri(el.namespaceURI!)!;
  const props = propertiesOf(el, cls);
  // a given key that names an existing instance: AlreadyExists (DSP0226 7.4)
  const idKey = cls.properties.find((p) => p.key && p.source === 'id');
  const given = idKey && props.get(idKey) ? valueText(props.get(idKey)![0]) : undefined;
  if (given && isValidId(given.slice((idKey!.prefix ?? '').length))) {
    const exists = await loadModel(call, concrete, given.slice((idKey!.prefix ?? '').length)).then(
      () => true,
      () => false,
    );
    if (exists) throw new WsmanFault('AlreadyExists', `${concrete.name} ${given} already exists`);
  }
  const r = await CREATORS[concrete.model!]!(call, createInput(props));
  return { body: `<wxf:ResourceCreated>${renderEprContent(concrete, keySelectors(concrete, r))}</wxf:ResourceCreated>` };
}

/**
 * wxf:Delete (DSP0226 7.6): ResourceService.delete (or JobService.delete for finished CIM_ConcreteJobs, MeterService.delete
 * for a CIMIGW_Meter: a read-only record otherwise, no Put); other records are not deleted.
 */
export async function remove(call: WsmanCall): Promise<WsmanReply> {
  if (requireClass(call)?.model === 'Meter') {
    const m = await addressedInstance(call);
    await call.services.meters.delete(call.ctx, m.source.id);
    return { body: '' };
  }
  const inst = await addressedInstance(call, { write: true });
  if (inst.cls.model === 'Job') await call.services.jobs.delete(call.ctx, inst.source.id);
  else await call.services.model.delete(call.ctx, inst.cls.model as ResourceType, inst.source.id);
  return { body: '' };
}
