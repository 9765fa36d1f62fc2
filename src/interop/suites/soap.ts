import type { Document, Element } from '@xmldom/xmldom';
import { expect, skip } from '../check';
import type { InteropSession } from '../session';
import { children, elements, escapeXml, first, parseXml, textOf } from '../xml';

/**
 * SOAP scenarios, from what the endpoint publishes: fetch the WSDL (WSDL 1.1), call every read operation whose input
 * the runner can make (all-optional inputs, or one id taken from a list), and a typed fault for an unknown id. The
 * operations, their SOAPActions and element names come from the WSDL and its schema, not from this gateway.
 */
export interface SoapSuiteOptions {
  /** the SOAP 1.1 endpoint; its WSDL is `?wsdl` */
  url: string;
}

const WSDL = 'http://schemas.xmlsoap.org/wsdl/';
const WSDL_SOAP = 'http://schemas.xmlsoap.org/wsdl/soap/';
const XSD = 'http://www.w3.org/2001/XMLSchema';
const ENV = 'http://schemas.xmlsoap.org/soap/envelope/';

interface Operation {
  name: string;
  soapAction: string;
  /** the input element's local name and namespace */
  element: string;
  ns: string;
  /** its child elements that must be present */
  required: string[];
}

export async function soapSuite(s: InteropSession, o: SoapSuiteOptions): Promise<void> {
  let ops: Operation[] = [];
  let address = o.url;

  await s.check('soap', 'soap.wsdl', 'WSDL 1.1 §2, §3', 'fetch the WSDL and its schema', async () => {
    const r = await s.send('GET', `${o.url}?wsdl`, { anonymous: false });
    expect(r.status === 200, 'HTTP 200 for ?wsdl', `HTTP ${r.status}`);
    const wsdl = parseXml(r.body, 'the WSDL');
    expect(wsdl.documentElement!.localName === 'definitions' && wsdl.documentElement!.namespaceURI === WSDL, 'a wsdl:definitions document', wsdl.documentElement!.localName);
    const schemas = [wsdl, ...(await importedSchemas(s, wsdl, o.url))];
    ops = operations(wsdl, schemas);
    expect(ops.length > 0, 'at least one document/literal operation with a SOAP 1.1 binding', 0);
    address = first(wsdl, WSDL_SOAP, 'address')?.getAttribute('location') || o.url;
  });

  const call = (op: Operation, inner: string) =>
    s.send('POST', address, {
      headers: { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${op.soapAction}"` },
      body: `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${ENV}"><soap:Body><t:${op.element} xmlns:t="${op.ns}">${inner}</t:${op.element}></soap:Body></soap:Envelope>`,
    });

  const reads = () => ops.filter((x) => /^(List|Get|Describe)/.test(x.name));
  const ids = new Map<string, string>();
  const ordered = () => [...reads()].sort((a, b) => Number(!a.name.startsWith('List')) - Number(!b.name.startsWith('List')));
  // one check per read operation, lists first: they give the ids the gets need
  for (const op of ordered()) {
    await s.check('soap', `soap.read.${op.name}`, 'WSDL 1.1 §3.5, SOAP 1.1 §4', `${op.name} answers its ${op.name}Response element`, async () => {
      let inner = '';
      if (op.required.length === 1 && /id$/i.test(op.required[0])) {
        const id = ids.get(op.name.replace(/^Get/, ''));
        if (!id) skip(`no id for ${op.name}: its list returned none`);
        inner = `<t:${op.required[0]}>${escapeXml(id)}</t:${op.required[0]}>`;
      } else if (op.required.length) skip(`needs inputs the runner cannot make (${op.required.join(', ')})`);
      const r = await call(op, inner);
      const doc = parseXml(r.body, `${op.name}'s response`);
      const fault = first(doc, ENV, 'Fault');
      expect(r.status === 200 && !fault, `${op.name}: HTTP 200 without a Fault`, `HTTP ${r.status} ${textOf(fault, null, 'faultstring') ?? ''}`);
      const answer = elements(first(doc, ENV, 'Body'))[0];
      expect(answer && answer.localName === `${op.name}Response`, `a ${op.name}Response element`, answer?.localName ?? 'an empty Body');
      if (op.name.startsWith('List')) {
        const id = children(answer, null, 'id')[0]?.textContent?.trim();
        if (id) ids.set(op.name.replace(/^List/, '').replace(/s$/, ''), id);
      }
    }, ['soap.wsdl']);
  }

  await s.check('soap', 'soap.fault.typed', 'SOAP 1.1 §4.4', 'an unknown id gives a Client fault with a typed detail', async () => {
    const op = reads().find((x) => x.name.startsWith('Get') && x.required.length === 1 && /id$/i.test(x.required[0]));
    if (!op) skip('no Get operation taking one id');
    const r = await call(op, `<t:${op.required[0]}>interop-no-such-id</t:${op.required[0]}>`);
    expect(r.status === 500, 'HTTP 500 for a Fault (SOAP 1.1 §6.2)', `HTTP ${r.status}`);
    const f = first(parseXml(r.body, 'the fault'), ENV, 'Fault');
    expect(f, 'a soap:Fault', r.body.slice(0, 200));
    const code = textOf(f, null, 'faultcode') ?? '';
    expect(/(^|:)Client(\.|$)/.test(code), 'faultcode Client (the sender is at fault)', code);
    const detail = first(f, null, 'detail');
    expect(detail && elements(detail).length > 0, 'a detail element with a typed child', detail ? 'an empty detail' : 'no detail');
  }, ['soap.wsdl']);
}

/** the schemas the WSDL imports by URL (xsd:import schemaLocation), resolved against the endpoint */
async function importedSchemas(s: InteropSession, wsdl: Document, base: string): Promise<Document[]> {
  const out: Document[] = [];
  for (const imp of [...children(wsdl, XSD, 'import'), ...children(wsdl, XSD, 'include')]) {
    const loc = imp.getAttribute('schemaLocation');
    if (!loc) continue;
    const r = await s.send('GET', new URL(loc, base).toString());
    expect(r.status === 200, `HTTP 200 for the imported schema ${loc}`, `HTTP ${r.status}`);
    out.push(parseXml(r.body, `schema ${loc}`));
  }
  return out;
}

function operations(wsdl: Document, schemas: Document[]): Operation[] {
  const messages = new Map(children(wsdl, WSDL, 'message').map((m) => [m.getAttribute('name')!, m]));
  const elementsByName = new Map<string, { el: Element; ns: string }>();
  for (const d of schemas)
    for (const schema of children(d, XSD, 'schema'))
      for (const e of elements(schema)) if (e.localName === 'element' && e.getAttribute('name')) elementsByName.set(e.getAttribute('name')!, { el: e, ns: schema.getAttribute('targetNamespace') ?? '' });
  const out: Operation[] = [];
  const binding = children(wsdl, WSDL, 'binding').find((b) => first(b, WSDL_SOAP, 'binding'));
  const portType = children(wsdl, WSDL, 'portType')[0];
  for (const bop of children(binding, WSDL, 'operation')) {
    const name = bop.getAttribute('name')!;
    const soapAction = first(bop, WSDL_SOAP, 'operation')?.getAttribute('soapAction') ?? '';
    const pop = children(portType, WSDL, 'operation').find((x) => x.getAttribute('name') === name);
    const msg = messages.get((first(pop, WSDL, 'input')?.getAttribute('message') ?? '').replace(/^.*:/, ''));
    const elName = (first(msg, WSDL, 'part')?.getAttribute('element') ?? '').replace(/^.*:/, '');
    const def = elementsByName.get(elName);
    if (!def) continue;
    const seq = first(def.el, XSD, 'sequence');
    const required = elements(seq)
      .filter((e) => e.localName === 'element' && (e.getAttribute('minOccurs') ?? '1') !== '0')
      .map((e) => e.getAttribute('name') ?? (e.getAttribute('ref') ?? '').replace(/^.*:/, ''));
    out.push({ name, soapAction, element: elName, ns: def.ns, required });
  }
  return out;
}
