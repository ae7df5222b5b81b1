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
  EbsOptimizedInfo,
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
  /** 'neuron': a Neuron device that reports only NeuronInfo (Inferentia2, Trainium) */
  kind: 'gpu' | 'inferentia' | 'trainium' | 'neuron';
  name: string;
  manufacturer: string;
  memMiB: number;
  /** NeuronCores per device (inferentia/trainium). */
  cores?: number;
  coreVersion?: number;
}

/**
 * How a family's EBS bandwidth scales (EbsOptimizedInfo): the published figures of
 * a generation, by vCPU count; a burstable family's by size.
 */
type EbsGeneration = 'xen' | 'nitro5' | 'nitro6' | 'graviton2' | 'burstable' | 'mac';

/** [baseline Mbps, baseline IOPS, maximum Mbps, maximum IOPS] */
type EbsFigures = readonly [number, number, number, number];

interface FamilySpec {
  family: string;
  category: InstanceTypeCategory;
  arch: ArchitectureType;
  manufacturer: 'Intel' | 'AMD' | 'AWS' | 'Apple';
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
  /** EBS bandwidth generation; default: nitro5 on Nitro, xen on Xen */
  ebs?: EbsGeneration;
  /** sizes whose published EBS figures differ from their generation's */
  ebsBySize?: Readonly<Record<string, EbsFigures>>;
  /** a previous-generation family (CurrentGeneration false) */
  previous?: boolean;
  /** paravirtual only (t1) */
  paravirtual?: boolean;
  /** bare metal only (mac): no hypervisor */
  metal?: boolean;
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
const SIZES_6A = [...SIZES_6I, '48xlarge'] as const;
const SIZES_7A = ['medium', ...SIZES_M5, '32xlarge', '48xlarge'] as const;
const SIZES_C5A = ['large', 'xlarge', '2xlarge', '4xlarge', '8xlarge', '12xlarge', '16xlarge', '24xlarge'] as const;

const NET_M5A: Record<string, string> = {
  ...NET_M5, '8xlarge': UP_TO_10, '12xlarge': '10 Gigabit', '16xlarge': '12 Gigabit', '24xlarge': '20 Gigabit',
};
const NET_6A: Record<string, string> = { ...NET_6I, '48xlarge': '50 Gigabit' };
const NET_7A: Record<string, string> = { ...NET_6A, medium: UP_TO_12_5 };
const NET_C5A: Record<string, string> = {
  large: UP_TO_10, xlarge: UP_TO_10, '2xlarge': UP_TO_10, '4xlarge': UP_TO_10,
  '8xlarge': UP_TO_10, '12xlarge': '12 Gigabit', '16xlarge': '20 Gigabit', '24xlarge': '20 Gigabit',
};

/** Instance store of the 5th-generation `d` variants (m5d, r5d), [count, GB] by size. */
const DISKS_M5D: Record<string, readonly [number, number]> = {
  large: [1, 75], xlarge: [1, 150], '2xlarge': [1, 300], '4xlarge': [2, 300],
  '8xlarge': [2, 600], '12xlarge': [2, 900], '16xlarge': [4, 600], '24xlarge': [4, 900],
};
const DISKS_C5D: Record<string, readonly [number, number]> = {
  large: [1, 50], xlarge: [1, 100], '2xlarge': [1, 200], '4xlarge': [1, 400],
  '9xlarge': [1, 900], '12xlarge': [2, 900], '18xlarge': [2, 900], '24xlarge': [4, 900],
};
/** Instance store of the 6th-generation `d` variants (m6id, c6id, r6id, m6gd, c6gd, r6gd). */
const DISKS_6D: Record<string, readonly [number, number]> = {
  medium: [1, 59], large: [1, 118], xlarge: [1, 237], '2xlarge': [1, 474], '4xlarge': [1, 950],
  '8xlarge': [1, 1900], '12xlarge': [2, 1425], '16xlarge': [2, 1900], '24xlarge': [4, 1425], '32xlarge': [4, 1900],
};

/** A ratio family with instance store on every size. */
function withDisks(sizes: SizeSpec[], disks: Record<string, readonly [number, number]>): SizeSpec[] {
  return sizes.map((z) => {
    const d = disks[z.size];
    if (!d) throw new Error(`no instance store for ${z.size}`);
    return { ...z, disks: d };
  });
}

// Family-wide defaults for the common Nitro families.
const NITRO_INTEL = {
  arch: 'x86_64', manufacturer: 'Intel', hypervisor: 'nitro', threadsPerCore: 2,
  ena: 'required', ebsOptimized: 'default', dedicatedHosts: true,
} as const;
const NITRO_GRAVITON = {
  arch: 'arm64', manufacturer: 'AWS', hypervisor: 'nitro', threadsPerCore: 1,
  ena: 'required', ebsOptimized: 'default', dedicatedHosts: true, ebs: 'graviton2',
} as const;
const NITRO_AMD = { ...NITRO_INTEL, manufacturer: 'AMD' } as const;
/** 6th and 7th generation Nitro (Intel Ice Lake / Sapphire Rapids, AMD Milan / Genoa) */
const NITRO_6 = { ...NITRO_INTEL, ebs: 'nitro6' } as const;
const NITRO_6_AMD = { ...NITRO_AMD, ebs: 'nitro6' } as const;
/** Graviton3 */
const NITRO_GRAVITON_3 = { ...NITRO_GRAVITON, ebs: 'nitro6' } as const;
/** Xen-based families of the 4th generation, with ENA */
const XEN_INTEL = {
  arch: 'x86_64', manufacturer: 'Intel', hypervisor: 'xen', threadsPerCore: 2,
  ena: 'supported', ebsOptimized: 'default', dedicatedHosts: true, hibernation: true,
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
    ...NITRO_INTEL, family: 't3', category: 'general-purpose', clockGhz: 2.5, burstable: true, hibernation: true, ebs: 'burstable',
    sizes: burstableT3('Up to 5 Gigabit'),
  },
  {
    ...NITRO_INTEL, family: 't3a', category: 'general-purpose', manufacturer: 'AMD', clockGhz: 2.2, burstable: true, ebs: 'burstable',
    hibernation: true, dedicatedHosts: false, sizes: burstableT3('Up to 5 Gigabit'),
  },
  {
    ...NITRO_GRAVITON, family: 't4g', category: 'general-purpose', clockGhz: 2.5, burstable: true, hibernation: true, ebs: 'burstable',
    dedicatedHosts: false, sizes: burstableT3('Up to 5 Gigabit'),
  },
  { ...NITRO_INTEL, family: 'm5', category: 'general-purpose', clockGhz: 3.1, hibernation: true, sizes: ratioFamily(SIZES_M5, 4, NET_M5) },
  { ...NITRO_6, family: 'm6i', category: 'general-purpose', clockGhz: 3.5, hibernation: true, sizes: ratioFamily(SIZES_6I, 4, NET_6I, ['32xlarge']) },
  { ...NITRO_GRAVITON, family: 'm6g', category: 'general-purpose', clockGhz: 2.5, hibernation: true, sizes: ratioFamily(SIZES_GRAVITON, 4, NET_6G) },
  { ...NITRO_6, family: 'm7i', category: 'general-purpose', clockGhz: 3.2, hibernation: true, sizes: ratioFamily(SIZES_7I, 4, NET_6I, ['48xlarge']) },
  { ...NITRO_GRAVITON_3, family: 'm7g', category: 'general-purpose', clockGhz: 2.6, hibernation: true, sizes: ratioFamily(SIZES_GRAVITON, 4, NET_7G, ['16xlarge']) },

