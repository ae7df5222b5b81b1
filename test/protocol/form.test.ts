import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseForm } from '../../src/protocol/query-endpoint.js';

describe('form body parsing', () => {
  it('reads application/x-www-form-urlencoded exactly as URLSearchParams does', () => {
    const cases = [
      'a=1&b=2',
      'Action=DescribeRegions&Version=2016-11-15',
      '%%%&&==&Action=%ZZ',
      'a=%E2%98%81&b=x+y&c',
      '=v&k=',
      'a=1&a=2',
      'x=%41%zz%42',
      '&&',
      '',
      'Filter.1.Value.1=a%26b%3Dc&Tag.1.Value=%F0%9F%98%80+%2B',
    ];
    for (const c of cases) {
      const ours = new Map<string, string>();
      parseForm(c, ours);
      const reference = new Map<string, string>();
      for (const [k, v] of new URLSearchParams(c)) reference.set(k, v);
      assert.deepEqual([...ours], [...reference], c);
    }
  });
});
