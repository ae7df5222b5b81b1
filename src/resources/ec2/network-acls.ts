/** Network ACLs: their records and the rules VPCs and subnets use (the default ACL, custom ACLs, associations). */
import type { NetworkAclAssociation, NetworkAclEntry } from '@aws-sdk/client-ec2';
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import { compareAclEntries, DENY_ALL_V4, DENY_ALL_V6 } from '../../domain/network-acl-entries.js';
import { KINDS } from './kinds.js';
import type { NetworkAclRecord, VpcRecord } from './records.js';

/** The region's network ACLs. */
export function acls(ctx: ResourceContext) {
  return ctx.store.collection(KINDS.networkAcl);
}

/** Stores an ACL, its entries in EC2's order (egress first, then by rule number). */
export function saveAcl(ctx: ResourceContext, acl: NetworkAclRecord): void {
  acls(ctx).put(ctx.region, acl.NetworkAclId, { ...acl, Entries: [...acl.Entries].sort(compareAclEntries) });
}

const hasIpv6 = (vpc: VpcRecord): boolean => (vpc.Ipv6CidrBlockAssociationSet ?? []).length > 0;

/** The `*` entries every ACL ends with: deny all IPv4 (32767) and, with IPv6, all IPv6 (32768), both ways. */
function catchAllEntries(withIpv6: boolean): NetworkAclEntry[] {
  const out: NetworkAclEntry[] = [];
  for (const egress of [true, false]) {
    out.push({ RuleNumber: DENY_ALL_V4, Protocol: '-1', RuleAction: 'deny', Egress: egress, CidrBlock: '0.0.0.0/0' });
    if (withIpv6) out.push({ RuleNumber: DENY_ALL_V6, Protocol: '-1', RuleAction: 'deny', Egress: egress, Ipv6CidrBlock: '::/0' });
  }
  return out;
}

/** A new ACL of a VPC with these entries and no associations, stored. */
function storeNewAcl(ctx: ResourceContext, vpc: VpcRecord, isDefault: boolean, entries: NetworkAclEntry[]): NetworkAclRecord {
  const record: NetworkAclRecord = { NetworkAclId: newId('acl'), VpcId: vpc.VpcId, OwnerId: ctx.accountId, IsDefault: isDefault, Entries: entries, Associations: [] };
  saveAcl(ctx, record);
  return record;
}

/** Creates a custom ACL in a VPC: only the `*` deny entries, no associations. */
export function createNetworkAcl(ctx: ResourceContext, vpc: VpcRecord): NetworkAclRecord {
  return storeNewAcl(ctx, vpc, false, catchAllEntries(hasIpv6(vpc)));
}

/** The ACLs of one VPC. */
export function aclsOfVpc(ctx: ResourceContext, vpcId: string): NetworkAclRecord[] {
  return acls(ctx)
    .list(ctx.region)
    .filter((a) => a.VpcId === vpcId);
}

/** The ACL a subnet is associated with (every subnet has exactly one), if any. */
export function aclOfSubnet(ctx: ResourceContext, subnetId: string): NetworkAclRecord | undefined {
  return acls(ctx)
    .list(ctx.region)
    .find((a) => a.Associations.some((s) => s.SubnetId === subnetId));
}

/** A new association of `subnetId` with `acl` (the caller stores it). */
export function newAclAssociation(acl: NetworkAclRecord, subnetId: string): NetworkAclAssociation {
  return { NetworkAclAssociationId: newId('aclassoc'), NetworkAclId: acl.NetworkAclId, SubnetId: subnetId };
}

/** The rules of a default ACL: allow everything (rule 100/101), then the `*` deny entries, both ways. */
function defaultEntries(withIpv6: boolean): NetworkAclEntry[] {
  const out: NetworkAclEntry[] = [];
  for (const egress of [true, false]) {
    out.push({ RuleNumber: 100, Protocol: '-1', RuleAction: 'allow', Egress: egress, CidrBlock: '0.0.0.0/0' });
    if (withIpv6) out.push({ RuleNumber: 101, Protocol: '-1', RuleAction: 'allow', Egress: egress, Ipv6CidrBlock: '::/0' });
  }
  return [...out, ...catchAllEntries(withIpv6)];
}

/** Creates the VPC's default ACL. */
export function createDefaultNetworkAcl(ctx: ResourceContext, vpc: VpcRecord): NetworkAclRecord {
  return storeNewAcl(ctx, vpc, true, defaultEntries(hasIpv6(vpc)));
}

/** Associates a new subnet with its VPC's default ACL (no-op if the VPC has none). */
export function associateWithDefaultAcl(ctx: ResourceContext, vpcId: string, subnetId: string): void {
  const acl = acls(ctx)
    .list(ctx.region)
    .find((a) => a.VpcId === vpcId && a.IsDefault);
  if (!acl) return;
  saveAcl(ctx, { ...acl, Associations: [...acl.Associations, newAclAssociation(acl, subnetId)] });
}

/** Drops a deleted subnet's ACL association. */
export function removeSubnetFromAcls(ctx: ResourceContext, subnetId: string): void {
  for (const acl of acls(ctx).list(ctx.region)) {
    const kept = acl.Associations.filter((a) => a.SubnetId !== subnetId);
    if (kept.length === acl.Associations.length) continue;
    saveAcl(ctx, { ...acl, Associations: kept });
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
