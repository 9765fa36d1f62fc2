import { createHash } from 'node:crypto';
import { Keyring } from '../../model/identity/keyring';
import { Deadline, DeadlineExceededError } from '../../model/shared/deadline';
import { InvalidInputError, InvalidStateError, ModelError, NotFoundError, UnauthenticatedError } from '../../model/shared/model-error';
import { XMLSerializer, type Element, type Node } from '@xmldom/xmldom';
import { decodeXmlBody, parseDom, parseDomWithXmldom, textOf, XmlInputError } from '../xml/xml-hardening';
import { XmlRejectedError } from '../xml/safe-xml';
import { buildCatalogue, loadCatalogue } from './cim-catalogue';
import { AuthFailure, NONCE_TTL_MS, parseAuthParams, REALM, WsmanAuthenticator } from './wsman-auth';
import { withDeadline } from './wsman.controller';
import { formatDuration, parseDuration } from './wsman-envelope';
import { renderFaultBody, toFault, WsmanFault } from './wsman-fault';

describe('xs:duration (OperationTimeout)', () => {
  it.each([
    ['PT60.0S', 60000],
    ['PT360.000S', 360000],
    ['PT20S', 20000],
    ['P0DT0H1M40S', 100000],
    ['PT0.5S', 500],
    ['P1DT2H', 93600000],
    ['P1Y', 365 * 86400000],
  ])('%s = %d ms', (s, ms) => expect(parseDuration(s)).toBe(ms));
  it.each(['', 'P', 'PT', '60', '-PT5S', 'PT5', 'P1S', 'PT1.S'])('%s is not a duration', (s) => expect(parseDuration(s)).toBeUndefined());
  it('formats intervals', () => expect(formatDuration(100000)).toBe('P0DT0H1M40S'));
});

describe('the error mapper', () => {
  it('maps model kinds to the docs/wsman.md §3 subcodes, never leaking internals', () => {
    expect(toFault(new NotFoundError('Machine', 'x')).kind).toBe('DestinationUnreachable');
    expect(toFault(new InvalidInputError('bad'), 'transfer').kind).toBe('InvalidRepresentation');
    expect(toFault(new InvalidInputError('bad'), 'method').kind).toBe('InvalidParameter');
    expect(toFault(new InvalidInputError('bad'), 'enumerate').kind).toBe('CannotProcessFilter');
    expect(toFault(new InvalidStateError('Machine', 'x', 'start', 'STARTING')).kind).toBe('Concurrency');
    expect(toFault(new ModelError('backend-unavailable', 'PROVIDER.DOWN', 'down')).kind).toBe('EndpointUnavailable');
    expect(toFault(new ModelError('quota', 'Q', 'too many')).kind).toBe('QuotaLimit');
    const internal = toFault(new TypeError("Cannot read properties of undefined (reading 'x') at /srv/app.js:1"));
    expect(internal.kind).toBe('InternalError');
    const xml = renderFaultBody(internal);
    expect(xml).toContain('<s:Value>s:Receiver</s:Value>');
    expect(xml).toContain('wsman:InternalError');
    expect(xml).not.toContain('app.js');
    expect(toFault(new XmlRejectedError('doctype', 'no')).kind).toBe('SchemaValidationError');
  });
  it('renders Code, Reason and Detail in SOAP 1.2 order with the WSManFault code', () => {
    const xml = renderFaultBody(new WsmanFault('InvalidSelectors', 'missing keys', { detail: 'InsufficientSelectors', code: 'X.Y' }));
    expect(xml.indexOf('<s:Code>')).toBeLessThan(xml.indexOf('<s:Reason>'));
    expect(xml.indexOf('<s:Reason>')).toBeLessThan(xml.indexOf('<s:Detail>'));
    expect(xml).toContain('http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/InsufficientSelectors');
    expect(xml).toContain('Code="X.Y"');
  });
});

