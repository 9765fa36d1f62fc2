import { basic } from './auth';
import { CliError, EXIT, sameCollection, send, type CreateInput, type Doc, type JobView, type ProtocolClient, type Query, type Result } from './protocol';

const CIMI = 'http://schemas.dmtf.org/cimi/1';
const ACTION = `${CIMI}/action/`;

export interface Conn {
  url: string;
  user?: string;
  password?: string;
  timeoutMs: number;
}

/**
 * CIMI REST (DSP0263 2.0.0): the CEP is the only URI it knows (§4.1); collections, items, `add`/`edit`/`delete`
 * and action hrefs all come from what the endpoint answers.
 */
export class RestClient implements ProtocolClient {
  private cepDoc?: Doc;
  private readonly cepUrl: string;

  constructor(private readonly c: Conn) {
    const u = new URL(c.url);
    // an origin alone: the gateway's documented CEP path (docs/cimi.md §1)
    if (u.pathname === '/' || u.pathname === '') u.pathname = '/cimi/cloudEntryPoint';
    this.cepUrl = u.toString();
  }

  private async request(method: string, href: string, o: { body?: Doc; xml?: boolean; query?: Record<string, string> } = {}): Promise<{ status: number; doc: Doc; text: string; headers: Headers }> {
    const url = new URL(href, this.cepUrl);
    for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
    const headers: Record<string, string> = { Accept: o.xml ? 'application/xml' : 'application/json' };
    if (this.c.user !== undefined) headers.Authorization = basic(this.c.user, this.c.password ?? '');
    if (o.body) headers['Content-Type'] = 'application/json';
    const res = await send(url.toString(), { method, headers, body: o.body ? JSON.stringify(o.body) : undefined }, this.c.timeoutMs);
    const text = await res.text();
    let doc: Doc = {};
    if (text && (res.headers.get('content-type') ?? '').includes('json')) {
      try {
        doc = JSON.parse(text) as Doc;
      } catch {
        throw new CliError(EXIT.transport, `${method} ${url.pathname}: unreadable JSON`);
      }
    }
    if (res.status >= 400) throw restError(res.status, doc, `${method} ${url.pathname}`);
    if (res.status >= 300) throw new CliError(EXIT.transport, `${method} ${url.pathname}: unexpected HTTP ${res.status}`);
    return { status: res.status, doc, text, headers: res.headers };
  }

  private async entry(): Promise<Doc> {
    if (!this.cepDoc) {
      const r = await this.request('GET', this.cepUrl);
      if (!r.doc.resourceURI && !r.doc.id) throw new CliError(EXIT.transport, `${this.cepUrl} is not a CIMI Cloud Entry Point`);
      this.cepDoc = r.doc;
    }
    return this.cepDoc;
  }

  /** the CEP attribute naming this collection (`machine` → `machines`) and its href */
  private async collection(word: string): Promise<{ key: string; href: string }> {
    const cep = await this.entry();
    const key = Object.keys(cep).find((k) => typeof cep[k]?.href === 'string' && sameCollection(word, k));
    if (!key) throw new CliError(EXIT.usage, `the entry point offers no collection "${word}" (it offers: ${collections(cep).join(', ')})`);
    return { key, href: cep[key].href };
  }

  async cep(wantXml: boolean): Promise<Result> {
    const r = await this.request('GET', this.cepUrl);
    return { doc: r.doc, xml: wantXml ? (await this.request('GET', this.cepUrl, { xml: true })).text : undefined };
  }

  async metadata(collection?: string): Promise<Result> {
    const { href } = await this.collection('resourceMetadata');
    const r = await this.request('GET', href);
    const list = items(r.doc);
    if (!collection) return { doc: r.doc };
    // DSP0263 2.0.0 §5.9: one ResourceMetadata per type, named by typeURI
    const hit = list.find((m) => sameCollection(collection, String(m.typeURI ?? '').split('/').pop()!) || sameCollection(collection, String(m.name ?? '')));
    if (!hit) throw new CliError(EXIT.notFound, `no ResourceMetadata for ${collection}`);
    return { doc: hit };
  }

  async list(collection: string, q: Query, wantXml: boolean): Promise<Result & { items: Doc[]; count?: number }> {
    const { href } = await this.collection(collection);
    const query: Record<string, string> = {};
    if (q.filter) query.$filter = q.filter;
    if (q.select?.length) query.$select = q.select.join(',');
    if (q.orderby) query.$orderby = q.orderby;
    if (q.first) query.$first = String(q.first);
    if (q.last) query.$last = String(q.last);
    const r = await this.request('GET', href, { query });
    const xml = wantXml ? (await this.request('GET', href, { query, xml: true })).text : undefined;
    return { doc: r.doc, items: items(r.doc), count: typeof r.doc.count === 'number' ? r.doc.count : undefined, xml };
  }

