import { describe, it } from 'node:test';
import assert from 'node:assert/strict';

import {
  applyFilters,
  compilePath,
  filterTable,
  filterTables,
  FilterTable,
  MAX_FILTER_NAME_LENGTH,
  MAX_FILTER_VALUE_LENGTH,
  MAX_FILTER_VALUES,
  shown,
  type Filter,
} from '../../src/domain/filters.js';
import { thrownEc2Error } from '../helpers/ec2-error.js';

interface Thing {
  Id: string;
  Count?: number;
  Enabled?: boolean;
  Attachment?: { InstanceId?: string; DeviceIndex?: number };
  Groups?: { GroupId?: string; Rules?: { Port?: number }[] }[];
  Labels?: string[];
  Tags?: { Key?: string; Value?: string }[];
}

const things: Thing[] = [
  {
    Id: 'a',
    Count: 1,
    Enabled: true,
    Attachment: { InstanceId: 'i-1', DeviceIndex: 0 },
    Groups: [{ GroupId: 'sg-1', Rules: [{ Port: 22 }, { Port: 80 }] }, { GroupId: 'sg-2' }],
    Labels: ['x', 'y'],
    Tags: [
      { Key: 'Name', Value: 'web-1' },
      { Key: 'env', Value: 'prod' },
    ],
  },
  { Id: 'b', Count: 2, Enabled: false, Groups: [{ GroupId: 'sg-2', Rules: [{ Port: 443 }] }], Tags: [{ Key: 'Name', Value: 'db-1' }] },
  { Id: 'c', Attachment: {}, Labels: [], Tags: [{ Key: 'env', Value: '' }] },
];

let tableNo = 0;
const fresh = <C = undefined>(fields: Parameters<typeof filterTable<Thing, C>>[1]) =>
  filterTable<Thing, C>(`TestThings${++tableNo}`, fields);

const TABLE = fresh({
  id: 'Id',
  count: 'Count',
  enabled: 'Enabled',
  'attachment.instance-id': 'Attachment.InstanceId',
  'attachment.device-index': 'Attachment.DeviceIndex',
  'group-id': 'Groups.GroupId',
  'group.port': 'Groups.Rules.Port',
  label: 'Labels',
  computed: (t) => (t.Count === undefined ? 'none' : t.Count > 1 ? 'many' : 'one'),
});

const ids = (filters: Filter[], table: FilterTable<Thing> = TABLE): string[] =>
  applyFilters(things, filters, table, (t) => t.Tags).map((t) => t.Id);

const ec2Code = thrownEc2Error;

