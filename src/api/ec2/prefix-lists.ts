/**
 * Managed prefix lists: CreateManagedPrefixList, DescribeManagedPrefixLists,
 * GetManagedPrefixListEntries, ModifyManagedPrefixList, DeleteManagedPrefixList,
 * GetManagedPrefixListAssociations, and DescribePrefixLists (the AWS-managed
 * lists only, in the older shape).
 *
 * Changing the entries makes a new version; every version is kept, so
 * GetManagedPrefixListEntries answers for any TargetVersion the list has had.
 * Security group rules refer to lists by id: a change notifies 'prefix-list'
 * and 'security-group' for every group whose rules name the list, so the
 * firewall re-applies those rule sets. A list a rule names cannot be deleted;
 * the AWS-managed lists cannot be changed at all.
 */
import type {
  CreateManagedPrefixListRequest,
  CreateManagedPrefixListResult,
  DeleteManagedPrefixListRequest,
  DeleteManagedPrefixListResult,
  DescribeManagedPrefixListsRequest,
  DescribeManagedPrefixListsResult,
  DescribePrefixListsRequest,
  DescribePrefixListsResult,
  GetManagedPrefixListAssociationsRequest,
  GetManagedPrefixListAssociationsResult,
  GetManagedPrefixListEntriesRequest,
  GetManagedPrefixListEntriesResult,
  ManagedPrefixList,
  ModifyManagedPrefixListRequest,
  ModifyManagedPrefixListResult,
  PrefixList,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, invalidParameterCombination, invalidParameterValue, missingParameter } from '../../domain/errors.js';
import {
  applyEntryChanges,
  checkAddressFamily,
  checkMaxEntries,
  checkPrefixListName,
  normalizeEntries,
} from '../../domain/prefix-list-entries.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { tagSpecificationTags, tagsField } from './tags.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { PrefixListRecord } from '../../resources/ec2/records.js';
import {
  allPrefixLists,
  awsManagedPrefixLists,
  createPrefixList,
  deletePrefixListRecord,
  entriesAt,
  groupsReferring,
  isAwsManaged,
  requirePrefixList,
  savePrefixList,
} from '../../resources/ec2/prefix-lists.js';
import { requireWellFormed } from '../../resources/ec2/registry.js';
import { tablesRoutingTo } from '../../resources/ec2/route-tables.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';

function toOutput(record: PrefixListRecord, tags: Tag[] | undefined): ManagedPrefixList {
  const { versions: _v, ...rest } = record;
  return { ...rest, Tags: tagsField(tags) };
}

function requireId(id: string | undefined): string {
  if (id === undefined || id === '') throw missingParameter('PrefixListId');
  return id;
}

/** A list the caller may change: its own, not one of AWS's. */
function requireOwnList(ctx: RequestContext, id: string | undefined, verb: 'modified' | 'deleted'): PrefixListRecord {
  const list = requirePrefixList(ctx, requireId(id));
  if (isAwsManaged(list)) {
    throw new Ec2Error('UnsupportedOperation', `The prefix list ${list.PrefixListId} is managed by AWS and cannot be ${verb}.`);
  }
  return list;
}

/** Tells the reconcilers: the list changed, and so did the rule sets of every group that names it. */
function notifyChange(ctx: RequestContext, id: string): void {
  ctx.notify(KINDS.prefixList.name, id);
  for (const groupId of groupsReferring(ctx, id)) ctx.notify(KINDS.securityGroup.name, groupId);
}

// ---------------------------------------------------------------- CreateManagedPrefixList

const createManagedPrefixList = action((ctx, input: CreateManagedPrefixListRequest): CreateManagedPrefixListResult => {
  const name = checkPrefixListName(input.PrefixListName);
  const maxEntries = checkMaxEntries(input.MaxEntries)!;
  const family = checkAddressFamily(input.AddressFamily);
  const entries = normalizeEntries(input.Entries, family, maxEntries);
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.prefixList.name]).get(KINDS.prefixList.name) ?? [];
  const record = createPrefixList(ctx, { name, family, maxEntries, entries });
  putTags(ctx, record.PrefixListId, KINDS.prefixList.name, tags);
  notifyChange(ctx, record.PrefixListId);
  return { PrefixList: toOutput(record, tags) };
});

