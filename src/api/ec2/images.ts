/**
 * Images (AMIs): Overcast's built-in public images and DescribeImages.
 *
 * The built-in catalogue is registered in every region the first time the region
 * is used (initRegion). Only images Overcast can build itself from distribution
 * packages are listed (Debian and Ubuntu), each named for what it is. Their disk
 * bytes arrive with a later issue; this is the catalogue the API shows.
 */
import type { BlockDeviceMapping, DescribeImagesRequest, DescribeImagesResult, Image } from '@aws-sdk/client-ec2';
import { createHash } from 'node:crypto';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { isWellFormedId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, invalidParameterCombination } from '../../domain/errors.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { tagsByResource } from './tags.js';

export const IMAGE_COLLECTION = 'image';

/**
 * The account that owns the built-in images. Not a real AWS account and never the
 * caller's (unless someone configures Overcast with this account id).
 */
export const OVERCAST_IMAGE_OWNER_ID = '000000000000';

/**
 * collection 'image', keyed by ImageId — owned by images.ts (CreateImage/RegisterImage
 * will add to it). The DescribeImages output shape without Tags, plus:
 * - `launchPermissionAccountIds`: accounts a private image is explicitly shared with;
 * - `builtIn`: true for Overcast's catalogue images (not deregisterable by users);
 * - `osImage`: which built-in OS image the disk comes from (for the compute side).
 */
export type ImageRecord = Omit<Image, 'Tags'> & {
  ImageId: string;
  Name: string;
  OwnerId: string;
  State: NonNullable<Image['State']>;
  Architecture: NonNullable<Image['Architecture']>;
  Public: boolean;
  RootDeviceName: string;
  CreationDate: string;
  launchPermissionAccountIds?: string[];
  builtIn?: boolean;
  osImage?: BuiltInOs;
};

/** One built-in OS image, independent of region. */
export interface BuiltInOs {
  distribution: 'debian' | 'ubuntu';
  /** '12', '22.04', '24.04' */
  version: string;
  codename: string;
  /** Debian architecture name */
  debArch: 'amd64' | 'arm64';
}

/** Build date of the current catalogue (part of each image name, as distributions date their AMIs). */
export const CATALOGUE_BUILD = '20261101';
const CATALOGUE_CREATION_DATE = '2026-11-01T00:00:00.000Z';
/** AWS deprecates public AMIs two years after creation by default; ours follow that. */
const CATALOGUE_DEPRECATION_TIME = '2028-11-01T00:00:00.000Z';

const OS_CATALOGUE: readonly BuiltInOs[] = [
  { distribution: 'debian', version: '12', codename: 'bookworm', debArch: 'amd64' },
  { distribution: 'debian', version: '12', codename: 'bookworm', debArch: 'arm64' },
  { distribution: 'ubuntu', version: '22.04', codename: 'jammy', debArch: 'amd64' },
  { distribution: 'ubuntu', version: '22.04', codename: 'jammy', debArch: 'arm64' },
  { distribution: 'ubuntu', version: '24.04', codename: 'noble', debArch: 'amd64' },
  { distribution: 'ubuntu', version: '24.04', codename: 'noble', debArch: 'arm64' },
];

/** `<prefix>-` + 17 hex digits derived from the inputs: the same everywhere, every time. */
function stableId(prefix: string, ...parts: string[]): string {
  return `${prefix}-${createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 17)}`;
}

/** The AMI id of a built-in image name in a region (stable across restarts and installs). */
export function builtInImageId(region: string, name: string): string {
  return stableId('ami', region, name);
}

function imageName(os: BuiltInOs): string {
  return `overcast/${os.distribution}-${os.version}-${os.debArch}-${CATALOGUE_BUILD}`;
}

function description(os: BuiltInOs): string {
  const distro = os.distribution === 'debian' ? 'Debian' : 'Ubuntu';
  const release = os.distribution === 'ubuntu' ? `${os.version} LTS` : os.version;
  return `${distro} ${release} (${os.codename}) ${os.debArch}, built by Overcast from ${distro} packages on ${CATALOGUE_BUILD}`;
}

