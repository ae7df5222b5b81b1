/**
 * EBS volumes: CreateVolume, DescribeVolumes, DeleteVolume, AttachVolume,
 * DetachVolume, ModifyVolume, DescribeVolumesModifications,
 * DescribeVolumeStatus, DescribeVolumeAttribute, ModifyVolumeAttribute.
 *
 * Calls record intent and answer at once, as EC2 does (creating, attaching,
 * detaching, modifying); the volume reconciler makes the bytes and the
 * instance reconciler hands the device to the machine.
 */
import type {
  AttachVolumeRequest,
  CreateVolumeRequest,
  DeleteVolumeRequest,
  DescribeVolumeAttributeRequest,
  DescribeVolumeAttributeResult,
  DescribeVolumesModificationsRequest,
  DescribeVolumesModificationsResult,
  DescribeVolumesRequest,
  DescribeVolumesResult,
  DescribeVolumeStatusRequest,
  DescribeVolumeStatusResult,
  DetachVolumeRequest,
  ModifyVolumeAttributeRequest,
  ModifyVolumeRequest,
  ModifyVolumeResult,
  Volume,
  VolumeAttachment,
  VolumeModification,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { findZone } from '../../domain/regions.js';
import { ec2Time } from '../../domain/time.js';
import { Ec2Error, invalidParameterValue, missingParameter } from '../../domain/errors.js';
import { checkDeviceName, checkVolumeShape, checkVolumeType } from '../../domain/volume-types.js';
import { admitModification } from '../../domain/volume-modifications.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { SnapshotRecord, VolumeAttachmentRecord, VolumeRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import {
  attachedToInstance,
  attachmentsOf,
  attachmentTo,
  beginAttach,
  beginDetach,
  MULTI_ATTACH_LIMIT,
  newVolume,
  volumeAttachments,
  volumeCollection,
} from '../../resources/ec2/volumes.js';
import { snapshotUsableBy } from '../../resources/ec2/snapshots.js';

const asDate = (s: string | undefined): Date | undefined => s as unknown as Date | undefined;

export function volumeOutput(v: VolumeRecord, tags: Tag[] | undefined): Volume {
  const out: Volume = {
    VolumeId: v.VolumeId,
    Size: v.Size,
    AvailabilityZone: v.AvailabilityZone,
    State: v.State,
    CreateTime: asDate(v.CreateTime),
    VolumeType: v.VolumeType as Volume['VolumeType'],
    SnapshotId: v.SnapshotId,
    Encrypted: v.Encrypted,
    MultiAttachEnabled: v.MultiAttachEnabled,
    FastRestored: v.FastRestored ?? false,
    Attachments: volumeAttachments(v).map((a) => ({ ...a, AttachTime: asDate(a.AttachTime), State: a.State as VolumeAttachment['State'] })),
    Tags: tagsField(tags),
  };
  if (v.Iops !== undefined) out.Iops = v.Iops;
  if (v.Throughput !== undefined) out.Throughput = v.Throughput;
  if (v.KmsKeyId !== undefined) out.KmsKeyId = v.KmsKeyId;
  return out;
}

/** A volume the caller may act on (deleting ones are gone to them). */
function requireVolume(ctx: RequestContext, id: string | undefined): VolumeRecord {
  if (id === undefined || id === '') throw missingParameter('VolumeId');
  const v = requireResource(ctx, KINDS.volume, id);
  if (v.State === 'deleting') throw KINDS.volume.notFound(id);
  return v;
}

function requireZone(ctx: RequestContext, zone: string | undefined): string {
  if (zone === undefined || zone === '') throw missingParameter('AvailabilityZone');
  const z = findZone(zone);
  if (!z || z.GroupName !== ctx.region) throw new Ec2Error('InvalidZone.NotFound', `The zone '${zone}' does not exist.`);
  return zone;
}

// ---------------------------------------------------------------- CreateVolume

