import type { DataSource } from 'typeorm';
import type { EnumerationContextRecord, EnumerationContextStore } from '../../model/shared/enumeration-context';
import { EnumerationContextRow } from './records';
import { Sql } from './sql';
import { outsideTransaction, readOutsideTransaction } from './typeorm-unit-of-work';

function toRow(r: EnumerationContextRecord): EnumerationContextRow {
  const row = new EnumerationContextRow();
  row.id = r.id;
  row.tenantId = r.tenantId;
  row.principalId = r.principalId;
  row.resourceUri = r.resourceUri;
  row.query = JSON.stringify(r.query);
  row.cursor = r.cursor;
  row.idleMs = r.idleMs;
  row.expiresMs = r.expires.getTime();
  row.createdMs = r.created.getTime();
  row.version = r.version;
  return row;
}

function fromRow(row: EnumerationContextRow): EnumerationContextRecord {
  return {
    id: row.id,
    tenantId: row.tenantId,
    principalId: row.principalId,
    resourceUri: row.resourceUri,
    query: JSON.parse(row.query) as Record<string, unknown>,
    cursor: row.cursor,
    idleMs: row.idleMs,
    expires: new Date(row.expiresMs),
    created: new Date(row.createdMs),
    version: row.version,
  };
}

/**
 * Enumeration contexts as rows of `enumeration_context`: single statements, each atomic on its own (the
 * version check makes a Pull's advance a compare-and-set), portable between SQLite and PostgreSQL.
 */
export class TypeormEnumerationStore implements EnumerationContextStore {
  constructor(private readonly ds: DataSource) {}

  private sql<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return outsideTransaction(this.ds, (manager) => fn(new Sql(manager)));
  }

  /** a read: on the SQLite read connection, not queued behind the writer */
  private read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return readOutsideTransaction(this.ds, (manager) => fn(new Sql(manager)));
  }

  async insert(record: EnumerationContextRecord): Promise<void> {
    await this.sql((s) => s.insert(EnumerationContextRow, toRow(record)));
  }

  async find(tenantId: string, principalId: string, id: string, now: Date): Promise<EnumerationContextRecord | undefined> {
    const row = await this.read((s) =>
      s.selectOne(
        EnumerationContextRow,
        'SELECT e.* FROM enumeration_context e WHERE e.id = :id AND e.tenant_id = :tenant AND e.principal_id = :principal AND e.expires_ms > :now',
        { id, tenant: tenantId, principal: principalId, now: now.getTime() },
      ),
    );
    return row && fromRow(row);
  }

  async advance(record: EnumerationContextRecord, cursor: string, expires: Date, now: Date): Promise<boolean> {
    const n = await this.sql((s) =>
      s.exec(
        `UPDATE enumeration_context SET cursor = :cursor, expires_ms = :expires, version = :version
         WHERE id = :id AND tenant_id = :tenant AND principal_id = :principal AND version = :prev AND expires_ms > :now`,
        {
          cursor,
          expires: expires.getTime(),
          version: record.version + 1,
          id: record.id,
          tenant: record.tenantId,
          principal: record.principalId,
          prev: record.version,
          now: now.getTime(),
        },
      ),
    );
    return n === 1;
  }

  async remove(tenantId: string, principalId: string, id: string, version?: number): Promise<boolean> {
    const params: Record<string, unknown> = { id, tenant: tenantId, principal: principalId };
    let sql = 'DELETE FROM enumeration_context WHERE id = :id AND tenant_id = :tenant AND principal_id = :principal';
    if (version !== undefined) {
      sql += ' AND version = :version';
      params.version = version;
    }
    return (await this.sql((s) => s.exec(sql, params))) === 1;
  }

  async countLive(tenantId: string, principalId: string, now: Date): Promise<number> {
    const rows = await this.read((s) =>
      s.rows('SELECT COUNT(*) AS n FROM enumeration_context e WHERE e.tenant_id = :tenant AND e.principal_id = :principal AND e.expires_ms > :now', {
        tenant: tenantId,
        principal: principalId,
        now: now.getTime(),
      }),
    );
    return Number(rows[0]?.n ?? 0);
  }

  async purgeExpired(now: Date): Promise<number> {
    return this.sql((s) => s.exec('DELETE FROM enumeration_context WHERE expires_ms <= :now', { now: now.getTime() }));
  }
}
