/** DescribeInstanceTypes and DescribeInstanceTypeOfferings, over the static catalogue. */
import type {
  DescribeInstanceTypeOfferingsRequest,
  DescribeInstanceTypeOfferingsResult,
  DescribeInstanceTypesRequest,
  DescribeInstanceTypesResult,
  InstanceTypeInfo,
  InstanceTypeOffering,
  LocationType,
} from '@aws-sdk/client-ec2';
import { applyFilters } from '../../domain/filters.js';
import { INSTANCE_TYPES, isOfferedIn } from '../../domain/instance-types.js';
import { paginate } from '../../domain/pagination.js';
import { findRegion } from '../../domain/regions.js';
import { Ec2Error } from '../../domain/errors.js';
import { action, type ApiModule } from '../context.js';

/** Whether the type is offered in at least one zone of the region. */
function offeredInRegion(instanceType: string, region: string): boolean {
  return (findRegion(region)?.zones ?? []).some((z) => isOfferedIn(instanceType, region, z.ZoneName));
}

const describeInstanceTypes = action((ctx, input: DescribeInstanceTypesRequest): DescribeInstanceTypesResult => {
  const inRegion = (t: InstanceTypeInfo): boolean =>
    input.IncludeUnsupportedInRegion === true || offeredInRegion(t.InstanceType!, ctx.region);
  let types = INSTANCE_TYPES.filter(inRegion);
  const wanted = input.InstanceTypes ?? [];
  if (wanted.length > 0) {
    const missing = [...new Set(wanted)].filter((n) => !types.some((t) => t.InstanceType === n));
    if (missing.length > 0) {
      throw new Ec2Error('InvalidInstanceType', `The following supplied instance types do not exist: [${missing.join(', ')}]`);
    }
    types = types.filter((t) => (wanted as string[]).includes(t.InstanceType!));
  }
  const disks = (t: InstanceTypeInfo) => t.InstanceStorageInfo?.Disks ?? [];
  const gpus = (t: InstanceTypeInfo) => t.GpuInfo?.Gpus ?? [];
  types = applyFilters(types, input.Filters, {
    'auto-recovery-supported': (t) => t.AutoRecoverySupported,
    'bare-metal': (t) => t.BareMetal,
    'burstable-performance-supported': (t) => t.BurstablePerformanceSupported,
    'current-generation': (t) => t.CurrentGeneration,
    'dedicated-hosts-supported': (t) => t.DedicatedHostsSupported,
    'ebs-info.ebs-optimized-support': (t) => t.EbsInfo?.EbsOptimizedSupport,
    'ebs-info.encryption-support': (t) => t.EbsInfo?.EncryptionSupport,
    'ebs-info.nvme-support': (t) => t.EbsInfo?.NvmeSupport,
    'free-tier-eligible': (t) => t.FreeTierEligible,
    'hibernation-supported': (t) => t.HibernationSupported,
    hypervisor: (t) => t.Hypervisor,
    'instance-storage-info.disk.count': (t) => disks(t).map((d) => d.Count),
    'instance-storage-info.disk.size-in-gb': (t) => disks(t).map((d) => d.SizeInGB),
    'instance-storage-info.disk.type': (t) => disks(t).map((d) => d.Type),
    'instance-storage-info.encryption-support': (t) => t.InstanceStorageInfo?.EncryptionSupport,
    'instance-storage-info.nvme-support': (t) => t.InstanceStorageInfo?.NvmeSupport,
    'instance-storage-info.total-size-in-gb': (t) => t.InstanceStorageInfo?.TotalSizeInGB,
    // older name of the filter above, still accepted
    'instance-storage-info.total-size': (t) => t.InstanceStorageInfo?.TotalSizeInGB,
    'instance-storage-supported': (t) => t.InstanceStorageSupported,
    'instance-type': (t) => t.InstanceType,
    'memory-info.size-in-mib': (t) => t.MemoryInfo?.SizeInMiB,
    'network-info.efa-info.maximum-efa-interfaces': (t) => t.NetworkInfo?.EfaInfo?.MaximumEfaInterfaces,
    'network-info.efa-supported': (t) => t.NetworkInfo?.EfaSupported,
    'network-info.ena-support': (t) => t.NetworkInfo?.EnaSupport,
    'network-info.encryption-in-transit-supported': (t) => t.NetworkInfo?.EncryptionInTransitSupported,
    'network-info.ipv4-addresses-per-interface': (t) => t.NetworkInfo?.Ipv4AddressesPerInterface,
    'network-info.ipv6-addresses-per-interface': (t) => t.NetworkInfo?.Ipv6AddressesPerInterface,
    'network-info.ipv6-supported': (t) => t.NetworkInfo?.Ipv6Supported,
    'network-info.maximum-network-cards': (t) => t.NetworkInfo?.MaximumNetworkCards,
    'network-info.maximum-network-interfaces': (t) => t.NetworkInfo?.MaximumNetworkInterfaces,
    'network-info.network-performance': (t) => t.NetworkInfo?.NetworkPerformance,
    'nitro-enclaves-support': (t) => t.NitroEnclavesSupport,
    'nitro-tpm-support': (t) => t.NitroTpmSupport,
    'nitro-tpm-info.supported-versions': (t) => t.NitroTpmInfo?.SupportedVersions,
    'processor-info.manufacturer': (t) => t.ProcessorInfo?.Manufacturer,
    'processor-info.supported-architecture': (t) => t.ProcessorInfo?.SupportedArchitectures,
    'processor-info.sustained-clock-speed-in-ghz': (t) => t.ProcessorInfo?.SustainedClockSpeedInGhz,
    'processor-info.supported-features': (t) => t.ProcessorInfo?.SupportedFeatures,
    'supported-boot-mode': (t) => t.SupportedBootModes,
    'supported-root-device-type': (t) => t.SupportedRootDeviceTypes,
    'supported-usage-class': (t) => t.SupportedUsageClasses,
    'supported-virtualization-type': (t) => t.SupportedVirtualizationTypes,
    'vcpu-info.default-cores': (t) => t.VCpuInfo?.DefaultCores,
    'vcpu-info.default-threads-per-core': (t) => t.VCpuInfo?.DefaultThreadsPerCore,
    'vcpu-info.default-vcpus': (t) => t.VCpuInfo?.DefaultVCpus,
    'vcpu-info.valid-cores': (t) => t.VCpuInfo?.ValidCores,
    'vcpu-info.valid-threads-per-core': (t) => t.VCpuInfo?.ValidThreadsPerCore,
    // Not documented by EC2 but cheap and handy for picking GPU types.
    'gpu-info.gpus.count': (t) => gpus(t).map((g) => g.Count),
    'gpu-info.gpus.manufacturer': (t) => gpus(t).map((g) => g.Manufacturer),
    'gpu-info.gpus.name': (t) => gpus(t).map((g) => g.Name),
    'gpu-info.total-gpu-memory-in-mib': (t) => t.GpuInfo?.TotalGpuMemoryInMiB,
    accelerator: (t) =>
      t.GpuInfo ? 'gpu' : t.InferenceAcceleratorInfo ? 'inference' : t.NeuronInfo ? 'neuron' : 'none',
  });
  const page = paginate(types, input.MaxResults, input.NextToken, { min: 5, max: 100 });
  // The catalogue's frozen entries themselves: nothing changes an output, and the serializer checks their text once.
  return { InstanceTypes: [...page.items], NextToken: page.nextToken };
});

