/**
 * The reader connection (the front thread's, SqliteOptions.reader): it sees each commit of
 * the writer at once, cached reads included; SQLite refuses every write on it; it opens only
 * a store at the current schema; and a kind whose keys the writer has not built yet is
 * refused with ReaderBehind (the call then goes to the writer) rather than read with
 * indexes that would miss records.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { kind } from '../../src/store/kind.js';
import { ReaderBehind, SqliteStore } from '../../src/store/sqlite.js';

interface Rec {
  id: string;
  color: string;
}

const PLAIN = kind<Rec>({ name: 'reader-plain' });
const INDEXED = kind<Rec>({ name: 'reader-indexed', indexes: [{ name: 'color', values: (r) => [r.color] }] });

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'overcast-reader-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the store reader connection', () => {
  it('sees every commit of the writer at once, through its cache too', () => {
    withDir((dir) => {
      const writer = new SqliteStore(dir);
      const reader = new SqliteStore(dir, { reader: true });
      try {
        const w = writer.collection(PLAIN);
        const r = reader.collection(PLAIN);
        for (let i = 0; i < 50; i++) {
          w.put('r1', `x${i}`, { id: `x${i}`, color: 'red' });
          // the list comes from the reader's cache after the first call: it must be dropped on each commit
          assert.equal(r.list('r1').length, i + 1, `after ${i + 1} writes`);
          assert.deepEqual(r.get('r1', `x${i}`), { id: `x${i}`, color: 'red' });
        }
        w.delete('r1', 'x0');
        assert.equal(r.get('r1', 'x0'), undefined);
        assert.equal(r.list('r1').length, 49);
        writer.setMeta('k', 'v');
        assert.equal(reader.getMeta('k'), 'v');
      } finally {
        reader.close();
        writer.close();
      }
    });
  });

  it('refuses every write, and changes nothing', () => {
    withDir((dir) => {
      const writer = new SqliteStore(dir);
      const reader = new SqliteStore(dir, { reader: true });
      try {
        writer.collection(PLAIN).put('r1', 'a', { id: 'a', color: 'red' });
        const r = reader.collection(PLAIN);
        assert.throws(() => r.put('r1', 'b', { id: 'b', color: 'blue' }), (e: { code?: string }) => e.code === 'SQLITE_READONLY');
        assert.throws(() => reader.setMeta('k', 'v'), (e: { code?: string }) => e.code === 'SQLITE_READONLY');
        assert.throws(() => r.delete('r1', 'a'), (e: { code?: string }) => e.code === 'SQLITE_READONLY');
        assert.deepEqual(writer.collection(PLAIN).list('r1').map((x) => x.id), ['a']);
        assert.equal(writer.getMeta('k'), undefined);
      } finally {
        reader.close();
        writer.close();
      }
    });
  });

  it('opens only an existing store at the current schema', () => {
    withDir((dir) => {
      assert.throws(() => new SqliteStore(join(dir, 'none'), { reader: true }));
      const writer = new SqliteStore(dir);
      const version = writer.schemaVersion;
      writer.db.pragma(`user_version = ${version - 1}`);
      assert.throws(() => new SqliteStore(dir, { reader: true }), /schema is version/);
      writer.db.pragma(`user_version = ${version}`);
      new SqliteStore(dir, { reader: true }).close();
      writer.close();
      assert.throws(() => new SqliteStore(':memory:', { reader: true }));
    });
  });

  it('refuses a kind whose keys the writer has not built, until it has', () => {
    withDir((dir) => {
      const writer = new SqliteStore(dir);
      writer.collection(INDEXED).put('r1', 'a', { id: 'a', color: 'red' });
      // as a database from before the kind had its index: records, no keys, no marker
      writer.db.exec("DELETE FROM resource_keys; DELETE FROM meta WHERE key LIKE 'keys-built:reader-indexed:%'");
      writer.close();
      const reader = new SqliteStore(dir, { reader: true });
      try {
        assert.throws(() => reader.collection(INDEXED), ReaderBehind);
        // the writer's next start builds them; then the reader finds the record by its index
        const again = new SqliteStore(dir);
        again.collection(INDEXED);
        again.close();
        assert.deepEqual(reader.collection(INDEXED).find('r1', 'color', 'red').map((x) => x.id), ['a']);
        // an empty kind has nothing to miss
        const EMPTY = kind<Rec>({ name: 'reader-empty', indexes: [{ name: 'color', values: (r) => [r.color] }] });
        assert.deepEqual(reader.collection(EMPTY).list('r1'), []);
      } finally {
        reader.close();
      }
    });
  });
});
