import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, readSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createInflate } from 'node:zlib';
import { InvalidInputError, ModelError } from '../../model/shared/model-error';
import type { OvfNode } from '../../model/system/ovf/ovf-tree';
import { OVF_NS, RASD_NS, VSSD_NS, XSI_NS } from '../../model/system/ovf/ovf-tree';
import { parseXml, XmlRejectedError, xmlEscape } from '../xml/safe-xml';

/**
 * OVF packages at the doors' edge (DSP0243 §5: a descriptor, or an OVA: a ustar archive whose first entry is the
 * descriptor). Both doors read and write packages here; the model maps the parsed descriptor (ovf-mapping.ts).
 */
/** descriptorBytes: the .ovf itself; a whole package's cap is the OVF_MAX_PACKAGE_BYTES setting (env.schema.ts) */
export const OVF_LIMITS = { descriptorBytes: 1024 * 1024, entries: 64, descriptorElements: 20000 };
export const OVF_MEDIA = 'application/ovf+xml';
export const OVA_MEDIA = 'application/x-ova';

const refuse = (msg: string, code: string, field = 'source') => new InvalidInputError(msg, field, code);

export interface PackageInput {
  descriptor: OvfNode;
  files?: string[];
  diskFiles?: Record<string, { path: string; size: number }>;
}

/**
 * Where a package's bytes are: in memory (a SOAP argument, a data: URI) or in the file a REST upload was spooled to
 * (spoolUpload), read by range so that the package is never held whole in memory.
 */
export interface PackageBytes {
  readonly size: number;
  read(offset: number, length: number): Buffer;
  /** the range as a stream (digests, copies) */
  stream(offset: number, length: number): NodeJS.ReadableStream;
}

export function bufferBytes(buf: Buffer): PackageBytes {
  return { size: buf.length, read: (o, n) => buf.subarray(o, o + n), stream: (o, n) => Readable.from([buf.subarray(o, o + n)]) };
}

/** a file's bytes, read synchronously by range (tar headers, the descriptor, manifests: small reads only) */
export function fileBytes(path: string, fd: number, size: number): PackageBytes {
  return {
    size,
    read(o, n) {
      const b = Buffer.alloc(Math.max(0, Math.min(n, size - o)));
      let got = 0;
      while (got < b.length) {
        const r = readSync(fd, b, got, b.length - got, o + got);
        if (r === 0) break;
        got += r;
      }
      return b.subarray(0, got);
    },
    stream: (o, n) => (n > 0 ? createReadStream(path, { start: o, end: o + n - 1 }) : Readable.from([])),
  };
}

/** the manifest and certificate entries (DSP0243 §5.1, §5.2): small text, read whole */
const MAX_MANIFEST_BYTES = 1024 * 1024;

/** a package: an OVA when it is a ustar archive, else an OVF descriptor; an OVA's manifests are checked */
export async function readPackage(bytes: Buffer | PackageBytes, field: string, maxBytes: number): Promise<{ descriptor: OvfNode; files?: string[]; entries?: TarEntry[]; src: PackageBytes }> {
  const src = Buffer.isBuffer(bytes) ? bufferBytes(bytes) : bytes;
  if (src.size > maxBytes) throw refuse(`the package exceeds ${maxBytes} bytes`, 'OVF.TOO_LARGE', field);
  if (src.size >= 512 && src.read(257, 5).toString('latin1') === 'ustar') {
    const entries = readUstarEntries(src, field);
    const first = entries[0];
    // DSP0243 §5.3: the descriptor is the OVA's first entry
    if (!first || !first.name.endsWith('.ovf')) throw refuse('the OVA’s first entry must be the .ovf descriptor', 'OVF.NO_DESCRIPTOR', field);
    if (first.size > OVF_LIMITS.descriptorBytes) throw refuse(`the OVF descriptor exceeds ${OVF_LIMITS.descriptorBytes} bytes`, 'OVF.TOO_LARGE', field);
    await checkManifests(src, entries, field);
    return { descriptor: parseDescriptor(src.read(first.offset, first.size), field), files: entries.slice(1).map((e) => e.name), entries: entries.slice(1), src };
  }
  if (src.size > OVF_LIMITS.descriptorBytes) throw refuse(`the OVF descriptor exceeds ${OVF_LIMITS.descriptorBytes} bytes`, 'OVF.TOO_LARGE', field);
  return { descriptor: parseDescriptor(src.read(0, src.size), field), src };
}

