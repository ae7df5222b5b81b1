/** What an API handler gets: the resources layer's context plus the call's request id. */
import type { ResourceContext } from '../resources/context.js';

export type { ChangeEvent } from '../resources/context.js';

export interface RequestContext extends ResourceContext {
  readonly requestId: string;
}

/**
 * A handler takes the parsed input (shaped like the API model's input structure)
 * and returns the output structure. Handlers record intent in the store and
 * return; reconcilers do the slow work.
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
