/** Network ACLs: their records and the rules VPCs and subnets use (the default ACL, associations). */
import type { NetworkAclEntry } from '@aws-sdk/client-ec2';
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import { KINDS } from './kinds.js';
import type { NetworkAclRecord, VpcRecord } from './records.js';

/** The region's network ACLs. */
export function acls(ctx: ResourceContext) {
  return ctx.store.collection(KINDS.networkAcl);
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
export function createDefaultNetworkAcl(ctx: ResourceContext, vpc: VpcRecord): NetworkAclRecord {
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
export function associateWithDefaultAcl(ctx: ResourceContext, vpcId: string, subnetId: string): void {
  const acl = acls(ctx)
    .list(ctx.region)
    .find((a) => a.VpcId === vpcId && a.IsDefault);
  if (!acl) return;
  acl.Associations.push({ NetworkAclAssociationId: newId('aclassoc'), NetworkAclId: acl.NetworkAclId, SubnetId: subnetId });
  acls(ctx).put(ctx.region, acl.NetworkAclId, acl);
}

/** Drops a deleted subnet's ACL association. */
export function removeSubnetFromAcls(ctx: ResourceContext, subnetId: string): void {
  for (const acl of acls(ctx).list(ctx.region)) {
    const kept = acl.Associations.filter((a) => a.SubnetId !== subnetId);
    if (kept.length === acl.Associations.length) continue;
    acl.Associations = kept;
    acls(ctx).put(ctx.region, acl.NetworkAclId, acl);
  }
}

/** Deletes every ACL of a VPC (with its tags), when the VPC goes. */
export function deleteNetworkAclsOf(ctx: ResourceContext, vpcId: string): void {
  for (const acl of acls(ctx).list(ctx.region)) {
    if (acl.VpcId !== vpcId) continue;
    acls(ctx).delete(ctx.region, acl.NetworkAclId);
    ctx.store.tags.removeAll(ctx.region, acl.NetworkAclId);
  }
}
