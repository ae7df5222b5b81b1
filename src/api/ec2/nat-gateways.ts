/**
 * NAT gateways: CreateNatGateway (public, with an Elastic IP that then shows as
 * associated with the gateway's interface; or private), DescribeNatGateways,
 * DeleteNatGateway. The reconciler takes a gateway pending → available
 * (failed for a public one in a VPC without an internet gateway) and deleting
 * → deleted; deleted gateways stay visible for an hour. CreateRoute takes
 * NatGatewayId (route-targets.ts). An available gateway carries the traffic
 * routed to it on the fabric (reconcile/nat-gateways.ts).
 */
import type {
  CreateNatGatewayRequest,
  CreateNatGatewayResult,
  DeleteNatGatewayRequest,
  DeleteNatGatewayResult,
  DescribeNatGatewaysRequest,
  DescribeNatGatewaysResult,
  NatGateway,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { insertNatGateway, natGateways } from '../../resources/ec2/nat-gateways.js';
import type { NatGatewayRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { allocatePrivateIp } from '../../resources/ec2/subnets.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { tagSpecificationTags, tagsField } from './tags.js';

function toOutput(r: NatGatewayRecord, tags: Tag[] | undefined): NatGateway {
  const { finalAt: _f, CreateTime, DeleteTime, ...rest } = r;
  return {
    ...rest,
    // ISO-8601 text: the serializer writes it as EC2's timestamp
    CreateTime: CreateTime as unknown as Date,
    ...(DeleteTime !== undefined ? { DeleteTime: DeleteTime as unknown as Date } : {}),
    Tags: tagsField(tags),
  };
}

const unsupported = (what: string) => new Ec2Error('InvalidParameterValue', `${what} is not supported.`);

const createNatGateway = action((ctx, input: CreateNatGatewayRequest): CreateNatGatewayResult => {
  if (input.AvailabilityMode !== undefined && input.AvailabilityMode !== 'zonal') throw unsupported('A regional NAT gateway (AvailabilityMode regional)');
  if (input.VpcId !== undefined || input.AvailabilityZoneAddresses !== undefined) throw unsupported('A regional NAT gateway (VpcId, AvailabilityZoneAddresses)');
  if (input.SecondaryAllocationIds !== undefined || input.SecondaryPrivateIpAddresses !== undefined || input.SecondaryPrivateIpAddressCount !== undefined) {
    throw unsupported('Secondary NAT gateway addresses');
  }
  if (input.SubnetId === undefined || input.SubnetId === '') throw missingParameter('SubnetId');
  const connectivity = (input.ConnectivityType as string | undefined) ?? 'public';
  if (connectivity !== 'public' && connectivity !== 'private') {
    throw new Ec2Error('InvalidParameterValue', `Value (${connectivity}) for parameter connectivityType is invalid. Valid values are: public, private.`);
  }
  if (connectivity === 'private' && input.AllocationId !== undefined) {
    throw invalidParameterCombination('An AllocationId cannot be given for a private NAT gateway.');
  }
  if (connectivity === 'public' && (input.AllocationId === undefined || input.AllocationId === '')) throw missingParameter('AllocationId');
  const subnet = requireResource(ctx, KINDS.subnet, input.SubnetId);
  const address = input.AllocationId === undefined ? undefined : requireResource(ctx, KINDS.elasticIp, input.AllocationId);
  if (address && address.AssociationId !== undefined) {
    throw new Ec2Error('Resource.AlreadyAssociated', `Elastic IP address [${address.AllocationId}] is already associated`);
  }
  const name = KINDS.natGateway.name;
  const tags = tagSpecificationTags(input.TagSpecifications, [name]).get(name) ?? [];
  const privateIp = allocatePrivateIp(ctx, subnet, input.PrivateIpAddress);
  const record = insertNatGateway(ctx, { subnet, connectivity, privateIp, address });
  putTags(ctx, record.NatGatewayId, name, tags);
  return { ClientToken: input.ClientToken, NatGateway: toOutput(record, tags) };
});

const NAT_GATEWAY_FILTERS = filterTable<NatGatewayRecord>('DescribeNatGateways', {
  'nat-gateway-id': 'NatGatewayId',
  state: 'State',
  'subnet-id': 'SubnetId',
  'vpc-id': 'VpcId',
});

const describeNatGateways = action((ctx, input: DescribeNatGatewaysRequest): DescribeNatGatewaysResult => {
  const ids = input.NatGatewayIds ?? [];
  const records = ids.length > 0 ? requireResources(ctx, KINDS.natGateway, ids) : natGateways(ctx).list(ctx.region);
  const tags = tagsByResource(ctx, KINDS.natGateway.name);
  const filtered = applyFilters(records, input.Filter, NAT_GATEWAY_FILTERS, (n) => tags.get(n.NatGatewayId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { NatGateways: page.items.map((n) => toOutput(n, tags.get(n.NatGatewayId))), NextToken: page.nextToken };
});

const deleteNatGateway = action((ctx, input: DeleteNatGatewayRequest): DeleteNatGatewayResult => {
  const id = input.NatGatewayId;
  if (id === undefined || id === '') throw missingParameter('NatGatewayId');
  const n = requireResource(ctx, KINDS.natGateway, id);
  if (n.State === 'deleted') throw KINDS.natGateway.notFound(id);
  if (n.State !== 'deleting') {
    n.State = 'deleting';
    natGateways(ctx).put(ctx.region, id, n);
    ctx.notify(KINDS.natGateway.name, id);
  }
  return { NatGatewayId: id };
});

export const natGatewaysModule: ApiModule = {
  actions: {
    CreateNatGateway: createNatGateway,
    DescribeNatGateways: describeNatGateways,
    DeleteNatGateway: deleteNatGateway,
  },
};