describe('filter tables', () => {
  it('no filters keep every item (a copy)', () => {
    assert.deepEqual(ids([]), ['a', 'b', 'c']);
    const out = applyFilters(things, undefined, TABLE);
    assert.notEqual(out, things);
    assert.equal(out.length, 3);
  });

  it('a path reads a field, a nested field, and every element through arrays', () => {
    assert.deepEqual(ids([{ Name: 'id', Values: ['b'] }]), ['b']);
    assert.deepEqual(ids([{ Name: 'attachment.instance-id', Values: ['i-1'] }]), ['a']);
    assert.deepEqual(ids([{ Name: 'group-id', Values: ['sg-2'] }]), ['a', 'b']);
    assert.deepEqual(ids([{ Name: 'group.port', Values: ['80'] }]), ['a']);
    assert.deepEqual(ids([{ Name: 'group.port', Values: ['443'] }]), ['b']);
    assert.deepEqual(ids([{ Name: 'label', Values: ['y'] }]), ['a']);
  });

  it('numbers and booleans compare as their text; an absent value matches nothing, not even *', () => {
    assert.deepEqual(ids([{ Name: 'count', Values: ['2'] }]), ['b']);
    assert.deepEqual(ids([{ Name: 'attachment.device-index', Values: ['0'] }]), ['a']);
    assert.deepEqual(ids([{ Name: 'enabled', Values: ['true'] }]), ['a']);
    assert.deepEqual(ids([{ Name: 'enabled', Values: ['false'] }]), ['b']);
    assert.deepEqual(ids([{ Name: 'enabled', Values: ['*'] }]), ['a', 'b']);
    assert.deepEqual(ids([{ Name: 'attachment.instance-id', Values: ['*'] }]), ['a']);
    assert.deepEqual(ids([{ Name: 'label', Values: ['*'] }]), ['a']);
  });

  it('a function entry computes its value', () => {
    assert.deepEqual(ids([{ Name: 'computed', Values: ['many'] }]), ['b']);
    assert.deepEqual(ids([{ Name: 'computed', Values: ['none', 'one'] }]), ['a', 'c']);
  });

  it('the values of a filter are ORed, filters are ANDed', () => {
    assert.deepEqual(ids([{ Name: 'id', Values: ['a', 'c'] }]), ['a', 'c']);
    assert.deepEqual(ids([{ Name: 'id', Values: ['a', 'nope', 'c?'] }]), ['a']);
    assert.deepEqual(ids([{ Name: 'group-id', Values: ['sg-2'] }, { Name: 'count', Values: ['1'] }]), ['a']);
    assert.deepEqual(ids([{ Name: 'group-id', Values: ['sg-*'] }, { Name: 'id', Values: ['b', 'c'] }]), ['b']);
    assert.deepEqual(ids([{ Name: 'id', Values: ['a'] }, { Name: 'id', Values: ['b'] }]), []);
  });

  it('wildcards and escapes in values', () => {
    assert.deepEqual(ids([{ Name: 'attachment.instance-id', Values: ['i-?'] }]), ['a']);
    assert.deepEqual(ids([{ Name: 'group-id', Values: ['*1'] }]), ['a']);
    assert.deepEqual(ids([{ Name: 'id', Values: ['\\*'] }]), []);
    assert.deepEqual(ids([{ Name: 'id', Values: ['?', 'nothing'] }]), ['a', 'b', 'c']);
  });

  it('tag:<key>, tag-key and tag-value', () => {
    assert.deepEqual(ids([{ Name: 'tag:Name', Values: ['web-1'] }]), ['a']);
    assert.deepEqual(ids([{ Name: 'tag:Name', Values: ['*-1'] }]), ['a', 'b']);
    assert.deepEqual(ids([{ Name: 'tag:Name', Values: ['web-1', 'db-1'] }]), ['a', 'b']);
    assert.deepEqual(ids([{ Name: 'tag:name', Values: ['*'] }]), []); // keys are case-sensitive
    assert.deepEqual(ids([{ Name: 'tag:env', Values: [''] }]), ['c']);
    assert.deepEqual(ids([{ Name: 'tag:env', Values: ['*'] }]), ['a', 'c']);
    assert.deepEqual(ids([{ Name: 'tag-key', Values: ['env'] }]), ['a', 'c']);
    assert.deepEqual(ids([{ Name: 'tag-key', Values: ['N*'] }]), ['a', 'b']);
    assert.deepEqual(ids([{ Name: 'tag-value', Values: ['prod', 'db-?'] }]), ['a', 'b']);
    // a tag filter and a field filter together
    assert.deepEqual(ids([{ Name: 'tag-key', Values: ['Name'] }, { Name: 'count', Values: ['2'] }]), ['b']);
    // The value of tag:<key> belongs to that key: env=prod does not pass tag:Name=prod.
    assert.deepEqual(ids([{ Name: 'tag:Name', Values: ['prod'] }]), []);
  });

  it('without tags, tag filters are unknown filters', () => {
    assert.equal(ec2Code(() => applyFilters(things, [{ Name: 'tag:Name', Values: ['x'] }], TABLE)).code, 'InvalidParameterValue');
    assert.equal(ec2Code(() => applyFilters(things, [{ Name: 'tag-key', Values: ['x'] }], TABLE)).code, 'InvalidParameterValue');
  });

  it('an unknown, empty or valueless filter is InvalidParameterValue', () => {
    const unknown = ec2Code(() => ids([{ Name: 'colour', Values: ['x'] }]));
    assert.deepEqual(unknown, { code: 'InvalidParameterValue', message: "The filter 'colour' is invalid" });
    assert.equal(ec2Code(() => ids([{ Name: '', Values: ['x'] }])).code, 'InvalidParameterValue');
    assert.equal(ec2Code(() => ids([{ Values: ['x'] }])).code, 'InvalidParameterValue');
    assert.deepEqual(ec2Code(() => ids([{ Name: 'id' }])), {
      code: 'InvalidParameterValue',
      message: "The filter 'id' requires at least one value.",
    });
    assert.equal(ec2Code(() => ids([{ Name: 'id', Values: [] }])).code, 'InvalidParameterValue');
    // Names of Object.prototype are not filters (of a table, or of a plain spec).
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      assert.equal(ec2Code(() => ids([{ Name: name, Values: ['*'] }])).code, 'InvalidParameterValue', name);
      const legacy = { id: (t: Thing) => t.Id };
      assert.equal(ec2Code(() => applyFilters(things, [{ Name: name, Values: ['*'] }], legacy)).code, 'InvalidParameterValue', name);
    }
  });

  it('the first error in filter order is the one reported', () => {
    const e = ec2Code(() => ids([{ Name: 'colour', Values: ['x'] }, { Name: 'id' }]));
    assert.equal(e.message, "The filter 'colour' is invalid");
  });

  it('a plain spec of functions still works', () => {
    const spec = { id: (t: Thing) => t.Id, groups: (t: Thing) => (t.Groups ?? []).map((g) => g.GroupId) };
    assert.deepEqual(
      applyFilters(things, [{ Name: 'groups', Values: ['sg-1'] }], spec).map((t) => t.Id),
      ['a'],
    );
  });

  it('function entries get the call\'s context', () => {
    const table = fresh<{ wanted: Set<string> }>({ picked: (t, c) => (c.wanted.has(t.Id) ? 'yes' : 'no') });
    const out = applyFilters(things, [{ Name: 'picked', Values: ['yes'] }], table, undefined, { wanted: new Set(['b', 'c']) });
    assert.deepEqual(out.map((t) => t.Id), ['b', 'c']);
  });

  it('tables are checked when made', () => {
    assert.throws(() => fresh({ bad: '' as 'Id' }), /not a dotted field path/);
    assert.throws(() => fresh({ bad: 'Attachment..InstanceId' as 'Id' }), /not a dotted field path/);
    assert.throws(() => fresh({ bad: '.Id' as 'Id' }), /not a dotted field path/);
    assert.throws(() => fresh({ '': 'Id' }), /empty/);
    filterTable<Thing>('TestDuplicate', { id: 'Id' });
    assert.throws(() => filterTable<Thing>('TestDuplicate', { id: 'Id' }), /exists already/);
    assert.throws(() => compilePath('a b'), /not a dotted field path/);
  });

  it('paths are checked against the item type by the compiler', () => {
    // Only compiled, never run: each line must be a type error.
    const typeChecks = () => {
      // @ts-expect-error no such field
      fresh({ x: 'Attachment.InstanceID' });
      // @ts-expect-error a path must end on a value, not an object
      fresh({ x: 'Attachment' });
      // @ts-expect-error a table whose functions need a context needs one
      applyFilters(things, [], fresh<{ n: number }>({ x: (_t, c) => c.n }));
    };
    assert.equal(typeof typeChecks, 'function');
  });

  it('the tables of the API are all registered, and none is empty', async () => {
    await import('../../src/api/ec2/index.js');
    const actions = [...filterTables.keys()].filter((a) => !a.startsWith('Test'));
    for (const a of [
      'DescribeAddresses',
      'DescribeAvailabilityZones',
      'DescribeImages',
      'DescribeInstanceStatus',
      'DescribeInstanceTypeOfferings',
      'DescribeInstanceTypes',
      'DescribeInstances',
      'DescribeInternetGateways',
      'DescribeKeyPairs',
      'DescribeNetworkAcls',
      'DescribeNetworkInterfaces',
      'DescribeRegions',
      'DescribeRouteTables',
      'DescribeSecurityGroupRules',
      'DescribeSecurityGroups',
      'DescribeSubnets',
      'DescribeTags',
      'DescribeVpcs',
    ]) {
      assert.ok(actions.includes(a), `no filter table for ${a}`);
      assert.ok(filterTables.get(a)!.names.length > 0, a);
    }
    const count = actions.reduce((n, a) => n + filterTables.get(a)!.names.length, 0);
    assert.ok(count >= 280, `${count} filters`);
  });
});

