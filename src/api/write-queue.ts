/**
 * Admission control for mutating calls. A handler runs synchronously inside one
 * SQLite transaction, so without this every request whose body has arrived runs
 * its write in the I/O callback that completed it: a burst of 500 RunInstances
 * is one long stretch of event-loop work, and a DescribeRegions that arrived in
 * the middle waits behind all of it. Here writes are queued instead: at most one
 * runs inline per event-loop turn, the rest run one per turn (setImmediate), so
 * the poll phase — reads, other sockets — gets the loop between two writes. The
 * queue, plus the calls still in their async `prepare` step (CreateKeyPair's key
 * generation on the thread pool, which queues there unbounded otherwise), is
 * what `--max-pending-writes` bounds: one more is refused with EC2's
 * RequestLimitExceeded (HTTP 503) at once, before any work is done for it.
 */
import { Ec2Error } from '../domain/errors.js';

export class WriteQueue {
  private readonly queue: (() => void)[] = [];
  /** calls admitted and not finished: in prepare, queued, or running */
  private pending = 0;
  private ranThisTurn = false;
  private draining = false;

  /** `max` pending writes; 0 turns admission control off (every write runs at once). */
  constructor(readonly max: number) {}

  get size(): number {
    return this.pending;
  }

  /** Refuses a write when the queue is full; otherwise counts it as pending until `done`. */
  admit(): { done: () => void } {
    if (this.max > 0 && this.pending >= this.max) {
      throw new Ec2Error('RequestLimitExceeded', 'Request limit exceeded: too many pending write requests.', 503);
    }
    this.pending++;
    let finished = false;
    return {
      done: () => {
        if (finished) return;
        finished = true;
        this.pending--;
      },
    };
  }

  /** Runs `fn` now when no write ran in this turn and none waits; else after the writes queued before it. */
  run<T>(fn: () => T): T | Promise<T> {
    if (this.max === 0) return fn();
    if (!this.ranThisTurn && this.queue.length === 0) {
      this.markTurn();
      return fn();
    }
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => {
        try {
          resolve(fn());
        } catch (e) {
          reject(e);
        }
      });
      this.drain();
    });
  }

  private markTurn(): void {
    if (this.ranThisTurn) return;
    this.ranThisTurn = true;
    setImmediate(() => (this.ranThisTurn = false));
  }

  /** One queued write per turn: between two, the loop polls for I/O (and serves reads). */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    const next = (): void => {
      const job = this.queue.shift();
      if (!job) {
        this.draining = false;
        return;
      }
      this.markTurn();
      job();
      setImmediate(next);
    };
    setImmediate(next);
  }
}
