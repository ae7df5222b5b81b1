/**
 * The reflink block store: volumes as files on an XFS pool with reflink
 * (reflink-pool.ts), attached as loop devices (loop-devices.ts). Snapshots
 * live in a content-addressed chunk store inside the pool (chunk-store.ts:
 * fixed blocks, fingerprinted, each stored once, a snapshot a manifest); an
 * incremental snapshot reads only the blocks FIEMAP says changed since the
 * volume's previous one, and a volume from a snapshot is its blocks reflinked
 * out of the packs (no copy). Images are imported into the pool once and
 * cloned from there (reflink-images.ts).
 *
 * Layout, under the pool's mount point:
 *   volumes/<volumeId>.img   + .json (size, source, the instance attached to)
 *   chunks/…                 snapshots (see chunk-store.ts)
 *   snapshots/<snapId>.img   + .json (volume, size): snapshots of earlier versions, plain reflink copies
 *   images/<name>-<key>.img  + .json (the image file it was copied from)
 *
 * resizeVolume grows the file (and an attached loop device at once); the
 * filesystem inside is left to the user, attached or not, as on EC2.
 *
 * The books are the files themselves and the kernel's loop devices: a
 * restarted server finds every volume, snapshot and attachment as they are.
 * close() leaves all of it in place (instances keep running); destroy()
 * takes the pool down (for `overcast host reset` and tests).
 */
import { constants } from 'node:fs';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Emitter, type ProbeResult } from '../../compute/driver.js';
import { CommandError, hasCommand, isRoot, run } from '../../host/exec.js';
import {
  BlockStoreError,
  type BlockStore,
  type SnapshotInfo,
  type AttachOptions,
  type SnapshotOptions,
  type VolumeEvent,
  type VolumeInfo,
  type VolumeSource,
  type VolumeSpec,
} from '../block-store.js';
import { endHashThreads } from './block-hasher.js';
import { ChunkStore, type ChunkStoreOptions, type Manifest, type Pending, type SnapshotStats } from './chunk-store.js';
import { growExt4, holdsExt4 } from './ext4-grow.js';
import { KeyedLock } from './keyed-lock.js';
import { attachLoopDevice, detachLoopDevice, listLoopDevices, loopDevicesInUse, loopDevicesOf } from './loop-devices.js';
import { ImageImports, statImage } from './reflink-images.js';
import { ReflinkPool, type PoolPaths } from './reflink-pool.js';
import {
  asSnapshotRecord,
  asVolumeRecord,
  completeEntries,
  readJson,
  removeEntry,
  sourceKey,
  exists,
  fsyncPath,
  syncDir,
  writeJsonAtomic,
  type SnapshotRecord,
  type VolumeRecord,
} from './reflink-records.js';

export { poolLeftovers } from './reflink-pool.js';

export interface ReflinkBlockStoreOptions {
  /** the pool directory (e.g. <dataDir>/pool): pool.xfs and its mount point mnt/ */
  dir: string;
  /** the pool file's size (sparse: only what volumes hold uses disk) */
  sizeGiB: number;
  /** how often attached volumes are checked for a lost loop device (default 30 s; 0: only on list/attach) */
  checkIntervalMs?: number;
  /** the snapshot chunk store's block size and the like (defaults for production; tests make blocks small) */
  chunks?: ChunkStoreOptions;
}

const GiB = 1024 ** 3;
/** ids become file names */
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const TOOLS: readonly [string, string][] = [
  ['mkfs.xfs', 'xfsprogs'],
  ['losetup', 'mount'],
  ['mount', 'mount'],
  ['umount', 'mount'],
  ['cp', 'coreutils'],
  ['xfs_io', 'xfsprogs'],
  ['e2fsck', 'e2fsprogs'],
  ['resize2fs', 'e2fsprogs'],
  ['mkfs.ext4', 'e2fsprogs'],
];

