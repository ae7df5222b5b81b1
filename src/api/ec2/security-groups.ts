/**
 * Security groups and their rules: CreateSecurityGroup, DeleteSecurityGroup,
 * DescribeSecurityGroups, Authorize/RevokeSecurityGroupIngress/Egress,
 * DescribeSecurityGroupRules, ModifySecurityGroupRules,
 * UpdateSecurityGroupRuleDescriptionsIngress/Egress.
 *
 * Each rule is a 'security-group-rule' record (the EC2 `SecurityGroupRule`
 * output without Tags), so rules have `sgr-` ids that CreateTags and
 * DescribeTags know. A group record's IpPermissions / IpPermissionsEgress are
 * derived from its rule records and rewritten by `syncPermissions` — the one
 * place that writes them — every time a rule changes.
 */
import type {
  AuthorizeSecurityGroupEgressRequest,
  AuthorizeSecurityGroupEgressResult,
  AuthorizeSecurityGroupIngressRequest,
  AuthorizeSecurityGroupIngressResult,
  CreateSecurityGroupRequest,
  CreateSecurityGroupResult,
  DeleteSecurityGroupRequest,
  DeleteSecurityGroupResult,
  DescribeSecurityGroupRulesRequest,
  DescribeSecurityGroupRulesResult,
  DescribeSecurityGroupsRequest,
  DescribeSecurityGroupsResult,
  IpPermission,
  ModifySecurityGroupRulesRequest,
  ModifySecurityGroupRulesResult,
  RevokedSecurityGroupRule,
  RevokeSecurityGroupEgressRequest,
  RevokeSecurityGroupEgressResult,
  RevokeSecurityGroupIngressRequest,
  RevokeSecurityGroupIngressResult,
  SecurityGroup,
  SecurityGroupRule,
  UpdateSecurityGroupRuleDescriptionsEgressRequest,
  UpdateSecurityGroupRuleDescriptionsEgressResult,
  UpdateSecurityGroupRuleDescriptionsIngressRequest,
  UpdateSecurityGroupRuleDescriptionsIngressResult,
} from '@aws-sdk/client-ec2';
import { applyFilters, type FilterFields, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import {
  checkNoDuplicates,
  hasPorts,
  normalizePermissions,
  ruleKey,
  toIpPermissions,
  validateGroupText,
  validateRuleDescription,
  type GroupPairInput,
  type GroupResolver,
  type IpPermissionInput,
  type RuleBody,
} from '../../domain/security-group-rules.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { defaultVpcOf as defaultVpc } from '../../resources/ec2/vpcs.js';
import { type SecurityGroupRecord } from '../../resources/ec2/records.js';
import { requireResource, requireResources, requireWellFormed } from '../../resources/ec2/registry.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import { peerings } from '../../resources/ec2/vpc-peering.js';
import type { SecurityGroupRuleRecord } from '../../resources/ec2/records.js';
import { addRules, ALLOW_ALL_EGRESS, deleteSecurityGroupRecords, groups, newGroupRecord, removeRules, rulesCol, rulesOfGroup, securityGroupsOfVpc, syncPermissions } from '../../resources/ec2/security-groups.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import { findPrefixList } from '../../resources/ec2/prefix-lists.js';

/** Inbound and outbound rules a group may hold (each direction separately) unless the quota is raised (--rules-per-security-group). */
export const MAX_RULES_PER_DIRECTION = 60;


// ---------------------------------------------------------------- store helpers


// ---------------------------------------------------------------- lookups

const groupNotFound = (what: string) => new Ec2Error('InvalidGroup.NotFound', `The security group '${what}' does not exist`);

function groupByNameInDefaultVpc(ctx: RequestContext, name: string): SecurityGroupRecord {
  const dv = defaultVpc(ctx);
  if (!dv) throw groupNotFound(name);
  const g = groups(ctx).list(ctx.region).find((x) => x.VpcId === dv.VpcId && x.GroupName === name);
  if (!g) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${name}' does not exist in default VPC '${dv.VpcId}'`);
  return g;
}

/** The group a call acts on: GroupId, or GroupName in the default VPC. */
function targetGroup(ctx: RequestContext, input: { GroupId?: string; GroupName?: string }): SecurityGroupRecord {
  if (input.GroupId !== undefined && input.GroupId !== '') {
    return requireResource(ctx, KINDS.securityGroup, input.GroupId);
  }
  if (input.GroupName !== undefined && input.GroupName !== '') return groupByNameInDefaultVpc(ctx, input.GroupName);
  throw new Ec2Error('MissingParameter', 'The request must contain the parameter groupName or groupId');
}

/** Whether an active peering connection joins two VPCs of the caller's region. */
function peeredInRegion(ctx: RequestContext, a: string, b: string): boolean {
  return peerings(ctx).list(ctx.region).some((p) => {
    if (p.Status.Code !== 'active' || p.RequesterVpcInfo.Region !== ctx.region || p.AccepterVpcInfo.Region !== ctx.region) return false;
    const sides = [p.RequesterVpcInfo.VpcId, p.AccepterVpcInfo.VpcId];
    return sides.includes(a) && sides.includes(b);
  });
}

/** Resolves UserIdGroupPairs to groups of the same VPC, or of a VPC peered with it in the region. */
function pairResolver(ctx: RequestContext, vpcId: string): GroupResolver {
  return (pair: GroupPairInput) => {
    if (pair.UserId !== undefined && pair.UserId !== '' && pair.UserId !== ctx.accountId) {
      throw groupNotFound(pair.GroupId ?? pair.GroupName ?? '');
    }
    let g: SecurityGroupRecord | undefined;
    if (pair.GroupId !== undefined && pair.GroupId !== '') {
      requireWellFormed(KINDS.securityGroup, pair.GroupId);
      g = groups(ctx).get(ctx.region, pair.GroupId);
      if (!g) throw groupNotFound(pair.GroupId);
      // a group of another VPC: only across an active peering connection within the region (as EC2)
      if (g.VpcId !== vpcId && !peeredInRegion(ctx, vpcId, g.VpcId!)) {
        throw new Ec2Error('InvalidGroup.NotFound', 'You have specified two resources that belong to different networks.');
      }
    } else if (pair.GroupName !== undefined && pair.GroupName !== '') {
      g = groups(ctx).list(ctx.region).find((x) => x.VpcId === vpcId && x.GroupName === pair.GroupName);
      if (!g) throw new Ec2Error('InvalidGroup.NotFound', `The security group '${pair.GroupName}' does not exist in VPC '${vpcId}'`);
    } else {
      throw new Ec2Error('MissingParameter', 'Source group ID missing.');
    }
    return { GroupId: g.GroupId, UserId: ctx.accountId };
  };
}

/** Refuses rules naming a prefix list that does not exist (AWS-managed lists count), as EC2 does. */
function checkPrefixLists(ctx: RequestContext, bodies: readonly RuleBody[]): void {
  for (const b of bodies) {
    if (b.PrefixListId !== undefined && !findPrefixList(ctx, b.PrefixListId)) throw KINDS.prefixList.notFound(b.PrefixListId);
  }
}

// ---------------------------------------------------------------- request shapes

interface LegacyPermissionParams {
  IpPermissions?: IpPermission[];
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  CidrIp?: string;
  SourceSecurityGroupName?: string;
  SourceSecurityGroupOwnerId?: string;
}

/**
 * The permissions of an Authorize/Revoke call: IpPermissions, or the legacy flat
 * parameters (IpProtocol/FromPort/ToPort/CidrIp, or SourceSecurityGroupName,
 * which alone grants full ICMP, TCP and UDP access from that group).
 */
function permissionsOf(input: LegacyPermissionParams): IpPermissionInput[] {
  const perms = input.IpPermissions ?? [];
  const flat =
    input.IpProtocol !== undefined ||
    input.FromPort !== undefined ||
    input.ToPort !== undefined ||
    input.CidrIp !== undefined ||
    input.SourceSecurityGroupName !== undefined ||
    input.SourceSecurityGroupOwnerId !== undefined;
  if (!flat) return perms;
  if (perms.length > 0) {
    throw invalidParameterCombination(
      'The parameter IpPermissions cannot be used with the parameters IpProtocol, FromPort, ToPort, CidrIp, SourceSecurityGroupName or SourceSecurityGroupOwnerId',
    );
  }
  if (input.SourceSecurityGroupName !== undefined || input.SourceSecurityGroupOwnerId !== undefined) {
    if (input.CidrIp !== undefined) {
      throw invalidParameterCombination('The parameter CidrIp cannot be used with the parameter SourceSecurityGroupName');
    }
    if (input.SourceSecurityGroupName === undefined) throw new Ec2Error('MissingParameter', 'Source group ID missing.');
    const pair: GroupPairInput = { GroupName: input.SourceSecurityGroupName, UserId: input.SourceSecurityGroupOwnerId };
    if (input.IpProtocol === undefined) {
      return [
        { IpProtocol: 'icmp', FromPort: -1, ToPort: -1, UserIdGroupPairs: [pair] },
        { IpProtocol: 'tcp', FromPort: 0, ToPort: 65535, UserIdGroupPairs: [pair] },
        { IpProtocol: 'udp', FromPort: 0, ToPort: 65535, UserIdGroupPairs: [pair] },
      ];
    }
    return [{ IpProtocol: input.IpProtocol, FromPort: input.FromPort, ToPort: input.ToPort, UserIdGroupPairs: [pair] }];
  }
  return [
    {
      IpProtocol: input.IpProtocol,
      FromPort: input.FromPort,
      ToPort: input.ToPort,
      IpRanges: input.CidrIp !== undefined ? [{ CidrIp: input.CidrIp }] : [],
    },
  ];
}

// ---------------------------------------------------------------- output shapes

function ruleOutput(r: SecurityGroupRuleRecord, tags: Tag[] | undefined): SecurityGroupRule {
  return { ...r, Tags: tagsField(tags) };
}

function revokedOutput(r: SecurityGroupRuleRecord): RevokedSecurityGroupRule {
  return {
    SecurityGroupRuleId: r.SecurityGroupRuleId,
    GroupId: r.GroupId,
    IsEgress: r.IsEgress,
    IpProtocol: r.IpProtocol,
    FromPort: r.FromPort,
    ToPort: r.ToPort,
    CidrIpv4: r.CidrIpv4,
    CidrIpv6: r.CidrIpv6,
    PrefixListId: r.PrefixListId,
    ReferencedGroupId: r.ReferencedGroupInfo?.GroupId,
    Description: r.Description,
  };
}

// ---------------------------------------------------------------- CreateSecurityGroup

const createSecurityGroup = action((ctx, input: CreateSecurityGroupRequest): CreateSecurityGroupResult => {
  const name = validateGroupText('GroupName', input.GroupName);
  const description = validateGroupText('GroupDescription', input.Description);
  if (name.toLowerCase().startsWith('sg-')) {
    throw new Ec2Error('InvalidParameterValue', 'Group names may not be in the format sg-*.');
  }
  if (name === 'default') throw new Ec2Error('InvalidParameterValue', 'Cannot use reserved security group name: default');
  const tags = tagSpecificationTags(input.TagSpecifications, ['security-group']).get('security-group') ?? [];
  let vpcId: string;
  if (input.VpcId !== undefined && input.VpcId !== '') {
    vpcId = requireResource(ctx, KINDS.vpc, input.VpcId).VpcId;
  } else {
    const dv = defaultVpc(ctx);
    if (!dv) throw new Ec2Error('VPCIdNotSpecified', 'No default VPC for this user. GroupName is only supported for EC2-Classic and default VPC.');
    vpcId = dv.VpcId;
  }
  if (securityGroupsOfVpc(ctx, vpcId).some((g) => g.GroupName === name)) {
    throw new Ec2Error('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
  }
  const record = newGroupRecord(ctx, name, description, vpcId);
  putTags(ctx, record.GroupId, KINDS.securityGroup.name, tags);
  addRules(ctx, record.GroupId, [ALLOW_ALL_EGRESS]);
  ctx.notify(KINDS.securityGroup.name, record.GroupId);
  return { GroupId: record.GroupId, Tags: tagsField(tags), SecurityGroupArn: record.SecurityGroupArn };
});

// ---------------------------------------------------------------- DeleteSecurityGroup

const dependencyViolation = (id: string) => new Ec2Error('DependencyViolation', `resource ${id} has a dependent object`);

const deleteSecurityGroup = action((ctx, input: DeleteSecurityGroupRequest): DeleteSecurityGroupResult => {
  const group = targetGroup(ctx, input);
  const id = group.GroupId;
  if (group.GroupName === 'default') {
    throw new Ec2Error('CannotDelete', `the specified group: "${id}" name: "default" cannot be deleted by a user`);
  }
  const enis = ctx.store.collection(KINDS.networkInterface).list(ctx.region);
  if (enis.some((e) => (e.Groups ?? []).some((g) => g.GroupId === id))) throw dependencyViolation(id);
  const instances = ctx.store.collection(KINDS.instance).list(ctx.region);
  if (instances.some((i) => i.State?.Name !== 'terminated' && (i.SecurityGroups ?? []).some((g) => g.GroupId === id))) {
    throw dependencyViolation(id);
  }
  if (rulesCol(ctx).list(ctx.region).some((r) => r.GroupId !== id && r.ReferencedGroupInfo?.GroupId === id)) {
    throw dependencyViolation(id);
  }
  deleteSecurityGroupRecords(ctx, id);
  return { Return: true, GroupId: id };
});

// ---------------------------------------------------------------- DescribeSecurityGroups

/** What the rule filters of DescribeSecurityGroups look up once per call. */
interface RuleLookups {
  rulesBy: Map<string, SecurityGroupRuleRecord[]>;
  nameOf: Map<string, string>;
}

function permissionFilters(prefix: string, egress: boolean): FilterFields<SecurityGroupRecord, RuleLookups> {
  const rs = (g: SecurityGroupRecord, c: RuleLookups) => (c.rulesBy.get(g.GroupId) ?? []).filter((r) => r.IsEgress === egress);
  const ported = (g: SecurityGroupRecord, c: RuleLookups) => rs(g, c).filter((r) => hasPorts(r.IpProtocol));
  return {
    [`${prefix}cidr`]: (g, c) => rs(g, c).map((r) => r.CidrIpv4),
    [`${prefix}from-port`]: (g, c) => ported(g, c).map((r) => r.FromPort),
    [`${prefix}to-port`]: (g, c) => ported(g, c).map((r) => r.ToPort),
    [`${prefix}protocol`]: (g, c) => rs(g, c).map((r) => r.IpProtocol),
    [`${prefix}group-id`]: (g, c) => rs(g, c).map((r) => r.ReferencedGroupInfo?.GroupId),
    [`${prefix}group-name`]: (g, c) =>
      rs(g, c).map((r) => (r.ReferencedGroupInfo ? c.nameOf.get(r.ReferencedGroupInfo.GroupId) : undefined)),
    [`${prefix}ipv6-cidr`]: (g, c) => rs(g, c).map((r) => r.CidrIpv6),
    [`${prefix}prefix-list-id`]: (g, c) => rs(g, c).map((r) => r.PrefixListId),
    [`${prefix}user-id`]: (g, c) => rs(g, c).map((r) => r.ReferencedGroupInfo?.UserId),
  };
}

const SECURITY_GROUP_FILTERS = filterTable<SecurityGroupRecord, RuleLookups>('DescribeSecurityGroups', {
  description: 'Description',
  'group-id': 'GroupId',
  'group-name': 'GroupName',
  'owner-id': 'OwnerId',
  'vpc-id': 'VpcId',
  ...permissionFilters('ip-permission.', false),
  ...permissionFilters('egress.ip-permission.', true),
});

const describeSecurityGroups = action((ctx, input: DescribeSecurityGroupsRequest): DescribeSecurityGroupsResult => {
  const all = groups(ctx).list(ctx.region);
  const ids = input.GroupIds ?? [];
  const names = input.GroupNames ?? [];
  let selected = all;
  if (ids.length > 0 || names.length > 0) {
    const wanted = new Set<string>();
    for (const g of requireResources(ctx, KINDS.securityGroup, ids)) wanted.add(g.GroupId);
    for (const n of new Set(names)) wanted.add(groupByNameInDefaultVpc(ctx, n).GroupId);
    selected = all.filter((g) => wanted.has(g.GroupId));
  }
  const tags = tagsByResource(ctx, KINDS.securityGroup.name);
  let filtered = selected;
  if (input.Filters && input.Filters.length > 0) {
    const rulesBy = new Map<string, SecurityGroupRuleRecord[]>();
    for (const r of rulesCol(ctx).list(ctx.region)) {
      let list = rulesBy.get(r.GroupId);
      if (!list) rulesBy.set(r.GroupId, (list = []));
      list.push(r);
    }
    const nameOf = new Map(all.map((g) => [g.GroupId, g.GroupName]));
    filtered = applyFilters(
      selected,
      input.Filters,
      SECURITY_GROUP_FILTERS,
      (g) => tags.get(g.GroupId),
      { rulesBy, nameOf },
    );
  }
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  const out: SecurityGroup[] = page.items.map((g) => ({ ...g, Tags: tagsField(tags.get(g.GroupId)) }));
  return { SecurityGroups: out, NextToken: page.nextToken };
});

// ---------------------------------------------------------------- Authorize

function authorize(
  ctx: RequestContext,
  input: LegacyPermissionParams & { GroupId?: string; GroupName?: string; TagSpecifications?: CreateSecurityGroupRequest['TagSpecifications'] },
  isEgress: boolean,
): AuthorizeSecurityGroupIngressResult {
  const group = targetGroup(ctx, input);
  const perms = permissionsOf(input);
  if (perms.length === 0) throw missingParameter('IpPermissions');
  const tags = tagSpecificationTags(input.TagSpecifications, ['security-group-rule']).get('security-group-rule') ?? [];
  const bodies = normalizePermissions(perms, isEgress, pairResolver(ctx, group.VpcId));
  checkPrefixLists(ctx, bodies);
  const existing = rulesOfGroup(ctx, group.GroupId);
  checkNoDuplicates(existing, bodies);
  const count = existing.filter((r) => r.IsEgress === isEgress).length + bodies.length;
  if (count > (ctx.config.rulesPerSecurityGroup ?? MAX_RULES_PER_DIRECTION)) {
    throw new Ec2Error('RulesPerSecurityGroupLimitExceeded', 'The maximum number of rules per security group has been reached.');
  }
  const added = addRules(ctx, group.GroupId, bodies, tags);
  ctx.notify(KINDS.securityGroup.name, group.GroupId);
  return { Return: true, SecurityGroupRules: added.map((r) => ruleOutput(r, tags)) };
}

const authorizeIngress = action(
  (ctx, input: AuthorizeSecurityGroupIngressRequest): AuthorizeSecurityGroupIngressResult => authorize(ctx, input, false),
);

const authorizeEgress = action(
  (ctx, input: AuthorizeSecurityGroupEgressRequest): AuthorizeSecurityGroupEgressResult => authorize(ctx, input, true),
);

// ---------------------------------------------------------------- Revoke

/** The rules of `group` in one direction named by SecurityGroupRuleIds; unknown ids are NotFound. */
function rulesById(ctx: RequestContext, group: SecurityGroupRecord, ids: readonly string[], isEgress: boolean): SecurityGroupRuleRecord[] {
  const out = new Map<string, SecurityGroupRuleRecord>();
  for (const id of ids) {
    requireWellFormed(KINDS.securityGroupRule, id);
    const r = rulesCol(ctx).get(ctx.region, id);
    if (!r || r.GroupId !== group.GroupId || r.IsEgress !== isEgress) throw KINDS.securityGroupRule.notFound(id);
    out.set(id, r);
  }
  return [...out.values()];
}

/** Existing rules matching permissions (descriptions ignored), and the permissions that match nothing. */
function matchPermissions(
  ctx: RequestContext,
  group: SecurityGroupRecord,
  perms: readonly IpPermissionInput[],
  isEgress: boolean,
): { matched: SecurityGroupRuleRecord[]; unknown: RuleBody[] } {
  const bodies = normalizePermissions(perms, isEgress, pairResolver(ctx, group.VpcId));
  const byKey = new Map(rulesOfGroup(ctx, group.GroupId).map((r) => [ruleKey(r), r]));
  const matched = new Map<string, SecurityGroupRuleRecord>();
  const unknown: RuleBody[] = [];
  for (const b of bodies) {
    const r = byKey.get(ruleKey(b));
    if (r) matched.set(r.SecurityGroupRuleId, r);
    else unknown.push(b);
  }
  return { matched: [...matched.values()], unknown };
}

const ruleNotInGroup = () => new Ec2Error('InvalidPermission.NotFound', 'The specified rule does not exist in this security group.');

function revoke(
  ctx: RequestContext,
  input: LegacyPermissionParams & { GroupId?: string; GroupName?: string; SecurityGroupRuleIds?: string[] },
  isEgress: boolean,
): RevokeSecurityGroupIngressResult {
  const group = targetGroup(ctx, input);
  const ids = input.SecurityGroupRuleIds ?? [];
  const perms = permissionsOf(input);
  if (ids.length > 0 && perms.length > 0) {
    throw invalidParameterCombination('You may specify either security group rule IDs or IP permissions, but not both.');
  }
  if (ids.length === 0 && perms.length === 0) throw missingParameter('IpPermissions or SecurityGroupRuleIds');
  let revoked: SecurityGroupRuleRecord[];
  let unknownPerms: IpPermission[] | undefined;
  if (ids.length > 0) {
    revoked = rulesById(ctx, group, ids, isEgress);
  } else {
    const { matched, unknown } = matchPermissions(ctx, group, perms, isEgress);
    if (unknown.length > 0) {
      // EC2: in a default VPC unknown permissions are reported; elsewhere nothing is revoked.
      if (defaultVpc(ctx)?.VpcId !== group.VpcId) throw ruleNotInGroup();
      unknownPerms = toIpPermissions(unknown);
    }
    revoked = matched;
  }
  removeRules(
    ctx,
    group.GroupId,
    revoked.map((r) => r.SecurityGroupRuleId),
  );
  ctx.notify(KINDS.securityGroup.name, group.GroupId);
  return { Return: true, UnknownIpPermissions: unknownPerms, RevokedSecurityGroupRules: revoked.map(revokedOutput) };
}

const revokeIngress = action(
  (ctx, input: RevokeSecurityGroupIngressRequest): RevokeSecurityGroupIngressResult => revoke(ctx, input, false),
);

const revokeEgress = action(
  (ctx, input: RevokeSecurityGroupEgressRequest): RevokeSecurityGroupEgressResult => revoke(ctx, input, true),
);

// ---------------------------------------------------------------- DescribeSecurityGroupRules

const SECURITY_GROUP_RULE_FILTERS = filterTable<SecurityGroupRuleRecord>('DescribeSecurityGroupRules', {
  'group-id': 'GroupId',
  'security-group-rule-id': 'SecurityGroupRuleId',
});

const describeSecurityGroupRules = action(
  (ctx, input: DescribeSecurityGroupRulesRequest): DescribeSecurityGroupRulesResult => {
    let rules = rulesCol(ctx).list(ctx.region);
    const ids = input.SecurityGroupRuleIds ?? [];
    if (ids.length > 0) {
      const wanted = new Set(requireResources(ctx, KINDS.securityGroupRule, ids).map((r) => r.SecurityGroupRuleId));
      rules = rules.filter((r) => wanted.has(r.SecurityGroupRuleId));
    }
    const tags = tagsByResource(ctx, KINDS.securityGroupRule.name);
    rules = applyFilters(
      rules,
      input.Filters,
      SECURITY_GROUP_RULE_FILTERS,
      (r) => tags.get(r.SecurityGroupRuleId),
    );
    const page = paginate(rules, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
    return {
      SecurityGroupRules: page.items.map((r) => ruleOutput(r, tags.get(r.SecurityGroupRuleId))),
      NextToken: page.nextToken,
    };
  },
);

// ---------------------------------------------------------------- ModifySecurityGroupRules

const modifySecurityGroupRules = action(
  (ctx, input: ModifySecurityGroupRulesRequest): ModifySecurityGroupRulesResult => {
    if (input.GroupId === undefined || input.GroupId === '') throw missingParameter('GroupId');
    const group = requireResource(ctx, KINDS.securityGroup, input.GroupId);
    const updates = input.SecurityGroupRules ?? [];
    if (updates.length === 0) throw missingParameter('SecurityGroupRule');
    const current = new Map(rulesOfGroup(ctx, group.GroupId).map((r) => [r.SecurityGroupRuleId, r]));
    const resolve = pairResolver(ctx, group.VpcId);
    const changed: SecurityGroupRuleRecord[] = [];
    const seen = new Set<string>();
    for (const u of updates) {
      const id = u.SecurityGroupRuleId;
      if (id === undefined || id === '') throw missingParameter('SecurityGroupRuleId');
      requireWellFormed(KINDS.securityGroupRule, id);
      const old = current.get(id);
      if (!old) throw KINDS.securityGroupRule.notFound(id);
      if (seen.has(id)) throw new Ec2Error('InvalidParameterValue', `The security group rule '${id}' is specified more than once.`);
      seen.add(id);
      const req = u.SecurityGroupRule;
      if (!req) throw missingParameter('SecurityGroupRule');
      const peers = [req.CidrIpv4, req.CidrIpv6, req.PrefixListId, req.ReferencedGroupId].filter((p) => p !== undefined && p !== '');
      if (peers.length === 0) {
        throw new Ec2Error('MissingParameter', 'The request must contain one of CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupId');
      }
      if (peers.length > 1) {
        throw invalidParameterCombination('Only one of CidrIpv4, CidrIpv6, PrefixListId or ReferencedGroupId may be specified');
      }
      const d = req.Description;
      const perm: IpPermissionInput = { IpProtocol: req.IpProtocol, FromPort: req.FromPort, ToPort: req.ToPort };
      if (req.CidrIpv4) perm.IpRanges = [{ CidrIp: req.CidrIpv4, Description: d }];
      else if (req.CidrIpv6) perm.Ipv6Ranges = [{ CidrIpv6: req.CidrIpv6, Description: d }];
      else if (req.PrefixListId) perm.PrefixListIds = [{ PrefixListId: req.PrefixListId, Description: d }];
      else perm.UserIdGroupPairs = [{ GroupId: req.ReferencedGroupId, Description: d }];
      const [body] = normalizePermissions([perm], old.IsEgress, resolve);
      checkPrefixLists(ctx, [body!]);
      const next: SecurityGroupRuleRecord = {
        SecurityGroupRuleId: old.SecurityGroupRuleId,
        GroupId: old.GroupId,
        GroupOwnerId: old.GroupOwnerId,
        ...body!,
        SecurityGroupRuleArn: old.SecurityGroupRuleArn,
      };
      changed.push(next);
    }
    const others = [...current.values()].filter((r) => !seen.has(r.SecurityGroupRuleId));
    checkNoDuplicates(others, changed);
    for (const r of changed) rulesCol(ctx).put(ctx.region, r.SecurityGroupRuleId, r);
    syncPermissions(ctx, group.GroupId);
    ctx.notify(KINDS.securityGroup.name, group.GroupId);
    return { Return: true };
  },
);

// ---------------------------------------------------------------- UpdateSecurityGroupRuleDescriptions*

function updateDescriptions(
  ctx: RequestContext,
  input: UpdateSecurityGroupRuleDescriptionsIngressRequest,
  isEgress: boolean,
): UpdateSecurityGroupRuleDescriptionsIngressResult {
  const group = targetGroup(ctx, input);
  const perms = input.IpPermissions ?? [];
  const byId = input.SecurityGroupRuleDescriptions ?? [];
  if (perms.length > 0 && byId.length > 0) {
    throw invalidParameterCombination('You may specify either security group rule descriptions or IP permissions, but not both.');
  }
  if (perms.length === 0 && byId.length === 0) throw missingParameter('IpPermissions or SecurityGroupRuleDescriptions');
  const updates: SecurityGroupRuleRecord[] = [];
  if (byId.length > 0) {
    for (const d of byId) {
      if (d.SecurityGroupRuleId === undefined || d.SecurityGroupRuleId === '') throw missingParameter('SecurityGroupRuleId');
      const [rule] = rulesById(ctx, group, [d.SecurityGroupRuleId], isEgress);
      updates.push(withDescription(rule!, validateRuleDescription(d.Description)));
    }
  } else {
    const bodies = normalizePermissions(perms, isEgress, pairResolver(ctx, group.VpcId));
    const byKey = new Map(rulesOfGroup(ctx, group.GroupId).map((r) => [ruleKey(r), r]));
    for (const b of bodies) {
      const rule = byKey.get(ruleKey(b));
      if (!rule) throw ruleNotInGroup();
      updates.push(withDescription(rule, b.Description));
    }
  }
  for (const r of updates) rulesCol(ctx).put(ctx.region, r.SecurityGroupRuleId, r);
  syncPermissions(ctx, group.GroupId);
  return { Return: true };
}

function withDescription(rule: SecurityGroupRuleRecord, description: string | undefined): SecurityGroupRuleRecord {
  const { Description: _old, ...rest } = rule;
  return description === undefined ? rest : { ...rest, Description: description };
}

const updateDescriptionsIngress = action(
  (ctx, input: UpdateSecurityGroupRuleDescriptionsIngressRequest): UpdateSecurityGroupRuleDescriptionsIngressResult =>
    updateDescriptions(ctx, input, false),
);

const updateDescriptionsEgress = action(
  (ctx, input: UpdateSecurityGroupRuleDescriptionsEgressRequest): UpdateSecurityGroupRuleDescriptionsEgressResult =>
    updateDescriptions(ctx, input, true),
);

export const securityGroupsModule: ApiModule = {
  actions: {
    CreateSecurityGroup: createSecurityGroup,
    DeleteSecurityGroup: deleteSecurityGroup,
    DescribeSecurityGroups: describeSecurityGroups,
    AuthorizeSecurityGroupIngress: authorizeIngress,
    AuthorizeSecurityGroupEgress: authorizeEgress,
    RevokeSecurityGroupIngress: revokeIngress,
    RevokeSecurityGroupEgress: revokeEgress,
    DescribeSecurityGroupRules: describeSecurityGroupRules,
    ModifySecurityGroupRules: modifySecurityGroupRules,
    UpdateSecurityGroupRuleDescriptionsIngress: updateDescriptionsIngress,
    UpdateSecurityGroupRuleDescriptionsEgress: updateDescriptionsEgress,
  },
};