const createVolume = action((ctx, input: CreateVolumeRequest): Volume => {
  const zone = requireZone(ctx, input.AvailabilityZone);
  let snapshot: SnapshotRecord | undefined;
  if (input.SnapshotId !== undefined && input.SnapshotId !== '') {
    snapshot = requireResource(ctx, KINDS.snapshot, input.SnapshotId);
    if (snapshot.deleting || !snapshotUsableBy(snapshot, ctx.accountId)) throw KINDS.snapshot.notFound(input.SnapshotId);
    if (snapshot.State !== 'completed') {
      throw new Ec2Error('IncorrectState', `Snapshot '${snapshot.SnapshotId}' is not 'completed'.`);
    }
  }
  const type = checkVolumeType(input.VolumeType, 'gp2');
  const size = input.Size ?? snapshot?.VolumeSize;
  if (size === undefined) throw missingParameter('size or snapshotId');
  if (snapshot && size < snapshot.VolumeSize) {
    throw invalidParameterValue(`Volume of ${size}GiB is smaller than snapshot '${snapshot.SnapshotId}', expect size >= ${snapshot.VolumeSize}GiB`);
  }
  const shape = checkVolumeShape({ type, sizeGiB: size, iops: input.Iops, throughput: input.Throughput });
  if (input.MultiAttachEnabled === true && !MULTI_ATTACH_TYPES.includes(type)) {
    throw invalidParameterValue(`The parameter multiAttachEnabled is not supported for ${type} volumes.`);
  }
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.volume.name]).get(KINDS.volume.name) ?? [];
  const rec = newVolume(ctx, {
    sizeGiB: shape.sizeGiB,
    availabilityZone: zone,
    volumeType: type,
    iops: shape.iops,
    throughput: shape.throughput,
    snapshotId: snapshot?.SnapshotId,
    encrypted: input.Encrypted ?? snapshot?.Encrypted ?? false,
    kmsKeyId: input.KmsKeyId,
    origin: snapshot ? { kind: 'snapshot', snapshotId: snapshot.SnapshotId } : { kind: 'empty' },
    multiAttachEnabled: input.MultiAttachEnabled === true,
  });
  putTags(ctx, rec.VolumeId, KINDS.volume.name, tags);
  ctx.notify(KINDS.volume.name, rec.VolumeId);
  return volumeOutput(rec, tags);
});

// ---------------------------------------------------------------- DescribeVolumes

/** The volume types Multi-Attach is for. */
const MULTI_ATTACH_TYPES: readonly string[] = ['io1', 'io2'];

// a volume matches when one of its attachments does (a Multi-Attach volume has several)
const VOLUME_FILTERS = filterTable<VolumeRecord>('DescribeVolumes', {
  'attachment.attach-time': (v) => attachmentsOf(v).map((a) => a.AttachTime),
  'attachment.delete-on-termination': (v) => attachmentsOf(v).map((a) => a.DeleteOnTermination),
  'attachment.device': (v) => attachmentsOf(v).map((a) => a.Device),
  'attachment.instance-id': (v) => attachmentsOf(v).map((a) => a.InstanceId),
  'attachment.status': (v) => attachmentsOf(v).map((a) => a.State),
  'availability-zone': 'AvailabilityZone',
  'create-time': 'CreateTime',
  encrypted: 'Encrypted',
  'fast-restored': (v) => v.FastRestored ?? false,
  'multi-attach-enabled': 'MultiAttachEnabled',
  size: 'Size',
  'snapshot-id': 'SnapshotId',
  status: 'State',
  'volume-id': 'VolumeId',
  'volume-type': 'VolumeType',
});

function visibleVolumes(ctx: RequestContext, ids: readonly string[] | undefined): VolumeRecord[] {
  if (ids && ids.length > 0) {
    const found = requireResources(ctx, KINDS.volume, ids);
    const gone = found.filter((v) => v.State === 'deleting');
    if (gone.length > 0) throw KINDS.volume.notFound(gone[0]!.VolumeId);
    return found;
  }
  return volumeCollection(ctx).list(ctx.region).filter((v) => v.State !== 'deleting');
}