/**
 * A package read and its other entries copied to a private temporary directory for the model to hand to the
 * provider (issue 17 §1); the directory is removed when `use` ends, whatever its outcome.
 */
export async function withPackage<T>(bytes: Buffer | PackageBytes, field: string, maxBytes: number, use: (input: PackageInput) => Promise<T>): Promise<T> {
  const pkg = await readPackage(bytes, field, maxBytes);
  const disks = (pkg.entries ?? []).filter((e) => !/\.(mf|cert)$/i.test(e.name));
  if (!disks.length) return use({ descriptor: pkg.descriptor, files: pkg.files });
  const dir = await mkdtemp(join(tmpdir(), 'cimi-ova-'));
  try {
    const diskFiles: Record<string, { path: string; size: number }> = {};
    for (const [k, e] of disks.entries()) {
      // the entry's own name is the client's: the file on disk is numbered
      const path = join(dir, `entry-${k}`);
      await pipeline(pkg.src.stream(e.offset, e.size), createWriteStream(path, { mode: 0o600, flags: 'wx' }));
      diskFiles[e.name] = { path, size: e.size };
    }
    return await use({ descriptor: pkg.descriptor, files: pkg.files, diskFiles });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** a REST package upload spooled to a private file: what the controller reads, removed when the response ends */
export interface SpooledUpload {
  path: string;
  size: number;
  dispose(): Promise<void>;
}

const httpError = (status: number, message: string) => Object.assign(new Error(message), { status, expose: true });

/**
 * Streams a request body to a private temporary file (mode 0600), never more than `maxBytes` after inflating: a
 * Content-Length over the cap is refused before a byte is read, a body that grows over it when it is read stops
 * there (413), and the partial file is removed. gzip and deflate Content-Encodings are inflated (as body-parser does).
 */
export async function spoolUpload(req: IncomingMessage, maxBytes: number): Promise<SpooledUpload> {
  const enc = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  const declared = Number(req.headers['content-length']);
  if (enc === 'identity' && Number.isFinite(declared) && declared > maxBytes) throw httpError(413, 'request body too large');
  const inflate = enc === 'gzip' || enc === 'x-gzip' ? createGunzip() : enc === 'deflate' ? createInflate() : undefined;
  if (!inflate && enc !== 'identity') throw httpError(415, `unsupported content encoding "${enc.slice(0, 40)}"`);
  const dir = await mkdtemp(join(tmpdir(), 'cimi-upload-'));
  const path = join(dir, 'package');
  const dispose = () => rm(dir, { recursive: true, force: true });
  let size = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const out = createWriteStream(path, { mode: 0o600, flags: 'wx' });
      const src: NodeJS.ReadableStream = inflate ? req.pipe(inflate) : req;
      let done = false;
      const fail = (e: unknown) => {
        if (done) return;
        done = true;
        // stop reading: the door answers and closes the connection (Connection: close) instead of draining the rest
        if (inflate) req.unpipe(inflate);
        req.pause();
        src.removeAllListeners('data');
        out.destroy();
        reject(e);
      };
      src.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) return fail(httpError(413, 'request body too large'));
        if (!out.write(chunk)) {
          src.pause();
          out.once('drain', () => src.resume());
        }
      });
      src.on('end', () => {
        if (done) return;
        done = true;
        out.end();
        out.once('finish', () => resolve());
        out.once('error', reject);
      });
      src.on('error', (e: Error) => fail(inflate ? httpError(400, `the body is not valid ${enc}: ${e.message}`) : e));
      req.on('aborted', () => fail(httpError(400, 'request aborted')));
      out.on('error', fail);
    });
  } catch (e) {
    await dispose();
    throw e;
  }
  return { path, size, dispose };
}

