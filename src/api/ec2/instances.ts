/**
 * Instances: RunInstances (run-instances.ts), DescribeInstances and the state
 * changes Start/Stop/Reboot/TerminateInstances. A call records the desired
 * state and the transitional state (pending, stopping, shutting-down) and
 * notifies the reconciler (reconcile/instances.ts), which drives the
 * hypervisor and records running/stopped/terminated.
 */
import { attachedToInstance, volumesOfInstance } from '../../resources/ec2/volumes.js';
import type {
  DescribeInstancesRequest,
  DescribeInstancesResult,
  InstanceStateChange,
  RebootInstancesRequest,
  Reservation,
  StartInstancesRequest,
  StartInstancesResult,
  StopInstancesRequest,
  StopInstancesResult,
  TerminateInstancesRequest,
  TerminateInstancesResult,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable, type FilterFields, type FilterValue } from '../../domain/filters.js';
import type { NetworkInterfaceRecord } from '../../resources/ec2/records.js';
import {
  applyAction,
  instanceState,
  nextStateReason,
  transitionReason,
  type InstanceAction,
  type StateReason,
} from '../../domain/lifecycle.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { instanceAttributeActions } from './instance-attributes.js';
import { instanceCollection, type StoredInstance } from '../../resources/ec2/instances.js';
import { describeInstanceStatus } from './instance-status.js';
import { ec2Time, instanceOutput, loadLookups, lookupsFor, requireInstances, visibleInstances, type InstanceLookups, type InstanceOutput } from './instance-view.js';
import { runInstances } from './run-instances.js';
import { placeForStart } from './launch-placement.js';
import { KINDS } from '../../resources/ec2/kinds.js';

// ---------------------------------------------------------------- DescribeInstances

/** The Elastic IP association and requester of an instance's interfaces, which the Instance shape does not carry. */
const eniField =
  (pick: (e: NetworkInterfaceRecord) => string | boolean | undefined) =>
  (i: InstanceOutput, l: InstanceLookups): FilterValue =>
    (i.NetworkInterfaces ?? []).map((n) => {
      const e = n.NetworkInterfaceId === undefined ? undefined : l.enis.get(n.NetworkInterfaceId);
      return e && pick(e);
    });

/**
 * The public IP association of an instance's interfaces: `network-interface.association.*`
 * in today's reference, `association.*` in the reference of 2014, which EC2 still takes.
 */
const INTERFACE_ASSOCIATION = {
  'public-ip': 'NetworkInterfaces.Association.PublicIp',
  'ip-owner-id': 'NetworkInterfaces.Association.IpOwnerId',
  'allocation-id': eniField((e) => e.association?.allocationId),
  'association-id': eniField((e) => e.association?.associationId),
} satisfies FilterFields<InstanceOutput, InstanceLookups>;

function prefixed<F>(prefix: string, fields: Readonly<Record<string, F>>): Record<string, F> {
  return Object.fromEntries(Object.entries(fields).map(([name, field]) => [prefix + name, field]));
}

