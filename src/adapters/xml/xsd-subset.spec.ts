import { parseXml } from './safe-xml';
import { XsdSchema, XsdValidationError } from './xsd-subset';

const NS = 'urn:test';
const schema = (body: string) =>
  `<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:tns="${NS}" targetNamespace="${NS}" elementFormDefault="qualified">${body}</xsd:schema>`;
const S = new XsdSchema(
  schema(`
  <xsd:simpleType name="Small"><xsd:restriction base="xsd:int"><xsd:minInclusive value="1"/><xsd:maxInclusive value="9"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="Code"><xsd:restriction base="xsd:string"><xsd:pattern value="[A-Z]{2}"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="Short"><xsd:restriction base="tns:Code"><xsd:maxLength value="2"/></xsd:restriction></xsd:simpleType>
  <xsd:simpleType name="Color"><xsd:restriction base="xsd:string"><xsd:enumeration value="red"/><xsd:enumeration value="blue"/></xsd:restriction></xsd:simpleType>
  <xsd:complexType name="Base"><xsd:sequence><xsd:element name="id" type="xsd:string"/></xsd:sequence></xsd:complexType>
  <xsd:complexType name="Item"><xsd:complexContent><xsd:extension base="tns:Base"><xsd:sequence>
    <xsd:element name="n" type="tns:Small" minOccurs="0"/><xsd:element name="g" type="xsd:boolean" minOccurs="0"/></xsd:sequence></xsd:extension></xsd:complexContent></xsd:complexType>
  <xsd:element name="Op"><xsd:complexType><xsd:sequence>
    <xsd:element name="code" type="tns:Short"/>
    <xsd:element name="color" type="tns:Color" minOccurs="0" maxOccurs="unbounded"/>
    <xsd:element name="when" type="xsd:dateTime" minOccurs="0"/>
    <xsd:element name="item" type="tns:Item" minOccurs="0" maxOccurs="2"/>
  </xsd:sequence></xsd:complexType></xsd:element>`),
);
const op = (inner: string) => parseXml(`<p:Op xmlns:p="${NS}">${inner}</p:Op>`.replace(/<(\/?)([a-z]+)>/g, '<$1p:$2>'));
const fails = (inner: string) => {
  try {
    S.decode(op(inner));
  } catch (e) {
    if (e instanceof XsdValidationError) return `${e.path}: ${e.message}`;
    throw e;
  }
  return 'accepted';
};

