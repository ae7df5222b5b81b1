/**
 * The addresses of a network interface beyond its primary private IPv4:
 * secondary private IPv4s (unique in the subnet through the `private-ip`
 * space of kinds.ts) and IPv6 addresses from the subnet's /64 (unique in the
 * subnet through the `ipv6` space), and the per-interface limits of the
 * instance type an interface is attached to.
 */
import { findInstanceType } from '../../domain/instance-types.js';
import { formatIpv6, parseCidr6, parseIpv6 } from '../../domain/cidr.js';
import { Ec2Error } from '../../domain/errors.js';
import type { ResourceContext } from '../context.js';
import { KINDS, SPACES } from './kinds.js';
import type { NetworkInterfaceRecord, SubnetRecord } from './records.js';
import { subnetIpv6Cidr } from './subnet-cidrs.js';
import { allocatePrivateIp } from './subnets.js';

/** The most addresses of one family any interface may have (the largest types' limit); an unattached interface's limit. */
export const MAX_ADDRESSES_PER_INTERFACE = 50;

/** The catalogue's per-interface limits for an instance type (the largest when the type is unknown). */
export function interfaceLimits(instanceType: string | undefined): { ipv4: number; ipv6: number; interfaces: number } {
  const info = instanceType === undefined ? undefined : findInstanceType(instanceType)?.NetworkInfo;
  return {
    ipv4: info?.Ipv4AddressesPerInterface ?? MAX_ADDRESSES_PER_INTERFACE,
    ipv6: info?.Ipv6AddressesPerInterface ?? MAX_ADDRESSES_PER_INTERFACE,
    interfaces: info?.MaximumNetworkInterfaces ?? 1,
  };
}

/** The instance type an interface is attached to, if any. */
export function attachedType(ctx: ResourceContext, eni: NetworkInterfaceRecord): string | undefined {
  const id = eni.attachment?.InstanceId;
  return id === undefined ? undefined : ctx.store.collection(KINDS.instance).get(ctx.region, id)?.InstanceType;
}

/** PrivateIpAddressLimitExceeded unless an interface may hold `total` private IPv4s. */
export function checkIpv4Count(total: number, limit: number): void {
  if (total > limit) {
    throw new Ec2Error('PrivateIpAddressLimitExceeded', `Number of private addresses will exceed limit. The limit is ${limit} per interface.`);
  }
}

/** InvalidParameterValue unless an interface may hold `total` IPv6 addresses. */
export function checkIpv6Count(total: number, limit: number): void {
  if (total > limit) {
    throw new Ec2Error('InvalidParameterValue', `Number of IPv6 addresses will exceed limit. The limit is ${limit} per interface.`);
  }
}

/**
 * Private IPv4s in `subnet`: each of `requested` (checked: inside the subnet,
 * not reserved, free), then `count` of the lowest free ones. `alsoTaken` lists
 * addresses handed out in this call but not stored yet.
 */
export function allocateIpv4s(
  ctx: ResourceContext,
  subnet: SubnetRecord,
  requested: readonly string[],
  count: number,
  alsoTaken: readonly string[] = [],
): string[] {
  const out: string[] = [];
  for (const ip of requested) out.push(allocatePrivateIp(ctx, subnet, ip, [...alsoTaken, ...out]));
  for (let i = 0; i < count; i++) out.push(allocatePrivateIp(ctx, subnet, undefined, [...alsoTaken, ...out]));
  return out;
}

/** The subnet's IPv6 /64, or the error EC2 gives for IPv6 addresses in a subnet without one. */
function ipv6CidrOf(subnet: SubnetRecord): { base: bigint; prefix: number } {
  const block = subnetIpv6Cidr(subnet);
  const cidr = block === undefined ? undefined : parseCidr6(block);
  if (!cidr) {
    throw new Ec2Error('InvalidParameterValue', `The subnet '${subnet.SubnetId}' does not have an IPv6 CIDR block; IPv6 addresses cannot be assigned in it.`);
  }
  const hostBits = BigInt(128 - cidr.prefix);
  return { base: (cidr.address >> hostBits) << hostBits, prefix: cidr.prefix };
}

