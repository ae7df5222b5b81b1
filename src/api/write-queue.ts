/**
 * Admission control for mutating calls. A handler runs synchronously inside one
 * SQLite transaction, so without this every request whose body has arrived runs
 * its write in the I/O callback that completed it: a burst of 500 RunInstances
 * is one long stretch of event-loop work, and a DescribeRegions that arrived in
 * the middle waits behind all of it. Here writes are queued instead: at most one
 * runs inline per event-loop turn, the rest wait in the FIFO of background work
 * (runtime/turns.ts), which runs about a millisecond of it per turn, so the poll
 * phase — reads, other sockets — gets the loop between two slices. The
 * queue, plus the calls still in their async `prepare` step (CreateKeyPair's key
 * generation on the thread pool, which queues there unbounded otherwise), is
 * what `--max-pending-writes` bounds: one more is refused with EC2's
 * RequestLimitExceeded (HTTP 503) at once, before any work is done for it.
 */
import { Ec2Error } from '../domain/errors.js';
import { slice, sliceUsed } from '../runtime/turns.js';

export class WriteQueue {
  /** calls admitted and not finished: in prepare, queued, or running */
  private pending = 0;
  /** writes waiting for a slice of the event loop */
  private queued = 0;
  private ranThisTurn = false;

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

  /**
   * Runs `fn` now when no write ran in this turn, none waits and the turn's slice has room;
   * else after the writes (and other background work) queued before it, in a later slice.
   */
  run<T>(fn: () => T): T | Promise<T> {
    if (this.max === 0) return fn();
    if (!this.ranThisTurn && this.queued === 0 && !sliceUsed()) {
      this.markTurn();
      return fn();
    }
    this.queued++;
    return slice().then(() => {
      this.queued--;
      this.markTurn();
      return fn();
    });
  }

  private markTurn(): void {
    if (this.ranThisTurn) return;
    this.ranThisTurn = true;
    setImmediate(() => (this.ranThisTurn = false));
  }
}