const INSTANCE_FILTERS = filterTable<InstanceOutput, InstanceLookups>('DescribeInstances', {
  'affinity': 'Placement.Affinity',
  'ami-launch-index': 'AmiLaunchIndex',
  architecture: 'Architecture',
  'availability-zone': 'Placement.AvailabilityZone',
  'block-device-mapping.device-name': 'BlockDeviceMappings.DeviceName',
  'block-device-mapping.volume-id': 'BlockDeviceMappings.Ebs.VolumeId',
  'block-device-mapping.status': 'BlockDeviceMappings.Ebs.Status',
  'block-device-mapping.delete-on-termination': 'BlockDeviceMappings.Ebs.DeleteOnTermination',
  'client-token': 'ClientToken',
  'dns-name': 'PublicDnsName',
  'ebs-optimized': 'EbsOptimized',
  'ena-support': 'EnaSupport',
  'group-id': 'SecurityGroups.GroupId',
  'group-name': 'SecurityGroups.GroupName',
  'hibernation-options.configured': 'HibernationOptions.Configured',
  hypervisor: 'Hypervisor',
  'image-id': 'ImageId',
  'instance-id': 'InstanceId',
  'instance-state-code': 'State.Code',
  'instance-state-name': 'State.Name',
  'instance-type': 'InstanceType',
  'instance.group-id': 'SecurityGroups.GroupId',
  'instance.group-name': 'SecurityGroups.GroupName',
  'ip-address': 'PublicIpAddress',
  'key-name': 'KeyName',
  'launch-index': 'AmiLaunchIndex',
  'launch-time': 'LaunchTime',
  'metadata-options.http-tokens': 'MetadataOptions.HttpTokens',
  'metadata-options.http-endpoint': 'MetadataOptions.HttpEndpoint',
  'metadata-options.http-put-response-hop-limit': 'MetadataOptions.HttpPutResponseHopLimit',
  'metadata-options.instance-metadata-tags': 'MetadataOptions.InstanceMetadataTags',
  'monitoring-state': 'Monitoring.State',
  'network-interface.network-interface-id': 'NetworkInterfaces.NetworkInterfaceId',
  'network-interface.subnet-id': 'NetworkInterfaces.SubnetId',
  'network-interface.vpc-id': 'NetworkInterfaces.VpcId',
  'network-interface.mac-address': 'NetworkInterfaces.MacAddress',
  'network-interface.private-dns-name': 'NetworkInterfaces.PrivateDnsName',
  'network-interface.addresses.private-ip-address': 'NetworkInterfaces.PrivateIpAddresses.PrivateIpAddress',
  'network-interface.attachment.attachment-id': 'NetworkInterfaces.Attachment.AttachmentId',
  'network-interface.group-id': 'NetworkInterfaces.Groups.GroupId',
  'owner-id': 'ownerId',
  'placement-group-name': 'Placement.GroupName',
  'platform-details': 'PlatformDetails',
  'private-dns-name': 'PrivateDnsName',
  'private-ip-address': 'PrivateIpAddress',
  'reason': 'StateTransitionReason',
  'reservation-id': 'reservationId',
  'root-device-name': 'RootDeviceName',
  'root-device-type': 'RootDeviceType',
  'source-dest-check': 'SourceDestCheck',
  'state-reason-code': 'StateReason.Code',
  'state-reason-message': 'StateReason.Message',
  'subnet-id': 'SubnetId',
  tenancy: 'Placement.Tenancy',
  'usage-operation': 'UsageOperation',
  'virtualization-type': 'VirtualizationType',
  'vpc-id': 'VpcId',
  'block-device-mapping.attach-time': 'BlockDeviceMappings.Ebs.AttachTime',
  'boot-mode': 'BootMode',
  'capacity-reservation-id': 'CapacityReservationId',
  'current-instance-boot-mode': 'CurrentInstanceBootMode',
  'host-id': 'Placement.HostId',
  'iam-instance-profile.arn': 'IamInstanceProfile.Arn',
  'instance-lifecycle': 'InstanceLifecycle',
  'kernel-id': 'KernelId',
  'metadata-options.state': 'MetadataOptions.State',
  'network-interface.addresses.primary': 'NetworkInterfaces.PrivateIpAddresses.Primary',
  'network-interface.addresses.association.public-ip': 'NetworkInterfaces.PrivateIpAddresses.Association.PublicIp',
  'network-interface.addresses.association.ip-owner-id': 'NetworkInterfaces.PrivateIpAddresses.Association.IpOwnerId',
  ...prefixed('network-interface.association.', INTERFACE_ASSOCIATION),
  ...prefixed('association.', INTERFACE_ASSOCIATION),
  'network-interface.attachment.device-index': 'NetworkInterfaces.Attachment.DeviceIndex',
  'network-interface.attachment.status': 'NetworkInterfaces.Attachment.Status',
  'network-interface.attachment.attach-time': 'NetworkInterfaces.Attachment.AttachTime',
  'network-interface.attachment.delete-on-termination': 'NetworkInterfaces.Attachment.DeleteOnTermination',
  'network-interface.attachment.instance-owner-id': 'ownerId',
  'network-interface.attachment.instance-id': 'InstanceId',
  'network-interface.availability-zone': 'Placement.AvailabilityZone',
  'network-interface.description': 'NetworkInterfaces.Description',
  'network-interface.group-name': 'NetworkInterfaces.Groups.GroupName',
  'network-interface.ipv6-addresses.ipv6-address': 'NetworkInterfaces.Ipv6Addresses.Ipv6Address',
  'network-interface.owner-id': 'NetworkInterfaces.OwnerId',
  'network-interface.requester-id': eniField((e) => e.RequesterId),
  'network-interface.requester-managed': eniField((e) => e.RequesterManaged),
  'network-interface.status': 'NetworkInterfaces.Status',
  'network-interface.source-dest-check': 'NetworkInterfaces.SourceDestCheck',
  'outpost-arn': 'OutpostArn',
  platform: 'Platform',
  'placement-partition-number': 'Placement.PartitionNumber',
  'product-code': 'ProductCodes.ProductCodeId',
  'product-code.type': 'ProductCodes.ProductCodeType',
  'ramdisk-id': 'RamdiskId',
  // the instances a service launched for the account (EKS, Auto Scaling…): none here
  'requester-id': () => undefined,
  'spot-instance-request-id': 'SpotInstanceRequestId',
  'tpm-support': 'TpmSupport',
  // the name the reference of 2014 gave it, which EC2 still takes
  'network-interface.source-destination-check': 'NetworkInterfaces.SourceDestCheck',
});

