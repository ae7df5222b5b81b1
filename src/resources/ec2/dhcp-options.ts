/** DHCP options sets: their records, which VPCs use one, and a VPC's association. */
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import type { DhcpConfiguration } from '@aws-sdk/client-ec2';
import { KINDS } from './kinds.js';
import type { DhcpOptionsRecord } from './records.js';
import { vpcs } from './vpcs.js';

/** The DhcpOptionsId a VPC shows when AssociateDhcpOptions gave it no options (`default`). */
export const NO_DHCP_OPTIONS = 'default';

/** The region's DHCP options sets. */
export function dhcpOptionsSets(ctx: ResourceContext) {
  return ctx.store.collection(KINDS.dhcpOptions);
}

/** Stores a new set (validated by the caller). */
export function insertDhcpOptions(ctx: ResourceContext, configurations: DhcpConfiguration[]): DhcpOptionsRecord {
  const record: DhcpOptionsRecord = { DhcpOptionsId: newId(KINDS.dhcpOptions.prefix), OwnerId: ctx.accountId, DhcpConfigurations: configurations };
  dhcpOptionsSets(ctx).put(ctx.region, record.DhcpOptionsId, record);
  return record;
}

/** The ids of the VPCs that use a set. */
export function vpcsUsingDhcpOptions(ctx: ResourceContext, dhcpOptionsId: string): string[] {
  return vpcs(ctx)
    .list(ctx.region)
    .filter((v) => v.DhcpOptionsId === dhcpOptionsId)
    .map((v) => v.VpcId);
}
