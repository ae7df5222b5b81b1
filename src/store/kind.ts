/**
 * What the store needs to know about one kind of resource: the name its records
 * are kept under, and the values that must stay unique (or ranges that must not
 * overlap) across records of the kind. The store enforces those in the schema,
 * so they hold even when several writers share one database; the rules above
 * the store check them first and answer with EC2's errors.
 *
 * The record type rides along as a phantom parameter: `store.collection(kind)`
 * returns a collection of exactly that type.
 */
export interface KindSpec<T> {
  /** the store's name for the kind (for EC2 resources: the tag ResourceType) */
  readonly name: string;
  /** value sets that must be unique: records of every kind sharing a `space` compete */
  readonly unique?: readonly UniqueKey<T>[];
  /** integer ranges that must not overlap within one scope (e.g. subnet CIDRs in a VPC) */
  ranges?(record: T): readonly KeyRange[];
  /**
   * secondary indexes (not unique): records of the kind by a value, so that a
   * caller can count or find them (`Collection.count`, `Collection.find`)
   * without reading every record of the region
   */
  readonly indexes?: readonly IndexKey<T>[];
  /** never read; carries T */
  readonly __record?: T;
}

export interface UniqueKey<T> {
  /** the space values compete in; several kinds may share one (public IPs of interfaces and Elastic IPs) */
  readonly space: string;
  /** 'global': across regions (one host's address pool); 'region': within the record's region */
  readonly scope: 'global' | 'region';
  values(record: T): readonly string[];
}

export interface IndexKey<T> {
  /** the index's name within the kind */
  readonly name: string;
  /** the values the record is found under (none: not in the index) */
  values(record: T): readonly string[];
}

export interface KeyRange {
  /** what the range competes within (e.g. the VPC id) */
  readonly scope: string;
  readonly low: number;
  readonly high: number;
}

/** Declares a kind; the record type is given explicitly: `kind<VpcRecord>({ name: 'vpc' })`. */
export function kind<T>(spec: Omit<KindSpec<T>, '__record'>): KindSpec<T> {
  return spec;
}

/** A write the schema refused: a unique value already held, or an overlapping range. */
export class StoreConflict extends Error {
  constructor(
    readonly kind: string,
    readonly id: string,
    readonly what: string,
  ) {
    super(`store conflict writing ${kind} ${id}: ${what}`);
    this.name = 'StoreConflict';
  }
}
