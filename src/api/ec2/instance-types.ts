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
import { applyFilters, filterTable } from '../../domain/filters.js';
import { INSTANCE_TYPES, isOfferedIn } from '../../domain/instance-types.js';
import { paginate } from '../../domain/pagination.js';
import { findRegion } from '../../domain/regions.js';
import { Ec2Error } from '../../domain/errors.js';
import { action, type ApiModule } from '../context.js';

/** Whether the type is offered in at least one zone of the region. */
function offeredInRegion(instanceType: string, region: string): boolean {
  return (findRegion(region)?.zones ?? []).some((z) => isOfferedIn(instanceType, region, z.ZoneName));
}

const INSTANCE_TYPE_FILTERS = filterTable<InstanceTypeInfo>('DescribeInstanceTypes', {
  'auto-recovery-supported': 'AutoRecoverySupported',
  'bare-metal': 'BareMetal',
  'burstable-performance-supported': 'BurstablePerformanceSupported',
  'current-generation': 'CurrentGeneration',
  'dedicated-hosts-supported': 'DedicatedHostsSupported',
  'ebs-info.ebs-optimized-support': 'EbsInfo.EbsOptimizedSupport',
  'ebs-info.ebs-optimized-info.baseline-bandwidth-in-mbps': 'EbsInfo.EbsOptimizedInfo.BaselineBandwidthInMbps',
  'ebs-info.ebs-optimized-info.baseline-iops': 'EbsInfo.EbsOptimizedInfo.BaselineIops',
  'ebs-info.ebs-optimized-info.baseline-throughput-in-mbps': 'EbsInfo.EbsOptimizedInfo.BaselineThroughputInMBps',
  'ebs-info.ebs-optimized-info.maximum-bandwidth-in-mbps': 'EbsInfo.EbsOptimizedInfo.MaximumBandwidthInMbps',
  'ebs-info.ebs-optimized-info.maximum-iops': 'EbsInfo.EbsOptimizedInfo.MaximumIops',
  'ebs-info.ebs-optimized-info.maximum-throughput-in-mbps': 'EbsInfo.EbsOptimizedInfo.MaximumThroughputInMBps',
  'ebs-info.encryption-support': 'EbsInfo.EncryptionSupport',
  'ebs-info.nvme-support': 'EbsInfo.NvmeSupport',
  'free-tier-eligible': 'FreeTierEligible',
  'hibernation-supported': 'HibernationSupported',
  hypervisor: 'Hypervisor',
  'instance-storage-info.disk.count': 'InstanceStorageInfo.Disks.Count',
  'instance-storage-info.disk.size-in-gb': 'InstanceStorageInfo.Disks.SizeInGB',
  'instance-storage-info.disk.type': 'InstanceStorageInfo.Disks.Type',
  'instance-storage-info.encryption-support': 'InstanceStorageInfo.EncryptionSupport',
  'instance-storage-info.nvme-support': 'InstanceStorageInfo.NvmeSupport',
  'instance-storage-info.total-size-in-gb': 'InstanceStorageInfo.TotalSizeInGB',
  // older name of the filter above, still accepted
  'instance-storage-info.total-size': 'InstanceStorageInfo.TotalSizeInGB',
  'instance-storage-supported': 'InstanceStorageSupported',
  'instance-type': 'InstanceType',
  'memory-info.size-in-mib': 'MemoryInfo.SizeInMiB',
  'network-info.efa-info.maximum-efa-interfaces': 'NetworkInfo.EfaInfo.MaximumEfaInterfaces',
  'network-info.efa-supported': 'NetworkInfo.EfaSupported',
  'network-info.ena-support': 'NetworkInfo.EnaSupport',
  'network-info.encryption-in-transit-supported': 'NetworkInfo.EncryptionInTransitSupported',
  'network-info.ipv4-addresses-per-interface': 'NetworkInfo.Ipv4AddressesPerInterface',
  'network-info.ipv6-addresses-per-interface': 'NetworkInfo.Ipv6AddressesPerInterface',
  'network-info.ipv6-supported': 'NetworkInfo.Ipv6Supported',
  'network-info.maximum-network-cards': 'NetworkInfo.MaximumNetworkCards',
  'network-info.maximum-network-interfaces': 'NetworkInfo.MaximumNetworkInterfaces',
  'network-info.network-performance': 'NetworkInfo.NetworkPerformance',
  'nitro-enclaves-support': 'NitroEnclavesSupport',
  'nitro-tpm-support': 'NitroTpmSupport',
  'nitro-tpm-info.supported-versions': 'NitroTpmInfo.SupportedVersions',
  'processor-info.manufacturer': 'ProcessorInfo.Manufacturer',
  'processor-info.supported-architecture': 'ProcessorInfo.SupportedArchitectures',
  'processor-info.sustained-clock-speed-in-ghz': 'ProcessorInfo.SustainedClockSpeedInGhz',
  'processor-info.supported-features': 'ProcessorInfo.SupportedFeatures',
  'supported-boot-mode': 'SupportedBootModes',
  'supported-root-device-type': 'SupportedRootDeviceTypes',
  'supported-usage-class': 'SupportedUsageClasses',
  'supported-virtualization-type': 'SupportedVirtualizationTypes',
  'vcpu-info.default-cores': 'VCpuInfo.DefaultCores',
  'vcpu-info.default-threads-per-core': 'VCpuInfo.DefaultThreadsPerCore',
  'vcpu-info.default-vcpus': 'VCpuInfo.DefaultVCpus',
  'vcpu-info.valid-cores': 'VCpuInfo.ValidCores',
  'vcpu-info.valid-threads-per-core': 'VCpuInfo.ValidThreadsPerCore',
  // Not documented by EC2 but cheap and handy for picking GPU types.
  'gpu-info.gpus.count': 'GpuInfo.Gpus.Count',
  'gpu-info.gpus.manufacturer': 'GpuInfo.Gpus.Manufacturer',
  'gpu-info.gpus.name': 'GpuInfo.Gpus.Name',
  'gpu-info.total-gpu-memory-in-mib': 'GpuInfo.TotalGpuMemoryInMiB',
  accelerator: (t) =>
    t.GpuInfo ? 'gpu' : t.InferenceAcceleratorInfo ? 'inference' : t.NeuronInfo ? 'neuron' : 'none',
});

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
  types = applyFilters(types, input.Filters, INSTANCE_TYPE_FILTERS);
  const page = paginate(types, input.MaxResults, input.NextToken, { min: 5, max: 100 });
  // The catalogue's frozen entries themselves: nothing changes an output, and the serializer checks their text once.
  return { InstanceTypes: [...page.items], NextToken: page.nextToken };
});

const LOCATION_TYPES: readonly LocationType[] = ['region', 'availability-zone', 'availability-zone-id', 'outpost'];

const INSTANCE_TYPE_OFFERING_FILTERS = filterTable<InstanceTypeOffering>('DescribeInstanceTypeOfferings', {
  'instance-type': 'InstanceType',
  location: 'Location',
});

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
    const filtered = applyFilters(offerings, input.Filters, INSTANCE_TYPE_OFFERING_FILTERS);
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
