/** Customer gateways: their records and state machine (pending → available, deleting → deleted). Records only. */
import type { ResourceContext } from '../context.js';
import { KINDS } from './kinds.js';
import { isGone, recordLifecycle } from './record-lifecycles.js';
import type { CustomerGatewayRecord } from './records.js';

type Reader = Pick<ResourceContext, 'store' | 'region'>;

export const customerGateways = (ctx: Reader) => ctx.store.collection(KINDS.customerGateway);

/** A live gateway with the same address, ASN, type and certificate (EC2 answers it again instead of a new one). */
export function sameCustomerGateway(ctx: Reader, g: Pick<CustomerGatewayRecord, 'IpAddress' | 'BgpAsn' | 'BgpAsnExtended' | 'CertificateArn' | 'Type'>): CustomerGatewayRecord | undefined {
  return customerGateways(ctx)
    .list(ctx.region)
    .find(
      (c) =>
        !isGone(c) &&
        c.State !== 'deleting' &&
        c.Type === g.Type &&
        c.IpAddress === g.IpAddress &&
        c.BgpAsn === g.BgpAsn &&
        c.BgpAsnExtended === g.BgpAsnExtended &&
        c.CertificateArn === g.CertificateArn,
    );
}

export const customerGatewayLifecycle = recordLifecycle<CustomerGatewayRecord>({
  kind: KINDS.customerGateway,
  idOf: (r) => r.CustomerGatewayId,
  stateKey: 'State',
  moves: { pending: 'available', deleting: 'deleted' },
  deleted: 'deleted',
});
