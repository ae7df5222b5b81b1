import type { SubnetIpv6CidrBlockAssociation } from '@aws-sdk/client-ec2';
import type { ResourceContext } from '../context.js';
import { allocateAddress, type Cidr4, defaultSubnetCidr, formatIpv4, ipInCidr, isReservedInSubnet, parseCidr4, parseIpv4, usableAddressCount } from '../../domain/cidr.js';
import { Ec2Error } from '../../domain/errors.js';
import { newId } from '../../domain/ids.js';
import { type ZoneInfo, findRegion } from '../../domain/regions.js';
import { KINDS, SPACES } from './kinds.js';
import { associateWithDefaultAcl } from './network-acls.js';
import { reservedIpv4 } from './subnet-cidr-reservations.js';
import type { NetworkInterfaceRecord, SubnetRecord, VpcRecord } from './records.js';
import { requireResource } from './registry.js';
import { defaultVpcOf } from './vpcs.js';

export function subnets(ctx: ResourceContext) {
  return ctx.store.collection(KINDS.subnet);
}

export function zonesHere(ctx: ResourceContext): readonly ZoneInfo[] {
  return findRegion(ctx.region)?.zones ?? [];
}

/**
 * Addresses held by interfaces, per subnet id: the region's `private-ip` values
 * (`subnetId/address`, kinds.ts) from the store's index, no interface read.
 */
export function usedAddresses(ctx: ResourceContext): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>();
  for (const v of ctx.store.heldValues(SPACES.privateIp, ctx.region)) {
    const slash = v.lastIndexOf('/');
    const n = parseIpv4(v.slice(slash + 1));
    if (slash < 0 || n === undefined) continue;
    const subnetId = v.slice(0, slash);
    let set = out.get(subnetId);
    if (!set) out.set(subnetId, (set = new Set()));
    set.add(n);
  }
  return out;
}

/** Addresses held by interfaces in one subnet: its range of the `private-ip` index (cost follows the subnet's held addresses). */
function usedIn(ctx: ResourceContext, subnetId: string): Set<number> {
  const prefix = `${subnetId}/`;
  const used = new Set<number>();
  for (const v of ctx.store.heldValues(SPACES.privateIp, ctx.region, prefix)) {
    const n = parseIpv4(v.slice(prefix.length));
    if (n !== undefined) used.add(n);
  }
  return used;
}

export function availableCount(subnet: SubnetRecord, used: Set<number> | undefined): number {
  const cidr = parseCidr4(subnet.CidrBlock)!;
  return Math.max(0, usableAddressCount(cidr) - (used?.size ?? 0));
}

function takenIn(ctx: ResourceContext, subnet: SubnetRecord, alsoTaken: Iterable<string>): Set<number> {
  const used = usedIn(ctx, subnet.SubnetId);
  for (const ip of alsoTaken) {
    const n = parseIpv4(ip);
    if (n !== undefined) used.add(n);
  }
  return used;
}

/** Checks an address asked for explicitly: inside the subnet, not reserved, not in `used`. */
function checkRequested(requested: string, cidr: Cidr4, used: Set<number>): number {
  const n = parseIpv4(requested);
  if (n === undefined) {
    throw new Ec2Error('InvalidParameterValue', `Value (${requested}) for parameter privateIpAddress is invalid. This is not a valid IP address.`);
  }
  if (!ipInCidr(n, cidr)) {
    throw new Ec2Error('InvalidParameterValue', `Address ${requested} does not fall within the subnet's address range`);
  }
  if (isReservedInSubnet(n, cidr)) {
    throw new Ec2Error('InvalidParameterValue', `Address ${requested} is in subnet's reserved address range`);
  }
  if (used.has(n)) throw new Ec2Error('InvalidIPAddress.InUse', `Address ${requested} is in use.`);
  return n;
}

const subnetFull = (subnet: SubnetRecord): Ec2Error =>
  new Ec2Error(
    'InsufficientFreeAddressesInSubnet',
    `There are not enough free addresses in subnet '${subnet.SubnetId}' to satisfy the requested number of instances.`,
  );

/**
 * A private IPv4 for a new interface in `subnet`: `requested` if it is inside
 * the subnet, not reserved and free, else the lowest free address. `alsoTaken`
 * lists addresses the caller has handed out in this call but not stored yet.
 */
export function allocatePrivateIp(
  ctx: ResourceContext,
  subnet: SubnetRecord,
  requested?: string,
  alsoTaken: Iterable<string> = [],
): string {
  const cidr = parseCidr4(subnet.CidrBlock)!;
  const used = takenIn(ctx, subnet, alsoTaken);
  if (requested !== undefined) return formatIpv4(checkRequested(requested, cidr, used));
  for (const n of reservedIpv4(ctx, subnet.SubnetId)) used.add(n);
  const free = allocateAddress(cidr, used);
  if (free === undefined) throw subnetFull(subnet);
  return formatIpv4(free);
}

/**
 * Up to `count` addresses with one scan of the interfaces (for launching many
 * instances at once): `requested` first if given (checked as in
 * `allocatePrivateIp`), then the lowest free ones. Fewer than `count` when the
 * subnet runs out; InsufficientFreeAddressesInSubnet when it has none.
 */
