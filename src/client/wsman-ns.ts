/**
 * The WS-Management namespaces and fixed URIs (DSP0226 Annex A, WS-Addressing 2004/08), shared by the client and the
 * interop kit: both are written from the specifications, so one list of the spec's strings serves both.
 */
export const WSMAN_NS = {
  s: 'http://www.w3.org/2003/05/soap-envelope',
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsman: 'http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd',
  wxf: 'http://schemas.xmlsoap.org/ws/2004/09/transfer',
  wsen: 'http://schemas.xmlsoap.org/ws/2004/09/enumeration',
  wsmid: 'http://schemas.dmtf.org/wbem/wsman/identity/1/wsmanidentity.xsd',
  xsi: 'http://www.w3.org/2001/XMLSchema-instance',
  msf: 'http://schemas.microsoft.com/wbem/wsman/1/wsmanfault',
} as const;

/** the anonymous ReplyTo address: the answer comes back on the HTTP response (WS-Addressing 2004/08 §2.3) */
export const WSA_ANONYMOUS = 'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous';

/** DSP0227's base for the DMTF CIM classes' resource URIs */
export const CIM_SCHEMA = 'http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/';
