/**
 * On-Demand Capacity Reservations: CreateCapacityReservation,
 * DescribeCapacityReservations, ModifyCapacityReservation and
 * CancelCapacityReservation. RunInstances draws AvailableInstanceCount down
 * (CapacityReservationSpecification, launch-placement.ts); an instance that
 * stops or terminates gives its place back. Recorded only.
 */
import type {
  CancelCapacityReservationRequest,
  CancelCapacityReservationResult,
  CapacityReservation,
  CreateCapacityReservationRequest,
  CreateCapacityReservationResult,
  DescribeCapacityReservationsRequest,
  DescribeCapacityReservationsResult,
  ModifyCapacityReservationRequest,
  ModifyCapacityReservationResult,
} from '@aws-sdk/client-ec2';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { findInstanceType } from '../../domain/instance-types.js';
import { newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { findZone, findZoneById } from '../../domain/regions.js';
import { ec2Time } from '../../domain/time.js';
import type { Tag } from '../../store/store.js';
import { availableCount, capacityReservations, reservationState, reservationUse } from '../../resources/ec2/capacity-reservations.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { CapacityReservationRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { isoTime } from './instance-view.js';
import { tagSpecificationTags, tagsField } from './tags.js';

const PLATFORMS = [
  'Linux/UNIX',
  'Red Hat Enterprise Linux',
  'SUSE Linux',
  'Windows',
  'Windows with SQL Server',
  'Windows with SQL Server Enterprise',
  'Windows with SQL Server Standard',
  'Windows with SQL Server Web',
  'Linux with SQL Server Standard',
  'Linux with SQL Server Web',
  'Linux with SQL Server Enterprise',
  'RHEL with SQL Server Standard',
  'RHEL with SQL Server Enterprise',
  'RHEL with SQL Server Web',
  'RHEL with HA',
  'RHEL with HA and SQL Server Standard',
  'RHEL with HA and SQL Server Enterprise',
  'Ubuntu Pro',
];

/** The view: the record with its computed state and available count. */
type ReservationView = CapacityReservationRecord & { view: { State: string; AvailableInstanceCount: number } };

function output(r: ReservationView, tags: Tag[] | undefined): CapacityReservation {
  const { view, ...rec } = r;
  return {
    ...rec,
    State: view.State as CapacityReservation['State'],
    AvailableInstanceCount: view.AvailableInstanceCount,
    StartDate: isoTime(r.StartDate),
    EndDate: r.EndDate === undefined ? undefined : isoTime(r.EndDate),
    CreateDate: isoTime(r.CreateDate),
    InstancePlatform: r.InstancePlatform as CapacityReservation['InstancePlatform'],
    ReservationType: 'default',
    Tags: tagsField(tags),
  };
}

function views(ctx: RequestContext, records: readonly CapacityReservationRecord[]): ReservationView[] {
  const use = reservationUse(ctx);
  return records.map((r) => ({ ...r, view: { State: reservationState(r, ctx.now), AvailableInstanceCount: availableCount(r, use, ctx.now) } }));
}

function checkCount(n: number | undefined): number {
  if (n === undefined) throw missingParameter('InstanceCount');
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new Ec2Error('InvalidParameterValue', `Value (${n}) for parameter instanceCount is invalid. Valid range: 1-1000`);
  return n;
}

/** EndDateType and EndDate together: limited needs a future EndDate, unlimited none. */
function endOf(ctx: RequestContext, type: string | undefined, date: Date | undefined, current?: CapacityReservationRecord): { EndDateType: 'unlimited' | 'limited'; EndDate?: string } {
  const t = type ?? (date !== undefined ? 'limited' : current?.EndDateType ?? 'unlimited');
  if (t !== 'limited' && t !== 'unlimited') throw new Ec2Error('InvalidParameterValue', `Value (${t}) for parameter endDateType is invalid. Valid values: unlimited, limited`);
  if (t === 'unlimited') {
    if (date !== undefined) throw invalidParameterCombination('EndDate cannot be specified when EndDateType is unlimited.');
    return { EndDateType: 'unlimited' };
  }
  const end = date ?? (current?.EndDate !== undefined ? new Date(current.EndDate) : undefined);
  if (end === undefined) throw missingParameter('EndDate');
  if (end.getTime() <= ctx.now.getTime()) throw new Ec2Error('InvalidParameterValue', 'The EndDate must be in the future.');
  return { EndDateType: 'limited', EndDate: ec2Time(end) };
}

const createCapacityReservation = action((ctx, input: CreateCapacityReservationRequest): CreateCapacityReservationResult => {
  if (!input.InstanceType) throw missingParameter('InstanceType');
  if (!findInstanceType(input.InstanceType)) throw new Ec2Error('InvalidParameterValue', `Value (${input.InstanceType}) for parameter instanceType is invalid.`);
  if (!input.InstancePlatform) throw missingParameter('InstancePlatform');
  if (!PLATFORMS.includes(input.InstancePlatform)) throw new Ec2Error('InvalidParameterValue', `Value (${input.InstancePlatform}) for parameter instancePlatform is invalid.`);
  const zone = input.AvailabilityZone ? findZone(input.AvailabilityZone) : input.AvailabilityZoneId ? findZoneById(input.AvailabilityZoneId) : undefined;
  if (!input.AvailabilityZone && !input.AvailabilityZoneId) throw missingParameter('AvailabilityZone');
  if (!zone || zone.GroupName !== ctx.region) throw new Ec2Error('InvalidParameterValue', `Value (${input.AvailabilityZone ?? input.AvailabilityZoneId}) for parameter availabilityZone is invalid.`);
  const tenancy = input.Tenancy ?? 'default';
  if (tenancy !== 'default' && tenancy !== 'dedicated') throw new Ec2Error('InvalidParameterValue', `Value (${tenancy}) for parameter tenancy is invalid. Valid values: default, dedicated`);
  const criteria = input.InstanceMatchCriteria ?? 'open';
  if (criteria !== 'open' && criteria !== 'targeted') throw new Ec2Error('InvalidParameterValue', `Value (${criteria}) for parameter instanceMatchCriteria is invalid. Valid values: open, targeted`);
  if (input.OutpostArn !== undefined) throw new Ec2Error('UnsupportedOperation', 'Outposts are not supported by Overcast.');
  if (input.StartDate !== undefined || input.CommitmentDuration !== undefined) throw new Ec2Error('UnsupportedOperation', 'Future-dated capacity reservations are not supported by Overcast.');
  const count = checkCount(input.InstanceCount);
  const end = endOf(ctx, input.EndDateType, input.EndDate);
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.capacityReservation.name]).get(KINDS.capacityReservation.name) ?? [];
  const id = newId('cr');
  const now = ec2Time(ctx.now);
  const rec: CapacityReservationRecord = {
    CapacityReservationId: id,
    OwnerId: ctx.accountId,
    CapacityReservationArn: `arn:aws:ec2:${ctx.region}:${ctx.accountId}:capacity-reservation/${id}`,
    AvailabilityZone: zone.ZoneName,
    AvailabilityZoneId: zone.ZoneId,
    InstanceType: input.InstanceType,
    InstancePlatform: input.InstancePlatform,
    Tenancy: tenancy,
    TotalInstanceCount: count,
    EbsOptimized: input.EbsOptimized ?? false,
    EphemeralStorage: input.EphemeralStorage ?? false,
    State: 'active',
    StartDate: now,
    ...end,
    InstanceMatchCriteria: criteria,
    CreateDate: now,
    ...(input.PlacementGroupArn ? { PlacementGroupArn: input.PlacementGroupArn } : {}),
  };
  capacityReservations(ctx).put(ctx.region, id, rec);
  putTags(ctx, id, KINDS.capacityReservation.name, tags);
  return { CapacityReservation: output(views(ctx, [rec])[0]!, tags) };
});

