/**
 * The content-addressed chunk store the reflink pool keeps snapshots in, inside
 * the pool itself (so blocks move by reflink, not by copying):
 *
 *   chunks/pending/<snap>.img + .json   the point-in-time clone of a snapshot being made (and its volume)
 *   chunks/packs/<snap>.pack            the blocks a volume's first snapshot stored, appended (reflinked) one slot each
 *   chunks/packs/<snap>.clone.pack      an incremental's clone (a hard link of it), holding the blocks it
 *                                       stored unread, at their own offsets, until settling moves them out…
 *   chunks/packs/<snap>.<hex>.pack      …into a pack of the snapshot's own (one per settling)
 *   chunks/manifests/<snap>.json        the snapshot: block index → null (zeros) or pack, slot, fingerprint
 *   chunks/baselines/<vol>.json         the manifest of the volume's last snapshot (a hard link while it exists)
 *   chunks/baselines/<vol>.<snap>.img   …and the clone taken for it: the comparison point of the next snapshot
 *   chunks/gc.json                      the packs a deletion is freeing (redone at the next open after a crash)
 *
 * A snapshot exists when its manifest does. Making one: clone the volume (pending), compare the clone's
 * FIEMAP with the baseline's (blocks mapped to the same physical extents are unchanged: their entries are
 * taken from the baseline manifest unread), then write the manifest and make the clone the volume's baseline.
 * The volume's first snapshot (no baseline) reads and fingerprints every other block, and stores those no
 * manifest holds yet (a block whose fingerprint is known counts as held once its bytes compare equal) in its
 * pack, fsynced before the manifest. An incremental reads nothing: its changed blocks stay in its clone, the
 * clone a pack of its own (a second name); settling, after, fingerprints them, finds which are zeros or
 * copies of stored blocks, shares the others into the snapshot's own pack and points the manifests there
 * (planSettle). A crash before the manifest leaves a pending clone (the next call resumes from it, its pack
 * redone) or nothing.
 *
 * Callers serialize every mutation (one at a time per store); restores may run beside them.
 */
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { locations, ManifestFiles, readManifest, UNHASHED, unsettled, type BlockRef, type Manifest } from './chunk-manifest.js';
import { hashRuns, hashRunsHere, idleHashThreads, type HashedRun, type Run } from './block-hasher.js';
import { compareBlocks, fiemap, SAME, ZERO, type Extent } from './fiemap.js';
import { exists, fsyncPath, readJson, syncDir, writeJsonAtomic } from './reflink-records.js';
import { punchRanges, ReflinkFeed, reflinkRanges, type Range } from './xfs-io.js';

export type { Manifest } from './chunk-manifest.js';

const GiB = 1024 ** 3;
/** bytes per read of changed blocks by worker threads */
const READ_BYTES = 8 * 1024 ** 2;
/** …and by this thread (each run's hashing holds the event loop: some 1.5 ms per 2 MiB) */
const READ_BYTES_HERE = 2 * 1024 ** 2;
/**
 * from this much to read on, blocks are read and hashed by worker threads: their start costs some 30 ms
 * on an idle host and several times that on a busy one, about what a second core saves on 256 MiB
 */
const WORKERS_FROM = 256 * 1024 ** 2;
/** …and from this much on when the threads are running already (kept from a snapshot before) */
const KEPT_WORKERS_FROM = 8 * 1024 ** 2;

export interface ChunkStoreOptions {
  /** bytes per block (default 512 KiB; a multiple of 4 KiB dividing 1 GiB) */
  blockSize?: number;
  /** how new blocks get into a pack: shared from the clone (default), or their bytes written */
  packWrite?: 'reflink' | 'copy';
  /** called between the steps of a snapshot (tests: a failure thrown here is a crash at that point) */
  hook?: (step: 'cloned' | 'packed' | 'manifest') => void | Promise<void>;
}

/** What the last snapshot did, block by block. */
export interface SnapshotStats {
  blocks: number;
  /** the same physical extents as the baseline: taken from its manifest unread */
  unchanged: number;
  /** holes in the clone: not read */
  holes: number;
  /** read and fingerprinted */
  read: number;
  /** changed since the baseline: stored unread, fingerprinted when the store settles */
  unread: number;
  /** read and found all zeros */
  zero: number;
  /** read and already in the store (its bytes compared) */
  deduped: number;
  /** read, its fingerprint in the store but not its bytes: stored */
  collided: number;
  /** read and stored */
  stored: number;
  /** which blocks were read or stored unread, in that order (for tests; only kept up to 100,000) */
  changedIndices: number[];
}

export interface Pending {
  snapshotId: string;
  volumeId: string;
  sizeGiB: number;
}

interface Loc {
  pack: string;
  slot: number;
}

/** A volume's baseline: its manifest, its clone, that file's identity and its extents. */
interface BaselineMap {
  manifest: Manifest;
  image: string;
  file: string;
  extents: Extent[];
}

