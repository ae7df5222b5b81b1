/**
 * A VPC's CIDR blocks after the first: AssociateVpcCidrBlock adds an IPv4 or
 * Amazon-provided IPv6 block (`associating`, then `associated`),
 * DisassociateVpcCidrBlock takes one away (`disassociating`, then
 * `disassociated`, shown for a while, then gone). The blocks that count (for
 * subnets and the local routes of the VPC's route tables) are those
 * associating or associated.
 */
import type { VpcCidrBlockAssociation, VpcIpv6CidrBlockAssociation } from '@aws-sdk/client-ec2';
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import { KINDS } from './kinds.js';
import type { VpcRecord } from './records.js';
import { routeTablesOf, save } from './route-tables.js';
import { associationsDue, machine, stepAssociations, type AssociationStates } from './state-machines.js';
import { liveIpv4Blocks, liveIpv6Blocks, vpcs } from './vpcs.js';

/** Makes every route table of the VPC hold a local route for each block that counts, and none for the others. */
export function syncLocalRoutes(ctx: ResourceContext, vpc: VpcRecord): void {
  const v4 = new Set(liveIpv4Blocks(vpc));
  const v6 = new Set(liveIpv6Blocks(vpc));
  for (const table of routeTablesOf(ctx, vpc.VpcId)) {
    const kept = table.Routes.filter(
      (r) => r.GatewayId !== 'local' || (r.DestinationCidrBlock !== undefined ? v4.has(r.DestinationCidrBlock) : v6.has(r.DestinationIpv6CidrBlock ?? '')),
    );
    const has = new Set(kept.filter((r) => r.GatewayId === 'local').map((r) => r.DestinationCidrBlock ?? r.DestinationIpv6CidrBlock));
    for (const c of v4) if (!has.has(c)) kept.push({ DestinationCidrBlock: c, GatewayId: 'local', Origin: 'CreateRouteTable' });
    for (const c of v6) if (!has.has(c)) kept.push({ DestinationIpv6CidrBlock: c, GatewayId: 'local', Origin: 'CreateRouteTable' });
    if (kept.length === table.Routes.length && kept.every((r, i) => r === table.Routes[i])) continue;
    table.Routes = kept;
    save(ctx, table);
  }
}

function store(ctx: ResourceContext, vpc: VpcRecord): void {
  vpcs(ctx).put(ctx.region, vpc.VpcId, vpc);
  syncLocalRoutes(ctx, vpc);
  ctx.notify(KINDS.vpc.name, vpc.VpcId);
}

/** Adds a (checked) secondary IPv4 block, associating. */
export function addIpv4Block(ctx: ResourceContext, vpc: VpcRecord, cidr: string): VpcCidrBlockAssociation {
  const a: VpcCidrBlockAssociation = { AssociationId: newId('vpc-cidr-assoc'), CidrBlock: cidr, CidrBlockState: { State: 'associating' } };
  vpc.CidrBlockAssociationSet = [...(vpc.CidrBlockAssociationSet ?? []), a];
  store(ctx, vpc);
  return a;
}

/** Adds an Amazon-provided IPv6 block, associating. */
export function addIpv6Block(ctx: ResourceContext, vpc: VpcRecord, block: string): VpcIpv6CidrBlockAssociation {
  const a: VpcIpv6CidrBlockAssociation = {
    AssociationId: newId('vpc-cidr-assoc'),
    Ipv6CidrBlock: block,
    Ipv6CidrBlockState: { State: 'associating' },
    NetworkBorderGroup: ctx.region,
    Ipv6Pool: 'Amazon',
    Ipv6AddressAttribute: 'public',
    IpSource: 'amazon',
  };
  vpc.Ipv6CidrBlockAssociationSet = [...(vpc.Ipv6CidrBlockAssociationSet ?? []), a];
  store(ctx, vpc);
  return a;
}

type AnyAssociation = VpcCidrBlockAssociation | VpcIpv6CidrBlockAssociation;
const isIpv6 = (a: AnyAssociation): a is VpcIpv6CidrBlockAssociation => 'Ipv6CidrBlock' in a;

/** Starts taking a block away (the caller checked it may go). */
export function startDisassociation(ctx: ResourceContext, vpc: VpcRecord, a: VpcCidrBlockAssociation | VpcIpv6CidrBlockAssociation): void {
  if (isIpv6(a)) a.Ipv6CidrBlockState = { State: 'disassociating' };
  else a.CidrBlockState = { State: 'disassociating' };
  store(ctx, vpc);
}

const V4: AssociationStates<VpcCidrBlockAssociation> = {
  id: (a) => a.AssociationId ?? '',
  get: (a) => a.CidrBlockState?.State,
  set: (a, State) => {
    a.CidrBlockState = { State };
  },
};
const V6: AssociationStates<VpcIpv6CidrBlockAssociation> = {
  id: (a) => a.AssociationId ?? '',
  get: (a) => a.Ipv6CidrBlockState?.State,
  set: (a, State) => {
    a.Ipv6CidrBlockState = { State };
  },
};

/** associating → associated, disassociating → disassociated (when), disassociated → gone after KEEP_FINAL_MS. */
export const vpcCidrMachine = machine<VpcRecord>({
  kind: KINDS.vpc,
  id: (vpc) => vpc.VpcId,
  due(vpc) {
    const due = [associationsDue(vpc.CidrBlockAssociationSet ?? [], V4, vpc.cidrDisassociatedAt), associationsDue(vpc.Ipv6CidrBlockAssociationSet ?? [], V6, vpc.cidrDisassociatedAt)];
    const set = due.filter((d) => d !== undefined);
    return set.length > 0 ? Math.min(...set) : undefined;
  },
  advance(ctx, vpc) {
    const now = ctx.now.getTime();
    const v4 = stepAssociations(vpc.CidrBlockAssociationSet ?? [], V4, vpc.cidrDisassociatedAt, now);
    const v6 = stepAssociations(vpc.Ipv6CidrBlockAssociationSet ?? [], V6, v4.since, now);
    if (!v4.changed && !v6.changed) return false;
    vpc.CidrBlockAssociationSet = v4.list;
    vpc.Ipv6CidrBlockAssociationSet = v6.list.length > 0 ? v6.list : undefined;
    vpc.cidrDisassociatedAt = v6.since;
    vpcs(ctx).put(ctx.region, vpc.VpcId, vpc);
    return true;
  },
});
