import { All, Controller, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Element } from '@xmldom/xmldom';
import { randomUUID } from 'node:crypto';
import { IdentityService } from '../../model/identity/identity.service';
import { APP_CONFIG, type AppConfig } from '../../config/env.schema';
import { hasPeerCertificate, mutualOffered } from '../shared/client-certificate';
import { CallerFront } from '../shared/caller-front';
import { SECURITY_PROFILES } from './wsman-ns';
import { REPLAY_CACHE, type ReplayCache } from '../../model/shared/ports';
import { KEYRING, type Keyring } from '../../model/identity/keyring';
import { JobService } from '../../model/job/job.service';
import { ModelFacade } from '../../model/model.facade';
import { AuditService } from '../../model/audit/audit.service';
import { SubscriptionService } from '../../model/subscription/subscription.service';
import { EventService } from '../../model/event/event.service';
import { AssociationService } from '../../model/shared/association.service';
import { EnumerationService } from '../../model/shared/enumeration.service';
import { isModelError, ThrottledError, UnauthenticatedError, type ErrorKind } from '../../model/shared/model-error';
import { Deadline } from '../../model/shared/deadline';
import { auditScopeOf } from '../shared/audit-hook';
import { claimedUser } from '../shared/basic-credentials';
import { decodeXmlBody, encodeXml, parseDom, xmlBodyEncoding, type XmlEncoding } from '../xml/xml-hardening';
import { loadCatalogue, type CimCatalogue } from './cim-catalogue';
import { ACTION_HANDLERS, METHOD_HANDLERS } from './handlers';
import { identifyResponse } from './handlers/identify';
import { AuthFailure, WsmanAuthenticator } from './wsman-auth';
import { findHandler, type HandlerEntry, type WsmanCall, type WsmanServices } from './wsman-dispatcher';
import { buildEnvelope, envelopeParts, isIdentify, parseRequest, peekMessageId, type WsmanRequest } from './wsman-envelope';
import { faultNamespaces, renderFaultBody, toFault, WsmanFault } from './wsman-fault';
import { MeterService } from '../../model/meter/meter.service';

/** OperationTimeout when the client sends none, and the most we wait whatever it asks (DSP0226 6.1). */
export const DEFAULT_OPERATION_TIMEOUT_MS = 60000;
export const MAX_OPERATION_TIMEOUT_MS = 600000;

/** the response Content-Type in each encoding we answer in (UTF-16 of either byte order: its BOM says which) */
const CONTENT_TYPES: Record<XmlEncoding, string> = { 'utf-8': 'application/soap+xml;charset=UTF-8', 'utf-16le': 'application/soap+xml;charset=UTF-16', 'utf-16be': 'application/soap+xml;charset=UTF-16' };

/**
 * The WS-Management door (DSP0226 1.1 over SOAP 1.2, HTTP binding; docs/wsman.md). One POST endpoint: decode,
 * parse by namespace, Identify (authentication optional) or authenticate, check headers, dispatch on wsa:Action
 * through the table in handlers/index.ts, and answer an envelope or a fault (always HTTP 500, docs/wsman.md §3).
 */
@Controller()
export class WsmanController {
  private readonly log = new Logger('WsmanController');
  private readonly catalogue: CimCatalogue = loadCatalogue();
  private readonly auth: WsmanAuthenticator;
  private readonly services: WsmanServices;

  constructor(
    identity: IdentityService,
    @Inject(KEYRING) keyring: Keyring,
    @Inject(REPLAY_CACHE) replay: ReplayCache,
    model: ModelFacade,
    jobs: JobService,
    events: EventService,
    audit: AuditService,
    enumerations: EnumerationService,
    associations: AssociationService,
    meters: MeterService,
    subscriptions: SubscriptionService,
    private readonly caller: CallerFront,
    @Inject(APP_CONFIG) private readonly cfg: AppConfig,
  ) {
    this.auth = new WsmanAuthenticator(identity, keyring, replay);
    this.services = { model, jobs, events, audit, enumerations, associations, identity, meters, subscriptions };
  }

