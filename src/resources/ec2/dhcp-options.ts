/** DHCP options sets: their records, which VPCs use one, and a VPC's association. */
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import type { DhcpConfiguration } from '@aws-sdk/client-ec2';
import { KINDS } from './kinds.js';
import type { DhcpOptionsRecord } from './records.js';
import { vpcs } from './vpcs.js';

/**
 * The change a VPC's DHCP options went through (AssociateDhcpOptions, a set or
 * `default`), notified with the VPC's id: the instance reconciler rewrites the
 * resolv.conf of the VPC's running instances, as their next DHCP lease renewal
 * would hand the new set out on EC2.
 */
export const VPC_DHCP_OPTIONS_CHANGE = 'vpc-dhcp-options';

/** The DhcpOptionsId a VPC shows when AssociateDhcpOptions gave it no options (`default`). */
export const NO_DHCP_OPTIONS = 'default';

/** The region's DHCP options sets. */
export function dhcpOptionsSets(ctx: Pick<ResourceContext, 'store'>) {
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

/** The Amazon-provided resolver as the guest reaches it (the fabric takes it to the VPC's resolver). */
export const AMAZON_DNS = '169.254.169.253';

/** What a guest's resolver is told, as EC2's DHCP hands a set out: name servers (at most three) and search domains. */
export interface GuestResolver {
  dhcpOptionsId: string;
  nameservers: string[];
  search: string[];
}

/**
 * The resolver configuration a VPC's DHCP options set gives its instances:
 * `AmazonProvidedDNS` is the VPC resolver; `domain-name` (space-separated) the
 * search domains. A VPC without options (`default`) gives none: no name server.
 */
export function guestResolver(ctx: ResourceContext, vpcId: string): GuestResolver | undefined {
  const vpc = vpcs(ctx).get(ctx.region, vpcId);
  const id = vpc?.DhcpOptionsId;
  if (id === undefined) return undefined;
  if (id === NO_DHCP_OPTIONS) return { dhcpOptionsId: id, nameservers: [], search: [] };
  const set = dhcpOptionsSets(ctx).get(ctx.region, id);
  if (!set) return undefined;
  const values = (key: string) => (set.DhcpConfigurations.find((c) => c.Key === key)?.Values ?? []).map((v) => v.Value ?? '').filter((v) => v !== '');
  const nameservers = values('domain-name-servers').map((v) => (v === 'AmazonProvidedDNS' ? AMAZON_DNS : v));
  const search = values('domain-name').flatMap((v) => v.split(/\s+/)).filter((v) => v !== '');
  return { dhcpOptionsId: id, nameservers: [...new Set(nameservers)].slice(0, 3), search };
}

/** The guest's /etc/resolv.conf for it. */
export function resolvConf(r: GuestResolver): string {
  return [
    `# written by Overcast from the VPC's DHCP options (${r.dhcpOptionsId})`,
    ...(r.search.length > 0 ? [`search ${r.search.join(' ')}`] : []),
    ...r.nameservers.map((n) => `nameserver ${n}`),
    '',
  ].join('\n');
}
