import { ENGINES } from '../../support/databases';
import { ACT, ANON, CS, envelope, fault, getMachine, NS, one, payload, post, props, restMachine, text, useWsmanApp } from '../../support/wsman-client';

/**
 * The header quirks of docs/wsman.md §7 and the HTTP transport rules of §4, each through a real envelope: fake To,
 * empty MessageID, unqualified mustUnderstand (pywinrm), UTF-16 with BOM, reordered and case-changed selectors,
 * `__cimnamespace`, fractional OperationTimeout, chunked bodies, text/xml; and the faults for what is wrong.
 */
describe.each(ENGINES)('WS-Man headers and transport [%s]', (engine) => {
  const env = useWsmanApp(engine);
  let id: string;
  beforeAll(async () => {
    id = await restMachine(env().port, 'hdr-vm');
  });

  it('answers To anonymous, the response Action, RelatesTo = the request MessageID and a fresh MessageID; a fake To is not checked', async () => {
    const r = await post(env().port, envelope({ action: ACT.get, resourceUri: CS, to: 'http://windows-host:5985/wsman', messageId: 'uuid:11111111-2222-3333-4444-555555555555', selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } }));
    expect(r.status).toBe(200);
    const h = one(r.doc, NS.s, 'Header')!;
    expect(text(h, NS.wsa, 'To')).toBe(ANON);
    expect(text(h, NS.wsa, 'Action')).toBe(`${NS.wxf}/GetResponse`);
    expect(text(h, NS.wsa, 'RelatesTo')).toBe('uuid:11111111-2222-3333-4444-555555555555');
    expect(text(h, NS.wsa, 'MessageID')).toMatch(/^uuid:[0-9a-f-]{36}$/);
    expect(props(payload(r)).Name).toBe(id);
  });

  it('an empty MessageID (wsl without uuidgen) is accepted and echoed empty', async () => {
    const xml = envelope({ action: ACT.get, resourceUri: CS, messageId: null, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id }, extraHeaders: '<wsa:MessageID s:mustUnderstand="true"/>' });
    const r = await post(env().port, xml);
    expect(r.status).toBe(200);
    expect(text(r.doc, NS.wsa, 'RelatesTo')).toBe('');
  });

  it('pywinrm style: other prefixes, unqualified mustUnderstand, MS headers with mustUnderstand="false"', async () => {
    const xml =
      `<env:Envelope xmlns:env="${NS.s}" xmlns:a="${NS.wsa}" xmlns:w="${NS.wsman}" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"><env:Header>` +
      `<a:To>http://windows-host:5985/wsman</a:To><a:ReplyTo><a:Address mustUnderstand="true">${ANON}</a:Address></a:ReplyTo>` +
      `<w:MaxEnvelopeSize mustUnderstand="true">153600</w:MaxEnvelopeSize><a:MessageID>uuid:AB</a:MessageID>` +
      `<w:Locale mustUnderstand="false" xml:lang="en-US"/><p:DataLocale mustUnderstand="false" xml:lang="en-US"/>` +
      `<p:SessionId mustUnderstand="false">uuid:S</p:SessionId><p:OperationID s:mustUnderstand="false" xmlns:s="${NS.s}">uuid:O</p:OperationID><p:SequenceId mustUnderstand="false">1</p:SequenceId>` +
      `<w:OperationTimeout>PT20S</w:OperationTimeout><w:ResourceURI mustUnderstand="true">${CS}</w:ResourceURI>` +
      `<a:Action mustUnderstand="true">${ACT.get}</a:Action>` +
      `<w:SelectorSet><w:Selector Name="Name">${id}</w:Selector><w:Selector Name="CreationClassName">CIM_ComputerSystem</w:Selector></w:SelectorSet>` +
      `<x:Unknown xmlns:x="urn:x" mustUnderstand="true">unqualified: not a SOAP mustUnderstand</x:Unknown>` +
      `</env:Header><env:Body/></env:Envelope>`;
    const r = await post(env().port, xml);
    expect(r.status).toBe(200);
    expect(text(r.doc, NS.wsa, 'RelatesTo')).toBe('uuid:AB');
  });

  it('an unknown header with s:mustUnderstand="true" is an s:MustUnderstand fault naming it', async () => {
    const r = await post(env().port, envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id }, extraHeaders: '<x:Must xmlns:x="urn:example:x" s:mustUnderstand="true">1</x:Must>' }));
    expect(r.status).toBe(500);
    const f = fault(r);
    expect(f.code).toBe('MustUnderstand');
    const nu = one(r.doc, NS.s, 'NotUnderstood')!;
    const [p, l] = nu.getAttribute('qname')!.split(':');
    expect([nu.lookupNamespaceURI(p), l]).toEqual(['urn:example:x', 'Must']);
  });

  it('UTF-16LE with BOM (charset=UTF-16) and UTF-8 with BOM', async () => {
    const xml = envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } }).replace('encoding="UTF-8"', 'encoding="UTF-16"');
    const u16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]);
    const r = await post(env().port, u16, { contentType: 'application/soap+xml;charset=UTF-16' });
    expect(r.status).toBe(200);
    expect(props(payload(r)).Name).toBe(id);
    const u8 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } }))]);
    expect((await post(env().port, u8, { contentType: 'application/soap+xml;charset=utf-8' })).status).toBe(200);
    const bad = await post(env().port, Buffer.from([0x3c, 0xff, 0xfe, 0x3e]), { contentType: 'application/soap+xml;charset=UTF-8' });
    expect(fault(bad).subcode).toBe('EncodingLimit');
    expect(fault(bad).detail).toMatch(/faultDetail\/CharacterSet$/);
  });

  it('a UTF-16 request (wsman -j UTF-16, capture 10) is answered in UTF-16: BOM in its byte order, charset and declaration say so', async () => {
    const port = env().port;
    const u16 = (xml: string, be = false) => {
      const b = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml.replace('encoding="UTF-8"', 'encoding="UTF-16"'), 'utf16le')]);
      return be ? b.swap16() : b;
    };
    const isU16 = (r: { raw?: Buffer; headers: Record<string, unknown>; text: string }, bom: number[]) => {
      expect([...r.raw!.subarray(0, 2)]).toEqual(bom);
      expect(String(r.headers['content-type'])).toMatch(/;\s*charset=UTF-16$/i);
      expect(r.text.startsWith('<?xml version="1.0" encoding="UTF-16"?>')).toBe(true);
    };
    // capture 10: Identify with the declaration, UTF-16LE with BOM, charset=UTF-16, no credentials
    const identify = `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope xmlns:s="${NS.s}" xmlns:wsmid="${NS.wsmid}"><s:Header/><s:Body><wsmid:Identify/></s:Body></s:Envelope>`;
    const id16 = await post(port, u16(identify), { contentType: 'application/soap+xml;charset=UTF-16', auth: null });
    expect(id16.status).toBe(200);
    isU16(id16, [0xff, 0xfe]);
    expect(text(id16.doc, NS.wsmid, 'ProtocolVersion')).toBe('http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd');
    // a Get, a fault, and big-endian
    const get = envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } });
    const g = await post(port, u16(get), { contentType: 'application/soap+xml;charset=UTF-16' });
    expect(g.status).toBe(200);
    isU16(g, [0xff, 0xfe]);
    expect(props(payload(g)).Name).toBe(id);
    const f = await post(port, u16(envelope({ action: ACT.get, resourceUri: CS, selectors: { Colour: 'blue' } })), { contentType: 'application/soap+xml;charset=UTF-16' });
    isU16(f, [0xff, 0xfe]);
    expect(fault(f).subcode).toBe('InvalidSelectors');
    const be = await post(port, u16(get, true), { contentType: 'application/soap+xml;charset=UTF-16' });
    isU16(be, [0xfe, 0xff]);
    expect(props(payload(be)).Name).toBe(id);
    // UTF-8 stays UTF-8
    const u8 = await post(port, get);
    expect([...u8.raw!.subarray(0, 5)]).toEqual([...Buffer.from('<?xml')]);
    expect(String(u8.headers['content-type'])).toMatch(/charset=UTF-8$/);
    // MaxEnvelopeSize counts the octets as sent: a UTF-16 page of items is cut to fit 8192 octets, not 8192 UTF-8 bytes
    for (const n of ['u16-a', 'u16-b', 'u16-c']) await restMachine(port, n);
    const enumerate = envelope({ action: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate', resourceUri: CS, body: `<wsen:Enumerate xmlns:wsen="${NS.wsen}"><wsman:OptimizeEnumeration/><wsman:MaxElements>20</wsman:MaxElements></wsen:Enumerate>` }).replace('>153600<', '>8192<');
    const e8 = await post(port, enumerate);
    expect(e8.status).toBe(200);
    const e16 = await post(port, u16(enumerate), { contentType: 'application/soap+xml;charset=UTF-16' });
    expect(e16.status).toBe(200);
    isU16(e16, [0xff, 0xfe]);
    expect(e16.raw!.length).toBeLessThanOrEqual(8192);
    const items = (r: typeof e8) => Array.from(one(r.doc, NS.wsman, 'Items')?.childNodes ?? []).filter((n) => n.nodeType === 1).length;
    expect(items(e16)).toBeGreaterThanOrEqual(1);
    expect(items(e16)).toBeLessThan(items(e8));
  });

  it('selectors in any order, any case, with __cimnamespace root/cimv2; another namespace is InvalidSelectors', async () => {
    const rev = await getMachine(env().port, id, [['Name', id], ['CreationClassName', 'CIM_ComputerSystem']]);
    expect(rev.status).toBe(200);
    const lower = await getMachine(env().port, id, [['name', id], ['creationclassname', 'cim_computersystem'], ['__cimnamespace', 'root/cimv2']]);
    expect(lower.status).toBe(200);
    const sub = await getMachine(env().port, id, [['CreationClassName', 'CIMIGW_Machine'], ['Name', id]]);
    expect(props(payload(sub)).CreationClassName).toBe('CIMIGW_Machine');
    const other = await getMachine(env().port, id, [['__cimnamespace', 'root/interop'], ['CreationClassName', 'CIM_ComputerSystem'], ['Name', id]]);
    expect(fault(other)).toMatchObject({ subcode: 'InvalidSelectors', subcodeNs: NS.wsman });
  });

  it('OperationTimeout as a full xs:duration; a malformed one is wsa:InvalidMessageInformationHeader', async () => {
    for (const d of ['PT60.0S', 'PT360.000S', 'P0DT0H1M0.5S', 'P1D']) {
      const xml = envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } }).replace('PT60.000S', d);
      expect((await post(env().port, xml)).status).toBe(200);
    }
    const bad = envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } }).replace('PT60.000S', 'PT');
    expect(fault(await post(env().port, bad))).toMatchObject({ subcode: 'InvalidMessageInformationHeader', subcodeNs: NS.wsa });
  });

  it('MaxEnvelopeSize below 8192 is wsman:EncodingLimit (MinimumEnvelopeLimit)', async () => {
    const xml = envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } }).replace('>153600<', '>4096<');
    const f = fault(await post(env().port, xml));
    expect(f).toMatchObject({ code: 'Sender', subcode: 'EncodingLimit', subcodeNs: NS.wsman, action: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault' });
    expect(f.detail).toBe('http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MinimumEnvelopeLimit');
  });

  it('a response larger than the MaxEnvelopeSize asked for is wsman:EncodingLimit (MaxEnvelopeSize); FragmentTransfer is UnsupportedFeature', async () => {
    const big = '€'.repeat(4000); // 12 000 bytes of UTF-8
    const put = envelope({ action: ACT.put, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id }, body: `<p:CIM_ComputerSystem xmlns:p="${CS}"><p:Description>${big}</p:Description></p:CIM_ComputerSystem>` });
    expect((await post(env().port, put)).status).toBe(200);
    const get = envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } });
    expect((await post(env().port, get)).status).toBe(200); // fits in 153600
    const f = fault(await post(env().port, get.replace('>153600<', '>8192<')));
    expect(f).toMatchObject({ subcode: 'EncodingLimit', detail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/MaxEnvelopeSize' });
    const reset = envelope({ action: ACT.put, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id }, body: `<p:CIM_ComputerSystem xmlns:p="${CS}"><p:Description xmlns:xsi="${NS.xsi}" xsi:nil="true"/></p:CIM_ComputerSystem>` });
    expect((await post(env().port, reset)).status).toBe(200);
    const frag = envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id }, extraHeaders: '<wsman:FragmentTransfer s:mustUnderstand="true">ElementName</wsman:FragmentTransfer>' });
    expect(fault(await post(env().port, frag))).toMatchObject({ subcode: 'UnsupportedFeature', detail: expect.stringMatching(/FragmentLevelAccess$/) });
  });

  it.each([
    ['ReplyTo', (x: string) => x.replace(/<wsa:ReplyTo>.*?<\/wsa:ReplyTo>/, '')],
    ['Action', (x: string) => x.replace(/<wsa:Action[^>]*>.*?<\/wsa:Action>/, '')],
    ['To', (x: string) => x.replace(/<wsa:To[^>]*>.*?<\/wsa:To>/, '')],
    ['MessageID', (x: string) => x.replace(/<wsa:MessageID>.*?<\/wsa:MessageID>/, '')],
  ])('a missing %s is wsa:MessageInformationHeaderRequired', async (_h, drop) => {
    const r = await post(env().port, drop(envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } })));
    expect(r.status).toBe(500);
    expect(fault(r)).toMatchObject({ code: 'Sender', subcode: 'MessageInformationHeaderRequired', subcodeNs: NS.wsa, action: `${NS.wsa}/fault` });
    // the fault relates to the request when it had a MessageID
    if (_h !== 'MessageID') expect(text(r.doc, NS.wsa, 'RelatesTo')).toMatch(/^uuid:/);
  });

  it('a non-anonymous ReplyTo is wsman:UnsupportedFeature (AddressingMode)', async () => {
    const xml = envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } }).replace(ANON, 'http://client.example/replies');
    expect(fault(await post(env().port, xml))).toMatchObject({ subcode: 'UnsupportedFeature', detail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/AddressingMode' });
  });

  it('text/xml and chunked bodies are accepted; a JSON content type is EncodingLimit (EncodingType)', async () => {
    const xml = envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } });
    expect((await post(env().port, xml, { contentType: 'text/xml; charset=utf-8' })).status).toBe(200);
    expect((await post(env().port, xml, { chunked: true })).status).toBe(200);
    expect((await post(env().port, xml, { contentType: 'application/soap+xml; charset=UTF-8; action="x"' })).status).toBe(200);
    expect(fault(await post(env().port, xml, { contentType: 'application/json' }))).toMatchObject({ subcode: 'EncodingLimit', detail: expect.stringMatching(/EncodingType$/) });
  });

  it('a SOAP 1.1 envelope is s:VersionMismatch (no subcode) with an s:Upgrade header naming the SOAP 1.2 Envelope, and runs nothing', async () => {
    const body = `<p:CIM_ComputerSystem xmlns:p="${CS}"><p:Description>soap11</p:Description></p:CIM_ComputerSystem>`;
    const xml = envelope({ action: ACT.put, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id }, body }).replace(/http:\/\/www\.w3\.org\/2003\/05\/soap-envelope/g, 'http://schemas.xmlsoap.org/soap/envelope/');
    const r = await post(env().port, xml, { contentType: 'text/xml; charset=utf-8' });
    expect(r.status).toBe(500);
    expect(one(r.doc, NS.s, 'Envelope')).toBeDefined();
    expect(fault(r)).toMatchObject({ code: 'VersionMismatch', subcode: undefined });
    const sup = one(one(one(r.doc, NS.s, 'Header'), NS.s, 'Upgrade'), NS.s, 'SupportedEnvelope')!;
    const [p, l] = sup.getAttribute('qname')!.split(':');
    expect([sup.lookupNamespaceURI(p), l]).toEqual([NS.s, 'Envelope']);
    expect(props(payload(await getMachine(env().port, id))).Description).not.toBe('soap11');
  });

  it('DOCTYPE/ENTITY, processing instructions, malformed XML and oversize bodies are faults (HTTP 500), never 200', async () => {
    const xml = envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } });
    const xxe = xml.replace('<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]>');
    for (const body of [xxe, xml.replace('<s:Body>', '<s:Body><?evil x?>'), xml.slice(0, -20)]) {
      const r = await post(env().port, body);
      expect(r.status).toBe(500);
      expect(fault(r).subcode).toBe('SchemaValidationError');
      expect(r.text).not.toContain('root:');
    }
    const huge = xml.replace('<s:Body>', `<s:Body><x:pad xmlns:x="urn:x">${'a'.repeat(600 * 1024)}</x:pad>`);
    const r = await post(env().port, huge);
    expect(r.status).toBe(500);
    expect(fault(r)).toMatchObject({ subcode: 'EncodingLimit', detail: expect.stringMatching(/ServiceEnvelopeLimit$/) });
  });

  it('a missing ResourceURI is DestinationUnreachable; a WMI-style class URI is an alias of the DMTF one', async () => {
    const missing = fault(await post(env().port, envelope({ action: ACT.get, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } })));
    expect(missing).toMatchObject({ subcode: 'DestinationUnreachable', detail: expect.stringMatching(/InvalidResourceURI$/) });
    const wmi = await post(env().port, envelope({ action: ACT.get, resourceUri: 'http://schemas.microsoft.com/wbem/wsman/1/wmi/root/cimv2/CIM_ComputerSystem', selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id } }));
    expect(wmi.status).toBe(200);
    expect(props(payload(wmi)).Name).toBe(id);
  });

  it('unknown action, unknown ResourceURI and the WinRM shell URI; GET /wsman; OptionSet MustComply', async () => {
    const f1 = fault(await post(env().port, envelope({ action: 'http://example.org/NoSuchAction', resourceUri: CS })));
    expect(f1).toMatchObject({ subcode: 'ActionNotSupported', subcodeNs: NS.wsa, action: `${NS.wsa}/fault` });
    const f2 = fault(await post(env().port, envelope({ action: ACT.get, resourceUri: 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_Nothing', selectors: { InstanceID: 'x' } })));
    expect(f2).toMatchObject({ subcode: 'DestinationUnreachable', detail: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InvalidResourceURI' });
    const f3 = fault(await post(env().port, envelope({ action: ACT.create, resourceUri: 'http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd', body: '<rsp:Shell xmlns:rsp="http://schemas.microsoft.com/wbem/wsman/1/windows/shell"/>' })));
    expect(f3.subcode).toBe('DestinationUnreachable');
    const g = await post(env().port, '', { method: 'GET' });
    expect(g.status).toBe(405);
    expect(fault(g).subcode).toBe('ActionNotSupported');
    const opt = (mc: string) => envelope({ action: ACT.get, resourceUri: CS, selectors: { CreationClassName: 'CIM_ComputerSystem', Name: id }, extraHeaders: `<wsman:OptionSet><wsman:Option Name="ShowExtensions"${mc}/></wsman:OptionSet>` });
    expect((await post(env().port, opt(''))).status).toBe(200);
    expect(fault(await post(env().port, opt(' MustComply="true"')))).toMatchObject({ subcode: 'InvalidOptions', detail: expect.stringMatching(/NotSupported$/) });
  });
});
