import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/**
 * The databases a suite runs on: SQLite always, PostgreSQL when TEST_DATABASE_URL is set (.ci/test.sh starts a
 * throwaway server). Each test database is isolated: a fresh SQLite file, or a fresh PostgreSQL schema selected
 * through the connection's search_path, so suites running in parallel never see each other's rows or jobs.
 */
export interface TestDatabase {
  engine: 'sqlite' | 'postgres';
  /** DATABASE_URL for the gateway (undefined on SQLite) */
  databaseUrl?: string;
  sqlitePath: string;
  drop(): Promise<void>;
}

export const ENGINES: ('sqlite' | 'postgres')[] = process.env.TEST_DATABASE_URL ? ['sqlite', 'postgres'] : ['sqlite'];

export async function createTestDatabase(engine: 'sqlite' | 'postgres'): Promise<TestDatabase> {
  const dir = mkdtempSync(join(tmpdir(), 'cimi-test-'));
  const sqlitePath = join(dir, 'gateway.sqlite');
  if (engine === 'sqlite') {
    return { engine, sqlitePath, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const base = process.env.TEST_DATABASE_URL!;
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const url = new URL(base);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return {
    engine,
    databaseUrl: url.toString(),
    sqlitePath,
    drop: async () => {
      const c = new Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