export class ChunkStore {
  readonly blockSize: number;
  readonly packs: string;
  readonly manifests: string;
  readonly pendingDir: string;
  readonly baselines: string;
  private readonly gcFile: string;
  private opened: Promise<void> | undefined;
  /** fingerprint → where a block with it is, over every manifest of this block size; rebuilt after a deletion */
  private index: Map<string, Loc> | undefined;
  /** the manifests read or written last, not parsed again */
  private readonly files = new ManifestFiles();
  /** pending clones' extents read by clone(), by snapshot */
  private readonly cloneMaps = new Map<string, { file: string | undefined; extents: Promise<Extent[]> }>();
  /** baselines being read ahead of a build (prepare), by volume */
  private readonly ahead = new Map<string, Promise<BaselineMap | undefined>>();
  /** a built snapshot's clone extents, by snapshot, until promote() makes the clone its volume's baseline */
  private readonly builtExtents = new Map<string, Extent[]>();
  /**
   * the extents of each volume's baseline as they were read when it was a pending clone, with the
   * baseline's identity once in place: a baseline is never written, so its next snapshot needs no FIEMAP
   */
  private readonly baselineExtents = new Map<string, { image: string; file: string; extents: Extent[] }>();
  lastStats: SnapshotStats | undefined;
  /**
   * the manifest files (snapshots' and baselines') known to hold blocks not fingerprinted yet (UNHASHED),
   * for settle(); undefined until every manifest has been read once (open() does that)
   */
  private unsettled: Set<string> | undefined;
  /** counts collections: a plan's "the same bytes are there" holds only while no slot was freed since */
  private generation = 0;

  constructor(
    readonly root: string,
    private readonly opts: ChunkStoreOptions = {},
  ) {
    this.blockSize = opts.blockSize ?? 512 * 1024;
    if (this.blockSize % 4096 !== 0 || GiB % this.blockSize !== 0) throw new Error(`chunk block size ${this.blockSize}: a multiple of 4 KiB dividing 1 GiB`);
    this.packs = join(root, 'packs');
    this.manifests = join(root, 'manifests');
    this.pendingDir = join(root, 'pending');
    this.baselines = join(root, 'baselines');
    this.gcFile = join(root, 'gc.json');
  }

  /** Makes the directories, finishes a deletion a crash cut short, drops temporary files and unreferenced packs. Once. */
  open(): Promise<void> {
    this.opened ??= this.recover().catch((e: unknown) => {
      this.opened = undefined;
      throw e;
    });
    return this.opened;
  }

  manifest(snapshotId: string): Promise<Manifest | undefined> {
    return this.files.read(join(this.manifests, `${snapshotId}.json`)).then((m) => (m?.snapshotId === snapshotId ? m : undefined));
  }

  /** The ids of every snapshot (sorted). */
  async snapshotIds(): Promise<string[]> {
    return (await names(this.manifests)).filter((n) => n.endsWith('.json')).map((n) => n.slice(0, -'.json'.length)).sort();
  }

  /** The point-in-time clone of an unfinished snapshot, when one was taken. */
  async pending(snapshotId: string): Promise<Pending | undefined> {
    const rec = (await readJson(join(this.pendingDir, `${snapshotId}.json`))) as Partial<Pending> | undefined;
    if (rec?.snapshotId !== snapshotId || typeof rec.volumeId !== 'string' || typeof rec.sizeGiB !== 'number') return undefined;
    if (!(await exists(this.pendingImage(snapshotId)))) return undefined;
    return { snapshotId, volumeId: rec.volumeId, sizeGiB: rec.sizeGiB };
  }

  /** Takes the point in time: a reflink clone of the volume's file (the caller flushed it). */
  async clone(snapshotId: string, volumeId: string, sizeGiB: number, volumeFile: string): Promise<Pending> {
    await this.dropPending(snapshotId);
    const img = this.pendingImage(snapshotId);
    const partial = `${img}.partial`;
    // a reflink clone (FICLONE) in this process, no `cp` to start; refused rather than copied where it cannot share
    await copyFile(volumeFile, partial, constants.COPYFILE_FICLONE_FORCE);
    const rec: Pending = { snapshotId, volumeId, sizeGiB };
    // the clone made durable and its record written together: it counts once renamed, after both
    await Promise.all([fsyncPath(partial), writeJsonAtomic(join(this.pendingDir, `${snapshotId}.json`), rec)]);
    await rename(partial, img);
    // its extents (it does not change), read for build() while the rename is made durable
    const extents = fiemap(img);
    extents.catch(() => undefined); // read again by build()
    this.cloneMaps.set(snapshotId, { file: await fileIdentity(img), extents });
    await syncDir(this.pendingDir);
    return rec;
  }

  async dropPending(snapshotId: string): Promise<void> {
    this.cloneMaps.delete(snapshotId);
    this.builtExtents.delete(snapshotId);
    await rm(this.pendingImage(snapshotId), { force: true });
    await rm(`${this.pendingImage(snapshotId)}.partial`, { force: true });
    await rm(join(this.pendingDir, `${snapshotId}.json`), { force: true });
  }

