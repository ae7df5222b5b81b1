/**
 * Placement groups: their records, the instances in one, and the rules a
 * launch into one follows (cluster: one Availability Zone; spread: at most
 * seven running instances per zone; partition: a partition number per
 * instance). Recorded only: every instance runs on this host whatever its group.
 */
import { Ec2Error } from '../../domain/errors.js';
import type { ResourceContext } from '../context.js';
import { instanceCollection } from './instances.js';
import { KINDS, PLACEMENT_GROUP_INDEX } from './kinds.js';
import type { PlacementGroupRecord, StoredInstance } from './records.js';

/** Rack spread groups hold at most this many running instances per Availability Zone. */
export const SPREAD_PER_ZONE = 7;

export const placementGroups = (ctx: Pick<ResourceContext, 'store'>) => ctx.store.collection(KINDS.placementGroup);

export function findPlacementGroupByName(ctx: Pick<ResourceContext, 'store' | 'region'>, name: string): PlacementGroupRecord | undefined {
  return placementGroups(ctx)
    .list(ctx.region)
    .find((g) => g.GroupName === name);
}

export const unknownPlacementGroup = (name: string): Ec2Error => new Ec2Error('InvalidPlacementGroup.Unknown', `The Placement Group '${name}' is unknown.`);

export function requirePlacementGroupByName(ctx: Pick<ResourceContext, 'store' | 'region'>, name: string): PlacementGroupRecord {
  const g = findPlacementGroupByName(ctx, name);
  if (!g) throw unknownPlacementGroup(name);
  return g;
}

/** The group's instances that are not terminated. */
export function placementGroupMembers(ctx: Pick<ResourceContext, 'store' | 'region'>, group: PlacementGroupRecord): StoredInstance[] {
  return instanceCollection(ctx).find(ctx.region, PLACEMENT_GROUP_INDEX, group.GroupName);
}

/** How many instances a launch may put in the group, and the partition of the i-th (partition groups). */
export interface GroupPlacement {
  limit: number;
  partitionOf(i: number): number | undefined;
}

/** Where new instances go in the group, after the strategy's checks (at least `minCount` must fit). */
export function placeInGroup(
  ctx: Pick<ResourceContext, 'store' | 'region'>,
  group: PlacementGroupRecord,
  zone: string,
  minCount: number,
  partition: number | undefined,
): GroupPlacement {
  const members = placementGroupMembers(ctx, group);
  if (partition !== undefined && group.Strategy !== 'partition') {
    throw new Ec2Error('InvalidParameterCombination', `A partition number can only be given for a partition placement group; '${group.GroupName}' is a ${group.Strategy} placement group.`);
  }
  const none = () => undefined;
  switch (group.Strategy) {
    case 'cluster': {
      const other = members.find((i) => i.Placement?.AvailabilityZone !== zone);
      if (other) {
        throw new Ec2Error(
          'InvalidParameterValue',
          `The cluster placement group '${group.GroupName}' is in the Availability Zone ${other.Placement?.AvailabilityZone}; instances in it cannot be launched in ${zone}.`,
        );
      }
      return { limit: Number.MAX_SAFE_INTEGER, partitionOf: none };
    }
    case 'spread': {
      const inZone = members.filter((i) => i.Placement?.AvailabilityZone === zone && (i.State.Name === 'pending' || i.State.Name === 'running')).length;
      if (inZone + minCount > SPREAD_PER_ZONE) {
        throw new Ec2Error(
          'InsufficientInstanceCapacity',
          `The spread placement group '${group.GroupName}' can hold at most ${SPREAD_PER_ZONE} running instances in ${zone}; it has ${inZone} and ${minCount} more were requested.`,
        );
      }
      return { limit: SPREAD_PER_ZONE - inZone, partitionOf: none };
    }
    case 'partition': {
      const partitions = group.PartitionCount ?? 1;
      if (partition !== undefined) {
        if (!Number.isInteger(partition) || partition < 1 || partition > partitions) {
          throw new Ec2Error('InvalidParameterValue', `Value (${partition}) for parameter PartitionNumber is invalid. The placement group '${group.GroupName}' has partitions 1 to ${partitions}.`);
        }
        return { limit: Number.MAX_SAFE_INTEGER, partitionOf: () => partition };
      }
      // each new instance into the partition with the fewest instances
      const load = new Array<number>(partitions).fill(0);
      for (const m of members) {
        const p = m.Placement?.PartitionNumber;
        if (p !== undefined && p >= 1 && p <= partitions) load[p - 1]!++;
      }
      const chosen: number[] = [];
      return {
        limit: Number.MAX_SAFE_INTEGER,
        partitionOf: (i) => {
          while (chosen.length <= i) {
            const p = load.indexOf(Math.min(...load));
            load[p]!++;
            chosen.push(p + 1);
          }
          return chosen[i];
        },
      };
    }
  }
}
