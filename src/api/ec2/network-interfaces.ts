/**
 * Network interfaces (ENIs): the primary interface RunInstances creates for
 * each instance, DescribeNetworkInterfaces, and the attribute actions
 * (Describe/Modify/ResetNetworkInterfaceAttribute). Attachment and Association
 * are built from the record at describe time (public DNS names are never
 * stored). Create/Attach/Detach/DeleteNetworkInterface are in
 * network-interface-lifecycle.ts, the secondary address calls in
 * network-interface-addresses.ts.
 *
 * ModifyNetworkInterfaceAttribute changes one attribute per call, as EC2 does.
 * The groups follow ModifyInstanceAttribute's rules (resolveGroups); on an
 * instance's primary interface (device index 0) the instance's own
 * SecurityGroups and SourceDestCheck, which DescribeInstances shows, follow.
 */
import type {
  DescribeNetworkInterfaceAttributeRequest,
  DescribeNetworkInterfaceAttributeResult,
  DescribeNetworkInterfacesRequest,
  DescribeNetworkInterfacesResult,
  InstanceNetworkInterface,
  ModifyNetworkInterfaceAttributeRequest,
  NetworkInterface,
  NetworkInterfaceAssociation,
  ResetNetworkInterfaceAttributeRequest,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { checkText } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { eniCollection, instanceCollection } from '../../resources/ec2/instances.js';
import { publicDnsName } from '../../resources/ec2/public-ips.js';
import type { NetworkInterfaceRecord, SubnetRecord } from '../../resources/ec2/records.js';
import { requireResources } from '../../resources/ec2/registry.js';
import { tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { tagsByResource } from '../../resources/ec2/tags.js';
import { resolveGroups } from '../../resources/ec2/network-interfaces.js';
import { findRegion } from '../../domain/regions.js';

/** The zone id of a zone of the region (interfaces made before zone ids were stored). */
function availabilityZoneIdOf(ctx: RequestContext, zone: string): string | undefined {
  return findRegion(ctx.region)?.zones.find((z) => z.ZoneName === zone)?.ZoneId;
}

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
      ? { AttachTime: isoTime(at.AttachTime), AttachmentId: at.AttachmentId, DeleteOnTermination: at.DeleteOnTermination, DeviceIndex: at.DeviceIndex, NetworkCardIndex: at.NetworkCardIndex ?? 0, Status: at.Status ?? 'attached' }
      : undefined,
    Description: eni.Description ?? '',
    Groups: eni.Groups,
    Ipv6Addresses: eni.Ipv6Addresses ?? [],
    MacAddress: eni.MacAddress,
    NetworkInterfaceId: eni.NetworkInterfaceId,
    OwnerId: eni.OwnerId,
    PrivateDnsName: eni.PrivateDnsName,
    PrivateIpAddress: eni.PrivateIpAddress,
    PrivateIpAddresses: privateIpAddressesOutput(eni, assoc, (s) => ({ PublicIp: s.PublicIp, PublicDnsName: publicDnsName(ctx.region, s.PublicIp), IpOwnerId: ctx.accountId })),
    SourceDestCheck: eni.SourceDestCheck,
    Status: eni.Status,
    SubnetId: eni.SubnetId,
    VpcId: eni.VpcId,
    InterfaceType: eni.InterfaceType ?? 'interface',
  };
}

/** The interface's private addresses; the public association sits on the primary one, Elastic IPs of secondary ones on theirs. */
function privateIpAddressesOutput<A>(eni: NetworkInterfaceRecord, assoc: A | undefined, secondary: (s: NonNullable<NetworkInterfaceRecord['secondaryAssociations']>[number]) => A) {
  const bySecondary = new Map((eni.secondaryAssociations ?? []).map((s) => [s.privateIp, s]));
  return (eni.PrivateIpAddresses ?? []).map((p) => ({
    Association: p.PrivateIpAddress === eni.PrivateIpAddress ? assoc : secondaryAssociation(bySecondary.get(p.PrivateIpAddress ?? ''), secondary),
    Primary: p.Primary,
    PrivateDnsName: p.PrivateDnsName,
    PrivateIpAddress: p.PrivateIpAddress,
  }));
}

function secondaryAssociation<S, A>(s: S | undefined, f: (s: S) => A): A | undefined {
  return s === undefined ? undefined : f(s);
}

