/**
 * EBS volume types: their size, IOPS and throughput rules (with EC2's errors)
 * and the limits each type gives a device. Pure: used by CreateVolume,
 * ModifyVolume and RunInstances' block device mappings, and by the reconciler
 * for the I/O limits it asks the hypervisor to enforce.
 */
import { Ec2Error, invalidParameterCombination, invalidParameterValue, missingParameter } from './errors.js';

export const VOLUME_TYPES = ['standard', 'io1', 'io2', 'gp2', 'sc1', 'st1', 'gp3'] as const;
export type VolumeType = (typeof VOLUME_TYPES)[number];

interface TypeRules {
  size: [number, number];
  /** settable IOPS: range and the most per GiB (absent: not settable) */
  iops?: { range: [number, number]; perGiB: number; required: boolean; default?: number };
  /** settable throughput in MiB/s (gp3 only) */
  throughput?: { range: [number, number]; perIops: number; default: number };
}

const RULES: Record<VolumeType, TypeRules> = {
  standard: { size: [1, 1024] },
  gp2: { size: [1, 16384] },
  gp3: {
    size: [1, 16384],
    iops: { range: [3000, 16000], perGiB: 500, required: false, default: 3000 },
    throughput: { range: [125, 1000], perIops: 0.25, default: 125 },
  },
  io1: { size: [4, 16384], iops: { range: [100, 64000], perGiB: 50, required: true } },
  io2: { size: [4, 65536], iops: { range: [100, 256000], perGiB: 1000, required: true } },
  st1: { size: [125, 16384] },
  sc1: { size: [125, 16384] },
};

export function isVolumeType(t: string): t is VolumeType {
  return (VOLUME_TYPES as readonly string[]).includes(t);
}

export function checkVolumeType(t: string | undefined, fallback: VolumeType = 'gp2'): VolumeType {
  const type = t ?? fallback;
  if (!isVolumeType(type)) {
    throw invalidParameterValue(`Value (${type}) for parameter volumeType is invalid. Expected: '${VOLUME_TYPES.join("', '")}'.`);
  }
  return type;
}

export interface VolumeShape {
  type: VolumeType;
  sizeGiB: number;
  /** provisioned IOPS as stored (gp2's baseline for gp2, as EC2 reports it) */
  iops?: number;
  throughput?: number;
}

/**
 * Checks size, IOPS and throughput for the type and fills in the defaults EC2
 * reports (gp2's baseline IOPS, gp3's 3000/125). Errors as EC2 words them.
 */
export function checkVolumeShape(input: { type: VolumeType; sizeGiB: number | undefined; iops?: number; throughput?: number }): VolumeShape {
  const { type } = input;
  const rules = RULES[type];
  const size = input.sizeGiB;
  if (size === undefined) throw missingParameter('size');
  const [lo, hi] = rules.size;
  if (!Number.isInteger(size) || size < lo) {
    throw invalidParameterValue(`Volume of ${size}GiB is too small; minimum is ${lo}GiB for volume type ${type}.`);
  }
  if (size > hi) throw invalidParameterValue(`Volume of ${size}GiB is too large for volume type ${type}; maximum is ${hi}GiB.`);
  let iops = input.iops;
  if (iops !== undefined && !rules.iops) throw invalidParameterCombination(`The parameter iops is not supported for ${type} volumes.`);
  if (input.throughput !== undefined && !rules.throughput) {
    throw invalidParameterCombination(`The parameter throughput is not supported for ${type} volumes.`);
  }
  if (rules.iops) {
    if (iops === undefined) {
      if (rules.iops.required) throw missingParameter('iops');
      iops = rules.iops.default;
    }
    const [ilo, ihi] = rules.iops.range;
    if (!Number.isInteger(iops) || iops! < ilo || iops! > ihi) {
      throw invalidParameterValue(`Volume iops of ${iops} is out of range for volume type ${type}; the valid range is ${ilo}-${ihi}.`);
    }
    // gp3's baseline comes with any size; the ratio bounds what is provisioned above it
    if (iops! > (rules.iops.default ?? 0) && iops! / size > rules.iops.perGiB) {
      throw invalidParameterValue(`Iops to volume size ratio of ${(iops! / size).toFixed(6)} is too high; maximum is ${rules.iops.perGiB.toFixed(6)}.`);
    }
  } else if (type === 'gp2') {
    iops = gp2Iops(size);
  }
  let throughput = input.throughput;
  if (rules.throughput) {
    throughput ??= rules.throughput.default;
    const [tlo, thi] = rules.throughput.range;
    if (!Number.isInteger(throughput) || throughput < tlo || throughput > thi) {
      throw invalidParameterValue(`Throughput of ${throughput}MiB/s is out of range for volume type ${type}; the valid range is ${tlo}-${thi}MiB/s.`);
    }
    if (throughput > iops! * rules.throughput.perIops) {
      throw invalidParameterValue(`Throughput (MiBps) to iops ratio of ${(throughput / iops!).toFixed(6)} is too high; maximum is ${rules.throughput.perIops.toFixed(6)} MiBps per iops.`);
    }
  }
  const out: VolumeShape = { type, sizeGiB: size };
  if (iops !== undefined) out.iops = iops;
  if (throughput !== undefined) out.throughput = throughput;
  return out;
}

