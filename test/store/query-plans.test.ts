/**
 * Every query the SQLite store prepares is answered from an index: no statement scans a
 * whole table (the cost of a call must not grow with records it does not touch). The
 * statements are caught as the store prepares them, then each one's plan is asked of
 * SQLite (EXPLAIN QUERY PLAN).
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { SqliteStore } from '../../src/store/sqlite.js';

describe('store query plans', () => {
  it('no statement scans a whole table', () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-plans-'));
    const prepared = new Set<string>();
    const proto = Database.prototype as unknown as { prepare: (sql: string) => unknown };
    const original = proto.prepare;
    proto.prepare = function (this: unknown, sql: string) {
      prepared.add(sql);
      return original.call(this, sql);
    };
    let store: SqliteStore | undefined;
    try {
      store = new SqliteStore(dir);
      // every kind's collection, its reads used once (some statements are prepared on use)
      for (const k of Object.values(KINDS)) {
        const c = store.collection(k as never) as { listAllRegions(): unknown; list(r: string): unknown; hasRecords?: () => boolean };
        c.listAllRegions();
        c.list('us-east-1');
        c.hasRecords?.();
      }
      store.tags.forType('us-east-1', 'instance');
      store.tags.all('us-east-1');
    } finally {
      proto.prepare = original;
    }
    try {
      const queries = [...prepared].filter((sql) => /^\s*(SELECT|DELETE|UPDATE|INSERT)/i.test(sql));
      assert.ok(queries.some((q) => /WHERE kind = \?/.test(q)), 'the by-kind reads were seen');
      const scans: string[] = [];
      for (const sql of queries) {
        const params = (sql.match(/\?/g) ?? []).map(() => null);
        const plan = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[];
        for (const row of plan) if (/^SCAN /.test(row.detail) && row.detail !== 'SCAN CONSTANT ROW') scans.push(`${row.detail} ← ${sql}`);
      }
      assert.deepEqual(scans, []);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
