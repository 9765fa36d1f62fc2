import { DOMParser, type Element } from '@xmldom/xmldom';
import { WsmanFault } from '../wsman-fault';
import { DIALECTS, parseEnumerate, parsePull, parseRelease } from './enumerate-request';
import { WQL_DIALECTS } from './wql';

const NSDECL =
  'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" xmlns:b="http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"';
/** prefixes deliberately unlike wsmancli's (pywinrm style, docs/wsman.md §1.1): parsing is by namespace */
const el = (xml: string): Element => new DOMParser().parseFromString(xml.replace(/^<(n:\w+)/, `<$1 ${NSDECL}`), 'application/xml').documentElement as unknown as Element;

const fault = (fn: () => unknown): WsmanFault => {
  try {
    fn();
  } catch (e) {
    if (e instanceof WsmanFault) return e;
    throw e;
  }
  throw new Error('no fault');
};

describe('Enumerate body', () => {
  it('a bare Enumerate: not optimized, objects, IncludeSubClassProperties (capture 06 request 018)', () => {
    expect(parseEnumerate(el('<n:Enumerate/>'))).toEqual({ optimize: false, mode: 'object', polymorphism: 'include' });
  });

  it('reads every child in any order (wsl puts MaxElements first, capture 07)', () => {
    const r = parseEnumerate(
      el('<n:Enumerate><w:MaxElements>512</w:MaxElements><w:EnumerationMode>EnumerateEPR</w:EnumerationMode><w:OptimizeEnumeration/><b:PolymorphismMode>ExcludeSubClassProperties</b:PolymorphismMode><n:Expires>PT60.000S</n:Expires></n:Enumerate>'),
    );
    expect(r).toEqual({ optimize: true, maxElements: 512, mode: 'epr', polymorphism: 'exclude', expires: { afterMs: 60000 } });
    expect(parseEnumerate(el('<n:Enumerate><w:EnumerationMode>EnumerateObjectAndEPR</w:EnumerationMode><n:Expires>2030-01-01T00:00:00Z</n:Expires></n:Enumerate>'))).toMatchObject({
      mode: 'objepr',
      expires: { at: new Date('2030-01-01T00:00:00Z') },
    });
  });

  it('filters: selector, both WQL URIs and CQL, association (wsman:Filter or wsen:Filter)', () => {
    expect(parseEnumerate(el(`<n:Enumerate><w:Filter Dialect="${DIALECTS.selector}"><w:SelectorSet><w:Selector Name="Name">vm-1</w:Selector></w:SelectorSet></w:Filter></n:Enumerate>`))).toMatchObject({
      filterNs: 'wsman',
      filter: { dialect: 'selector', selectors: [{ name: 'Name', value: 'vm-1' }] },
    });
    for (const uri of Object.values(WQL_DIALECTS)) {
      expect(parseEnumerate(el(`<n:Enumerate><n:Filter Dialect="${uri}"> select * from X </n:Filter></n:Enumerate>`))).toMatchObject({
        filterNs: 'wsen',
        filter: { dialect: 'query', uri, text: 'select * from X' },
      });
    }
    const a = parseEnumerate(
      el(
        `<n:Enumerate><w:Filter Dialect="${DIALECTS.association}"><b:AssociatedInstances><b:Object><wsa:ReferenceParameters><w:ResourceURI>http://x/CIM_ComputerSystem</w:ResourceURI><w:SelectorSet><w:Selector Name="Name">vm-1</w:Selector></w:SelectorSet></wsa:ReferenceParameters></b:Object><b:AssociationClassName>CIM_SystemDevice</b:AssociationClassName><b:ResultClassName>CIM_LogicalDisk</b:ResultClassName><b:Role>GroupComponent</b:Role><b:ResultRole>PartComponent</b:ResultRole></b:AssociatedInstances></w:Filter></n:Enumerate>`,
      ),
    );
    expect(a.filter).toEqual({
      dialect: 'association',
      association: {
        kind: 'associated',
        object: { address: undefined, resourceUri: 'http://x/CIM_ComputerSystem', selectors: [{ name: 'Name', value: 'vm-1' }] },
        associationClassName: 'CIM_SystemDevice',
        resultClassName: 'CIM_LogicalDisk',
        role: 'GroupComponent',
        resultRole: 'PartComponent',
      },
    });
  });

  it.each([
    ['<n:Enumerate><w:EnumerationMode>EnumerateObjects</w:EnumerationMode></n:Enumerate>', 'UnsupportedFeature', 'EnumerationMode'],
    ['<n:Enumerate><b:PolymorphismMode>Some</b:PolymorphismMode></n:Enumerate>', 'PolymorphismModeNotSupported', undefined],
    ['<n:Enumerate><w:MaxElements>0</w:MaxElements></n:Enumerate>', 'InvalidParameter', 'TypeMismatch'],
    ['<n:Enumerate><w:MaxElements>ten</w:MaxElements></n:Enumerate>', 'InvalidParameter', 'TypeMismatch'],
    ['<n:Enumerate><n:Expires>soon</n:Expires></n:Enumerate>', 'UnsupportedExpirationType', undefined],
    ['<n:Enumerate><w:Filter>/a/b</w:Filter></n:Enumerate>', 'FilterDialectRequestedUnavailable', undefined],
    ['<n:Enumerate><w:Filter Dialect="urn:x"/><w:Filter Dialect="urn:y"/></n:Enumerate>', 'SchemaValidationError', undefined],
    [`<n:Enumerate><w:Filter Dialect="${DIALECTS.selector}">Name=x</w:Filter></n:Enumerate>`, 'CannotProcessFilter', undefined],
    [`<n:Enumerate><n:Filter Dialect="${DIALECTS.association}"><b:Other/></n:Filter></n:Enumerate>`, 'EnumCannotProcessFilter', undefined],
    [`<n:Enumerate><w:Filter Dialect="${DIALECTS.association}"><b:AssociatedInstances/></w:Filter></n:Enumerate>`, 'CannotProcessFilter', undefined],
    [
      `<n:Enumerate><w:Filter Dialect="${DIALECTS.association}"><b:AssociatedInstances><b:Object><wsa:ReferenceParameters><w:ResourceURI>u</w:ResourceURI></wsa:ReferenceParameters></b:Object><b:IncludeResultProperty>Name</b:IncludeResultProperty></b:AssociatedInstances></w:Filter></n:Enumerate>`,
      'CannotProcessFilter',
      undefined,
    ],
    ['<n:Enumerate><w:Bogus/></n:Enumerate>', 'SchemaValidationError', undefined],
    ['<n:Pull/>', 'SchemaValidationError', undefined],
  ])('%s -> %s', (xml, kind, detail) => {
    const f = fault(() => parseEnumerate(el(xml)));
    expect(f.kind).toBe(kind);
    if (detail) expect(f.opts.detail).toBe(detail);
  });

  it('lists every supported dialect in FilterDialectRequestedUnavailable', () => {
    const f = fault(() => parseEnumerate(el('<n:Enumerate><w:Filter Dialect="http://www.w3.org/TR/1999/REC-xpath-19991116">/x</w:Filter></n:Enumerate>')));
    for (const d of [DIALECTS.selector, DIALECTS.association, ...Object.values(WQL_DIALECTS)]) expect(f.opts.detailXml).toContain(`<wsen:SupportedDialect>${d}</wsen:SupportedDialect>`);
  });
});

