/**
 * EC2 filter wildcards, matched without backtracking.
 *
 * A pattern's `*` matches any sequence of characters (the empty one too), `?`
 * exactly one character, and `\` makes the next character literal (`\*`, `\?`,
 * `\\`; `\x` is `x`). A lone `\` at the end stands for itself. A pattern with no
 * unescaped `*` or `?` is a literal: it matches exactly its unescaped text.
 *
 * "Character" means a Unicode code point: `?` matches an astral character such
 * as "😀" (two UTF-16 units) as one character, and a literal never matches half
 * of a surrogate pair. A lone surrogate (which no UTF-8 request can carry) counts
 * as one character of its own.
 *
 * The matcher splits the pattern at its stars into segments (runs of literals and
 * `?`): the first must match at the start, the last at the end, and each one in
 * between at its leftmost place after the previous one. Leftmost placement is
 * always safe with globs, so nothing is ever retried: the work is at most
 * (text length) × (pattern length) character comparisons, never exponential, and
 * linear for the usual patterns (`prefix*`, `*suffix`, `*infix*`).
 */

/** A token of a segment: a code point, or ANY_ONE for `?`. */
const ANY_ONE = -1;

/** Character comparisons made by every match so far (for tests that bound the work). */
export const wildcardWork = { steps: 0 };

export interface WildcardPattern {
  /** The pattern's text as given. */
  readonly source: string;
  /** The unescaped text when the pattern has no wildcard (then it matches only that string). */
  readonly literal: string | undefined;
  matches(text: string): boolean;
}

/** Compiles a filter value; cheap (one pass over the pattern), so nothing is cached. */
export function compileWildcard(source: string): WildcardPattern {
  // Fast path: nothing special at all.
  if (!/[*?\\]/.test(source)) return new Literal(source, source);
  const segments: number[][] = [[]];
  let wild = false;
  let unescaped = ''; // the text, should there be no wildcard
  for (let i = 0; i < source.length; ) {
    let cp = source.codePointAt(i)!;
    let width = cp > 0xffff ? 2 : 1;
    if (cp === 0x5c /* \ */ && i + 1 < source.length) {
      i += 1;
      cp = source.codePointAt(i)!;
      width = cp > 0xffff ? 2 : 1;
    } else if (cp === 0x2a /* * */) {
      wild = true;
      segments.push([]);
      i += 1;
      continue;
    } else if (cp === 0x3f /* ? */) {
      wild = true;
      segments[segments.length - 1]!.push(ANY_ONE);
      i += 1;
      continue;
    }
    segments[segments.length - 1]!.push(cp);
    if (!wild) unescaped += source.slice(i, i + width);
    i += width;
  }
  if (!wild) return new Literal(source, unescaped);
  return new Glob(source, segments.map((s) => Int32Array.from(s)));
}

/** Whether `text` matches the EC2 wildcard `pattern` (compiles it each call: prefer compileWildcard). */
export function matchesWildcard(pattern: string, text: string): boolean {
  return compileWildcard(pattern).matches(text);
}

class Literal implements WildcardPattern {
  constructor(
    readonly source: string,
    readonly literal: string,
  ) {}
  matches(text: string): boolean {
    return text === this.literal;
  }
}

class Glob implements WildcardPattern {
  readonly literal = undefined;
  /** segments[0] before the first star, the last one after the last star (either may be empty) */
  private readonly first: Int32Array;
  private readonly middle: readonly Int32Array[];
  private readonly last: Int32Array | undefined;

  constructor(
    readonly source: string,
    segments: Int32Array[],
  ) {
    this.first = segments[0]!;
    // With no star there is one segment, matched whole; with stars, first … last.
    this.last = segments.length > 1 ? segments[segments.length - 1]! : undefined;
    this.middle = segments.slice(1, -1).filter((s) => s.length > 0);
  }

  matches(text: string): boolean {
    const end = text.length;
    const afterFirst = matchAt(text, 0, end, this.first);
    if (afterFirst < 0) return false;
    if (this.last === undefined) return afterFirst === end; // only `?`s and literals
    // The last segment is anchored at the end: it starts as many characters back as it has tokens.
    const lastStart = backCodePoints(text, end, this.last.length);
    if (lastStart < afterFirst) return false;
    if (matchAt(text, lastStart, end, this.last) !== end) return false;
    let pos = afterFirst;
    for (const seg of this.middle) {
      pos = findLeftmost(text, pos, lastStart, seg);
      if (pos < 0) return false;
    }
    return true;
  }
}

/**
 * Matches `seg` at `pos` (a code-point boundary) within text[..limit]; the index
 * just after the match, or -1.
 */
function matchAt(text: string, pos: number, limit: number, seg: Int32Array): number {
  for (let k = 0; k < seg.length; k++) {
    wildcardWork.steps++;
    if (pos >= limit) return -1;
    const cp = text.codePointAt(pos)!;
    const width = cp > 0xffff ? 2 : 1;
    if (pos + width > limit) return -1;
    const want = seg[k]!;
    if (want !== ANY_ONE && want !== cp) return -1;
    pos += width;
  }
  return pos;
}

/** The end of the leftmost match of `seg` starting at or after `from` and ending by `limit`, or -1. */
function findLeftmost(text: string, from: number, limit: number, seg: Int32Array): number {
  for (let start = from; start < limit; ) {
    const after = matchAt(text, start, limit, seg);
    if (after >= 0) return after;
    start += text.codePointAt(start)! > 0xffff ? 2 : 1;
  }
  return -1;
}

/** The index `count` code points before `end`, or -1 when the text is shorter. */
function backCodePoints(text: string, end: number, count: number): number {
  let i = end;
  for (let n = 0; n < count; n++) {
    wildcardWork.steps++;
    if (i <= 0) return -1;
    const low = text.charCodeAt(i - 1);
    if (low >= 0xdc00 && low <= 0xdfff && i >= 2) {
      const high = text.charCodeAt(i - 2);
      i -= high >= 0xd800 && high <= 0xdbff ? 2 : 1;
    } else {
      i -= 1;
    }
  }
  return i;
}
