/**
 * IPv6 beyond the VPC on the fabric: every network gets the routing its VPC's
 * route tables ask for (resources/ec2/ipv6-routing.ts: internet gateway and
 * egress-only internet gateway routes per subnet, the VPC's blocks) through
 * Fabric.routeIpv6; a VPC with a path gets its network ensured first (so the
 * host route exists before its first instance runs), a network whose VPC has
 * no IPv6 any more (or that the store no longer knows) gets an empty routing.
 *
 * One key ('ipv6-routing') for all VPCs, as peering-links.ts: any change to a VPC, a
 * subnet, a route table, an internet or egress-only gateway schedules it; a
 * network the fabric refuses does not hold the others back, the step then
 * fails and is retried.
 */
import type { Ipv6Routing } from '../network/fabric.js';
import { allIpv6Routing } from '../resources/ec2/ipv6-routing.js';
import { KINDS } from '../resources/ec2/kinds.js';
import { SUBNET_CIDR_CHANGE } from '../resources/ec2/subnet-cidrs.js';
import { FabricPassReconciler, type FabricPassDeps } from './loop-reconciler.js';

const WATCHED: ReadonlySet<string> = new Set([
  KINDS.vpc.name,
  KINDS.subnet.name,
  KINDS.routeTable.name,
  KINDS.internetGateway.name,
  KINDS.egressOnlyInternetGateway.name,
  SUBNET_CIDR_CHANGE,
]);


export type Ipv6RoutingReconcilerDeps = FabricPassDeps;

export class Ipv6RoutingReconciler extends FabricPassReconciler {
  constructor(deps: Ipv6RoutingReconcilerDeps) {
    super(deps, 'ipv6-routing', WATCHED);
  }

  protected async step(): Promise<boolean> {
    const fabric = this.deps.fabric;
    const want = new Map(allIpv6Routing(this.deps.store).map((w) => [w.routing.vpcId, w]));
    const networks = new Set((await fabric.list()).networks.map((n) => n.vpcId));
    const errors: string[] = [];
    const route = async (vpcId: string, r: Ipv6Routing) => {
      try {
        await fabric.routeIpv6(r);
      } catch (e) {
        errors.push(`${vpcId}: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    for (const { routing, cidrBlock } of want.values()) {
      const paths = routing.internet.length + routing.egressOnly.length > 0;
      if (!networks.has(routing.vpcId)) {
        if (!paths) continue;
        try {
          await fabric.ensureNetwork({ vpcId: routing.vpcId, cidrBlock });
        } catch (e) {
          errors.push(`${routing.vpcId}: ${e instanceof Error ? e.message : String(e)}`);
          continue;
        }
      }
      await route(routing.vpcId, { ...routing });
    }
    for (const vpcId of networks) if (!want.has(vpcId)) await route(vpcId, { vpcId, blocks: [], internet: [], egressOnly: [] });
    if (errors.length > 0) throw new Error(errors.join('; '));
    return true;
  }
}
