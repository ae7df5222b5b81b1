import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import {
  INSTANCE_TYPES,
  INSTANCE_TYPE_CATEGORIES,
  findInstanceType,
  instanceTypeCategory,
  isOfferedIn,
} from '../../src/domain/instance-types.js';
import { REGIONS } from '../../src/domain/regions.js';

function get(name: string): InstanceTypeInfo {
  const t = findInstanceType(name);
  assert.ok(t, `${name} missing from catalogue`);
  return t;
}

const family = (name: string) => name.split('.')[0]!;

test('catalogue size, unique names, every family and category', () => {
  assert.ok(INSTANCE_TYPES.length >= 70, `only ${INSTANCE_TYPES.length} types`);
  const names = INSTANCE_TYPES.map((t) => t.InstanceType!);
  assert.equal(new Set(names).size, names.length, 'duplicate instance type names');
  for (const n of names) assert.match(n, /^[a-z0-9]+\.(nano|micro|small|medium|large|\d*xlarge|metal)$/);
  const families = new Set(names.map(family));
  for (const f of ['t2', 't3', 't3a', 't4g', 'm5', 'm6i', 'm6g', 'm7i', 'm7g', 'c5', 'c6i', 'c6g', 'c7g', 'r5', 'r6i',
    'r6g', 'x2idn', 'z1d', 'i3', 'i3en', 'd2', 'd3', 'p3', 'g4dn', 'g5', 'inf1', 'trn1']) {
    assert.ok(families.has(f), `family ${f} missing`);
    assert.ok(names.filter((n) => family(n) === f).length >= 2, `family ${f} has a single size`);
  }
  const categories = new Set(names.map((n) => instanceTypeCategory(n)));
  for (const c of INSTANCE_TYPE_CATEGORIES) assert.ok(categories.has(c), `category ${c} not represented`);
  assert.ok(!categories.has(undefined));
  for (const n of ['t3.nano', 't3.micro', 't3.small', 't3.medium', 't3.large', 't3.xlarge', 't3.2xlarge', 'm5.large', 'm5.4xlarge']) get(n);
});

test('categories', () => {
  assert.equal(instanceTypeCategory('t3.micro'), 'general-purpose');
  assert.equal(instanceTypeCategory('m7g.large'), 'general-purpose');
  assert.equal(instanceTypeCategory('c6i.xlarge'), 'compute-optimized');
  assert.equal(instanceTypeCategory('r6g.large'), 'memory-optimized');
  assert.equal(instanceTypeCategory('z1d.large'), 'memory-optimized');
  assert.equal(instanceTypeCategory('i3.large'), 'storage-optimized');
  assert.equal(instanceTypeCategory('d3.xlarge'), 'storage-optimized');
  assert.equal(instanceTypeCategory('p3.2xlarge'), 'accelerated-computing');
  assert.equal(instanceTypeCategory('trn1.2xlarge'), 'accelerated-computing');
  assert.equal(instanceTypeCategory('nope'), undefined);
  assert.equal(instanceTypeCategory('m5.huge'), undefined);
});

test('known vCPU / memory values', () => {
  const expect: Record<string, [number, number]> = {
    't2.nano': [1, 512],
    't2.micro': [1, 1024],
    't3.nano': [2, 512],
    't3.micro': [2, 1024],
    't3.2xlarge': [8, 32768],
    't4g.medium': [2, 4096],
    'm5.large': [2, 8192],
    'm5.24xlarge': [96, 393216],
    'm6g.medium': [1, 4096],
    'm7i.48xlarge': [192, 786432],
    'c5.xlarge': [4, 8192],
    'c5.9xlarge': [36, 73728],
    'c6g.medium': [1, 2048],
    'r5.large': [2, 16384],
    'r6i.32xlarge': [128, 1048576],
    'x2idn.16xlarge': [64, 1048576],
    'z1d.3xlarge': [12, 98304],
    'i3.large': [2, 15616],
    'd2.8xlarge': [36, 249856],
    'p3.2xlarge': [8, 62464],
    'g4dn.xlarge': [4, 16384],
    'inf1.xlarge': [4, 8192],
    'trn1.32xlarge': [128, 524288],
  };
  for (const [name, [vcpus, mib]] of Object.entries(expect)) {
    const t = get(name);
    assert.equal(t.VCpuInfo?.DefaultVCpus, vcpus, `${name} vCPUs`);
    assert.equal(t.MemoryInfo?.SizeInMiB, mib, `${name} memory`);
  }
});

