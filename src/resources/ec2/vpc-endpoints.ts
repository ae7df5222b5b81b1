/**
 * VPC endpoints: their records, their state machine (pending → available,
 * deleting → deleted) and what a Gateway endpoint puts in route tables: a
 * route to the service's AWS-managed prefix list (prefix-lists.ts) through
 * the endpoint, added with the table and taken away with it or the endpoint.
 * Records only: nothing on the host carries an endpoint's traffic.
 */
import type { Route } from '@aws-sdk/client-ec2';
import type { ResourceContext } from '../context.js';
import { KINDS } from './kinds.js';
import { awsManagedPrefixLists } from './prefix-lists.js';
import { isGone, recordLifecycle } from './record-lifecycles.js';
import type { RouteTableRecord, VpcEndpointRecord } from './records.js';

type Reader = Pick<ResourceContext, 'store' | 'region'>;

export const endpoints = (ctx: Reader) => ctx.store.collection(KINDS.vpcEndpoint);

/** The AWS-managed prefix list of a Gateway service (`com.amazonaws.<region>.s3` → its list id). */
export function gatewayPrefixListId(region: string, serviceName: string): string | undefined {
  return awsManagedPrefixLists(region).find((p) => p.PrefixListName === serviceName)?.PrefixListId;
}

/** The route a Gateway endpoint adds to a table. */
export function endpointRoute(e: Pick<VpcEndpointRecord, 'VpcEndpointId' | 'prefixListId'>): Route {
  return { DestinationPrefixListId: e.prefixListId, GatewayId: e.VpcEndpointId, Origin: 'CreateRoute' };
}

/** Whether the table already routes the prefix list somewhere. */
export function routesPrefixList(table: RouteTableRecord, prefixListId: string): boolean {
  return table.Routes.some((r) => r.DestinationPrefixListId === prefixListId);
}

/** Adds the endpoint's route to each table (callers checked the tables). */
export function addEndpointRoutes(ctx: ResourceContext, e: VpcEndpointRecord, tableIds: readonly string[]): void {
  const col = ctx.store.collection(KINDS.routeTable);
  for (const id of tableIds) {
    const t = col.get(ctx.region, id);
    if (!t) continue;
    t.Routes.push(endpointRoute(e));
    col.put(ctx.region, id, t);
  }
}

/** Takes the endpoint's route out of each table that still exists. */
export function removeEndpointRoutes(ctx: ResourceContext, endpointId: string, tableIds: readonly string[]): void {
  const col = ctx.store.collection(KINDS.routeTable);
  for (const id of tableIds) {
    const t = col.get(ctx.region, id);
    if (!t) continue;
    const kept = t.Routes.filter((r) => r.GatewayId !== endpointId);
    if (kept.length === t.Routes.length) continue;
    t.Routes = kept;
    col.put(ctx.region, id, t);
  }
}

/** The endpoints of a VPC that are not deleted. */
export function liveEndpointsOf(ctx: Reader, vpcId: string): VpcEndpointRecord[] {
  return endpoints(ctx)
    .list(ctx.region)
    .filter((e) => e.VpcId === vpcId && !isGone(e) && e.State !== 'deleting');
}

/** The region's Gateway endpoints that are not deleted, with their VPC: route targets for route tables. */
export function gatewayEndpointVpcs(ctx: Reader): [string, string][] {
  return endpoints(ctx)
    .list(ctx.region)
    .filter((e) => e.VpcEndpointType === 'Gateway' && !isGone(e) && e.State !== 'deleting')
    .map((e) => [e.VpcEndpointId, e.VpcId]);
}

export const vpcEndpointLifecycle = recordLifecycle<VpcEndpointRecord>({
  kind: KINDS.vpcEndpoint,
  idOf: (r) => r.VpcEndpointId,
  stateKey: 'State',
  moves: { pending: 'available', deleting: 'deleted' },
  deleted: 'deleted',
});