  /**
   * Stores the pending clone's blocks and writes the manifest (its pack redone from scratch,
   * so a build cut short is simply built again). Then the clone becomes the volume's baseline.
   */
  async build(p: Pending, onProgress?: (fraction: number) => void): Promise<Manifest> {
    const bs = this.blockSize;
    const count = (p.sizeGiB * GiB) / bs;
    const clone = this.pendingImage(p.snapshotId);
    const [cloneExtents, base] = await Promise.all([this.cloneMap(p.snapshotId), this.baselineMap(p.volumeId)]);
    this.builtExtents.set(p.snapshotId, cloneExtents);
    const kinds = compareBlocks(cloneExtents, base?.extents, bs, count, base ? Math.min(count, base.manifest.blocks.length) : 0);
    const index = await this.hashIndex();
    const stats: SnapshotStats = { blocks: count, unchanged: 0, holes: 0, read: 0, unread: 0, zero: 0, deduped: 0, collided: 0, stored: 0, changedIndices: [] };
    const { packs, ref } = packRefs();
    const blocks: (BlockRef | null)[] = new Array<BlockRef | null>(count).fill(null);
    const toRead: number[] = [];
    // changed since the baseline: stored as they are, unread, and fingerprinted when the store settles
    // (where packs are written by copying, their bytes are needed now: read)
    const copy = this.opts.packWrite === 'copy';
    const unread: number[] = [];
    for (let i = 0; i < count; i++) {
      const kind = kinds[i];
      if (kind === ZERO) {
        stats.holes++;
      } else if (base && kind === SAME) {
        const b = base.manifest.blocks[i];
        if (b) blocks[i] = ref(base.manifest.packs[b[0]]!, b[1], b[2]);
        stats.unchanged++;
      } else if (base && !copy) {
        unread.push(i);
      } else {
        toRead.push(i);
      }
    }
    let done = count - toRead.length - unread.length;
    onProgress?.(count === 0 ? 1 : done / count);

    const packFile = join(this.packs, `${p.snapshotId}.pack`);
    await rm(packFile, { force: true });
    const pack = await open(packFile, 'w');
    // the blocks stored unread stay where they are, in the clone: a second name of it is their pack
    const clonePack = join(this.packs, `${clonePackOf(p.snapshotId)}.pack`);
    await rm(clonePack, { force: true });
    if (unread.length > 0) await link(clone, clonePack);
    // the blocks this snapshot stores, by fingerprint: where they go and where they are in the clone
    const fresh = new Map<string, { loc: Loc; index: number }>();
    let slots = 0;
    const hashed = fingerprintBlocks(clone, bs, toRead, copy);
    // the new blocks shared into the pack as they are found, by an xfs_io started now
    const feed = copy || toRead.length === 0 ? undefined : new ReflinkFeed(packFile, `${p.snapshotId}.img`, this.pendingDir);
    const compare = new BlockCompare(bs, this.packs);
    try {
      for (const i of unread) {
        blocks[i] = ref(clonePackOf(p.snapshotId), i, UNHASHED);
        stats.unread++;
        stats.stored++;
        if (stats.changedIndices.length < 100_000) stats.changedIndices.push(i);
      }
      done += unread.length;
      if (unread.length > 0) onProgress?.(done / count);
      for await (const { first, n, hashes, data } of hashed) {
        const store = async (i: number, k: number, hash: string): Promise<void> => {
          const loc: Loc = { pack: p.snapshotId, slot: slots++ };
          // the first with its fingerprint in this snapshot is the one its later copies are compared with
          if (!fresh.has(hash)) fresh.set(hash, { loc, index: i });
          blocks[i] = ref(loc.pack, loc.slot, hash);
          stats.stored++;
          if (copy) await pack.write(data!, k * bs, bs, loc.slot * bs);
          else feed!.add({ src: i * bs, dst: loc.slot * bs, length: bs });
        };
        // a fingerprint found is a candidate: its bytes are compared (all of a run's at once) before it counts
        const candidates: Promise<{ i: number; k: number; hash: string; same: Loc | undefined }>[] = [];
        const bytes = (k: number) => data?.subarray(k * bs, (k + 1) * bs);
        for (let k = 0; k < n; k++) {
          const i = first + k;
          stats.read++;
          if (stats.changedIndices.length < 100_000) stats.changedIndices.push(i);
          const hash = hashes[k];
          if (hash === null || hash === undefined) {
            stats.zero++;
            continue;
          }
          const ours = fresh.get(hash);
          if (ours) {
            candidates.push(compare.same([clone, i * bs], [clone, ours.index * bs], bytes(k)).then((same) => ({ i, k, hash, same: same ? ours.loc : undefined })));
            continue;
          }
          const stored = index.get(hash);
          if (stored) {
            candidates.push(compare.same([clone, i * bs], compare.at(stored), bytes(k)).then((same) => ({ i, k, hash, same: same ? stored : undefined })));
            continue;
          }
          await store(i, k, hash);
        }
        for (const { i, k, hash, same } of await Promise.all(candidates)) {
          // the same fingerprint, other bytes (rare: crafted, or chance at 1 in 2^64): another copy of this
          // snapshot's that has it, stored since (by this loop), or stored now
          const ours = same ? undefined : fresh.get(hash);
          const found = same ?? (ours && ours.index !== i && (await compare.same([clone, i * bs], [clone, ours.index * bs], bytes(k))) ? ours.loc : undefined);
          if (found) {
            stats.deduped++;
            blocks[i] = ref(found.pack, found.slot, hash);
          } else {
            stats.collided++;
            await store(i, k, hash);
          }
        }
        done += n;
        onProgress?.(done / count);
      }
      await feed?.end();
    } catch (e) {
      await feed?.abort();
      await pack.close();
      throw e;
    } finally {
      await compare.close();
    }
    const m: Manifest = {
      version: 2,
      snapshotId: p.snapshotId,
      volumeId: p.volumeId,
      sizeGiB: p.sizeGiB,
      blockSize: bs,
      storedBytes: stats.stored * bs,
      dataBytes: blocks.reduce((n, b) => n + (b ? bs : 0), 0),
      packs,
      blocks,
    };
    // the manifest is written and synced while the pack is; it is put in place once the pack is durable
    const manifestFile = join(this.manifests, `${p.snapshotId}.json`);
    const staging = this.files.stage(manifestFile, m);
    staging.catch(() => undefined); // awaited below, or discarded
    try {
      try {
        if (slots > 0) await pack.sync();
      } finally {
        await pack.close();
      }
      if (slots === 0) await rm(packFile, { force: true });
      await syncDir(this.packs);
      await this.opts.hook?.('packed');
      await (await staging).commit();
    } catch (e) {
      await (await staging.catch(() => undefined))?.discard();
      throw e;
    }
    for (const [hash, { loc }] of fresh) if (!index.has(hash)) index.set(hash, loc);
    // blocks stored unread, its own or taken unchanged from a baseline not settled yet
    if (unsettled(m)) this.unsettled?.add(manifestFile);
    this.lastStats = stats;
    await this.opts.hook?.('manifest');
    return m;
  }

