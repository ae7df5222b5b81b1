/**
 * Where RunInstances puts its instances beyond the subnet: the placement group
 * (Placement.GroupName / GroupId / PartitionNumber), the tenancy and the
 * dedicated host (Placement.Tenancy host, HostId, Affinity) and the capacity
 * reservation (CapacityReservationSpecification). Validates
 * the request and answers how many instances may be made and the placement
 * fields of each.
 */
import type { Placement, RunInstancesRequest } from '@aws-sdk/client-ec2';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { checkText } from '../../domain/text.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { placeInGroup, requirePlacementGroupByName, type GroupPlacement } from '../../resources/ec2/placement-groups.js';
import type { PlacementGroupRecord, StoredInstance } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { dedicatedHosts, hostForLaunch, roomFor } from '../../resources/ec2/dedicated-hosts.js';
import { reservationsForLaunch } from '../../resources/ec2/capacity-reservations.js';
import type { RequestContext } from '../context.js';

export interface LaunchSite {
  zone: string;
  typeName: string;
  minCount: number;
}

export interface LaunchPlacement {
  /** the most instances the placement allows this launch */
  limit: number;
  /** the placement fields of the launch's i-th instance */
  fields(i: number): Pick<StoredInstance, 'Placement' | 'CapacityReservationId' | 'CapacityReservationSpecification'>;
}

/** The group a launch names (by name or id), if any. */
function requestedGroup(ctx: RequestContext, p: Placement | undefined): PlacementGroupRecord | undefined {
  const name = p?.GroupName;
  const id = p?.GroupId;
  if (name !== undefined && name !== '' && id !== undefined && id !== '') {
    throw invalidParameterCombination('Placement.GroupName and Placement.GroupId cannot both be specified.');
  }
  if (id !== undefined && id !== '') return requireResource(ctx, KINDS.placementGroup, id);
  if (name !== undefined && name !== '') return requirePlacementGroupByName(ctx, checkText('Placement.GroupName', name));
  return undefined;
}

/** The zone a launch asks for: Placement.AvailabilityZone, else the zone of the host or capacity reservation it names. */
export function requestedZone(ctx: RequestContext, input: RunInstancesRequest): string | undefined {
  const zone = input.Placement?.AvailabilityZone;
  if (zone !== undefined && zone !== '') return zone;
  const hostId = input.Placement?.HostId;
  if (hostId !== undefined && hostId !== '') return ctx.store.collection(KINDS.dedicatedHost).get(ctx.region, hostId)?.AvailabilityZone;
  const reservationId = input.CapacityReservationSpecification?.CapacityReservationTarget?.CapacityReservationId;
  if (reservationId !== undefined && reservationId !== '') return ctx.store.collection(KINDS.capacityReservation).get(ctx.region, reservationId)?.AvailabilityZone;
  return undefined;
}

/** CapacityReservationSpecification as RunInstances takes it: a preference or a target, not both. */
function reservationRequest(input: RunInstancesRequest): { preference?: string; targetId?: string } {
  const spec = input.CapacityReservationSpecification;
  if (!spec) return {};
  const preference = spec.CapacityReservationPreference;
  const target = spec.CapacityReservationTarget;
  if (preference !== undefined && target !== undefined) {
    throw invalidParameterCombination('CapacityReservationPreference and CapacityReservationTarget cannot both be specified.');
  }
  if (preference !== undefined && preference !== 'open' && preference !== 'none' && preference !== 'capacity-reservations-only') {
    throw new Ec2Error('InvalidParameterValue', `Value (${preference}) for parameter capacityReservationPreference is invalid. Valid values: open, none, capacity-reservations-only`);
  }
  if (target?.CapacityReservationResourceGroupArn !== undefined) {
    throw new Ec2Error('UnsupportedOperation', 'Capacity reservation resource groups are not supported by Overcast.');
  }
  if (target && (target.CapacityReservationId === undefined || target.CapacityReservationId === '')) {
    throw missingParameter('CapacityReservationSpecification.CapacityReservationTarget.CapacityReservationId');
  }
  return { preference, targetId: target?.CapacityReservationId };
}

