import {
  CreateCarrierGatewayCommand,
  CreateVpcCommand,
  DeleteCarrierGatewayCommand,
  DeleteVpcCommand,
  DescribeCarrierGatewaysCommand,
  type CarrierGateway,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollUntil } from '../helpers/poll.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('carrier gateways', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let vpcId: string;

  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16' }))).Vpc!.VpcId!;
  });
  after(() => t.close());

  const describeOne = async (id: string): Promise<CarrierGateway> => (await ec2.send(new DescribeCarrierGatewaysCommand({ CarrierGatewayIds: [id] }))).CarrierGateways![0]!;

  it('pending → available, one per VPC, blocks DeleteVpc, deleting → deleted', async () => {
    const out = await ec2.send(new CreateCarrierGatewayCommand({ VpcId: vpcId, TagSpecifications: [{ ResourceType: 'carrier-gateway', Tags: [{ Key: 'Name', Value: 'wl' }] }] }));
    const g = out.CarrierGateway!;
    assert.match(g.CarrierGatewayId!, /^cagw-[0-9a-f]{17}$/);
    assert.equal(g.State, 'pending');
    assert.equal(g.VpcId, vpcId);
    assert.equal(g.OwnerId, '123456789012');
    assert.deepEqual(g.Tags, [{ Key: 'Name', Value: 'wl' }]);
    await pollUntil(() => describeOne(g.CarrierGatewayId!), (x) => x.State === 'available');
    assert.equal((await ec2Error(ec2.send(new CreateCarrierGatewayCommand({ VpcId: vpcId })))).code, 'Resource.AlreadyAssociated');
    assert.equal((await ec2Error(ec2.send(new DeleteVpcCommand({ VpcId: vpcId })))).code, 'DependencyViolation');

    const del = await ec2.send(new DeleteCarrierGatewayCommand({ CarrierGatewayId: g.CarrierGatewayId }));
    assert.equal(del.CarrierGateway!.State, 'deleting');
    const gone = await pollUntil(() => describeOne(g.CarrierGatewayId!), (x) => x.State === 'deleted');
    assert.deepEqual(gone.Tags, [{ Key: 'Name', Value: 'wl' }]);
    assert.equal((await ec2Error(ec2.send(new DeleteCarrierGatewayCommand({ CarrierGatewayId: g.CarrierGatewayId })))).code, 'InvalidCarrierGatewayID.NotFound');
    // a deleted gateway frees the VPC
    const next = await ec2.send(new CreateCarrierGatewayCommand({ VpcId: vpcId }));
    await ec2.send(new DeleteCarrierGatewayCommand({ CarrierGatewayId: next.CarrierGateway!.CarrierGatewayId }));
  });

  it('filters, pagination, unknown and malformed ids, DryRun', async () => {
    const vpcs: string[] = [];
    for (const cidr of ['10.51.0.0/16', '10.52.0.0/16', '10.53.0.0/16']) vpcs.push((await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!);
    const ids: string[] = [];
    for (const v of vpcs) ids.push((await ec2.send(new CreateCarrierGatewayCommand({ VpcId: v }))).CarrierGateway!.CarrierGatewayId!);
    const one = await ec2.send(new DescribeCarrierGatewaysCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcs[1]!] }] }));
    assert.deepEqual(one.CarrierGateways!.map((g) => g.CarrierGatewayId), [ids[1]]);
    const all = await ec2.send(new DescribeCarrierGatewaysCommand({ Filters: [{ Name: 'carrier-gateway-id', Values: ids }] }));
    assert.equal(all.CarrierGateways!.length, 3);
    const page = await ec2.send(new DescribeCarrierGatewaysCommand({ MaxResults: 5 }));
    assert.ok(page.CarrierGateways!.length <= 5);
    assert.equal((await ec2Error(ec2.send(new DescribeCarrierGatewaysCommand({ MaxResults: 4 })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new DescribeCarrierGatewaysCommand({ Filters: [{ Name: 'nope', Values: ['1'] }] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new DescribeCarrierGatewaysCommand({ CarrierGatewayIds: ['cagw-0123456789abcdef0'] })))).code, 'InvalidCarrierGatewayID.NotFound');
    assert.equal((await ec2Error(ec2.send(new DeleteCarrierGatewayCommand({ CarrierGatewayId: 'igw-0123456789abcdef0' })))).code, 'InvalidCarrierGatewayID.Malformed');
    assert.equal((await ec2Error(ec2.send(new CreateCarrierGatewayCommand({ VpcId: 'vpc-0123456789abcdef0' })))).code, 'InvalidVpcID.NotFound');
    assert.equal((await ec2Error(ec2.send(new DeleteCarrierGatewayCommand({ CarrierGatewayId: ids[0], DryRun: true })))).code, 'DryRunOperation');
    assert.notEqual((await describeOne(ids[0]!)).State, 'deleting');
    const v = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.54.0.0/16' }))).Vpc!.VpcId!;
    assert.equal((await ec2Error(ec2.send(new CreateCarrierGatewayCommand({ VpcId: v, DryRun: true })))).code, 'DryRunOperation');
    assert.deepEqual((await ec2.send(new DescribeCarrierGatewaysCommand({ Filters: [{ Name: 'vpc-id', Values: [v] }] }))).CarrierGateways, []);
    await pollUntil(
      () => ec2.send(new DescribeCarrierGatewaysCommand({ Filters: [{ Name: 'state', Values: ['available'] }, { Name: 'carrier-gateway-id', Values: ids }] })),
      (o) => o.CarrierGateways!.length === 3,
    );
  });
});
