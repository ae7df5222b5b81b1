/**
 * A subnet's IPv6 /64 after creation: AssociateSubnetCidrBlock adds it
 * (`associating`, then `associated`), DisassociateSubnetCidrBlock takes it away
 * (`disassociating`, then `disassociated`, shown for a while, then gone).
 */
import type { SubnetIpv6CidrBlockAssociation } from '@aws-sdk/client-ec2';
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import { KINDS } from './kinds.js';
import type { SubnetRecord } from './records.js';
import { associationsDue, machine, stepAssociations, type AssociationStates } from './state-machines.js';
import { subnets } from './subnets.js';
import { associatedIpv6Blocks } from './vpcs.js';

/** The subnet's IPv6 associations that count: associating or associated. */
export function liveSubnetIpv6(subnet: Pick<SubnetRecord, 'Ipv6CidrBlockAssociationSet'>): SubnetIpv6CidrBlockAssociation[] {
  return (subnet.Ipv6CidrBlockAssociationSet ?? []).filter((a) => a.Ipv6CidrBlockState?.State === 'associated' || a.Ipv6CidrBlockState?.State === 'associating');
}

/** The subnet's associated IPv6 /64, if it has one. */
export function subnetIpv6Cidr(subnet: Pick<SubnetRecord, 'Ipv6CidrBlockAssociationSet'> | undefined): string | undefined {
  return associatedIpv6Blocks(subnet?.Ipv6CidrBlockAssociationSet)[0];
}

/**
 * The change a subnet's IPv6 association notifies: a kind of its own, so that
 * only the state reconciler looks (a 'subnet' change makes the instances'
 * reconciler look at every live instance of the region).
 */
export const SUBNET_CIDR_CHANGE = 'subnet-cidr-block';

function store(ctx: ResourceContext, subnet: SubnetRecord): void {
  subnets(ctx).put(ctx.region, subnet.SubnetId, subnet);
  ctx.notify(SUBNET_CIDR_CHANGE, subnet.SubnetId);
}

/** Adds a (checked) IPv6 /64, associating. */
export function addSubnetIpv6(ctx: ResourceContext, subnet: SubnetRecord, block: string): SubnetIpv6CidrBlockAssociation {
  const a: SubnetIpv6CidrBlockAssociation = {
    AssociationId: newId('subnet-cidr-assoc'),
    Ipv6CidrBlock: block,
    Ipv6CidrBlockState: { State: 'associating' },
    Ipv6AddressAttribute: 'public',
    IpSource: 'amazon',
  };
  subnet.Ipv6CidrBlockAssociationSet = [...(subnet.Ipv6CidrBlockAssociationSet ?? []), a];
  store(ctx, subnet);
  return a;
}

/** Starts taking the block away; the subnet no longer assigns IPv6 addresses on creation. */
export function startSubnetDisassociation(ctx: ResourceContext, subnet: SubnetRecord, a: SubnetIpv6CidrBlockAssociation): void {
  a.Ipv6CidrBlockState = { State: 'disassociating' };
  if (liveSubnetIpv6(subnet).length === 0) subnet.AssignIpv6AddressOnCreation = false;
  store(ctx, subnet);
}

const STATES: AssociationStates<SubnetIpv6CidrBlockAssociation> = {
  id: (a) => a.AssociationId ?? '',
  get: (a) => a.Ipv6CidrBlockState?.State,
  set: (a, State) => {
    a.Ipv6CidrBlockState = { State };
  },
};

/** associating → associated, disassociating → disassociated, disassociated → gone after a while. */
export const subnetCidrMachine = machine<SubnetRecord>({
  kind: KINDS.subnet,
  change: SUBNET_CIDR_CHANGE,
  id: (s) => s.SubnetId,
  due: (s) => associationsDue(s.Ipv6CidrBlockAssociationSet ?? [], STATES, s.ipv6DisassociatedAt),
  advance(ctx, subnet) {
    const step = stepAssociations(subnet.Ipv6CidrBlockAssociationSet ?? [], STATES, subnet.ipv6DisassociatedAt, ctx.now.getTime());
    if (!step.changed) return false;
    subnet.Ipv6CidrBlockAssociationSet = step.list;
    subnet.ipv6DisassociatedAt = step.since;
    subnets(ctx).put(ctx.region, subnet.SubnetId, subnet);
    return true;
  },
});