  @Post('wsman')
  async post(@Req() req: Request, @Res() res: Response): Promise<void> {
    let messageId: string | undefined;
    let entry: HandlerEntry | undefined;
    let request: WsmanRequest | undefined;
    // the answer is in the request's encoding (docs/wsman.md §4: wsmancli -j UTF-16 reads only UTF-16 replies);
    // a body whose charset we cannot read is answered in UTF-8
    let enc: XmlEncoding = 'utf-8';
    try {
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      try {
        enc = xmlBodyEncoding(body, req.headers['content-type']);
      } catch {
        enc = 'utf-8';
      }
      // the envelope is parsed first (Identify needs no credentials), but a body that fails to parse is only
      // reported to an authenticated caller: curl --digest probes with an empty body and expects the 401 first
      let parsed: { doc: ReturnType<typeof parseDom>; header?: Element; body?: Element } | undefined;
      let parseError: unknown;
      try {
        // docs/wsman.md §4: application/soap+xml (clients), text/xml (other SOAP stacks); anything else is refused
        const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        if (type && type !== 'application/soap+xml' && type !== 'text/xml') throw new WsmanFault('EncodingLimit', `content type ${type.slice(0, 80)} is not SOAP`, { detail: 'EncodingType' });
        const doc = parseDom(decodeXmlBody(body, req.headers['content-type']));
        parsed = { doc, ...envelopeParts(doc) };
      } catch (e) {
        parseError = e;
      }
      if (parsed && isIdentify(parsed.body)) return await this.identify(req, res, enc);

      const authResult = await this.authenticate(req, res);
      if (!authResult) return;
      if (!parsed) throw parseError;
      const { doc, header, body: soapBody } = parsed;
      messageId = peekMessageId(header);
      request = { ...parseRequest(doc, header, soapBody), encoding: enc };
      messageId = request.messageId;
      // docs/wsman.md §5.1: `__cimnamespace` is accepted and must name our one CIM namespace
      if (request.cimNamespace !== undefined && request.cimNamespace.toLowerCase() !== this.catalogue.namespace.toLowerCase()) {
        throw new WsmanFault('InvalidSelectors', `the CIM namespace ${request.cimNamespace.slice(0, 80)} does not exist here (${this.catalogue.namespace})`, { detail: 'InvalidValue' });
      }
      entry = findHandler(ACTION_HANDLERS, METHOD_HANDLERS, this.catalogue, request.action);
      const audit = auditScopeOf(req);
      if (audit) {
        const cls = request.resourceUri ? this.catalogue.byUri(request.resourceUri) : undefined;
        const model = cls ? (cls.model ?? this.catalogue.concreteUnder(cls)[0]?.model) : undefined;
        audit.intent(entry.verb ?? 'invoke', { type: String(model ?? cls?.name ?? 'ResourceURI'), id: '' });
      }
      for (const o of request.options) {
        if (o.mustComply && !(entry.options ?? []).includes(o.name)) throw new WsmanFault('InvalidOptions', `option ${o.name} is not supported`, { detail: 'NotSupported' });
      }
      const timeout = Math.min(request.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS, MAX_OPERATION_TIMEOUT_MS);
      const rid = (req as unknown as { id?: unknown }).id;
      const deadline = new Deadline();
      const ctx = this.caller.context(req, 'wsman', String(rid ?? randomUUID()), authResult, { deadline, ...(request.locale ? { locale: request.locale } : {}) });
      const call: WsmanCall = {
        req: request,
        ctx,
        catalogue: this.catalogue,
        services: this.services,
        deadline: Date.now() + timeout,
      };
      const reply = await withDeadline(entry.handler(call), timeout, deadline);
      const xml = buildEnvelope({ action: reply.action ?? `${request.action}Response`, relatesTo: messageId, headers: reply.headers, body: reply.body, namespaces: reply.namespaces });
      // DSP0226 6.2: a response that would exceed the client's MaxEnvelopeSize (octets, as encoded) is an EncodingLimit fault
      const bytes = encodeXml(xml, enc);
      if (request.maxEnvelopeSize !== undefined && bytes.length > request.maxEnvelopeSize) {
        throw new WsmanFault('EncodingLimit', 'the response exceeds MaxEnvelopeSize', { detail: 'MaxEnvelopeSize' });
      }
      this.send(res, 200, bytes, enc);
    } catch (e) {
      this.fault(req, res, e, messageId, entry?.operation ?? 'other', enc);
    }
  }

  /** Other methods and paths below /wsman: a SOAP fault, never Nest's JSON (docs/wsman.md §4). */
  @All(['wsman', 'wsman/*path'])
  other(@Req() req: Request, @Res() res: Response): void {
    const f = new WsmanFault('ActionNotSupported', `${req.method} ${req.path.slice(0, 100)} is not served; WS-Management is POST /wsman`);
    res.setHeader('Allow', 'POST');
    this.send(res, req.method === 'POST' ? 500 : 405, encodeXml(buildEnvelope({ action: f.action, body: renderFaultBody(f), namespaces: faultNamespaces(f) }), 'utf-8'), 'utf-8');
  }

  /**
   * Identify (docs/wsman.md §1.5, §7.16): without credentials (or with `WSMANIDENTIFY: unauthenticated`) it is
   * answered anonymously; credentials that are sent must be right, and then the security profiles are listed.
   */
  private async identify(req: Request, res: Response, enc: XmlEncoding): Promise<void> {
    const anonymous = (!req.headers.authorization && !hasPeerCertificate(req)) || String(req.headers.wsmanidentify ?? '').toLowerCase() === 'unauthenticated';
    if (!anonymous && !(await this.authenticate(req, res))) return;
    auditScopeOf(req)?.intent('read', { type: 'Identify', id: '' });
    // the profiles of this connection: own TLS (with mutual when client certificates are asked for) or a trusted TLS proxy's
    const r = identifyResponse({ authenticated: !anonymous, https: req.secure, mutual: mutualOffered(req, this.cfg) });
    this.send(res, 200, encodeXml(buildEnvelope({ bare: true, body: r.body, namespaces: r.namespaces }), enc), enc);
  }

