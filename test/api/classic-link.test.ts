/**
 * ClassicLink is retired: every ClassicLink action answers UnsupportedOperation
 * "The functionality you requested is not available in this region.", with or
 * without DryRun, for known and unknown ids alike, and changes nothing.
 */
import * as EC2 from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLASSIC_LINK_ACTIONS, CLASSIC_LINK_RETIRED } from '../../src/api/ec2/classic-link.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

type Send = (input: { vpc: string; instance: string; dryRun?: boolean }) => Promise<unknown>;

describe('ClassicLink (retired)', () => {
  let t: TestServer;
  let c: EC2.EC2Client;
  let vpcId: string;
  let instanceId: string;
  let groupId: string;

  const calls: Record<(typeof CLASSIC_LINK_ACTIONS)[number], Send> = {
    DescribeVpcClassicLink: ({ vpc, dryRun }) => c.send(new EC2.DescribeVpcClassicLinkCommand({ VpcIds: [vpc], DryRun: dryRun })),
    DescribeVpcClassicLinkDnsSupport: ({ vpc }) => c.send(new EC2.DescribeVpcClassicLinkDnsSupportCommand({ VpcIds: [vpc] })),
    EnableVpcClassicLink: ({ vpc, dryRun }) => c.send(new EC2.EnableVpcClassicLinkCommand({ VpcId: vpc, DryRun: dryRun })),
    DisableVpcClassicLink: ({ vpc, dryRun }) => c.send(new EC2.DisableVpcClassicLinkCommand({ VpcId: vpc, DryRun: dryRun })),
    EnableVpcClassicLinkDnsSupport: ({ vpc }) => c.send(new EC2.EnableVpcClassicLinkDnsSupportCommand({ VpcId: vpc })),
    DisableVpcClassicLinkDnsSupport: ({ vpc }) => c.send(new EC2.DisableVpcClassicLinkDnsSupportCommand({ VpcId: vpc })),
    AttachClassicLinkVpc: ({ vpc, instance, dryRun }) =>
      c.send(new EC2.AttachClassicLinkVpcCommand({ VpcId: vpc, InstanceId: instance, Groups: [groupId], DryRun: dryRun })),
    DetachClassicLinkVpc: ({ vpc, instance, dryRun }) =>
      c.send(new EC2.DetachClassicLinkVpcCommand({ VpcId: vpc, InstanceId: instance, DryRun: dryRun })),
    DescribeClassicLinkInstances: ({ instance, dryRun }) =>
      c.send(new EC2.DescribeClassicLinkInstancesCommand({ InstanceIds: [instance], DryRun: dryRun })),
  };

  before(async () => {
    t = await startTestServer();
    c = t.client();
    vpcId = (await c.send(new EC2.CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!.VpcId!;
    const subnetId = (await c.send(new EC2.CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.9.1.0/24' }))).Subnet!.SubnetId!;
    groupId = (await c.send(new EC2.CreateSecurityGroupCommand({ GroupName: 'cl', Description: 'cl', VpcId: vpcId }))).GroupId!;
    const images = await c.send(new EC2.DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'architecture', Values: ['x86_64'] }] }));
    const run = await c.send(
      new EC2.RunInstancesCommand({ ImageId: images.Images![0]!.ImageId!, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: subnetId }),
    );
    instanceId = run.Instances![0]!.InstanceId!;
  });
  after(() => t.close());

  it('covers every ClassicLink action of the API model', () => {
    assert.deepEqual(Object.keys(calls).sort(), [...CLASSIC_LINK_ACTIONS].sort());
  });

  for (const name of CLASSIC_LINK_ACTIONS) {
    it(`${name} answers UnsupportedOperation (400) for a real VPC and instance, for unknown ids, and under DryRun`, async () => {
      for (const input of [
        { vpc: vpcId, instance: instanceId },
        { vpc: 'vpc-0123456789abcdef0', instance: 'i-0123456789abcdef0' },
        { vpc: vpcId, instance: instanceId, dryRun: true },
      ]) {
        const e = await ec2Error(calls[name](input));
        assert.equal(e.code, 'UnsupportedOperation', `${name} ${JSON.stringify(input)}`);
        assert.equal(e.message, CLASSIC_LINK_RETIRED);
        assert.equal(e.status, 400);
      }
    });
  }

  it('changes nothing: the VPC keeps its attributes and the instance its groups', async () => {
    const vpc = (await c.send(new EC2.DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0]!;
    assert.equal(vpc.State, 'available');
    const dns = await c.send(new EC2.DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsSupport' }));
    assert.equal(dns.EnableDnsSupport?.Value, true);
    const inst = (await c.send(new EC2.DescribeInstancesCommand({ InstanceIds: [instanceId] }))).Reservations![0]!.Instances![0]!;
    assert.deepEqual(inst.SecurityGroups?.map((g) => g.GroupId).includes(groupId), false);
  });
});
