/** For tests that plant records the API would never write (partial ones, or corrupted state). */
import type { KindSpec } from '../../src/store/kind.js';
import type { Collection, Store } from '../../src/store/store.js';

/** The kind's own collection, typed loosely. */
export function looseCollection<T>(store: Store, kind: { name: string }): Collection<T> {
  return store.collection(kind as KindSpec<T>);
}
