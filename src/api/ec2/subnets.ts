/**
 * Subnets: create (CIDR inside the VPC, no overlap with siblings, one AZ),
 * describe, delete, modify attributes, and the default subnet of an AZ.
 *
 * Private addresses are held by network interfaces (collection
 * 'network-interface'); a subnet's AvailableIpAddressCount is its usable
 * addresses minus those. `subnetForLaunch` and `allocatePrivateIp` are what
 * the instance and interface families use to place an interface.
 */
import type { CreateDefaultSubnetRequest, CreateDefaultSubnetResult, CreateSubnetRequest, CreateSubnetResult, DeleteSubnetRequest, DescribeSubnetsRequest, DescribeSubnetsResult, ModifySubnetAttributeRequest, Subnet } from '@aws-sdk/client-ec2';
import { defaultSubnetCidr, formatIpv6, overlaps, parseCidr4, parseCidr6, validateSubnetCidr, type Cidr4, type Cidr6 } from '../../domain/cidr.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { type ZoneInfo } from '../../domain/regions.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { defaultVpcOf as defaultVpc, liveIpv4Blocks, liveIpv6Blocks } from '../../resources/ec2/vpcs.js';
import { type SubnetRecord, type VpcRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { removeSubnetFromAcls } from '../../resources/ec2/network-acls.js';
import { removeSubnetAssociations } from '../../resources/ec2/route-tables.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { liveSubnetIpv6 } from '../../resources/ec2/subnet-cidrs.js';
import { deleteReservationsOf } from '../../resources/ec2/subnet-cidr-reservations.js';
import { availableCount, insertSubnet, subnets, usedAddresses, zonesHere } from '../../resources/ec2/subnets.js';
import { subnetInAttachment } from '../../resources/ec2/transit-gateways.js';
import { endpointsInSubnet } from '../../resources/ec2/route-gateways.js';

// ---------------------------------------------------------------- addresses


// ---------------------------------------------------------------- creating

function invalidZone(ctx: RequestContext, param: 'availabilityZone' | 'availabilityZoneId', value: string): Ec2Error {
  const zones = zonesHere(ctx);
  const list = param === 'availabilityZone' ? zones.map((z) => z.ZoneName) : zones.map((z) => z.ZoneId);
  const what = param === 'availabilityZone' ? 'availability zones' : 'availability zone ids';
  return new Ec2Error(
    'InvalidParameterValue',
    `Value (${value}) for parameter ${param} is invalid. Subnets can currently only be created in the following ${what}: ${list.join(', ')}.`,
  );
}

/** The zone named by AvailabilityZone and/or AvailabilityZoneId, or undefined when neither is given. */
function zoneFrom(ctx: RequestContext, name: string | undefined, id: string | undefined): ZoneInfo | undefined {
  const zones = zonesHere(ctx);
  const byName = name === undefined ? undefined : zones.find((z) => z.ZoneName === name);
  if (name !== undefined && !byName) throw invalidZone(ctx, 'availabilityZone', name);
  const byId = id === undefined ? undefined : zones.find((z) => z.ZoneId === id);
  if (id !== undefined && !byId) throw invalidZone(ctx, 'availabilityZoneId', id);
  if (byName && byId && byName !== byId) {
    throw new Ec2Error(
      'InvalidParameterCombination',
      `The availability zone ${name} and availability zone id ${id} do not refer to the same zone.`,
    );
  }
  return byName ?? byId;
}

function ipv6Contains(outer: Cidr6, inner: Cidr6): boolean {
  const shift = BigInt(128 - outer.prefix);
  return inner.prefix >= outer.prefix && inner.address >> shift === outer.address >> shift;
}

/** A subnet IPv6 block: a /64 inside the VPC's IPv6 block, not used by a sibling. */
export function validateSubnetIpv6(s: string, vpc: VpcRecord, siblings: SubnetRecord[]): string {
  const c = parseCidr6(s);
  const canonical = c ? `${formatIpv6(c.address)}/${c.prefix}` : undefined;
  if (!c || c.address & ((1n << BigInt(128 - c.prefix)) - 1n)) {
    throw new Ec2Error('InvalidParameterValue', `Value (${s}) for parameter ipv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.`);
  }
  const vpcBlocks = liveIpv6Blocks(vpc).map((b) => parseCidr6(b)).filter((b) => b !== undefined);
  if (vpcBlocks.length === 0) {
    throw new Ec2Error('InvalidParameterValue', `The VPC ${vpc.VpcId} has no IPv6 CIDR block; a subnet IPv6 CIDR block cannot be assigned.`);
  }
  if (c.prefix !== 64 || !vpcBlocks.some((b) => ipv6Contains(b, c))) {
    throw new Ec2Error('InvalidSubnet.Range', `The IPv6 CIDR '${canonical}' is invalid.`);
  }
  for (const sib of siblings) {
    for (const a of liveSubnetIpv6(sib)) {
      const other = parseCidr6(a.Ipv6CidrBlock ?? '');
      if (other && (ipv6Contains(other, c) || ipv6Contains(c, other))) {
        throw new Ec2Error('InvalidSubnet.Conflict', `The CIDR '${canonical}' conflicts with another subnet`);
      }
    }
  }
  return canonical!;
}

function toOutput(record: SubnetRecord, tags: Tag[] | undefined, used: Set<number> | undefined): Subnet {
  return { ...record, AvailableIpAddressCount: availableCount(record, used), Tags: tagsField(tags) };
}

// ---------------------------------------------------------------- actions

const createSubnet = action((ctx, input: CreateSubnetRequest): CreateSubnetResult => {
  if (input.VpcId === undefined || input.VpcId === '') throw missingParameter('VpcId');
  if (input.Ipv4IpamPoolId !== undefined || input.Ipv6IpamPoolId !== undefined) {
    throw new Ec2Error('InvalidParameterValue', 'IPAM pools are not supported.');
  }
  if (input.OutpostArn !== undefined) throw new Ec2Error('InvalidParameterValue', 'Outposts are not supported.');
  if (input.Ipv6Native === true) throw new Ec2Error('InvalidParameterValue', 'IPv6-only subnets are not supported.');
  const vpc = requireResource(ctx, KINDS.vpc, input.VpcId);
  if (input.CidrBlock === undefined || input.CidrBlock === '') throw missingParameter('CidrBlock');
  const siblings = subnets(ctx)
    .list(ctx.region)
    .filter((s) => s.VpcId === vpc.VpcId);
  const vpcCidrs = liveIpv4Blocks(vpc)
    .map((c) => parseCidr4(c))
    .filter((c): c is Cidr4 => c !== undefined);
  const checked = validateSubnetCidr(
    input.CidrBlock,
    vpcCidrs,
    siblings.map((s) => parseCidr4(s.CidrBlock)!),
  );
  if (!checked.ok) throw new Ec2Error(checked.code, checked.message);
  const ipv6Cidr = input.Ipv6CidrBlock === undefined ? undefined : validateSubnetIpv6(input.Ipv6CidrBlock, vpc, siblings);
  let zone = zoneFrom(ctx, input.AvailabilityZone, input.AvailabilityZoneId);
  if (!zone) {
    // EC2 picks a zone for you; spread the VPC's subnets by taking the least used one.
    const count = (z: ZoneInfo) => siblings.filter((s) => s.AvailabilityZone === z.ZoneName).length;
    zone = [...zonesHere(ctx)].sort((a, b) => count(a) - count(b))[0];
    if (!zone) throw new Ec2Error('InvalidParameterValue', `The region ${ctx.region} has no availability zones.`);
  }
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.subnet.name]).get(KINDS.subnet.name) ?? [];
  const record = insertSubnet(ctx, vpc, { cidr: input.CidrBlock, zone, defaultForAz: false, mapPublicIpOnLaunch: false, ipv6Cidr });
  putTags(ctx, record.SubnetId, KINDS.subnet.name, tags);
  return { Subnet: toOutput(record, tags, undefined) };
});

