/**
 * Reading and hashing blocks of a file. Many (hashRuns): on every core, worker threads each
 * read runs of blocks (O_DIRECT when the file allows it: the clone being
 * snapshotted is read once, so the page cache would only cost a copy) and
 * answer each block's fingerprint, or null for a block of zeros. Results come back
 * in the order of the runs. The workers are plain JavaScript evaluated from a
 * string, so they run the same under the development loader and in the bundle.
 * A few (hashRunsHere): no thread to start, several runs read at once (O_DIRECT as well)
 * on libuv's threads, each hashed here as it arrives.
 *
 * A block's fingerprint is its XXH64 (hash-wasm's WebAssembly build, some 10 GB/s a core here
 * against 1.9 GB/s for SHA-256 with the CPU's SHA instructions): 16 hex digits. It is not a
 * cryptographic hash, so it only finds candidates: a block is taken as a copy of another only
 * once their bytes compare equal (the chunk store does that), and a guest that writes blocks
 * crafted to collide gets them stored, not mixed up.
 */
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { createXXHash64, type IHasher } from 'hash-wasm';

export interface Run {
  first: number;
  n: number;
}

export interface HashedRun extends Run {
  /** per block: its fingerprint (XXH64, 16 hex digits), or null when all zeros */
  hashes: (string | null)[];
  /** the run's bytes, when asked for */
  data?: Buffer;
}

const WORKER = String.raw`
(async () => {
  const { parentPort } = await import('node:worker_threads');
  const fs = await import('node:fs');
  const { createXXHash64 } = require(require('node:worker_threads').workerData.xxhash64);
  const hasher = await createXXHash64();
  // one call's file at a time: { open } starts it, { close } ends it, every other message is a run
  let file, bs, keep, fd, plain, zeros, buf;
  const closeAll = () => {
    if (fd !== undefined) fs.closeSync(fd);
    if (plain !== undefined) fs.closeSync(plain);
    fd = plain = file = undefined;
  };
  const readAt = (off, len, pos) => {
    if (fd !== undefined) {
      try { return fs.readSync(fd, buf, off, len, pos); } catch (e) { if (e.code !== 'EINVAL') throw e; }
    }
    // where O_DIRECT is refused after all (EINVAL), the page cache's way
    plain ??= fs.openSync(file, 'r');
    return fs.readSync(plain, buf, off, len, pos);
  };
  parentPort.on('message', (m) => {
    if (m.close) { closeAll(); return; }
    try {
      if (m.open !== undefined) {
        closeAll();
        ({ bs, keep } = m);
        file = m.open;
        if (zeros === undefined || zeros.length !== bs) zeros = Buffer.alloc(bs);
        if (buf === undefined || buf.length < m.maxBytes) {
          // memory O_DIRECT takes: a WebAssembly memory starts on a page (Node cannot ask for aligned memory otherwise)
          const pages = Math.ceil(m.maxBytes / 65536);
          buf = Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer);
        }
        try { fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT); } catch { fd = undefined; plain = fs.openSync(file, 'r'); }
        parentPort.postMessage({ call: m.call, id: m.id, hashes: [] });
        return;
      }
      const len = m.n * bs;
      let got = 0;
      while (got < len) {
        const r = readAt(got, len - got, m.first * bs + got);
        if (r === 0) break;
        got += r;
      }
      if (got < len) buf.fill(0, got, len);
      const hashes = [];
      for (let k = 0; k < m.n; k++) {
        const b = buf.subarray(k * bs, (k + 1) * bs);
        if (b.equals(zeros)) hashes.push(null);
        else {
          hasher.init();
          hasher.update(b);
          hashes.push(hasher.digest('hex'));
        }
      }
      if (keep) {
        const data = new Uint8Array(len);
        data.set(buf.subarray(0, len));
        parentPort.postMessage({ call: m.call, id: m.id, hashes, data }, [data.buffer]);
      } else parentPort.postMessage({ call: m.call, id: m.id, hashes });
    } catch (e) {
      parentPort.postMessage({ call: m.call, id: m.id, error: String(e && e.stack || e) });
    }
  });
})();
`;

/**
 * Threads that read and hash: two per core, so one thread's read (it waits on the device)
 * overlaps another's hashing on the same core.
 */
const HASH_THREADS = Math.max(2, 2 * availableParallelism());

/** How long hashing threads are kept after a call, for the next snapshot (starting them costs some 30 ms). */
const KEEP_THREADS_MS = 30_000;

