/**
 * The embedded store (store.ts's contract): SQLite through better-sqlite3, in WAL
 * mode. Resources are JSON documents keyed by (region, kind, id); tags live in
 * their own table so DescribeTags and CreateTags work across every resource type.
 */
import { Checkpointer } from './checkpointer.js';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MIGRATIONS } from './migrations.js';
import { deepFreeze } from '../domain/freeze.js';
import { StoreConflict, type KindSpec } from './kind.js';
import type { Collection, Durability, IdempotentRecord, Store, Tag, TagStore } from './store.js';


type Statement = Database.Statement;

/** Counts records read from SQLite (JSON documents parsed), for tests that check a call's cost does not grow with the store. */
export interface ReadStats {
  records: number;
}

/**
 * One kind of resource. Reads outside a transaction (Describe calls, reconcilers
 * looking around) are served from an in-memory copy of the region's records,
 * loaded once and dropped on any write to that region or when another connection
 * commits; its records are frozen, as they are shared. Inside a transaction every
 * read goes to SQLite and returns fresh objects the caller may change, and nothing
 * is cached there, so a rolled-back write is never remembered.
 */
class SqliteCollection<T> implements Collection<T> {
  private readonly getStmt: Statement;
  private readonly listStmt: Statement;
  private readonly putStmt: Statement;
  private readonly deleteStmt: Statement;
  private readonly allRegionsStmt: Statement;
  private readonly countStmt: Statement;
  private readonly findStmt: Statement;
  private readonly indexAllStmt: Statement;
  private readonly indexRangeStmt: Statement;
  private readonly keys: KeyWriter | undefined;
  readonly kind: string;
  /** region -> (id -> frozen record), in insertion order */
  private readonly cache = new Map<string, Map<string, T>>();
  private cachedVersion = -1;

  constructor(
    private readonly db: Database.Database,
    private readonly spec: KindSpec<T>,
    private readonly dataVersion: () => number,
    private readonly stats: ReadStats,
    /** runs inside every write of a kind with keys (see SqliteStore.collection) */
    private readonly onWrite: () => void = () => {},
  ) {
    this.kind = spec.name;
    this.keys = hasKeys(spec) ? new KeyWriter(db) : undefined;
    // secondary index entries live in resource_keys (see KeyWriter): a range of its primary key
    this.countStmt = db.prepare('SELECT count(*) FROM resource_keys WHERE space = ? AND scope = ? AND value >= ? AND value < ?').pluck();
    this.indexAllStmt = db.prepare('SELECT value FROM resource_keys WHERE space = ? AND scope = ? ORDER BY value').pluck();
    this.indexRangeStmt = db.prepare('SELECT value FROM resource_keys WHERE space = ? AND scope = ? AND value >= ? AND value < ? ORDER BY value').pluck();
    this.findStmt = db
      .prepare(
        'SELECT r.data FROM resource_keys x JOIN resources r ON r.region = x.region AND r.kind = x.kind AND r.id = x.id ' +
          'WHERE x.space = ? AND x.scope = ? AND x.value >= ? AND x.value < ? ORDER BY r.rowid',
      )
      .pluck();
    this.getStmt = db.prepare('SELECT data FROM resources WHERE region = ? AND kind = ? AND id = ?').pluck();
    this.listStmt = db.prepare('SELECT id, data FROM resources WHERE region = ? AND kind = ? ORDER BY rowid').raw();
    this.allRegionsStmt = db.prepare('SELECT region, data FROM resources WHERE kind = ? ORDER BY rowid');
    this.putStmt = db.prepare(
      'INSERT INTO resources (region, kind, id, data) VALUES (?, ?, ?, ?) ON CONFLICT (region, kind, id) DO UPDATE SET data = excluded.data',
    );
    this.deleteStmt = db.prepare('DELETE FROM resources WHERE region = ? AND kind = ? AND id = ?');
  }

  get(region: string, id: string): T | undefined {
    const cached = this.cache.has(region) ? this.usableCache()?.get(region) : undefined;
    if (cached) return cached.get(id);
    const data = this.getStmt.get(region, this.kind, id) as string | undefined;
    return data === undefined ? undefined : this.parse(data);
  }

  count(region: string, index: string, value: string): number {
    return this.countStmt.get(indexSpace(this.kind, index), region, value + INDEX_SEP, value + INDEX_END) as number;
  }

