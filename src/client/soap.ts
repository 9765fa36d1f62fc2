import type { Element } from '@xmldom/xmldom';
import { basic, usernameToken } from './auth';
import { CliError, EXIT, applyClientSide, esc, parseFilter, parseOrderBy, project, sameCollection, send, type CreateInput, type Doc, type JobView, type ProtocolClient, type Query, type Result } from './protocol';
import { child, childElements, descendants, parseXml, serialize, textOf, elementDoc } from './xml';

const WSDL = 'http://schemas.xmlsoap.org/wsdl/';
const WSDL_SOAP11 = 'http://schemas.xmlsoap.org/wsdl/soap/';
const SOAP11 = 'http://schemas.xmlsoap.org/soap/envelope/';

export interface SoapConn {
  url: string;
  user?: string;
  password?: string;
  /** WS-Security UsernameToken PasswordDigest (default) or PasswordText, or HTTP Basic */
  auth: 'digest' | 'text' | 'basic';
  timeoutMs: number;
}

interface Contract {
  ns: string;
  /** operation name → SOAPAction of the SOAP 1.1 binding */
  ops: Map<string, string>;
  /** collection (plural, e.g. Machines) → its type (Machine) */
  types: Map<string, string>;
}

/**
 * SOAP 1.1 document/literal: every envelope is built from the operations the endpoint's WSDL publishes
 * (`?wsdl`): `List<Types>`, `Get/Create/Update/Delete<Type>` and the action operations `<Verb><Type>`.
 */
export class SoapClient implements ProtocolClient {
  private contract?: Contract;
  private readonly endpoint: string;

  constructor(private readonly c: SoapConn) {
    const u = new URL(c.url);
    // an origin alone: the gateway's documented SOAP 1.1 endpoint (docs/soap.md)
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/soap';
    this.endpoint = u.toString();
  }

  private async wsdl(): Promise<Contract> {
    if (this.contract) return this.contract;
    const url = new URL(this.endpoint);
    url.search = '?wsdl';
    const res = await send(url.toString(), { headers: this.c.user !== undefined ? { Authorization: basic(this.c.user, this.c.password ?? '') } : {} }, this.c.timeoutMs);
    if (res.status === 401 || res.status === 403) throw new CliError(EXIT.auth, `GET ?wsdl: HTTP ${res.status}`);
    if (res.status !== 200) throw new CliError(res.status === 404 ? EXIT.transport : EXIT.transport, `GET ${url}: HTTP ${res.status}, no WSDL`);
    const doc = parseXml(await res.text(), 'the WSDL');
    const ops = new Map<string, string>();
    for (const b of descendants(doc, WSDL, 'binding')) {
      if (!child(b, WSDL_SOAP11, 'binding')) continue;
      for (const op of childElements(b).filter((e) => e.localName === 'operation' && e.namespaceURI === WSDL)) {
        ops.set(op.getAttribute('name')!, child(op, WSDL_SOAP11, 'operation')?.getAttribute('soapAction') ?? '');
      }
    }
    const part = descendants(doc, WSDL, 'part')[0];
    const [prefix] = (part?.getAttribute('element') ?? '').split(':');
    const ns = part?.lookupNamespaceURI(prefix) ?? undefined;
    if (!ops.size || !ns) throw new CliError(EXIT.transport, `${url} publishes no SOAP 1.1 operations`);
    const singular = [...ops.keys()].filter((o) => o.startsWith('Get')).map((o) => o.slice(3));
    const types = new Map<string, string>();
    for (const o of ops.keys()) {
      if (!o.startsWith('List')) continue;
      const plural = o.slice(4);
      const t = singular.filter((s) => plural.startsWith(s)).sort((a, b) => b.length - a.length)[0];
      if (t) types.set(plural, t);
    }
    return (this.contract = { ns, ops, types });
  }

  private async type(word: string): Promise<{ plural: string; type: string }> {
    const w = await this.wsdl();
    for (const [plural, type] of w.types) if (sameCollection(word, plural) || word.toLowerCase() === type.toLowerCase()) return { plural, type };
    throw new CliError(EXIT.usage, `the WSDL offers no collection "${word}" (it offers: ${[...w.types.keys()].map(lower).join(', ')})`);
  }

