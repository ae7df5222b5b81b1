import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { kind } from '../../src/store/kind.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `rounds` transactions of ~1 MiB each, pausing between them; returns the largest WAL size seen. */
async function writeRounds(store: SqliteStore, dir: string, rounds: number): Promise<number> {
  const col = store.collection(kind<{ blob: string }>({ name: 'blob' }));
  let largest = 0;
  for (let r = 0; r < rounds; r++) {
    store.transaction(() => {
      for (let i = 0; i < 16; i++) col.put('r', `k${r}-${i}`, { blob: String(r).repeat(64 * 1024) });
    });
    largest = Math.max(largest, statSync(join(dir, 'overcast.db-wal')).size);
    await sleep(300);
  }
  return largest;
}

describe('WAL checkpoints on a thread', () => {
  it('keep the WAL small while the main connection never checkpoints itself', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ovc-ckpt-'));
    const store = new SqliteStore(dir);
    try {
      assert.equal(store.db.pragma('wal_autocheckpoint', { simple: true }), 0, 'the commit path does not checkpoint');
      const largest = await writeRounds(store, dir, 8);
      // 8 rounds of ~1 MiB: without checkpoints the WAL holds all of them (~8 MiB+)
      assert.ok(largest < 4 * 1024 * 1024, `the WAL was started over between rounds (largest ${largest} bytes)`);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without the thread and without automatic checkpoints the WAL would keep growing (the control)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ovc-ckpt-'));
    const store = new SqliteStore(dir, { checkpoint: 'inline' });
    try {
      store.db.pragma('wal_autocheckpoint = 0');
      const largest = await writeRounds(store, dir, 8);
      assert.ok(largest > 6 * 1024 * 1024, `no one checkpointed (largest ${largest} bytes)`);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every commit is there after a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ovc-ckpt-'));
    try {
      const a = new SqliteStore(dir);
      await writeRounds(a, dir, 3);
      a.close();
      const b = new SqliteStore(dir);
      assert.equal(b.collection(kind<{ blob: string }>({ name: 'blob' })).list('r').length, 48);
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
