/**
 * NAT gateways on the fabric: every available NAT gateway
 * (resources/ec2/nat-routes.ts) is put on its VPC's network
 * (Fabric.ensureNatGateway, the network ensured first) with the routes its
 * VPC's route tables send to it; a gateway that is no longer available
 * (deleting, deleted, failed), or that the store no longer knows (found on
 * the fabric after a restart), is removed — what was routed to it then has
 * no path. A restarted server's first step re-adopts what the fabric kept
 * and repairs what differs.
 *
 * One key ('nat-gateways') for all: any change to a gateway, a route table,
 * a subnet, a VPC or a managed prefix list schedules it, and a step compares every desired gateway
 * with the fabric's inventory (gateways are few). A gateway the fabric
 * refuses does not hold the others back; the step then fails and is retried.
 */
import type { NatGatewaySpec } from '../network/fabric.js';
import { KINDS } from '../resources/ec2/kinds.js';
import { natGatewayPaths } from '../resources/ec2/nat-routes.js';
import { FabricPassReconciler, type FabricPassDeps } from './loop-reconciler.js';

/** The kinds whose changes can change what a NAT gateway carries. */
const WATCHED: ReadonlySet<string> = new Set([KINDS.natGateway.name, KINDS.routeTable.name, KINDS.subnet.name, KINDS.vpc.name, KINDS.prefixList.name]);


export type NatGatewayReconcilerDeps = FabricPassDeps;

export class NatGatewayReconciler extends FabricPassReconciler {
  constructor(deps: NatGatewayReconcilerDeps) {
    super(deps, 'nat-gateways', WATCHED);
  }

  protected async step(): Promise<boolean> {
    const want = new Map<string, { spec: NatGatewaySpec; vpcCidr: string }>();
    for (const p of natGatewayPaths(this.deps.store)) {
      const { region: _r, vpcCidr, ...spec } = p;
      want.set(p.natGatewayId, { spec, vpcCidr });
    }
    const errors: string[] = [];
    const have = new Map((await this.deps.fabric.list()).natGateways.map((g) => [g.natGatewayId, g]));
    // what is gone first: an Elastic IP or an address moves to a new gateway only once the old one let it go
    for (const g of have.values()) {
      const w = want.get(g.natGatewayId);
      if (w && sameGateway(g, w.spec)) continue;
      try {
        await this.deps.fabric.removeNatGateway(g.natGatewayId);
      } catch (e) {
        errors.push(`${g.natGatewayId}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    for (const { spec, vpcCidr } of want.values()) {
      try {
        await this.deps.fabric.ensureNetwork({ vpcId: spec.vpcId, cidrBlock: vpcCidr });
        await this.deps.fabric.ensureNatGateway(spec);
      } catch (e) {
        errors.push(`${spec.natGatewayId}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (errors.length > 0) throw new Error(errors.join('; '));
    return true;
  }
}

/** The same gateway on the fabric (its routes aside, which ensureNatGateway replaces). */
function sameGateway(a: NatGatewaySpec, b: NatGatewaySpec): boolean {
  return a.vpcId === b.vpcId && a.subnetId === b.subnetId && a.subnetCidr === b.subnetCidr && a.mac.toLowerCase() === b.mac.toLowerCase() && a.privateIp === b.privateIp && a.publicIp === b.publicIp;
}
