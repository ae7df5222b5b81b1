/**
 * Runs one API call: region set-up on first use, the handler inside one
 * transaction, DryRun (run, validate, roll back) and ClientToken idempotency.
 */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { Ec2Error, dryRunSucceeded } from '../domain/errors.js';
import type { Store } from '../store/store.js';
import type { ActionHandler, ApiModule, ChangeEvent, RequestContext } from './context.js';
import type { WriteQueue } from './write-queue.js';

class DryRunRollback extends Error {}

const REGION_INIT_VERSION = '1';

/** Whether a region has had its set-up (default VPC, built-in images) committed. */
export function regionReady(store: Store, region: string): boolean {
  return store.getMeta(`region-init:${region}`) === REGION_INIT_VERSION;
}

export class Dispatcher {
  private readonly actions = new Map<string, ActionHandler>();
  private readonly initializers: NonNullable<ApiModule['initRegion']>[];
  private readonly readyRegions = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly config: Config,
    modules: readonly ApiModule[],
    private readonly onChange: (e: ChangeEvent) => void = () => {},
    private readonly clock: () => Date = () => new Date(),
    /** admission control for mutating calls (the server's; none: every call runs at once) */
    private readonly writes?: WriteQueue,
  ) {
    for (const m of modules) {
      for (const [name, handler] of Object.entries(m.actions)) {
        if (this.actions.has(name)) throw new Error(`action ${name} registered twice`);
        this.actions.set(name, handler);
      }
    }
    this.initializers = [...modules]
      .filter((m) => m.initRegion)
      .sort((a, b) => (a.initOrder ?? 100) - (b.initOrder ?? 100))
      .map((m) => m.initRegion!);
  }

  has(action: string): boolean {
    return this.actions.has(action);
  }

  get actionNames(): string[] {
    return [...this.actions.keys()].sort();
  }

  /** A context for internal callers (reconcilers, start-up) outside any API call. */
  context(region: string, afterCommit: (fn: () => void) => void = (fn) => fn(), requestId: string = randomUUID()): RequestContext {
    return new CallContext(region, this.config.accountId, requestId, this.clock(), this.store, this.config, this.onChange, afterCommit);
  }

  /** Makes sure a region has its defaults (default VPC, images…); idempotent. */
  ensureRegion(region: string): void {
    if (this.readyRegions.has(region)) return;
    const pending: (() => void)[] = [];
    this.store.transaction(() => this.initRegionIn(this.context(region, (fn) => pending.push(fn))));
    this.readyRegions.add(region);
    for (const fn of pending) fn();
  }

  private initRegionIn(ctx: RequestContext): void {
    if (regionReady(this.store, ctx.region)) return;
    for (const init of this.initializers) init(ctx);
    this.store.setMeta(`region-init:${ctx.region}`, REGION_INIT_VERSION);
  }

  /**
   * Runs one call. Most handlers answer synchronously; one with a `prepare`
   * step answers with a promise (its slow part runs before the transaction).
   */
  invoke(action: string, region: string, requestId: string, input: Record<string, unknown>, accountId: string = this.config.accountId): object | Promise<object> {
    const handler = this.actions.get(action);
    if (!handler) throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
    this.ensureRegion(region);
    const ctx = new CallContext(region, accountId, requestId, this.clock(), this.store, this.config, this.onChange);
    const token = typeof input.ClientToken === 'string' ? input.ClientToken : undefined;
    if (token !== undefined && token.length > 64) {
      throw new Ec2Error('InvalidParameterValue', 'Value for parameter clientToken is invalid. The value must not exceed 64 characters.');
    }
    const writes = this.writes;
    if (!writes || (isReadOnly(action) && token === undefined)) {
      if (handler.prepare) return handler.prepare(ctx, input as never).then((prepared) => this.run(handler, action, ctx, input, token, prepared));
      return this.run(handler, action, ctx, input, token, undefined);
    }
    // a write: refused at once when the queue is full, else run in its turn (write-queue.ts)
    const ticket = writes.admit();
    try {
      const out = handler.prepare
        ? handler.prepare(ctx, input as never).then((prepared) => writes.run(() => this.run(handler, action, ctx, input, token, prepared)))
        : writes.run(() => this.run(handler, action, ctx, input, token, undefined));
      if (out instanceof Promise) return out.finally(ticket.done);
      ticket.done();
      return out;
    } catch (e) {
      ticket.done();
      throw e;
    }
  }

  /** The handler in the call's transaction, with DryRun and ClientToken handling. */
  private run(
    handler: ActionHandler,
    action: string,
    ctx: CallContext,
    input: Record<string, unknown>,
    token: string | undefined,
    prepared: unknown,
  ): object {
    const region = ctx.region;
    const dryRun = input.DryRun === true;
    const call = handler as (c: RequestContext, i: unknown, p: unknown) => object;
    if (isReadOnly(action) && token === undefined) {
      // Describe and Get calls only read (they must not write): no transaction needed.
      const out = call(ctx, input, prepared);
      if (dryRun) throw dryRunSucceeded();
      return out;
    }
    let output: object;
    try {
      output = this.store.transaction(() => {
        if (token !== undefined && !dryRun) {
          const fingerprint = requestFingerprint(input);
          const seen = this.store.idempotent(region, action, token);
          if (seen) {
            if (seen.request !== fingerprint) {
              throw new Ec2Error(
                'IdempotentParameterMismatch',
                `Client token '${token}' was already used with different parameters.`,
              );
            }
            return JSON.parse(seen.response) as object;
          }
          const out = call(ctx, input, prepared);
          this.store.rememberIdempotent(region, action, token, fingerprint, JSON.stringify(out), ctx.now.getTime());
          return out;
        }
        const out = call(ctx, input, prepared);
        if (dryRun) throw new DryRunRollback();
        return out;
      });
    } catch (e) {
      if (e instanceof DryRunRollback) throw dryRunSucceeded();
      throw e;
    }
    ctx.runPending();
    return output;
  }
}

