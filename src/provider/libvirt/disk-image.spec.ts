import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { convertDisk, inspectDisk } from './disk-image';

/** the checks an OVA's disk file passes before it goes into the pool (issue 17 §1), with the real qemu-img */
describe('OVA disk files (qemu-img)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'disk-image-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const img = (name: string, ...args: string[]) => {
    const f = join(dir, name);
    execFileSync('qemu-img', ['create', '-q', ...args, f]);
    return f;
  };

  it('reads raw, qcow2 and single-file vmdk with their virtual size', async () => {
    const raw = join(dir, 'a.raw');
    writeFileSync(raw, Buffer.alloc(1024 * 1024, 3));
    expect(await inspectDisk(raw, 'a.raw')).toEqual({ format: 'raw', virtualSize: 1024 * 1024 });
    expect(await inspectDisk(img('b.qcow2', '-f', 'qcow2', '-o', 'size=4M'), 'b.qcow2')).toEqual({ format: 'qcow2', virtualSize: 4 * 1024 * 1024 });
    const vmdk = join(dir, 'a.vmdk');
    await convertDisk(raw, 'raw', vmdk, 'vmdk');
    expect(await inspectDisk(vmdk, 'a.vmdk')).toEqual({ format: 'vmdk', virtualSize: 1024 * 1024 });
  });

  it('refuses another format, a backing file and a vmdk whose extent is another file, naming the file', async () => {
    await expect(inspectDisk(img('c.vdi', '-f', 'vdi', '-o', 'size=1M'), 'disk1.vdi')).rejects.toMatchObject({ code: 'OVF.BAD_DISK', message: expect.stringMatching(/disk1\.vdi is in format vdi/) });
    const base = img('base.qcow2', '-f', 'qcow2', '-o', 'size=1M');
    await expect(inspectDisk(img('over.qcow2', '-f', 'qcow2', '-F', 'qcow2', '-b', base), 'over.qcow2')).rejects.toMatchObject({ message: expect.stringMatching(/over\.qcow2 names a backing file/) });
    const flat = img('flat.vmdk', '-f', 'vmdk', '-o', 'size=1M,subformat=monolithicFlat');
    await expect(inspectDisk(flat, 'flat.vmdk')).rejects.toMatchObject({ message: expect.stringMatching(/extents are other files/) });
  });
});
