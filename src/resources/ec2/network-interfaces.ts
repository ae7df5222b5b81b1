import type { GroupIdentifier } from '@aws-sdk/client-ec2';
import { randomBytes } from 'node:crypto';
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import { KINDS, MEMBER_INDEX } from './kinds.js';
import { privateDnsName } from './public-ips.js';
import type { NetworkInterfaceRecord, SubnetRecord } from './records.js';

/** A locally administered unicast MAC, as EC2 gives interfaces (02:xx:xx:xx:xx:xx). */
function newMacAddress(): string {
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
}

/** Builds (does not store) an interface attached to an instance. */
export function newInstanceInterface(ctx: ResourceContext, n: NewInterface): NetworkInterfaceRecord {
  const dns = privateDnsName(ctx.region, n.privateIp);
  const record: NetworkInterfaceRecord = {
    NetworkInterfaceId: newId('eni'),
    SubnetId: n.subnet.SubnetId,
    VpcId: n.subnet.VpcId,
    AvailabilityZone: n.subnet.AvailabilityZone,
    Description: n.description ?? '',
    InterfaceType: 'interface',
    OwnerId: ctx.accountId,
    RequesterManaged: false,
    SourceDestCheck: true,
    PrivateIpAddress: n.privateIp,
    PrivateDnsName: dns,
    PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: n.privateIp, PrivateDnsName: dns }],
    Ipv6Addresses: [],
    MacAddress: newMacAddress(),
    Groups: n.groups,
    Status: 'in-use',
    attachment: {
      AttachmentId: newId('eni-attach'),
      InstanceId: n.instanceId,
      DeviceIndex: n.deviceIndex,
      AttachTime: n.attachTime,
      DeleteOnTermination: n.deleteOnTermination,
    },
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