export class ReflinkBlockStore implements BlockStore {
  readonly name = 'reflink';
  private readonly pool: ReflinkPool;
  private readonly lock = new KeyedLock();
  private readonly emitter = new Emitter<VolumeEvent>();
  readonly events = this.emitter.subscribe;
  private imports: ImageImports | undefined;
  private chunkStore: ChunkStore | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** the chunk store settling (see settleSoon), and whether to go again after */
  private settling: Promise<void> | undefined;
  private settleAgain = false;

  constructor(private readonly opts: ReflinkBlockStoreOptions) {
    this.pool = new ReflinkPool(opts.dir, opts.sizeGiB);
  }

  async probe(): Promise<ProbeResult> {
    if (!isRoot()) return { ok: false, reason: 'needs root (loop devices and mounts)' };
    for (const [tool, pkg] of TOOLS) {
      if (!(await hasCommand(tool))) return { ok: false, reason: `${tool} not installed (Debian package ${pkg})` };
    }
    const filesystems = await readFile('/proc/filesystems', 'utf8').catch(() => '');
    if (!filesystems.split('\n').some((l) => l.trim().split(/\s+/).pop() === 'xfs')) {
      return { ok: false, reason: 'the kernel has no xfs filesystem (not in /proc/filesystems; try modprobe xfs)' };
    }
    try {
      await stat('/dev/loop-control');
    } catch {
      return { ok: false, reason: 'no loop device support (/dev/loop-control is missing; try modprobe loop)' };
    }
    return { ok: true };
  }

  async createVolume(spec: VolumeSpec): Promise<VolumeInfo> {
    const { volumeId, sizeGiB, source } = spec;
    checkId(volumeId);
    const keys = [`vol:${volumeId}`];
    if (source.kind === 'snapshot') keys.push(`snap:${source.snapshotId}`);
    return this.lock.with(keys, () =>
      this.guard(volumeId, async () => {
        const p = await this.paths();
        const have = await this.volumeRecord(p, volumeId);
        if (have) {
          if (have.sizeGiB === sizeGiB && sourceKey(have.source) === sourceKey(source)) return this.info(have, await listLoopDevices(), p);
          throw new BlockStoreError('conflict', volumeId, `volume ${volumeId} exists with other properties (${have.sizeGiB} GiB from ${describe(have.source)})`);
        }
        if (!Number.isInteger(sizeGiB) || sizeGiB < 1) throw new BlockStoreError('invalid', volumeId, `size ${sizeGiB} GiB (at least 1, whole GiB)`);
        const bytes = sizeGiB * GiB;
        const file = join(p.volumes, `${volumeId}.img`);
        const partial = `${file}.partial`;
        await rm(partial, { force: true });
        try {
          if (source.kind === 'empty') {
            await this.room(0, volumeId);
            await createSparse(partial, bytes);
          } else if (source.kind === 'image') {
            if (source.file === undefined) throw new BlockStoreError('not-found', source.imageId, `image ${source.imageId} (${source.deviceName}) has no disk file on this host`);
            const img = await statImage(source.file);
            if (!img) throw new BlockStoreError('not-found', source.imageId, `image ${source.imageId}: no file ${source.file}`);
            if (img.size > bytes) throw new BlockStoreError('invalid', volumeId, `${sizeGiB} GiB is smaller than image ${source.imageId} (${(img.size / GiB).toFixed(2)} GiB)`);
            const imports = (this.imports ??= new ImageImports(p.images));
            await this.room((await imports.has(img)) ? 0 : img.allocatedBytes, volumeId);
            const copy = await imports.import(img);
            await this.room(0, volumeId);
            const grown = await imports.grown(copy, sizeGiB, async (f) => {
              await grow(f, bytes);
              await growExt4(f);
            });
            await run('cp', ['--reflink=always', grown, partial]);
          } else {
            const cs = await this.chunks(p);
            const m = ID.test(source.snapshotId) ? await cs.manifest(source.snapshotId) : undefined;
            const snap = m ?? (await this.snapshotRecord(p, source.snapshotId));
            if (!snap) throw new BlockStoreError('not-found', source.snapshotId, `no snapshot ${source.snapshotId}`);
            if (sizeGiB < snap.sizeGiB) throw new BlockStoreError('invalid', volumeId, `${sizeGiB} GiB is smaller than snapshot ${source.snapshotId} (${snap.sizeGiB} GiB)`);
            await this.room(0, volumeId);
            if (m) {
              await createSparse(partial, m.sizeGiB * GiB);
              await cs.restore(m, partial);
            } else {
              await run('cp', ['--reflink=always', join(p.snapshots, `${source.snapshotId}.img`), partial]);
            }
            if (sizeGiB > snap.sizeGiB) {
              await grow(partial, bytes);
              // a filesystem that does not check clean is left as it is: the volume is grown, its filesystem not
              if (await holdsExt4(partial)) await growExt4(partial).catch(() => undefined);
            }
          }
          const rec: VolumeRecord = { volumeId, sizeGiB, source };
          await writeJsonAtomic(join(p.volumes, `${volumeId}.json`), rec);
          await rename(partial, file);
          await syncDir(p.volumes);
          return { volumeId, sizeGiB, source };
        } finally {
          await rm(partial, { force: true });
        }
      }),
    );
  }