  // ----- compute optimized -----
  { ...NITRO_INTEL, family: 'c5', category: 'compute-optimized', clockGhz: 3.4, hibernation: true, sizes: ratioFamily(SIZES_C5, 2, NET_C5) },
  { ...NITRO_6, family: 'c6i', category: 'compute-optimized', clockGhz: 3.5, hibernation: true, sizes: ratioFamily(SIZES_6I, 2, NET_6I, ['32xlarge']) },
  { ...NITRO_GRAVITON, family: 'c6g', category: 'compute-optimized', clockGhz: 2.5, hibernation: true, sizes: ratioFamily(SIZES_GRAVITON, 2, NET_6G) },
  { ...NITRO_GRAVITON_3, family: 'c7g', category: 'compute-optimized', clockGhz: 2.6, hibernation: true, sizes: ratioFamily(SIZES_GRAVITON, 2, NET_7G, ['16xlarge']) },

  // ----- memory optimized -----
  { ...NITRO_INTEL, family: 'r5', category: 'memory-optimized', clockGhz: 3.1, hibernation: true, sizes: ratioFamily(SIZES_M5, 8, NET_M5) },
  { ...NITRO_6, family: 'r6i', category: 'memory-optimized', clockGhz: 3.5, hibernation: true, sizes: ratioFamily(SIZES_6I, 8, NET_6I, ['32xlarge']) },
  { ...NITRO_GRAVITON, family: 'r6g', category: 'memory-optimized', clockGhz: 2.5, hibernation: true, sizes: ratioFamily(SIZES_GRAVITON, 8, NET_6G) },
  {
    ...NITRO_6, family: 'x2idn', category: 'memory-optimized', clockGhz: 3.5, hibernation: false,
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
    ...NITRO_6, family: 'trn1', category: 'accelerated-computing', clockGhz: 3.5, hibernation: false,
    diskType: 'ssd', nvmeStore: true,
    accelerator: { kind: 'trainium', name: 'Trainium', manufacturer: 'AWS', memMiB: 32768, cores: 2, coreVersion: 2 },
    sizes: [
      s('2xlarge', 8, 32, 'Up to 12.5 Gigabit', 4, 15, { devices: 1, disks: [1, 474] }),
      s('32xlarge', 128, 512, '800 Gigabit', 40, 50, { devices: 16, disks: [4, 1900], efa: 8, networkCards: 8 }),
    ],
  },