const createDefaultSubnet = action((ctx, input: CreateDefaultSubnetRequest): CreateDefaultSubnetResult => {
  if (input.Ipv6Native === true) throw new Ec2Error('InvalidParameterValue', 'IPv6-only subnets are not supported.');
  const zone = zoneFrom(ctx, input.AvailabilityZone, input.AvailabilityZoneId);
  if (!zone) throw missingParameter('AvailabilityZone');
  const vpc = defaultVpc(ctx);
  if (!vpc) throw new Ec2Error('DefaultVpcDoesNotExist', 'No default VPC exists for this account in this region.');
  const siblings = subnets(ctx)
    .list(ctx.region)
    .filter((s) => s.VpcId === vpc.VpcId);
  if (siblings.some((s) => s.DefaultForAz && s.AvailabilityZone === zone.ZoneName)) {
    throw new Ec2Error(
      'DefaultSubnetAlreadyExistsInAvailabilityZone',
      `A Default Subnet already exists in availability zone ${zone.ZoneName}.`,
    );
  }
  // The zone's usual /20 if it is free, else the first free default-sized block.
  const zoneIndex = zonesHere(ctx).indexOf(zone);
  const order = [zoneIndex, ...Array.from({ length: 16 }, (_, i) => i).filter((i) => i !== zoneIndex)].filter((i) => i >= 0 && i < 16);
  const taken = siblings.map((s) => parseCidr4(s.CidrBlock)!);
  const cidr = order.map(defaultSubnetCidr).find((c) => !taken.some((t) => overlaps(t, parseCidr4(c)!)));
  if (!cidr) {
    throw new Ec2Error('InvalidSubnet.Conflict', `The default VPC ${vpc.VpcId} has no free address range for a default subnet.`);
  }
  const record = insertSubnet(ctx, vpc, { cidr, zone, defaultForAz: true, mapPublicIpOnLaunch: true });
  return { Subnet: toOutput(record, undefined, undefined) };
});

