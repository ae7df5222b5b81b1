/** What every reconciler is, and what it is given. */
import type { Config } from '../config.js';
import type { ChangeEvent } from '../resources/context.js';
import type { Store } from '../store/store.js';

export interface Reconciler {
  /** a resource changed (after commit) */
  handle(e: ChangeEvent): void;
  /** on start-up: probe the drivers, compare the store with what runs and finish or undo half-done work */
  start(): Promise<void>;
  /** stop loops; resolve when in-flight work has settled */
  stop(): Promise<void>;
}

export interface ReconcilerDeps {
  store: Store;
  config: Config;
}
