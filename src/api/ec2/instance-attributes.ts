/**
 * DescribeInstanceAttribute, ModifyInstanceAttribute,
 * ModifyInstanceMetadataOptions and GetConsoleOutput.
 *
 * ModifyInstanceAttribute changes one attribute per call, as EC2 does; the
 * instance type, user data, EBS optimization and ENA/SR-IOV support only
 * while the instance is stopped.
 */
import { attachmentTo, volumeCollection } from '../../resources/ec2/volumes.js';
import type {
  DescribeInstanceAttributeRequest,
  GetConsoleOutputRequest,
  GetConsoleOutputResult,
  InstanceAttribute,
  ModifyInstanceAttributeRequest,
  ModifyInstanceMetadataOptionsRequest,
  ModifyInstanceMetadataOptionsResult,
} from '@aws-sdk/client-ec2';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { action, type ActionHandler, type RequestContext } from '../context.js';
import { consoleOutputOf, eniCollection, instanceCollection, interfacesOf, type StoredInstance } from '../../resources/ec2/instances.js';
import { requireInstances } from './instance-view.js';
import type { SubnetRecord } from '../../resources/ec2/records.js';
import { applyMetadataOptions, checkArchitecture, checkOffered, checkUserData } from './run-instances.js';
import { resolveGroups } from '../../resources/ec2/network-interfaces.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { requireInstanceType } from '../../domain/instance-types.js';

function requireInstance(ctx: RequestContext, id: string | undefined): StoredInstance {
  if (id === undefined || id === '') throw missingParameter('InstanceId');
  return requireInstances(ctx, [id])[0]!;
}

const ATTRIBUTES = [
  'instanceType',
  'kernel',
  'ramdisk',
  'userData',
  'disableApiTermination',
  'instanceInitiatedShutdownBehavior',
  'rootDeviceName',
  'blockDeviceMapping',
  'productCodes',
  'sourceDestCheck',
  'groupSet',
  'ebsOptimized',
  'sriovNetSupport',
  'enaSupport',
  'enclaveOptions',
  'disableApiStop',
] as const;
type AttributeName = (typeof ATTRIBUTES)[number];

function unknownAttribute(name: string): Ec2Error {
  return new Ec2Error('InvalidParameterValue', `Value (${name}) for parameter attribute is invalid. Unknown attribute.`);
}

// ---------------------------------------------------------------- DescribeInstanceAttribute

const describeInstanceAttribute = action((ctx, input: DescribeInstanceAttributeRequest): InstanceAttribute => {
  if (!input.Attribute) throw missingParameter('Attribute');
  const name = input.Attribute as string;
  if (!(ATTRIBUTES as readonly string[]).includes(name)) throw unknownAttribute(name);
  const rec = requireInstance(ctx, input.InstanceId);
  const out: InstanceAttribute = { InstanceId: rec.InstanceId };
  switch (name as AttributeName) {
    case 'instanceType':
      out.InstanceType = { Value: rec.InstanceType };
      break;
    case 'kernel':
      out.KernelId = {};
      break;
    case 'ramdisk':
      out.RamdiskId = {};
      break;
    case 'userData':
      out.UserData = rec.userData ? { Value: rec.userData } : {};
      break;
    case 'disableApiTermination':
      out.DisableApiTermination = { Value: rec.disableApiTermination };
      break;
    case 'disableApiStop':
      out.DisableApiStop = { Value: rec.disableApiStop };
      break;
    case 'instanceInitiatedShutdownBehavior':
      out.InstanceInitiatedShutdownBehavior = { Value: rec.instanceInitiatedShutdownBehavior };
      break;
    case 'rootDeviceName':
      out.RootDeviceName = { Value: rec.RootDeviceName };
      break;
    case 'blockDeviceMapping':
      out.BlockDeviceMappings = rec.BlockDeviceMappings ?? [];
      break;
    case 'productCodes':
      out.ProductCodes = rec.ProductCodes ?? [];
      break;
    case 'sourceDestCheck':
      out.SourceDestCheck = { Value: rec.SourceDestCheck ?? true };
      break;
    case 'groupSet':
      out.Groups = rec.SecurityGroups;
      break;
    case 'ebsOptimized':
      out.EbsOptimized = { Value: rec.EbsOptimized ?? false };
      break;
    case 'sriovNetSupport':
      out.SriovNetSupport = rec.SriovNetSupport ? { Value: rec.SriovNetSupport } : {};
      break;
    case 'enaSupport':
      out.EnaSupport = { Value: rec.EnaSupport ?? false };
      break;
    case 'enclaveOptions':
      out.EnclaveOptions = { Enabled: rec.EnclaveOptions?.Enabled ?? false };
      break;
  }
  return out;
});

