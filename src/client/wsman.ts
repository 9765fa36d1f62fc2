import { randomUUID } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { basic, digestAuthorization, digestChallenge, type DigestChallenge } from './auth';
import { CliError, EXIT, applyClientSide, esc, parseFilter, project, sameCollection, send, type CreateInput, type Doc, type JobView, type ProtocolClient, type Query, type Result } from './protocol';
import { child, childElements, descendants, parseXml, serialize, textOf } from './xml';
import { CIM_SCHEMA, WSA_ANONYMOUS, WSMAN_NS } from './wsman-ns';

const NS = WSMAN_NS;
const ANON = WSA_ANONYMOUS;
const WQL = 'http://schemas.dmtf.org/wbem/wsman/1/WQL';
const CIM = CIM_SCHEMA;
const VENDOR = 'http://schemas.cimi-gateway.invalid/wbem/wscim/1/cim-schema/2/';

/**
 * The CIM classes behind the CIMI collections (wsman/README.md): the DMTF class a collection is enumerated and
 * addressed by, and the gateway's concrete class a Create names. Instances are addressed by the EPRs enumeration
 * answers, never by selectors built here.
 */
const CLASSES: Record<string, { cls: string; concrete?: string; name: string; state: string; vendor?: boolean }> = {
  machines: { cls: 'CIM_ComputerSystem', concrete: 'CIMIGW_Machine', name: 'ElementName', state: 'CimiState' },
  volumes: { cls: 'CIM_LogicalDisk', concrete: 'CIMIGW_Volume', name: 'ElementName', state: 'CimiState' },
  networks: { cls: 'CIM_IPConnectivitySubnet', concrete: 'CIMIGW_Network', name: 'ElementName', state: 'CimiState' },
  jobs: { cls: 'CIM_ConcreteJob', name: 'ElementName', state: 'JobState' },
  eventLogs: { cls: 'CIM_RecordLog', name: 'ElementName', state: 'LogState' },
  // DSP1053's CIM_BaseMetricDefinition is abstract: the gateway's meters are enumerated at their own class URI
  meters: { cls: 'CIMIGW_Meter', name: 'Name', state: 'CimiState', vendor: true },
};

const classUri = (c: { cls: string; vendor?: boolean }) => `${c.vendor ? VENDOR : CIM}${c.cls}`;

/** CIMI attribute names in --filter/--orderby/--select to the CIM properties (wsman/README.md) */
const ATTRS: Record<string, string> = { name: 'ElementName', description: 'Description', state: 'CimiState', cpu: 'Cpu', memory: 'MemoryKiB' };

/** CIM_EnabledLogicalElement.RequestStateChange values (docs/wsman.md §5.3) */
const REQUESTED: Record<string, number> = { start: 2, stop: 4, suspend: 6, pause: 9, restart: 10 };
const RETURN: Record<string, string> = { '0': 'completed', '4096': 'job started', '4097': 'invalid state transition', '4099': 'busy' };
/** CIM_ConcreteJob.JobState to the CIMI Job states */
const JOB_STATE: Record<string, string> = { '2': 'QUEUED', '3': 'RUNNING', '4': 'RUNNING', '5': 'RUNNING', '6': 'STOPPING', '7': 'SUCCESS', '8': 'STOPPED', '9': 'FAILED', '10': 'FAILED' };

export interface WsmanConn {
  url: string;
  user?: string;
  password?: string;
  /** digest: answer the 401 challenge with RFC 7616 MD5 (default); basic: preemptive RFC 7617 */
  auth: 'digest' | 'basic';
  timeoutMs: number;
}

interface Epr {
  uri: string;
  selectors: [string, string][];
}

interface Instance {
  doc: Doc;
  epr: Epr;
  el: Element;
}

/** WS-Management 1.1 (DSP0226) over SOAP 1.2: Identify, WS-Transfer, WS-Enumeration and RequestStateChange. */
export class WsmanClient implements ProtocolClient {
  private readonly endpoint: string;
  private challenge?: DigestChallenge;
  private nc = 0;

  constructor(private readonly c: WsmanConn) {
    const u = new URL(c.url);
    // an origin alone: the gateway's documented endpoint (docs/wsman.md §4)
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/wsman';
    this.endpoint = u.toString();
  }

