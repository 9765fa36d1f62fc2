import { ModelError, NotFoundError, UnauthenticatedError, type ErrorKind } from '../../model/shared/model-error';
import { parseXml, XmlRejectedError } from '../xml/safe-xml';
import { XsdValidationError } from '../xml/xsd-subset';
import { WsSecurityError } from './ws-security/ws-security.contract';
import { renderFaultEnvelope, SoapEdgeError, toSoapFault } from './soap-fault';

const KINDS: [ErrorKind, string, string, number][] = [
  ['not-found', 'Client', 'ResourceNotFound', 400],
  ['invalid-input', 'Client', 'InvalidArgument', 400],
  ['invalid-state', 'Client', 'Conflict', 400],
  ['already-exists', 'Client', 'Conflict', 400],
  ['conflict', 'Client', 'Conflict', 400],
  ['precondition', 'Client', 'Conflict', 400],
  ['quota', 'Client', 'QuotaExceeded', 400],
  ['forbidden', 'Client', 'NotAuthorized', 400],
  ['unsupported', 'Server', 'NotSupported', 500],
  ['backend-unavailable', 'Server', 'Unavailable', 500],
  ['internal', 'Server', 'InternalError', 500],
];

describe('toSoapFault (the one fault mapper of the SOAP door)', () => {
  it.each(KINDS)('%s -> %s/%s; HTTP 500 in SOAP 1.1, %i in SOAP 1.2', (kind, code, subcode, status12) => {
    const e = new ModelError(kind, 'X.CODE', 'the message', { resourceId: 'r1', resourceType: 'Machine', field: 'f' });
    const f11 = toSoapFault(e, '1.1', 'cid');
    expect(f11).toMatchObject({ code, subcode, status: 500 });
    const f12 = toSoapFault(e, '1.2', 'cid');
    expect(f12).toMatchObject({ code, subcode, status: status12 });
    expect(f12.detail).toMatchObject({ kind, code: 'X.CODE', resourceId: 'r1', resourceType: 'Machine', field: 'f', correlationId: 'cid' });
  });

  it('internal errors and anything unexpected never show their message or stack', () => {
    const f = toSoapFault(new TypeError("Cannot read properties of undefined (reading 'description')"), '1.1', 'cid-9');
    expect(f).toMatchObject({ code: 'Server', status: 500, reason: 'internal error (correlation id cid-9)' });
    const xml = renderFaultEnvelope(f);
    expect(xml).not.toMatch(/Cannot read|TypeError|at /);
    const m = toSoapFault(new ModelError('internal', 'GENERIC.INTERNAL', 'db password is hunter2'), '1.2', 'c');
    expect(renderFaultEnvelope(m)).not.toContain('hunter2');
  });

  it('HTTP Basic failures are 401 with a challenge and a wsse:FailedAuthentication code', () => {
    const f = toSoapFault(new UnauthenticatedError(), '1.2');
    expect(f).toMatchObject({ code: { wsse: 'FailedAuthentication' }, status: 401, headers: { 'WWW-Authenticate': 'Basic realm="cimi-gateway", charset="UTF-8"' } });
  });

  it('WS-Security errors keep their wsse code, carry no detail, and follow the version status rule', () => {
    const e = new WsSecurityError('MessageExpired', 'timestamp 2 hours old');
    const f11 = toSoapFault(e, '1.1');
    expect(f11).toMatchObject({ code: { wsse: 'MessageExpired' }, status: 500 });
    expect(f11.detail).toBeUndefined();
    expect(f11.reason).not.toContain('2 hours');
    const xml = renderFaultEnvelope(toSoapFault(e, '1.2'));
    expect(xml).toContain('<soap:Value>soap:Sender</soap:Value><soap:Subcode><soap:Value>wsse:MessageExpired</soap:Value>');
    expect(toSoapFault(e, '1.2').status).toBe(400);
  });

  it('edge, XML and schema errors map to Client/Sender with a SOAP.* detail code; size and encoding to 413/415', () => {
    expect(toSoapFault(new XmlRejectedError('doctype', 'no'), '1.1').detail?.code).toBe('SOAP.DTD_NOT_ALLOWED');
    expect(toSoapFault(new XsdValidationError('a.b', 'bad'), '1.2')).toMatchObject({ status: 400, detail: { code: 'SOAP.INVALID_ARGUMENT', field: 'a.b' } });
    expect(toSoapFault(new SoapEdgeError('action-mismatch', 'x'), '1.1').detail?.code).toBe('SOAP.ACTION_MISMATCH');
    expect(toSoapFault(Object.assign(new Error('too large'), { status: 413, type: 'entity.too.large' }), '1.2').status).toBe(413);
    expect(toSoapFault(Object.assign(new Error('enc'), { status: 415 }), '1.1').status).toBe(415);
    expect(toSoapFault(new SoapEdgeError('must-understand', 'x'), '1.2')).toMatchObject({ code: 'MustUnderstand', status: 500 });
  });

  it('every fault names its cause for the audit record; a protocol fault is no login failure', () => {
    expect(toSoapFault(new SoapEdgeError('must-understand', 'x'), '1.1').cause).toEqual({ kind: 'invalid-input', code: 'SOAP.MUST_UNDERSTAND' });
    expect(toSoapFault(new SoapEdgeError('version-mismatch', 'x', [], { answer: '1.1' }), '1.1').cause).toEqual({ kind: 'invalid-input', code: 'SOAP.VERSION_MISMATCH' });
    expect(toSoapFault(new WsSecurityError('FailedCheck', 'x'), '1.1').cause).toEqual({ kind: 'unauthenticated', code: 'WSSE.FailedCheck' });
    expect(toSoapFault(new UnauthenticatedError(), '1.1').cause).toEqual({ kind: 'unauthenticated', code: 'AUTH.UNAUTHENTICATED' });
    expect(toSoapFault(new Error('boom'), '1.2').cause).toEqual({ kind: 'internal', code: 'GENERIC.INTERNAL' });
  });

  it('a SOAP 1.1 VersionMismatch has no Upgrade header (SOAP 1.2 Part 1 Appendix A: a 1.2 node only)', () => {
    const plain = renderFaultEnvelope(toSoapFault(new SoapEdgeError('version-mismatch', 'send SOAP 1.2 envelopes to /soap12', [], { answer: '1.1' }), '1.1'));
    expect(plain).not.toContain('Upgrade');
    expect(plain).toContain('<faultcode>soap:VersionMismatch</faultcode><faultstring>send SOAP 1.2 envelopes to /soap12</faultstring>');
    const upg = renderFaultEnvelope(toSoapFault(new SoapEdgeError('version-mismatch', 'x', [], { answer: '1.1', supported: '1.2' }), '1.2'));
    expect(upg).toContain('<upg:SupportedEnvelope qname="v:Envelope" xmlns:v="http://www.w3.org/2003/05/soap-envelope"/>');
  });

  it('renders well-formed SOAP 1.1 and 1.2 faults with the typed detail in the types namespace', () => {
    for (const v of ['1.1', '1.2'] as const) {
      const env = parseXml(renderFaultEnvelope(toSoapFault(new NotFoundError('Machine', 'm<1>'), v, 'c')));
      const fault = env.children[0].children[0];
      expect(fault.local).toBe('Fault');
      const detail = fault.children.find((c) => c.local === (v === '1.1' ? 'detail' : 'Detail'))!;
      expect(detail.children[0]).toMatchObject({ ns: 'urn:cimi-gateway:soap:1:types', local: 'GatewayFault' });
      expect(detail.children[0].children.find((c) => c.local === 'resourceId')!.text).toBe('m<1>');
    }
  });
});
