/**
 * Attaching network interfaces to instances and detaching them, as
 * AttachNetworkInterface / DetachNetworkInterface record it and the instance
 * reconciler finishes it: an attachment is `attaching` until the instance's
 * step has plugged the interface (a stopped instance gets it at its next
 * start), then `attached`; a detach is `detaching` until the step has
 * unplugged it, then the interface is `available` again and leaves the
 * instance's interface list. The interface records are the one truth; the
 * instance's `networkInterfaceIds` lists the interfaces attached to it, in the
 * order they came.
 */
import { newId } from '../../domain/ids.js';
import { Ec2Error, invalidParameterCombination } from '../../domain/errors.js';
import type { ResourceContext } from '../context.js';
import { findInstanceType } from '../../domain/instance-types.js';
import { ec2Time } from '../../domain/time.js';
import { eniCollection, instanceCollection, interfacesOf, setInstanceOfElasticIps } from './instances.js';
import { checkIpv4Count, checkIpv6Count, interfaceLimits } from './interface-addresses.js';
import { KINDS } from './kinds.js';
import type { NetworkInterfaceRecord, StoredInstance } from './records.js';

/** The interfaces attached (or attaching, or detaching) to an instance. */
export function attachedInterfaces(ctx: ResourceContext, rec: StoredInstance): NetworkInterfaceRecord[] {
  return interfacesOf(ctx, rec).filter((e) => e.attachment?.InstanceId === rec.InstanceId);
}

/** The interface whose attachment has this id, or undefined. */
export function findByAttachmentId(ctx: ResourceContext, attachmentId: string): NetworkInterfaceRecord | undefined {
  return eniCollection(ctx)
    .list(ctx.region)
    .find((e) => e.attachment?.AttachmentId === attachmentId);
}

/** InvalidNetworkInterface.InUse unless the interface is available. */
export function requireAvailable(eni: NetworkInterfaceRecord): void {
  if (eni.attachment || eni.Status !== 'available') {
    throw new Ec2Error('InvalidNetworkInterface.InUse', `Interface: [${eni.NetworkInterfaceId}] in use.`);
  }
}

export interface AttachRequest {
  deviceIndex: number;
  networkCardIndex?: number;
  deleteOnTermination?: boolean;
}

/**
 * Checks that `eni` can be attached to `instance` at the device index: both
 * in the same Availability Zone, the interface available, the instance not
 * shutting down, the device index free, and the instance type's limits
 * (interfaces per instance, network cards, addresses per interface) kept.
 * `pending` lists interfaces this call attaches before this one.
 */
export function checkAttach(
  ctx: ResourceContext,
  eni: NetworkInterfaceRecord,
  instance: StoredInstance,
  req: AttachRequest,
  pending: readonly NetworkInterfaceRecord[] = [],
): void {
  requireAvailable(eni);
  const state = instance.State.Name;
  if (state === 'shutting-down' || state === 'terminated') {
    throw new Ec2Error('IncorrectInstanceState', `The instance '${instance.InstanceId}' is not in a valid state for this operation.`);
  }
  if (eni.AvailabilityZone !== instance.Placement?.AvailabilityZone) {
    throw invalidParameterCombination('You may not attach a network interface to an instance if they are not in the same availability zone');
  }
  const d = req.deviceIndex;
  if (!Number.isInteger(d) || d < 0) throw new Ec2Error('InvalidParameterValue', `Value (${d}) for parameter deviceIndex is invalid.`);
  const type = findInstanceType(instance.InstanceType);
  const cards = type?.NetworkInfo?.MaximumNetworkCards ?? 1;
  const card = req.networkCardIndex ?? 0;
  if (!Number.isInteger(card) || card < 0 || card >= cards) {
    throw new Ec2Error('InvalidParameterValue', `Value (${card}) for parameter networkCardIndex is invalid. Instance type ${instance.InstanceType} has ${cards} network card(s).`);
  }
  const attached = [...attachedInterfaces(ctx, instance), ...pending];
  if (attached.some((e) => e.attachment?.DeviceIndex === d && (e.attachment.NetworkCardIndex ?? 0) === card)) {
    throw new Ec2Error('InvalidParameterValue', `Instance '${instance.InstanceId}' already has an interface attached at device index '${d}'.`);
  }
  const limits = interfaceLimits(instance.InstanceType);
  if (attached.length + 1 > limits.interfaces) {
    throw new Ec2Error('AttachmentLimitExceeded', `Interface count ${attached.length + 1} exceeds the limit for ${instance.InstanceType}`);
  }
  checkDeviceIndex(d, instance.InstanceType);
  checkIpv4Count((eni.PrivateIpAddresses ?? []).length, limits.ipv4);
  checkIpv6Count((eni.Ipv6Addresses ?? []).length, limits.ipv6);
}