describe('OperationTimeout enforcement', () => {
  it('a handler still running at the deadline is wsman:TimedOut', async () => {
    const slow = new Promise((r) => setTimeout(r, 200));
    await expect(withDeadline(slow, 20, new Deadline())).rejects.toMatchObject({ kind: 'TimedOut' });
    await expect(withDeadline(Promise.resolve(1), 20, new Deadline())).resolves.toBe(1);
  });

  it('a change that began to commit is waited for; one that had not can no longer commit', async () => {
    const committing = new Deadline();
    const late = new Promise((r) => setTimeout(() => r('done'), 100));
    committing.enterCommit();
    await expect(withDeadline(late, 20, committing)).resolves.toBe('done');
    const open = new Deadline();
    await expect(withDeadline(new Promise((r) => setTimeout(r, 100)), 20, open)).rejects.toMatchObject({ kind: 'TimedOut' });
    expect(() => open.enterCommit()).toThrow(DeadlineExceededError);
  });
});

describe('XML hardening', () => {
  it('decodes UTF-16BE/LE with BOMs and refuses other charsets', () => {
    const x = '<a>é</a>';
    const be = Buffer.from(x, 'utf16le').swap16();
    expect(decodeXmlBody(Buffer.concat([Buffer.from([0xfe, 0xff]), be]))).toBe(x);
    expect(decodeXmlBody(Buffer.from(x, 'utf16le'), 'application/soap+xml;charset=utf-16le')).toBe(x);
    expect(() => decodeXmlBody(Buffer.from(x, 'latin1'), 'text/xml; charset=ISO-8859-1')).toThrow(XmlInputError);
  });
  it('builds the DOM only after the shared gate: DTDs, entities, PIs, unknown entities and deep nesting are refused', () => {
    expect(() => parseDom('<!DOCTYPE a><a/>')).toThrow(XmlRejectedError);
    expect(() => parseDom('<a><!ENTITY x "y"></a>')).toThrow(XmlRejectedError);
    expect(() => parseDom('<?xml version="1.0"?><?pi x?><a/>')).toThrow(XmlRejectedError);
    expect(() => parseDom('<a>&nbsp;</a>')).toThrow(XmlRejectedError);
    expect(() => parseDom(`${'<a>'.repeat(70)}${'</a>'.repeat(70)}`)).toThrow(XmlRejectedError);
    expect(parseDom('<?xml version="1.0" encoding="UTF-8"?><a xmlns="urn:x"/>').documentElement?.namespaceURI).toBe('urn:x');
    expect(toFault(new XmlRejectedError('limits', 'deep')).kind).toBe('EncodingLimit');
  });
});