/** reads a spooled upload as a package (a file descriptor held while `use` runs) */
export async function withSpooledPackage<T>(upload: SpooledUpload, field: string, maxBytes: number, use: (input: PackageInput) => Promise<T>): Promise<T> {
  const fd = openSync(upload.path, 'r');
  try {
    return await withPackage(fileBytes(upload.path, fd, upload.size), field, maxBytes, use);
  } finally {
    closeSync(fd);
  }
}

const DIGESTS: Record<string, string> = { SHA1: 'sha1', SHA256: 'sha256', SHA512: 'sha512' };

/**
 * The OVA's manifests (DSP0243 §5.1: `SHA256(<file>)= <hex>` lines, SHA1 in OVF 1.x packages): every file a manifest
 * names must be in the package with that digest; a mismatch refuses the package.
 */
async function checkManifests(src: PackageBytes, entries: TarEntry[], field: string): Promise<void> {
  for (const mf of entries.filter((e) => /\.mf$/i.test(e.name))) {
    if (mf.size > MAX_MANIFEST_BYTES) throw refuse(`manifest ${mf.name.slice(0, 100)} exceeds ${MAX_MANIFEST_BYTES} bytes`, 'OVF.TOO_LARGE', field);
    const lines = src.read(mf.offset, mf.size).toString('utf8').split(/\r?\n/).filter((l) => l.trim());
    for (const [n, line] of lines.entries()) {
      const m = /^\s*(SHA1|SHA256|SHA512)\s*\(([^)]+)\)\s*=\s*([0-9A-Fa-f]+)\s*$/.exec(line);
      if (!m) throw refuse(`manifest ${mf.name.slice(0, 100)} line ${n + 1} is not ALGORITHM(file)= digest`, 'OVF.BAD_MANIFEST', field);
      const [, alg, name, hex] = m;
      const e = entries.find((x) => x.name === name.trim());
      if (!e) throw refuse(`manifest ${mf.name.slice(0, 100)} names ${name.slice(0, 100)}, which is not in the package`, 'OVF.MISSING_FILE', field);
      const h = createHash(DIGESTS[alg]);
      for await (const chunk of src.stream(e.offset, e.size)) h.update(chunk as Buffer);
      if (h.digest('hex') !== hex.toLowerCase()) throw refuse(`${name.slice(0, 100)} does not match its ${alg} digest in manifest ${mf.name.slice(0, 100)}`, 'OVF.DIGEST_MISMATCH', field);
    }
  }
}

function parseDescriptor(data: Buffer, field: string): OvfNode {
  if (data.length > OVF_LIMITS.descriptorBytes) throw refuse(`the OVF descriptor exceeds ${OVF_LIMITS.descriptorBytes} bytes`, 'OVF.TOO_LARGE', field);
  const text = data.toString('utf8').replace(/^\uFEFF/, '');
  try {
    return parseXml(text, { maxDepth: 32, maxElements: OVF_LIMITS.descriptorElements, maxAttributes: 64, maxTextLength: 64 * 1024 });
  } catch (e) {
    if (e instanceof XmlRejectedError) throw refuse(`the OVF descriptor is refused: ${e.message}`, e.reason === 'doctype' ? 'OVF.DTD' : e.reason === 'limits' ? 'OVF.TOO_LARGE' : 'OVF.NOT_XML', field);
    throw e;
  }
}

export interface TarEntry {
  name: string;
  /** where the entry's data starts in the package, and its length */
  offset: number;
  size: number;
}

/** an in-memory archive's entries with their data (tests, small packages) */
export function readUstar(buf: Buffer, field = 'source'): (TarEntry & { data: Buffer })[] {
  return readUstarEntries(bufferBytes(buf), field).map((e) => ({ ...e, data: buf.subarray(e.offset, e.offset + e.size) }));
}

/**
 * A bounded POSIX ustar reader (IEEE 1003.1 ustar; pax `path` records): regular files and directories only, checksums
 * checked, names that climb out (`..`), absolute names and backslashes refused. It reads headers only: the data stays
 * where it is (offset, size).
 */
