/**
 * Static catalogue of EC2 instance types in the exact shape of the EC2 API's
 * `InstanceTypeInfo` (as returned by DescribeInstanceTypes), plus lookup
 * helpers and a deterministic offering rule. Pure data: no I/O.
 *
 * Specs (vCPUs, memory, instance store, ENI/IP limits, network performance,
 * accelerators) follow the published AWS values. Entries are built from a
 * compact per-family table so that family-wide attributes (hypervisor,
 * architecture, ENA, boot modes, ...) stay consistent.
 */
import type {
  _InstanceType,
  ArchitectureType,
  BootModeType,
  DiskType,
  EbsOptimizedSupport,
  EnaSupport,
  InstanceTypeHypervisor,
  InstanceTypeInfo,
  PlacementGroupStrategy,
} from '@aws-sdk/client-ec2';
import { Ec2Error } from './errors.js';
import { deepFreeze } from './freeze.js';
import { findRegion } from './regions.js';

export type InstanceTypeCategory =
  | 'general-purpose'
  | 'compute-optimized'
  | 'memory-optimized'
  | 'storage-optimized'
  | 'accelerated-computing';

export const INSTANCE_TYPE_CATEGORIES: readonly InstanceTypeCategory[] = [
  'general-purpose',
  'compute-optimized',
  'memory-optimized',
  'storage-optimized',
  'accelerated-computing',
];

interface SizeSpec {
  size: string;
  vcpus: number;
  memMiB: number;
  net: string;
  enis: number;
  /** IPv4 (and IPv6) addresses per interface. */
  ips: number;
  /** Instance store: [count, sizeInGB] per disk. */
  disks?: readonly [number, number];
  /** Number of GPUs / Inferentia / Trainium devices. */
  devices?: number;
  /** Maximum EFA interfaces; presence means EFA is supported. */
  efa?: number;
  networkCards?: number;
}

interface Accelerator {
  kind: 'gpu' | 'inferentia' | 'trainium';
  name: string;
  manufacturer: string;
  memMiB: number;
  /** NeuronCores per device (inferentia/trainium). */
  cores?: number;
  coreVersion?: number;
}

interface FamilySpec {
  family: string;
  category: InstanceTypeCategory;
  arch: ArchitectureType;
  manufacturer: 'Intel' | 'AMD' | 'AWS';
  clockGhz: number;
  hypervisor: InstanceTypeHypervisor;
  threadsPerCore: 1 | 2;
  burstable?: boolean;
  /** Family supports hibernation (still limited to < 150 GiB RAM per size). */
  hibernation: boolean;
  dedicatedHosts: boolean;
  ena: EnaSupport;
  ebsOptimized: EbsOptimizedSupport;
  diskType?: DiskType;
  /** Instance store is NVMe. */
  nvmeStore?: boolean;
  /** Can boot from an instance-store-backed AMI. */
  instanceStoreRoot?: boolean;
  accelerator?: Accelerator;
  sizes: readonly SizeSpec[];
}

// ---------------------------------------------------------------------------
// Size helpers

const GiB = 1024;

function s(
  size: string,
  vcpus: number,
  memGiB: number,
  net: string,
  enis: number,
  ips: number,
  extra: Partial<Pick<SizeSpec, 'disks' | 'devices' | 'efa' | 'networkCards'>> = {},
): SizeSpec {
  return { size, vcpus, memMiB: Math.round(memGiB * GiB), net, enis, ips, ...extra };
}

/** t3 / t3a / t4g: memory per size (GiB); 2 vCPUs up to large. */
function burstableT3(net: string): SizeSpec[] {
  return [
    s('nano', 2, 0.5, net, 2, 2),
    s('micro', 2, 1, net, 2, 2),
    s('small', 2, 2, net, 3, 4),
    s('medium', 2, 4, net, 3, 6),
    s('large', 2, 8, net, 3, 12),
    s('xlarge', 4, 16, net, 4, 15),
    s('2xlarge', 8, 32, net, 4, 15),
  ];
}

