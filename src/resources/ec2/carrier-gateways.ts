/** Carrier gateways: their records and state machine (pending → available, deleting → deleted). Records only. */
import type { ResourceContext } from '../context.js';
import { KINDS } from './kinds.js';
import { isGone, recordLifecycle } from './record-lifecycles.js';
import type { CarrierGatewayRecord } from './records.js';

type Reader = Pick<ResourceContext, 'store' | 'region'>;

export const carrierGateways = (ctx: Reader) => ctx.store.collection(KINDS.carrierGateway);

/** The VPC's carrier gateway that is not deleted or going, if any. */
export function liveCarrierGatewayOf(ctx: Reader, vpcId: string): CarrierGatewayRecord | undefined {
  return carrierGateways(ctx)
    .list(ctx.region)
    .find((g) => g.VpcId === vpcId && !isGone(g) && g.State !== 'deleting');
}

export const carrierGatewayLifecycle = recordLifecycle<CarrierGatewayRecord>({
  kind: KINDS.carrierGateway,
  idOf: (r) => r.CarrierGatewayId,
  stateKey: 'State',
  moves: { pending: 'available', deleting: 'deleted' },
  deleted: 'deleted',
});