describe('filter limits', () => {
  const table = TABLE;
  const run = (filters: Filter[]) => ec2Code(() => applyFilters(things, filters, table, (t) => t.Tags));

  it(`at most ${MAX_FILTER_VALUES} values in all the filters of a call (FilterLimitExceeded)`, () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
    assert.deepEqual(applyFilters(things, [{ Name: 'id', Values: many(MAX_FILTER_VALUES) }], table), []);
    assert.deepEqual(
      applyFilters(things, [{ Name: 'id', Values: many(150) }, { Name: 'count', Values: many(50) }], table),
      [],
    );
    const e = run([{ Name: 'id', Values: many(MAX_FILTER_VALUES + 1) }]);
    assert.deepEqual(e, { code: 'FilterLimitExceeded', message: 'The maximum number of filter values specified on a single call is 200' });
    assert.equal(run([{ Name: 'id', Values: many(150) }, { Name: 'tag:x', Values: many(51) }]).code, 'FilterLimitExceeded');
    // 201 filters of one value each: the same limit
    assert.equal(run(Array.from({ length: 201 }, () => ({ Name: 'id', Values: ['a'] }))).code, 'FilterLimitExceeded');
  });

  it(`values of at most ${MAX_FILTER_VALUE_LENGTH} characters (FilterLimitExceeded), counted in code points`, () => {
    assert.deepEqual(applyFilters(things, [{ Name: 'id', Values: ['x'.repeat(255)] }], table), []);
    assert.deepEqual(applyFilters(things, [{ Name: 'id', Values: ['😀'.repeat(255)] }], table), []);
    const e = run([{ Name: 'id', Values: ['a', 'x'.repeat(256)] }]);
    assert.deepEqual(e, { code: 'FilterLimitExceeded', message: 'The maximum length for a filter value is 255 characters' });
    assert.equal(run([{ Name: 'id', Values: ['😀'.repeat(256)] }]).code, 'FilterLimitExceeded');
    assert.equal(run([{ Name: 'tag:Name', Values: ['*'.repeat(4 * 1024 * 1024)] }]).code, 'FilterLimitExceeded');
  });

  it(`names of at most ${MAX_FILTER_NAME_LENGTH} characters (FilterLimitExceeded)`, () => {
    assert.deepEqual(applyFilters(things, [{ Name: `tag:${'k'.repeat(1020)}`, Values: ['x'] }], table, (t) => t.Tags), []);
    assert.equal(run([{ Name: `tag:${'k'.repeat(1021)}`, Values: ['x'] }]).code, 'FilterLimitExceeded');
    assert.equal(run([{ Name: 'n'.repeat(4 * 1024 * 1024), Values: ['x'] }]).code, 'FilterLimitExceeded');
  });

  it('messages show client text shortened and without control characters', () => {
    const name = `evil\u0000\n\r\u001b[31m\u2028\u202e${'x'.repeat(900)}`;
    const e = run([{ Name: name, Values: ['x'] }]);
    assert.equal(e.code, 'InvalidParameterValue');
    assert.ok(e.message.length < 200, `${e.message.length} characters`);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(e.message, /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
    assert.match(e.message, /^The filter 'evil\\u\{0\}\\u\{A\}\\u\{D\}\\u\{1B\}\[31m\\u\{2028\}\\u\{202E\}x+…' is invalid$/);
    const valueless = run([{ Name: name }]);
    assert.ok(valueless.message.length < 200);
  });

  it('shown() keeps ordinary text as it is', () => {
    assert.equal(shown('instance-state-name'), 'instance-state-name');
    assert.equal(shown('tag:名前 😀'), 'tag:名前 😀');
    assert.equal(shown('x'.repeat(64)), 'x'.repeat(64));
    assert.equal(shown('x'.repeat(65)), `${'x'.repeat(64)}…`);
    assert.equal(shown('\uD800'), '\\u{D800}');
  });
});
