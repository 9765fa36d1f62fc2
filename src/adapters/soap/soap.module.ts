import { Logger, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Express, Request, Response } from 'express';
import { join } from 'node:path';
import * as soap from 'soap';
import { contentTypeOf, renderFault, SoapEdgeError, toSoapFault } from './soap-fault';
import { ENDPOINTS, SERVICE_NAME, SoapContract, WSDL_DIR, WSDL_FILE, type SoapVersion } from './soap-contract';
import { auditFault, correlationOf, markAnswered, SoapEdge, type SoapCall } from './soap-edge';
import { encodeHooks } from './soap-mapping';
import { SoapOperations } from './soap-operations';
import { WsSecurityModule } from './ws-security/ws-security.module';

type NodeSoapHandler = (args: unknown, cb: unknown, headers: unknown, req: Request & { soapCall?: SoapCall }, res: Response) => Promise<unknown>;

/**
 * The SOAP door (issue 4): SOAP 1.1 at /soap and SOAP 1.2 at /soap12, two ports of one service described by
 * wsdl/cimi-gateway.wsdl, on the application's own HTTP server. Mounted while the application initialises (after
 * Nest's routes, before its 404 handler); a WSDL that does not load fails the start (node-soap registers its route
 * even then, soap.md V17, so its callback is awaited).
 */
@Module({
  // WsSecurityModule binds WS_SECURITY_VERIFIER, which the edge calls for every envelope with a wsse:Security header
  imports: [WsSecurityModule],
  providers: [SoapOperations, SoapEdge, { provide: SoapContract, useFactory: () => new SoapContract() }],
})
export class SoapModule implements OnModuleInit {
  private readonly log = new Logger('SoapModule');

  constructor(
    private readonly host: HttpAdapterHost,
    private readonly edge: SoapEdge,
    private readonly operations: SoapOperations,
    private readonly contract: SoapContract,
  ) {}

  async onModuleInit(): Promise<void> {
    const app = this.host.httpAdapter.getInstance<Express>();
    const missing = [...this.contract.operations.keys()].filter((o) => !this.operations.handlers.has(o));
    const extra = [...this.operations.handlers.keys()].filter((o) => !this.contract.operations.has(o));
    if (missing.length || extra.length) throw new Error(`SOAP operations and ${WSDL_FILE} disagree: missing ${missing.join(', ') || '-'}; not in the WSDL ${extra.join(', ') || '-'}`);
    for (const ep of ENDPOINTS) {
      app.get(ep.path, this.edge.get(ep.version));
      app.post(ep.path, this.edge.post(ep.version));
      app.all(ep.path, (req: Request, res: Response, next: () => void) => {
        if (req.method === 'POST') return next(); // accepted by the edge: on to node-soap
        this.edge.fail(req, res, new SoapEdgeError('method-not-allowed', `${req.method} is not allowed; POST a SOAP envelope`), ep.version);
      });
    }
    for (const ep of ENDPOINTS) {
      const impl = Object.fromEntries([...this.contract.operations.keys()].map((op) => [op, this.handler(op, ep.version)]));
      await listenNodeSoap(app, { path: ep.path, services: { [SERVICE_NAME]: { [ep.port]: impl } }, xml: this.contract.wsdlText, uri: join(WSDL_DIR, WSDL_FILE), soap12: ep.version === '1.2' });
    }
    this.log.log(`SOAP door on ${ENDPOINTS.map((e) => e.path).join(' and ')} (${this.contract.operations.size} operations)`);
  }

  /** node-soap calls this after the edge accepted the request; the arguments come from the edge, not node-soap */
  private handler(op: string, version: SoapVersion): NodeSoapHandler {
    return async (_args, _cb, _headers, req, res) => {
      const call = req.soapCall;
      markAnswered(req);
      res.setHeader('Content-Type', contentTypeOf(version));
      try {
        // the edge verified SOAPAction/action against the Body: node-soap choosing another operation is a bug, never run it
        if (!call || call.operation !== op || call.version !== version) throw new Error(`node-soap dispatched ${op}, the edge accepted ${call?.operation ?? 'nothing'}`);
        const out = await this.operations.handlers.get(op)!(call.ctx, call.args);
        return { _xml: this.contract.schema.encode(`${op}Response`, out, encodeHooks) };
      } catch (e) {
        const f = toSoapFault(e, version, call?.correlationId ?? correlationOf(req));
        auditFault(req, f);
        if (f.detail?.kind === 'internal') this.log.error(`SOAP ${op} failed (${f.detail.correlationId}): ${(e as Error)?.stack ?? String(e)}`);
        for (const [k, v] of Object.entries(f.headers)) res.setHeader(k, v);
        // node-soap sends 200 for a Fault without statusCode (soap.md V1); `_xml` is used as the Fault verbatim
        throw { Fault: { _xml: renderFault(f), statusCode: f.status } };
      }
    };
  }
}

/**
 * soap.listen, resolved when node-soap has parsed the WSDL and its imports and rejected when it could not: node-soap
 * registers its route even after a failed parse and reports the error only to `callback` (soap.md V17).
 */
export function listenNodeSoap(app: Express, o: { path: string; services: Record<string, unknown>; xml: string; uri: string; soap12: boolean }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    soap.listen(app as never, {
      path: o.path,
      services: o.services,
      xml: o.xml,
      uri: o.uri,
      forceSoap12Headers: o.soap12,
      suppressStack: true,
      returnFault: true,
      callback: (err: unknown) => (err ? reject(new Error(`SOAP: ${o.uri} did not load: ${(err as Error).message ?? String(err)}`)) : resolve()),
    } as never);
  });
}