// ---------------------------------------------------------------- ModifyInstanceAttribute

/** The one change a ModifyInstanceAttribute call asks for, from either request form. */
type Change =
  | { attr: 'instanceType'; value: string }
  | { attr: 'userData'; value: Buffer }
  | { attr: 'disableApiTermination' | 'disableApiStop' | 'sourceDestCheck' | 'ebsOptimized' | 'enaSupport'; value: boolean }
  | { attr: 'instanceInitiatedShutdownBehavior' | 'sriovNetSupport' | 'kernel' | 'ramdisk'; value: string }
  | { attr: 'groupSet'; value: string[] }
  | { attr: 'blockDeviceMapping'; value: NonNullable<ModifyInstanceAttributeRequest['BlockDeviceMappings']> };

function boolValue(attr: string, v: string): boolean {
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new Ec2Error('InvalidParameterValue', `Value (${v}) for parameter ${attr} is invalid. Expected 'true' or 'false'.`);
}

function requestedChange(input: ModifyInstanceAttributeRequest): Change {
  const found: Change[] = [];
  const req = <T>(v: { Value?: T } | undefined, name: string): T => {
    if (v?.Value === undefined) throw missingParameter(`${name}.Value`);
    return v.Value;
  };
  if (input.InstanceType) found.push({ attr: 'instanceType', value: req(input.InstanceType, 'InstanceType') });
  if (input.UserData) found.push({ attr: 'userData', value: Buffer.from(req(input.UserData, 'UserData')) });
  if (input.DisableApiTermination) found.push({ attr: 'disableApiTermination', value: req(input.DisableApiTermination, 'DisableApiTermination') });
  if (input.DisableApiStop) found.push({ attr: 'disableApiStop', value: req(input.DisableApiStop, 'DisableApiStop') });
  if (input.SourceDestCheck) found.push({ attr: 'sourceDestCheck', value: req(input.SourceDestCheck, 'SourceDestCheck') });
  if (input.EbsOptimized) found.push({ attr: 'ebsOptimized', value: req(input.EbsOptimized, 'EbsOptimized') });
  if (input.EnaSupport) found.push({ attr: 'enaSupport', value: req(input.EnaSupport, 'EnaSupport') });
  if (input.InstanceInitiatedShutdownBehavior) {
    found.push({ attr: 'instanceInitiatedShutdownBehavior', value: req(input.InstanceInitiatedShutdownBehavior, 'InstanceInitiatedShutdownBehavior') });
  }
  if (input.SriovNetSupport) found.push({ attr: 'sriovNetSupport', value: req(input.SriovNetSupport, 'SriovNetSupport') });
  if (input.Kernel) found.push({ attr: 'kernel', value: req(input.Kernel, 'Kernel') });
  if (input.Ramdisk) found.push({ attr: 'ramdisk', value: req(input.Ramdisk, 'Ramdisk') });
  if (input.Groups && input.Groups.length > 0) found.push({ attr: 'groupSet', value: input.Groups });
  if (input.BlockDeviceMappings && input.BlockDeviceMappings.length > 0) found.push({ attr: 'blockDeviceMapping', value: input.BlockDeviceMappings });
  if (input.Attribute !== undefined) {
    const name = input.Attribute as string;
    if (!(ATTRIBUTES as readonly string[]).includes(name)) throw unknownAttribute(name);
    if (input.Value === undefined) throw missingParameter('Value');
    const v = input.Value;
    switch (name as AttributeName) {
      case 'instanceType':
      case 'instanceInitiatedShutdownBehavior':
      case 'sriovNetSupport':
      case 'kernel':
      case 'ramdisk':
        found.push({ attr: name as 'instanceType', value: v });
        break;
      case 'userData':
        found.push({ attr: 'userData', value: Buffer.from(v) });
        break;
      case 'disableApiTermination':
      case 'disableApiStop':
      case 'sourceDestCheck':
      case 'ebsOptimized':
      case 'enaSupport':
        found.push({ attr: name as 'ebsOptimized', value: boolValue(name, v) });
        break;
      default:
        throw new Ec2Error('InvalidParameterCombination', `The attribute '${name}' cannot be modified with the Value parameter.`);
    }
  } else if (input.Value !== undefined) {
    throw missingParameter('Attribute');
  }
  if (found.length === 0) throw invalidParameterCombination('No attributes specified.');
  if (found.length > 1) {
    throw invalidParameterCombination(`Fields for multiple attribute types specified: ${found.map((c) => c.attr).join(', ')}`);
  }
  return found[0]!;
}

