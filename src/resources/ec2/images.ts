/**
 * Images (AMIs): Overcast's built-in public images, and finding an image a caller may use.
 *
 * The built-in catalogue is registered in every region the first time the region
 * is used (initRegion). Only images Overcast can build itself from distribution
 * packages are listed (Debian and Ubuntu, and Overcast's own tiny image), each
 * named for what it is; `build` names the builder that makes the disk here.
 */
import type { BlockDeviceMapping } from '@aws-sdk/client-ec2';
import { createHash } from 'node:crypto';
import type { ResourceContext } from '../context.js';
import { Ec2Error } from '../../domain/errors.js';
import { isWellFormedId } from '../../domain/ids.js';
import { KINDS } from './kinds.js';
import type { BuiltInOs, ImageRecord } from './records.js';

/**
 * The account that owns the built-in images. Not a real AWS account and never the
 * caller's (unless someone configures Overcast with this account id).
 */
export const OVERCAST_IMAGE_OWNER_ID = '000000000000';

/** Build date of the current catalogue (part of each image name, as distributions date their AMIs). */
const CATALOGUE_BUILD = '20261101';

const CATALOGUE_CREATION_DATE = '2026-11-01T00:00:00.000Z';

/** AWS deprecates public AMIs two years after creation by default; ours follow that. */
const CATALOGUE_DEPRECATION_TIME = '2028-11-01T00:00:00.000Z';

/**
 * The distribution images, with the builder (storage/images) that makes each on this
 * host. Ubuntu needs its own mirror and arm64 another architecture: listed, not built yet.
 */
const OS_CATALOGUE: readonly { os: BuiltInOs; build?: string }[] = [
  { os: { distribution: 'debian', version: '12', codename: 'bookworm', debArch: 'amd64' }, build: 'debian-12' },
  { os: { distribution: 'debian', version: '12', codename: 'bookworm', debArch: 'arm64' } },
  { os: { distribution: 'ubuntu', version: '22.04', codename: 'jammy', debArch: 'amd64' } },
  { os: { distribution: 'ubuntu', version: '22.04', codename: 'jammy', debArch: 'arm64' } },
  { os: { distribution: 'ubuntu', version: '24.04', codename: 'noble', debArch: 'amd64' } },
  { os: { distribution: 'ubuntu', version: '24.04', codename: 'noble', debArch: 'arm64' } },
];

/** One entry of the catalogue, whatever it is made of. */
interface CatalogueEntry {
  name: string;
  description: string;
  arch: 'x86_64' | 'arm64';
  build?: string;
  osImage?: BuiltInOs;
}

/** Overcast's own small image: busybox and dropbear, built from the host's packages in seconds. */
const TINY: CatalogueEntry = {
  name: `overcast/tiny-x86_64-${CATALOGUE_BUILD}`,
  description: `Overcast tiny x86_64: busybox init and shell, dropbear SSH, the key pair's key and user data scripts from the metadata service; built by Overcast on ${CATALOGUE_BUILD}`,
  arch: 'x86_64',
  build: 'tiny',
};

function catalogue(): CatalogueEntry[] {
  return [
    ...OS_CATALOGUE.map(({ os, build }) => ({
      name: imageName(os),
      description: description(os),
      arch: os.debArch === 'arm64' ? ('arm64' as const) : ('x86_64' as const),
      ...(build ? { build } : {}),
      osImage: os,
    })),
    TINY,
  ];
}

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

export function description(os: BuiltInOs): string {
  const distro = os.distribution === 'debian' ? 'Debian' : 'Ubuntu';
  const release = os.distribution === 'ubuntu' ? `${os.version} LTS` : os.version;
  return `${distro} ${release} (${os.codename}) ${os.debArch}, built by Overcast from ${distro} packages on ${CATALOGUE_BUILD}`;
}

/** The built-in images of one region, as stored. */
export function builtInImages(region: string): ImageRecord[] {
  return catalogue().map((entry) => {
    const name = entry.name;
    const arm = entry.arch === 'arm64';
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
      Architecture: entry.arch,
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
      Description: entry.description,
      CreationDate: CATALOGUE_CREATION_DATE,
      DeprecationTime: CATALOGUE_DEPRECATION_TIME,
      // Graviton boots UEFI only; the x86 images boot either way.
      BootMode: arm ? 'uefi' : 'uefi-preferred',
      // Instances launched from these default to IMDSv2 (HttpTokens required), as with current AWS-built AMIs.
      ImdsSupport: 'v2.0',
      builtIn: true,
      ...(entry.osImage ? { osImage: entry.osImage } : {}),
      ...(entry.build ? { build: entry.build } : {}),
    };
    return record;
  });
}

export function registerBuiltInImages(ctx: ResourceContext): void {
  const col = ctx.store.collection(KINDS.image);
  for (const image of builtInImages(ctx.region)) col.put(ctx.region, image.ImageId, image);
}

export const malformed = (id: string): Ec2Error =>
  new Ec2Error('InvalidAMIID.Malformed', `Invalid id: "${id}" (expecting "ami-...")`);