/** The built-in images of one region, as stored. */
export function builtInImages(region: string): ImageRecord[] {
  return OS_CATALOGUE.map((os) => {
    const name = imageName(os);
    const arm = os.debArch === 'arm64';
    const mapping: BlockDeviceMapping = {
      DeviceName: '/dev/xvda',
      Ebs: {
        DeleteOnTermination: true,
        SnapshotId: stableId('snap', region, name),
        VolumeSize: 8,
        VolumeType: 'gp3',
        Encrypted: false,
        Iops: 3000,
        Throughput: 125,
      },
    };
    const record: ImageRecord = {
      ImageId: builtInImageId(region, name),
      // Public AMIs of an aliased owner show the alias as the location's first part.
      ImageLocation: `amazon/${name}`,
      State: 'available',
      OwnerId: OVERCAST_IMAGE_OWNER_ID,
      // The alias 'amazon' makes `--owners amazon` (the usual way scripts look for
      // public base images, e.g. Ubuntu/Debian lookups) find Overcast's images.
      ImageOwnerAlias: 'amazon',
      Public: true,
      Architecture: arm ? 'arm64' : 'x86_64',
      ImageType: 'machine',
      // EC2 sets Platform only for Windows; Linux images have PlatformDetails only.
      PlatformDetails: 'Linux/UNIX',
      UsageOperation: 'RunInstances',
      RootDeviceType: 'ebs',
      RootDeviceName: '/dev/xvda',
      BlockDeviceMappings: [mapping],
      VirtualizationType: 'hvm',
      Hypervisor: 'xen',
      EnaSupport: true,
      SriovNetSupport: 'simple',
      Name: name,
      Description: description(os),
      CreationDate: CATALOGUE_CREATION_DATE,
      DeprecationTime: CATALOGUE_DEPRECATION_TIME,
      // Graviton boots UEFI only; the x86 images boot either way.
      BootMode: arm ? 'uefi' : 'uefi-preferred',
      // Instances launched from these default to IMDSv2 (HttpTokens required), as with current AWS-built AMIs.
      ImdsSupport: 'v2.0',
      builtIn: true,
      osImage: os,
    };
    return record;
  });
}

function registerBuiltInImages(ctx: RequestContext): void {
  const col = ctx.store.collection<ImageRecord>(IMAGE_COLLECTION);
  for (const image of builtInImages(ctx.region)) col.put(ctx.region, image.ImageId, image);
}

// ---------------------------------------------------------------------------
// Lookups

