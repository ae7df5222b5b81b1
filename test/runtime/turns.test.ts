import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slice, sliceUsed, waitingUnits } from '../../src/runtime/turns.js';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('event-loop slices for background work', () => {
  it('resumes waiters in order, a slice of them per turn, with the loop polling in between', async () => {
    const order: string[] = [];
    let turns = 0;
    let counting = true;
    const countTurns = () => {
      if (!counting) return;
      turns++;
      setImmediate(countTurns);
    };
    setImmediate(countTurns);
    // this turn's slice is spent before the units ask: every one of them waits
    sliceUsed();
    busy(1.2);
    // eight units of 0.6 ms: more than one turn's 1 ms slice
    const units = Array.from({ length: 8 }, async (_, i) => {
      await slice();
      busy(0.6);
      order.push(`u${i}`);
    });
    assert.equal(waitingUnits(), 8, 'with the slice spent, all eight wait');
    await Promise.all(units);
    counting = false;
    assert.deepEqual(order, ['u0', 'u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7'], 'in the order they asked');
    assert.ok(turns >= 3, `spread over several turns (saw ${turns})`);
    assert.equal(waitingUnits(), 0);
  });

  it('lets every turn run at least one unit, however long units take', async () => {
    const done: number[] = [];
    const units = Array.from({ length: 3 }, async (_, i) => {
      await slice();
      busy(3);
      done.push(i);
    });
    await Promise.all(units);
    assert.deepEqual(done, [0, 1, 2]);
  });

  it("counts a unit's continuations in its slice, not only its first step", async () => {
    // a write's handler returns quickly and its response is serialized in promise
    // callbacks after it: the next unit must not start before those have run
    let turn = 0;
    let counting = true;
    const countTurns = () => {
      if (!counting) return;
      turn++;
      setImmediate(countTurns);
    };
    setImmediate(countTurns);
    sliceUsed();
    busy(1.2);
    const finishedIn: number[] = [];
    const units = Array.from({ length: 4 }, async () => {
      await slice();
      busy(0.05);
      await Promise.resolve();
      await null;
      busy(2); // the continuation alone is more than a slice
      finishedIn.push(turn);
    });
    await Promise.all(units);
    counting = false;
    assert.equal(new Set(finishedIn).size, 4, `one unit per turn when each takes longer than the slice (finished in turns ${finishedIn.join(', ')})`);
  });
});
