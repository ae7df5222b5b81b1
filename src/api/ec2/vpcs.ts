/**
 * VPCs: create, describe, delete, DNS attributes, and the default VPC.
 *
 * A VPC comes with its main route table, default security group and default
 * network ACL, and goes with them. The default VPC (created in each region's
 * first call, or by CreateDefaultVpc) also has a default subnet per AZ and an
 * attached internet gateway that the main route table sends 0.0.0.0/0 to.
 */
import type {
  CreateDefaultVpcRequest,
  CreateDefaultVpcResult,
  CreateVpcRequest,
  CreateVpcResult,
  DeleteVpcRequest,
  DescribeVpcAttributeRequest,
  DescribeVpcAttributeResult,
  DescribeVpcsRequest,
  DescribeVpcsResult,
  DhcpConfiguration,
  ModifyVpcAttributeRequest,
  Tenancy,
  Vpc,
  VpcIpv6CidrBlockAssociation,
} from '@aws-sdk/client-ec2';
import { randomInt } from 'node:crypto';
import { DEFAULT_VPC_CIDR, formatIpv6, validateVpcCidr } from '../../domain/cidr.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { attachGatewayRecord, attachedGatewayOf, insertInternetGateway } from './internet-gateways.js';
import { createDefaultNetworkAcl, deleteNetworkAclsOf } from './network-acls.js';
import { defaultVpcOf, type NetworkInterfaceRecord, type SubnetRecord, type VpcRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { createMainRouteTable, deleteRouteTablesOf, routeTablesOf } from './route-tables.js';
import { createDefaultSecurityGroup, deleteSecurityGroupRecords, securityGroupsOfVpc } from './security-groups.js';
import { createDefaultSubnets } from './subnets.js';
import { putTags, tagSpecificationTags, tagsByResource, tagsField } from './tags.js';

const KIND = 'vpc';

/** The stored VPC: the shared record plus the attribute only this family reads. */
type StoredVpc = VpcRecord & { EnableNetworkAddressUsageMetrics?: boolean };

function vpcs(ctx: RequestContext) {
  return ctx.store.collection<StoredVpc>(KIND);
}

// ---------------------------------------------------------------- DHCP options

/** collection 'dhcp-options': only the region's default set exists (no DHCP options API yet). */
interface DhcpOptionsRecord {
  DhcpOptionsId: string;
  OwnerId: string;
  DhcpConfigurations: DhcpConfiguration[];
  /** marks the set every new VPC gets */
  regionDefault: true;
}

/** The region's default DHCP options set (AmazonProvidedDNS), created on first need. */
function defaultDhcpOptionsId(ctx: RequestContext): string {
  const col = ctx.store.collection<DhcpOptionsRecord>('dhcp-options');
  const existing = col.list(ctx.region).find((d) => d.regionDefault);
  if (existing) return existing.DhcpOptionsId;
  const domain = ctx.region === 'us-east-1' ? 'ec2.internal' : `${ctx.region}.compute.internal`;
  const record: DhcpOptionsRecord = {
    DhcpOptionsId: newId('dopt'),
    OwnerId: ctx.accountId,
    DhcpConfigurations: [
      { Key: 'domain-name', Values: [{ Value: domain }] },
      { Key: 'domain-name-servers', Values: [{ Value: 'AmazonProvidedDNS' }] },
    ],
    regionDefault: true,
  };
  col.put(ctx.region, record.DhcpOptionsId, record);
  return record.DhcpOptionsId;
}

// ---------------------------------------------------------------- creating

/** An Amazon-provided IPv6 /56 (2600:1f1x::/56 style) not used by another VPC of the region. */
function amazonIpv6Block(ctx: RequestContext): string {
  const taken = new Set(
    vpcs(ctx)
      .list(ctx.region)
      .flatMap((v) => (v.Ipv6CidrBlockAssociationSet ?? []).map((a) => a.Ipv6CidrBlock)),
  );
  for (;;) {
    // 2600:1f1X:YYYY:ZZ00::/56 — the top 56 bits are prefix + random, the rest zero.
    const top = (0x2600n << 40n) | ((0x1f10n + BigInt(randomInt(16))) << 24n) | (BigInt(randomInt(0x10000)) << 8n) | BigInt(randomInt(0x100));
    const block = `${formatIpv6(top << 72n)}/56`;
    if (!taken.has(block)) return block;
  }
}

interface NewVpc {
  cidr: string;
  tenancy: Tenancy;
  isDefault: boolean;
  ipv6: boolean;
}

/**
 * Stores a VPC and what every VPC has: default network ACL, default security
 * group, main route table. The default VPC also gets an internet gateway, a
 * 0.0.0.0/0 route to it and a default subnet per AZ.
 */
function createVpcLayout(ctx: RequestContext, spec: NewVpc): StoredVpc {
  const vpcId = newId('vpc');
  // EC2 omits the IPv6 set from a VPC that has no IPv6 block.
  const ipv6: VpcIpv6CidrBlockAssociation[] | undefined = spec.ipv6
    ? [
        {
          AssociationId: newId('vpc-cidr-assoc'),
          Ipv6CidrBlock: amazonIpv6Block(ctx),
          Ipv6CidrBlockState: { State: 'associated' },
          NetworkBorderGroup: ctx.region,
          Ipv6Pool: 'Amazon',
          Ipv6AddressAttribute: 'public',
          IpSource: 'amazon',
        },
      ]
    : undefined;
  const vpc: StoredVpc = {
    VpcId: vpcId,
    OwnerId: ctx.accountId,
    State: 'available',
    CidrBlock: spec.cidr,
    CidrBlockAssociationSet: [
      { AssociationId: newId('vpc-cidr-assoc'), CidrBlock: spec.cidr, CidrBlockState: { State: 'associated' } },
    ],
    Ipv6CidrBlockAssociationSet: ipv6,
    DhcpOptionsId: defaultDhcpOptionsId(ctx),
    InstanceTenancy: spec.tenancy,
    IsDefault: spec.isDefault,
    EnableDnsSupport: true,
    EnableDnsHostnames: spec.isDefault,
    EnableNetworkAddressUsageMetrics: false,
    BlockPublicAccessStates: { InternetGatewayBlockMode: 'off' },
  };
  vpcs(ctx).put(ctx.region, vpcId, vpc);
  createDefaultNetworkAcl(ctx, vpc);
  createDefaultSecurityGroup(ctx, vpcId);
  if (spec.isDefault) {
    const igw = insertInternetGateway(ctx);
    attachGatewayRecord(ctx, igw, vpcId);
    createMainRouteTable(ctx, vpc, [{ DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw.InternetGatewayId }]);
    createDefaultSubnets(ctx, vpc);
  } else {
    createMainRouteTable(ctx, vpc);
  }
  return vpc;
}


function createDefaultVpcLayout(ctx: RequestContext): StoredVpc {
  return createVpcLayout(ctx, { cidr: DEFAULT_VPC_CIDR, tenancy: 'default', isDefault: true, ipv6: false });
}

/** Region set-up: the default VPC, unless the region already has one. */
function initRegion(ctx: RequestContext): void {
  if (!defaultVpcOf(ctx)) createDefaultVpcLayout(ctx);
}

function toOutput(record: StoredVpc, tags: Tag[] | undefined): Vpc {
  const { EnableDnsSupport: _s, EnableDnsHostnames: _h, EnableNetworkAddressUsageMetrics: _m, ...vpc } = record;
  return { ...vpc, Tags: tagsField(tags) };
}

function requireVpc(ctx: RequestContext, id: string | undefined): StoredVpc {
  if (id === undefined || id === '') throw missingParameter('VpcId');
  return requireResource<StoredVpc>(ctx, 'vpc', id);
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
  const tags = tagSpecificationTags(input.TagSpecifications, [KIND]).get(KIND) ?? [];
  const vpc = createVpcLayout(ctx, {
    cidr: input.CidrBlock,
    tenancy,
    isDefault: false,
    ipv6: input.AmazonProvidedIpv6CidrBlock === true,
  });
  putTags(ctx, vpc.VpcId, KIND, tags);
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

const VPC_FILTERS = filterTable<StoredVpc>('DescribeVpcs', {
  cidr: 'CidrBlock',
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
  const records = ids.length > 0 ? requireResources<StoredVpc>(ctx, 'vpc', ids) : vpcs(ctx).list(ctx.region);
  const tags = tagsByResource(ctx, KIND);
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
  const inVpc = <T extends { VpcId?: string }>(kind: string): T[] =>
    ctx.store
      .collection<T>(kind)
      .list(ctx.region)
      .filter((r) => r.VpcId === vpcId);
  return (
    inVpc<SubnetRecord>('subnet').length > 0 ||
    attachedGatewayOf(ctx, vpcId) !== undefined ||
    securityGroupsOfVpc(ctx, vpcId).some((g) => g.GroupName !== 'default') ||
    routeTablesOf(ctx, vpcId).some((t) => !t.Associations.some((a) => a.Main === true)) ||
    inVpc<NetworkInterfaceRecord>('network-interface').length > 0
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