  async deleteVolume(volumeId: string): Promise<void> {
    if (!ID.test(volumeId)) return;
    await this.lock.with([`vol:${volumeId}`, 'chunks'], () =>
      this.guard(volumeId, async () => {
        if (!(await this.pool.exists())) return;
        const p = await this.paths();
        const rec = await this.volumeRecord(p, volumeId);
        if (!rec) {
          await removeEntry(p.volumes, volumeId);
          await (await this.chunks(p)).dropVolume(volumeId);
          return;
        }
        const file = join(p.volumes, `${volumeId}.img`);
        let devs = await loopDevicesOf(file);
        if (devs.length > 0 && rec.instanceId !== undefined) {
          throw new BlockStoreError('in-use', volumeId, `volume ${volumeId} is attached to ${rec.instanceId} as ${devs[0]}`);
        }
        // a loop device the books do not hold: the leftover of a detach that did not finish
        for (const d of devs) await detachLoopDevice(d);
        devs = await loopDevicesOf(file);
        if (devs.length > 0) throw new BlockStoreError('in-use', volumeId, `volume ${volumeId} is still held open as ${devs.join(', ')}`);
        await removeEntry(p.volumes, volumeId);
        // its baseline (the clone its next snapshot would have been compared with), and the blocks only that held
        await (await this.chunks(p)).dropVolume(volumeId);
      }),
    );
  }

  async attach(volumeId: string, instanceId: string, opts: AttachOptions = {}): Promise<string> {
    if (!ID.test(volumeId)) throw new BlockStoreError('not-found', volumeId, `no volume ${volumeId}`);
    return this.lock.with([`vol:${volumeId}`], () =>
      this.guard(volumeId, async () => {
        const p = await this.paths();
        let rec = await this.volumeRecord(p, volumeId);
        if (!rec) throw new BlockStoreError('not-found', volumeId, `no volume ${volumeId}`);
        const file = join(p.volumes, `${volumeId}.img`);
        const devs = await loopDevicesOf(file);
        const sidecar = join(p.volumes, `${volumeId}.json`);
        if (devs[0] !== undefined) {
          const dev = devs[0];
          if (rec.instanceId !== undefined && rec.instanceId !== instanceId) {
            if (rec.sharedWith?.includes(instanceId)) {
              if (rec.devicePath !== dev) await writeJsonAtomic(sidecar, { ...rec, devicePath: dev });
              return dev;
            }
            if (!opts.shared) throw new BlockStoreError('in-use', volumeId, `volume ${volumeId} is attached to ${rec.instanceId} as ${dev}`);
            // a shared attach (Multi-Attach): the same loop device, one more holder
            await writeJsonAtomic(sidecar, { ...rec, devicePath: dev, sharedWith: [...(rec.sharedWith ?? []), instanceId] });
            return dev;
          }
          // attached (or set up by an attach, or left by a detach, that did not finish): ours
          if (rec.instanceId !== instanceId || rec.devicePath !== dev) await writeJsonAtomic(sidecar, { ...rec, instanceId, devicePath: dev });
          return dev;
        }
        if (rec.devicePath !== undefined) rec = await this.lost(p, rec);
        await writeJsonAtomic(sidecar, { ...withoutAttachment(rec), instanceId });
        const dev = await attachLoopDevice(file, { directIo: true });
        await writeJsonAtomic(sidecar, { ...withoutAttachment(rec), instanceId, devicePath: dev });
        return dev;
      }),
    );
  }