describe('XsdSchema (the contract subset)', () => {
  it('decodes typed values in sequence order: repeated elements as arrays, extension base first', () => {
    const v = S.decode(op('<code>AB</code><color>red</color><color>blue</color><when>2026-01-02T03:04:05Z</when><item><id>x</id><n> 3 </n><g>1</g></item>'));
    expect(v).toEqual({ code: 'AB', color: ['red', 'blue'], when: new Date('2026-01-02T03:04:05Z'), item: [{ id: 'x', n: 3, g: true }] });
  });

  it('checks every facet through the chain of restrictions', () => {
    expect(fails('<code>ab</code>')).toMatch(/^code: .*pattern/);
    expect(fails('<code>ABC</code>')).toMatch(/^code: /);
    expect(() => S.simpleValue('ABC', 'Code', 'x')).toThrow(/pattern/); // XSD patterns are anchored
    expect(S.simpleValue('AB', 'Code', 'x')).toBe('AB');
    expect(fails('<code>AB</code><color>green</color>')).toMatch(/^color\[0\]: .*one of red, blue/);
    expect(fails('<code>AB</code><item><id>x</id><n>10</n></item>')).toMatch(/^item\[0\]\.n: .*at most 9/);
    expect(fails('<code>AB</code><item><id>x</id><n>1.5</n></item>')).toMatch(/must be an integer/);
    expect(fails('<code>AB</code><item><id>x</id><g>yes</g></item>')).toMatch(/true or false/);
    expect(fails('<code>AB</code><when>tomorrow</when>')).toMatch(/xsd:dateTime/);
  });

  it('checks structure: required, order, occurrences, unknown elements, namespaces, attributes, text', () => {
    expect(fails('')).toBe('code: code is required');
    expect(fails('<color>red</color><code>AB</code>')).toMatch(/^code: code is required/);
    expect(fails('<code>AB</code><item><id>1</id></item><item><id>2</id></item><item><id>3</id></item>')).toMatch(/out of order or repeated/);
    expect(fails('<code>AB</code><zz>1</zz>')).toMatch(/has no element/);
    expect(() => S.decode(parseXml(`<p:Op xmlns:p="${NS}"><q:code xmlns:q="urn:other">AB</q:code></p:Op>`))).toThrow(/has no element \{urn:other\}code/);
    expect(() => S.decode(parseXml(`<p:Op xmlns:p="${NS}" a="1"/>`))).toThrow(/no attributes/);
    expect(() => S.decode(parseXml(`<p:Op xmlns:p="${NS}">text<p:code>AB</p:code></p:Op>`))).toThrow(/not text/);
    expect(() => S.decode(parseXml(`<p:Nope xmlns:p="${NS}"/>`))).toThrow(/not an element/);
  });

  it('encodes in schema order whatever the key order, leaving out absent values', () => {
    const xml = S.encode('Op', { item: [{ g: false, id: 'i' }], code: 'AB', color: ['red'], when: new Date(0), extra: 1 });
    expect(xml).toBe(`<t:Op xmlns:t="${NS}"><t:code>AB</t:code><t:color>red</t:color><t:when>1970-01-01T00:00:00.000Z</t:when><t:item><t:id>i</t:id><t:g>false</t:g></t:item></t:Op>`);
    expect(S.encode('Op', { code: '<&>' })).toContain('<t:code>&lt;&amp;&gt;</t:code>');
  });

  it('refuses to load constructs outside the subset, and dangling references', () => {
    expect(() => new XsdSchema(schema('<xsd:complexType name="C"><xsd:choice/></xsd:complexType>'))).toThrow(/outside the supported subset/);
    expect(() => new XsdSchema(schema('<xsd:attribute name="a" type="xsd:string"/>'))).toThrow(/outside the supported subset/);
    // the published contract has no model groups (wsdl/cimi-gateway-types.xsd, for toolkits without them)
    expect(() => new XsdSchema(schema('<xsd:group name="G"><xsd:sequence><xsd:element name="g" type="xsd:boolean"/></xsd:sequence></xsd:group>'))).toThrow(/group is outside the supported subset/);
    expect(() => new XsdSchema(schema('<xsd:complexType name="C"><xsd:sequence><xsd:group ref="tns:G"/></xsd:sequence></xsd:complexType>'))).toThrow(/group inside a sequence is outside the supported subset/);
    expect(() => new XsdSchema(schema('<xsd:simpleType name="D"><xsd:restriction base="xsd:decimal"/></xsd:simpleType>'))).toThrow(/outside the supported subset/);
    expect(() => new XsdSchema(schema('<xsd:complexType name="C"><xsd:sequence><xsd:element name="x" type="tns:Missing"/></xsd:sequence></xsd:complexType>'))).toThrow(/unknown type/);
    expect(() => new XsdSchema(schema('<xsd:simpleType name="D"><xsd:restriction base="xsd:string"><xsd:whiteSpace value="collapse"/></xsd:restriction></xsd:simpleType>'))).toThrow(/outside the supported subset/);
  });
});

describe('xsd:base64Binary', () => {
  const B = new XsdSchema(schema(`<xsd:element name="Up"><xsd:complexType><xsd:sequence><xsd:element name="data" type="xsd:base64Binary"/></xsd:sequence></xsd:complexType></xsd:element>`));
  const up = (text: string) => B.decode(parseXml(`<p:Up xmlns:p="${NS}"><p:data>${text}</p:data></p:Up>`));
  it('decodes to the bytes, whitespace between groups allowed', () => {
    expect((up(' aGVs\n bG8= ') as { data: Buffer }).data.toString('utf8')).toBe('hello');
  });
  it('refuses what is not base64', () => {
    expect(() => up('***')).toThrow(XsdValidationError);
    expect(() => up('abc')).toThrow(/base64Binary/);
  });
});
