import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseXml, type XElement } from '../xml/safe-xml';
import { XsdSchema } from '../xml/xsd-subset';

export const WSDL_NS = 'http://schemas.xmlsoap.org/wsdl/';
export const WSDL_SOAP11_NS = 'http://schemas.xmlsoap.org/wsdl/soap/';
export const WSDL_SOAP12_NS = 'http://schemas.xmlsoap.org/wsdl/soap12/';
export const SOAP11_ENV = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_ENV = 'http://www.w3.org/2003/05/soap-envelope';
export const TYPES_NS = 'urn:cimi-gateway:soap:1:types';
export const SERVICE_NAME = 'CimiGatewayService';
export const PORT_11 = 'CimiGatewayPort';
export const PORT_12 = 'CimiGatewayPort12';

export type SoapVersion = '1.1' | '1.2';

/** The two endpoints of the one service (two ports, WSDL 1.1 §3 / SOAP 1.2 binding). */
export const ENDPOINTS: readonly { path: string; version: SoapVersion; port: string }[] = [
  { path: '/soap', version: '1.1', port: PORT_11 },
  { path: '/soap12', version: '1.2', port: PORT_12 },
];

/** the path of the endpoint (and WSDL port address) speaking `version` */
export function endpointPath(version: SoapVersion): string {
  return ENDPOINTS.find((e) => e.version === version)!.path;
}

export const WSDL_DIR = join(__dirname, '..', '..', '..', 'wsdl');
export const WSDL_FILE = 'cimi-gateway.wsdl';
export const TYPES_FILE = 'cimi-gateway-types.xsd';

export interface SoapOperationInfo {
  name: string;
  soapAction: string;
}

/**
 * The contract as the edge uses it, read from the committed wsdl/ files (the same bytes that are served): the
 * operation table (name, soapAction; the Body element is the operation name, document/literal wrapped) and the
 * types schema that validates every request. Any inconsistency between WSDL, bindings and XSD fails the start.
 */
export class SoapContract {
  readonly wsdlText: string;
  readonly typesText: string;
  readonly schema: XsdSchema;
  readonly operations: ReadonlyMap<string, SoapOperationInfo>;

  constructor(dir: string = WSDL_DIR) {
    this.wsdlText = readFileSync(join(dir, WSDL_FILE), 'utf8');
    this.typesText = readFileSync(join(dir, TYPES_FILE), 'utf8');
    this.schema = new XsdSchema(this.typesText);
    if (this.schema.targetNamespace !== TYPES_NS) throw new Error(`${TYPES_FILE}: targetNamespace must be ${TYPES_NS}`);
    const defs = parseXml(this.wsdlText, { maxDepth: 32, maxElements: 200000, maxAttributes: 32 });
    if (defs.ns !== WSDL_NS || defs.local !== 'definitions') throw new Error(`${WSDL_FILE} is not a WSDL 1.1 document`);
    const portType = kids(defs, WSDL_NS, 'portType');
    if (portType.length !== 1) throw new Error(`${WSDL_FILE}: expected one portType`);
    const names = kids(portType[0], WSDL_NS, 'operation').map((o) => attrOf(o, 'name')!);
    const actions = new Map<string, Map<string, string>>();
    for (const b of kids(defs, WSDL_NS, 'binding')) {
      const m = new Map<string, string>();
      for (const o of kids(b, WSDL_NS, 'operation')) {
        const so = o.children.find((c) => (c.ns === WSDL_SOAP11_NS || c.ns === WSDL_SOAP12_NS) && c.local === 'operation');
        m.set(attrOf(o, 'name')!, attrOf(so ?? o, 'soapAction') ?? '');
      }
      actions.set(attrOf(b, 'name')!, m);
    }
    if (actions.size !== 2) throw new Error(`${WSDL_FILE}: expected a SOAP 1.1 and a SOAP 1.2 binding`);
    const ops = new Map<string, SoapOperationInfo>();
    for (const name of names) {
      const acts = [...actions.values()].map((m) => m.get(name));
      if (acts.some((a) => !a) || new Set(acts).size !== 1) throw new Error(`${WSDL_FILE}: operation ${name} needs the same soapAction in both bindings`);
      if (!this.schema.hasElement(name) || !this.schema.hasElement(`${name}Response`)) throw new Error(`${TYPES_FILE}: no ${name} / ${name}Response element`);
      ops.set(name, { name, soapAction: acts[0]! });
    }
    for (const m of actions.values()) for (const n of m.keys()) if (!ops.has(n)) throw new Error(`${WSDL_FILE}: binding operation ${n} is not in the portType`);
    this.operations = ops;
  }

  /** The WSDL with the public endpoint addresses and resolvable schema locations (node-soap does neither, soap.md V15). */
  publicWsdl(base: string): string {
    return this.wsdlText
      .replace(/(<soap:address location=")[^"]*(")/, `$1${xmlAttr(base)}${endpointPath('1.1')}$2`)
      .replace(/(<soap12:address location=")[^"]*(")/, `$1${xmlAttr(base)}${endpointPath('1.2')}$2`)
      .replace(`schemaLocation="${TYPES_FILE}"`, `schemaLocation="${xmlAttr(base)}/soap?xsd=types.xsd"`);
  }
}

function kids(el: XElement, ns: string, local: string): XElement[] {
  return el.children.filter((c) => c.ns === ns && c.local === local);
}

function attrOf(el: XElement, name: string): string | undefined {
  return el.attrs.find((a) => a.ns === '' && a.local === name)?.value;
}

function xmlAttr(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