  // ----- more general purpose -----
  {
    family: 't1', category: 'general-purpose', arch: 'x86_64', manufacturer: 'Intel', clockGhz: 2.0,
    hypervisor: 'xen', threadsPerCore: 1, hibernation: false, dedicatedHosts: false,
    ena: 'unsupported', ebsOptimized: 'unsupported', previous: true, paravirtual: true,
    sizes: [s('micro', 1, 0.613, 'Very Low', 2, 2)],
  },
  {
    ...XEN_INTEL, family: 'm4', category: 'general-purpose', clockGhz: 2.4,
    ebsBySize: { '16xlarge': [10000, 65000, 10000, 65000] },
    sizes: [
      s('large', 2, 8, 'Moderate', 2, 10),
      s('xlarge', 4, 16, 'High', 4, 15),
      s('2xlarge', 8, 32, 'High', 4, 15),
      s('4xlarge', 16, 64, 'High', 8, 30),
      s('10xlarge', 40, 160, '10 Gigabit', 8, 30),
      s('16xlarge', 64, 256, '25 Gigabit', 8, 30),
    ],
  },
  { ...NITRO_AMD, family: 'm5a', category: 'general-purpose', clockGhz: 2.5, hibernation: true, sizes: ratioFamily(SIZES_M5, 4, NET_M5A) },
  {
    ...NITRO_INTEL, family: 'm5d', category: 'general-purpose', clockGhz: 3.1, hibernation: true, diskType: 'ssd', nvmeStore: true,
    sizes: withDisks(ratioFamily(SIZES_M5, 4, NET_M5), DISKS_M5D),
  },
  { ...NITRO_6_AMD, family: 'm6a', category: 'general-purpose', clockGhz: 3.6, hibernation: true, sizes: ratioFamily(SIZES_6A, 4, NET_6A, ['48xlarge']) },
  {
    ...NITRO_GRAVITON, family: 'm6gd', category: 'general-purpose', clockGhz: 2.5, hibernation: false, diskType: 'ssd', nvmeStore: true,
    sizes: withDisks(ratioFamily(SIZES_GRAVITON, 4, NET_6G), DISKS_6D),
  },
  {
    ...NITRO_6, family: 'm6id', category: 'general-purpose', clockGhz: 3.5, hibernation: false, diskType: 'ssd', nvmeStore: true,
    sizes: withDisks(ratioFamily(SIZES_6I, 4, NET_6I, ['32xlarge']), DISKS_6D),
  },
  {
    ...NITRO_6_AMD, family: 'm7a', category: 'general-purpose', clockGhz: 3.7, threadsPerCore: 1, hibernation: true,
    sizes: ratioFamily(SIZES_7A, 4, NET_7A, ['48xlarge']),
  },
  {
    ...NITRO_GRAVITON, family: 'a1', category: 'general-purpose', clockGhz: 2.3, hibernation: false,
    sizes: ratioFamily(['medium', 'large', 'xlarge', '2xlarge', '4xlarge'], 2, {
      medium: UP_TO_10, large: UP_TO_10, xlarge: UP_TO_10, '2xlarge': UP_TO_10, '4xlarge': UP_TO_10,
    }),
  },
  {
    family: 'mac1', category: 'general-purpose', arch: 'x86_64_mac', manufacturer: 'Intel', clockGhz: 3.2,
    hypervisor: 'nitro', threadsPerCore: 2, hibernation: false, dedicatedHosts: true,
    ena: 'required', ebsOptimized: 'default', metal: true, ebs: 'mac',
    sizes: [s('metal', 12, 32, '25 Gigabit', 8, 30)],
  },
  {
    family: 'mac2', category: 'general-purpose', arch: 'arm64_mac', manufacturer: 'Apple', clockGhz: 3.2,
    hypervisor: 'nitro', threadsPerCore: 1, hibernation: false, dedicatedHosts: true,
    ena: 'required', ebsOptimized: 'default', metal: true, ebs: 'mac',
    sizes: [s('metal', 8, 16, '10 Gigabit', 8, 30)],
  },

