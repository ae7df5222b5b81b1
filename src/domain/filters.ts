/**
 * Describe* filters as EC2 evaluates them: filters are ANDed, the values of one
 * filter are ORed, values may hold `*` and `?` wildcards (`\` escapes; see
 * wildcard.ts), and `tag:<key>`, `tag-key`, `tag-value` work on every taggable
 * resource.
 *
 * A resource's filters are data: a table, made once at module load by
 * `filterTable`, from filter name to a field path of the item (`'VpcId'`,
 * `'Attachment.InstanceId'`; a path through an array collects every element's
 * value, so `'SecurityGroups.GroupId'` is every group's id), or to a function
 * where a path cannot say it. Paths are checked against the item's type by the
 * compiler and compiled into getters when the table is made.
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

/** An item's tags, for the tag filters. */
export type TagsOf<T> = (item: T) => readonly TagLike[] | undefined;

/**
 * filter name -> the value(s) of an item that the filter compares against: the
 * form filters had before tables. applyFilters still takes it (it has no paths to
 * parse, only functions), but a module-level `filterTable` is the way.
 */
export type FilterSpec<T> = Readonly<Record<string, (item: T) => FilterValue>>;

// ---------------------------------------------------------------- limits

/**
 * EC2 answers FilterLimitExceeded "The maximum number of filter values specified
 * on a single call is 200": the values of all the call's filters together.
 * Since every filter needs a value, this bounds the number of filters too.
 */
export const MAX_FILTER_VALUES = 200;

/** EC2 answers FilterLimitExceeded "The maximum length for a filter value is 255 characters". */
export const MAX_FILTER_VALUE_LENGTH = 255;

/**
 * EC2 documents no limit on a filter's name. The longest real one is
 * `tag:<key>` with a 128-character key (132); this is generous, and only there
 * so that a name is never megabytes.
 */
export const MAX_FILTER_NAME_LENGTH = 1024;

/** How much of a client's text an error message shows. */
const SHOWN_LENGTH = 64;

/**
 * Client text for an error message: at most SHOWN_LENGTH characters (then `…`),
 * with control, line-separator, bidi-override and lone-surrogate characters
 * shown as `\u{…}` so that a message never carries them raw.
 */
export function shown(text: string): string {
  let out = '';
  let n = 0;
  for (const ch of text) {
    if (n++ === SHOWN_LENGTH) return `${out}…`;
    const cp = ch.codePointAt(0)!;
    const unsafe =
      cp < 0x20 ||
      (cp >= 0x7f && cp <= 0x9f) ||
      cp === 0x2028 ||
      cp === 0x2029 ||
      (cp >= 0x202a && cp <= 0x202e) ||
      (cp >= 0x2066 && cp <= 0x2069) ||
      (cp >= 0xd800 && cp <= 0xdfff) ||
      cp === 0xfeff;
    out += unsafe ? `\\u{${cp.toString(16).toUpperCase()}}` : ch;
  }
  return out;
}

/** Whether `text` has more than `max` code points (without counting far past it). */
function longerThan(text: string, max: number): boolean {
  if (text.length <= max) return false;
  if (text.length > 2 * max) return true;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    if (++n > max) return true;
  }
  return false;
}

// ---------------------------------------------------------------- paths

/** What a path may end on (the SDK types timestamps as Date; records hold the ISO text, shown as it is). */
type Leaf = string | number | boolean | bigint | Date;

type Element<V> = V extends readonly (infer E)[] ? E : V;

/** Depths left, to keep the path type finite. */
type Fewer = [never, 0, 1, 2, 3, 4, 5];

/**
 * The dotted field paths of T that end on a scalar (or a list of them); a step
 * through an array goes to its elements. Depth-limited.
 */
export type FieldPath<T, D extends number = 5> = [D] extends [never]
  ? never
  : T extends object
    ? { [K in keyof T & string]-?: PathThrough<NonNullable<Element<NonNullable<T[K]>>>, K, Fewer[D]> }[keyof T & string]
    : never;

type PathThrough<V, K extends string, D extends number> = V extends Leaf
  ? K
  : V extends (...args: never[]) => unknown
    ? never
    : V extends object
      ? `${K}.${FieldPath<V, D>}`
      : never;

