import { isModelError, type ErrorKind } from '../../model/shared/model-error';
import { XmlInputError, xmlEscape } from '../xml/xml-hardening';
import { XmlRejectedError } from '../xml/safe-xml';
import { FAULT_ACTIONS, FAULT_DETAIL_BASE, NS } from './wsman-ns';

/**
 * The WS-Man fault table (docs/wsman.md §3; DSP0226 Annex B). Each row: SOAP 1.2 Code, subcode QName, the fault's
 * wsa:Action and a default Reason. Every fault goes out with HTTP 500 (docs/wsman.md §3: libwsman ignores other
 * statuses' bodies).
 */
interface FaultRow {
  code: 'Sender' | 'Receiver' | 'MustUnderstand' | 'VersionMismatch';
  /** subcode namespace and local name; none for s:MustUnderstand and s:VersionMismatch */
  subcode?: [keyof typeof NS, string];
  action: string;
  reason: string;
}

const A = FAULT_ACTIONS;
export const FAULTS = {
  DestinationUnreachable: { code: 'Sender', subcode: ['wsa', 'DestinationUnreachable'], action: A.addressing, reason: 'No route can be determined to reach the destination role defined by the WS-Addressing To.' },
  ActionNotSupported: { code: 'Sender', subcode: ['wsa', 'ActionNotSupported'], action: A.addressing, reason: 'The action is not supported by the service.' },
  MessageInformationHeaderRequired: { code: 'Sender', subcode: ['wsa', 'MessageInformationHeaderRequired'], action: A.addressing, reason: 'A required header representing a Message Addressing Property is not present.' },
  InvalidMessageInformationHeader: { code: 'Sender', subcode: ['wsa', 'InvalidMessageInformationHeader'], action: A.addressing, reason: 'A message information header is not valid and the message cannot be processed.' },
  EndpointUnavailable: { code: 'Receiver', subcode: ['wsa', 'EndpointUnavailable'], action: A.addressing, reason: 'The specified endpoint is currently unavailable.' },
  MustUnderstand: { code: 'MustUnderstand', action: A.addressing, reason: 'A header marked mustUnderstand was not understood.' },
  VersionMismatch: { code: 'VersionMismatch', action: A.wsman, reason: 'The Envelope is not in the SOAP 1.2 namespace.' },
  InvalidSelectors: { code: 'Sender', subcode: ['wsman', 'InvalidSelectors'], action: A.wsman, reason: 'The Selectors for the resource are not valid.' },
  InvalidOptions: { code: 'Sender', subcode: ['wsman', 'InvalidOptions'], action: A.wsman, reason: 'One or more options are not valid.' },
  AccessDenied: { code: 'Sender', subcode: ['wsman', 'AccessDenied'], action: A.wsman, reason: 'The sender was not authorized to access the resource.' },
  AlreadyExists: { code: 'Sender', subcode: ['wsman', 'AlreadyExists'], action: A.wsman, reason: 'The sender attempted to create a resource which already exists.' },
  EncodingLimit: { code: 'Sender', subcode: ['wsman', 'EncodingLimit'], action: A.wsman, reason: 'An internal encoding limit was exceeded in a request or would be violated if the message were processed.' },
  SchemaValidationError: { code: 'Sender', subcode: ['wsman', 'SchemaValidationError'], action: A.wsman, reason: 'The supplied SOAP violates the corresponding XML schema definition.' },
  InvalidRepresentation: { code: 'Sender', subcode: ['wxf', 'InvalidRepresentation'], action: A.transfer, reason: 'The XML content is not valid.' },
  InvalidParameter: { code: 'Sender', subcode: ['wsman', 'InvalidParameter'], action: A.wsman, reason: 'An operation parameter is not valid.' },
  UnsupportedFeature: { code: 'Sender', subcode: ['wsman', 'UnsupportedFeature'], action: A.wsman, reason: 'The specified feature is not supported.' },
  CannotProcessFilter: { code: 'Sender', subcode: ['wsman', 'CannotProcessFilter'], action: A.wsman, reason: 'The requested filter could not be processed.' },
  EnumCannotProcessFilter: { code: 'Sender', subcode: ['wsen', 'CannotProcessFilter'], action: A.enumeration, reason: 'The requested filter could not be processed.' },
  FilterDialectRequestedUnavailable: { code: 'Sender', subcode: ['wsen', 'FilterDialectRequestedUnavailable'], action: A.enumeration, reason: 'The requested filtering dialect is not supported.' },
  FilteringNotSupported: { code: 'Sender', subcode: ['wsen', 'FilteringNotSupported'], action: A.enumeration, reason: 'Filtered enumeration is not supported.' },
  InvalidEnumerationContext: { code: 'Receiver', subcode: ['wsen', 'InvalidEnumerationContext'], action: A.enumeration, reason: 'The supplied enumeration context is invalid.' },
  EnumTimedOut: { code: 'Receiver', subcode: ['wsen', 'TimedOut'], action: A.enumeration, reason: 'The enumerator has timed out and is no longer valid.' },
  InvalidExpirationTime: { code: 'Sender', subcode: ['wsen', 'InvalidExpirationTime'], action: A.enumeration, reason: 'The expiration time was not valid.' },
  UnsupportedExpirationType: { code: 'Sender', subcode: ['wsen', 'UnsupportedExpirationType'], action: A.enumeration, reason: 'The expiration time is not supported.' },
  TimedOut: { code: 'Receiver', subcode: ['wsman', 'TimedOut'], action: A.wsman, reason: 'The operation has timed out.' },
  InternalError: { code: 'Receiver', subcode: ['wsman', 'InternalError'], action: A.wsman, reason: 'The service cannot comply with the request due to internal processing errors.' },
  InvalidBookmark: { code: 'Sender', subcode: ['wsman', 'InvalidBookmark'], action: A.wsman, reason: 'The bookmark supplied with the subscription is not valid.' },
  QuotaLimit: { code: 'Sender', subcode: ['wsman', 'QuotaLimit'], action: A.wsman, reason: 'The service is busy servicing other requests.' },
  Concurrency: { code: 'Sender', subcode: ['wsman', 'Concurrency'], action: A.wsman, reason: 'The action could not be completed due to concurrency or locking problems.' },
  PolymorphismModeNotSupported: { code: 'Sender', subcode: ['wsmb', 'PolymorphismModeNotSupported'], action: A.wsman, reason: 'The requested PolymorphismMode is not supported.' },
  EventInvalidExpirationTime: { code: 'Sender', subcode: ['wse', 'InvalidExpirationTime'], action: A.eventing, reason: 'The expiration time requested is invalid.' },
  EventFilteringNotSupported: { code: 'Sender', subcode: ['wse', 'FilteringNotSupported'], action: A.eventing, reason: 'Filtering over the event source is not supported.' },
  InvalidMessage: { code: 'Sender', subcode: ['wse', 'InvalidMessage'], action: A.eventing, reason: 'The request message has unknown or invalid content and cannot be processed.' },
  DeliveryModeRequestedUnavailable: { code: 'Sender', subcode: ['wse', 'DeliveryModeRequestedUnavailable'], action: A.eventing, reason: 'The requested delivery mode is not supported.' },
} as const satisfies Record<string, FaultRow>;

