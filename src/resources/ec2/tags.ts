/** Tags: stored apart from records (see the store), for every kind; the per-resource limit. */
import type { ResourceContext } from '../context.js';
import { Ec2Error } from '../../domain/errors.js';
import type { Tag } from '../../store/store.js';

export const MAX_TAGS_PER_RESOURCE = 50;

/** Stores tags on a resource, keeping the per-resource limit. */
export function putTags(ctx: ResourceContext, resourceId: string, resourceType: string, tags: readonly Tag[]): void {
  if (tags.length === 0) return;
  const existing = ctx.store.tags.forResource(ctx.region, resourceId);
  const keys = new Set(existing.map((t) => t.Key));
  for (const t of tags) keys.add(t.Key);
  if (keys.size > MAX_TAGS_PER_RESOURCE) {
    throw new Ec2Error('TagLimitExceeded', `The maximum number of tags (${MAX_TAGS_PER_RESOURCE}) per resource was exceeded.`);
  }
  ctx.store.tags.set(ctx.region, resourceId, resourceType, tags);
}

/** All tags of one resource type, by id (one query); empty arrays are omitted by callers as EC2 omits tagSet. */
export function tagsByResource(ctx: ResourceContext, resourceType: string): Map<string, Tag[]> {
  return ctx.store.tags.forType(ctx.region, resourceType);
}
