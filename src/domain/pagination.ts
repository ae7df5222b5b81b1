/** MaxResults / NextToken pagination over an ordered list, as EC2 Describe calls do it. */
import { Ec2Error } from './errors.js';

export interface PageLimits {
  /** smallest MaxResults EC2 accepts for this call */
  min: number;
  /** largest MaxResults EC2 accepts for this call */
  max: number;
  /** a MaxResults above max gives max items instead of an error (DescribeVolumes, DescribeSnapshots…) */
  clamp?: boolean;
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

function encodeToken(offset: number, total: number): string {
  return Buffer.from(JSON.stringify({ o: offset, n: total })).toString('base64url');
}

function decodeToken(token: string): number {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { o?: unknown };
    if (typeof v.o === 'number' && Number.isInteger(v.o) && v.o >= 0) return v.o;
  } catch {
    // fall through
  }
  throw new Ec2Error('InvalidPaginationToken', `The pagination token '${token}' is not valid or is expired.`);
}

/**
 * One page of `items`. Without MaxResults and NextToken everything is returned.
 * Out-of-range MaxResults is InvalidParameterValue; a foreign token is InvalidPaginationToken.
 */
export function paginate<T>(
  items: readonly T[],
  maxResults: number | undefined,
  nextToken: string | undefined,
  limits: PageLimits = { min: 5, max: 1000 },
): Page<T> {
  if (limits.clamp && maxResults !== undefined && maxResults > limits.max) maxResults = limits.max;
  if (maxResults !== undefined && (maxResults < limits.min || maxResults > limits.max)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value ( ${maxResults} ) for parameter maxResults is invalid. Expecting a value between ${limits.min} and ${limits.max}.`,
    );
  }
  const start = nextToken !== undefined && nextToken !== '' ? decodeToken(nextToken) : 0;
  if (maxResults === undefined && start === 0) return { items: [...items] };
  const size = maxResults ?? limits.max;
  const slice = items.slice(start, start + size);
  const end = start + slice.length;
  return end < items.length ? { items: slice, nextToken: encodeToken(end, items.length) } : { items: slice };
}