  async detach(volumeId: string, instanceId?: string): Promise<void> {
    if (!ID.test(volumeId)) return;
    await this.lock.with([`vol:${volumeId}`], () =>
      this.guard(volumeId, async () => {
        if (!(await this.pool.exists())) return;
        const p = await this.paths();
        const rec = await this.volumeRecord(p, volumeId);
        if (!rec) return;
        if (instanceId !== undefined && rec.instanceId !== undefined) {
          const holders = [rec.instanceId, ...(rec.sharedWith ?? [])];
          if (!holders.includes(instanceId)) return; // not this instance's: nothing to let go
          const rest = holders.filter((h) => h !== instanceId);
          if (rest.length > 0) {
            // another instance still holds the device: only the books change
            const { sharedWith: _s, ...base } = rec;
            await writeJsonAtomic(join(p.volumes, `${volumeId}.json`), { ...base, instanceId: rest[0], ...(rest.length > 1 ? { sharedWith: rest.slice(1) } : {}) });
            return;
          }
        }
        // the books first: a crash after leaves a loop device no instance holds, which the next detach, attach or delete takes care of
        if (rec.instanceId !== undefined || rec.devicePath !== undefined) await writeJsonAtomic(join(p.volumes, `${volumeId}.json`), withoutAttachment(rec));
        for (const d of await loopDevicesOf(join(p.volumes, `${volumeId}.img`))) await detachLoopDevice(d);
      }),
    );
  }

  async createSnapshot(snapshotId: string, volumeId: string, opts: SnapshotOptions = {}): Promise<SnapshotInfo> {
    return this.withSnapshot(snapshotId, volumeId, async (p, cs, have) => {
      if (have) {
        opts.onProgress?.(1);
        return have;
      }
      const pending = await this.point(p, cs, snapshotId, volumeId);
      await this.opts.chunks?.hook?.('cloned');
      const m = await cs.build(pending, opts.onProgress);
      await cs.promote(snapshotId);
      opts.onProgress?.(1);
      this.settleSoon();
      return manifestInfo(m);
    });
  }

  async snapshotPoint(snapshotId: string, volumeId: string): Promise<void> {
    return this.withSnapshot(snapshotId, volumeId, async (p, cs, have) => {
      if (!have) await this.point(p, cs, snapshotId, volumeId);
    });
  }

  /** Runs fn under the volume's, the snapshot's and the chunk store's locks, with the snapshot if it exists (of that volume, else conflict). */
  private withSnapshot<T>(snapshotId: string, volumeId: string, fn: (p: PoolPaths, cs: ChunkStore, have: SnapshotInfo | undefined) => Promise<T>): Promise<T> {
    checkId(snapshotId);
    return this.lock.with([`vol:${volumeId}`, `snap:${snapshotId}`, 'chunks'], () =>
      this.guard(snapshotId, async () => {
        const p = await this.paths();
        const cs = await this.chunks(p);
        const have = await this.snapshotInfo(p, snapshotId);
        if (have && have.volumeId !== volumeId) throw new BlockStoreError('conflict', snapshotId, `snapshot ${snapshotId} is of ${have.volumeId}`);
        return fn(p, cs, have);
      }),
    );
  }

