/**
 * Making and sharing AMIs: CreateImage (snapshots of an instance's volumes),
 * RegisterImage (from snapshots), CopyImage (its snapshots copied, maybe
 * across regions), DeregisterImage, Describe/Modify/ResetImageAttribute.
 *
 * An image answers pending and becomes available once every snapshot it maps
 * has completed (the volume reconciler watches them). Launching it creates
 * its volumes from those snapshots; launch permission (public, accounts) is
 * what RunInstances checks for other accounts.
 */
import type {
  BlockDeviceMapping,
  CopyImageRequest,
  CopyImageResult,
  CreateImageRequest,
  CreateImageResult,
  DeregisterImageRequest,
  DescribeImageAttributeRequest,
  ImageAttribute,
  ModifyImageAttributeRequest,
  RegisterImageRequest,
  RegisterImageResult,
  ResetImageAttributeRequest,
} from '@aws-sdk/client-ec2';
import { newId } from '../../domain/ids.js';
import { findRegion } from '../../domain/regions.js';
import { Ec2Error, invalidParameterValue, missingParameter } from '../../domain/errors.js';
import { checkText } from '../../domain/text.js';
import { checkDeviceName, checkVolumeShape, checkVolumeType } from '../../domain/volume-types.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { tagSpecificationTags } from './tags.js';
import { deregister, malformed, notFound, visibleTo } from '../../resources/ec2/images.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { ImageRecord, SnapshotRecord } from '../../resources/ec2/records.js';
import { requireResource, requireWellFormed } from '../../resources/ec2/registry.js';
import { newSnapshot, newSnapshotCopy, snapshotUsableBy } from '../../resources/ec2/snapshots.js';
import { putTags } from '../../resources/ec2/tags.js';
import { attachedToInstance } from '../../resources/ec2/volumes.js';
import { isWellFormedId } from '../../domain/ids.js';
import { manifestMappings, readBundle } from '../../resources/ec2/image-bundles.js';
import { awaitPoints } from '../../resources/ec2/snapshot-points.js';

