/**
 * AssociateVpcCidrBlock / DisassociateVpcCidrBlock: a VPC's secondary IPv4
 * blocks (domain/vpc-cidr-blocks.ts has EC2's rules) and Amazon-provided IPv6
 * /56 blocks. An association answers `associating` and the reconciler makes it
 * `associated`; a disassociation answers `disassociating`, then `disassociated`
 * (shown for a while). Subnets may use every block that is associating or
 * associated, and the VPC's route tables get a local route for each.
 */
import type {
  AssociateVpcCidrBlockRequest,
  AssociateVpcCidrBlockResult,
  DisassociateVpcCidrBlockRequest,
  DisassociateVpcCidrBlockResult,
  VpcCidrBlockAssociation,
  VpcIpv6CidrBlockAssociation,
} from '@aws-sdk/client-ec2';
import { overlaps, parseCidr4, parseCidr6 } from '../../domain/cidr.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { checkSecondaryCidr, MAX_VPC_IPV6_BLOCKS } from '../../domain/vpc-cidr-blocks.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { VpcRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { liveSubnetIpv6 } from '../../resources/ec2/subnet-cidrs.js';
import { subnets } from '../../resources/ec2/subnets.js';
import { addIpv4Block, addIpv6Block, startDisassociation } from '../../resources/ec2/vpc-cidrs.js';
import { amazonIpv6Block } from '../../resources/ec2/vpc-layout.js';
import { liveIpv4Blocks, liveIpv6Blocks, vpcs } from '../../resources/ec2/vpcs.js';

const associateVpcCidrBlock = action((ctx, input: AssociateVpcCidrBlockRequest): AssociateVpcCidrBlockResult => {
  if (input.VpcId === undefined || input.VpcId === '') throw missingParameter('VpcId');
  if (input.Ipv4IpamPoolId !== undefined || input.Ipv6IpamPoolId !== undefined || input.Ipv4NetmaskLength !== undefined || input.Ipv6NetmaskLength !== undefined) {
    throw new Ec2Error('InvalidParameterValue', 'IPAM pools are not supported.');
  }
  if (input.Ipv6Pool !== undefined || input.Ipv6CidrBlock !== undefined) {
    throw new Ec2Error('InvalidParameterValue', 'Only Amazon-provided IPv6 CIDR blocks (AmazonProvidedIpv6CidrBlock) are supported.');
  }
  const ipv6 = input.AmazonProvidedIpv6CidrBlock === true;
  if (ipv6 && input.CidrBlock !== undefined) {
    throw invalidParameterCombination('The parameters cidrBlock and amazonProvidedIpv6CidrBlock cannot be used together.');
  }
  if (!ipv6 && (input.CidrBlock === undefined || input.CidrBlock === '')) throw missingParameter('CidrBlock');
  if (!ipv6 && input.Ipv6CidrBlockNetworkBorderGroup !== undefined) {
    throw invalidParameterCombination('Ipv6CidrBlockNetworkBorderGroup is only for an IPv6 CIDR block.');
  }
  const vpc = requireResource(ctx, KINDS.vpc, input.VpcId);
  if (ipv6) {
    const group = input.Ipv6CidrBlockNetworkBorderGroup;
    if (group !== undefined && group !== ctx.region) {
      throw new Ec2Error('InvalidParameterValue', `Value (${group}) for parameter ipv6CidrBlockNetworkBorderGroup is invalid. The network border group of ${ctx.region} is ${ctx.region}.`);
    }
    if (liveIpv6Blocks(vpc).length >= MAX_VPC_IPV6_BLOCKS) {
      throw new Ec2Error('CidrLimitExceeded', `This network '${vpc.VpcId}' has met its maximum number of allowed IPv6 CIDRs: ${MAX_VPC_IPV6_BLOCKS}`);
    }
    const a = addIpv6Block(ctx, vpc, amazonIpv6Block(ctx));
    return { VpcId: vpc.VpcId, Ipv6CidrBlockAssociation: a };
  }
  const checked = checkSecondaryCidr(input.CidrBlock!, vpc.VpcId, vpc.CidrBlock, liveIpv4Blocks(vpc));
  if (!checked.ok) throw new Ec2Error(checked.code, checked.message);
  const a = addIpv4Block(ctx, vpc, input.CidrBlock!);
  return { VpcId: vpc.VpcId, CidrBlockAssociation: a };
});

/** The VPC and association an association id names. */
function findAssociation(
  ctx: RequestContext,
  id: string,
): { vpc: VpcRecord; v4?: VpcCidrBlockAssociation; v6?: VpcIpv6CidrBlockAssociation } {
  for (const vpc of vpcs(ctx).list(ctx.region)) {
    const v4 = (vpc.CidrBlockAssociationSet ?? []).find((a) => a.AssociationId === id);
    if (v4) return { vpc, v4 };
    const v6 = (vpc.Ipv6CidrBlockAssociationSet ?? []).find((a) => a.AssociationId === id);
    if (v6) return { vpc, v6 };
  }
  throw new Ec2Error('InvalidVpcCidrBlockAssociationID.NotFound', `The vpc CIDR block association ID '${id}' does not exist`);
}

const cannotDisassociate = (id: string, why: string) =>
  new Ec2Error('OperationNotPermitted', `The vpc CIDR block with association ID ${id} may not be disassociated. ${why}`);

const disassociateVpcCidrBlock = action((ctx, input: DisassociateVpcCidrBlockRequest): DisassociateVpcCidrBlockResult => {
  const id = input.AssociationId;
  if (id === undefined || id === '') throw missingParameter('AssociationId');
  const { vpc, v4, v6 } = findAssociation(ctx, id);
  const state = v4 ? v4.CidrBlockState?.State : v6?.Ipv6CidrBlockState?.State;
  if (state !== 'associated' && state !== 'associating') {
    throw new Ec2Error('IncorrectState', `The vpc CIDR block association ${id} is in state '${state}' and cannot be disassociated.`);
  }
  const inVpc = subnets(ctx)
    .list(ctx.region)
    .filter((s) => s.VpcId === vpc.VpcId);
  if (v4) {
    if (v4.CidrBlock === vpc.CidrBlock) throw cannotDisassociate(id, 'It is the primary IPv4 CIDR block of the VPC');
    const block = parseCidr4(v4.CidrBlock!)!;
    const used = inVpc.find((s) => overlaps(parseCidr4(s.CidrBlock)!, block));
    if (used) {
      throw new Ec2Error('DependencyViolation', `The vpc CIDR block with association ID ${id} may not be disassociated: subnet ${used.SubnetId} uses it.`);
    }
    startDisassociation(ctx, vpc, v4);
    return { VpcId: vpc.VpcId, CidrBlockAssociation: v4 };
  }
  const block = parseCidr6(v6!.Ipv6CidrBlock!)!;
  const shift = BigInt(128 - block.prefix);
  const used = inVpc.find((s) =>
    liveSubnetIpv6(s).map((a) => parseCidr6(a.Ipv6CidrBlock ?? '')).some((c) => c !== undefined && c.prefix >= block.prefix && c.address >> shift === block.address >> shift),
  );
  if (used) {
    throw new Ec2Error('DependencyViolation', `The vpc CIDR block with association ID ${id} may not be disassociated: subnet ${used.SubnetId} has an IPv6 CIDR block in it.`);
  }
  startDisassociation(ctx, vpc, v6!);
  return { VpcId: vpc.VpcId, Ipv6CidrBlockAssociation: v6 };
});

export const vpcCidrBlocksModule: ApiModule = {
  actions: {
    AssociateVpcCidrBlock: associateVpcCidrBlock,
    DisassociateVpcCidrBlock: disassociateVpcCidrBlock,
  },
};