/** One table entry: a field path, or a function of the item (and the call's context) for what a path cannot say. */
export type FilterField<T, C> = FieldPath<T> | ((item: T, ctx: C) => FilterValue);

export type FilterFields<T, C> = Readonly<Record<string, FilterField<T, C>>>;

/** Whether some value the getter yields passes `test`. */
type Visit<T, C> = (item: T, ctx: C, test: (value: string) => boolean) => boolean;

/** Visits a value as the filter sees it: nothing for undefined/null, each element of a list, a scalar as text. */
function visitValue(v: unknown, test: (value: string) => boolean): boolean {
  if (v === undefined || v === null) return false;
  if (Array.isArray(v)) {
    for (const e of v) if (visitValue(e, test)) return true;
    return false;
  }
  return test(String(v));
}

type Step = (v: unknown, test: (value: string) => boolean) => boolean;

/** A getter step for `key` that goes through arrays element by element, then on to `next`. */
function fieldStep(key: string, next: Step): Step {
  const step: Step = (v, test) => {
    if (v === undefined || v === null) return false;
    if (Array.isArray(v)) {
      for (const e of v) if (step(e, test)) return true;
      return false;
    }
    return next((v as Record<string, unknown>)[key], test);
  };
  return step;
}

const PATH = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;

/** Compiles a dotted path into a getter (once, when a table is made). */
export function compilePath(path: string): Step {
  if (!PATH.test(path)) throw new Error(`filter path ${JSON.stringify(path)} is not a dotted field path`);
  return path.split('.').reduceRight<Step>((next, key) => fieldStep(key, next), visitValue);
}

// ---------------------------------------------------------------- tables

/** A resource's filters, compiled. */
export class FilterTable<T, C = undefined> {
  /** filter name -> its path, for the entries given as paths */
  readonly paths: ReadonlyMap<string, string>;
  private readonly visits: ReadonlyMap<string, Visit<T, C>>;

  constructor(
    /** the Describe action the table is for (names the table in tests and errors) */
    readonly action: string,
    fields: FilterFields<T, C>,
  ) {
    const paths = new Map<string, string>();
    const visits = new Map<string, Visit<T, C>>();
    for (const [name, field] of Object.entries(fields) as [string, FilterField<T, C>][]) {
      if (name === '') throw new Error(`${action}: a filter name is empty`);
      if (typeof field === 'function') {
        visits.set(name, (item, ctx, test) => visitValue(field(item, ctx), test));
      } else {
        let step: Step;
        try {
          step = compilePath(field);
        } catch (e) {
          throw new Error(`${action}, filter '${name}': ${(e as Error).message}`);
        }
        paths.set(name, field);
        visits.set(name, (item, _ctx, test) => step(item, test));
      }
    }
    this.paths = paths;
    this.visits = visits;
  }

  get names(): readonly string[] {
    return [...this.visits.keys()];
  }

  /** The getter of a filter name, or undefined when the table has no such filter. */
  visitor(name: string): Visit<T, C> | undefined {
    return this.visits.get(name);
  }
}

const tables = new Map<string, FilterTable<unknown, unknown>>();

/** Every table made so far, by action (for tests that go over them all). */
export const filterTables: ReadonlyMap<string, FilterTable<unknown, unknown>> = tables;

/**
 * Makes a resource's filter table (call it once, at module load). `C` is what
 * function entries get besides the item: data the call has looked up, passed to
 * applyFilters.
 */
export function filterTable<T, C = undefined>(action: string, fields: FilterFields<T, C>): FilterTable<T, C> {
  if (tables.has(action)) throw new Error(`a filter table for ${action} exists already`);
  const table = new FilterTable<T, C>(action, fields);
  tables.set(action, table as FilterTable<unknown, unknown>);
  return table;
}

// ---------------------------------------------------------------- applying

/** A test of one text against a filter's values (ORed). */
function valueTest(patterns: readonly WildcardPattern[]): (value: string) => boolean {
  const literals = new Set<string>();
  const globs: WildcardPattern[] = [];
  for (const p of patterns) {
    if (p.literal !== undefined) literals.add(p.literal);
    else globs.push(p);
  }
  if (globs.length === 0) {
    if (literals.size === 1) {
      const only = literals.values().next().value as string;
      return (v) => v === only;
    }
    return (v) => literals.has(v);
  }
  return (v) => {
    if (literals.has(v)) return true;
    for (const g of globs) if (g.matches(v)) return true;
    return false;
  };
}

