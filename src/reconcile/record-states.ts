/**
 * The reconciler of records that change nothing on the host (VPC endpoints,
 * endpoint services, carrier / customer / virtual private gateways, VPN
 * connections): their calls record intent (`pending`, `deleting`,
 * `attaching`…) and notify; this loop moves each record one state on per
 * step (resources/ec2/record-lifecycles.ts) until it is settled, and at each
 * resync purges the deleted ones EC2 no longer shows. Keys are
 * `<kind>/<region>/<id>`; start-up looks at every unsettled record, so a
 * killed server finishes what it had recorded.
 */
import { internalContext, type ChangeEvent } from '../resources/context.js';
import { RECORD_LIFECYCLES } from '../resources/ec2/lifecycles.js';
import type { RecordLifecycle } from '../resources/ec2/record-lifecycles.js';
import { ReconcileLoop } from './loop.js';
import type { Reconciler, ReconcilerDeps } from './reconciler.js';

export interface RecordStateReconcilerDeps extends ReconcilerDeps {
  log?: (line: string) => void;
  retryBaseMs?: number;
  resyncMs?: number;
  /** the clock (tests move it on to see deleted records purged) */
  now?: () => Date;
}

export class RecordStateReconciler implements Reconciler {
  readonly loop: ReconcileLoop;
  private readonly byKind: ReadonlyMap<string, RecordLifecycle>;
  private readonly now: () => Date;

  constructor(private readonly deps: RecordStateReconcilerDeps) {
    this.byKind = new Map(RECORD_LIFECYCLES.map((l) => [l.kindName, l]));
    this.now = deps.now ?? (() => new Date());
    const log = deps.log ?? ((line: string) => process.stderr.write(`reconcile/record-states: ${line}\n`));
    this.loop = new ReconcileLoop(
      { step: (k) => this.step(k), keys: () => Promise.resolve(this.keys()) },
      { store: deps.store, name: 'record-states', log, retryBaseMs: deps.retryBaseMs, resyncMs: deps.resyncMs },
    );
  }

  handle(e: ChangeEvent): void {
    if (this.loop.isStopped || !this.byKind.has(e.kind)) return;
    this.loop.schedule(`${e.kind}/${e.region}/${e.id}`);
  }

  start(): Promise<void> {
    return this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  idle(): Promise<void> {
    return this.loop.idle();
  }

  /** Every record with a step to take (or due for purging), in every region. */
  private keys(): string[] {
    const now = this.now().getTime();
    return RECORD_LIFECYCLES.flatMap((l) => l.due(this.deps.store, now).map(({ region, id }) => `${l.kindName}/${region}/${id}`));
  }

  private async step(key: string): Promise<boolean> {
    const [kind, region, id] = key.split('/') as [string, string, string];
    const lifecycle = this.byKind.get(kind);
    if (!lifecycle) return true;
    // one state per step: a step that moved the record asks for another look
    const moved = await this.loop.commit(() => lifecycle.step(internalContext(this.deps.store, this.deps.config, region, { now: this.now() }), id));
    return !moved;
  }
}
