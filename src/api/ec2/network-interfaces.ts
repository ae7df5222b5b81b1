/**
 * Network interfaces (ENIs): the primary interface RunInstances creates for
 * each instance, and DescribeNetworkInterfaces. Attachment and Association
 * are built from the record at describe time (public DNS names are never
 * stored). Create/Attach/Detach/DeleteNetworkInterface come with a later issue.
 */
import type { DescribeNetworkInterfacesRequest, DescribeNetworkInterfacesResult, InstanceNetworkInterface, NetworkInterface, NetworkInterfaceAssociation } from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { invalidParameterCombination } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { eniCollection } from '../../resources/ec2/instances.js';
import { publicDnsName } from '../../resources/ec2/public-ips.js';
import type { NetworkInterfaceRecord } from '../../resources/ec2/records.js';
import { requireResources } from '../../resources/ec2/registry.js';
import { tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { tagsByResource } from '../../resources/ec2/tags.js';

/** An ISO-8601 string where the SDK types say Date: the serializer writes both the same way. */
const isoTime = (s: string): Date => s as unknown as Date;

/** The Association of an interface: auto-assigned public IPs are owned by 'amazon', Elastic IPs by the account. */
export function associationOutput(ctx: RequestContext, eni: NetworkInterfaceRecord): NetworkInterfaceAssociation | undefined {
  const a = eni.association;
  if (!a) return undefined;
  return {
    PublicIp: a.PublicIp,
    PublicDnsName: publicDnsName(ctx.region, a.PublicIp),
    IpOwnerId: a.allocationId ? ctx.accountId : 'amazon',
    AllocationId: a.allocationId,
    AssociationId: a.associationId,
  };
}

/** The interface as DescribeInstances embeds it (InstanceNetworkInterface). */
export function instanceInterfaceOutput(ctx: RequestContext, eni: NetworkInterfaceRecord): InstanceNetworkInterface {
  const assoc = eni.association
    ? { PublicIp: eni.association.PublicIp, PublicDnsName: publicDnsName(ctx.region, eni.association.PublicIp), IpOwnerId: eni.association.allocationId ? ctx.accountId : 'amazon' }
    : undefined;
  const at = eni.attachment;
  return {
    Association: assoc,
    Attachment: at
      ? { AttachTime: isoTime(at.AttachTime), AttachmentId: at.AttachmentId, DeleteOnTermination: at.DeleteOnTermination, DeviceIndex: at.DeviceIndex, NetworkCardIndex: 0, Status: 'attached' }
      : undefined,
    Description: eni.Description ?? '',
    Groups: eni.Groups,
    Ipv6Addresses: eni.Ipv6Addresses ?? [],
    MacAddress: eni.MacAddress,
    NetworkInterfaceId: eni.NetworkInterfaceId,
    OwnerId: eni.OwnerId,
    PrivateDnsName: eni.PrivateDnsName,
    PrivateIpAddress: eni.PrivateIpAddress,
    PrivateIpAddresses: privateIpAddressesOutput(eni, assoc),
    SourceDestCheck: eni.SourceDestCheck,
    Status: eni.Status,
    SubnetId: eni.SubnetId,
    VpcId: eni.VpcId,
    InterfaceType: eni.InterfaceType ?? 'interface',
  };
}

/** The interface's private addresses; the public association sits on the primary one. */
function privateIpAddressesOutput<A>(eni: NetworkInterfaceRecord, assoc: A | undefined) {
  return (eni.PrivateIpAddresses ?? []).map((p) => ({
    Association: p.PrivateIpAddress === eni.PrivateIpAddress ? assoc : undefined,
    Primary: p.Primary,
    PrivateDnsName: p.PrivateDnsName,
    PrivateIpAddress: p.PrivateIpAddress,
  }));
}

/** The interface as DescribeNetworkInterfaces shows it. */
export function networkInterfaceOutput(ctx: RequestContext, eni: NetworkInterfaceRecord, tags: Tag[] | undefined): NetworkInterface {
  const at = eni.attachment;
  const assoc = associationOutput(ctx, eni);
  return {
    Association: assoc,
    Attachment: at
      ? {
          AttachTime: isoTime(at.AttachTime),
          AttachmentId: at.AttachmentId,
          DeleteOnTermination: at.DeleteOnTermination,
          DeviceIndex: at.DeviceIndex,
          NetworkCardIndex: 0,
          InstanceId: at.InstanceId,
          InstanceOwnerId: ctx.accountId,
          Status: 'attached',
        }
      : undefined,
    AvailabilityZone: eni.AvailabilityZone,
    Description: eni.Description ?? '',
    Groups: eni.Groups,
    InterfaceType: eni.InterfaceType ?? 'interface',
    Ipv6Addresses: eni.Ipv6Addresses ?? [],
    MacAddress: eni.MacAddress,
    NetworkInterfaceId: eni.NetworkInterfaceId,
    OwnerId: eni.OwnerId,
    PrivateDnsName: eni.PrivateDnsName,
    PrivateIpAddress: eni.PrivateIpAddress,
    PrivateIpAddresses: privateIpAddressesOutput(eni, assoc),
    RequesterId: eni.RequesterId,
    RequesterManaged: eni.RequesterManaged ?? false,
    SourceDestCheck: eni.SourceDestCheck ?? true,
    Status: eni.Status,
    SubnetId: eni.SubnetId,
    TagSet: tagsField(tags) ?? [],
    VpcId: eni.VpcId,
  };
}

const NETWORK_INTERFACE_FILTERS = filterTable<NetworkInterface>('DescribeNetworkInterfaces', {
  'network-interface-id': 'NetworkInterfaceId',
  'subnet-id': 'SubnetId',
  'vpc-id': 'VpcId',
  'availability-zone': 'AvailabilityZone',
  description: 'Description',
  'private-ip-address': 'PrivateIpAddresses.PrivateIpAddress',
  'addresses.private-ip-address': 'PrivateIpAddresses.PrivateIpAddress',
  'addresses.primary': 'PrivateIpAddresses.Primary',
  'private-dns-name': 'PrivateDnsName',
  'mac-address': 'MacAddress',
  status: 'Status',
  'owner-id': 'OwnerId',
  'requester-managed': 'RequesterManaged',
  'source-dest-check': 'SourceDestCheck',
  'interface-type': 'InterfaceType',
  'group-id': 'Groups.GroupId',
  'group-name': 'Groups.GroupName',
  'attachment.attachment-id': 'Attachment.AttachmentId',
  'attachment.instance-id': 'Attachment.InstanceId',
  'attachment.instance-owner-id': 'Attachment.InstanceOwnerId',
  'attachment.device-index': 'Attachment.DeviceIndex',
  'attachment.status': 'Attachment.Status',
  'attachment.attach-time': 'Attachment.AttachTime',
  'attachment.delete-on-termination': 'Attachment.DeleteOnTermination',
  'association.public-ip': 'Association.PublicIp',
  'association.public-dns-name': 'Association.PublicDnsName',
  'association.ip-owner-id': 'Association.IpOwnerId',
  'association.allocation-id': 'Association.AllocationId',
  'association.association-id': 'Association.AssociationId',
});

const describeNetworkInterfaces = action((ctx, input: DescribeNetworkInterfacesRequest): DescribeNetworkInterfacesResult => {
  const ids = input.NetworkInterfaceIds ?? [];
  if (ids.length > 0 && input.MaxResults !== undefined) {
    throw invalidParameterCombination('The parameter networkInterfaceIdSet cannot be used with the parameter maxResults');
  }
  const records = ids.length > 0 ? requireResources(ctx, KINDS.networkInterface, ids) : eniCollection(ctx).list(ctx.region);
  const tags = tagsByResource(ctx, KINDS.networkInterface.name);
  const outputs = records.map((e) => networkInterfaceOutput(ctx, e, tags.get(e.NetworkInterfaceId)));
  const filtered = applyFilters(
    outputs,
    input.Filters,
    NETWORK_INTERFACE_FILTERS,
    (n) => n.TagSet,
  );
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { NetworkInterfaces: page.items, NextToken: page.nextToken };
});

export const networkInterfacesModule: ApiModule = {
  actions: { DescribeNetworkInterfaces: describeNetworkInterfaces },
};