  /** undefined when a 401 challenge was sent (docs/wsman.md §4: no SOAP body needed; the body was read, keep-alive survives) */
  private async authenticate(req: Request, res: Response) {
    const audit = auditScopeOf(req);
    try {
      return await this.caller.admitCaller(req, async () => {
        const header = req.headers.authorization;
        // no credentials, or WinRM's https/mutual marker: the TLS client certificate (DSP0226 C.3.5 https/mutual)
        const cert = !header || header.trim() === SECURITY_PROFILES.httpsMutual ? await this.certificateUser(req) : undefined;
        return cert ?? (await this.auth.authenticate(header, req.method, req.originalUrl, req.ip));
      });
    } catch (e) {
      if (e instanceof ThrottledError && e.userName !== undefined && audit) audit.claimedUser = claimedUser(e.userName);
      if (!(e instanceof AuthFailure)) throw e;
      if (audit) {
        audit.claimedUser = e.claimedUser;
        audit.credentialType = e.credentialType;
        // the same reason code as REST and SOAP give a refused login
        const refused = new UnauthenticatedError(e.message);
        audit.failed(refused.kind, refused.code);
      }
      res.status(401);
      res.setHeader('WWW-Authenticate', this.auth.challenges(e.stale));
      res.setHeader('Content-Length', '0');
      res.end();
      return undefined;
    }
  }

  private async certificateUser(req: Request) {
    try {
      return await this.caller.certificate(req);
    } catch (e) {
      if (isModelError(e) && e.kind === 'unauthenticated') throw Object.assign(new AuthFailure(e.message), { claimedUser: auditScopeOf(req)?.claimedUser, credentialType: 'x509' as const });
      throw e;
    }
  }

  private fault(req: Request, res: Response, e: unknown, relatesTo: string | undefined, operation: HandlerEntry['operation'], enc: XmlEncoding): void {
    const f = toFault(e, operation);
    // the audit record of a refused request carries the model's code, or the fault this door decided on
    if (isModelError(e)) auditScopeOf(req)?.failed(e.kind, e.code);
    else auditScopeOf(req)?.failed(FAULT_KINDS[f.kind] ?? 'invalid-input', `WSMAN.${f.kind.toUpperCase()}`);
    if (f.kind === 'InternalError' && !(e instanceof WsmanFault)) {
      const rid = (req as unknown as { id?: unknown }).id;
      this.log.error(`request ${String(rid ?? '')} failed: ${(e as Error)?.stack ?? String(e)}`);
    }
    const headers = f.opts.notUnderstood
      ? [`<s:NotUnderstood xmlns:nu="${f.opts.notUnderstood.ns}" qname="nu:${f.opts.notUnderstood.local}"/>`]
      : f.kind === 'VersionMismatch'
        ? ['<s:Upgrade><s:SupportedEnvelope qname="s:Envelope"/></s:Upgrade>'] // SOAP 1.2 Part 1 §5.4.7
        : [];
    // still HTTP 500 (docs/wsman.md §3: libwsman reads no other status's body), but with RFC 9110 §10.2.3 Retry-After
    if (e instanceof ThrottledError && !res.headersSent) res.setHeader('Retry-After', String(e.retryAfterSeconds));
    this.send(res, 500, encodeXml(buildEnvelope({ action: f.action, relatesTo, headers, body: renderFaultBody(f), namespaces: faultNamespaces(f) }), enc), enc);
  }

  private send(res: Response, status: number, buf: Buffer, enc: XmlEncoding): void {
    if (res.headersSent) return void res.end();
    res.status(status);
    res.setHeader('Content-Type', CONTENT_TYPES[enc]);
    res.setHeader('Content-Length', String(buf.length));
    res.end(buf);
  }
}

/** the model error kind an audit record shows for a fault this door raised itself */
const FAULT_KINDS: Partial<Record<string, ErrorKind>> = {
  DestinationUnreachable: 'not-found',
  AccessDenied: 'forbidden',
  InternalError: 'internal',
  TimedOut: 'internal',
  UnsupportedFeature: 'unsupported',
  ActionNotSupported: 'unsupported',
  AlreadyExists: 'already-exists',
  Concurrency: 'conflict',
};

/**
 * DSP0226 6.1: an operation not done at its OperationTimeout is wsman:TimedOut, and then it has changed nothing: the
 * model rolls back every change not yet committing (Deadline). One already committing is waited for and answered
 * as it ends, so a client is never told "timed out" about a change that was made.
 */
export function withDeadline<T>(p: Promise<T>, ms: number, deadline: Deadline): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      if (deadline.expire()) reject(new WsmanFault('TimedOut', `the operation did not complete within ${ms} ms`));
    }, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

