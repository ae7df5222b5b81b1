/**
 * Where a VPC's IPv6 traffic may go beyond it, read from its route tables
 * (what the fabric's routeIpv6 gets): a subnet whose table has an IPv6 route
 * to the VPC's attached internet gateway is an `internet` subnet; else one
 * whose table has an IPv6 route to an egress-only internet gateway of the VPC
 * is `egressOnly`. Any IPv6 destination counts (the host side is all the
 * "internet" there is); a route to a detached or deleted gateway is a
 * blackhole and counts for nothing, as on EC2. Only the VPC's associated
 * blocks and the subnets' associated /64s are given.
 */
import type { Store } from '../../store/store.js';
import { KINDS } from './kinds.js';
import { subnetsUsing } from './route-tables.js';
import type { VpcRecord } from './records.js';
import { subnetIpv6Cidr } from './subnet-cidrs.js';
import { associatedIpv6Blocks } from './vpcs.js';

/** The same shape as network/fabric.ts's Ipv6Routing (resources know no drivers). */
export interface VpcIpv6Routing {
  vpcId: string;
  blocks: string[];
  internet: string[];
  egressOnly: string[];
}

/** The IPv6 routing of one VPC of `region`. */
export function vpcIpv6Routing(store: Store, region: string, vpc: VpcRecord): VpcIpv6Routing {
  const out: VpcIpv6Routing = { vpcId: vpc.VpcId, blocks: associatedIpv6Blocks(vpc.Ipv6CidrBlockAssociationSet).sort(), internet: [], egressOnly: [] };
  if (out.blocks.length === 0) return out;
  const igws = new Set(
    store
      .collection(KINDS.internetGateway)
      .list(region)
      .filter((g) => g.Attachments.some((a) => a.VpcId === vpc.VpcId))
      .map((g) => g.InternetGatewayId),
  );
  const eigws = new Set(
    store
      .collection(KINDS.egressOnlyInternetGateway)
      .list(region)
      .filter((g) => g.VpcId === vpc.VpcId)
      .map((g) => g.EgressOnlyInternetGatewayId),
  );
  const tables = store.collection(KINDS.routeTable).list(region).filter((t) => t.VpcId === vpc.VpcId);
  const subnets = store.collection(KINDS.subnet).list(region).filter((s) => s.VpcId === vpc.VpcId);
  const internet = new Set<string>();
  const egressOnly = new Set<string>();
  for (const t of tables) {
    const v6 = t.Routes.filter((r) => r.DestinationIpv6CidrBlock !== undefined);
    const toIgw = v6.some((r) => r.GatewayId !== undefined && igws.has(r.GatewayId));
    const toEigw = v6.some((r) => r.EgressOnlyInternetGatewayId !== undefined && eigws.has(r.EgressOnlyInternetGatewayId));
    if (!toIgw && !toEigw) continue;
    for (const s of subnetsUsing(t, tables, subnets)) {
      const cidr = subnetIpv6Cidr(s);
      if (cidr === undefined) continue;
      (toIgw ? internet : egressOnly).add(cidr);
    }
  }
  out.internet = [...internet].sort();
  out.egressOnly = [...egressOnly].filter((c) => !internet.has(c)).sort();
  return out;
}

/** Every VPC with IPv6 blocks, of every region, with its routing and its IPv4 CIDR (for ensureNetwork). */
export function allIpv6Routing(store: Store): { routing: VpcIpv6Routing; cidrBlock: string }[] {
  const out: { routing: VpcIpv6Routing; cidrBlock: string }[] = [];
  for (const { region, value } of store.collection(KINDS.vpc).listAllRegions()) {
    if (associatedIpv6Blocks(value.Ipv6CidrBlockAssociationSet).length === 0) continue;
    out.push({ routing: vpcIpv6Routing(store, region, value), cidrBlock: value.CidrBlock });
  }
  return out;
}