/** ENI / IP limits shared by most Nitro m/c/r families, keyed by size. */
const STD_ENI: Record<string, readonly [number, number]> = {
  medium: [2, 4],
  large: [3, 10],
  xlarge: [4, 15],
  '2xlarge': [4, 15],
  '4xlarge': [8, 30],
  '8xlarge': [8, 30],
  '9xlarge': [8, 30],
  '12xlarge': [8, 30],
  '16xlarge': [15, 50],
  '18xlarge': [15, 50],
  '24xlarge': [15, 50],
  '32xlarge': [15, 50],
  '48xlarge': [15, 50],
};

/** vCPUs of a standard size name: medium 1, large 2, xlarge 4, Nxlarge 4N. */
function vcpusOf(size: string): number {
  if (size === 'medium') return 1;
  if (size === 'large') return 2;
  if (size === 'xlarge') return 4;
  const m = /^(\d+)xlarge$/.exec(size);
  if (!m) throw new Error(`bad size ${size}`);
  return Number(m[1]) * 4;
}

/**
 * A fixed-ratio family (m/c/r): `memPerVcpu` GiB per vCPU, network strings by
 * size, standard ENI limits; `efa` lists sizes with EFA. Graviton `medium`
 * sizes have 1 vCPU.
 */
function ratioFamily(
  sizes: readonly string[],
  memPerVcpu: number,
  net: Record<string, string>,
  efa: readonly string[] = [],
): SizeSpec[] {
  return sizes.map((size) => {
    const vcpus = vcpusOf(size);
    const [enis, ips] = STD_ENI[size]!;
    const n = net[size];
    if (!n) throw new Error(`no network performance for ${size}`);
    return s(size, vcpus, vcpus * memPerVcpu, n, enis, ips, efa.includes(size) ? { efa: 1 } : {});
  });
}

const UP_TO_10 = 'Up to 10 Gigabit';
const UP_TO_12_5 = 'Up to 12.5 Gigabit';

const NET_M5: Record<string, string> = {
  large: UP_TO_10, xlarge: UP_TO_10, '2xlarge': UP_TO_10, '4xlarge': UP_TO_10,
  '8xlarge': '10 Gigabit', '12xlarge': '10 Gigabit', '16xlarge': '20 Gigabit', '24xlarge': '25 Gigabit',
};
const NET_6I: Record<string, string> = {
  large: UP_TO_12_5, xlarge: UP_TO_12_5, '2xlarge': UP_TO_12_5, '4xlarge': UP_TO_12_5,
  '8xlarge': '12.5 Gigabit', '12xlarge': '18.75 Gigabit', '16xlarge': '25 Gigabit',
  '24xlarge': '37.5 Gigabit', '32xlarge': '50 Gigabit', '48xlarge': '50 Gigabit',
};
const NET_6G: Record<string, string> = {
  medium: UP_TO_10, large: UP_TO_10, xlarge: UP_TO_10, '2xlarge': UP_TO_10, '4xlarge': UP_TO_10,
  '8xlarge': '12 Gigabit', '12xlarge': '20 Gigabit', '16xlarge': '25 Gigabit',
};
const NET_7G: Record<string, string> = {
  medium: UP_TO_12_5, large: UP_TO_12_5, xlarge: UP_TO_12_5, '2xlarge': UP_TO_12_5, '4xlarge': UP_TO_12_5,
  '8xlarge': '15 Gigabit', '12xlarge': '22.5 Gigabit', '16xlarge': '30 Gigabit',
};
const NET_C5: Record<string, string> = {
  large: UP_TO_10, xlarge: UP_TO_10, '2xlarge': UP_TO_10, '4xlarge': UP_TO_10,
  '9xlarge': '12 Gigabit', '12xlarge': '12 Gigabit', '18xlarge': '25 Gigabit', '24xlarge': '25 Gigabit',
};

const SIZES_M5 = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge'] as const;
const SIZES_6I = [...SIZES_M5, '32xlarge'] as const;
const SIZES_7I = [...SIZES_M5, '48xlarge'] as const;
const SIZES_GRAVITON = ['medium', 'large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge'] as const;
const SIZES_C5 = ['large', 'xlarge', '2xlarge', '4xlarge', '9xlarge', '12xlarge', '18xlarge', '24xlarge'] as const;

