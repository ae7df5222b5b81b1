/**
 * EBS snapshots: CreateSnapshot, CreateSnapshots, DescribeSnapshots,
 * DeleteSnapshot, CopySnapshot, Describe/Modify/ResetSnapshotAttribute.
 *
 * A snapshot answers pending; the volume reconciler reads the volume's blocks
 * into the block store (only those changed since its last snapshot) and
 * completes it with its progress on the way. A snapshot an image uses cannot
 * be deleted until the image is deregistered.
 */
import type {
  CopySnapshotRequest,
  CopySnapshotResult,
  CreateSnapshotRequest,
  CreateSnapshotsRequest,
  CreateSnapshotsResult,
  DeleteSnapshotRequest,
  DescribeSnapshotAttributeRequest,
  DescribeSnapshotAttributeResult,
  DescribeSnapshotsRequest,
  DescribeSnapshotsResult,
  ModifySnapshotAttributeRequest,
  ResetSnapshotAttributeRequest,
  Snapshot,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { findRegion } from '../../domain/regions.js';
import { Ec2Error, invalidParameterValue, missingParameter } from '../../domain/errors.js';
import { checkText } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { SnapshotRecord } from '../../resources/ec2/records.js';
import { requireResource, requireWellFormed } from '../../resources/ec2/registry.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { imagesUsing, newSnapshot, newSnapshotCopy, snapshotCollection, snapshotUsableBy } from '../../resources/ec2/snapshots.js';
import { attachmentTo, volumesOfInstance } from '../../resources/ec2/volumes.js';
import { awaitPoints } from '../../resources/ec2/snapshot-points.js';

const ACCOUNT_ID = /^\d{12}$/;

export function snapshotOutput(s: SnapshotRecord, tags: Tag[] | undefined): Snapshot {
  const out: Snapshot = {
    SnapshotId: s.SnapshotId,
    VolumeId: s.VolumeId,
    VolumeSize: s.VolumeSize,
    State: s.State,
    StartTime: s.StartTime as unknown as Date,
    Progress: s.Progress,
    OwnerId: s.OwnerId,
    Description: s.Description,
    Encrypted: s.Encrypted,
    StorageTier: s.StorageTier,
    Tags: tagsField(tags),
  };
  if (s.StateMessage !== undefined) out.StateMessage = s.StateMessage;
  if (s.CompletionTime !== undefined) out.CompletionTime = s.CompletionTime as unknown as Date;
  if (s.FullSnapshotSizeInBytes !== undefined) out.FullSnapshotSizeInBytes = s.FullSnapshotSizeInBytes;
  return out;
}

/** A snapshot the caller may see (own, public or shared); deleted ones are gone. */
function requireSnapshot(ctx: RequestContext, id: string | undefined, param = 'SnapshotId'): SnapshotRecord {
  if (id === undefined || id === '') throw missingParameter(param);
  const s = requireResource(ctx, KINDS.snapshot, id);
  if (s.deleting || !snapshotUsableBy(s, ctx.accountId)) throw KINDS.snapshot.notFound(id);
  return s;
}

/** One the caller owns (changing or deleting it). */
function requireOwnSnapshot(ctx: RequestContext, id: string | undefined): SnapshotRecord {
  const s = requireSnapshot(ctx, id);
  if (s.OwnerId !== ctx.accountId) throw new Ec2Error('UnauthorizedOperation', `You are not authorized to perform this operation on snapshot ${s.SnapshotId}.`);
  return s;
}

function description(d: string | undefined): string {
  return d === undefined ? '' : checkText('Description', d);
}

// ---------------------------------------------------------------- CreateSnapshot(s)

const createSnapshot = action((ctx, input: CreateSnapshotRequest): Snapshot => {
  if (input.VolumeId === undefined || input.VolumeId === '') throw missingParameter('VolumeId');
  const vol = requireResource(ctx, KINDS.volume, input.VolumeId);
  if (vol.State === 'deleting') throw KINDS.volume.notFound(vol.VolumeId);
  if (vol.State === 'creating' || vol.State === 'error') throw new Ec2Error('IncorrectState', `Volume '${vol.VolumeId}' is in the '${vol.State}' state.`);
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.snapshot.name]).get(KINDS.snapshot.name) ?? [];
  const snap = newSnapshot(ctx, vol, description(input.Description));
  putTags(ctx, snap.SnapshotId, KINDS.snapshot.name, tags);
  return snapshotOutput(snap, tags);
});

