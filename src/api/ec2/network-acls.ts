/**
 * Network ACLs: each VPC gets a default ACL (allow all in and out, then the
 * catch-all deny), and every subnet of the VPC is associated with exactly one
 * ACL of its VPC (the default one until ReplaceNetworkAclAssociation moves it).
 * Custom ACLs start with only the `*` deny entries. Entries are validated and
 * stored as EC2 stores them (domain/network-acl-entries.ts); the `*` entries
 * (32767, 32768) cannot be changed. Every change notifies 'network-acl' (and
 * 'subnet' for a moved subnet) for the reconciler that programs the firewall.
 */
import type {
  CreateNetworkAclEntryRequest,
  CreateNetworkAclRequest,
  CreateNetworkAclResult,
  DeleteNetworkAclEntryRequest,
  DeleteNetworkAclRequest,
  DescribeNetworkAclsRequest,
  DescribeNetworkAclsResult,
  NetworkAcl,
  ReplaceNetworkAclAssociationRequest,
  ReplaceNetworkAclAssociationResult,
  ReplaceNetworkAclEntryRequest,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { checkEgress, checkRuleNumber, isCatchAll, normalizeAclEntry } from '../../domain/network-acl-entries.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { requireResource, requireResources } from '../../resources/ec2/registry.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { NetworkAclRecord } from '../../resources/ec2/records.js';
import { acls, aclsOfVpc, createNetworkAcl, newAclAssociation, saveAcl } from '../../resources/ec2/network-acls.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';

/** Custom ACLs a VPC may have besides its default one (EC2's default quota: 200 per VPC). */
export const MAX_ACLS_PER_VPC = 200;
/** Entries per direction besides the `*` ones (EC2's default quota: 20). */
export const MAX_ENTRIES_PER_DIRECTION = 20;

function toOutput(record: NetworkAclRecord, tags: Tag[] | undefined): NetworkAcl {
  return { ...record, Tags: tagsField(tags) };
}

function requireAcl(ctx: RequestContext, id: string | undefined): NetworkAclRecord {
  if (id === undefined || id === '') throw missingParameter('NetworkAclId');
  return requireResource(ctx, KINDS.networkAcl, id);
}

const entryNotFound = (acl: NetworkAclRecord, ruleNumber: number, egress: boolean): Ec2Error =>
  new Ec2Error(
    'InvalidNetworkAclEntry.NotFound',
    `The network acl entry identified by ${ruleNumber} (${egress ? 'egress' : 'ingress'}) does not exist in network ACL '${acl.NetworkAclId}'.`,
  );

/** The index of the entry with this number and direction, or -1. */
function findEntry(acl: NetworkAclRecord, ruleNumber: number, egress: boolean): number {
  return acl.Entries.findIndex((e) => e.RuleNumber === ruleNumber && e.Egress === egress);
}

// ---------------------------------------------------------------- CreateNetworkAcl / DeleteNetworkAcl

const createNetworkAclAction = action((ctx, input: CreateNetworkAclRequest): CreateNetworkAclResult => {
  if (input.VpcId === undefined || input.VpcId === '') throw missingParameter('VpcId');
  const vpc = requireResource(ctx, KINDS.vpc, input.VpcId);
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.networkAcl.name]).get(KINDS.networkAcl.name) ?? [];
  if (aclsOfVpc(ctx, vpc.VpcId).filter((a) => !a.IsDefault).length >= MAX_ACLS_PER_VPC) {
    throw new Ec2Error('NetworkAclLimitExceeded', `The maximum number of network ACLs has been reached for VPC '${vpc.VpcId}'.`);
  }
  const acl = createNetworkAcl(ctx, vpc);
  putTags(ctx, acl.NetworkAclId, KINDS.networkAcl.name, tags);
  ctx.notify(KINDS.networkAcl.name, acl.NetworkAclId);
  const stored = acls(ctx).get(ctx.region, acl.NetworkAclId)!;
  return { NetworkAcl: toOutput(stored, tags), ClientToken: input.ClientToken };
});

const deleteNetworkAclAction = action((ctx, input: DeleteNetworkAclRequest) => {
  const acl = requireAcl(ctx, input.NetworkAclId);
  if (acl.IsDefault) throw new Ec2Error('InvalidParameterValue', `cannot delete default network ACL ${acl.NetworkAclId}`);
  if (acl.Associations.length > 0) {
    throw new Ec2Error('DependencyViolation', `The networkAcl '${acl.NetworkAclId}' has dependencies and cannot be deleted.`);
  }
  acls(ctx).delete(ctx.region, acl.NetworkAclId);
  ctx.store.tags.removeAll(ctx.region, acl.NetworkAclId);
  ctx.notify(KINDS.networkAcl.name, acl.NetworkAclId);
  return {};
});

