/**
 * The reconciler of records that move through states by themselves, one state
 * machine per kind (resources/ec2/state-machines.ts): the VPC extras (a VPC's
 * or a subnet's CIDR blocks associating → associated, NAT gateways pending →
 * available, peering connections initiating-request → pending-acceptance…) and
 * the records-only families (resources/ec2/record-lifecycles.ts: VPC endpoints
 * and endpoint services, carrier, customer and virtual private gateways, VPN
 * connections). It takes each record one step at a time and drops records in a
 * final state once they have been shown long enough (found by the loop's resync).
 *
 * Keys are `<kind>/<region>/<id>`. Each step re-reads the record in its
 * transaction, so a step for a record the API changed meanwhile does no harm,
 * and start-up looks at every record that is due, so a killed server resumes.
 */
import { internalContext, type ChangeEvent } from '../resources/context.js';
import { RECORD_LIFECYCLES } from '../resources/ec2/lifecycles.js';
import { natGatewayMachine } from '../resources/ec2/nat-gateways.js';
import type { AnyStateMachine } from '../resources/ec2/state-machines.js';
import { subnetCidrMachine } from '../resources/ec2/subnet-cidrs.js';
import { vpcCidrMachine } from '../resources/ec2/vpc-cidrs.js';
import { peeringMachine } from '../resources/ec2/vpc-peering.js';
import { LoopReconciler } from './loop-reconciler.js';
import type { ReconcilerDeps } from './reconciler.js';

/** Every state machine the reconciler runs. */
export const STATE_MACHINES: readonly AnyStateMachine[] = [vpcCidrMachine, subnetCidrMachine, natGatewayMachine, peeringMachine, ...RECORD_LIFECYCLES];

export interface RecordStateReconcilerDeps extends ReconcilerDeps {
  log?: (line: string) => void;
  retryBaseMs?: number;
  resyncMs?: number;
  /** the clock (tests move it on to see final records dropped) */
  now?: () => Date;
  /** the machines driven (default: STATE_MACHINES) */
  machines?: readonly AnyStateMachine[];
  /** told of each record a step moved, once committed (other reconcilers follow the states: a peering connection that became active) */
  onChange?: (e: ChangeEvent) => void;
}

export class RecordStateReconciler extends LoopReconciler {
  private readonly machines: ReadonlyMap<string, AnyStateMachine>;
  /** change kind → machine */
  private readonly byChange: ReadonlyMap<string, AnyStateMachine>;
  private readonly now: () => Date;

  constructor(private readonly deps: RecordStateReconcilerDeps) {
    const log = deps.log ?? ((line: string) => process.stderr.write(`reconcile/record-states: ${line}\n`));
    super({ store: deps.store, name: 'record-states', log, retryBaseMs: deps.retryBaseMs, resyncMs: deps.resyncMs });
    this.machines = new Map((deps.machines ?? STATE_MACHINES).map((m) => [m.kind.name, m]));
    this.byChange = new Map([...this.machines.values()].map((m) => [m.change ?? m.kind.name, m]));
    this.now = deps.now ?? (() => new Date());
  }

  protected keysFor(e: ChangeEvent): string | undefined {
    const m = this.byChange.get(e.kind);
    return m && `${m.kind.name}/${e.region}/${e.id}`;
  }

  /** Every record whose next step is due, in every region. */
  protected async keys(): Promise<string[]> {
    const now = this.now().getTime();
    const out: string[] = [];
    for (const m of this.machines.values()) {
      for (const { region, value } of this.deps.store.collection(m.kind).listAllRegions()) {
        const due = m.due(value as never);
        if (due !== undefined && due <= now) out.push(`${m.kind.name}/${region}/${m.id(value as never)}`);
      }
    }
    return out;
  }

  /** One step of one record; a step that moved it asks for another look. */
  protected async step(key: string): Promise<boolean> {
    const [kind, region, id] = key.split('/') as [string, string, string];
    const m = this.machines.get(kind);
    if (!m) return true;
    const changed = await this.loop.commit(() => {
      const ctx = internalContext(this.deps.store, this.deps.config, region, { now: this.now(), afterCommit: () => {} });
      const record = ctx.store.collection(m.kind).get(region, id);
      if (record === undefined) return false;
      const due = m.due(record as never);
      if (due === undefined || due > ctx.now.getTime()) return false;
      return m.advance(ctx, record as never);
    });
    if (changed) this.deps.onChange?.({ kind: m.change ?? m.kind.name, region, id });
    return !changed;
  }
}