/** Every EBS volume of an instance, at one point in time (crash-consistent). */
const createSnapshots = action((ctx, input: CreateSnapshotsRequest): CreateSnapshotsResult => {
  const instanceId = input.InstanceSpecification?.InstanceId;
  if (instanceId === undefined || instanceId === '') throw missingParameter('InstanceSpecification.InstanceId');
  const inst = requireResource(ctx, KINDS.instance, instanceId);
  if (inst.State.Name === 'terminated' || inst.State.Name === 'shutting-down') {
    throw new Ec2Error('IncorrectInstanceState', `The instance '${instanceId}' is not in a valid state for this operation.`);
  }
  const excluded = new Set(input.InstanceSpecification?.ExcludeDataVolumeIds ?? []);
  const volumes = volumesOfInstance(ctx, instanceId).filter((v) => {
    const root = attachmentTo(v, instanceId)?.Device === inst.RootDeviceName;
    if (root) return input.InstanceSpecification?.ExcludeBootVolume !== true;
    return !excluded.has(v.VolumeId);
  });
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.snapshot.name]).get(KINDS.snapshot.name) ?? [];
  const out = volumes.map((v) => {
    const snap = newSnapshot(ctx, v, description(input.Description));
    putTags(ctx, snap.SnapshotId, KINDS.snapshot.name, input.CopyTagsFromSource === 'volume' ? [...ctx.store.tags.forResource(ctx.region, v.VolumeId), ...tags] : tags);
    return snap;
  });
  // one point in time for all of them: the instance's reconciler takes it with the machine frozen
  awaitPoints(ctx, inst, out, false);
  return {
    // CreateSnapshots answers the SnapshotInfo shape: a pending snapshot without its tier
    Snapshots: out.map((s) => {
      const { StorageTier: _tier, ...info } = snapshotOutput(s, ctx.store.tags.forResource(ctx.region, s.SnapshotId));
      return info;
    }),
  };
});

// ---------------------------------------------------------------- DescribeSnapshots

const SNAPSHOT_FILTERS = filterTable<SnapshotRecord>('DescribeSnapshots', {
  description: 'Description',
  encrypted: 'Encrypted',
  'owner-alias': () => undefined,
  'owner-id': 'OwnerId',
  progress: 'Progress',
  'snapshot-id': 'SnapshotId',
  'start-time': 'StartTime',
  status: 'State',
  'storage-tier': 'StorageTier',
  'volume-id': 'VolumeId',
  'volume-size': 'VolumeSize',
});

