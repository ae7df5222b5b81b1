import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { kind, StoreConflict } from '../../src/store/kind.js';

const THING = kind<{ n: number }>({ name: 'thing' });
const DOC = kind<{ v: string; list?: string[] }>({ name: 'vpc' });

describe('store', () => {
  it('creates its data dir, migrates to the latest schema once, and keeps data across reopen', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'overcast-store-')), 'nested', 'data');
    try {
      const s = new SqliteStore(dir);
      assert.equal(s.schemaVersion, MIGRATIONS.length);
      assert.equal(s.db.pragma('journal_mode', { simple: true }), 'wal');
      s.collection(THING).put('us-east-1', 'a', { n: 1 });
      s.tags.set('us-east-1', 'a', 'thing', [{ Key: 'k', Value: 'v' }]);
      s.close();
      const again = new SqliteStore(dir);
      assert.equal(again.schemaVersion, MIGRATIONS.length);
      assert.deepEqual(again.collection(THING).get('us-east-1', 'a'), { n: 1 });
      assert.deepEqual(again.tags.forResource('us-east-1', 'a'), [{ Key: 'k', Value: 'v' }]);
      again.close();
    } finally {
      rmSync(join(dir, '..', '..'), { recursive: true, force: true });
    }
  });

  it('migrates a database left at an older schema version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-store-'));
    try {
      // a database at version 0: empty, as a first start leaves it before migrating
      new Database(join(dir, 'overcast.db')).close();
      const s = new SqliteStore(dir);
      assert.equal(s.schemaVersion, MIGRATIONS.length);
      const tables = (s.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]);
      assert.deepEqual(tables, ['idempotency', 'meta', 'resource_keys', 'resource_ranges', 'resources', 'tags']);
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("migration 3: a volume's single attachment of an older schema becomes its list of attachments", () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-store-'));
    try {
      const db = new Database(join(dir, 'overcast.db'));
      db.exec(MIGRATIONS[0]! + MIGRATIONS[1]!);
      db.pragma('user_version = 2');
      const put = db.prepare('INSERT INTO resources (region, kind, id, data) VALUES (?, ?, ?, ?)');
      const att = { InstanceId: 'i-0123456789abcdef0', Device: '/dev/sdf', State: 'attached', AttachTime: '2026-01-01T00:00:00.000Z', DeleteOnTermination: true };
      put.run('us-east-1', 'volume', 'vol-a', JSON.stringify({ VolumeId: 'vol-a', State: 'in-use', attachment: att }));
      put.run('us-east-1', 'volume', 'vol-b', JSON.stringify({ VolumeId: 'vol-b', State: 'available' }));
      put.run('us-east-1', 'thing', 'x', JSON.stringify({ attachment: { n: 1 } }));
      db.close();
      const s = new SqliteStore(dir);
      assert.equal(s.schemaVersion, MIGRATIONS.length);
      const doc = (id: string) => JSON.parse(s.db.prepare('SELECT data FROM resources WHERE id = ?').pluck().get(id) as string) as Record<string, unknown>;
      assert.deepEqual(doc('vol-a'), { VolumeId: 'vol-a', State: 'in-use', attachments: [att] });
      assert.deepEqual(doc('vol-b'), { VolumeId: 'vol-b', State: 'available', attachments: [] });
      assert.deepEqual(doc('x'), { attachment: { n: 1 } }, 'other kinds are left alone');
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('regions are separate namespaces; a failed transaction writes nothing', () => {
    const s = new SqliteStore(':memory:');
    const c = s.collection(DOC);
    c.put('us-east-1', 'vpc-1', { v: 'east' });
    c.put('eu-west-1', 'vpc-1', { v: 'west' });
    assert.equal(c.get('us-east-1', 'vpc-1')!.v, 'east');
    assert.equal(c.get('eu-west-1', 'vpc-1')!.v, 'west');
    assert.equal(c.list('ap-northeast-2').length, 0);
    assert.throws(() =>
      s.transaction(() => {
        c.put('us-east-1', 'vpc-2', { v: 'half' });
        throw new Error('boom');
      }),
    );
    assert.equal(c.get('us-east-1', 'vpc-2'), undefined);
    s.close();
  });

  it('reads outside a transaction come from a cache that writes, rollbacks and other connections keep true', () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-store-'));
    try {
      const s = new SqliteStore(dir);
      const c = s.collection(DOC);
      c.put('us-east-1', 'vpc-1', { v: 'one', list: ['a'] });
      const first = c.list('us-east-1');
      assert.deepEqual(first.map((r) => r.v), ['one']);
      // shared records are frozen all the way down, so a reader cannot change them for the next one
      assert.ok(Object.isFrozen(first[0]) && Object.isFrozen(first[0]!.list));
      assert.throws(() => {
        (first[0] as { v: string }).v = 'changed';
      }, TypeError);
      assert.equal(c.get('us-east-1', 'vpc-1'), first[0], 'a cached read hands out the same record');
      // a write drops the region's cache
      c.put('us-east-1', 'vpc-2', { v: 'two', list: [] });
      assert.deepEqual(c.list('us-east-1').map((r) => r.v), ['one', 'two']);
      // inside a transaction reads are fresh and changeable; a rollback leaves nothing behind
      assert.throws(() =>
        s.transaction(() => {
          const rec = c.get('us-east-1', 'vpc-1')!;
          assert.ok(!Object.isFrozen(rec));
          rec.v = 'inside';
          c.put('us-east-1', 'vpc-1', rec);
          assert.equal(c.list('us-east-1')[0]!.v, 'inside');
          throw new Error('boom');
        }),
      );
      assert.deepEqual(c.list('us-east-1').map((r) => r.v), ['one', 'two']);
      assert.equal(c.get('us-east-1', 'vpc-1')!.v, 'one');
      // another connection's commit is noticed (PRAGMA data_version)
      const other = new SqliteStore(dir);
      other.collection(DOC).put('us-east-1', 'vpc-3', { v: 'three', list: [] });
      other.close();
      assert.deepEqual(c.list('us-east-1').map((r) => r.v), ['one', 'two', 'three']);
      assert.equal(c.get('us-east-1', 'vpc-3')!.v, 'three');
      c.delete('us-east-1', 'vpc-2');
      assert.deepEqual(c.list('us-east-1').map((r) => r.v), ['one', 'three']);
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('first use of a kind with keys writes nothing until its first write; a database from before keys gets them once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-store-'));
    const HELD = kind<{ ip: string }>({ name: 'held-thing', unique: [{ space: 'held-ip', scope: 'global', values: (r) => [r.ip] }] });
    try {
      const s = new SqliteStore(dir);
      const changes = () => s.db.prepare('SELECT total_changes()').pluck().get() as number;
      const before = changes();
      assert.deepEqual(s.collection(HELD).list('r1'), []);
      assert.equal(changes(), before, 'a read of an empty kind wrote to the store');
      s.collection(HELD).put('r1', 'a', { ip: '10.0.0.1' });
      assert.equal(s.getMeta('keys-built:held-thing:held-ip/global,'), '1');
      // a record written without its keys (as an older version would have)
      s.db.prepare("INSERT INTO resources (region, kind, id, data) VALUES ('r1', 'held-old', 'b', ?)").run(JSON.stringify({ ip: '10.0.0.2' }));
      s.close();
      const again = new SqliteStore(dir);
      const OLD = kind<{ ip: string }>({ name: 'held-old', unique: [{ space: 'held-ip', scope: 'global', values: (r) => [r.ip] }] });
      again.collection(OLD);
      assert.throws(() => again.collection(HELD).put('r1', 'c', { ip: '10.0.0.2' }), StoreConflict, 'the old record got its keys on first use');
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