  /** The snapshot's point in time: the clone a call that did not finish took, else one taken now. */
  private async point(p: PoolPaths, cs: ChunkStore, snapshotId: string, volumeId: string): Promise<Pending> {
    if (!ID.test(volumeId)) throw new BlockStoreError('not-found', volumeId, `no volume ${volumeId}`);
    const src = join(p.volumes, `${volumeId}.img`);
    const [vol, pending] = await Promise.all([this.volumeRecord(p, volumeId), cs.pending(snapshotId)]);
    if (!vol) throw new BlockStoreError('not-found', volumeId, `no volume ${volumeId}`);
    // the loop devices to flush below: the attachment's, as the books say and the kernel confirms
    const devs = await loopDevicesInUse(src, { attached: vol.instanceId !== undefined, devicePath: vol.devicePath });
    await this.room(0, snapshotId);
    // what the snapshot compares with, read meanwhile
    cs.prepare(volumeId);
    if (pending?.volumeId === volumeId) return pending;
    // what was written through the loop device, down to the file (crash-consistent, not quiesced):
    // a filesystem mounted on it (the machine's root on the host, or one the guest mounted in its own
    // namespace) keeps written files in its own cache, which only a sync of every filesystem reaches
    if (devs.length > 0) await run('sync', []);
    // each device down to the file, and the file: together (each is a flush through the pool's stack)
    await Promise.all([...devs.map(fsyncPath), fsyncPath(src)]);
    return cs.clone(snapshotId, volumeId, vol.sizeGiB, src);
  }

  async resizeVolume(volumeId: string, sizeGiB: number): Promise<VolumeInfo> {
    if (!ID.test(volumeId)) throw new BlockStoreError('not-found', volumeId, `no volume ${volumeId}`);
    return this.lock.with([`vol:${volumeId}`], () =>
      this.guard(volumeId, async () => {
        const p = await this.paths();
        let rec = await this.volumeRecord(p, volumeId);
        if (!rec) throw new BlockStoreError('not-found', volumeId, `no volume ${volumeId}`);
        if (!Number.isInteger(sizeGiB) || sizeGiB < rec.sizeGiB) {
          throw new BlockStoreError('invalid', volumeId, `volume ${volumeId} is ${rec.sizeGiB} GiB: it can only grow (asked ${sizeGiB})`);
        }
        const file = join(p.volumes, `${volumeId}.img`);
        if (sizeGiB > rec.sizeGiB) {
          await this.room(0, volumeId);
          // the file first: a crash before the books leaves a longer file, grown again (a no-op) by the retry
          await grow(file, sizeGiB * GiB);
          rec = { ...rec, sizeGiB };
          await writeJsonAtomic(join(p.volumes, `${volumeId}.json`), rec);
        }
        // every time (a retry after a crash included): the device takes the file's size now
        for (const dev of await loopDevicesOf(file)) await run('losetup', ['-c', dev]);
        return this.info(rec, await listLoopDevices(), p);
      }),
    );
  }