  find(region: string, index: string, value: string): T[] {
    const rows = this.findStmt.all(indexSpace(this.kind, index), region, value + INDEX_SEP, value + INDEX_END) as string[];
    return rows.map((d) => this.parse(d));
  }

  indexValues(region: string, index: string, prefix = ''): string[] {
    const space = indexSpace(this.kind, index);
    const end = prefixEnd(prefix);
    const rows = (end === undefined ? this.indexAllStmt.all(space, region) : this.indexRangeStmt.all(space, region, prefix, end)) as string[];
    return rows.map((v) => v.slice(0, v.lastIndexOf(INDEX_SEP)));
  }

  private parse(data: string): T {
    this.stats.records++;
    return JSON.parse(data) as T;
  }

  list(region: string): T[] {
    const cache = this.usableCache();
    if (!cache) return (this.listStmt.all(region, this.kind) as [string, string][]).map((r) => this.parse(r[1]));
    let records = cache.get(region);
    if (!records) {
      records = this.load(region);
      cache.set(region, records);
    }
    return [...records.values()];
  }

  /** Every region's records, for reconcilers. */
  listAllRegions(): { region: string; value: T }[] {
    return (this.allRegionsStmt.all(this.kind) as { region: string; data: string }[]).map((r) => ({
      region: r.region,
      value: this.parse(r.data),
    }));
  }

  put(region: string, id: string, value: T): void {
    this.cache.delete(region);
    if (this.keys) {
      // the record and its keys change together, or not at all
      this.db.transaction(() => {
        this.putStmt.run(region, this.kind, id, JSON.stringify(value));
        this.keys!.replace(this.spec, region, id, value);
        this.onWrite();
      })();
    } else {
      this.putStmt.run(region, this.kind, id, JSON.stringify(value));
    }
  }

  /** Whether any region holds a record of this kind. */
  hasRecords(): boolean {
    return this.db.prepare('SELECT 1 FROM resources WHERE kind = ? LIMIT 1').get(this.kind) !== undefined;
  }

  /** Rewrites every stored record's keys (for records written before the kind had them). */
  rewriteAllKeys(): void {
    if (!this.keys) return;
    for (const r of this.db.prepare('SELECT region, id, data FROM resources WHERE kind = ?').all(this.kind) as { region: string; id: string; data: string }[]) {
      this.keys.replace(this.spec, r.region, r.id, JSON.parse(r.data) as T);
    }
  }

  delete(region: string, id: string): boolean {
    this.cache.delete(region);
    if (this.keys) this.keys.remove(this.kind, region, id);
    return this.deleteStmt.run(region, this.kind, id).changes > 0;
  }

  /**
   * The cache, when reads may use it (outside a transaction), emptied first if
   * another connection has committed since it was filled.
   */
  private usableCache(): Map<string, Map<string, T>> | undefined {
    if (this.db.inTransaction) return undefined;
    const version = this.dataVersion();
    if (version !== this.cachedVersion) {
      this.cache.clear();
      this.cachedVersion = version;
    }
    return this.cache;
  }

  /** A region's records from SQLite, frozen for sharing. */
  private load(region: string): Map<string, T> {
    const records = new Map<string, T>();
    for (const [id, data] of this.listStmt.all(region, this.kind) as [string, string][]) {
      records.set(id, deepFreeze(this.parse(data)));
    }
    return records;
  }
}

/**
 * Secondary (non-unique) index entries share resource_keys with unique values:
 * space `#index/<kind>/<name>` (a space no kind declares), scope the region,
 * value `<indexed value>\x01<record id>` — unique per record, and all the
 * records under one indexed value are one range of the primary key.
 */
const indexSpace = (kind: string, name: string): string => `#index/${kind}/${name}`;
const INDEX_SEP = '\u0001';
const INDEX_END = '\u0002';

/**
 * Keeps a record's unique values, ranges and index entries in their own tables, where the
 * schema refuses a duplicate (primary key) or an overlap (trigger): a second
 * writer racing the first cannot hand out one address twice.
 */
class KeyWriter {
  private readonly delKeys: Statement;
  private readonly addKey: Statement;
  private readonly delRanges: Statement;
  private readonly addRange: Statement;
  private readonly addIndex: Statement;

