/**
 * What an available NAT gateway carries, read from its VPC's route tables:
 * each route whose target is the gateway (an IPv4 destination), from each
 * subnet that uses the route's table (its explicit association, or the main
 * table for the subnets without one). The gateway's own subnet is left out:
 * its traffic to the gateway would come back to it. A gateway that is not
 * available (pending, deleting, deleted, failed) carries nothing, so the
 * routes to a deleted one lead nowhere (DescribeRouteTables shows them as
 * `blackhole`). A route to a managed prefix list carries the list's IPv4 entries.
 */
import type { Store } from '../../store/store.js';
import { canonical, cidrToString, parseCidr4 } from '../../domain/cidr.js';
import { KINDS } from './kinds.js';
import type { NatGatewayRecord } from './records.js';
import { ipv4Destinations, subnetsUsing } from './route-tables.js';

/** A NAT gateway as the fabric needs it: its interface, its Elastic IP, the routes to it. */
export interface NatGatewayPath {
  natGatewayId: string;
  region: string;
  vpcId: string;
  /** the VPC's primary IPv4 CIDR (its network on the fabric) */
  vpcCidr: string;
  subnetId: string;
  subnetCidr: string;
  mac: string;
  privateIp: string;
  /** a public gateway's Elastic IP */
  publicIp?: string;
  /** from a sending subnet's CIDR to a destination (canonical) */
  routes: { source: string; destination: string }[];
}

/** The path of one gateway record, or undefined when it carries nothing (not available, or its VPC, subnet or interface gone). */
export function natGatewayPath(store: Store, region: string, n: NatGatewayRecord): NatGatewayPath | undefined {
  if (n.State !== 'available') return undefined;
  const primary = n.NatGatewayAddresses.find((a) => a.IsPrimary === true) ?? n.NatGatewayAddresses[0];
  const eni = primary?.NetworkInterfaceId === undefined ? undefined : store.collection(KINDS.networkInterface).get(region, primary.NetworkInterfaceId);
  const vpc = store.collection(KINDS.vpc).get(region, n.VpcId);
  const subnet = store.collection(KINDS.subnet).get(region, n.SubnetId);
  if (!eni || !vpc || !subnet || eni.PrivateIpAddress === undefined || eni.MacAddress === undefined) return undefined;
  const tables = store.collection(KINDS.routeTable).list(region).filter((t) => t.VpcId === n.VpcId);
  const subnets = store.collection(KINDS.subnet).list(region).filter((s) => s.VpcId === n.VpcId && s.SubnetId !== n.SubnetId);
  const routes: NatGatewayPath['routes'] = [];
  const seen = new Set<string>();
  for (const t of tables) {
    const dests = ipv4Destinations({ store, region }, t, (r) => r.NatGatewayId === n.NatGatewayId);
    if (dests.length === 0) continue;
    for (const s of subnetsUsing(t, tables, subnets)) {
      const src = parseCidr4(s.CidrBlock);
      if (!src) continue;
      for (const d of dests) {
        const r = { source: cidrToString(canonical(src)), destination: cidrToString(canonical(d)) };
        const key = `${r.source} ${r.destination}`;
        if (seen.has(key)) continue;
        seen.add(key);
        routes.push(r);
      }
    }
  }
  const publicIp = n.ConnectivityType === 'public' ? primary?.PublicIp : undefined;
  return {
    natGatewayId: n.NatGatewayId,
    region,
    vpcId: n.VpcId,
    vpcCidr: vpc.CidrBlock,
    subnetId: n.SubnetId,
    subnetCidr: subnet.CidrBlock,
    mac: eni.MacAddress,
    privateIp: eni.PrivateIpAddress,
    ...(publicIp !== undefined ? { publicIp } : {}),
    routes,
  };
}

/** Every available NAT gateway of every region, with what it carries. */
export function natGatewayPaths(store: Store): NatGatewayPath[] {
  const out: NatGatewayPath[] = [];
  for (const { region, value } of store.collection(KINDS.natGateway).listAllRegions()) {
    const p = natGatewayPath(store, region, value);
    if (p) out.push(p);
  }
  return out;
}
