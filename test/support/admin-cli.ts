import { execFile } from 'node:child_process';
import { join } from 'node:path';
import type { Harness } from './app-harness';

const ROOT = join(__dirname, '..', '..');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** the real admin CLI as an OS process, on the database the running app uses (its env, as an operator would set it) */
export function adminCli(h: Harness, args: string[], stdin?: string): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), SQLITE_PATH: h.db.sqlitePath, LOG_LEVEL: 'warn' };
  if (h.db.databaseUrl) env.DATABASE_URL = h.db.databaseUrl;
  else delete env.DATABASE_URL;
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src', 'cli', 'admin.ts'), ...args], { cwd: ROOT, env, timeout: 60000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin!.end(stdin ?? '');
  });
}
