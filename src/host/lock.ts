/**
 * A lock between processes on one host: a file created exclusively (`open(…, 'wx')`)
 * that holds the owner's pid. A lock whose pid is gone (a killed build) is stale and
 * is taken over; a live owner is waited for.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { processAlive } from './processes.js';

/** Lock files this process holds (two caches on one directory in one process wait for each other too). */
const held = new Set<string>();

export interface FileLock {
  readonly path: string;
  release(): Promise<void>;
}


/** Tries once: the lock, or the pid holding it (undefined if it went away meanwhile: try again). */
async function tryLock(path: string): Promise<FileLock | { heldBy: number | undefined }> {
  try {
    const fh = await open(path, 'wx', 0o644);
    try {
      await fh.writeFile(`${process.pid}\n`);
    } finally {
      await fh.close();
    }
    let released = false;
    held.add(path);
    return {
      path,
      release: async () => {
        if (released) return;
        released = true;
        held.delete(path);
        await unlink(path).catch(() => {});
      },
    };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return { heldBy: undefined };
  const pid = Number.parseInt(text.trim(), 10);
  // An empty or torn file: its writer is between open and write, or died there.
  return { heldBy: Number.isInteger(pid) && pid > 0 ? pid : undefined };
}

/**
 * Takes the lock at `path`, waiting while a live process holds it (polling every
 * `pollMs`); `onWait` is told once which pid it waits for. A lock file naming a
 * dead pid, or none for longer than a poll, is removed and taken.
 */
export async function acquireLock(path: string, opts: { pollMs?: number; onWait?: (pid: number) => void } = {}): Promise<FileLock> {
  const pollMs = opts.pollMs ?? 200;
  let told = false;
  let unreadable = 0;
  for (;;) {
    const r = await tryLock(path);
    if ('release' in r) return r;
    if (r.heldBy === process.pid && !held.has(path)) {
      // Our own pid in a file we do not hold: left by an earlier, killed process that had our pid.
      await unlink(path).catch(() => {});
      continue;
    }
    if (r.heldBy !== undefined && r.heldBy !== process.pid && !processAlive(r.heldBy)) {
      await unlink(path).catch(() => {});
      continue;
    }
    if (r.heldBy === undefined) {
      if (++unreadable > 2) {
        await unlink(path).catch(() => {});
        unreadable = 0;
        continue;
      }
    } else if (!told) {
      told = true;
      opts.onWait?.(r.heldBy);
    }
    await new Promise((res) => setTimeout(res, pollMs));
  }
}
