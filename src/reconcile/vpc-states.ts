/**
 * The VPC extras' state reconciler: takes the records that move through states
 * by themselves (resources/ec2/state-machines.ts) one step at a time — a VPC's
 * CIDR blocks associating → associated, NAT gateways pending → available,
 * deleting → deleted, peering connections initiating-request →
 * pending-acceptance… — and drops records in a final state once they have
 * been shown long enough (found by the loop's resync).
 *
 * Keys are `<kind>/<region>/<id>`. Each step re-reads the record in its
 * transaction, so a step for a record the API changed meanwhile does no harm,
 * and start-up looks at every record that is due, so a killed server resumes.
 */
import { internalContext, type ChangeEvent } from '../resources/context.js';
import type { AnyStateMachine } from '../resources/ec2/state-machines.js';
import { natGatewayMachine } from '../resources/ec2/nat-gateways.js';
import { peeringMachine } from '../resources/ec2/vpc-peering.js';
import { subnetCidrMachine } from '../resources/ec2/subnet-cidrs.js';
import { vpcCidrMachine } from '../resources/ec2/vpc-cidrs.js';
import { ReconcileLoop } from './loop.js';
import type { Reconciler, ReconcilerDeps } from './reconciler.js';

export interface VpcStateReconcilerDeps extends ReconcilerDeps {
  log?: (line: string) => void;
  resyncMs?: number;
  /** the machines driven (default: every VPC extra) */
  machines?: readonly AnyStateMachine[];
}

export const VPC_STATE_MACHINES: readonly AnyStateMachine[] = [vpcCidrMachine, subnetCidrMachine, natGatewayMachine, peeringMachine];

export class VpcStateReconciler implements Reconciler {
  readonly loop: ReconcileLoop;
  private readonly machines: ReadonlyMap<string, AnyStateMachine>;
  /** change kind → machine */
  private readonly byChange: ReadonlyMap<string, AnyStateMachine>;

  constructor(private readonly deps: VpcStateReconcilerDeps) {
    this.machines = new Map((deps.machines ?? VPC_STATE_MACHINES).map((m) => [m.kind.name, m]));
    this.byChange = new Map([...this.machines.values()].map((m) => [m.change ?? m.kind.name, m]));
    const log = deps.log ?? ((line: string) => process.stderr.write(`reconcile/vpc-states: ${line}\n`));
    this.loop = new ReconcileLoop({ step: (k) => this.step(k), keys: () => this.keys() }, { store: deps.store, name: 'vpc-states', log, resyncMs: deps.resyncMs });
  }

  handle(e: ChangeEvent): void {
    const m = this.byChange.get(e.kind);
    if (this.loop.isStopped || !m) return;
    this.loop.schedule(`${m.kind.name}/${e.region}/${e.id}`);
  }

  async start(): Promise<void> {
    await this.loop.start();
  }

  async stop(): Promise<void> {
    await this.loop.stop();
  }

  idle(): Promise<void> {
    return this.loop.idle();
  }

  /** Every record whose next step is due. */
  private async keys(): Promise<string[]> {
    const now = Date.now();
    const out: string[] = [];
    for (const m of this.machines.values()) {
      for (const { region, value } of this.deps.store.collection(m.kind).listAllRegions()) {
        const due = m.due(value as never);
        if (due !== undefined && due <= now) out.push(`${m.kind.name}/${region}/${m.id(value as never)}`);
      }
    }
    return out;
  }

  private async step(key: string): Promise<boolean> {
    const [kind, region, id] = key.split('/') as [string, string, string];
    const m = this.machines.get(kind);
    if (!m) return true;
    const changed = await this.loop.commit(() => {
      const ctx = internalContext(this.deps.store, this.deps.config, region, {
        afterCommit: () => {},
      });
      const record = ctx.store.collection(m.kind).get(region, id);
      if (record === undefined) return false;
      const due = m.due(record as never);
      if (due === undefined || due > ctx.now.getTime()) return false;
      return m.advance(ctx, record as never);
    });
    return !changed;
  }
}