function requireStopped(rec: StoredInstance): void {
  if (rec.State.Name !== 'stopped') {
    throw new Ec2Error('IncorrectInstanceState', `The instance '${rec.InstanceId}' is not in the 'stopped' state.`);
  }
}

const modifyInstanceAttribute = action((ctx, input: ModifyInstanceAttributeRequest): Record<string, never> => {
  const rec = requireInstance(ctx, input.InstanceId);
  const c = requestedChange(input);
  if (rec.State.Name === 'terminated' || rec.State.Name === 'shutting-down') {
    throw new Ec2Error('IncorrectInstanceState', `The instance '${rec.InstanceId}' is not in a state from which it can be modified.`);
  }
  switch (c.attr) {
    case 'instanceType': {
      requireStopped(rec);
      const type = requireInstanceType(c.value);
      checkArchitecture(type, rec.Architecture ?? 'x86_64');
      checkOffered(ctx, c.value, rec.Placement?.AvailabilityZone ?? '');
      if (rec.HibernationOptions?.Configured && !type.HibernationSupported) {
        throw new Ec2Error('UnsupportedHibernationConfiguration', `The instance type ${c.value} does not support hibernation.`);
      }
      rec.InstanceType = c.value as StoredInstance['InstanceType'];
      rec.CpuOptions = { CoreCount: type.VCpuInfo?.DefaultCores, ThreadsPerCore: type.VCpuInfo?.DefaultThreadsPerCore };
      if (type.EbsInfo?.EbsOptimizedSupport === 'unsupported') rec.EbsOptimized = false;
      else if (type.EbsInfo?.EbsOptimizedSupport === 'default') rec.EbsOptimized = true;
      break;
    }
    case 'userData': {
      requireStopped(rec);
      rec.userData = c.value.length > 0 ? checkUserData(c.value.toString('base64')) : undefined;
      break;
    }
    case 'disableApiTermination':
      rec.disableApiTermination = c.value;
      break;
    case 'disableApiStop':
      rec.disableApiStop = c.value;
      break;
    case 'instanceInitiatedShutdownBehavior':
      if (c.value !== 'stop' && c.value !== 'terminate') {
        throw new Ec2Error('InvalidParameterValue', `Value (${c.value}) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values: stop, terminate`);
      }
      if (c.value === 'stop' && rec.RootDeviceType === 'instance-store') {
        throw new Ec2Error('InvalidParameterCombination', 'The attribute instanceInitiatedShutdownBehavior can only be used for elastic images.');
      }
      rec.instanceInitiatedShutdownBehavior = c.value;
      break;
    case 'sourceDestCheck': {
      rec.SourceDestCheck = c.value;
      const col = eniCollection(ctx);
      for (const eni of interfacesOf(ctx, rec)) {
        if (eni.attachment?.DeviceIndex !== 0) continue;
        eni.SourceDestCheck = c.value;
        col.put(ctx.region, eni.NetworkInterfaceId, eni);
      }
      break;
    }
    case 'ebsOptimized': {
      requireStopped(rec);
      const type = requireInstanceType(rec.InstanceType);
      if (c.value && type.EbsInfo?.EbsOptimizedSupport === 'unsupported') {
        throw invalidParameterCombination(`EBS-optimized instances are not supported for your requested configuration (${rec.InstanceType}).`);
      }
      rec.EbsOptimized = c.value;
      break;
    }
    case 'enaSupport':
      requireStopped(rec);
      rec.EnaSupport = c.value;
      break;
    case 'sriovNetSupport':
      requireStopped(rec);
      if (c.value !== 'simple') throw new Ec2Error('InvalidParameterValue', `Value (${c.value}) for parameter sriovNetSupport is invalid. Valid values: simple`);
      rec.SriovNetSupport = c.value;
      break;
    case 'kernel':
    case 'ramdisk':
      throw new Ec2Error('UnsupportedOperation', `The instance '${rec.InstanceId}' is an HVM instance; ${c.attr} can only be changed on paravirtual instances.`);
    case 'groupSet': {
      const subnet = ctx.store.collection(KINDS.subnet).get(ctx.region, rec.SubnetId);
      const groups = resolveGroups(ctx, subnet ?? ({ SubnetId: rec.SubnetId, VpcId: rec.VpcId } as SubnetRecord), c.value, []);
      rec.SecurityGroups = groups;
      const col = eniCollection(ctx);
      for (const eni of interfacesOf(ctx, rec)) {
        if (eni.attachment?.DeviceIndex !== 0) continue;
        eni.Groups = groups;
        col.put(ctx.region, eni.NetworkInterfaceId, eni);
      }
      ctx.notify('network-interface', rec.networkInterfaceIds[0] ?? '');
      break;
    }
    case 'blockDeviceMapping': {
      const mappings = rec.BlockDeviceMappings ?? [];
      for (const m of c.value) {
        const target = mappings.find((b) => b.DeviceName === m.DeviceName);
        if (!target || !target.Ebs) {
          throw new Ec2Error('InvalidInstanceAttributeValue', `No device is currently mapped at ${m.DeviceName ?? '(none)'}`);
        }
        if (m.Ebs?.VolumeId !== undefined && m.Ebs.VolumeId !== target.Ebs.VolumeId) {
          throw new Ec2Error('InvalidInstanceAttributeValue', `The volume ${m.Ebs.VolumeId} is not attached at ${m.DeviceName}`);
        }
        if (m.Ebs?.DeleteOnTermination !== undefined) {
          target.Ebs.DeleteOnTermination = m.Ebs.DeleteOnTermination;
          const vol = target.Ebs.VolumeId ? volumeCollection(ctx).get(ctx.region, target.Ebs.VolumeId) : undefined;
          const a = vol ? attachmentTo(vol, rec.InstanceId) : undefined;
          if (vol && a) {
            a.DeleteOnTermination = m.Ebs.DeleteOnTermination;
            volumeCollection(ctx).put(ctx.region, vol.VolumeId, vol);
          }
        }
      }
      break;
    }
  }
  instanceCollection(ctx).put(ctx.region, rec.InstanceId, rec);
  ctx.notify('instance', rec.InstanceId);
  return {};
});

