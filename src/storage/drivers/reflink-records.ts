/**
 * The reflink pool's books, as small JSON sidecars next to the files they
 * describe (`<id>.json` beside `<id>.img`), each written atomically (a
 * temporary file, fsync, rename, fsync of the directory). A volume or snapshot
 * exists when both its image file and its sidecar do: a sidecar alone is the
 * leftover of a create that did not finish, and is ignored.
 */
import { randomBytes } from 'node:crypto';
import { open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { VolumeSource } from '../block-store.js';

export interface VolumeRecord {
  volumeId: string;
  sizeGiB: number;
  source: VolumeSource;
  /** the instance it is (being) attached to: written before the loop device is set up */
  instanceId?: string;
  /** the loop device it was attached as: written after; there and gone from the host means lost */
  devicePath?: string;
  /** further instances holding the same loop device (a shared attach: EBS Multi-Attach) */
  sharedWith?: string[];
}

export interface SnapshotRecord {
  snapshotId: string;
  volumeId: string;
  sizeGiB: number;
}

/** Writes `value` as JSON to `file` so that a reader sees the old or the new content, never a part. */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(`${JSON.stringify(value, null, 2)}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  await syncDir(dirname(file));
}

/** Whether a path exists (anything stat can see). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** fsync of a file, directory or block device by its path (a loop device's fsync reaches its backing file). */
export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsync of a directory: the names made, renamed or removed in it are durable. */
export const syncDir = fsyncPath;

/** The parsed JSON in `file`, or undefined when there is none (or it is unreadable). */
export async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function asSource(v: unknown): VolumeSource | undefined {
  if (!isObject(v)) return undefined;
  if (v.kind === 'empty') return { kind: 'empty' };
  if (v.kind === 'snapshot' && typeof v.snapshotId === 'string') return { kind: 'snapshot', snapshotId: v.snapshotId };
  if (v.kind === 'image' && typeof v.imageId === 'string' && typeof v.deviceName === 'string') {
    return typeof v.file === 'string'
      ? { kind: 'image', imageId: v.imageId, deviceName: v.deviceName, file: v.file }
      : { kind: 'image', imageId: v.imageId, deviceName: v.deviceName };
  }
  return undefined;
}

export function asVolumeRecord(v: unknown): VolumeRecord | undefined {
  if (!isObject(v) || typeof v.volumeId !== 'string' || typeof v.sizeGiB !== 'number') return undefined;
  const source = asSource(v.source);
  if (!source) return undefined;
  const r: VolumeRecord = { volumeId: v.volumeId, sizeGiB: v.sizeGiB, source };
  if (typeof v.instanceId === 'string') r.instanceId = v.instanceId;
  if (typeof v.devicePath === 'string') r.devicePath = v.devicePath;
  if (Array.isArray(v.sharedWith) && v.sharedWith.length > 0 && v.sharedWith.every((x) => typeof x === 'string')) r.sharedWith = [...(v.sharedWith as string[])];
  return r;
}

export function asSnapshotRecord(v: unknown): SnapshotRecord | undefined {
  if (!isObject(v) || typeof v.snapshotId !== 'string' || typeof v.volumeId !== 'string' || typeof v.sizeGiB !== 'number') return undefined;
  return { snapshotId: v.snapshotId, volumeId: v.volumeId, sizeGiB: v.sizeGiB };
}

/** A source in one canonical form (keys in order), for comparing two of them. */
export function sourceKey(s: VolumeSource): string {
  switch (s.kind) {
    case 'empty':
      return JSON.stringify(['empty']);
    case 'snapshot':
      return JSON.stringify(['snapshot', s.snapshotId]);
    case 'image':
      return JSON.stringify(['image', s.imageId, s.deviceName, s.file ?? null]);
  }
}

/** The ids of the entries in `dir` that have both `<id>.img` and `<id>.json`. */
export async function completeEntries(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const set = new Set(names);
  return names
    .filter((n) => n.endsWith('.json') && set.has(`${n.slice(0, -'.json'.length)}.img`))
    .map((n) => n.slice(0, -'.json'.length))
    .sort();
}

/** Removes `<id>.img` then `<id>.json` (in that order, so a crash leaves a sidecar alone, which is ignored). */
export async function removeEntry(dir: string, id: string): Promise<void> {
  await rm(join(dir, `${id}.img`), { force: true });
  await rm(join(dir, `${id}.json`), { force: true });
  await syncDir(dir);
}
