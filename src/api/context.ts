/** What an API handler gets: the resources layer's context plus the call's request id. */
import type { ResourceContext } from '../resources/context.js';

export type { ChangeEvent } from '../resources/context.js';

export interface RequestContext extends ResourceContext {
  readonly requestId: string;
}

/**
 * A handler takes the parsed input (shaped like the API model's input structure)
 * and returns the output structure. Handlers record intent in the store and
 * return; reconcilers do the slow work. The dispatcher runs a handler inside the
 * call's transaction, so it is synchronous; slow work goes into `prepare`.
 */
export interface ActionHandler<I = never, O extends object = object> {
  (ctx: RequestContext, input: I, prepared?: unknown): O;
  /**
   * Runs before the transaction, off the event loop where the work is slow (key
   * generation, hashing); its result is the handler's third argument. It may
   * validate the input (a throw answers the call); what the store says is
   * checked again by the handler, inside the transaction.
   */
  prepare?: (ctx: RequestContext, input: I) => Promise<unknown>;
}

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

/** Declares an action whose slow part (`prepare`) runs before its transaction and hands `run` its result. */
export function preparedAction<I, P, O extends object>(
  prepare: (ctx: RequestContext, input: I) => Promise<P>,
  run: (ctx: RequestContext, input: I, prepared: P) => O,
): ActionHandler {
  const handler: ActionHandler<I, O> = (ctx, input, prepared) => run(ctx, input, prepared as P);
  handler.prepare = prepare;
  return handler as unknown as ActionHandler;
}