export function readUstarEntries(src: PackageBytes, field = 'source'): TarEntry[] {
  const out: TarEntry[] = [];
  let off = 0;
  let paxPath: string | undefined;
  const octal = (b: Buffer, what: string) => {
    const s = b.toString('latin1').replace(/\0.*$/s, '').trim();
    if (!/^[0-7]{1,11}$/.test(s)) throw refuse(`OVA: bad ${what} in the entry header at byte ${off}`, 'OVF.BAD_TAR', field);
    return parseInt(s, 8);
  };
  while (off + 512 <= src.size) {
    const h = src.read(off, 512);
    if (h.every((x) => x === 0)) return out;
    let sum = 0;
    for (let k = 0; k < 512; k++) sum += k >= 148 && k < 156 ? 32 : h[k];
    if (octal(h.subarray(148, 156), 'checksum') !== sum) throw refuse(`OVA: the entry header at byte ${off} has a wrong checksum`, 'OVF.BAD_TAR', field);
    const size = octal(h.subarray(124, 136), 'size');
    const type = String.fromCharCode(h[156] || 48);
    const start = off + 512;
    if (start + size > src.size) throw refuse(`OVA: the entry at byte ${off} is cut short`, 'OVF.BAD_TAR', field);
    off = start + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      if (size > 64 * 1024) throw refuse(`OVA: a pax header at byte ${start - 512} exceeds 64 KiB`, 'OVF.BAD_TAR', field);
      paxPath = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(src.read(start, size).toString('utf8'))?.[1];
      continue;
    }
    if (type === 'g') continue;
    const cstr = (b: Buffer) => b.toString('utf8').replace(/\0.*$/s, '');
    const prefix = cstr(h.subarray(345, 500));
    const name = paxPath ?? (prefix ? `${prefix}/${cstr(h.subarray(0, 100))}` : cstr(h.subarray(0, 100)));
    paxPath = undefined;
    checkName(name, field);
    if (type === '5') continue;
    if (type !== '0') throw refuse(`OVA: entry ${name.slice(0, 100)} is not a regular file (type ${type})`, 'OVF.BAD_TAR', field);
    if (out.length >= OVF_LIMITS.entries) throw refuse(`OVA: more than ${OVF_LIMITS.entries} entries`, 'OVF.TOO_LARGE', field);
    const clean = name.replace(/^\.\//, '');
    if (out.some((e) => e.name === clean)) throw refuse(`OVA: entry ${name.slice(0, 100)} appears twice`, 'OVF.BAD_TAR', field);
    out.push({ name: clean, offset: start, size });
  }
  throw refuse('OVA: the archive has no end-of-archive blocks', 'OVF.BAD_TAR', field);
}