  async copySnapshot(snapshotId: string, sourceSnapshotId: string): Promise<SnapshotInfo> {
    checkId(snapshotId);
    const snaps = [...new Set([snapshotId, sourceSnapshotId])].sort().map((s) => `snap:${s}`);
    return this.lock.with([...snaps, 'chunks'], () =>
      this.guard(snapshotId, async () => {
        const p = await this.paths();
        const cs = await this.chunks(p);
        const src = ID.test(sourceSnapshotId) ? await this.snapshotInfo(p, sourceSnapshotId) : undefined;
        const have = await this.snapshotInfo(p, snapshotId);
        if (have) {
          if (src && have.volumeId === src.volumeId && have.sizeGiB === src.sizeGiB) return have;
          throw new BlockStoreError('conflict', snapshotId, `snapshot ${snapshotId} exists and is not a copy of ${sourceSnapshotId}`);
        }
        if (!src) throw new BlockStoreError('not-found', sourceSnapshotId, `no snapshot ${sourceSnapshotId}`);
        const m = await cs.manifest(sourceSnapshotId);
        if (m) {
          const copy = await cs.copy(snapshotId, m);
          this.settleSoon();
          return manifestInfo(copy);
        }
        // a snapshot of an earlier version: a reflink copy of its file
        const file = join(p.snapshots, `${snapshotId}.img`);
        const partial = `${file}.partial`;
        try {
          await run('cp', ['--reflink=always', join(p.snapshots, `${sourceSnapshotId}.img`), partial]);
          const rec: SnapshotRecord = { snapshotId, volumeId: src.volumeId, sizeGiB: src.sizeGiB };
          await writeJsonAtomic(join(p.snapshots, `${snapshotId}.json`), rec);
          await rename(partial, file);
          await syncDir(p.snapshots);
          return { ...rec, storedBytes: 0, dataBytes: 0 };
        } finally {
          await rm(partial, { force: true });
        }
      }),
    );
  }

  async deleteSnapshot(snapshotId: string): Promise<void> {
    if (!ID.test(snapshotId)) return;
    await this.lock.with([`snap:${snapshotId}`, 'chunks'], () =>
      this.guard(snapshotId, async () => {
        if (!(await this.pool.exists())) return;
        const p = await this.paths();
        await (await this.chunks(p)).remove(snapshotId);
        await removeEntry(p.snapshots, snapshotId);
      }),
    );
  }

  async listVolumes(): Promise<VolumeInfo[]> {
    return this.guard('', async () => {
      if (!(await this.pool.exists())) return [];
      const p = await this.paths();
      await this.checkLost();
      const loops = await listLoopDevices();
      const out: VolumeInfo[] = [];
      for (const id of await completeEntries(p.volumes)) {
        const rec = await this.volumeRecord(p, id);
        if (rec) out.push(this.info(rec, loops, p));
      }
      return out;
    });
  }

  async listSnapshots(): Promise<SnapshotInfo[]> {
    return this.guard('', async () => {
      if (!(await this.pool.exists())) return [];
      const p = await this.paths();
      const cs = await this.chunks(p);
      const out: SnapshotInfo[] = [];
      const ids = new Set([...(await cs.snapshotIds()), ...(await completeEntries(p.snapshots))]);
      for (const id of [...ids].sort()) {
        const info = await this.snapshotInfo(p, id);
        if (info) out.push(info);
      }
      return out;
    });
  }

  /** Releases timers and the idle hashing threads (after the settling under way); the pool, volumes and attachments stay (instances keep running). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.settled();
    await endHashThreads();
  }

  /**
   * Settles the chunk store in the background: the blocks incremental snapshots stored unread get their
   * fingerprints, and those found stored before (or all zeros) are freed (ChunkStore.planSettle). Each step
   * takes the locks a snapshot's own steps do, so snapshots, copies, deletions and restores go on between.
   */
  private settleSoon(): void {
    if (this.closed) return;
    if (this.settling) {
      this.settleAgain = true;
      return;
    }
    this.settleAgain = false;
    this.settling = this.settle()
      .catch((e: unknown) => console.warn(`reflink block store: settling the snapshot store failed (tried again after the next snapshot): ${e instanceof Error ? e.message : String(e)}`))
      .finally(() => {
        this.settling = undefined;
        if (this.settleAgain) this.settleSoon();
      });
  }

