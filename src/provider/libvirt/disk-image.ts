import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { promisify } from 'node:util';
import { InvalidInputError } from '../../model/shared/model-error';

const run = promisify(execFile);
/** what an OVA's disk may be (issue 17 §1): formats qemu-img reads without a second file */
export const ACCEPTED_FORMATS = ['raw', 'qcow2', 'vmdk'] as const;
const TIMEOUT_MS = 10 * 60 * 1000;

export interface DiskInfo {
  format: (typeof ACCEPTED_FORMATS)[number];
  virtualSize: number;
}

/**
 * `qemu-img info --output=json` of an uploaded disk file, refused unless it is one self-contained raw, qcow2 or vmdk
 * image: a backing file or a vmdk extent elsewhere would make qemu-img (and later QEMU) read a host file the client
 * named (the qcow2 backing-file attack), so neither is accepted. `name` is the file's name in the package.
 */
export async function inspectDisk(file: string, name: string): Promise<DiskInfo> {
  let info: Record<string, unknown>;
  try {
    const { stdout } = await run('qemu-img', ['info', '--output=json', file], { timeout: 60_000, maxBuffer: 4 * 1024 * 1024 });
    info = JSON.parse(stdout) as Record<string, unknown>;
  } catch (e) {
    throw refuse(`disk file ${name} is not a disk image qemu-img reads: ${firstLine(e)}`);
  }
  const format = String(info.format ?? '');
  if (!(ACCEPTED_FORMATS as readonly string[]).includes(format)) throw refuse(`disk file ${name} is in format ${format.slice(0, 40) || 'unknown'}; accepted are ${ACCEPTED_FORMATS.join(', ')}`);
  if (info['backing-filename'] !== undefined || info['full-backing-filename'] !== undefined) throw refuse(`disk file ${name} names a backing file; only self-contained images are accepted`);
  const extents = ((info['format-specific'] as { data?: { extents?: { filename?: string }[] } } | undefined)?.data?.extents ?? []).map((x) => x.filename);
  if (extents.some((f) => f !== undefined && f !== file)) throw refuse(`disk file ${name} is a vmdk whose extents are other files; only single-file vmdk is accepted`);
  const virtualSize = Number(info['virtual-size']);
  if (!Number.isSafeInteger(virtualSize) || virtualSize < 1) throw refuse(`disk file ${name} has no virtual size`);
  return { format: format as DiskInfo['format'], virtualSize };
}

/** `qemu-img convert` with the source format given (never probed again): `-U` reads a disk a running domain holds */
export async function convertDisk(from: string, fromFormat: string, to: string, toFormat: 'qcow2' | 'vmdk' | 'raw', shared = false): Promise<void> {
  const opts = toFormat === 'vmdk' ? ['-o', 'subformat=streamOptimized'] : [];
  try {
    await run('qemu-img', ['convert', ...(shared ? ['-U'] : []), '-f', fromFormat, '-O', toFormat, ...opts, from, to], { timeout: TIMEOUT_MS, maxBuffer: 1024 * 1024 });
  } catch (e) {
    throw new Error(`qemu-img convert of ${from} failed: ${firstLine(e)}`);
  }
}

/** a file's size and SHA-256, read as a stream */
export async function digestFile(file: string): Promise<{ bytes: number; sha256: string }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(file)) {
    h.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: h.digest('hex') };
}

const refuse = (msg: string) => new InvalidInputError(msg, 'source', 'OVF.BAD_DISK');

function firstLine(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return (err.stderr || err.message || String(e)).trim().split('\n')[0].slice(0, 200);
}