const describeSnapshots = action((ctx, input: DescribeSnapshotsRequest): DescribeSnapshotsResult => {
  const owners = input.OwnerIds ?? [];
  for (const o of owners) {
    if (o !== 'self' && o !== 'amazon' && o !== 'aws-marketplace' && o !== 'aws-backup-vault' && !ACCOUNT_ID.test(o)) {
      throw new Ec2Error('InvalidUserID.Malformed', `Invalid user id: "${o}"`);
    }
  }
  const restorable = input.RestorableByUserIds ?? [];
  for (const u of restorable) if (u !== 'self' && u !== 'all' && !ACCOUNT_ID.test(u)) throw new Ec2Error('InvalidUserID.Malformed', `Invalid user id: "${u}"`);
  const ids = input.SnapshotIds ?? [];
  for (const id of ids) requireWellFormed(KINDS.snapshot, id);
  let records = snapshotCollection(ctx)
    .list(ctx.region)
    .filter((s) => !s.deleting && snapshotUsableBy(s, ctx.accountId));
  if (ids.length > 0) {
    const wanted = new Set(ids);
    const found = records.filter((s) => wanted.has(s.SnapshotId));
    const missing = [...wanted].filter((id) => !found.some((s) => s.SnapshotId === id));
    if (missing.length > 0) throw KINDS.snapshot.notFound(missing.join(', '));
    records = found;
  }
  if (owners.length > 0) records = records.filter((s) => owners.some((o) => (o === 'self' ? s.OwnerId === ctx.accountId : s.OwnerId === o)));
  if (restorable.length > 0) {
    records = records.filter((s) =>
      restorable.some((u) => (u === 'all' ? s.createVolumePermission.public : s.createVolumePermission.accounts.includes(u === 'self' ? ctx.accountId : u) || (u === 'self' && s.OwnerId === ctx.accountId))),
    );
  }
  if (ids.length > 0 && input.MaxResults !== undefined) {
    throw new Ec2Error('InvalidParameterCombination', 'The parameter snapshotSet cannot be used with the parameter maxResults');
  }
  const tags = tagsByResource(ctx, KINDS.snapshot.name);
  const filtered = applyFilters(records, input.Filters, SNAPSHOT_FILTERS, (s) => tags.get(s.SnapshotId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000, clamp: true });
  return { Snapshots: page.items.map((s) => snapshotOutput(s, tags.get(s.SnapshotId))), NextToken: page.nextToken };
});

// ---------------------------------------------------------------- DeleteSnapshot

const deleteSnapshot = action((ctx, input: DeleteSnapshotRequest): object => {
  const s = requireOwnSnapshot(ctx, input.SnapshotId);
  const users = imagesUsing(ctx, s.SnapshotId);
  if (users.length > 0) {
    throw new Ec2Error('InvalidSnapshot.InUse', `The snapshot ${s.SnapshotId} is currently in use by ${users[0]!.ImageId}`);
  }
  s.deleting = true;
  snapshotCollection(ctx).put(ctx.region, s.SnapshotId, s);
  ctx.notify(KINDS.snapshot.name, s.SnapshotId);
  return {};
});

// ---------------------------------------------------------------- CopySnapshot

const copySnapshot = action((ctx, input: CopySnapshotRequest): CopySnapshotResult => {
  if (input.SourceRegion === undefined || input.SourceRegion === '') throw missingParameter('SourceRegion');
  if (!findRegion(input.SourceRegion)) throw invalidParameterValue(`Value (${input.SourceRegion}) for parameter sourceRegion is invalid.`);
  if (input.SourceSnapshotId === undefined || input.SourceSnapshotId === '') throw missingParameter('SourceSnapshotId');
  requireWellFormed(KINDS.snapshot, input.SourceSnapshotId);
  const source = ctx.store.collection(KINDS.snapshot).get(input.SourceRegion, input.SourceSnapshotId);
  if (!source || source.deleting || !snapshotUsableBy(source, ctx.accountId)) throw KINDS.snapshot.notFound(input.SourceSnapshotId);
  if (source.State !== 'completed') throw new Ec2Error('IncorrectState', `Snapshot '${source.SnapshotId}' is not 'completed'.`);
  if (source.Encrypted && input.Encrypted === false) {
    throw new Ec2Error('InvalidParameterCombination', 'Encrypted snapshots cannot be copied to unencrypted snapshots.');
  }
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.snapshot.name]).get(KINDS.snapshot.name) ?? [];
  const desc = input.Description ?? `[Copied ${source.SnapshotId} from ${input.SourceRegion}]`;
  const copy = newSnapshotCopy(ctx, source, input.SourceRegion, description(desc), input.Encrypted ?? source.Encrypted);
  putTags(ctx, copy.SnapshotId, KINDS.snapshot.name, tags);
  return { SnapshotId: copy.SnapshotId, Tags: tagsField(tags) };
});

// ---------------------------------------------------------------- snapshot attributes