/** Groups consecutive instances of one reservation (instances are listed in launch order). */
function toReservations(instances: readonly InstanceOutput[]): Reservation[] {
  const out: Reservation[] = [];
  let current: Reservation | undefined;
  let currentId = '';
  for (const i of instances) {
    if (!current || currentId !== i.reservationId) {
      currentId = i.reservationId;
      current = { ReservationId: i.reservationId, OwnerId: i.ownerId, Groups: [], Instances: [] };
      out.push(current);
    }
    current.Instances!.push(i);
  }
  return out;
}

const describeInstances = action((ctx, input: DescribeInstancesRequest): DescribeInstancesResult => {
  const ids = input.InstanceIds ?? [];
  if (ids.length > 0 && input.MaxResults !== undefined) {
    throw invalidParameterCombination('The parameter instancesSet cannot be used with the parameter maxResults');
  }
  const records = ids.length > 0 ? requireInstances(ctx, ids) : visibleInstances(ctx);
  const lookups = ids.length > 0 ? lookupsFor(ctx, records) : loadLookups(ctx);
  const outputs = records.map((r) => instanceOutput(ctx, r, lookups));
  const filtered = applyFilters(outputs, input.Filters, INSTANCE_FILTERS, (i) => i.Tags, lookups);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { Reservations: toReservations(page.items), NextToken: page.nextToken };
});

// ---------------------------------------------------------------- state changes

function requireIds(ids: readonly string[] | undefined): string[] {
  if (!ids || ids.length === 0) throw missingParameter('InstanceId');
  return [...ids];
}

interface Planned {
  rec: StoredInstance;
  previous: StoredInstance['State'];
  next: StoredInstance['State'];
  changed: boolean;
}

/** Checks the action on every instance before changing any (one refusal fails the whole call). */
function plan(ctx: RequestContext, ids: readonly string[], act: InstanceAction, check?: (rec: StoredInstance) => void): Planned[] {
  const recs = requireInstances(ctx, ids);
  return recs.map((rec) => {
    check?.(rec);
    const r = applyAction(rec.State.Name, act, { instanceId: rec.InstanceId, rootDeviceType: rec.RootDeviceType === 'instance-store' ? 'instance-store' : 'ebs' });
    if (!r.ok) throw new Ec2Error(r.code, r.message);
    return { rec, previous: rec.State, next: instanceState(r.next), changed: r.changed };
  });
}

function record(ctx: RequestContext, p: Planned, act: InstanceAction): void {
  const rec = p.rec;
  if (p.changed) {
    rec.State = p.next;
    rec.StateTransitionReason = transitionReason(act, ctx.now);
  }
  const reason = nextStateReason(rec.StateReason as StateReason | undefined, act, p.changed);
  if (reason) rec.StateReason = reason;
  else delete rec.StateReason;
  instanceCollection(ctx).put(ctx.region, rec.InstanceId, rec);
  ctx.notify(KINDS.instance.name, rec.InstanceId);
}