  private async settle(): Promise<void> {
    if (!(await this.pool.exists())) return;
    const cs = await this.chunks(await this.paths());
    // a store closing stops a plan between two runs of blocks (what it wrote goes at the next open)
    const plan = await this.lock.with(['chunks'], () => cs.planSettle(() => this.closed));
    if (!plan) return;
    for (const file of plan.files) {
      const snap = cs.snapshotOf(file);
      await this.lock.with(snap === undefined ? ['chunks'] : [`snap:${snap}`, 'chunks'], () => cs.applySettle(plan, file));
    }
    await this.lock.with(['chunks'], () => cs.finishSettle(plan));
    // what was stored unread meanwhile (or left for a fresher plan)
    if (cs.unsettledWork && !this.closed) this.settleAgain = true;
  }

  /** Resolves once no settling is under way or due (tests, the bench, close()). */
  async settled(): Promise<void> {
    while (this.settling) await this.settling;
  }

  /** Takes the pool down: every loop device of a file in it detached, unmounted, its own loop device detached. Files stay. */
  async destroy(): Promise<void> {
    await this.close();
    await this.pool.destroy();
  }

  /** What the last snapshot taken by this store did, block by block (tests and the bench). */
  get lastSnapshotStats(): SnapshotStats | undefined {
    return this.chunkStore?.lastStats;
  }

  /** Bytes the snapshot packs take on disk once settled (tests and the bench). */
  async packBytes(): Promise<number> {
    await this.settled();
    return (await this.chunks(await this.paths())).packBytes();
  }

  /** The pool's space in bytes (for tests and host status). */
  space(): Promise<{ freeBytes: number; totalBytes: number; usedBytes: number }> {
    return this.pool.space();
  }

  /**
   * Every volume whose loop device is recorded but gone from the host: its
   * attachment is dropped from the books and reported as lost.
   */
  async checkLost(): Promise<void> {
    if (!(await this.pool.exists())) return;
    const p = await this.paths();
    const loops = await listLoopDevices();
    for (const id of await completeEntries(p.volumes)) {
      const rec = await this.volumeRecord(p, id);
      if (rec?.devicePath === undefined) continue;
      const file = join(p.volumes, `${id}.img`);
      if (loops.some((d) => d.backFile === file && !d.deleted)) continue;
      await this.lock.with([`vol:${id}`], async () => {
        const again = await this.volumeRecord(p, id);
        if (again?.devicePath !== undefined && (await loopDevicesOf(file)).length === 0) await this.lost(p, again);
      });
    }
  }

  private async lost(p: PoolPaths, rec: VolumeRecord): Promise<VolumeRecord> {
    const rest = withoutAttachment(rec);
    await writeJsonAtomic(join(p.volumes, `${rec.volumeId}.json`), rest);
    for (const instanceId of [...(rec.instanceId !== undefined ? [rec.instanceId] : []), ...(rec.sharedWith ?? [])]) this.emitter.emit({ volumeId: rec.volumeId, instanceId, kind: 'lost' });
    return rest;
  }

  private info(rec: VolumeRecord, loops: Awaited<ReturnType<typeof listLoopDevices>>, p: PoolPaths): VolumeInfo {
    const v: VolumeInfo = { volumeId: rec.volumeId, sizeGiB: rec.sizeGiB, source: rec.source };
    const file = join(p.volumes, `${rec.volumeId}.img`);
    const dev = loops.find((d) => d.backFile === file && !d.deleted);
    if (dev && rec.instanceId !== undefined) v.attachment = { instanceId: rec.instanceId, devicePath: dev.name, ...(rec.sharedWith?.length ? { sharedWith: [...rec.sharedWith] } : {}) };
    return v;
  }

  private async paths(): Promise<PoolPaths> {
    if (this.closed) throw new BlockStoreError('failed', '', 'the reflink block store is closed');
    const p = await this.pool.ensure();
    if (!this.timer && this.opts.checkIntervalMs !== 0) {
      this.timer = setInterval(() => void this.checkLost().catch(() => undefined), this.opts.checkIntervalMs ?? 30_000);
      this.timer.unref();
    }
    return p;
  }

