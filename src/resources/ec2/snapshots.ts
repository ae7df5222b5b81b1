/**
 * EBS snapshots: the records, who may use one, and what refers to one (the
 * images whose block device mappings name it). The bytes are the volume
 * reconciler's: a pending snapshot is taken (or copied) by it, a deleted one
 * freed by it.
 */
import { newId } from '../../domain/ids.js';
import type { ResourceContext } from '../context.js';
import { KINDS } from './kinds.js';
import type { ImageRecord, SnapshotRecord, VolumeRecord } from './records.js';

export const snapshotCollection = (ctx: { store: ResourceContext['store'] }) => ctx.store.collection(KINDS.snapshot);

/** Whether the account may see the snapshot and create volumes from it: its own, public, or shared with it. */
export function snapshotUsableBy(s: SnapshotRecord, accountId: string): boolean {
  return s.OwnerId === accountId || s.createVolumePermission.public || s.createVolumePermission.accounts.includes(accountId);
}

/** A pending snapshot of a volume (CreateSnapshot, CreateSnapshots, CreateImage). */
export function newSnapshot(ctx: ResourceContext, vol: VolumeRecord, description: string): SnapshotRecord {
  const rec: SnapshotRecord = {
    SnapshotId: newId('snap'),
    VolumeId: vol.VolumeId,
    VolumeSize: vol.Size,
    State: 'pending',
    StartTime: new Date(ctx.now.getTime()).toISOString(),
    Progress: '0%',
    OwnerId: ctx.accountId,
    Description: description,
    Encrypted: vol.Encrypted,
    StorageTier: 'standard',
    source: { kind: 'volume', volumeId: vol.VolumeId },
    createVolumePermission: { public: false, accounts: [] },
  };
  snapshotCollection(ctx).put(ctx.region, rec.SnapshotId, rec);
  ctx.notify(KINDS.snapshot.name, rec.SnapshotId);
  return rec;
}

/** A pending copy of a completed snapshot, maybe of another region (CopySnapshot, CopyImage). */
export function newSnapshotCopy(ctx: ResourceContext, source: SnapshotRecord, sourceRegion: string, description: string, encrypted: boolean): SnapshotRecord {
  const rec: SnapshotRecord = {
    SnapshotId: newId('snap'),
    // EC2 shows copies with an arbitrary volume id
    VolumeId: 'vol-ffffffff',
    VolumeSize: source.VolumeSize,
    State: 'pending',
    StartTime: new Date(ctx.now.getTime()).toISOString(),
    Progress: '0%',
    OwnerId: ctx.accountId,
    Description: description,
    Encrypted: encrypted,
    StorageTier: 'standard',
    source: { kind: 'copy', region: sourceRegion, snapshotId: source.SnapshotId },
    createVolumePermission: { public: false, accounts: [] },
  };
  snapshotCollection(ctx).put(ctx.region, rec.SnapshotId, rec);
  ctx.notify(KINDS.snapshot.name, rec.SnapshotId);
  return rec;
}

/** The registered images of the region whose mappings name the snapshot. */
export function imagesUsing(ctx: Pick<ResourceContext, 'store' | 'region'>, snapshotId: string): ImageRecord[] {
  return ctx.store
    .collection(KINDS.image)
    .list(ctx.region)
    .filter((i) => !i.builtIn && i.State !== 'deregistered' && (i.BlockDeviceMappings ?? []).some((m) => m.Ebs?.SnapshotId === snapshotId));
}