  // ----- more compute optimized -----
  {
    ...XEN_INTEL, family: 'c4', category: 'compute-optimized', clockGhz: 2.9, ena: 'unsupported',
    sizes: [
      s('large', 2, 3.75, 'Moderate', 3, 10),
      s('xlarge', 4, 7.5, 'High', 4, 15),
      s('2xlarge', 8, 15, 'High', 4, 15),
      s('4xlarge', 16, 30, 'High', 8, 30),
      s('8xlarge', 36, 60, '10 Gigabit', 8, 30),
    ],
  },
  { ...NITRO_AMD, family: 'c5a', category: 'compute-optimized', clockGhz: 3.3, hibernation: true, sizes: ratioFamily(SIZES_C5A, 2, NET_C5A) },
  {
    ...NITRO_INTEL, family: 'c5d', category: 'compute-optimized', clockGhz: 3.4, hibernation: true, diskType: 'ssd', nvmeStore: true,
    sizes: withDisks(ratioFamily(SIZES_C5, 2, NET_C5), DISKS_C5D),
  },
  { ...NITRO_6_AMD, family: 'c6a', category: 'compute-optimized', clockGhz: 3.6, hibernation: true, sizes: ratioFamily(SIZES_6A, 2, NET_6A, ['48xlarge']) },
  {
    ...NITRO_GRAVITON, family: 'c6gd', category: 'compute-optimized', clockGhz: 2.5, hibernation: false, diskType: 'ssd', nvmeStore: true,
    sizes: withDisks(ratioFamily(SIZES_GRAVITON, 2, NET_6G), DISKS_6D),
  },
  {
    ...NITRO_6, family: 'c6id', category: 'compute-optimized', clockGhz: 3.5, hibernation: false, diskType: 'ssd', nvmeStore: true,
    sizes: withDisks(ratioFamily(SIZES_6I, 2, NET_6I, ['32xlarge']), DISKS_6D),
  },
  { ...NITRO_6, family: 'c7i', category: 'compute-optimized', clockGhz: 3.2, hibernation: true, sizes: ratioFamily(SIZES_7I, 2, NET_6I, ['48xlarge']) },
  {
    ...NITRO_6_AMD, family: 'c7a', category: 'compute-optimized', clockGhz: 3.7, threadsPerCore: 1, hibernation: true,
    sizes: ratioFamily(SIZES_7A, 2, NET_7A, ['48xlarge']),
  },

