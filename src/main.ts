import 'reflect-metadata';
import { ShutdownSignal } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { ConfigError, loadConfig, type AppConfig } from './config/env.schema';
import { AuditService } from './model/audit/audit.service';
import { auditHook } from './adapters/shared/audit-hook';
import { Admission, admissionHook } from './adapters/shared/admission';
import { onClientError } from './adapters/rest/cimi-error.filter';
import { readTls } from './config/tls';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GatewayMetrics } from './ops/metrics';

/** Builds the application (tests use this with their own configuration). */
export async function createApp(cfg: AppConfig): Promise<NestExpressApplication> {
  // TLS (README "TLS"): the app's own server is HTTPS; a client certificate is asked for but never required by the
  // handshake (rejectUnauthorized false), so a door can answer a missing or untrusted one with its own 401
  const httpsOptions = cfg.tls ? { ...readTls(cfg.tls), requestCert: !!cfg.tls.clientCaFile, rejectUnauthorized: false } : undefined;
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(cfg), { bufferLogs: true, bodyParser: false, ...(httpsOptions ? { httpsOptions } : {}) });
  app.useLogger(app.get(Logger));
  // with TLS, SIGHUP reloads the certificate (main) instead of being one of Nest's shutdown signals
  app.enableShutdownHooks(cfg.tls ? Object.values(ShutdownSignal).filter((s) => s !== ShutdownSignal.SIGHUP) : undefined);
  // off unless TRUST_PROXY names the proxy: only then do X-Forwarded-Proto/-Host say https and the public host
  // (WS-Man Identify's security profiles, CIMI hrefs); from any other peer they could be forged
  app.set('trust proxy', cfg.trustProxy);
  app.disable('x-powered-by');
  app.set('etag', false); // strong ETags come from resource versions (cimi adapter), never from body hashes
  // before every door: one CADF record per request (issue 6 §3), and its sample in /metrics (issue 16 §5)
  app.use(auditHook(app.get(AuditService), app.get(GatewayMetrics).requestEnded));
  // after it, so that a request refused for the in-flight caps is audited like any other refusal
  app.use(admissionHook(new Admission(cfg.MAX_INFLIGHT_REQUESTS, cfg.MAX_INFLIGHT_PER_CALLER)));
  // idle keep-alive connections outlive the clients' own idle timers (undici 4 s, load balancers 60 s), so that a
  // client never sends a request on a socket the server is just closing (an ECONNRESET it cannot retry safely)
  const server = app.getHttpServer() as import('node:http').Server;
  server.keepAliveTimeout = 65000;
  server.headersTimeout = 66000;
  server.on('clientError', onClientError); // a URL over the header limit: 414 + CIMI error, not a bare close
  return app;
}

export interface Listening {
  /** the port PORT asked for (0: the one the system chose) */
  port: number;
  /** the plain HTTP_PORT beside TLS, when configured */
  httpPort?: number;
  /** re-reads the TLS files for new connections (SIGHUP); open connections keep theirs. Throws on a bad file, the old context stays. */
  reloadTls(): void;
}

/**
 * Listens on PORT (HTTPS when TLS is configured) and, beside TLS, on the plain HTTP_PORT: the same Express
 * application, limited to /health unless HTTP_PORT_SCOPE=all. The plain server closes with the app.
 */
export async function listen(app: NestExpressApplication, cfg: AppConfig): Promise<Listening> {
  await app.listen(cfg.PORT, cfg.HOST);
  const server = app.getHttpServer() as import('node:https').Server;
  const port = (server.address() as AddressInfo).port;
  const reloadTls = () => {
    if (!cfg.tls) throw new Error('TLS is not configured');
    const { cert, key, ca } = readTls(cfg.tls);
    server.setSecureContext({ cert, key, ...(ca ? { ca } : {}) });
  };
  if (!cfg.tls || cfg.HTTP_PORT === undefined) return { port, reloadTls };
  const express = app.getHttpAdapter().getInstance() as (req: IncomingMessage, res: ServerResponse) => void;
  const plain = createHttpServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (cfg.HTTP_PORT_SCOPE === 'all' || path === '/health' || path.startsWith('/health/')) return express(req, res);
    // only probes come here (HTTP_PORT_SCOPE=health): the doors and their credentials are on the TLS port alone
    const body = JSON.stringify({ status: 403, message: `only /health is served over plain HTTP; use https on port ${port}` });
    res.writeHead(403, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
  });
  plain.keepAliveTimeout = server.keepAliveTimeout;
  plain.headersTimeout = server.headersTimeout;
  plain.on('clientError', onClientError);
  await new Promise<void>((resolve, reject) => plain.once('error', reject).listen(cfg.HTTP_PORT, cfg.HOST, () => resolve()));
  server.once('close', () => {
    plain.close();
    plain.closeAllConnections();
  });
  return { port, httpPort: (plain.address() as AddressInfo).port, reloadTls };
}

async function main(): Promise<void> {
  let cfg: AppConfig;
  try {
    cfg = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`cimi-gateway: ${e.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw e;
  }
  const app = await createApp(cfg);
  const l = await listen(app, cfg);
  const log = app.get(Logger);
  const url = await app.getUrl();
  log.log(`cimi-gateway listening on ${url}${l.httpPort !== undefined ? ` and http://${cfg.HOST}:${l.httpPort} (${cfg.HTTP_PORT_SCOPE})` : ''} (database: ${cfg.DATABASE_URL ? 'postgresql' : cfg.SQLITE_PATH})`, 'Main');
  if (cfg.tls) {
    process.on('SIGHUP', () => {
      try {
        l.reloadTls();
        log.log('TLS certificate and key reloaded (SIGHUP)', 'Main');
      } catch (e) {
        log.error(`TLS reload failed, the previous certificate stays in use: ${(e as Error).message}`, 'Main');
      }
    });
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`cimi-gateway failed to start: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
