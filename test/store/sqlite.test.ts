/** The SQLite store against the Store contract, on disk and in memory. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import { runStoreConformance } from './store.conformance.js';

runStoreConformance('SQLite on disk (WAL, synchronous NORMAL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'overcast-conformance-'));
  let store = new SqliteStore(dir);
  return {
    store,
    reopen: () => {
      store.close();
      return (store = new SqliteStore(dir));
    },
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

runStoreConformance('SQLite on disk (synchronous FULL)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'overcast-conformance-'));
  let store = new SqliteStore(dir, { durability: 'full' });
  return {
    store,
    reopen: () => {
      store.close();
      return (store = new SqliteStore(dir, { durability: 'full' }));
    },
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

runStoreConformance(
  'SQLite in memory',
  () => {
    const store = new SqliteStore(':memory:');
    return { store, cleanup: () => store.close() };
  },
  { 'durable across reopen': 'an in-memory database ends with its connection' },
);
