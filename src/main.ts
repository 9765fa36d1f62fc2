import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { ConfigError, loadConfig, type AppConfig } from './config/env.schema';
import { AuditService } from './model/audit/audit.service';
import { auditHook } from './adapters/shared/audit-hook';
import { Admission, admissionHook } from './adapters/shared/admission';
import { onClientError } from './adapters/rest/cimi-error.filter';
import { GatewayMetrics } from './ops/metrics';

/** Builds the application (tests use this with their own configuration). */
export async function createApp(cfg: AppConfig): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(cfg), { bufferLogs: true, bodyParser: false });
  app.useLogger(app.get(Logger));
  app.enableShutdownHooks();
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
  await app.listen(cfg.PORT, cfg.HOST);
  const url = await app.getUrl();
  app.get(Logger).log(`cimi-gateway listening on ${url} (database: ${cfg.DATABASE_URL ? 'postgresql' : cfg.SQLITE_PATH})`, 'Main');
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`cimi-gateway failed to start: ${(e as Error).stack ?? e}\n`);
    process.exit(1);
  });
}
