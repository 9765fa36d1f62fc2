import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseXml, type XElement } from '../xml/safe-xml';
import { SoapContract, TYPES_FILE, WSDL_DIR, WSDL_FILE } from './soap-contract';

const XSD_NS = 'http://www.w3.org/2001/XMLSchema';

describe('SoapContract (wsdl/ as the one source of truth)', () => {
  it('reads every operation with the same soapAction in both bindings and a request/response element each', () => {
    const c = new SoapContract();
    expect(c.operations.size).toBe(191);
    expect(c.operations.get('CreateMachine')).toEqual({ name: 'CreateMachine', soapAction: 'urn:cimi-gateway:soap:1:CreateMachine' });
    for (const op of ['ListAddresses', 'AttachVolume', 'DetachVolume', 'ListSystemComponents', 'StopJob', 'DeleteJob', 'CreateTenant', 'CreateUser', 'ListUsers', 'RestoreMachine', 'RegisterCertificate', 'ListCertificates', 'RemoveCertificate', 'ListEventLogs', 'GetEventLog', 'ListEvents', 'GetEvent', 'GetAuditLog', 'ListAuditEvents', 'GetAuditEvent', 'ListTenants', 'DisableTenant', 'EnableTenant', 'DeleteTenant', 'SetUserRoles', 'SetUserPassword', 'ResetUserPassword', 'DisableUser', 'EnableUser', 'DeleteUser', 'GetQuota', 'SetQuota', 'ListMeters', 'GetMeter', 'ListMeterSamples', 'ImportSystemTemplate', 'ImportSystem', 'ExportSystem', 'ExportSystemTemplate', 'Subscribe', 'RenewSubscription', 'GetSubscription', 'ListSubscriptions', 'Unsubscribe']) {
      expect(c.operations.has(op)).toBe(true);
    }
  });

  it('serves the WSDL with the public address and a resolvable schema location', () => {
    const w = new SoapContract().publicWsdl('https://cloud.example.com');
    expect(w).toContain('<soap:address location="https://cloud.example.com/soap"/>');
    expect(w).toContain('<soap12:address location="https://cloud.example.com/soap12"/>');
    expect(w).toContain('schemaLocation="https://cloud.example.com/soap?xsd=types.xsd"');
  });

  it('publishes an XSD without xsd:group (Perl SOAP::WSDL and other older toolkits cannot read model groups)', () => {
    const c = new SoapContract();
    const groups: string[] = [];
    const walk = (el: XElement): void => {
      if (el.ns === XSD_NS && el.local === 'group') groups.push(el.attrs.map((a) => `${a.local}=${a.value}`).join(' '));
      el.children.forEach(walk);
    };
    walk(parseXml(c.typesText, { maxDepth: 64, maxElements: 200000, maxAttributes: 64 }));
    expect(groups).toEqual([]);
    expect(c.typesText).not.toMatch(/<(\w+:)?group\b/);
  });

  describe('a broken contract fails the start', () => {
    let dir: string;
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'wsdl-'));
      cpSync(WSDL_DIR, dir, { recursive: true });
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const edit = (file: string, from: string | RegExp, to: string) => writeFileSync(join(dir, file), readFileSync(join(dir, file), 'utf8').replace(from, to));

    it('when a binding lacks an operation', () => {
      edit(WSDL_FILE, /<wsdl:operation name="GetJob">\s*<soap12:operation[\s\S]*?<\/wsdl:operation>/, '');
      expect(() => new SoapContract(dir)).toThrow(/GetJob needs the same soapAction/);
    });
    it('when the types have no element for an operation', () => {
      edit(TYPES_FILE, '<xsd:element name="GetJobResponse">', '<xsd:element name="GetJobAnswer">');
      expect(() => new SoapContract(dir)).toThrow(/GetJobResponse/);
    });
    it('when a type reference dangles or the XSD leaves the subset', () => {
      edit(TYPES_FILE, 'type="tns:JobState"', 'type="tns:JobStatus"');
      expect(() => new SoapContract(dir)).toThrow(/unknown type JobStatus/);
    });
    it('when the WSDL is not well-formed', () => {
      edit(WSDL_FILE, '</wsdl:definitions>', '');
      expect(() => new SoapContract(dir)).toThrow(/malformed/);
    });
  });
});
