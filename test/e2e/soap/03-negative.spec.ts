import { gzipSync } from 'node:zlib';
import { ENGINES } from '../../support/databases';
import { SoapOperations } from '../../../src/adapters/soap/soap-operations';
import { ACTION, BASIC, envelope, faultOf, post, snapshot, soapCall, SOAP11, SOAP12, TNS, useSoapApp, type RawResponse, type SoapEnv } from './soap-support';

/**
 * Negative cases of the SOAP edge (issue 4, Tests; docs/soap.md §7): each is answered with the right fault and
 * HTTP status for the endpoint's SOAP version, never a 200, HTML, plain text or a stack, and leaves the database
 * exactly as it was.
 */
type V = '1.1' | '1.2';
const VERSIONS: V[] = ['1.1', '1.2'];
const path = (v: V) => (v === '1.1' ? '/soap' : '/soap12');
const ctype = (v: V) => (v === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8');
const headers = (v: V, op: string, extra: Record<string, string> = {}): Record<string, string> => ({
  ...(v === '1.1' ? { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${ACTION(op)}"` } : { 'Content-Type': `application/soap+xml; charset=utf-8; action="${ACTION(op)}"` }),
  Authorization: BASIC,
  ...extra,
});
const CREATE_MC = '<t:CreateMachineConfiguration><t:name>neg</t:name><t:cpu>1</t:cpu><t:memory>1024</t:memory></t:CreateMachineConfiguration>';

/** asserts a fault answer of version `v` (or `as` for VersionMismatch) with status and codes */
function expectFault(r: RawResponse, v: V, status: number, code: string, detailCode?: string, as: V = v) {
  expect(r.status).toBe(status);
  expect(r.headers['content-type']).toBe(ctype(as));
  expect(r.body.startsWith('<?xml')).toBe(true);
  expect(r.body).toContain(`xmlns:soap="${as === '1.1' ? SOAP11 : SOAP12}"`);
  expect(r.body).not.toMatch(/\bat [\w.<>]+ \(|Error:|<html/i); // no stack, no error.toString(), no HTML
  const f = faultOf(r);
  expect(f.code).toBe(code);
  if (detailCode) expect(f.detailCode).toBe(detailCode);
  return f;
}

const client = (v: V) => (v === '1.1' ? 'soap:Client' : 'soap:Sender');

describe.each(ENGINES)('SOAP edge negatives [%s]', (engine) => {
  const env = useSoapApp(engine, { SOAP_MAX_BODY_BYTES: String(64 * 1024) });
  let before: string;
  let e: SoapEnv;
  beforeEach(async () => {
    e = env();
    before = await snapshot(e);
  });
  afterEach(async () => {
    // nothing any refused request did may be visible in the model
    expect(await snapshot(e)).toBe(before);
  });

  describe.each(VERSIONS)('SOAP %s', (v) => {
    const url = () => `${e.base}${path(v)}`;
    const status = v === '1.1' ? 500 : 400;

    it('DOCTYPE with an external entity (XXE) is refused and nothing is read', async () => {
      const body = `<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + envelope(v, CREATE_MC.replace('neg', '&x;')).replace(/^<\?xml[^>]*\?>/, '');
      const r = await post(url(), body, headers(v, 'CreateMachineConfiguration'));
      expectFault(r, v, status, client(v), 'SOAP.DTD_NOT_ALLOWED');
      expect(r.body).not.toContain('root:');
    });

    it('entity expansion (billion laughs) is refused', async () => {
      const ents = ['<!ENTITY l0 "lol">', ...Array.from({ length: 9 }, (_, i) => `<!ENTITY l${i + 1} "${`&l${i};`.repeat(10)}">`)].join('');
      const body = `<?xml version="1.0"?><!DOCTYPE a [${ents}]>` + envelope(v, CREATE_MC.replace('neg', '&l9;')).replace(/^<\?xml[^>]*\?>/, '');
      expectFault(await post(url(), body, headers(v, 'CreateMachineConfiguration')), v, status, client(v), 'SOAP.DTD_NOT_ALLOWED');
    });

    it('a processing instruction is refused (WS-I BP R1009)', async () => {
      const body = envelope(v, CREATE_MC).replace('<soap:Body>', '<soap:Body><?evil x?>');
      expectFault(await post(url(), body, headers(v, 'CreateMachineConfiguration')), v, status, client(v), 'SOAP.PI_NOT_ALLOWED');
    });

    it('an oversize body is 413 with a fault', async () => {
      const body = envelope(v, CREATE_MC.replace('neg', 'x'.repeat(80 * 1024)));
      expectFault(await post(url(), body, headers(v, 'CreateMachineConfiguration')), v, 413, client(v), 'SOAP.TOO_LARGE');
    });

    it('a gzip bomb (20 KB inflating to 20 MB) is 413: the cap counts inflated bytes', async () => {
      const bomb = gzipSync(Buffer.from(envelope(v, CREATE_MC.replace('neg', ' '.repeat(20 * 1024 * 1024)))));
      expect(bomb.length).toBeLessThan(64 * 1024);
      expectFault(await post(url(), bomb, headers(v, 'CreateMachineConfiguration', { 'Content-Encoding': 'gzip' })), v, 413, client(v), 'SOAP.TOO_LARGE');
    });

    it('a small gzip body within the cap is accepted (compression itself is fine)', async () => {
      const ok = gzipSync(Buffer.from(envelope(v, '<t:ListMachineConfigurations/>')));
      const r = await post(url(), ok, headers(v, 'ListMachineConfigurations', { 'Content-Encoding': 'gzip' }));
      expect(r.status).toBe(200);
      expect(r.body).toContain('ListMachineConfigurationsResponse');
    });

    it('an unknown Content-Encoding is 415 with a fault', async () => {
      expectFault(await post(url(), envelope(v, CREATE_MC), headers(v, 'CreateMachineConfiguration', { 'Content-Encoding': 'compress' })), v, 415, client(v));
    });

    it('a charset other than UTF-8 is 415 with a fault', async () => {
      const h = headers(v, 'CreateMachineConfiguration');
      h['Content-Type'] = h['Content-Type'].replace('utf-8', 'iso-8859-1');
      expectFault(await post(url(), envelope(v, CREATE_MC), h), v, 415, client(v), 'SOAP.UNSUPPORTED_ENCODING');
    });

    it('the operation element in a wrong namespace is refused (namespace-aware, whatever the prefix)', async () => {
      const body = envelope(v, CREATE_MC.replace(/t:/g, 'x:').replace('<x:CreateMachineConfiguration>', '<x:CreateMachineConfiguration xmlns:x="urn:totally:wrong">'));
      expectFault(await post(url(), body, headers(v, 'CreateMachineConfiguration')), v, status, client(v), 'SOAP.WRONG_NAMESPACE');
    });

    it('our namespace under any prefix is accepted (prefixes are never compared)', async () => {
      const body = envelope(v, '<zz:ListMachineConfigurations xmlns:zz="urn:cimi-gateway:soap:1:types"><zz:first>1</zz:first></zz:ListMachineConfigurations>');
      const r = await post(url(), body, headers(v, 'ListMachineConfigurations'));
      expect(r.status).toBe(200);
    });

    it('SOAPAction/action of another operation than the Body runs neither', async () => {
      // Body: create; action: delete of an existing configuration. node-soap alone would run the delete (soap.md V3)
      const r = await post(url(), envelope(v, CREATE_MC), headers(v, 'DeleteMachineConfiguration'));
      expectFault(r, v, status, client(v), 'SOAP.ACTION_MISMATCH');
      const list = await soapCall(e, v, 'ListMachineConfigurations', '');
      const id = /<t:id>([^<]+)<\/t:id>/.exec(list.body)![1];
      const r2 = await post(url(), envelope(v, `<t:DeleteMachineConfiguration><t:id>${id}</t:id></t:DeleteMachineConfiguration>`), headers(v, 'CreateMachineConfiguration'));
      expectFault(r2, v, status, client(v), 'SOAP.ACTION_MISMATCH');
    });

    it('a stray SOAPAction header never steers node-soap (also on the SOAP 1.2 endpoint, where it has no meaning)', async () => {
      const h = { ...headers(v, 'ListMachineConfigurations'), SOAPAction: v === '1.1' ? '""' : `"${ACTION('DeleteMachineConfiguration')}"` };
      const r = await post(url(), envelope(v, '<t:ListMachineConfigurations/>'), h);
      expect(r.status).toBe(200);
      expect(r.body).toContain('<t:ListMachineConfigurationsResponse');
    });

    it('an unknown operation is a fault, not node-soap plain text', async () => {
      expectFault(await post(url(), envelope(v, '<t:Nope/>'), headers(v, 'Nope')), v, status, client(v), 'SOAP.UNKNOWN_OPERATION');
    });

    it('the other SOAP version is a SOAP 1.1 VersionMismatch naming the other endpoint; only the 1.2 endpoint adds Upgrade', async () => {
      const other: V = v === '1.1' ? '1.2' : '1.1';
      const r = await post(url(), envelope(other, CREATE_MC), headers(other, 'CreateMachineConfiguration'));
      const f = expectFault(r, v, 500, 'soap:VersionMismatch', undefined, '1.1');
      // the reason names the path of the WSDL port for the version sent
      const wsdl = await (await fetch(`${e.base}/soap?wsdl`)).text();
      const port = new RegExp(`<${other === '1.1' ? 'soap' : 'soap12'}:address location="([^"]+)"`).exec(wsdl)![1];
      expect(f.reason).toContain(`send SOAP ${other} envelopes to ${new URL(port).pathname}`);
      if (v === '1.1') {
        // SOAP 1.2 Part 1 Appendix A defines Upgrade for a 1.2 node only; a SOAP 1.1 toolkit (gSOAP) rejects it
        expect(r.body).not.toContain('Upgrade');
        expect(r.body).not.toContain('<soap:Header');
        expect(new URL(port).pathname).toBe('/soap12');
      } else {
        expect(r.body).toContain(`<soap:Header><upg:Upgrade xmlns:upg="${SOAP12}"><upg:SupportedEnvelope qname="v:Envelope" xmlns:v="${SOAP12}"/></upg:Upgrade></soap:Header>`);
      }
    });

    it('a root that is not a SOAP Envelope is a VersionMismatch', async () => {
      expectFault(await post(url(), `<t:ListMachines xmlns:t="${TNS}"/>`, headers(v, 'ListMachines')), v, 500, 'soap:VersionMismatch');
    });

    it('an unknown header with mustUnderstand is a MustUnderstand fault', async () => {
      const mu = v === '1.1' ? '1' : 'true';
      const r = await post(url(), envelope(v, CREATE_MC, `<x:Tx xmlns:x="urn:example:tx" soap:mustUnderstand="${mu}">1</x:Tx>`), headers(v, 'CreateMachineConfiguration'));
      expectFault(r, v, 500, 'soap:MustUnderstand');
      if (v === '1.2') expect(r.body).toContain('<soap:NotUnderstood qname="q:Tx" xmlns:q="urn:example:tx"/>');
    });

    it('WS-Addressing headers with mustUnderstand are understood', async () => {
      const mu = v === '1.1' ? '1' : 'true';
      const hdr = `<wsa:Action xmlns:wsa="http://www.w3.org/2005/08/addressing" soap:mustUnderstand="${mu}">${ACTION('ListMachines')}</wsa:Action>`;
      const r = await post(url(), envelope(v, '<t:ListMachines/>', hdr), headers(v, 'ListMachines'));
      expect(r.status).toBe(200);
    });

    it('an empty wsse:Security header (no UsernameToken, no Signature) is wsse:InvalidSecurity', async () => {
      const mu = v === '1.1' ? '1' : 'true';
      const hdr = `<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" soap:mustUnderstand="${mu}"/>`;
      const r = await post(url(), envelope(v, CREATE_MC, hdr), headers(v, 'CreateMachineConfiguration'));
      const f = expectFault(r, v, status, v === '1.1' ? 'wsse:InvalidSecurity' : 'soap:Sender');
      if (v === '1.2') expect(f.subcode).toBe('wsse:InvalidSecurity');
      expect(r.body).not.toContain('GatewayFault'); // WSS 1.1 §12: no detail on security faults
    });

    const mc = (inner: string) => `<t:CreateMachineConfiguration>${inner}</t:CreateMachineConfiguration>`;
    it.each([
      ['text in an integer', 'CreateMachineConfiguration', mc('<t:cpu>abc</t:cpu><t:memory>1024</t:memory>'), 'cpu', /cpu must be an integer/],
      ['an integer below its minimum', 'CreateMachineConfiguration', mc('<t:cpu>0</t:cpu>'), 'cpu', /cpu must be at least 1/],
      ['an integer out of xsd:int range', 'CreateMachineConfiguration', mc('<t:cpu>99999999999</t:cpu>'), 'cpu', /out of range/],
      [
        'a value outside its enumeration',
        'ListMachines',
        '<t:ListMachines><t:filter><t:condition><t:attribute>name</t:attribute><t:operator>like</t:operator><t:stringValue>a</t:stringValue></t:condition></t:filter></t:ListMachines>',
        'filter.condition[0].operator',
        /must be one of eq, ne, lt, le, gt, ge/,
      ],
      ['a negative version', 'DeleteMachine', '<t:DeleteMachine><t:id>x</t:id><t:expectedVersion>-1</t:expectedVersion></t:DeleteMachine>', 'expectedVersion', /at least 0/],
      ['a boolean that is not one', 'StopMachine', '<t:StopMachine><t:id>x</t:id><t:force>yes</t:force></t:StopMachine>', 'force', /true or false/],
      ['a string over its maxLength', 'CreateMachineConfiguration', mc(`<t:cpuArch>${'a'.repeat(256)}</t:cpuArch>`), 'cpuArch', /at most 255/],
      ['a string under its minLength', 'CreateUser', '<t:CreateUser><t:userName>zz</t:userName><t:password>short</t:password><t:tenant>demo</t:tenant><t:roles>user</t:roles></t:CreateUser>', 'password', /at least 8/],
      ['a string outside its pattern', 'CreateTenant', '<t:CreateTenant><t:name>no spaces allowed</t:name></t:CreateTenant>', 'name', /pattern/],
      ['an unknown element', 'CreateMachineConfiguration', mc('<t:gpu>1</t:gpu>'), 'gpu', /has no element/],
      ['elements out of order', 'CreateMachineConfiguration', mc('<t:memory>1</t:memory><t:cpu>1</t:cpu>'), 'cpu', /out of order/],
      ['a nested element in a simple value', 'CreateMachineConfiguration', mc('<t:cpu><t:x>1</t:x></t:cpu>'), 'cpu', /takes text/],
      ['an attribute where none is declared', 'CreateMachineConfiguration', mc('<t:cpu foo="1">1</t:cpu>'), 'cpu', /no attributes/],
      ['a missing required argument', 'GetMachine', '<t:GetMachine/>', 'id', /id is required/],
      ['a bad enum value in a list', 'CreateUser', '<t:CreateUser><t:userName>zz</t:userName><t:password>password-1</t:password><t:tenant>demo</t:tenant><t:roles>root</t:roles></t:CreateUser>', 'roles[0]', /must be one of admin, user, reader/],
      ['an invalid dateTime', 'ListJobs', '<t:ListJobs><t:filter><t:condition><t:attribute>created</t:attribute><t:operator>gt</t:operator><t:dateTimeValue>yesterday</t:dateTimeValue></t:condition></t:filter></t:ListJobs>', 'filter.condition[0].dateTimeValue', /xsd:dateTime/],
    ])('%s is an InvalidArgument fault naming the argument, before any service call', async (_what, op, body, field, message) => {
      const r = await post(url(), envelope(v, body), headers(v, op));
      const f = expectFault(r, v, status, client(v), 'SOAP.INVALID_ARGUMENT');
      if (v === '1.2') expect(f.subcode).toBe('t:InvalidArgument');
      expect(r.body).toContain(`<t:field>${field}</t:field>`);
      expect(f.reason).toMatch(message);
    });

    it('empty and malformed bodies are Client/Sender faults without parser internals', async () => {
      expectFault(await post(url(), '', headers(v, 'ListMachines')), v, status, client(v), 'SOAP.MALFORMED_XML');
      expectFault(await post(url(), '<soap:Envelope>', headers(v, 'ListMachines')), v, status, client(v), 'SOAP.MALFORMED_XML');
      expectFault(await post(url(), envelope(v, '<t:ListMachines>&nbsp;</t:ListMachines>'), headers(v, 'ListMachines')), v, status, client(v), 'SOAP.MALFORMED_XML');
    });

    it('two Body elements, or two operations in one Body, are refused', async () => {
      const two = envelope(v, '<t:ListMachines/>').replace('</soap:Envelope>', '<soap:Body><t:ListVolumes/></soap:Body></soap:Envelope>');
      expectFault(await post(url(), two, headers(v, 'ListMachines')), v, status, client(v), 'SOAP.BAD_ENVELOPE');
      expectFault(await post(url(), envelope(v, '<t:ListMachines/><t:ListVolumes/>'), headers(v, 'ListMachines')), v, status, client(v), 'SOAP.BAD_ENVELOPE');
    });

    it('no credentials, or a wrong password: 401 with a Basic challenge and a wsse:FailedAuthentication fault', async () => {
      for (const auth of [null, `Basic ${Buffer.from('admin:wrong-password').toString('base64')}`]) {
        const r = await soapCall(e, v, 'CreateMachineConfiguration', '<t:name>x</t:name>', { auth });
        expectFault(r, v, 401, v === '1.1' ? 'wsse:FailedAuthentication' : 'soap:Sender');
        expect(r.headers['www-authenticate']).toBe('Basic realm="cimi-gateway", charset="UTF-8"');
        if (v === '1.2') expect(faultOf(r).subcode).toBe('wsse:FailedAuthentication');
      }
    });

    it('a reader may not create: NotAuthorized fault', async () => {
      await e.h.user('demo', ['reader'], `reader-${v.replace('.', '')}`);
      before = await snapshot(e); // the new user is the test's own setup
      const auth = `Basic ${Buffer.from(`reader-${v.replace('.', '')}:password-123`).toString('base64')}`;
      const r = await post(url(), envelope(v, CREATE_MC), headers(v, 'CreateMachineConfiguration', { Authorization: auth }));
      const f = expectFault(r, v, status, client(v));
      expect(f.kind).toBe('forbidden');
      if (v === '1.2') expect(f.subcode).toBe('t:NotAuthorized');
    });

    it('an internal error is a Server/Receiver fault with a generic reason and the correlation id only', async () => {
      const ops = e.h.get(SoapOperations);
      const real = ops.handlers.get('ListVolumes')!;
      ops.handlers.set('ListVolumes', async () => {
        throw new TypeError('connection to db-7.internal refused (password=hunter2)');
      });
      try {
        const r = await post(url(), envelope(v, '<t:ListVolumes/>'), headers(v, 'ListVolumes', { 'X-Request-Id': `req-internal-${v}` }));
        const f = expectFault(r, v, 500, v === '1.1' ? 'soap:Server' : 'soap:Receiver');
        expect(f.reason).toBe(`internal error (correlation id req-internal-${v})`);
        expect(f.kind).toBe('internal');
        expect(r.body).not.toMatch(/hunter2|db-7|TypeError/);
      } finally {
        ops.handlers.set('ListVolumes', real);
      }
    });

    it('GET without ?wsdl and other methods are 405 faults', async () => {
      const get = await fetch(url());
      expect(get.status).toBe(405);
      expect(get.headers.get('content-type')).toBe(ctype(v));
      const put = await fetch(url(), { method: 'PUT', body: envelope(v, '<t:ListMachines/>') });
      expect(put.status).toBe(405);
      expect(put.headers.get('allow')).toBe('GET, POST');
    });
  });
});
