/**
 * Subnet CIDR reservations: CreateSubnetCidrReservation, GetSubnetCidrReservations,
 * DeleteSubnetCidrReservation. A reservation is an IPv4 or IPv6 range inside its
 * subnet's block, apart from the subnet's other reservations; automatic private
 * IPv4 assignment (RunInstances, CreateNetworkInterface) skips reserved ranges,
 * an address asked for by hand may lie in one.
 */
import type {
  CreateSubnetCidrReservationRequest,
  CreateSubnetCidrReservationResult,
  DeleteSubnetCidrReservationRequest,
  DeleteSubnetCidrReservationResult,
  GetSubnetCidrReservationsRequest,
  GetSubnetCidrReservationsResult,
  SubnetCidrReservation,
} from '@aws-sdk/client-ec2';
import { contains, formatIpv6, isCanonical, overlaps, parseCidr4, parseCidr6, type Cidr6 } from '../../domain/cidr.js';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { checkText } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { SubnetCidrReservationRecord, SubnetRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { liveSubnetIpv6 } from '../../resources/ec2/subnet-cidrs.js';
import { reservations, reservationsOf } from '../../resources/ec2/subnet-cidr-reservations.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { tagSpecificationTags, tagsField } from './tags.js';

const ipv6Inside = (outer: Cidr6, inner: Cidr6): boolean =>
  inner.prefix >= outer.prefix && inner.address >> BigInt(128 - outer.prefix) === outer.address >> BigInt(128 - outer.prefix);
const ipv6Overlap = (a: Cidr6, b: Cidr6): boolean => ipv6Inside(a, b) || ipv6Inside(b, a);

const notValid = (s: string) => new Ec2Error('InvalidParameterValue', `Value (${s}) for parameter cidr is invalid. This is not a valid CIDR block.`);
const outside = (s: string, subnet: SubnetRecord) =>
  new Ec2Error('InvalidParameterValue', `Reservation CIDR ${s} is not within the CIDR range of subnet ${subnet.SubnetId}`);
const overlapping = (s: string) => new Ec2Error('InvalidParameterValue', `Reservation CIDR ${s} has overlap with existing reserved CIDR block`);

/** The reservation's block in canonical text and its family, checked against the subnet and its reservations. */
function checkCidr(s: string, subnet: SubnetRecord, existing: SubnetCidrReservationRecord[]): { cidr: string; family: 4 | 6 } {
  if (s.includes(':')) {
    const c = parseCidr6(s);
    if (!c || c.address & ((1n << BigInt(128 - c.prefix)) - 1n)) throw notValid(s);
    const blocks = liveSubnetIpv6(subnet).map((a) => parseCidr6(a.Ipv6CidrBlock ?? '')).filter((b) => b !== undefined);
    if (!blocks.some((b) => ipv6Inside(b, c))) throw outside(s, subnet);
    if (existing.some((r) => r.family === 6 && ipv6Overlap(parseCidr6(r.Cidr)!, c))) throw overlapping(s);
    return { cidr: `${formatIpv6(c.address)}/${c.prefix}`, family: 6 };
  }
  const c = parseCidr4(s);
  if (!c || !isCanonical(c)) throw notValid(s);
  if (!contains(parseCidr4(subnet.CidrBlock)!, c)) throw outside(s, subnet);
  if (existing.some((r) => r.family === 4 && overlaps(parseCidr4(r.Cidr)!, c))) throw overlapping(s);
  return { cidr: s, family: 4 };
}

function toOutput(r: SubnetCidrReservationRecord, tags: Tag[] | undefined): SubnetCidrReservation {
  const { family: _f, ...rest } = r;
  return { ...rest, Tags: tagsField(tags) };
}

const createSubnetCidrReservation = action((ctx, input: CreateSubnetCidrReservationRequest): CreateSubnetCidrReservationResult => {
  if (input.SubnetId === undefined || input.SubnetId === '') throw missingParameter('SubnetId');
  if (input.Cidr === undefined || input.Cidr === '') throw missingParameter('Cidr');
  const type = input.ReservationType as string | undefined;
  if (type === undefined || type === '') throw missingParameter('ReservationType');
  if (type !== 'prefix' && type !== 'explicit') {
    throw new Ec2Error('InvalidParameterValue', `Value (${type}) for parameter reservationType is invalid. Valid values are: prefix, explicit.`);
  }
  if (input.Description !== undefined) {
    checkText('Description', input.Description);
    if (input.Description.length > 255) throw new Ec2Error('InvalidParameterValue', 'The description may be at most 255 characters long.');
  }
  const subnet = requireResource(ctx, KINDS.subnet, input.SubnetId);
  const { cidr, family } = checkCidr(input.Cidr, subnet, reservationsOf(ctx, subnet.SubnetId));
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.subnetCidrReservation.name]).get(KINDS.subnetCidrReservation.name) ?? [];
  const record: SubnetCidrReservationRecord = {
    SubnetCidrReservationId: newId(KINDS.subnetCidrReservation.prefix),
    SubnetId: subnet.SubnetId,
    Cidr: cidr,
    ReservationType: type,
    OwnerId: ctx.accountId,
    ...(input.Description !== undefined ? { Description: input.Description } : {}),
    family,
  };
  reservations(ctx).put(ctx.region, record.SubnetCidrReservationId, record);
  putTags(ctx, record.SubnetCidrReservationId, KINDS.subnetCidrReservation.name, tags);
  return { SubnetCidrReservation: toOutput(record, tags) };
});

const RESERVATION_FILTERS = filterTable<SubnetCidrReservationRecord>('GetSubnetCidrReservations', {
  reservationType: 'ReservationType',
  'subnet-id': 'SubnetId',
});

const getSubnetCidrReservations = action((ctx, input: GetSubnetCidrReservationsRequest): GetSubnetCidrReservationsResult => {
  if (input.SubnetId === undefined || input.SubnetId === '') throw missingParameter('SubnetId');
  const subnet = requireResource(ctx, KINDS.subnet, input.SubnetId);
  const tags = tagsByResource(ctx, KINDS.subnetCidrReservation.name);
  const filtered = applyFilters(reservationsOf(ctx, subnet.SubnetId), input.Filters, RESERVATION_FILTERS, (r) => tags.get(r.SubnetCidrReservationId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  const out = (family: 4 | 6) => page.items.filter((r) => r.family === family).map((r) => toOutput(r, tags.get(r.SubnetCidrReservationId)));
  return { SubnetIpv4CidrReservations: out(4), SubnetIpv6CidrReservations: out(6), NextToken: page.nextToken };
});

const deleteSubnetCidrReservation = action((ctx, input: DeleteSubnetCidrReservationRequest): DeleteSubnetCidrReservationResult => {
  const id = input.SubnetCidrReservationId;
  if (id === undefined || id === '') throw missingParameter('SubnetCidrReservationId');
  const record = requireResource(ctx, KINDS.subnetCidrReservation, id);
  const tags = ctx.store.tags.forResource(ctx.region, id);
  reservations(ctx).delete(ctx.region, id);
  ctx.store.tags.removeAll(ctx.region, id);
  return { DeletedSubnetCidrReservation: toOutput(record, tags) };
});

export const subnetCidrReservationsModule: ApiModule = {
  actions: {
    CreateSubnetCidrReservation: createSubnetCidrReservation,
    GetSubnetCidrReservations: getSubnetCidrReservations,
    DeleteSubnetCidrReservation: deleteSubnetCidrReservation,
  },
};