/**
 * One call's context. After-commit work is queued here (and run by the dispatcher
 * once the transaction commits) unless a sink is given to take it.
 */
class CallContext implements RequestContext {
  private pending: (() => void)[] | undefined;

  constructor(
    readonly region: string,
    readonly accountId: string,
    readonly requestId: string,
    readonly now: Date,
    readonly store: Store,
    readonly config: Config,
    private readonly onChange: (e: ChangeEvent) => void,
    private readonly sink?: (fn: () => void) => void,
  ) {}

  afterCommit(fn: () => void): void {
    if (this.sink) this.sink(fn);
    else (this.pending ??= []).push(fn);
  }

  notify(kind: string, id: string): void {
    const { region, onChange } = this;
    this.afterCommit(() => onChange({ kind, region, id }));
  }

  runPending(): void {
    const queued = this.pending;
    this.pending = undefined;
    if (queued) for (const fn of queued) fn();
  }
}

/** Describe and Get actions read state only; every other action is a mutation. */
export function isReadOnly(action: string): boolean {
  return action.startsWith('Describe') || action.startsWith('Get');
}

/**
 * What a ClientToken is checked against: the input without ClientToken and
 * DryRun, in a canonical form, so that the same request with its parameters in
 * another order (the Query parser builds objects in wire order) is the same
 * request. Object keys are sorted at every depth and members that are undefined
 * are dropped; lists keep their order (for EC2, `SecurityGroupId.1=a&.2=b` and
 * `.1=b&.2=a` are treated as different requests here, which errs on the side of
 * IdempotentParameterMismatch rather than replaying an answer to another call).
 */
export function requestFingerprint(input: Record<string, unknown>): string {
  const { ClientToken: _t, DryRun: _d, ...rest } = input;
  return JSON.stringify(canonical(rest));
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v instanceof Uint8Array) return { $bytes: Buffer.from(v).toString('base64') };
  if (v instanceof Date) return v.toISOString();
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (x !== undefined) out[k] = canonical(x);
    }
    return out;
  }
  return v;
}
