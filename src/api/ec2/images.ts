/** Images (AMIs): DescribeImages over the region's images (the catalogue is resources/ec2/images.ts). */
import type { DescribeImagesRequest, DescribeImagesResult, Image } from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { isWellFormedId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, invalidParameterCombination } from '../../domain/errors.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { ImageRecord } from '../../resources/ec2/records.js';
import { tagsByResource } from '../../resources/ec2/tags.js';
import { malformed, notFound, recentlyDeregistered, registerBuiltInImages, visibleTo } from '../../resources/ec2/images.js';

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

  const all = ctx.store.collection(KINDS.image).list(ctx.region);
  let images = all.filter((i) => visibleTo(i, ctx.accountId));

  if (ids.length > 0) {
    // an image the caller deregistered a moment ago answers with nothing rather than an error
    const gone = new Set(all.filter((i) => recentlyDeregistered(i, ctx.accountId, ctx.now)).map((i) => i.ImageId));
    const missing = [...new Set(ids)].filter((id) => !gone.has(id) && !images.some((i) => i.ImageId === id));
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
  const { launchPermissionAccountIds: _l, builtIn: _b, osImage: _o, build: _d, rebootInstanceId: _r, importedFile: _f, importedBytes: _n, deregisteredAt: _g, ...image } = record;
  return { ...image, Tags: tags && tags.length > 0 ? tags : undefined };
}

export const imagesModule: ApiModule = {
  actions: { DescribeImages: describeImages },
  initRegion: registerBuiltInImages,
  initOrder: 20,
};