test('vCPU info is self-consistent', () => {
  for (const t of INSTANCE_TYPES) {
    const v = t.VCpuInfo!;
    assert.equal(v.DefaultCores! * v.DefaultThreadsPerCore!, v.DefaultVCpus, t.InstanceType);
    if (v.ValidCores) {
      assert.ok(v.ValidCores.includes(v.DefaultCores!), `${t.InstanceType} default cores not valid`);
      assert.ok(v.ValidCores.every((c) => c >= 1 && c <= v.DefaultCores!), t.InstanceType);
    }
    if (v.ValidThreadsPerCore) assert.ok(v.ValidThreadsPerCore.includes(v.DefaultThreadsPerCore!), t.InstanceType);
    assert.ok(t.MemoryInfo!.SizeInMiB! >= 512, t.InstanceType);
  }
});

test('architecture: arm64 exactly for Graviton families, the Mac architectures for mac, i386 too for t1', () => {
  const graviton = new Set(['t4g', 'm6g', 'm7g', 'c6g', 'c7g', 'r6g', 'a1', 'm6gd', 'c6gd', 'r6gd', 'r7g']);
  const special: Record<string, string[]> = { mac1: ['x86_64_mac'], mac2: ['arm64_mac'], t1: ['i386', 'x86_64'] };
  for (const t of INSTANCE_TYPES) {
    const name = t.InstanceType!;
    const expected = graviton.has(family(name)) ? 'arm64' : 'x86_64';
    assert.deepEqual(t.ProcessorInfo?.SupportedArchitectures, special[family(name)] ?? [expected], name);
    if (family(name) === 'mac2') assert.deepEqual(t.SupportedBootModes, ['uefi'], name);
    else if (expected === 'arm64') {
      assert.deepEqual(t.SupportedBootModes, ['uefi'], name);
      assert.equal(t.VCpuInfo?.DefaultThreadsPerCore, 1, name);
    } else {
      assert.ok(t.SupportedBootModes?.includes('legacy-bios'), name);
    }
    assert.ok((t.ProcessorInfo?.SustainedClockSpeedInGhz ?? 0) > 1, name);
  }
});

test('hypervisor, EBS and ENA', () => {
  const xen = new Set(['t2', 'i3', 'd2', 'p3', 't1', 'm4', 'c4', 'r4', 'x1', 'x1e', 'h1']);
  const mac = new Set(['mac1', 'mac2']);
  for (const t of INSTANCE_TYPES) {
    const name = t.InstanceType!;
    if (mac.has(family(name))) {
      assert.equal(t.Hypervisor, undefined, name);
      assert.equal(t.BareMetal, true, name);
      assert.deepEqual(t.SupportedUsageClasses, ['on-demand'], name);
      continue;
    }
    if (family(name) === 't1') {
      assert.equal(t.CurrentGeneration, false, name);
      assert.deepEqual(t.SupportedVirtualizationTypes, ['paravirtual'], name);
      assert.equal(t.EbsInfo?.EbsOptimizedInfo, undefined, name);
      continue;
    }
    assert.equal(t.CurrentGeneration, true, name);
    if (xen.has(family(name))) {
      assert.equal(t.Hypervisor, 'xen', name);
      assert.equal(t.EbsInfo?.NvmeSupport, 'unsupported', name);
    } else {
      assert.equal(t.Hypervisor, 'nitro', name);
      assert.equal(t.EbsInfo?.NvmeSupport, 'required', name);
      assert.equal(t.NetworkInfo?.EnaSupport, 'required', name);
    }
    assert.equal(t.EbsInfo?.EncryptionSupport, 'supported', name);
    assert.equal(t.BareMetal, false, name);
    assert.deepEqual(t.SupportedVirtualizationTypes, ['hvm'], name);
    assert.deepEqual(t.SupportedUsageClasses, ['on-demand', 'spot'], name);
  }
  assert.equal(get('t2.micro').NetworkInfo?.EnaSupport, 'unsupported');
  assert.equal(get('d2.xlarge').NetworkInfo?.EnaSupport, 'unsupported');
});

