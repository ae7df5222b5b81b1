/**
 * An interface's secondary addresses: AssignPrivateIpAddresses,
 * UnassignPrivateIpAddresses, AssignIpv6Addresses, UnassignIpv6Addresses.
 * How many an interface may hold is its instance type's catalogue value
 * (Ipv4AddressesPerInterface, Ipv6AddressesPerInterface) while attached, the
 * largest type's otherwise. The instance's reconciler plugs the interface
 * again with its new private IPv4s.
 */
import type {
  AssignIpv6AddressesRequest,
  AssignIpv6AddressesResult,
  AssignPrivateIpAddressesRequest,
  AssignPrivateIpAddressesResult,
  UnassignIpv6AddressesRequest,
  UnassignIpv6AddressesResult,
  UnassignPrivateIpAddressesRequest,
} from '@aws-sdk/client-ec2';
import { formatIpv6, parseIpv4, parseIpv6 } from '../../domain/cidr.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { disassociateElasticIp, eniCollection } from '../../resources/ec2/instances.js';
import {
  allocateIpv4s,
  allocateIpv6s,
  attachedType,
  checkIpv4Count,
  checkIpv6Count,
  interfaceLimits,
  removeElasticIp,
  secondaryElasticIps,
} from '../../resources/ec2/interface-addresses.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { privateDnsName } from '../../resources/ec2/public-ips.js';
import type { NetworkInterfaceRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { requireInterface } from './network-interfaces.js';
import { bothIpv4Forms, bothIpv6Forms, rejectPrefixes } from './network-interface-lifecycle.js';

function save(ctx: RequestContext, eni: NetworkInterfaceRecord): void {
  eniCollection(ctx).put(ctx.region, eni.NetworkInterfaceId, eni);
  ctx.notify(KINDS.networkInterface.name, eni.NetworkInterfaceId);
}

function checkCount(name: string, v: number | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || v < 1) throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter ${name} is invalid. Expected a positive integer.`);
  return v;
}

/**
 * AllowReassignment: the secondary addresses asked for that another interface
 * of the subnet holds are taken from it (a primary address never is).
 */
function reassign(ctx: RequestContext, eni: NetworkInterfaceRecord, wanted: readonly string[]): void {
  const col = eniCollection(ctx);
  for (const other of col.list(ctx.region)) {
    if (other.SubnetId !== eni.SubnetId || other.NetworkInterfaceId === eni.NetworkInterfaceId) continue;
    const taken = (other.PrivateIpAddresses ?? []).filter((p) => p.PrivateIpAddress !== undefined && wanted.includes(p.PrivateIpAddress));
    if (taken.length === 0) continue;
    if (taken.some((p) => p.Primary === true || p.PrivateIpAddress === other.PrivateIpAddress)) {
      const ip = taken.find((p) => p.Primary === true)?.PrivateIpAddress ?? other.PrivateIpAddress;
      throw new Ec2Error('InvalidIPAddress.InUse', `Address ${ip} is the primary address of ${other.NetworkInterfaceId} and cannot be reassigned.`);
    }
    other.PrivateIpAddresses = (other.PrivateIpAddresses ?? []).filter((p) => !taken.includes(p));
    save(ctx, other);
  }
}

const assignPrivateIpAddresses = action((ctx, input: AssignPrivateIpAddressesRequest): AssignPrivateIpAddressesResult => {
  const eni = requireInterface(ctx, input.NetworkInterfaceId);
  rejectPrefixes(input);
  const wanted = input.PrivateIpAddresses ?? [];
  const count = checkCount('secondaryPrivateIpAddressCount', input.SecondaryPrivateIpAddressCount);
  if (wanted.length > 0 && count !== undefined) {
    throw bothIpv4Forms();
  }
  if (wanted.length === 0 && count === undefined) {
    throw new Ec2Error('MissingParameter', 'Either secondaryPrivateIpAddressCount or privateIpAddress must be specified.');
  }
  const have = eni.PrivateIpAddresses ?? [];
  for (const ip of wanted) {
    if (parseIpv4(ip) === undefined) throw new Ec2Error('InvalidParameterValue', `Value (${ip}) for parameter privateIpAddress is invalid. This is not a valid IP address.`);
    if (have.some((p) => p.PrivateIpAddress === ip)) {
      throw new Ec2Error('InvalidParameterValue', `Address ${ip} is already assigned to ${eni.NetworkInterfaceId}.`);
    }
  }
  checkIpv4Count(have.length + (count ?? new Set(wanted).size), interfaceLimits(attachedType(ctx, eni)).ipv4);
  const subnet = requireResource(ctx, KINDS.subnet, eni.SubnetId);
  if (input.AllowReassignment === true && wanted.length > 0) reassign(ctx, eni, wanted);
  const added = allocateIpv4s(ctx, subnet, [...new Set(wanted)], count ?? 0);
  eni.PrivateIpAddresses = [
    ...have,
    ...added.map((ip) => ({ Primary: false, PrivateIpAddress: ip, PrivateDnsName: privateDnsName(ctx.region, ip) })),
  ];
  save(ctx, eni);
  return { NetworkInterfaceId: eni.NetworkInterfaceId, AssignedPrivateIpAddresses: added.map((ip) => ({ PrivateIpAddress: ip })), AssignedIpv4Prefixes: [] };
});

const unassignPrivateIpAddresses = action((ctx, input: UnassignPrivateIpAddressesRequest): Record<string, never> => {
  const eni = requireInterface(ctx, input.NetworkInterfaceId);
  rejectPrefixes(input);
  const gone = input.PrivateIpAddresses ?? [];
  if (gone.length === 0) throw missingParameter('PrivateIpAddress');
  const have = eni.PrivateIpAddresses ?? [];
  for (const ip of gone) {
    if (ip === eni.PrivateIpAddress) {
      throw new Ec2Error('InvalidParameterValue', `The primary private IP address ${ip} of ${eni.NetworkInterfaceId} cannot be unassigned.`);
    }
    if (!have.some((p) => p.PrivateIpAddress === ip)) {
      throw new Ec2Error('InvalidParameterValue', `Some of the specified addresses are not assigned to interface ${eni.NetworkInterfaceId}`);
    }
  }
  eni.PrivateIpAddresses = have.filter((p) => p.PrivateIpAddress === undefined || !gone.includes(p.PrivateIpAddress));
  // an Elastic IP on an address that goes is disassociated (it stays allocated)
  for (const allocationId of secondaryElasticIps(eni, gone)) {
    removeElasticIp(eni, allocationId);
    disassociateElasticIp(ctx, allocationId);
  }
  save(ctx, eni);
  return {};
});

const assignIpv6Addresses = action((ctx, input: AssignIpv6AddressesRequest): AssignIpv6AddressesResult => {
  const eni = requireInterface(ctx, input.NetworkInterfaceId);
  rejectPrefixes(input);
  const wanted = input.Ipv6Addresses ?? [];
  const count = checkCount('ipv6AddressCount', input.Ipv6AddressCount);
  if (wanted.length > 0 && count !== undefined) {
    throw bothIpv6Forms();
  }
  if (wanted.length === 0 && count === undefined) {
    throw new Ec2Error('MissingParameter', 'Either ipv6AddressCount or ipv6Addresses must be specified.');
  }
  const have = eni.Ipv6Addresses ?? [];
  checkIpv6Count(have.length + (count ?? new Set(wanted).size), interfaceLimits(attachedType(ctx, eni)).ipv6);
  const subnet = requireResource(ctx, KINDS.subnet, eni.SubnetId);
  const added = allocateIpv6s(ctx, subnet, [...new Set(wanted)], count ?? 0);
  eni.Ipv6Addresses = [...have, ...added.map((a) => ({ Ipv6Address: a, IsPrimaryIpv6: false }))];
  save(ctx, eni);
  return { NetworkInterfaceId: eni.NetworkInterfaceId, AssignedIpv6Addresses: added, AssignedIpv6Prefixes: [] };
});

const unassignIpv6Addresses = action((ctx, input: UnassignIpv6AddressesRequest): UnassignIpv6AddressesResult => {
  const eni = requireInterface(ctx, input.NetworkInterfaceId);
  rejectPrefixes(input);
  const gone = (input.Ipv6Addresses ?? []).map((a) => {
    const n = parseIpv6(a);
    if (n === undefined) throw new Ec2Error('InvalidParameterValue', `Value (${a}) for parameter ipv6Addresses is invalid. This is not a valid IPv6 address.`);
    return formatIpv6(n);
  });
  if (gone.length === 0) throw missingParameter('Ipv6Addresses');
  const have = eni.Ipv6Addresses ?? [];
  for (const a of gone) {
    if (!have.some((h) => h.Ipv6Address === a)) {
      throw new Ec2Error('InvalidParameterValue', `Some of the specified addresses are not assigned to interface ${eni.NetworkInterfaceId}`);
    }
  }
  eni.Ipv6Addresses = have.filter((h) => h.Ipv6Address === undefined || !gone.includes(h.Ipv6Address));
  save(ctx, eni);
  return { NetworkInterfaceId: eni.NetworkInterfaceId, UnassignedIpv6Addresses: gone, UnassignedIpv6Prefixes: [] };
});

export const networkInterfaceAddressesModule: ApiModule = {
  actions: {
    AssignPrivateIpAddresses: assignPrivateIpAddresses,
    UnassignPrivateIpAddresses: unassignPrivateIpAddresses,
    AssignIpv6Addresses: assignIpv6Addresses,
    UnassignIpv6Addresses: unassignIpv6Addresses,
  },
};
