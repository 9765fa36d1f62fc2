import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { stdSerializers } from 'pino';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { IncomingMessage } from 'node:http';
import type { AppConfig } from './config/env.schema';
import { ConfigModule } from './config/config.module';
import { ModelModule } from './model/model.module';
import { PersistenceModule } from './persistence/persistence.module';
import { ProviderModule } from './provider/provider.module';
import { HealthController } from './ops/health.controller';
import { MetricsModule } from './ops/metrics.module';
import { BootstrapService } from './ops/bootstrap.service';
import { loadKeyring } from './ops/secret-key';
import { RestModule } from './adapters/rest/rest.module';
import { SoapModule } from './adapters/soap/soap.module';
import { WsmanModule } from './adapters/wsman/wsman.module';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** One Nest application, one HTTP server: /cimi, /soap, /soap12 and /wsman mount here as their adapters land. */
@Module({})
export class AppModule {
  static forRoot(cfg: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(cfg),
        LoggerModule.forRoot({
          pinoHttp: {
            level: cfg.LOG_LEVEL,
            // docs/reliability.md rule 6: accept or generate a request id; every log line carries it
            genReqId: (req: IncomingMessage) => {
              const h = req.headers['x-request-id'];
              return typeof h === 'string' && REQUEST_ID.test(h) ? h : randomUUID();
            },
            // issue 13: per request, pino-http binds `req` into a child logger eagerly, whatever the level. A fixed
            // `service` in the base logger (not customProps, a second child) and a request serializer without headers
            // (so no credential can reach a line and no redaction pass is needed) halve that cost. Unwrapped
            // serializers read the fields off the request itself: pino-http's wrapping first builds
            // pino-std-serializers' full copy of every request (headers, query, params, raw), only to pick four.
            base: { pid: process.pid, hostname: hostname(), service: 'cimi-gateway' },
            wrapSerializers: false,
            serializers: {
              req: (req: IncomingMessage & { id?: unknown; originalUrl?: string }) => ({ id: req.id, method: req.method, url: req.originalUrl ?? req.url, remoteAddress: req.socket?.remoteAddress }),
              res: stdSerializers.res,
              err: stdSerializers.err,
            },
          },
        }),
        TerminusModule,
        PersistenceModule.forRoot({ databaseUrl: cfg.DATABASE_URL, sqlitePath: cfg.SQLITE_PATH }),
        ProviderModule.forRoot({
          provider: cfg.PROVIDER,
          simulated: { latencyMs: cfg.SIM_LATENCY_MS, stepLatencyMs: cfg.stepLatency, deterministic: cfg.SIM_DETERMINISTIC, faults: cfg.faults, observe: cfg.SIM_RECONCILE },
          libvirt: {
            uri: cfg.LIBVIRT_URI,
            pool: cfg.LIBVIRT_POOL ?? (cfg.LIBVIRT_URI.startsWith('test:') ? 'default-pool' : 'cimi'),
            shutdownTimeoutMs: cfg.LIBVIRT_SHUTDOWN_TIMEOUT_S * 1000,
            pollMs: 250,
          },
        }),
        ModelModule.forRoot({
          leaseMs: cfg.JOB_LEASE_MS,
          pollMs: cfg.JOB_POLL_MS,
          concurrency: cfg.JOB_CONCURRENCY,
          maxAttempts: cfg.JOB_MAX_ATTEMPTS,
          shutdownGraceMs: cfg.SHUTDOWN_GRACE_MS,
          autoStart: cfg.JOB_WORKER,
          retentionMs: cfg.JOB_RETENTION_MINUTES * 60000,
          unavailableWaitMs: cfg.PROVIDER_UNAVAILABLE_WAIT_S * 1000,
        }, loadKeyring(cfg), { intervalMs: cfg.PROVIDER_RECONCILE_S * 1000 }, { flushMs: cfg.AUDIT_FLUSH_MS, bufferMax: cfg.AUDIT_BUFFER_MAX, policy: cfg.auditPolicy, retentionDays: cfg.AUDIT_RETENTION_DAYS }, {
          userFreeFailures: cfg.AUTH_USER_FREE_FAILURES,
          userLockFailures: cfg.AUTH_USER_LOCK_FAILURES,
          addressFreeFailures: cfg.AUTH_ADDRESS_FREE_FAILURES,
          addressLockFailures: cfg.AUTH_ADDRESS_LOCK_FAILURES,
          baseDelayMs: cfg.AUTH_DELAY_BASE_MS,
          maxDelayMs: cfg.AUTH_DELAY_MAX_MS,
          lockMs: cfg.AUTH_LOCK_SECONDS * 1000,
          windowMs: cfg.AUTH_FAILURE_WINDOW_SECONDS * 1000,
        }, { sampleSeconds: cfg.METER_SAMPLE_SECONDS, retentionHours: cfg.METER_RETENTION_HOURS, timer: cfg.METER_SAMPLING }, {
          maxExpiresSeconds: cfg.SUBSCRIPTION_MAX_EXPIRES_S,
          maxPerTenant: cfg.SUBSCRIPTION_MAX_PER_TENANT,
          privateAddresses: cfg.SUBSCRIPTION_PRIVATE_ADDRESSES,
          pollMs: cfg.SUBSCRIPTION_POLL_MS,
          leaseMs: cfg.SUBSCRIPTION_LEASE_MS,
          maxFailures: cfg.SUBSCRIPTION_MAX_FAILURES,
          retryBaseMs: cfg.SUBSCRIPTION_RETRY_BASE_MS,
          timer: cfg.SUBSCRIPTION_DELIVERY,
        }),
        MetricsModule,
        RestModule,
        SoapModule,
        WsmanModule,
      ],
      controllers: [HealthController],
      providers: [BootstrapService],
    };
  }
}