const SUBNET_FILTERS = filterTable<Subnet>('DescribeSubnets', {
  'availability-zone': 'AvailabilityZone',
  availabilityZone: 'AvailabilityZone',
  'availability-zone-id': 'AvailabilityZoneId',
  availabilityZoneId: 'AvailabilityZoneId',
  'available-ip-address-count': 'AvailableIpAddressCount',
  'cidr-block': 'CidrBlock',
  cidrBlock: 'CidrBlock',
  cidr: 'CidrBlock',
  'default-for-az': 'DefaultForAz',
  defaultForAz: 'DefaultForAz',
  'ipv6-cidr-block-association.ipv6-cidr-block': 'Ipv6CidrBlockAssociationSet.Ipv6CidrBlock',
  'ipv6-cidr-block-association.association-id': 'Ipv6CidrBlockAssociationSet.AssociationId',
  'ipv6-cidr-block-association.state': 'Ipv6CidrBlockAssociationSet.Ipv6CidrBlockState.State',
  'ipv6-native': 'Ipv6Native',
  'map-public-ip-on-launch': 'MapPublicIpOnLaunch',
  'map-customer-owned-ip-on-launch': 'MapCustomerOwnedIpOnLaunch',
  'customer-owned-ipv4-pool': 'CustomerOwnedIpv4Pool',
  'enable-dns64': 'EnableDns64',
  'enable-lni-at-device-index': 'EnableLniAtDeviceIndex',
  'outpost-arn': 'OutpostArn',
  'private-dns-name-options-on-launch.hostname-type': 'PrivateDnsNameOptionsOnLaunch.HostnameType',
  'private-dns-name-options-on-launch.enable-resource-name-dns-a-record': 'PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsARecord',
  'private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record': 'PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsAAAARecord',
  'owner-id': 'OwnerId',
  state: 'State',
  'subnet-arn': 'SubnetArn',
  'subnet-id': 'SubnetId',
  'vpc-id': 'VpcId',
});

const describeSubnets = action((ctx, input: DescribeSubnetsRequest): DescribeSubnetsResult => {
  const ids = input.SubnetIds ?? [];
  const records = ids.length > 0 ? requireResources(ctx, KINDS.subnet, ids) : subnets(ctx).list(ctx.region);
  const tags = tagsByResource(ctx, KINDS.subnet.name);
  const used = usedAddresses(ctx);
  const described = records.map((s) => toOutput(s, tags.get(s.SubnetId), used.get(s.SubnetId)));
  const filtered = applyFilters(
    described,
    input.Filters,
    SUBNET_FILTERS,
    (s) => s.Tags,
  );
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { Subnets: page.items, NextToken: page.nextToken };
});

const deleteSubnet = action((ctx, input: DeleteSubnetRequest) => {
  if (input.SubnetId === undefined || input.SubnetId === '') throw missingParameter('SubnetId');
  const subnet = requireResource(ctx, KINDS.subnet, input.SubnetId);
  const inUse = ctx.store
    .collection(KINDS.networkInterface)
    .list(ctx.region)
    .some((e) => e.SubnetId === subnet.SubnetId);
  if (inUse || subnetInAttachment(ctx, subnet.SubnetId) || endpointsInSubnet(ctx, subnet.SubnetId)) {
    throw new Ec2Error('DependencyViolation', `The subnet '${subnet.SubnetId}' has dependencies and cannot be deleted.`);
  }
  subnets(ctx).delete(ctx.region, subnet.SubnetId);
  ctx.notify(KINDS.subnet.name, subnet.SubnetId);
  removeSubnetAssociations(ctx, subnet.SubnetId);
  removeSubnetFromAcls(ctx, subnet.SubnetId);
  deleteReservationsOf(ctx, subnet.SubnetId);
  ctx.store.tags.removeAll(ctx.region, subnet.SubnetId);
  return {};
});