/** The interface as DescribeNetworkInterfaces shows it. */
export function networkInterfaceOutput(ctx: RequestContext, eni: NetworkInterfaceRecord, tags: Tag[] | undefined): NetworkInterface {
  const assoc = associationOutput(ctx, eni);
  return {
    Association: assoc,
    Attachment: attachmentOutput(ctx, eni),
    AvailabilityZone: eni.AvailabilityZone,
    AvailabilityZoneId: eni.AvailabilityZoneId ?? availabilityZoneIdOf(ctx, eni.AvailabilityZone),
    Description: eni.Description ?? '',
    Groups: eni.Groups,
    InterfaceType: eni.InterfaceType ?? 'interface',
    Ipv6Addresses: eni.Ipv6Addresses ?? [],
    MacAddress: eni.MacAddress,
    NetworkInterfaceId: eni.NetworkInterfaceId,
    OwnerId: eni.OwnerId,
    PrivateDnsName: eni.PrivateDnsName,
    PrivateIpAddress: eni.PrivateIpAddress,
    PrivateIpAddresses: privateIpAddressesOutput(eni, assoc, (s) => ({
      PublicIp: s.PublicIp,
      PublicDnsName: publicDnsName(ctx.region, s.PublicIp),
      IpOwnerId: ctx.accountId,
      AllocationId: s.allocationId,
      AssociationId: s.associationId,
    })),
    RequesterId: eni.RequesterId,
    RequesterManaged: eni.RequesterManaged ?? false,
    SourceDestCheck: eni.SourceDestCheck ?? true,
    Status: eni.Status,
    SubnetId: eni.SubnetId,
    TagSet: tagsField(tags) ?? [],
    VpcId: eni.VpcId,
    Operator: { Managed: false },
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
  'addresses.association.public-ip': 'PrivateIpAddresses.Association.PublicIp',
  'addresses.association.owner-id': 'PrivateIpAddresses.Association.IpOwnerId',
  'availability-zone-id': 'AvailabilityZoneId',
  'ipv6-addresses.ipv6-address': 'Ipv6Addresses.Ipv6Address',
  'requester-id': 'RequesterId',
  'operator.managed': 'Operator.Managed',
  'operator.principal': 'Operator.Principal',
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

// ---------------------------------------------------------------- attributes

/** The interface named by NetworkInterfaceId (MissingParameter, Malformed, NotFound). */
export function requireInterface(ctx: RequestContext, id: string | undefined): NetworkInterfaceRecord {
  if (id === undefined || id === '') throw missingParameter('NetworkInterfaceId');
  return requireResources(ctx, KINDS.networkInterface, [id])[0]!;
}

const ATTRIBUTES = ['description', 'groupSet', 'sourceDestCheck', 'attachment'] as const;
type AttributeName = (typeof ATTRIBUTES)[number];

function checkAttribute(name: string | undefined): AttributeName {
  if (name === undefined || name === '') throw missingParameter('Attribute');
  if (!(ATTRIBUTES as readonly string[]).includes(name)) {
    throw new Ec2Error('InvalidParameterValue', `Value (${name}) for parameter attribute is invalid. Unknown attribute.`);
  }
  return name as AttributeName;
}

/** The attachment as DescribeNetworkInterfaceAttribute and DescribeNetworkInterfaces show it. */
function attachmentOutput(ctx: RequestContext, eni: NetworkInterfaceRecord): NetworkInterface['Attachment'] {
  const at = eni.attachment;
  if (!at) return undefined;
  return {
    AttachTime: isoTime(at.AttachTime),
    AttachmentId: at.AttachmentId,
    DeleteOnTermination: at.DeleteOnTermination,
    DeviceIndex: at.DeviceIndex,
    NetworkCardIndex: at.NetworkCardIndex ?? 0,
    InstanceId: at.InstanceId,
    InstanceOwnerId: ctx.accountId,
    Status: at.Status ?? 'attached',
  };
}

const describeNetworkInterfaceAttribute = action(
  (ctx, input: DescribeNetworkInterfaceAttributeRequest): DescribeNetworkInterfaceAttributeResult => {
    const eni = requireInterface(ctx, input.NetworkInterfaceId);
    const name = checkAttribute(input.Attribute);
    const out: DescribeNetworkInterfaceAttributeResult = { NetworkInterfaceId: eni.NetworkInterfaceId };
    switch (name) {
      case 'description':
        out.Description = { Value: eni.Description ?? '' };
        break;
      case 'groupSet':
        out.Groups = eni.Groups;
        break;
      case 'sourceDestCheck':
        out.SourceDestCheck = { Value: eni.SourceDestCheck ?? true };
        break;
      case 'attachment':
        out.Attachment = attachmentOutput(ctx, eni);
        break;
    }
    return out;
  },
);

/** The one change a ModifyNetworkInterfaceAttribute call asks for. */
type Change =
  | { attr: 'description'; value: string }
  | { attr: 'groupSet'; value: string[] }
  | { attr: 'sourceDestCheck'; value: boolean }
  | { attr: 'attachment'; attachmentId: string; deleteOnTermination: boolean };

/** EC2's limit on an interface's description. */
const MAX_DESCRIPTION = 255;

/** A description as CreateNetworkInterface, RunInstances and ModifyNetworkInterfaceAttribute take it. */
export function checkInterfaceDescription(parameter: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  checkText(parameter, v);
  if (v.length > MAX_DESCRIPTION) {
    throw new Ec2Error('InvalidParameterValue', `Value for parameter ${parameter} is invalid. It must be at most ${MAX_DESCRIPTION} characters long.`);
  }
  return v;
}

function requestedChange(input: ModifyNetworkInterfaceAttributeRequest): Change {
  const found: Change[] = [];
  if (input.Description) {
    const v = input.Description.Value;
    if (v === undefined) throw missingParameter('Description.Value');
    checkInterfaceDescription('Description', v);
    found.push({ attr: 'description', value: v });
  }
  if (input.Groups && input.Groups.length > 0) found.push({ attr: 'groupSet', value: input.Groups });
  if (input.SourceDestCheck) {
    const v = input.SourceDestCheck.Value;
    if (v === undefined) throw missingParameter('SourceDestCheck.Value');
    found.push({ attr: 'sourceDestCheck', value: v });
  }
  if (input.Attachment) {
    const a = input.Attachment;
    if (a.AttachmentId === undefined || a.AttachmentId === '') throw missingParameter('Attachment.AttachmentId');
    if (a.DeleteOnTermination === undefined) throw missingParameter('Attachment.DeleteOnTermination');
    found.push({ attr: 'attachment', attachmentId: a.AttachmentId, deleteOnTermination: a.DeleteOnTermination });
  }
  if (found.length === 0) throw invalidParameterCombination('No attributes specified.');
  if (found.length > 1) {
    throw invalidParameterCombination(`Fields for multiple attribute types specified: ${found.map((c) => c.attr).join(', ')}`);
  }
  return found[0]!;
}

const modifyNetworkInterfaceAttribute = action((ctx, input: ModifyNetworkInterfaceAttributeRequest): Record<string, never> => {
  const eni = requireInterface(ctx, input.NetworkInterfaceId);
  const c = requestedChange(input);
  const owner = eni.attachment ? instanceCollection(ctx).get(ctx.region, eni.attachment.InstanceId) : undefined;
  // the instance's own view of its primary interface (DescribeInstances' SecurityGroups and SourceDestCheck)
  const primaryOf = owner && eni.attachment?.DeviceIndex === 0 ? owner : undefined;
  let changedGroups: string[] = [];
  switch (c.attr) {
    case 'description':
      eni.Description = c.value;
      break;
    case 'sourceDestCheck':
      eni.SourceDestCheck = c.value;
      if (primaryOf) primaryOf.SourceDestCheck = c.value;
      break;
    case 'groupSet': {
      const subnet = ctx.store.collection(KINDS.subnet).get(ctx.region, eni.SubnetId);
      const groups = resolveGroups(ctx, subnet ?? ({ SubnetId: eni.SubnetId, VpcId: eni.VpcId } as SubnetRecord), c.value, []);
      changedGroups = [...new Set([...eni.Groups, ...groups].map((g) => g.GroupId ?? '').filter((id) => id !== ''))];
      eni.Groups = groups;
      if (primaryOf) primaryOf.SecurityGroups = groups;
      break;
    }
    case 'attachment':
      if (!eni.attachment || eni.attachment.AttachmentId !== c.attachmentId) {
        throw new Ec2Error('InvalidAttachmentID.NotFound', `The attachment ID '${c.attachmentId}' does not exist`);
      }
      eni.attachment.DeleteOnTermination = c.deleteOnTermination;
      break;
  }
  eniCollection(ctx).put(ctx.region, eni.NetworkInterfaceId, eni);
  ctx.notify(KINDS.networkInterface.name, eni.NetworkInterfaceId);
  for (const id of changedGroups) ctx.notify(KINDS.securityGroup.name, id);
  if (primaryOf && (c.attr === 'groupSet' || c.attr === 'sourceDestCheck')) {
    instanceCollection(ctx).put(ctx.region, primaryOf.InstanceId, primaryOf);
    ctx.notify(KINDS.instance.name, primaryOf.InstanceId);
  }
  return {};
});

const resetNetworkInterfaceAttribute = action((ctx, input: ResetNetworkInterfaceAttributeRequest): Record<string, never> => {
  const eni = requireInterface(ctx, input.NetworkInterfaceId);
  // SourceDestCheck is the only attribute this call resets; its value names it, whatever it says
  if (input.SourceDestCheck === undefined) throw missingParameter('SourceDestCheck');
  eni.SourceDestCheck = true;
  eniCollection(ctx).put(ctx.region, eni.NetworkInterfaceId, eni);
  ctx.notify(KINDS.networkInterface.name, eni.NetworkInterfaceId);
  const owner = eni.attachment?.DeviceIndex === 0 ? instanceCollection(ctx).get(ctx.region, eni.attachment.InstanceId) : undefined;
  if (owner) {
    owner.SourceDestCheck = true;
    instanceCollection(ctx).put(ctx.region, owner.InstanceId, owner);
    ctx.notify(KINDS.instance.name, owner.InstanceId);
  }
  return {};
});

export const networkInterfacesModule: ApiModule = {
  actions: {
    DescribeNetworkInterfaces: describeNetworkInterfaces,
    DescribeNetworkInterfaceAttribute: describeNetworkInterfaceAttribute,
    ModifyNetworkInterfaceAttribute: modifyNetworkInterfaceAttribute,
    ResetNetworkInterfaceAttribute: resetNetworkInterfaceAttribute,
  },
};
