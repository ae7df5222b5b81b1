/**
 * Endpoint services: the account's own (records of kind 'vpc-endpoint-service',
 * `com.amazonaws.vpce.<region>.vpce-svc-…`, in front of load balancers Overcast
 * only names) and the AWS services of the region (domain/endpoint-services.ts),
 * found by name for CreateVpcEndpoint.
 */
import { awsEndpointServices, type EndpointServiceType } from '../../domain/endpoint-services.js';
import type { ResourceContext } from '../context.js';
import { KINDS } from './kinds.js';
import { isGone, recordLifecycle } from './record-lifecycles.js';
import type { VpcEndpointServiceRecord } from './records.js';

type Reader = Pick<ResourceContext, 'store' | 'region'>;

export const endpointServices = (ctx: Reader) => ctx.store.collection(KINDS.vpcEndpointService);

/** The name EC2 gives an account's endpoint service. */
export const ownServiceName = (region: string, serviceId: string): string => `com.amazonaws.vpce.${region}.${serviceId}`;

/** What an endpoint can connect to: one service name and one type. */
export interface EndpointTarget {
  serviceName: string;
  /** the name's part after `com.amazonaws.<region>.` or `com.amazonaws.vpce.<region>.` */
  short: string;
  type: EndpointServiceType;
  privateDnsName?: string;
  /** the account's service record, for services of the account */
  own?: VpcEndpointServiceRecord;
}

/** The types a service name offers in the caller's region (none: no such service). */
export function endpointTargets(ctx: Reader, serviceName: string): EndpointTarget[] {
  const aws = awsEndpointServices(ctx.region)
    .filter((s) => s.serviceName === serviceName)
    .map((s) => ({ serviceName, short: s.short, type: s.type, ...(s.privateDnsName !== undefined ? { privateDnsName: s.privateDnsName } : {}) }));
  if (aws.length > 0) return aws;
  const prefix = `com.amazonaws.vpce.${ctx.region}.`;
  if (!serviceName.startsWith(prefix)) return [];
  const own = endpointServices(ctx).get(ctx.region, serviceName.slice(prefix.length));
  if (!own || isGone(own) || own.ServiceState !== 'Available') return [];
  return (own.ServiceType ?? []).map((t) => ({
    serviceName,
    short: own.ServiceId,
    type: t.ServiceType as EndpointServiceType,
    ...(own.PrivateDnsName !== undefined ? { privateDnsName: own.PrivateDnsName } : {}),
    own,
  }));
}

/** Pending → Available, Deleting → Deleted. */
export const endpointServiceLifecycle = recordLifecycle<VpcEndpointServiceRecord>({
  kind: KINDS.vpcEndpointService,
  idOf: (r) => r.ServiceId,
  stateKey: 'ServiceState',
  moves: { Pending: 'Available', Deleting: 'Deleted' },
  deleted: 'Deleted',
});