  // ----- more memory optimized -----
  {
    ...XEN_INTEL, family: 'r4', category: 'memory-optimized', clockGhz: 2.3,
    sizes: [
      s('large', 2, 15.25, UP_TO_10, 3, 10),
      s('xlarge', 4, 30.5, UP_TO_10, 4, 15),
      s('2xlarge', 8, 61, UP_TO_10, 4, 15),
      s('4xlarge', 16, 122, UP_TO_10, 8, 30),
      s('8xlarge', 32, 244, '10 Gigabit', 8, 30),
      s('16xlarge', 64, 488, '25 Gigabit', 15, 50),
    ],
  },
  { ...NITRO_AMD, family: 'r5a', category: 'memory-optimized', clockGhz: 2.5, hibernation: true, sizes: ratioFamily(SIZES_M5, 8, NET_M5A) },
  {
    ...NITRO_INTEL, family: 'r5d', category: 'memory-optimized', clockGhz: 3.1, hibernation: true, diskType: 'ssd', nvmeStore: true,
    sizes: withDisks(ratioFamily(SIZES_M5, 8, NET_M5), DISKS_M5D),
  },
  { ...NITRO_6_AMD, family: 'r6a', category: 'memory-optimized', clockGhz: 3.6, hibernation: true, sizes: ratioFamily(SIZES_6A, 8, NET_6A, ['48xlarge']) },
  {
    ...NITRO_GRAVITON, family: 'r6gd', category: 'memory-optimized', clockGhz: 2.5, hibernation: false, diskType: 'ssd', nvmeStore: true,
    sizes: withDisks(ratioFamily(SIZES_GRAVITON, 8, NET_6G), DISKS_6D),
  },
  {
    ...NITRO_6, family: 'r6id', category: 'memory-optimized', clockGhz: 3.5, hibernation: false, diskType: 'ssd', nvmeStore: true,
    sizes: withDisks(ratioFamily(SIZES_6I, 8, NET_6I, ['32xlarge']), DISKS_6D),
  },
  { ...NITRO_6, family: 'r7i', category: 'memory-optimized', clockGhz: 3.2, hibernation: true, sizes: ratioFamily(SIZES_7I, 8, NET_6I, ['48xlarge']) },
  { ...NITRO_GRAVITON_3, family: 'r7g', category: 'memory-optimized', clockGhz: 2.6, hibernation: true, sizes: ratioFamily(SIZES_GRAVITON, 8, NET_7G, ['16xlarge']) },
  {
    ...NITRO_6_AMD, family: 'r7a', category: 'memory-optimized', clockGhz: 3.7, threadsPerCore: 1, hibernation: true,
    sizes: ratioFamily(SIZES_7A, 8, NET_7A, ['48xlarge']),
  },
  {
    ...XEN_INTEL, family: 'x1', category: 'memory-optimized', clockGhz: 2.3, hibernation: false, diskType: 'ssd', nvmeStore: false,
    sizes: [
      s('16xlarge', 64, 976, '10 Gigabit', 8, 30, { disks: [1, 1920] }),
      s('32xlarge', 128, 1952, '25 Gigabit', 8, 30, { disks: [2, 1920] }),
    ],
  },
  {
    ...XEN_INTEL, family: 'x1e', category: 'memory-optimized', clockGhz: 2.3, hibernation: false, diskType: 'ssd', nvmeStore: false,
    sizes: [
      s('xlarge', 4, 122, UP_TO_10, 3, 10, { disks: [1, 120] }),
      s('2xlarge', 8, 244, UP_TO_10, 4, 15, { disks: [1, 240] }),
      s('4xlarge', 16, 488, UP_TO_10, 4, 15, { disks: [1, 480] }),
      s('8xlarge', 32, 976, UP_TO_10, 4, 15, { disks: [1, 960] }),
      s('16xlarge', 64, 1952, '10 Gigabit', 8, 30, { disks: [1, 1920] }),
      s('32xlarge', 128, 3904, '25 Gigabit', 8, 30, { disks: [2, 1920] }),
    ],
  },

  // ----- more storage optimized -----
  {
    ...NITRO_6, family: 'i4i', category: 'storage-optimized', clockGhz: 3.5, hibernation: false, diskType: 'ssd', nvmeStore: true,
    sizes: [
      s('large', 2, 16, 'Up to 10 Gigabit', 3, 10, { disks: [1, 468] }),
      s('xlarge', 4, 32, 'Up to 25 Gigabit', 4, 15, { disks: [1, 937] }),
      s('2xlarge', 8, 64, 'Up to 12 Gigabit', 4, 15, { disks: [1, 1875] }),
      s('4xlarge', 16, 128, 'Up to 25 Gigabit', 8, 30, { disks: [1, 3750] }),
      s('8xlarge', 32, 256, '18.75 Gigabit', 8, 30, { disks: [2, 3750] }),
      s('16xlarge', 64, 512, '37.5 Gigabit', 15, 50, { disks: [4, 3750] }),
      s('32xlarge', 128, 1024, '75 Gigabit', 15, 50, { disks: [8, 3750], efa: 1 }),
    ],
  },
  {
    ...XEN_INTEL, family: 'h1', category: 'storage-optimized', clockGhz: 2.3, hibernation: false, diskType: 'hdd', nvmeStore: false,
    sizes: [
      s('2xlarge', 8, 32, UP_TO_10, 4, 15, { disks: [1, 2000] }),
      s('4xlarge', 16, 64, UP_TO_10, 8, 30, { disks: [2, 2000] }),
      s('8xlarge', 32, 128, '10 Gigabit', 8, 30, { disks: [4, 2000] }),
      s('16xlarge', 64, 256, '25 Gigabit', 15, 50, { disks: [8, 2000] }),
    ],
  },

