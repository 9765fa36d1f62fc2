import { randomUUID } from 'node:crypto';
import type { Document, Element } from '@xmldom/xmldom';
import { expect, skip } from '../check';
import type { InteropSession, Reply } from '../session';
import { children, elements, escapeXml, first, parseXml, textOf } from '../xml';
import { CIM_SCHEMA, WSA_ANONYMOUS, WSMAN_NS } from '../../client/wsman-ns';

/**
 * WS-Management scenarios (DSP0226 1.2, DSP0227, DSP0230): Identify, Enumerate/Pull with and without optimization
 * (no item twice, EndOfSequence), a WQL filter, Get of an enumerated instance, RequestStateChange with its
 * CIM_ConcreteJob, and the standard faults for an unknown ResourceURI, bad selectors and an unknown action.
 */
export interface WsmanSuiteOptions {
  url: string;
  /** the class to enumerate and act on (a CIM_ComputerSystem for machines) */
  resourceUri?: string;
  /** the Name of a machine this run made (REST suite), for RequestStateChange; skipped without one */
  machineName?: () => string | undefined;
}

const NS = WSMAN_NS;
const CS = `${CIM_SCHEMA}CIM_ComputerSystem`;
const WQL = 'http://schemas.microsoft.com/wbem/wsman/1/WQL';
const ANON = WSA_ANONYMOUS;

