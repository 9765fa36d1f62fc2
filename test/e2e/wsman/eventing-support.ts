import { createServer, type IncomingMessage, type Server } from 'node:http';
import { DOMParser, type Document } from '@xmldom/xmldom';
import { envelope, fault, NS, one, payload, post, props, text, VENDOR, type WsResponse } from '../../support/wsman-client';

/** WS-Eventing e2e helpers (30-eventing, 31-eventing-features): a local subscriber and the Subscribe envelopes (DSP0226 10) */
export const WSE = 'http://schemas.xmlsoap.org/ws/2004/08/eventing';
export const PUSH = `${WSE}/DeliveryModes/Push`;
export const PUSH_ACK = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck';
export const EVENT = `${VENDOR}CIMIGW_Event`;
export const WQL = 'http://schemas.microsoft.com/wbem/wsman/1/WQL';
export const ns = ` xmlns:wse="${WSE}"`;

export interface Received {
  doc: Document;
  text: string;
  action?: string;
  messageId?: string;
  at: number;
}

/** a subscriber: a local HTTP listener recording every envelope; `status` and `ack` decide its answer */
export class Listener {
  readonly got: Received[] = [];
  status = 200;
  ack = false;
  private server?: Server;
  port = 0;

  async start(port = 0): Promise<this> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const doc = new DOMParser().parseFromString(body, 'text/xml');
        const r: Received = { doc, text: body, action: text(doc, NS.wsa, 'Action')?.trim(), messageId: text(doc, NS.wsa, 'MessageID')?.trim(), at: Date.now() };
        this.got.push(r);
        const answer = this.ack
          ? `<s:Envelope xmlns:s="${NS.s}" xmlns:wsa="${NS.wsa}"><s:Header><wsa:Action>http://schemas.dmtf.org/wbem/wsman/1/wsman/Ack</wsa:Action><wsa:RelatesTo>${r.messageId}</wsa:RelatesTo></s:Header><s:Body/></s:Envelope>`
          : '';
        res.writeHead(this.status, { 'Content-Type': 'application/soap+xml' }).end(answer);
      });
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', () => r()));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}/events`;
  }
  events(): Received[] {
    return this.got.filter((g) => g.action === EVENT);
  }
  async stop(): Promise<void> {
    if (this.server) await new Promise<void>((r) => this.server!.close(() => r()));
    this.server?.closeAllConnections();
    this.server = undefined;
  }
}

/** the subscribers a describe block starts, stopped after it (`make` starts one) */
export function useListeners<L extends { stop(): Promise<void> }>(make: () => Promise<L>): () => Promise<L> {
  const started: L[] = [];
  afterAll(async () => {
    for (const l of started) await l.stop();
  });
  return async () => {
    const l = await make();
    started.push(l);
    return l;
  };
}

/** a gateway process for the durability tests: fast job and delivery polls, a short lease, retries that never end it */
export function durableGatewayEnv(db: { sqlitePath?: string; databaseUrl?: string }, adminPassword: string): Record<string, string | undefined> {
  return {
    SQLITE_PATH: db.sqlitePath,
    DATABASE_URL: db.databaseUrl,
    ADMIN_PASSWORD: adminPassword,
    SIM_LATENCY_MS: '5',
    SIM_DETERMINISTIC: 'true',
    JOB_POLL_MS: '50',
    SEED_DEMO: 'true',
    SUBSCRIPTION_POLL_MS: '50',
    SUBSCRIPTION_RETRY_BASE_MS: '50',
    SUBSCRIPTION_MAX_FAILURES: '100',
    SUBSCRIPTION_LEASE_MS: '1000',
  };
}

export async function waitFor<T>(fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function subscribeBody(o: { notifyTo?: string; mode?: string | null; expires?: string; endTo?: string; filter?: string; params?: string; extra?: string; delivery?: string }): string {
  const mode = o.mode === null ? '' : ` Mode="${o.mode ?? PUSH}"`;
  return (
    `<wse:Subscribe>` +
    (o.endTo ? `<wse:EndTo><wsa:Address>${o.endTo}</wsa:Address></wse:EndTo>` : '') +
    `<wse:Delivery${mode}>` +
    (o.notifyTo !== undefined ? `<wse:NotifyTo><wsa:Address>${o.notifyTo}</wsa:Address>${o.params ? `<wsa:ReferenceParameters>${o.params}</wsa:ReferenceParameters>` : ''}</wse:NotifyTo>` : '') +
    `${o.delivery ?? ''}</wse:Delivery>` +
    (o.expires ? `<wse:Expires>${o.expires}</wse:Expires>` : '') +
    (o.filter ? `<wsman:Filter Dialect="${WQL}">${o.filter}</wsman:Filter>` : '') +
    (o.extra ?? '') +
    `</wse:Subscribe>`
  );
}

export const subscribeEnv = (body: string) => envelope({ action: `${WSE}/Subscribe`, resourceUri: EVENT, body, ns });
export const managed = (action: string, id: string, body = '') =>
  envelope({ action: `${WSE}/${action}`, resourceUri: EVENT, body, ns, extraHeaders: `<wse:Identifier>${id}</wse:Identifier>` });

export async function subscribe(port: number, body: string, auth?: string): Promise<{ id: string; r: WsResponse }> {
  const r = await post(port, subscribeEnv(body), { auth });
  if (r.status !== 200) throw new Error(`Subscribe: HTTP ${r.status} ${r.text.slice(0, 1500)}`);
  const mgr = one(r.doc, WSE, 'SubscriptionManager');
  return { id: text(mgr, WSE, 'Identifier')!.trim(), r };
}

export const actionBody = (a: string) => ({ resourceURI: 'http://schemas.dmtf.org/cimi/1/Action', action: `http://schemas.dmtf.org/cimi/1/action/${a}` });
export const resourceOf = (g: Received) => props(payload({ status: 200, headers: {}, text: g.text, doc: g.doc })!);

/** each refused Subscribe answers 500 with its fault subcode (and detail, when given) */
export async function expectRefusedSubscribes(port: number, cases: [body: string, subcode: string, subNs: string, detail?: string][]): Promise<void> {
  for (const [body, subcode, subNs, detail] of cases) {
    const r = await post(port, subscribeEnv(body));
    expect({ body, status: r.status, ...fault(r) }).toMatchObject({ body, status: 500, subcode, subcodeNs: subNs, ...(detail ? { detail } : {}) });
  }
}
