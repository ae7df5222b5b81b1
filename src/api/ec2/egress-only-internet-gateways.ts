/**
 * Egress-only internet gateways: Create / Describe / DeleteEgressOnlyInternetGateway.
 * A gateway belongs to the VPC it was made for (attached from the start) and
 * is the target of IPv6 routes (CreateRoute EgressOnlyInternetGatewayId); a
 * route to a deleted one is a blackhole. On the fabric (reconcile/ipv6-routing.ts)
 * a subnet routing IPv6 to it opens connections to the host side and gets only
 * their replies back; nothing leaves the machine.
 */
import type {
  CreateEgressOnlyInternetGatewayRequest,
  CreateEgressOnlyInternetGatewayResult,
  DeleteEgressOnlyInternetGatewayRequest,
  DeleteEgressOnlyInternetGatewayResult,
  DescribeEgressOnlyInternetGatewaysRequest,
  DescribeEgressOnlyInternetGatewaysResult,
  EgressOnlyInternetGateway,
  InternetGatewayAttachment,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import { missingParameter } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { EgressOnlyInternetGatewayRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { tagSpecificationTags, tagsField } from './tags.js';

const gateways = (ctx: RequestContext) => ctx.store.collection(KINDS.egressOnlyInternetGateway);

function toOutput(r: EgressOnlyInternetGatewayRecord, tags: Tag[] | undefined): EgressOnlyInternetGateway {
  const { VpcId: _v, ...rest } = r;
  return { ...rest, Tags: tagsField(tags) };
}

const createEgressOnlyInternetGateway = action((ctx, input: CreateEgressOnlyInternetGatewayRequest): CreateEgressOnlyInternetGatewayResult => {
  if (input.VpcId === undefined || input.VpcId === '') throw missingParameter('VpcId');
  const vpc = requireResource(ctx, KINDS.vpc, input.VpcId);
  const name = KINDS.egressOnlyInternetGateway.name;
  const tags = tagSpecificationTags(input.TagSpecifications, [name]).get(name) ?? [];
  const record: EgressOnlyInternetGatewayRecord = {
    EgressOnlyInternetGatewayId: newId(KINDS.egressOnlyInternetGateway.prefix),
    VpcId: vpc.VpcId,
    Attachments: [{ VpcId: vpc.VpcId, State: 'attached' as InternetGatewayAttachment['State'] }],
  };
  gateways(ctx).put(ctx.region, record.EgressOnlyInternetGatewayId, record);
  ctx.notify(KINDS.egressOnlyInternetGateway.name, record.EgressOnlyInternetGatewayId);
  putTags(ctx, record.EgressOnlyInternetGatewayId, name, tags);
  return { ClientToken: input.ClientToken, EgressOnlyInternetGateway: toOutput(record, tags) };
});

// EC2 documents only the tag filters for this call (applyFilters serves those for every table).
const EGRESS_ONLY_FILTERS = filterTable<EgressOnlyInternetGatewayRecord>('DescribeEgressOnlyInternetGateways', {});

const describeEgressOnlyInternetGateways = action(
  (ctx, input: DescribeEgressOnlyInternetGatewaysRequest): DescribeEgressOnlyInternetGatewaysResult => {
    const ids = input.EgressOnlyInternetGatewayIds ?? [];
    const records = ids.length > 0 ? requireResources(ctx, KINDS.egressOnlyInternetGateway, ids) : gateways(ctx).list(ctx.region);
    const tags = tagsByResource(ctx, KINDS.egressOnlyInternetGateway.name);
    const filtered = applyFilters(records, input.Filters, EGRESS_ONLY_FILTERS, (g) => tags.get(g.EgressOnlyInternetGatewayId));
    const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 255 });
    return {
      EgressOnlyInternetGateways: page.items.map((g) => toOutput(g, tags.get(g.EgressOnlyInternetGatewayId))),
      NextToken: page.nextToken,
    };
  },
);

const deleteEgressOnlyInternetGateway = action(
  (ctx, input: DeleteEgressOnlyInternetGatewayRequest): DeleteEgressOnlyInternetGatewayResult => {
    const id = input.EgressOnlyInternetGatewayId;
    if (id === undefined || id === '') throw missingParameter('EgressOnlyInternetGatewayId');
    requireResource(ctx, KINDS.egressOnlyInternetGateway, id);
    gateways(ctx).delete(ctx.region, id);
    ctx.notify(KINDS.egressOnlyInternetGateway.name, id);
    ctx.store.tags.removeAll(ctx.region, id);
    return { ReturnCode: true };
  },
);

export const egressOnlyInternetGatewaysModule: ApiModule = {
  actions: {
    CreateEgressOnlyInternetGateway: createEgressOnlyInternetGateway,
    DescribeEgressOnlyInternetGateways: describeEgressOnlyInternetGateways,
    DeleteEgressOnlyInternetGateway: deleteEgressOnlyInternetGateway,
  },
};