  private async chunks(p: PoolPaths): Promise<ChunkStore> {
    const root = join(p.mnt, 'chunks');
    if (this.chunkStore?.root !== root) {
      const cs = (this.chunkStore = new ChunkStore(root, this.opts.chunks));
      // blocks a store before this one stored unread and did not settle: settled once it is open
      void cs.open().then(
        () => cs.unsettledWork && this.settleSoon(),
        () => undefined, // the caller below sees the failure
      );
    }
    await this.chunkStore.open();
    return this.chunkStore;
  }

  /** A snapshot from its manifest, or one of an earlier version (a plain copy). */
  private async snapshotInfo(p: PoolPaths, id: string): Promise<SnapshotInfo | undefined> {
    if (!ID.test(id)) return undefined;
    const m = await (await this.chunks(p)).manifest(id);
    if (m) return manifestInfo(m);
    const rec = await this.snapshotRecord(p, id);
    return rec ? { ...rec, storedBytes: 0, dataBytes: 0 } : undefined;
  }

  private async volumeRecord(p: PoolPaths, id: string): Promise<VolumeRecord | undefined> {
    if (!(await exists(join(p.volumes, `${id}.img`)))) return undefined;
    const rec = asVolumeRecord(await readJson(join(p.volumes, `${id}.json`)));
    return rec?.volumeId === id ? rec : undefined;
  }

  private async snapshotRecord(p: PoolPaths, id: string): Promise<SnapshotRecord | undefined> {
    if (!ID.test(id) || !(await exists(join(p.snapshots, `${id}.img`)))) return undefined;
    const rec = asSnapshotRecord(await readJson(join(p.snapshots, `${id}.json`)));
    return rec?.snapshotId === id ? rec : undefined;
  }

  /** Refuses with no-space unless the pool has `bytes` free beyond its reserve. */
  private async room(bytes: number, subject: string): Promise<void> {
    const { freeBytes, totalBytes } = await this.pool.space();
    const reserve = Math.min(GiB, Math.max(32 * 1024 ** 2, totalBytes / 50));
    if (freeBytes < bytes + reserve) {
      throw new BlockStoreError('no-space', subject, `the pool has ${mib(freeBytes)} free; ${mib(bytes)} needed beyond its reserve of ${mib(reserve)}`);
    }
  }

  /** Runs an operation, turning host failures into BlockStoreErrors. */
  private async guard<T>(subject: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof BlockStoreError) throw e;
      const msg = e instanceof Error ? e.message : String(e);
      const noSpace = (e as NodeJS.ErrnoException).code === 'ENOSPC' || (e instanceof CommandError && /no space left/i.test(e.stderr));
      throw new BlockStoreError(noSpace ? 'no-space' : 'failed', subject, msg);
    }
  }
}

const manifestInfo = (m: Manifest): SnapshotInfo => ({
  snapshotId: m.snapshotId,
  volumeId: m.volumeId,
  sizeGiB: m.sizeGiB,
  storedBytes: m.storedBytes,
  dataBytes: m.dataBytes,
});

function checkId(id: string): void {
  if (!ID.test(id)) throw new BlockStoreError('invalid', id, `'${id}' is not a volume or snapshot id`);
}

const describe = (s: VolumeSource): string => (s.kind === 'empty' ? 'nothing' : s.kind === 'image' ? `image ${s.imageId} ${s.deviceName}` : `snapshot ${s.snapshotId}`);
const mib = (b: number): string => `${Math.floor(b / 1024 ** 2)} MiB`;

function withoutAttachment(rec: VolumeRecord): VolumeRecord {
  const { instanceId: _i, devicePath: _d, sharedWith: _s, ...rest } = rec;
  return rest;
}


async function createSparse(file: string, bytes: number): Promise<void> {
  const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC);
  try {
    await fh.truncate(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Grows a file to `bytes` (sparse). */
async function grow(file: string, bytes: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    if ((await fh.stat()).size < bytes) await fh.truncate(bytes);
  } finally {
    await fh.close();
  }
}

