/**
 * Network ACLs: each VPC gets a default ACL (allow all in and out, then the
 * catch-all deny), and every subnet of the VPC is associated with it. Only
 * DescribeNetworkAcls is served; custom ACLs and entry editing are not
 * implemented, so the default ACL is the only one a VPC ever has.
 */
import type { DescribeNetworkAclsRequest, DescribeNetworkAclsResult, NetworkAcl } from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule } from '../context.js';
import { requireResources } from '../../resources/ec2/registry.js';
import { tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { NetworkAclRecord } from '../../resources/ec2/records.js';
import { acls } from '../../resources/ec2/network-acls.js';
import { tagsByResource } from '../../resources/ec2/tags.js';


function toOutput(record: NetworkAclRecord, tags: Tag[] | undefined): NetworkAcl {
  return { ...record, Tags: tagsField(tags) };
}

const NETWORK_ACL_FILTERS = filterTable<NetworkAclRecord>('DescribeNetworkAcls', {
  'association.association-id': 'Associations.NetworkAclAssociationId',
  'association.network-acl-id': 'Associations.NetworkAclId',
  'association.subnet-id': 'Associations.SubnetId',
  default: 'IsDefault',
  'entry.cidr': 'Entries.CidrBlock',
  'entry.ipv6-cidr': 'Entries.Ipv6CidrBlock',
  'entry.egress': 'Entries.Egress',
  'entry.protocol': 'Entries.Protocol',
  'entry.rule-action': 'Entries.RuleAction',
  'entry.rule-number': 'Entries.RuleNumber',
  'network-acl-id': 'NetworkAclId',
  'owner-id': 'OwnerId',
  'vpc-id': 'VpcId',
});

const describeNetworkAcls = action((ctx, input: DescribeNetworkAclsRequest): DescribeNetworkAclsResult => {
  const ids = input.NetworkAclIds ?? [];
  const records = ids.length > 0 ? requireResources(ctx, KINDS.networkAcl, ids) : acls(ctx).list(ctx.region);
  const tags = tagsByResource(ctx, KINDS.networkAcl.name);
  const filtered = applyFilters(
    records,
    input.Filters,
    NETWORK_ACL_FILTERS,
    (a) => tags.get(a.NetworkAclId),
  );
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 100 });
  return { NetworkAcls: page.items.map((a) => toOutput(a, tags.get(a.NetworkAclId))), NextToken: page.nextToken };
});

export const networkAclsModule: ApiModule = {
  actions: { DescribeNetworkAcls: describeNetworkAcls },
};
