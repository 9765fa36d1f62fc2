import { isModelError, ThrottledError, type ErrorKind } from '../../model/shared/model-error';
import { XmlRejectedError, xmlEscape } from '../xml/safe-xml';
import { XsdValidationError } from '../xml/xsd-subset';
import { WsSecurityError, type WssFaultCode } from './ws-security/ws-security.contract';
import { SOAP11_ENV, SOAP12_ENV, TYPES_NS, type SoapVersion } from './soap-contract';

export const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
/** RFC 7617: the challenge of a 401 on the SOAP endpoints */
export const BASIC_CHALLENGE = 'Basic realm="cimi-gateway", charset="UTF-8"';

/** Errors of the HTTP edge itself (envelope, headers, body), before any operation runs. */
export type EdgeProblem =
  | 'version-mismatch'
  | 'must-understand'
  | 'bad-envelope'
  | 'wrong-namespace'
  | 'unknown-operation'
  | 'action-mismatch'
  | 'too-large'
  | 'unsupported-encoding'
  | 'method-not-allowed';

export class SoapEdgeError extends Error {
  constructor(
    readonly problem: EdgeProblem,
    message: string,
    /** MustUnderstand: the header QNames not understood (SOAP 1.2 §5.4.8 NotUnderstood) */
    readonly notUnderstood: { ns: string; local: string }[] = [],
    /** VersionMismatch: the version to answer in, and (SOAP 1.2 endpoint only) the version to advertise in Upgrade */
    readonly versions?: { answer: SoapVersion; supported?: SoapVersion },
  ) {
    super(message);
    this.name = 'SoapEdgeError';
  }
}

export interface FaultDetail {
  kind: ErrorKind;
  code: string;
  message: string;
  resourceId?: string;
  resourceType?: string;
  field?: string;
  correlationId?: string;
}

/** A protocol-neutral description of one fault; rendered for SOAP 1.1 or 1.2 by `renderFault`. */
export interface SoapFault {
  version: SoapVersion;
  /** Client/Server are the 1.1 names; rendered as Sender/Receiver in 1.2 */
  code: 'Client' | 'Server' | 'VersionMismatch' | 'MustUnderstand' | { wsse: WssFaultCode };
  /** SOAP 1.2 Subcode (a local name in the types namespace) */
  subcode?: string;
  reason: string;
  detail?: FaultDetail;
  status: number;
  headers: Record<string, string>;
  notUnderstood?: { ns: string; local: string }[];
  /** VersionMismatch on the SOAP 1.2 endpoint: '1.2', rendered as the Upgrade header (SOAP 1.2 Part 1 Appendix A) */
  supported?: SoapVersion;
  /**
   * What went wrong, for the request's audit record. Always set, also where `detail` is not (VersionMismatch and
   * MustUnderstand carry none: SOAP 1.1 §4.4 keeps detail for Body errors; wsse faults none: WSS 1.1 §12).
   */
  cause: { kind: ErrorKind; code: string };
}

interface KindRow {
  code: 'Client' | 'Server';
  subcode: string;
}

/** docs/soap.md §4: the ONE table from model error kinds to SOAP fault codes. */
const KINDS: Record<ErrorKind, KindRow> = {
  'not-found': { code: 'Client', subcode: 'ResourceNotFound' },
  'invalid-input': { code: 'Client', subcode: 'InvalidArgument' },
  'invalid-state': { code: 'Client', subcode: 'Conflict' },
  'already-exists': { code: 'Client', subcode: 'Conflict' },
  conflict: { code: 'Client', subcode: 'Conflict' },
  precondition: { code: 'Client', subcode: 'Conflict' },
  quota: { code: 'Client', subcode: 'QuotaExceeded' },
  forbidden: { code: 'Client', subcode: 'NotAuthorized' },
  unauthenticated: { code: 'Client', subcode: 'NotAuthenticated' },
  throttled: { code: 'Client', subcode: 'TooManyRequests' },
  unsupported: { code: 'Server', subcode: 'NotSupported' },
  'backend-unavailable': { code: 'Server', subcode: 'Unavailable' },
  internal: { code: 'Server', subcode: 'InternalError' },
};

const EDGE: Record<EdgeProblem, { code: SoapFault['code']; status?: number; subcode?: string }> = {
  'version-mismatch': { code: 'VersionMismatch', status: 500 },
  'must-understand': { code: 'MustUnderstand', status: 500 },
  'bad-envelope': { code: 'Client', subcode: 'InvalidMessage' },
  'wrong-namespace': { code: 'Client', subcode: 'InvalidMessage' },
  'unknown-operation': { code: 'Client', subcode: 'UnknownOperation' },
  'action-mismatch': { code: 'Client', subcode: 'ActionMismatch' },
  'too-large': { code: 'Client', status: 413, subcode: 'InvalidMessage' },
  'unsupported-encoding': { code: 'Client', status: 415, subcode: 'InvalidMessage' },
  'method-not-allowed': { code: 'Client', status: 405, subcode: 'InvalidMessage' },
};