test('burstable, free tier and hibernation flags', () => {
  for (const t of INSTANCE_TYPES) {
    const name = t.InstanceType!;
    assert.equal(t.BurstablePerformanceSupported, /^t[2-9]/.test(name), name);
    assert.equal(t.FreeTierEligible, name === 't2.micro' || name === 't3.micro', name);
    if (t.HibernationSupported) assert.ok(t.MemoryInfo!.SizeInMiB! < 150 * 1024, `${name} too big to hibernate`);
    if (t.BurstablePerformanceSupported) assert.ok(!t.PlacementGroupInfo?.SupportedStrategies?.includes('cluster'), name);
  }
  for (const n of ['t2.micro', 't3.micro', 'm5.large', 'c5.xlarge', 'r5.large']) assert.equal(get(n).HibernationSupported, true, n);
  assert.equal(get('m5.24xlarge').HibernationSupported, false);
});

test('instance store', () => {
  const i3 = get('i3.large');
  assert.equal(i3.InstanceStorageSupported, true);
  assert.equal(i3.InstanceStorageInfo?.TotalSizeInGB, 475);
  assert.deepEqual(i3.InstanceStorageInfo?.Disks, [{ SizeInGB: 475, Count: 1, Type: 'ssd' }]);
  assert.equal(i3.InstanceStorageInfo?.NvmeSupport, 'required');
  assert.deepEqual(i3.SupportedRootDeviceTypes, ['ebs', 'instance-store']);

  const d2 = get('d2.xlarge');
  assert.deepEqual(d2.InstanceStorageInfo?.Disks, [{ SizeInGB: 2000, Count: 3, Type: 'hdd' }]);
  assert.equal(d2.InstanceStorageInfo?.NvmeSupport, 'unsupported');
  assert.deepEqual(d2.SupportedRootDeviceTypes, ['ebs', 'instance-store']);
  assert.equal(get('d3.8xlarge').InstanceStorageInfo?.TotalSizeInGB, 48000);
  assert.equal(get('i3en.24xlarge').InstanceStorageInfo?.TotalSizeInGB, 60000);

  for (const t of INSTANCE_TYPES) {
    const name = t.InstanceType!;
    const info = t.InstanceStorageInfo;
    assert.equal(t.InstanceStorageSupported, info !== undefined, name);
    if (info) {
      const total = info.Disks!.reduce((sum, d) => sum + d.SizeInGB! * d.Count!, 0);
      assert.equal(info.TotalSizeInGB, total, name);
      assert.equal(t.AutoRecoverySupported, false, name);
    }
    if (['i3', 'i3en', 'd2', 'd3', 'z1d', 'x2idn'].includes(family(name))) assert.ok(info, `${name} lacks instance store`);
    if (['t2', 't3', 'm5', 'c5', 'r5', 'm7g', 'p3', 'inf1'].includes(family(name))) assert.equal(info, undefined, name);
  }
  assert.equal(get('m5.large').InstanceStorageSupported, false);
  assert.deepEqual(get('m5.large').SupportedRootDeviceTypes, ['ebs']);
});

