/** Namespace URIs and action URIs of DSP0226 1.1 / DSP0227 / DSP0230 (docs/wsman.md §1.1, §1.4). Never prefixes. */
export const NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsman: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  wsen: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration',
  wxf: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
  wse: 'http://schemas.xmlsoap.org/ws/2004/08/eventing',
  wsmid: 'http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd',
  wsmb: 'http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd',
  cim: 'http://schemas.dmtf.org/wbem/wscim/1/common',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  xs: 'http://www.w3.org/2001/XMLSchema',
  msfault: 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
  xml: 'http://www.w3.org/XML/1998/namespace',
} as const;

/** The prefixes every response envelope declares; handler output may use them without declaring them. */
export const ENVELOPE_PREFIXES: Record<string, string> = {
  s: NS.s,
  wsa: NS.wsa,
  wsman: NS.wsman,
  wsen: NS.wsen,
  wxf: NS.wxf,
  wsmb: NS.wsmb,
  cim: NS.cim,
  xsi: NS.xsi,
};

export const ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

export const ACTIONS = {
  get: `${NS.wxf}/Get`,
  put: `${NS.wxf}/Put`,
  create: `${NS.wxf}/Create`,
  delete: `${NS.wxf}/Delete`,
  enumerate: `${NS.wsen}/Enumerate`,
  pull: `${NS.wsen}/Pull`,
  release: `${NS.wsen}/Release`,
  renew: `${NS.wsen}/Renew`,
  getStatus: `${NS.wsen}/GetStatus`,
  subscribe: `${NS.wse}/Subscribe`,
  eventRenew: `${NS.wse}/Renew`,
  eventGetStatus: `${NS.wse}/GetStatus`,
  unsubscribe: `${NS.wse}/Unsubscribe`,
  subscriptionEnd: `${NS.wse}/SubscriptionEnd`,
} as const;

/** WS-Eventing delivery modes and the DSP0226 10 event actions (DSP0226 10.2.2, 10.7) */
export const EVENTING = {
  push: `${NS.wse}/DeliveryModes/Push`,
  pushWithAck: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/PushWithAck',
  ack: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/Ack',
  pull: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/Pull',
  heartbeat: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/Heartbeat',
  /** DSP0226 10.2.6: the bookmark that starts at the earliest Event the service still has */
  earliest: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/bookmark/earliest',
  deliveryFailure: `${NS.wse}/DeliveryFailure`,
} as const;

export const FAULT_ACTIONS = {
  addressing: `${NS.wsa}/fault`,
  wsman: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/fault',
  transfer: `${NS.wxf}/fault`,
  enumeration: `${NS.wsen}/fault`,
  eventing: `${NS.wse}/fault`,
} as const;

export const FAULT_DETAIL_BASE = 'http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/';

/** DSP0230: CIM class URIs and the all-classes URI of association and query filters. */
export const CIM_SCHEMA_BASE = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/';
export const ALL_CLASSES_URI = 'http://schemas.dmtf.org/wbem/wscim/1/*';

/** Identify security profile URIs (DSP0226 Annex C). */
export const SECURITY_PROFILES = {
  httpBasic: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/basic',
  httpDigest: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/http/digest',
  httpsBasic: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/basic',
  httpsDigest: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/digest',
  httpsMutual: 'http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual',
} as const;
