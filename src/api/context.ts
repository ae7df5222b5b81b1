/** What an API handler gets: the caller's region and account, the store, and hooks. */
import type { Config } from '../config.js';
import type { Store } from '../store/store.js';

/** Something changed that a reconciler should look at. */
export interface ChangeEvent {
  kind: string;
  region: string;
  id: string;
}

export interface RequestContext {
  readonly region: string;
  readonly accountId: string;
  readonly requestId: string;
  readonly now: Date;
  readonly store: Store;
  readonly config: Config;
  /** Runs fn once the call's transaction has committed (never on DryRun or error). */
  afterCommit(fn: () => void): void;
  /** Tells reconcilers about a change, after commit. */
  notify(kind: string, id: string): void;
}

/**
 * A handler takes the parsed input (shaped like the API model's input structure)
 * and returns the output structure. Handlers are synchronous: they record intent
 * in the store and return; reconcilers do the slow work.
 */
export type ActionHandler<I = never, O extends object = object> = (ctx: RequestContext, input: I) => O;

export interface ApiModule {
  /** operation name -> handler */
  actions: Record<string, ActionHandler>;
  /** Runs once per region, in the first call's transaction: default VPC, built-in images… */
  initRegion?: (ctx: RequestContext) => void;
  /** order among initRegion hooks (lower first) */
  initOrder?: number;
}

/** Declares an action with its input/output types checked, stored type-erased. */
export function action<I, O extends object>(fn: (ctx: RequestContext, input: I) => O): ActionHandler {
  return fn as ActionHandler;
}