const RESERVATION_FILTERS = filterTable<ReservationView>('DescribeCapacityReservations', {
  'instance-type': 'InstanceType',
  'owner-id': 'OwnerId',
  'instance-platform': 'InstancePlatform',
  'availability-zone': 'AvailabilityZone',
  tenancy: 'Tenancy',
  'outpost-arn': () => undefined,
  state: 'view.State',
  'start-date': 'StartDate',
  'end-date': 'EndDate',
  'end-date-type': 'EndDateType',
  'instance-match-criteria': 'InstanceMatchCriteria',
  'placement-group-arn': 'PlacementGroupArn',
});

const describeCapacityReservations = action((ctx, input: DescribeCapacityReservationsRequest): DescribeCapacityReservationsResult => {
  const ids = input.CapacityReservationIds ?? [];
  let records = capacityReservations(ctx).list(ctx.region);
  if (ids.length > 0) {
    const wanted = new Set(requireResources(ctx, KINDS.capacityReservation, ids).map((r) => r.CapacityReservationId));
    records = records.filter((r) => wanted.has(r.CapacityReservationId));
  }
  const tags = tagsByResource(ctx, KINDS.capacityReservation.name);
  const filtered = applyFilters(views(ctx, records), input.Filters, RESERVATION_FILTERS, (r) => tags.get(r.CapacityReservationId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 1, max: 1000 });
  return { CapacityReservations: page.items.map((r) => output(r, tags.get(r.CapacityReservationId))), NextToken: page.nextToken };
});