test('accelerators', () => {
  const p3 = get('p3.2xlarge');
  assert.deepEqual(p3.GpuInfo?.Gpus, [{ Name: 'V100', Manufacturer: 'NVIDIA', Count: 1, MemoryInfo: { SizeInMiB: 16384 } }]);
  assert.equal(p3.GpuInfo?.TotalGpuMemoryInMiB, 16384);
  assert.equal(get('p3.16xlarge').GpuInfo?.Gpus?.[0]?.Count, 8);
  assert.equal(get('g4dn.12xlarge').GpuInfo?.TotalGpuMemoryInMiB, 4 * 16384);
  assert.equal(get('g5.48xlarge').GpuInfo?.Gpus?.[0]?.Name, 'A10G');

  const inf1 = get('inf1.6xlarge');
  assert.equal(inf1.InferenceAcceleratorInfo?.Accelerators?.[0]?.Count, 4);
  assert.equal(inf1.InferenceAcceleratorInfo?.Accelerators?.[0]?.Name, 'Inferentia');
  assert.equal(inf1.InferenceAcceleratorInfo?.TotalInferenceMemoryInMiB, 4 * 8192);
  assert.equal(get('trn1.32xlarge').NeuronInfo?.NeuronDevices?.[0]?.Count, 16);
  assert.equal(get('trn1.32xlarge').NetworkInfo?.MaximumNetworkCards, 8);

  for (const t of INSTANCE_TYPES) {
    const name = t.InstanceType!;
    const accelerated = instanceTypeCategory(name) === 'accelerated-computing';
    const hasAccel = t.GpuInfo !== undefined || t.InferenceAcceleratorInfo !== undefined || t.NeuronInfo !== undefined;
    assert.equal(hasAccel, accelerated, name);
    if (t.GpuInfo) {
      const sum = t.GpuInfo.Gpus!.reduce((a, g) => a + g.Count! * g.MemoryInfo!.SizeInMiB!, 0);
      assert.equal(t.GpuInfo.TotalGpuMemoryInMiB, sum, name);
    }
  }
});

test('network info is consistent', () => {
  for (const t of INSTANCE_TYPES) {
    const name = t.InstanceType!;
    const n = t.NetworkInfo!;
    assert.ok(n.NetworkPerformance, name);
    assert.ok(n.MaximumNetworkInterfaces! >= 2, name);
    assert.ok(n.Ipv4AddressesPerInterface! >= 2, name);
    assert.equal(n.Ipv6Supported, true, name);
    assert.equal(n.NetworkCards!.length, n.MaximumNetworkCards, name);
    const cardEnis = n.NetworkCards!.reduce((a, c) => a + c.MaximumNetworkInterfaces!, 0);
    assert.equal(cardEnis, n.MaximumNetworkInterfaces, name);
    assert.equal(n.DefaultNetworkCardIndex, 0, name);
    assert.equal(n.EfaSupported, n.EfaInfo !== undefined, name);
  }
  assert.equal(get('t3.micro').NetworkInfo?.MaximumNetworkInterfaces, 2);
  assert.equal(get('t3.micro').NetworkInfo?.Ipv4AddressesPerInterface, 2);
  assert.equal(get('m5.large').NetworkInfo?.Ipv4AddressesPerInterface, 10);
  assert.equal(get('m5.large').NetworkInfo?.NetworkPerformance, 'Up to 10 Gigabit');
  assert.equal(get('c5.18xlarge').NetworkInfo?.MaximumNetworkInterfaces, 15);
});

test('lookups', () => {
  assert.equal(findInstanceType('nope'), undefined);
  assert.equal(findInstanceType(''), undefined);
  assert.equal(findInstanceType('T3.MICRO'), undefined);
  assert.equal(findInstanceType('t3.micro')?.InstanceType, 't3.micro');
  for (const t of INSTANCE_TYPES) assert.equal(findInstanceType(t.InstanceType!), t);
});

