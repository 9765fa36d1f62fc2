import { plainToInstance, Transform } from 'class-transformer';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { IsBoolean, IsIn, IsInt, IsOptional, IsString, IsUrl, Matches, Max, Min, MinLength, validateSync } from 'class-validator';

import { readTls, type TlsFiles } from './tls';
import { AuditPolicyError, DEFAULT_AUDIT_POLICY, parseAuditPolicy, type AuditPolicy } from '../model/audit/audit-policy';

const int = () => Transform(({ value }) => (value === undefined || value === '' ? undefined : /^-?\d+$/.test(String(value)) ? Number(value) : value));
const bool = () => Transform(({ value }) => (value === undefined || value === '' ? undefined : value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value));

/**
 * Every setting the gateway reads, validated once at boot (docs/architecture.md §4 rule 10). Nothing else reads
 * process.env. A bad value stops the start with a message naming the variable.
 */
export class EnvSchema {
  @int() @IsInt() @Min(0) @Max(65535)
  PORT = 8080;

  /** 127.0.0.1 for the demo; set 0.0.0.0 to serve other hosts (behind TLS) */
  @IsString()
  HOST = '127.0.0.1';

  /**
   * which peers' X-Forwarded-Proto/-Host/-For to believe (Express `trust proxy`): `false` (none), `true` (every peer:
   * only when nothing but the proxy reaches the gateway), a hop count, or a comma list of proxy addresses, CIDRs and
   * `loopback` / `linklocal` / `uniquelocal`. Checked by trustProxyOf in loadConfig.
   */
  @IsString()
  TRUST_PROXY = 'false';

  // TLS on PORT (issue 16 §1; README "TLS"): both files or neither; PEM, re-read on SIGHUP
  /** server certificate (chain) file; set with TLS_KEY_FILE, PORT serves HTTPS */
  @IsOptional() @IsString() @MinLength(1)
  TLS_CERT_FILE?: string;

  @IsOptional() @IsString() @MinLength(1)
  TLS_KEY_FILE?: string;

  /** CA certificates whose client certificates may authenticate (WS-Man https/mutual); the certificate must also be registered to a user */
  @IsOptional() @IsString() @MinLength(1)
  TLS_CLIENT_CA_FILE?: string;

  /** with TLS: also plain HTTP on this port (0: any free port), serving HTTP_PORT_SCOPE */
  @int() @IsOptional() @IsInt() @Min(0) @Max(65535)
  HTTP_PORT?: number;

  /** what the plain HTTP_PORT serves: `health` (/health only, for probes) or `all` */
  @IsIn(['health', 'all'])
  HTTP_PORT_SCOPE = 'health';

