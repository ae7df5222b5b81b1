/**
 * A file's block map (FIEMAP, through `xfs_io -r -c 'fiemap -v'`) and what it
 * tells about fixed-size blocks without reading them: a block that is all
 * hole (or unwritten extents) reads as zeros; two immutable files whose block
 * maps the same logical range to the same physical extents hold the same
 * bytes there (a reflink clone shares extents until one side is written,
 * and a write goes to new extents).
 */
import { run } from '../../host/exec.js';

/** xfs_io's FIEMAP unit: 512-byte sectors */
const SECTOR = 512;
const FIEMAP_EXTENT_UNKNOWN = 0x2;
const FIEMAP_EXTENT_DELALLOC = 0x4;
const FIEMAP_EXTENT_UNWRITTEN = 0x800;

export interface Extent {
  /** byte offset in the file */
  logical: number;
  /** byte offset on the device; undefined for a hole */
  physical: number | undefined;
  length: number;
  flags: number;
}

const LINE = /^\s*\d+:\s*\[(\d+)\.\.(\d+)\]:\s*(?:hole|(\d+)\.\.(\d+))\s+(\d+)(?:\s+(0x[0-9a-fA-F]+))?/;

/** The extents in `xfs_io -c 'fiemap -v'` output, in bytes. */
export function parseFiemap(text: string): Extent[] {
  const out: Extent[] = [];
  for (const line of text.split('\n')) {
    const m = LINE.exec(line);
    if (!m) continue;
    const start = Number(m[1]);
    const end = Number(m[2]);
    out.push({
      logical: start * SECTOR,
      physical: m[3] === undefined ? undefined : Number(m[3]) * SECTOR,
      length: (end - start + 1) * SECTOR,
      flags: m[6] === undefined ? 0 : Number.parseInt(m[6], 16),
    });
  }
  return out;
}

/** The extents of `file` (read-only). */
export async function fiemap(file: string): Promise<Extent[]> {
  const { stdout } = await run('xfs_io', ['-r', '-c', 'fiemap -v', file]);
  return parseFiemap(stdout);
}

/**
 * What each block of `blockSize` bytes (`count` blocks from offset 0) is made of:
 *  - 'zero': only holes and unwritten extents: reads as zeros
 *  - 'unknown': some extent has no stable place yet (delayed allocation): must be read
 *  - otherwise a signature, equal for two files exactly when they map the block to the same physical bytes
 */
export type BlockMap = string[];

export function blockMap(extents: readonly Extent[], blockSize: number, count: number): BlockMap {
  const sig: string[][] = Array.from({ length: count }, () => []);
  const unknown = new Uint8Array(count);
  for (const e of extents) {
    if (e.physical === undefined || e.flags & FIEMAP_EXTENT_UNWRITTEN) continue;
    const end = e.logical + e.length;
    const stable = !(e.flags & (FIEMAP_EXTENT_DELALLOC | FIEMAP_EXTENT_UNKNOWN));
    for (let b = Math.floor(e.logical / blockSize); b < count && b * blockSize < end; b++) {
      if (!stable) {
        unknown[b] = 1;
        continue;
      }
      const from = Math.max(e.logical, b * blockSize);
      const to = Math.min(end, (b + 1) * blockSize);
      sig[b]!.push(`${from - b * blockSize}+${to - from}@${e.physical + (from - e.logical)}`);
    }
  }
  return sig.map((parts, b) => (unknown[b] ? 'unknown' : parts.length === 0 ? 'zero' : mergeSignature(parts)));
}

/** Adjacent pieces that continue each other physically are one piece: extents split or merged differently compare equal. */
function mergeSignature(parts: string[]): string {
  const pieces = parts.map((p) => {
    const m = /^(\d+)\+(\d+)@(\d+)$/.exec(p)!;
    return { off: Number(m[1]), len: Number(m[2]), phys: Number(m[3]) };
  });
  const out: { off: number; len: number; phys: number }[] = [];
  for (const p of pieces) {
    const last = out.at(-1);
    if (last && last.off + last.len === p.off && last.phys + last.len === p.phys) last.len += p.len;
    else out.push({ ...p });
  }
  return out.map((p) => `${p.off}+${p.len}@${p.phys}`).join(',');
}

/** Whether block `b` is certainly the same in both maps (same physical bytes, or zeros in both). */
export function sameBlock(a: BlockMap, b: BlockMap, i: number): boolean {
  const x = a[i];
  return x !== undefined && x !== 'unknown' && x === b[i];
}
