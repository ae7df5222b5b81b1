/**
 * The steps every Describe and Create of the records-only families takes the
 * same way: the records a call names (each must exist) or all of the
 * region's, with their tags, filtered; a new record stored with its tags and
 * handed to the reconcile loop.
 */
import { applyFilters, type Filter, type FilterTable } from '../../domain/filters.js';
import type { Tag } from '../../store/store.js';
import type { RequestContext } from '../context.js';
import type { Ec2Kind } from '../../resources/ec2/kinds.js';
import { requireResources } from '../../resources/ec2/registry.js';
import { putTags, tagsByResource } from '../../resources/ec2/tags.js';

export interface Described<T> {
  records: T[];
  tags: Map<string, Tag[]>;
}

/** The named records (EC2's NotFound for any missing) or every one of the region, filtered, with the kind's tags. */
export function describeStored<T, C = undefined>(
  ctx: RequestContext,
  kind: Ec2Kind<T>,
  idOf: (r: T) => string,
  ids: readonly string[] | undefined,
  filters: readonly Filter[] | undefined,
  table: FilterTable<T, C>,
  world?: C,
): Described<T> {
  const records = ids !== undefined && ids.length > 0 ? requireResources(ctx, kind, ids) : ctx.store.collection(kind).list(ctx.region);
  const tags = tagsByResource(ctx, kind.name);
  return { records: applyFilters(records, filters, table, (r) => tags.get(idOf(r)), world as C), tags };
}

/** Stores a new record and its tags, and tells the reconcile loop (record-states) about it. */
export function insertStored<T>(ctx: RequestContext, kind: Ec2Kind<T>, id: string, record: T, tags: readonly Tag[]): void {
  ctx.store.collection(kind).put(ctx.region, id, record);
  putTags(ctx, id, kind.name, tags);
  ctx.notify(kind.name, id);
}

/** Stores a changed record and tells the reconcile loop (record-states) about it. */
export function saveStored<T>(ctx: RequestContext, kind: Ec2Kind<T>, id: string, record: T): void {
  ctx.store.collection(kind).put(ctx.region, id, record);
  ctx.notify(kind.name, id);
}
