import type { DataSource } from 'typeorm';
import type { LoginFailureRecord, LoginFailureStore } from '../../model/shared/ports';
import { outsideTransaction, readOutsideTransaction } from './typeorm-unit-of-work';
import { LoginFailureRow } from './records';
import { inList, Sql, type Params } from './sql';

/**
 * LoginThrottle's counts in the database. `INSERT … ON CONFLICT DO UPDATE … RETURNING` counts a failure in one
 * atomic statement on SQLite (≥ 3.35) and PostgreSQL, so racing processes never lose a count.
 */
export class TypeormLoginFailureStore implements LoginFailureStore {
  constructor(private readonly ds: DataSource) {}

  private sql<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return outsideTransaction(this.ds, (manager) => fn(new Sql(manager)));
  }

  /** every login reads its counts: on the SQLite read connection, so a login never queues behind the writer */
  get(keys: string[]): Promise<LoginFailureRecord[]> {
    const params: Params = {};
    const sql = `SELECT * FROM login_failure WHERE throttle_key IN (${inList('k', keys, params)})`;
    return readOutsideTransaction(this.ds, (manager) => new Sql(manager).select(LoginFailureRow, sql, params));
  }

  async fail(key: string, nowMs: number, resetBeforeMs: number): Promise<number> {
    const rows = await this.sql((s) =>
      s.rows(
        `INSERT INTO login_failure (throttle_key, failures, last_failure_ms, blocked_until_ms) VALUES (:key, 1, :now, 0)
         ON CONFLICT (throttle_key) DO UPDATE SET
           failures = CASE WHEN login_failure.last_failure_ms < :reset THEN 1 ELSE login_failure.failures + 1 END,
           last_failure_ms = :now2
         RETURNING failures`,
        { key, now: nowMs, reset: resetBeforeMs, now2: nowMs },
      ),
    );
    return Number(rows[0]?.failures ?? 1);
  }

  async block(key: string, untilMs: number): Promise<void> {
    await this.sql((s) => s.exec('UPDATE login_failure SET blocked_until_ms = :until WHERE throttle_key = :key AND blocked_until_ms < :until2', { key, until: untilMs, until2: untilMs }));
  }

  async clear(key: string): Promise<void> {
    await this.sql((s) => s.exec('DELETE FROM login_failure WHERE throttle_key = :key', { key }));
  }

  purge(beforeMs: number, nowMs: number): Promise<number> {
    return this.sql((s) => s.exec('DELETE FROM login_failure WHERE last_failure_ms < :before AND blocked_until_ms < :now', { before: beforeMs, now: nowMs }));
  }
}
