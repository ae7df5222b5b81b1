import {
  CreateKeyPairCommand,
  DescribeAccountAttributesCommand,
  DescribeKeyPairsCommand,
  DescribeVpcsCommand,
  DescribeAvailabilityZonesCommand,
  DescribeRegionsCommand,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('regions and zones', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('DescribeRegions lists every commercial region with endpoints', async () => {
    const out = await t.client().send(new DescribeRegionsCommand({}));
    const names = out.Regions!.map((r) => r.RegionName);
    assert.ok(names.length >= 28, `only ${names.length} regions`);
    assert.ok(names.includes('us-east-1') && names.includes('ap-northeast-2') && names.includes('eu-west-1'));
    const seoul = out.Regions!.find((r) => r.RegionName === 'ap-northeast-2')!;
    assert.equal(seoul.Endpoint, 'ec2.ap-northeast-2.amazonaws.com');
    assert.equal(seoul.OptInStatus, 'opt-in-not-required');
  });

  it('DescribeRegions filters by name with wildcards and rejects unknown names', async () => {
    const out = await t.client().send(
      new DescribeRegionsCommand({ Filters: [{ Name: 'region-name', Values: ['eu-west-*'] }] }),
    );
    assert.deepEqual(out.Regions!.map((r) => r.RegionName).sort(), ['eu-west-1', 'eu-west-2', 'eu-west-3']);
    const err = await ec2Error(t.client().send(new DescribeRegionsCommand({ RegionNames: ['mars-north-1'] })));
    assert.equal(err.code, 'InvalidParameterValue');
    const bad = await ec2Error(t.client().send(new DescribeRegionsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })));
    assert.equal(bad.code, 'InvalidParameterValue');
    assert.match(bad.message, /colour/);
  });

  it('DescribeAvailabilityZones answers for the region in the credential scope', async () => {
    const seoul = await t.client('ap-northeast-2').send(new DescribeAvailabilityZonesCommand({}));
    assert.deepEqual(seoul.AvailabilityZones!.map((z) => z.ZoneName), ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c', 'ap-northeast-2d']);
    assert.ok(seoul.AvailabilityZones!.every((z) => z.RegionName === 'ap-northeast-2' && z.State === 'available' && /^apne2-az\d$/.test(z.ZoneId!)));
    const virginia = await t.client('us-east-1').send(new DescribeAvailabilityZonesCommand({ ZoneNames: ['us-east-1b'] }));
    assert.equal(virginia.AvailabilityZones!.length, 1);
    assert.equal(virginia.AvailabilityZones![0]!.ZoneName, 'us-east-1b');
    const byId = await t.client('us-east-1').send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'zone-id', Values: ['use1-az1'] }] }));
    assert.equal(byId.AvailabilityZones!.length, 1);
    const err = await ec2Error(t.client('us-east-1').send(new DescribeAvailabilityZonesCommand({ ZoneNames: ['us-east-1z'] })));
    assert.equal(err.code, 'InvalidParameterValue');
  });

  it('DescribeAccountAttributes reports platforms and limits', async () => {
    const out = await t.client().send(new DescribeAccountAttributesCommand({ AttributeNames: ['supported-platforms'] }));
    assert.equal(out.AccountAttributes!.length, 1);
    assert.deepEqual(out.AccountAttributes![0]!.AttributeValues, [{ AttributeValue: 'VPC' }]);
    const all = await t.client().send(new DescribeAccountAttributesCommand({}));
    assert.ok(all.AccountAttributes!.some((a) => a.AttributeName === 'default-vpc'));
  });

  it('every region has its own state: default VPC, key pairs', async () => {
    await t.client('sa-east-1').send(new CreateKeyPairCommand({ KeyName: 'only-in-sao-paulo' }));
    const there = await t.client('sa-east-1').send(new DescribeKeyPairsCommand({}));
    assert.deepEqual(there.KeyPairs!.map((k) => k.KeyName), ['only-in-sao-paulo']);
    const elsewhere = await t.client('eu-north-1').send(new DescribeKeyPairsCommand({}));
    assert.deepEqual(elsewhere.KeyPairs, []);
    const vpcA = (await t.client('sa-east-1').send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs!;
    const vpcB = (await t.client('eu-north-1').send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs!;
    assert.equal(vpcA.length, 1);
    assert.equal(vpcB.length, 1);
    assert.notEqual(vpcA[0]!.VpcId, vpcB[0]!.VpcId);
    assert.equal(vpcA[0]!.CidrBlock, '172.31.0.0/16');
  });
});