test('catalogue is immutable', () => {
  const t = get('t3.micro');
  assert.throws(() => {
    (t.MemoryInfo as { SizeInMiB: number }).SizeInMiB = 1;
  }, TypeError);
  assert.equal(get('t3.micro').MemoryInfo?.SizeInMiB, 1024);
});

test('offerings', () => {
  // unknown inputs
  assert.equal(isOfferedIn('nope', 'us-east-1', 'us-east-1a'), false);
  assert.equal(isOfferedIn('t3.micro', 'us-east-9', 'us-east-9a'), false);
  assert.equal(isOfferedIn('t3.micro', 'us-east-1', 'us-west-2a'), false);
  assert.equal(isOfferedIn('t3.micro', 'us-west-1', 'us-west-1b'), false);

  // classic families everywhere
  for (const r of REGIONS) {
    for (const z of r.zones) {
      for (const n of ['t2.micro', 't3.micro', 'm5.large', 'c5.xlarge', 'r5.large', 'i3.large']) {
        assert.equal(isOfferedIn(n, r.RegionName, z.ZoneName), true, `${n} ${z.ZoneName}`);
      }
    }
  }

  // newest families: all zones of classic regions, partial in opt-in regions
  assert.equal(isOfferedIn('m7g.large', 'us-east-1', 'us-east-1f'), true);
  assert.equal(isOfferedIn('m7g.large', 'af-south-1', 'af-south-1a'), true);
  assert.equal(isOfferedIn('m7g.large', 'af-south-1', 'af-south-1c'), false);

  // accelerated
  assert.equal(isOfferedIn('p3.2xlarge', 'us-east-1', 'us-east-1a'), true);
  assert.equal(isOfferedIn('p3.2xlarge', 'us-east-1', 'us-east-1f'), false);
  assert.equal(isOfferedIn('p3.2xlarge', 'sa-east-1', 'sa-east-1a'), false);
  assert.equal(isOfferedIn('trn1.2xlarge', 'us-west-2', 'us-west-2a'), true);
  assert.equal(isOfferedIn('trn1.2xlarge', 'eu-west-1', 'eu-west-1a'), false);

  // every type is offered somewhere, and the heavy families are not offered everywhere
  for (const t of INSTANCE_TYPES) {
    const offered = REGIONS.some((r) => r.zones.some((z) => isOfferedIn(t.InstanceType!, r.RegionName, z.ZoneName)));
    assert.ok(offered, `${t.InstanceType} offered nowhere`);
  }
  for (const n of ['p3.2xlarge', 'g5.xlarge', 'inf1.xlarge', 'trn1.2xlarge', 'm7i.large', 'c7g.large', 'd3.xlarge', 'i3en.large']) {
    const everywhere = REGIONS.every((r) => r.zones.every((z) => isOfferedIn(n, r.RegionName, z.ZoneName)));
    assert.equal(everywhere, false, n);
  }
});

