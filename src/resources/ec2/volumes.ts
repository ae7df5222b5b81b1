/**
 * EBS volumes: the records, and the rules the API and the reconcilers share —
 * attaching (with the instance's block device mappings kept in step), detaching,
 * what terminate does to an instance's volumes, and the volumes RunInstances
 * makes for an instance.
 *
 * An attachment goes attaching → attached (the reconciler hands the device to
 * the running machine; a stopped instance gets it at its next start) and
 * detaching → gone (the volume is available again once it has none). A
 * Multi-Attach volume has one attachment per instance (up to
 * MULTI_ATTACH_LIMIT), each with its own DeleteOnTermination. The instance
 * record's BlockDeviceMappings mirror the volumes attached to it, root first.
 */
import type { InstanceBlockDeviceMapping } from '@aws-sdk/client-ec2';
import { newId } from '../../domain/ids.js';
import { ec2Time } from '../../domain/time.js';
import type { ResourceContext } from '../context.js';
import { ATTACHED_INDEX, KINDS } from './kinds.js';
import type { StoredInstance, VolumeAttachmentRecord, VolumeOrigin, VolumeRecord } from './records.js';
import { volumeEncryption } from './account-settings.js';
import { isVolumeType, shareOfLimits, volumeLimits, type VolumeShape } from '../../domain/volume-types.js';

export const volumeCollection = (ctx: { store: ResourceContext['store'] }) => ctx.store.collection(KINDS.volume);


export interface NewVolume {
  sizeGiB: number;
  availabilityZone: string;
  volumeType: string;
  iops?: number;
  throughput?: number;
  snapshotId?: string;
  encrypted: boolean;
  kmsKeyId?: string;
  origin: VolumeOrigin;
  multiAttachEnabled?: boolean;
  /** attached at birth (RunInstances): in-use and attached, no attaching step */
  attachedTo?: { instanceId: string; device: string; deleteOnTermination: boolean };
}

export function newVolume(ctx: ResourceContext, v: NewVolume): VolumeRecord {
  const now = ec2Time(ctx.now);
  const encryption = volumeEncryption(ctx, v.encrypted, v.kmsKeyId);
  const rec: VolumeRecord = {
    VolumeId: newId('vol'),
    Size: v.sizeGiB,
    AvailabilityZone: v.availabilityZone,
    State: v.attachedTo ? 'in-use' : 'creating',
    CreateTime: new Date(ctx.now.getTime()).toISOString(),
    VolumeType: v.volumeType,
    SnapshotId: v.snapshotId ?? '',
    Encrypted: encryption.encrypted,
    MultiAttachEnabled: v.multiAttachEnabled === true,
    FastRestored: false,
    attachments: [],
    origin: v.origin,
    ownerId: ctx.accountId,
    autoEnableIO: false,
  };
  if (v.iops !== undefined) rec.Iops = v.iops;
  if (v.throughput !== undefined) rec.Throughput = v.throughput;
  if (encryption.kmsKeyId !== undefined) rec.KmsKeyId = encryption.kmsKeyId;
  if (v.attachedTo) {
    rec.attachments.push({
      InstanceId: v.attachedTo.instanceId,
      Device: v.attachedTo.device,
      State: 'attached',
      AttachTime: now,
      DeleteOnTermination: v.attachedTo.deleteOnTermination,
    });
  }
  volumeCollection(ctx).put(ctx.region, rec.VolumeId, rec);
  return rec;
}

/**
 * The size, type, IOPS and throughput the volume's device has: a ModifyVolume's
 * targets from the moment it is accepted (modifying and optimizing), else the
 * record's. The reconcilers hand these to the machines.
 */
export function effectiveShape(v: VolumeRecord): VolumeShape {
  const m = v.modification;
  const live = m !== undefined && (m.ModificationState === 'modifying' || m.ModificationState === 'optimizing');
  const type = live ? m.TargetVolumeType : v.VolumeType;
  const out: VolumeShape = { type: isVolumeType(type) ? type : 'gp2', sizeGiB: live ? m.TargetSize : v.Size };
  const iops = live ? m.TargetIops : v.Iops;
  const throughput = live ? m.TargetThroughput : v.Throughput;
  if (iops !== undefined) out.iops = iops;
  if (throughput !== undefined) out.throughput = throughput;
  return out;
}

