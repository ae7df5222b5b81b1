import {
  CreateDefaultSubnetCommand,
  CreateDefaultVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeInternetGatewaysCommand,
  DescribeSubnetsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('CreateDefaultVpc / CreateDefaultSubnet', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const defaultVpc = async (c: EC2Client) => (await c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0];
  /** What a default VPC looks like, without its ids. */
  async function layout(c: EC2Client, vpcId: string) {
    const vpc = (await c.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0]!;
    const subnets = (await c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets!;
    const igws = (await c.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }))).InternetGateways!;
    const hostnames = (await c.send(new DescribeVpcAttributeCommand({ VpcId: vpcId, Attribute: 'enableDnsHostnames' }))).EnableDnsHostnames?.Value;
    return {
      cidr: vpc.CidrBlock,
      isDefault: vpc.IsDefault,
      dhcp: vpc.DhcpOptionsId?.startsWith('dopt-'),
      hostnames,
      gateways: igws.length,
      subnets: subnets.map((s) => `${s.AvailabilityZone} ${s.CidrBlock} public=${s.MapPublicIpOnLaunch} default=${s.DefaultForAz}`).sort(),
    };
  }
  async function tearDown(c: EC2Client, vpcId: string) {
    for (const s of (await c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets!) {
      await c.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
    }
    for (const g of (await c.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }] }))).InternetGateways!) {
      await c.send(new DetachInternetGatewayCommand({ InternetGatewayId: g.InternetGatewayId, VpcId: vpcId }));
      await c.send(new DeleteInternetGatewayCommand({ InternetGatewayId: g.InternetGatewayId }));
    }
    await c.send(new DeleteVpcCommand({ VpcId: vpcId }));
  }

  it('a default VPC made by CreateDefaultVpc has the layout of the built-in one', async () => {
    const c = t.client('eu-west-1');
    const builtIn = (await defaultVpc(c))!;
    const expected = await layout(c, builtIn.VpcId!);
    assert.equal(expected.gateways, 1);
    assert.equal(expected.hostnames, true);
    await tearDown(c, builtIn.VpcId!);
    assert.equal(await defaultVpc(c), undefined);
    const noVpc = await ec2Error(c.send(new CreateDefaultSubnetCommand({ AvailabilityZone: 'eu-west-1a' })));
    assert.equal(noVpc.code, 'DefaultVpcDoesNotExist');
    assert.equal((await ec2Error(c.send(new CreateDefaultVpcCommand({ DryRun: true })))).code, 'DryRunOperation');
    assert.equal(await defaultVpc(c), undefined, 'DryRun made nothing');
    const made = (await c.send(new CreateDefaultVpcCommand({}))).Vpc!;
    assert.equal(made.State, 'pending');
    assert.deepEqual(await layout(c, made.VpcId!), expected);
    const dup = await ec2Error(c.send(new CreateDefaultVpcCommand({})));
    assert.equal(dup.code, 'DefaultVpcAlreadyExists');
  });

  it("CreateDefaultSubnet brings a zone's default subnet back, once", async () => {
    const c = t.client('eu-west-2');
    const vpc = (await defaultVpc(c))!;
    const subnets = (await c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).Subnets!;
    const first = subnets.find((s) => s.AvailabilityZone === 'eu-west-2a')!;
    const dup = await ec2Error(c.send(new CreateDefaultSubnetCommand({ AvailabilityZone: 'eu-west-2a' })));
    assert.equal(dup.code, 'DefaultSubnetAlreadyExistsInAvailabilityZone');
    await c.send(new DeleteSubnetCommand({ SubnetId: first.SubnetId }));
    assert.equal((await ec2Error(c.send(new CreateDefaultSubnetCommand({ AvailabilityZone: 'eu-west-2a', DryRun: true })))).code, 'DryRunOperation');
    const back = (await c.send(new CreateDefaultSubnetCommand({ AvailabilityZone: 'eu-west-2a' }))).Subnet!;
    assert.equal(back.CidrBlock, first.CidrBlock);
    assert.equal(back.DefaultForAz, true);
    assert.equal(back.MapPublicIpOnLaunch, true);
    assert.equal((await ec2Error(c.send(new CreateDefaultSubnetCommand({})))).code, 'MissingParameter');
  });
});