test('EBS-optimized figures: every EBS-optimized type has them, baseline within maximum, throughput = bandwidth / 8', () => {
  for (const t of INSTANCE_TYPES) {
    const name = t.InstanceType!;
    const e = t.EbsInfo?.EbsOptimizedInfo;
    if (t.EbsInfo?.EbsOptimizedSupport === 'unsupported') {
      assert.equal(e, undefined, name);
      continue;
    }
    assert.ok(e, `${name} has no EbsOptimizedInfo`);
    assert.ok(e.BaselineBandwidthInMbps! > 0 && e.BaselineBandwidthInMbps! <= e.MaximumBandwidthInMbps!, name);
    assert.ok(e.BaselineIops! > 0 && e.BaselineIops! <= e.MaximumIops!, name);
    assert.equal(e.BaselineThroughputInMBps, e.BaselineBandwidthInMbps! / 8, name);
    assert.equal(e.MaximumThroughputInMBps, e.MaximumBandwidthInMbps! / 8, name);
  }
  // published figures
  assert.deepEqual(get('m5.large').EbsInfo?.EbsOptimizedInfo, {
    BaselineBandwidthInMbps: 650, BaselineThroughputInMBps: 81.25, BaselineIops: 3600,
    MaximumBandwidthInMbps: 4750, MaximumThroughputInMBps: 593.75, MaximumIops: 18750,
  });
  assert.equal(get('t3.micro').EbsInfo?.EbsOptimizedInfo?.MaximumBandwidthInMbps, 2085);
  assert.equal(get('m6i.32xlarge').EbsInfo?.EbsOptimizedInfo?.MaximumIops, 160000);
  assert.equal(get('m6g.medium').EbsInfo?.EbsOptimizedInfo?.BaselineBandwidthInMbps, 315);
  assert.equal(get('m4.16xlarge').EbsInfo?.EbsOptimizedInfo?.MaximumBandwidthInMbps, 10000);
  assert.equal(get('r4.16xlarge').EbsInfo?.EbsOptimizedInfo?.MaximumBandwidthInMbps, 14000);
});

test('network: ENA Express on the largest 6th/7th-generation sizes only, network cards share the performance', () => {
  assert.equal(get('m6i.32xlarge').NetworkInfo?.EnaSrdSupported, true);
  assert.equal(get('c7g.16xlarge').NetworkInfo?.EnaSrdSupported, true);
  assert.equal(get('m6i.large').NetworkInfo?.EnaSrdSupported, false);
  assert.equal(get('m5.24xlarge').NetworkInfo?.EnaSrdSupported, false);
  for (const t of INSTANCE_TYPES) assert.equal(typeof t.NetworkInfo?.EnaSrdSupported, 'boolean', t.InstanceType);
  const p4d = get('p4d.24xlarge').NetworkInfo!;
  assert.equal(p4d.MaximumNetworkCards, 4);
  assert.deepEqual(p4d.NetworkCards?.map((c) => c.NetworkPerformance), ['100 Gigabit', '100 Gigabit', '100 Gigabit', '100 Gigabit']);
  assert.deepEqual(get('trn1.32xlarge').NetworkInfo!.NetworkCards?.[0]?.NetworkPerformance, '100 Gigabit');
});

test('the families of the current generation and the common previous ones are all there', () => {
  const families = new Set(INSTANCE_TYPES.map((t) => family(t.InstanceType!)));
  for (const f of ['t1', 't2', 't3', 't3a', 't4g', 'm4', 'm5', 'm5a', 'm5d', 'm6i', 'm6a', 'm6g', 'm6gd', 'm6id', 'm7i', 'm7g', 'm7a',
    'c4', 'c5', 'c5a', 'c5d', 'c6i', 'c6a', 'c6g', 'c6gd', 'c6id', 'c7i', 'c7g', 'c7a', 'r4', 'r5', 'r5a', 'r5d', 'r6i', 'r6a', 'r6g',
    'r6gd', 'r6id', 'r7i', 'r7g', 'r7a', 'x1', 'x1e', 'x2idn', 'z1d', 'i3', 'i3en', 'i4i', 'd2', 'd3', 'h1', 'p3', 'p4d', 'g4dn', 'g5',
    'inf1', 'inf2', 'trn1', 'trn1n', 'a1', 'mac1', 'mac2']) {
    assert.ok(families.has(f), `family ${f} missing`);
  }
  assert.deepEqual(get('inf2.xlarge').NeuronInfo?.NeuronDevices?.[0]?.Name, 'Inferentia2');
  assert.equal(get('inf2.xlarge').InferenceAcceleratorInfo, undefined);
  assert.equal(get('m5d.large').InstanceStorageInfo?.TotalSizeInGB, 75);
  assert.equal(get('m7a.medium').VCpuInfo?.DefaultVCpus, 1);
});
