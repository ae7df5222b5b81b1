/**
 * What the resources layer works with: the region and account a change is made
 * in, the store, the configuration, and the hooks that run after the change
 * commits. API calls (api/) and reconcilers (reconcile/) both make one; the
 * resources layer knows neither HTTP nor request ids.
 */
import type { Config } from '../config.js';
import type { Store } from '../store/store.js';

/** Something changed that a reconciler should look at. */
export interface ChangeEvent {
  kind: string;
  region: string;
  id: string;
}

export interface ResourceContext {
  readonly region: string;
  readonly accountId: string;
  readonly now: Date;
  readonly store: Store;
  readonly config: Config;
  /** Runs fn once the change's transaction has committed (never on DryRun or error). */
  afterCommit(fn: () => void): void;
  /** Tells reconcilers about a change, after commit. */
  notify(kind: string, id: string): void;
}

export interface ContextOptions {
  now?: Date;
  /** takes after-commit work (default: run it at once) */
  afterCommit?: (fn: () => void) => void;
  /** where notify() goes (default: nowhere) */
  onChange?: (e: ChangeEvent) => void;
}

/** A context for work outside any API call (reconcilers, start-up). */
export function internalContext(store: Store, config: Config, region: string, opts: ContextOptions = {}): ResourceContext {
  const afterCommit = opts.afterCommit ?? ((fn: () => void) => fn());
  const onChange = opts.onChange;
  return {
    region,
    accountId: config.accountId,
    now: opts.now ?? new Date(),
    store,
    config,
    afterCommit,
    notify: (kind, id) => {
      if (onChange) afterCommit(() => onChange({ kind, region, id }));
    },
  };
}
