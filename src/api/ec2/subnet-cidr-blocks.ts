/**
 * AssociateSubnetCidrBlock / DisassociateSubnetCidrBlock: a subnet's IPv6 /64,
 * inside one of its VPC's IPv6 blocks and apart from its siblings' (the rules
 * CreateSubnet uses). One IPv6 block per subnet; `associating` then
 * `associated`, `disassociating` then `disassociated` through the reconciler.
 */
import type {
  AssociateSubnetCidrBlockRequest,
  AssociateSubnetCidrBlockResult,
  DisassociateSubnetCidrBlockRequest,
  DisassociateSubnetCidrBlockResult,
} from '@aws-sdk/client-ec2';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { action, type ApiModule } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { addSubnetIpv6, liveSubnetIpv6, startSubnetDisassociation } from '../../resources/ec2/subnet-cidrs.js';
import { subnets } from '../../resources/ec2/subnets.js';
import { validateSubnetIpv6 } from './subnets.js';

const associateSubnetCidrBlock = action((ctx, input: AssociateSubnetCidrBlockRequest): AssociateSubnetCidrBlockResult => {
  if (input.SubnetId === undefined || input.SubnetId === '') throw missingParameter('SubnetId');
  if (input.Ipv6IpamPoolId !== undefined || input.Ipv6NetmaskLength !== undefined) {
    throw new Ec2Error('InvalidParameterValue', 'IPAM pools are not supported.');
  }
  if (input.Ipv6CidrBlock === undefined || input.Ipv6CidrBlock === '') throw missingParameter('Ipv6CidrBlock');
  const subnet = requireResource(ctx, KINDS.subnet, input.SubnetId);
  const vpc = requireResource(ctx, KINDS.vpc, subnet.VpcId);
  const siblings = subnets(ctx)
    .list(ctx.region)
    .filter((s) => s.VpcId === vpc.VpcId && s.SubnetId !== subnet.SubnetId);
  const block = validateSubnetIpv6(input.Ipv6CidrBlock, vpc, siblings);
  const current = liveSubnetIpv6(subnet)[0];
  if (current) {
    throw new Ec2Error('InvalidParameterValue', `The subnet ${subnet.SubnetId} already has the IPv6 CIDR block ${current.Ipv6CidrBlock} (association ${current.AssociationId}).`);
  }
  return { SubnetId: subnet.SubnetId, Ipv6CidrBlockAssociation: addSubnetIpv6(ctx, subnet, block) };
});

const disassociateSubnetCidrBlock = action((ctx, input: DisassociateSubnetCidrBlockRequest): DisassociateSubnetCidrBlockResult => {
  const id = input.AssociationId;
  if (id === undefined || id === '') throw missingParameter('AssociationId');
  for (const subnet of subnets(ctx).list(ctx.region)) {
    const a = (subnet.Ipv6CidrBlockAssociationSet ?? []).find((x) => x.AssociationId === id);
    if (!a) continue;
    const state = a.Ipv6CidrBlockState?.State;
    if (state !== 'associated' && state !== 'associating') {
      throw new Ec2Error('IncorrectState', `The subnet CIDR block association ${id} is in state '${state}' and cannot be disassociated.`);
    }
    const holder = ctx.store
      .collection(KINDS.networkInterface)
      .list(ctx.region)
      .find((e) => e.SubnetId === subnet.SubnetId && (e.Ipv6Addresses ?? []).length > 0);
    if (holder) {
      throw new Ec2Error('DependencyViolation', `The subnet CIDR block association ${id} cannot be disassociated: interface ${holder.NetworkInterfaceId} has IPv6 addresses from it.`);
    }
    startSubnetDisassociation(ctx, subnet, a);
    return { SubnetId: subnet.SubnetId, Ipv6CidrBlockAssociation: a };
  }
  throw new Ec2Error('InvalidSubnetCidrBlockAssociationID.NotFound', `The subnet CIDR block association ID '${id}' does not exist`);
});

export const subnetCidrBlocksModule: ApiModule = {
  actions: {
    AssociateSubnetCidrBlock: associateSubnetCidrBlock,
    DisassociateSubnetCidrBlock: disassociateSubnetCidrBlock,
  },
};
