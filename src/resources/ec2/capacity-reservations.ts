/**
 * On-Demand Capacity Reservations: their records, the instances that use one
 * (pending or running, with its id), and the reservation a launch draws from
 * (CapacityReservationSpecification: open, none, targeted,
 * capacity-reservations-only). A reservation past its EndDate counts as
 * expired. Recorded only: this host's capacity is not set aside.
 */
import { Ec2Error } from '../../domain/errors.js';
import type { ResourceContext } from '../context.js';
import { instanceCollection } from './instances.js';
import { CAPACITY_RESERVATION_INDEX, KINDS } from './kinds.js';
import type { CapacityReservationRecord, StoredInstance } from './records.js';
import { requireResource } from './registry.js';

export const capacityReservations = (ctx: Pick<ResourceContext, 'store'>) => ctx.store.collection(KINDS.capacityReservation);

/** The state as DescribeCapacityReservations shows it: an active one past its end date has expired. */
export function reservationState(r: CapacityReservationRecord, now: Date): 'active' | 'cancelled' | 'expired' {
  if (r.State === 'active' && r.EndDateType === 'limited' && r.EndDate !== undefined && Date.parse(r.EndDate) <= now.getTime()) return 'expired';
  return r.State;
}

/** The region's pending and running instances by the reservation they use. */
export function reservationUse(ctx: Pick<ResourceContext, 'store' | 'region'>): Map<string, number> {
  // the region's reservations are few; their instances are counted in the index, not read
  const use = new Map<string, number>();
  const instances = instanceCollection(ctx);
  for (const r of capacityReservations(ctx).list(ctx.region)) {
    const n = instances.count(ctx.region, CAPACITY_RESERVATION_INDEX, r.CapacityReservationId);
    if (n > 0) use.set(r.CapacityReservationId, n);
  }
  return use;
}

export function availableCount(r: CapacityReservationRecord, use: Map<string, number>, now: Date): number {
  return reservationState(r, now) === 'active' ? Math.max(0, r.TotalInstanceCount - (use.get(r.CapacityReservationId) ?? 0)) : 0;
}

export interface LaunchReservation {
  /** the most instances the preference allows (capacity-reservations-only and targeted: what is left) */
  limit: number;
  /** the reservation the launch's i-th instance uses, if any */
  reservationOf(i: number): string | undefined;
  /** the instance's CapacityReservationSpecification as DescribeInstances shows it */
  specification: NonNullable<StoredInstance['CapacityReservationSpecification']>;
}

const matches = (r: CapacityReservationRecord, type: string, zone: string, tenancy: string): boolean =>
  r.InstanceType === type && r.AvailabilityZone === zone && r.Tenancy === (tenancy === 'dedicated' ? 'dedicated' : 'default');

/** The reservations a launch of `type` in `zone` draws from, per its specification. */
export function reservationsForLaunch(
  ctx: ResourceContext,
  spec: { preference?: string; targetId?: string },
  site: { type: string; zone: string; tenancy: string; minCount: number },
): LaunchReservation {
  const use = reservationUse(ctx);
  if (spec.targetId !== undefined) {
    const r = requireResource(ctx, KINDS.capacityReservation, spec.targetId);
    if (reservationState(r, ctx.now) !== 'active') {
      throw new Ec2Error('InvalidCapacityReservationId.NotFound', `The capacity reservation '${r.CapacityReservationId}' is not active.`);
    }
    if (!matches(r, site.type, site.zone, site.tenancy)) {
      throw new Ec2Error(
        'InvalidParameterCombination',
        `The capacity reservation '${r.CapacityReservationId}' is for ${r.InstanceType} instances with ${r.Tenancy} tenancy in ${r.AvailabilityZone}; the launch asks for ${site.type} in ${site.zone}.`,
      );
    }
    const left = availableCount(r, use, ctx.now);
    if (left < site.minCount) {
      // EC2's ReservationCapacityExceeded: the targeted Capacity Reservation has not enough available capacity
      throw new Ec2Error(
        'ReservationCapacityExceeded',
        `The capacity reservation '${r.CapacityReservationId}' has ${left} instances available; ${site.minCount} were requested.`,
      );
    }
    return { limit: left, reservationOf: () => r.CapacityReservationId, specification: { CapacityReservationTarget: { CapacityReservationId: r.CapacityReservationId } } };
  }
  const preference = spec.preference ?? 'open';
  if (preference === 'none') return { limit: Number.MAX_SAFE_INTEGER, reservationOf: () => undefined, specification: { CapacityReservationPreference: 'none' } };
  // open: each instance into a matching open reservation with room, while there is one
  const slots: string[] = [];
  for (const r of capacityReservations(ctx).list(ctx.region)) {
    if (r.InstanceMatchCriteria !== 'open' || !matches(r, site.type, site.zone, site.tenancy)) continue;
    for (let n = availableCount(r, use, ctx.now); n > 0; n--) slots.push(r.CapacityReservationId);
  }
  if (preference === 'capacity-reservations-only') {
    if (slots.length < site.minCount) throw insufficient(site, `open capacity reservations have room for ${slots.length}`);
    return { limit: slots.length, reservationOf: (i) => slots[i], specification: { CapacityReservationPreference: 'capacity-reservations-only' } };
  }
  return { limit: Number.MAX_SAFE_INTEGER, reservationOf: (i) => slots[i], specification: { CapacityReservationPreference: 'open' } };
}

function insufficient(site: { type: string; zone: string; minCount: number }, why: string): Ec2Error {
  return new Ec2Error(
    'InsufficientInstanceCapacity',
    `We currently do not have sufficient ${site.type} capacity in the Availability Zone you requested (${site.zone}) for ${site.minCount} instances: ${why}.`,
  );
}
