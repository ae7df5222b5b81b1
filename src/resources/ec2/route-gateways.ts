/**
 * Route targets that live outside route-tables.ts: Gateway VPC endpoints and
 * virtual private gateways, each with the VPC it serves now. A route through
 * one of them is active while that holds for the route table's VPC. And what
 * of these keeps a VPC or a subnet from being deleted.
 */
import type { ResourceContext } from '../context.js';
import { liveCarrierGatewayOf } from './carrier-gateways.js';
import type { Route } from '@aws-sdk/client-ec2';
import { Ec2Error } from '../../domain/errors.js';
import { KINDS } from './kinds.js';
import { isGone } from './record-lifecycles.js';
import type { RouteTableRecord } from './records.js';
import { requireWellFormed } from './registry.js';
import { staticRoutesByVpnGateway } from './vpn-connections.js';
import { attachedVpnGatewayVpcs, liveAttachment, vpnGatewayOfVpc, vpnGateways } from './vpn-gateways.js';
import { endpoints, gatewayEndpointVpcs, liveEndpointsOf } from './vpc-endpoints.js';

export function outsideGatewayVpcs(ctx: Pick<ResourceContext, 'store' | 'region'>): [string, string][] {
  return [...gatewayEndpointVpcs(ctx), ...attachedVpnGatewayVpcs(ctx)];
}

/** Whether endpoints or gateways to the outside still use the VPC (DeleteVpc's DependencyViolation). */
export function outsideDependencies(ctx: Pick<ResourceContext, 'store' | 'region'>, vpcId: string): boolean {
  return liveEndpointsOf(ctx, vpcId).length > 0 || liveCarrierGatewayOf(ctx, vpcId) !== undefined || vpnGatewayOfVpc(ctx, vpcId) !== undefined;
}

/** A virtual private gateway a route of the VPC may go through (attached to it, or attaching); EC2's errors otherwise. */
export function requireVpnGatewayTarget(ctx: Pick<ResourceContext, 'store' | 'region'>, vpcId: string, id: string): string {
  requireWellFormed(KINDS.vpnGateway, id);
  const g = vpnGateways(ctx).get(ctx.region, id);
  if (!g || isGone(g)) throw new Ec2Error('InvalidGatewayID.NotFound', `The gateway ID '${id}' does not exist`);
  const a = liveAttachment(g);
  if (!a || a.VpcId !== vpcId || a.State === 'detaching') throw new Ec2Error('Gateway.NotAttached', `resource ${id} is not attached to network ${vpcId}`);
  return id;
}

/** Virtual private gateway id → the destinations its VPN connections' static routes propagate. */
export { staticRoutesByVpnGateway as propagatedDestinations };

/**
 * The routes a table learns from the gateways it propagates (PropagatingVgws),
 * while each is attached to the table's VPC; a route the table has for the
 * same destination wins.
 */
export function propagatedRoutes(table: RouteTableRecord, gatewayVpc: ReadonlyMap<string, string | undefined>, destinations: ReadonlyMap<string, string[]>): Route[] {
  const own = new Set(table.Routes.map((r) => r.DestinationCidrBlock).filter((d) => d !== undefined));
  const out: Route[] = [];
  for (const p of table.PropagatingVgws ?? []) {
    const vgw = p.GatewayId;
    if (vgw === undefined || gatewayVpc.get(vgw) !== table.VpcId) continue;
    for (const cidr of destinations.get(vgw) ?? []) {
      if (own.has(cidr)) continue;
      own.add(cidr);
      out.push({ DestinationCidrBlock: cidr, GatewayId: vgw, Origin: 'EnableVgwRoutePropagation', State: 'active' });
    }
  }
  return out;
}

/** Whether an Interface or GatewayLoadBalancer endpoint that is not deleted sits in the subnet (DeleteSubnet's DependencyViolation). */
export function endpointsInSubnet(ctx: Pick<ResourceContext, 'store' | 'region'>, subnetId: string): boolean {
  return endpoints(ctx)
    .list(ctx.region)
    .some((e) => !isGone(e) && e.SubnetIds.includes(subnetId));
}