export function launchPlacement(ctx: RequestContext, input: RunInstancesRequest, site: LaunchSite): LaunchPlacement {
  const p = input.Placement;
  const hostId = p?.HostId === undefined || p.HostId === '' ? undefined : p.HostId;
  const tenancy = p?.Tenancy ?? (hostId ? 'host' : 'default');
  if (tenancy !== 'default' && tenancy !== 'dedicated' && tenancy !== 'host') {
    throw new Ec2Error('InvalidParameterValue', `Value (${tenancy}) for parameter tenancy is invalid. Valid values: default, dedicated, host`);
  }
  if (hostId && tenancy !== 'host') throw invalidParameterCombination('Placement.HostId requires Placement.Tenancy host.');
  const affinity = p?.Affinity;
  if (affinity !== undefined && affinity !== 'default' && affinity !== 'host') {
    throw new Ec2Error('InvalidParameterValue', `Value (${affinity}) for parameter affinity is invalid. Valid values: default, host`);
  }
  if (affinity !== undefined && tenancy !== 'host') throw invalidParameterCombination('Placement.Affinity requires Placement.Tenancy host.');
  if (affinity === 'host' && !hostId) throw invalidParameterCombination('Placement.Affinity host requires Placement.HostId.');
  const group = requestedGroup(ctx, p);
  if (!group && p?.PartitionNumber !== undefined) throw invalidParameterCombination('Placement.PartitionNumber requires a placement group.');
  if (group && tenancy === 'host') throw invalidParameterCombination('Instances on Dedicated Hosts cannot be launched in placement groups.');
  const inGroup: GroupPlacement | undefined = group ? placeInGroup(ctx, group, site.zone, site.minCount, p?.PartitionNumber) : undefined;
  const onHost = tenancy === 'host' ? hostForLaunch(ctx, hostId, site.typeName, site.zone, site.minCount) : undefined;
  const wanted = reservationRequest(input);
  if (onHost && wanted.targetId !== undefined) throw invalidParameterCombination('Instances on Dedicated Hosts cannot use capacity reservations.');
  const reserved = onHost
    ? undefined
    : reservationsForLaunch(ctx, wanted, { type: site.typeName, zone: site.zone, tenancy, minCount: site.minCount });
  return {
    limit: Math.min(inGroup?.limit ?? Number.MAX_SAFE_INTEGER, onHost?.room ?? Number.MAX_SAFE_INTEGER, reserved?.limit ?? Number.MAX_SAFE_INTEGER),
    fields: (i) => {
      const placement: StoredInstance['Placement'] = { AvailabilityZone: site.zone, GroupName: group?.GroupName ?? '', Tenancy: tenancy };
      if (group) {
        placement.GroupId = group.GroupId;
        const partition = inGroup?.partitionOf(i);
        if (partition !== undefined) placement.PartitionNumber = partition;
      }
      if (onHost) {
        placement.HostId = onHost.host.HostId;
        placement.Affinity = affinity ?? 'default';
      }
      const reservationId = reserved?.reservationOf(i);
      return {
        Placement: placement,
        CapacityReservationSpecification: reserved?.specification ?? { CapacityReservationPreference: 'none' },
        ...(reservationId !== undefined ? { CapacityReservationId: reservationId } : {}),
      };
    },
  };
}

/**
 * The room a stopped instance needs to start again, checked with the rules a
 * launch follows, and where it goes: a stopped instance holds no place in a
 * spread group's zone, on a Dedicated Host or in a capacity reservation (EC2
 * frees them at stop), so StartInstances asks for them again. A spread group
 * full in the zone is InsufficientInstanceCapacity; a host with affinity `host`
 * must have room itself (InsufficientCapacityOnHost), one with affinity
 * `default` stays on its host when it can and goes to an auto-placement host of
 * the zone otherwise (IncompatibleHostRequirements when none has room); a
 * targeted reservation must be active and have room (ReservationCapacityExceeded),
 * an open preference draws from a matching open reservation while one has room.
 * Changes the record's HostId and CapacityReservationId; the caller saves it.
 */
export function placeForStart(ctx: RequestContext, rec: StoredInstance): void {
  const p = rec.Placement ?? {};
  const zone = p.AvailabilityZone ?? '';
  if (p.GroupName !== undefined && p.GroupName !== '') {
    placeInGroup(ctx, requirePlacementGroupByName(ctx, p.GroupName), zone, 1, undefined);
  }
  if (p.Tenancy === 'host' && p.HostId !== undefined) {
    const own = dedicatedHosts(ctx).get(ctx.region, p.HostId);
    const stays = own !== undefined && roomFor(ctx, own, rec.InstanceType) >= 1;
    if (!stays) {
      rec.Placement = { ...p, HostId: hostForLaunch(ctx, p.Affinity === 'host' ? p.HostId : undefined, rec.InstanceType, zone, 1).host.HostId };
    }
    return;
  }
  const spec = rec.CapacityReservationSpecification;
  const targetId = spec?.CapacityReservationTarget?.CapacityReservationId;
  const preference = targetId === undefined ? (spec?.CapacityReservationPreference ?? 'none') : undefined;
  const reserved = reservationsForLaunch(ctx, { preference, targetId }, { type: rec.InstanceType, zone, tenancy: p.Tenancy ?? 'default', minCount: 1 });
  const reservationId = reserved.reservationOf(0);
  if (reservationId !== undefined) rec.CapacityReservationId = reservationId;
  else delete rec.CapacityReservationId;
}
