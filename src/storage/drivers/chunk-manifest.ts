/**
 * A snapshot's manifest: for each fixed-size block of the volume, null (zeros)
 * or where its bytes are (a pack and a slot in it) with their fingerprint. Written
 * atomically as compact JSON (a temporary file, fsync, rename, fsync of the
 * directory); read back checked, so a damaged file is no manifest at all.
 */
import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { syncDir } from './reflink-records.js';

/**
 * [index into Manifest.packs, slot in that pack (offset / blockSize), fingerprint]: XXH64, 16 hex digits
 * (version 2), or the SHA-256 of version 1 (64 hex digits; a version 2 manifest keeps those of the blocks it
 * took unchanged from a version 1 one), or UNHASHED. Only the chunk store's dedup reads it, to find candidates.
 */
export type BlockRef = readonly [pack: number, slot: number, hash: string];

/**
 * The fingerprint of a block an incremental snapshot stored as it found it, unread: taken later, when the
 * chunk store settles (version 2 only). The block's bytes are in its slot all the same.
 */
export const UNHASHED = '';

/** Whether a manifest holds blocks not fingerprinted yet. */
export const unsettled = (m: Manifest): boolean => m.blocks.some((b) => b !== null && b[2] === UNHASHED);

export interface Manifest {
  version: 1 | 2;
  snapshotId: string;
  /** the volume it was taken of (a copy: its source's) */
  volumeId: string;
  sizeGiB: number;
  blockSize: number;
  /** bytes this snapshot added to packs */
  storedBytes: number;
  /** bytes of non-zero blocks */
  dataBytes: number;
  /** the snapshot it is a copy of */
  copyOf?: string;
  /** pack names (without .pack) the blocks refer to */
  packs: string[];
  blocks: (BlockRef | null)[];
}

const GiB = 1024 ** 3;
const SHA256 = /^[0-9a-f]{64}$/;
const EITHER = /^(?:[0-9a-f]{16}|[0-9a-f]{64}|)$/;

export function asManifest(v: unknown): Manifest | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const m = v as Record<string, unknown>;
  if ((m.version !== 1 && m.version !== 2) || typeof m.snapshotId !== 'string' || typeof m.volumeId !== 'string') return undefined;
  if (typeof m.sizeGiB !== 'number' || typeof m.blockSize !== 'number' || typeof m.storedBytes !== 'number' || typeof m.dataBytes !== 'number') return undefined;
  if (!Array.isArray(m.packs) || !m.packs.every((p) => typeof p === 'string') || !Array.isArray(m.blocks)) return undefined;
  if (m.blocks.length !== (m.sizeGiB * GiB) / m.blockSize) return undefined;
  const packs = m.packs as string[];
  const HASH = m.version === 1 ? SHA256 : EITHER;
  for (const b of m.blocks as unknown[]) {
    if (b === null) continue;
    if (!Array.isArray(b) || b.length !== 3) return undefined;
    const [p, s, h] = b as unknown[];
    if (typeof p !== 'number' || p < 0 || p >= packs.length || typeof s !== 'number' || s < 0 || typeof h !== 'string' || !HASH.test(h)) return undefined;
  }
  const out: Manifest = {
    version: m.version,
    snapshotId: m.snapshotId,
    volumeId: m.volumeId,
    sizeGiB: m.sizeGiB,
    blockSize: m.blockSize,
    storedBytes: m.storedBytes,
    dataBytes: m.dataBytes,
    packs,
    blocks: m.blocks as (BlockRef | null)[],
  };
  if (typeof m.copyOf === 'string') out.copyOf = m.copyOf;
  return out;
}

/** The manifest in `file`, or undefined when there is none or it does not parse as one. */
export async function readManifest(file: string): Promise<Manifest | undefined> {
  return (await readIdentified(file))?.m;
}

/** The manifest in `file` and the identity of the file read (see ManifestFiles). */
async function readIdentified(file: string): Promise<{ m: Manifest | undefined; id: string } | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const id = identity(await fh.stat({ bigint: true }));
    const text = await fh.readFile('utf8');
    try {
      return { m: asManifest(JSON.parse(text) as unknown), id };
    } catch {
      return { m: undefined, id };
    }
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}

/** A file's identity: device, inode, size, modification time (a hard link to it has the same) */
const identity = (st: BigIntStats): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;

/**
 * Manifests read or written before, by the identity of their file: a manifest is never changed in place
 * (written whole to a new file, renamed over), so a file with the same identity holds the same manifest and
 * is not parsed again (a 10 GiB volume's takes some 30 ms), under any of its names (a baseline is a hard
 * link to its snapshot's manifest). The last few only. The manifests handed out are shared: not to be changed.
 */
export class ManifestFiles {
  private readonly known = new Map<string, Manifest>();

  constructor(private readonly keep = 4) {}

  async read(file: string): Promise<Manifest | undefined> {
    let fh: FileHandle;
    try {
      fh = await open(file, 'r');
    } catch {
      return undefined;
    }
    let id: string;
    try {
      id = identity(await fh.stat({ bigint: true }));
    } finally {
      await fh.close();
    }
    const have = this.known.get(id);
    if (have) return have;
    const got = await readIdentified(file);
    if (got?.m) this.remember(got.id, got.m);
    return got?.m;
  }

  async write(file: string, m: Manifest): Promise<void> {
    await (await this.stage(file, m)).commit();
  }

  /**
   * Writes `m` beside `file`, durable but not yet in place: `commit` renames it in (a reader
   * sees the whole of it or nothing), `discard` drops it. So the caller makes what the
   * manifest names durable meanwhile, and puts the manifest in place only after.
   */
  async stage(file: string, m: Manifest): Promise<{ commit(): Promise<void>; discard(): Promise<void> }> {
    const tmp = await stageManifest(file, m);
    return {
      commit: async () => {
        await rename(tmp, file);
        await syncDir(dirname(file));
        const st = await stat(file, { bigint: true }).catch(() => undefined);
        if (st) this.remember(identity(st), m);
      },
      discard: () => rm(tmp, { force: true }),
    };
  }

  private remember(id: string, m: Manifest): void {
    this.known.delete(id);
    this.known.set(id, m);
    for (const k of this.known.keys()) {
      if (this.known.size <= this.keep) break;
      this.known.delete(k);
    }
  }
}

/** `m` written and synced to a temporary file beside `file` (its name ends in .tmp: recovery removes one left behind). */
async function stageManifest(file: string, m: Manifest): Promise<string> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(JSON.stringify(m));
    await fh.sync();
  } catch (e) {
    await fh.close();
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  return tmp;
}

/** Each block's pack name and byte offset in it (undefined for a zero block). */
export function* locations(m: Manifest): Generator<{ index: number; pack: string; offset: number; hash: string }> {
  for (let i = 0; i < m.blocks.length; i++) {
    const b = m.blocks[i];
    if (b) yield { index: i, pack: m.packs[b[0]]!, offset: b[1] * m.blockSize, hash: b[2] };
  }
}