const describeVolumes = action((ctx, input: DescribeVolumesRequest): DescribeVolumesResult => {
  const tags = tagsByResource(ctx, KINDS.volume.name);
  const records = visibleVolumes(ctx, input.VolumeIds);
  const filtered = applyFilters(records, input.Filters, VOLUME_FILTERS, (v) => tags.get(v.VolumeId));
  if (input.VolumeIds?.length && input.MaxResults !== undefined) {
    throw new Ec2Error('InvalidParameterCombination', 'The parameter volumeSet cannot be used with the parameter maxResults');
  }
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 500, clamp: true });
  return { Volumes: page.items.map((v) => volumeOutput(v, tags.get(v.VolumeId))), NextToken: page.nextToken };
});

// ---------------------------------------------------------------- DeleteVolume

const deleteVolume = action((ctx, input: DeleteVolumeRequest): object => {
  const v = requireVolume(ctx, input.VolumeId);
  const held = attachmentsOf(v)[0];
  if (held) throw new Ec2Error('VolumeInUse', `Volume ${v.VolumeId} is currently attached to ${held.InstanceId}`);
  if (v.State === 'creating') throw new Ec2Error('IncorrectState', `The volume '${v.VolumeId}' is 'creating'.`);
  v.State = 'deleting';
  volumeCollection(ctx).put(ctx.region, v.VolumeId, v);
  ctx.notify(KINDS.volume.name, v.VolumeId);
  return {};
});

// ---------------------------------------------------------------- AttachVolume / DetachVolume

function attachmentOutput(v: VolumeRecord, a: VolumeAttachmentRecord): VolumeAttachment {
  return {
    AttachTime: asDate(a.AttachTime),
    Device: a.Device,
    InstanceId: a.InstanceId,
    State: a.State,
    VolumeId: v.VolumeId,
    DeleteOnTermination: a.DeleteOnTermination,
  };
}

const attachVolume = action((ctx, input: AttachVolumeRequest): VolumeAttachment => {
  const device = checkDeviceName(input.Device);
  if (input.InstanceId === undefined || input.InstanceId === '') throw missingParameter('InstanceId');
  const v = requireVolume(ctx, input.VolumeId);
  const inst = requireResource(ctx, KINDS.instance, input.InstanceId);
  const attached = attachmentsOf(v);
  if (attachmentTo(v, inst.InstanceId)) throw new Ec2Error('VolumeInUse', `${v.VolumeId} is already attached to ${inst.InstanceId}`);
  if (attached.length > 0 && !v.MultiAttachEnabled) throw new Ec2Error('VolumeInUse', `${v.VolumeId} is already attached to an instance`);
  if (attached.length >= MULTI_ATTACH_LIMIT) {
    throw new Ec2Error('VolumeInUse', `${v.VolumeId} is already attached to ${MULTI_ATTACH_LIMIT} instances, the most a Multi-Attach volume can be attached to`);
  }
  const usable = attached.length > 0 ? v.State === 'in-use' : v.State === 'available';
  if (!usable) throw new Ec2Error('IncorrectState', `Volume '${v.VolumeId}' is in the '${v.State}' state.`);
  const state = inst.State.Name;
  if (state !== 'running' && state !== 'stopped') {
    throw new Ec2Error('IncorrectInstanceState', `Instance '${inst.InstanceId}' is not 'running' or 'stopped'.`);
  }
  if (inst.Placement?.AvailabilityZone !== v.AvailabilityZone) {
    throw new Ec2Error('InvalidVolume.ZoneMismatch', `The volume '${v.VolumeId}' is not in the same availability zone as instance '${inst.InstanceId}'`);
  }
  if (v.MultiAttachEnabled && sameDevice(device, inst.RootDeviceName ?? '/dev/xvda')) {
    throw new Ec2Error('InvalidParameterCombination', `Multi-Attach enabled volume '${v.VolumeId}' cannot be attached as the root device ${device}.`);
  }
  const taken = attachedToInstance(ctx, inst.InstanceId).some(({ attachment: o }) => sameDevice(o.Device, device));
  if (taken) {
    throw new Ec2Error('InvalidParameterValue', `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`);
  }
  return attachmentOutput(v, beginAttach(ctx, v, inst.InstanceId, device));
});

