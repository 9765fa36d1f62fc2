import { InvalidEnumerationContextError } from '../../../model/shared/enumeration.service';
import { isModelError } from '../../../model/shared/model-error';
import type { CollectionQuery, FilterExpr } from '../../../model/shared/query';
import type { CimClass } from '../cim-catalogue';
import { resolveSelectors, toInstance, type CimInstance } from '../cim-instances';
import { renderInstance, renderInstanceEpr, renderItem } from '../cim-render';
import { sourceOf } from '../model-sources';
import { requireClass, type WsmanCall, type WsmanReply } from '../wsman-dispatcher';
import { buildEnvelope, formatDuration } from '../wsman-envelope';
import { WsmanFault } from '../wsman-fault';
import { ACTIONS, ALL_CLASSES_URI } from '../wsman-ns';
import { propertyResolver, selectorFilter } from './cim-query';
import { PULL_CONTEXT_PREFIX, pullNotifications } from '../handlers/eventing';
import { cannotProcessFilter, parseEnumerate, parsePull, parseRelease, type AssociationFilter, type EnumerateRequest, type EnumerationMode } from './enumerate-request';
import { EnvelopeLimitError, listSegment, nextPage, totalCount, type Cursor, type Segment } from './paging';
import { encodeXml, xmlEscape } from '../../xml/xml-hardening';
import { parseWql, toFilterExpr, WqlError, type WqlTranslation } from './wql';

/**
 * WS-Enumeration over WS-Man (DSP0226 §8, DSP0227 §8, docs/wsman.md §2): Enumerate, Pull, Release.
 * The enumeration's description (classes, compiled filters, mode) is stored with its context in the database
 * (EnumerationService) and each Pull re-reads the model from the stored keyset position, so any gateway process
 * on the database serves any Pull and nothing is held in memory between requests.
 */

/** Our limit when the client states no MaxEnvelopeSize (DSP0226 §6.2: the service's own maximum applies). */
export const DEFAULT_MAX_ENVELOPE_SIZE = 512_000;

/** What a context remembers (JSON in the context row). */
interface StoredQuery {
  v: 1;
  mode: EnumerationMode;
  /** class whose view renders each instance (ExcludeSubClassProperties); absent = the instance's own class */
  view?: string;
  source: { kind: 'instances'; segments: { cls: string; filter?: FilterExpr }[] } | { kind: 'association'; object: { cls: string; id: string }; filter: AssociationFilter };
  filterNs?: 'wsman' | 'wsen';
}

/** One item of an enumeration: the instance and its keyset key. */
interface Item {
  key: string;
  inst: CimInstance;
}

function cls(call: WsmanCall, name: string): CimClass {
  const c = call.catalogue.byName(name);
  if (!c) throw new WsmanFault('InternalError', `class ${name} vanished from the catalogue`);
  return c;
}

/** the keyset segment of one concrete class: the model collection in id order, filtered in the database */
function modelSegment(call: WsmanCall, c: CimClass, filter: FilterExpr | undefined): Segment<Item> {
  const source = sourceOf(String(c.model));
  const list = (q: CollectionQuery) => source.list(call, q);
  return {
    keyOf: (i) => i.key,
    // `after: ''` puts every page in id order, the order the keyset continues in (CollectionQuery.after)
    fetch: async (after, limit) => {
      const page = await list({ filter, after: after ?? '', first: 1, last: limit });
      return { items: page.items.map((r) => ({ key: r.id, inst: toInstance(call.catalogue, c, r) })) };
    },
    count: async () => (await list({ filter, first: 1, last: 1 })).count,
  };
}

/** The association results of the filter (DSP0227 §8.2), computed from the model's associations of the Object. */
async function associationItems(call: WsmanCall, objectCls: CimClass, id: string, f: AssociationFilter): Promise<Item[]> {
  const model = objectCls.model;
  if (model !== 'Machine' && model !== 'Volume' && model !== 'Network') return [];
  const assocs = await call.services.associations.of(call.ctx, { type: model, id });
  const out: Item[] = [];
  const lc = (s: string | undefined) => s?.toLowerCase();
  for (const a of assocs) {
    const link = a.links[0];
    const A = call.catalogue.byModel(link.type);
    if (!A || !A.association) continue;
    if (f.associationClassName && !A.isA(f.associationClassName)) continue;
    const refs = A.rendered.filter((p) => p.type === 'reference');
    const objectRole = refs.find((p) => p.refClass && objectCls.isA(p.refClass));
    const resultRole = refs.find((p) => p !== objectRole);
    if (!objectRole || !resultRole) continue;
    if (f.role && lc(f.role) !== lc(objectRole.name)) continue;
    if (f.kind === 'associated') {
      if (f.resultRole && lc(f.resultRole) !== lc(resultRole.name)) continue;
      const far = model === 'Machine' ? a.other : a.machine;
      const farCls = call.catalogue.byModel(far.type);
      if (!farCls || (f.resultClassName && !farCls.isA(f.resultClassName))) continue;
      out.push({ key: `${A.name}/${far.id}`, inst: toInstance(call.catalogue, farCls, far) });
    } else {
      if (f.resultClassName && !A.isA(f.resultClassName)) continue;
      // one association instance per pair of ends: its keys are the two references (DSP0227 §7.x)
      out.push({ key: `${A.name}/${link.id}`, inst: toInstance(call.catalogue, A, link) });
    }
  }
  return out;
}

