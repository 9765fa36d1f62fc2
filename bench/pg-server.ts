import { freePort } from '../test/support/gateway-process';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private, throwaway PostgreSQL for BENCH_PG=1 when no server of scripts/test-setup.sh is running: the same
 * recipe as that script's step 3 (own initdb in a temp dir, loopback only, fsync off), but it never touches
 * .test-artifacts/ (pg-url, pg.env): test-setup.sh stops whatever pg.env names, so sharing that file would let a
 * concurrent test run stop this server (or this benchmark stop theirs), and test-setup.sh may also run npm ci.
 */
export interface PgServer {
  url: string;
  version: string;
  stop(): void;
}

function pgBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(a) - Number(b))
    : [];
  if (!versions.length) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql/*/bin');
  return join(root, versions[versions.length - 1], 'bin');
}


export async function startPrivatePg(): Promise<PgServer> {
  const bin = pgBin();
  const root = process.getuid?.() === 0;
  const dir = mkdtempSync(join(tmpdir(), 'cimi-bench-pg-'));
  // initdb/postgres refuse to run as root: as root, run them as the postgres user
  const asPg = (cmd: string, args: string[]) =>
    root ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] : [join(bin, cmd), args];
  const run = (cmd: string, args: string[]) => {
    const [file, argv] = asPg(cmd, args) as [string, string[]];
    return execFileSync(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  };
  const owner = root
    ? {
        uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
        gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
      }
    : undefined;
  if (owner) chownSync(dir, owner.uid, owner.gid);
  let started = false;
  const stop = () => {
    if (started) {
      const [file, argv] = asPg('pg_ctl', [
        '-D',
        join(dir, 'data'),
        '-m',
        'fast',
        '-w',
        '-t',
        '30',
        '-s',
        'stop',
      ]) as [string, string[]];
      spawnSync(file, argv, { stdio: 'ignore' });
      started = false;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', [
      '-D',
      join(dir, 'data'),
      '-U',
      'postgres',
      '-E',
      'UTF8',
      '--locale=C',
      '--auth-local=trust',
      '--auth-host=scram-sha-256',
      '--no-sync',
    ]);
  } catch (e) {
    stop();
    throw e;
  }
  const sock = join(dir, 'sock');
  mkdirSync(sock);
  if (owner) chownSync(sock, owner.uid, owner.gid);
  let port = 0;
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freePort();
    const opts = [
      '-c listen_addresses=127.0.0.1',
      `-p ${port}`,
      `-k ${sock}`,
      // test-setup.sh's settings, plus room for the bulk load without forced checkpoints
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
      '-c max_wal_size=8GB -c maintenance_work_mem=256MB',
    ].join(' ');
    try {
      run('pg_ctl', [
        '-D',
        join(dir, 'data'),
        '-l',
        join(dir, 'server.log'),
        '-w',
        '-t',
        '60',
        '-s',
        '-o',
        opts,
        'start',
      ]);
      started = true;
    } catch {
      // the port was taken between the probe and the start: retry
    }
  }
  if (!started) {
    stop();
    throw new Error('private PostgreSQL did not start');
  }
  const user = 'cimi_bench';
  const pass = randomBytes(12).toString('hex');
  try {
    run('psql', [
      '-h',
      sock,
      '-p',
      String(port),
      '-U',
      'postgres',
      '-d',
      'postgres',
      '-v',
      'ON_ERROR_STOP=1',
      '-q',
      '-c',
      `CREATE ROLE ${user} LOGIN CREATEDB PASSWORD '${pass}'`,
      '-c',
      `CREATE DATABASE cimi_bench OWNER ${user}`,
    ]);
  } catch (e) {
    stop();
    throw e;
  }
  const version =
    /\d+(\.\d+)+/.exec(execFileSync(join(bin, 'postgres'), ['--version']).toString())?.[0] ?? '?';
  return { url: `postgres://${user}:${pass}@127.0.0.1:${port}/cimi_bench`, version, stop };
}