// Family-wide defaults for the common Nitro families.
const NITRO_INTEL = {
  arch: 'x86_64', manufacturer: 'Intel', hypervisor: 'nitro', threadsPerCore: 2,
  ena: 'required', ebsOptimized: 'default', dedicatedHosts: true,
} as const;
const NITRO_GRAVITON = {
  arch: 'arm64', manufacturer: 'AWS', hypervisor: 'nitro', threadsPerCore: 1,
  ena: 'required', ebsOptimized: 'default', dedicatedHosts: true,
} as const;

// ---------------------------------------------------------------------------
// The families

const FAMILIES: readonly FamilySpec[] = [
  // ----- general purpose -----
  {
    family: 't2', category: 'general-purpose', arch: 'x86_64', manufacturer: 'Intel', clockGhz: 2.3,
    hypervisor: 'xen', threadsPerCore: 1, burstable: true, hibernation: true, dedicatedHosts: false,
    ena: 'unsupported', ebsOptimized: 'unsupported',
    sizes: [
      s('nano', 1, 0.5, 'Low to Moderate', 2, 2),
      s('micro', 1, 1, 'Low to Moderate', 2, 2),
      s('small', 1, 2, 'Low to Moderate', 3, 4),
      s('medium', 2, 4, 'Low to Moderate', 3, 6),
      s('large', 2, 8, 'Low to Moderate', 3, 12),
      s('xlarge', 4, 16, 'Moderate', 3, 15),
      s('2xlarge', 8, 32, 'Moderate', 3, 15),
    ],
  },
  {
    ...NITRO_INTEL, family: 't3', category: 'general-purpose', clockGhz: 2.5, burstable: true, hibernation: true,
    sizes: burstableT3('Up to 5 Gigabit'),
  },
  {
    ...NITRO_INTEL, family: 't3a', category: 'general-purpose', manufacturer: 'AMD', clockGhz: 2.2, burstable: true,
    hibernation: true, dedicatedHosts: false, sizes: burstableT3('Up to 5 Gigabit'),
  },
  {
    ...NITRO_GRAVITON, family: 't4g', category: 'general-purpose', clockGhz: 2.5, burstable: true, hibernation: true,
    dedicatedHosts: false, sizes: burstableT3('Up to 5 Gigabit'),
  },
  { ...NITRO_INTEL, family: 'm5', category: 'general-purpose', clockGhz: 3.1, hibernation: true, sizes: ratioFamily(SIZES_M5, 4, NET_M5) },
  { ...NITRO_INTEL, family: 'm6i', category: 'general-purpose', clockGhz: 3.5, hibernation: true, sizes: ratioFamily(SIZES_6I, 4, NET_6I, ['32xlarge']) },
  { ...NITRO_GRAVITON, family: 'm6g', category: 'general-purpose', clockGhz: 2.5, hibernation: true, sizes: ratioFamily(SIZES_GRAVITON, 4, NET_6G) },
  { ...NITRO_INTEL, family: 'm7i', category: 'general-purpose', clockGhz: 3.2, hibernation: true, sizes: ratioFamily(SIZES_7I, 4, NET_6I, ['48xlarge']) },
  { ...NITRO_GRAVITON, family: 'm7g', category: 'general-purpose', clockGhz: 2.6, hibernation: true, sizes: ratioFamily(SIZES_GRAVITON, 4, NET_7G, ['16xlarge']) },

  // ----- compute optimized -----
  { ...NITRO_INTEL, family: 'c5', category: 'compute-optimized', clockGhz: 3.4, hibernation: true, sizes: ratioFamily(SIZES_C5, 2, NET_C5) },
  { ...NITRO_INTEL, family: 'c6i', category: 'compute-optimized', clockGhz: 3.5, hibernation: true, sizes: ratioFamily(SIZES_6I, 2, NET_6I, ['32xlarge']) },
  { ...NITRO_GRAVITON, family: 'c6g', category: 'compute-optimized', clockGhz: 2.5, hibernation: true, sizes: ratioFamily(SIZES_GRAVITON, 2, NET_6G) },
  { ...NITRO_GRAVITON, family: 'c7g', category: 'compute-optimized', clockGhz: 2.6, hibernation: true, sizes: ratioFamily(SIZES_GRAVITON, 2, NET_7G, ['16xlarge']) },

  // ----- memory optimized -----
  { ...NITRO_INTEL, family: 'r5', category: 'memory-optimized', clockGhz: 3.1, hibernation: true, sizes: ratioFamily(SIZES_M5, 8, NET_M5) },
  { ...NITRO_INTEL, family: 'r6i', category: 'memory-optimized', clockGhz: 3.5, hibernation: true, sizes: ratioFamily(SIZES_6I, 8, NET_6I, ['32xlarge']) },
  { ...NITRO_GRAVITON, family: 'r6g', category: 'memory-optimized', clockGhz: 2.5, hibernation: true, sizes: ratioFamily(SIZES_GRAVITON, 8, NET_6G) },
  {
    ...NITRO_INTEL, family: 'x2idn', category: 'memory-optimized', clockGhz: 3.5, hibernation: false,
    diskType: 'ssd', nvmeStore: true,
    sizes: [
      s('16xlarge', 64, 1024, '50 Gigabit', 15, 50, { disks: [1, 1900] }),
      s('24xlarge', 96, 1536, '75 Gigabit', 15, 50, { disks: [2, 1425] }),
      s('32xlarge', 128, 2048, '100 Gigabit', 15, 50, { disks: [2, 1900], efa: 1 }),
    ],
  },
  {
    ...NITRO_INTEL, family: 'z1d', category: 'memory-optimized', clockGhz: 4.0, hibernation: false,
    diskType: 'ssd', nvmeStore: true,
    sizes: [
      s('large', 2, 16, UP_TO_10, 3, 10, { disks: [1, 75] }),
      s('xlarge', 4, 32, UP_TO_10, 4, 15, { disks: [1, 150] }),
      s('2xlarge', 8, 64, UP_TO_10, 4, 15, { disks: [1, 300] }),
      s('3xlarge', 12, 96, UP_TO_10, 8, 30, { disks: [1, 450] }),
      s('6xlarge', 24, 192, '10 Gigabit', 8, 30, { disks: [1, 900] }),
      s('12xlarge', 48, 384, '25 Gigabit', 15, 50, { disks: [2, 900] }),
    ],
  },

  // ----- storage optimized -----
  {
    family: 'i3', category: 'storage-optimized', arch: 'x86_64', manufacturer: 'Intel', clockGhz: 2.3,
    hypervisor: 'xen', threadsPerCore: 2, hibernation: true, dedicatedHosts: true,
    ena: 'supported', ebsOptimized: 'default', diskType: 'ssd', nvmeStore: true, instanceStoreRoot: true,
    sizes: [
      s('large', 2, 15.25, UP_TO_10, 3, 10, { disks: [1, 475] }),
      s('xlarge', 4, 30.5, UP_TO_10, 4, 15, { disks: [1, 950] }),
      s('2xlarge', 8, 61, UP_TO_10, 4, 15, { disks: [1, 1900] }),
      s('4xlarge', 16, 122, UP_TO_10, 8, 30, { disks: [2, 1900] }),
      s('8xlarge', 32, 244, '10 Gigabit', 8, 30, { disks: [4, 1900] }),
      s('16xlarge', 64, 488, '25 Gigabit', 15, 50, { disks: [8, 1900] }),
    ],
  },
  {
    ...NITRO_INTEL, family: 'i3en', category: 'storage-optimized', clockGhz: 3.1, hibernation: false,
    diskType: 'ssd', nvmeStore: true,
    sizes: [
      s('large', 2, 16, 'Up to 25 Gigabit', 3, 10, { disks: [1, 1250] }),
      s('xlarge', 4, 32, 'Up to 25 Gigabit', 4, 15, { disks: [1, 2500] }),
      s('2xlarge', 8, 64, 'Up to 25 Gigabit', 4, 15, { disks: [2, 2500] }),
      s('3xlarge', 12, 96, 'Up to 25 Gigabit', 4, 15, { disks: [1, 7500] }),
      s('6xlarge', 24, 192, '25 Gigabit', 8, 30, { disks: [2, 7500] }),
      s('12xlarge', 48, 384, '50 Gigabit', 8, 30, { disks: [4, 7500], efa: 1 }),
      s('24xlarge', 96, 768, '100 Gigabit', 15, 50, { disks: [8, 7500], efa: 1 }),
    ],
  },
  {
    family: 'd2', category: 'storage-optimized', arch: 'x86_64', manufacturer: 'Intel', clockGhz: 2.4,
    hypervisor: 'xen', threadsPerCore: 2, hibernation: false, dedicatedHosts: true,
    ena: 'unsupported', ebsOptimized: 'default', diskType: 'hdd', nvmeStore: false, instanceStoreRoot: true,
    sizes: [
      s('xlarge', 4, 30.5, 'Moderate', 4, 15, { disks: [3, 2000] }),
      s('2xlarge', 8, 61, 'High', 4, 15, { disks: [6, 2000] }),
      s('4xlarge', 16, 122, 'High', 8, 30, { disks: [12, 2000] }),
      s('8xlarge', 36, 244, '10 Gigabit', 8, 30, { disks: [24, 2000] }),
    ],
  },
  {
    ...NITRO_INTEL, family: 'd3', category: 'storage-optimized', clockGhz: 3.1, hibernation: false,
    diskType: 'hdd', nvmeStore: true,
    sizes: [
      s('xlarge', 4, 32, 'Up to 15 Gigabit', 4, 3, { disks: [3, 2000] }),
      s('2xlarge', 8, 64, 'Up to 15 Gigabit', 4, 5, { disks: [6, 2000] }),
      s('4xlarge', 16, 128, 'Up to 15 Gigabit', 4, 10, { disks: [12, 2000] }),
      s('8xlarge', 32, 256, '25 Gigabit', 3, 20, { disks: [24, 2000] }),
    ],
  },

  // ----- accelerated computing -----
  {
    // P3 predates Nitro: Xen with ENA.
    family: 'p3', category: 'accelerated-computing', arch: 'x86_64', manufacturer: 'Intel', clockGhz: 2.7,
    hypervisor: 'xen', threadsPerCore: 2, hibernation: false, dedicatedHosts: true,
    ena: 'supported', ebsOptimized: 'default',
    accelerator: { kind: 'gpu', name: 'V100', manufacturer: 'NVIDIA', memMiB: 16384 },
    sizes: [
      s('2xlarge', 8, 61, UP_TO_10, 4, 15, { devices: 1 }),
      s('8xlarge', 32, 244, '10 Gigabit', 8, 30, { devices: 4 }),
      s('16xlarge', 64, 488, '25 Gigabit', 8, 30, { devices: 8 }),
    ],
  },
  {
    ...NITRO_INTEL, family: 'g4dn', category: 'accelerated-computing', clockGhz: 2.5, hibernation: false,
    diskType: 'ssd', nvmeStore: true,
    accelerator: { kind: 'gpu', name: 'T4', manufacturer: 'NVIDIA', memMiB: 16384 },
    sizes: [
      s('xlarge', 4, 16, 'Up to 25 Gigabit', 3, 10, { devices: 1, disks: [1, 125] }),
      s('2xlarge', 8, 32, 'Up to 25 Gigabit', 3, 10, { devices: 1, disks: [1, 225] }),
      s('4xlarge', 16, 64, 'Up to 25 Gigabit', 3, 10, { devices: 1, disks: [1, 225] }),
      s('8xlarge', 32, 128, '50 Gigabit', 4, 15, { devices: 1, disks: [1, 900], efa: 1 }),
      s('12xlarge', 48, 192, '50 Gigabit', 8, 30, { devices: 4, disks: [1, 900], efa: 1 }),
      s('16xlarge', 64, 256, '50 Gigabit', 4, 15, { devices: 1, disks: [1, 900], efa: 1 }),
    ],
  },
  {
    ...NITRO_INTEL, family: 'g5', category: 'accelerated-computing', manufacturer: 'AMD', clockGhz: 3.3, hibernation: false,
    diskType: 'ssd', nvmeStore: true,
    accelerator: { kind: 'gpu', name: 'A10G', manufacturer: 'NVIDIA', memMiB: 24576 },
    sizes: [
      s('xlarge', 4, 16, UP_TO_10, 4, 15, { devices: 1, disks: [1, 250] }),
      s('2xlarge', 8, 32, UP_TO_10, 4, 15, { devices: 1, disks: [1, 450] }),
      s('4xlarge', 16, 64, 'Up to 25 Gigabit', 8, 30, { devices: 1, disks: [1, 600] }),
      s('8xlarge', 32, 128, '25 Gigabit', 8, 30, { devices: 1, disks: [1, 900], efa: 1 }),
      s('12xlarge', 48, 192, '40 Gigabit', 15, 50, { devices: 4, disks: [1, 3800], efa: 1 }),
      s('16xlarge', 64, 256, '25 Gigabit', 8, 30, { devices: 1, disks: [1, 1900], efa: 1 }),
      s('24xlarge', 96, 384, '50 Gigabit', 15, 50, { devices: 4, disks: [1, 3800], efa: 1 }),
      s('48xlarge', 192, 768, '100 Gigabit', 7, 50, { devices: 8, disks: [2, 3800], efa: 1 }),
    ],
  },
  {
    ...NITRO_INTEL, family: 'inf1', category: 'accelerated-computing', clockGhz: 2.5, hibernation: false,
    accelerator: { kind: 'inferentia', name: 'Inferentia', manufacturer: 'AWS', memMiB: 8192, cores: 4, coreVersion: 1 },
    sizes: [
      s('xlarge', 4, 8, 'Up to 25 Gigabit', 4, 10, { devices: 1 }),
      s('2xlarge', 8, 16, 'Up to 25 Gigabit', 4, 10, { devices: 1 }),
      s('6xlarge', 24, 48, '25 Gigabit', 8, 30, { devices: 4 }),
      s('24xlarge', 96, 192, '100 Gigabit', 11, 30, { devices: 16, efa: 1 }),
    ],
  },
  {
    ...NITRO_INTEL, family: 'trn1', category: 'accelerated-computing', clockGhz: 3.5, hibernation: false,
    diskType: 'ssd', nvmeStore: true,
    accelerator: { kind: 'trainium', name: 'Trainium', manufacturer: 'AWS', memMiB: 32768, cores: 2, coreVersion: 2 },
    sizes: [
      s('2xlarge', 8, 32, 'Up to 12.5 Gigabit', 4, 15, { devices: 1, disks: [1, 474] }),
      s('32xlarge', 128, 512, '800 Gigabit', 40, 50, { devices: 16, disks: [4, 1900], efa: 8, networkCards: 8 }),
    ],
  },
];

