import { join } from 'node:path';
import { ENGINES } from '../../support/databases';
import { ADMIN_PASSWORD, eventually } from '../../support/app-harness';
import { fixture, FIXTURES, summarize, tar } from '../../support/ovf';
import { faultOf, PYTHON, runClient, snapshot, soapCall, useSoapApp } from './soap-support';

/**
 * OVF on the SOAP door (issue 17): ImportSystemTemplate (the package as xsd:base64Binary, or a data: source URI),
 * ExportSystem and ExportSystemTemplate (the package base64 in the answer), through raw envelopes on both SOAP
 * versions and through zeep; refused packages are Client faults that write nothing.
 */
const b64 = (s: string | Buffer) => Buffer.from(s).toString('base64');
const pick = (body: string, tag: string) => new RegExp(`<t:${tag}>([^<]*)</t:${tag}>`).exec(body)?.[1];

const PACKAGE_CAP = 2 * 1024 * 1024;

describe.each(ENGINES)('SOAP OVF [%s]', (engine) => {
  const env = useSoapApp(engine, { OVF_MAX_PACKAGE_BYTES: String(PACKAGE_CAP) });

  it.each(['1.1', '1.2'] as const)('imports a descriptor and exports the template back (SOAP %s)', async (v) => {
    const r = await soapCall(env(), v, 'ImportSystemTemplate', `<t:ovfPackage>${b64(fixture('virt-v2v-ovirt.ovf'))}</t:ovfPackage>`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('<t:state>SUCCESS</t:state>');
    expect(r.body).toMatch(/<t:warning>[^<]*ResourceType 23/);
    const id = /<t:resource>\s*<t:id>([^<]+)<\/t:id>/.exec(r.body)![1];
    const ex = await soapCall(env(), v, 'ExportSystemTemplate', `<t:id>${id}</t:id>`);
    expect(ex.status).toBe(200);
    expect(pick(ex.body, 'mediaType')).toBe('application/ovf+xml');
    const descriptor = Buffer.from(pick(ex.body, 'ovfPackage')!, 'base64').toString('utf8');
    expect(summarize(descriptor)).toEqual([{ name: 'rhel9-guest', cpu: 2, memoryMB: 4096, disksKB: [21474837], connections: ['ovirtmgmt'] }]);
  });

  it('imports from a data: source URI', async () => {
    const r = await soapCall(env(), '1.1', 'ImportSystemTemplate', `<t:source>data:application/ovf+xml;base64,${b64(fixture('vmware-ovftool.ovf'))}</t:source>`);
    expect(r.status).toBe(200);
    expect(r.body).toContain('<t:name>web01</t:name>');
  });

  const BAD: [string, string, string, string][] = [
    ['not XML', `<t:ovfPackage>${b64('plain text')}</t:ovfPackage>`, 'OVF.NOT_XML', 'invalid-input'],
    ['a DTD', `<t:ovfPackage>${b64('<!DOCTYPE x [<!ENTITY a "b">]><x/>')}</t:ovfPackage>`, 'OVF.DTD', 'invalid-input'],
    ['an OVA missing a References file', `<t:ovfPackage>${b64(tar([{ name: 'a.ovf', data: fixture('vmware-ovftool.ovf') }]))}</t:ovfPackage>`, 'OVF.MISSING_FILE', 'invalid-input'],
    ['path traversal in an OVA', `<t:ovfPackage>${b64(tar([{ name: 'a.ovf', data: fixture('vmware-ovftool.ovf') }, { name: 'x/../../web01-disk1.vmdk', data: 'x' }]))}</t:ovfPackage>`, 'OVF.PATH_TRAVERSAL', 'invalid-input'],
    ['both package and source', `<t:ovfPackage>${b64('x')}</t:ovfPackage><t:source>data:,x</t:source>`, 'SOAP.INVALID_ARGUMENT', 'invalid-input'],
    ['a package that is not base64', `<t:ovfPackage>***</t:ovfPackage>`, 'SOAP.INVALID_ARGUMENT', 'invalid-input'],
    ['a remote source', `<t:source>http://127.0.0.1:1/x.ova</t:source>`, 'OVF.SOURCE_UNSUPPORTED', 'unsupported'],
  ];
  it.each(BAD)('refuses %s with a fault and writes nothing', async (_what, inner, code, kind) => {
    const before = await snapshot(env());
    const r = await soapCall(env(), '1.2', 'ImportSystemTemplate', inner);
    expect(r.status).toBe(kind === 'unsupported' ? 500 : 400);
    const f = faultOf(r);
    expect(f.code).toBe(kind === 'unsupported' ? 'soap:Receiver' : 'soap:Sender');
    expect(f.detailCode).toBe(code);
    expect(f.kind).toBe(kind);
    expect(await snapshot(env())).toBe(before);
  });

  it.each(['1.1', '1.2'] as const)('ImportSystem makes the template and a System with its Machine and Network; the Job provisions them (SOAP %s)', async (v) => {
    const r = await soapCall(env(), v, 'ImportSystem', `<t:ovfPackage>${b64(fixture('vmware-ovftool.ovf'))}</t:ovfPackage>`);
    expect(r.status).toBe(200);
    expect(r.body).toMatch(/<t:job>[\s\S]*<t:state>(QUEUED|RUNNING|SUCCESS)<\/t:state>/);
    const id = /<t:resource>\s*<t:id>([^<]+)<\/t:id>/.exec(r.body)![1];
    const jobId = /<t:job>\s*<t:id>([^<]+)<\/t:id>/.exec(r.body)![1];
    await eventually(async () => (await soapCall(env(), v, 'GetJob', `<t:id>${jobId}</t:id>`)).body.includes('<t:state>SUCCESS</t:state>'), 20000);
    expect((await soapCall(env(), v, 'GetSystem', `<t:id>${id}</t:id>`)).body).toContain('<t:state>STOPPED</t:state>');
    // the System's components are what the package described: its export reads them
    const ex = await soapCall(env(), v, 'ExportSystem', `<t:id>${id}</t:id>`);
    expect(summarize(Buffer.from(pick(ex.body, 'ovfPackage')!, 'base64').toString('utf8'))).toEqual([{ name: 'web01', cpu: 2, memoryMB: 4096, disksKB: [17179870], connections: ['VM_Network'] }]);
  });

  it('ImportSystem of a refused package is a Client fault that writes nothing (no template, no System)', async () => {
    const before = await snapshot(env());
    const r = await soapCall(env(), '1.1', 'ImportSystem', `<t:ovfPackage>${b64(fixture('vmware-ovftool.ovf').replace('ovf:/disk/vmdisk1', 'ovf:/disk/vmdisk7'))}</t:ovfPackage>`);
    expect(faultOf(r)).toMatchObject({ code: 'soap:Client', detailCode: 'OVF.BAD_REFERENCE' });
    expect(await snapshot(env())).toBe(before);
  });

  it('the import operations take a package up to OVF_MAX_PACKAGE_BYTES (over SOAP_MAX_BODY_BYTES); over it, a 413 fault that writes nothing', async () => {
    // References/File ovf:size is the disk file's size (DSP0243 §7.1), checked against the entry
    const ova = (n: number) => tar([{ name: 'web01.ovf', data: fixture('vmware-ovftool.ovf').replace('ovf:size="1048576"', `ovf:size="${n}"`) }, { name: 'web01-disk1.vmdk', data: Buffer.alloc(n, 1) }]);
    for (const v of ['1.1', '1.2'] as const) {
      const r = await soapCall(env(), v, 'ImportSystemTemplate', `<t:ovfPackage>${b64(ova(PACKAGE_CAP - 64 * 1024))}</t:ovfPackage>`);
      expect(r.status).toBe(200);
      expect(r.body).toContain('<t:state>SUCCESS</t:state>');
    }
    const before = await snapshot(env());
    // a package just over the cap is refused by the envelope's text cap (its base64 is longer than the cap's)
    expect(faultOf(await soapCall(env(), '1.1', 'ImportSystem', `<t:ovfPackage>${b64(ova(PACKAGE_CAP + 1))}</t:ovfPackage>`))).toMatchObject({ code: 'soap:Client', detailCode: 'SOAP.LIMITS' });
    // a body over the allowance is not read past it: 413
    const over = await soapCall(env(), '1.2', 'ImportSystem', `<t:ovfPackage>${b64(ova(2 * PACKAGE_CAP))}</t:ovfPackage>`);
    expect(over.status).toBe(413);
    expect(faultOf(over).code).toBe('soap:Sender');
    // the larger cap is the import operations' only: another operation named with the same body size is refused at SOAP_MAX_BODY_BYTES
    const other = await soapCall(env(), '1.1', 'CreateMachine', `<t:name>${'x'.repeat(512 * 1024)}</t:name>`);
    expect(other.status).toBe(413);
    // and an import Body sent under another operation's action is refused before it runs
    const lied = await soapCall(env(), '1.1', 'GetMachine', `<t:id>x</t:id>`, { action: 'urn:cimi-gateway:soap:1:ImportSystem' });
    expect(lied.status).toBe(500);
    expect(await snapshot(env())).toBe(before);
  });

  it('ExportSystem of an unknown id is ResourceNotFound', async () => {
    const r = await soapCall(env(), '1.1', 'ExportSystem', '<t:id>00000000-0000-4000-8000-000000000000</t:id>');
    expect(faultOf(r)).toMatchObject({ code: 'soap:Client', detailCode: 'GENERIC.NOT_FOUND' });
  });

  it('zeep imports, exports an OVA and imports it back on both ports, and decodes the DTD refusal', async () => {
    const report = (await runClient(PYTHON, [join(__dirname, 'clients', 'zeep_ovf.py'), env().base, 'admin', ADMIN_PASSWORD, join(FIXTURES, 'virtualbox-export.ovf')])) as Record<string, Record<string, unknown>>;
    for (const port of ['CimiGatewayPort', 'CimiGatewayPort12']) {
      const r = report[port];
      expect(r.job).toBe('SUCCESS');
      expect(r.components).toEqual(['NAT:Network', 'Ubuntu_22.04:Machine']);
      expect((r.warnings as string[]).join(' ')).toContain('ResourceType 35');
      expect(r).toMatchObject({ ovaName: 'Ubuntu_22.04.ova', ovaMedia: 'application/x-ova', ustar: 'ustar' });
      expect(r.backComponents).toEqual(r.components);
      expect(r.dtd).toMatchObject({ detail: { code: 'OVF.DTD', kind: 'invalid-input' } });
    }
  });
});
