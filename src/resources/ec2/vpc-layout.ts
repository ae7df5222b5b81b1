/** A new VPC and what comes with it: its main route table, default security group and network ACL, DHCP options; the default VPC also gets a subnet per zone and an attached internet gateway. */
import type { Tenancy, VpcIpv6CidrBlockAssociation } from '@aws-sdk/client-ec2';
import { randomInt } from 'node:crypto';
import type { ResourceContext } from '../context.js';
import { DEFAULT_VPC_CIDR } from '../../domain/cidr.js';
import { Ec2Error } from '../../domain/errors.js';
import { parseIpv6Pool, poolBlock, poolBlocks } from '../../domain/ipv6-pool.js';
import { newId } from '../../domain/ids.js';
import { attachGatewayRecord, insertInternetGateway } from './internet-gateways.js';
import { KINDS } from './kinds.js';
import { createDefaultNetworkAcl } from './network-acls.js';
import type { DhcpOptionsRecord, VpcRecord } from './records.js';
import { createMainRouteTable } from './route-tables.js';
import { createDefaultSecurityGroup } from './security-groups.js';
import { createDefaultSubnets } from './subnets.js';
import { vpcs } from './vpcs.js';

/** The region's default DHCP options set (AmazonProvidedDNS), created on first need. */
function defaultDhcpOptionsId(ctx: ResourceContext): string {
  const col = ctx.store.collection(KINDS.dhcpOptions);
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

/**
 * An Amazon-provided IPv6 /56 not used by another VPC (of any region: the fabric routes
 * each block on this host): from the configured pool (`--ipv6-pool`, a range Overcast
 * owns; EC2's own come from 2600:1f1x::), a random one, else the next free one.
 */
export function amazonIpv6Block(ctx: ResourceContext): string {
  const taken = new Set(
    ctx.store
      .collection(KINDS.vpc)
      .listAllRegions()
      .flatMap(({ value: v }) => (v.Ipv6CidrBlockAssociationSet ?? []).map((a) => a.Ipv6CidrBlock)),
  );
  const pool = parseIpv6Pool(ctx.config.ipv6Pool);
  if (!pool) throw new Ec2Error('InsufficientCidrBlocks', `The IPv6 pool ${ctx.config.ipv6Pool} holds no /56.`);
  const size = poolBlocks(pool);
  const start = BigInt(randomInt(0xffffffffffff)) % size;
  const tries = size < 65536n ? size : 65536n;
  for (let i = 0n; i < tries; i++) {
    const block = poolBlock(pool, (start + i) % size);
    if (!taken.has(block)) return block;
  }
  throw new Ec2Error('InsufficientCidrBlocks', 'There are not enough free IPv6 CIDR blocks to satisfy the request.');
}

export interface NewVpc {
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
export function createVpcLayout(ctx: ResourceContext, spec: NewVpc): VpcRecord {
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
  const vpc: VpcRecord = {
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

export function createDefaultVpcLayout(ctx: ResourceContext): VpcRecord {
  return createVpcLayout(ctx, { cidr: DEFAULT_VPC_CIDR, tenancy: 'default', isDefault: true, ipv6: false });
}
