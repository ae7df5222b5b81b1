/**
 * WAL checkpoints on a thread of their own. SQLite's automatic checkpoint runs
 * inside the commit that pushes the WAL past 1,000 pages: it copies pages into
 * the database file and fsyncs it, for milliseconds, on the event loop — and
 * every request waits meanwhile (seen as the p99 of DescribeRegions under a
 * burst of RunInstances). Here the main connection turns the automatic
 * checkpoint off and a worker thread with a connection of its own runs
 * PASSIVE checkpoints every `everyMs`: they never wait for or block the
 * writer, and a new write transaction starts the WAL over once a checkpoint
 * has caught up. A checkpoint cut short (the worker stopped, the process
 * killed) is harmless: the WAL still holds every commit.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
let timer;
const tick = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (e) {
    parentPort.postMessage({ error: String((e && e.message) || e) });
  }
  timer = setTimeout(tick, workerData.everyMs);
};
timer = setTimeout(tick, workerData.everyMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearTimeout(timer);
  db.close();
  parentPort.close();
});
`;

/** better-sqlite3's entry point, resolved here so that the worker loads the same driver. */
const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

export class Checkpointer {
  private readonly worker: Worker;

  /** Starts checkpointing the WAL of the database `file` every `everyMs` (the caller turns wal_autocheckpoint off). */
  constructor(file: string, everyMs: number, log: (line: string) => void = (l) => process.stderr.write(`store: ${l}\n`)) {
    this.worker = new Worker(WORKER, { eval: true, execArgv: [], workerData: { file, everyMs, driver: DRIVER } });
    this.worker.on('message', (m: { error?: string }) => {
      if (m.error !== undefined) log(`WAL checkpoint failed: ${m.error}`);
    });
    this.worker.on('error', (e: Error) => log(`WAL checkpointer stopped: ${e.message}`));
    // never what keeps the process alive
    this.worker.unref();
  }

  /** Stops after the checkpoint in progress, if any; the worker closes its connection. */
  stop(): void {
    this.worker.postMessage('stop');
  }
}