  // ----- more accelerated computing -----
  {
    ...NITRO_INTEL, family: 'p4d', category: 'accelerated-computing', clockGhz: 3.0, hibernation: false,
    diskType: 'ssd', nvmeStore: true,
    accelerator: { kind: 'gpu', name: 'A100', manufacturer: 'NVIDIA', memMiB: 40960 },
    sizes: [s('24xlarge', 96, 1152, '4x 100 Gigabit', 60, 50, { devices: 8, disks: [8, 1000], efa: 4, networkCards: 4 })],
  },
  {
    ...NITRO_6_AMD, family: 'inf2', category: 'accelerated-computing', clockGhz: 3.6, hibernation: false,
    accelerator: { kind: 'neuron', name: 'Inferentia2', manufacturer: 'AWS', memMiB: 32768, cores: 2, coreVersion: 2 },
    sizes: [
      s('xlarge', 4, 16, 'Up to 15 Gigabit', 4, 15, { devices: 1 }),
      s('8xlarge', 32, 128, 'Up to 25 Gigabit', 4, 30, { devices: 1 }),
      s('24xlarge', 96, 384, '50 Gigabit', 15, 50, { devices: 6 }),
      s('48xlarge', 192, 768, '100 Gigabit', 15, 50, { devices: 12 }),
    ],
  },
  {
    ...NITRO_6, family: 'trn1n', category: 'accelerated-computing', clockGhz: 3.5, hibernation: false,
    diskType: 'ssd', nvmeStore: true,
    accelerator: { kind: 'trainium', name: 'Trainium', manufacturer: 'AWS', memMiB: 32768, cores: 2, coreVersion: 2 },
    sizes: [s('32xlarge', 128, 512, '1600 Gigabit', 80, 50, { devices: 16, disks: [4, 1900], efa: 16, networkCards: 16 })],
  },
];

// ---------------------------------------------------------------------------
// Expansion to InstanceTypeInfo

/** Families whose Nitro cards encrypt VPC traffic between instances of supported types. */
const ENCRYPTION_IN_TRANSIT: ReadonlySet<string> = new Set([
  'm6i', 'm7i', 'm7g', 'c6i', 'c7g', 'r6i', 'x2idn', 'i3en', 'd3', 'g4dn', 'g5', 'inf1', 'trn1',
  'm5dn', 'm6a', 'm6id', 'm7a', 'c6a', 'c6id', 'c7i', 'c7a', 'r6a', 'r6id', 'r7i', 'r7g', 'r7a', 'i4i', 'p4d', 'inf2', 'trn1n',
]);

/**
 * Families whose largest (EFA) size offers ENA Express (SRD): the 6th and 7th
 * generation, x2idn, i4i, and the Trainium and A100 machines.
 */
const ENA_EXPRESS: ReadonlySet<string> = new Set([
  'm6i', 'm6id', 'm6a', 'm7i', 'm7g', 'm7a', 'c6i', 'c6id', 'c6a', 'c7i', 'c7g', 'c7a',
  'r6i', 'r6id', 'r6a', 'r7i', 'r7g', 'r7a', 'x2idn', 'i4i', 'p4d', 'trn1', 'trn1n',
]);


/** A generation's EBS figures by vCPU count (sizes up to 4xlarge burst to the maximum of the 4xlarge). */
const EBS_BY_VCPUS: Record<Exclude<EbsGeneration, 'burstable' | 'mac'>, Record<number, EbsFigures>> = {
  nitro5: {
    2: [650, 3600, 4750, 18750], 4: [1150, 6000, 4750, 18750], 8: [2300, 12000, 4750, 18750],
    12: [3500, 16000, 4750, 18750], 16: [4750, 18750, 4750, 18750], 24: [5000, 20000, 5000, 20000],
    32: [6800, 30000, 6800, 30000], 36: [9500, 40000, 9500, 40000], 48: [9500, 40000, 9500, 40000],
    64: [13600, 60000, 13600, 60000], 72: [19000, 80000, 19000, 80000], 96: [19000, 80000, 19000, 80000],
    128: [19000, 80000, 19000, 80000],
  },
  nitro6: {
    1: [315, 2500, 10000, 40000], 2: [650, 3600, 10000, 40000], 4: [1250, 6000, 10000, 40000],
    8: [2500, 12000, 10000, 40000], 16: [5000, 20000, 10000, 40000], 32: [10000, 40000, 10000, 40000],
    48: [15000, 60000, 15000, 60000], 64: [20000, 80000, 20000, 80000], 96: [30000, 120000, 30000, 120000],
    128: [40000, 160000, 40000, 160000], 192: [40000, 240000, 40000, 240000],
  },
  graviton2: {
    1: [315, 2500, 4750, 20000], 2: [630, 3600, 4750, 20000], 4: [1188, 6000, 4750, 20000],
    8: [2375, 12000, 4750, 20000], 16: [4750, 20000, 4750, 20000], 32: [9500, 40000, 9500, 40000],
    48: [14250, 50000, 14250, 50000], 64: [19000, 80000, 19000, 80000],
  },
  // Xen families do not burst: the baseline is the maximum
  xen: {
    2: [450, 3600, 450, 3600], 4: [750, 6000, 750, 6000], 8: [1000, 8000, 1000, 8000],
    16: [2000, 16000, 2000, 16000], 32: [7000, 37500, 7000, 37500], 36: [4000, 32000, 4000, 32000],
    40: [4000, 32000, 4000, 32000], 64: [14000, 75000, 14000, 75000], 128: [14000, 80000, 14000, 80000],
  },
};

