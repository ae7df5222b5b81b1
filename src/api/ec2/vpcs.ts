/**
 * VPCs: create, describe, delete, DNS attributes, and the default VPC.
 *
 * A VPC comes with its main route table, default security group and default
 * network ACL, and goes with them. The default VPC (created in each region's
 * first call, or by CreateDefaultVpc) also has a default subnet per AZ and an
 * attached internet gateway that the main route table sends 0.0.0.0/0 to.
 */
import type { CreateDefaultVpcRequest, CreateDefaultVpcResult, CreateVpcRequest, CreateVpcResult, DeleteVpcRequest, DescribeVpcAttributeRequest, DescribeVpcAttributeResult, DescribeVpcsRequest, DescribeVpcsResult, ModifyVpcAttributeRequest, Vpc } from '@aws-sdk/client-ec2';
import { validateVpcCidr } from '../../domain/cidr.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { defaultVpcOf, vpcs } from '../../resources/ec2/vpcs.js';
import { type VpcRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { KindSpec } from '../../store/kind.js';
import { attachedGatewayOf } from '../../resources/ec2/internet-gateways.js';
import { aclsOfVpc, deleteNetworkAclsOf } from '../../resources/ec2/network-acls.js';
import { deleteRouteTablesOf, routeTablesOf } from '../../resources/ec2/route-tables.js';
import { deleteSecurityGroupRecords, securityGroupsOfVpc } from '../../resources/ec2/security-groups.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { createDefaultVpcLayout, createVpcLayout } from '../../resources/ec2/vpc-layout.js';
import { outsideDependencies } from '../../resources/ec2/route-gateways.js';


// ---------------------------------------------------------------- DHCP options


// ---------------------------------------------------------------- creating


/** Region set-up: the default VPC, unless the region already has one. */
function initRegion(ctx: RequestContext): void {
  if (!defaultVpcOf(ctx)) createDefaultVpcLayout(ctx);
}

function toOutput(record: VpcRecord, tags: Tag[] | undefined): Vpc {
  const { EnableDnsSupport: _s, EnableDnsHostnames: _h, EnableNetworkAddressUsageMetrics: _m, ...vpc } = record;
  return { ...vpc, Tags: tagsField(tags) };
}

function requireVpc(ctx: RequestContext, id: string | undefined): VpcRecord {
  if (id === undefined || id === '') throw missingParameter('VpcId');
  return requireResource(ctx, KINDS.vpc, id);
}

// ---------------------------------------------------------------- actions

const createVpc = action((ctx, input: CreateVpcRequest): CreateVpcResult => {
  if (input.Ipv4IpamPoolId !== undefined || input.Ipv6IpamPoolId !== undefined) {
    throw new Ec2Error('InvalidParameterValue', 'IPAM pools are not supported.');
  }
  if (input.Ipv6Pool !== undefined || input.Ipv6CidrBlock !== undefined) {
    throw new Ec2Error('InvalidParameterValue', 'Only Amazon-provided IPv6 CIDR blocks (AmazonProvidedIpv6CidrBlock) are supported.');
  }
  if (input.CidrBlock === undefined || input.CidrBlock === '') throw missingParameter('CidrBlock');
  const checked = validateVpcCidr(input.CidrBlock);
  if (!checked.ok) throw new Ec2Error(checked.code, checked.message);
  const tenancy = input.InstanceTenancy ?? 'default';
  if (tenancy === 'host') throw new Ec2Error('UnsupportedTenancy', 'The tenancy value host is not supported.');
  if (tenancy !== 'default' && tenancy !== 'dedicated') {
    throw new Ec2Error('InvalidParameterValue', `Value (${tenancy}) for parameter instanceTenancy is invalid.`);
  }
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.vpc.name]).get(KINDS.vpc.name) ?? [];
  const vpc = createVpcLayout(ctx, {
    cidr: input.CidrBlock,
    tenancy,
    isDefault: false,
    ipv6: input.AmazonProvidedIpv6CidrBlock === true,
  });
  putTags(ctx, vpc.VpcId, KINDS.vpc.name, tags);
  // EC2 answers CreateVpc with the VPC still pending; it is available at once after.
  return { Vpc: { ...toOutput(vpc, tags), State: 'pending' } };
});

const createDefaultVpc = action((ctx, _input: CreateDefaultVpcRequest): CreateDefaultVpcResult => {
  if (defaultVpcOf(ctx)) {
    throw new Ec2Error('DefaultVpcAlreadyExists', 'A Default VPC already exists for this account in this region.');
  }
  const vpc = createDefaultVpcLayout(ctx);
  return { Vpc: { ...toOutput(vpc, undefined), State: 'pending' } };
});

const VPC_FILTERS = filterTable<VpcRecord>('DescribeVpcs', {
  cidr: 'CidrBlock',
  // not in the reference, but EC2 takes it (Ansible's ec2_vpc_net finds its VPC by 'cidr-block')
  'cidr-block': 'CidrBlock',
  'cidr-block-association.cidr-block': 'CidrBlockAssociationSet.CidrBlock',
  'cidr-block-association.association-id': 'CidrBlockAssociationSet.AssociationId',
  'cidr-block-association.state': 'CidrBlockAssociationSet.CidrBlockState.State',
  'dhcp-options-id': 'DhcpOptionsId',
  'ipv6-cidr-block-association.ipv6-cidr-block': 'Ipv6CidrBlockAssociationSet.Ipv6CidrBlock',
  'ipv6-cidr-block-association.ipv6-pool': 'Ipv6CidrBlockAssociationSet.Ipv6Pool',
  'ipv6-cidr-block-association.association-id': 'Ipv6CidrBlockAssociationSet.AssociationId',
  'ipv6-cidr-block-association.state': 'Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State',
  'instance-tenancy': 'InstanceTenancy',
  'is-default': 'IsDefault',
  isDefault: 'IsDefault',
  'owner-id': 'OwnerId',
  state: 'State',
  'vpc-id': 'VpcId',
});