  /** absolute base for hrefs behind a proxy, e.g. https://cloud.example.com */
  @IsOptional() @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] })
  PUBLIC_BASE_URL?: string;

  /** postgres://… selects PostgreSQL; unset means the embedded SQLite file */
  @IsOptional() @Matches(/^postgres(ql)?:\/\/.+/, { message: 'DATABASE_URL must be a postgres:// URL (unset it for SQLite)' })
  DATABASE_URL?: string;

  @IsString() @MinLength(1)
  SQLITE_PATH = './data/cimi-gateway.sqlite';

  @IsIn(['simulated', 'libvirt'])
  PROVIDER = 'simulated';

  // libvirt provider (issue 12; README "PROVIDER=libvirt")
  /** a connection libvirt-dbus exports on the system bus */
  @IsIn(['qemu:///system', 'test:///default'])
  LIBVIRT_URI = 'qemu:///system';

  /** the storage pool for disks, volumes and images; default `cimi` (qemu) or `default-pool` (test driver) */
  @IsOptional() @IsString() @Matches(/^[A-Za-z0-9_.-]{1,64}$/)
  LIBVIRT_POOL?: string;

  /** how long stop waits for the guest to answer ACPI before destroying the domain */
  @int() @IsInt() @Min(0) @Max(3600)
  LIBVIRT_SHUTDOWN_TIMEOUT_S = 60;

  /** reconciliation with the backend every this many seconds (0: only at start-up and on backend events) */
  @int() @IsInt() @Min(0) @Max(86400)
  PROVIDER_RECONCILE_S = 30;

  /** Meters (issue 14 §1): the provider's utilization is sampled every this many seconds, at most (the rate bound) */
  @int() @IsInt() @Min(1) @Max(86400)
  METER_SAMPLE_SECONDS = 60;

  /** Meter samples older than this many hours are purged */
  @int() @IsInt() @Min(1) @Max(8784)
  METER_RETENTION_HOURS = 168;

  /** false: no sampling timer (a pass runs only when asked; the tests' setting) */
  @bool() @IsBoolean()
  METER_SAMPLING = true;

  /** Subscriptions (issue 14 §2): the longest lifetime a subscriber gets (and the one it gets when it asks none) */
  @int() @IsInt() @Min(1) @Max(31 * 86400)
  SUBSCRIPTION_MAX_EXPIRES_S = 86400;

  /** live (unexpired) subscriptions one tenant may have at once; one more is refused as a quota error */
  @int() @IsInt() @Min(1) @Max(100000)
  SUBSCRIPTION_MAX_PER_TENANT = 1000;
  /** refuse: a NotifyTo/EndTo that is (or resolves to) a loopback, private or link-local address is refused (SSRF); allow: accepted */
  @IsIn(['refuse', 'allow'])
  SUBSCRIPTION_PRIVATE_ADDRESSES: 'refuse' | 'allow' = 'refuse';

  /** how often the delivery service looks for due notifications */
  @int() @IsInt() @Min(10) @Max(60000)
  SUBSCRIPTION_POLL_MS = 500;

  /** how long a process holds a claimed subscription (others take it over after a crash) */
  @int() @IsInt() @Min(100) @Max(600000)
  SUBSCRIPTION_LEASE_MS = 30000;

  /** failed deliveries in a row before a subscription is ended with SubscriptionEnd */
  @int() @IsInt() @Min(1) @Max(100)
  SUBSCRIPTION_MAX_FAILURES = 5;

  /** the first retry's delay; doubled per failure, at most 5 minutes */
  @int() @IsInt() @Min(1) @Max(300000)
  SUBSCRIPTION_RETRY_BASE_MS = 1000;

  /** false: no delivery timer */
  @bool() @IsBoolean()
  SUBSCRIPTION_DELIVERY = true;

  /** how long a Job step waits for a backend that cannot be reached before the Job fails */
  @int() @IsInt() @Min(0) @Max(3600)
  PROVIDER_UNAVAILABLE_WAIT_S = 60;

  @IsIn(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
  LOG_LEVEL = 'info';

  /**
   * group commit of the request records no change's transaction carries (reads, refusals): written together at most
   * this many milliseconds after the response (0: each at once, one commit each). A crash loses at most this window.
   */
  @int() @IsInt() @Min(0) @Max(1000)
  AUDIT_FLUSH_MS = 20;

  /** records waiting for their commit beyond which the doors admit no new request until the buffer drains */
  @int() @IsInt() @Min(100) @Max(1000000)
  AUDIT_BUFFER_MAX = 10000;

  /** what each door keeps of reads, mutations and refusals: `[<door>.]<class>=none|metadata|full,…` (audit-policy.ts) */
  @IsString()
  AUDIT_POLICY = DEFAULT_AUDIT_POLICY;

  /** audit records older than this many days are deleted, hourly (0: never; archive first with audit:export --purge) */
  @int() @IsInt() @Min(0) @Max(36500)
  AUDIT_RETENTION_DAYS = 0;

  @IsString() @Matches(/^[A-Za-z0-9_.@-]{1,64}$/)
  ADMIN_USER = 'admin';

  /** bootstrap admin password; generated and printed once when unset */
  @IsOptional() @IsString() @MinLength(8)
  ADMIN_PASSWORD?: string;

  /**
   * the gateway's secret (>= 32 characters; every process sharing a database needs the same one); unset: read from,
   * or created in, SECRET_KEY_FILE
   */
  @IsOptional() @IsString() @MinLength(32)
  SECRET_KEY?: string;

  /** default: secret.key beside the SQLite file */
  @IsOptional() @IsString() @MinLength(1)
  SECRET_KEY_FILE?: string;

  // abuse limits (issue 16 §4; docs/reliability.md rules 5 and 13; README "Abuse limits")
  /** failed logins of one user name that cost nothing; each further one blocks the name for a doubling delay */
  @int() @IsInt() @Min(0) @Max(1000)
  AUTH_USER_FREE_FAILURES = 5;

  /** failed logins of one user name that lock it for AUTH_LOCK_SECONDS (0: delays only, never a lock) */
  @int() @IsInt() @Min(0) @Max(10000)
  AUTH_USER_LOCK_FAILURES = 10;

  /** the same per client address (all user names from it; IPv6 per /64): higher, a NAT puts many users behind one */
  @int() @IsInt() @Min(0) @Max(100000)
  AUTH_ADDRESS_FREE_FAILURES = 20;

  @int() @IsInt() @Min(0) @Max(1000000)
  AUTH_ADDRESS_LOCK_FAILURES = 100;

  /** the first delay after the free failures, doubled per further failure */
  @int() @IsInt() @Min(1) @Max(3600000)
  AUTH_DELAY_BASE_MS = 1000;

  @int() @IsInt() @Min(1) @Max(3600000)
  AUTH_DELAY_MAX_MS = 60000;

  @int() @IsInt() @Min(1) @Max(86400)
  AUTH_LOCK_SECONDS = 300;

  /** a user name's or address's count starts again when its last failure is older than this */
  @int() @IsInt() @Min(1) @Max(604800)
  AUTH_FAILURE_WINDOW_SECONDS = 900;

  /** requests in progress in this process beyond which every door answers 503 + Retry-After */
  @int() @IsInt() @Min(1) @Max(1000000)
  MAX_INFLIGHT_REQUESTS = 512;

  /** requests in progress per caller (the user once authenticated, the client address before) beyond which 429 + Retry-After */
  @int() @IsInt() @Min(1) @Max(1000000)
  MAX_INFLIGHT_PER_CALLER = 64;

  /** bearer token that may scrape /metrics (unset: only admin users, by HTTP Basic) */
  @IsOptional() @IsString() @MinLength(16)
  METRICS_TOKEN?: string;

  @IsString() @Matches(/^[A-Za-z0-9_.@-]{1,64}$/)
  DEMO_TENANT = 'demo';

  /** seed the demo catalog on an empty database */
  @bool() @IsBoolean()
  SEED_DEMO = true;

  // simulated provider (issue 2 §8)
  @int() @IsInt() @Min(0) @Max(600000)
  SIM_LATENCY_MS = 200;

  /** JSON map of per-step latency, e.g. {"start":2000} */
  @IsString()
  SIM_STEP_LATENCY_MS = '{}';

  @bool() @IsBoolean()
  SIM_DETERMINISTIC = false;

  /** fault injection at start, e.g. start:2,create:1 */
  @IsString() @Matches(/^([a-z*]+:\d+)?(,[a-z*]+:\d+)*$/, { message: 'SIM_FAULTS must look like start:2,create:1' })
  SIM_FAULTS = '';

  /** let the simulated provider take part in reconciliation (one gateway process only: its world is in memory) */
  @bool() @IsBoolean()
  SIM_RECONCILE = false;

  // durable jobs (issue 2 §7)
  /** run jobs in this process; false makes an API-only node that leaves jobs to worker nodes (scale-out) */
  @bool() @IsBoolean()
  JOB_WORKER = true;

  @int() @IsInt() @Min(200)
  JOB_LEASE_MS = 15000;

  @int() @IsInt() @Min(10)
  JOB_POLL_MS = 1000;

  @int() @IsInt() @Min(1) @Max(256)
  JOB_CONCURRENCY = 16;

  @int() @IsInt() @Min(1) @Max(100)
  JOB_MAX_ATTEMPTS = 3;

  @int() @IsInt() @Min(0)
  SHUTDOWN_GRACE_MS = 5000;

  /** largest SOAP request body, counted after gzip/deflate inflation (docs/soap.md §3) */
  @int() @IsInt() @Min(1024) @Max(16 * 1024 * 1024)
  SOAP_MAX_BODY_BYTES = 256 * 1024;

  /**
   * largest OVF package (an OVA with its disk files) a REST or SOAP import takes, counted after inflation; the
   * descriptor itself stays within 1 MiB (docs/reliability.md rule 5). SOAP carries it base64: its import
   * operations take 4/3 of this plus 64 KiB of envelope.
   */
  @int() @IsInt() @Min(1024 * 1024) @Max(1024 * 1024 * 1024)
  OVF_MAX_PACKAGE_BYTES = 64 * 1024 * 1024;

  /** finished jobs are kept this long (CIMI JobRetention capability, minutes) */
  @int() @IsInt() @Min(1)
  JOB_RETENTION_MINUTES = 1440;

  // WS-Security on the SOAP door (issue 4 §6)
  /** tolerated clock difference with clients: a Created up to this far in the future is accepted */
  @int() @IsInt() @Min(0) @Max(3600)
  WSS_CLOCK_SKEW_SECONDS = 60;

  /** a UsernameToken Created or a Timestamp Created older than this is refused (and nonces are kept this long) */
  @int() @IsInt() @Min(10) @Max(86400)
  WSS_MAX_AGE_SECONDS = 300;

  /** accept RSA-SHA1 signatures and SHA-1 digests in X.509-signed messages (zeep's default); off: SHA-256 family only */
  @bool() @IsBoolean()
  WSS_ALLOW_SHA1 = false;

  /** threads that verify XML signatures off the event loop (signature-workers.ts); default: the cores but one, 1–4 */
  @int() @IsInt() @Min(1) @Max(32)
  WSS_VERIFY_THREADS = Math.max(1, Math.min(4, availableParallelism() - 1));
}