// ---------------------------------------------------------------- DescribeManagedPrefixLists

const MANAGED_PREFIX_LIST_FILTERS = filterTable<PrefixListRecord>('DescribeManagedPrefixLists', {
  'owner-id': 'OwnerId',
  'prefix-list-id': 'PrefixListId',
  'prefix-list-name': 'PrefixListName',
});

const describeManagedPrefixLists = action((ctx, input: DescribeManagedPrefixListsRequest): DescribeManagedPrefixListsResult => {
  const ids = input.PrefixListIds ?? [];
  let records = allPrefixLists(ctx);
  if (ids.length > 0) {
    const wanted = new Set(ids.map((id) => requirePrefixList(ctx, id).PrefixListId));
    records = records.filter((p) => wanted.has(p.PrefixListId));
  }
  const tags = tagsByResource(ctx, KINDS.prefixList.name);
  const filtered = applyFilters(records, input.Filters, MANAGED_PREFIX_LIST_FILTERS, (p) => tags.get(p.PrefixListId));
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 1, max: 100 });
  return { PrefixLists: page.items.map((p) => toOutput(p, tags.get(p.PrefixListId))), NextToken: page.nextToken };
});

// ---------------------------------------------------------------- GetManagedPrefixListEntries

const getManagedPrefixListEntries = action((ctx, input: GetManagedPrefixListEntriesRequest): GetManagedPrefixListEntriesResult => {
  const list = requirePrefixList(ctx, requireId(input.PrefixListId));
  const version = input.TargetVersion ?? list.Version;
  const entries = entriesAt(list, version);
  if (!entries) {
    throw invalidParameterValue(
      `The specified value for version (${version}) is not valid. The prefix list ${list.PrefixListId} has versions 1 to ${list.Version}.`,
    );
  }
  const page = paginate(entries, input.MaxResults, input.NextToken, { min: 1, max: 100 });
  return { Entries: page.items.map((e) => ({ ...e })), NextToken: page.nextToken };
});

// ---------------------------------------------------------------- ModifyManagedPrefixList

const modifyManagedPrefixList = action((ctx, input: ModifyManagedPrefixListRequest): ModifyManagedPrefixListResult => {
  const list = requireOwnList(ctx, input.PrefixListId, 'modified');
  if (input.CurrentVersion !== undefined && input.CurrentVersion !== list.Version) {
    throw new Ec2Error('PrefixListVersionMismatch', 'The prefix list has the incorrect version number.');
  }
  const changesEntries = (input.AddEntries ?? []).length > 0 || (input.RemoveEntries ?? []).length > 0;
  const maxEntries = checkMaxEntries(input.MaxEntries, false);
  if (maxEntries !== undefined && changesEntries) {
    throw invalidParameterCombination('You cannot modify the entries of a prefix list and modify the size of a prefix list at the same time.');
  }
  const name = input.PrefixListName === undefined ? list.PrefixListName : checkPrefixListName(input.PrefixListName);
  const current = entriesAt(list) ?? [];
  let next: PrefixListRecord = { ...list, PrefixListName: name, State: 'modify-complete' };
  if (changesEntries) {
    const entries = applyEntryChanges(current, input.AddEntries, input.RemoveEntries, list.AddressFamily, list.MaxEntries);
    next = { ...next, Version: list.Version + 1, versions: [...list.versions, entries] };
  }
  if (maxEntries !== undefined) {
    if (maxEntries < current.length) {
      throw invalidParameterValue(
        `The maximum number of entries (${maxEntries}) cannot be less than the number of entries in the prefix list (${current.length}).`,
      );
    }
    next = { ...next, MaxEntries: maxEntries };
  }
  savePrefixList(ctx, next);
  notifyChange(ctx, list.PrefixListId);
  const tags = ctx.store.tags.forResource(ctx.region, list.PrefixListId);
  return { PrefixList: toOutput(next, tags) };
});