// ---------------------------------------------------------------- ModifyInstanceMetadataOptions

const modifyInstanceMetadataOptions = action(
  (ctx, input: ModifyInstanceMetadataOptionsRequest): ModifyInstanceMetadataOptionsResult => {
    const rec = requireInstance(ctx, input.InstanceId);
    if (rec.State.Name === 'terminated' || rec.State.Name === 'shutting-down') {
      throw new Ec2Error('IncorrectInstanceState', `The instance '${rec.InstanceId}' is not in a state from which it can be modified.`);
    }
    const next = applyMetadataOptions(rec.MetadataOptions ?? {}, input);
    // stored as applied (the metadata service reads it straight away); the answer says pending, as EC2's does
    rec.MetadataOptions = { ...next, State: 'applied' };
    instanceCollection(ctx).put(ctx.region, rec.InstanceId, rec);
    ctx.notify('instance', rec.InstanceId);
    return { InstanceId: rec.InstanceId, InstanceMetadataOptions: { ...next, State: 'pending' } };
  },
);

// ---------------------------------------------------------------- GetConsoleOutput

const getConsoleOutput = action((ctx, input: GetConsoleOutputRequest): GetConsoleOutputResult => {
  const rec = requireInstance(ctx, input.InstanceId);
  const text = consoleOutputOf(ctx, rec);
  return {
    InstanceId: rec.InstanceId,
    Output: text ? Buffer.from(text).toString('base64') : undefined,
    Timestamp: ctx.now,
  };
});

export const instanceAttributeActions: Record<string, ActionHandler> = {
  DescribeInstanceAttribute: describeInstanceAttribute,
  ModifyInstanceAttribute: modifyInstanceAttribute,
  ModifyInstanceMetadataOptions: modifyInstanceMetadataOptions,
  GetConsoleOutput: getConsoleOutput,
};
