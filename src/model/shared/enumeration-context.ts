/**
 * Port for enumerations in progress (WS-Man Enumerate/Pull/Release; any door that pages a query by a
 * server-held cursor). Contexts are rows, not process memory: a Pull may reach another gateway process on the
 * same database (issue 5 §7). Every lookup names the tenant and the principal, so a context is usable only by
 * whoever opened it.
 */
export interface EnumerationContextRecord {
  /** random and unguessable; the wire value of the context */
  id: string;
  tenantId: string;
  principalId: string;
  /** what was enumerated (the door's resource address) */
  resourceUri: string;
  /** the door's description of the query (filter, mode, …): JSON-serialisable */
  query: Record<string, unknown>;
  /** keyset position after the last item handed out; null before the first */
  cursor: string | null;
  /** sliding idle window (renewed by each Pull); null = the expiry is fixed */
  idleMs: number | null;
  expires: Date;
  created: Date;
  /** optimistic concurrency: each advance increments it */
  version: number;
}

export interface EnumerationContextStore {
  insert(record: EnumerationContextRecord): Promise<void>;
  /** the context when it exists, belongs to this tenant and principal, and has not expired at `now` */
  find(tenantId: string, principalId: string, id: string, now: Date): Promise<EnumerationContextRecord | undefined>;
  /** stores a new cursor and expiry, conditional on `record.version` and on it being still alive; false when lost */
  advance(record: EnumerationContextRecord, cursor: string, expires: Date, now: Date): Promise<boolean>;
  /** deletes one context of this tenant and principal (conditional on `version` when given); false when absent */
  remove(tenantId: string, principalId: string, id: string, version?: number): Promise<boolean>;
  /** live contexts of one principal (the per-principal quota) */
  countLive(tenantId: string, principalId: string, now: Date): Promise<number>;
  /** deletes every expired context */
  purgeExpired(now: Date): Promise<number>;
}
export const ENUMERATION_CONTEXTS = Symbol('ENUMERATION_CONTEXTS');
