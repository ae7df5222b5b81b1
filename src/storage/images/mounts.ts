/**
 * Mounts left under a build directory. debootstrap mounts /proc and /sys (and may
 * bind-mount /dev) inside its target and unmounts them when it exits — but not if it
 * is killed. Removing such a tree without unmounting first would descend into the
 * host's /dev or /sys, so every removal of a build directory unmounts what is below
 * it first.
 */
import { readFile, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { run } from '../../host/exec.js';

/** /proc/self/mounts escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** The mount points at or below `dir`, deepest first. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const base = resolve(dir);
  const text = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const points = text
    .split('\n')
    .map((line) => line.split(' ')[1])
    .filter((p): p is string => p !== undefined)
    .map(unescapeMountPath)
    .filter((p) => p === base || p.startsWith(`${base}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or below `dir` (lazily: a busy mount is detached all the same). */
export async function unmountUnder(dir: string): Promise<void> {
  for (const point of await mountsUnder(dir)) await run('umount', ['-l', point], { okCodes: [32] });
}

/** Removes a build directory, after unmounting whatever is mounted inside it. */
export async function removeTree(dir: string): Promise<void> {
  await unmountUnder(dir);
  const left = await mountsUnder(dir);
  if (left.length > 0) throw new Error(`cannot remove ${dir}: ${left[0]} is still mounted`);
  await rm(dir, { recursive: true, force: true });
}
