import { Logger, Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Express, Request, Response } from 'express';
import { join } from 'node:path';
import { WSDL } from 'soap';
import { CallerFront } from '../shared/caller-front';
import { SoapEdgeError } from './soap-fault';
import { ENDPOINTS, SERVICE_NAME, SoapContract, WSDL_DIR, WSDL_FILE } from './soap-contract';
import { SoapEdge } from './soap-edge';
import { SoapOperations } from './soap-operations';
import { SoapNotifier } from './soap-notifier';
import { WsSecurityModule } from './ws-security/ws-security.module';

/**
 * The SOAP door (issue 4): SOAP 1.1 at /soap and SOAP 1.2 at /soap12, two ports of one service described by
 * wsdl/cimi-gateway.wsdl, on the application's own HTTP server. Mounted while the application initialises (after
 * Nest's routes, before its 404 handler). The edge parses, checks and dispatches every request itself; node-soap
 * only reads the WSDL at start, as an independent toolkit's check that the served contract loads and names the
 * operations the edge serves (a WSDL that does not load fails the start).
 */
@Module({
  // WsSecurityModule binds WS_SECURITY_VERIFIER, which the edge calls for every envelope with a wsse:Security header
  imports: [WsSecurityModule],
  providers: [SoapOperations, SoapEdge, CallerFront, SoapNotifier, { provide: SoapContract, useFactory: () => new SoapContract() }],
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
    const ports = await loadWsdlWithNodeSoap(this.contract.wsdlText, join(WSDL_DIR, WSDL_FILE));
    for (const ep of ENDPOINTS) {
      const seen = Object.keys(ports[ep.port] ?? {}).sort();
      const ours = [...this.contract.operations.keys()].sort();
      if (seen.join() !== ours.join()) throw new Error(`node-soap reads port ${ep.port} of ${WSDL_FILE} with ${seen.length} operations, the edge serves ${ours.length}`);
    }
    for (const ep of ENDPOINTS) {
      app.get(ep.path, this.edge.get(ep.version));
      app.post(ep.path, this.edge.post(ep.version));
      app.all(ep.path, (req: Request, res: Response) => this.edge.fail(req, res, new SoapEdgeError('method-not-allowed', `${req.method} is not allowed; POST a SOAP envelope`), ep.version));
    }
    this.log.log(`SOAP door on ${ENDPOINTS.map((e) => e.path).join(' and ')} (${this.contract.operations.size} operations)`);
  }
}

/**
 * The WSDL as node-soap reads it (with its imported XSD): its service's ports and their operations, rejected when
 * node-soap cannot load it. node-soap reports a failed parse only to the ready callback (soap.md V17).
 */
export function loadWsdlWithNodeSoap(xml: string, uri: string): Promise<Record<string, Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const wsdl = new WSDL(xml, uri, {});
    wsdl.onReady((err?: Error) => {
      if (err) return reject(new Error(`SOAP: ${uri} did not load: ${err.message ?? String(err)}`));
      try {
        const services = wsdl.describeServices() as Record<string, Record<string, Record<string, unknown>>>;
        resolve(services[SERVICE_NAME] ?? {});
      } catch (e) {
        reject(new Error(`SOAP: ${uri} did not load: ${(e as Error).message}`));
      }
    });
  });
}