async function segmentsOf(call: WsmanCall, q: StoredQuery): Promise<Segment<Item>[]> {
  if (q.source.kind === 'instances') return q.source.segments.map((s) => modelSegment(call, cls(call, s.cls), s.filter));
  const items = await associationItems(call, cls(call, q.source.object.cls), q.source.object.id, q.source.filter);
  return [listSegment(items, (i) => i.key)];
}

function render(q: StoredQuery, call: WsmanCall): (i: Item) => string {
  const view = q.view ? cls(call, q.view) : undefined;
  const shown = (i: Item) => (view && i.inst.cls.isA(view) ? view : i.inst.cls);
  const obj = (i: Item) => renderInstance(i.inst, shown(i));
  if (q.mode === 'epr') return (i) => renderInstanceEpr(i.inst);
  if (q.mode === 'objepr') return (i) => renderItem(i.inst, shown(i));
  return obj;
}

/**
 * Plans an Enumerate: the classes to read (polymorphic: every concrete class under the requested one, DSP0227
 * §8.x PolymorphismMode), the filter in model terms per class, or the association to follow.
 */
async function plan(call: WsmanCall, req: EnumerateRequest): Promise<StoredQuery> {
  const allClasses = call.req.resourceUri === ALL_CLASSES_URI;
  const base: Omit<StoredQuery, 'source'> = { v: 1, mode: req.mode, filterNs: req.filterNs };
  const f = req.filter;
  if (f?.dialect === 'association') {
    // DSP0227 §8.2: association filters go to the all-classes URI; a class URI is accepted as well (wsl)
    if (!allClasses) requireClass(call);
    const objectBase = call.catalogue.byUri(f.association.object.resourceUri ?? '');
    if (!objectBase) throw new WsmanFault('DestinationUnreachable', `no resource class at ${(f.association.object.resourceUri ?? '').slice(0, 200)}`, { detail: 'InvalidResourceURI' });
    const { cls: objectCls, id } = resolveSelectors(call.catalogue, objectBase, f.association.object.selectors, call.ctx.tenantId);
    return { ...base, source: { kind: 'association', object: { cls: objectCls.name, id }, filter: f.association } };
  }
  let target: CimClass | undefined = allClasses ? undefined : requireClass(call);
  let translate: (c: CimClass) => WqlTranslation = () => ({ match: 'all' });
  if (f?.dialect === 'query') {
    const q = parseWql(f.text);
    const from = call.catalogue.byName(q.from);
    if (!from) throw cannotProcessFilter(req.filterNs, `no class ${q.from.slice(0, 100)} is exposed here`);
    // FROM may narrow the ResourceURI's class to a subclass, or name one of its superclasses (DSP0227 §8.x)
    if (!target || from.isA(target)) target = from;
    else if (!target.isA(from)) throw cannotProcessFilter(req.filterNs, `${from.name} is not related to ${target.name}`);
    translate = (c) => {
      try {
        return toFilterExpr(q, propertyResolver(c, call.ctx.tenantId));
      } catch (e) {
        // a base-class query runs against each concrete class under it: say which one cannot take it
        if (e instanceof WqlError) throw new WqlError(`${c.name}: ${e.message}`);
        throw e;
      }
    };
  } else if (f?.dialect === 'selector') {
    if (!target) throw cannotProcessFilter(req.filterNs, 'a selector filter needs a class ResourceURI, not the all-classes URI');
    // the keys are the requested class's, inherited by every concrete class under it
    translate = (c) => selectorFilter(c, call.ctx.tenantId, f.selectors);
  }
  if (!target) throw new WsmanFault('UnsupportedFeature', 'enumerating every class needs a WQL/CQL or association filter', { detail: 'FilteringRequired' });
  if (target.association) {
    throw new WsmanFault('UnsupportedFeature', `${target.name} instances are enumerated through an association filter`, { detail: 'FilteringRequired' });
  }
  // a class that is not polymorphic (the audit trail) is enumerated only when its own URI is asked
  const concrete = (req.polymorphism === 'none' ? [target] : call.catalogue.concreteUnder(target)).filter((c) => c.model && !c.association && (c.polymorphic || c === target));
  const segments: { cls: string; filter?: FilterExpr }[] = [];
  for (const c of concrete) {
    const t = translate(c);
    if (t.match === 'none') continue;
    segments.push({ cls: c.name, filter: t.match === 'filter' ? t.filter : undefined });
  }
  return { ...base, view: req.polymorphism === 'exclude' ? target.name : undefined, source: { kind: 'instances', segments } };
}

