/**
 * Subnet CIDR reservations: ranges of a subnet that automatic private address
 * assignment leaves alone (`explicit`: for addresses given by hand; `prefix`:
 * for prefixes). They go with their subnet.
 */
import type { ResourceContext } from '../context.js';
import { networkAddress, parseCidr4, size } from '../../domain/cidr.js';
import { KINDS, SUBNET_INDEX } from './kinds.js';
import type { SubnetCidrReservationRecord } from './records.js';

type Reader = Pick<ResourceContext, 'store' | 'region'>;

export function reservations(ctx: Reader) {
  return ctx.store.collection(KINDS.subnetCidrReservation);
}

/** A subnet's reservations (from the store's index: no other reservation is read). */
export function reservationsOf(ctx: Reader, subnetId: string): SubnetCidrReservationRecord[] {
  return reservations(ctx).find(ctx.region, SUBNET_INDEX, subnetId);
}

/** The IPv4 addresses a subnet's reservations hold. */
export function reservedIpv4(ctx: Reader, subnetId: string): number[] {
  const out: number[] = [];
  for (const r of reservationsOf(ctx, subnetId)) {
    if (r.family !== 4) continue;
    const c = parseCidr4(r.Cidr);
    if (!c) continue;
    const first = networkAddress(c);
    for (let i = 0; i < size(c); i++) out.push(first + i);
  }
  return out;
}

/** Deletes a subnet's reservations (with their tags), when the subnet goes. */
export function deleteReservationsOf(ctx: ResourceContext, subnetId: string): void {
  for (const r of reservationsOf(ctx, subnetId)) {
    reservations(ctx).delete(ctx.region, r.SubnetCidrReservationId);
    ctx.store.tags.removeAll(ctx.region, r.SubnetCidrReservationId);
  }
}
