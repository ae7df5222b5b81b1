/**
 * Route targets that live outside route-tables.ts: Gateway VPC endpoints and
 * virtual private gateways, each with the VPC it serves now. A route through
 * one of them is active while that holds for the route table's VPC.
 */
import type { ResourceContext } from '../context.js';
import { liveCarrierGatewayOf } from './carrier-gateways.js';
import { gatewayEndpointVpcs, liveEndpointsOf } from './vpc-endpoints.js';

export function outsideGatewayVpcs(ctx: Pick<ResourceContext, 'store' | 'region'>): [string, string][] {
  return [...gatewayEndpointVpcs(ctx)];
}

/** Whether endpoints or gateways to the outside still use the VPC (DeleteVpc's DependencyViolation). */
export function outsideDependencies(ctx: Pick<ResourceContext, 'store' | 'region'>, vpcId: string): boolean {
  return liveEndpointsOf(ctx, vpcId).length > 0 || liveCarrierGatewayOf(ctx, vpcId) !== undefined;
}
