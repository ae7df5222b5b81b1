/**
 * Virtual private gateways: their records, their state machine (pending →
 * available, deleting → deleted; an attachment attaching → attached,
 * detaching → detached) and what route tables take from them: routes through
 * an attached gateway, and route propagation (PropagatingVgws). Records only.
 */
import type { ResourceContext } from '../context.js';
import { KINDS } from './kinds.js';
import { isGone, recordLifecycle } from './record-lifecycles.js';
import type { VpnGatewayRecord } from './records.js';

type Reader = Pick<ResourceContext, 'store' | 'region'>;

export const vpnGateways = (ctx: Reader) => ctx.store.collection(KINDS.vpnGateway);

/** The attachment that holds the gateway to a VPC (attaching, attached or detaching), if any. */
export function liveAttachment(g: VpnGatewayRecord): VpnGatewayRecord['VpcAttachments'][number] | undefined {
  return g.VpcAttachments.find((a) => a.State !== 'detached');
}

/** The gateway attached (or attaching, or detaching) to a VPC, if any. */
export function vpnGatewayOfVpc(ctx: Reader, vpcId: string): VpnGatewayRecord | undefined {
  return vpnGateways(ctx)
    .list(ctx.region)
    .find((g) => !isGone(g) && liveAttachment(g)?.VpcId === vpcId);
}

/** The region's gateways attached to a VPC now, with it: route targets for route tables. */
export function attachedVpnGatewayVpcs(ctx: Reader): [string, string][] {
  return vpnGateways(ctx)
    .list(ctx.region)
    .flatMap((g): [string, string][] => {
      const a = g.VpcAttachments.find((x) => x.State === 'attached');
      return a && !isGone(g) ? [[g.VpnGatewayId, a.VpcId]] : [];
    });
}

/** Takes the gateway out of the PropagatingVgws of the VPC's route tables. */
export function stopPropagation(ctx: ResourceContext, vpnGatewayId: string, vpcId: string): void {
  const col = ctx.store.collection(KINDS.routeTable);
  for (const t of col.list(ctx.region)) {
    if (t.VpcId !== vpcId || !(t.PropagatingVgws ?? []).some((p) => p.GatewayId === vpnGatewayId)) continue;
    col.put(ctx.region, t.RouteTableId, { ...t, PropagatingVgws: (t.PropagatingVgws ?? []).filter((p) => p.GatewayId !== vpnGatewayId) });
  }
}

const ATTACHMENT_MOVES = { attaching: 'attached', detaching: 'detached' } as const;

export const vpnGatewayLifecycle = recordLifecycle<VpnGatewayRecord>({
  kind: KINDS.vpnGateway,
  idOf: (r) => r.VpnGatewayId,
  stateKey: 'State',
  moves: { pending: 'available', deleting: 'deleted' },
  deleted: 'deleted',
  partsUnsettled: (r) => r.VpcAttachments.some((a) => a.State === 'attaching' || a.State === 'detaching'),
  advanceParts: (r) => {
    let moved = false;
    for (const a of r.VpcAttachments) {
      if (a.State === 'attaching' || a.State === 'detaching') {
        a.State = ATTACHMENT_MOVES[a.State];
        moved = true;
      }
    }
    return moved;
  },
});
