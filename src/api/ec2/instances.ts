/**
 * Instances: RunInstances (run-instances.ts), DescribeInstances and the state
 * changes Start/Stop/Reboot/TerminateInstances. A call records the desired
 * state and the transitional state (pending, stopping, shutting-down) and
 * notifies the reconciler (reconcile/instances.ts), which drives the
 * hypervisor and records running/stopped/terminated.
 */
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
import { applyFilters } from '../../domain/filters.js';
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
import { ec2Time, instanceOutput, loadLookups, requireInstances, visibleInstances, type InstanceOutput } from './instance-view.js';
import { runInstances } from './run-instances.js';
import { KINDS } from '../../resources/ec2/kinds.js';

// ---------------------------------------------------------------- DescribeInstances

const INSTANCE_FILTERS = {
  'affinity': (i: InstanceOutput) => i.Placement?.Affinity,
  'ami-launch-index': (i: InstanceOutput) => i.AmiLaunchIndex,
  architecture: (i: InstanceOutput) => i.Architecture,
  'availability-zone': (i: InstanceOutput) => i.Placement?.AvailabilityZone,
  'block-device-mapping.device-name': (i: InstanceOutput) => (i.BlockDeviceMappings ?? []).map((b) => b.DeviceName),
  'block-device-mapping.volume-id': (i: InstanceOutput) => (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.VolumeId),
  'block-device-mapping.status': (i: InstanceOutput) => (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.Status),
  'block-device-mapping.delete-on-termination': (i: InstanceOutput) => (i.BlockDeviceMappings ?? []).map((b) => b.Ebs?.DeleteOnTermination),
  'client-token': (i: InstanceOutput) => i.ClientToken,
  'dns-name': (i: InstanceOutput) => i.PublicDnsName,
  'ebs-optimized': (i: InstanceOutput) => i.EbsOptimized,
  'ena-support': (i: InstanceOutput) => i.EnaSupport,
  'group-id': (i: InstanceOutput) => (i.SecurityGroups ?? []).map((g) => g.GroupId),
  'group-name': (i: InstanceOutput) => (i.SecurityGroups ?? []).map((g) => g.GroupName),
  'hibernation-options.configured': (i: InstanceOutput) => i.HibernationOptions?.Configured,
  hypervisor: (i: InstanceOutput) => i.Hypervisor,
  'image-id': (i: InstanceOutput) => i.ImageId,
  'instance-id': (i: InstanceOutput) => i.InstanceId,
  'instance-state-code': (i: InstanceOutput) => i.State?.Code,
  'instance-state-name': (i: InstanceOutput) => i.State?.Name,
  'instance-type': (i: InstanceOutput) => i.InstanceType,
  'instance.group-id': (i: InstanceOutput) => (i.SecurityGroups ?? []).map((g) => g.GroupId),
  'instance.group-name': (i: InstanceOutput) => (i.SecurityGroups ?? []).map((g) => g.GroupName),
  'ip-address': (i: InstanceOutput) => i.PublicIpAddress,
  'key-name': (i: InstanceOutput) => i.KeyName,
  'launch-index': (i: InstanceOutput) => i.AmiLaunchIndex,
  'launch-time': (i: InstanceOutput) => i.LaunchTime as unknown as string,
  'metadata-options.http-tokens': (i: InstanceOutput) => i.MetadataOptions?.HttpTokens,
  'metadata-options.http-endpoint': (i: InstanceOutput) => i.MetadataOptions?.HttpEndpoint,
  'metadata-options.http-put-response-hop-limit': (i: InstanceOutput) => i.MetadataOptions?.HttpPutResponseHopLimit,
  'metadata-options.instance-metadata-tags': (i: InstanceOutput) => i.MetadataOptions?.InstanceMetadataTags,
  'monitoring-state': (i: InstanceOutput) => i.Monitoring?.State,
  'network-interface.network-interface-id': (i: InstanceOutput) => (i.NetworkInterfaces ?? []).map((n) => n.NetworkInterfaceId),
  'network-interface.subnet-id': (i: InstanceOutput) => (i.NetworkInterfaces ?? []).map((n) => n.SubnetId),
  'network-interface.vpc-id': (i: InstanceOutput) => (i.NetworkInterfaces ?? []).map((n) => n.VpcId),
  'network-interface.mac-address': (i: InstanceOutput) => (i.NetworkInterfaces ?? []).map((n) => n.MacAddress),
  'network-interface.private-dns-name': (i: InstanceOutput) => (i.NetworkInterfaces ?? []).map((n) => n.PrivateDnsName),
  'network-interface.addresses.private-ip-address': (i: InstanceOutput) =>
    (i.NetworkInterfaces ?? []).flatMap((n) => (n.PrivateIpAddresses ?? []).map((p) => p.PrivateIpAddress)),
  'network-interface.association.public-ip': (i: InstanceOutput) => (i.NetworkInterfaces ?? []).map((n) => n.Association?.PublicIp),
  'network-interface.attachment.attachment-id': (i: InstanceOutput) => (i.NetworkInterfaces ?? []).map((n) => n.Attachment?.AttachmentId),
  'network-interface.group-id': (i: InstanceOutput) => (i.NetworkInterfaces ?? []).flatMap((n) => (n.Groups ?? []).map((g) => g.GroupId)),
  'owner-id': (i: InstanceOutput) => i.ownerId,
  'placement-group-name': (i: InstanceOutput) => i.Placement?.GroupName,
  'platform-details': (i: InstanceOutput) => i.PlatformDetails,
  'private-dns-name': (i: InstanceOutput) => i.PrivateDnsName,
  'private-ip-address': (i: InstanceOutput) => i.PrivateIpAddress,
  'reason': (i: InstanceOutput) => i.StateTransitionReason,
  'reservation-id': (i: InstanceOutput) => i.reservationId,
  'root-device-name': (i: InstanceOutput) => i.RootDeviceName,
  'root-device-type': (i: InstanceOutput) => i.RootDeviceType,
  'source-dest-check': (i: InstanceOutput) => i.SourceDestCheck,
  'state-reason-code': (i: InstanceOutput) => i.StateReason?.Code,
  'state-reason-message': (i: InstanceOutput) => i.StateReason?.Message,
  'subnet-id': (i: InstanceOutput) => i.SubnetId,
  tenancy: (i: InstanceOutput) => i.Placement?.Tenancy,
  'usage-operation': (i: InstanceOutput) => i.UsageOperation,
  'virtualization-type': (i: InstanceOutput) => i.VirtualizationType,
  'vpc-id': (i: InstanceOutput) => i.VpcId,
};

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
  const lookups = loadLookups(ctx);
  const outputs = records.map((r) => instanceOutput(ctx, r, lookups));
  const filtered = applyFilters(outputs, input.Filters, INSTANCE_FILTERS, (i) => i.Tags);
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
  const planned = plan(ctx, requireIds(input.InstanceIds), 'start');
  for (const p of planned) {
    if (p.changed) {
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