/** WS-I BP 1.1 R1126: every SOAP 1.1 fault is HTTP 500; SOAP 1.2 Part 2 §7.5.1.2: Sender 400, Receiver 500. */
function statusOf(version: SoapVersion, code: SoapFault['code']): number {
  if (version === '1.1') return 500;
  return code === 'Client' || typeof code === 'object' ? 400 : 500;
}

/**
 * The single mapper of the SOAP door: any error (model, edge, schema, XML, WS-Security, body reader, or
 * anything unexpected) to the fault a client receives. Internal errors get a generic reason with the correlation
 * id only; nothing else ever reaches the wire (no stack, no `error.toString()`).
 */
export function toSoapFault(error: unknown, version: SoapVersion, correlationId?: string): SoapFault {
  const base = { version, headers: {} as Record<string, string> };
  if (error instanceof WsSecurityError) {
    // WSS 1.1 §12: the wsse fault code only; no detail, so as not to reveal which check failed
    return { ...base, code: { wsse: error.code }, reason: wssReason(error.code), status: statusOf(version, { wsse: error.code }), cause: { kind: 'unauthenticated', code: `WSSE.${error.code}` } };
  }
  if (error instanceof SoapEdgeError) {
    const row = EDGE[error.problem];
    const detail: FaultDetail = { kind: 'invalid-input', code: `SOAP.${error.problem.toUpperCase().replace(/-/g, '_')}`, message: error.message, correlationId };
    const keepDetail = row.code === 'Client';
    return {
      ...base,
      version: error.versions?.answer ?? version,
      supported: error.versions?.supported,
      code: row.code,
      subcode: row.subcode,
      reason: error.message,
      detail: keepDetail ? detail : undefined,
      status: row.status ?? statusOf(version, row.code),
      notUnderstood: error.notUnderstood,
      headers: error.problem === 'method-not-allowed' ? { Allow: 'GET, POST' } : {},
      // a protocol fault is not a failed login: it is recorded under its own SOAP.* code
      cause: { kind: detail.kind, code: detail.code },
    };
  }
  if (error instanceof XmlRejectedError) {
    const code = error.reason === 'doctype' ? 'SOAP.DTD_NOT_ALLOWED' : error.reason === 'processing-instruction' ? 'SOAP.PI_NOT_ALLOWED' : error.reason === 'limits' ? 'SOAP.LIMITS' : 'SOAP.MALFORMED_XML';
    return { ...base, code: 'Client', subcode: 'InvalidMessage', reason: error.message, detail: { kind: 'invalid-input', code, message: error.message, correlationId }, status: statusOf(version, 'Client'), cause: { kind: 'invalid-input', code } };
  }
  if (error instanceof XsdValidationError) {
    return {
      ...base,
      code: 'Client',
      subcode: 'InvalidArgument',
      reason: error.message,
      detail: { kind: 'invalid-input', code: 'SOAP.INVALID_ARGUMENT', message: error.message, field: error.path, correlationId },
      status: statusOf(version, 'Client'),
      cause: { kind: 'invalid-input', code: 'SOAP.INVALID_ARGUMENT' },
    };
  }
  if (isModelError(error)) {
    const row = KINDS[error.kind];
    const d = error.details ?? {};
    const internal = error.kind === 'internal';
    const message = internal ? genericReason(correlationId) : error.message;
    const f: SoapFault = {
      ...base,
      code: row.code,
      subcode: row.subcode,
      reason: message,
      detail: {
        kind: error.kind,
        code: error.code,
        message,
        resourceId: typeof d.resourceId === 'string' ? d.resourceId : undefined,
        resourceType: typeof d.resourceType === 'string' ? d.resourceType : undefined,
        field: typeof d.field === 'string' ? d.field : undefined,
        correlationId,
      },
      status: statusOf(version, row.code),
      cause: { kind: error.kind, code: error.code },
    };
    if (error.kind === 'unauthenticated') {
      // HTTP Basic failed or is missing: a 401 challenge (RFC 7235 §3.1) carrying a wsse fault body, so HTTP
      // clients can retry with credentials and SOAP stacks still get a fault they can decode
      return { ...f, code: { wsse: 'FailedAuthentication' }, subcode: undefined, status: 401, headers: { 'WWW-Authenticate': BASIC_CHALLENGE } };
    }
    if (error instanceof ThrottledError) {
      // refused at the HTTP layer like 413/415 (soap.md §4 edge exceptions): 429 (RFC 6585 §4) for this caller, 503
      // for the whole gateway, with Retry-After (RFC 9110 §10.2.3); the fault body says the same to SOAP stacks
      const busy = error.overloaded ? { code: 'Server' as const, subcode: 'Unavailable', status: 503 } : { code: 'Client' as const, subcode: 'TooManyRequests', status: 429 };
      return { ...f, ...busy, headers: { 'Retry-After': String(error.retryAfterSeconds) } };
    }
    return f;
  }
  const status = (error as { status?: unknown; type?: unknown })?.status;
  if (status === 413 || (error as { type?: unknown })?.type === 'entity.too.large') return toSoapFault(new SoapEdgeError('too-large', 'request body too large'), version, correlationId);
  if (status === 415) return toSoapFault(new SoapEdgeError('unsupported-encoding', 'unsupported content encoding'), version, correlationId);
  if (typeof status === 'number' && status >= 400 && status < 500) return toSoapFault(new SoapEdgeError('bad-envelope', 'the request body could not be read'), version, correlationId);
  return {
    ...base,
    code: 'Server',
    subcode: 'InternalError',
    reason: genericReason(correlationId),
    detail: { kind: 'internal', code: 'GENERIC.INTERNAL', message: genericReason(correlationId), correlationId },
    status: 500,
    cause: { kind: 'internal', code: 'GENERIC.INTERNAL' },
  };
}

