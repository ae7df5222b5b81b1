/**
 * Carrier gateways: CreateCarrierGateway, DescribeCarrierGateways,
 * DeleteCarrierGateway. One per VPC; pending → available and deleting →
 * deleted through reconcile/record-states.ts; a deleted one stays visible for
 * a while. Records only: no carrier network is reached through it.
 */
import type {
  CarrierGateway,
  CreateCarrierGatewayRequest,
  CreateCarrierGatewayResult,
  DeleteCarrierGatewayRequest,
  DeleteCarrierGatewayResult,
  DescribeCarrierGatewaysRequest,
  DescribeCarrierGatewaysResult,
} from '@aws-sdk/client-ec2';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule } from '../context.js';
import { liveCarrierGatewayOf } from '../../resources/ec2/carrier-gateways.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { isGone } from '../../resources/ec2/record-lifecycles.js';
import type { CarrierGatewayRecord } from '../../resources/ec2/records.js';
import { requireResource } from '../../resources/ec2/registry.js';
import { describeStored, insertStored, saveStored } from './stored-records.js';
import { tagSpecificationTags, tagsField } from './tags.js';

function toOutput(g: CarrierGatewayRecord, tags: Tag[] | undefined): CarrierGateway {
  const { deletedAt: _d, ...rest } = g;
  return { ...rest, Tags: tagsField(tags) };
}

const createCarrierGateway = action((ctx, input: CreateCarrierGatewayRequest): CreateCarrierGatewayResult => {
  if (input.VpcId === undefined || input.VpcId === '') throw missingParameter('VpcId');
  const vpc = requireResource(ctx, KINDS.vpc, input.VpcId);
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.carrierGateway.name]).get(KINDS.carrierGateway.name) ?? [];
  const other = liveCarrierGatewayOf(ctx, vpc.VpcId);
  if (other) throw new Ec2Error('Resource.AlreadyAssociated', `Network ${vpc.VpcId} already has a carrier gateway (${other.CarrierGatewayId})`);
  const record: CarrierGatewayRecord = { CarrierGatewayId: newId(KINDS.carrierGateway.prefix), VpcId: vpc.VpcId, State: 'pending', OwnerId: ctx.accountId };
  insertStored(ctx, KINDS.carrierGateway, record.CarrierGatewayId, record, tags);
  return { CarrierGateway: toOutput(record, tags) };
});

const CARRIER_GATEWAY_FILTERS = filterTable<CarrierGatewayRecord>('DescribeCarrierGateways', {
  'carrier-gateway-id': 'CarrierGatewayId',
  state: 'State',
  'owner-id': 'OwnerId',
  'vpc-id': 'VpcId',
});

const describeCarrierGateways = action((ctx, input: DescribeCarrierGatewaysRequest): DescribeCarrierGatewaysResult => {
  const { records, tags } = describeStored(ctx, KINDS.carrierGateway, (g) => g.CarrierGatewayId, input.CarrierGatewayIds, input.Filters, CARRIER_GATEWAY_FILTERS);
  const page = paginate(records, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { CarrierGateways: page.items.map((g) => toOutput(g, tags.get(g.CarrierGatewayId))), NextToken: page.nextToken };
});

const deleteCarrierGateway = action((ctx, input: DeleteCarrierGatewayRequest): DeleteCarrierGatewayResult => {
  if (input.CarrierGatewayId === undefined || input.CarrierGatewayId === '') throw missingParameter('CarrierGatewayId');
  const g = requireResource(ctx, KINDS.carrierGateway, input.CarrierGatewayId);
  if (isGone(g)) throw KINDS.carrierGateway.notFound(g.CarrierGatewayId);
  const next: CarrierGatewayRecord = { ...g, State: 'deleting' };
  if (g.State !== 'deleting') saveStored(ctx, KINDS.carrierGateway, g.CarrierGatewayId, next);
  return { CarrierGateway: toOutput(next, ctx.store.tags.forResource(ctx.region, g.CarrierGatewayId)) };
});

export const carrierGatewaysModule: ApiModule = {
  actions: {
    CreateCarrierGateway: createCarrierGateway,
    DescribeCarrierGateways: describeCarrierGateways,
    DeleteCarrierGateway: deleteCarrierGateway,
  },
};
