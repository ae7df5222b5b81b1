/**
 * Network ACLs: each VPC gets a default ACL (allow all in and out, then the
 * catch-all deny), and every subnet of the VPC is associated with it. Only
 * DescribeNetworkAcls is served; custom ACLs and entry editing are not
 * implemented, so the default ACL is the only one a VPC ever has.
 */
import type {
  DescribeNetworkAclsRequest,
  DescribeNetworkAclsResult,
  NetworkAcl,
  NetworkAclAssociation,
  NetworkAclEntry,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { paginate } from '../../domain/pagination.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import type { VpcRecord } from '../../resources/ec2/records.js';
import { requireResources } from '../../resources/ec2/registry.js';
import { tagsByResource, tagsField } from './tags.js';

/** collection 'network-acl' */
export type NetworkAclRecord = Omit<NetworkAcl, 'Tags'> & {
  NetworkAclId: string;
  VpcId: string;
  IsDefault: boolean;
  Entries: NetworkAclEntry[];
  Associations: NetworkAclAssociation[];
};

const KIND = 'network-acl';

function acls(ctx: RequestContext) {
  return ctx.store.collection<NetworkAclRecord>(KIND);
}

/** The rules of a default ACL: allow everything (rule 100/101), then deny (32767/32768), both ways. */
function defaultEntries(withIpv6: boolean): NetworkAclEntry[] {
  const out: NetworkAclEntry[] = [];
  for (const egress of [true, false]) {
    out.push({ RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: egress, CidrBlock: '0.0.0.0/0' });
    if (withIpv6) out.push({ RuleNumber: 101, Protocol: '-1', RuleAction: 'allow', Egress: egress, Ipv6CidrBlock: '::/0' });
    out.push({ RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny', Egress: egress, CidrBlock: '0.0.0.0/0' });
    if (withIpv6) out.push({ RuleNumber: 32768, Protocol: '-1', RuleAction: 'deny', Egress: egress, Ipv6CidrBlock: '::/0' });
  }
  return out;
}

/** Creates the VPC's default ACL. */
export function createDefaultNetworkAcl(ctx: RequestContext, vpc: VpcRecord): NetworkAclRecord {
  const record: NetworkAclRecord = {
    NetworkAclId: newId('acl'),
    VpcId: vpc.VpcId,
    OwnerId: ctx.accountId,
    IsDefault: true,
    Entries: defaultEntries((vpc.Ipv6CidrBlockAssociationSet ?? []).length > 0),
    Associations: [],
  };
  acls(ctx).put(ctx.region, record.NetworkAclId, record);
  return record;
}

/** Associates a new subnet with its VPC's default ACL (no-op if the VPC has none). */
export function associateWithDefaultAcl(ctx: RequestContext, vpcId: string, subnetId: string): void {
  const acl = acls(ctx)
    .list(ctx.region)
    .find((a) => a.VpcId === vpcId && a.IsDefault);
  if (!acl) return;
  acl.Associations.push({ NetworkAclAssociationId: newId('aclassoc'), NetworkAclId: acl.NetworkAclId, SubnetId: subnetId });
  acls(ctx).put(ctx.region, acl.NetworkAclId, acl);
}

/** Drops a deleted subnet's ACL association. */
export function removeSubnetFromAcls(ctx: RequestContext, subnetId: string): void {
  for (const acl of acls(ctx).list(ctx.region)) {
    const kept = acl.Associations.filter((a) => a.SubnetId !== subnetId);
    if (kept.length === acl.Associations.length) continue;
    acl.Associations = kept;
    acls(ctx).put(ctx.region, acl.NetworkAclId, acl);
  }
}

/** Deletes every ACL of a VPC (with its tags), when the VPC goes. */
export function deleteNetworkAclsOf(ctx: RequestContext, vpcId: string): void {
  for (const acl of acls(ctx).list(ctx.region)) {
    if (acl.VpcId !== vpcId) continue;
    acls(ctx).delete(ctx.region, acl.NetworkAclId);
    ctx.store.tags.removeAll(ctx.region, acl.NetworkAclId);
  }
}

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
  const records = ids.length > 0 ? requireResources<NetworkAclRecord>(ctx, 'acl', ids) : acls(ctx).list(ctx.region);
  const tags = tagsByResource(ctx, KIND);
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