// ---------------------------------------------------------------------------
// Expansion to InstanceTypeInfo

/** Families whose Nitro cards encrypt VPC traffic between instances of supported types. */
const ENCRYPTION_IN_TRANSIT: ReadonlySet<string> = new Set([
  'm6i', 'm7i', 'm7g', 'c6i', 'c7g', 'r6i', 'x2idn', 'i3en', 'd3', 'g4dn', 'g5', 'inf1', 'trn1',
]);

/** Hibernation needs less than 150 GiB of RAM. */
const HIBERNATION_MAX_MIB = 150 * GiB;

function range(from: number, to: number, step = 1): number[] {
  const out: number[] = [];
  for (let i = from; i <= to; i += step) out.push(i);
  return out;
}

function validCores(cores: number, threadsPerCore: number): number[] {
  if (threadsPerCore === 1) return range(1, cores);
  return cores <= 1 ? [1] : range(2, cores, 2);
}

function build(f: FamilySpec, z: SizeSpec): InstanceTypeInfo {
  const name = `${f.family}.${z.size}`;
  const nitro = f.hypervisor === 'nitro';
  const arm = f.arch === 'arm64';
  const cores = z.vcpus / f.threadsPerCore;
  const cards = z.networkCards ?? 1;
  const placement: PlacementGroupStrategy[] = f.burstable ? ['partition', 'spread'] : ['cluster', 'partition', 'spread'];
  const bootModes: BootModeType[] = arm ? ['uefi'] : nitro ? ['legacy-bios', 'uefi'] : ['legacy-bios'];

  const info: InstanceTypeInfo = {
    InstanceType: name as _InstanceType,
    CurrentGeneration: true,
    FreeTierEligible: name === 't2.micro' || name === 't3.micro',
    SupportedUsageClasses: ['on-demand', 'spot'],
    SupportedRootDeviceTypes: f.instanceStoreRoot ? ['ebs', 'instance-store'] : ['ebs'],
    SupportedVirtualizationTypes: ['hvm'],
    BareMetal: false,
    Hypervisor: f.hypervisor,
    ProcessorInfo: {
      SupportedArchitectures: [f.arch],
      SustainedClockSpeedInGhz: f.clockGhz,
      Manufacturer: f.manufacturer,
    },
    VCpuInfo: {
      DefaultVCpus: z.vcpus,
      DefaultCores: cores,
      DefaultThreadsPerCore: f.threadsPerCore,
      // Xen T2 instances cannot change CPU options.
      ...(f.family === 't2'
        ? {}
        : {
            ValidCores: validCores(cores, f.threadsPerCore),
            ValidThreadsPerCore: f.threadsPerCore === 2 ? [1, 2] : [1],
          }),
    },
    MemoryInfo: { SizeInMiB: z.memMiB },
    InstanceStorageSupported: z.disks !== undefined,
  };

  if (z.disks) {
    const [count, size] = z.disks;
    info.InstanceStorageInfo = {
      TotalSizeInGB: count * size,
      Disks: [{ SizeInGB: size, Count: count, Type: f.diskType ?? 'ssd' }],
      NvmeSupport: f.nvmeStore ? 'required' : 'unsupported',
      EncryptionSupport: f.nvmeStore ? 'required' : 'unsupported',
    };
  }

  info.EbsInfo = {
    EbsOptimizedSupport: f.ebsOptimized,
    EncryptionSupport: 'supported',
    NvmeSupport: nitro ? 'required' : 'unsupported',
  };

  const perCard = Math.floor(z.enis / cards);
  info.NetworkInfo = {
    NetworkPerformance: z.net,
    MaximumNetworkInterfaces: z.enis,
    MaximumNetworkCards: cards,
    DefaultNetworkCardIndex: 0,
    NetworkCards: range(0, cards - 1).map((i) => ({
      NetworkCardIndex: i,
      NetworkPerformance: cards > 1 ? `${Number.parseFloat(z.net) / cards} Gigabit` : z.net,
      MaximumNetworkInterfaces: cards > 1 ? perCard : z.enis,
    })),
    Ipv4AddressesPerInterface: z.ips,
    Ipv6AddressesPerInterface: z.ips,
    Ipv6Supported: true,
    EnaSupport: f.ena,
    EfaSupported: z.efa !== undefined,
    ...(z.efa !== undefined ? { EfaInfo: { MaximumEfaInterfaces: z.efa } } : {}),
    EncryptionInTransitSupported: ENCRYPTION_IN_TRANSIT.has(f.family),
  };

  const acc = f.accelerator;
  const devices = z.devices ?? 0;
  if (acc && devices > 0) {
    if (acc.kind === 'gpu') {
      info.GpuInfo = {
        Gpus: [{ Name: acc.name, Manufacturer: acc.manufacturer, Count: devices, MemoryInfo: { SizeInMiB: acc.memMiB } }],
        TotalGpuMemoryInMiB: devices * acc.memMiB,
      };
    } else {
      if (acc.kind === 'inferentia') {
        info.InferenceAcceleratorInfo = {
          Accelerators: [{ Count: devices, Name: acc.name, Manufacturer: acc.manufacturer, MemoryInfo: { SizeInMiB: acc.memMiB } }],
          TotalInferenceMemoryInMiB: devices * acc.memMiB,
        };
      }
      info.NeuronInfo = {
        NeuronDevices: [{
          Count: devices,
          Name: acc.name,
          CoreInfo: { Count: acc.cores ?? 1, Version: acc.coreVersion ?? 1 },
          MemoryInfo: { SizeInMiB: acc.memMiB },
        }],
        TotalNeuronDeviceMemoryInMiB: devices * acc.memMiB,
      };
    }
  }

  info.PlacementGroupInfo = { SupportedStrategies: placement };
  info.HibernationSupported = f.hibernation && z.memMiB < HIBERNATION_MAX_MIB;
  info.BurstablePerformanceSupported = f.burstable === true;
  info.DedicatedHostsSupported = f.dedicatedHosts;
  // Auto recovery is not available for instances with instance store volumes.
  info.AutoRecoverySupported = z.disks === undefined;
  info.SupportedBootModes = bootModes;
  // Enclaves need Nitro and at least 4 vCPUs (2 on Graviton); not on burstables.
  info.NitroEnclavesSupport = nitro && !f.burstable && z.vcpus >= (arm ? 2 : 4) ? 'supported' : 'unsupported';
  info.NitroTpmSupport = nitro ? 'supported' : 'unsupported';
  if (nitro) info.NitroTpmInfo = { SupportedVersions: ['2.0'] };
  return info;
}