export type FaultKind = keyof typeof FAULTS;

export interface FaultOptions {
  /** a faultDetail name (`InvalidResourceURI`) or a full URI; rendered as wsman:FaultDetail */
  detail?: string;
  /** extra XML for s:Detail, already escaped (e.g. `<wsa:Action>…</wsa:Action>`, `<wsen:SupportedDialect>…`) */
  detailXml?: string;
  /** the model's stable error code, carried in f:WSManFault/@Code for Windows clients and pywinrm */
  code?: string;
  /** for s:MustUnderstand: the QName of the header not understood, rendered as s:NotUnderstood */
  notUnderstood?: { ns: string; local: string };
}

/** A fault to answer; handlers throw it, the controller renders it with `renderFault`. */
export class WsmanFault extends Error {
  constructor(
    readonly kind: FaultKind,
    message?: string,
    readonly opts: FaultOptions = {},
  ) {
    super(message ?? FAULTS[kind].reason);
    this.name = 'WsmanFault';
  }

  get action(): string {
    return FAULTS[this.kind].action;
  }
}

/**
 * THE mapper of this door: any error to a WsmanFault (docs/architecture.md §3). `operation` lets invalid input be
 * a representation fault on Put/Create, a parameter fault on methods and a filter fault on enumerations.
 */