  /** a name or id to the resource: an href as is, else the item whose name or id (last href segment) it is */
  private async resolve(collection: string, ref: string): Promise<Doc> {
    if (/^https?:\/\//.test(ref)) return (await this.request('GET', ref)).doc;
    const { href } = await this.collection(collection);
    const escaped = ref.replace(/'/g, "''");
    // a collection the endpoint cannot filter (DSP0263 2.0.0 §4.1.6.1 lets it refuse a query) is read whole below
    const filtered = await this.request('GET', href, { query: { $filter: `name='${escaped}'` } }).catch((e: unknown) => {
      if (e instanceof CliError && e.exit === EXIT.failed) return undefined;
      throw e;
    });
    let hits = filtered ? items(filtered.doc).filter((i) => i.name === ref) : [];
    if (!hits.length) hits = items((await this.request('GET', href)).doc).filter((i) => i.name === ref || String(i.id ?? '').split('/').pop() === ref);
    if (!hits.length) throw new CliError(EXIT.notFound, `no ${collection} named or with id "${ref}"`);
    if (hits.length > 1) throw new CliError(EXIT.usage, `${hits.length} ${collection} are named "${ref}": give the id`);
    return hits[0];
  }

  async get(collection: string, ref: string, wantXml: boolean): Promise<Result> {
    const item = await this.resolve(collection, ref);
    const r = await this.request('GET', item.id);
    return { doc: r.doc, xml: wantXml ? (await this.request('GET', item.id, { xml: true })).text : undefined };
  }

  async create(collection: string, input: CreateInput): Promise<Result> {
    const { key, href } = await this.collection(collection);
    const coll = (await this.request('GET', href, { query: { $first: '1', $last: '1' } })).doc;
    const add = opHref(coll, 'add');
    if (!add) throw new CliError(EXIT.failed, `the ${key} collection offers no add operation to this user`);
    let body = input.body;
    if (!body) {
      // DSP0263 2.0.0 §4.2.1.1: a <Type>Create with a <type>Template by value whose slots are references
      const type = String(coll.resourceURI ?? '').replace(/Collection$/, '').split('/').pop() || 'Machine';
      const slot = type.charAt(0).toLowerCase() + type.slice(1);
      const tpl: Doc = {};
      if (input.template) Object.assign(tpl, { href: (await this.resolve(`${slot}Templates`, input.template)).id });
      if (input.config) tpl[`${slot}Config`] = { href: (await this.resolve(`${slot}Configs`, input.config)).id };
      if (input.image) tpl[`${slot}Image`] = { href: (await this.resolve(`${slot}Images`, input.image)).id };
      body = { resourceURI: `${CIMI}/${type}Create`, name: input.name, description: input.description, [`${slot}Template`]: tpl };
    }
    const r = await this.request('POST', add, { body });
    const job = await this.jobOf(r);
    const location = r.headers.get('location');
    return { doc: r.status === 201 || r.doc.resourceURI !== `${CIMI}/Job` ? r.doc : location ? (await this.request('GET', location)).doc : r.doc, job };
  }

  async update(collection: string, ref: string, changes: { name?: string; description?: string }): Promise<Result> {
    const item = await this.resolve(collection, ref);
    const edit = opHref(item, 'edit');
    if (!edit) throw new CliError(EXIT.failed, `${item.id} offers no edit operation`);
    const fields = Object.keys(changes).filter((k) => changes[k as keyof typeof changes] !== undefined);
    if (!fields.length) throw new CliError(EXIT.usage, 'update needs --name or --description');
    // DSP0263 2.0.0 §4.2.1.2: a partial update names its attributes in $select
    const r = await this.request('PUT', edit, { body: { ...changes }, query: { $select: fields.join(',') } });
    return { doc: r.doc, job: await this.jobOf(r) };
  }

  async delete(collection: string, ref: string): Promise<Result> {
    const item = await this.resolve(collection, ref);
    const del = opHref(item, 'delete');
    if (!del) throw new CliError(EXIT.failed, `${item.id} offers no delete operation now (state ${item.state ?? '?'})`);
    const r = await this.request('DELETE', del);
    return { doc: { id: item.id, name: item.name }, job: await this.jobOf(r) };
  }

  async action(collection: string, ref: string, action: string): Promise<Result> {
    const item = await this.resolve(collection, ref);
    const href = opHref(item, `${ACTION}${action}`);
    if (!href) {
      const offered = ((item.operations ?? []) as { rel: string }[]).map((o) => o.rel.replace(ACTION, '')).join(', ');
      throw new CliError(EXIT.failed, `${item.name ?? item.id} (${item.state ?? '?'}) does not offer ${action} now; it offers: ${offered || 'nothing'}`);
    }
    const r = await this.request('POST', href, { body: { resourceURI: `${CIMI}/Action`, action: `${ACTION}${action}` } });
    return { doc: r.doc, job: await this.jobOf(r) };
  }

  async job(job: JobView): Promise<JobView> {
    return jobView((await this.request('GET', job.handle as string)).doc);
  }

  /** the Job of a mutating answer: the body when it is one, else CIMI-Job-URI (DSP0263 2.0.0 §4.1.7.1) */
  private async jobOf(r: { doc: Doc; headers: Headers }): Promise<JobView | undefined> {
    if (r.doc.resourceURI === `${CIMI}/Job` && r.doc.id) return jobView(r.doc);
    const uri = r.headers.get('cimi-job-uri');
    return uri ? jobView((await this.request('GET', uri)).doc) : undefined;
  }
}

function jobView(d: Doc): JobView {
  return { id: String(d.id), state: String(d.state), progress: d.progress, message: d.statusMessage, handle: d.id, doc: d };
}

function restError(status: number, doc: Doc, what: string): CliError {
  const msg = `${what}: HTTP ${status}${doc.statusMessage ? ` ${doc.statusMessage}` : ''}`;
  if (status === 401 || status === 403) return new CliError(EXIT.auth, msg);
  if (status === 404) return new CliError(EXIT.notFound, msg);
  if (status >= 500 || status === 429) return new CliError(EXIT.transport, msg);
  return new CliError(EXIT.failed, msg);
}

export function items(coll: Doc): Doc[] {
  for (const [k, v] of Object.entries(coll)) if (k !== 'operations' && Array.isArray(v)) return v as Doc[];
  return [];
}

function collections(cep: Doc): string[] {
  return Object.keys(cep).filter((k) => typeof cep[k]?.href === 'string');
}

function opHref(doc: Doc, rel: string): string | undefined {
  return ((doc.operations ?? []) as { rel: string; href: string }[]).find((o) => o.rel === rel || o.rel.trim().endsWith(`/${rel}`))?.href;
}