/** A device index the instance type has: 0 up to its interface limit (exclusive). */
export function checkDeviceIndex(d: number, instanceType: string): void {
  const max = interfaceLimits(instanceType).interfaces;
  if (d >= max) {
    throw new Ec2Error('InvalidParameterValue', `Value (${d}) for parameter deviceIndex is invalid. Instance type ${instanceType} supports device indexes 0 to ${max - 1}.`);
  }
}

/** Records the attachment (`attaching`) on the interface and the instance; the instance's reconciler finishes it. */
export function startAttach(ctx: ResourceContext, eni: NetworkInterfaceRecord, instance: StoredInstance, req: AttachRequest): string {
  const attachmentId = newId('eni-attach');
  eni.attachment = {
    AttachmentId: attachmentId,
    InstanceId: instance.InstanceId,
    DeviceIndex: req.deviceIndex,
    AttachTime: ec2Time(ctx.now),
    DeleteOnTermination: req.deleteOnTermination ?? false,
    Status: 'attaching',
    NetworkCardIndex: req.networkCardIndex ?? 0,
  };
  eni.Status = 'in-use';
  eniCollection(ctx).put(ctx.region, eni.NetworkInterfaceId, eni);
  if (!instance.networkInterfaceIds.includes(eni.NetworkInterfaceId)) instance.networkInterfaceIds.push(eni.NetworkInterfaceId);
  instanceCollection(ctx).put(ctx.region, instance.InstanceId, instance);
  // the Elastic IPs the interface carries now name the instance as well
  setInstanceOfElasticIps(ctx, eni, instance.InstanceId);
  ctx.notify(KINDS.networkInterface.name, eni.NetworkInterfaceId);
  ctx.notify(KINDS.instance.name, instance.InstanceId);
  return attachmentId;
}

/** Marks an attachment `detaching`; the primary interface (device index 0) cannot be detached. */
export function startDetach(ctx: ResourceContext, eni: NetworkInterfaceRecord): void {
  const a = eni.attachment!;
  if (a.DeviceIndex === 0) throw new Ec2Error('OperationNotPermitted', 'The network interface at device index 0 cannot be detached.');
  if (a.Status === 'detaching') return;
  a.Status = 'detaching';
  eni.Status = 'detaching';
  eniCollection(ctx).put(ctx.region, eni.NetworkInterfaceId, eni);
  ctx.notify(KINDS.networkInterface.name, eni.NetworkInterfaceId);
  ctx.notify(KINDS.instance.name, a.InstanceId);
}

/** The reconciler's end of an attach: the interface is plugged (or the instance is stopped). */
export function finishInterfaceAttach(ctx: ResourceContext, eni: NetworkInterfaceRecord): boolean {
  if (eni.attachment?.Status !== 'attaching') return false;
  eni.attachment.Status = 'attached';
  eniCollection(ctx).put(ctx.region, eni.NetworkInterfaceId, eni);
  return true;
}

/**
 * The reconciler's end of a detach: the interface is unplugged; it is
 * available again, keeps an Elastic IP it carries (no longer the instance's),
 * and leaves the instance's list.
 */
export function finishInterfaceDetach(ctx: ResourceContext, eni: NetworkInterfaceRecord): boolean {
  const a = eni.attachment;
  if (a?.Status !== 'detaching') return false;
  delete eni.attachment;
  eni.Status = 'available';
  if (eni.association && eni.association.allocationId === undefined) delete eni.association;
  setInstanceOfElasticIps(ctx, eni, undefined);
  eniCollection(ctx).put(ctx.region, eni.NetworkInterfaceId, eni);
  const instances = instanceCollection(ctx);
  const inst = instances.get(ctx.region, a.InstanceId);
  if (inst) {
    inst.networkInterfaceIds = inst.networkInterfaceIds.filter((id) => id !== eni.NetworkInterfaceId);
    instances.put(ctx.region, inst.InstanceId, inst);
  }
  return true;
}