/** ModifySubnetAttribute parameters Overcast applies, with their wire names for messages. */
const BOOLEAN_ATTRIBUTES = [
  ['MapPublicIpOnLaunch', 'mapPublicIpOnLaunch'],
  ['AssignIpv6AddressOnCreation', 'assignIpv6AddressOnCreation'],
  ['EnableDns64', 'enableDns64'],
  ['EnableResourceNameDnsARecordOnLaunch', 'enableResourceNameDnsARecordOnLaunch'],
  ['EnableResourceNameDnsAAAARecordOnLaunch', 'enableResourceNameDnsAAAARecordOnLaunch'],
  ['MapCustomerOwnedIpOnLaunch', 'mapCustomerOwnedIpOnLaunch'],
] as const;

const modifySubnetAttribute = action((ctx, input: ModifySubnetAttributeRequest) => {
  if (input.SubnetId === undefined || input.SubnetId === '') throw missingParameter('SubnetId');
  const subnet = requireResource(ctx, KINDS.subnet, input.SubnetId);
  if (
    input.MapCustomerOwnedIpOnLaunch?.Value === true ||
    input.CustomerOwnedIpv4Pool !== undefined ||
    input.EnableLniAtDeviceIndex !== undefined ||
    input.DisableLniAtDeviceIndex?.Value === true
  ) {
    throw new Ec2Error('InvalidParameterValue', 'Customer-owned IP and LNI attributes apply only to Outposts subnets, which are not supported.');
  }
  const given: string[] = BOOLEAN_ATTRIBUTES.filter(([k]) => input[k] !== undefined).map(([, wire]) => wire);
  if (input.PrivateDnsHostnameTypeOnLaunch !== undefined) given.push('privateDnsHostnameTypeOnLaunch');
  // turning off what an Outposts subnet would have (customer-owned IPs, LNIs) is a no-op here
  if (input.DisableLniAtDeviceIndex !== undefined) given.push('disableLniAtDeviceIndex');
  if (given.length === 0) throw new Ec2Error('MissingParameter', 'The request must contain an attribute to modify.');
  if (given.length > 1) {
    throw new Ec2Error('InvalidParameterCombination', `Fields for multiple attribute types specified: ${given.join(', ')}`);
  }
  const dns = { ...subnet.PrivateDnsNameOptionsOnLaunch };
  if (input.PrivateDnsHostnameTypeOnLaunch !== undefined) {
    const type = input.PrivateDnsHostnameTypeOnLaunch;
    if (type !== 'ip-name' && type !== 'resource-name') {
      throw new Ec2Error('InvalidParameterValue', `Value (${type}) for parameter privateDnsHostnameTypeOnLaunch is invalid.`);
    }
    dns.HostnameType = type;
  }
  for (const [key, wire] of BOOLEAN_ATTRIBUTES) {
    const attr = input[key];
    if (attr === undefined) continue;
    if (attr.Value === undefined) throw missingParameter(`${key}.Value`);
    const value = attr.Value;
    if (key === 'AssignIpv6AddressOnCreation' && value && liveSubnetIpv6(subnet).length === 0) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `Invalid value 'true' for ${wire}. Cannot set ${wire} to true unless the subnet (${subnet.SubnetId}) has an IPv6 CIDR block associated with it.`,
      );
    }
    if (key === 'EnableResourceNameDnsARecordOnLaunch') dns.EnableResourceNameDnsARecord = value;
    else if (key === 'EnableResourceNameDnsAAAARecordOnLaunch') dns.EnableResourceNameDnsAAAARecord = value;
    else subnet[key] = value;
  }
  subnet.PrivateDnsNameOptionsOnLaunch = dns;
  subnets(ctx).put(ctx.region, subnet.SubnetId, subnet);
  return {};
});

export const subnetsModule: ApiModule = {
  actions: {
    CreateSubnet: createSubnet,
    CreateDefaultSubnet: createDefaultSubnet,
    DescribeSubnets: describeSubnets,
    DeleteSubnet: deleteSubnet,
    ModifySubnetAttribute: modifySubnetAttribute,
  },
};
