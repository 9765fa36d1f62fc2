import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A cloud-init NoCloud seed (cloudinit.readthedocs.io, "NoCloud": an ISO 9660 volume labelled `cidata` with
 * `user-data` and `meta-data`), made with Debian's genisoimage. A Machine's userData is the user-data as given;
 * without it, a Credential's userName becomes a `#cloud-config` user.
 */
export async function writeSeedIso(target: string, o: { instanceId: string; hostname: string; userData?: string; userName?: string; publicKey?: string }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'cimi-seed-'));
  try {
    const userData =
      o.userData ??
      ['#cloud-config', 'users:', `  - name: ${JSON.stringify(o.userName ?? 'cimi')}`, ...(o.publicKey ? ['    ssh_authorized_keys:', `      - ${JSON.stringify(o.publicKey)}`] : []), ''].join('\n');
    await writeFile(join(dir, 'user-data'), userData);
    await writeFile(join(dir, 'meta-data'), `instance-id: ${JSON.stringify(o.instanceId)}\nlocal-hostname: ${JSON.stringify(o.hostname)}\n`);
    await run('genisoimage', ['-quiet', '-output', target, '-volid', 'cidata', '-joliet', '-rock', join(dir, 'user-data'), join(dir, 'meta-data')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
