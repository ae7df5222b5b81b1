/**
 * EBS volumes: the records, and the rules the API and the reconcilers share —
 * attaching (with the instance's block device mappings kept in step), detaching,
 * what terminate does to an instance's volumes, and the volumes RunInstances
 * makes for an instance.
 *
 * An attachment goes attaching → attached (the reconciler hands the device to
 * the running machine; a stopped instance gets it at its next start) and
 * detaching → gone (the volume is then available). The instance record's
 * BlockDeviceMappings mirror the volumes attached to it, root first.
 */
import type { InstanceBlockDeviceMapping } from '@aws-sdk/client-ec2';
import { newId } from '../../domain/ids.js';
import { ec2Time } from '../../domain/time.js';
import type { ResourceContext } from '../context.js';
import { ATTACHED_INDEX, KINDS } from './kinds.js';
import type { StoredInstance, VolumeOrigin, VolumeRecord } from './records.js';
import { volumeEncryption } from './account-settings.js';
import { isVolumeType, volumeLimits, type VolumeShape } from '../../domain/volume-types.js';

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
    MultiAttachEnabled: false,
    FastRestored: false,
    origin: v.origin,
    ownerId: ctx.accountId,
    autoEnableIO: false,
  };
  if (v.iops !== undefined) rec.Iops = v.iops;
  if (v.throughput !== undefined) rec.Throughput = v.throughput;
  if (encryption.kmsKeyId !== undefined) rec.KmsKeyId = encryption.kmsKeyId;
  if (v.attachedTo) {
    rec.attachment = {
      InstanceId: v.attachedTo.instanceId,
      Device: v.attachedTo.device,
      State: 'attached',
      AttachTime: now,
      DeleteOnTermination: v.attachedTo.deleteOnTermination,
    };
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

/** The I/O limits the volume's device gets (its type's IOPS and throughput, see effectiveShape). */
export function deviceLimitsOf(v: VolumeRecord): { iops: number; writeIops: number; bytesPerSecond: number } {
  return volumeLimits(effectiveShape(v));
}

/** The volumes attached (or attaching, detaching) to an instance, from the store's index. */
export function volumesOfInstance(ctx: Pick<ResourceContext, 'store' | 'region'>, instanceId: string): VolumeRecord[] {
  return volumeCollection(ctx).find(ctx.region, ATTACHED_INDEX, instanceId);
}

/** The instance's BlockDeviceMappings as its volumes say: root first, then in attach order. */
export function mappingsOf(volumes: readonly VolumeRecord[], rootDevice: string | undefined): InstanceBlockDeviceMapping[] {
  const sorted = [...volumes].filter((v) => v.attachment).sort((a, b) => {
    const ra = a.attachment!.Device === rootDevice ? 0 : 1;
    const rb = b.attachment!.Device === rootDevice ? 0 : 1;
    return ra - rb || a.attachment!.AttachTime.localeCompare(b.attachment!.AttachTime) || a.attachment!.Device.localeCompare(b.attachment!.Device);
  });
  return sorted.map((v) => ({
    DeviceName: v.attachment!.Device,
    Ebs: {
      AttachTime: v.attachment!.AttachTime as unknown as Date,
      DeleteOnTermination: v.attachment!.DeleteOnTermination,
      Status: v.attachment!.State,
      VolumeId: v.VolumeId,
    },
  }));
}

/** Rewrites the instance's BlockDeviceMappings from its volumes (after any attachment change). */
export function syncMappings(ctx: ResourceContext, instanceId: string): void {
  const col = ctx.store.collection(KINDS.instance);
  const inst = col.get(ctx.region, instanceId);
  if (!inst || inst.State.Name === 'terminated') return;
  inst.BlockDeviceMappings = mappingsOf(volumesOfInstance(ctx, instanceId), inst.RootDeviceName);
  col.put(ctx.region, instanceId, inst);
}

/** AttachVolume's record change (the caller checked the rules): attaching, in-use. */
export function beginAttach(ctx: ResourceContext, vol: VolumeRecord, instanceId: string, device: string): VolumeRecord {
  vol.State = 'in-use';
  vol.attachment = { InstanceId: instanceId, Device: device, State: 'attaching', AttachTime: ec2Time(ctx.now), DeleteOnTermination: false };
  volumeCollection(ctx).put(ctx.region, vol.VolumeId, vol);
  syncMappings(ctx, instanceId);
  ctx.notify(KINDS.volume.name, vol.VolumeId);
  ctx.notify(KINDS.instance.name, instanceId);
  return vol;
}

/** DetachVolume's record change: detaching (the reconciler takes the device away, then detaches). */
export function beginDetach(ctx: ResourceContext, vol: VolumeRecord, force: boolean): VolumeRecord {
  const a = vol.attachment!;
  a.State = 'detaching';
  if (force) a.force = true;
  volumeCollection(ctx).put(ctx.region, vol.VolumeId, vol);
  syncMappings(ctx, a.InstanceId);
  ctx.notify(KINDS.volume.name, vol.VolumeId);
  ctx.notify(KINDS.instance.name, a.InstanceId);
  return vol;
}

/** The reconciler handed the device over: attached. */
export function finishAttach(ctx: ResourceContext, vol: VolumeRecord): void {
  if (vol.attachment?.State !== 'attaching') return;
  vol.attachment.State = 'attached';
  volumeCollection(ctx).put(ctx.region, vol.VolumeId, vol);
  syncMappings(ctx, vol.attachment.InstanceId);
}

/** The reconciler took the device away: the volume is available again. */
export function finishDetach(ctx: ResourceContext, vol: VolumeRecord): void {
  const instanceId = vol.attachment?.InstanceId;
  delete vol.attachment;
  vol.State = 'available';
  volumeCollection(ctx).put(ctx.region, vol.VolumeId, vol);
  if (instanceId) syncMappings(ctx, instanceId);
}

/** Terminate: DeleteOnTermination volumes go (the reconciler deleted their bytes), the others become available. */
export function releaseVolumesOnTerminate(ctx: ResourceContext, rec: StoredInstance): void {
  const col = volumeCollection(ctx);
  for (const v of volumesOfInstance(ctx, rec.InstanceId)) {
    if (v.attachment!.DeleteOnTermination) {
      col.delete(ctx.region, v.VolumeId);
      ctx.store.tags.removeAll(ctx.region, v.VolumeId);
    } else {
      delete v.attachment;
      v.State = 'available';
      col.put(ctx.region, v.VolumeId, v);
    }
  }
}

/** The volume shown to DescribeVolumes / CreateVolume callers: Attachments as EC2 lists them. */
export function volumeAttachments(v: VolumeRecord): { AttachTime: string; Device: string; InstanceId: string; State: string; VolumeId: string; DeleteOnTermination: boolean }[] {
  if (!v.attachment) return [];
  const a = v.attachment;
  return [{ AttachTime: a.AttachTime, Device: a.Device, InstanceId: a.InstanceId, State: a.State, VolumeId: v.VolumeId, DeleteOnTermination: a.DeleteOnTermination }];
}
