/**
 * The route targets of the VPC extras (CreateRoute / ReplaceRoute
 * EgressOnlyInternetGatewayId, NatGatewayId, VpcPeeringConnectionId): the
 * checks a target passes, and whether a route to one is active or a blackhole
 * on describe. route-tables.ts asks here for these parameters.
 */
import type { Route } from '@aws-sdk/client-ec2';
import { Ec2Error } from '../../domain/errors.js';
import type { RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { RouteTableRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';

/** What a route may point at. */
export type RouteTarget = Pick<Route, 'GatewayId' | 'NetworkInterfaceId' | 'NatGatewayId' | 'EgressOnlyInternetGatewayId' | 'VpcPeeringConnectionId' | 'TransitGatewayId'>;

export type ExtraTargetParam = 'NatGatewayId' | 'EgressOnlyInternetGatewayId' | 'VpcPeeringConnectionId';

type TargetCheck = (ctx: RequestContext, table: RouteTableRecord, id: string, ipv6: boolean) => RouteTarget;

const differentNetworks = (table: RouteTableRecord, what: string, id: string): Ec2Error =>
  new Ec2Error('InvalidParameterValue', `route table ${table.RouteTableId} and ${what} ${id} belong to different networks`);

export const EXTRA_TARGETS: Readonly<Record<ExtraTargetParam, TargetCheck>> = {
  EgressOnlyInternetGatewayId: (ctx, table, id, ipv6) => {
    const g = requireResource(ctx, KINDS.egressOnlyInternetGateway, id);
    if (g.VpcId !== table.VpcId) throw differentNetworks(table, 'egress only gateway', id);
    if (!ipv6) throw new Ec2Error('InvalidParameterValue', `An egress-only internet gateway (${id}) is a target for IPv6 routes only.`);
    return { EgressOnlyInternetGatewayId: id };
  },
  NatGatewayId: (ctx, table, id) => {
    // CreateRoute names an unknown NAT gateway with a code of its own
    const n = ctx.store.collection(KINDS.natGateway).get(ctx.region, id);
    if (!n || n.State === 'deleting' || n.State === 'deleted' || n.State === 'failed') {
      throw new Ec2Error('InvalidNatGatewayID.NotFound', `The natGateway ID '${id}' does not exist`);
    }
    if (n.VpcId !== table.VpcId) throw differentNetworks(table, 'nat gateway', id);
    return { NatGatewayId: id };
  },
  VpcPeeringConnectionId: (ctx, table, id) => {
    const p = requireResource(ctx, KINDS.vpcPeeringConnection, id);
    const sides = [p.RequesterVpcInfo?.VpcId, p.AccepterVpcInfo?.VpcId];
    if (!sides.includes(table.VpcId)) throw differentNetworks(table, 'vpc peering connection', id);
    // a connection still being requested (initiating-request lasts a moment, a client cannot wait
    // for its end) takes routes as a pending one does: they stay blackhole until it is active
    const state = p.Status?.Code;
    if (state !== 'active' && state !== 'pending-acceptance' && state !== 'provisioning' && state !== 'initiating-request') {
      throw new Ec2Error('InvalidVpcPeeringConnectionID.NotFound', `The vpcPeeringConnection ID '${id}' does not exist`);
    }
    return { VpcPeeringConnectionId: id };
  },
};

/** What describing routes to these targets needs, read once per call. */
export interface ExtraTargetWorld {
  eigwVpc: ReadonlyMap<string, string>;
  natState: ReadonlyMap<string, string>;
  peeringState: ReadonlyMap<string, string>;
}

export function loadExtraTargets(ctx: RequestContext): ExtraTargetWorld {
  return {
    eigwVpc: new Map(ctx.store.collection(KINDS.egressOnlyInternetGateway).list(ctx.region).map((g) => [g.EgressOnlyInternetGatewayId, g.VpcId])),
    natState: new Map(ctx.store.collection(KINDS.natGateway).list(ctx.region).map((n) => [n.NatGatewayId, n.State])),
    peeringState: new Map(ctx.store.collection(KINDS.vpcPeeringConnection).list(ctx.region).map((p) => [p.VpcPeeringConnectionId, p.Status?.Code ?? ''])),
  };
}

/** Whether a route to one of these targets is active; undefined when the route has none of them. */
export function extraTargetActive(route: Route, table: RouteTableRecord, world: ExtraTargetWorld): boolean | undefined {
  if (route.EgressOnlyInternetGatewayId !== undefined) return world.eigwVpc.get(route.EgressOnlyInternetGatewayId) === table.VpcId;
  if (route.NatGatewayId !== undefined) {
    const s = world.natState.get(route.NatGatewayId);
    return s === 'available' || s === 'pending';
  }
  if (route.VpcPeeringConnectionId !== undefined) return world.peeringState.get(route.VpcPeeringConnectionId) === 'active';
  return undefined;
}
