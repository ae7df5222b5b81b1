import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WriteQueue } from '../../src/api/write-queue.js';
import { Ec2Error } from '../../src/domain/errors.js';
import { loadConfig } from '../../src/config.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('write queue (admission control for mutating calls)', () => {
  it('refuses a write with RequestLimitExceeded (503) while max writes are pending, and admits again once one is done', () => {
    const q = new WriteQueue(2);
    const a = q.admit();
    q.admit();
    assert.throws(() => q.admit(), (e: unknown) => e instanceof Ec2Error && e.code === 'RequestLimitExceeded' && e.status === 503);
    a.done();
    a.done(); // twice is once
    assert.equal(q.size, 1);
    q.admit();
    assert.equal(q.size, 2);
  });

  it('runs one write inline per turn; the others wait in order, a slice of the loop (~1 ms) of them per turn, with the loop free between slices', async () => {
    const q = new WriteQueue(100);
    const order: string[] = [];
    /** a write that takes longer than a turn's slice */
    const slow = (name: string, v: number) => () => {
      const end = performance.now() + 1.5;
      while (performance.now() < end);
      order.push(name);
      return v;
    };
    const first = q.run(slow('w1', 1));
    assert.equal(first, 1, 'a lone write runs at once');
    const second = q.run(slow('w2', 2));
    const third = q.run(slow('w3', 3));
    assert.ok(second instanceof Promise && third instanceof Promise);
    setImmediate(() => order.push('other work'));
    assert.deepEqual(await Promise.all([second, third]), [2, 3]);
    // w2 spends its turn's slice: work scheduled meanwhile runs before w3
    assert.deepEqual(order, ['w1', 'w2', 'other work', 'w3']);
    await turn();
    await turn();
    assert.equal(q.run(() => 4), 4, 'an idle queue runs inline again');
  });

  it('passes a queued write\'s error to its caller', async () => {
    const q = new WriteQueue(10);
    q.run(() => 0);
    await assert.rejects(Promise.resolve(q.run(() => { throw new Error('boom'); })), /boom/);
  });

  it('is off with 0, and configured by --max-pending-writes / OVERCAST_MAX_PENDING_WRITES (default 1000)', () => {
    const q = new WriteQueue(0);
    for (let i = 0; i < 5; i++) q.admit();
    assert.equal(q.run(() => 1), 1);
    assert.equal(q.run(() => 2), 2);
    assert.equal(loadConfig([], {}).maxPendingWrites, 1000);
    assert.equal(loadConfig(['--max-pending-writes', '7'], {}).maxPendingWrites, 7);
    assert.equal(loadConfig([], { OVERCAST_MAX_PENDING_WRITES: '0' }).maxPendingWrites, 0);
    assert.throws(() => loadConfig(['--max-pending-writes', '-1'], {}));
  });
});