  /** Makes the pending clone of a finished snapshot its volume's baseline (replacing the one before). */
  async promote(snapshotId: string): Promise<void> {
    const p = await this.pending(snapshotId);
    const m = await this.manifest(snapshotId);
    if (!p || !m) {
      await this.dropPending(snapshotId);
      return;
    }
    const vol = p.volumeId;
    const image = join(this.baselines, `${vol}.${snapshotId}.img`);
    await rename(this.pendingImage(snapshotId), image);
    const extents = this.builtExtents.get(snapshotId);
    this.builtExtents.delete(snapshotId);
    const file = extents && (await fileIdentity(image));
    if (extents && file !== undefined) this.baselineExtents.set(vol, { image, file, extents });
    else this.baselineExtents.delete(vol);
    const tmp = join(this.baselines, `${vol}.json.${randomBytes(4).toString('hex')}.tmp`);
    await link(join(this.manifests, `${snapshotId}.json`), tmp);
    await rename(tmp, join(this.baselines, `${vol}.json`));
    await syncDir(this.baselines);
    if (unsettled(m)) this.unsettled?.add(join(this.baselines, `${vol}.json`));
    for (const n of await names(this.baselines)) {
      if (n.startsWith(`${vol}.`) && n.endsWith('.img') && n !== `${vol}.${snapshotId}.img`) await rm(join(this.baselines, n), { force: true });
    }
    await this.dropPending(snapshotId);
    await syncDir(this.pendingDir);
  }

  /** Fills `target` (an existing sparse file at least the snapshot's size) with the snapshot's blocks, by reflink. */
  async restore(m: Manifest, target: string): Promise<void> {
    const byPack = new Map<string, Range[]>();
    for (const l of locations(m)) {
      let r = byPack.get(l.pack);
      if (!r) byPack.set(l.pack, (r = []));
      r.push({ src: l.offset, dst: l.index * m.blockSize, length: m.blockSize });
    }
    for (const [pack, ranges] of byPack) await reflinkRanges(target, `${pack}.pack`, ranges, this.packs);
    await fsyncPath(target);
  }

  /** A second manifest holding the same blocks (nothing stored). */
  async copy(snapshotId: string, source: Manifest): Promise<Manifest> {
    const m: Manifest = { ...source, snapshotId, storedBytes: 0, copyOf: source.snapshotId };
    await this.files.write(join(this.manifests, `${snapshotId}.json`), m);
    if (unsettled(m)) this.unsettled?.add(join(this.manifests, `${snapshotId}.json`));
    return m;
  }

  /** Deletes a snapshot: its manifest, then the blocks nothing else refers to (packs removed or punched). */
  async remove(snapshotId: string): Promise<void> {
    const m = await this.manifest(snapshotId);
    await this.dropPending(snapshotId);
    if (!m) return;
    await writeJsonAtomic(this.gcFile, { packs: m.packs });
    await rm(join(this.manifests, `${snapshotId}.json`), { force: true });
    await syncDir(this.manifests);
    await this.collect(m.packs);
    await rm(this.gcFile, { force: true });
  }