  constructor(db: Database.Database) {
    this.addIndex = db.prepare('INSERT OR IGNORE INTO resource_keys (space, scope, value, region, kind, id) VALUES (?, ?, ?, ?, ?, ?)');
    this.delKeys = db.prepare('DELETE FROM resource_keys WHERE region = ? AND kind = ? AND id = ?');
    this.addKey = db.prepare('INSERT INTO resource_keys (space, scope, value, region, kind, id) VALUES (?, ?, ?, ?, ?, ?)');
    this.delRanges = db.prepare('DELETE FROM resource_ranges WHERE region = ? AND kind = ? AND id = ?');
    this.addRange = db.prepare('INSERT INTO resource_ranges (kind, region, scope, low, high, id) VALUES (?, ?, ?, ?, ?, ?)');
  }

  replace<T>(spec: KindSpec<T>, region: string, id: string, value: T): void {
    this.remove(spec.name, region, id);
    for (const key of spec.unique ?? []) {
      const scope = key.scope === 'global' ? '' : region;
      for (const v of new Set(key.values(value))) {
        try {
          this.addKey.run(key.space, scope, v, region, spec.name, id);
        } catch (e) {
          if (isConstraint(e)) throw new StoreConflict(spec.name, id, `${key.space} ${v} is already held`);
          throw e;
        }
      }
    }
    for (const r of spec.ranges?.(value) ?? []) {
      try {
        this.addRange.run(spec.name, region, r.scope, r.low, r.high, id);
      } catch (e) {
        if (isConstraint(e)) throw new StoreConflict(spec.name, id, `range ${r.low}-${r.high} overlaps another in ${r.scope}`);
        throw e;
      }
    }
    for (const ix of spec.indexes ?? []) {
      const space = indexSpace(spec.name, ix.name);
      for (const v of ix.values(value)) this.addIndex.run(space, region, v + INDEX_SEP + id, region, spec.name, id);
    }
  }

  remove(kind: string, region: string, id: string): void {
    this.delKeys.run(region, kind, id);
    this.delRanges.run(region, kind, id);
  }
}

/** Which keys a kind declares, so that a kind gaining a key has its records indexed again. */
function keysSignature(spec: KindSpec<unknown>): string {
  const indexes = (spec.indexes ?? []).map((i) => `index:${i.name}`);
  return [...(spec.unique ?? []).map((k) => `${k.space}/${k.scope}`), spec.ranges ? 'ranges' : '', ...indexes].join(',');
}

function hasKeys(spec: KindSpec<unknown>): boolean {
  return spec.unique !== undefined || spec.ranges !== undefined || (spec.indexes?.length ?? 0) > 0;
}