export function allocatePrivateIps(ctx: ResourceContext, subnet: SubnetRecord, count: number, requested?: string): string[] {
  const cidr = parseCidr4(subnet.CidrBlock)!;
  const used = takenIn(ctx, subnet, []);
  const out: number[] = [];
  if (requested !== undefined && count > 0) out.push(checkRequested(requested, cidr, used));
  for (const n of out) used.add(n);
  // automatic assignment leaves the subnet's CIDR reservations alone
  for (const n of reservedIpv4(ctx, subnet.SubnetId)) used.add(n);
  while (out.length < count) {
    const free = allocateAddress(cidr, used);
    if (free === undefined) break;
    out.push(free);
    used.add(free);
  }
  if (out.length === 0 && count > 0) throw subnetFull(subnet);
  return out.map(formatIpv4);
}

/**
 * Where an instance or interface goes: the given subnet, or else the default
 * subnet of the earliest AZ in the default VPC.
 */
export function subnetForLaunch(ctx: ResourceContext, subnetId?: string, zone?: string): SubnetRecord {
  if (subnetId !== undefined && subnetId !== '') return requireResource(ctx, KINDS.subnet, subnetId);
  const vpc = defaultVpcOf(ctx);
  if (!vpc) throw new Ec2Error('VPCIdNotSpecified', 'No default VPC for this user');
  const zoneOrder = zonesHere(ctx).map((z) => z.ZoneName);
  const rank = (s: SubnetRecord): number => {
    const i = zoneOrder.indexOf(s.AvailabilityZone);
    return i < 0 ? zoneOrder.length : i;
  };
  const candidates = subnets(ctx)
    .list(ctx.region)
    .filter((s) => s.VpcId === vpc.VpcId && s.DefaultForAz)
    .sort((a, b) => rank(a) - rank(b));
  // Placement.AvailabilityZone without a subnet: the default subnet of that zone
  const first = (zone ? candidates.find((s) => s.AvailabilityZone === zone) : undefined) ?? candidates[0];
  if (!first) {
    throw new Ec2Error('MissingInput', `No subnets found for the default VPC '${vpc.VpcId}'. Please specify a subnet.`);
  }
  return first;
}

export interface NewSubnet {
  cidr: string;
  zone: ZoneInfo;
  defaultForAz: boolean;
  mapPublicIpOnLaunch: boolean;
  /** canonical IPv6 /64, if the subnet gets one */
  ipv6Cidr?: string;
}

/** Stores a subnet (already validated) and associates it with the VPC's default network ACL. */
export function insertSubnet(ctx: ResourceContext, vpc: VpcRecord, spec: NewSubnet): SubnetRecord {
  const subnetId = newId('subnet');
  const ipv6: SubnetIpv6CidrBlockAssociation[] = spec.ipv6Cidr
    ? [
        {
          AssociationId: newId('subnet-cidr-assoc'),
          Ipv6CidrBlock: spec.ipv6Cidr,
          Ipv6CidrBlockState: { State: 'associated' },
          Ipv6AddressAttribute: 'public',
          IpSource: 'amazon',
        },
      ]
    : [];
  const record: SubnetRecord = {
    SubnetId: subnetId,
    SubnetArn: `arn:aws:ec2:${ctx.region}:${ctx.accountId}:subnet/${subnetId}`,
    VpcId: vpc.VpcId,
    OwnerId: ctx.accountId,
    State: 'available',
    CidrBlock: spec.cidr,
    AvailabilityZone: spec.zone.ZoneName,
    AvailabilityZoneId: spec.zone.ZoneId,
    DefaultForAz: spec.defaultForAz,
    MapPublicIpOnLaunch: spec.mapPublicIpOnLaunch,
    MapCustomerOwnedIpOnLaunch: false,
    AssignIpv6AddressOnCreation: false,
    Ipv6CidrBlockAssociationSet: ipv6,
    Ipv6Native: false,
    EnableDns64: false,
    PrivateDnsNameOptionsOnLaunch: {
      HostnameType: 'ip-name',
      EnableResourceNameDnsARecord: false,
      EnableResourceNameDnsAAAARecord: false,
    },
    BlockPublicAccessStates: { InternetGatewayBlockMode: 'off' },
  };
  subnets(ctx).put(ctx.region, subnetId, record);
  associateWithDefaultAcl(ctx, vpc.VpcId, subnetId);
  // a subnet on a main table with routes to a peering connection sends over it at once
  ctx.notify(KINDS.subnet.name, subnetId);
  return record;
}

/** The default subnets of a (new) default VPC: one /20 per AZ, public on launch. */
export function createDefaultSubnets(ctx: ResourceContext, vpc: VpcRecord): SubnetRecord[] {
  return zonesHere(ctx)
    .slice(0, 16)
    .map((zone, i) => insertSubnet(ctx, vpc, { cidr: defaultSubnetCidr(i), zone, defaultForAz: true, mapPublicIpOnLaunch: true }));
}