export type AppConfig = Readonly<EnvSchema> & { stepLatency: Record<string, number>; faults: Record<string, number>; auditPolicy: AuditPolicy; trustProxy: TrustProxy; tls?: TlsFiles };

/** Express's `trust proxy` value: trust none or all, the nearest n hops, or these addresses and subnets */
export type TrustProxy = boolean | number | string[];

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** TRUST_PROXY parsed, or undefined when it is none of the forms EnvSchema documents */
export function trustProxyOf(v: string): TrustProxy | undefined {
  const t = v.trim().toLowerCase();
  if (t === 'false' || t === '0') return false;
  if (t === 'true') return true;
  if (/^\d{1,2}$/.test(t)) return Number(t);
  const entries = t.split(',').map((e) => e.trim());
  const ok = entries.every((e) => {
    if (PROXY_NAMES.includes(e)) return true;
    const [addr, bits, extra] = e.split('/');
    const family = isIP(addr);
    if (!family || extra !== undefined) return false;
    return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
  });
  return ok && entries.length ? entries : undefined;
}

export class ConfigError extends Error {}

export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const known = Object.keys(new EnvSchema());
  const picked = Object.fromEntries(known.filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]]));
  const cfg = plainToInstance(EnvSchema, picked);
  const errors = validateSync(cfg, { whitelist: true, forbidUnknownValues: true });
  const problems = errors.map((e) => `${e.property}=${JSON.stringify(String(env[e.property] ?? ''))}: ${Object.values(e.constraints ?? {}).join('; ')}`);
  let stepLatency: Record<string, number> = {};
  try {
    const parsed = JSON.parse(cfg.SIM_STEP_LATENCY_MS);
    if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((v) => typeof v !== 'number' || v < 0)) throw new Error();
    stepLatency = parsed;
  } catch {
    problems.push(`SIM_STEP_LATENCY_MS=${JSON.stringify(cfg.SIM_STEP_LATENCY_MS)}: must be a JSON object of step -> milliseconds`);
  }
  let auditPolicy: AuditPolicy | undefined;
  try {
    auditPolicy = parseAuditPolicy(cfg.AUDIT_POLICY);
  } catch (e) {
    if (!(e instanceof AuditPolicyError)) throw e;
    problems.push(`AUDIT_POLICY=${JSON.stringify(cfg.AUDIT_POLICY)}: ${e.message}`);
  }
  const trustProxy = trustProxyOf(cfg.TRUST_PROXY);
  if (trustProxy === undefined) {
    problems.push(`TRUST_PROXY=${JSON.stringify(cfg.TRUST_PROXY)}: must be false, true, a hop count, or a comma list of proxy addresses, CIDRs, loopback, linklocal, uniquelocal`);
  }
  if (cfg.AUTH_DELAY_MAX_MS < cfg.AUTH_DELAY_BASE_MS) problems.push(`AUTH_DELAY_MAX_MS=${cfg.AUTH_DELAY_MAX_MS}: must not be below AUTH_DELAY_BASE_MS (${cfg.AUTH_DELAY_BASE_MS})`);
  if (cfg.MAX_INFLIGHT_PER_CALLER > cfg.MAX_INFLIGHT_REQUESTS) problems.push(`MAX_INFLIGHT_PER_CALLER=${cfg.MAX_INFLIGHT_PER_CALLER}: must not exceed MAX_INFLIGHT_REQUESTS (${cfg.MAX_INFLIGHT_REQUESTS})`);
  let tls: TlsFiles | undefined;
  if (cfg.TLS_CERT_FILE || cfg.TLS_KEY_FILE) {
    if (!cfg.TLS_CERT_FILE || !cfg.TLS_KEY_FILE) problems.push(`${cfg.TLS_CERT_FILE ? 'TLS_KEY_FILE' : 'TLS_CERT_FILE'}: must be set with ${cfg.TLS_CERT_FILE ? 'TLS_CERT_FILE' : 'TLS_KEY_FILE'}`);
    else {
      tls = { certFile: cfg.TLS_CERT_FILE, keyFile: cfg.TLS_KEY_FILE, ...(cfg.TLS_CLIENT_CA_FILE ? { clientCaFile: cfg.TLS_CLIENT_CA_FILE } : {}) };
      try {
        readTls(tls);
      } catch (e) {
        problems.push((e as Error).message);
      }
    }
  } else {
    if (cfg.TLS_CLIENT_CA_FILE) problems.push('TLS_CLIENT_CA_FILE: needs TLS_CERT_FILE and TLS_KEY_FILE');
    if (cfg.HTTP_PORT !== undefined) problems.push('HTTP_PORT: a second, plain port needs TLS on PORT (TLS_CERT_FILE, TLS_KEY_FILE)');
  }
  if (problems.length) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  const faults = Object.fromEntries(
    cfg.SIM_FAULTS.split(',')
      .filter(Boolean)
      .map((f) => f.split(':'))
      .map(([k, n]) => [k, Number(n)]),
  );
  return Object.freeze(Object.assign(cfg, { stepLatency, faults, auditPolicy: auditPolicy!, trustProxy: trustProxy!, ...(tls ? { tls } : {}) }));
}

export const APP_CONFIG = Symbol('APP_CONFIG');