export async function wsmanSuite(s: InteropSession, o: WsmanSuiteOptions): Promise<void> {
  const uri = o.resourceUri ?? CS;
  const post = async (action: string, body: string, extra: { resourceUri?: string; selectors?: Record<string, string>; headers?: string; anonymous?: boolean } = {}) => {
    const sel = extra.selectors ? `<wsman:SelectorSet>${Object.entries(extra.selectors).map(([k, v]) => `<wsman:Selector Name="${escapeXml(k)}">${escapeXml(v)}</wsman:Selector>`).join('')}</wsman:SelectorSet>` : '';
    const env =
      `<s:Envelope xmlns:s="${NS.s}" xmlns:wsa="${NS.wsa}" xmlns:wsman="${NS.wsman}" xmlns:wsen="${NS.wsen}"><s:Header>` +
      `<wsa:To s:mustUnderstand="true">${escapeXml(o.url)}</wsa:To><wsman:ResourceURI s:mustUnderstand="true">${escapeXml(extra.resourceUri ?? uri)}</wsman:ResourceURI>` +
      `<wsa:ReplyTo><wsa:Address s:mustUnderstand="true">${ANON}</wsa:Address></wsa:ReplyTo><wsa:Action s:mustUnderstand="true">${escapeXml(action)}</wsa:Action>` +
      `<wsman:MaxEnvelopeSize s:mustUnderstand="true">512000</wsman:MaxEnvelopeSize><wsa:MessageID>uuid:${randomUUID()}</wsa:MessageID>` +
      `<wsman:OperationTimeout>PT60S</wsman:OperationTimeout>${sel}${extra.headers ?? ''}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
    const r = await s.send('POST', o.url, { headers: { 'Content-Type': 'application/soap+xml;charset=UTF-8' }, body: env, anonymous: extra.anonymous, digest: s.creds.wsmanDigest });
    return { r, doc: parseXml(r.body, `the ${action.replace(/^.*\//, '')} response`) };
  };
  const noFault = (r: Reply, doc: Document, what: string) => {
    const f = first(doc, NS.s, 'Fault');
    expect(!f && r.status === 200, `${what}: HTTP 200 without a Fault`, `HTTP ${r.status} ${f ? faultOf(doc).subcode : ''} ${textOf(f, NS.s, 'Text') ?? ''}`);
  };
  const items = (el: Element | undefined) => elements(el).map((e) => ({ key: keyOf(e), el: e }));
  let instances: { key: string; el: Element }[] = [];

  await s.check('wsman', 'wsman.identify', 'DSP0226 11', 'Identify answers without credentials', async () => {
    const r = await s.send('POST', o.url, {
      anonymous: true,
      headers: { 'Content-Type': 'application/soap+xml;charset=UTF-8' },
      body: `<s:Envelope xmlns:s="${NS.s}" xmlns:wsmid="${NS.wsmid}"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>`,
    });
    expect(r.status === 200, 'HTTP 200 (DSP0226 11.2: Identify may be unauthenticated)', `HTTP ${r.status}`);
    const doc = parseXml(r.body, 'IdentifyResponse');
    expect(first(doc, NS.wsmid, 'IdentifyResponse'), 'a wsmid:IdentifyResponse', r.body.slice(0, 200));
    const pv = children(doc, NS.wsmid, 'ProtocolVersion').map((e) => e.textContent?.trim());
    expect(pv.includes(NS.wsman), `ProtocolVersion ${NS.wsman}`, pv);
  });

  await s.check('wsman', 'wsman.enumerate', 'DSP0226 8.2, 8.4', 'Enumerate then Pull to the end: every item once, then EndOfSequence', async () => {
    const { r, doc } = await post(`${NS.wsen}/Enumerate`, '<wsen:Enumerate/>');
    noFault(r, doc, 'Enumerate');
    let ctx = textOf(doc, NS.wsen, 'EnumerationContext');
    expect(ctx, 'an EnumerationContext', r.body.slice(0, 200));
    const seen: { key: string; el: Element }[] = [];
    for (let pulls = 0; ; pulls++) {
      expect(pulls < 1000, 'EndOfSequence within 1000 Pulls', 'no end');
      const p = await post(`${NS.wsen}/Pull`, `<wsen:Pull><wsen:EnumerationContext>${escapeXml(ctx!)}</wsen:EnumerationContext><wsen:MaxElements>5</wsen:MaxElements></wsen:Pull>`);
      noFault(p.r, p.doc, 'Pull');
      seen.push(...items(first(p.doc, NS.wsen, 'Items')));
      if (first(p.doc, NS.wsen, 'EndOfSequence')) break;
      ctx = textOf(p.doc, NS.wsen, 'EnumerationContext') ?? ctx;
    }
    const keys = seen.map((x) => x.key);
    const dup = keys.find((k, i) => keys.indexOf(k) !== i);
    expect(!dup, 'no item twice in one enumeration (DSP0226 8.4)', `item ${dup} repeated`);
    instances = seen;
  });

  await s.check('wsman', 'wsman.enumerate.optimized', 'DSP0226 8.2.3', 'OptimizeEnumeration returns the first items in the EnumerateResponse', async () => {
    const { r, doc } = await post(`${NS.wsen}/Enumerate`, '<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>2</wsman:MaxElements></wsen:Enumerate>');
    noFault(r, doc, 'optimized Enumerate');
    const got = items(first(doc, NS.wsman, 'Items'));
    expect(got.length === Math.min(2, instances.length), `${Math.min(2, instances.length)} items in wsman:Items`, got.length);
    const ctx = textOf(doc, NS.wsen, 'EnumerationContext');
    if (ctx && !first(doc, NS.wsman, 'EndOfSequence')) await post(`${NS.wsen}/Release`, `<wsen:Release><wsen:EnumerationContext>${escapeXml(ctx)}</wsen:EnumerationContext></wsen:Release>`);
  }, ['wsman.enumerate']);

  await s.check('wsman', 'wsman.filter.wql', 'DSP0226 8.3, DSP0227 7.3', 'a WQL filter returns only the matching instances', async () => {
    const target = instances[0];
    if (!target) skip('the class has no instances to filter for');
    const name = prop(target.el, 'Name');
    if (!name) skip('the instances carry no Name property');
    const cls = uri.replace(/^.*\//, '');
    const { r, doc } = await post(`${NS.wsen}/Enumerate`, `<wsen:Enumerate><wsman:OptimizeEnumeration/><wsman:MaxElements>50</wsman:MaxElements><wsman:Filter Dialect="${WQL}">SELECT * FROM ${cls} WHERE Name = '${escapeXml(name.replace(/'/g, "''"))}'</wsman:Filter></wsen:Enumerate>`);
    const f = faultOf(doc);
    if (f.subcode && /FilterDialectRequestedUnavailable/.test(f.subcode)) skip('the endpoint offers no WQL filter dialect');
    noFault(r, doc, 'filtered Enumerate');
    const got = items(first(doc, NS.wsman, 'Items'));
    expect(got.length === 1 && prop(got[0].el, 'Name') === name, `exactly the instance named ${name}`, got.map((x) => prop(x.el, 'Name')));
  }, ['wsman.enumerate']);

  await s.check('wsman', 'wsman.get', 'DSP0226 7.3', 'Get of an enumerated instance by its keys', async () => {
    const target = instances[0];
    if (!target) skip('the class has no instances');
    const selectors = keysOf(target.el);
    const { r, doc } = await post(`${NS.wxf}/Get`, '', { selectors });
    noFault(r, doc, 'Get');
    const inst = elements(first(doc, NS.s, 'Body'))[0];
    expect(inst && prop(inst, 'Name') === prop(target.el, 'Name'), `the instance named ${prop(target.el, 'Name')}`, inst ? prop(inst, 'Name') : 'an empty Body');
  }, ['wsman.enumerate']);

  const faultCheck = (id: string, clause: string, title: string, subcode: RegExp, send: () => ReturnType<typeof post>) =>
    s.check('wsman', id, clause, title, async () => {
      const { r, doc } = await send();
      const f = faultOf(doc);
      expect(f.code, 'a SOAP Fault', `HTTP ${r.status} without a Fault`);
      expect(subcode.test(f.subcode ?? ''), `fault subcode ${subcode.source}`, f.subcode ?? 'no subcode');
      expect(/Sender$/.test(f.code), 'fault code s:Sender', f.code);
    });

  await faultCheck('wsman.fault.resource-uri', 'DSP0226 14.6 (wsa:DestinationUnreachable)', 'an unknown ResourceURI', /DestinationUnreachable$/, () =>
    post(`${NS.wxf}/Get`, '', { resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_InteropNoSuchClass', selectors: { Name: 'x' } }),
  );
  await faultCheck('wsman.fault.selectors', 'DSP0226 7.1 (wsman:InvalidSelectors)', 'Get with a selector the class does not have', /InvalidSelectors$/, () =>
    post(`${NS.wxf}/Get`, '', { selectors: { InteropNoSuchKey: 'x' } }),
  );
  await faultCheck('wsman.fault.action', 'DSP0226 14.6 (wsa:ActionNotSupported)', 'an unknown action', /ActionNotSupported$/, () =>
    post('http://schemas.xmlsoap.org/ws/2004/09/transfer/InteropNoSuchAction', ''),
  );

  if (s.readOnly) return;
  await s.check('wsman', 'wsman.request-state-change', 'DSP1052 (CIM_ComputerSystem), DSP0227 9', 'RequestStateChange of a machine this run made, and its CIM_ConcreteJob', async () => {
    const name = o.machineName?.();
    if (!name) skip('no machine made by this run (the REST suite makes one)');
    const inst = instances.find((x) => prop(x.el, 'Name') === name);
    const selectors = inst ? keysOf(inst.el) : { CreationClassName: uri.replace(/^.*\//, ''), Name: name };
    const { r, doc } = await post(`${uri}/RequestStateChange`, `<p:RequestStateChange_INPUT xmlns:p="${uri}"><p:RequestedState>2</p:RequestedState></p:RequestStateChange_INPUT>`, { selectors });
    noFault(r, doc, 'RequestStateChange');
    const out = first(doc, null, 'RequestStateChange_OUTPUT');
    const rv = textOf(out, null, 'ReturnValue');
    expect(rv === '0' || rv === '4096', 'ReturnValue 0 (done) or 4096 (Job started)', rv);
    if (rv === '4096') {
      const job = first(out, null, 'Job');
      const jobUri = textOf(job, NS.wsman, 'ResourceURI');
      const jsel = Object.fromEntries(children(job, NS.wsman, 'Selector').map((e) => [e.getAttribute('Name')!, e.textContent?.trim() ?? '']));
      expect(jobUri && /ConcreteJob$/.test(jobUri), 'a Job EPR to a CIM_ConcreteJob', jobUri);
      const until = Date.now() + 60000;
      for (;;) {
        const g = await post(`${NS.wxf}/Get`, '', { resourceUri: jobUri, selectors: jsel });
        noFault(g.r, g.doc, 'Get of the CIM_ConcreteJob');
        const state = prop(elements(first(g.doc, NS.s, 'Body'))[0], 'JobState');
        // CIM_ConcreteJob JobState: 7 Completed; 8 Terminated, 9 Killed, 10 Exception
        if (state === '7') break;
        expect(!['8', '9', '10'].includes(state ?? '') && Date.now() < until, 'JobState 7 (Completed)', `JobState ${state}`);
        await new Promise((res) => setTimeout(res, 200));
      }
    }
  });
}

function faultOf(doc: Document): { code: string; subcode?: string } {
  const f = first(doc, NS.s, 'Fault');
  const code = first(first(f, NS.s, 'Code'), NS.s, 'Value')?.textContent?.trim() ?? '';
  const subcode = first(first(f, NS.s, 'Subcode'), NS.s, 'Value')?.textContent?.trim();
  return { code, subcode };
}

function prop(el: Element | undefined, name: string): string | undefined {
  const e = elements(el).find((c) => c.localName === name);
  return e ? (e.textContent ?? '').trim() : undefined;
}

/** an instance's keys: CreationClassName and Name (CIM_ComputerSystem), else InstanceID */
function keysOf(el: Element): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of ['CreationClassName', 'Name', 'InstanceID', 'SystemName', 'SystemCreationClassName', 'DeviceID']) {
    const v = prop(el, k);
    if (v !== undefined) out[k] = v;
  }
  if (out.InstanceID && !out.Name) return { InstanceID: out.InstanceID };
  return Object.fromEntries(Object.entries(out).filter(([k]) => k === 'CreationClassName' || k === 'Name'));
}

function keyOf(el: Element): string {
  return JSON.stringify(keysOf(el));
}
