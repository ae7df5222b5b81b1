import {
  CreateEgressOnlyInternetGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateVpcCommand,
  DeleteEgressOnlyInternetGatewayCommand,
  DeleteVpcCommand,
  DescribeEgressOnlyInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('egress-only internet gateways', () => {
  let t: TestServer;
  let ec2: EC2Client;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
  });
  after(() => t.close());

  const vpc = async (CidrBlock: string, ipv6 = true) => (await ec2.send(new CreateVpcCommand({ CidrBlock, AmazonProvidedIpv6CidrBlock: ipv6 }))).Vpc!;
  const code = async (p: Promise<unknown>) => (await ec2Error(p)).code;

  it('creates an attached gateway, describes it by id, tag and page, and deletes it', async () => {
    const v = await vpc('10.80.0.0/16');
    const out = await ec2.send(
      new CreateEgressOnlyInternetGatewayCommand({
        VpcId: v.VpcId,
        ClientToken: 'eigw-1',
        TagSpecifications: [{ ResourceType: 'egress-only-internet-gateway', Tags: [{ Key: 'Name', Value: 'out' }] }],
      }),
    );
    assert.equal(out.ClientToken, 'eigw-1');
    const g = out.EgressOnlyInternetGateway!;
    assert.match(g.EgressOnlyInternetGatewayId!, /^eigw-[0-9a-f]{17}$/);
    assert.deepEqual(g.Attachments, [{ VpcId: v.VpcId, State: 'attached' }]);
    assert.deepEqual(g.Tags, [{ Key: 'Name', Value: 'out' }]);
    const again = await ec2.send(
      new CreateEgressOnlyInternetGatewayCommand({
        VpcId: v.VpcId,
        ClientToken: 'eigw-1',
        TagSpecifications: [{ ResourceType: 'egress-only-internet-gateway', Tags: [{ Key: 'Name', Value: 'out' }] }],
      }),
    );
    assert.equal(again.EgressOnlyInternetGateway!.EgressOnlyInternetGatewayId, g.EgressOnlyInternetGatewayId, 'the same ClientToken answers the same gateway');

    const byTag = await ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ Filters: [{ Name: 'tag:Name', Values: ['out'] }] }));
    assert.deepEqual(byTag.EgressOnlyInternetGateways!.map((x) => x.EgressOnlyInternetGatewayId), [g.EgressOnlyInternetGatewayId]);
    assert.equal(await code(ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ Filters: [{ Name: 'vpc-id', Values: ['x'] }] }))), 'InvalidParameterValue');
    for (let i = 0; i < 5; i++) await ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: v.VpcId }));
    const first = await ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ MaxResults: 5 }));
    assert.equal(first.EgressOnlyInternetGateways!.length, 5);
    const rest = await ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ MaxResults: 5, NextToken: first.NextToken }));
    assert.equal(rest.EgressOnlyInternetGateways!.length, 1);
    assert.equal(await code(ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ MaxResults: 256 }))), 'InvalidParameterValue');

    const del = await ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: g.EgressOnlyInternetGatewayId }));
    assert.equal(del.ReturnCode, true);
    assert.equal(await code(ec2.send(new DescribeEgressOnlyInternetGatewaysCommand({ EgressOnlyInternetGatewayIds: [g.EgressOnlyInternetGatewayId!] }))), 'InvalidGatewayID.NotFound');
    assert.equal(await code(ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: g.EgressOnlyInternetGatewayId }))), 'InvalidGatewayID.NotFound');
    assert.equal(await code(ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: 'igw-0123456789abcdef0' }))), 'InvalidEgressOnlyInternetGatewayId.Malformed');
    assert.equal(await code(ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: 'vpc-0123456789abcdef0' }))), 'InvalidVpcID.NotFound');
    assert.equal(await code(ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: v.VpcId, DryRun: true }))), 'DryRunOperation');
  });

  it('is the target of IPv6 routes of its VPC, a blackhole once deleted, and keeps its VPC from being deleted', async () => {
    const v = await vpc('10.81.0.0/16');
    const other = await vpc('10.82.0.0/16');
    const g = (await ec2.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: v.VpcId }))).EgressOnlyInternetGateway!.EgressOnlyInternetGatewayId!;
    const rtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: v.VpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: g }));
    const route = async () => (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables![0]!.Routes!.find((r) => r.DestinationIpv6CidrBlock === '::/0')!;
    assert.equal((await route()).EgressOnlyInternetGatewayId, g);
    assert.equal((await route()).State, 'active');
    const found = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.egress-only-internet-gateway-id', Values: [g] }] }));
    assert.deepEqual(found.RouteTables!.map((x) => x.RouteTableId), [rtb]);
    assert.equal(await code(ec2.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', EgressOnlyInternetGatewayId: g }))), 'InvalidParameterValue');
    const otherRtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: other.VpcId }))).RouteTable!.RouteTableId!;
    assert.equal(await code(ec2.send(new CreateRouteCommand({ RouteTableId: otherRtb, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: g }))), 'InvalidParameterValue');
    assert.equal(await code(ec2.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationIpv6CidrBlock: '2001:db8::/32', EgressOnlyInternetGatewayId: 'eigw-0123456789abcdef0' }))), 'InvalidGatewayID.NotFound');
    assert.equal(await code(ec2.send(new DeleteVpcCommand({ VpcId: v.VpcId }))), 'DependencyViolation');
    await ec2.send(new DeleteEgressOnlyInternetGatewayCommand({ EgressOnlyInternetGatewayId: g }));
    assert.equal((await route()).State, 'blackhole');
  });
});
