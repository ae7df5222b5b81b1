/**
 * Describe* filters as EC2 evaluates them: filters are ANDed, the values of one
 * filter are ORed, values may hold `*` and `?` wildcards (`\` escapes), and
 * `tag:<key>`, `tag-key`, `tag-value` work on every taggable resource.
 */
import { Ec2Error } from './errors.js';

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

const patternCache = new Map<string, RegExp | string>();

/** A matcher for one filter value: a plain string when there is no wildcard. */
function compile(value: string): RegExp | string {
  let c = patternCache.get(value);
  if (c !== undefined) return c;
  if (!/[*?\\]/.test(value)) {
    c = value;
  } else {
    let re = '^';
    for (let i = 0; i < value.length; i++) {
      const ch = value[i]!;
      if (ch === '\\' && i + 1 < value.length) re += escapeRe(value[++i]!);
      else if (ch === '*') re += '[\\s\\S]*';
      else if (ch === '?') re += '[\\s\\S]';
      else re += escapeRe(ch);
    }
    c = new RegExp(re + '$');
  }
  if (patternCache.size > 10_000) patternCache.clear();
  patternCache.set(value, c);
  return c;
}

function escapeRe(ch: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(ch) ? `\\${ch}` : ch;
}

export function matchesPattern(pattern: string, actual: string): boolean {
  const m = compile(pattern);
  return typeof m === 'string' ? m === actual : m.test(actual);
}

function toStrings(v: FilterValue): string[] {
  if (v === undefined || v === null) return [];
  if (Array.isArray(v)) return (v as readonly Scalar[]).flatMap((x) => toStrings(x));
  return [String(v)];
}

function anyMatch(patterns: readonly string[], actual: readonly string[]): boolean {
  for (const a of actual) for (const p of patterns) if (matchesPattern(p, a)) return true;
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
    const values = f.Values ?? [];
    if (values.length === 0) {
      throw new Ec2Error('InvalidParameterValue', `The filter '${name}' requires at least one value.`);
    }
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
