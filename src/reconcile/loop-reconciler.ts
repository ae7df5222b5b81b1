/**
 * The shape most reconcilers share: one ReconcileLoop, its start, stop and idle
 * theirs, and a change event turned into the keys to look at. A subclass states
 * what differs: which keys an event concerns (`keysFor`), the keys to list on
 * start-up and at a resync (`keys`) and one look at one key (`step`); it may
 * extend start() and stop() around the loop's (probes, timers, drivers to close).
 */
import type { ChangeEvent } from '../resources/context.js';
import { ReconcileLoop, type LoopOptions } from './loop.js';
import type { Fabric } from '../network/fabric.js';
import type { Reconciler, ReconcilerDeps } from './reconciler.js';

export abstract class LoopReconciler implements Reconciler {
  readonly loop: ReconcileLoop;

  protected constructor(opts: LoopOptions) {
    // the handler calls the subclass's methods only once the loop runs, after construction
    this.loop = new ReconcileLoop({ step: (key) => this.step(key), keys: (why) => this.keys(why) }, opts);
  }

  /** One look at one key; true when it needs nothing more right now. Throw to retry later. */
  protected abstract step(key: string): Promise<boolean>;

  /** Every key to look at: on start-up ('start') and at each resync ('resync'). */
  protected abstract keys(why: 'start' | 'resync'): Promise<Iterable<string>>;

  /** The keys a change concerns (none: undefined or empty); asked only while the loop runs, each scheduled as it is yielded. */
  protected abstract keysFor(e: ChangeEvent): Iterable<string> | string | undefined;

  handle(e: ChangeEvent): void {
    if (this.loop.isStopped) return;
    const keys = this.keysFor(e);
    if (keys === undefined) return;
    for (const k of typeof keys === 'string' ? [keys] : keys) this.loop.schedule(k);
  }

  start(): Promise<void> {
    return this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Resolves when no work is in flight (retries waiting on a timer do not count). */
  idle(): Promise<void> {
    return this.loop.idle();
  }
}

/** What a fabric-wide reconciler is given: the store, the fabric, and its loop's timing. */
export interface FabricPassDeps extends ReconcilerDeps {
  fabric: Fabric;
  log?: (line: string) => void;
  retryBaseMs?: number;
  resyncMs?: number;
}

/**
 * A reconciler whose one step compares everything of its kind with the fabric at once (peering
 * links, NAT gateways, IPv6 routing: few records per host): one key, its name, scheduled by any
 * change of the kinds it watches and listed on start-up and at each resync.
 */
export abstract class FabricPassReconciler extends LoopReconciler {
  protected constructor(
    protected readonly deps: FabricPassDeps,
    private readonly name: string,
    private readonly watched: ReadonlySet<string>,
  ) {
    super({ store: deps.store, name, log: deps.log, retryBaseMs: deps.retryBaseMs, resyncMs: deps.resyncMs });
  }

  protected keysFor(e: ChangeEvent): string | undefined {
    return this.watched.has(e.kind) ? this.name : undefined;
  }

  protected keys(): Promise<string[]> {
    return Promise.resolve([this.name]);
  }
}