/** `/dev/sdf`, `sdf` and `/dev/xvdf` are one attachment point on a Linux instance. */
function sameDevice(a: string, b: string): boolean {
  const norm = (d: string) => d.replace(/^\/dev\//, '').replace(/^(sd|xvd)/, '');
  return a !== '' && norm(a) === norm(b);
}

const detachVolume = action((ctx, input: DetachVolumeRequest): VolumeAttachment => {
  const v = requireVolume(ctx, input.VolumeId);
  const attached = attachmentsOf(v);
  if (attached.length === 0) throw new Ec2Error('IncorrectState', `Volume '${v.VolumeId}' is in the '${v.State}' state.`);
  const given = input.InstanceId !== undefined && input.InstanceId !== '';
  if (!given && attached.length > 1) {
    throw new Ec2Error('InvalidParameterCombination', `Volume '${v.VolumeId}' is attached to more than one instance: specify the instance to detach it from.`);
  }
  const a = given ? attachmentTo(v, input.InstanceId!) : attached[0]!;
  if (!a) throw new Ec2Error('InvalidAttachment.NotFound', `Volume '${v.VolumeId}' is not attached to instance '${input.InstanceId}'`);
  if (a.State === 'detaching') throw new Ec2Error('IncorrectState', `Volume '${v.VolumeId}' is in the 'detaching' state.`);
  if (input.Device !== undefined && input.Device !== a.Device) {
    throw new Ec2Error('InvalidAttachment.NotFound', `Volume '${v.VolumeId}' is not attached at '${input.Device}'`);
  }
  const inst = ctx.store.collection(KINDS.instance).get(ctx.region, a.InstanceId);
  if (inst && a.Device === inst.RootDeviceName && inst.State.Name !== 'stopped') {
    throw new Ec2Error('OperationNotPermitted', `Unable to detach root volume '${v.VolumeId}' from instance '${inst.InstanceId}'`);
  }
  return attachmentOutput(v, beginDetach(ctx, v, a.InstanceId, input.Force === true));
});

// ---------------------------------------------------------------- ModifyVolume / DescribeVolumesModifications

function modificationOutput(v: VolumeRecord): VolumeModification {
  const m = v.modification!;
  const out: VolumeModification = {
    VolumeId: v.VolumeId,
    ...m,
    TargetVolumeType: m.TargetVolumeType as VolumeModification['TargetVolumeType'],
    OriginalVolumeType: m.OriginalVolumeType as VolumeModification['OriginalVolumeType'],
    StartTime: asDate(m.StartTime),
    EndTime: asDate(m.EndTime),
  };
  if (m.EndTime === undefined) delete out.EndTime;
  return out;
}

const modifyVolume = action((ctx, input: ModifyVolumeRequest): ModifyVolumeResult => {
  const v = requireVolume(ctx, input.VolumeId);
  if (v.State !== 'available' && v.State !== 'in-use') throw new Ec2Error('IncorrectState', `Volume '${v.VolumeId}' is in the '${v.State}' state.`);
  // one at a time (the last one completed), at most four starting in a rolling 24 hours
  const starts = admitModification(v.VolumeId, v.modification, v.modificationStarts ?? [], ctx.now);
  if (input.Size === undefined && input.VolumeType === undefined && input.Iops === undefined && input.Throughput === undefined && input.MultiAttachEnabled === undefined) {
    throw new Ec2Error('InvalidParameterCombination', 'At least one of size, volumeType, iops, throughput or multiAttachEnabled must be given.');
  }
  if (input.Size !== undefined && input.Size < v.Size) {
    throw invalidParameterValue(`New size cannot be smaller than existing size of ${v.Size}GiB for volume '${v.VolumeId}'.`);
  }
  const type = checkVolumeType(input.VolumeType ?? v.VolumeType);
  const typeChanged = type !== v.VolumeType;
  const multiAttach = input.MultiAttachEnabled ?? v.MultiAttachEnabled;
  if (multiAttach !== v.MultiAttachEnabled) {
    // io2 volumes can turn Multi-Attach on and off after creation; io1 ones only at creation
    if (type !== 'io2' || v.VolumeType !== 'io2') {
      throw new Ec2Error('InvalidParameterCombination', `Multi-Attach can be ${multiAttach ? 'enabled' : 'disabled'} after creation only on io2 volumes; '${v.VolumeId}' is ${v.VolumeType}${typeChanged ? ` (to be ${type})` : ''}.`);
    }
    if (!multiAttach && attachmentsOf(v).length > 1) {
      throw new Ec2Error('InvalidParameterCombination', `Multi-Attach cannot be disabled on '${v.VolumeId}' while it is attached to more than one instance.`);
    }
  } else if (multiAttach && !MULTI_ATTACH_TYPES.includes(type)) {
    throw new Ec2Error('InvalidParameterCombination', `The Multi-Attach enabled volume '${v.VolumeId}' cannot become ${type}: Multi-Attach is for io1 and io2 volumes only.`);
  }
  // a new type starts from its own defaults; the same type keeps what was provisioned
  const shape = checkVolumeShape({
    type,
    sizeGiB: input.Size ?? v.Size,
    iops: input.Iops ?? (typeChanged || type === 'gp2' ? undefined : v.Iops),
    throughput: input.Throughput ?? (typeChanged ? undefined : v.Throughput),
  });
  v.modification = {
    ModificationState: 'modifying',
    TargetSize: shape.sizeGiB,
    TargetVolumeType: type,
    TargetMultiAttachEnabled: multiAttach,
    OriginalSize: v.Size,
    OriginalVolumeType: v.VolumeType,
    OriginalMultiAttachEnabled: v.MultiAttachEnabled,
    Progress: 0,
    StartTime: ec2Time(ctx.now),
  };
  v.modificationStarts = starts;
  if (shape.iops !== undefined) v.modification.TargetIops = shape.iops;
  if (shape.throughput !== undefined) v.modification.TargetThroughput = shape.throughput;
  if (v.Iops !== undefined) v.modification.OriginalIops = v.Iops;
  if (v.Throughput !== undefined) v.modification.OriginalThroughput = v.Throughput;
  volumeCollection(ctx).put(ctx.region, v.VolumeId, v);
  ctx.notify(KINDS.volume.name, v.VolumeId);
  return { VolumeModification: modificationOutput(v) };
});

const MODIFICATION_FILTERS = filterTable<VolumeRecord>('DescribeVolumesModifications', {
  'modification-state': (v) => v.modification?.ModificationState,
  'original-iops': (v) => v.modification?.OriginalIops,
  'original-size': (v) => v.modification?.OriginalSize,
  'original-volume-type': (v) => v.modification?.OriginalVolumeType,
  'original-multi-attach-enabled': (v) => v.modification?.OriginalMultiAttachEnabled,
  'start-time': (v) => v.modification?.StartTime,
  'target-iops': (v) => v.modification?.TargetIops,
  'target-size': (v) => v.modification?.TargetSize,
  'target-volume-type': (v) => v.modification?.TargetVolumeType,
  'target-multi-attach-enabled': (v) => v.modification?.TargetMultiAttachEnabled,
  // the names the reference gives these two
  originalMultiAttachEnabled: (v) => v.modification?.OriginalMultiAttachEnabled,
  targetMultiAttachEnabled: (v) => v.modification?.TargetMultiAttachEnabled,
  'volume-id': 'VolumeId',
});

const describeVolumesModifications = action((ctx, input: DescribeVolumesModificationsRequest): DescribeVolumesModificationsResult => {
  const records = visibleVolumes(ctx, input.VolumeIds).filter((v) => v.modification);
  const filtered = applyFilters(records, input.Filters, MODIFICATION_FILTERS, () => undefined);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 1, max: 500, clamp: true });
  return { VolumesModifications: page.items.map(modificationOutput), NextToken: page.nextToken };
});

