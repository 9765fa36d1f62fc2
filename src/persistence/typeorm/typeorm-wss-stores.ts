import type { DataSource } from 'typeorm';
import { ModelError } from '../../model/shared/model-error';
import type { CertificateStore, ClientCertificateRecord, ReplayCache } from '../../model/shared/ports';
import { ClientCertificateRow, WssReplayRow } from './records';
import { isUniqueViolation, Sql } from './sql';
import { outsideTransaction, readOutsideTransaction } from './typeorm-unit-of-work';

function toRow(c: ClientCertificateRecord): ClientCertificateRow {
  const row = new ClientCertificateRow();
  row.id = c.id;
  row.userId = c.userId;
  row.userName = c.userName;
  row.subject = c.subject;
  row.fingerprint = c.fingerprint;
  row.pem = c.pem;
  row.notBeforeMs = c.notBefore.getTime();
  row.notAfterMs = c.notAfter.getTime();
  row.createdMs = c.created.getTime();
  return row;
}

function fromRow(r: ClientCertificateRow): ClientCertificateRecord {
  return {
    id: r.id,
    userId: r.userId,
    userName: r.userName,
    subject: r.subject,
    fingerprint: r.fingerprint,
    pem: r.pem,
    notBefore: new Date(r.notBeforeMs),
    notAfter: new Date(r.notAfterMs),
    created: new Date(r.createdMs),
  };
}

/** The WS-Security trust store (cross-tenant: a signature names its certificate before it names a user). */
export class TypeormCertificateStore implements CertificateStore {
  constructor(private readonly ds: DataSource) {}

  private sql<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return outsideTransaction(this.ds, (manager) => fn(new Sql(manager)));
  }

  /** a read: on the SQLite read connection, not queued behind the writer */
  private read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return readOutsideTransaction(this.ds, (manager) => fn(new Sql(manager)));
  }

  async insert(c: ClientCertificateRecord): Promise<void> {
    try {
      await this.sql((s) => s.insert(ClientCertificateRow, toRow(c)));
    } catch (e) {
      if (isUniqueViolation(e))
        throw new ModelError('already-exists', 'CERTIFICATE.ALREADY_EXISTS', 'this certificate is already registered', {
          resourceType: 'Certificate',
        });
      throw e;
    }
  }

  async get(id: string): Promise<ClientCertificateRecord | undefined> {
    const row = await this.read((s) => s.selectOne(ClientCertificateRow, 'SELECT c.* FROM client_certificate c WHERE c.id = :id', { id }));
    return row && fromRow(row);
  }

  async findByFingerprint(fingerprint: string): Promise<ClientCertificateRecord | undefined> {
    const row = await this.read((s) =>
      s.selectOne(ClientCertificateRow, 'SELECT c.* FROM client_certificate c WHERE c.fingerprint = :fingerprint', { fingerprint }),
    );
    return row && fromRow(row);
  }

  async list(userId?: string): Promise<ClientCertificateRecord[]> {
    const rows = await this.read((s) =>
      userId === undefined
        ? s.select(ClientCertificateRow, 'SELECT c.* FROM client_certificate c ORDER BY c.user_name ASC, c.created_ms ASC, c.id ASC')
        : s.select(ClientCertificateRow, 'SELECT c.* FROM client_certificate c WHERE c.user_id = :userId ORDER BY c.created_ms ASC, c.id ASC', {
            userId,
          }),
    );
    return rows.map(fromRow);
  }

  async remove(id: string): Promise<boolean> {
    return (await this.sql((s) => s.exec('DELETE FROM client_certificate WHERE id = :id', { id }))) > 0;
  }
}

/**
 * Replay cache in the database, so every gateway process sees every nonce. `INSERT … ON CONFLICT DO NOTHING` on the
 * primary key is atomic on SQLite and PostgreSQL: of two processes racing with the same key exactly one inserts.
 * An expired row that was not purged yet still refuses its key; that is harmless because the key's lifetime is at
 * least the freshness window, so the message is refused as stale anyway.
 */
export class TypeormReplayCache implements ReplayCache {
  private nextPurge = 0;

  constructor(
    private readonly ds: DataSource,
    private readonly purgeEveryMs = 60000,
  ) {}

  private sql<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return outsideTransaction(this.ds, (manager) => fn(new Sql(manager)));
  }

  async remember(key: string, expires: Date, now: Date): Promise<boolean> {
    if (now.getTime() >= this.nextPurge) {
      this.nextPurge = now.getTime() + this.purgeEveryMs;
      await this.purgeExpired(now);
    }
    const row = new WssReplayRow();
    row.keyHash = key;
    row.expiresMs = expires.getTime();
    return (await this.sql((s) => s.insert(WssReplayRow, row, ['key_hash']))) === 1;
  }

  purgeExpired(now: Date): Promise<number> {
    return this.sql((s) => s.exec('DELETE FROM wss_replay WHERE expires_ms < :now', { now: now.getTime() }));
  }
}