/**
 * The I/O limits each of the volume's devices gets: its type's IOPS and
 * throughput (see effectiveShape), split evenly among the instances it is
 * attached to (a Multi-Attach volume's performance is their aggregate). Every
 * attachment holds its share until it is gone (attaching, attached, detaching),
 * so the sum never passes the volume's; the reconciler re-applies the shares
 * to the others when one comes or goes.
 */
export function deviceLimitsOf(v: VolumeRecord): { iops: number; writeIops: number; bytesPerSecond: number } {
  return shareOfLimits(volumeLimits(effectiveShape(v)), attachmentsOf(v).length);
}

/** How many instances a Multi-Attach volume may be attached to at once (EC2's limit). */
export const MULTI_ATTACH_LIMIT = 16;

/** The volume's attachments (none for a record that has none). */
export function attachmentsOf(v: VolumeRecord): VolumeAttachmentRecord[] {
  return v.attachments ?? [];
}

/** The volume's attachment to the instance, if any. */
export function attachmentTo(v: VolumeRecord, instanceId: string): VolumeAttachmentRecord | undefined {
  return attachmentsOf(v).find((a) => a.InstanceId === instanceId);
}

/** The volumes attached (or attaching, detaching) to an instance, from the store's index. */
export function volumesOfInstance(ctx: Pick<ResourceContext, 'store' | 'region'>, instanceId: string): VolumeRecord[] {
  return volumeCollection(ctx).find(ctx.region, ATTACHED_INDEX, instanceId);
}

/** Each of `volumes` that is attached to the instance, with that attachment. */
function withAttachmentTo(volumes: readonly VolumeRecord[], instanceId: string): { volume: VolumeRecord; attachment: VolumeAttachmentRecord }[] {
  return volumes.flatMap((volume) => {
    const attachment = attachmentTo(volume, instanceId);
    return attachment ? [{ volume, attachment }] : [];
  });
}

/** The volumes of an instance with their attachment to it. */
export function attachedToInstance(ctx: Pick<ResourceContext, 'store' | 'region'>, instanceId: string): { volume: VolumeRecord; attachment: VolumeAttachmentRecord }[] {
  return withAttachmentTo(volumesOfInstance(ctx, instanceId), instanceId);
}

/** The instance's BlockDeviceMappings as its volumes say: root first, then in attach order. */
export function mappingsOf(volumes: readonly VolumeRecord[], rootDevice: string | undefined, instanceId: string): InstanceBlockDeviceMapping[] {
  const pairs = withAttachmentTo(volumes, instanceId);
  pairs.sort(({ attachment: x }, { attachment: y }) => {
    const rx = x.Device === rootDevice ? 0 : 1;
    const ry = y.Device === rootDevice ? 0 : 1;
    return rx - ry || x.AttachTime.localeCompare(y.AttachTime) || x.Device.localeCompare(y.Device);
  });
  return pairs.map(({ volume: v, attachment: a }) => ({
    DeviceName: a.Device,
    Ebs: {
      AttachTime: a.AttachTime as unknown as Date,
      DeleteOnTermination: a.DeleteOnTermination,
      Status: a.State,
      VolumeId: v.VolumeId,
    },
  }));
}

/** Rewrites the instance's BlockDeviceMappings from its volumes (after any attachment change). */
export function syncMappings(ctx: ResourceContext, instanceId: string): void {
  const col = ctx.store.collection(KINDS.instance);
  const inst = col.get(ctx.region, instanceId);
  if (!inst || inst.State.Name === 'terminated') return;
  inst.BlockDeviceMappings = mappingsOf(volumesOfInstance(ctx, instanceId), inst.RootDeviceName, instanceId);
  col.put(ctx.region, instanceId, inst);
}

