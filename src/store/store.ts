/**
 * The store's contract: what api/, resources/ and reconcile/ may ask of durable
 * state, whatever keeps it. SQLite (sqlite.ts) is the embedded default; a
 * PostgreSQL store for several hosts is a second implementation of this
 * interface and passes the same conformance suite (test/store/store.conformance.ts).
 *
 * Records are JSON documents of one kind (see kind.ts) keyed by (region, id);
 * tags live apart so DescribeTags and CreateTags work across every kind.
 * Everything a call changes happens inside one `transaction`, which commits
 * whole or not at all; nested transactions are savepoints.
 */
import type { KindSpec } from './kind.js';

export interface Tag {
  Key: string;
  Value: string;
}

export interface Collection<T> {
  readonly kind: string;
  get(region: string, id: string): T | undefined;
  /** the region's records, oldest first */
  list(region: string): T[];
  /** every region's records, for reconcilers */
  listAllRegions(): { region: string; value: T }[];
  /** inserts or replaces; throws StoreConflict when a unique value or range of the kind is taken */
  put(region: string, id: string, value: T): void;
  /** false when there was nothing to delete */
  delete(region: string, id: string): boolean;
  /**
   * How many of the region's records are found under `value` in the kind's
   * index `index` (KindSpec.indexes), without reading the records: its cost
   * follows the matching records, not the stored ones. An undeclared index counts 0.
   */
  count(region: string, index: string, value: string): number;
  /** The region's records found under `value` in the kind's index `index`, oldest first. */
  find(region: string, index: string, value: string): T[];
  /**
   * The values of the kind's index `index` in the region that start with
   * `prefix`, once per record found under each, in ascending (binary) order,
   * without reading the records.
   */
  indexValues(region: string, index: string, prefix?: string): string[];
}

export interface TagStore {
  set(region: string, resourceId: string, resourceType: string, tags: readonly Tag[]): void;
  /** Removes a key; with a value, only when the value matches (DeleteTags semantics). */
  remove(region: string, resourceId: string, key: string, value?: string): void;
  removeAll(region: string, resourceId: string): void;
  forResource(region: string, resourceId: string): Tag[];
  /** All tags of one resource type in a region, by resource id. */
  forType(region: string, resourceType: string): Map<string, Tag[]>;
  all(region: string): { resourceId: string; resourceType: string; key: string; value: string }[];
}

export interface IdempotentRecord {
  request: string;
  response: string;
}

/** How hard a commit is made durable. */
export type Durability =
  /** an acknowledged call survives a killed process; the last commits may be lost on power loss */
  | 'normal'
  /** an acknowledged call survives power loss too (an fsync per commit) */
  | 'full';

export interface Store {
  readonly tags: TagStore;
  /** The records of one kind; the kind's spec gives their type and what stays unique. */
  collection<T>(kind: KindSpec<T>): Collection<T>;
  /** Runs fn in one transaction (nested calls become savepoints); a throw rolls it back. */
  transaction<T>(fn: () => T): T;
  /**
   * Whether a record of any kind holds `value` in the unique space `space`
   * (KindSpec.unique): `region` for a space of scope 'region', null for a
   * 'global' one. One indexed lookup; reads no record.
   */
  isHeld(space: string, region: string | null, value: string): boolean;
  /**
   * The values held in `space` (scoped as in isHeld) that start with `prefix`,
   * in ascending binary (UTF-8 byte) order, without reading any record: its cost
   * follows the values under the prefix, not the stored records.
   */
  heldValues(space: string, region: string | null, prefix?: string): string[];
  idempotent(region: string, action: string, token: string): IdempotentRecord | undefined;
  rememberIdempotent(region: string, action: string, token: string, request: string, response: string, now: number): void;
  getMeta(key: string): string | undefined;
  setMeta(key: string, value: string): void;
  close(): void;
}
