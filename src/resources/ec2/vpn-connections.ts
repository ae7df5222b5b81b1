/**
 * Site-to-Site VPN connections: their records, their state machine (pending →
 * available, deleting → deleted; static routes pending → available and
 * deleting → gone; a gateway change associating → associated), which
 * connections hold a customer or virtual private gateway, and the routes a
 * propagating route table learns from them. Records only: no tunnel is up.
 */
import type { ResourceContext } from '../context.js';
import { KINDS } from './kinds.js';
import { isGone, recordLifecycle } from './record-lifecycles.js';
import type { VpnConnectionRecord } from './records.js';

type Reader = Pick<ResourceContext, 'store' | 'region'>;

export const vpnConnections = (ctx: Reader) => ctx.store.collection(KINDS.vpnConnection);

const live = (c: VpnConnectionRecord) => !isGone(c) && c.State !== 'deleting';

/** The live connections through a customer gateway, a virtual private gateway or a transit gateway. */
export function connectionsUsing(ctx: Reader, gatewayId: string): VpnConnectionRecord[] {
  return vpnConnections(ctx)
    .list(ctx.region)
    .filter((c) => live(c) && (c.CustomerGatewayId === gatewayId || c.VpnGatewayId === gatewayId || c.TransitGatewayId === gatewayId));
}

/** Virtual private gateway id → the destinations of its connections' available static routes. */
export function staticRoutesByVpnGateway(ctx: Reader): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of vpnConnections(ctx).list(ctx.region)) {
    if (!live(c) || c.VpnGatewayId === undefined) continue;
    const cidrs = c.Routes.filter((r) => r.State === 'available').map((r) => r.DestinationCidrBlock);
    if (cidrs.length > 0) out.set(c.VpnGatewayId, [...(out.get(c.VpnGatewayId) ?? []), ...cidrs]);
  }
  return out;
}

export const vpnConnectionLifecycle = recordLifecycle<VpnConnectionRecord>({
  kind: KINDS.vpnConnection,
  idOf: (r) => r.VpnConnectionId,
  stateKey: 'State',
  moves: { pending: 'available', deleting: 'deleted' },
  deleted: 'deleted',
  partsUnsettled: (r) => r.GatewayAssociationState === 'associating' || r.Routes.some((x) => x.State !== 'available'),
  advanceParts: (r) => {
    let moved = false;
    if (r.GatewayAssociationState === 'associating') {
      r.GatewayAssociationState = 'associated';
      moved = true;
    }
    const routes = r.Routes.filter((x) => x.State !== 'deleting').map((x) => (x.State === 'pending' ? { ...x, State: 'available' as const } : x));
    if (routes.length !== r.Routes.length || routes.some((x, i) => x.State !== r.Routes[i]!.State)) moved = true;
    r.Routes = routes;
    return moved;
  },
});