const malformed = (id: string): Ec2Error =>
  new Ec2Error('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);

function notFound(ids: readonly string[]): Ec2Error {
  return ids.length === 1
    ? new Ec2Error('InvalidAMIID.NotFound', `The image id '[${ids[0]}]' does not exist`)
    : new Ec2Error('InvalidAMIID.NotFound', `The image ids '[${ids.join(', ')}]' do not exist`);
}

/** Whether the caller may see (and launch) the image: public, owned, or shared with them. */
function visibleTo(image: ImageRecord, accountId: string): boolean {
  return image.Public || image.OwnerId === accountId || (image.launchPermissionAccountIds ?? []).includes(accountId);
}

/** Loads an image the caller can launch; EC2's Malformed / NotFound errors otherwise. For RunInstances. */
export function requireImage(ctx: RequestContext, imageId: string): ImageRecord {
  if (!isWellFormedId('ami', imageId)) throw malformed(imageId);
  const image = ctx.store.collection<ImageRecord>(IMAGE_COLLECTION).get(ctx.region, imageId);
  if (!image || !visibleTo(image, ctx.accountId)) throw notFound([imageId]);
  return image;
}

// ---------------------------------------------------------------------------
// DescribeImages

const OWNER_ALIASES = new Set(['amazon', 'aws-marketplace', 'aws-backup-vault']);
const ACCOUNT_ID = /^\d{12}$/;

function invalidUser(v: string): Ec2Error {
  return new Ec2Error('InvalidUserID.Malformed', `Invalid user id: "${v}"`);
}

function ownerTest(ctx: RequestContext, owners: readonly string[]): (i: ImageRecord) => boolean {
  for (const o of owners) if (o !== 'self' && !OWNER_ALIASES.has(o) && !ACCOUNT_ID.test(o)) throw invalidUser(o);
  return (i) =>
    owners.some((o) =>
      o === 'self' ? i.OwnerId === ctx.accountId : OWNER_ALIASES.has(o) ? i.ImageOwnerAlias === o : i.OwnerId === o,
    );
}

function executableByTest(ctx: RequestContext, users: readonly string[]): (i: ImageRecord) => boolean {
  for (const u of users) if (u !== 'self' && u !== 'all' && !ACCOUNT_ID.test(u)) throw invalidUser(u);
  return (i) =>
    users.some((u) => {
      if (u === 'all') return i.Public;
      const account = u === 'self' ? ctx.accountId : u;
      return (i.launchPermissionAccountIds ?? []).includes(account);
    });
}

const IMAGE_FILTERS = filterTable<ImageRecord>('DescribeImages', {
  architecture: 'Architecture',
  'block-device-mapping.delete-on-termination': 'BlockDeviceMappings.Ebs.DeleteOnTermination',
  'block-device-mapping.device-name': 'BlockDeviceMappings.DeviceName',
  'block-device-mapping.encrypted': 'BlockDeviceMappings.Ebs.Encrypted',
  'block-device-mapping.snapshot-id': 'BlockDeviceMappings.Ebs.SnapshotId',
  'block-device-mapping.volume-size': 'BlockDeviceMappings.Ebs.VolumeSize',
  'block-device-mapping.volume-type': 'BlockDeviceMappings.Ebs.VolumeType',
  'boot-mode': 'BootMode',
  'creation-date': 'CreationDate',
  'deprecation-time': 'DeprecationTime',
  description: 'Description',
  'ena-support': 'EnaSupport',
  'free-tier-eligible': (i) => i.FreeTierEligible ?? false,
  hypervisor: 'Hypervisor',
  'image-id': 'ImageId',
  'image-type': 'ImageType',
  'imds-support': 'ImdsSupport',
  'is-public': 'Public',
  'kernel-id': 'KernelId',
  'manifest-location': 'ImageLocation',
  name: 'Name',
  'owner-alias': 'ImageOwnerAlias',
  'owner-id': 'OwnerId',
  platform: 'Platform',
  'platform-details': 'PlatformDetails',
  'product-code': 'ProductCodes.ProductCodeId',
  'product-code.type': 'ProductCodes.ProductCodeType',
  'ramdisk-id': 'RamdiskId',
  'root-device-name': 'RootDeviceName',
  'root-device-type': 'RootDeviceType',
  'source-image-id': 'SourceImageId',
  'source-image-region': 'SourceImageRegion',
  'source-instance-id': 'SourceInstanceId',
  'sriov-net-support': 'SriovNetSupport',
  state: 'State',
  'state-reason-code': 'StateReason.Code',
  'state-reason-message': 'StateReason.Message',
  'tpm-support': 'TpmSupport',
  'usage-operation': 'UsageOperation',
  'virtualization-type': 'VirtualizationType',
});

const describeImages = action((ctx, input: DescribeImagesRequest): DescribeImagesResult => {
  const ids = input.ImageIds ?? [];
  if (ids.length > 0 && input.MaxResults !== undefined) {
    throw invalidParameterCombination('The parameter imageIdsSet cannot be used with the parameter maxResults');
  }
  for (const id of ids) if (!isWellFormedId('ami', id)) throw malformed(id);

  let images = ctx.store
    .collection<ImageRecord>(IMAGE_COLLECTION)
    .list(ctx.region)
    .filter((i) => visibleTo(i, ctx.accountId));

  if (ids.length > 0) {
    const missing = [...new Set(ids)].filter((id) => !images.some((i) => i.ImageId === id));
    if (missing.length > 0) throw notFound(missing);
    images = images.filter((i) => ids.includes(i.ImageId));
  }
  if (input.Owners && input.Owners.length > 0) images = images.filter(ownerTest(ctx, input.Owners));
  if (input.ExecutableUsers && input.ExecutableUsers.length > 0) {
    images = images.filter(executableByTest(ctx, input.ExecutableUsers));
  }
  // Deprecated images show only when asked for, by id, or to their owner.
  if (input.IncludeDeprecated !== true && ids.length === 0) {
    const now = ctx.now.getTime();
    images = images.filter(
      (i) => i.OwnerId === ctx.accountId || i.DeprecationTime === undefined || Date.parse(i.DeprecationTime) > now,
    );
  }
  if (input.IncludeDisabled !== true) images = images.filter((i) => i.State !== 'disabled');

  const tags = tagsByResource(ctx, 'image');
  images = applyFilters(
    images,
    input.Filters,
    IMAGE_FILTERS,
    (i) => tags.get(i.ImageId),
  );

  const page = paginate(images, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { Images: page.items.map((i) => toImage(i, tags.get(i.ImageId))), NextToken: page.nextToken };
});

function toImage(record: ImageRecord, tags: Image['Tags']): Image {
  const { launchPermissionAccountIds: _l, builtIn: _b, osImage: _o, ...image } = record;
  return { ...image, Tags: tags && tags.length > 0 ? tags : undefined };
}

export const imagesModule: ApiModule = {
  actions: { DescribeImages: describeImages },
  initRegion: registerBuiltInImages,
  initOrder: 20,
};