export function toFault(e: unknown, operation: 'transfer' | 'method' | 'enumerate' | 'other' = 'other'): WsmanFault {
  if (e instanceof WsmanFault) return e;
  if (e instanceof XmlInputError) {
    if (e.reason === 'charset') return new WsmanFault('EncodingLimit', e.message, { detail: 'CharacterSet' });
    return new WsmanFault('SchemaValidationError', e.message);
  }
  if (e instanceof XmlRejectedError) {
    // the shared XML gate (safe-xml.ts): size caps are an encoding limit, everything else a schema violation
    if (e.reason === 'limits') return new WsmanFault('EncodingLimit', e.message, { detail: 'ServiceEnvelopeLimit' });
    return new WsmanFault('SchemaValidationError', e.message);
  }
  if (isModelError(e)) {
    const code = e.code;
    // WS-Enumeration §3.1: an expiry in the past is its own fault, not a filter one
    if (code === 'ENUMERATION.INVALID_EXPIRATION') return new WsmanFault('InvalidExpirationTime', e.message, { code });
    // WS-Eventing 2004/08 §3.1, §4: a bad expiry or subscriber address, an unknown (or ended) subscription
    if (code === 'SUBSCRIPTION.INVALID_EXPIRATION') return new WsmanFault('EventInvalidExpirationTime', e.message, { code });
    if (code === 'SUBSCRIPTION.INVALID_ADDRESS' || code === 'SUBSCRIPTION.PRIVATE_ADDRESS') return new WsmanFault('InvalidMessage', e.message, { code });
    // DSP0226 10.2.6: an unknown or no longer retained bookmark; 10.2.5: a heartbeat interval not offered
    if (code === 'SUBSCRIPTION.INVALID_BOOKMARK') return new WsmanFault('InvalidBookmark', e.message, { code, detail: 'Invalid' });
    if (code === 'SUBSCRIPTION.INVALID_HEARTBEAT') return new WsmanFault('UnsupportedFeature', e.message, { code, detail: 'Heartbeats' });
    // a Pull on a subscription that is not in pull mode names no enumeration context (DSP0226 10.2.9)
    if (code === 'SUBSCRIPTION.NOT_PULL' || (e.kind === 'not-found' && e.details.resourceType === 'Subscription' && operation === 'enumerate'))
      return new WsmanFault('InvalidEnumerationContext', e.message, { code });
    if (e.kind === 'not-found' && e.details.resourceType === 'Subscription') return new WsmanFault('InvalidMessage', e.message, { code });
    // DSP0226 §6.1: the change missed the request's OperationTimeout and was rolled back
    if (code === 'GENERIC.DEADLINE_EXCEEDED') return new WsmanFault('TimedOut', e.message, { code });
    const byKind: Record<ErrorKind, () => WsmanFault> = {
      'not-found': () => new WsmanFault('DestinationUnreachable', e.message, { detail: 'InvalidResourceURI', code }),
      'invalid-input': () =>
        operation === 'transfer'
          ? new WsmanFault('InvalidRepresentation', e.message, { detail: 'InvalidValues', code })
          : operation === 'enumerate'
            ? new WsmanFault('CannotProcessFilter', e.message, { code })
            : new WsmanFault('InvalidParameter', e.message, { detail: 'InvalidName', code }),
      // docs/wsman.md §5.3: invalid state on Put/Delete/Create is a Concurrency fault carrying the model code
      'invalid-state': () => new WsmanFault('Concurrency', e.message, { code }),
      'already-exists': () => new WsmanFault('AlreadyExists', e.message, { code }),
      conflict: () => new WsmanFault('Concurrency', e.message, { code }),
      precondition: () => new WsmanFault('Concurrency', e.message, { code }),
      quota: () => new WsmanFault('QuotaLimit', e.message, { code }),
      unsupported: () => new WsmanFault('UnsupportedFeature', e.message, { code }),
      unauthenticated: () => new WsmanFault('AccessDenied', e.message, { code }),
      forbidden: () => new WsmanFault('AccessDenied', e.message, { code }),
      // DSP0226 Annex B: QuotaLimit "the service is busy servicing other requests"; the controller adds Retry-After
      throttled: () => new WsmanFault('QuotaLimit', e.message, { code }),
      'backend-unavailable': () => new WsmanFault('EndpointUnavailable', e.message, { code }),
      internal: () => new WsmanFault('InternalError', 'internal error', { code }),
    };
    return byKind[e.kind]();
  }
  return new WsmanFault('InternalError', 'internal error');
}

/** s:Fault body (SOAP 1.2 §5.4: Code, Reason, Detail in that order); prefixes are the envelope's. */
export function renderFaultBody(f: WsmanFault, lang = 'en'): string {
  const row: FaultRow = FAULTS[f.kind];
  const code = !row.subcode
      ? `<s:Code><s:Value>s:${row.code}</s:Value></s:Code>`
      : `<s:Code><s:Value>s:${row.code}</s:Value><s:Subcode><s:Value>${row.subcode![0]}:${row.subcode![1]}</s:Value></s:Subcode></s:Code>`;
  const detailParts: string[] = [];
  if (f.opts.detail) detailParts.push(`<wsman:FaultDetail>${xmlEscape(f.opts.detail.includes(':') ? f.opts.detail : FAULT_DETAIL_BASE + f.opts.detail)}</wsman:FaultDetail>`);
  if (f.opts.detailXml) detailParts.push(f.opts.detailXml);
  if (f.opts.code) {
    detailParts.push(`<f:WSManFault xmlns:f="${NS.msfault}" Code="${xmlEscape(f.opts.code)}"><f:Message>${xmlEscape(f.message)}</f:Message></f:WSManFault>`);
  }
  const detail = detailParts.length ? `<s:Detail>${detailParts.join('')}</s:Detail>` : '';
  return `<s:Fault>${code}<s:Reason><s:Text xml:lang="${xmlEscape(lang)}">${xmlEscape(f.message)}</s:Text></s:Reason>${detail}</s:Fault>`;
}

/** prefixes a fault body may use beyond the envelope's (the subcode QName's prefix must be declared, §3) */
export function faultNamespaces(f: WsmanFault): Record<string, string> {
  const row: FaultRow = FAULTS[f.kind];
  const out: Record<string, string> = {};
  if (row.subcode) out[row.subcode[0]] = NS[row.subcode[0]];
  return out;
}
