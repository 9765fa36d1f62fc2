import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Request, Response } from 'express';
import { raw } from 'express';
import { randomUUID } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../../config/env.schema';
import { ThrottledError, UnauthenticatedError } from '../../model/shared/model-error';
import type { OperationContext } from '../../model/shared/operation-context';
import { DEFAULT_XML_LIMITS, parseXml, type XElement } from '../xml/safe-xml';
import { contentTypeOf, renderFaultEnvelope, SoapEdgeError, toSoapFault, WSSE_NS, type SoapFault } from './soap-fault';
import { endpointPath, SoapContract, SOAP11_ENV, SOAP12_ENV, TYPES_NS, type SoapVersion } from './soap-contract';
import { decodeHooks, encodeHooks } from './soap-mapping';
import { SoapOperations } from './soap-operations';
import { admit, dropUnreadBody } from '../shared/admission';
import { auditScopeOf } from '../shared/audit-hook';
import { claimedUser } from '../shared/basic-credentials';
import { basicToken, CallerFront, type Credential } from '../shared/caller-front';
import { WS_SECURITY_VERIFIER, WsSecurityError, type WsSecurityVerifier } from './ws-security/ws-security.contract';

/** WS-Addressing headers are understood (soap.md §8: a MustUnderstand fault for wsa:* would break WCF clients). */
const WSA_NS = ['http://www.w3.org/2005/08/addressing', 'http://schemas.xmlsoap.org/ws/2004/08/addressing'];
/** SOAP 1.2 Part 1 §5.2.2: a header targeted at role `none` is never processed by anyone */
/** the operations whose Body carries an OVF package (ovfPackage, base64) */
const PACKAGE_OPERATIONS = ['ImportSystem', 'ImportSystemTemplate'];
const ROLE_NONE = 'http://www.w3.org/2003/05/soap-envelope/role/none';

/** What the edge hands to the operation handler after every check passed. */
export interface SoapCall {
  operation: string;
  args: Record<string, unknown>;
  ctx: OperationContext;
  version: SoapVersion;
  correlationId: string;
}

/**
 * The SOAP door's front (docs/soap.md §1.7, §9.1). It reads the body with a cap (also after gzip/deflate
 * inflation), refuses DOCTYPE/ENTITY/PIs, checks the envelope version against the endpoint, the Body's operation
 * element by namespace and name, SOAPAction / the SOAP 1.2 `action` parameter against it, mustUnderstand headers,
 * authenticates, validates every argument against the XSD, then runs the operation and writes the answer itself.
 */
@Injectable()
export class SoapEdge {
  private readonly log = new Logger('SoapEdge');
  private readonly readBody;
  /**
   * the OVF import operations carry a package (base64): their own cap, chosen by the action before the body is read.
   * The caller is known only after it is read (WS-Security is in the envelope): docs/soap.md §3, OVF import bodies.
   */
  private readonly readPackageBody;
  private readonly packageTextLimit: number;

  constructor(
    @Inject(APP_CONFIG) private readonly cfg: AppConfig,
    private readonly caller: CallerFront,
    readonly contract: SoapContract,
    private readonly operations: SoapOperations,
    @Optional() @Inject(WS_SECURITY_VERIFIER) private readonly verifier?: WsSecurityVerifier,
  ) {
    // body-parser counts the inflated bytes against `limit`, so a compressed bomb stops at the cap (soap.md §3)
    this.readBody = raw({ type: () => true, limit: cfg.SOAP_MAX_BODY_BYTES, inflate: true });
    this.packageTextLimit = Math.ceil((cfg.OVF_MAX_PACKAGE_BYTES * 4) / 3) + 4;
    this.readPackageBody = raw({ type: () => true, limit: Math.max(cfg.SOAP_MAX_BODY_BYTES, this.packageTextLimit + 64 * 1024), inflate: true });
  }