/** Every catalogued instance type, grouped by family in catalogue order. Deeply frozen. */
export const INSTANCE_TYPES: readonly InstanceTypeInfo[] = deepFreeze(
  FAMILIES.flatMap((f) => f.sizes.map((z) => build(f, z))),
);

const BY_NAME: ReadonlyMap<string, InstanceTypeInfo> = new Map(INSTANCE_TYPES.map((t) => [t.InstanceType!, t]));
const CATEGORY_BY_FAMILY: ReadonlyMap<string, InstanceTypeCategory> = new Map(FAMILIES.map((f) => [f.family, f.category]));

function familyOf(name: string): string {
  const dot = name.indexOf('.');
  return dot < 0 ? name : name.slice(0, dot);
}

export function findInstanceType(name: string): InstanceTypeInfo | undefined {
  return BY_NAME.get(name);
}

/** Category of a catalogued instance type ('m5.large' → 'general-purpose'); undefined if not catalogued. */
export function instanceTypeCategory(name: string): InstanceTypeCategory | undefined {
  if (!BY_NAME.has(name)) return undefined;
  return CATEGORY_BY_FAMILY.get(familyOf(name));
}

// ---------------------------------------------------------------------------
// Offerings

/**
 * Regions where the limited accelerated families (p3, g5, inf1) are offered.
 */
