import { Column, Entity, Index, PrimaryColumn, Unique, type ValueTransformer } from 'typeorm';

/**
 * TypeORM records: the database shape of the model, kept apart from the model objects (mappers.ts converts).
 * Only portable column types (varchar, text, int, bigint) so that one set of entities and one migration set work
 * on SQLite (better-sqlite3) and PostgreSQL. Times are epoch milliseconds; JSON is stored as text.
 */

/** pg returns bigint as a string; SQLite returns a number. Both become numbers. */
export const BIGINT_TO_NUMBER: ValueTransformer = {
  to: (v: number | null | undefined) => v,
  from: (v: string | number | null | undefined) => (v === null || v === undefined ? v : Number(v)),
};

/** int columns are numbers on both engines; the transformer only guards against driver surprises */
const INT_TO_NUMBER = BIGINT_TO_NUMBER;

@Entity({ name: 'resource' })
@Index('ix_resource_tenant_type_created', ['tenantId', 'type', 'createdMs', 'id'])
/** keyset pages (migration 1700000000015) */
@Index('ix_resource_tenant_type_id', ['tenantId', 'type', 'id'])
@Index('ix_resource_tenant_type_name', ['tenantId', 'type', 'name'])
@Index('ix_resource_tenant_type_state', ['tenantId', 'type', 'state'])
@Index('ix_resource_tenant_type_state_created', ['tenantId', 'type', 'state', 'createdMs', 'id'])
@Index('ix_resource_tenant_type_updated', ['tenantId', 'type', 'updatedMs'])
@Index('ix_resource_parent_type', ['parentId', 'type'])
export class ResourceRecord {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 64 })
  tenantId!: string;

  @Column({ type: 'varchar', length: 48 })
  type!: string;

  @Column({ name: 'parent_id', type: 'varchar', length: 36, nullable: true })
  parentId!: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  name!: string | null;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'varchar', length: 24, nullable: true })
  state!: string | null;

  @Column({ name: 'created_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  createdMs!: number;

  @Column({ name: 'updated_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  updatedMs!: number;

  /** when `state` last changed (migration 1700000000008) */
  @Column({ name: 'state_changed_ms', type: 'bigint', nullable: true, transformer: BIGINT_TO_NUMBER })
  stateChangedMs!: number | null;

  @Column({ type: 'int', transformer: INT_TO_NUMBER })
  version!: number;

  /** JSON object of string properties */
  @Column({ type: 'text' })
  properties!: string;

  /** JSON object of the type-specific attributes */
  @Column({ type: 'text' })
  attrs!: string;
}

@Entity({ name: 'job' })
@Index('ix_job_tenant_created', ['tenantId', 'createdMs', 'id'])
@Index('ix_job_runnable', ['state', 'pendingChildren', 'leaseExpiresMs'])
@Index('ix_job_resource_state', ['resourceId', 'state'])
@Index('ix_job_parent', ['parentJobId'])
export class JobRecord {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 64 })
  tenantId!: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  name!: string | null;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ type: 'text' })
  properties!: string;

  @Column({ type: 'int', transformer: INT_TO_NUMBER })
  version!: number;

  @Column({ type: 'varchar', length: 16 })
  state!: string;

  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ name: 'target_type', type: 'varchar', length: 64 })
  targetType!: string;

  @Column({ name: 'target_id', type: 'varchar', length: 36 })
  targetId!: string;

  /** JSON array of refs */
  @Column({ type: 'text' })
  affected!: string;

  @Column({ name: 'return_code', type: 'int', nullable: true, transformer: INT_TO_NUMBER })
  returnCode!: number | null;

  @Column({ type: 'int', transformer: INT_TO_NUMBER })
  progress!: number;

  @Column({ name: 'status_message', type: 'text', nullable: true })
  statusMessage!: string | null;

  @Column({ name: 'status_changed_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  statusChangedMs!: number;

  @Column({ name: 'created_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  createdMs!: number;

  @Column({ name: 'updated_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  updatedMs!: number;

  @Column({ name: 'parent_job_id', type: 'varchar', length: 36, nullable: true })
  parentJobId!: string | null;

  @Column({ name: 'correlation_id', type: 'varchar', length: 128 })
  correlationId!: string;

  /** JSON Principal */
  @Column({ type: 'text' })
  initiator!: string;

  /** JSON JobPayload */
  @Column({ type: 'text' })
  payload!: string;

  @Column({ name: 'pending_children', type: 'int', transformer: INT_TO_NUMBER })
  pendingChildren!: number;

  @Column({ type: 'int', transformer: INT_TO_NUMBER })
  attempts!: number;

  @Column({ name: 'lease_owner', type: 'varchar', length: 128, nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_expires_ms', type: 'bigint', nullable: true, transformer: BIGINT_TO_NUMBER })
  leaseExpiresMs!: number | null;

  /** id of the target resource when the target is a resource (not a collection): what `activeFor` looks up */
  @Column({ name: 'resource_id', type: 'varchar', length: 36, nullable: true })
  resourceId!: string | null;
}

/** Rows of one tenant's collection of one resource type (collection-counts.ts; migration 1700000000012). */
@Entity({ name: 'resource_count' })
export class ResourceCountRow {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 64 })
  tenantId!: string;

  @PrimaryColumn({ type: 'varchar', length: 48 })
  type!: string;

  @Column({ type: 'bigint', transformer: BIGINT_TO_NUMBER })
  n!: number;
}

/** Rows of one tenant's Job collection (collection-counts.ts; migration 1700000000012). */
@Entity({ name: 'job_count' })
export class JobCountRow {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 64 })
  tenantId!: string;

  @Column({ type: 'bigint', transformer: BIGINT_TO_NUMBER })
  n!: number;
}

@Entity({ name: 'idempotency_key' })
@Index('ix_idempotency_created', ['createdMs'])
export class IdempotencyRecordRow {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 64 })
  tenantId!: string;

  @PrimaryColumn({ name: 'principal_id', type: 'varchar', length: 128 })
  principalId!: string;

  @PrimaryColumn({ name: 'idem_key', type: 'varchar', length: 64 })
  idemKey!: string;

  @Column({ type: 'varchar', length: 128 })
  operation!: string;

  @Column({ name: 'request_hash', type: 'varchar', length: 64 })
  requestHash!: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 48, nullable: true })
  resourceType!: string | null;

  @Column({ name: 'resource_id', type: 'varchar', length: 36, nullable: true })
  resourceId!: string | null;

  @Column({ name: 'job_id', type: 'varchar', length: 36 })
  jobId!: string;

  @Column({ name: 'created_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  createdMs!: number;
}

@Entity({ name: 'tenant' })
@Unique('uq_tenant_name', ['name'])
export class TenantRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ type: 'varchar', length: 255 })
  name!: string;

  @Column({ name: 'created_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  createdMs!: number;

  /** migration 1700000000010 */
  @Column({ type: 'boolean', default: false })
  disabled!: boolean;
}

@Entity({ name: 'app_user' })
@Unique('uq_app_user_user_name', ['userName'])
export class UserRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 64 })
  tenantId!: string;

  @Column({ name: 'user_name', type: 'varchar', length: 255 })
  userName!: string;

  @Column({ name: 'password_hash', type: 'text' })
  passwordHash!: string;

  @Column({ name: 'sealed_password', type: 'text', nullable: true })
  sealedPassword!: string | null;

  /** comma-separated roles */
  @Column({ type: 'text' })
  roles!: string;

  @Column({ name: 'created_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  createdMs!: number;

  /** migration 1700000000010 */
  @Column({ type: 'boolean', default: false })
  disabled!: boolean;
}

/** WS-Security trust store: client certificates pinned per user (migration 1700000000003). */
@Entity({ name: 'client_certificate' })
@Unique('uq_client_certificate_fingerprint', ['fingerprint'])
@Index('ix_client_certificate_user', ['userId'])
export class ClientCertificateRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'user_id', type: 'varchar', length: 64 })
  userId!: string;

  @Column({ name: 'user_name', type: 'varchar', length: 255 })
  userName!: string;

  @Column({ type: 'text' })
  subject!: string;

  /** SHA-256 of the DER, lowercase hex */
  @Column({ type: 'varchar', length: 64 })
  fingerprint!: string;

  @Column({ type: 'text' })
  pem!: string;

  @Column({ name: 'not_before_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  notBeforeMs!: number;

  @Column({ name: 'not_after_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  notAfterMs!: number;

  @Column({ name: 'created_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  createdMs!: number;
}

/** WS-Security replay cache: one row per seen nonce / signature, keyed by its hash (migration 1700000000003). */
@Entity({ name: 'wss_replay' })
@Index('ix_wss_replay_expires', ['expiresMs'])
export class WssReplayRow {
  @PrimaryColumn({ name: 'key_hash', type: 'varchar', length: 64 })
  keyHash!: string;

  @Column({ name: 'expires_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  expiresMs!: number;
}

/** A tenant's quota limits, one row per limited metric (issue 16 §3; migration 1700000000011). */
@Entity({ name: 'tenant_quota' })
export class TenantQuotaRow {
  @PrimaryColumn({ name: 'tenant_id', type: 'varchar', length: 64 })
  tenantId!: string;

  @PrimaryColumn({ type: 'varchar', length: 32 })
  metric!: string;

  @Column({ name: 'max_value', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  maxValue!: number;
}

/** A Meter (DSP0263 2.0.0 §5.17.3; migration 1700000000013). */
@Entity({ name: 'meter' })
export class MeterRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 64 })
  tenantId!: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 48 })
  resourceType!: string;

  @Column({ name: 'resource_id', type: 'varchar', length: 36 })
  resourceId!: string;

  @Column({ type: 'varchar', length: 32 })
  metric!: string;

  @Column({ type: 'varchar', length: 32 })
  units!: string;

  @Column({ name: 'created_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  createdMs!: number;

  /** STARTED or STOPPED (migration 1700000000017) */
  @Column({ type: 'varchar', length: 16, default: 'STARTED' })
  state!: string;

  @Column({ name: 'stop_ms', type: 'bigint', nullable: true, transformer: BIGINT_TO_NUMBER })
  stopMs!: number | null;

  /** provider (the sampler's) or client (Meter.create); name, description, sample_interval of a client Meter (migration 1700000000018) */
  @Column({ type: 'varchar', length: 16, default: 'provider' })
  origin!: string;

  @Column({ type: 'varchar', length: 255, nullable: true })
  name!: string | null;

  @Column({ type: 'text', nullable: true })
  description!: string | null;

  @Column({ name: 'sample_interval', type: 'integer', nullable: true })
  sampleInterval!: number | null;

  /** JSON string map (DSP0263 2.0.0 Table 5 properties) */
  @Column({ type: 'text', nullable: true })
  properties!: string | null;
}

/** One reading of a Meter (migration 1700000000013). */
@Entity({ name: 'meter_sample' })
export class MeterSampleRow {
  @PrimaryColumn({ name: 'meter_id', type: 'varchar', length: 36 })
  meterId!: string;

  @PrimaryColumn({ name: 'at_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  atMs!: number;

  @Column({ name: 'tenant_id', type: 'varchar', length: 64 })
  tenantId!: string;

  @Column({ type: 'double precision' })
  value!: number;
}

/** Failed-login counts per user name / client address (LoginThrottle; migration 1700000000009). */
@Entity({ name: 'login_failure' })
export class LoginFailureRow {
  @PrimaryColumn({ name: 'throttle_key', type: 'varchar', length: 200 })
  key!: string;

  @Column({ name: 'failures', type: 'integer' })
  failures!: number;

  @Column({ name: 'last_failure_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  lastFailureMs!: number;

  @Column({ name: 'blocked_until_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  blockedUntilMs!: number;
}

/** An enumeration in progress (WS-Man Enumerate/Pull; migration 1700000000004). */
@Entity({ name: 'enumeration_context' })
@Index('ix_enumeration_context_expires', ['expiresMs'])
@Index('ix_enumeration_context_principal', ['tenantId', 'principalId', 'expiresMs'])
export class EnumerationContextRow {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 64 })
  tenantId!: string;

  @Column({ name: 'principal_id', type: 'varchar', length: 128 })
  principalId!: string;

  @Column({ name: 'resource_uri', type: 'text' })
  resourceUri!: string;

  /** JSON of the door's query description */
  @Column({ type: 'text' })
  query!: string;

  @Column({ type: 'text', nullable: true })
  cursor!: string | null;

  @Column({ name: 'idle_ms', type: 'bigint', nullable: true, transformer: BIGINT_TO_NUMBER })
  idleMs!: number | null;

  @Column({ name: 'expires_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  expiresMs!: number;

  @Column({ name: 'created_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  createdMs!: number;

  @Column({ type: 'int', transformer: INT_TO_NUMBER })
  version!: number;
}

/** One CADF record: the filterable fields as columns, the whole event as JSON text (what export writes). */
@Entity({ name: 'audit_event' })
@Index('ix_audit_time', ['eventTimeMs', 'id'])
@Index('ix_audit_tenant_time', ['tenantId', 'eventTimeMs'])
@Index('ix_audit_job', ['jobId'])
@Index('ix_audit_correlation', ['correlationId'])
export class AuditEventRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 64, nullable: true })
  tenantId!: string | null;

  @Column({ name: 'event_time_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  eventTimeMs!: number;

  @Column({ name: 'event_type', type: 'varchar', length: 16 })
  eventType!: string;

  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ type: 'varchar', length: 16 })
  outcome!: string;

  @Column({ name: 'initiator_id', type: 'varchar', length: 128 })
  initiatorId!: string;

  @Column({ name: 'initiator_name', type: 'varchar', length: 255, nullable: true })
  initiatorName!: string | null;

  @Column({ type: 'varchar', length: 16 })
  protocol!: string;

  @Column({ name: 'target_id', type: 'varchar', length: 255 })
  targetId!: string;

  @Column({ name: 'target_type', type: 'varchar', length: 255 })
  targetType!: string;

  @Column({ name: 'reason_code', type: 'varchar', length: 128 })
  reasonCode!: string;

  @Column({ name: 'correlation_id', type: 'varchar', length: 128 })
  correlationId!: string;

  @Column({ name: 'job_id', type: 'varchar', length: 36, nullable: true })
  jobId!: string | null;

  @Column({ type: 'text' })
  record!: string;
}

/** One CIMI Event of a resource's EventLog (DSP0263 2.0.0 §5.17.13); content as JSON text. */
@Entity({ name: 'resource_event' })
@Index('ix_resource_event_log', ['tenantId', 'resourceId', 'timestampMs', 'id'])
export class ResourceEventRow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id!: string;

  @Column({ name: 'tenant_id', type: 'varchar', length: 64 })
  tenantId!: string;

  @Column({ name: 'resource_id', type: 'varchar', length: 36 })
  resourceId!: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 48 })
  resourceType!: string;

  @Column({ name: 'timestamp_ms', type: 'bigint', transformer: BIGINT_TO_NUMBER })
  timestampMs!: number;

  @Column({ type: 'varchar', length: 255 })
  type!: string;

  @Column({ type: 'varchar', length: 16 })
  outcome!: string;

  @Column({ type: 'varchar', length: 16 })
  severity!: string;

  @Column({ type: 'varchar', length: 32 })
  state!: string;

  @Column({ type: 'varchar', length: 32, nullable: true })
  previous!: string | null;

  @Column({ type: 'text' })
  content!: string;
}

export const RECORDS = [ResourceRecord, JobRecord, ResourceCountRow, JobCountRow, IdempotencyRecordRow, TenantRow, UserRow, ClientCertificateRow, WssReplayRow, LoginFailureRow, TenantQuotaRow, MeterRow, MeterSampleRow, EnumerationContextRow, AuditEventRow, ResourceEventRow];
