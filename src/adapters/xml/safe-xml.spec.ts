import { parseXml, XmlRejectedError } from './safe-xml';

const reason = (text: string, limits?: Parameters<typeof parseXml>[1]) => {
  try {
    parseXml(text, limits);
  } catch (e) {
    if (e instanceof XmlRejectedError) return e.reason;
    throw e;
  }
  return 'accepted';
};

describe('parseXml (hardened reader)', () => {
  it('builds a namespace-aware tree: names are (namespace, local), prefixes are gone', () => {
    const el = parseXml('<?xml version="1.0" encoding="utf-8"?><a:r xmlns:a="urn:a" xmlns:b="urn:b" b:x="1"><b:c>t&amp;<![CDATA[<x>]]></b:c></a:r>');
    expect(el).toMatchObject({ ns: 'urn:a', local: 'r', attrs: [{ ns: 'urn:b', local: 'x', value: '1' }] });
    expect(el.children[0]).toMatchObject({ ns: 'urn:b', local: 'c', text: 't&<x>' });
  });

  it('refuses any DOCTYPE: external entities (XXE), internal entities (billion laughs), a plain DOCTYPE', () => {
    expect(reason('<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>')).toBe('doctype');
    expect(reason('<!DOCTYPE a [<!ENTITY l0 "lol"><!ENTITY l1 "&l0;&l0;">]><a>&l1;</a>')).toBe('doctype');
    expect(reason('<!DOCTYPE a><a/>')).toBe('doctype');
  });

  it('refuses processing instructions but accepts the XML declaration', () => {
    expect(reason('<?xml version="1.0"?><a><?php x?></a>')).toBe('processing-instruction');
    expect(reason('<?xml version="1.0"?><a/>')).toBe('accepted');
  });

  it('knows only the predefined entities: HTML entities and undefined ones are malformed (no sax-style expansion)', () => {
    expect(reason('<a>&nbsp;</a>')).toBe('malformed');
    expect(reason('<a>&lt;&#65;&#x42;</a>')).toBe('accepted');
  });

  it('refuses malformed and empty documents, unbound prefixes, and trailing content', () => {
    expect(reason('')).toBe('empty');
    expect(reason('   ')).toBe('empty');
    expect(reason('<a>')).toBe('malformed');
    expect(reason('<p:a/>')).toBe('malformed');
    expect(reason('<a/><b/>')).toBe('malformed');
  });

  it('caps depth, element count and attributes', () => {
    expect(reason(`${'<a>'.repeat(10)}${'</a>'.repeat(10)}`, { maxDepth: 5, maxElements: 100, maxAttributes: 5 })).toBe('limits');
    expect(reason(`<r>${'<a/>'.repeat(50)}</r>`, { maxDepth: 5, maxElements: 20, maxAttributes: 5 })).toBe('limits');
    expect(reason(`<r ${Array.from({ length: 9 }, (_, i) => `a${i}="1"`).join(' ')}/>`, { maxDepth: 5, maxElements: 20, maxAttributes: 5 })).toBe('limits');
  });
});
