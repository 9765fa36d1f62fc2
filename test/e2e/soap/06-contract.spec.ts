import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { SoapContract, TYPES_FILE, WSDL_DIR } from '../../../src/adapters/soap/soap-contract';
import { parseXml } from '../../../src/adapters/xml/safe-xml';
import { XsdValidationError } from '../../../src/adapters/xml/xsd-subset';
import { ACTION, BASIC, post, TNS, useSoapApp } from './soap-support';

/**
 * The contract as clients get it: ?wsdl with the configured public address (PUBLIC_BASE_URL), the types at the
 * URL the WSDL names; and our XSD interpreter agrees with libxml2 (xmllint --schema, an independent validator)
 * on valid and invalid requests, so the edge validates what the published XSD says.
 */
describe.each(ENGINES)('SOAP contract serving [%s]', (engine) => {
  const env = useSoapApp(engine, { PUBLIC_BASE_URL: 'https://cloud.example.com/gw' });

  it.each(['/soap?wsdl', '/soap12?WSDL'])('GET %s names the public endpoints and schema location', async (path) => {
    const r = await fetch(`${env().base}${path}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/xml; charset=utf-8');
    const text = await r.text();
    expect(text).toContain('<soap:address location="https://cloud.example.com/gw/soap"/>');
    expect(text).toContain('<soap12:address location="https://cloud.example.com/gw/soap12"/>');
    expect(text).toContain('schemaLocation="https://cloud.example.com/gw/soap?xsd=types.xsd"');
    // the operations' documentation travels with it
    expect(text.match(/<wsdl:documentation>/g)!.length).toBeGreaterThan(new SoapContract().operations.size);
  });

  // wsdl/samples: envelopes partners can diff; the requests are valid, the faults are what the gateway answers
  const SAMPLES = join(WSDL_DIR, 'samples');
  const sample = (f: string) => readFileSync(join(SAMPLES, f), 'utf8');
  const faultOnly = (xml: string) => /<soap:Fault[\s\S]*<\/soap:Fault>/.exec(xml.replace(/>\s+</g, '><'))![0].replace(/<t:correlationId>[^<]*</, '<t:correlationId>X<');

  it.each(readdirSync(SAMPLES).filter((f) => f.endsWith('.request.xml')))('sample %s is valid against the XSD (ours and libxml2)', async (f) => {
    const body = parseXml(sample(f)).children.find((c) => c.local === 'Body')!.children[0];
    expect(() => new SoapContract().schema.decode(body)).not.toThrow();
    const inner = /<soap:Body>\s*([\s\S]*?)\s*<\/soap:Body>/.exec(sample(f))![1].replace(/^<t:(\w+)/, `<t:$1 xmlns:t="${TNS}"`);
    const file = join(mkdtempSync(join(tmpdir(), 'sample-')), 'op.xml');
    writeFileSync(file, inner);
    await new Promise<void>((resolve, reject) => execFile('xmllint', ['--noout', '--schema', join(WSDL_DIR, TYPES_FILE), file], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve())));
    rmSync(file, { force: true });
  });

  it.each(['CreateMachineConfiguration.soap11.request.xml', 'ListMachines.soap12.request.xml', 'ListAuditEvents.soap11.request.xml'])('sample %s runs as posted', async (f) => {
    const op = f.split('.')[0];
    const v12 = f.includes('soap12');
    const headers: Record<string, string> = v12
      ? { 'Content-Type': `application/soap+xml; charset=utf-8; action="${ACTION(op)}"`, Authorization: BASIC }
      : { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${ACTION(op)}"`, Authorization: BASIC };
    const r = await post(`${env().base}${v12 ? '/soap12' : '/soap'}`, sample(f), headers);
    expect(r.status).toBe(200);
    expect(r.body).toContain(`<t:${op}Response`);
  });

  it.each([
    ['GetMachine.soap11.fault.xml', '/soap', 500],
    ['GetMachine.soap12.fault.xml', '/soap12', 400],
  ])('sample %s is exactly what the gateway answers', async (f, path, status) => {
    const v12 = path === '/soap12';
    const body = `<soap:Envelope xmlns:soap="${v12 ? 'http://www.w3.org/2003/05/soap-envelope' : 'http://schemas.xmlsoap.org/soap/envelope/'}" xmlns:t="${TNS}"><soap:Body><t:GetMachine><t:id>00000000-0000-0000-0000-000000000000</t:id></t:GetMachine></soap:Body></soap:Envelope>`;
    const headers: Record<string, string> = v12
      ? { 'Content-Type': 'application/soap+xml; charset=utf-8', Authorization: BASIC }
      : { 'Content-Type': 'text/xml; charset=utf-8', SOAPAction: `"${ACTION('GetMachine')}"`, Authorization: BASIC };
    const r = await post(`${env().base}${path}`, body, headers);
    expect(r.status).toBe(status);
    expect(faultOnly(r.body)).toBe(faultOnly(sample(f)));
  });

  it('GET ?xsd=types.xsd serves the very file the edge validates with', async () => {
    for (const p of ['/soap', '/soap12']) {
      const r = await fetch(`${env().base}${p}?xsd=types.xsd`);
      expect(r.status).toBe(200);
      expect(await r.text()).toBe(new SoapContract().typesText);
    }
    expect((await fetch(`${env().base}/soap?xsd=other.xsd`)).status).toBe(500);
  });
});

