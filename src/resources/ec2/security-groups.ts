/** Security groups and their rules: the records and the rules that change them (rule records, the default group, deletion with a VPC). */
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import { type RuleBody, toIpPermissions } from '../../domain/security-group-rules.js';
import { KINDS } from './kinds.js';
import type { SecurityGroupRecord, SecurityGroupRuleRecord } from './records.js';
import type { Tag } from '../../store/store.js';
import { putTags } from './tags.js';

export const groups = (ctx: ResourceContext) => ctx.store.collection(KINDS.securityGroup);

export const rulesCol = (ctx: ResourceContext) => ctx.store.collection(KINDS.securityGroupRule);

const groupArn = (ctx: ResourceContext, id: string) => `arn:aws:ec2:${ctx.region}:${ctx.accountId}:security-group/${id}`;

const ruleArn = (ctx: ResourceContext, id: string) => `arn:aws:ec2:${ctx.region}:${ctx.accountId}:security-group-rule/${id}`;

/** The rules of one group, in the order they were added. */
export function rulesOfGroup(ctx: ResourceContext, groupId: string): SecurityGroupRuleRecord[] {
  return rulesCol(ctx).list(ctx.region).filter((r) => r.GroupId === groupId);
}

/** Rewrites the group's IpPermissions / IpPermissionsEgress from its rule records. */
export function syncPermissions(ctx: ResourceContext, groupId: string): void {
  const group = groups(ctx).get(ctx.region, groupId);
  if (!group) return;
  const rules = rulesOfGroup(ctx, groupId);
  group.IpPermissions = toIpPermissions(rules.filter((r) => !r.IsEgress));
  group.IpPermissionsEgress = toIpPermissions(rules.filter((r) => r.IsEgress));
  groups(ctx).put(ctx.region, groupId, group);
}

/** Stores new rules of a group (ids minted here), tags them, and re-syncs the group. */
export function addRules(ctx: ResourceContext, groupId: string, bodies: readonly RuleBody[], tags: readonly Tag[] = []): SecurityGroupRuleRecord[] {
  const out: SecurityGroupRuleRecord[] = [];
  for (const body of bodies) {
    const id = newId('sgr');
    const record: SecurityGroupRuleRecord = {
      SecurityGroupRuleId: id,
      GroupId: groupId,
      GroupOwnerId: ctx.accountId,
      ...body,
      SecurityGroupRuleArn: ruleArn(ctx, id),
    };
    rulesCol(ctx).put(ctx.region, id, record);
    putTags(ctx, id, KINDS.securityGroupRule.name, tags);
    out.push(record);
  }
  syncPermissions(ctx, groupId);
  return out;
}

export function removeRules(ctx: ResourceContext, groupId: string, ids: readonly string[]): void {
  for (const id of ids) {
    rulesCol(ctx).delete(ctx.region, id);
    ctx.store.tags.removeAll(ctx.region, id);
  }
  syncPermissions(ctx, groupId);
}

export function newGroupRecord(ctx: ResourceContext, name: string, description: string, vpcId: string): SecurityGroupRecord {
  const id = newId('sg');
  const record: SecurityGroupRecord = {
    GroupId: id,
    GroupName: name,
    Description: description,
    VpcId: vpcId,
    OwnerId: ctx.accountId,
    SecurityGroupArn: groupArn(ctx, id),
    IpPermissions: [],
    IpPermissionsEgress: [],
  };
  groups(ctx).put(ctx.region, id, record);
  return record;
}

/** Creates the VPC's `default` group: inbound from itself, all outbound. */
export function createDefaultSecurityGroup(ctx: ResourceContext, vpcId: string): SecurityGroupRecord {
  const record = newGroupRecord(ctx, 'default', 'default VPC security group', vpcId);
  addRules(ctx, record.GroupId, [
    { IsEgress: false, IpProtocol: '-1', FromPort: -1, ToPort: -1, ReferencedGroupInfo: { GroupId: record.GroupId, UserId: ctx.accountId } },
    ALLOW_ALL_EGRESS,
  ]);
  ctx.notify(KINDS.securityGroup.name, record.GroupId);
  return groups(ctx).get(ctx.region, record.GroupId)!;
}

/**
 * Removes a group with its rules and all their tags, without dependency checks
 * (for DeleteVpc, which removes the VPC's default group).
 */
export function deleteSecurityGroupRecords(ctx: ResourceContext, groupId: string): void {
  for (const r of rulesOfGroup(ctx, groupId)) {
    rulesCol(ctx).delete(ctx.region, r.SecurityGroupRuleId);
    ctx.store.tags.removeAll(ctx.region, r.SecurityGroupRuleId);
  }
  groups(ctx).delete(ctx.region, groupId);
  ctx.store.tags.removeAll(ctx.region, groupId);
  ctx.notify(KINDS.securityGroup.name, groupId);
}

/** The security groups of one VPC. */
export function securityGroupsOfVpc(ctx: ResourceContext, vpcId: string): SecurityGroupRecord[] {
  return groups(ctx).list(ctx.region).filter((g) => g.VpcId === vpcId);
}

export const ALLOW_ALL_EGRESS: RuleBody = { IsEgress: true, IpProtocol: '-1', FromPort: -1, ToPort: -1, CidrIpv4: '0.0.0.0/0' };
