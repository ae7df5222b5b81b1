/**
 * The reconcile loop every reconciler runs on: keys (resource ids) are
 * scheduled by change notifications, driver events, start-up adoption and a
 * periodic resync; the loop runs the reconciler's step for them.
 *
 *  - One chain per key: steps for a key never overlap; a key scheduled while
 *    its chain runs gets one more step when the current one ends; a step that
 *    answers false (not settled) is run again at once.
 *  - A step that throws is retried with exponential backoff (retryBaseMs,
 *    doubling up to maxRetryMs); scheduling the key meanwhile runs it at once.
 *  - commit(fn): writes queued in one turn of the event loop share one
 *    transaction (one fsync for a thousand launches), each in its own
 *    savepoint so one failure spoils no other; a flush ends when the turn's
 *    slice is spent (runtime/turns.ts) and commits the rest in the next turn;
 *    the steps it settles resume in slices too, not all in the turn of the commit.
 *  - each step waits for a turn with slice left, so steps for a thousand keys
 *    scheduled at once are spread over turns that poll for I/O in between.
 *  - start(): adopts what exists — every key the reconciler lists is looked
 *    at once — then resyncs every resyncMs (unref'd timer) so that what
 *    drifted without a notification or an event is found again.
 *  - watch(stream, keysOf): a driver's events schedule the keys they concern.
 */
import type { Store } from '../store/store.js';
import { mustWait, resumeInSlices, slice, sliceUsed } from '../runtime/turns.js';
import type { EventStream, Unsubscribe } from '../compute/driver.js';

export interface LoopHandler {
  /** One look at one key; true when it needs nothing more right now. Throw to retry later. */
  step(key: string): Promise<boolean>;
  /** Every key to look at: on start-up ('start') and at each resync ('resync'). */
  keys(why: 'start' | 'resync'): Promise<Iterable<string>>;
}

export interface LoopOptions {
  store: Store;
  /** prefix of log lines */
  name: string;
  /** where failures are reported (default: stderr) */
  log?: (line: string) => void;
  /** first retry delay after a failed step; doubles up to maxRetryMs (default 500 ms) */
  retryBaseMs?: number;
  /** default 30 s */
  maxRetryMs?: number;
  /** every key is looked at again this often (default 60 s; 0 = never) */
  resyncMs?: number;
}

interface Chain {
  again: boolean;
  done: Promise<void>;
}

interface Write {
  fn: () => unknown;
  resolve: (v: unknown) => void;
  reject: (err: unknown) => void;
}

export class ReconcileLoop {
  private readonly chains = new Map<string, Chain>();
  private readonly writes: Write[] = [];
  private readonly retries = new Map<string, NodeJS.Timeout>();
  private readonly attempts = new Map<string, number>();
  private readonly subscriptions: Unsubscribe[] = [];
  private resyncTimer: NodeJS.Timeout | undefined;
  private resyncing: Promise<number> | undefined;
  private stopped = false;
  private readonly log: (line: string) => void;

  constructor(
    private readonly handler: LoopHandler,
    private readonly opts: LoopOptions,
  ) {
    this.log = opts.log ?? ((line) => process.stderr.write(`reconcile/${opts.name}: ${line}\n`));
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  /** Whether a chain is running for the key. */
  busy(key: string): boolean {
    return this.chains.has(key);
  }

  /** Looks at every listed key, then every resyncMs. */
  async start(): Promise<void> {
    for (const key of await this.handler.keys('start')) this.schedule(key);
    const every = this.opts.resyncMs ?? 60_000;
    if (every > 0) {
      this.resyncTimer = setInterval(() => void this.resync().catch((err) => this.log(`resync: ${message(err)}`)), every);
      this.resyncTimer.unref();
    }
  }

  /** Schedules every key the reconciler lists; resolves with how many. Concurrent calls share one pass. */
  resync(): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    this.resyncing ??= (async () => {
      try {
        let n = 0;
        for (const key of await this.handler.keys('resync')) {
          this.schedule(key);
          n++;
        }
        return n;
      } finally {
        this.resyncing = undefined;
      }
    })();
    return this.resyncing;
  }

  /** Schedules the keys a driver's events concern, until stop(). */
  watch<E>(stream: EventStream<E>, keysOf: (event: E) => Iterable<string> | string | undefined): void {
    this.subscriptions.push(
      stream((e) => {
        if (this.stopped) return;
        const keys = keysOf(e);
        if (keys === undefined) return;
        for (const k of typeof keys === 'string' ? [keys] : keys) this.schedule(k);
      }),
    );
  }

  schedule(key: string): void {
    if (this.stopped) return;
    const running = this.chains.get(key);
    if (running) {
      running.again = true;
      return;
    }
    const retry = this.retries.get(key);
    if (retry) {
      clearTimeout(retry);
      this.retries.delete(key);
    }
    const chain: Chain = { again: true, done: Promise.resolve() };
    this.chains.set(key, chain);
    chain.done = (async () => {
      try {
        while (chain.again && !this.stopped) {
          chain.again = false;
          try {
            // a step scheduled before stop() runs even if it waited for its slice meanwhile:
            // stop() waits for it, as for one that had begun
            if (mustWait()) await slice();
            const settled = await this.handler.step(key);
            if (!settled) chain.again = true;
            this.attempts.delete(key);
          } catch (err) {
            this.retryLater(key, err);
            break;
          }
        }
      } finally {
        this.chains.delete(key);
      }
    })();
  }

  /** Stops timers and event subscriptions; resolves when in-flight steps have settled. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe();
    for (const t of this.retries.values()) clearTimeout(t);
    this.retries.clear();
    await this.idle();
  }

  /** Resolves when no step is in flight (retries waiting on a timer do not count). */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()].map((c) => c.done));
  }

  /**
   * Runs fn in a savepoint of the transaction shared by every write queued in
   * this turn of the event loop, and resolves with its result once that
   * transaction has committed (rejects if fn threw — its savepoint rolled back —
   * or the commit failed).
   */
  commit<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.writes.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.writes.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const batch: Write[] = [];
    const settle: (() => void)[] = [];
    const { store } = this.opts;
    try {
      store.transaction(() => {
        // Writes share one transaction for as long as the turn's slice lasts; the rest go to
        // the next turn, so that a thousand launches settling at once never hold the event
        // loop (and every API call waiting on it) for long.
        sliceUsed();
        do {
          const w = this.writes.shift()!;
          batch.push(w);
          try {
            const value = store.transaction(w.fn);
            settle.push(() => w.resolve(value));
          } catch (err) {
            settle.push(() => w.reject(err));
          }
        } while (this.writes.length > 0 && !sliceUsed());
      });
    } catch (err) {
      for (const w of batch) w.reject(err);
      settle.length = 0;
    } finally {
      if (this.writes.length > 0) setImmediate(() => this.flush());
    }
    // each settled write resumes the step that awaited it: one by one, in slices, not all
    // in this stretch (a step goes on to its next driver call or commit from there)
    resumeInSlices(settle);
  }

  private retryLater(key: string, err: unknown): void {
    const n = (this.attempts.get(key) ?? 0) + 1;
    this.attempts.set(key, n);
    const delay = Math.min((this.opts.retryBaseMs ?? 500) * 2 ** (n - 1), this.opts.maxRetryMs ?? 30_000);
    this.log(`${key}: ${message(err)} (attempt ${n}, retrying in ${delay} ms)`);
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.retries.delete(key);
      this.schedule(key);
    }, delay);
    timer.unref();
    this.retries.set(key, timer);
  }
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));