/** The IPv6 addresses the subnet's interfaces hold (canonical text): the `ipv6` space's keys, no interface read. */
function ipv6InUse(ctx: ResourceContext, subnetId: string): Set<string> {
  const prefix = `${subnetId}/`;
  return new Set(ctx.store.heldValues(SPACES.ipv6, ctx.region, prefix).map((v) => v.slice(prefix.length)));
}

/** Whether the subnet can hold IPv6 addresses. */
export function hasIpv6(subnet: SubnetRecord): boolean {
  try {
    ipv6CidrOf(subnet);
    return true;
  } catch {
    return false;
  }
}

/**
 * IPv6 addresses in `subnet`: each of `requested` (inside the subnet's /64,
 * not one of its first four or its last, free), then `count` free ones from
 * the lowest host numbers up. Canonical text, as EC2 shows them.
 */
export function allocateIpv6s(ctx: ResourceContext, subnet: SubnetRecord, requested: readonly string[], count: number): string[] {
  if (requested.length === 0 && count === 0) return [];
  const { base, prefix } = ipv6CidrOf(subnet);
  const size = 1n << BigInt(128 - prefix);
  const used = ipv6InUse(ctx, subnet.SubnetId);
  const out: string[] = [];
  for (const r of requested) {
    const n = parseIpv6(r);
    if (n === undefined) throw new Ec2Error('InvalidParameterValue', `Value (${r}) for parameter ipv6Addresses is invalid. This is not a valid IPv6 address.`);
    if (n < base || n >= base + size) throw new Ec2Error('InvalidParameterValue', `Address ${r} does not fall within the subnet's address range`);
    if (n - base < 4n || n === base + size - 1n) throw new Ec2Error('InvalidParameterValue', `Address ${r} is in subnet's reserved address range`);
    const text = formatIpv6(n);
    if (used.has(text)) throw new Ec2Error('InvalidIPAddress.InUse', `Address ${r} is in use.`);
    used.add(text);
    out.push(text);
  }
  let next = base + 4n;
  for (let i = 0; i < count; i++) {
    while (used.has(formatIpv6(next))) next++;
    const text = formatIpv6(next);
    used.add(text);
    out.push(text);
  }
  return out;
}

// ---------------------------------------------------------------- Elastic IPs on secondary addresses

/** Where an Elastic IP sits on an interface: its private address and association id; undefined when not there. */
export function elasticIpOn(eni: NetworkInterfaceRecord, allocationId: string): { privateIp: string; associationId?: string } | undefined {
  if (eni.association?.allocationId === allocationId) return { privateIp: eni.PrivateIpAddress, associationId: eni.association.associationId };
  const s = (eni.secondaryAssociations ?? []).find((a) => a.allocationId === allocationId);
  return s ? { privateIp: s.privateIp, associationId: s.associationId } : undefined;
}

/** Takes an Elastic IP off the interface (from its primary or a secondary address); the record is not stored. */
export function removeElasticIp(eni: NetworkInterfaceRecord, allocationId: string): void {
  if (eni.association?.allocationId === allocationId) delete eni.association;
  const rest = (eni.secondaryAssociations ?? []).filter((a) => a.allocationId !== allocationId);
  if (rest.length > 0) eni.secondaryAssociations = rest;
  else delete eni.secondaryAssociations;
}

/** The Elastic IPs on the interface's secondary addresses among `ips` (what unassigning them takes off). */
export function secondaryElasticIps(eni: NetworkInterfaceRecord, ips: readonly string[]): string[] {
  return (eni.secondaryAssociations ?? []).filter((a) => ips.includes(a.privateIp)).map((a) => a.allocationId);
}
