/** Describe* filters through the SDK: values ORed, filters ANDed, tags, EC2's limits, and wildcards that cannot stall the server. */
import {
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeRegionsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('Describe* filters through the SDK', () => {
  let t: TestServer;
  let c: EC2Client;
  let web: string;
  let db: string;
  let long: string;

  before(async () => {
    t = await startTestServer();
    c = t.client();
    const make = async (cidr: string, tags: Record<string, string>) => {
      const id = (await c.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
      await c.send(new CreateTagsCommand({ Resources: [id], Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
      return id;
    };
    web = await make('10.1.0.0/16', { Name: 'web', env: 'prod', team: 'a' });
    db = await make('10.2.0.0/16', { Name: 'db', env: 'test' });
    long = await make('10.3.0.0/16', { Name: 'a'.repeat(256) });
  });

  after(async () => {
    await t.close();
  });

  const vpcIds = async (Filters: { Name: string; Values: string[] }[]): Promise<string[]> => {
    const out = await c.send(new DescribeVpcsCommand({ Filters }));
    return (out.Vpcs ?? []).map((v) => v.VpcId!).filter((id) => [web, db, long].includes(id)).sort();
  };
  const sorted = (...ids: string[]) => [...ids].sort();

  it('ORs the values of a filter and ANDs the filters', async () => {
    assert.deepEqual(await vpcIds([{ Name: 'tag:Name', Values: ['web', 'db'] }]), sorted(web, db));
    assert.deepEqual(await vpcIds([{ Name: 'cidr', Values: ['10.1.0.0/16', '10.3.0.0/16'] }]), sorted(web, long));
    assert.deepEqual(
      await vpcIds([
        { Name: 'cidr', Values: ['10.1.0.0/16', '10.2.0.0/16'] },
        { Name: 'tag:env', Values: ['test'] },
      ]),
      [db],
    );
    assert.deepEqual(
      await vpcIds([
        { Name: 'tag:Name', Values: ['web'] },
        { Name: 'tag:env', Values: ['test'] },
      ]),
      [],
    );
  });

  it('tag:<key>, tag-key and tag-value, with wildcards', async () => {
    assert.deepEqual(await vpcIds([{ Name: 'tag:env', Values: ['*'] }]), sorted(web, db));
    assert.deepEqual(await vpcIds([{ Name: 'tag:Name', Values: ['?b'] }]), [db]);
    assert.deepEqual(await vpcIds([{ Name: 'tag-key', Values: ['team'] }]), [web]);
    assert.deepEqual(await vpcIds([{ Name: 'tag-key', Values: ['e*'] }]), sorted(web, db));
    assert.deepEqual(await vpcIds([{ Name: 'tag-value', Values: ['prod', 'te?t'] }]), sorted(web, db));
    assert.deepEqual(await vpcIds([{ Name: 'tag-value', Values: ['a*a'] }]), [long]);
    const tags = await c.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['env'] }, { Name: 'value', Values: ['p*'] }] }));
    assert.deepEqual(tags.Tags!.map((x) => x.ResourceId), [web]);
  });

  it('answers a pathological wildcard over a long tag value, and another request meanwhile', { timeout: 60_000 }, async () => {
    const patho = c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: ['*a*a*a*a*a*a*a*a*b'] }] }));
    const other = c.send(new DescribeRegionsCommand({}));
    const [p, o] = await Promise.all([patho, other]);
    assert.deepEqual(p.Vpcs, []);
    assert.ok(o.Regions!.length > 0);
    assert.deepEqual(await vpcIds([{ Name: 'tag:Name', Values: ['*a*a*a*a*a*a*a*a*'] }]), [long]);
  });

  it(`more than 200 filter values in a call is FilterLimitExceeded`, async () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => `vpc-${i.toString(16).padStart(8, '0')}`);
    assert.deepEqual(await vpcIds([{ Name: 'vpc-id', Values: many(200) }]), []);
    const e = await ec2Error(c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'vpc-id', Values: many(201) }] })));
    assert.equal(e.code, 'FilterLimitExceeded');
    assert.equal(e.status, 400);
    assert.equal(e.message, 'The maximum number of filter values specified on a single call is 200');
    const split = await ec2Error(
      c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'vpc-id', Values: many(120) }, { Name: 'tag:Name', Values: many(81) }] })),
    );
    assert.equal(split.code, 'FilterLimitExceeded');
  });

  it('a filter value longer than 255 characters is FilterLimitExceeded, without the value in the message', async () => {
    assert.deepEqual(await vpcIds([{ Name: 'tag:Name', Values: ['a'.repeat(255)] }]), []);
    const e = await ec2Error(c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'tag:Name', Values: ['a'.repeat(256)] }] })));
    assert.equal(e.code, 'FilterLimitExceeded');
    assert.equal(e.message, 'The maximum length for a filter value is 255 characters');
    const big = await ec2Error(c.send(new DescribeRegionsCommand({ Filters: [{ Name: 'region-name', Values: ['x'.repeat(1024 * 1024)] }] })));
    assert.equal(big.code, 'FilterLimitExceeded');
    assert.ok(big.message.length < 100);
  });

  it('an unknown filter name is InvalidParameterValue, shown short and safe', async () => {
    const name = `colour\u0007${'z'.repeat(900)}`;
    const e = await ec2Error(c.send(new DescribeVpcsCommand({ Filters: [{ Name: name, Values: ['x'] }] })));
    assert.equal(e.code, 'InvalidParameterValue');
    assert.ok(e.message.length < 120, e.message);
    assert.ok(!e.message.includes('\u0007'));
    assert.match(e.message, /^The filter 'colour\\u\{7\}z+…' is invalid$/);
    const longName = await ec2Error(c.send(new DescribeVpcsCommand({ Filters: [{ Name: `tag:${'k'.repeat(2000)}`, Values: ['x'] }] })));
    assert.equal(longName.code, 'FilterLimitExceeded');
  });
});