/**
 * The faults only enumeration raises, from the errors of its parts: filter errors (bad text, unknown property, a
 * value the database cannot compare) are CannotProcessFilter, an item larger than the envelope EncodingLimit,
 * a context gone InvalidEnumerationContext. The rest goes to the door's mapper (wsman-fault.ts toFault).
 */
function enumerationFault(e: unknown, ns?: 'wsman' | 'wsen'): unknown {
  if (e instanceof EnvelopeLimitError) return new WsmanFault('EncodingLimit', `${e.message}; ask for a larger MaxEnvelopeSize`, { detail: 'MaxEnvelopeSize' });
  if (e instanceof InvalidEnumerationContextError) return new WsmanFault('InvalidEnumerationContext', e.message, { code: e.code });
  if (isModelError(e) && e.kind === 'invalid-input') return cannotProcessFilter(ns, e.message, e.code);
  return e;
}

const RESPONSE_ACTION = { enumerate: `${ACTIONS.enumerate}Response`, pull: `${ACTIONS.pull}Response` };
/** an enumeration context id as EnumerationService makes them (`uuid:` + 36), for the size of the envelope */
const CONTEXT_PLACEHOLDER = 'uuid:00000000-0000-0000-0000-000000000000';

/**
 * Bytes the items may take: MaxEnvelopeSize (or ours) minus the envelope around them, measured on the envelope
 * the controller will build (same headers, the larger of the possible bodies: with context and EndOfSequence).
 */
function itemBudget(call: WsmanCall, action: string, headers: string[], skeleton: string, maxCharacters?: number): number {
  const max = call.req.maxEnvelopeSize ?? DEFAULT_MAX_ENVELOPE_SIZE;
  const around = encodeXml(buildEnvelope({ action, relatesTo: call.req.messageId, headers, body: skeleton }), call.req.encoding ?? 'utf-8').length;
  const budget = max - around;
  return maxCharacters !== undefined ? Math.min(budget, maxCharacters) : budget;
}

function countHeader(n: number | undefined): string[] {
  return n === undefined ? [] : [`<wsman:TotalItemsCountEstimate>${n}</wsman:TotalItemsCountEstimate>`];
}

async function estimate(call: WsmanCall, segments: Segment<Item>[]): Promise<number | undefined> {
  return call.req.requestTotalItemsCountEstimate ? totalCount(segments) : undefined;
}