/** AttachVolume's record change (the caller checked the rules): a new attaching attachment, in-use. */
export function beginAttach(ctx: ResourceContext, vol: VolumeRecord, instanceId: string, device: string): VolumeAttachmentRecord {
  vol.State = 'in-use';
  const a: VolumeAttachmentRecord = { InstanceId: instanceId, Device: device, State: 'attaching', AttachTime: ec2Time(ctx.now), DeleteOnTermination: false };
  vol.attachments = [...attachmentsOf(vol), a];
  volumeCollection(ctx).put(ctx.region, vol.VolumeId, vol);
  syncMappings(ctx, instanceId);
  ctx.notify(KINDS.volume.name, vol.VolumeId);
  ctx.notify(KINDS.instance.name, instanceId);
  return a;
}

/** DetachVolume's record change: the instance's attachment detaching (the reconciler takes the device away, then detaches). */
export function beginDetach(ctx: ResourceContext, vol: VolumeRecord, instanceId: string, force: boolean): VolumeAttachmentRecord {
  const a = attachmentTo(vol, instanceId)!;
  a.State = 'detaching';
  if (force) a.force = true;
  volumeCollection(ctx).put(ctx.region, vol.VolumeId, vol);
  syncMappings(ctx, instanceId);
  ctx.notify(KINDS.volume.name, vol.VolumeId);
  ctx.notify(KINDS.instance.name, instanceId);
  return a;
}

/** The reconciler handed the device to the instance: attached. */
export function finishAttach(ctx: ResourceContext, vol: VolumeRecord, instanceId: string): void {
  const a = attachmentTo(vol, instanceId);
  if (a?.State !== 'attaching') return;
  a.State = 'attached';
  volumeCollection(ctx).put(ctx.region, vol.VolumeId, vol);
  syncMappings(ctx, instanceId);
}

/** The reconciler took the device away from the instance: its attachment goes; with none left the volume is available again. */
export function finishDetach(ctx: ResourceContext, vol: VolumeRecord, instanceId: string): void {
  vol.attachments = attachmentsOf(vol).filter((a) => a.InstanceId !== instanceId);
  if (vol.attachments.length === 0) vol.State = 'available';
  volumeCollection(ctx).put(ctx.region, vol.VolumeId, vol);
  syncMappings(ctx, instanceId);
}

/**
 * Whether terminating the instance deletes the volume: its attachment says
 * DeleteOnTermination and it is the last instance the volume is attached to
 * (a Multi-Attach volume follows the last attached instance's setting, as on EC2).
 */
export function deletedWithInstance(v: VolumeRecord, instanceId: string): boolean {
  const all = attachmentsOf(v);
  return all.length === 1 && all[0]!.InstanceId === instanceId && all[0]!.DeleteOnTermination;
}

/** Terminate: DeleteOnTermination volumes go (the reconciler deleted their bytes), the others lose the instance's attachment. */
export function releaseVolumesOnTerminate(ctx: ResourceContext, rec: StoredInstance): void {
  const col = volumeCollection(ctx);
  for (const v of volumesOfInstance(ctx, rec.InstanceId)) {
    if (deletedWithInstance(v, rec.InstanceId)) {
      col.delete(ctx.region, v.VolumeId);
      ctx.store.tags.removeAll(ctx.region, v.VolumeId);
    } else {
      v.attachments = attachmentsOf(v).filter((a) => a.InstanceId !== rec.InstanceId);
      if (v.attachments.length === 0) v.State = 'available';
      col.put(ctx.region, v.VolumeId, v);
    }
  }
}

/** The volume shown to DescribeVolumes / CreateVolume callers: Attachments as EC2 lists them. */
export function volumeAttachments(v: VolumeRecord): { AttachTime: string; Device: string; InstanceId: string; State: string; VolumeId: string; DeleteOnTermination: boolean }[] {
  return attachmentsOf(v).map((a) => ({ AttachTime: a.AttachTime, Device: a.Device, InstanceId: a.InstanceId, State: a.State, VolumeId: v.VolumeId, DeleteOnTermination: a.DeleteOnTermination }));
}
