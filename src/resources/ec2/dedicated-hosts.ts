/**
 * Dedicated hosts: their records, the instances placed on one, and the host a
 * launch goes to (the one named, or an auto-placement host of the zone with
 * room). Recorded only: every instance runs on this Overcast host.
 */
import { Ec2Error } from '../../domain/errors.js';
import { findInstanceType } from '../../domain/instance-types.js';
import { hostCapacity, hostShape, hostTakes, vcpusOf, familyOf } from '../../domain/dedicated-hosts.js';
import type { ResourceContext } from '../context.js';
import { instanceCollection } from './instances.js';
import { HOST_INDEX, KINDS } from './kinds.js';
import type { HostRecord, StoredInstance } from './records.js';
import { requireResource } from './registry.js';

export const dedicatedHosts = (ctx: Pick<ResourceContext, 'store'>) => ctx.store.collection(KINDS.dedicatedHost);

/**
 * Whether an instance placed on a host takes its room: a stopped one does not
 * (EC2 releases a host once its instances are stopped or terminated, and a
 * stopped instance asks for room again when it starts).
 */
const occupies = (i: StoredInstance): boolean => i.State.Name !== 'stopped';

/** Instances on the host that take its room: neither terminated (the index) nor stopped. */
export function instancesOnHost(ctx: Pick<ResourceContext, 'store' | 'region'>, hostId: string): StoredInstance[] {
  return instanceCollection(ctx).find(ctx.region, HOST_INDEX, hostId).filter(occupies);
}

/** The region's instances that take room on a host, by the host they are on (one read for a whole call). */
export function instancesByHost(ctx: Pick<ResourceContext, 'store' | 'region'>): Map<string, StoredInstance[]> {
  const out = new Map<string, StoredInstance[]>();
  const instances = instanceCollection(ctx);
  for (const h of dedicatedHosts(ctx).list(ctx.region)) {
    const on = instances.find(ctx.region, HOST_INDEX, h.HostId).filter(occupies);
    if (on.length > 0) out.set(h.HostId, on);
  }
  return out;
}

/** The host's free capacity; `on` the instances on it, when the caller has them already. */
export function capacityOf(ctx: Pick<ResourceContext, 'store' | 'region'>, host: HostRecord, on: readonly StoredInstance[] = instancesOnHost(ctx, host.HostId)) {
  const family = host.HostProperties.InstanceFamily ?? familyOf(host.HostProperties.InstanceType ?? '');
  return hostCapacity(hostShape(family), host.HostProperties, on.map((i) => i.InstanceType));
}

/** How many more instances of `type` fit on the host. */
export function roomFor(ctx: Pick<ResourceContext, 'store' | 'region'>, host: HostRecord, type: string): number {
  if (host.State !== 'available' || !hostTakes(host.HostProperties, type)) return 0;
  const t = findInstanceType(type);
  return t ? Math.floor(capacityOf(ctx, host).availableVCpus / vcpusOf(t)) : 0;
}

/**
 * The host `count` instances of `type` launch on: `hostId`'s (which must take
 * the type, be in the zone and have room for minCount), or else an available
 * auto-placement host of the zone with room. Returns the host and how many fit.
 */
export function hostForLaunch(
  ctx: ResourceContext,
  hostId: string | undefined,
  type: string,
  zone: string,
  minCount: number,
): { host: HostRecord; room: number } {
  if (hostId !== undefined) {
    const host = requireResource(ctx, KINDS.dedicatedHost, hostId);
    if (host.State !== 'available') throw new Ec2Error('InvalidHostID.NotFound', `The host ID '${hostId}' does not exist`);
    if (!hostTakes(host.HostProperties, type)) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `The instance type ${type} cannot be launched on host '${hostId}', which supports ${host.HostProperties.InstanceType ?? `the ${host.HostProperties.InstanceFamily} family`}.`,
      );
    }
    if (host.AvailabilityZone !== zone) {
      throw new Ec2Error('InvalidParameterValue', `The host '${hostId}' is in ${host.AvailabilityZone}; the launch is in ${zone}.`);
    }
    const room = roomFor(ctx, host, type);
    // EC2's InsufficientCapacityOnHost: not enough capacity on the Dedicated Host to launch or start the instance
    if (room < minCount) throw new Ec2Error('InsufficientCapacityOnHost', `There is not enough capacity on host '${hostId}' for ${minCount} ${type} instances.`);
    return { host, room };
  }
  const candidates = dedicatedHosts(ctx)
    .list(ctx.region)
    .filter((h) => h.AutoPlacement === 'on' && h.AvailabilityZone === zone)
    .map((h) => ({ host: h, room: roomFor(ctx, h, type) }))
    .filter((c) => c.room >= minCount);
  const best = candidates[0];
  if (!best) {
    // EC2's IncompatibleHostRequirements: no available or compatible Dedicated Host to launch or start the instance on
    // (InsufficientHostCapacity is about allocating Dedicated Hosts)
    throw new Ec2Error('IncompatibleHostRequirements', `There is no Dedicated Host with auto-placement and capacity for ${minCount} ${type} instances in ${zone}.`);
  }
  return best;
}