const LOCATION_TYPES: readonly LocationType[] = ['region', 'availability-zone', 'availability-zone-id', 'outpost'];

const describeInstanceTypeOfferings = action(
  (ctx, input: DescribeInstanceTypeOfferingsRequest): DescribeInstanceTypeOfferingsResult => {
    const locationType = input.LocationType ?? 'region';
    if (!LOCATION_TYPES.includes(locationType)) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `Value (${locationType}) for parameter locationType is invalid. Valid values are: ${LOCATION_TYPES.join(', ')}.`,
      );
    }
    const zones = findRegion(ctx.region)?.zones ?? [];
    const offerings: InstanceTypeOffering[] = [];
    for (const t of INSTANCE_TYPES) {
      const name = t.InstanceType!;
      if (locationType === 'region') {
        if (zones.some((z) => isOfferedIn(name, ctx.region, z.ZoneName))) {
          offerings.push({ InstanceType: name, LocationType: 'region', Location: ctx.region });
        }
      } else if (locationType !== 'outpost') {
        for (const z of zones) {
          if (!isOfferedIn(name, ctx.region, z.ZoneName)) continue;
          offerings.push({
            InstanceType: name,
            LocationType: locationType,
            Location: locationType === 'availability-zone' ? z.ZoneName : z.ZoneId,
          });
        }
      }
      // Overcast has no Outposts: nothing is offered on one.
    }
    const filtered = applyFilters(offerings, input.Filters, {
      'instance-type': (o) => o.InstanceType,
      location: (o) => o.Location,
    });
    const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return { InstanceTypeOfferings: page.items, NextToken: page.nextToken };
  },
);

export const instanceTypesModule: ApiModule = {
  actions: {
    DescribeInstanceTypes: describeInstanceTypes,
    DescribeInstanceTypeOfferings: describeInstanceTypeOfferings,
  },
};