interface Reply {
  /** the call it answers (a thread can answer a call that ended: see hashRuns) */
  call: number;
  id: number;
  hashes?: (string | null)[];
  data?: Uint8Array;
  error?: string;
}

/**
 * The hashing threads, kept between calls: a call takes some for itself and gives them back;
 * the ones idle for KEEP_THREADS_MS end. They never keep the process alive.
 */
class HashThreads {
  private readonly idle: Worker[] = [];
  private timer: NodeJS.Timeout | undefined;

  take(n: number): Worker[] {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const out = this.idle.splice(0, n);
    while (out.length < n) out.push(spawn());
    return out;
  }

  give(workers: Worker[]): void {
    this.idle.push(...workers);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.end(), KEEP_THREADS_MS);
    this.timer.unref();
  }

  /** Drops a thread that ended while idle (it is never handed to a call). */
  forget(w: Worker): void {
    const i = this.idle.indexOf(w);
    if (i >= 0) this.idle.splice(i, 1);
  }

  /** Ends the idle threads now (the busy ones end when given back after this). */
  end(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const gone = this.idle.splice(0);
    return Promise.all(gone.map((w) => w.terminate())).then(() => undefined);
  }

  get idleCount(): number {
    return this.idle.length;
  }
}

/** hash-wasm's XXH64 alone, as a CommonJS file a worker requires (resolved here: in the bundle too, from node_modules) */
const XXHASH64_MODULE = createRequire(import.meta.url).resolve('hash-wasm/dist/xxhash64.umd.min.js');

function spawn(): Worker {
  const w = new Worker(WORKER, { eval: true, execArgv: [], workerData: { xxhash64: XXHASH64_MODULE } });
  w.unref();
  // a call listens for its threads' errors; one that fails idle is dropped, not thrown
  w.on('error', () => undefined);
  w.once('exit', () => threadsKept.forget(w));
  return w;
}

const threadsKept = new HashThreads();

/** hashRuns calls so far: each tells its messages by its number */
let calls = 0;

/** Ends the hashing threads kept between calls (tests, and a store closing the last of its work). */
export function endHashThreads(): Promise<void> {
  return threadsKept.end();
}

/** Hashing threads kept now, idle: started, ready for a call. */
export function idleHashThreads(): number {
  return threadsKept.idleCount;
}

/**
 * Hashes the blocks of `runs` (each at most `maxBlocks` long) of `file`, yielding them in order.
 * `keep`: with their bytes.
 */
export async function* hashRuns(file: string, bs: number, runs: readonly Run[], opts: { keep?: boolean; threads?: number } = {}): AsyncGenerator<HashedRun> {
  if (runs.length === 0) return;
  const maxBytes = Math.max(...runs.map((r) => r.n)) * bs;
  const threads = Math.max(1, Math.min(opts.threads ?? HASH_THREADS, runs.length, 8));
  const workers = threadsKept.take(threads);
  // A thread just started may still be starting when the others have done every run: the call ends
  // without it, and its answer to the call's open comes later, to the next call; that one ignores it.
  const call = ++calls;
  const done = new Map<number, Reply>();
  let failed: Error | undefined;
  let wake: (() => void) | undefined;
  let next = 0;
  const send = (w: Worker) => {
    if (next < runs.length) {
      const r = runs[next]!;
      w.postMessage({ call, id: next++, first: r.first, n: r.n });
    }
  };
  let finished = false;
  const listeners = workers.map((w) => {
    const onMessage = (m: Reply) => {
      if (m.call !== call) return;
      if (m.id < 0) {
        // the file is open: two runs queued, one being read, one waiting
        if (m.error !== undefined) failed = new Error(`hashing ${file}: ${m.error}`);
        send(w);
        send(w);
      } else {
        done.set(m.id, m);
        send(w);
      }
      wake?.();
    };
    const onError = (e: Error) => {
      failed = e;
      wake?.();
    };
    w.on('message', onMessage);
    w.on('error', onError);
    return { w, onMessage, onError };
  });
  try {
    for (const w of workers) w.postMessage({ call, id: -1, open: file, bs, maxBytes, keep: opts.keep === true });
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
    finished = true;
  } finally {
    for (const { w, onMessage, onError } of listeners) {
      w.off('message', onMessage);
      w.off('error', onError);
    }
    if (!finished || failed) {
      // cut short or failed: runs may still be in flight; these threads are not reused
      await Promise.all(workers.map((w) => w.terminate()));
    } else {
      for (const w of workers) w.postMessage({ close: true });
      threadsKept.give(workers);
    }
  }
}

/** runs read and hashed at once in hashRunsHere */
const HERE_DEPTH = 16;

