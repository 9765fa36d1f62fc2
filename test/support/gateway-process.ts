import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { get as httpsGet } from 'node:https';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface GatewayProcess {
  child: ChildProcess;
  port: number;
  url: string;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts the real gateway (src/main.ts) as a separate OS process on 127.0.0.1, so tests can SIGKILL it mid-job.
 * Resolves when /health/ready answers 200.
 */
export async function startGatewayProcess(env: Record<string, string | undefined>, timeoutMs = 60000, opts: { ca?: string } = {}): Promise<GatewayProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-r', 'reflect-metadata', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: { ...process.env, TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'), PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', SUBSCRIPTION_PRIVATE_ADDRESSES: 'allow', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  // with `ca` the gateway serves HTTPS (TLS_CERT_FILE/TLS_KEY_FILE in env) and readiness is asked over TLS
  const url = `${opts.ca ? 'https' : 'http'}://127.0.0.1:${port}`;
  const ready = opts.ca
    ? () => new Promise<number>((resolve, reject) => void httpsGet(`${url}/health/ready`, { ca: opts.ca }, (r) => (r.resume(), resolve(r.statusCode ?? 0))).on('error', reject))
    : async () => (await fetch(`${url}/health/ready`)).status;
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}:\n${out}`);
    try {
      if ((await ready()) === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > end) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not become ready:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    port,
    url,
    output: () => out,
    kill: (signal = 'SIGKILL') =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}
