/** The host's mounts as this process sees them (/proc/self/mountinfo), `mount`/`umount`, and trees with mounts inside. */
import { readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { run } from './exec.js';

export interface Mount {
  target: string;
  fsType: string;
  source: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo */
const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

export async function listMounts(): Promise<Mount[]> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  const out: Mount[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    if (dash < 0 || fields.length < dash + 3 || fields[4] === undefined) continue;
    out.push({ target: unescape(fields[4]), fsType: fields[dash + 1]!, source: unescape(fields[dash + 2]!) });
  }
  return out;
}

/** The mount on top at `target` (the last one mounted there), if any. */
export async function mountAt(target: string): Promise<Mount | undefined> {
  const at = (await listMounts()).filter((m) => m.target === target);
  return at[at.length - 1];
}

export async function mount(device: string, target: string, fsType: string): Promise<void> {
  await run('mount', ['-t', fsType, device, target]);
}

export async function unmount(target: string): Promise<void> {
  await run('umount', [target]);
}

/** Whether something is mounted at `target` (synchronously, for checks between steps). */
export function isMountedSync(target: string): boolean {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[4] !== undefined && unescape(l.split(' ')[4]!) === target);
  } catch {
    return false;
  }
}

/** The mount points at or below `dir`, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const base = resolve(dir);
  const points = (await listMounts()).map((m) => m.target).filter((p) => p === base || p.startsWith(`${base}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or below `dir` (lazily: a busy mount is detached all the same). */
export async function unmountUnder(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) await run('umount', ['-l', point], { okCodes: [32] });
}

/**
 * Removes a tree after unmounting whatever is mounted inside it: a tree with /proc, /sys
 * or /dev bound inside (debootstrap's target, a killed build) would otherwise be removed
 * through into the host's.
 */
export async function removeTree(dir: string): Promise<void> {
  await unmountUnder(dir);
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new Error(`cannot remove ${dir}: ${left[0]} is still mounted`);
  await rm(dir, { recursive: true, force: true });
}