/**
 * hashRuns without threads of its own: `depth` runs read at once on libuv's threads (O_DIRECT when the
 * file allows it), each hashed here as it arrives (some 0.2 ms per 2 MiB), so the reads of the others go
 * on meanwhile. For up to a few hundred MiB, where starting worker threads (some 30 ms on an idle host,
 * several times that on a busy one) costs more than it saves.
 * `keep`: with their bytes, valid until the next run is asked for.
 */
export async function* hashRunsHere(file: string, bs: number, runs: readonly Run[], opts: { keep?: boolean; depth?: number } = {}): AsyncGenerator<HashedRun> {
  if (runs.length === 0) return;
  const maxBytes = Math.max(...runs.map((r) => r.n)) * bs;
  const depth = Math.max(1, Math.min(opts.depth ?? HERE_DEPTH, runs.length));
  const source = await openForReading(file);
  const zeros = Buffer.alloc(bs);
  const hasher = await xxhash64();
  // one buffer per run in flight and one for the run handed out
  const free: Buffer[] = [];
  for (let k = 0; k <= depth; k++) free.push(alignedBuffer(maxBytes));
  let next = 0;
  const inflight: Promise<{ r: Run; buf: Buffer; hashes: (string | null)[] }>[] = [];
  const fill = () => {
    while (inflight.length < depth && next < runs.length && free.length > 0) {
      const r = runs[next++]!;
      const buf = free.pop()!;
      const p = source.read(buf, r.n * bs, r.first * bs).then(() => ({ r, buf, hashes: hashBlocks(hasher, buf, r.n, bs, zeros) }));
      p.catch(() => undefined); // a run still in flight when the consumer stops is not an unhandled rejection
      inflight.push(p);
    }
  };
  try {
    fill();
    while (inflight.length > 0) {
      const { r, buf, hashes } = await inflight.shift()!;
      fill();
      yield opts.keep ? { ...r, hashes, data: buf.subarray(0, r.n * bs) } : { ...r, hashes };
      free.push(buf);
      fill();
    }
  } finally {
    await Promise.allSettled(inflight);
    await source.close();
  }
}

/** This thread's XXH64 hasher (one: every use is synchronous), made at first use. */
let hereHasher: Promise<IHasher> | undefined;
function xxhash64(): Promise<IHasher> {
  hereHasher ??= createXXHash64().catch((e: unknown) => {
    hereHasher = undefined;
    throw e;
  });
  return hereHasher;
}

/** Each block's fingerprint (null for zeros). */
function hashBlocks(hasher: IHasher, buf: Buffer, n: number, bs: number, zeros: Buffer): (string | null)[] {
  const out: (string | null)[] = [];
  for (let k = 0; k < n; k++) {
    const b = buf.subarray(k * bs, (k + 1) * bs);
    if (b.equals(zeros)) out.push(null);
    else {
      hasher.init();
      hasher.update(b);
      out.push(hasher.digest('hex'));
    }
  }
  return out;
}

/** Memory O_DIRECT takes: a WebAssembly memory starts on a page (Node cannot ask for aligned memory otherwise). */
function alignedBuffer(bytes: number): Buffer {
  const pages = Math.max(1, Math.ceil(bytes / 65536));
  return Buffer.from(new WebAssembly.Memory({ initial: pages, maximum: pages }).buffer, 0, bytes);
}

/**
 * Reads of `file` past the page cache (O_DIRECT), or through it where O_DIRECT is refused (at the open, or
 * EINVAL on a read: a filesystem that wants more than page alignment). Past the end of the file reads as zeros.
 */
async function openForReading(file: string): Promise<{ read: (buf: Buffer, len: number, pos: number) => Promise<void>; close: () => Promise<void> }> {
  const direct = await open(file, constants.O_RDONLY | constants.O_DIRECT).catch(() => undefined);
  let plain: Promise<FileHandle> | undefined = direct ? undefined : open(file, 'r');
  const fully = async (fh: FileHandle, buf: Buffer, len: number, pos: number): Promise<void> => {
    let got = 0;
    while (got < len) {
      const { bytesRead } = await fh.read(buf, got, len - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < len) buf.fill(0, got, len);
  };
  return {
    read: async (buf, len, pos) => {
      if (direct) {
        try {
          return await fully(direct, buf, len, pos);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EINVAL') throw e;
        }
      }
      return fully(await (plain ??= open(file, 'r')), buf, len, pos);
    },
    close: async () => {
      await direct?.close();
      if (plain) await (await plain).close();
    },
  };
}