// ---------------------------------------------------------------- DescribeVolumeStatus

const STATUS_FILTERS = filterTable<VolumeRecord>('DescribeVolumeStatus', {
  'availability-zone': 'AvailabilityZone',
  'volume-status.status': (v) => statusOf(v),
  'volume-status.details-name': () => ['io-enabled', 'io-performance'],
  'volume-status.details-status': (v) => [statusOf(v) === 'ok' ? 'passed' : 'failed', 'not-applicable'],
  'action.code': () => undefined,
  'action.event-id': () => undefined,
  'action.description': () => undefined,
  'event.description': () => undefined,
  'event.event-id': () => undefined,
  'event.event-type': () => undefined,
  'event.not-after': () => undefined,
  'event.not-before': () => undefined,
});

const statusOf = (v: VolumeRecord): 'ok' | 'impaired' | 'insufficient-data' =>
  v.State === 'error' ? 'impaired' : v.State === 'creating' ? 'insufficient-data' : 'ok';

const describeVolumeStatus = action((ctx, input: DescribeVolumeStatusRequest): DescribeVolumeStatusResult => {
  const records = visibleVolumes(ctx, input.VolumeIds);
  const filtered = applyFilters(records, input.Filters, STATUS_FILTERS, () => undefined);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000, clamp: true });
  return {
    VolumeStatuses: page.items.map((v) => ({
      VolumeId: v.VolumeId,
      AvailabilityZone: v.AvailabilityZone,
      VolumeStatus: {
        Status: statusOf(v),
        Details: [
          { Name: 'io-enabled', Status: statusOf(v) === 'ok' ? 'passed' : 'failed' },
          { Name: 'io-performance', Status: 'not-applicable' },
        ],
      },
      Actions: [],
      Events: [],
    })),
    NextToken: page.nextToken,
  };
});

