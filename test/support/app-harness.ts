import type { INestApplication } from '@nestjs/common';
import { loadConfig, type AppConfig } from '../../src/config/env.schema';
import { createApp } from '../../src/main';
import { JobEngine } from '../../src/model/job/job-engine';
import type { Job } from '../../src/model/job/job';
import { JobService } from '../../src/model/job/job.service';
import { PROVIDER_DRIVER } from '../../src/model/provider/provider-driver';
import type { SimulatedDriver } from '../../src/provider/simulated/simulated.driver';
import { IdentityService } from '../../src/model/identity/identity.service';
import type { OperationContext, Role } from '../../src/model/shared/operation-context';
import { createTestDatabase, type TestDatabase } from './databases';

export const ADMIN_PASSWORD = 'admin-secret-pw';

export interface Harness {
  app: INestApplication;
  cfg: AppConfig;
  db: TestDatabase;
  driver: SimulatedDriver;
  engine: JobEngine;
  get<T>(cls: new (...a: never[]) => T): T;
  /** a context for a new user with `roles` in `tenant` (created on demand) */
  user(tenant: string, roles: Role[], name?: string): Promise<OperationContext>;
  /** waits until every job of this process has ended */
  idle(): Promise<void>;
  /** waits until this Job has ended (SUCCESS, FAILED or STOPPED) and answers it */
  jobEnded(ctx: OperationContext, job: Pick<Job, 'id'>): Promise<Job>;
  close(): Promise<void>;
}

let counter = 0;

/** Boots the real application (no HTTP listener needed for service tests) on a fresh test database. */
export async function startHarness(engine: 'sqlite' | 'postgres', env: Record<string, string> = {}, opts: { listen?: boolean } = {}): Promise<Harness> {
  const db = await createTestDatabase(engine);
  const cfg = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    SQLITE_PATH: db.sqlitePath,
    DATABASE_URL: db.databaseUrl,
    ADMIN_PASSWORD,
    LOG_LEVEL: 'warn',
    SIM_LATENCY_MS: '5',
    SIM_DETERMINISTIC: 'true',
    JOB_POLL_MS: '50',
    JOB_LEASE_MS: '2000',
    SEED_DEMO: 'true',
    // the tests' subscribers listen on 127.0.0.1 (a spec that checks the refusal sets refuse)
    SUBSCRIPTION_PRIVATE_ADDRESSES: 'allow',
    ...env,
  });
  const app = await createApp(cfg);
  if (opts.listen) await app.listen(0, '127.0.0.1');
  else await app.init();
  const identity = app.get(IdentityService);
  const engineSvc = app.get(JobEngine);
  return {
    app,
    cfg,
    db,
    driver: app.get(PROVIDER_DRIVER) as SimulatedDriver,
    engine: engineSvc,
    get: (cls) => app.get(cls),
    async user(tenant, roles, name) {
      const userName = name ?? `u${++counter}-${roles.join('-')}-${process.pid}`;
      await identity.ensureTenant(tenant);
      await identity.addUser({ userName, password: 'password-123', tenant, roles });
      const u = await identity.authenticate(userName, 'password-123');
      return identity.context(u, 'internal', `test-${counter}`);
    },
    idle: () => engineSvc.whenIdle(),
    jobEnded: (ctx, job) =>
      eventually(async () => {
        const j = await app.get(JobService).get(ctx, job.id);
        return j.state === 'SUCCESS' || j.state === 'FAILED' || j.state === 'STOPPED' ? j : undefined;
      }),
    async close() {
      await app.close();
      await db.drop();
    },
  };
}

/** Polls until `fn` returns a truthy value (jobs finish asynchronously). */
export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 15000, stepMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