/** gp2's baseline: 3 IOPS per GiB, at least 100, at most 16,000. */
export function gp2Iops(sizeGiB: number): number {
  return Math.min(16000, Math.max(100, 3 * sizeGiB));
}

const MiB = 1024 * 1024;

/**
 * EBS counts an I/O of up to 256 KiB as one operation. The host's block layer
 * counts bios before it merges them, and a buffered write reaches a block device
 * as 4 KiB bios: writes get 64 (256 / 4) host operations per EBS operation, so a
 * buffered write is bounded by the throughput as on EBS, not slowed 64-fold.
 */
const WRITE_BIOS_PER_OPERATION = 64;

/** What the device gets: the type's IOPS and throughput as I/O limits (per direction). */
export function volumeLimits(v: VolumeShape): { iops: number; writeIops: number; bytesPerSecond: number } {
  const l = typeLimits(v);
  return { ...l, writeIops: l.iops * WRITE_BIOS_PER_OPERATION };
}

/**
 * One of `holders` devices' share of a volume's limits: each an even part,
 * rounded down (at least 1), so that together they stay within the volume's.
 * A Multi-Attach volume's IOPS and throughput are the aggregate of all the
 * instances it is attached to; the host's v1 blkio throttle is not
 * hierarchical (a rule on a common parent cgroup does not cap its children),
 * so the aggregate is kept by splitting.
 */
export function shareOfLimits<L extends { iops: number; writeIops: number; bytesPerSecond: number }>(l: L, holders: number): L {
  const n = Math.max(1, Math.floor(holders));
  if (n === 1) return l;
  const part = (x: number) => Math.max(1, Math.floor(x / n));
  return { ...l, iops: part(l.iops), writeIops: part(l.writeIops), bytesPerSecond: part(l.bytesPerSecond) };
}

function typeLimits(v: VolumeShape): { iops: number; bytesPerSecond: number } {
  const tib = v.sizeGiB / 1024;
  switch (v.type) {
    case 'gp2':
      return { iops: gp2Iops(v.sizeGiB), bytesPerSecond: (v.sizeGiB <= 170 ? 128 : 250) * MiB };
    case 'gp3':
      return { iops: v.iops ?? 3000, bytesPerSecond: (v.throughput ?? 125) * MiB };
    case 'io1':
      return { iops: v.iops ?? 100, bytesPerSecond: Math.min(1000, Math.max(1, (v.iops ?? 100) / 64)) * MiB };
    case 'io2':
      return { iops: v.iops ?? 100, bytesPerSecond: Math.min(4000, Math.max(1, (v.iops ?? 100) / 64)) * MiB };
    case 'st1':
      return { iops: 500, bytesPerSecond: Math.min(500, Math.max(20, 40 * tib)) * MiB };
    case 'sc1':
      return { iops: 250, bytesPerSecond: Math.min(250, Math.max(6, 12 * tib)) * MiB };
    case 'standard':
      return { iops: 200, bytesPerSecond: 90 * MiB };
  }
}

/** EBS device names a Linux instance may use for a volume (`/dev/sdf`, `/dev/xvdf`, `xvdba`…). */
const DEVICE = /^\/dev\/(sd[a-z]\d{0,2}|xvd[a-z]{1,2}\d{0,2}|nvme\d+n\d+)$|^(sd|xvd)[a-z]{1,2}\d{0,2}$/;

export function isDeviceName(name: string): boolean {
  return DEVICE.test(name);
}

/** The device as the guest sees it: a bare `xvdf` is `/dev/xvdf`. */
export function devicePath(name: string): string {
  return name.startsWith('/dev/') ? name : `/dev/${name}`;
}

export function checkDeviceName(name: string | undefined): string {
  if (name === undefined || name === '') throw missingParameter('device');
  if (!isDeviceName(name)) throw new Ec2Error('InvalidParameterValue', `Value (${name}) for parameter device is invalid. ${name} is not a valid EBS device name.`);
  return name;
}