// ---------------------------------------------------------------- Describe/ModifyVolumeAttribute

const describeVolumeAttribute = action((ctx, input: DescribeVolumeAttributeRequest): DescribeVolumeAttributeResult => {
  const v = requireVolume(ctx, input.VolumeId);
  if (input.Attribute === undefined) throw missingParameter('Attribute');
  if (input.Attribute === 'autoEnableIO') return { VolumeId: v.VolumeId, AutoEnableIO: { Value: v.autoEnableIO } };
  if (input.Attribute === 'productCodes') return { VolumeId: v.VolumeId, ProductCodes: [] };
  throw invalidParameterValue(`Value (${input.Attribute}) for parameter attribute is invalid. Valid values: autoEnableIO, productCodes`);
});

const modifyVolumeAttribute = action((ctx, input: ModifyVolumeAttributeRequest): object => {
  const v = requireVolume(ctx, input.VolumeId);
  if (input.AutoEnableIO?.Value === undefined) throw missingParameter('AutoEnableIO');
  v.autoEnableIO = input.AutoEnableIO.Value;
  volumeCollection(ctx).put(ctx.region, v.VolumeId, v);
  return {};
});

export const volumesModule: ApiModule = {
  actions: {
    CreateVolume: createVolume,
    DescribeVolumes: describeVolumes,
    DeleteVolume: deleteVolume,
    AttachVolume: attachVolume,
    DetachVolume: detachVolume,
    ModifyVolume: modifyVolume,
    DescribeVolumesModifications: describeVolumesModifications,
    DescribeVolumeStatus: describeVolumeStatus,
    DescribeVolumeAttribute: describeVolumeAttribute,
    ModifyVolumeAttribute: modifyVolumeAttribute,
  },
};
