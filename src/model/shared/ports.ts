import type { AuditEvent } from '../audit/cadf';
import type { ResourceEvent } from '../event/resource-event';
import type { Job } from '../job/job';
import type { JobState } from '../job/job-state';
import type { QuotaLimits, QuotaUsage } from '../quota/quota';
import type { Role } from './operation-context';
import type { CollectionQuery, FilterExpr, Page } from './query';
import type { Resource, ResourceType } from './resource';
import type { Meter, MeterBucket, MeterReading, SampleQuery } from '../meter/meter';
import type { MeterState } from '../meter/meter-state';
import type { TenantSubscriptionStore } from '../subscription/subscription';

/**
 * Persistence ports. Every store handed to a service is already bound to one tenant: a query cannot name another
 * tenant, so a cross-tenant read is impossible by construction (issue 2 §5), not by a check in each handler.
 */
export interface ResourceStore {
  readonly tenantId: string;
  get(type: ResourceType, id: string): Promise<Resource | undefined>;
  /** children of a parent (sub-resources), optionally of one type */
  children(parentId: string, type?: ResourceType): Promise<Resource[]>;
  list(type: ResourceType, query: CollectionQuery, parentId?: string): Promise<Page<Resource>>;
  /** resources of `type` whose ref attribute `attr` points at `targetId` */
  referencing(type: ResourceType, attr: string, targetId: string): Promise<Resource[]>;
  insert(resource: Resource): Promise<void>;
  /** conditional on `resource.version - 1` being the stored version; throws ConcurrentModificationError */
  update(resource: Resource): Promise<void>;
  /** removes the resource and its sub-resources */
  remove(type: ResourceType, id: string): Promise<void>;
}

export interface JobStore {
  readonly tenantId: string;
  get(id: string): Promise<Job | undefined>;
  list(query: CollectionQuery): Promise<Page<Job>>;
  children(parentJobId: string): Promise<Job[]>;
  /** the unfinished job holding a resource, if any */
  activeFor(resourceId: string): Promise<Job | undefined>;
  insert(job: Job): Promise<void>;
  /** conditional on `job.version - 1`; throws ConcurrentModificationError */
  update(job: Job): Promise<void>;
  remove(id: string): Promise<void>;
}

export interface IdempotencyRecord {
  key: string;
  principalId: string;
  operation: string;
  requestHash: string;
  resourceType?: ResourceType;
  resourceId?: string;
  jobId: string;
  created: Date;
}