/** The least string greater than every string starting with `prefix` ('' has none). */
function prefixEnd(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

function isConstraint(e: unknown): boolean {
  return typeof (e as { code?: unknown }).code === 'string' && (e as { code: string }).code.startsWith('SQLITE_CONSTRAINT');
}

class SqliteTags implements TagStore {
  private readonly setStmt: Statement;
  private readonly deleteKeyStmt: Statement;
  private readonly deleteKeyValueStmt: Statement;
  private readonly deleteResourceStmt: Statement;
  private readonly forResourceStmt: Statement;
  private readonly forTypeStmt: Statement;
  private readonly allStmt: Statement;

  constructor(db: Database.Database) {
    this.setStmt = db.prepare(
      'INSERT INTO tags (region, resource_id, resource_type, key, value) VALUES (?, ?, ?, ?, ?) ON CONFLICT (region, resource_id, key) DO UPDATE SET value = excluded.value',
    );
    this.deleteKeyStmt = db.prepare('DELETE FROM tags WHERE region = ? AND resource_id = ? AND key = ?');
    this.deleteKeyValueStmt = db.prepare('DELETE FROM tags WHERE region = ? AND resource_id = ? AND key = ? AND value = ?');
    this.deleteResourceStmt = db.prepare('DELETE FROM tags WHERE region = ? AND resource_id = ?');
    this.forResourceStmt = db.prepare('SELECT key, value FROM tags WHERE region = ? AND resource_id = ? ORDER BY rowid');
    this.forTypeStmt = db.prepare(
      'SELECT resource_id, key, value FROM tags WHERE region = ? AND resource_type = ? ORDER BY rowid',
    );
    this.allStmt = db.prepare('SELECT resource_id, resource_type, key, value FROM tags WHERE region = ? ORDER BY resource_id, key');
  }

  set(region: string, resourceId: string, resourceType: string, tags: readonly Tag[]): void {
    for (const t of tags) this.setStmt.run(region, resourceId, resourceType, t.Key, t.Value);
  }

  /** Removes a key; with a value, only when the value matches (DeleteTags semantics). */
  remove(region: string, resourceId: string, key: string, value?: string): void {
    if (value === undefined) this.deleteKeyStmt.run(region, resourceId, key);
    else this.deleteKeyValueStmt.run(region, resourceId, key, value);
  }

  removeAll(region: string, resourceId: string): void {
    this.deleteResourceStmt.run(region, resourceId);
  }

  forResource(region: string, resourceId: string): Tag[] {
    return (this.forResourceStmt.all(region, resourceId) as { key: string; value: string }[]).map((r) => ({
      Key: r.key,
      Value: r.value,
    }));
  }

  /** All tags of one resource type in a region, by resource id: one query for a whole Describe call. */
  forType(region: string, resourceType: string): Map<string, Tag[]> {
    const out = new Map<string, Tag[]>();
    for (const r of this.forTypeStmt.all(region, resourceType) as { resource_id: string; key: string; value: string }[]) {
      let list = out.get(r.resource_id);
      if (!list) out.set(r.resource_id, (list = []));
      list.push({ Key: r.key, Value: r.value });
    }
    return out;
  }

  all(region: string): { resourceId: string; resourceType: string; key: string; value: string }[] {
    return (
      this.allStmt.all(region) as { resource_id: string; resource_type: string; key: string; value: string }[]
    ).map((r) => ({ resourceId: r.resource_id, resourceType: r.resource_type, key: r.key, value: r.value }));
  }
}

export interface SqliteOptions {
  /** default 'normal' */
  durability?: Durability;
  /**
   * How the WAL is checkpointed: 'thread' (default) by a worker thread every 250 ms
   * (store/checkpointer.ts), off the event loop; 'inline' by SQLite inside the commit
   * that fills it (its automatic checkpoint).
   */
  checkpoint?: 'thread' | 'inline';
  /**
   * A second connection that only reads (the front thread's, see src/front.ts): the
   * database must exist at the current schema, SQLite refuses any write on it
   * (`query_only`), and it neither migrates, checkpoints nor builds keys.
   */
  reader?: boolean;
}

/**
 * A read the reader connection cannot answer yet (a kind whose keys the writer has not
 * built): the call goes to the writer instead.
 */
export class ReaderBehind extends Error {}

/** How often the checkpoint thread looks at the WAL. */
const CHECKPOINT_EVERY_MS = 250;

export class SqliteStore implements Store {
  readonly db: Database.Database;
  readonly tags: TagStore;
  private readonly collections = new Map<string, { spec: KindSpec<unknown>; collection: SqliteCollection<unknown> }>();
  private readonly idemGet: Statement;
  private readonly idemPut: Statement;
  private readonly metaGet: Statement;
  private readonly metaPut: Statement;
  private readonly dataVersionStmt: Statement;
  private readonly heldStmt: Statement;
  private readonly heldAllStmt: Statement;
  private readonly heldRangeStmt: Statement;
  private readonly checkpointer: Checkpointer | undefined;
  /** records read from SQLite so far (JSON documents parsed), for tests */
  readonly readStats: ReadStats = { records: 0 };

  private readonly reader: boolean;

  /** Opens (creating if needed) the store in `dataDir`; ':memory:' for an in-memory store. */
  constructor(dataDir: string, opts: SqliteOptions = {}) {
    this.reader = opts.reader === true;
    if (this.reader) {
      if (dataDir === ':memory:') throw new Error('an in-memory store has no second connection');
      this.db = new Database(join(dataDir, 'overcast.db'), { fileMustExist: true });
      this.db.pragma('query_only = ON');
      const version = this.schemaVersion;
      if (version !== MIGRATIONS.length) throw new Error(`store schema is version ${version}, this reader needs ${MIGRATIONS.length}`);
    } else if (dataDir === ':memory:') {
      this.db = new Database(':memory:');
    } else {
      mkdirSync(dataDir, { recursive: true });
      this.db = new Database(join(dataDir, 'overcast.db'));
      this.db.pragma('journal_mode = WAL');
      // WAL + NORMAL: a commit is in the WAL (the OS has it) before the call is answered,
      // so a killed server loses nothing; only power loss can drop the last commits.
      // FULL adds an fsync per commit for that case.
      this.db.pragma(`synchronous = ${opts.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      if (opts.checkpoint !== 'inline') {
        this.db.pragma('wal_autocheckpoint = 0');
        this.checkpointer = new Checkpointer(join(dataDir, 'overcast.db'), CHECKPOINT_EVERY_MS);
      }
    }
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    if (!this.reader) this.migrate();
    this.tags = new SqliteTags(this.db);
    this.idemGet = this.db.prepare('SELECT request, response FROM idempotency WHERE region = ? AND action = ? AND token = ?');
    this.idemPut = this.db.prepare(
      'INSERT INTO idempotency (region, action, token, request, response, created_at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.metaGet = this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    this.heldStmt = this.db.prepare('SELECT 1 FROM resource_keys WHERE space = ? AND scope = ? AND value = ?').pluck();
    this.heldAllStmt = this.db.prepare('SELECT value FROM resource_keys WHERE space = ? AND scope = ? ORDER BY value').pluck();
    this.heldRangeStmt = this.db
      .prepare('SELECT value FROM resource_keys WHERE space = ? AND scope = ? AND value >= ? AND value < ? ORDER BY value')
      .pluck();
    // Changes when another connection commits: cached reads are then dropped.
    this.dataVersionStmt = this.db.prepare('PRAGMA data_version').pluck();
    this.metaPut = this.db.prepare(
      'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
    );
  }

  private migrate(): void {
    const current = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = current; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** The records of one kind; the kind's spec gives their type and what stays unique. */
  collection<T>(kind: KindSpec<T>): Collection<T> {
    const spec = kind as KindSpec<unknown>;
    let c = this.collections.get(kind.name);
    if (!c) {
      const marker = `keys-built:${spec.name}:${keysSignature(spec)}`;
      // the first write of a kind with keys records that its keys are kept from then on; once
      // the marker has been seen stored, later writes skip the lookup (a marker lost with a
      // rolled-back transaction after that only costs a rebuild of the keys at the next start)
      let markerSeen = false;
      const onWrite = (): void => {
        if (markerSeen) return;
        if (this.getMeta(marker) === '1') markerSeen = true;
        else this.setMeta(marker, '1');
      };
      c = { spec, collection: new SqliteCollection<unknown>(this.db, spec, () => this.dataVersionStmt.get() as number, this.readStats, onWrite) };
      // the writer builds keys; until it has, index reads on the reader would miss records
      if (this.reader && hasKeys(spec) && this.getMeta(marker) !== '1' && c.collection.hasRecords()) throw new ReaderBehind(`the keys of ${spec.name} are not built yet`);
      this.collections.set(kind.name, c);
      if (hasKeys(spec) && !this.reader) this.buildKeys(c.collection, marker);
    } else if (c.spec !== spec) {
      throw new Error(`kind '${kind.name}' is declared twice`);
    }
    return c.collection as Collection<T>;
  }

  /**
   * Fills the key tables for a kind whose records were written before its keys
   * existed (a database from before the schema guarded them), once. A kind with
   * no records has nothing to fill: nothing is written (a read-only call must
   * change nothing), and its first write sets the marker.
   */
  private buildKeys(col: SqliteCollection<unknown>, marker: string): void {
    if (this.getMeta(marker) === '1' || !col.hasRecords()) return;
    this.transaction(() => {
      col.rewriteAllKeys();
      this.setMeta(marker, '1');
    });
  }

  /** Runs fn in one transaction (nested calls become savepoints). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  isHeld(space: string, region: string | null, value: string): boolean {
    return this.heldStmt.get(space, region ?? '', value) !== undefined;
  }

  heldValues(space: string, region: string | null, prefix = ''): string[] {
    const scope = region ?? '';
    const end = prefixEnd(prefix);
    if (end === undefined) return this.heldAllStmt.all(space, scope) as string[];
    return this.heldRangeStmt.all(space, scope, prefix, end) as string[];
  }

  idempotent(region: string, action: string, token: string): IdempotentRecord | undefined {
    return this.idemGet.get(region, action, token) as IdempotentRecord | undefined;
  }

  rememberIdempotent(region: string, action: string, token: string, request: string, response: string, now: number): void {
    this.idemPut.run(region, action, token, request, response, now);
  }

  getMeta(key: string): string | undefined {
    return this.metaGet.get(key) as string | undefined;
  }

  setMeta(key: string, value: string): void {
    this.metaPut.run(key, value);
  }

  close(): void {
    this.checkpointer?.stop();
    this.db.close();
  }
}