const ACCELERATED_REGIONS: ReadonlySet<string> = new Set([
  'us-east-1', 'us-east-2', 'us-west-2',
  'eu-west-1', 'eu-west-2', 'eu-central-1',
  'ap-northeast-1', 'ap-northeast-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-south-1',
  'ca-central-1',
]);
const TRN1_REGIONS: ReadonlySet<string> = new Set(['us-east-1', 'us-east-2', 'us-west-2']);

/** Newest-generation and specialised families with partial coverage. */
const NEW_GENERATION: ReadonlySet<string> = new Set(['m7i', 'm7g', 'c7g', 'i3en', 'd3', 'x2idn', 'g4dn']);
const LIMITED_ACCELERATED: ReadonlySet<string> = new Set(['p3', 'g5', 'inf1']);

/**
 * Whether `instanceType` is offered in zone `zoneName` of `region`
 * (DescribeInstanceTypeOfferings). The rule is deterministic:
 *
 *  - Unknown instance type, unknown region, or a zone that is not in that
 *    region → false.
 *  - trn1 → only in us-east-1, us-east-2 and us-west-2, and only in the
 *    first two zones of each (by catalogue order).
 *  - p3, g5, inf1 → only in the ACCELERATED_REGIONS list, and only in the
 *    first three zones of each (so e.g. us-east-1d..f, us-west-2d,
 *    ap-northeast-2d do not have them).
 *  - m7i, m7g, c7g, i3en, d3, x2idn, g4dn → in every zone of the classic
 *    (opt-in-not-required) regions; in opt-in regions only in the first two
 *    zones.
 *  - Every other family → every zone of every region.
 */
export function isOfferedIn(instanceType: string, region: string, zoneName: string): boolean {
  if (!BY_NAME.has(instanceType)) return false;
  const r = findRegion(region);
  if (!r) return false;
  const zoneIndex = r.zones.findIndex((z) => z.ZoneName === zoneName);
  if (zoneIndex < 0) return false;
  const family = familyOf(instanceType);
  if (family === 'trn1') return TRN1_REGIONS.has(region) && zoneIndex < 2;
  if (LIMITED_ACCELERATED.has(family)) return ACCELERATED_REGIONS.has(region) && zoneIndex < 3;
  if (NEW_GENERATION.has(family)) return r.OptInStatus === 'opt-in-not-required' || zoneIndex < 2;
  return true;
}

/** A catalogued instance type (deeply frozen: copy before changing); InvalidParameterValue otherwise. */
export function requireInstanceType(name: string): InstanceTypeInfo {
  const info = findInstanceType(name);
  if (!info) throw new Ec2Error('InvalidParameterValue', `Invalid value '${name}' for InstanceType.`);
  return info;
}
