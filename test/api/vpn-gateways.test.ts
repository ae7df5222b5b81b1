import {
  AttachVpnGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateVpcCommand,
  CreateVpnGatewayCommand,
  DeleteVpcCommand,
  DeleteVpnGatewayCommand,
  DescribeRouteTablesCommand,
  DescribeVpnGatewaysCommand,
  DetachVpnGatewayCommand,
  DisableVgwRoutePropagationCommand,
  EnableVgwRoutePropagationCommand,
  type EC2Client,
  type VpnGateway,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollUntil } from '../helpers/poll.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('virtual private gateways', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let vpcId: string;
  let otherVpc: string;
  let rtb: string;

  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.60.0.0/16' }))).Vpc!.VpcId!;
    otherVpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.61.0.0/16' }))).Vpc!.VpcId!;
    rtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
  });
  after(() => t.close());

  const describeOne = async (id: string): Promise<VpnGateway> => (await ec2.send(new DescribeVpnGatewaysCommand({ VpnGatewayIds: [id] }))).VpnGateways![0]!;
  const table = async () => (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables![0]!;

  it('create, attach (attaching → attached), routes and propagation, detach (detaching → detached), delete', async () => {
    const out = await ec2.send(new CreateVpnGatewayCommand({ Type: 'ipsec.1', AmazonSideAsn: 64600, TagSpecifications: [{ ResourceType: 'vpn-gateway', Tags: [{ Key: 'Name', Value: 'vgw' }] }] }));
    const g = out.VpnGateway!;
    const id = g.VpnGatewayId!;
    assert.match(id, /^vgw-[0-9a-f]{17}$/);
    assert.equal(g.State, 'pending');
    assert.equal(g.AmazonSideAsn, 64600);
    assert.deepEqual(g.VpcAttachments ?? [], []);
    assert.deepEqual(g.Tags, [{ Key: 'Name', Value: 'vgw' }]);
    await pollUntil(() => describeOne(id), (x) => x.State === 'available');

    assert.equal((await ec2Error(ec2.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '192.168.0.0/16', GatewayId: id })))).code, 'Gateway.NotAttached');
    assert.equal((await ec2Error(ec2.send(new EnableVgwRoutePropagationCommand({ RouteTableId: rtb, GatewayId: id })))).code, 'Gateway.NotAttached');
    const att = await ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: id, VpcId: vpcId }));
    assert.deepEqual(att.VpcAttachment, { VpcId: vpcId, State: 'attaching' });
    await pollUntil(() => describeOne(id), (x) => x.VpcAttachments?.[0]?.State === 'attached');
    assert.equal((await ec2Error(ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: id, VpcId: otherVpc })))).code, 'VpnGatewayAttachmentLimitExceeded');
    const second = (await ec2.send(new CreateVpnGatewayCommand({ Type: 'ipsec.1' }))).VpnGateway!.VpnGatewayId!;
    assert.equal((await ec2Error(ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: second, VpcId: vpcId })))).code, 'InvalidVpcState');
    assert.equal((await ec2Error(ec2.send(new DeleteVpnGatewayCommand({ VpnGatewayId: id })))).code, 'IncorrectState');
    assert.equal((await ec2Error(ec2.send(new DeleteVpcCommand({ VpcId: vpcId })))).code, 'DependencyViolation');

    await ec2.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '192.168.0.0/16', GatewayId: id }));
    await ec2.send(new EnableVgwRoutePropagationCommand({ RouteTableId: rtb, GatewayId: id }));
    await ec2.send(new EnableVgwRoutePropagationCommand({ RouteTableId: rtb, GatewayId: id }));
    let now = await table();
    assert.deepEqual(now.PropagatingVgws, [{ GatewayId: id }]);
    assert.equal(now.Routes!.find((r) => r.GatewayId === id)!.State, 'active');
    const byGateway = await ec2.send(new DescribeVpnGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpcId] }, { Name: 'attachment.state', Values: ['attached'] }] }));
    assert.deepEqual(byGateway.VpnGateways!.map((x) => x.VpnGatewayId), [id]);
    await ec2.send(new DisableVgwRoutePropagationCommand({ RouteTableId: rtb, GatewayId: id }));
    assert.deepEqual((await table()).PropagatingVgws ?? [], []);
    assert.equal((await ec2Error(ec2.send(new DisableVgwRoutePropagationCommand({ RouteTableId: rtb, GatewayId: id })))).code, 'InvalidParameterValue');
    await ec2.send(new EnableVgwRoutePropagationCommand({ RouteTableId: rtb, GatewayId: id }));

    assert.equal((await ec2Error(ec2.send(new DetachVpnGatewayCommand({ VpnGatewayId: id, VpcId: otherVpc })))).code, 'InvalidVpnGatewayAttachment.NotFound');
    await ec2.send(new DetachVpnGatewayCommand({ VpnGatewayId: id, VpcId: vpcId }));
    now = await table();
    assert.deepEqual(now.PropagatingVgws ?? [], [], 'detaching ends propagation');
    assert.equal(now.Routes!.find((r) => r.GatewayId === id)!.State, 'blackhole');
    const detached = await pollUntil(() => describeOne(id), (x) => x.VpcAttachments?.[0]?.State === 'detached');
    assert.deepEqual(detached.VpcAttachments, [{ VpcId: vpcId, State: 'detached' }]);
    await ec2.send(new DeleteVpnGatewayCommand({ VpnGatewayId: id }));
    await pollUntil(() => describeOne(id), (x) => x.State === 'deleted');
    assert.equal((await ec2Error(ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: id, VpcId: vpcId })))).code, 'InvalidVpnGatewayID.NotFound');
    // the VPC is free for another gateway
    await ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: second, VpcId: vpcId }));
  });

  it('refuses bad input and changes nothing; filters; DryRun', async () => {
    const count = async () => (await ec2.send(new DescribeVpnGatewaysCommand({}))).VpnGateways!.length;
    const before = await count();
    assert.equal((await ec2Error(ec2.send(new CreateVpnGatewayCommand({ Type: 'ipsec.2' as never })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new CreateVpnGatewayCommand({ Type: 'ipsec.1', AmazonSideAsn: 100 })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new CreateVpnGatewayCommand({ Type: 'ipsec.1', AvailabilityZone: 'eu-west-1a' })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new CreateVpnGatewayCommand({ Type: 'ipsec.1', DryRun: true })))).code, 'DryRunOperation');
    assert.equal(await count(), before);
    const z = (await ec2.send(new CreateVpnGatewayCommand({ Type: 'ipsec.1', AvailabilityZone: 'us-east-1b', AmazonSideAsn: 4_200_000_001 }))).VpnGateway!;
    assert.equal(z.AvailabilityZone, 'us-east-1b');
    const found = await ec2.send(new DescribeVpnGatewaysCommand({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1b'] }, { Name: 'amazon-side-asn', Values: ['4200000001'] }] }));
    assert.deepEqual(found.VpnGateways!.map((x) => x.VpnGatewayId), [z.VpnGatewayId]);
    assert.equal((await ec2Error(ec2.send(new DescribeVpnGatewaysCommand({ Filters: [{ Name: 'nope', Values: ['x'] }] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new DescribeVpnGatewaysCommand({ VpnGatewayIds: ['vgw-0123456789abcdef0'] })))).code, 'InvalidVpnGatewayID.NotFound');
    assert.equal((await ec2Error(ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: 'vgw-zz', VpcId: otherVpc })))).code, 'InvalidVpnGatewayID.Malformed');
    assert.equal((await ec2Error(ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: z.VpnGatewayId, VpcId: 'vpc-0123456789abcdef0' })))).code, 'InvalidVpcID.NotFound');
    assert.equal((await ec2Error(ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: z.VpnGatewayId, VpcId: otherVpc, DryRun: true })))).code, 'DryRunOperation');
    assert.deepEqual((await describeOne(z.VpnGatewayId!)).VpcAttachments ?? [], []);
    assert.equal((await ec2Error(ec2.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '172.16.0.0/12', GatewayId: 'vgw-0123456789abcdef0' })))).code, 'InvalidGatewayID.NotFound');
  });
});