const describeVpcs = action((ctx, input: DescribeVpcsRequest): DescribeVpcsResult => {
  const ids = input.VpcIds ?? [];
  const records = ids.length > 0 ? requireResources(ctx, KINDS.vpc, ids) : vpcs(ctx).list(ctx.region);
  const tags = tagsByResource(ctx, KINDS.vpc.name);
  const filtered = applyFilters(
    records,
    input.Filters,
    VPC_FILTERS,
    (v) => tags.get(v.VpcId),
  );
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { Vpcs: page.items.map((v) => toOutput(v, tags.get(v.VpcId))), NextToken: page.nextToken };
});

/** Whether anything besides its own defaults still lives in the VPC. */
function hasDependencies(ctx: RequestContext, vpcId: string): boolean {
  const inVpc = <T extends { VpcId?: string }>(kind: KindSpec<T>): T[] =>
    ctx.store
      .collection(kind)
      .list(ctx.region)
      .filter((r) => r.VpcId === vpcId);
  return (
    inVpc(KINDS.subnet).length > 0 ||
    attachedGatewayOf(ctx, vpcId) !== undefined ||
    securityGroupsOfVpc(ctx, vpcId).some((g) => g.GroupName !== 'default') ||
    routeTablesOf(ctx, vpcId).some((t) => !t.Associations.some((a) => a.Main === true)) ||
    aclsOfVpc(ctx, vpcId).some((a) => !a.IsDefault) ||
    inVpc(KINDS.networkInterface).length > 0 ||
    outsideDependencies(ctx, vpcId) ||
    inVpc(KINDS.egressOnlyInternetGateway).length > 0 ||
    inVpc(KINDS.natGateway).some((n) => n.State !== 'deleted' && n.State !== 'failed')
  );
}

const deleteVpc = action((ctx, input: DeleteVpcRequest) => {
  const vpc = requireVpc(ctx, input.VpcId);
  if (hasDependencies(ctx, vpc.VpcId)) {
    throw new Ec2Error('DependencyViolation', `The vpc '${vpc.VpcId}' has dependencies and cannot be deleted.`);
  }
  deleteRouteTablesOf(ctx, vpc.VpcId);
  deleteNetworkAclsOf(ctx, vpc.VpcId);
  for (const g of securityGroupsOfVpc(ctx, vpc.VpcId)) deleteSecurityGroupRecords(ctx, g.GroupId);
  vpcs(ctx).delete(ctx.region, vpc.VpcId);
  ctx.store.tags.removeAll(ctx.region, vpc.VpcId);
  return {};
});

/** ModifyVpcAttribute / DescribeVpcAttribute attributes: request member and wire name. */
const ATTRIBUTES = [
  ['EnableDnsSupport', 'enableDnsSupport'],
  ['EnableDnsHostnames', 'enableDnsHostnames'],
  ['EnableNetworkAddressUsageMetrics', 'enableNetworkAddressUsageMetrics'],
] as const;

const modifyVpcAttribute = action((ctx, input: ModifyVpcAttributeRequest) => {
  const vpc = requireVpc(ctx, input.VpcId);
  const given = ATTRIBUTES.filter(([k]) => input[k] !== undefined);
  if (given.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain an attribute to modify.');
  if (given.length > 1) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      `Fields for multiple attribute types specified: ${given.map(([, wire]) => wire).join(', ')}`,
    );
  }
  const [key] = given[0]!;
  const value = input[key]!.Value;
  if (value === undefined) throw missingParameter(`${key}.Value`);
  if (key === 'EnableDnsHostnames' && value && !vpc.EnableDnsSupport) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      `DNS hostnames cannot be enabled for ${vpc.VpcId} while DNS support is disabled. Enable DNS support first.`,
    );
  }
  vpc[key] = value;
  vpcs(ctx).put(ctx.region, vpc.VpcId, vpc);
  return {};
});

const describeVpcAttribute = action((ctx, input: DescribeVpcAttributeRequest): DescribeVpcAttributeResult => {
  if (input.Attribute === undefined) throw missingParameter('Attribute');
  const attr = ATTRIBUTES.find(([, wire]) => wire === input.Attribute);
  if (!attr) {
    throw new Ec2Error('InvalidParameterValue', `Value (${input.Attribute}) for parameter attribute is invalid. Unknown attribute.`);
  }
  const vpc = requireVpc(ctx, input.VpcId);
  const [key] = attr;
  return { VpcId: vpc.VpcId, [key]: { Value: vpc[key] ?? false } };
});

export const vpcsModule: ApiModule = {
  initRegion,
  initOrder: 10,
  actions: {
    CreateVpc: createVpc,
    CreateDefaultVpc: createDefaultVpc,
    DescribeVpcs: describeVpcs,
    DeleteVpc: deleteVpc,
    ModifyVpcAttribute: modifyVpcAttribute,
    DescribeVpcAttribute: describeVpcAttribute,
  },
};
