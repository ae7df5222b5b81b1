/**
 * Images imported into the pool. An image file lives outside the pool (on a
 * filesystem without reflink), so it is copied in once, as
 * `<images>/<name>-<key>.img`, and every volume of it is a reflink clone of
 * that copy. The key is the source path with its size and mtime: a rebuilt
 * image gets a new copy, and the copies of its older builds are dropped (the
 * volumes cloned from them keep their blocks).
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { run } from '../../host/exec.js';
import { readJson, syncDir, writeJsonAtomic } from './reflink-records.js';

interface ImportRecord {
  source: string;
  size: number;
  mtimeMs: number;
}

export interface ImageFile {
  /** resolved path of the image outside the pool */
  path: string;
  size: number;
  mtimeMs: number;
  /** bytes it occupies on disk (what the import copy will take) */
  allocatedBytes: number;
}

/** The image file's identity, or undefined when it does not exist. */
export async function statImage(file: string): Promise<ImageFile | undefined> {
  const path = resolve(file);
  try {
    const s = await stat(path);
    if (!s.isFile()) return undefined;
    return { path, size: s.size, mtimeMs: s.mtimeMs, allocatedBytes: s.blocks * 512 };
  } catch {
    return undefined;
  }
}

const importName = (img: ImageFile): string => {
  const key = createHash('sha256').update(`${img.path}\0${img.size}\0${img.mtimeMs}`).digest('hex').slice(0, 16);
  const name = basename(img.path).replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40) || 'image';
  return `${name}-${key}`;
};

/** What separates an imported image's name from the size of a grown copy of it (`<name>.grown-8g.img`). */
const GROWN = '.grown-';

export class ImageImports {
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly dir: string) {}

  /** The path of the image's copy in the pool (copied now if it is not there yet). */
  import(img: ImageFile): Promise<string> {
    const name = importName(img);
    let p = this.pending.get(name);
    if (!p) {
      p = this.copyIn(img, name).finally(() => this.pending.delete(name));
      this.pending.set(name, p);
    }
    return p;
  }

  /**
   * The image's copy grown to `sizeGiB` (its ext4 checked and resized once), kept beside the copy:
   * a root volume of that size is then one reflink clone, without an e2fsck and a resize2fs per launch.
   * `grow` turns a clone of the copy (at the path given) into the grown one.
   */
  grown(copy: string, sizeGiB: number, grow: (file: string) => Promise<void>): Promise<string> {
    const target = `${copy.slice(0, -'.img'.length)}${GROWN}${sizeGiB}g.img`;
    let p = this.pending.get(target);
    if (!p) {
      p = (async () => {
        if (await stat(target).then(() => true, () => false)) return target;
        const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
        try {
          await run('cp', ['--reflink=always', copy, tmp]);
          await grow(tmp);
          await rename(tmp, target);
          await syncDir(this.dir);
        } finally {
          await rm(tmp, { force: true });
        }
        return target;
      })().finally(() => this.pending.delete(target));
      this.pending.set(target, p);
    }
    return p;
  }

  /** Whether the image is already in the pool. */
  async has(img: ImageFile): Promise<boolean> {
    try {
      await stat(join(this.dir, `${importName(img)}.img`));
      return true;
    } catch {
      return false;
    }
  }

  private async copyIn(img: ImageFile, name: string): Promise<string> {
    const target = join(this.dir, `${name}.img`);
    if (await this.has(img)) return target;
    const tmp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
    try {
      await run('cp', ['--sparse=always', img.path, tmp]);
      const record: ImportRecord = { source: img.path, size: img.size, mtimeMs: img.mtimeMs };
      await writeJsonAtomic(join(this.dir, `${name}.json`), record);
      await rename(tmp, target);
      await syncDir(this.dir);
    } finally {
      await rm(tmp, { force: true });
    }
    await this.dropOlderBuilds(img.path, name);
    return target;
  }

  private async dropOlderBuilds(source: string, keep: string): Promise<void> {
    for (const n of await readdir(this.dir)) {
      if (!n.endsWith('.json') || n === `${keep}.json`) continue;
      const rec = (await readJson(join(this.dir, n))) as Partial<ImportRecord> | undefined;
      if (rec?.source !== source) continue;
      const stem = n.slice(0, -'.json'.length);
      if (this.pending.has(stem)) continue;
      await rm(join(this.dir, `${stem}.img`), { force: true });
      await rm(join(this.dir, n), { force: true });
      for (const g of await readdir(this.dir)) if (g.startsWith(`${stem}${GROWN}`)) await rm(join(this.dir, g), { force: true });
    }
  }
}
