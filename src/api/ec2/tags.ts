/** CreateTags, DeleteTags, DescribeTags, and TagSpecifications on create calls. */
import type {
  CreateTagsRequest,
  DeleteTagsRequest,
  DescribeTagsRequest,
  DescribeTagsResult,
  TagDescription,
  TagSpecification,
} from '@aws-sdk/client-ec2';
import { applyFilters, filterTable } from '../../domain/filters.js';
import { paginate } from '../../domain/pagination.js';
import { Ec2Error, missingParameter } from '../../domain/errors.js';
import { checkText, quotable } from '../../domain/text.js';
import type { Tag } from '../../store/store.js';
import { action, type ApiModule, type RequestContext } from '../context.js';
import { exists, kindOfId } from '../../resources/ec2/registry.js';
import { MAX_TAGS_PER_RESOURCE, putTags } from '../../resources/ec2/tags.js';

/** Tag keys starting with `aws:` are EC2's: callers may not set or delete them. */
const isReserved = (key: string): boolean => key.toLowerCase().startsWith('aws:');
const reservedKey = (): Ec2Error => new Ec2Error('InvalidParameterValue', "Tag keys starting with 'aws:' are reserved for internal use");

/**
 * Validates tags as EC2 does: key 1–128 chars, value ≤ 256, no `aws:` prefix,
 * ≤ 50; keys and values hold no control characters (domain/text.ts).
 */
export function validateTags(tags: readonly { Key?: string; Value?: string }[] | undefined): Tag[] {
  const out: Tag[] = [];
  for (const t of tags ?? []) {
    const key = t.Key;
    if (key === undefined || key === '') throw new Ec2Error('InvalidParameterValue', 'Tag key must not be empty.');
    checkText('Tag.Key', key);
    if (key.length > 128) {
      throw new Ec2Error('InvalidParameterValue', `Tag key exceeds the maximum length of 128 characters: '${quotable(key, 40)}'`);
    }
    if (isReserved(key)) throw reservedKey();
    const value = t.Value ?? '';
    checkText('Tag.Value', value);
    if (value.length > 256) {
      throw new Ec2Error('InvalidParameterValue', `Tag value exceeds the maximum length of 256 characters for key '${key}'`);
    }
    out.push({ Key: key, Value: value });
  }
  if (out.length > MAX_TAGS_PER_RESOURCE) {
    throw new Ec2Error('TagLimitExceeded', `The maximum number of tags (${MAX_TAGS_PER_RESOURCE}) per resource was exceeded.`);
  }
  return out;
}

/**
 * Tags from `TagSpecifications` for the resource types a create call makes.
 * A specification for a type the call does not create is an error, as in EC2.
 */
export function tagSpecificationTags(
  specs: readonly TagSpecification[] | undefined,
  allowedTypes: readonly string[],
): Map<string, Tag[]> {
  const out = new Map<string, Tag[]>();
  for (const spec of specs ?? []) {
    const type = spec.ResourceType;
    if (type === undefined) throw missingParameter('TagSpecification.N.ResourceType');
    if (!allowedTypes.includes(type)) {
      throw new Ec2Error('InvalidParameterValue', `'${type}' is not a valid taggable resource type for this operation.`);
    }
    if (out.has(type)) {
      throw new Ec2Error('InvalidParameterValue', `The same resource type may not be specified more than once in tag specifications: ${type}`);
    }
    out.set(type, validateTags(spec.Tags));
  }
  return out;
}

/** `Tags` for an output object: undefined when there are none (EC2 omits an empty tagSet). */
export function tagsField(tags: Tag[] | undefined): Tag[] | undefined {
  return tags && tags.length > 0 ? tags : undefined;
}

function checkResources(ctx: RequestContext, resources: readonly string[] | undefined): { id: string; type: string }[] {
  if (!resources || resources.length === 0) throw missingParameter('ResourceId');
  if (resources.length > 1000) throw new Ec2Error('InvalidParameterValue', 'At most 1000 resources may be tagged in one call.');
  return resources.map((id) => {
    const kind = kindOfId(id);
    if (!kind) throw new Ec2Error('InvalidID', `The ID '${id}' is not valid`);
    if (!exists(ctx, kind, id)) throw kind.notFound(id);
    return { id, type: kind.name };
  });
}

const createTags = action((ctx, input: CreateTagsRequest) => {
  const resources = checkResources(ctx, input.Resources);
  if (!input.Tags || input.Tags.length === 0) throw missingParameter('Tag');
  const tags = validateTags(input.Tags);
  for (const r of resources) putTags(ctx, r.id, r.type, tags);
  return {};
});

const deleteTags = action((ctx, input: DeleteTagsRequest) => {
  const resources = checkResources(ctx, input.Resources);
  for (const t of input.Tags ?? []) {
    if (t.Key !== undefined && isReserved(t.Key)) throw reservedKey();
  }
  for (const r of resources) {
    if (!input.Tags || input.Tags.length === 0) {
      // EC2's own tags (aws:ec2launchtemplate:id…) stay
      for (const t of ctx.store.tags.forResource(ctx.region, r.id)) if (!isReserved(t.Key)) ctx.store.tags.remove(ctx.region, r.id, t.Key);
      continue;
    }
    for (const t of input.Tags) {
      if (t.Key === undefined) throw missingParameter('Tag.N.Key');
      ctx.store.tags.remove(ctx.region, r.id, t.Key, t.Value);
    }
  }
  return {};
});

const TAG_FILTERS = filterTable<TagDescription>('DescribeTags', {
  key: 'Key',
  value: 'Value',
  'resource-id': 'ResourceId',
  'resource-type': 'ResourceType',
});

const describeTags = action((ctx, input: DescribeTagsRequest): DescribeTagsResult => {
  const all: TagDescription[] = ctx.store.tags.all(ctx.region).map((t) => ({
    ResourceId: t.resourceId,
    ResourceType: t.resourceType as TagDescription['ResourceType'],
    Key: t.key,
    Value: t.value,
  }));
  const filtered = applyFilters(all, input.Filters, TAG_FILTERS);
  const page = paginate(filtered, input.MaxResults, input.NextToken, { min: 5, max: 1000 });
  return { Tags: page.items, NextToken: page.nextToken };
});

export const tagsModule: ApiModule = {
  actions: { CreateTags: createTags, DeleteTags: deleteTags, DescribeTags: describeTags },
};