describe('the DOM built from the gate\'s own parse (issue 13: one parse per request)', () => {
  const S = 'http://www.w3.org/2003/05/soap-envelope';
  const docs = [
    // a Get with selectors, mustUnderstand attributes, an xml:lang, default and prefixed namespaces
    `<?xml version="1.0" encoding="UTF-8"?>\n<s:Envelope xmlns:s="${S}" xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">
  <s:Header><a:To>http://h/wsman</a:To><w:ResourceURI s:mustUnderstand="true">http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem</w:ResourceURI>
    <a:ReplyTo><a:Address s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>
    <w:Locale xml:lang="en-US" s:mustUnderstand="false"/><w:SelectorSet><w:Selector Name="Name">m&amp;1 &#x41;&lt;</w:Selector></w:SelectorSet></s:Header>
  <s:Body/></s:Envelope>`,
    // mixed content, CDATA, a comment, line ends and tabs in attribute values, a re-declared default namespace
    `<r xmlns="urn:a" xmlns:p="urn:p"><!-- c --><p:x p:k="1\r\n2\t3">a<![CDATA[<b>]]>c<y xmlns="urn:b" z="&quot;"/>\r\nd</p:x><e/></r>`,
    // a fragment with its own namespace declarations deeper down (eventing ReferenceParameters serialize them)
    `<s:Envelope xmlns:s="${S}"><s:Body><q:RefP xmlns:q="urn:q" q:a="v"><q:Id>42</q:Id></q:RefP></s:Body></s:Envelope>`,
  ];

  it.each(docs.map((d, i) => [i, d]))('document %i serializes as xmldom\'s own parse of it', (_i, d) => {
    const ser = new XMLSerializer();
    const mine = parseDom(d as string);
    const theirs = parseDomWithXmldom(d as string);
    // xmldom keeps comments and the XML declaration (as a processing instruction node); nothing reads either
    expect(ser.serializeToString(mine.documentElement!)).toBe(ser.serializeToString(theirs.documentElement!).replace(/<!--.*?-->/g, ''));
    const walk = (a: Node | null, b: Node | null): void => {
      for (; a && b; a = a.nextSibling, b = b.nextSibling) {
        if (b.nodeType === 8) b = b.nextSibling!; // the comment
        expect([a.nodeType, a.namespaceURI, a.localName, a.prefix]).toEqual([b.nodeType, b.namespaceURI, b.localName, b.prefix]);
        if (a.nodeType === 1) {
          const [ea, eb] = [a as Element, b as Element];
          expect(Array.from({ length: ea.attributes.length }, (_x, k) => [ea.attributes.item(k)!.namespaceURI, ea.attributes.item(k)!.name, ea.attributes.item(k)!.value])).toEqual(
            Array.from({ length: eb.attributes.length }, (_x, k) => [eb.attributes.item(k)!.namespaceURI, eb.attributes.item(k)!.name, eb.attributes.item(k)!.value]),
          );
        }
        walk(a.firstChild, b.firstChild);
      }
    };
    walk(mine.documentElement, theirs.documentElement);
    expect(textOf(mine.documentElement!)).toBe(textOf(theirs.documentElement!));
  });

  it('refuses what the gate refuses, before building anything', () => {
    expect(() => parseDom('<a><b></a>')).toThrow(XmlRejectedError);
    expect(() => parseDom('<p:a/>')).toThrow(XmlRejectedError);
    expect(() => parseDom('<a x="1" x="2"/>')).toThrow(XmlRejectedError);
  });
});

describe('the class catalogue', () => {
  it('resolves inheritance, keys and URIs from wsman/classes.json', () => {
    const cat = loadCatalogue();
    const m = cat.byName('CIMIGW_Machine')!;
    expect(m.isA('CIM_ComputerSystem')).toBe(true);
    expect(m.keys).toEqual(['CreationClassName', 'Name']);
    expect(m.methods).toContain('RequestStateChange');
    expect(cat.byUri('http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ComputerSystem')!.name).toBe('CIM_ComputerSystem');
    expect(cat.concreteUnder(cat.byName('CIM_ComputerSystem')!).map((c) => c.name)).toEqual(['CIMIGW_Machine']);
    const names = m.rendered.map((p) => p.name);
    expect(names).toEqual([...names].sort());
    expect(names).not.toContain('MachineConfiguration'); // createOnly
    expect(cat.byModel('Job')!.name).toBe('CIM_ConcreteJob');
  });
  it('refuses a catalogue whose property sources, converters, keys or superclasses do not exist', () => {
    const vendor = { prefix: 'X', schemaBase: 'http://x/', orgId: 'X' };
    const one = (props: object[], extra: object = {}) => buildCatalogue({ namespace: 'root/cimv2', vendor, classes: [{ name: 'CIM_X', properties: props, ...extra }] as never });
    expect(() => one([{ name: 'A', type: 'string', source: 'colour' }])).toThrow(/unknown source/);
    expect(() => one([{ name: 'A', type: 'string', source: 'fn:nothing' }])).toThrow(/unknown source/);
    expect(() => one([{ name: 'A', type: 'string' }])).toThrow(/needs a source/);
    expect(() => one([{ name: 'A', type: 'string', source: 'id' }], { keys: ['B'] })).toThrow(/not a key/);
    expect(() => one([], { superclass: 'CIM_Nope' })).toThrow(/unknown superclass/);
    expect(one([{ name: 'A', type: 'string', source: 'id', key: true }], { keys: ['A'] }).byName('cim_x')!.keys).toEqual(['A']);
  });
});

