import { AllocateAddressCommand, DeleteVpcCommand, DescribeAccountAttributesCommand, DescribeVpcsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { ACCOUNT_LIMITS } from '../../src/domain/account-limits.js';

describe('DescribeAccountAttributes', () => {
  let t: TestServer;
  let ec2: EC2Client;
  before(async () => {
    t = await startTestServer({ publicIpPool: '203.0.113.0/28' });
    ec2 = t.client();
  });
  after(() => t.close());

  const values = async (c: EC2Client, names?: string[]): Promise<Map<string, string[]>> => {
    const out = await c.send(new DescribeAccountAttributesCommand({ AttributeNames: names as never }));
    return new Map(out.AccountAttributes!.map((a) => [a.AttributeName!, a.AttributeValues!.map((v) => v.AttributeValue!)]));
  };

  it('lists every attribute with the limits Overcast enforces', async () => {
    const all = await values(ec2);
    assert.deepEqual([...all.keys()].sort(), [
      'default-vpc',
      'max-elastic-ips',
      'max-instances',
      'supported-platforms',
      'vpc-max-elastic-ips',
      'vpc-max-security-groups-per-interface',
    ]);
    assert.deepEqual(all.get('supported-platforms'), ['VPC']);
    assert.deepEqual(all.get('max-instances'), [String(ACCOUNT_LIMITS.maxInstances)]);
    assert.deepEqual(all.get('max-elastic-ips'), [String(ACCOUNT_LIMITS.maxElasticIps)]);
    assert.deepEqual(all.get('vpc-max-elastic-ips'), [String(ACCOUNT_LIMITS.maxElasticIps)]);
    assert.deepEqual(all.get('vpc-max-security-groups-per-interface'), [String(ACCOUNT_LIMITS.maxSecurityGroupsPerInterface)]);
    // the limit answered is the limit enforced: one Elastic IP more than max-elastic-ips is refused
    for (let i = 0; i < ACCOUNT_LIMITS.maxElasticIps; i++) await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const over = await ec2Error(ec2.send(new AllocateAddressCommand({ Domain: 'vpc' })));
    assert.equal(over.code, 'AddressLimitExceeded');
  });

  it('AttributeNames picks attributes; an unknown name is InvalidParameterValue', async () => {
    const two = await values(ec2, ['max-instances', 'supported-platforms', 'max-instances']);
    assert.deepEqual([...two.keys()].sort(), ['max-instances', 'supported-platforms']);
    const bad = await ec2Error(ec2.send(new DescribeAccountAttributesCommand({ AttributeNames: ['max-cats' as never] })));
    assert.equal(bad.code, 'InvalidParameterValue');
    assert.match(bad.message, /max-cats/);
  });

  it('default-vpc is the region\'s own default VPC', async () => {
    const east = (await values(ec2, ['default-vpc'])).get('default-vpc')![0]!;
    const westClient = t.client('eu-west-1');
    const west = (await values(westClient, ['default-vpc'])).get('default-vpc')![0]!;
    assert.match(east, /^vpc-/);
    assert.match(west, /^vpc-/);
    assert.notEqual(east, west);
    const vpcs = await westClient.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }));
    assert.equal(vpcs.Vpcs![0]!.VpcId, west);
    // a default VPC with its default subnets and gateway cannot be deleted in one call; a fresh region without subnets can
    const err = await ec2Error(westClient.send(new DeleteVpcCommand({ VpcId: west })));
    assert.equal(err.code, 'DependencyViolation');
    assert.equal((await values(westClient, ['default-vpc'])).get('default-vpc')![0], west);
  });

  it('DryRun answers DryRunOperation', async () => {
    const dry = await ec2Error(ec2.send(new DescribeAccountAttributesCommand({ DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
  });
});
