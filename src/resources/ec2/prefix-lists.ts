/**
 * Managed prefix lists: the customer-managed ones (records of kind
 * 'prefix-list', every version's entries kept) and the AWS-managed ones, which
 * are not stored but made per region here (`com.amazonaws.<region>.s3` and
 * `.dynamodb`, owned by `AWS`, with CIDRs from the documentation range
 * 198.51.100.0/24). Security group rules refer to either by id; what refers to
 * a list is found from the rule records.
 */
import { createHash } from 'node:crypto';
import type { ResourceContext } from '../context.js';
import { newId } from '../../domain/ids.js';
import type { AddressFamily, PrefixListEntryRecord } from '../../domain/prefix-list-entries.js';
import { KINDS } from './kinds.js';
import type { PrefixListRecord } from './records.js';
import { requireWellFormed } from './registry.js';
import { rulesCol } from './security-groups.js';

/** Who owns the AWS-managed prefix lists (as DescribeManagedPrefixLists shows them). */
export const AWS_OWNER = 'AWS';

/** What a lookup of prefix lists needs: the store and the region (reconcilers have no request context). */
type ListReader = Pick<ResourceContext, 'store' | 'region'>;

export const prefixLists = (ctx: ListReader) => ctx.store.collection(KINDS.prefixList);

/** The AWS-managed services and the CIDRs Overcast gives them (RFC 5737 documentation space). */
const AWS_MANAGED: readonly { service: string; cidrs: readonly string[] }[] = [
  { service: 's3', cidrs: ['198.51.100.0/26', '198.51.100.64/26'] },
  { service: 'dynamodb', cidrs: ['198.51.100.128/26'] },
];

/** A stable old-style id (`pl-` and 8 hex digits) per region and service, as AWS's are. */
function awsManagedId(region: string, service: string): string {
  return `pl-${createHash('sha256').update(`${region}/${service}`).digest('hex').slice(0, 8)}`;
}

const cache = new Map<string, readonly PrefixListRecord[]>();

/** The region's AWS-managed prefix lists (the same records every time). */
export function awsManagedPrefixLists(region: string): readonly PrefixListRecord[] {
  let lists = cache.get(region);
  if (!lists) {
    lists = AWS_MANAGED.map(({ service, cidrs }) => {
      const id = awsManagedId(region, service);
      const entries = cidrs.map((Cidr) => ({ Cidr }));
      return {
        PrefixListId: id,
        AddressFamily: 'IPv4' as const,
        State: 'create-complete' as const,
        PrefixListArn: `arn:aws:ec2:${region}:aws:prefix-list/${id}`,
        PrefixListName: `com.amazonaws.${region}.${service}`,
        MaxEntries: entries.length,
        Version: 1,
        OwnerId: AWS_OWNER,
        versions: [entries],
      };
    });
    cache.set(region, lists);
  }
  return lists;
}

export function isAwsManaged(list: PrefixListRecord): boolean {
  return list.OwnerId === AWS_OWNER;
}

/** A prefix list by id, AWS-managed or the account's, or undefined. */
export function findPrefixList(ctx: ListReader, id: string): PrefixListRecord | undefined {
  return awsManagedPrefixLists(ctx.region).find((p) => p.PrefixListId === id) ?? prefixLists(ctx).get(ctx.region, id);
}

/** A prefix list by id; EC2's Malformed / NotFound errors otherwise. */
export function requirePrefixList(ctx: ResourceContext, id: string): PrefixListRecord {
  requireWellFormed(KINDS.prefixList, id);
  const found = findPrefixList(ctx, id);
  if (!found) throw KINDS.prefixList.notFound(id);
  return found;
}

/** Every prefix list the caller sees: AWS's first, then the account's in the store's order. */
export function allPrefixLists(ctx: ResourceContext): PrefixListRecord[] {
  return [...awsManagedPrefixLists(ctx.region), ...prefixLists(ctx).list(ctx.region)];
}

/** The entries of one version (the current one by default); undefined for a version the list never had. */
export function entriesAt(list: PrefixListRecord, version = list.Version): PrefixListEntryRecord[] | undefined {
  return Number.isInteger(version) && version >= 1 ? list.versions[version - 1] : undefined;
}

/**
 * The CIDRs of a prefix list's current entries (AWS-managed ones too), or
 * undefined when there is no such list: what the firewall puts behind a rule
 * that names the list.
 */
export function prefixListCidrs(ctx: ListReader, id: string): string[] | undefined {
  const list = findPrefixList(ctx, id);
  return list ? (entriesAt(list) ?? []).map((e) => e.Cidr) : undefined;
}

/** The security groups with a rule naming the prefix list, each once, in rule order. */
export function groupsReferring(ctx: ResourceContext, prefixListId: string): string[] {
  const out = new Set<string>();
  for (const r of rulesCol(ctx).list(ctx.region)) if (r.PrefixListId === prefixListId) out.add(r.GroupId);
  return [...out];
}

export interface NewPrefixList {
  name: string;
  family: AddressFamily;
  maxEntries: number;
  entries: PrefixListEntryRecord[];
}

/** Creates a customer-managed list at version 1. */
export function createPrefixList(ctx: ResourceContext, spec: NewPrefixList): PrefixListRecord {
  const id = newId('pl');
  const record: PrefixListRecord = {
    PrefixListId: id,
    AddressFamily: spec.family,
    State: 'create-complete',
    PrefixListArn: `arn:aws:ec2:${ctx.region}:${ctx.accountId}:prefix-list/${id}`,
    PrefixListName: spec.name,
    MaxEntries: spec.maxEntries,
    Version: 1,
    OwnerId: ctx.accountId,
    versions: [spec.entries],
  };
  prefixLists(ctx).put(ctx.region, id, record);
  return record;
}

export function savePrefixList(ctx: ResourceContext, record: PrefixListRecord): void {
  prefixLists(ctx).put(ctx.region, record.PrefixListId, record);
}

/** Removes a customer-managed list and its tags (no dependency checks). */
export function deletePrefixListRecord(ctx: ResourceContext, id: string): void {
  prefixLists(ctx).delete(ctx.region, id);
  ctx.store.tags.removeAll(ctx.region, id);
}