/** wsen:Enumerate (DSP0226 §8.2): optimized (items in the response, wsman:Items) or not (context only). */
export async function enumerate(call: WsmanCall): Promise<WsmanReply> {
  const req = parseEnumerate(call.req.payload);
  let q: StoredQuery;
  let segments: Segment<Item>[];
  let total: number | undefined;
  try {
    q = await plan(call, req);
    segments = await segmentsOf(call, q);
    // without items to read now, the count runs the filter anyway: a filter the database refuses faults here
    const counted = call.req.requestTotalItemsCountEstimate || !req.optimize ? await totalCount(segments) : undefined;
    total = call.req.requestTotalItemsCountEstimate ? counted : undefined;
  } catch (e) {
    throw enumerationFault(e, req.filterNs);
  }
  const svc = call.services.enumerations;
  const headers = countHeader(total);
  const expiresXml = (granted: Date) => {
    if (!req.expires) return '';
    const v = 'afterMs' in req.expires ? formatDuration(granted.getTime() - Date.now()) : granted.toISOString();
    return `<wsen:Expires>${v}</wsen:Expires>`;
  };
  if (!req.optimize) {
    const ctx = await svc.open(call.ctx, { resourceUri: call.req.resourceUri ?? '', query: q as unknown as Record<string, unknown>, expires: req.expires });
    return { body: `<wsen:EnumerateResponse>${expiresXml(ctx.expires)}<wsen:EnumerationContext>${ctx.id}</wsen:EnumerationContext></wsen:EnumerateResponse>`, headers };
  }
  const budget = itemBudget(
    call,
    RESPONSE_ACTION.enumerate,
    headers,
    `<wsen:EnumerateResponse>${req.expires ? `<wsen:Expires>${'x'.repeat(32)}</wsen:Expires>` : ''}<wsen:EnumerationContext>${CONTEXT_PLACEHOLDER}</wsen:EnumerationContext><wsman:Items></wsman:Items><wsman:EndOfSequence/></wsen:EnumerateResponse>`,
  );
  // DSP0226 §8.2.3: MaxElements defaults to 1
  const page = await nextPage(segments, { s: 0 }, { maxElements: req.maxElements ?? 1, itemBytes: budget, encoding: call.req.encoding }, render(q, call)).catch((e: unknown) => {
    throw enumerationFault(e, req.filterNs);
  });
  const items = `<wsman:Items>${page.xml.join('')}</wsman:Items>`;
  if (page.end) {
    // docs/wsman.md §2.2: a complete optimized response carries an empty context and EndOfSequence, and no
    // context is kept (wsmancli pulls while the context has text)
    return { body: `<wsen:EnumerateResponse><wsen:EnumerationContext/>${items}<wsman:EndOfSequence/></wsen:EnumerateResponse>`, headers };
  }
  const ctx = await svc.open(call.ctx, { resourceUri: call.req.resourceUri ?? '', query: q as unknown as Record<string, unknown>, expires: req.expires, cursor: JSON.stringify(page.cursor) });
  return { body: `<wsen:EnumerateResponse>${expiresXml(ctx.expires)}<wsen:EnumerationContext>${ctx.id}</wsen:EnumerationContext>${items}</wsen:EnumerateResponse>`, headers };
}

async function resume(call: WsmanCall, id: string) {
  try {
    return await call.services.enumerations.resume(call.ctx, id);
  } catch (e) {
    throw enumerationFault(e);
  }
}

/** wsen:Pull (DSP0226 §8.4): the next page; the last one carries EndOfSequence and no context (§2.2). */
export async function pull(call: WsmanCall): Promise<WsmanReply> {
  const req = parsePull(call.req.payload);
  // DSP0226 10.2.9: a pull subscription's context pulls its notifications
  if (req.context.startsWith(PULL_CONTEXT_PREFIX)) {
    const skeleton = `<wsen:PullResponse><wsen:EnumerationContext>${xmlEscape(req.context)}</wsen:EnumerationContext><wsen:Items></wsen:Items></wsen:PullResponse>`;
    return pullNotifications(call, req, itemBudget(call, RESPONSE_ACTION.pull, [`<wsman:Bookmark>${CONTEXT_PLACEHOLDER}</wsman:Bookmark>`], skeleton, req.maxCharacters));
  }
  const svc = call.services.enumerations;
  const rec = await resume(call, req.context);
  const q = rec.query as unknown as StoredQuery;
  const cursor: Cursor = rec.cursor ? (JSON.parse(rec.cursor) as Cursor) : { s: 0 };
  const segments = await segmentsOf(call, q);
  const total = await estimate(call, segments);
  const headers = countHeader(total);
  const budget = itemBudget(
    call,
    RESPONSE_ACTION.pull,
    headers,
    `<wsen:PullResponse><wsen:EnumerationContext>${rec.id}</wsen:EnumerationContext><wsen:Items></wsen:Items><wsen:EndOfSequence/></wsen:PullResponse>`,
    req.maxCharacters,
  );
  const page = await nextPage(segments, cursor, { maxElements: req.maxElements, itemBytes: budget, encoding: call.req.encoding }, render(q, call)).catch((e: unknown) => {
    throw enumerationFault(e, q.filterNs);
  });
  const items = `<wsen:Items>${page.xml.join('')}</wsen:Items>`;
  try {
    if (page.end) {
      await svc.finish(call.ctx, rec);
      return { body: `<wsen:PullResponse>${items}<wsen:EndOfSequence/></wsen:PullResponse>`, headers };
    }
    await svc.advance(call.ctx, rec, JSON.stringify(page.cursor));
  } catch (e) {
    throw enumerationFault(e);
  }
  return { body: `<wsen:PullResponse><wsen:EnumerationContext>${rec.id}</wsen:EnumerationContext>${items}</wsen:PullResponse>`, headers };
}

/** wsen:Release (DSP0226 §8.5): the context is deleted; empty ReleaseResponse. */
export async function release(call: WsmanCall): Promise<WsmanReply> {
  const id = parseRelease(call.req.payload);
  try {
    await call.services.enumerations.release(call.ctx, id);
  } catch (e) {
    throw enumerationFault(e);
  }
  return { body: '' };
}
