/**
 * RunInstances' network: the instance-level SubnetId / SecurityGroupIds /
 * PrivateIpAddress, or `NetworkInterfaces` as EC2 takes them — one spec per
 * device index, each either an existing available interface
 * (NetworkInterfaceId) or a new one (SubnetId, Groups, PrivateIpAddress(es),
 * SecondaryPrivateIpAddressCount, Ipv6AddressCount/Ipv6Addresses,
 * AssociatePublicIpAddress, DeleteOnTermination, Description), with EC2's
 * InvalidParameterCombination rules. `launchChoice` reads the request;
 * `resolveExtras` checks the interfaces beyond the primary against the store;
 * `extraInterfaces` makes them for one instance of the launch.
 */
import type { GroupIdentifier, InstanceNetworkInterfaceSpecification, RunInstancesRequest } from '@aws-sdk/client-ec2';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { findInstanceType } from '../../domain/instance-types.js';
import type { RequestContext } from '../context.js';
import { eniCollection, setInstanceOfElasticIps } from '../../resources/ec2/instances.js';
import { checkIpv4Count, checkIpv6Count, interfaceLimits } from '../../resources/ec2/interface-addresses.js';
import { checkDeviceIndex, requireAvailable } from '../../resources/ec2/interface-attachments.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { newInstanceInterface, resolveGroups } from '../../resources/ec2/network-interfaces.js';
import type { NetworkInterfaceRecord, SubnetRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { addressRequest, allocateInterfaceAddresses, type AddressRequest } from './network-interface-lifecycle.js';
import { checkInterfaceDescription } from './network-interfaces.js';

/** The primary interface of a launch. */
export interface NetworkChoice {
  subnetId?: string;
  groupIds: string[];
  groupNames: string[];
  privateIp?: string;
  associatePublicIp?: boolean;
  deleteOnTermination: boolean;
  description?: string;
  /** its secondary IPv4 and IPv6 addresses (the primary IPv4 is `privateIp`) */
  addresses: AddressRequest;
  networkCardIndex: number;
  /** an existing interface as the primary (NetworkInterfaceId) */
  existing?: NetworkInterfaceRecord;
  /** the specs of device indexes beyond 0 */
  extras: InstanceNetworkInterfaceSpecification[];
}

const NO_ADDRESSES: AddressRequest = { secondaries: [], secondaryCount: 0, ipv6: [], ipv6Count: 0 };

/** What a spec naming an existing interface may not also say. */
const NOT_WITH_EXISTING: readonly (keyof InstanceNetworkInterfaceSpecification)[] = [
  'SubnetId',
  'Groups',
  'PrivateIpAddress',
  'PrivateIpAddresses',
  'SecondaryPrivateIpAddressCount',
  'Ipv6AddressCount',
  'Ipv6Addresses',
  'Description',
  'AssociatePublicIpAddress',
];

function checkExistingSpec(spec: InstanceNetworkInterfaceSpecification, n: number): void {
  for (const k of NOT_WITH_EXISTING) {
    const v = spec[k];
    if (v === undefined || (Array.isArray(v) && v.length === 0) || v === '') continue;
    throw invalidParameterCombination(`NetworkInterface.${n}: an existing network interface (NetworkInterfaceId) cannot be given with ${k}.`);
  }
}

/** The request's network, checked for shape; existing interfaces are looked up. */
export function launchChoice(ctx: RequestContext, input: RunInstancesRequest, maxCount: number): NetworkChoice {
  const specs = input.NetworkInterfaces ?? [];
  const instanceIpv6 = input.Ipv6AddressCount !== undefined || (input.Ipv6Addresses ?? []).length > 0;
  if (specs.length === 0) {
    // the instance-level IPv6 parameters are the primary interface's
    const v6 = addressRequest({ Ipv6AddressCount: input.Ipv6AddressCount, Ipv6Addresses: input.Ipv6Addresses });
    if (maxCount > 1 && v6.ipv6.length > 0) {
      throw invalidParameterCombination('Specific IPv6 addresses can only be given when launching a single instance (MaxCount = 1).');
    }
    return {
      subnetId: input.SubnetId || undefined,
      groupIds: input.SecurityGroupIds ?? [],
      groupNames: input.SecurityGroups ?? [],
      privateIp: input.PrivateIpAddress || undefined,
      deleteOnTermination: true,
      addresses: { ...NO_ADDRESSES, ipv6: v6.ipv6, ipv6Count: v6.ipv6Count },
      networkCardIndex: 0,
      extras: [],
    };
  }
  if (instanceIpv6) {
    throw invalidParameterCombination('Network interfaces and an instance-level IPv6 addresses or count may not be specified on the same request');
  }
  if (input.SubnetId) throw invalidParameterCombination('Network interfaces and an instance-level subnet ID may not be specified on the same request');
  if ((input.SecurityGroupIds ?? []).length > 0 || (input.SecurityGroups ?? []).length > 0) {
    throw invalidParameterCombination('Network interfaces and an instance-level security groups may not be specified on the same request');
  }
  if (input.PrivateIpAddress) {
    throw invalidParameterCombination('Network interfaces and an instance-level private IP address should not be specified on the same request');
  }
  const seen = new Set<string>();
  specs.forEach((s, i) => {
    if (s.DeviceIndex === undefined && s.NetworkCardIndex === undefined) throw missingParameter(`NetworkInterface.${i + 1}.DeviceIndex`);
    const d = s.DeviceIndex ?? 0;
    if (!Number.isInteger(d) || d < 0) throw new Ec2Error('InvalidParameterValue', `Value (${d}) for parameter NetworkInterface.${i + 1}.DeviceIndex is invalid.`);
    const key = `${s.NetworkCardIndex ?? 0}/${d}`;
    if (seen.has(key)) throw new Ec2Error('InvalidParameterValue', 'Each network interface requires a unique device index.');
    seen.add(key);
    if (s.NetworkInterfaceId) {
      checkExistingSpec(s, i + 1);
      if (maxCount > 1) throw invalidParameterCombination('An existing network interface (NetworkInterfaceId) can only be given when launching a single instance (MaxCount = 1).');
    }
    if (s.AssociatePublicIpAddress !== undefined && (s.DeviceIndex ?? 0) !== 0) {
      throw invalidParameterCombination('The associatePublicIPAddress parameter can only be specified for the network interface with DeviceIndex 0.');
    }
  });
  const primaryIdx = specs.findIndex((s) => (s.DeviceIndex ?? 0) === 0 && (s.NetworkCardIndex ?? 0) === 0);
  if (primaryIdx < 0) throw new Ec2Error('InvalidParameterValue', 'The primary network interface (DeviceIndex 0) must be specified.');
  const nic = specs[primaryIdx]!;
  const extras = specs.filter((_, i) => i !== primaryIdx);
  if (extras.length > 0 && nic.AssociatePublicIpAddress === true) {
    throw invalidParameterCombination('The associatePublicIPAddress parameter cannot be specified when launching with multiple network interfaces.');
  }
  const n = primaryIdx + 1;
  if (nic.NetworkInterfaceId) {
    const existing = requireResource(ctx, KINDS.networkInterface, nic.NetworkInterfaceId);
    requireAvailable(existing);
    return {
      subnetId: existing.SubnetId,
      groupIds: [],
      groupNames: [],
      deleteOnTermination: nic.DeleteOnTermination ?? false,
      addresses: NO_ADDRESSES,
      networkCardIndex: nic.NetworkCardIndex ?? 0,
      existing,
      extras,
    };
  }
  const addresses = addressRequest(nic);
  if (maxCount > 1 && (addresses.secondaries.length > 0 || addresses.ipv6.length > 0)) {
    throw invalidParameterCombination('Specific private IP addresses can only be given when launching a single instance (MaxCount = 1).');
  }
  return {
    subnetId: nic.SubnetId || undefined,
    groupIds: nic.Groups ?? [],
    groupNames: [],
    privateIp: addresses.primary,
    associatePublicIp: nic.AssociatePublicIpAddress,
    deleteOnTermination: nic.DeleteOnTermination ?? true,
    description: checkInterfaceDescription(`NetworkInterface.${n}.Description`, nic.Description),
    addresses: { ...addresses, primary: undefined },
    networkCardIndex: nic.NetworkCardIndex ?? 0,
    extras,
  };
}

/** An interface beyond the primary, checked against the store. */
export interface ResolvedExtra {
  deviceIndex: number;
  networkCardIndex: number;
  deleteOnTermination: boolean;
  existing?: NetworkInterfaceRecord;
  subnet?: SubnetRecord;
  groups: GroupIdentifier[];
  addresses: AddressRequest;
  description?: string;
}

/**
 * The launch's interfaces beyond the primary: existing ones available and in
 * the primary subnet's zone, new ones in a subnet of that zone; all within
 * the instance type's limits (interfaces, network cards, addresses).
 */
export function resolveExtras(ctx: RequestContext, choice: NetworkChoice, primarySubnet: SubnetRecord, typeName: string, maxCount: number): ResolvedExtra[] {
  const limits = interfaceLimits(typeName);
  const count = 1 + choice.extras.length;
  if (count > limits.interfaces) {
    throw new Ec2Error('InvalidParameterValue', `Interface count ${count} exceeds the limit for ${typeName} (${limits.interfaces}).`);
  }
  const primaryIpv4 = choice.existing ? (choice.existing.PrivateIpAddresses ?? []).length : 1 + choice.addresses.secondaries.length + choice.addresses.secondaryCount;
  checkIpv4Count(primaryIpv4, limits.ipv4);
  checkIpv6Count(choice.existing ? (choice.existing.Ipv6Addresses ?? []).length : choice.addresses.ipv6.length + choice.addresses.ipv6Count, limits.ipv6);
  const cards = findInstanceType(typeName)?.NetworkInfo?.MaximumNetworkCards ?? 1;
  for (const card of [choice.networkCardIndex, ...choice.extras.map((e) => e.NetworkCardIndex ?? 0)]) {
    if (!Number.isInteger(card) || card < 0 || card >= cards) {
      throw new Ec2Error('InvalidParameterValue', `Value (${card}) for parameter networkCardIndex is invalid. Instance type ${typeName} has ${cards} network card(s).`);
    }
  }
  const zone = primarySubnet.AvailabilityZone;
  const sameZone = (z: string): void => {
    if (z !== zone) throw invalidParameterCombination('All network interfaces of an instance must be in the same availability zone.');
  };
  return choice.extras.map((spec) => {
    const base = { deviceIndex: spec.DeviceIndex ?? 0, networkCardIndex: spec.NetworkCardIndex ?? 0 };
    checkDeviceIndex(base.deviceIndex, typeName);
    if (spec.NetworkInterfaceId) {
      const existing = requireResource(ctx, KINDS.networkInterface, spec.NetworkInterfaceId);
      requireAvailable(existing);
      sameZone(existing.AvailabilityZone);
      checkIpv4Count((existing.PrivateIpAddresses ?? []).length, limits.ipv4);
      checkIpv6Count((existing.Ipv6Addresses ?? []).length, limits.ipv6);
      return { ...base, deleteOnTermination: spec.DeleteOnTermination ?? false, existing, groups: existing.Groups, addresses: NO_ADDRESSES };
    }
    if (!spec.SubnetId) throw missingParameter(`NetworkInterface.${base.deviceIndex}.SubnetId`);
    const subnet = requireResource(ctx, KINDS.subnet, spec.SubnetId);
    sameZone(subnet.AvailabilityZone);
    const addresses = addressRequest(spec);
    if (maxCount > 1 && (addresses.primary !== undefined || addresses.secondaries.length > 0 || addresses.ipv6.length > 0)) {
      throw invalidParameterCombination('Specific private IP addresses can only be given when launching a single instance (MaxCount = 1).');
    }
    checkIpv4Count(1 + addresses.secondaries.length + addresses.secondaryCount, limits.ipv4);
    checkIpv6Count(addresses.ipv6.length + addresses.ipv6Count, limits.ipv6);
    return {
      ...base,
      deleteOnTermination: spec.DeleteOnTermination ?? true,
      subnet,
      groups: resolveGroups(ctx, subnet, spec.Groups ?? [], []),
      addresses,
      description: checkInterfaceDescription(`NetworkInterface.${base.deviceIndex}.Description`, spec.Description),
    };
  });
}

/** Takes an existing interface into a launch: attached to the new instance from the start. */
export function adoptInterface(
  ctx: RequestContext,
  eni: NetworkInterfaceRecord,
  instanceId: string,
  x: { deviceIndex: number; networkCardIndex: number; deleteOnTermination: boolean },
  attachmentId: string,
  attachTime: string,
): NetworkInterfaceRecord {
  eni.attachment = {
    AttachmentId: attachmentId,
    InstanceId: instanceId,
    DeviceIndex: x.deviceIndex,
    AttachTime: attachTime,
    DeleteOnTermination: x.deleteOnTermination,
    Status: 'attached',
    NetworkCardIndex: x.networkCardIndex,
  };
  eni.Status = 'in-use';
  eniCollection(ctx).put(ctx.region, eni.NetworkInterfaceId, eni);
  setInstanceOfElasticIps(ctx, eni, instanceId);
  return eni;
}

/**
 * The interfaces beyond the primary for one instance of the launch: existing
 * ones adopted, new ones made with their addresses (`taken`: addresses this
 * call has handed out but not stored, grown with the new ones).
 */
export function extraInterfaces(
  ctx: RequestContext,
  extras: readonly ResolvedExtra[],
  instanceId: string,
  attachTime: string,
  taken: string[],
  newAttachmentId: () => string,
): { records: NetworkInterfaceRecord[]; created: NetworkInterfaceRecord[] } {
  const records: NetworkInterfaceRecord[] = [];
  const created: NetworkInterfaceRecord[] = [];
  for (const x of extras) {
    if (x.existing) {
      records.push(adoptInterface(ctx, x.existing, instanceId, x, newAttachmentId(), attachTime));
      continue;
    }
    const subnet = x.subnet!;
    const { ipv4, ipv6 } = allocateInterfaceAddresses(ctx, subnet, x.addresses, taken);
    taken.push(...ipv4);
    const eni = newInstanceInterface(ctx, {
      subnet,
      privateIp: ipv4[0]!,
      secondaryIps: ipv4.slice(1),
      ipv6Addresses: ipv6,
      groups: x.groups,
      instanceId,
      deviceIndex: x.deviceIndex,
      networkCardIndex: x.networkCardIndex,
      deleteOnTermination: x.deleteOnTermination,
      description: x.description,
      attachTime,
    });
    eniCollection(ctx).put(ctx.region, eni.NetworkInterfaceId, eni);
    records.push(eni);
    created.push(eni);
  }
  return { records, created };
}
