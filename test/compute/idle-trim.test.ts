import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IdleTrim } from '../../src/compute/drivers/container/idle-trim.js';
import type { InstanceCgroupFiles } from '../../src/host/cgroups.js';

const MiB = 1024 * 1024;

/** Cgroup files of pretend machines: CPU time and page cache set by the test; a reclaim empties the cache down to what is `pinned`. */
function fakeFiles() {
  const cpu = new Map<string, number>();
  const cache = new Map<string, number>();
  const pinned = new Map<string, number>();
  const reclaims: string[] = [];
  const files: InstanceCgroupFiles = {
    cpuNs: async (id) => cpu.get(id),
    pageCacheBytes: async (id) => cache.get(id),
    reclaim: async (id) => {
      reclaims.push(id);
      cache.set(id, pinned.get(id) ?? 0);
    },
  };
  return { files, cpu, cache, pinned, reclaims };
}

describe('idle trim of page cache', () => {
  it('reclaims an idle machine once per idle spell, and not a busy one', async () => {
    const f = fakeFiles();
    const trim = new IdleTrim(f.files, { idleCpuShare: 0.02, minBytes: 4 * MiB });
    f.cpu.set('i-idle', 1e9).set('i-busy', 1e9);
    f.cache.set('i-idle', 60 * MiB).set('i-busy', 60 * MiB);
    f.pinned.set('i-idle', 2 * MiB);
    assert.deepEqual(await trim.tick(['i-idle', 'i-busy'], 0), [], 'the first look only counts');
    // over 2 s: the idle one used 10 ms of CPU (0.5 %), the busy one 1 s (50 %)
    f.cpu.set('i-idle', 1.01e9).set('i-busy', 2e9);
    assert.deepEqual(await trim.tick(['i-idle', 'i-busy'], 2000), ['i-idle']);
    assert.equal(f.cache.get('i-idle'), 2 * MiB, 'its cache is given back');
    assert.equal(f.cache.get('i-busy'), 60 * MiB, 'a busy machine keeps its cache');
    // still idle, cache grown by less than minBytes: left alone
    f.cache.set('i-idle', 5 * MiB);
    f.cpu.set('i-busy', 3e9);
    assert.deepEqual(await trim.tick(['i-idle', 'i-busy'], 4000), []);
    // grown by more: trimmed again
    f.cache.set('i-idle', 12 * MiB);
    assert.deepEqual(await trim.tick(['i-idle'], 6000), ['i-idle']);
    assert.deepEqual(f.reclaims, ['i-idle', 'i-idle']);
  });

  it('trims again after a busy spell, leaves small caches alone, and starts over for a restarted machine', async () => {
    const f = fakeFiles();
    const trim = new IdleTrim(f.files, { minBytes: 4 * MiB });
    f.cpu.set('i-a', 0);
    f.cache.set('i-a', 3 * MiB);
    await trim.tick(['i-a'], 0);
    assert.deepEqual(await trim.tick(['i-a'], 2000), [], 'below minBytes: nothing to gain');
    f.cache.set('i-a', 40 * MiB);
    assert.deepEqual(await trim.tick(['i-a'], 4000), ['i-a']);
    f.cpu.set('i-a', 1e9); // busy for a while
    f.cache.set('i-a', 6 * MiB);
    assert.deepEqual(await trim.tick(['i-a'], 6000), []);
    assert.deepEqual(await trim.tick(['i-a'], 8000), ['i-a'], 'idle again: the new spell trims, though the cache grew by less than minBytes since the last trim');
    // restarted: its CPU count starts from zero; the first look only counts again
    f.cpu.set('i-a', 1000);
    f.cache.set('i-a', 50 * MiB);
    assert.deepEqual(await trim.tick(['i-a'], 10_000), []);
    assert.deepEqual(await trim.tick(['i-a'], 12_000), ['i-a']);
  });

  it('forgets machines no longer running and skips those without cgroup files', async () => {
    const f = fakeFiles();
    const trim = new IdleTrim(f.files);
    f.cpu.set('i-a', 0);
    f.cache.set('i-a', 50 * MiB);
    await trim.tick(['i-a', 'i-gone'], 0);
    await trim.tick([], 2000); // i-a stopped: forgotten
    assert.deepEqual(await trim.tick(['i-a'], 4000), [], 'back again: counted afresh');
    assert.deepEqual(await trim.tick(['i-a'], 6000), ['i-a']);
    assert.deepEqual(f.reclaims, ['i-a']);
  });
});
