/**
 * A user's own image made into a root disk Overcast can launch: a root
 * filesystem tarball (packed into ext4 with mkfs.ext4 -d), a raw disk image
 * holding an ext4 filesystem (copied sparsely), or a qcow2 image (converted
 * to raw with qemu-img). The result is an ext4 image file under the image
 * directory, which the block store clones for every root volume launched
 * from it.
 */
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { CommandError, hasCommand, run } from '../../host/exec.js';
import { makeExt4, MIB } from './ext4.js';

export type ImportFormat = 'tar' | 'raw' | 'qcow2';

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** What the file is, from its first bytes: qcow2's magic, a tar header (plain or compressed), else raw. */
export async function detectFormat(file: string): Promise<ImportFormat> {
  const head = await readAt(file, 0, 512);
  if (head.subarray(0, 4).equals(Buffer.from([0x51, 0x46, 0x49, 0xfb]))) return 'qcow2';
  if (head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  // gzip, xz, zstd, bzip2: compressed tarballs (a compressed disk image is not something to launch)
  if (head[0] === 0x1f && head[1] === 0x8b) return 'tar';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'tar';
  if (head.subarray(0, 4).equals(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]))) return 'tar';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'tar';
  return 'raw';
}

/** Whether the file holds an ext4 (or ext2/3) filesystem at its start: the superblock magic 0xEF53. */
export async function holdsExtFilesystem(file: string): Promise<boolean> {
  const magic = await readAt(file, 1024 + 56, 2);
  return magic.length === 2 && magic.readUInt16LE(0) === 0xef53;
}

export interface ImportedDisk {
  file: string;
  format: ImportFormat;
  /** the disk's size (the smallest root volume it fits) */
  bytes: number;
}

/**
 * Makes `source` a launchable ext4 disk in `dir` (named for `name` and the
 * source's content stamp). The same source again: the same file, not rebuilt.
 */
export async function importDisk(source: string, dir: string, name: string): Promise<ImportedDisk> {
  const s = await stat(source).catch(() => undefined);
  if (!s?.isFile()) throw new ImportError(`${source}: no such file`);
  const format = await detectFormat(source);
  const stamp = createHash('sha256').update(`${source}\0${s.size}\0${s.mtimeMs}`).digest('hex').slice(0, 12);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name.replace(/[^A-Za-z0-9._-]/g, '_')}-${stamp}.img`);
  const done = await stat(file).catch(() => undefined);
  if (done) return { file, format, bytes: done.size };
  const partial = `${file}.partial`;
  await rm(partial, { force: true });
  try {
    if (format === 'qcow2') {
      if (!(await hasCommand('qemu-img'))) throw new ImportError('qcow2 images need qemu-img (Debian package qemu-utils)');
      await run('qemu-img', ['convert', '-O', 'raw', source, partial]);
    } else if (format === 'raw') {
      await run('cp', ['--sparse=always', source, partial]);
    } else {
      const tree = await mkdtemp(join(dir, `.${basename(file)}-tree-`));
      try {
        await run('tar', ['-x', '--numeric-owner', '-f', source, '-C', tree]);
        const used = Number((await run('du', ['-s', '-B1', tree])).stdout.split(/\s/)[0] ?? 0);
        // room for what the tree holds, its inodes and journal, and a little to spare (volumes grow it later)
        const bytes = Math.ceil((used * 1.3 + 96 * MIB) / MIB) * MIB;
        await makeExt4(tree, partial, bytes, 'root');
      } finally {
        await rm(tree, { recursive: true, force: true });
      }
    }
    if (!(await holdsExtFilesystem(partial))) {
      throw new ImportError(`${source} (${format}) does not hold an ext4 filesystem at its start (a partitioned disk? import its root partition, or a tarball of its files)`);
    }
    await run('e2fsck', ['-f', '-y', partial]).catch((e: unknown) => {
      // exit 1: errors corrected
      if (!(e instanceof CommandError) || e.code !== 1) throw e;
    });
    await rename(partial, file);
  } finally {
    await rm(partial, { force: true });
  }
  return { file, format, bytes: (await stat(file)).size };
}