  /** A volume is gone: its baseline and unfinished snapshots go, and the blocks only they held. */
  async dropVolume(volumeId: string): Promise<void> {
    this.baselineExtents.delete(volumeId);
    const base = await this.files.read(join(this.baselines, `${volumeId}.json`));
    for (const n of await names(this.pendingDir)) {
      if (!n.endsWith('.json')) continue;
      const id = n.slice(0, -'.json'.length);
      if ((await this.pending(id))?.volumeId === volumeId || !(await exists(this.pendingImage(id)))) await this.dropPending(id);
    }
    if (base) await writeJsonAtomic(this.gcFile, { packs: base.packs });
    for (const n of await names(this.baselines)) if (n.startsWith(`${volumeId}.`)) await rm(join(this.baselines, n), { force: true });
    await syncDir(this.baselines);
    if (base) {
      await this.collect(base.packs);
      await rm(this.gcFile, { force: true });
    }
  }

  /** Whether some manifest may hold blocks not fingerprinted yet (see planSettle). */
  get unsettledWork(): boolean {
    return this.unsettled === undefined || this.unsettled.size > 0;
  }

  /** The snapshot whose manifest `file` is (undefined for a baseline's). */
  snapshotOf(file: string): string | undefined {
    return dirname(file) === this.manifests ? basename(file, '.json') : undefined;
  }

  /**
   * Settling, step 1 of 3 (callers serialize it with the other mutations): the blocks incremental snapshots
   * stored unread (UNHASHED, in their clone: see build) are read and fingerprinted. Each is then a block of
   * zeros, a copy of one stored before (their bytes compared), or new: shared (reflinked) into its snapshot's
   * own pack (made durable), its fingerprint in the index at once. No manifest is changed yet. A crash
   * after any step leaves every manifest whole: a clone or own pack no manifest names goes at the next
   * open (collect), the rest is settled again. Undefined when there is nothing to settle, or `stop` said
   * so between two runs of blocks.
   */
  async planSettle(stop?: () => boolean): Promise<SettlePlan | undefined> {
    if (!this.unsettled) await this.holders();
    const known = this.unsettled!;
    const files: string[] = [];
    const want = new Map<string, Set<number>>();
    // snapshots' manifests first: a baseline that is one of them (a hard link) is settled with it
    for (const f of [...known].sort((a, b) => Number(this.snapshotOf(a) === undefined) - Number(this.snapshotOf(b) === undefined) || (a < b ? -1 : 1))) {
      const m = await this.files.read(f);
      if (!m || m.blockSize !== this.blockSize || !unsettled(m)) {
        known.delete(f);
        continue;
      }
      files.push(f);
      for (const b of m.blocks) {
        if (b === null || b[2] !== UNHASHED) continue;
        const pack = m.packs[b[0]]!;
        if (!pack.endsWith(CLONE)) continue; // only a clone holds blocks stored unread
        let slots = want.get(pack);
        if (!slots) want.set(pack, (slots = new Set()));
        slots.add(b[1]);
      }
    }
    if (files.length === 0) return undefined;
    const bs = this.blockSize;
    const index = await this.hashIndex();
    const decisions = new Map<string, Decision>();
    const freed = new Set<string>();
    // this plan's new blocks, by fingerprint: where they are read from and where they go
    const planned = new Map<string, { from: Loc; to: Loc }>();
    const compare = new BlockCompare(bs, this.packs);
    try {
      for (const [pack, set] of want) {
        // a snapshot's clone gives the new blocks among its unread ones to a pack of the snapshot's own, new
        // for each plan: one a crash or a stale plan leaves unnamed goes whole (at the open, or in finishSettle)
        const own = `${pack.slice(0, -CLONE.length)}.${randomBytes(4).toString('hex')}`;
        const ownFile = join(this.packs, `${own}.pack`);
        let next = 0;
        const moves: Range[] = [];
        freed.add(pack);
        const slots = [...set].sort((a, b) => a - b);
        for await (const { first, n, hashes } of fingerprintBlocks(join(this.packs, `${pack}.pack`), bs, slots, false)) {
          if (stop?.()) return undefined;
          for (let k = 0; k < n; k++) {
            const here: Loc = { pack, slot: first + k };
            const hash = hashes[k] ?? null;
            if (hash === null) {
              decisions.set(slotKey(here), { to: null, hash: UNHASHED });
              continue;
            }
            const mine = planned.get(hash);
            if (mine && (await compare.same(compare.at(here), compare.at(mine.from)))) {
              decisions.set(slotKey(here), { to: mine.to, hash });
              continue;
            }
            const have = index.get(hash);
            if (have && (await compare.same(compare.at(here), compare.at(have)))) {
              decisions.set(slotKey(here), { to: have, hash });
              continue;
            }
            const to: Loc = { pack: own, slot: next++ };
            moves.push({ src: here.slot * bs, dst: to.slot * bs, length: bs });
            decisions.set(slotKey(here), { to, hash });
            if (!mine) planned.set(hash, { from: here, to });
          }
        }
        if (moves.length > 0) {
          // the new blocks shared into the snapshot's own pack, durable before any manifest names them
          freed.add(own);
          await reflinkRanges(ownFile, `${pack}.pack`, moves, this.packs);
          await fsyncPath(ownFile);
        }
      }
    } finally {
      await compare.close();
    }
    for (const [hash, { to }] of planned) if (!index.has(hash)) index.set(hash, to);
    if (planned.size > 0) await syncDir(this.packs);
    return { decisions, files, freed: [...freed], generation: this.generation };
  }