describe('Digest nonces', () => {
  const user = { userId: 'u', userName: 'admin', tenantId: 't', roles: ['admin' as const] };
  const secretFor = async (n: string) => (n === 'admin' ? { user, password: 'pw-123456' } : undefined);
  // IdentityService.authenticateDigest without its throttle
  const authenticateDigest = async (n: string, _a: unknown, matches: (p: string) => boolean) => {
    const s = await secretFor(n);
    if (!matches(s?.password ?? 'x') || !s) throw new UnauthenticatedError('invalid user name or password');
    return s.user;
  };
  const identity = { secretFor, authenticateDigest, authenticate: async () => user } as never;
  const keyring = new Keyring(Buffer.alloc(32, 7));
  /** the ReplayCache contract in memory (the database one is exercised end to end in 01-identify-auth) */
  const replayCache = () => {
    const seen = new Map<string, number>();
    return {
      remember: async (key: string, expires: Date, now: Date) => {
        if ((seen.get(key) ?? 0) > now.getTime()) return false;
        seen.set(key, expires.getTime());
        return true;
      },
      purgeExpired: async () => 0,
    };
  };
  function answer(ch: string, alg: 'MD5' | 'SHA-256' = 'SHA-256', nc = '00000001'): string {
    const p = parseAuthParams(ch.slice('Digest '.length));
    const h = (s: string) => createHash(alg === 'MD5' ? 'md5' : 'sha256').update(s).digest('hex');
    const ha1 = h(`admin:${REALM}:pw-123456`);
    const resp = h(`${ha1}:${p.nonce}:${nc}:c:auth:${h('POST:/wsman')}`);
    return `username="admin", realm="${REALM}", nonce="${p.nonce}", uri="/wsman", algorithm=${alg}, qop=auth, nc=${nc}, cnonce="c", response="${resp}"`;
  }
  it('accepts a fresh nonce and answers stale=true after its lifetime', async () => {
    let now = 1_000_000;
    const a = new WsmanAuthenticator(identity, keyring, replayCache(), () => now);
    const ch = a.challenges()[0];
    await expect(a.authenticate(`Digest ${answer(ch)}`, 'POST', '/wsman')).resolves.toMatchObject({ credentialType: 'digest' });
    now += NONCE_TTL_MS + 1;
    await expect(a.authenticate(`Digest ${answer(ch)}`, 'POST', '/wsman')).rejects.toMatchObject({ stale: true });
    expect(a.challenges(true)[0]).toContain('stale=true');
    // a nonce from another key (another gateway secret) is refused outright
    const other = new WsmanAuthenticator(identity, new Keyring(Buffer.alloc(32, 9)), replayCache(), () => now);
    await expect(other.authenticate(`Digest ${answer(a.challenges()[0])}`, 'POST', '/wsman')).rejects.toBeInstanceOf(AuthFailure);
  });
  it('refuses the same nonce count twice (a replayed header), accepts the next count', async () => {
    const a = new WsmanAuthenticator(identity, keyring, replayCache(), () => 1_000_000);
    const ch = a.challenges()[0];
    await expect(a.authenticate(`Digest ${answer(ch)}`, 'POST', '/wsman')).resolves.toMatchObject({ credentialType: 'digest' });
    await expect(a.authenticate(`Digest ${answer(ch)}`, 'POST', '/wsman')).rejects.toThrow(/already used/);
    await expect(a.authenticate(`Digest ${answer(ch, 'SHA-256', '00000002')}`, 'POST', '/wsman')).resolves.toMatchObject({ credentialType: 'digest' });
  });
  it('parses quoted auth-params with escapes', () => {
    expect(parseAuthParams('username="a\\"b", qop=auth, nc=00000001')).toEqual({ username: 'a"b', qop: 'auth', nc: '00000001' });
  });
});
