/**
 * The AWS services a region offers VPC endpoints to (DescribeVpcEndpointServices):
 * `com.amazonaws.<region>.<service>`, the endpoint types each takes, and the
 * private DNS name an Interface endpoint answers for. Pure: the same entries
 * for a region every time, with stable service ids.
 */
import { createHash } from 'node:crypto';

export type EndpointServiceType = 'Interface' | 'Gateway' | 'GatewayLoadBalancer';

export interface AwsEndpointService {
  /** `com.amazonaws.<region>.<short>` */
  serviceName: string;
  /** the name's last part (`s3`, `ecr.api`) */
  short: string;
  type: EndpointServiceType;
  /** `vpce-svc-` and 17 hex digits, stable per region, service and type */
  serviceId: string;
  /** the name an Interface endpoint with private DNS answers for (none for a Gateway) */
  privateDnsName?: string;
}

/** [short name, types, private DNS name as a template over `<region>`] */
const CATALOGUE: readonly [string, readonly EndpointServiceType[], string | undefined][] = [
  ['s3', ['Gateway', 'Interface'], undefined],
  ['dynamodb', ['Gateway', 'Interface'], undefined],
  ['ec2', ['Interface'], 'ec2.<region>.amazonaws.com'],
  ['ec2messages', ['Interface'], 'ec2messages.<region>.amazonaws.com'],
  ['ssm', ['Interface'], 'ssm.<region>.amazonaws.com'],
  ['ssmmessages', ['Interface'], 'ssmmessages.<region>.amazonaws.com'],
  ['sts', ['Interface'], 'sts.<region>.amazonaws.com'],
  ['logs', ['Interface'], 'logs.<region>.amazonaws.com'],
  ['monitoring', ['Interface'], 'monitoring.<region>.amazonaws.com'],
  ['kms', ['Interface'], 'kms.<region>.amazonaws.com'],
  ['secretsmanager', ['Interface'], 'secretsmanager.<region>.amazonaws.com'],
  ['sqs', ['Interface'], 'sqs.<region>.amazonaws.com'],
  ['sns', ['Interface'], 'sns.<region>.amazonaws.com'],
  ['ecr.api', ['Interface'], 'api.ecr.<region>.amazonaws.com'],
  ['ecr.dkr', ['Interface'], '*.dkr.ecr.<region>.amazonaws.com'],
  ['elasticloadbalancing', ['Interface'], 'elasticloadbalancing.<region>.amazonaws.com'],
  ['autoscaling', ['Interface'], 'autoscaling.<region>.amazonaws.com'],
  ['lambda', ['Interface'], 'lambda.<region>.amazonaws.com'],
  ['execute-api', ['Interface'], '*.execute-api.<region>.amazonaws.com'],
  ['events', ['Interface'], 'events.<region>.amazonaws.com'],
];

const stableHex = (text: string, n: number): string => createHash('sha256').update(text).digest('hex').slice(0, n);

const cache = new Map<string, readonly AwsEndpointService[]>();

/** The region's AWS services, in catalogue order (a service with two types is listed once per type). */
export function awsEndpointServices(region: string): readonly AwsEndpointService[] {
  let list = cache.get(region);
  if (!list) {
    list = CATALOGUE.flatMap(([short, types, dns]) =>
      types.map((type) => ({
        serviceName: `com.amazonaws.${region}.${short}`,
        short,
        type,
        serviceId: `vpce-svc-${stableHex(`${region}/${short}/${type}`, 17)}`,
        ...(type === 'Interface' && dns !== undefined ? { privateDnsName: dns.replace('<region>', region) } : {}),
      })),
    );
    cache.set(region, list);
  }
  return list;
}

/** The Route 53 zone id Overcast shows for a region's `vpce.amazonaws.com` names (stable, made up). */
export function vpceHostedZoneId(region: string): string {
  return `Z${stableHex(`vpce/${region}`, 12).toUpperCase()}`;
}

/** The private hosted zone id of an endpoint's private DNS name in a VPC (stable, made up). */
export function privateHostedZoneId(vpcId: string, name: string): string {
  return `Z${stableHex(`private/${vpcId}/${name}`, 20).toUpperCase()}`;
}

/**
 * The DNS names of an Interface (or GatewayLoadBalancer) endpoint: the
 * regional one, then one per zone, `vpce-<id>-<8 hex>[-<zone>].<service>.<region>.vpce.amazonaws.com`.
 */
export function endpointDnsNames(endpointId: string, short: string, region: string, zones: readonly string[]): string[] {
  const host = `${endpointId}-${stableHex(endpointId, 8)}`;
  const domain = `${short}.${region}.vpce.amazonaws.com`;
  return [`${host}.${domain}`, ...zones.map((z) => `${host}-${z}.${domain}`)];
}

/** The default endpoint policy EC2 gives a Gateway or Interface endpoint: everyone, everything. */
export const DEFAULT_ENDPOINT_POLICY = '{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}';