  private authHeader(): string | undefined {
    if (this.c.user === undefined) return undefined;
    if (this.c.auth === 'basic') return basic(this.c.user, this.c.password ?? '');
    if (this.challenge) return digestAuthorization(this.challenge, this.c.user, this.c.password ?? '', 'POST', new URL(this.endpoint).pathname, ++this.nc);
    return undefined;
  }

  private async post(xml: string, what: string): Promise<{ status: number; payload?: Element; text: string }> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { 'Content-Type': 'application/soap+xml;charset=UTF-8' };
      const auth = this.authHeader();
      if (auth) headers.Authorization = auth;
      const res = await send(this.endpoint, { method: 'POST', headers, body: xml }, this.c.timeoutMs);
      const text = await res.text();
      if (res.status === 401) {
        const challenges = res.headers.get('www-authenticate');
        const ch = digestChallenge(challenges);
        const stale = /stale\s*=\s*"?true/i.test(challenges ?? '');
        // RFC 7616 §3.3: the first challenge, or a stale nonce, is answered once more; a refused digest is final
        if (attempt < 2 && this.c.user !== undefined && this.c.auth === 'digest' && ch && (!auth?.startsWith('Digest') || stale)) {
          this.challenge = ch;
          this.nc = 0;
          continue;
        }
        throw new CliError(EXIT.auth, `${what}: HTTP 401${this.c.user === undefined ? ' (no --user given)' : ', the credentials were refused'}`);
      }
      const doc = text.trim().startsWith('<') ? parseXml(text, what) : undefined;
      const body = doc && child(doc.documentElement!, NS.s, 'Body');
      const payload = body ? childElements(body)[0] : undefined;
      if (payload?.localName === 'Fault' && payload.namespaceURI === NS.s) throw faultError(what, payload);
      if (res.status !== 200) throw new CliError(EXIT.transport, `${what}: HTTP ${res.status}`);
      if (!doc) throw new CliError(EXIT.transport, `${what}: the endpoint answered no envelope`);
      return { status: res.status, payload, text };
    }
  }

  private envelope(action: string, uri: string, body = '', selectors: [string, string][] = []): string {
    const sel = selectors.length ? `<w:SelectorSet>${selectors.map(([k, v]) => `<w:Selector Name="${esc(k)}">${esc(v)}</w:Selector>`).join('')}</w:SelectorSet>` : '';
    return (
      `<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="${NS.s}" xmlns:a="${NS.wsa}" xmlns:w="${NS.wsman}"><s:Header>` +
      `<a:To>${esc(this.endpoint)}</a:To><w:ResourceURI s:mustUnderstand="true">${esc(uri)}</w:ResourceURI>` +
      `<a:ReplyTo><a:Address s:mustUnderstand="true">${ANON}</a:Address></a:ReplyTo><a:Action s:mustUnderstand="true">${esc(action)}</a:Action>` +
      `<w:MaxEnvelopeSize s:mustUnderstand="true">512000</w:MaxEnvelopeSize><a:MessageID>uuid:${randomUUID()}</a:MessageID>` +
      `${sel}<w:OperationTimeout>PT60S</w:OperationTimeout></s:Header><s:Body>${body}</s:Body></s:Envelope>`
    );
  }

  private klass(word: string): { key: string; cls: string; uri: string; concrete?: string; name: string; state: string } {
    const key = Object.keys(CLASSES).find((k) => sameCollection(word, k) || word === CLASSES[k].cls);
    if (!key) throw new CliError(EXIT.usage, `no CIM class for "${word}" (WS-Man offers: ${Object.keys(CLASSES).join(', ')})`);
    return { key, ...CLASSES[key], uri: classUri(CLASSES[key]) };
  }

  async cep(): Promise<Result> {
    const xml = `<s:Envelope xmlns:s="${NS.s}" xmlns:wsmid="${NS.wsmid}"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>`;
    const r = await this.post(xml, 'Identify');
    if (!r.payload || r.payload.localName !== 'IdentifyResponse') throw new CliError(EXIT.transport, 'Identify: no IdentifyResponse');
    const doc: Doc = {};
    for (const e of childElements(r.payload)) doc[e.localName!] = textOf(e);
    doc.collections = Object.fromEntries(Object.entries(CLASSES).map(([k, v]) => [k, { resourceURI: classUri(v) }]));
    return { doc, xml: serialize(r.payload) };
  }

  async metadata(collection?: string): Promise<Result> {
    const list = collection ? [this.klass(collection)] : Object.keys(CLASSES).map((k) => this.klass(k));
    return { doc: Object.fromEntries(list.map((k) => [k.key, { resourceURI: k.uri, concreteClass: k.concrete ? `${VENDOR}${k.concrete}` : k.uri, methods: k.key === 'machines' ? ['RequestStateChange'] : [] }])) };
  }

  /** Enumerate (optimized, objects and EPRs) and Pull to the end (DSP0226 §8) */
  private async enumerate(uri: string, wql?: string): Promise<Instance[]> {
    const filter = wql ? `<w:Filter Dialect="${WQL}">${esc(wql)}</w:Filter>` : '';
    const body = `<n:Enumerate xmlns:n="${NS.wsen}"><w:OptimizeEnumeration/><w:MaxElements>100</w:MaxElements><w:EnumerationMode>EnumerateObjectAndEPR</w:EnumerationMode>${filter}</n:Enumerate>`;
    let r = await this.post(this.envelope(`${NS.wsen}/Enumerate`, uri, body), 'Enumerate');
    const out: Instance[] = [];
    for (let pages = 0; pages < 10000; pages++) {
      const p = r.payload!;
      const items = child(p, NS.wsman, 'Items') ?? child(p, NS.wsen, 'Items');
      for (const it of childElements(items)) {
        const inst = it.localName === 'Item' && it.namespaceURI === NS.wsman ? childElements(it).find((e) => !(e.localName === 'EndpointReference' && e.namespaceURI === NS.wsa)) : it;
        const eprEl = it.localName === 'Item' ? child(it, NS.wsa, 'EndpointReference') : undefined;
        if (inst && eprEl) out.push({ doc: props(inst), epr: epr(eprEl), el: inst });
      }
      const ctx = textOf(child(p, NS.wsen, 'EnumerationContext'));
      if (child(p, NS.wsen, 'EndOfSequence') || child(p, NS.wsman, 'EndOfSequence') || !ctx) return out;
      const pull = `<n:Pull xmlns:n="${NS.wsen}"><n:EnumerationContext>${esc(ctx)}</n:EnumerationContext><n:MaxElements>100</n:MaxElements></n:Pull>`;
      r = await this.post(this.envelope(`${NS.wsen}/Pull`, uri, pull), 'Pull');
    }
    return out;
  }

  async list(collection: string, q: Query, wantXml: boolean): Promise<Result & { items: Doc[]; count?: number }> {
    const k = this.klass(collection);
    let wql: string | undefined;
    if (q.filter) {
      // the filter runs in the endpoint as WQL (docs/wsman.md §2.3)
      const f = parseFilter(q.filter);
      const ops = { eq: '=', ne: '<>', lt: '<', le: '<=', gt: '>', ge: '>=' };
      const conds = f.conditions.map((c) => {
        if (c.property) throw new CliError(EXIT.usage, 'WS-Man has no property[…] filter');
        const lit = typeof c.value === 'string' ? `'${c.value.replace(/'/g, "''")}'` : String(c.value);
        return `${ATTRS[c.attribute] ?? c.attribute} ${ops[c.op]} ${lit}`;
      });
      wql = `SELECT * FROM ${k.cls} WHERE ${conds.join(f.combine === 'all' ? ' AND ' : ' OR ')}`;
    }
    const all = await this.enumerate(k.uri, wql);
    // WS-Enumeration has no ordering, paging by position or projection: the CLI applies them to what it received
    const mapped = { ...q, orderby: q.orderby?.replace(/[A-Za-z]+/g, (a) => (a === 'asc' || a === 'desc' ? a : (ATTRS[a] ?? a))), select: q.select?.map((a) => ATTRS[a] ?? a) };
    const kept = applyClientSide(all.map((i) => i.doc), mapped, { order: true, page: true });
    const items = kept.map((d) => project(d, mapped.select));
    const xml = wantXml ? `<Items>${all.filter((i) => kept.includes(i.doc)).map((i) => serialize(i.el)).join('')}</Items>` : undefined;
    return { items, count: all.length, doc: { count: all.length, items }, xml };
  }

  /** a name or key value to the instance: WQL on ElementName, else a key selector with that value */
  private async resolve(collection: string, ref: string): Promise<Instance> {
    const k = this.klass(collection);
    // a class the endpoint cannot filter (wsman:CannotProcessFilter and kin, DSP0226 §8.3) is enumerated whole below
    let hits = await this.enumerate(k.uri, `SELECT * FROM ${k.cls} WHERE ${k.name} = '${ref.replace(/'/g, "''")}'`).catch((e: unknown) => {
      if (e instanceof CliError && e.exit === EXIT.failed) return [];
      throw e;
    });
    if (!hits.length) hits = (await this.enumerate(k.uri)).filter((i) => i.epr.selectors.some(([, v]) => v === ref || v.endsWith(`:${ref}`)));
    if (!hits.length) throw new CliError(EXIT.notFound, `no ${k.key} named or with id "${ref}"`);
    if (hits.length > 1) throw new CliError(EXIT.usage, `${hits.length} ${k.key} are named "${ref}": give the id`);
    return hits[0];
  }

  private async transferGet(e: Epr): Promise<Element> {
    const r = await this.post(this.envelope(`${NS.wxf}/Get`, e.uri, '', e.selectors), 'Get');
    if (!r.payload) throw new CliError(EXIT.transport, 'Get: an empty Body');
    return r.payload;
  }

  async get(collection: string, ref: string, wantXml: boolean): Promise<Result> {
    const i = await this.resolve(collection, ref);
    const el = await this.transferGet(i.epr);
    return { doc: props(el), xml: wantXml ? serialize(el) : undefined };
  }

  async create(collection: string, input: CreateInput): Promise<Result> {
    const k = this.klass(collection);
    if (!k.concrete) throw new CliError(EXIT.usage, `WS-Man cannot create ${k.key}`);
    const t = k.concrete.replace(/^CIMIGW_/, '');
    // no CIM class shows configurations, images or templates: they are given by the ids REST shows (wsman/README.md)
    const p: [string, string | undefined][] = [
      ['ElementName', input.name],
      ['Description', input.description],
      [`${t}Template`, input.template],
      [`${t}Configuration`, input.config],
      [`${t}Image`, input.image],
    ];
    const ns = `${VENDOR}${k.concrete}`;
    const body = `<p:${k.concrete} xmlns:p="${ns}">${p.filter(([, v]) => v !== undefined).map(([n, v]) => `<p:${n}>${esc(v!)}</p:${n}>`).join('')}</p:${k.concrete}>`;
    const r = await this.post(this.envelope(`${NS.wxf}/Create`, k.uri, body), 'Create');
    const e = epr(r.payload!);
    return { doc: props(await this.transferGet(e)), xml: serialize(r.payload!) };
  }

  async update(collection: string, ref: string, changes: { name?: string; description?: string }): Promise<Result> {
    const i = await this.resolve(collection, ref);
    // WS-Transfer Put carries the whole instance (docs/wsman.md §7 item 11): Get, change, Put
    const el = await this.transferGet(i.epr);
    for (const [prop, v] of [['ElementName', changes.name], ['Description', changes.description]] as const) {
      if (v === undefined) continue;
      const e = childElements(el).find((c) => c.localName === prop);
      if (!e) throw new CliError(EXIT.failed, `the instance has no ${prop}`);
      e.removeAttributeNS(NS.xsi, 'nil');
      e.textContent = v;
    }
    const r = await this.post(this.envelope(`${NS.wxf}/Put`, i.epr.uri, serialize(el), i.epr.selectors), 'Put');
    return { doc: r.payload ? props(r.payload) : undefined };
  }

  async delete(collection: string, ref: string): Promise<Result> {
    const i = await this.resolve(collection, ref);
    await this.post(this.envelope(`${NS.wxf}/Delete`, i.epr.uri, '', i.epr.selectors), 'Delete');
    return { doc: { ...project(i.doc, ['Name', 'InstanceID', 'DeviceID', 'ElementName']), deleted: true } };
  }

  async action(collection: string, ref: string, action: string): Promise<Result> {
    const k = this.klass(collection);
    if (k.key !== 'machines' || !(action in REQUESTED)) throw new CliError(EXIT.usage, `WS-Man has no ${action} for ${k.key} (RequestStateChange: ${Object.keys(REQUESTED).join(', ')})`);
    const i = await this.resolve(collection, ref);
    // DSP0227 §9: the method's action URI is the class resource URI + /<Method>; the input element is in that namespace
    const body = `<p:RequestStateChange_INPUT xmlns:p="${k.uri}"><p:RequestedState>${REQUESTED[action]}</p:RequestedState></p:RequestStateChange_INPUT>`;
    const r = await this.post(this.envelope(`${k.uri}/RequestStateChange`, k.uri, body, i.epr.selectors), 'RequestStateChange');
    const out = r.payload!;
    const rv = textOf(childElements(out).find((e) => e.localName === 'ReturnValue')) ?? '';
    if (rv !== '0' && rv !== '4096') throw new CliError(EXIT.failed, `RequestStateChange(${REQUESTED[action]}) on ${i.doc.ElementName ?? ref}: ReturnValue ${rv} (${RETURN[rv] ?? 'failed'}), state ${i.doc.CimiState ?? '?'}`);
    const jobEl = childElements(out).find((e) => e.localName === 'Job');
    const doc: Doc = { ReturnValue: Number(rv), meaning: RETURN[rv] };
    if (!jobEl) return { doc, xml: serialize(out) };
    const job = await this.readJob(epr(jobEl));
    return { doc, job, xml: serialize(out) };
  }

  private async readJob(e: Epr): Promise<JobView> {
    const d = props(await this.transferGet(e));
    const state = JOB_STATE[String(d.JobState)] ?? `JobState ${d.JobState}`;
    return { id: String(d.InstanceID), state, progress: typeof d.PercentComplete === 'number' ? d.PercentComplete : undefined, message: d.ErrorDescription ?? undefined, handle: e, doc: d };
  }

  async job(job: JobView): Promise<JobView> {
    return this.readJob(job.handle as Epr);
  }
}