function genericReason(correlationId?: string): string {
  return `internal error (correlation id ${correlationId ?? 'unknown'})`;
}

function wssReason(code: WssFaultCode): string {
  switch (code) {
    case 'FailedAuthentication':
      return 'The security token could not be authenticated or authorized';
    case 'InvalidSecurity':
      return 'An error was discovered processing the <wsse:Security> header';
    case 'InvalidSecurityToken':
      return 'An invalid security token was provided';
    case 'FailedCheck':
      return 'The signature or decryption was invalid';
    case 'MessageExpired':
      return 'The message has expired';
  }
}

export function contentTypeOf(version: SoapVersion): string {
  return version === '1.1' ? 'text/xml; charset=utf-8' : 'application/soap+xml; charset=utf-8';
}

/** The `<soap:Fault>` element (prefix `soap` bound on it), the Body of a fault envelope. */
function renderFault(f: SoapFault): string {
  const ns = f.version === '1.1' ? SOAP11_ENV : SOAP12_ENV;
  const wsse = typeof f.code === 'object';
  const decl = `xmlns:soap="${ns}"${wsse ? ` xmlns:wsse="${WSSE_NS}"` : ''}${f.subcode ? ` xmlns:t="${TYPES_NS}"` : ''}`;
  const detail = f.detail ? renderDetail(f.detail) : '';
  if (f.version === '1.1') {
    const code = typeof f.code === 'object' ? `wsse:${f.code.wsse}` : `soap:${f.code}`;
    return `<soap:Fault ${decl}><faultcode>${code}</faultcode><faultstring>${xmlEscape(f.reason)}</faultstring>${detail ? `<detail>${detail}</detail>` : ''}</soap:Fault>`;
  }
  const value = typeof f.code === 'object' ? 'Sender' : f.code === 'Client' ? 'Sender' : f.code === 'Server' ? 'Receiver' : f.code;
  const sub = typeof f.code === 'object' ? `wsse:${f.code.wsse}` : f.subcode ? `t:${f.subcode}` : undefined;
  return (
    `<soap:Fault ${decl}><soap:Code><soap:Value>soap:${value}</soap:Value>${sub ? `<soap:Subcode><soap:Value>${sub}</soap:Value></soap:Subcode>` : ''}</soap:Code>` +
    `<soap:Reason><soap:Text xml:lang="en">${xmlEscape(f.reason)}</soap:Text></soap:Reason>${detail ? `<soap:Detail>${detail}</soap:Detail>` : ''}</soap:Fault>`
  );
}

function renderDetail(d: FaultDetail): string {
  const el = (n: keyof FaultDetail) => (d[n] === undefined ? '' : `<t:${n}>${xmlEscape(String(d[n]))}</t:${n}>`);
  return `<t:GatewayFault xmlns:t="${TYPES_NS}">${el('kind')}${el('code')}${el('message')}${el('resourceId')}${el('resourceType')}${el('field')}${el('correlationId')}</t:GatewayFault>`;
}

/** A complete fault envelope: every fault the SOAP door answers. */
export function renderFaultEnvelope(f: SoapFault): string {
  const ns = f.version === '1.1' ? SOAP11_ENV : SOAP12_ENV;
  let header = '';
  if (f.version === '1.2' && f.notUnderstood?.length) {
    // SOAP 1.2 Part 1 §5.4.8: one NotUnderstood header block per header not understood
    header = f.notUnderstood.map((q) => `<soap:NotUnderstood qname="q:${xmlEscape(q.local)}" xmlns:q="${xmlEscape(q.ns)}"/>`).join('');
  }
  if (f.code === 'VersionMismatch' && f.supported === '1.2') {
    // SOAP 1.2 Part 1 §5.4.7 / Appendix A: only a SOAP 1.2 node advertises Upgrade; SOAP 1.1 defines no such header
    // (a 1.1 toolkit such as gSOAP fails on it), so a 1.1 endpoint names the other endpoint in faultstring instead
    header += `<upg:Upgrade xmlns:upg="${SOAP12_ENV}"><upg:SupportedEnvelope qname="v:Envelope" xmlns:v="${SOAP12_ENV}"/></upg:Upgrade>`;
  }
  return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${ns}">${header ? `<soap:Header>${header}</soap:Header>` : ''}<soap:Body>${renderFault(f)}</soap:Body></soap:Envelope>`;
}
