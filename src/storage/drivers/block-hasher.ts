/**
 * Reading and hashing many blocks of a file on every core: worker threads each
 * read runs of blocks (O_DIRECT when the file allows it: the clone being
 * snapshotted is read once, so the page cache would only cost a copy) and
 * answer each block's sha256, or null for a block of zeros. Results come back
 * in the order of the runs. The workers are plain JavaScript evaluated from a
 * string, so they run the same under the development loader and in the bundle.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

export interface Run {
  first: number;
  n: number;
}

export interface HashedRun extends Run {
  /** per block: sha256 hex, or null when all zeros */
  hashes: (string | null)[];
  /** the run's bytes, when asked for */
  data?: Buffer;
}

const WORKER = String.raw`
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const fs = await import('node:fs');
  const { createHash } = await import('node:crypto');
  const { file, bs, maxBytes, keep } = workerData;
  let fd;
  let buf = Buffer.allocUnsafeSlow(maxBytes + 4096);
  let at = 0;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
    at = -1;
    for (let o = 0; o < 4096; o += 16) {
      try { fs.readSync(fd, buf, o, 4096, 0); at = o; break; } catch (e) { if (e.code !== 'EINVAL') throw e; }
    }
    if (at < 0) { fs.closeSync(fd); fd = undefined; at = 0; }
  } catch { fd = undefined; at = 0; }
  if (fd === undefined) fd = fs.openSync(file, 'r');
  const zeros = Buffer.alloc(bs);
  parentPort.on('message', (m) => {
    if (m === null) { fs.closeSync(fd); process.exit(0); }
    try {
      const len = m.n * bs;
      let got = 0;
      while (got < len) {
        const r = fs.readSync(fd, buf, at + got, len - got, m.first * bs + got);
        if (r === 0) break;
        got += r;
      }
      if (got < len) buf.fill(0, at + got, at + len);
      const hashes = [];
      for (let k = 0; k < m.n; k++) {
        const b = buf.subarray(at + k * bs, at + (k + 1) * bs);
        hashes.push(b.equals(zeros) ? null : createHash('sha256').update(b).digest('hex'));
      }
      if (keep) {
        const data = new Uint8Array(len);
        data.set(buf.subarray(at, at + len));
        parentPort.postMessage({ id: m.id, hashes, data }, [data.buffer]);
      } else parentPort.postMessage({ id: m.id, hashes });
    } catch (e) {
      parentPort.postMessage({ id: m.id, error: String(e && e.stack || e) });
    }
  });
})();
`;

/**
 * Threads that read and hash: two per core, so one thread's read (it waits on the device)
 * overlaps another's hashing on the same core.
 */
const HASH_THREADS = Math.max(2, 2 * availableParallelism());

interface Reply {
  id: number;
  hashes?: (string | null)[];
  data?: Uint8Array;
  error?: string;
}

/**
 * Hashes the blocks of `runs` (each at most `maxBlocks` long) of `file`, yielding them in order.
 * `keep`: with their bytes.
 */
export async function* hashRuns(file: string, bs: number, runs: readonly Run[], opts: { keep?: boolean; threads?: number } = {}): AsyncGenerator<HashedRun> {
  if (runs.length === 0) return;
  const maxBytes = Math.max(...runs.map((r) => r.n)) * bs;
  const threads = Math.max(1, Math.min(opts.threads ?? HASH_THREADS, runs.length, 8));
  const workers = Array.from({ length: threads }, () => new Worker(WORKER, { eval: true, execArgv: [], workerData: { file, bs, maxBytes, keep: opts.keep === true } }));
  const done = new Map<number, Reply>();
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  let next = 0;
  const send = (w: Worker) => {
    if (next < runs.length) {
      const r = runs[next]!;
      w.postMessage({ id: next++, first: r.first, n: r.n });
    }
  };
  for (const w of workers) {
    w.on('message', (m: Reply) => {
      done.set(m.id, m);
      send(w);
      wake?.();
    });
    w.on('error', (e: Error) => {
      failed = e;
      wake?.();
    });
  }
  try {
    // two runs queued per worker: one being read, one waiting
    for (const w of workers) {
      send(w);
      send(w);
    }
    for (let i = 0; i < runs.length; i++) {
      while (!done.has(i)) {
        if (failed) throw failed;
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
      const m = done.get(i)!;
      done.delete(i);
      if (m.error !== undefined) throw new Error(`hashing ${file}: ${m.error}`);
      const out: HashedRun = { ...runs[i]!, hashes: m.hashes ?? [] };
      if (m.data) out.data = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      yield out;
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
