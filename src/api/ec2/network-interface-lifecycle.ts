/**
 * Network interfaces of their own: CreateNetworkInterface,
 * DeleteNetworkInterface, AttachNetworkInterface and DetachNetworkInterface.
 * An attach or detach is recorded (`attaching` / `detaching`) and finished by
 * the instance's reconciler (resources/ec2/interface-attachments.ts), as EC2
 * answers before the interface is in place.
 *
 * The address parameters that CreateNetworkInterface and RunInstances'
 * NetworkInterfaces share (PrivateIpAddress, PrivateIpAddresses,
 * SecondaryPrivateIpAddressCount, Ipv6AddressCount, Ipv6Addresses) are read by
 * `addressRequest` and allocated by `allocateInterfaceAddresses`.
 */
import type {
  AttachNetworkInterfaceRequest,
  AttachNetworkInterfaceResult,
  CreateNetworkInterfaceRequest,
  CreateNetworkInterfaceResult,
  DeleteNetworkInterfaceRequest,
  DetachNetworkInterfaceRequest,
  InstanceIpv6Address,
  PrivateIpAddressSpecification,
} from '@aws-sdk/client-ec2';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { isWellFormedId } from '../../domain/ids.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { disassociateElasticIp, eniCollection } from '../../resources/ec2/instances.js';
import {
  allocateIpv4s,
  allocateIpv6s,
  checkIpv4Count,
  checkIpv6Count,
  MAX_ADDRESSES_PER_INTERFACE,
} from '../../resources/ec2/interface-addresses.js';
import { checkAttach, findByAttachmentId, requireAvailable, startAttach, startDetach } from '../../resources/ec2/interface-attachments.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { deletePermissionsOf, newInterface, resolveGroups } from '../../resources/ec2/network-interfaces.js';
import type { NetworkInterfaceRecord, SubnetRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { putTags } from '../../resources/ec2/tags.js';
import { checkInterfaceDescription, networkInterfaceOutput, requireInterface } from './network-interfaces.js';
import { tagSpecificationTags } from './tags.js';

/** The prefix delegation parameters, which Overcast refuses. */
export interface PrefixParameters {
  Ipv4Prefixes?: readonly unknown[];
  Ipv4PrefixCount?: number;
  Ipv6Prefixes?: readonly unknown[];
  Ipv6PrefixCount?: number;
}

/** UnsupportedOperation when a call asks for prefix delegation (/28 IPv4 or /80 IPv6 prefixes on an interface). */
export function rejectPrefixes(p: PrefixParameters): void {
  if ((p.Ipv4Prefixes ?? []).length > 0 || p.Ipv4PrefixCount !== undefined || (p.Ipv6Prefixes ?? []).length > 0 || p.Ipv6PrefixCount !== undefined) {
    throw new Ec2Error('UnsupportedOperation', 'Prefix delegation (Ipv4Prefixes, Ipv6Prefixes and their counts) is not supported.');
  }
}

/** The address parameters of a new interface. */
export interface AddressParameters extends PrefixParameters {
  PrivateIpAddress?: string;
  PrivateIpAddresses?: PrivateIpAddressSpecification[];
  SecondaryPrivateIpAddressCount?: number;
  Ipv6AddressCount?: number;
  Ipv6Addresses?: InstanceIpv6Address[];
}

/** A count and a list of secondary IPv4 addresses in one call. */
export const bothIpv4Forms = (): Ec2Error =>
  invalidParameterCombination('You may specify secondaryPrivateIpAddressCount or specific secondary private IP addresses, but not both.');

/** A count and a list of IPv6 addresses in one call. */
export const bothIpv6Forms = (): Ec2Error => invalidParameterCombination('You may specify ipv6AddressCount or specific IPv6 addresses, but not both.');

/** What a new interface's addresses are to be, checked for shape (not yet against the subnet). */
export interface AddressRequest {
  primary?: string;
  secondaries: string[];
  secondaryCount: number;
  ipv6: string[];
  ipv6Count: number;
}

function checkCount(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!Number.isInteger(v) || v < 0) throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter ${name} is invalid. Expected a non-negative integer.`);
  return v;
}

/** Reads the address parameters (EC2's combination rules); no allocation. */
export function addressRequest(p: AddressParameters): AddressRequest {
  rejectPrefixes(p);
  const list = p.PrivateIpAddresses ?? [];
  const primaries = list.filter((a) => a.Primary === true);
  if (primaries.length > 1) throw new Ec2Error('InvalidParameterValue', 'Only one primary private IP address can be specified.');
  for (const a of list) if (a.PrivateIpAddress === undefined || a.PrivateIpAddress === '') throw missingParameter('PrivateIpAddresses.N.PrivateIpAddress');
  const listedPrimary = primaries[0]?.PrivateIpAddress;
  const single = p.PrivateIpAddress || undefined;
  if (single !== undefined && listedPrimary !== undefined && single !== listedPrimary) {
    throw invalidParameterCombination('The primary private IP address specified in privateIpAddress and privateIpAddresses must be the same.');
  }
  let primary = single ?? listedPrimary;
  const secondaries = list.map((a) => a.PrivateIpAddress!).filter((ip) => ip !== primary);
  // without a primary named, the first address of the list is the primary
  if (primary === undefined) primary = secondaries.shift();
  const secondaryCount = checkCount('secondaryPrivateIpAddressCount', p.SecondaryPrivateIpAddressCount);
  if (secondaryCount > 0 && secondaries.length > 0) {
    throw bothIpv4Forms();
  }
  checkIpv4Count(1 + secondaries.length + secondaryCount, MAX_ADDRESSES_PER_INTERFACE);
  const ipv6Count = checkCount('ipv6AddressCount', p.Ipv6AddressCount);
  const ipv6 = (p.Ipv6Addresses ?? []).map((a) => {
    if (a.Ipv6Address === undefined || a.Ipv6Address === '') throw missingParameter('Ipv6Addresses.N.Ipv6Address');
    return a.Ipv6Address;
  });
  if (ipv6Count > 0 && ipv6.length > 0) {
    throw bothIpv6Forms();
  }
  checkIpv6Count(ipv6.length + ipv6Count, MAX_ADDRESSES_PER_INTERFACE);
  return { primary, secondaries, secondaryCount, ipv6, ipv6Count };
}

/** How many IPv6 addresses a new interface gets: as asked, else one where the subnet assigns IPv6 on creation. */
export function ipv6CountOnCreation(subnet: SubnetRecord, req: AddressRequest): number {
  return req.ipv6.length === 0 && req.ipv6Count === 0 && subnet.AssignIpv6AddressOnCreation === true ? 1 : req.ipv6Count;
}

/** The addresses of a new interface in `subnet`: [primary, ...secondaries] and its IPv6 addresses. */
export function allocateInterfaceAddresses(
  ctx: RequestContext,
  subnet: SubnetRecord,
  req: AddressRequest,
  alsoTaken: readonly string[] = [],
): { ipv4: string[]; ipv6: string[] } {
  const requested = req.primary === undefined ? [] : [req.primary];
  const head = allocateIpv4s(ctx, subnet, requested, req.primary === undefined ? 1 : 0, alsoTaken);
  const rest = allocateIpv4s(ctx, subnet, req.secondaries, req.secondaryCount, [...alsoTaken, ...head]);
  return { ipv4: [...head, ...rest], ipv6: allocateIpv6s(ctx, subnet, req.ipv6, ipv6CountOnCreation(subnet, req)) };
}

/** The interface types CreateNetworkInterface takes (a plain interface when none is given). */
const CREATION_TYPES = ['efa', 'efa-only', 'branch', 'trunk'] as const;

const createNetworkInterface = action((ctx, input: CreateNetworkInterfaceRequest): CreateNetworkInterfaceResult => {
  if (input.SubnetId === undefined || input.SubnetId === '') throw missingParameter('SubnetId');
  const subnet = requireResource(ctx, KINDS.subnet, input.SubnetId);
  const description = checkInterfaceDescription('Description', input.Description);
  const type = input.InterfaceType;
  if (type !== undefined && !(CREATION_TYPES as readonly string[]).includes(type)) {
    throw new Ec2Error('InvalidParameterValue', `Value (${type}) for parameter InterfaceType is invalid. Valid values: ${CREATION_TYPES.join(', ')}`);
  }
  const req = addressRequest(input);
  const groups = resolveGroups(ctx, subnet, input.Groups ?? [], []);
  const tags = tagSpecificationTags(input.TagSpecifications, ['network-interface']).get('network-interface') ?? [];
  const { ipv4, ipv6 } = allocateInterfaceAddresses(ctx, subnet, req);
  const eni = newInterface(ctx, {
    subnet,
    privateIps: ipv4,
    groups,
    description,
    ipv6Addresses: ipv6,
    interfaceType: type as NetworkInterfaceRecord['InterfaceType'],
  });
  eniCollection(ctx).put(ctx.region, eni.NetworkInterfaceId, eni);
  putTags(ctx, eni.NetworkInterfaceId, KINDS.networkInterface.name, tags);
  ctx.notify(KINDS.networkInterface.name, eni.NetworkInterfaceId);
  return { NetworkInterface: networkInterfaceOutput(ctx, eni, tags), ClientToken: input.ClientToken };
});

const deleteNetworkInterface = action((ctx, input: DeleteNetworkInterfaceRequest): Record<string, never> => {
  const eni = requireInterface(ctx, input.NetworkInterfaceId);
  if (eni.attachment || eni.Status !== 'available') {
    throw new Ec2Error('InvalidNetworkInterface.InUse', `The network interface '${eni.NetworkInterfaceId}' is currently in use.`);
  }
  // an Elastic IP on it stays allocated, unassociated
  if (eni.association?.allocationId) disassociateElasticIp(ctx, eni.association.allocationId);
  for (const s of eni.secondaryAssociations ?? []) disassociateElasticIp(ctx, s.allocationId);
  eniCollection(ctx).delete(ctx.region, eni.NetworkInterfaceId);
  ctx.store.tags.removeAll(ctx.region, eni.NetworkInterfaceId);
  deletePermissionsOf(ctx, eni.NetworkInterfaceId);
  ctx.notify(KINDS.networkInterface.name, eni.NetworkInterfaceId);
  return {};
});

const attachNetworkInterface = action((ctx, input: AttachNetworkInterfaceRequest): AttachNetworkInterfaceResult => {
  const eni = requireInterface(ctx, input.NetworkInterfaceId);
  if (input.InstanceId === undefined || input.InstanceId === '') throw missingParameter('InstanceId');
  if (input.DeviceIndex === undefined) throw missingParameter('DeviceIndex');
  const instance = requireResource(ctx, KINDS.instance, input.InstanceId);
  if (instance.State.Name === 'terminated') throw KINDS.instance.notFound(instance.InstanceId);
  requireAvailable(eni);
  const req = { deviceIndex: input.DeviceIndex, networkCardIndex: input.NetworkCardIndex };
  checkAttach(ctx, eni, instance, req);
  const attachmentId = startAttach(ctx, eni, instance, req);
  return { AttachmentId: attachmentId, NetworkCardIndex: req.networkCardIndex ?? 0 };
});

const detachNetworkInterface = action((ctx, input: DetachNetworkInterfaceRequest): Record<string, never> => {
  const id = input.AttachmentId;
  if (id === undefined || id === '') throw missingParameter('AttachmentId');
  if (!isWellFormedId('eni-attach', id)) throw new Ec2Error('InvalidAttachmentID.Malformed', `Invalid id: "${id}" (expecting "eni-attach-...")`);
  const eni = findByAttachmentId(ctx, id);
  if (!eni) throw new Ec2Error('InvalidAttachmentID.NotFound', `The attachment ID '${id}' does not exist`);
  startDetach(ctx, eni);
  return {};
});

export const networkInterfaceLifecycleModule: ApiModule = {
  actions: {
    CreateNetworkInterface: createNetworkInterface,
    DeleteNetworkInterface: deleteNetworkInterface,
    AttachNetworkInterface: attachNetworkInterface,
    DetachNetworkInterface: detachNetworkInterface,
  },
};