  /** SOAPAction (1.1) or the `action` media-type parameter (1.2), when the client sends one */
  private actionOf(req: Request, version: SoapVersion): string | undefined {
    if (version === '1.1') {
      const h = req.headers.soapaction;
      return typeof h === 'string' ? h.trim().replace(/^"(.*)"$/, '$1') : undefined;
    }
    const m = /;\s*action\s*=\s*(?:"([^"]*)"|([^;\s]*))/i.exec(req.headers['content-type'] ?? '');
    return m ? (m[1] ?? m[2]) : undefined;
  }

  /** an OVF import: the larger cap applies only when the action says so (checkAction then holds the Body to it) */
  private isPackageCall(req: Request, version: SoapVersion): boolean {
    const a = this.actionOf(req, version);
    return a !== undefined && PACKAGE_OPERATIONS.some((op) => a === this.contract.operations.get(op)?.soapAction);
  }

  /** Express middleware for POST on one endpoint. */
  post(version: SoapVersion) {
    return (req: Request, res: Response): void => {
      // decided once, from the headers, before the body is read: the body cap and the parser's text cap follow it
      const pkg = this.isPackageCall(req, version);
      // the in-flight caps (admission.ts) before a package body is read: one over its address's cap is refused
      // unread (its caller, inside the envelope, is not known yet; docs/soap.md §3)
      if (pkg) {
        try {
          admit(req);
        } catch (e) {
          dropUnreadBody(req);
          return this.fail(req, res, e, version);
        }
      }
      (pkg ? this.readPackageBody : this.readBody)(req, res, (err?: unknown) => {
        if (err) return this.fail(req, res, err, version);
        this.check(req, version, pkg).then(
          (call) => this.answer(req, res, call),
          (e: unknown) => this.fail(req, res, e, version),
        );
      });
    };
  }

  /**
   * Runs the accepted call and writes its answer: the `<op>Response` element encoded from the XSD, in the
   * endpoint's envelope (document/literal wrapped, WSDL 1.1 §3.5). The edge dispatches itself: node-soap only
   * checks the WSDL at start (soap.module.ts), so its parser and coercions are off the request path (issue 11 §3).
   */
  private async answer(req: Request, res: Response, call: SoapCall): Promise<void> {
    let body: string;
    try {
      const out = await this.operations.handlers.get(call.operation)!(call.ctx, call.args);
      body = this.contract.schema.encode(`${call.operation}Response`, out, encodeHooks);
    } catch (e) {
      return this.fail(req, res, e, call.version);
    }
    if (res.headersSent) return void res.end();
    const ns = call.version === '1.1' ? SOAP11_ENV : SOAP12_ENV;
    res.status(200).setHeader('Content-Type', contentTypeOf(call.version));
    res.end(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="${ns}"><soap:Body>${body}</soap:Body></soap:Envelope>`);
  }

  fail(req: Request, res: Response, e: unknown, version: SoapVersion): void {
    const cid = correlationOf(req);
    const f = toSoapFault(e, version, cid);
    if (f.detail?.kind === 'internal') this.log.error(`SOAP request ${cid} failed: ${(e as Error)?.stack ?? String(e)}`);
    const who = f.cause.kind === 'unauthenticated' ? Promise.resolve() : this.identifyForAudit(req);
    // a refused or throttled UsernameToken names its user only in the error (the edge never read the token)
    const claimed = e instanceof WsSecurityError ? e.claimedUser : e instanceof ThrottledError ? e.userName && claimedUser(e.userName) : undefined;
    void who
      .catch(() => undefined)
      .then(() => {
        const audit = auditScopeOf(req);
        if (audit && claimed && !audit.claimedUser) audit.claimedUser = claimed;
        auditFault(req, f);
        this.sendFault(res, f);
      });
  }

  /**
   * A request refused before authentication (envelope version, mustUnderstand, envelope shape, size) is recorded
   * with its sender when its HTTP Basic credentials are valid: the fault is what it is, not a failed login. HTTP
   * Basic is transport; a wsse:Security header is not processed for this (SOAP 1.2 Part 1 §5.2.3: once a
   * MustUnderstand fault is due, no header is processed). Wrong credentials leave the sender unknown (claimed name
   * only); the answer is the same fault either way, so this is no password oracle.
   */
  private async identifyForAudit(req: Request): Promise<void> {
    const audit = auditScopeOf(req);
    if (!audit || audit.user || audit.credentialType || !/^Basic\s/i.test(req.headers.authorization ?? '')) return;
    try {
      audit.user = (await this.basic(req)).user;
    } catch {
      // recorded under the protocol fault's code, with the claimed user name
    }
  }

  sendFault(res: Response, f: SoapFault): void {
    if (res.headersSent) return void res.end();
    res.status(f.status);
    for (const [k, v] of Object.entries(f.headers)) res.setHeader(k, v);
    res.setHeader('Content-Type', contentTypeOf(f.version));
    res.end(renderFaultEnvelope(f));
  }

  private async check(req: Request, version: SoapVersion, packageCall: boolean): Promise<SoapCall> {
    const correlationId = correlationOf(req);
    // WS-I BP 1.1 R4003/R1012: UTF-8 (or UTF-16, which no client we know sends); anything else is refused, not guessed
    const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(req.headers['content-type'] ?? '')?.[1].toLowerCase();
    if (charset && charset !== 'utf-8' && charset !== 'utf8') throw new SoapEdgeError('unsupported-encoding', `charset ${charset.slice(0, 40)} is not supported; send UTF-8`);
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const text = body.toString('utf8');
    const env = parseXml(text, packageCall ? { ...DEFAULT_XML_LIMITS, maxTextLength: this.packageTextLimit } : undefined);
    const audit = auditScopeOf(req);
    // the operation as far as the Body names one, so that a fault before dispatch is recorded against it too
    const named = this.operationNamed(env);
    if (named) audit?.intent(...this.operations.intent(named));
    const expected = version === '1.1' ? SOAP11_ENV : SOAP12_ENV;
    if (env.local !== 'Envelope' || env.ns !== expected) throw this.versionMismatch(env, version);
    const parts = env.children;
    const header = parts[0]?.ns === expected && parts[0].local === 'Header' ? parts[0] : undefined;
    const rest = header ? parts.slice(1) : parts;
    if (rest.length !== 1 || rest[0].ns !== expected || rest[0].local !== 'Body' || env.text.trim()) {
      throw new SoapEdgeError('bad-envelope', 'the Envelope must hold an optional Header and exactly one Body');
    }
    this.mustUnderstand(header, version);
    const bodyEl = rest[0];
    if (bodyEl.children.length !== 1 || bodyEl.text.trim()) throw new SoapEdgeError('bad-envelope', 'the Body must hold exactly one operation element (document/literal wrapped)');
    const opEl = bodyEl.children[0];
    if (opEl.ns !== TYPES_NS) throw new SoapEdgeError('wrong-namespace', `the operation element must be in namespace ${TYPES_NS}`);
    const op = this.contract.operations.get(opEl.local);
    if (!op) throw new SoapEdgeError('unknown-operation', `${opEl.local.slice(0, 80)} is not an operation of this service`);
    this.checkAction(req, version, op.soapAction, op.name);
    audit?.intent(...this.operations.intent(op.name));
    const auth = await this.caller.admitCaller(req, () => this.authenticate(req, text, header, version));
    const ctx = this.caller.context(req, 'soap', correlationId, auth);
    const args = this.contract.schema.decode(opEl, decodeHooks);
    audit?.intent(...this.operations.intent(op.name, args));
    return { operation: op.name, args, ctx, version, correlationId };
  }

  /**
   * SOAP 1.1 §4.4.1 / SOAP 1.2 Part 1 §5.4.7: an Envelope in another namespace is a VersionMismatch, answered as
   * a SOAP 1.1 fault when the envelope was SOAP 1.1 or 1.2 (Appendix A). Only the 1.2 endpoint adds the Upgrade
   * header (Appendix A defines it for a 1.2 node receiving 1.1); both name the other endpoint in the reason.
   */
  private versionMismatch(env: XElement, version: SoapVersion): SoapEdgeError {
    const sent = env.local !== 'Envelope' ? undefined : env.ns === SOAP11_ENV ? '1.1' : env.ns === SOAP12_ENV ? '1.2' : undefined;
    const message = sent ? `this endpoint speaks SOAP ${version}, not SOAP ${sent}; send SOAP ${sent} envelopes to ${endpointPath(sent)}` : `this endpoint speaks SOAP ${version}; the root element must be its Envelope`;
    return new SoapEdgeError('version-mismatch', message, [], { answer: sent ? '1.1' : version, supported: version === '1.2' ? '1.2' : undefined });
  }

  /** the known operation the Body of a SOAP 1.1 or 1.2 envelope names (either version: a VersionMismatch is audited as it) */
  private operationNamed(env: XElement): string | undefined {
    if (env.local !== 'Envelope' || (env.ns !== SOAP11_ENV && env.ns !== SOAP12_ENV)) return undefined;
    const op = env.children.find((c) => c.ns === env.ns && c.local === 'Body')?.children[0];
    return op?.ns === TYPES_NS && this.contract.operations.has(op.local) ? op.local : undefined;
  }

  /** SOAP 1.1 §4.2.3, SOAP 1.2 Part 1 §5.2.3: headers targeted at us with mustUnderstand must be understood */
  private mustUnderstand(header: XElement | undefined, version: SoapVersion): void {
    if (!header) return;
    const ns = version === '1.1' ? SOAP11_ENV : SOAP12_ENV;
    const missed: { ns: string; local: string }[] = [];
    for (const h of header.children) {
      const mu = h.attrs.find((a) => a.ns === ns && a.local === 'mustUnderstand')?.value.trim();
      if (mu !== '1' && mu !== 'true') continue;
      if (version === '1.2' && h.attrs.find((a) => a.ns === ns && a.local === 'role')?.value.trim() === ROLE_NONE) continue;
      const understood = (h.ns === WSSE_NS && h.local === 'Security') || WSA_NS.includes(h.ns);
      if (!understood) missed.push({ ns: h.ns, local: h.local });
    }
    if (missed.length) throw new SoapEdgeError('must-understand', `header ${missed.map((m) => `{${m.ns}}${m.local}`).join(', ').slice(0, 300)} is not understood`, missed);
  }

  /**
   * WS-I BP 1.1 R2744/R1109: SOAPAction (quoted) must be the operation's soapAction; SOAP 1.2 Part 2 §7.1.3: the
   * `action` media-type parameter likewise. An empty or absent action leaves dispatch to the Body. A mismatch
   * runs nothing (node-soap would have run the SOAPAction's operation with the Body's arguments, soap.md V3).
   */
  private checkAction(req: Request, version: SoapVersion, soapAction: string, op: string): void {
    const action = this.actionOf(req, version);
    if (action && action !== soapAction) throw new SoapEdgeError('action-mismatch', `the action ${action.slice(0, 120)} does not match the Body's operation ${op}`);
  }

  /**
   * Who is calling: a wsse:Security header goes to the WS-Security verifier (WSS 1.1; bound by its module under
   * WS_SECURITY_VERIFIER), otherwise, without an Authorization header, the TLS client certificate, else HTTP Basic.
   */
  async authenticate(req: Request, raw: string, header: XElement | undefined, version: SoapVersion): Promise<Credential> {
    if (header?.children.some((h) => h.ns === WSSE_NS && h.local === 'Security')) {
      if (!this.verifier) throw new WsSecurityError('InvalidSecurity', 'WS-Security not available');
      const r = await this.verifier.verify(raw, version, req.ip);
      if (r) return r;
    }
    const cert = req.headers.authorization ? undefined : await this.caller.certificate(req);
    return cert ?? this.basic(req);
  }

  /** HTTP Basic (RFC 7617) against the model's users */
  private basic(req: Request): Promise<Credential> {
    const token = basicToken(req);
    if (!token) throw new UnauthenticatedError('HTTP Basic credentials or a WS-Security header are required');
    return this.caller.basic(req, token);
  }

  /** GET on an endpoint: `?wsdl` and `?xsd=types.xsd` (any other GET is 405). */
  get(version: SoapVersion) {
    return (req: Request, res: Response): void => {
      const q = Object.keys(req.query).map((k) => k.toLowerCase());
      const base = (this.cfg.PUBLIC_BASE_URL ?? `${req.protocol}://${req.headers.host ?? `${this.cfg.HOST}:${this.cfg.PORT}`}`).replace(/\/+$/, '');
      if (q.includes('wsdl')) return void res.status(200).type('text/xml; charset=utf-8').send(this.contract.publicWsdl(base));
      if (q.includes('xsd')) {
        const which = req.query[Object.keys(req.query).find((k) => k.toLowerCase() === 'xsd')!];
        if (which === 'types.xsd') return void res.status(200).type('text/xml; charset=utf-8').send(this.contract.typesText);
        return this.fail(req, res, new SoapEdgeError('bad-envelope', 'the only schema is ?xsd=types.xsd'), version);
      }
      this.fail(req, res, new SoapEdgeError('method-not-allowed', 'POST a SOAP envelope, or GET ?wsdl'), version);
    };
  }
}

export function correlationOf(req: Request): string {
  const id = (req as unknown as { id?: string | number }).id;
  return id !== undefined ? String(id) : randomUUID();
}

/** the fault a request ended with, for its audit record: its cause, never guessed from the presence of detail */
export function auditFault(req: Request, f: SoapFault): void {
  auditScopeOf(req)?.failed(f.cause.kind, f.cause.code);
}