/** A reservation that can still change: active (not cancelled or expired). */
function requireActive(ctx: RequestContext, id: string | undefined): CapacityReservationRecord {
  if (id === undefined || id === '') throw missingParameter('CapacityReservationId');
  const r = requireResource(ctx, KINDS.capacityReservation, id);
  const state = reservationState(r, ctx.now);
  if (state !== 'active') {
    throw new Ec2Error('InvalidCapacityReservationState', `The capacity reservation '${id}' is ${state} and cannot be changed.`);
  }
  return r;
}

const modifyCapacityReservation = action((ctx, input: ModifyCapacityReservationRequest): ModifyCapacityReservationResult => {
  const r = requireActive(ctx, input.CapacityReservationId);
  if (input.InstanceCount === undefined && input.EndDate === undefined && input.EndDateType === undefined && input.InstanceMatchCriteria === undefined && input.Accept === undefined) {
    throw missingParameter('InstanceCount, EndDate, EndDateType or InstanceMatchCriteria');
  }
  if (input.InstanceCount !== undefined) {
    const count = checkCount(input.InstanceCount);
    const used = reservationUse(ctx).get(r.CapacityReservationId) ?? 0;
    if (count < used) {
      throw new Ec2Error('InvalidParameterValue', `Value (${count}) for parameter instanceCount is invalid. ${used} instances use the capacity reservation '${r.CapacityReservationId}'.`);
    }
    r.TotalInstanceCount = count;
  }
  if (input.EndDate !== undefined || input.EndDateType !== undefined) {
    const end = endOf(ctx, input.EndDateType, input.EndDate, r);
    r.EndDateType = end.EndDateType;
    if (end.EndDate === undefined) delete r.EndDate;
    else r.EndDate = end.EndDate;
  }
  if (input.InstanceMatchCriteria !== undefined) {
    if (input.InstanceMatchCriteria !== 'open' && input.InstanceMatchCriteria !== 'targeted') {
      throw new Ec2Error('InvalidParameterValue', `Value (${input.InstanceMatchCriteria}) for parameter instanceMatchCriteria is invalid. Valid values: open, targeted`);
    }
    r.InstanceMatchCriteria = input.InstanceMatchCriteria;
  }
  capacityReservations(ctx).put(ctx.region, r.CapacityReservationId, r);
  return { Return: true };
});

const cancelCapacityReservation = action((ctx, input: CancelCapacityReservationRequest): CancelCapacityReservationResult => {
  const r = requireActive(ctx, input.CapacityReservationId);
  r.State = 'cancelled';
  r.EndDate = ec2Time(ctx.now);
  capacityReservations(ctx).put(ctx.region, r.CapacityReservationId, r);
  return { Return: true };
});

export const capacityReservationsModule: ApiModule = {
  actions: {
    CreateCapacityReservation: createCapacityReservation,
    DescribeCapacityReservations: describeCapacityReservations,
    ModifyCapacityReservation: modifyCapacityReservation,
    CancelCapacityReservation: cancelCapacityReservation,
  },
};