// ---------------------------------------------------------------- entries

const createEntry = action((ctx, input: CreateNetworkAclEntryRequest) => {
  const acl = requireAcl(ctx, input.NetworkAclId);
  const entry = normalizeAclEntry(input);
  if (findEntry(acl, entry.RuleNumber, entry.Egress) >= 0) {
    throw new Ec2Error('NetworkAclEntryAlreadyExists', `The network acl entry identified by ${entry.RuleNumber} already exists.`);
  }
  const sameWay = acl.Entries.filter((e) => e.Egress === entry.Egress && !isCatchAll(e)).length;
  if (sameWay >= MAX_ENTRIES_PER_DIRECTION) {
    throw new Ec2Error('NetworkAclEntryLimitExceeded', `The maximum number of network acl entries has been reached for '${acl.NetworkAclId}'.`);
  }
  saveAcl(ctx, { ...acl, Entries: [...acl.Entries, entry] });
  ctx.notify(KINDS.networkAcl.name, acl.NetworkAclId);
  return {};
});

const replaceEntry = action((ctx, input: ReplaceNetworkAclEntryRequest) => {
  const acl = requireAcl(ctx, input.NetworkAclId);
  const entry = normalizeAclEntry(input);
  const index = findEntry(acl, entry.RuleNumber, entry.Egress);
  if (index < 0) throw entryNotFound(acl, entry.RuleNumber, entry.Egress);
  const entries = [...acl.Entries];
  entries[index] = entry;
  saveAcl(ctx, { ...acl, Entries: entries });
  ctx.notify(KINDS.networkAcl.name, acl.NetworkAclId);
  return {};
});

const deleteEntry = action((ctx, input: DeleteNetworkAclEntryRequest) => {
  const acl = requireAcl(ctx, input.NetworkAclId);
  const ruleNumber = checkRuleNumber(input.RuleNumber);
  const egress = checkEgress(input.Egress);
  const index = findEntry(acl, ruleNumber, egress);
  if (index < 0) throw entryNotFound(acl, ruleNumber, egress);
  saveAcl(ctx, { ...acl, Entries: acl.Entries.filter((_, i) => i !== index) });
  ctx.notify(KINDS.networkAcl.name, acl.NetworkAclId);
  return {};
});

// ---------------------------------------------------------------- ReplaceNetworkAclAssociation

const replaceAssociation = action(
  (ctx, input: ReplaceNetworkAclAssociationRequest): ReplaceNetworkAclAssociationResult => {
    const associationId = input.AssociationId;
    if (associationId === undefined || associationId === '') throw missingParameter('AssociationId');
    const to = requireAcl(ctx, input.NetworkAclId);
    const from = acls(ctx)
      .list(ctx.region)
      .find((a) => a.Associations.some((s) => s.NetworkAclAssociationId === associationId));
    if (!from) throw new Ec2Error('InvalidAssociationID.NotFound', `The association ID '${associationId}' does not exist`);
    if (from.VpcId !== to.VpcId) {
      throw new Ec2Error(
        'InvalidParameterValue',
        `Network ACL ${to.NetworkAclId} and association ${associationId} belong to different networks`,
      );
    }
    const old = from.Associations.find((s) => s.NetworkAclAssociationId === associationId)!;
    const subnetId = old.SubnetId!;
    const association = newAclAssociation(to, subnetId);
    const kept = from.Associations.filter((s) => s.NetworkAclAssociationId !== associationId);
    if (from.NetworkAclId === to.NetworkAclId) {
      saveAcl(ctx, { ...from, Associations: [...kept, association] });
    } else {
      saveAcl(ctx, { ...from, Associations: kept });
      saveAcl(ctx, { ...to, Associations: [...to.Associations, association] });
    }
    ctx.notify(KINDS.networkAcl.name, to.NetworkAclId);
    ctx.notify(KINDS.subnet.name, subnetId);
    return { NewAssociationId: association.NetworkAclAssociationId };
  },
);

// ---------------------------------------------------------------- DescribeNetworkAcls

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
  'entry.icmp.code': 'Entries.IcmpTypeCode.Code',
  'entry.icmp.type': 'Entries.IcmpTypeCode.Type',
  'entry.port-range.from': 'Entries.PortRange.From',
  'entry.port-range.to': 'Entries.PortRange.To',
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
  actions: {
    CreateNetworkAcl: createNetworkAclAction,
    DeleteNetworkAcl: deleteNetworkAclAction,
    DescribeNetworkAcls: describeNetworkAcls,
    CreateNetworkAclEntry: createEntry,
    ReplaceNetworkAclEntry: replaceEntry,
    DeleteNetworkAclEntry: deleteEntry,
    ReplaceNetworkAclAssociation: replaceAssociation,
  },
};
