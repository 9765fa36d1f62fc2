import { randomBytes, createHash } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { AppConfig } from '../config/env.schema';
import { Keyring } from '../model/identity/keyring';

/**
 * SECRET_KEY when set (hashed to 32 bytes, so any long passphrase works); otherwise a random key kept in
 * SECRET_KEY_FILE, created on first start with mode 0600. The file appears complete or not at all (written aside,
 * then hard-linked, which fails if another process got there first), so processes starting together share one key.
 */
export function loadKeyring(cfg: AppConfig): Keyring {
  if (cfg.SECRET_KEY) return new Keyring(createHash('sha256').update(cfg.SECRET_KEY).digest());
  const file = cfg.SECRET_KEY_FILE ?? join(dirname(cfg.SQLITE_PATH), 'secret.key');
  mkdirSync(dirname(file), { recursive: true });
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(aside, randomBytes(32).toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
  try {
    linkSync(aside, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(aside);
  }
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length < 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return new Keyring(key);
}