/** an EPR (wsa:ReferenceParameters, or a wxf:ResourceCreated) to its resource URI and selectors */
function epr(el: Element): Epr {
  const uri = textOf(descendants(el, NS.wsman, 'ResourceURI')[0]) ?? '';
  const selectors = descendants(el, NS.wsman, 'Selector').map((s) => [s.getAttribute('Name') ?? '', textOf(s) ?? ''] as [string, string]);
  return { uri, selectors };
}

/** an instance (DSP0230) as name → value; arrays repeat, NULL is xsi:nil */
function props(el: Element): Doc {
  const out: Doc = {};
  for (const c of childElements(el)) {
    const n = c.localName!;
    let v: unknown;
    if (c.getAttributeNS(NS.xsi, 'nil') === 'true') v = null;
    else if (childElements(c).length) v = Object.fromEntries(epr(c).selectors);
    else {
      const t = textOf(c) ?? '';
      v = /^-?\d{1,15}$/.test(t) ? Number(t) : t;
    }
    out[n] = n in out && out[n] !== null ? [...(Array.isArray(out[n]) ? out[n] : [out[n]]), v] : v;
  }
  return out;
}

/** a SOAP 1.2 fault to an exit code, by its WS-Man / WS-Addressing subcode (docs/wsman.md §3) */
function faultError(what: string, f: Element): CliError {
  const sub = textOf(child(child(child(f, NS.s, 'Code'), NS.s, 'Subcode'), NS.s, 'Value')) ?? '';
  const local = sub.split(':').pop() ?? '';
  const reason = textOf(child(child(f, NS.s, 'Reason'), NS.s, 'Text')) ?? '';
  const code = descendants(f, NS.msf, 'WSManFault')[0]?.getAttribute('Code');
  const msg = `${what}: WS-Man fault ${local}${code ? ` (${code})` : ''}: ${reason}`;
  if (local === 'DestinationUnreachable' || local === 'InvalidSelectors') return new CliError(EXIT.notFound, msg);
  if (local === 'AccessDenied') return new CliError(EXIT.auth, msg);
  if (local === 'InternalError' || local === 'EndpointUnavailable' || local === 'TimedOut') return new CliError(EXIT.transport, msg);
  return new CliError(EXIT.failed, msg);
}