describe('the XSD interpreter agrees with libxml2', () => {
  const contract = new SoapContract();
  const cases: [string, string][] = [
    ['valid create by reference', '<t:CreateMachine><t:name>a</t:name><t:machineTemplate><t:ref>x</t:ref></t:machineTemplate></t:CreateMachine>'],
    ['valid nested by value', '<t:CreateMachineTemplate><t:machineConfig><t:value><t:cpu>1</t:cpu><t:disks><t:capacity>5</t:capacity></t:disks><t:disks><t:capacity>6</t:capacity></t:disks></t:value></t:machineConfig></t:CreateMachineTemplate>'],
    ['valid filter', '<t:ListJobs><t:filter><t:combine>any</t:combine><t:condition><t:attribute>created</t:attribute><t:operator>gt</t:operator><t:dateTimeValue>2026-01-01T00:00:00Z</t:dateTimeValue></t:condition></t:filter><t:orderBy><t:attribute>created</t:attribute><t:descending>1</t:descending></t:orderBy><t:first>1</t:first></t:ListJobs>'],
    ['valid system template', '<t:CreateSystemTemplate><t:componentDescriptors><t:name>w</t:name><t:type>Machine</t:type><t:quantity>2</t:quantity><t:machineTemplate><t:ref>#x</t:ref></t:machineTemplate></t:componentDescriptors></t:CreateSystemTemplate>'],
    ['valid empty', '<t:ListUsers/>'],
    ['valid properties', '<t:UpdateMachine><t:id>x</t:id><t:properties><t:property><t:key>k</t:key><t:value>v</t:value></t:property></t:properties><t:unset>description</t:unset></t:UpdateMachine>'],
    ['text in an integer', '<t:CreateMachineConfiguration><t:cpu>abc</t:cpu></t:CreateMachineConfiguration>'],
    ['below minInclusive', '<t:CreateMachineConfiguration><t:cpu>0</t:cpu></t:CreateMachineConfiguration>'],
    ['above xsd:int', '<t:CreateMachineConfiguration><t:cpu>2147483648</t:cpu></t:CreateMachineConfiguration>'],
    ['above maxInclusive', '<t:CreateNetworkConfiguration><t:mtu>70000</t:mtu></t:CreateNetworkConfiguration>'],
    ['enumeration', '<t:CreateMachineImage><t:type>ISO</t:type></t:CreateMachineImage>'],
    ['maxLength', `<t:CreateMachineConfiguration><t:name>${'n'.repeat(256)}</t:name></t:CreateMachineConfiguration>`],
    ['minLength', '<t:GetJob><t:id></t:id></t:GetJob>'],
    ['pattern', '<t:CreateTenant><t:name>a b</t:name></t:CreateTenant>'],
    ['missing required', '<t:CreateMachine><t:name>a</t:name></t:CreateMachine>'],
    ['order', '<t:CreateMachineConfiguration><t:memory>1</t:memory><t:cpu>1</t:cpu></t:CreateMachineConfiguration>'],
    ['too many', '<t:GetJob><t:id>a</t:id><t:id>b</t:id></t:GetJob>'],
    ['unknown element', '<t:GetJob><t:id>a</t:id><t:x>b</t:x></t:GetJob>'],
    ['boolean', '<t:StopMachine><t:id>a</t:id><t:force>yes</t:force></t:StopMachine>'],
    ['dateTime', '<t:ListJobs><t:filter><t:condition><t:attribute>a</t:attribute><t:operator>eq</t:operator><t:dateTimeValue>2026-13-45</t:dateTimeValue></t:condition></t:filter></t:ListJobs>'],
    ['valid dateTime with fraction and offset', '<t:ListJobs><t:filter><t:condition><t:attribute>a</t:attribute><t:operator>eq</t:operator><t:dateTimeValue>2024-02-29T23:59:59.5+02:00</t:dateTimeValue></t:condition></t:filter></t:ListJobs>'],
    ['day out of range', '<t:ListJobs><t:filter><t:condition><t:attribute>a</t:attribute><t:operator>eq</t:operator><t:dateTimeValue>2026-02-29T00:00:00Z</t:dateTimeValue></t:condition></t:filter></t:ListJobs>'],
    ['hour out of range', '<t:ListJobs><t:filter><t:condition><t:attribute>a</t:attribute><t:operator>eq</t:operator><t:dateTimeValue>2026-02-01T25:00:00Z</t:dateTimeValue></t:condition></t:filter></t:ListJobs>'],
    ['valid integer with a sign', '<t:CreateMachineConfiguration><t:cpu>+2</t:cpu></t:CreateMachineConfiguration>'],
    ['element where text is expected', '<t:GetJob><t:id><t:x/></t:id></t:GetJob>'],
    ['text where elements are expected', '<t:CreateMachine>hello<t:machineTemplate/></t:CreateMachine>'],
  ];
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xsd-diff-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const xmllint = (file: string) =>
    new Promise<boolean>((resolve) => execFile('xmllint', ['--noout', '--schema', join(WSDL_DIR, TYPES_FILE), file], (err) => resolve(!err)));

  it.each(cases)('%s: same verdict', async (name, xml) => {
    const doc = xml.replace(/^<t:([A-Za-z]+)/, `<t:$1 xmlns:t="${TNS}"`);
    const file = join(dir, `${name.replace(/\W+/g, '-')}.xml`);
    writeFileSync(file, doc);
    let ours = true;
    try {
      contract.schema.decode(parseXml(doc));
    } catch (e) {
      if (!(e instanceof XsdValidationError)) throw e;
      ours = false;
    }
    expect({ name, ours }).toEqual({ name, ours: await xmllint(file) });
    expect(ours).toBe(name.startsWith('valid'));
  });
});
