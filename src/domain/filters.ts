/**
 * Describe* filters as EC2 evaluates them: filters are ANDed, the values of one
 * filter are ORed, values may hold `*` and `?` wildcards (`\` escapes), and
 * `tag:<key>`, `tag-key`, `tag-value` work on every taggable resource.
 */
import { Ec2Error } from './errors.js';
import { compileWildcard, type WildcardPattern } from './wildcard.js';

export interface Filter {
  Name?: string;
  Values?: string[];
}

export interface TagLike {
  Key?: string;
  Value?: string;
}

type Scalar = string | number | boolean | undefined | null;
export type FilterValue = Scalar | readonly Scalar[];

/** filter name -> the value(s) of an item that the filter compares against */
export type FilterSpec<T> = Readonly<Record<string, (item: T) => FilterValue>>;

/** Whether `actual` matches the filter value `pattern` (wildcards as in EC2, see wildcard.ts). */
export function matchesPattern(pattern: string, actual: string): boolean {
  return compileWildcard(pattern).matches(actual);
}

function toStrings(v: FilterValue): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return (v as readonly Scalar[]).flatMap((x) => toStrings(x));
  return [String(v)];
}

function anyMatch(patterns: readonly WildcardPattern[], actual: readonly string[]): boolean {
  for (const a of actual) for (const p of patterns) if (p.matches(a)) return true;
  return false;
}

/**
 * Keeps the items that pass every filter. `tagsOf` gives an item's tags (for
 * tag filters); an unknown filter name is `InvalidParameterValue` as in EC2.
 */
export function applyFilters<T>(
  items: readonly T[],
  filters: readonly Filter[] | undefined,
  spec: FilterSpec<T>,
  tagsOf?: (item: T) => readonly TagLike[] | undefined,
): T[] {
  if (!filters || filters.length === 0) return [...items];
  const tests: ((item: T) => boolean)[] = [];
  for (const f of filters) {
    const name = f.Name;
    if (name === undefined || name === '') {
      throw new Ec2Error('InvalidParameterValue', 'The filter name must not be empty.');
    }
    if ((f.Values ?? []).length === 0) {
      throw new Ec2Error('InvalidParameterValue', `The filter '${name}' requires at least one value.`);
    }
    const values = f.Values!.map(compileWildcard);
    if (tagsOf && name.startsWith('tag:')) {
      const key = name.slice(4);
      tests.push((item) => (tagsOf(item) ?? []).some((t) => t.Key === key && anyMatch(values, [t.Value ?? ''])));
    } else if (tagsOf && name === 'tag-key') {
      tests.push((item) => anyMatch(values, (tagsOf(item) ?? []).map((t) => t.Key ?? '')));
    } else if (tagsOf && name === 'tag-value') {
      tests.push((item) => anyMatch(values, (tagsOf(item) ?? []).map((t) => t.Value ?? '')));
    } else {
      const get = spec[name];
      if (!get) throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
      tests.push((item) => anyMatch(values, toStrings(get(item))));
    }
  }
  return items.filter((item) => tests.every((t) => t(item)));
}