  /**
   * Settling, step 2 (once per file of the plan; callers hold the snapshot's lock as well, so that no restore
   * of the manifest before is still reading the slots this one stops naming): `file`'s unsettled blocks get
   * their fingerprints, or their copy's place, or become zeros; the manifest is replaced whole. A baseline
   * that is the same file (a hard link) is linked to the new one.
   */
  async applySettle(plan: SettlePlan, file: string): Promise<void> {
    const m = await this.files.read(file);
    if (!m || !unsettled(m)) return;
    // a slot freed since the plan may be the copy a decision points at: those wait for the next plan
    const stale = plan.generation !== this.generation;
    const { packs, ref } = packRefs();
    let changed = false;
    const blocks = m.blocks.map((b): BlockRef | null => {
      if (b === null) return null;
      const pack = m.packs[b[0]]!;
      const d = b[2] === UNHASHED ? plan.decisions.get(slotKey({ pack, slot: b[1] })) : undefined;
      if (d === undefined || (d.to && stale)) return ref(pack, b[1], b[2]);
      changed = true;
      return d.to === null ? null : ref(d.to.pack, d.to.slot, d.hash);
    });
    if (!changed) return;
    const bs = this.blockSize;
    // what the snapshot stored: the slots of its own pack and clone it names (a copy of a snapshot stored nothing)
    const own = new Set<string>();
    for (const b of blocks) if (b && ownPack(packs[b[0]]!, m.snapshotId)) own.add(`${b[0]}:${b[1]}`);
    const out: Manifest = { ...m, version: 2, storedBytes: m.copyOf === undefined ? own.size * bs : 0, dataBytes: blocks.reduce((n, b) => n + (b ? bs : 0), 0), packs, blocks };
    const base = this.snapshotOf(file) === undefined ? undefined : join(this.baselines, `${m.volumeId}.json`);
    const linked = base !== undefined && (await sameInode(base, file));
    await this.files.write(file, out);
    if (linked) {
      const tmp = `${base}.${randomBytes(4).toString('hex')}.tmp`;
      await link(file, tmp);
      await rename(tmp, base);
      await syncDir(this.baselines);
      if (!unsettled(out)) this.unsettled?.delete(base);
    }
    if (!unsettled(out)) this.unsettled?.delete(file);
  }

  /**
   * Settling, step 3: the clones the plan emptied, now named by no manifest, are dropped from the packs
   * (and, after a plan gone stale, its own packs or their slots that no manifest came to name).
   */
  async finishSettle(plan: SettlePlan): Promise<void> {
    if (plan.freed.length === 0) return;
    if (plan.generation !== this.generation || !this.unsettled) {
      // stale: its own packs may hold slots no manifest came to name; every manifest is read
      await this.collect(plan.freed);
      return;
    }
    // Otherwise every block the plan moved is named where it went (so the index holds too), and a clone is
    // named only by manifests still unsettled (its blocks' fingerprints are empty), which are known: a
    // clone none of them names goes, without reading every manifest.
    const named = new Set<string>();
    for (const f of this.unsettled) {
      const m = await this.files.read(f);
      if (!m) continue;
      for (const b of m.blocks) if (b && b[2] === UNHASHED) named.add(m.packs[b[0]]!);
    }
    let dropped = false;
    for (const pack of plan.freed) {
      if (!pack.endsWith(CLONE) || named.has(pack)) continue;
      await rm(join(this.packs, `${pack}.pack`), { force: true });
      dropped = true;
    }
    if (dropped) await syncDir(this.packs);
  }

  /** Bytes the packs take on disk (allocated, not their length; the clones that blocks not settled yet are in not counted). */
  async packBytes(): Promise<number> {
    let n = 0;
    // a clone's name among the packs takes nothing of its own (its space is the baseline image's)
    for (const f of await names(this.packs)) if (!f.endsWith(`${CLONE}.pack`)) n += ((await stat(join(this.packs, f)).catch(() => undefined))?.blocks ?? 0) * 512;
    return n;
  }

  private pendingImage(snapshotId: string): string {
    return join(this.pendingDir, `${snapshotId}.img`);
  }

  /**
   * Starts reading what the volume's next snapshot compares with (its baseline's manifest and extents),
   * so that it is ready when build() asks, read while the point in time is being taken.
   */
  prepare(volumeId: string): void {
    const ahead = this.readBaselineMap(volumeId);
    ahead.catch(() => undefined); // read again by build()
    this.ahead.set(volumeId, ahead);
  }

  /** The pending clone's extents: those clone() read if it is still the same file, else read now. */
  private async cloneMap(snapshotId: string): Promise<Extent[]> {
    const img = this.pendingImage(snapshotId);
    const had = this.cloneMaps.get(snapshotId);
    this.cloneMaps.delete(snapshotId);
    if (had?.file !== undefined && had.file === (await fileIdentity(img))) {
      const extents = await had.extents.catch(() => undefined);
      if (extents) return extents;
    }
    return fiemap(img);
  }