// ---------------------------------------------------------------- DeleteManagedPrefixList

const deleteManagedPrefixList = action((ctx, input: DeleteManagedPrefixListRequest): DeleteManagedPrefixListResult => {
  const list = requireOwnList(ctx, input.PrefixListId, 'deleted');
  const referring = [...groupsReferring(ctx, list.PrefixListId), ...tablesRoutingTo(ctx, list.PrefixListId)];
  if (referring.length > 0) {
    throw new Ec2Error(
      'DependencyViolation',
      `The prefix list '${list.PrefixListId}' has dependencies and cannot be deleted: it is referenced by ${referring.join(', ')}.`,
    );
  }
  const tags = ctx.store.tags.forResource(ctx.region, list.PrefixListId);
  deletePrefixListRecord(ctx, list.PrefixListId);
  notifyChange(ctx, list.PrefixListId);
  return { PrefixList: toOutput({ ...list, State: 'delete-complete' }, tags) };
});

// ---------------------------------------------------------------- GetManagedPrefixListAssociations

const getManagedPrefixListAssociations = action(
  (ctx, input: GetManagedPrefixListAssociationsRequest): GetManagedPrefixListAssociationsResult => {
    const list = requirePrefixList(ctx, requireId(input.PrefixListId));
    // the security groups with a rule naming it, then the route tables with a route to it
    const associations = [...groupsReferring(ctx, list.PrefixListId), ...tablesRoutingTo(ctx, list.PrefixListId)].map((ResourceId) => ({ ResourceId, ResourceOwner: ctx.accountId }));
    const page = paginate(associations, input.MaxResults, input.NextToken, { min: 5, max: 255 });
    return { PrefixListAssociations: page.items, NextToken: page.nextToken };
  },
);

// ---------------------------------------------------------------- DescribePrefixLists

const PREFIX_LIST_FILTERS = filterTable<PrefixList>('DescribePrefixLists', {
  'prefix-list-id': 'PrefixListId',
  'prefix-list-name': 'PrefixListName',
});

const describePrefixLists = action((ctx, input: DescribePrefixListsRequest): DescribePrefixListsResult => {
  let lists: PrefixList[] = awsManagedPrefixLists(ctx.region).map((p) => ({
    PrefixListId: p.PrefixListId,
    PrefixListName: p.PrefixListName,
    Cidrs: (entriesAt(p) ?? []).map((e) => e.Cidr),
  }));
  const ids = input.PrefixListIds ?? [];
  if (ids.length > 0) {
    for (const id of ids) requireWellFormed(KINDS.prefixList, id);
    const missing = ids.filter((id) => !lists.some((p) => p.PrefixListId === id));
    // DescribePrefixLists spells the code InvalidPrefixListId (the managed-list calls: InvalidPrefixListID)
    if (missing.length > 0) throw new Ec2Error('InvalidPrefixListId.NotFound', `The prefix list ID '${missing.join(', ')}' does not exist`);
    lists = lists.filter((p) => ids.includes(p.PrefixListId!));
  }
  const filtered = applyFilters(lists, input.Filters, PREFIX_LIST_FILTERS);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { PrefixLists: page.items, NextToken: page.nextToken };
});

export const prefixListsModule: ApiModule = {
  actions: {
    CreateManagedPrefixList: createManagedPrefixList,
    DescribeManagedPrefixLists: describeManagedPrefixLists,
    GetManagedPrefixListEntries: getManagedPrefixListEntries,
    ModifyManagedPrefixList: modifyManagedPrefixList,
    DeleteManagedPrefixList: deleteManagedPrefixList,
    GetManagedPrefixListAssociations: getManagedPrefixListAssociations,
    DescribePrefixLists: describePrefixLists,
  },
};