describe('Pull and Release bodies', () => {
  it('Pull: context, MaxElements defaulting to 1, MaxCharacters (capture 06 request 019)', () => {
    expect(parsePull(el('<n:Pull><n:EnumerationContext> uuid:c </n:EnumerationContext><n:MaxElements>5</n:MaxElements></n:Pull>'))).toEqual({ context: 'uuid:c', maxElements: 5, maxCharacters: undefined });
    expect(parsePull(el('<n:Pull><n:EnumerationContext>c</n:EnumerationContext><n:MaxCharacters>9000</n:MaxCharacters></n:Pull>'))).toEqual({ context: 'c', maxElements: 1, maxCharacters: 9000 });
  });

  it('a missing or empty context is InvalidEnumerationContext', () => {
    expect(fault(() => parsePull(el('<n:Pull/>'))).kind).toBe('InvalidEnumerationContext');
    expect(fault(() => parsePull(el('<n:Pull><n:EnumerationContext/></n:Pull>'))).kind).toBe('InvalidEnumerationContext');
    expect(fault(() => parseRelease(el('<n:Release><n:EnumerationContext> </n:EnumerationContext></n:Release>'))).kind).toBe('InvalidEnumerationContext');
    expect(parseRelease(el('<n:Release><n:EnumerationContext>ctx-1</n:EnumerationContext></n:Release>'))).toBe('ctx-1');
  });
});