  /** one call: `args` is the inner XML of the operation element, in the XSD's order */
  private async call(op: string, args: string): Promise<Element> {
    const w = await this.wsdl();
    if (!w.ops.has(op)) throw new CliError(EXIT.usage, `the WSDL has no operation ${op}`);
    const header = this.c.user !== undefined && this.c.auth !== 'basic' ? `<soap:Header>${usernameToken(this.c.user, this.c.password ?? '', this.c.auth)}</soap:Header>` : '';
    const body = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${SOAP11}" xmlns:t="${w.ns}">${header}<soap:Body><t:${op}>${args}</t:${op}></soap:Body></soap:Envelope>`;
    const headers: Record<string, string> = { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${w.ops.get(op)}"` };
    if (this.c.user !== undefined && this.c.auth === 'basic') headers.Authorization = basic(this.c.user, this.c.password ?? '');
    const res = await send(this.endpoint, { method: 'POST', headers, body }, this.c.timeoutMs);
    const text = await res.text();
    if (res.status === 401 && !text.includes('Envelope')) throw new CliError(EXIT.auth, `${op}: HTTP 401`);
    const doc = parseXml(text, op);
    const b = child(doc.documentElement!, SOAP11, 'Body');
    const payload = childElements(b)[0];
    if (!payload) throw new CliError(EXIT.transport, `${op}: an empty SOAP Body (HTTP ${res.status})`);
    if (payload.localName === 'Fault' && payload.namespaceURI === SOAP11) throw faultError(op, payload);
    if (res.status !== 200) throw new CliError(EXIT.transport, `${op}: HTTP ${res.status}`);
    return payload;
  }

  async cep(): Promise<Result> {
    const w = await this.wsdl();
    const collections: Doc = {};
    for (const [plural, type] of w.types) collections[lower(plural)] = { type, operations: opsOf(w, plural, type) };
    return { doc: { endpoint: this.endpoint, namespace: w.ns, collections } };
  }

  async metadata(collection?: string): Promise<Result> {
    const w = await this.wsdl();
    if (!collection) return { doc: { operations: [...w.ops.keys()] } };
    const { plural, type } = await this.type(collection);
    return { doc: { type, operations: opsOf(w, plural, type) } };
  }

  async list(collection: string, q: Query, wantXml: boolean): Promise<Result & { items: Doc[]; count?: number }> {
    const { plural } = await this.type(collection);
    let args = '';
    if (q.filter) {
      const f = parseFilter(q.filter);
      args += `<t:filter><t:combine>${f.combine}</t:combine>`;
      for (const c of f.conditions.filter((x) => !x.property)) {
        const el = { string: 'stringValue', int: 'intValue', boolean: 'booleanValue', date: 'dateTimeValue' }[c.kind];
        args += `<t:condition><t:attribute>${esc(c.attribute)}</t:attribute><t:operator>${c.op}</t:operator><t:${el}>${esc(String(c.value))}</t:${el}></t:condition>`;
      }
      for (const c of f.conditions.filter((x) => x.property)) args += `<t:propertyCondition><t:key>${esc(c.attribute)}</t:key><t:operator>${c.op}</t:operator><t:value>${esc(String(c.value))}</t:value></t:propertyCondition>`;
      args += '</t:filter>';
    }
    if (q.orderby) for (const o of parseOrderBy(q.orderby)) args += `<t:orderBy><t:attribute>${esc(o.attribute)}</t:attribute><t:descending>${o.descending}</t:descending></t:orderBy>`;
    if (q.first) args += `<t:first>${q.first}</t:first>`;
    if (q.last) args += `<t:last>${q.last}</t:last>`;
    const r = await this.call(`List${plural}`, args);
    // SOAP has no $select: the CLI projects what it received
    const all = childElements(r).filter((e) => e.localName === 'item').map(elementDoc);
    const items = applyClientSide(all, q, {}).map((d) => project(d, q.select));
    return { items, count: Number(textOf(child(r, null, 'count'))), doc: { count: Number(textOf(child(r, null, 'count'))), items }, xml: wantXml ? serialize(r) : undefined };
  }

  /** a name or id to the id: List<Types> filtered on name, else the id as given */
  private async resolve(collection: string, ref: string): Promise<{ id: string; type: string; doc: Doc }> {
    const { plural, type } = await this.type(collection);
    // a List without a filter (its WSDL input has none: ListMeters) refuses one: the ref is then taken as an id
    const r = await this.call(`List${plural}`, `<t:filter><t:condition><t:attribute>name</t:attribute><t:operator>eq</t:operator><t:stringValue>${esc(ref)}</t:stringValue></t:condition></t:filter>`).catch((e: unknown) => {
      if (e instanceof CliError && e.exit === EXIT.failed) return undefined;
      throw e;
    });
    const hits = r ? childElements(r).filter((e) => e.localName === 'item').map(elementDoc) : [];
    if (hits.length > 1) throw new CliError(EXIT.usage, `${hits.length} ${lower(plural)} are named "${ref}": give the id`);
    if (hits.length) return { id: String(hits[0].id), type, doc: hits[0] };
    const g = await this.call(`Get${type}`, `<t:id>${esc(ref)}</t:id>`).catch((e: CliError) => {
      // an id that is no id of this type is invalid input to Get: for the user it names nothing
      throw e.exit === EXIT.failed || e.exit === EXIT.notFound ? new CliError(EXIT.notFound, `no ${lower(plural)} named or with id "${ref}"`) : e;
    });
    const d = elementDoc(childElements(g)[0]);
    return { id: String(d.id), type, doc: d };
  }

  async get(collection: string, ref: string, wantXml: boolean): Promise<Result> {
    const { id, type } = await this.resolve(collection, ref);
    const r = await this.call(`Get${type}`, `<t:id>${esc(id)}</t:id>`);
    const el = childElements(r)[0];
    return { doc: elementDoc(el), xml: wantXml ? serialize(r) : undefined };
  }

  async create(collection: string, input: CreateInput): Promise<Result> {
    const { type } = await this.type(collection);
    const slot = lower(type);
    let tpl = '';
    if (input.template) tpl += `<t:ref>${esc((await this.resolve(`${type}Templates`, input.template)).id)}</t:ref>`;
    let value = '';
    if (input.config) value += `<t:${slot}Config><t:ref>${esc((await this.resolve(`${type}Configurations`, input.config)).id)}</t:ref></t:${slot}Config>`;
    if (input.image) value += `<t:${slot}Image><t:ref>${esc((await this.resolve(`${type}Images`, input.image)).id)}</t:ref></t:${slot}Image>`;
    if (value) tpl += `<t:value>${value}</t:value>`;
    let args = '';
    if (input.name) args += `<t:name>${esc(input.name)}</t:name>`;
    if (input.description) args += `<t:description>${esc(input.description)}</t:description>`;
    if (tpl) args += `<t:${slot}Template>${tpl}</t:${slot}Template>`;
    return this.answer(await this.call(`Create${type}`, args));
  }

  async update(collection: string, ref: string, changes: { name?: string; description?: string }): Promise<Result> {
    const { id, type } = await this.resolve(collection, ref);
    let args = `<t:id>${esc(id)}</t:id>`;
    if (changes.name !== undefined) args += `<t:name>${esc(changes.name)}</t:name>`;
    if (changes.description !== undefined) args += `<t:description>${esc(changes.description)}</t:description>`;
    return this.answer(await this.call(`Update${type}`, args));
  }

  async delete(collection: string, ref: string): Promise<Result> {
    const { id, type, doc } = await this.resolve(collection, ref);
    const r = await this.answer(await this.call(`Delete${type}`, `<t:id>${esc(id)}</t:id>`));
    return { ...r, doc: { id, name: doc.name } };
  }

  async action(collection: string, ref: string, action: string): Promise<Result> {
    const { type } = await this.type(collection);
    const op = `${action.charAt(0).toUpperCase()}${action.slice(1)}${type}`;
    if (!(await this.wsdl()).ops.has(op)) throw new CliError(EXIT.usage, `the WSDL has no operation ${op}`);
    const { id } = await this.resolve(collection, ref);
    return this.answer(await this.call(op, `<t:id>${esc(id)}</t:id>`));
  }

  async job(job: JobView): Promise<JobView> {
    const r = await this.call('GetJob', `<t:id>${esc(String(job.handle))}</t:id>`);
    return jobView(elementDoc(child(r, null, 'job')!));
  }

  private answer(r: Element): Result {
    const res = child(r, null, 'resource');
    const job = child(r, null, 'job');
    return { doc: res ? elementDoc(res) : undefined, job: job ? jobView(elementDoc(job)) : undefined, xml: serialize(r) };
  }
}

function jobView(d: Doc): JobView {
  return { id: String(d.id), state: String(d.state), progress: d.progress, message: d.statusMessage, handle: d.id, doc: d };
}

function lower(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

function opsOf(w: Contract, plural: string, type: string): string[] {
  return [...w.ops.keys()].filter((o) => o === `List${plural}` || (o.endsWith(type) && /^[A-Z][a-z]+$/.test(o.slice(0, -type.length))));
}

/** a SOAP Fault to an exit code: the GatewayFault's kind (docs/soap.md §4), or the WS-Security fault codes */
function faultError(op: string, f: Element): CliError {
  const code = textOf(child(f, null, 'faultcode')) ?? '';
  const reason = textOf(child(f, null, 'faultstring')) ?? '';
  const detail = child(f, null, 'detail');
  const gf = detail ? childElements(detail).find((e) => e.localName === 'GatewayFault') : undefined;
  const kind = gf ? textOf(child(gf, null, 'kind')) : undefined;
  const msg = `${op}: SOAP fault ${code}${kind ? ` (${kind}: ${textOf(child(gf, null, 'code'))})` : ''}: ${reason}`;
  if (kind === 'not-found') return new CliError(EXIT.notFound, msg);
  if (kind === 'unauthenticated' || kind === 'forbidden' || /FailedAuthentication|InvalidSecurity|NotAuthenticated/.test(code)) return new CliError(EXIT.auth, msg);
  if (kind === 'internal' || kind === 'backend-unavailable' || kind === 'throttled' || (!kind && /Server/.test(code))) return new CliError(EXIT.transport, msg);
  return new CliError(EXIT.failed, msg);
}