  /** The baseline and its extents: those prepare() read if it is still the same file, else read now. */
  private async baselineMap(volumeId: string): Promise<BaselineMap | undefined> {
    const ahead = await this.ahead.get(volumeId)?.catch(() => undefined);
    this.ahead.delete(volumeId);
    if (ahead) {
      const now = await this.baseline(volumeId);
      if (now?.image === ahead.image && now.manifest === ahead.manifest && (await fileIdentity(now.image)) === ahead.file) return ahead;
    }
    return this.readBaselineMap(volumeId);
  }

  private async readBaselineMap(volumeId: string): Promise<BaselineMap | undefined> {
    const base = await this.baseline(volumeId);
    if (!base) return undefined;
    const file = await fileIdentity(base.image);
    if (file === undefined) return undefined;
    const known = this.baselineExtents.get(volumeId);
    if (known?.image === base.image && known.file === file) return { ...base, file, extents: known.extents };
    return { ...base, file, extents: await fiemap(base.image) };
  }

  /** The volume's last snapshot's manifest and clone, when both are there and of this block size. */
  private async baseline(volumeId: string): Promise<{ manifest: Manifest; image: string } | undefined> {
    const m = await this.files.read(join(this.baselines, `${volumeId}.json`));
    if (!m || m.blockSize !== this.blockSize || m.volumeId !== volumeId) return undefined;
    const image = join(this.baselines, `${volumeId}.${m.snapshotId}.img`);
    return (await exists(image)) ? { manifest: m, image } : undefined;
  }

  /** Every manifest and baseline manifest (what holds blocks); the unsettled ones noted. */
  private async holders(): Promise<Manifest[]> {
    const out: Manifest[] = [];
    const toSettle = new Set<string>();
    for (const dir of [this.manifests, this.baselines]) {
      for (const n of await names(dir)) {
        if (!n.endsWith('.json')) continue;
        const m = await readManifest(join(dir, n));
        if (!m) continue;
        out.push(m);
        if (unsettled(m)) toSettle.add(join(dir, n));
      }
    }
    this.unsettled = toSettle;
    return out;
  }

  private async hashIndex(): Promise<Map<string, Loc>> {
    if (this.index) return this.index;
    const index = new Map<string, Loc>();
    for (const m of await this.holders()) {
      if (m.blockSize !== this.blockSize) continue;
      for (const b of m.blocks) if (b && b[2] !== UNHASHED && !index.has(b[2])) index.set(b[2], { pack: m.packs[b[0]]!, slot: b[1] });
    }
    return (this.index = index);
  }

  /**
   * Frees what no manifest refers to in `candidates` (pack names; all packs: only whole packs):
   * a pack nobody refers to is removed, the unreferenced slots of the others punched out.
   */
  private async collect(candidates: readonly string[] | 'all'): Promise<void> {
    this.index = undefined;
    this.generation++;
    const live = new Map<string, Set<number>>();
    const sizes = new Map<string, number>();
    for (const m of await this.holders()) {
      for (const l of locations(m)) {
        let s = live.get(l.pack);
        if (!s) live.set(l.pack, (s = new Set()));
        s.add(l.offset);
        sizes.set(l.pack, m.blockSize);
      }
    }
    const packNames = (await names(this.packs)).filter((n) => n.endsWith('.pack')).map((n) => n.slice(0, -'.pack'.length));
    const wanted = candidates === 'all' ? packNames : packNames.filter((n) => candidates.includes(n));
    for (const name of wanted) {
      const file = join(this.packs, `${name}.pack`);
      const used = live.get(name);
      if (!used) {
        await rm(file, { force: true });
        continue;
      }
      // a clone is a baseline's image too (never changed): it goes whole, when nothing names it
      if (candidates === 'all' || name.endsWith(CLONE)) continue;
      const bs = sizes.get(name)!;
      const length = (await stat(file)).size;
      const dead: { offset: number; length: number }[] = [];
      for (let off = 0; off < length; off += bs) {
        if (used.has(off)) continue;
        const last = dead.at(-1);
        if (last && last.offset + last.length === off) last.length += bs;
        else dead.push({ offset: off, length: bs });
      }
      if (dead.length > 0) await punchRanges(file, dead);
      await fsyncPath(file);
    }
    await syncDir(this.packs);
  }

  private async recover(): Promise<void> {
    for (const d of [this.packs, this.manifests, this.pendingDir, this.baselines]) await mkdir(d, { recursive: true });
    for (const d of [this.manifests, this.pendingDir, this.baselines, this.root]) {
      for (const n of await names(d)) if (n.endsWith('.tmp') || n.endsWith('.partial')) await rm(join(d, n), { force: true });
    }
    const gc = (await readJson(this.gcFile)) as { packs?: unknown } | undefined;
    if (gc && Array.isArray(gc.packs)) await this.collect(gc.packs.filter((p): p is string => typeof p === 'string'));
    await rm(this.gcFile, { force: true });
    // the pending clone of a snapshot whose manifest was written: its baseline step did not finish
    for (const n of await names(this.pendingDir)) {
      if (!n.endsWith('.json')) continue;
      const id = n.slice(0, -'.json'.length);
      if (await exists(join(this.manifests, n))) await this.promote(id);
    }
    // packs of snapshots that never got a manifest
    await this.collect('all');
  }
}