const change = (p: Planned): InstanceStateChange => ({ InstanceId: p.rec.InstanceId, CurrentState: p.next, PreviousState: p.previous });

const startInstances = action((ctx, input: StartInstancesRequest): StartInstancesResult => {
  const planned = plan(ctx, requireIds(input.InstanceIds), 'start', (rec) => {
    // an EBS-backed instance whose root volume was detached (while stopped) has nothing to boot
    if (rec.State.Name === 'stopped' && rec.RootDeviceType !== 'instance-store') {
      const root = attachedToInstance(ctx, rec.InstanceId).some(({ attachment: a }) => a.Device === rec.RootDeviceName && a.State !== 'detaching');
      if (!root) {
        throw new Ec2Error('IncorrectInstanceState', `The instance '${rec.InstanceId}' has no volume attached at its root device ${rec.RootDeviceName ?? '/dev/xvda'}: attach one, then start it.`);
      }
    }
  });
  // one at a time: each started instance takes its place before the next one asks (a refusal undoes the whole call)
  for (const p of planned) {
    if (p.changed) {
      if (p.rec.State.Name === 'stopped') placeForStart(ctx, p.rec);
      p.rec.desired = 'running';
      p.rec.LaunchTime = ec2Time(ctx.now);
      record(ctx, p, 'start');
    }
  }
  return { StartingInstances: planned.map(change) };
});

const stopInstances = action((ctx, input: StopInstancesRequest): StopInstancesResult => {
  const hibernate = input.Hibernate === true;
  const planned = plan(ctx, requireIds(input.InstanceIds), hibernate ? 'hibernate' : 'stop', (rec) => {
    if (rec.disableApiStop && rec.State.Name !== 'stopped' && rec.State.Name !== 'stopping') {
      throw new Ec2Error(
        'OperationNotPermitted',
        `The instance '${rec.InstanceId}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.`,
      );
    }
    if (rec.RootDeviceType === 'instance-store') {
      throw new Ec2Error('UnsupportedOperation', `The instance '${rec.InstanceId}' does not have an 'ebs' root device type and cannot be stopped.`);
    }
    if (hibernate && rec.HibernationOptions?.Configured !== true) {
      throw new Ec2Error(
        'UnsupportedHibernationConfiguration',
        `The instance '${rec.InstanceId}' is not enabled for hibernation. To hibernate an instance, hibernation must be enabled when it is launched.`,
      );
    }
  });
  for (const p of planned) {
    if (p.changed) {
      p.rec.desired = 'stopped';
      p.rec.hibernate = hibernate;
    }
    if (p.changed || (input.Force === true && p.rec.State.Name === 'stopping')) {
      if (input.Force === true) p.rec.forceStop = true;
      record(ctx, p, hibernate ? 'hibernate' : 'stop');
    }
  }
  return { StoppingInstances: planned.map(change) };
});

const rebootInstances = action((ctx, input: RebootInstancesRequest): Record<string, never> => {
  const planned = plan(ctx, requireIds(input.InstanceIds), 'reboot');
  for (const p of planned) {
    p.rec.rebootGeneration += 1;
    record(ctx, p, 'reboot');
  }
  return {};
});

const terminateInstances = action((ctx, input: TerminateInstancesRequest): TerminateInstancesResult => {
  const planned = plan(ctx, requireIds(input.InstanceIds), 'terminate', (rec) => {
    if (rec.disableApiTermination && rec.State.Name !== 'terminated' && rec.State.Name !== 'shutting-down') {
      throw new Ec2Error(
        'OperationNotPermitted',
        `The instance '${rec.InstanceId}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
      );
    }
  });
  for (const p of planned) {
    if (p.changed) {
      p.rec.desired = 'terminated';
      record(ctx, p, 'terminate');
    }
  }
  return { TerminatingInstances: planned.map(change) };
});

export const instancesModule: ApiModule = {
  actions: {
    RunInstances: runInstances,
    DescribeInstances: describeInstances,
    DescribeInstanceStatus: describeInstanceStatus,
    StartInstances: startInstances,
    StopInstances: stopInstances,
    RebootInstances: rebootInstances,
    TerminateInstances: terminateInstances,
    ...instanceAttributeActions,
  },
};