/** t3, t3a, t4g by size. */
const EBS_BURSTABLE: Record<string, EbsFigures> = {
  nano: [43, 250, 2085, 11800], micro: [87, 500, 2085, 11800], small: [174, 1000, 2085, 11800],
  medium: [347, 2000, 2085, 11800], large: [695, 4000, 2780, 15700], xlarge: [695, 4000, 2780, 15700],
  '2xlarge': [695, 4000, 2780, 15700],
};

const EBS_MAC: EbsFigures = [10000, 55000, 10000, 55000];

/** A generation's figures for a size: by size for burstables, else for its vCPUs (or the nearest smaller count listed). */
function generationFigures(generation: EbsGeneration, z: SizeSpec): EbsFigures | undefined {
  if (generation === 'burstable') return EBS_BURSTABLE[z.size];
  if (generation === 'mac') return EBS_MAC;
  const table = EBS_BY_VCPUS[generation];
  const counts = Object.keys(table).map(Number).sort((a, b) => b - a);
  const n = counts.find((c) => c <= z.vcpus) ?? counts[counts.length - 1]!;
  return table[n];
}

/** EbsOptimizedInfo of a size: its generation's figures for its vCPUs (or the nearest smaller count listed). */
function ebsOptimizedInfo(f: FamilySpec, z: SizeSpec): EbsOptimizedInfo | undefined {
  if (f.ebsOptimized === 'unsupported') return undefined;
  const generation = f.ebs ?? (f.hypervisor === 'nitro' ? 'nitro5' : 'xen');
  const figures = f.ebsBySize?.[z.size] ?? generationFigures(generation, z);
  if (!figures) throw new Error(`no EBS figures for ${f.family}.${z.size}`);
  const [baseMbps, baseIops, maxMbps, maxIops] = figures;
  return {
    BaselineBandwidthInMbps: baseMbps,
    BaselineThroughputInMBps: baseMbps / 8,
    BaselineIops: baseIops,
    MaximumBandwidthInMbps: maxMbps,
    MaximumThroughputInMBps: maxMbps / 8,
    MaximumIops: maxIops,
  };
}

