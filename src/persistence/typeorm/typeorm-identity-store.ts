import type { DataSource } from 'typeorm';
import { ModelError } from '../../model/shared/model-error';
import type { IdentityStore, LoginFailureRecord, TenantRecord, UserRecord } from '../../model/shared/ports';
import type { Role } from '../../model/shared/operation-context';
import { fromTenantRow, fromUserRow, toTenantRow, toUserRow } from './mappers';
import { TenantRow, UserRow } from './records';
import { FINAL_JOB_STATES } from '../../model/job/job-state';
import { inList, isUniqueViolation, Sql, type Params } from './sql';
import { inTransaction, outsideTransaction, readOutsideTransaction } from './typeorm-unit-of-work';

/** Tenants and users (cross-tenant by nature: authentication finds the user before it knows the tenant). */
export class TypeormIdentityStore implements IdentityStore {
  constructor(private readonly ds: DataSource) {}

  private sql<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return outsideTransaction(this.ds, (manager) => fn(new Sql(manager)));
  }

  /** a read: on the SQLite read connection, not queued behind the writer */
  private read<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return readOutsideTransaction(this.ds, (manager) => fn(new Sql(manager)));
  }

  async findTenant(id: string): Promise<TenantRecord | undefined> {
    const row = await this.read((s) =>
      s.selectOne(TenantRow, 'SELECT t.* FROM tenant t WHERE t.id = :id', { id }),
    );
    return row && fromTenantRow(row);
  }

  async findTenantByName(name: string): Promise<TenantRecord | undefined> {
    const row = await this.read((s) =>
      s.selectOne(TenantRow, 'SELECT t.* FROM tenant t WHERE t.name = :name', { name }),
    );
    return row && fromTenantRow(row);
  }

  async listTenants(): Promise<TenantRecord[]> {
    const rows = await this.read((s) =>
      s.select(TenantRow, 'SELECT t.* FROM tenant t ORDER BY t.name ASC, t.id ASC'),
    );
    return rows.map(fromTenantRow);
  }

  async insertTenant(t: TenantRecord): Promise<void> {
    try {
      await this.sql((s) => s.insert(TenantRow, toTenantRow(t)));
    } catch (e) {
      if (isUniqueViolation(e))
        throw new ModelError('already-exists', 'TENANT.ALREADY_EXISTS', `tenant ${t.name} already exists`, {
          resourceType: 'Tenant',
          resourceId: t.id,
        });
      throw e;
    }
  }

  async findUser(userName: string): Promise<UserRecord | undefined> {
    const row = await this.read((s) =>
      s.selectOne(UserRow, 'SELECT u.* FROM app_user u WHERE u.user_name = :userName', { userName }),
    );
    return row && fromUserRow(row);
  }

  async findActiveUser(userName: string): Promise<UserRecord | undefined> {
    // one joined read per login instead of user then tenant: cached Basic and WS-Security logins make it per request
    const row = await this.read((s) =>
      s.selectOne(
        UserRow,
        'SELECT u.* FROM app_user u JOIN tenant t ON t.id = u.tenant_id WHERE u.user_name = :userName AND NOT u.disabled AND NOT t.disabled',
        { userName },
      ),
    );
    return row && fromUserRow(row);
  }

  /**
   * One statement for both reads of a login (issue 13): one row always, the active user's columns (NULL when there
   * is none) beside each throttle key's count (NULL when it has no record). On the SQLite read connection, like both.
   */
  async findActiveUserWithFailures(userName: string, failureKeys: string[]): Promise<{ user?: UserRecord; failures: LoginFailureRecord[] }> {
    const params: Params = { userName };
    const joins = failureKeys.map((k, i) => {
      params[`k${i}`] = k;
      return `LEFT JOIN login_failure f${i} ON f${i}.throttle_key = :k${i}`;
    });
    const counts = failureKeys.map((_k, i) => `, f${i}.failures AS f${i}_failures, f${i}.last_failure_ms AS f${i}_last, f${i}.blocked_until_ms AS f${i}_blocked`).join('');
    // plain LEFT JOINs (no subquery, which SQLite would materialize per execution): the user is active when its
    // own row and its enabled tenant's both joined
    const sql = `SELECT u.*, t.id AS active_tenant_id${counts} FROM (SELECT 1 AS one) one ${joins.join(' ')}
      LEFT JOIN app_user u ON u.user_name = :userName AND NOT u.disabled LEFT JOIN tenant t ON t.id = u.tenant_id AND NOT t.disabled`;
    return this.read(async (s) => {
      const row = (await s.rows(sql, params))[0] ?? {};
      const failures = failureKeys.flatMap((key, i) =>
        row[`f${i}_failures`] === null || row[`f${i}_failures`] === undefined
          ? []
          : [{ key, failures: Number(row[`f${i}_failures`]), lastFailureMs: Number(row[`f${i}_last`]), blockedUntilMs: Number(row[`f${i}_blocked`]) }],
      );
      return { user: row.active_tenant_id === null || row.active_tenant_id === undefined ? undefined : fromUserRow(s.hydrate(UserRow, row)), failures };
    });
  }

  async listUsers(tenantId?: string): Promise<UserRecord[]> {
    const rows = await this.read((s) =>
      tenantId === undefined
        ? s.select(UserRow, 'SELECT u.* FROM app_user u ORDER BY u.user_name ASC')
        : s.select(
            UserRow,
            'SELECT u.* FROM app_user u WHERE u.tenant_id = :tenant ORDER BY u.user_name ASC',
            { tenant: tenantId },
          ),
    );
    return rows.map(fromUserRow);
  }

  async insertUser(u: UserRecord): Promise<void> {
    try {
      await this.sql((s) => s.insert(UserRow, toUserRow(u)));
    } catch (e) {
      if (isUniqueViolation(e))
        throw new ModelError('already-exists', 'USER.ALREADY_EXISTS', `user ${u.userName} already exists`, {
          resourceType: 'User',
          resourceId: u.id,
        });
      throw e;
    }
  }

  async setSealedPassword(userId: string, sealed: string): Promise<void> {
    await this.sql((s) => s.exec('UPDATE app_user SET sealed_password = :sealed WHERE id = :userId', { sealed, userId }));
  }

  async countUsers(): Promise<number> {
    const rows = await this.read((s) => s.rows('SELECT COUNT(*) AS n FROM app_user'));
    return Number(rows[0]?.n ?? 0);
  }

  async setTenantDisabled(tenantId: string, disabled: boolean): Promise<void> {
    await this.sql((s) => s.exec('UPDATE tenant SET disabled = :disabled WHERE id = :tenantId', { disabled, tenantId }));
  }

  async deleteTenantIfEmpty(tenantId: string): Promise<boolean> {
    return inTransaction(this.ds, async (m) => {
      const s = new Sql(m);
      // one statement: the emptiness check and the delete cannot be split by a concurrent insert on SQLite
      const n = await s.exec(
        'DELETE FROM tenant WHERE id = :tenantId AND NOT EXISTS (SELECT 1 FROM app_user u WHERE u.tenant_id = :tenantId) AND NOT EXISTS (SELECT 1 FROM resource r WHERE r.tenant_id = :tenantId)',
        { tenantId },
      );
      // its quota limits go with it, so a tenant made later under the same id starts unlimited; no resource rows
      // are left, so its resource counters are all 0 (n = 0 spares one a concurrent insert just raised)
      if (n > 0) {
        await s.exec('DELETE FROM tenant_quota WHERE tenant_id = :tenantId', { tenantId });
        await s.exec('DELETE FROM resource_count WHERE tenant_id = :tenantId AND n = 0', { tenantId });
        // A tenant is named by its id: one made later under the same name must not inherit this one's
        // subscriptions (its Events would go to the old webhooks), Events (a bookmark/earliest Subscribe would
        // replay them), finished Jobs, idempotency keys, enumeration contexts or Meters. The audit trail stays.
        await s.exec('DELETE FROM subscription_outbox WHERE subscription_id IN (SELECT id FROM subscription WHERE tenant_id = :tenantId)', { tenantId });
        for (const table of ['subscription', 'resource_event', 'idempotency_key', 'enumeration_context', 'meter_sample', 'meter'])
          await s.exec(`DELETE FROM ${table} WHERE tenant_id = :tenantId`, { tenantId });
        const params: Params = { tenantId };
        await s.exec(`DELETE FROM job WHERE tenant_id = :tenantId AND state IN (${inList('f', FINAL_JOB_STATES, params)})`, params);
        await s.exec('UPDATE job_count SET n = (SELECT COUNT(*) FROM job WHERE tenant_id = :tenantId) WHERE tenant_id = :tenantId', { tenantId });
      }
      return n > 0;
    });
  }

  async setUserDisabled(userId: string, disabled: boolean): Promise<void> {
    await this.sql((s) => s.exec('UPDATE app_user SET disabled = :disabled WHERE id = :userId', { disabled, userId }));
  }

  async setRoles(userId: string, roles: Role[]): Promise<void> {
    await this.sql((s) => s.exec('UPDATE app_user SET roles = :roles WHERE id = :userId', { roles: roles.join(','), userId }));
  }

  async setPassword(userId: string, passwordHash: string, sealed: string): Promise<void> {
    await this.sql((s) => s.exec('UPDATE app_user SET password_hash = :passwordHash, sealed_password = :sealed WHERE id = :userId', { passwordHash, sealed, userId }));
  }

  async deleteUser(userId: string): Promise<void> {
    await inTransaction(this.ds, async (m) => {
      const s = new Sql(m);
      await s.exec('DELETE FROM client_certificate WHERE user_id = :userId', { userId });
      await s.exec('DELETE FROM app_user WHERE id = :userId', { userId });
    });
  }
}
