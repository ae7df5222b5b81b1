/**
 * NAT gateways: their records, the requester-managed interface each one holds
 * (a private address of its subnet; a public gateway's Elastic IP is mapped to
 * it, so the address shows as associated), and their states: pending →
 * available (a public gateway in a VPC without an internet gateway: failed),
 * deleting → deleted (interface and Elastic IP let go), shown for a while,
 * then gone.
 */
import type { NatGatewayAddress } from '@aws-sdk/client-ec2';
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import { attachedGatewayOf } from './internet-gateways.js';
import { KINDS } from './kinds.js';
import { newMacAddress } from './network-interfaces.js';
import { privateDnsName } from './public-ips.js';
import type { AddressRecord, NatGatewayRecord, NetworkInterfaceRecord, SubnetRecord } from './records.js';
import { KEEP_FINAL_MS, machine } from './state-machines.js';

type Reader = Pick<ResourceContext, 'store' | 'region'>;

export function natGateways(ctx: Reader) {
  return ctx.store.collection(KINDS.natGateway);
}

export interface NewNatGateway {
  subnet: SubnetRecord;
  connectivity: 'public' | 'private';
  privateIp: string;
  /** a public gateway's Elastic IP (checked free by the caller) */
  address?: AddressRecord;
}

/** Stores a pending NAT gateway with its interface (and maps the Elastic IP to it). */
export function insertNatGateway(ctx: ResourceContext, n: NewNatGateway): NatGatewayRecord {
  const natId = newId(KINDS.natGateway.prefix);
  const dns = privateDnsName(ctx.region, n.privateIp);
  const eni: NetworkInterfaceRecord = {
    NetworkInterfaceId: newId('eni'),
    SubnetId: n.subnet.SubnetId,
    VpcId: n.subnet.VpcId,
    AvailabilityZone: n.subnet.AvailabilityZone,
    Description: `Interface for NAT Gateway ${natId}`,
    InterfaceType: 'natGateway',
    OwnerId: ctx.accountId,
    RequesterId: 'amazon-ec2',
    RequesterManaged: true,
    SourceDestCheck: false,
    PrivateIpAddress: n.privateIp,
    PrivateDnsName: dns,
    PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: n.privateIp, PrivateDnsName: dns }],
    Ipv6Addresses: [],
    MacAddress: newMacAddress(),
    Groups: [],
    Status: 'in-use',
  };
  const address: NatGatewayAddress = { NetworkInterfaceId: eni.NetworkInterfaceId, PrivateIp: n.privateIp, IsPrimary: true, Status: 'succeeded' };
  if (n.address) {
    const associationId = newId('eipassoc');
    eni.association = { PublicIp: n.address.PublicIp, allocationId: n.address.AllocationId, associationId };
    Object.assign(address, { AllocationId: n.address.AllocationId, PublicIp: n.address.PublicIp, AssociationId: associationId, Status: 'associating' });
    n.address.AssociationId = associationId;
    n.address.NetworkInterfaceId = eni.NetworkInterfaceId;
    n.address.NetworkInterfaceOwnerId = ctx.accountId;
    n.address.PrivateIpAddress = n.privateIp;
    ctx.store.collection(KINDS.elasticIp).put(ctx.region, n.address.AllocationId, n.address);
  }
  ctx.store.collection(KINDS.networkInterface).put(ctx.region, eni.NetworkInterfaceId, eni);
  const record: NatGatewayRecord = {
    NatGatewayId: natId,
    VpcId: n.subnet.VpcId,
    SubnetId: n.subnet.SubnetId,
    State: 'pending',
    ConnectivityType: n.connectivity,
    CreateTime: ctx.now.toISOString(),
    NatGatewayAddresses: [address],
  };
  natGateways(ctx).put(ctx.region, natId, record);
  ctx.notify(KINDS.natGateway.name, natId);
  return record;
}

/** Lets go of a gateway's interfaces and Elastic IPs. */
function release(ctx: ResourceContext, nat: NatGatewayRecord): void {
  const enis = ctx.store.collection(KINDS.networkInterface);
  const eips = ctx.store.collection(KINDS.elasticIp);
  for (const a of nat.NatGatewayAddresses) {
    if (a.NetworkInterfaceId !== undefined) enis.delete(ctx.region, a.NetworkInterfaceId);
    const eip = a.AllocationId === undefined ? undefined : eips.get(ctx.region, a.AllocationId);
    if (eip && eip.NetworkInterfaceId === a.NetworkInterfaceId) {
      delete eip.AssociationId;
      delete eip.NetworkInterfaceId;
      delete eip.NetworkInterfaceOwnerId;
      delete eip.PrivateIpAddress;
      eips.put(ctx.region, eip.AllocationId, eip);
    }
    if (a.AllocationId !== undefined) a.Status = 'disassociating';
  }
}

/** pending → available or failed; deleting → deleted; deleted / failed → gone after KEEP_FINAL_MS. */
export const natGatewayMachine = machine<NatGatewayRecord>({
  kind: KINDS.natGateway,
  id: (n) => n.NatGatewayId,
  due(n) {
    if (n.State === 'pending' || n.State === 'deleting') return 0;
    if (n.State === 'deleted' || n.State === 'failed') return (n.finalAt ?? 0) + KEEP_FINAL_MS;
    return undefined;
  },
  advance(ctx, n) {
    const now = ctx.now.getTime();
    if (n.State === 'pending') {
      if (n.ConnectivityType === 'public' && !attachedGatewayOf(ctx, n.VpcId)) {
        release(ctx, n);
        n.State = 'failed';
        n.FailureCode = 'Gateway.NotAttached';
        n.FailureMessage = `Network ${n.VpcId} has no Internet gateway attached`;
        n.finalAt = now;
      } else {
        n.State = 'available';
        for (const a of n.NatGatewayAddresses) a.Status = 'succeeded';
      }
    } else if (n.State === 'deleting') {
      release(ctx, n);
      for (const a of n.NatGatewayAddresses) if (a.AllocationId !== undefined) a.Status = 'succeeded';
      n.State = 'deleted';
      n.DeleteTime = ctx.now.toISOString();
      n.finalAt = now;
    } else if ((n.State === 'deleted' || n.State === 'failed') && (n.finalAt ?? 0) + KEEP_FINAL_MS <= now) {
      natGateways(ctx).delete(ctx.region, n.NatGatewayId);
      ctx.store.tags.removeAll(ctx.region, n.NatGatewayId);
      return true;
    } else {
      return false;
    }
    natGateways(ctx).put(ctx.region, n.NatGatewayId, n);
    return true;
  },
});
