/**
 * RunInstances: validates the whole request, then records MinCount..MaxCount
 * instances in `pending` with one primary interface each, and tells the
 * reconciler. Nothing is launched here; the reconciler does that.
 */
import type {
  BlockDeviceMapping,
  InstanceBlockDeviceMapping,
  InstanceMetadataOptionsResponse,
  InstanceTypeInfo,
  Reservation,
  RunInstancesRequest,
} from '@aws-sdk/client-ec2';
import { newId } from '../../domain/ids.js';
import { isOfferedIn, requireInstanceType } from '../../domain/instance-types.js';
import { instanceState } from '../../domain/lifecycle.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type RequestContext } from '../context.js';
import { eniCollection, instanceCollection, liveInstanceCount, type StoredInstance } from '../../resources/ec2/instances.js';
import { ec2Time, instanceOutput, isoTime, type InstanceLookups } from './instance-view.js';
import { allocatePublicIps } from '../../resources/ec2/public-ips.js';
import type { ImageRecord, NetworkInterfaceRecord, SubnetRecord, VolumeOrigin } from '../../resources/ec2/records.js';
import { mappingsOf, newVolume } from '../../resources/ec2/volumes.js';
import { checkVolumeShape, checkVolumeType, isDeviceName } from '../../domain/volume-types.js';
import { tagSpecificationTags } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { putTags } from '../../resources/ec2/tags.js';
import { findKeyPairByName } from '../../resources/ec2/key-pairs.js';
import { newInstanceInterface, resolveGroups } from '../../resources/ec2/network-interfaces.js';
import { allocatePrivateIps, subnetForLaunch } from '../../resources/ec2/subnets.js';
import { requireImage } from '../../resources/ec2/images.js';
import { checkText } from '../../domain/text.js';
import { ACCOUNT_LIMITS } from '../../domain/account-limits.js';
import { applyLaunchTemplate } from './launch-template-merge.js';
import { adoptInterface, extraInterfaces, launchChoice, resolveExtras } from './launch-network.js';
import { ipv6CountOnCreation } from './network-interface-lifecycle.js';
import { allocateIpv4s, allocateIpv6s } from '../../resources/ec2/interface-addresses.js';
import { accountSettings } from '../../resources/ec2/account-settings.js';
import { launchPlacement, requestedZone } from './launch-placement.js';
import { launchInstanceProfile } from './instance-profiles.js';
import { resolveImageId } from './image-parameters.js';

/**
 * EC2 documents m1.small as the default, a previous-generation type the
 * catalogue does not carry (and many regions never offered); t2.micro is what
 * AWS's own console and most tools pick, and it exists everywhere.
 */
export const DEFAULT_INSTANCE_TYPE = 't2.micro';

/** User data may be at most 16 KB before base64 encoding. */
export const MAX_USER_DATA_BYTES = 16 * 1024;

// ---------------------------------------------------------------- validation helpers

/** Decodes base64 user data and checks the size limit; InvalidParameterValue otherwise. */
export function checkUserData(data: string): string {
  const compact = data.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 === 1) {
    throw new Ec2Error('InvalidParameterValue', 'Invalid BASE64 encoding of user data.');
  }
  const bytes = Buffer.from(compact, 'base64').length;
  if (bytes > MAX_USER_DATA_BYTES) {
    throw new Ec2Error('InvalidParameterValue', `User data is limited to ${MAX_USER_DATA_BYTES} bytes; got ${bytes} bytes.`);
  }
  return compact;
}

/** The type's architecture must be the image's (x86_64 types cannot boot arm64 images). */
export function checkArchitecture(type: InstanceTypeInfo, architecture: string): void {
  const supported = type.ProcessorInfo?.SupportedArchitectures ?? [];
  if (!supported.includes(architecture as never)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `The architecture '${supported[0] ?? 'unknown'}' of the specified instance type does not match the architecture '${architecture}' of the specified AMI. Specify an instance type and an AMI that have matching architectures, and try again.`,
    );
  }
}

export function checkOffered(ctx: RequestContext, type: string, zone: string): void {
  if (!isOfferedIn(type, ctx.region, zone)) {
    throw new Ec2Error(
      'Unsupported',
      `Your requested instance type (${type}) is not supported in your requested Availability Zone (${zone}). Please retry your request by not specifying an Availability Zone or choosing another one.`,
    );
  }
}

