/**
 * What CreateRoute and ReplaceRoute (route-tables.ts) take from transit
 * gateways: a route of a VPC route table may target a transit gateway the VPC
 * has an attachment to (EC2 answers InvalidTransitGatewayID.NotFound
 * otherwise, also while the gateway exists). DescribeRouteTables shows such a
 * route active while the attachment is available, else blackhole.
 */
import type { RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { requireLive, vpcAttachmentOf, vpcReachesTgw } from '../../resources/ec2/transit-gateways.js';

/** The route target `{ TransitGatewayId }` for a route table of `vpcId`, checked. */
export function transitGatewayTarget(ctx: RequestContext, vpcId: string, id: string): { TransitGatewayId: string } {
  requireLive(ctx, KINDS.transitGateway, id);
  if (!vpcAttachmentOf(ctx, id, vpcId)) throw KINDS.transitGateway.notFound(id);
  return { TransitGatewayId: id };
}

/** Whether a route of a `vpcId` route table to the transit gateway is active (else blackhole). */
export function transitGatewayRouteActive(ctx: RequestContext, vpcId: string, id: string): boolean {
  return vpcReachesTgw(ctx, id, vpcId);
}
