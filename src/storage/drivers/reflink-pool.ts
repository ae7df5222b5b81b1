/**
 * The reflink pool: a sparse file `<dir>/pool.xfs` formatted XFS with reflink,
 * attached as a loop device and mounted at `<dir>/mnt`. Set up on first use and
 * found again as it is (mounted, or attached but not mounted, or only the file
 * after a reboot), so a restarted server — or a second process, serialized by
 * `<dir>/pool.lock` — does each step at most once.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, realpath, rm, stat, statfs } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { run } from '../../host/exec.js';
import { attachLoopDevice, detachLoopDevice, listLoopDevices, loopDevicesOf } from './loop-devices.js';
import { listMounts, mount, mountAt, unmount } from '../../host/mounts.js';
import { processAlive } from '../../host/processes.js';

const GiB = 1024 ** 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PoolPaths {
  /** the pool directory, resolved */
  dir: string;
  file: string;
  mnt: string;
  volumes: string;
  snapshots: string;
  images: string;
}

export class PoolError extends Error {
  override name = 'PoolError';
}

export class ReflinkPool {
  private ready: Promise<PoolPaths> | undefined;
  private readonly dir: string;

  constructor(
    dir: string,
    private readonly sizeGiB: number,
  ) {
    this.dir = resolve(dir);
  }

  /** Whether the pool was ever set up here (its file exists): listing a pool that never was needs no pool. */
  async exists(): Promise<boolean> {
    try {
      await stat(join(this.dir, 'pool.xfs'));
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The pool, mounted (set up or found again). Checked at each call (one read
   * of mountinfo): a pool unmounted under a running server is mounted again
   * rather than written through to the directory beneath.
   */
  async ensure(): Promise<PoolPaths> {
    if (this.ready) {
      const p = await this.ready;
      if ((await mountAt(p.mnt))?.fsType === 'xfs') return p;
      if (this.ready) this.ready = undefined;
    }
    this.ready ??= this.setUp().catch((e: unknown) => {
      this.ready = undefined;
      throw e;
    });
    return this.ready;
  }

  /** Bytes free for new data in the mounted pool, and its size. */
  async space(): Promise<{ freeBytes: number; totalBytes: number; usedBytes: number }> {
    const { mnt } = await this.ensure();
    const s = await statfs(mnt);
    return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize };
  }

  /**
   * Detaches every loop device backed by a file in the pool directory, unmounts
   * the pool and detaches its own loop device. The files stay.
   */
  async destroy(): Promise<void> {
    this.ready = undefined;
    let dir: string;
    try {
      dir = await realpath(this.dir);
    } catch {
      return; // never set up
    }
    const file = join(dir, 'pool.xfs');
    for (const d of await listLoopDevices()) {
      if (d.backFile !== file && under(d.backFile, dir)) await detachLoopDevice(d.name);
    }
    const mounts = (await listMounts()).filter((m) => m.target === dir || under(m.target, dir)).map((m) => m.target);
    // deepest first, each as many times as it is mounted
    for (const target of mounts.sort((a, b) => b.length - a.length)) await unmountRetrying(target);
    for (const dev of await loopDevicesOf(file)) await detachLoopDevice(dev);
    // a detach while the kernel still releases the filesystem is deferred: wait (bounded) until it is done
    for (let i = 0; i < 100 && (await loopDevicesOf(file)).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  }

  private async setUp(): Promise<PoolPaths> {
    await mkdir(join(this.dir, 'mnt'), { recursive: true });
    const dir = await realpath(this.dir);
    const paths: PoolPaths = {
      dir,
      file: join(dir, 'pool.xfs'),
      mnt: join(dir, 'mnt'),
      volumes: join(dir, 'mnt', 'volumes'),
      snapshots: join(dir, 'mnt', 'snapshots'),
      images: join(dir, 'mnt', 'images'),
    };
    if (!(await this.mounted(paths))) {
      await withLockFile(join(dir, 'pool.lock'), async () => {
        if (await this.mounted(paths)) return;
        await createSparse(paths.file, this.sizeGiB * GiB);
        if (!(await holdsXfs(paths.file))) await run('mkfs.xfs', ['-q', '-f', '-m', 'reflink=1', paths.file]);
        const dev = (await loopDevicesOf(paths.file))[0] ?? (await attachLoopDevice(paths.file));
        await mount(dev, paths.mnt, 'xfs');
      });
    }
    for (const d of [paths.volumes, paths.snapshots, paths.images]) await mkdir(d, { recursive: true });
    return paths;
  }

  /** Whether the pool is mounted at its mount point; something else mounted there is an error. */
  private async mounted(p: PoolPaths): Promise<boolean> {
    const m = await mountAt(p.mnt);
    if (!m) return false;
    const devs = await loopDevicesOf(p.file);
    if (m.fsType === 'xfs' && devs.includes(m.source)) return true;
    throw new PoolError(`${p.mnt} has ${m.source} (${m.fsType}) mounted, not the pool ${p.file}`);
  }
}

/**
 * What of a pool in `dir` is still set up on the host: loop devices backed by a
 * file under it and mounts under it ("loop /dev/loop3 /tmp/x/pool.xfs", "mount /tmp/x/mnt").
 */
export async function poolLeftovers(dir: string): Promise<string[]> {
  const roots = new Set([resolve(dir)]);
  try {
    roots.add(await realpath(dir));
  } catch {
    // gone: the resolved path is all there is
  }
  const inside = (p: string) => [...roots].some((r) => p === r || under(p, r));
  const out: string[] = [];
  for (const d of await listLoopDevices()) if (inside(d.backFile)) out.push(`loop ${d.name} ${d.backFile}`);
  for (const m of await listMounts()) if (inside(m.target)) out.push(`mount ${m.target}`);
  return out;
}

const under = (p: string, dir: string): boolean => p.startsWith(dir.endsWith(sep) ? dir : dir + sep);

async function createSparse(file: string, bytes: number): Promise<void> {
  let fh;
  try {
    fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw e;
  }
  try {
    await fh.truncate(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Whether `file` starts with an XFS superblock ("XFSB"). */
async function holdsXfs(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(4);
    const { bytesRead } = await fh.read(buf, 0, 4, 0);
    return bytesRead === 4 && buf.toString('latin1') === 'XFSB';
  } finally {
    await fh.close();
  }
}

async function unmountRetrying(target: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await unmount(target);
      return;
    } catch (e) {
      if (i >= 20) throw e;
      await sleep(100);
    }
  }
}

/**
 * Runs `fn` holding an exclusive lock file (created with O_EXCL, holding the
 * owner's pid). A lock whose owner is gone is taken over.
 */
async function withLockFile<T>(lock: string, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const fh = await open(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number((await readFile(lock, 'utf8').catch(() => '')).trim());
      const stale = Number.isInteger(owner) && owner > 0 ? !processAlive(owner) : await olderThan(lock, 10_000);
      if (stale) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new PoolError(`${lock} is held by process ${owner}`);
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    await rm(lock, { force: true });
  }
}

async function olderThan(file: string, ms: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(file)).mtimeMs > ms;
  } catch {
    return false;
  }
}

