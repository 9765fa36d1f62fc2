import type { Request } from 'express';
import { parseXml, xmlEscape, type XElement } from '../xml/safe-xml';
import { decodeXmlBody } from '../xml/xml-hardening';

/** the most of a request a `full` audit record keeps; longer bodies are cut (and say so) */
const MAX_CHARS = 16384;
const REDACTED = '***';
/**
 * Names whose values are secrets wherever they appear: CIMI MachineCredential password/key, SOAP admin
 * passwords, WS-Security tokens and nonces. Matched on JSON keys and XML local names, case-insensitively.
 */
const SECRET = /^(password|passwd|newpassword|secret|key|privatekey|token|nonce|authorization|userdata|credential)$/i;
/** whole elements that only carry proofs of identity (WS-Security header, XML-DSig), dropped from the copy */
const WSSE_NS = 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';

function redactJson(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(redactJson);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, SECRET.test(k) ? REDACTED : redactJson(x)]));
  return v;
}

/** Writes a parsed document back, prefixes renamed (n0, n1, …) and secrets replaced; attributes named as secrets too. */
function writeXml(root: XElement): string {
  const prefixes = new Map<string, string>();
  const prefix = (ns: string) => {
    if (!ns) return '';
    let p = prefixes.get(ns);
    if (!p) prefixes.set(ns, (p = `n${prefixes.size}`));
    return `${p}:`;
  };
  const el = (e: XElement): string => {
    if ((e.ns === WSSE_NS && e.local === 'Security') || (e.ns === DSIG_NS && e.local === 'Signature')) return '';
    const name = `${prefix(e.ns)}${e.local}`;
    const attrs = e.attrs.map((a) => ` ${prefix(a.ns)}${a.local}="${xmlEscape(SECRET.test(a.local) ? REDACTED : a.value)}"`).join('');
    const secret = SECRET.test(e.local);
    const inner = secret ? REDACTED : `${xmlEscape(e.text.trim())}${e.children.map(el).join('')}`;
    return inner ? `<${name}${attrs}>${inner}</${name}>` : `<${name}${attrs}/>`;
  };
  const body = el(root);
  const decls = [...prefixes].map(([ns, p]) => ` xmlns:${p}="${xmlEscape(ns)}"`).join('');
  // the declarations go on the root: insert them after its name
  return body.replace(/^<([^\s/>]+)/, `<$1${decls}`);
}

/** the body as its door read it: text for REST, bytes (in the XML's own encoding) for SOAP and WS-Man */
function bodyText(req: Request): string | undefined {
  const b: unknown = req.body;
  if (typeof b === 'string') return b;
  // the same BOM/charset reading the XML doors use (UTF-16 from openwsman -j included)
  if (Buffer.isBuffer(b)) return decodeXmlBody(b, req.headers['content-type']);
  return undefined;
}

/**
 * The request as a `full` audit record keeps it (issue 13 §3): the request line, then the body with secrets
 * removed. Only bodies this gateway can read safely are kept: JSON, and XML that passes the same hardened parser
 * every door uses (a DTD or an oversized document is not copied, only noted).
 */
export function auditedRequest(req: Request): { contentType: string; content: string } {
  const line = `${req.method} ${req.originalUrl}`;
  const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  let text: string | undefined;
  let body = '';
  try {
    text = bodyText(req);
  } catch {
    body = '[body not kept: not in an encoding the doors read]';
  }
  if (text && text.trim()) {
    try {
      if (/json/.test(type) || (!type && /^\s*[{[]/.test(text))) body = JSON.stringify(redactJson(JSON.parse(text)));
      else if (/xml/.test(type) || /^\s*</.test(text)) body = writeXml(parseXml(text));
      else body = `[${Buffer.byteLength(text)} bytes of ${type || 'unknown type'} not kept]`;
    } catch {
      body = `[${Buffer.byteLength(text)} bytes not kept: not well-formed ${/json/.test(type) ? 'JSON' : 'XML'}, or refused by the XML limits]`;
    }
  }
  let content = body ? `${line}\n\n${body}` : line;
  if (content.length > MAX_CHARS) content = `${content.slice(0, MAX_CHARS)}\n[cut at ${MAX_CHARS} characters]`;
  return { contentType: 'text/plain', content };
}
