/**
 * "Does this id exist?", answered in one place for tags and every resource
 * family: an id is checked against its kind's prefix (EC2's Malformed error)
 * and looked up in its kind's collection (EC2's NotFound error).
 */
import { Ec2Error } from '../../domain/errors.js';
import { idPrefix, isWellFormedId } from '../../domain/ids.js';
import type { KindSpec } from '../../store/kind.js';
import type { ResourceContext } from '../context.js';
import { kindOfPrefix, type AnyEc2Kind, type Ec2Kind } from './kinds.js';

/** Throws the kind's Malformed error unless `id` is a well-formed id of that kind. */
export function requireWellFormed(kind: Pick<Ec2Kind<unknown>, 'prefix' | 'malformed'>, id: string): void {
  if (!isWellFormedId(kind.prefix, id)) throw kind.malformed(id);
}

/** Loads a resource by id, throwing EC2's Malformed / NotFound errors. */
export function requireResource<T>(ctx: ResourceContext, kind: Ec2Kind<T>, id: string): T {
  requireWellFormed(kind, id);
  const found = ctx.store.collection(kind).get(ctx.region, id);
  if (found === undefined) throw kind.notFound(id);
  return found;
}

/**
 * Loads the resources named in an id filter list (e.g. InstanceIds): every id must be
 * well formed and exist; EC2 reports all missing ids of a call in one message.
 */
export function requireResources<T>(ctx: ResourceContext, kind: Ec2Kind<T>, ids: readonly string[]): T[] {
  for (const id of ids) requireWellFormed(kind, id);
  const col = ctx.store.collection(kind);
  const out: T[] = [];
  const missing: string[] = [];
  for (const id of new Set(ids)) {
    const v = col.get(ctx.region, id);
    if (v === undefined) missing.push(id);
    else out.push(v);
  }
  if (missing.length === 1) throw kind.notFound(missing[0]!);
  if (missing.length > 1) {
    const err = kind.notFound(missing.join(', '));
    throw new Ec2Error(err.code, err.message.replace(/^The (.*?) '(.*)' does not exist$/, "The $1s '$2' do not exist"));
  }
  return out;
}

/** Whether a resource of this kind and id exists in the caller's region. */
export function exists(ctx: ResourceContext, kind: KindSpec<unknown>, id: string): boolean {
  return ctx.store.collection(kind).get(ctx.region, id) !== undefined;
}

/** The kind of an arbitrary well-formed id, for calls like CreateTags that take any resource. */
export function kindOfId(id: string): AnyEc2Kind | undefined {
  const p = idPrefix(id);
  const k = p === undefined ? undefined : kindOfPrefix(p);
  return k && isWellFormedId(k.prefix, id) ? k : undefined;
}
