import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Emitter } from '../../src/compute/driver.js';
import { ReconcileLoop, type LoopHandler } from '../../src/reconcile/loop.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { kind } from '../../src/store/kind.js';

const tick = () => new Promise((r) => setImmediate(r));

function harness(step: (key: string) => Promise<boolean>, keys: string[] = [], opts: { resyncMs?: number; retryBaseMs?: number } = {}) {
  const store = new SqliteStore(':memory:');
  const logs: string[] = [];
  const calls: string[] = [];
  const handler: LoopHandler = {
    step: async (k) => {
      calls.push(k);
      return step(k);
    },
    keys: async (why) => {
      calls.push(`keys:${why}`);
      return keys;
    },
  };
  const loop = new ReconcileLoop(handler, { store, name: 'test', log: (l) => logs.push(l), resyncMs: opts.resyncMs ?? 0, retryBaseMs: opts.retryBaseMs ?? 5 });
  return { store, loop, logs, calls };
}

describe('reconcile loop', () => {
  it('runs steps for a key one at a time, once more when scheduled meanwhile, until settled', async () => {
    let running = 0;
    let maxRunning = 0;
    let unsettled = 2;
    const h = harness(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return unsettled-- <= 0;
    });
    h.loop.schedule('a');
    h.loop.schedule('a');
    h.loop.schedule('a');
    assert.ok(h.loop.busy('a'));
    await h.loop.idle();
    assert.equal(maxRunning, 1, 'never two steps of one key at once');
    assert.equal(h.calls.filter((c) => c === 'a').length, 3, 'two unsettled answers, then settled');
    await h.loop.stop();
    h.store.close();
  });

  it('retries a failing step with backoff, and logs each failure', async () => {
    let fails = 2;
    const h = harness(async () => {
      if (fails-- > 0) throw new Error('driver on fire');
      return true;
    });
    h.loop.schedule('k');
    for (let i = 0; i < 50 && h.calls.length < 3; i++) await new Promise((r) => setTimeout(r, 5));
    await h.loop.idle();
    assert.equal(h.calls.length, 3);
    assert.match(h.logs[0]!, /k: driver on fire \(attempt 1, retrying in 5 ms\)/);
    assert.match(h.logs[1]!, /attempt 2, retrying in 10 ms/);
    await h.loop.stop();
    h.store.close();
  });

  it('adopts every listed key on start, resyncs on its timer, and stops resyncing on stop', async () => {
    const h = harness(async () => true, ['x', 'y'], { resyncMs: 20 });
    await h.loop.start();
    await h.loop.idle();
    assert.deepEqual(h.calls.slice(0, 3), ['keys:start', 'x', 'y']);
    for (let i = 0; i < 40 && !h.calls.includes('keys:resync'); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(h.calls.includes('keys:resync'), 'the resync timer looked again');
    await h.loop.idle();
    await h.loop.stop();
    const n = h.calls.length;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(h.calls.length, n, 'nothing after stop');
    h.store.close();
  });

  it('a watched event stream schedules the keys its events name, until stop', async () => {
    const h = harness(async () => true);
    const events = new Emitter<{ id: string }>();
    h.loop.watch(events.subscribe, (e) => e.id);
    events.emit({ id: 'i-1' });
    await h.loop.idle();
    assert.deepEqual(h.calls, ['i-1']);
    await h.loop.stop();
    assert.equal(events.size, 0, 'unsubscribed on stop');
    h.store.close();
  });

  it('writes queued in one turn share one transaction, each in its own savepoint', async () => {
    const h = harness(async () => true);
    const col = h.store.collection(kind<{ n: number }>({ name: 'thing' }));
    let outer = 0;
    const real = h.store.transaction.bind(h.store);
    h.store.transaction = <T>(fn: () => T): T => {
      if (!h.store.db.inTransaction) outer++;
      return real(fn);
    };
    // the three fit one slice whatever the host's load: time stands still while they run
    const now = performance.now.bind(performance);
    const frozen = now();
    performance.now = () => frozen;
    const results = await Promise.allSettled([
      h.loop.commit(() => col.put('r', 'a', { n: 1 })),
      h.loop.commit(() => {
        col.put('r', 'b', { n: 2 });
        throw new Error('this one fails');
      }),
      h.loop.commit(() => {
        col.put('r', 'c', { n: 3 });
        return 'c';
      }),
    ]).finally(() => (performance.now = now));
    assert.equal(outer, 1, 'one transaction for the three');
    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    assert.equal((results[2] as PromiseFulfilledResult<string>).value, 'c');
    assert.deepEqual(col.list('r').map((x) => x.n), [1, 3], 'the failed write was rolled back alone');
    await tick();
    await h.loop.stop();
    h.store.close();
  });
  it('yields the event loop between transactions when queued writes take longer than the flush budget', async () => {
    const h = harness(async () => true);
    const col = h.store.collection(kind<{ n: number }>({ name: 'thing' }));
    let outer = 0;
    const real = h.store.transaction.bind(h.store);
    h.store.transaction = <T>(fn: () => T): T => {
      if (!h.store.db.inTransaction) outer++;
      return real(fn);
    };
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    let writtenWhenOtherWorkRan = -1;
    const commits = Array.from({ length: 20 }, (_, n) =>
      h.loop.commit(() => {
        busy(1);
        col.put('r', `k${n}`, { n });
      }),
    );
    // queued after the first flush: runs between two of its transactions, not after all twenty writes
    setImmediate(() => setImmediate(() => (writtenWhenOtherWorkRan = col.list('r').length)));
    await Promise.all(commits);
    assert.equal(col.list('r').length, 20, 'every write committed');
    assert.ok(outer > 1, `more than one transaction for 20 writes of 1 ms each (got ${outer})`);
    assert.ok(writtenWhenOtherWorkRan > 0 && writtenWhenOtherWorkRan < 20, `other work ran in the middle (after ${writtenWhenOtherWorkRan} writes)`);
    await tick();
    await h.loop.stop();
    h.store.close();
  });
  it('resumes the steps a commit settled in slices, not all in the turn of the commit', async () => {
    const h = harness(async () => true);
    const col = h.store.collection(kind<{ n: number }>({ name: 'thing' }));
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    // twenty cheap writes: one transaction; each step that awaited one goes on for 0.5 ms
    let turns = 0;
    let counting = true;
    const countTurns = (): void => {
      if (!counting) return;
      turns++;
      setImmediate(countTurns);
    };
    const resumedInTurn: number[] = [];
    const steps = Array.from({ length: 20 }, async (_, n) => {
      await h.loop.commit(() => col.put('r', `k${n}`, { n }));
      resumedInTurn.push(turns);
      busy(0.5);
    });
    setImmediate(countTurns);
    await Promise.all(steps);
    counting = false;
    assert.equal(col.list('r').length, 20);
    const distinct = new Set(resumedInTurn).size;
    assert.ok(distinct >= 3, `10 ms of continuations spread over several turns (turns seen: ${[...new Set(resumedInTurn)].join(',')})`);
    await h.loop.stop();
    h.store.close();
  });
});