function checkAttribute(a: string | undefined): 'createVolumePermission' | 'productCodes' {
  if (a === undefined) throw missingParameter('Attribute');
  if (a !== 'createVolumePermission' && a !== 'productCodes') {
    throw invalidParameterValue(`Value (${a}) for parameter attribute is invalid. Valid values: productCodes, createVolumePermission`);
  }
  return a;
}

const describeSnapshotAttribute = action((ctx, input: DescribeSnapshotAttributeRequest): DescribeSnapshotAttributeResult => {
  const s = requireOwnSnapshot(ctx, input.SnapshotId);
  if (checkAttribute(input.Attribute) === 'productCodes') return { SnapshotId: s.SnapshotId, ProductCodes: [] };
  const perms = [
    ...(s.createVolumePermission.public ? [{ Group: 'all' as const }] : []),
    ...s.createVolumePermission.accounts.map((UserId) => ({ UserId })),
  ];
  return { SnapshotId: s.SnapshotId, CreateVolumePermissions: perms };
});

const modifySnapshotAttribute = action((ctx, input: ModifySnapshotAttributeRequest): object => {
  const s = requireOwnSnapshot(ctx, input.SnapshotId);
  if (input.Attribute !== undefined && input.Attribute !== 'createVolumePermission') {
    throw invalidParameterValue(`Value (${input.Attribute}) for parameter attribute is invalid. Only createVolumePermission can be modified.`);
  }
  const add = [...(input.CreateVolumePermission?.Add ?? [])];
  const remove = [...(input.CreateVolumePermission?.Remove ?? [])];
  const kind = input.OperationType;
  for (const u of input.UserIds ?? []) (kind === 'remove' ? remove : add).push({ UserId: u });
  for (const g of input.GroupNames ?? []) (kind === 'remove' ? remove : add).push({ Group: g as 'all' });
  if (add.length === 0 && remove.length === 0) throw missingParameter('CreateVolumePermission');
  const perm = { public: s.createVolumePermission.public, accounts: [...s.createVolumePermission.accounts] };
  for (const p of [...add.map((x) => ['add', x] as const), ...remove.map((x) => ['remove', x] as const)]) {
    const [op, item] = p;
    if (item.Group !== undefined) {
      if (item.Group !== 'all') throw invalidParameterValue(`Value (${item.Group}) for parameter group is invalid. Only 'all' is accepted.`);
      if (s.Encrypted && op === 'add') throw new Ec2Error('InvalidParameter', 'Encrypted snapshots cannot be shared publicly.');
      perm.public = op === 'add';
    } else if (item.UserId !== undefined) {
      if (!ACCOUNT_ID.test(item.UserId)) throw new Ec2Error('InvalidUserID.Malformed', `Invalid user id: "${item.UserId}"`);
      if (op === 'add' && !perm.accounts.includes(item.UserId)) perm.accounts.push(item.UserId);
      if (op === 'remove') perm.accounts = perm.accounts.filter((a) => a !== item.UserId);
    }
  }
  s.createVolumePermission = perm;
  snapshotCollection(ctx).put(ctx.region, s.SnapshotId, s);
  return {};
});

const resetSnapshotAttribute = action((ctx, input: ResetSnapshotAttributeRequest): object => {
  const s = requireOwnSnapshot(ctx, input.SnapshotId);
  if (input.Attribute !== 'createVolumePermission') checkAttribute(input.Attribute);
  s.createVolumePermission = { public: false, accounts: [] };
  snapshotCollection(ctx).put(ctx.region, s.SnapshotId, s);
  return {};
});

export const snapshotsModule: ApiModule = {
  actions: {
    CreateSnapshot: createSnapshot,
    CreateSnapshots: createSnapshots,
    DescribeSnapshots: describeSnapshots,
    DeleteSnapshot: deleteSnapshot,
    CopySnapshot: copySnapshot,
    DescribeSnapshotAttribute: describeSnapshotAttribute,
    ModifySnapshotAttribute: modifySnapshotAttribute,
    ResetSnapshotAttribute: resetSnapshotAttribute,
  },
};
