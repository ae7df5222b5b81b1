/** VPCs: their records and the default VPC of a region. */
import type { ResourceContext } from '../context.js';
import { KINDS } from './kinds.js';
import type { VpcRecord } from './records.js';

/** The default VPC of the caller's region, if it has one (every family that falls back to it asks here). */
export function defaultVpcOf(ctx: ResourceContext): VpcRecord | undefined {
  return ctx.store
    .collection(KINDS.vpc)
    .list(ctx.region)
    .find((v) => v.IsDefault);
}

/** The region's VPCs. */
export function vpcs(ctx: ResourceContext) {
  return ctx.store.collection(KINDS.vpc);
}

const LIVE_BLOCK_STATES: ReadonlySet<string> = new Set(['associating', 'associated']);

/** The VPC's IPv4 blocks that count for subnets and local routes: associating or associated (primary first). */
export function liveIpv4Blocks(vpc: VpcRecord): string[] {
  const set = vpc.CidrBlockAssociationSet ?? [{ CidrBlock: vpc.CidrBlock, CidrBlockState: { State: 'associated' } }];
  return set.filter((a) => LIVE_BLOCK_STATES.has(a.CidrBlockState?.State ?? 'associated')).map((a) => a.CidrBlock ?? '').filter(Boolean);
}

/**
 * The blocks of a VPC's or a subnet's IPv6 CIDR associations that are `associated`
 * (what the fabric carries and the metadata service shows; associating or
 * disassociated ones are left out).
 */
export function associatedIpv6Blocks(set: readonly { Ipv6CidrBlock?: string; Ipv6CidrBlockState?: { State?: string } }[] | undefined): string[] {
  return (set ?? []).filter((a) => a.Ipv6CidrBlockState?.State === 'associated' && a.Ipv6CidrBlock).map((a) => a.Ipv6CidrBlock!);
}

/** The VPC's IPv6 blocks that count: associating or associated. */
export function liveIpv6Blocks(vpc: VpcRecord): string[] {
  return (vpc.Ipv6CidrBlockAssociationSet ?? [])
    .filter((a) => LIVE_BLOCK_STATES.has(a.Ipv6CidrBlockState?.State ?? 'associated'))
    .map((a) => a.Ipv6CidrBlock ?? '')
    .filter(Boolean);
}