/** One network card's share of a size's network performance ('800 Gigabit' over 8 cards, or '4x 100 Gigabit'). */
function cardPerformance(net: string, cards: number): string {
  if (cards === 1) return net;
  const each = /^(\d+)x (.*)$/.exec(net);
  if (each) return each[2]!;
  return `${Number.parseFloat(net) / cards} Gigabit`;
}

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
  const placement: PlacementGroupStrategy[] = f.burstable || f.metal ? ['partition', 'spread'] : ['cluster', 'partition', 'spread'];
  const bootModes: BootModeType[] = arm || f.arch === 'arm64_mac' ? ['uefi'] : nitro ? ['legacy-bios', 'uefi'] : ['legacy-bios'];

  const info: InstanceTypeInfo = {
    InstanceType: name as _InstanceType,
    CurrentGeneration: f.previous !== true,
    FreeTierEligible: name === 't2.micro' || name === 't3.micro',
    // Mac instances run on Dedicated Hosts only: no Spot
    SupportedUsageClasses: f.metal ? ['on-demand'] : ['on-demand', 'spot'],
    SupportedRootDeviceTypes: f.instanceStoreRoot ? ['ebs', 'instance-store'] : ['ebs'],
    SupportedVirtualizationTypes: f.paravirtual ? ['paravirtual'] : ['hvm'],
    BareMetal: f.metal === true,
    ...(f.metal ? {} : { Hypervisor: f.hypervisor }),
    ProcessorInfo: {
      SupportedArchitectures: f.paravirtual ? ['i386', f.arch] : [f.arch],
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

  const ebsOptimized = ebsOptimizedInfo(f, z);
  info.EbsInfo = {
    EbsOptimizedSupport: f.ebsOptimized,
    EncryptionSupport: f.paravirtual ? 'unsupported' : 'supported',
    ...(ebsOptimized ? { EbsOptimizedInfo: ebsOptimized } : {}),
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
      NetworkPerformance: cardPerformance(z.net, cards),
      MaximumNetworkInterfaces: cards > 1 ? perCard : z.enis,
    })),
    Ipv4AddressesPerInterface: z.ips,
    Ipv6AddressesPerInterface: z.ips,
    Ipv6Supported: true,
    EnaSupport: f.ena,
    EfaSupported: z.efa !== undefined,
    ...(z.efa !== undefined ? { EfaInfo: { MaximumEfaInterfaces: z.efa } } : {}),
    EncryptionInTransitSupported: ENCRYPTION_IN_TRANSIT.has(f.family),
    EnaSrdSupported: ENA_EXPRESS.has(f.family) && z.efa !== undefined,
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
  info.NitroTpmSupport = nitro && !f.metal ? 'supported' : 'unsupported';
  if (nitro && !f.metal) info.NitroTpmInfo = { SupportedVersions: ['2.0'] };
  // the Nitro cards' PTP hardware clock
  info.PhcSupport = nitro && !f.metal ? 'supported' : 'unsupported';
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
const NEW_GENERATION: ReadonlySet<string> = new Set([
  'm7i', 'm7g', 'c7g', 'i3en', 'd3', 'x2idn', 'g4dn',
  'm7a', 'c7i', 'c7a', 'r7i', 'r7g', 'r7a', 'i4i', 'm6id', 'c6id', 'r6id',
]);
const LIMITED_ACCELERATED: ReadonlySet<string> = new Set(['p3', 'g5', 'inf1', 'p4d', 'inf2']);
/** Xen-era families: only in the regions that need no opt-in (the newer regions never had them). */
const OLD_GENERATION: ReadonlySet<string> = new Set(['t1', 'm4', 'c4', 'r4', 'x1', 'x1e', 'h1']);
/** The original regions, where t1 is still offered. */
const T1_REGIONS: ReadonlySet<string> = new Set(['us-east-1', 'us-west-1', 'us-west-2', 'eu-west-1', 'ap-northeast-1', 'ap-southeast-1', 'ap-southeast-2', 'sa-east-1']);
/** Mac Dedicated Hosts: a few regions, their first two zones. */
const MAC_REGIONS: ReadonlySet<string> = new Set(['us-east-1', 'us-east-2', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-northeast-1', 'ap-southeast-1', 'ap-southeast-2']);

/**
 * Whether `instanceType` is offered in zone `zoneName` of `region`
 * (DescribeInstanceTypeOfferings). The rule is deterministic:
 *
 *  - Unknown instance type, unknown region, or a zone that is not in that
 *    region → false.
 *  - trn1, trn1n → only in us-east-1, us-east-2 and us-west-2, and only in the
 *    first two zones of each (by catalogue order).
 *  - mac1, mac2 → only in MAC_REGIONS, first two zones.
 *  - t1 → only in the original regions (T1_REGIONS), first three zones.
 *  - m4, c4, r4, x1, x1e, h1 → every zone of the regions that need no opt-in.
 *  - p3, g5, inf1, p4d, inf2 → only in the ACCELERATED_REGIONS list, and only in the
 *    first three zones of each (so e.g. us-east-1d..f, us-west-2d,
 *    ap-northeast-2d do not have them).
 *  - m7i, m7g, c7g, i3en, d3, x2idn, g4dn, the 7th-generation AMD/Intel and
 *    r7g families, i4i and the 6th-generation Intel `d` families → in every zone of the classic
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
  if (family === 'trn1' || family === 'trn1n') return TRN1_REGIONS.has(region) && zoneIndex < 2;
  if (family === 'mac1' || family === 'mac2') return MAC_REGIONS.has(region) && zoneIndex < 2;
  if (family === 't1') return T1_REGIONS.has(region) && zoneIndex < 3;
  if (OLD_GENERATION.has(family)) return r.OptInStatus === 'opt-in-not-required';
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