function checkName(name: string, field: string): void {
  const parts = name.replace(/^\.\//, '').split('/');
  if (!name || name.startsWith('/') || name.includes('\\') || name.includes('\0') || parts.some((p) => p === '..') || /^[A-Za-z]:/.test(name)) {
    throw refuse(`OVA: entry name ${JSON.stringify(name.slice(0, 100))} leaves the package`, 'OVF.PATH_TRAVERSAL', field);
  }
}

/** a `source` URI (DSP0263 2.0.0 §5.13.5.1): a data: URI (RFC 2397) carries the package; the gateway fetches nothing */
export function packageOfSource(source: unknown, field: string, maxBytes: number): Buffer {
  if (typeof source !== 'string' || !source) throw refuse('source (the package URI) is required', 'OVF.NO_SOURCE', field);
  const m = /^data:([^,]*),(.*)$/s.exec(source);
  if (!m) {
    // fetching a client-named URI from inside the gateway would reach whatever the gateway can reach (SSRF)
    throw new ModelError('unsupported', 'OVF.SOURCE_UNSUPPORTED', 'only data: source URIs are imported; upload the package instead of naming a remote one', { field });
  }
  if (m[2].length > maxBytes * 2) throw refuse(`the package exceeds ${maxBytes} bytes`, 'OVF.TOO_LARGE', field);
  if (/;base64$/i.test(m[1])) {
    if (!/^[A-Za-z0-9+/=\s]*$/.test(m[2])) throw refuse('source: the data: URI is not valid base64', 'OVF.BAD_SOURCE', field);
    return Buffer.from(m[2], 'base64');
  }
  try {
    return Buffer.from(decodeURIComponent(m[2]), 'utf8');
  } catch {
    throw refuse('source: the data: URI is not percent-encoded text', 'OVF.BAD_SOURCE', field);
  }
}

const PREFIXES: Record<string, string> = { [OVF_NS]: 'ovf', [RASD_NS]: 'rasd', [VSSD_NS]: 'vssd', [XSI_NS]: 'xsi' };

/** the descriptor's text (the root declares the prefixes of ovf-tree.ts; the default namespace is the envelope's) */
export function writeDescriptor(root: OvfNode): string {
  const name = (ns: string, local: string, isAttr: boolean) => (ns === '' || (!isAttr && ns === OVF_NS) ? local : `${PREFIXES[ns]}:${local}`);
  const write = (n: OvfNode, depth: number, rootDecl: string): string => {
    const pad = '  '.repeat(depth);
    const attrs = n.attrs.map((a) => ` ${name(a.ns, a.local, true)}="${xmlEscape(a.value)}"`).join('');
    const tag = name(n.ns, n.local, false);
    if (!n.children.length) return `${pad}<${tag}${rootDecl}${attrs}${n.text ? `>${xmlEscape(n.text)}</${tag}>` : '/>'}`;
    return `${pad}<${tag}${rootDecl}${attrs}>\n${n.children.map((c) => write(c, depth + 1, '')).join('\n')}\n${pad}</${tag}>`;
  };
  const decl = ` xmlns="${OVF_NS}" xmlns:ovf="${OVF_NS}" xmlns:rasd="${RASD_NS}" xmlns:vssd="${VSSD_NS}" xmlns:xsi="${XSI_NS}" ovf:version="1.1.0"`;
  return `<?xml version="1.0" encoding="UTF-8"?>\n${write(root, 0, decl)}\n`;
}

/**
 * An OVA (DSP0243 §5.3): the descriptor first, then its manifest (SHA256 of every file, §5.1), then the disk files in
 * References order.
 */
export function writeOva(baseName: string, descriptor: string, files: { name: string; data: Buffer }[] = []): Buffer {
  const ovf = Buffer.from(descriptor, 'utf8');
  const all = [{ name: `${baseName}.ovf`, data: ovf }, ...files];
  const mf = Buffer.from(all.map((f) => `SHA256(${f.name})= ${createHash('sha256').update(f.data).digest('hex')}\n`).join(''), 'utf8');
  return Buffer.concat([tarEntry(`${baseName}.ovf`, ovf), tarEntry(`${baseName}.mf`, mf), ...files.map((f) => tarEntry(f.name, f.data)), Buffer.alloc(1024)]);
}

function tarEntry(name: string, data: Buffer): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 99), 0, 'utf8');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write(`${Math.floor(Date.now() / 1000).toString(8).padStart(11, '0')}\0`, 136, 'latin1');
  h.write('        ', 148, 'latin1');
  h.write('0', 156, 'latin1');
  h.write('ustar\0', 257, 'latin1');
  h.write('00', 263, 'latin1');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return Buffer.concat([h, data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** a file name for an export: the System's or template's name, made safe */
export function exportBaseName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '').slice(0, 80) || 'export';
}

/** An export as the file a door hands out: the descriptor, or an OVA of it with its manifest and disks (REST and SOAP alike). */
export async function exportFile(out: { envelope: OvfNode; spec: { name: string }; files?: { name: string; path: string }[] }, ova: boolean): Promise<{ fileName: string; mediaType: string; bytes: Buffer }> {
  const descriptor = writeDescriptor(out.envelope);
  const base = exportBaseName(out.spec.name);
  if (!ova) return { fileName: `${base}.ovf`, mediaType: OVF_MEDIA, bytes: Buffer.from(descriptor, 'utf8') };
  const files = [];
  for (const f of out.files ?? []) files.push({ name: f.name, data: await readFile(f.path) });
  return { fileName: `${base}.ova`, mediaType: OVA_MEDIA, bytes: writeOva(base, descriptor, files) };
}

/** runs an export whose disk files go to a private temporary directory, removed afterwards */
export async function withExportDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'cimi-export-'));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
