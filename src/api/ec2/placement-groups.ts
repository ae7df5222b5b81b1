/**
 * Placement groups: CreatePlacementGroup (cluster, spread at rack level,
 * partition with 1–7 partitions), DescribePlacementGroups, DeletePlacementGroup
 * (refused while an instance is in the group). RunInstances places instances
 * in one (launch-placement.ts). Recorded only: placement does not change where
 * Overcast runs an instance.
 */
import type {
  CreatePlacementGroupRequest,
  CreatePlacementGroupResult,
  DeletePlacementGroupRequest,
  DescribePlacementGroupsRequest,
  DescribePlacementGroupsResult,
  PlacementGroup,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { newId } from '../../domain/ids.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { checkText } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { KINDS } from '../../resources/ec2/kinds.js';
import type { PlacementGroupRecord } from '../../resources/ec2/records.js';
import { requireResources } from '../../resources/ec2/registry.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';
import {
  findPlacementGroupByName,
  placementGroupMembers,
  placementGroups,
  requirePlacementGroupByName,
} from '../../resources/ec2/placement-groups.js';
import { action, type ApiModule } from '../context.js';
import { tagSpecificationTags, tagsField } from './tags.js';

/** Partition placement groups have 1 to 7 partitions per Availability Zone. */
const MAX_PARTITIONS = 7;

function groupOutput(g: PlacementGroupRecord, tags: Tag[] | undefined): PlacementGroup {
  return { ...g, Tags: tagsField(tags) };
}

const createPlacementGroup = action((ctx, input: CreatePlacementGroupRequest): CreatePlacementGroupResult => {
  const strategy = input.Strategy;
  if (strategy === undefined) throw missingParameter('Strategy');
  if (strategy !== 'cluster' && strategy !== 'spread' && strategy !== 'partition') {
    throw new Ec2Error('InvalidParameterValue', `Value (${strategy}) for parameter strategy is invalid. Valid values: cluster, spread, partition`);
  }
  const id = newId('pg');
  const name = input.GroupName === undefined || input.GroupName === '' ? id : checkText('GroupName', input.GroupName);
  if (name.length > 255 || !/^[\x20-\x7e]+$/.test(name)) {
    throw new Ec2Error('InvalidParameterValue', `Value (${name}) for parameter groupName is invalid. Up to 255 ASCII characters.`);
  }
  if (findPlacementGroupByName(ctx, name)) throw new Ec2Error('InvalidPlacementGroup.Duplicate', `The placement group '${name}' already exists.`);
  let partitions: number | undefined;
  if (input.PartitionCount !== undefined) {
    if (strategy !== 'partition') throw new Ec2Error('InvalidParameterCombination', 'PartitionCount is valid only when Strategy is partition.');
    if (!Number.isInteger(input.PartitionCount) || input.PartitionCount < 1 || input.PartitionCount > MAX_PARTITIONS) {
      throw new Ec2Error('InvalidParameterValue', `Value (${input.PartitionCount}) for parameter partitionCount is invalid. Valid range: 1-${MAX_PARTITIONS}`);
    }
    partitions = input.PartitionCount;
  } else if (strategy === 'partition') partitions = 2;
  if (input.SpreadLevel !== undefined) {
    if (strategy !== 'spread') throw new Ec2Error('InvalidParameterCombination', 'SpreadLevel is valid only when Strategy is spread.');
    if (input.SpreadLevel === 'host') throw new Ec2Error('InvalidParameterValue', 'Host spread level placement groups are only available with AWS Outposts.');
    if (input.SpreadLevel !== 'rack') throw new Ec2Error('InvalidParameterValue', `Value (${input.SpreadLevel}) for parameter spreadLevel is invalid. Valid values: host, rack`);
  }
  const tags = tagSpecificationTags(input.TagSpecifications, [KINDS.placementGroup.name]).get(KINDS.placementGroup.name) ?? [];
  const rec: PlacementGroupRecord = {
    GroupId: id,
    GroupName: name,
    GroupArn: `arn:aws:ec2:${ctx.region}:${ctx.accountId}:placement-group/${name}`,
    Strategy: strategy,
    State: 'available',
    ...(partitions !== undefined ? { PartitionCount: partitions } : {}),
    ...(strategy === 'spread' ? { SpreadLevel: 'rack' as const } : {}),
  };
  placementGroups(ctx).put(ctx.region, id, rec);
  putTags(ctx, id, KINDS.placementGroup.name, tags);
  return { PlacementGroup: groupOutput(rec, tags) };
});

const PLACEMENT_GROUP_FILTERS = filterTable<PlacementGroupRecord>('DescribePlacementGroups', {
  'group-name': 'GroupName',
  'group-arn': 'GroupArn',
  'spread-level': 'SpreadLevel',
  state: 'State',
  strategy: 'Strategy',
});

const describePlacementGroups = action((ctx, input: DescribePlacementGroupsRequest): DescribePlacementGroupsResult => {
  let groups = placementGroups(ctx).list(ctx.region);
  const names = input.GroupNames ?? [];
  const ids = input.GroupIds ?? [];
  if (names.length > 0 || ids.length > 0) {
    const wanted = new Set<string>();
    for (const n of names) wanted.add(requirePlacementGroupByName(ctx, n).GroupId);
    for (const g of requireResources(ctx, KINDS.placementGroup, ids)) wanted.add(g.GroupId);
    groups = groups.filter((g) => wanted.has(g.GroupId));
  }
  const tags = tagsByResource(ctx, KINDS.placementGroup.name);
  const filtered = applyFilters(groups, input.Filters, PLACEMENT_GROUP_FILTERS, (g) => tags.get(g.GroupId));
  return { PlacementGroups: filtered.map((g) => groupOutput(g, tags.get(g.GroupId))) };
});

const deletePlacementGroup = action((ctx, input: DeletePlacementGroupRequest): Record<string, never> => {
  if (input.GroupName === undefined || input.GroupName === '') throw missingParameter('GroupName');
  const g = requirePlacementGroupByName(ctx, input.GroupName);
  if (placementGroupMembers(ctx, g).length > 0) {
    throw new Ec2Error('InvalidPlacementGroup.InUse', `The placement group '${g.GroupName}' is in use and may not be deleted.`);
  }
  placementGroups(ctx).delete(ctx.region, g.GroupId);
  ctx.store.tags.removeAll(ctx.region, g.GroupId);
  return {};
});

export const placementGroupsModule: ApiModule = {
  actions: {
    CreatePlacementGroup: createPlacementGroup,
    DescribePlacementGroups: describePlacementGroups,
    DeletePlacementGroup: deletePlacementGroup,
  },
};