function checkCount(name: 'MinCount' | 'MaxCount', v: number | undefined): number {
  if (v === undefined) throw missingParameter(name);
  if (!Number.isInteger(v) || v < 1) {
    throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter ${name.charAt(0).toLowerCase() + name.slice(1)} is invalid. Expected a positive integer.`);
  }
  return v;
}

/** An EBS volume of the launch, before its record exists. */
interface PlannedVolume {
  deviceName: string;
  sizeGiB: number;
  volumeType: string;
  iops?: number;
  throughput?: number;
  snapshotId?: string;
  encrypted: boolean;
  kmsKeyId?: string;
  deleteOnTermination: boolean;
}

/** Where a launch volume's bytes come from: a built-in image's disk, a snapshot, or nothing. */
function volumeOrigin(ctx: RequestContext, image: ImageRecord, v: PlannedVolume): VolumeOrigin {
  if (v.snapshotId && ctx.store.collection(KINDS.snapshot).get(ctx.region, v.snapshotId)) return { kind: 'snapshot', snapshotId: v.snapshotId };
  if (v.deviceName === image.RootDeviceName) return { kind: 'image', imageId: image.ImageId, deviceName: v.deviceName };
  return { kind: 'empty' };
}

/** The image's mappings with the request's overrides: EBS volumes to create (ids minted now). */
function planVolumes(image: ImageRecord, requested: readonly BlockDeviceMapping[] | undefined): PlannedVolume[] {
  const byDevice = new Map<string, BlockDeviceMapping>();
  for (const m of image.BlockDeviceMappings ?? []) if (m.DeviceName) byDevice.set(m.DeviceName, m);
  const rootSnapshotSize = new Map<string, number>();
  for (const m of image.BlockDeviceMappings ?? []) {
    if (m.DeviceName && m.Ebs?.VolumeSize !== undefined) rootSnapshotSize.set(m.DeviceName, m.Ebs.VolumeSize);
  }
  for (const m of requested ?? []) {
    const dev = m.DeviceName;
    if (!dev) throw missingParameter('BlockDeviceMapping.N.DeviceName');
    if (!isDeviceName(dev)) {
      throw new Ec2Error('InvalidBlockDeviceMapping', `Invalid device name ${dev}`);
    }
    if (m.NoDevice !== undefined) {
      if (dev === image.RootDeviceName) throw new Ec2Error('InvalidBlockDeviceMapping', `The device '${dev}' is the root device and cannot be removed.`);
      byDevice.delete(dev);
      continue;
    }
    if (m.VirtualName !== undefined) {
      // TODO(instance-store): ephemeral devices on storage-optimized types arrive with the instance-store issue.
      byDevice.set(dev, m);
      continue;
    }
    const base = byDevice.get(dev)?.Ebs;
    if (!m.Ebs) throw new Ec2Error('InvalidBlockDeviceMapping', `The block device mapping for ${dev} must specify Ebs, VirtualName or NoDevice.`);
    const merged = { ...(base ?? {}), ...Object.fromEntries(Object.entries(m.Ebs).filter(([, v]) => v !== undefined)) };
    if (!base && merged.VolumeSize === undefined && merged.SnapshotId === undefined) {
      throw missingParameter('size or snapshotId');
    }
    byDevice.set(dev, { DeviceName: dev, Ebs: merged });
  }
  const out: PlannedVolume[] = [];
  for (const [dev, m] of byDevice) {
    if (!m.Ebs) continue;
    const type = checkVolumeType(m.Ebs.VolumeType, 'gp2');
    const snapSize = rootSnapshotSize.get(dev);
    const size = m.Ebs.VolumeSize ?? snapSize ?? 8;
    if (snapSize !== undefined && size < snapSize) {
      throw new Ec2Error(
        'InvalidBlockDeviceMapping',
        `Volume of size ${size}GB is smaller than snapshot '${m.Ebs.SnapshotId ?? ''}', expect size >= ${snapSize}GB`,
      );
    }
    const shape = checkVolumeShape({ type, sizeGiB: size, iops: m.Ebs.Iops, throughput: m.Ebs.Throughput });
    out.push({
      deviceName: dev,
      sizeGiB: shape.sizeGiB,
      volumeType: type,
      iops: shape.iops,
      throughput: shape.throughput,
      snapshotId: m.Ebs.SnapshotId,
      encrypted: m.Ebs.Encrypted ?? false,
      kmsKeyId: m.Ebs.KmsKeyId,
      deleteOnTermination: m.Ebs.DeleteOnTermination ?? true,
    });
  }
  // root first, then by device name (as EC2 lists them)
  out.sort((a, b) => (a.deviceName === image.RootDeviceName ? -1 : b.deviceName === image.RootDeviceName ? 1 : a.deviceName.localeCompare(b.deviceName)));
  return out;
}

/** Precedence (lowest first): EC2's defaults, the account's metadata defaults, the image (IMDSv2 only), the request. */
function metadataOptions(ctx: RequestContext, image: ImageRecord, input: RunInstancesRequest['MetadataOptions']): InstanceMetadataOptionsResponse {
  const v2 = image.ImdsSupport === 'v2.0';
  const account = accountSettings(ctx).metadataDefaults;
  const out: InstanceMetadataOptionsResponse = {
    State: 'applied',
    HttpTokens: v2 ? 'required' : account.HttpTokens ?? 'optional',
    HttpPutResponseHopLimit: v2 ? 2 : account.HttpPutResponseHopLimit ?? 1,
    HttpEndpoint: account.HttpEndpoint ?? 'enabled',
    HttpProtocolIpv6: 'disabled',
    InstanceMetadataTags: account.InstanceMetadataTags ?? 'disabled',
  };
  return applyMetadataOptions(out, input ?? {});
}

/** Validates and applies metadata option changes (RunInstances, ModifyInstanceMetadataOptions). */
export function applyMetadataOptions(
  current: InstanceMetadataOptionsResponse,
  req: { HttpTokens?: string; HttpPutResponseHopLimit?: number; HttpEndpoint?: string; HttpProtocolIpv6?: string; InstanceMetadataTags?: string },
): InstanceMetadataOptionsResponse {
  const oneOf = (param: string, v: string | undefined, allowed: readonly string[]): void => {
    if (v !== undefined && !allowed.includes(v)) {
      throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter ${param} is invalid. Valid values: ${allowed.join(', ')}`);
    }
  };
  oneOf('HttpTokens', req.HttpTokens, ['optional', 'required']);
  oneOf('HttpEndpoint', req.HttpEndpoint, ['enabled', 'disabled']);
  oneOf('HttpProtocolIpv6', req.HttpProtocolIpv6, ['enabled', 'disabled']);
  oneOf('InstanceMetadataTags', req.InstanceMetadataTags, ['enabled', 'disabled']);
  const hop = req.HttpPutResponseHopLimit;
  if (hop !== undefined && (!Number.isInteger(hop) || hop < 1 || hop > 64)) {
    throw new Ec2Error('InvalidParameterValue', `Value (${hop}) for parameter HttpPutResponseHopLimit is invalid. Valid range: 1-64`);
  }
  return {
    ...current,
    HttpTokens: (req.HttpTokens as 'optional' | 'required' | undefined) ?? current.HttpTokens,
    HttpPutResponseHopLimit: hop ?? current.HttpPutResponseHopLimit,
    HttpEndpoint: (req.HttpEndpoint as 'enabled' | 'disabled' | undefined) ?? current.HttpEndpoint,
    HttpProtocolIpv6: (req.HttpProtocolIpv6 as 'enabled' | 'disabled' | undefined) ?? current.HttpProtocolIpv6,
    InstanceMetadataTags: (req.InstanceMetadataTags as 'enabled' | 'disabled' | undefined) ?? current.InstanceMetadataTags,
  };
}