/** Checks one filter's name against EC2's limits. */
function checkName(name: string | undefined): asserts name is string {
  if (name === undefined || name === '') {
    throw new Ec2Error('InvalidParameterValue', 'The filter name must not be empty.');
  }
  if (longerThan(name, MAX_FILTER_NAME_LENGTH)) {
    throw new Ec2Error('FilterLimitExceeded', `The maximum length for a filter name is ${MAX_FILTER_NAME_LENGTH} characters`);
  }
}

/** Checks one filter's values against EC2's limits (`before`: the values of the filters before it); their test. */
function valuesTest(name: string, values: readonly string[], before: number): (value: string) => boolean {
  if (values.length === 0) {
    throw new Ec2Error('InvalidParameterValue', `The filter '${shown(name)}' requires at least one value.`);
  }
  if (before + values.length > MAX_FILTER_VALUES) {
    throw new Ec2Error('FilterLimitExceeded', `The maximum number of filter values specified on a single call is ${MAX_FILTER_VALUES}`);
  }
  for (const v of values) {
    if (longerThan(v, MAX_FILTER_VALUE_LENGTH)) {
      throw new Ec2Error('FilterLimitExceeded', `The maximum length for a filter value is ${MAX_FILTER_VALUE_LENGTH} characters`);
    }
  }
  return valueTest(values.map(compileWildcard));
}

/**
 * Keeps the items that pass every filter. `tagsOf` gives an item's tags (for
 * tag filters); `ctx` is what the table's functions get besides the item. An
 * unknown filter name is `InvalidParameterValue` as in EC2; too many or too long
 * values are `FilterLimitExceeded`.
 */
export function applyFilters<T>(
  items: readonly T[],
  filters: readonly Filter[] | undefined,
  table: FilterTable<T, undefined> | FilterSpec<T>,
  tagsOf?: TagsOf<T>,
): T[];
export function applyFilters<T, C>(
  items: readonly T[],
  filters: readonly Filter[] | undefined,
  table: FilterTable<T, C>,
  tagsOf: TagsOf<T> | undefined,
  ctx: C,
): T[];
export function applyFilters<T, C>(
  items: readonly T[],
  filters: readonly Filter[] | undefined,
  table: FilterTable<T, C> | FilterSpec<T>,
  tagsOf?: TagsOf<T>,
  ctx?: C,
): T[] {
  if (!filters || filters.length === 0) return [...items];
  const lookup: (name: string) => Visit<T, C> | undefined =
    table instanceof FilterTable
      ? (name) => table.visitor(name)
      : (name) => {
          const get = Object.hasOwn(table, name) ? table[name] : undefined;
          return get && ((item, _ctx, test) => visitValue(get(item), test));
        };
  const tests: ((item: T) => boolean)[] = [];
  let valueCount = 0;
  for (const f of filters) {
    const name = f.Name;
    checkName(name);
    const values = f.Values ?? [];
    const test = valuesTest(name, values, valueCount);
    valueCount += values.length;
    if (tagsOf && name.startsWith('tag:')) {
      const key = name.slice(4);
      tests.push((item) => (tagsOf(item) ?? []).some((t) => t.Key === key && test(t.Value ?? '')));
    } else if (tagsOf && name === 'tag-key') {
      tests.push((item) => (tagsOf(item) ?? []).some((t) => test(t.Key ?? '')));
    } else if (tagsOf && name === 'tag-value') {
      tests.push((item) => (tagsOf(item) ?? []).some((t) => test(t.Value ?? '')));
    } else {
      const visit = lookup(name);
      if (!visit) throw new Ec2Error('InvalidParameterValue', `The filter '${shown(name)}' is invalid`);
      tests.push((item) => visit(item, ctx as C, test));
    }
  }
  return items.filter((item) => tests.every((t) => t(item)));
}

/** Whether `actual` matches the filter value `pattern` (wildcards as in EC2). */
export function matchesPattern(pattern: string, actual: string): boolean {
  return compileWildcard(pattern).matches(actual);
}
