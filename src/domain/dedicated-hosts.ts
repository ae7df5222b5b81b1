/**
 * Dedicated host capacity from the instance-type catalogue: a host of a family
 * has the vCPUs of the family's largest size; a single-type host holds as many
 * instances of its type as fit, a family host (AllowsMultipleInstanceTypes)
 * any mix of the family's types that fits its vCPUs.
 */
import type { InstanceTypeInfo } from '@aws-sdk/client-ec2';
import { Ec2Error } from './errors.js';
import { INSTANCE_TYPES, findInstanceType } from './instance-types.js';

export const familyOf = (type: string): string => type.split('.')[0]!;

/** The family's types that dedicated hosts support, smallest first. */
export function hostFamilyTypes(family: string): InstanceTypeInfo[] {
  return INSTANCE_TYPES.filter((t) => familyOf(t.InstanceType!) === family && t.DedicatedHostsSupported === true).sort(
    (a, b) => vcpusOf(a) - vcpusOf(b),
  );
}

export const vcpusOf = (t: InstanceTypeInfo): number => t.VCpuInfo?.DefaultVCpus ?? 1;

export interface HostShape {
  Cores: number;
  Sockets: number;
  TotalVCpus: number;
}

/** The host hardware for a family (its largest size's vCPUs, two sockets). */
export function hostShape(family: string): HostShape {
  const types = hostFamilyTypes(family);
  const largest = types[types.length - 1];
  if (!largest) throw new Ec2Error('InvalidParameterValue', `Dedicated hosts are not supported for the instance family ${family}.`);
  const vcpus = vcpusOf(largest);
  return { Cores: vcpus / (largest.VCpuInfo?.DefaultThreadsPerCore ?? 1), Sockets: 2, TotalVCpus: vcpus };
}

/** A type a single-type host can be allocated for; InvalidParameterValue otherwise. */
export function requireHostInstanceType(type: string): InstanceTypeInfo {
  const t = findInstanceType(type);
  if (!t) throw new Ec2Error('InvalidParameterValue', `Value (${type}) for parameter instanceType is invalid.`);
  if (t.DedicatedHostsSupported !== true) throw new Ec2Error('InvalidParameterValue', `Dedicated hosts are not supported for the instance type ${type}.`);
  return t;
}

export interface CapacityLine {
  InstanceType: string;
  AvailableCapacity: number;
  TotalCapacity: number;
}

/** Free capacity of a host given the vCPUs of the instances on it. */
export function hostCapacity(
  shape: HostShape,
  host: { InstanceType?: string; InstanceFamily?: string },
  instances: readonly string[],
): { lines: CapacityLine[]; availableVCpus: number } {
  const used = instances.reduce((sum, type) => sum + vcpusOf(findInstanceType(type) ?? ({} as InstanceTypeInfo)), 0);
  const free = Math.max(0, shape.TotalVCpus - used);
  const types = host.InstanceType ? [findInstanceType(host.InstanceType)!] : hostFamilyTypes(host.InstanceFamily ?? '');
  const lines = types.map((t) => ({
    InstanceType: t.InstanceType!,
    TotalCapacity: Math.floor(shape.TotalVCpus / vcpusOf(t)),
    AvailableCapacity: Math.floor(free / vcpusOf(t)),
  }));
  return { lines, availableVCpus: free };
}

/** Whether an instance of `type` may run on the host (its type, or a type of its family). */
export function hostTakes(host: { InstanceType?: string; InstanceFamily?: string }, type: string): boolean {
  return host.InstanceType !== undefined ? host.InstanceType === type : familyOf(type) === host.InstanceFamily;
}