/**
 * Compares two blocks of files (the clone being snapshotted, packs) byte for byte, through the page cache
 * (they are read once). The files are opened at first use and kept until close().
 */
class BlockCompare {
  private readonly files = new Map<string, Promise<FileHandle>>();

  constructor(
    private readonly bs: number,
    private readonly packsDir: string,
  ) {}

  /** Where a stored block's bytes are: its pack's file and offset. */
  at(loc: Loc): [file: string, pos: number] {
    return [join(this.packsDir, `${loc.pack}.pack`), loc.slot * this.bs];
  }

  /** Whether the blocks at `a` (its bytes `mine`, when at hand) and `b` hold the same bytes. */
  async same(a: [file: string, pos: number], b: [file: string, pos: number], mine?: Uint8Array): Promise<boolean> {
    const [x, y] = await Promise.all([mine ?? this.read(...a), this.read(...b)]);
    return Buffer.compare(x, y) === 0;
  }

  async close(): Promise<void> {
    const open = [...this.files.values()];
    this.files.clear();
    for (const fh of await Promise.allSettled(open)) if (fh.status === 'fulfilled') await fh.value.close();
  }

  /** `bs` bytes at `pos` of `file` (zeros past its end). */
  private async read(file: string, pos: number): Promise<Buffer> {
    let fh = this.files.get(file);
    if (!fh) {
      fh = open(file, 'r');
      fh.catch(() => undefined); // awaited below
      this.files.set(file, fh);
    }
    const h = await fh;
    const buf = Buffer.alloc(this.bs);
    let got = 0;
    while (got < this.bs) {
      const { bytesRead } = await h.read(buf, got, this.bs - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return buf;
  }
}

/** Where settling puts a block stored unread (null: it is zeros), with its fingerprint. */
interface Decision {
  hash: string;
  to: Loc | null;
}

/** See ChunkStore.planSettle. */
export interface SettlePlan {
  /** by slot (slotKey) */
  decisions: Map<string, Decision>;
  /** the manifest files to settle (snapshots' first, then baselines') */
  files: string[];
  /** packs whose slots the plan frees */
  freed: string[];
  generation: number;
}

const slotKey = (l: Loc): string => `${l.pack}:${l.slot}`;

/** how a snapshot's clone is named among the packs: <snap>.clone */
const CLONE = '.clone';
const clonePackOf = (snapshotId: string): string => `${snapshotId}${CLONE}`;
/** Whether `pack` is one of the snapshot's own: the one its build wrote, its clone, those settling wrote (<snap>.<hex>) */
const ownPack = (pack: string, snapshotId: string): boolean => pack === snapshotId || pack.startsWith(`${snapshotId}.`);

/** Whether two paths are the same file (hard links of one inode). */
async function sameInode(a: string, b: string): Promise<boolean> {
  const [x, y] = await Promise.all([stat(a, { bigint: true }).catch(() => undefined), stat(b, { bigint: true }).catch(() => undefined)]);
  return x !== undefined && y !== undefined && x.dev === y.dev && x.ino === y.ino;
}

/**
 * A manifest's pack list being made: ref() numbers a pack at its first block (so the list holds
 * exactly the packs the blocks name) and makes the block's entry.
 */
function packRefs(): { packs: string[]; ref: (pack: string, slot: number, hash: string) => BlockRef } {
  const packs: string[] = [];
  const packNo = new Map<string, number>();
  return {
    packs,
    ref: (pack, slot, hash) => {
      let n = packNo.get(pack);
      if (n === undefined) {
        n = packs.push(pack) - 1;
        packNo.set(pack, n);
      }
      return [n, slot, hash];
    },
  };
}

/**
 * The blocks `indices` (ascending) of `file` read and fingerprinted, run by run: by worker threads for
 * much (or when they are running already), else in this thread. `keep`: with their bytes.
 */
function fingerprintBlocks(file: string, bs: number, indices: readonly number[], keep: boolean): AsyncGenerator<HashedRun> {
  const bytes = indices.length * bs;
  const inWorkers = bytes >= WORKERS_FROM || (bytes >= KEPT_WORKERS_FROM && idleHashThreads() >= 2);
  const runs = toRuns(indices, Math.max(1, Math.floor((inWorkers ? READ_BYTES : READ_BYTES_HERE) / bs)));
  return inWorkers ? hashRuns(file, bs, runs, { keep }) : hashRunsHere(file, bs, runs, { keep });
}

/** Consecutive indices (ascending) as runs of at most `per` blocks. */
function toRuns(indices: readonly number[], per: number): Run[] {
  const runs: Run[] = [];
  for (const i of indices) {
    const last = runs.at(-1);
    if (last && last.first + last.n === i && last.n < per) last.n++;
    else runs.push({ first: i, n: 1 });
  }
  return runs;
}

/**
 * A clone's identity: device, inode, size and modification time (a rename keeps them, a write or a punch
 * changes the time; the change time would not do: a second name, linked or removed, changes it).
 */
async function fileIdentity(file: string): Promise<string | undefined> {
  const st = await stat(file, { bigint: true }).catch(() => undefined);
  return st && `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
}

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch {
    return [];
  }
}