export interface IdempotencyStore {
  find(principalId: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** throws AlreadyExists-like error (kind conflict) when the key was taken concurrently */
  insert(record: IdempotencyRecord): Promise<void>;
  purgeOlderThan(cutoff: Date): Promise<number>;
}

/** The audit records a transaction writes with the change they describe. */
export interface TenantAuditLog {
  append(e: AuditEvent): Promise<void>;
  /** the request record that made a Job (to link its completion record) */
  findByJob(jobId: string): Promise<AuditEvent | undefined>;
}

/** The CIMI Events of a tenant's resources (one EventLog per evented resource, named by its id). */
export interface EventStore {
  append(e: ResourceEvent): Promise<void>;
  /** one EventLog's Events, or every Event of the tenant (`resourceId` null); filterable: timestamp, type,
   * outcome, severity, state, previous, resourceId, resourceType */
  list(resourceId: string | null, query: CollectionQuery): Promise<Page<ResourceEvent>>;
  /** an Event of one EventLog, or of any of the tenant's (`resourceId` null) */
  get(resourceId: string | null, id: string): Promise<ResourceEvent | undefined>;
}

/** A tenant's quota limits and its usage (issue 16 §3). */
export interface QuotaStore {
  /**
   * the limits; with `lock`, the tenant's limit rows stay locked until the transaction ends (PostgreSQL
   * SELECT … FOR UPDATE; SQLite transactions are serialized anyway), so that the checks of two concurrent
   * changes of one tenant run one after the other and cannot exceed a limit together
   */
  limits(lock?: boolean): Promise<QuotaLimits>;
  /** replaces every limit of the tenant (a metric left out becomes unlimited) */
  replace(limits: QuotaLimits): Promise<void>;
  /** the usage of every metric, aggregated in the database */
  usage(): Promise<QuotaUsage>;
}

/** A tenant's Meters and their samples (DSP0263 2.0.0 §5.17.3); ranges and aggregates are computed by the database. */
/** a client Meter as the sampler needs it: what it reads and when it last recorded */
export interface ClientMeterDue extends Pick<Meter, 'id' | 'resourceId' | 'metric' | 'sampleInterval'> {
  lastAt?: Date;
}

export interface MeterStore {
  /** inserts the Meters that do not exist yet */
  ensure(meters: readonly Meter[]): Promise<void>;
  get(id: string): Promise<Meter | undefined>;
  /** in id order; `after` continues after that id */
  list(query: { first: number; last: number; after?: string }): Promise<Page<Meter>>;
  /** sets a Meter's state and stop time (absent: none) */
  setState(id: string, state: MeterState, stopTime?: Date): Promise<void>;
  /**
   * one reading per (meter, time): a second one for the same instant is dropped, and so is a reading of a STOPPED
   * Meter (checked in the same statement, so a stop committed first always wins); returns how many were kept
   */
  record(samples: readonly { meterId: string; at: Date; value: number }[]): Promise<number>;
  /**
   * the STARTED client Meters (Meter.create) on these resources, each with the time of its last sample when it has
   * its own sampleInterval (the sampler decides which are due: meter.ts sampleDue)
   */
  startedClientMeters(resourceIds: readonly string[]): Promise<ClientMeterDue[]>;
  /** inserts a client Meter (Meter.create) */
  insert(meter: Meter): Promise<void>;
  /**
   * how many client Meters the resource has; the other creates on the same resource wait until this transaction
   * ends, so that a count and the insert after it cannot both pass a cap (MeterService.create)
   */
  countClientMeters(resourceId: string): Promise<number>;
  /** deletes a Meter and its samples; false when there was none */
  delete(id: string): Promise<boolean>;
  /** raw readings of [from, to), oldest first */
  readings(meterId: string, q: SampleQuery): Promise<Page<MeterReading>>;
  /** [from, to) cut into intervals of `q.interval` seconds from `from`: min, max, average and count of each non-empty one */
  buckets(meterId: string, q: SampleQuery & { interval: number }): Promise<Page<MeterBucket>>;
  /** removes samples older than `cutoff`, and the Meters (and samples) of resources that no longer exist */
  purge(cutoff: Date): Promise<number>;
}

/** What one transaction sees: stores bound to one tenant. */
export interface TenantTx {
  readonly resources: ResourceStore;
  readonly jobs: JobStore;
  readonly idempotency: IdempotencyStore;
  readonly audit: TenantAuditLog;
  readonly events: EventStore;
  readonly quotas: QuotaStore;
  readonly meters: MeterStore;
  readonly subscriptions: TenantSubscriptionStore;
}

/**
 * The audit trail outside a transaction: records of requests that changed nothing (reads, refusals, failures),
 * and the admin's reading and export. Filterable attributes: eventTime, action, outcome, eventType, initiator
 * (user name), initiatorId, target (id), targetType (type URI), tenant, protocol, correlationId, jobId.
 */
export interface AuditLog {
  append(e: AuditEvent): Promise<void>;
  /** many records, one commit (group commit of request records, issue 13 §3) */
  appendMany(es: AuditEvent[]): Promise<void>;
  /** deletes up to `max` records with an eventTime before `cutoff`, oldest first; returns how many */
  purgeBefore(cutoff: Date, max: number): Promise<number>;
  /** deletes the records with these ids (after their export); returns how many */
  remove(ids: string[]): Promise<number>;
  list(query: CollectionQuery): Promise<Page<AuditEvent>>;
  get(id: string): Promise<AuditEvent | undefined>;
}
export const AUDIT_LOG = Symbol('AUDIT_LOG');

export interface UnitOfWork {
  /** runs `fn` in one database transaction, scoped to `tenantId`; rolls back on throw */
  transaction<T>(tenantId: string, fn: (tx: TenantTx) => Promise<T>): Promise<T>;
  /** read-only access without a transaction */
  read<T>(tenantId: string, fn: (tx: TenantTx) => Promise<T>): Promise<T>;
}
export const UNIT_OF_WORK = Symbol('UNIT_OF_WORK');

/** Cross-tenant job queue: used only by the job engine, never by a request handler. */
export interface JobQueue {
  /** claims one runnable job (queued, or whose lease expired) for `owner`; attempts is incremented */
  claimNext(owner: string, leaseMs: number, now: Date): Promise<Job | undefined>;
  /** extends the lease; false when the lease was lost (another worker took the job) */
  renew(jobId: string, owner: string, leaseMs: number, now: Date): Promise<boolean>;
  /** drops the lease without finishing (graceful shutdown): the job is resumable at once */
  release(jobId: string, owner: string): Promise<void>;
  /** runs `fn` in a transaction scoped to the job's tenant if `owner` still holds the lease */
  whileOwned<T>(jobId: string, owner: string, fn: (tx: TenantTx, job: Job) => Promise<T>): Promise<T | undefined>;
  countByState(): Promise<Partial<Record<JobState, number>>>;
  /** removes finished jobs older than the cutoff (JobRetention) */
  purgeFinishedBefore(cutoff: Date): Promise<number>;
}
export const JOB_QUEUE = Symbol('JOB_QUEUE');

export interface TenantRecord {
  id: string;
  name: string;
  created: Date;
  /** no user of a disabled tenant authenticates (issue 16 §2) */
  disabled?: boolean;
}

export interface UserRecord {
  id: string;
  tenantId: string;
  userName: string;
  passwordHash: string;
  /** the password sealed by the Keyring, for digest schemes; absent for users made before it existed */
  sealedPassword?: string;
  roles: Role[];
  created: Date;
  /** a disabled user does not authenticate in any door (issue 16 §2) */
  disabled?: boolean;
}

export interface IdentityStore {
  findTenant(id: string): Promise<TenantRecord | undefined>;
  findTenantByName(name: string): Promise<TenantRecord | undefined>;
  listTenants(): Promise<TenantRecord[]>;
  insertTenant(t: TenantRecord): Promise<void>;
  findUser(userName: string): Promise<UserRecord | undefined>;
  /** the user, if neither it nor its tenant is disabled (issue 16 §2): one read, as every login makes it */
  findActiveUser(userName: string): Promise<UserRecord | undefined>;
  /**
   * findActiveUser and LoginFailureStore.get of the throttle's keys in one read: a login pays one database round
   * trip instead of two (issue 13). Optional: without it the two are read one after the other.
   */
  findActiveUserWithFailures?(userName: string, failureKeys: string[]): Promise<{ user?: UserRecord; failures: LoginFailureRecord[] }>;
  listUsers(tenantId?: string): Promise<UserRecord[]>;
  insertUser(u: UserRecord): Promise<void>;
  setSealedPassword(userId: string, sealed: string): Promise<void>;
  countUsers(): Promise<number>;
  setTenantDisabled(tenantId: string, disabled: boolean): Promise<void>;
  /** deletes the tenant unless it has users or resources (checked in the delete's transaction): false when refused */
  deleteTenantIfEmpty(tenantId: string): Promise<boolean>;
  setUserDisabled(userId: string, disabled: boolean): Promise<void>;
  setRoles(userId: string, roles: Role[]): Promise<void>;
  setPassword(userId: string, passwordHash: string, sealed: string): Promise<void>;
  /** deletes the user and the certificates registered to it */
  deleteUser(userId: string): Promise<void>;
}
export const IDENTITY_STORE = Symbol('IDENTITY_STORE');

export type { FilterExpr };

/** A client certificate registered for a user (WS-Security X.509 trust store, pinned by exact DER). */
export interface ClientCertificateRecord {
  id: string;
  userId: string;
  userName: string;
  subject: string;
  /** SHA-256 of the DER encoding, lowercase hex */
  fingerprint: string;
  pem: string;
  notBefore: Date;
  notAfter: Date;
  created: Date;
}

export interface CertificateStore {
  /** throws ModelError already-exists when the fingerprint is registered (to any user) */
  insert(c: ClientCertificateRecord): Promise<void>;
  get(id: string): Promise<ClientCertificateRecord | undefined>;
  findByFingerprint(fingerprint: string): Promise<ClientCertificateRecord | undefined>;
  list(userId?: string): Promise<ClientCertificateRecord[]>;
  /** false when no such certificate */
  remove(id: string): Promise<boolean>;
}
export const CERTIFICATE_STORE = Symbol('CERTIFICATE_STORE');

/**
 * Seen-once keys shared by every gateway process (WS-Security nonces and signed-message replays, WSS 1.1 §10 /
 * UsernameToken Profile 1.1 §4.1). Keys are hashes; a key is refused while its entry is not expired.
 */
export interface ReplayCache {
  /** records `key` until `expires`; false when the key was already recorded (a replay) */
  remember(key: string, expires: Date, now: Date): Promise<boolean>;
  /** removes entries that expired before `now`; returns how many */
  purgeExpired(now: Date): Promise<number>;
}
export const REPLAY_CACHE = Symbol('REPLAY_CACHE');

/** the failed-login count of one key (a user name or a client address), as LoginThrottle keeps it */
export interface LoginFailureRecord {
  key: string;
  failures: number;
  lastFailureMs: number;
  /** logins under this key are refused until then (ms since the epoch; 0: not blocked) */
  blockedUntilMs: number;
}

/**
 * Failed-login counts shared by every gateway process on the same database (docs/reliability.md rule 13), so a
 * guesser spreading attempts over processes behind a load balancer is counted once.
 */
export interface LoginFailureStore {
  /** the records of those keys that have one */
  get(keys: string[]): Promise<LoginFailureRecord[]>;
  /** counts one failure atomically: the count + 1, or 1 when the last failure is older than `resetBeforeMs`; the new count */
  fail(key: string, nowMs: number, resetBeforeMs: number): Promise<number>;
  /** blocks the key until `untilMs` (never shortens a block) */
  block(key: string, untilMs: number): Promise<void>;
  clear(key: string): Promise<void>;
  /** removes records neither blocked at `nowMs` nor failed since `beforeMs`; how many */
  purge(beforeMs: number, nowMs: number): Promise<number>;
}
export const LOGIN_FAILURE_STORE = Symbol('LOGIN_FAILURE_STORE');
