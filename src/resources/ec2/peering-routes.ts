/**
 * What an active VPC peering connection carries, read from the route tables
 * of its two sides (each in its own region): for each side, each route whose
 * target is the connection, each subnet that uses the route's table (its
 * explicit association, or the main table for the subnets without one)
 * sends to the part of the route's destination that lies in the peer VPC's
 * IPv4 blocks. As on EC2, a side without a route sends nothing, and the
 * other side's replies need the mirror route; a destination beyond the peer
 * VPC's blocks reaches nothing there (no edge-to-edge routing).
 */
import type { Store } from '../../store/store.js';
import { cidrToString, contains, overlaps, parseCidr4, canonical, type Cidr4 } from '../../domain/cidr.js';
import { KINDS } from './kinds.js';
import type { VpcPeeringConnectionRecord, VpcRecord } from './records.js';
import { ipv4Destinations, subnetsUsing } from './route-tables.js';
import { liveIpv4Blocks } from './vpcs.js';

/** One direction of traffic over a peering connection: from a subnet of `vpcId` to `destination` in the peer VPC. */
export interface PeeringRoute {
  vpcId: string;
  /** the sending subnet's IPv4 CIDR */
  source: string;
  /** a part (or all) of one of the peer VPC's IPv4 blocks */
  destination: string;
}

/** The two VPCs of a connection as stored (a side whose VPC is gone is undefined) and the routes between them. */
export interface PeeringPaths {
  peeringId: string;
  requester?: VpcRecord;
  accepter?: VpcRecord;
  routes: PeeringRoute[];
}

interface Side {
  vpcId: string;
  region: string;
}

/** Every connection record once (a connection between regions is stored in both). */
export function allPeerings(store: Store): VpcPeeringConnectionRecord[] {
  const seen = new Map<string, VpcPeeringConnectionRecord>();
  for (const { value } of store.collection(KINDS.vpcPeeringConnection).listAllRegions()) seen.set(value.VpcPeeringConnectionId, value);
  return [...seen.values()];
}

/** The part of `dst` inside `block`, if they overlap (CIDRs nest or are apart). */
function within(dst: Cidr4, block: Cidr4): Cidr4 | undefined {
  if (!overlaps(dst, block)) return undefined;
  return contains(block, dst) ? dst : block;
}

/** The routes one side's route tables send over the connection. */
function sideRoutes(store: Store, pcx: string, side: Side, own: readonly Cidr4[], peerBlocks: readonly Cidr4[]): PeeringRoute[] {
  const tables = store.collection(KINDS.routeTable).list(side.region).filter((t) => t.VpcId === side.vpcId);
  const subnets = store.collection(KINDS.subnet).list(side.region).filter((s) => s.VpcId === side.vpcId);
  const out: PeeringRoute[] = [];
  const seen = new Set<string>();
  for (const t of tables) {
    const dests = ipv4Destinations({ store, region: side.region }, t, (r) => r.VpcPeeringConnectionId === pcx);
    if (dests.length === 0) continue;
    for (const s of subnetsUsing(t, tables, subnets)) {
      const src = parseCidr4(s.CidrBlock);
      if (!src) continue;
      for (const d of dests) {
        for (const b of peerBlocks) {
          const part = within(canonical(d), b);
          if (!part || own.some((o) => overlaps(o, part))) continue;
          const r = { vpcId: side.vpcId, source: cidrToString(canonical(src)), destination: cidrToString(canonical(part)) };
          const key = `${r.source} ${r.destination}`;
          if (seen.has(key)) continue;
          seen.add(key);
          out.push(r);
        }
      }
    }
  }
  return out;
}

const blocksOf = (vpc: VpcRecord): Cidr4[] => liveIpv4Blocks(vpc).map((c) => parseCidr4(c)).filter((c): c is Cidr4 => c !== undefined);

/** What an active connection carries (no routes when it is not active, or a side's VPC is gone). */
export function peeringPaths(store: Store, p: VpcPeeringConnectionRecord): PeeringPaths {
  const req: Side = { vpcId: p.RequesterVpcInfo.VpcId, region: p.RequesterVpcInfo.Region };
  const acc: Side = { vpcId: p.AccepterVpcInfo.VpcId, region: p.AccepterVpcInfo.Region };
  const requester = store.collection(KINDS.vpc).get(req.region, req.vpcId);
  const accepter = store.collection(KINDS.vpc).get(acc.region, acc.vpcId);
  const out: PeeringPaths = { peeringId: p.VpcPeeringConnectionId, routes: [] };
  if (requester) out.requester = requester;
  if (accepter) out.accepter = accepter;
  if (p.Status.Code !== 'active' || !requester || !accepter) return out;
  const a = blocksOf(requester);
  const b = blocksOf(accepter);
  out.routes = [...sideRoutes(store, p.VpcPeeringConnectionId, req, a, b), ...sideRoutes(store, p.VpcPeeringConnectionId, acc, b, a)];
  return out;
}