const ACCOUNT_ID = /^\d{12}$/;
/** AMI names: 3–128 characters of letters, digits and ()[] ./-'@_ */
const IMAGE_NAME = /^[A-Za-z0-9()[\] ./\-'@_]{3,128}$/;

function checkName(ctx: RequestContext, name: string | undefined): string {
  if (name === undefined || name === '') throw missingParameter('Name');
  if (!IMAGE_NAME.test(name)) {
    throw invalidParameterValue(`AMI names must be between 3 and 128 characters long, and may contain letters, numbers, '(', ')', '.', '-', '/', '_', '[', ']', ' ', '@' and "'"`);
  }
  const taken = ctx.store
    .collection(KINDS.image)
    .list(ctx.region)
    .some((i) => i.OwnerId === ctx.accountId && i.Name === name && i.State !== 'deregistered');
  if (taken) throw new Ec2Error('InvalidAMIName.Duplicate', `AMI name ${name} is already in use by an AMI owned by this account`);
  return name;
}

/** An image the caller owns (changing or deregistering it). */
function requireOwnImage(ctx: RequestContext, id: string | undefined): ImageRecord {
  if (id === undefined || id === '') throw missingParameter('ImageId');
  if (!isWellFormedId('ami', id)) throw malformed(id);
  const image = ctx.store.collection(KINDS.image).get(ctx.region, id);
  if (!image || !visibleTo(image, ctx.accountId)) throw notFound([id]);
  if (image.OwnerId !== ctx.accountId || image.builtIn) throw new Ec2Error('AuthFailure', `Not authorized for image:${id}`);
  return image;
}

function baseImage(ctx: RequestContext, fields: Partial<ImageRecord> & Pick<ImageRecord, 'Name' | 'Architecture' | 'RootDeviceName'>): ImageRecord {
  const imageId = newId('ami');
  return {
    ImageId: imageId,
    ImageLocation: `${ctx.accountId}/${fields.Name}`,
    State: 'pending',
    OwnerId: ctx.accountId,
    Public: false,
    ImageType: 'machine',
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    RootDeviceType: 'ebs',
    VirtualizationType: 'hvm',
    Hypervisor: 'xen',
    EnaSupport: true,
    SriovNetSupport: 'simple',
    CreationDate: new Date(ctx.now.getTime()).toISOString(),
    BootMode: 'uefi-preferred',
    ...fields,
  };
}

// ---------------------------------------------------------------- CreateImage

const createImage = action((ctx, input: CreateImageRequest): CreateImageResult => {
  if (input.InstanceId === undefined || input.InstanceId === '') throw missingParameter('InstanceId');
  const inst = requireResource(ctx, KINDS.instance, input.InstanceId);
  if (inst.RootDeviceType === 'instance-store') {
    throw new Ec2Error('UnsupportedOperation', `The instance '${inst.InstanceId}' does not have an 'ebs' root device type: an image of an instance store-backed instance is made by bundling it, not by CreateImage.`);
  }
  if (inst.State.Name !== 'running' && inst.State.Name !== 'stopped') {
    throw new Ec2Error('IncorrectInstanceState', `The instance '${inst.InstanceId}' is not in a valid state for this operation.`);
  }
  const name = checkName(ctx, input.Name);
  const specs = tagSpecificationTags(input.TagSpecifications, [KINDS.image.name, KINDS.snapshot.name]);
  const volumes = attachedToInstance(ctx, inst.InstanceId).filter(({ attachment }) => attachment.State === 'attached');
  const noDevice = new Set((input.BlockDeviceMappings ?? []).filter((m) => m.NoDevice !== undefined).map((m) => m.DeviceName));
  const imageId = newId('ami');
  const mappings: BlockDeviceMapping[] = [];
  const snapshots: SnapshotRecord[] = [];
  for (const { volume: v, attachment } of volumes) {
    const dev = attachment.Device;
    if (noDevice.has(dev)) continue;
    const snap = newSnapshot(ctx, v, `Created by CreateImage(${inst.InstanceId}) for ${imageId} from ${v.VolumeId}`);
    snapshots.push(snap);
    putTags(ctx, snap.SnapshotId, KINDS.snapshot.name, specs.get(KINDS.snapshot.name) ?? []);
    mappings.push({
      DeviceName: dev,
      Ebs: {
        DeleteOnTermination: attachment.DeleteOnTermination,
        SnapshotId: snap.SnapshotId,
        VolumeSize: v.Size,
        VolumeType: v.VolumeType as NonNullable<BlockDeviceMapping['Ebs']>['VolumeType'],
        Encrypted: v.Encrypted,
        ...(v.Iops !== undefined && v.VolumeType !== 'gp2' ? { Iops: v.Iops } : {}),
        ...(v.Throughput !== undefined ? { Throughput: v.Throughput } : {}),
      },
    });
  }
  if (!mappings.some((m) => m.DeviceName === inst.RootDeviceName)) {
    throw new Ec2Error('InvalidBlockDeviceMapping', `The instance '${inst.InstanceId}' has no attached root volume to image.`);
  }
  const source = ctx.store.collection(KINDS.image).get(ctx.region, inst.ImageId);
  const image = baseImage(ctx, {
    ImageId: imageId,
    Name: name,
    Description: input.Description === undefined ? undefined : checkText('Description', input.Description),
    Architecture: (inst.Architecture ?? 'x86_64') as ImageRecord['Architecture'],
    RootDeviceName: inst.RootDeviceName ?? '/dev/xvda',
    BlockDeviceMappings: mappings,
    SourceInstanceId: inst.InstanceId,
    ImdsSupport: source?.ImdsSupport,
    BootMode: source?.BootMode ?? 'uefi-preferred',
  });
  // a running instance's volumes at one point in time: frozen (NoReboot), or while it is down for the
  // reboot EC2 makes first (its guest shut down cleanly, the snapshots taken, then started again)
  if (inst.State.Name === 'running') awaitPoints(ctx, inst, snapshots, input.NoReboot !== true);
  ctx.store.collection(KINDS.image).put(ctx.region, image.ImageId, image);
  putTags(ctx, image.ImageId, KINDS.image.name, specs.get(KINDS.image.name) ?? []);
  ctx.notify(KINDS.image.name, image.ImageId);
  return { ImageId: image.ImageId };
});

// ---------------------------------------------------------------- RegisterImage

const registerImage = action((ctx, input: RegisterImageRequest): RegisterImageResult => {
  const name = checkName(ctx, input.Name);
  if (input.ImageLocation !== undefined) return registerBundle(ctx, input, name);
  const root = input.RootDeviceName;
  if (root === undefined || root === '') throw missingParameter('RootDeviceName');
  const mappings: BlockDeviceMapping[] = [];
  for (const m of input.BlockDeviceMappings ?? []) {
    const dev = checkDeviceName(m.DeviceName);
    if (m.NoDevice !== undefined || m.VirtualName !== undefined) {
      mappings.push({ ...m, DeviceName: dev });
      continue;
    }
    if (!m.Ebs) throw new Ec2Error('InvalidBlockDeviceMapping', `The block device mapping for ${dev} must specify Ebs, VirtualName or NoDevice.`);
    let snap: SnapshotRecord | undefined;
    if (m.Ebs.SnapshotId) {
      requireWellFormed(KINDS.snapshot, m.Ebs.SnapshotId);
      snap = ctx.store.collection(KINDS.snapshot).get(ctx.region, m.Ebs.SnapshotId);
      if (!snap || snap.deleting || !snapshotUsableBy(snap, ctx.accountId)) throw KINDS.snapshot.notFound(m.Ebs.SnapshotId);
    }
    const type = checkVolumeType(m.Ebs.VolumeType, 'gp2');
    const size = m.Ebs.VolumeSize ?? snap?.VolumeSize;
    if (size === undefined) throw missingParameter('size or snapshotId');
    if (snap && size < snap.VolumeSize) throw invalidParameterValue(`Volume of ${size}GiB is smaller than snapshot '${snap.SnapshotId}', expect size >= ${snap.VolumeSize}GiB`);
    const shape = checkVolumeShape({ type, sizeGiB: size, iops: m.Ebs.Iops, throughput: m.Ebs.Throughput });
    mappings.push({
      DeviceName: dev,
      Ebs: {
        DeleteOnTermination: m.Ebs.DeleteOnTermination ?? true,
        ...(snap ? { SnapshotId: snap.SnapshotId } : {}),
        VolumeSize: shape.sizeGiB,
        VolumeType: type,
        Encrypted: m.Ebs.Encrypted ?? snap?.Encrypted ?? false,
        ...(shape.iops !== undefined && type !== 'gp2' ? { Iops: shape.iops } : {}),
        ...(shape.throughput !== undefined ? { Throughput: shape.throughput } : {}),
      },
    });
  }
  const rootMapping = mappings.find((m) => m.DeviceName === root);
  if (!rootMapping?.Ebs?.SnapshotId) {
    throw new Ec2Error('InvalidBlockDeviceMapping', `The root device ${root} must be mapped to an EBS snapshot.`);
  }
  const arch = input.Architecture ?? 'x86_64';
  if (arch !== 'x86_64' && arch !== 'arm64' && arch !== 'i386') throw invalidParameterValue(`Value (${arch}) for parameter architecture is invalid.`);
  const image = baseImage(ctx, {
    Name: name,
    Description: input.Description === undefined ? undefined : checkText('Description', input.Description),
    Architecture: arch as ImageRecord['Architecture'],
    RootDeviceName: root,
    BlockDeviceMappings: mappings,
    EnaSupport: input.EnaSupport ?? true,
    BootMode: input.BootMode ?? 'uefi-preferred',
    ...(input.ImdsSupport ? { ImdsSupport: input.ImdsSupport } : {}),
  });
  ctx.store.collection(KINDS.image).put(ctx.region, image.ImageId, image);
  putTags(ctx, image.ImageId, KINDS.image.name, tagSpecificationTags(input.TagSpecifications, [KINDS.image.name]).get(KINDS.image.name) ?? []);
  ctx.notify(KINDS.image.name, image.ImageId);
  return { ImageId: image.ImageId };
});

/**
 * RegisterImage with ImageLocation: an instance-store-backed AMI from a bundle of the image
 * store (resources/ec2/image-bundles.ts); available at once, its mappings the instance store.
 */
function registerBundle(ctx: RequestContext, input: RegisterImageRequest, name: string): RegisterImageResult {
  const location = checkText('ImageLocation', input.ImageLocation ?? '');
  const { manifest, partFile } = readBundle(ctx, location);
  const root = input.RootDeviceName ?? manifest.rootDevice;
  checkDeviceName(root);
  const arch = input.Architecture ?? manifest.architecture;
  if (arch !== manifest.architecture) throw invalidParameterValue(`Value (${arch}) for parameter architecture is invalid. The bundle ${location} is ${manifest.architecture}.`);
  const given = input.BlockDeviceMappings;
  const mappings: BlockDeviceMapping[] = [];
  for (const m of given ?? manifestMappings(manifest)) {
    const dev = checkDeviceName(m.DeviceName);
    if (m.Ebs !== undefined) throw new Ec2Error('InvalidBlockDeviceMapping', 'EBS block device mappings not supported for instance-store AMIs.');
    if (dev === root) throw new Ec2Error('InvalidBlockDeviceMapping', `The device ${dev} is the root device of the bundle and cannot be mapped.`);
    if (m.NoDevice !== undefined) continue;
    if (m.VirtualName === undefined || !/^ephemeral([0-9]|1[0-9]|2[0-3])$/.test(m.VirtualName)) {
      throw new Ec2Error('InvalidBlockDeviceMapping', `Virtual device name ${m.VirtualName ?? ''} is invalid: instance store mappings are ephemeral0 to ephemeral23.`);
    }
    if (mappings.some((x) => x.DeviceName === dev || x.VirtualName === m.VirtualName)) throw new Ec2Error('InvalidBlockDeviceMapping', `The device ${dev} or ${m.VirtualName} is mapped twice.`);
    mappings.push({ DeviceName: dev, VirtualName: m.VirtualName });
  }
  const image = baseImage(ctx, {
    Name: name,
    ImageLocation: location,
    Description: input.Description === undefined ? undefined : checkText('Description', input.Description),
    Architecture: arch,
    RootDeviceName: root,
    RootDeviceType: 'instance-store',
    BlockDeviceMappings: mappings,
    State: 'available',
    EnaSupport: input.EnaSupport ?? true,
    BootMode: input.BootMode ?? 'uefi-preferred',
    ...(input.ImdsSupport ? { ImdsSupport: input.ImdsSupport } : {}),
    importedFile: partFile,
    importedBytes: manifest.size,
  });
  ctx.store.collection(KINDS.image).put(ctx.region, image.ImageId, image);
  putTags(ctx, image.ImageId, KINDS.image.name, tagSpecificationTags(input.TagSpecifications, [KINDS.image.name]).get(KINDS.image.name) ?? []);
  return { ImageId: image.ImageId };
}

// ---------------------------------------------------------------- CopyImage

const copyImage = action((ctx, input: CopyImageRequest): CopyImageResult => {
  if (input.SourceRegion === undefined || input.SourceRegion === '') throw missingParameter('SourceRegion');
  if (!findRegion(input.SourceRegion)) throw invalidParameterValue(`Value (${input.SourceRegion}) for parameter sourceRegion is invalid.`);
  if (input.SourceImageId === undefined || input.SourceImageId === '') throw missingParameter('SourceImageId');
  if (!isWellFormedId('ami', input.SourceImageId)) throw malformed(input.SourceImageId);
  const source = ctx.store.collection(KINDS.image).get(input.SourceRegion, input.SourceImageId);
  if (!source || !visibleTo(source, ctx.accountId)) throw notFound([input.SourceImageId]);
  if (source.builtIn) throw new Ec2Error('UnsupportedOperation', `${source.ImageId} is one of Overcast's built-in images; every region has it already.`);
  if (source.State !== 'available') throw new Ec2Error('IncorrectState', `Image '${source.ImageId}' is not 'available'.`);
  const name = checkName(ctx, input.Name);
  const snaps = ctx.store.collection(KINDS.snapshot);
  const mappings: BlockDeviceMapping[] = (source.BlockDeviceMappings ?? []).map((m) => {
    const id = m.Ebs?.SnapshotId;
    if (!id) return { ...m };
    const src = snaps.get(input.SourceRegion!, id);
    if (!src || src.State !== 'completed') throw new Ec2Error('IncorrectState', `Snapshot '${id}' of image '${source.ImageId}' is not 'completed'.`);
    const copy = newSnapshotCopy(ctx, src, input.SourceRegion!, `Copied for DestinationAmi from SourceAmi ${source.ImageId} SourceSnapshot ${id}.`, input.Encrypted ?? src.Encrypted);
    return { ...m, Ebs: { ...m.Ebs, SnapshotId: copy.SnapshotId } };
  });
  const image = baseImage(ctx, {
    ...Object.fromEntries(Object.entries(source).filter(([k]) => /^[A-Z]/.test(k))),
    Name: name,
    Description: input.Description ?? source.Description,
    Architecture: source.Architecture,
    RootDeviceName: source.RootDeviceName,
    BlockDeviceMappings: mappings,
    SourceImageId: source.ImageId,
    SourceImageRegion: input.SourceRegion,
  });
  image.ImageId = newId('ami');
  image.OwnerId = ctx.accountId;
  image.Public = false;
  image.State = 'pending';
  image.ImageLocation = `${ctx.accountId}/${name}`;
  if (source.RootDeviceType === 'instance-store') {
    // the bundle stays where it is (bundles are never changed): the copy boots from the same disk
    image.ImageLocation = source.ImageLocation ?? image.ImageLocation;
    image.importedFile = source.importedFile;
    image.importedBytes = source.importedBytes;
    image.State = 'available';
  }
  image.CreationDate = new Date(ctx.now.getTime()).toISOString();
  delete image.ImageOwnerAlias;
  ctx.store.collection(KINDS.image).put(ctx.region, image.ImageId, image);
  putTags(ctx, image.ImageId, KINDS.image.name, tagSpecificationTags(input.TagSpecifications, [KINDS.image.name]).get(KINDS.image.name) ?? []);
  ctx.notify(KINDS.image.name, image.ImageId);
  return { ImageId: image.ImageId };
});

// ---------------------------------------------------------------- DeregisterImage

const deregisterImage = action((ctx, input: DeregisterImageRequest): object => {
  const image = requireOwnImage(ctx, input.ImageId);
  deregister(ctx, image);
  if (input.DeleteAssociatedSnapshots === true) {
    const snaps = ctx.store.collection(KINDS.snapshot);
    for (const m of image.BlockDeviceMappings ?? []) {
      const s = m.Ebs?.SnapshotId ? snaps.get(ctx.region, m.Ebs.SnapshotId) : undefined;
      if (!s || s.OwnerId !== ctx.accountId) continue;
      snaps.put(ctx.region, s.SnapshotId, { ...s, deleting: true });
      ctx.notify(KINDS.snapshot.name, s.SnapshotId);
    }
  }
  return {};
});

// ---------------------------------------------------------------- image attributes

const ATTRIBUTES = ['description', 'kernel', 'ramdisk', 'launchPermission', 'productCodes', 'blockDeviceMapping', 'sriovNetSupport', 'bootMode', 'imdsSupport', 'lastLaunchedTime', 'deregistrationProtection'];

const describeImageAttribute = action((ctx, input: DescribeImageAttributeRequest): ImageAttribute => {
  if (input.Attribute === undefined) throw missingParameter('Attribute');
  if (!ATTRIBUTES.includes(input.Attribute)) throw invalidParameterValue(`Value (${input.Attribute}) for parameter attribute is invalid. Unknown attribute.`);
  if (input.ImageId === undefined) throw missingParameter('ImageId');
  if (!isWellFormedId('ami', input.ImageId)) throw malformed(input.ImageId);
  const image = ctx.store.collection(KINDS.image).get(ctx.region, input.ImageId);
  if (!image || !visibleTo(image, ctx.accountId)) throw notFound([input.ImageId]);
  const out: ImageAttribute = { ImageId: image.ImageId };
  switch (input.Attribute) {
    case 'description':
      out.Description = image.Description === undefined ? {} : { Value: image.Description };
      break;
    case 'launchPermission':
      if (image.OwnerId !== ctx.accountId) throw new Ec2Error('AuthFailure', `Not authorized for image:${image.ImageId}`);
      out.LaunchPermissions = [...(image.Public ? [{ Group: 'all' as const }] : []), ...(image.launchPermissionAccountIds ?? []).map((UserId) => ({ UserId }))];
      break;
    case 'productCodes':
      out.ProductCodes = [];
      break;
    case 'blockDeviceMapping':
      out.BlockDeviceMappings = image.BlockDeviceMappings ?? [];
      break;
    case 'sriovNetSupport':
      out.SriovNetSupport = image.SriovNetSupport === undefined ? {} : { Value: image.SriovNetSupport };
      break;
    case 'bootMode':
      out.BootMode = image.BootMode === undefined ? {} : { Value: image.BootMode };
      break;
    case 'imdsSupport':
      out.ImdsSupport = image.ImdsSupport === undefined ? {} : { Value: image.ImdsSupport };
      break;
    case 'deregistrationProtection':
      out.DeregistrationProtection = { Value: 'disabled' };
      break;
    default:
      out.KernelId = {};
      break;
  }
  return out;
});

const modifyImageAttribute = action((ctx, input: ModifyImageAttributeRequest): object => {
  const image = requireOwnImage(ctx, input.ImageId);
  const col = ctx.store.collection(KINDS.image);
  if (input.Description?.Value !== undefined || (input.Attribute === 'description' && input.Value !== undefined)) {
    col.put(ctx.region, image.ImageId, { ...image, Description: checkText('Description', input.Description?.Value ?? input.Value ?? '') });
    return {};
  }
  const add = [...(input.LaunchPermission?.Add ?? [])];
  const remove = [...(input.LaunchPermission?.Remove ?? [])];
  const target = input.OperationType === 'remove' ? remove : add;
  for (const u of input.UserIds ?? []) target.push({ UserId: u });
  for (const g of input.UserGroups ?? []) target.push({ Group: g as 'all' });
  if (add.length === 0 && remove.length === 0) {
    if (input.Attribute !== undefined && input.Attribute !== 'launchPermission' && input.Attribute !== 'description') {
      throw invalidParameterValue(`Value (${input.Attribute}) for parameter attribute is invalid. Only description and launchPermission can be modified.`);
    }
    throw missingParameter('LaunchPermission');
  }
  let isPublic = image.Public;
  let accounts = [...(image.launchPermissionAccountIds ?? [])];
  for (const [op, p] of [...add.map((x) => ['add', x] as const), ...remove.map((x) => ['remove', x] as const)]) {
    if (p.Group !== undefined) {
      if (p.Group !== 'all') throw invalidParameterValue(`Value (${p.Group}) for parameter group is invalid. Only 'all' is accepted.`);
      isPublic = op === 'add';
    } else if (p.UserId !== undefined) {
      if (!ACCOUNT_ID.test(p.UserId)) throw new Ec2Error('InvalidUserID.Malformed', `Invalid user id: "${p.UserId}"`);
      if (op === 'add' && !accounts.includes(p.UserId)) accounts.push(p.UserId);
      if (op === 'remove') accounts = accounts.filter((a) => a !== p.UserId);
    } else if (p.OrganizationArn !== undefined || p.OrganizationalUnitArn !== undefined) {
      throw new Ec2Error('UnsupportedOperation', 'Sharing with organizations is not supported by Overcast.');
    }
  }
  col.put(ctx.region, image.ImageId, { ...image, Public: isPublic, launchPermissionAccountIds: accounts });
  return {};
});

const resetImageAttribute = action((ctx, input: ResetImageAttributeRequest): object => {
  const image = requireOwnImage(ctx, input.ImageId);
  if (input.Attribute !== 'launchPermission') throw invalidParameterValue(`Value (${input.Attribute}) for parameter attribute is invalid. Only launchPermission can be reset.`);
  ctx.store.collection(KINDS.image).put(ctx.region, image.ImageId, { ...image, Public: false, launchPermissionAccountIds: [] });
  return {};
});

export const imageRegistrationModule: ApiModule = {
  actions: {
    CreateImage: createImage,
    RegisterImage: registerImage,
    CopyImage: copyImage,
    DeregisterImage: deregisterImage,
    DescribeImageAttribute: describeImageAttribute,
    ModifyImageAttribute: modifyImageAttribute,
    ResetImageAttribute: resetImageAttribute,
  },
};
