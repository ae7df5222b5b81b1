/**
 * Internet gateways: create, describe, attach to / detach from a VPC, delete.
 * A VPC has at most one gateway and a gateway at most one VPC. Routes that
 * point at a gateway are not touched here: route-tables.ts shows them as
 * blackhole while the gateway is not attached to the route table's VPC.
 */
import type { AttachInternetGatewayRequest, CreateInternetGatewayRequest, CreateInternetGatewayResult, DeleteInternetGatewayRequest, DescribeInternetGatewaysRequest, DescribeInternetGatewaysResult, DetachInternetGatewayRequest, InternetGateway } from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule } from '../context.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { InternetGatewayRecord } from '../../resources/ec2/records.js';
import { attachGatewayRecord, attachedGatewayOf, gateways, insertInternetGateway } from '../../resources/ec2/internet-gateways.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';


function toOutput(record: InternetGatewayRecord, tags: Tag[] | undefined): InternetGateway {
  return { ...record, Tags: tagsField(tags) };
}

function requireGatewayId(id: string | undefined): string {
  if (id === undefined || id === '') throw missingParameter('InternetGatewayId');
  return id;
}

function requireVpcId(id: string | undefined): string {
  if (id === undefined || id === '') throw missingParameter('VpcId');
  return id;
}

const createInternetGateway = action(
  (ctx, input: CreateInternetGatewayRequest): CreateInternetGatewayResult => {
    const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.internetGateway.name]).get(KINDS.internetGateway.name) ?? [];
    const record = insertInternetGateway(ctx);
    putTags(ctx, record.InternetGatewayId, KINDS.internetGateway.name, tags);
    return { InternetGateway: toOutput(record, tags) };
  },
);

const INTERNET_GATEWAY_FILTERS = filterTable<InternetGatewayRecord>('DescribeInternetGateways', {
  'attachment.state': 'Attachments.State',
  'attachment.vpc-id': 'Attachments.VpcId',
  'internet-gateway-id': 'InternetGatewayId',
  'owner-id': 'OwnerId',
});

const describeInternetGateways = action(
  (ctx, input: DescribeInternetGatewaysRequest): DescribeInternetGatewaysResult => {
    const ids = input.InternetGatewayIds ?? [];
    const records =
      ids.length > 0
        ? requireResources(ctx, KINDS.internetGateway, ids)
        : gateways(ctx).list(ctx.region);
    const tags = tagsByResource(ctx, KINDS.internetGateway.name);
    const filtered = applyFilters(
      records,
      input.Filters,
      INTERNET_GATEWAY_FILTERS,
      (g) => tags.get(g.InternetGatewayId),
    );
    const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return {
      InternetGateways: page.items.map((g) => toOutput(g, tags.get(g.InternetGatewayId))),
      NextToken: page.nextToken,
    };
  },
);

const attachInternetGateway = action((ctx, input: AttachInternetGatewayRequest) => {
  const igw = requireResource(ctx, KINDS.internetGateway, requireGatewayId(input.InternetGatewayId));
  const vpc = requireResource(ctx, KINDS.vpc, requireVpcId(input.VpcId));
  const current = igw.Attachments[0];
  if (current) {
    throw new Ec2Error(
      'Resource.AlreadyAssociated',
      `resource ${igw.InternetGatewayId} is already attached to network ${current.VpcId}`,
    );
  }
  const other = attachedGatewayOf(ctx, vpc.VpcId);
  if (other) {
    throw new Ec2Error(
      'Resource.AlreadyAssociated',
      `Network ${vpc.VpcId} already has an internet gateway attached (${other.InternetGatewayId})`,
    );
  }
  attachGatewayRecord(ctx, igw, vpc.VpcId);
  return {};
});

const detachInternetGateway = action((ctx, input: DetachInternetGatewayRequest) => {
  const igw = requireResource(ctx, KINDS.internetGateway, requireGatewayId(input.InternetGatewayId));
  const vpcId = requireVpcId(input.VpcId);
  requireResource(ctx, KINDS.vpc, vpcId);
  if (!igw.Attachments.some((a) => a.VpcId === vpcId)) {
    throw new Ec2Error('Gateway.NotAttached', `resource ${igw.InternetGatewayId} is not attached to network ${vpcId}`);
  }
  const mapped = ctx.store
    .collection(KINDS.networkInterface)
    .list(ctx.region)
    .some((eni) => eni.VpcId === vpcId && eni.association !== undefined);
  if (mapped) {
    throw new Ec2Error(
      'DependencyViolation',
      `Network ${vpcId} has some mapped public address(es). Please unmap those public address(es) before detaching the gateway.`,
    );
  }
  igw.Attachments = [];
  gateways(ctx).put(ctx.region, igw.InternetGatewayId, igw);
  ctx.notify(KINDS.internetGateway.name, igw.InternetGatewayId);
  return {};
});

const deleteInternetGateway = action((ctx, input: DeleteInternetGatewayRequest) => {
  const igw = requireResource(ctx, KINDS.internetGateway, requireGatewayId(input.InternetGatewayId));
  if (igw.Attachments.length > 0) {
    throw new Ec2Error(
      'DependencyViolation',
      `The internetGateway '${igw.InternetGatewayId}' has dependencies and cannot be deleted.`,
    );
  }
  gateways(ctx).delete(ctx.region, igw.InternetGatewayId);
  ctx.store.tags.removeAll(ctx.region, igw.InternetGatewayId);
  return {};
});

export const internetGatewaysModule: ApiModule = {
  actions: {
    CreateInternetGateway: createInternetGateway,
    DescribeInternetGateways: describeInternetGateways,
    AttachInternetGateway: attachInternetGateway,
    DetachInternetGateway: detachInternetGateway,
    DeleteInternetGateway: deleteInternetGateway,
  },
};