export function notFound(ids: readonly string[]): Ec2Error {
  return ids.length === 1
    ? new Ec2Error('InvalidAMIID.NotFound', `The image id '[${ids[0]}]' does not exist`)
    : new Ec2Error('InvalidAMIID.NotFound', `The image ids '[${ids.join(', ')}]' do not exist`);
}

/** Whether the caller may see (and launch) the image: public, owned, or shared with them; never once deregistered. */
export function visibleTo(image: ImageRecord, accountId: string): boolean {
  if (image.State === 'deregistered') return false;
  return image.Public || image.OwnerId === accountId || (image.launchPermissionAccountIds ?? []).includes(accountId);
}

/**
 * How long a deregistered image's id still answers DescribeImages with an empty
 * result instead of InvalidAMIID.NotFound. EC2: "Recently deregistered images
 * appear in the returned results for a short interval and then return empty
 * results. [...] specifying the ID of the image will eventually return an error";
 * clients rely on the empty result (Ansible's ec2_amis look the image up again
 * right after DeregisterImage).
 */
export const DEREGISTERED_VISIBLE_MS = 3600_000;

/** Whether `image` is an image the caller deregistered less than DEREGISTERED_VISIBLE_MS ago. */
export function recentlyDeregistered(image: ImageRecord | undefined, accountId: string, now: Date): boolean {
  if (!image || image.State !== 'deregistered' || image.OwnerId !== accountId) return false;
  const at = image.deregisteredAt === undefined ? Number.NaN : Date.parse(image.deregisteredAt);
  return !(now.getTime() - at >= DEREGISTERED_VISIBLE_MS);
}

/**
 * Deregisters an image: its record stays, hidden from everything but that lookup
 * by id, until DEREGISTERED_VISIBLE_MS has passed; the region's records deregistered
 * longer ago are purged.
 */
export function deregister(ctx: ResourceContext, image: ImageRecord): void {
  const col = ctx.store.collection(KINDS.image);
  for (const old of col.list(ctx.region)) {
    if (old.State === 'deregistered' && !recentlyDeregistered(old, old.OwnerId, ctx.now)) col.delete(ctx.region, old.ImageId);
  }
  const { rebootInstanceId: _r, ...kept } = image;
  col.put(ctx.region, image.ImageId, { ...kept, State: 'deregistered', deregisteredAt: ctx.now.toISOString() });
  ctx.store.tags.removeAll(ctx.region, image.ImageId);
}

/** Loads an image the caller can launch; EC2's Malformed / NotFound errors otherwise. For RunInstances. */
export function requireImage(ctx: ResourceContext, imageId: string): ImageRecord {
  if (!isWellFormedId('ami', imageId)) throw malformed(imageId);
  const image = ctx.store.collection(KINDS.image).get(ctx.region, imageId);
  if (!image || !visibleTo(image, ctx.accountId)) throw notFound([imageId]);
  if (image.State !== 'available') throw new Ec2Error('InvalidAMIID.Unavailable', `The image id '[${imageId}]' is not available: it is ${image.State}`);
  return image;
}

/** An image `overcast image import` made from a user's disk: private to the account, available at once. */
export function registerImportedImage(
  ctx: ResourceContext,
  opts: { name: string; file: string; bytes: number; architecture: 'x86_64' | 'arm64'; description?: string },
): ImageRecord {
  const col = ctx.store.collection(KINDS.image);
  const taken = col.list(ctx.region).find((i) => i.OwnerId === ctx.accountId && i.Name === opts.name);
  if (taken) throw new Ec2Error('InvalidAMIName.Duplicate', `AMI name ${opts.name} is already in use by an AMI owned by this account (${taken.ImageId})`);
  const id = stableId('ami', ctx.region, ctx.accountId, opts.name, opts.file);
  const record: ImageRecord = {
    ImageId: id,
    ImageLocation: `${ctx.accountId}/${opts.name}`,
    State: 'available',
    OwnerId: ctx.accountId,
    Public: false,
    Architecture: opts.architecture,
    ImageType: 'machine',
    PlatformDetails: 'Linux/UNIX',
    UsageOperation: 'RunInstances',
    RootDeviceType: 'ebs',
    RootDeviceName: '/dev/xvda',
    BlockDeviceMappings: [
      { DeviceName: '/dev/xvda', Ebs: { DeleteOnTermination: true, VolumeSize: Math.max(1, Math.ceil(opts.bytes / 1024 ** 3)), VolumeType: 'gp3', Encrypted: false } },
    ],
    VirtualizationType: 'hvm',
    Hypervisor: 'xen',
    EnaSupport: true,
    SriovNetSupport: 'simple',
    Name: opts.name,
    Description: opts.description ?? `Imported by overcast image import from ${opts.file}`,
    CreationDate: new Date(ctx.now.getTime()).toISOString(),
    BootMode: 'uefi-preferred',
    importedFile: opts.file,
  };
  col.put(ctx.region, id, record);
  return record;
}