/**
 * Public IPs for `want` instances, or as many as the pool has if that is at
 * least `minCount` (EC2 launches the largest number it can between MinCount and
 * MaxCount). When fewer than MinCount fit: InsufficientAddressCapacity, EC2's
 * "not enough available addresses to satisfy your minimum request".
 */
function publicIpsForLaunch(ctx: RequestContext, want: number, minCount: number): string[] {
  try {
    return allocatePublicIps(ctx, want, minCount);
  } catch (e) {
    if (!(e instanceof Ec2Error && e.code === 'AddressLimitExceeded')) throw e;
    throw new Ec2Error(
      'InsufficientAddressCapacity',
      `There are not enough free public IPv4 addresses to satisfy your minimum request of ${minCount} instances.`,
    );
  }
}

// ---------------------------------------------------------------- RunInstances

export const runInstances = action((ctx, request: RunInstancesRequest): Reservation => {
  const { input, instanceTags: launchTemplateTags } = applyLaunchTemplate(ctx, request);
  if (!input.ImageId) throw missingParameter('ImageId');
  const image = requireImage(ctx, resolveImageId(ctx, input.ImageId));
  if (image.State !== 'available') {
    throw new Ec2Error('InvalidAMIID.Unavailable', `The image id '[${image.ImageId}]' is not available (state: ${image.State})`);
  }
  const minCount = checkCount('MinCount', input.MinCount);
  const maxCount = checkCount('MaxCount', input.MaxCount);
  if (minCount > maxCount) {
    throw new Ec2Error('InvalidParameterValue', `Value (${maxCount}) for parameter maxCount is invalid. Expected a value greater than or equal to minCount (${minCount}).`);
  }
  const live = liveInstanceCount(ctx);
  const capacity = ACCOUNT_LIMITS.maxInstances - live;
  if (minCount > capacity) {
    throw new Ec2Error(
      'InstanceLimitExceeded',
      `You have requested more instances (${minCount}) than your current instance limit of ${ACCOUNT_LIMITS.maxInstances} allows for the specified instance type. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit.`,
    );
  }
  const typeName = input.InstanceType ?? DEFAULT_INSTANCE_TYPE;
  const type = requireInstanceType(typeName);
  checkArchitecture(type, image.Architecture);

  let keyName: string | undefined;
  let publicKey: string | undefined;
  if (input.KeyName !== undefined && input.KeyName !== '') {
    const key = findKeyPairByName(ctx, input.KeyName);
    if (!key) throw new Ec2Error('InvalidKeyPair.NotFound', `The key pair '${input.KeyName}' does not exist`);
    keyName = key.KeyName;
    publicKey = key.publicKey;
  }
  const userData = input.UserData !== undefined && input.UserData !== '' ? checkUserData(input.UserData) : undefined;

  const net = launchChoice(ctx, input, maxCount);
  if (net.privateIp !== undefined && maxCount > 1) {
    throw invalidParameterCombination('A specific private IP address can only be given when launching a single instance (MaxCount = 1).');
  }
  const subnet = subnetForLaunch(ctx, net.subnetId, requestedZone(ctx, input));
  const zone = input.Placement?.AvailabilityZone;
  if (zone !== undefined && zone !== '' && zone !== subnet.AvailabilityZone) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${zone}) for parameter availabilityZone is invalid. Subnet '${subnet.SubnetId}' is in the availability zone ${subnet.AvailabilityZone}`,
    );
  }
  checkOffered(ctx, typeName, subnet.AvailabilityZone);
  const groups = net.existing ? net.existing.Groups : resolveGroups(ctx, subnet, net.groupIds, net.groupNames);
  const extras = resolveExtras(ctx, net, subnet, typeName, maxCount);
  // EC2 gives no public IPv4 to an existing interface or when launching with several
  const wantsPublicIp = net.existing || extras.length > 0 ? net.associatePublicIp === true : (net.associatePublicIp ?? subnet.MapPublicIpOnLaunch);

  const instanceStoreRoot = image.RootDeviceType === 'instance-store';
  if (instanceStoreRoot && input.InstanceInitiatedShutdownBehavior === 'stop') {
    throw invalidParameterCombination('The attribute instanceInitiatedShutdownBehavior can only be used for elastic images.');
  }
  if (instanceStoreRoot && (input.BlockDeviceMappings ?? []).some((m) => m.Ebs !== undefined)) {
    throw new Ec2Error('InvalidBlockDeviceMapping', 'EBS block device mappings not supported for instance-store AMIs.');
  }
  // an instance store-backed instance cannot stop: a shutdown from inside terminates it
  const shutdown = input.InstanceInitiatedShutdownBehavior ?? (instanceStoreRoot ? 'terminate' : 'stop');
  if (shutdown !== 'stop' && shutdown !== 'terminate') {
    throw new Ec2Error('InvalidParameterValue', `Value (${shutdown}) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values: stop, terminate`);
  }
  const hibernation = input.HibernationOptions?.Configured === true;
  if (hibernation) {
    if (image.RootDeviceType !== 'ebs') {
      throw new Ec2Error('UnsupportedHibernationConfiguration', 'Hibernation requires an EBS root volume.');
    }
    if (!type.HibernationSupported) {
      throw new Ec2Error('UnsupportedHibernationConfiguration', `The instance type ${typeName} does not support hibernation.`);
    }
  }
  const ebsSupport = type.EbsInfo?.EbsOptimizedSupport;
  if (input.EbsOptimized === true && ebsSupport === 'unsupported') {
    throw invalidParameterCombination(`EBS-optimized instances are not supported for your requested configuration (${typeName}).`);
  }
  const metadata = metadataOptions(ctx, image, input.MetadataOptions);
  const placement = launchPlacement(ctx, input, { zone: subnet.AvailabilityZone, typeName, minCount });
  const profile = launchInstanceProfile(ctx, input);
  const volumes = planVolumes(image, input.BlockDeviceMappings);
  const host = ctx.config.hostCapacity;
  if (host && (type.MemoryInfo?.SizeInMiB ?? 0) > host.memoryMiB) {
    // real instances get their type's memory as a hard limit: one larger than this host's memory cannot run here
    throw new Ec2Error(
      'InsufficientInstanceCapacity',
      `We currently do not have sufficient ${typeName} capacity in the Availability Zone you requested (${subnet.AvailabilityZone}). This host has ${host.memoryMiB} MiB of memory; ${typeName} needs ${type.MemoryInfo?.SizeInMiB} MiB. Choose a smaller instance type.`,
    );
  }
  const tagSpecs = tagSpecificationTags(input.TagSpecifications, ['instance', 'volume', 'network-interface']);

  // ---- capacity: as many as MaxCount asks, limited by the account limit and the subnet's free addresses
  const privateIps = net.existing ? [net.existing.PrivateIpAddress] : allocatePrivateIps(ctx, subnet, Math.min(maxCount, capacity, placement.limit), net.privateIp);
  if (privateIps.length < minCount) {
    throw new Ec2Error(
      'InsufficientFreeAddressesInSubnet',
      `There are not enough free addresses in subnet '${subnet.SubnetId}' to satisfy the requested number of instances.`,
    );
  }
  const publicIps = wantsPublicIp ? publicIpsForLaunch(ctx, privateIps.length, minCount) : [];
  if (wantsPublicIp) privateIps.splice(publicIps.length);

  // ---- write
  const now = ec2Time(ctx.now);
  const reservationId = newId('r');
  const lookups: InstanceLookups = { enis: new Map(), tags: new Map() };
  const instances: StoredInstance[] = [];
  const enis = eniCollection(ctx);
  const col = instanceCollection(ctx);
  // addresses handed out by this call and not stored yet (the later instances' primaries)
  const taken: string[] = [...privateIps];
  const tagsFor = (t: string): Tag[] => tagSpecs.get(t) ?? [];
  for (let i = 0; i < privateIps.length; i++) {
    const instanceId = newId('i');
    const privateIp = privateIps[i]!;
    const primaryAt = { deviceIndex: 0, networkCardIndex: net.networkCardIndex, deleteOnTermination: net.deleteOnTermination };
    let eni: NetworkInterfaceRecord;
    if (net.existing) {
      eni = adoptInterface(ctx, net.existing, instanceId, primaryAt, newId('eni-attach'), now);
    } else {
      const secondaryIps = allocateIpv4s(ctx, subnet, net.addresses.secondaries, net.addresses.secondaryCount, taken);
      taken.push(...secondaryIps);
      eni = newInstanceInterface(ctx, {
        subnet,
        privateIp,
        secondaryIps,
        ipv6Addresses: allocateIpv6s(ctx, subnet, net.addresses.ipv6, ipv6CountOnCreation(subnet, net.addresses)),
        groups,
        instanceId,
        ...primaryAt,
        publicIp: publicIps[i],
        description: net.description,
        attachTime: now,
      });
      enis.put(ctx.region, eni.NetworkInterfaceId, eni);
      putTags(ctx, eni.NetworkInterfaceId, KINDS.networkInterface.name, tagsFor('network-interface'));
    }
    lookups.enis.set(eni.NetworkInterfaceId, eni);
    const more = extraInterfaces(ctx, extras, instanceId, now, taken, () => newId('eni-attach'));
    for (const e of more.created) putTags(ctx, e.NetworkInterfaceId, KINDS.networkInterface.name, tagsFor('network-interface'));
    for (const e of more.records) lookups.enis.set(e.NetworkInterfaceId, e);

    // its EBS volumes: in-use and attached from the start (the reconciler creates their bytes before the machine runs)
    const launched = volumes.map((v) => {
      const vol = newVolume(ctx, {
        sizeGiB: v.sizeGiB,
        availabilityZone: subnet.AvailabilityZone,
        volumeType: v.volumeType,
        iops: v.iops,
        throughput: v.throughput,
        snapshotId: v.snapshotId,
        encrypted: v.encrypted,
        kmsKeyId: v.kmsKeyId,
        origin: volumeOrigin(ctx, image, v),
        attachedTo: { instanceId, device: v.deviceName, deleteOnTermination: v.deleteOnTermination },
      });
      putTags(ctx, vol.VolumeId, KINDS.volume.name, tagsFor('volume'));
      return vol;
    });
    const blockDeviceMappings: InstanceBlockDeviceMapping[] = mappingsOf(launched, image.RootDeviceName, instanceId);

    const rec: StoredInstance = {
      InstanceId: instanceId,
      ImageId: image.ImageId,
      InstanceType: typeName,
      AmiLaunchIndex: i,
      KeyName: keyName,
      LaunchTime: now,
      usageOperationUpdateTime: now,
      Monitoring: { State: input.Monitoring?.Enabled ? 'pending' : 'disabled' },
      ProductCodes: [],
      PrivateIpAddress: privateIp,
      State: instanceState('pending'),
      StateTransitionReason: '',
      SubnetId: subnet.SubnetId,
      VpcId: subnet.VpcId,
      Architecture: image.Architecture,
      BlockDeviceMappings: blockDeviceMappings,
      ClientToken: input.ClientToken ?? '',
      EbsOptimized: input.EbsOptimized ?? ebsSupport === 'default',
      EnaSupport: type.NetworkInfo?.EnaSupport !== 'unsupported',
      Hypervisor: 'xen',
      RootDeviceName: image.RootDeviceName,
      RootDeviceType: image.RootDeviceType ?? 'ebs',
      SecurityGroups: groups,
      SourceDestCheck: true,
      VirtualizationType: image.VirtualizationType ?? 'hvm',
      CpuOptions: { CoreCount: type.VCpuInfo?.DefaultCores, ThreadsPerCore: type.VCpuInfo?.DefaultThreadsPerCore },
      HibernationOptions: { Configured: hibernation },
      MetadataOptions: metadata,
      EnclaveOptions: { Enabled: false },
      BootMode: image.BootMode,
      CurrentInstanceBootMode: image.BootMode === 'uefi' ? 'uefi' : 'legacy-bios',
      PlatformDetails: image.PlatformDetails ?? 'Linux/UNIX',
      UsageOperation: image.UsageOperation ?? 'RunInstances',
      PrivateDnsNameOptions: { HostnameType: 'ip-name', EnableResourceNameDnsARecord: false, EnableResourceNameDnsAAAARecord: false },
      MaintenanceOptions: { AutoRecovery: 'default' },
      StateReason: { Code: 'pending', Message: 'pending' },
      ...placement.fields(i),
      networkInterfaceIds: [eni.NetworkInterfaceId, ...more.records.map((e) => e.NetworkInterfaceId)],
      reservationId,
      ownerId: ctx.accountId,
      desired: 'running',
      rebootGeneration: 0,
      hibernate: false,
      userData,
      disableApiTermination: input.DisableApiTermination === true,
      disableApiStop: input.DisableApiStop === true,
      instanceInitiatedShutdownBehavior: shutdown,
      publicIpOnStart: wantsPublicIp,
      publicKey,
    };
    profile.attach(rec);
    col.put(ctx.region, instanceId, rec);
    const instanceTags = [...tagsFor('instance'), ...launchTemplateTags];
    putTags(ctx, instanceId, KINDS.instance.name, instanceTags);
    if (instanceTags.length > 0) lookups.tags.set(instanceId, [...instanceTags]);
    instances.push(rec);
    ctx.notify(KINDS.instance.name, instanceId);
  }
  return {
    ReservationId: reservationId,
    OwnerId: ctx.accountId,
    Groups: [],
    // metadata options are stored 'applied'; this first answer shows them 'pending', as EC2 does
    Instances: instances.map((r) => ({ ...instanceOutput(ctx, r, lookups), MetadataOptions: { ...metadata, State: 'pending' } })),
  };
});
