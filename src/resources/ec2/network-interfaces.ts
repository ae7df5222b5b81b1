import type { GroupIdentifier } from '@aws-sdk/client-ec2';
import { randomBytes } from 'node:crypto';
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import { ACCOUNT_LIMITS } from '../../domain/account-limits.js';
import { Ec2Error } from '../../domain/errors.js';
import { KINDS, MEMBER_INDEX } from './kinds.js';
import { privateDnsName } from './public-ips.js';
import type { NetworkInterfaceRecord, SecurityGroupRecord, SubnetRecord } from './records.js';
import { requireResources } from './registry.js';
import { defaultVpcOf as defaultVpc } from './vpcs.js';

/** A locally administered unicast MAC, as EC2 gives interfaces (02:xx:xx:xx:xx:xx). */
/** The interface's IPv6 addresses, in the order they were assigned. */
export function ipv6AddressesOf(eni: Pick<NetworkInterfaceRecord, 'Ipv6Addresses'>): string[] {
  return (eni.Ipv6Addresses ?? []).map((a) => a.Ipv6Address ?? '').filter((a) => a !== '');
}

export function newMacAddress(): string {
  return ['02', ...[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

export interface NewInterface {
  subnet: SubnetRecord;
  privateIp: string;
  groups: GroupIdentifier[];
  instanceId: string;
  deviceIndex: number;
  deleteOnTermination: boolean;
  publicIp?: string;
  description?: string;
  attachTime: string;
  /** secondary private IPv4s, after the primary */
  secondaryIps?: readonly string[];
  ipv6Addresses?: readonly string[];
  networkCardIndex?: number;
}

/** What a new, unattached interface (CreateNetworkInterface) is made of. */
export interface NewDetachedInterface {
  subnet: SubnetRecord;
  /** the primary first */
  privateIps: readonly string[];
  groups: GroupIdentifier[];
  description?: string;
  ipv6Addresses?: readonly string[];
  interfaceType?: NetworkInterfaceRecord['InterfaceType'];
}

/** Builds (does not store) an available interface: no attachment, no public IP. */
export function newInterface(ctx: ResourceContext, n: NewDetachedInterface): NetworkInterfaceRecord {
  const primary = n.privateIps[0]!;
  return {
    NetworkInterfaceId: newId('eni'),
    SubnetId: n.subnet.SubnetId,
    VpcId: n.subnet.VpcId,
    AvailabilityZone: n.subnet.AvailabilityZone,
    AvailabilityZoneId: n.subnet.AvailabilityZoneId,
    Description: n.description ?? '',
    InterfaceType: n.interfaceType ?? 'interface',
    OwnerId: ctx.accountId,
    RequesterManaged: false,
    SourceDestCheck: true,
    PrivateIpAddress: primary,
    PrivateDnsName: privateDnsName(ctx.region, primary),
    PrivateIpAddresses: n.privateIps.map((ip, i) => ({ Primary: i === 0, PrivateIpAddress: ip, PrivateDnsName: privateDnsName(ctx.region, ip) })),
    Ipv6Addresses: (n.ipv6Addresses ?? []).map((a) => ({ Ipv6Address: a, IsPrimaryIpv6: false })),
    MacAddress: newMacAddress(),
    Groups: n.groups,
    Status: 'available',
  };
}

/** Builds (does not store) an interface attached to an instance. */
export function newInstanceInterface(ctx: ResourceContext, n: NewInterface): NetworkInterfaceRecord {
  const record = newInterface(ctx, {
    subnet: n.subnet,
    privateIps: [n.privateIp, ...(n.secondaryIps ?? [])],
    groups: n.groups,
    description: n.description,
    ipv6Addresses: n.ipv6Addresses,
  });
  record.Status = 'in-use';
  record.attachment = {
    AttachmentId: newId('eni-attach'),
    InstanceId: n.instanceId,
    DeviceIndex: n.deviceIndex,
    AttachTime: n.attachTime,
    DeleteOnTermination: n.deleteOnTermination,
    Status: 'attached',
    NetworkCardIndex: n.networkCardIndex ?? 0,
  };
  if (n.publicIp !== undefined) record.association = { PublicIp: n.publicIp };
  return record;
}

/**
 * The VPC's interface that has `ip` among its private addresses, or undefined.
 * Found through the interfaces' index of `groupId/address` pairs (every
 * interface has a group, every group one VPC): one indexed lookup per group of
 * the VPC, no interface read that does not match. Private IPs overlap between
 * VPCs, so the VPC is part of the question.
 */
export function findInterfaceByPrivateIp(ctx: Pick<ResourceContext, 'store' | 'region'>, vpcId: string, ip: string): NetworkInterfaceRecord | undefined {
  const enis = ctx.store.collection(KINDS.networkInterface);
  for (const g of ctx.store.collection(KINDS.securityGroup).list(ctx.region)) {
    if (g.VpcId !== vpcId) continue;
    for (const eni of enis.find(ctx.region, MEMBER_INDEX, `${g.GroupId}/${ip}`)) {
      if (eni.VpcId === vpcId) return eni;
    }
  }
  return undefined;
}

/**
 * The groups an interface in `subnet` may have (RunInstances' primary
 * interface, ModifyInstanceAttribute and ModifyNetworkInterfaceAttribute
 * Groups): ids (any VPC, checked against the subnet's) and names (looked up in
 * the default VPC); the VPC's `default` group when none is given; at most
 * ACCOUNT_LIMITS.maxSecurityGroupsPerInterface.
 */
export function resolveGroups(ctx: ResourceContext, subnet: SubnetRecord, ids: readonly string[], names: readonly string[]): GroupIdentifier[] {
  const all = ctx.store.collection(KINDS.securityGroup).list(ctx.region);
  const chosen: SecurityGroupRecord[] = ids.length > 0 ? requireResources(ctx, KINDS.securityGroup, ids) : [];
  if (names.length > 0) {
    const dv = defaultVpc(ctx);
    for (const name of names) {
      const g = dv && all.find((x) => x.VpcId === dv.VpcId && x.GroupName === name);
      if (!g) {
        throw new Ec2Error(
          'InvalidGroup.NotFound',
          dv ? `The security group '${name}' does not exist in default VPC '${dv.VpcId}'` : `The security group '${name}' does not exist`,
        );
      }
      if (!chosen.some((c) => c.GroupId === g.GroupId)) chosen.push(g);
    }
  }
  if (chosen.length === 0) {
    const d = all.find((g) => g.VpcId === subnet.VpcId && g.GroupName === 'default');
    if (!d) throw new Ec2Error('InvalidGroup.NotFound', `The security group 'default' does not exist in VPC '${subnet.VpcId}'`);
    chosen.push(d);
  }
  for (const g of chosen) {
    if (g.VpcId !== subnet.VpcId) {
      throw new Ec2Error('InvalidParameter', `Security group ${g.GroupId} and subnet ${subnet.SubnetId} belong to different networks.`);
    }
  }
  if (chosen.length > ACCOUNT_LIMITS.maxSecurityGroupsPerInterface) {
    throw new Ec2Error('SecurityGroupsPerInterfaceLimitExceeded', 'The maximum number of security groups per interface has been reached.');
  }
  return chosen.map((g) => ({ GroupId: g.GroupId, GroupName: g.GroupName }));
}

/** Deletes the permissions of an interface that goes (DeleteNetworkInterface, terminate with DeleteOnTermination). */
export function deletePermissionsOf(ctx: Pick<ResourceContext, 'store' | 'region'>, networkInterfaceId: string): void {
  const col = ctx.store.collection(KINDS.networkInterfacePermission);
  for (const p of col.list(ctx.region)) {
    if (p.NetworkInterfaceId === networkInterfaceId) col.delete(ctx.region, p.NetworkInterfacePermissionId);
  }
}
