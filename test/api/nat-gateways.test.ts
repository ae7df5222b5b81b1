import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  DisassociateAddressCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNatGatewayCommand,
  DeleteSubnetCommand,
  DescribeAddressesCommand,
  DescribeNatGatewaysCommand,
  DescribeNetworkInterfacesCommand,
  DescribeRouteTablesCommand,
  ReleaseAddressCommand,
  type EC2Client,
  type NatGateway,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('NAT gateways', () => {
  let t: TestServer;
  let ec2: EC2Client;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
  });
  after(() => t.close());

  const code = async (p: Promise<unknown>) => (await ec2Error(p)).code;
  async function network(cidr: string, igw: boolean) {
    const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
    const subnetId = (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr.replace('0.0/16', '1.0/24') }))).Subnet!.SubnetId!;
    if (igw) {
      const g = (await ec2.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
      await ec2.send(new AttachInternetGatewayCommand({ InternetGatewayId: g, VpcId: vpcId }));
    }
    return { vpcId, subnetId };
  }
  const describe1 = async (id: string): Promise<NatGateway> => (await ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [id] }))).NatGateways![0]!;
  const until = (id: string, state: string): Promise<NatGateway> => eventually(`${id} ${state}`, () => describe1(id), (n) => n.State === state);
  const address = async (id: string) => (await ec2.send(new DescribeAddressesCommand({ AllocationIds: [id] }))).Addresses![0]!;

  it('a public gateway maps its Elastic IP, goes pending -> available, takes routes, and lets all go when deleted', async () => {
    const { vpcId, subnetId } = await network('10.90.0.0/16', true);
    const eip = (await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
    const out = await ec2.send(
      new CreateNatGatewayCommand({ SubnetId: subnetId, AllocationId: eip, TagSpecifications: [{ ResourceType: 'natgateway', Tags: [{ Key: 'Name', Value: 'nat' }] }] }),
    );
    const nat = out.NatGateway!;
    assert.match(nat.NatGatewayId!, /^nat-[0-9a-f]{17}$/);
    assert.equal(nat.State, 'pending');
    assert.equal(nat.VpcId, vpcId);
    assert.equal(nat.ConnectivityType, 'public');
    assert.ok(nat.CreateTime instanceof Date);
    const a = nat.NatGatewayAddresses![0]!;
    assert.equal(a.PrivateIp, '10.90.1.4');
    const shown = await address(eip);
    assert.equal(shown.NetworkInterfaceId, a.NetworkInterfaceId);
    assert.equal(shown.PrivateIpAddress, '10.90.1.4');
    assert.equal(shown.AssociationId, a.AssociationId);
    const eni = (await ec2.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [a.NetworkInterfaceId!] }))).NetworkInterfaces![0]!;
    assert.equal(eni.RequesterManaged, true);
    assert.equal(eni.Association?.PublicIp, a.PublicIp);
    assert.equal(await code(ec2.send(new ReleaseAddressCommand({ AllocationId: eip }))), 'InvalidIPAddress.InUse');
    assert.equal(await code(ec2.send(new DisassociateAddressCommand({ AssociationId: a.AssociationId }))), 'OperationNotPermitted');
    assert.equal(await code(ec2.send(new AssociateAddressCommand({ AllocationId: eip, NetworkInterfaceId: a.NetworkInterfaceId }))), 'OperationNotPermitted');
    assert.equal((await address(eip)).AssociationId, a.AssociationId, 'the gateway keeps its address');
    assert.equal(await code(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId, AllocationId: eip }))), 'Resource.AlreadyAssociated');

    const ready = await until(nat.NatGatewayId!, 'available');
    assert.equal(ready.NatGatewayAddresses![0]!.Status, 'succeeded');
    const rtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    await ec2.send(new CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: nat.NatGatewayId }));
    const route = async () => (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables![0]!.Routes!.find((r) => r.NatGatewayId)!;
    assert.equal((await route()).State, 'active');
    const byRoute = await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.nat-gateway-id', Values: [nat.NatGatewayId!] }] }));
    assert.equal(byRoute.RouteTables!.length, 1);
    assert.equal(await code(ec2.send(new DeleteSubnetCommand({ SubnetId: subnetId }))), 'DependencyViolation');

    const del = await ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: nat.NatGatewayId }));
    assert.equal(del.NatGatewayId, nat.NatGatewayId);
    const gone = await until(nat.NatGatewayId!, 'deleted');
    assert.ok(gone.DeleteTime instanceof Date);
    assert.equal((await route()).State, 'blackhole');
    assert.equal((await address(eip)).AssociationId, undefined, 'the Elastic IP is free again');
    assert.equal((await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'subnet-id', Values: [subnetId] }] }))).NetworkInterfaces!.length, 0);
    await ec2.send(new DeleteSubnetCommand({ SubnetId: subnetId }));
    await ec2.send(new ReleaseAddressCommand({ AllocationId: eip }));
    assert.equal(await code(ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: nat.NatGatewayId }))), 'NatGatewayNotFound');
  });

  it('a public gateway in a VPC without an internet gateway fails; a private one needs none', async () => {
    const { subnetId } = await network('10.91.0.0/16', false);
    const eip = (await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
    const pub = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId, AllocationId: eip }))).NatGateway!;
    const failed = await until(pub.NatGatewayId!, 'failed');
    assert.equal(failed.FailureCode, 'Gateway.NotAttached');
    assert.equal((await address(eip)).AssociationId, undefined);
    const priv = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId, ConnectivityType: 'private', PrivateIpAddress: '10.91.1.50' }))).NatGateway!;
    assert.equal(priv.NatGatewayAddresses![0]!.PrivateIp, '10.91.1.50');
    assert.equal(priv.NatGatewayAddresses![0]!.PublicIp, undefined);
    await until(priv.NatGatewayId!, 'available');
    const byState = await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'state', Values: ['available'] }, { Name: 'subnet-id', Values: [subnetId] }] }));
    assert.deepEqual(byState.NatGateways!.map((n) => n.NatGatewayId), [priv.NatGatewayId]);
    const byVpc = await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'vpc-id', Values: [priv.VpcId!] }], MaxResults: 5 }));
    assert.equal(byVpc.NatGateways!.length, 2);
    assert.equal(await code(ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'bogus', Values: ['x'] }] }))), 'InvalidParameterValue');
    assert.equal(await code(ec2.send(new DescribeNatGatewaysCommand({ MaxResults: 1001 }))), 'InvalidParameterValue');
    assert.equal(await code(ec2.send(new DescribeNatGatewaysCommand({ NatGatewayIds: ['nat-0123456789abcdef0'] }))), 'NatGatewayNotFound');
  });

  it('a gateway left pending or deleting by a stopped server is finished after the restart', async () => {
    const { subnetId } = await network('10.93.0.0/16', true);
    const a = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId, ConnectivityType: 'private' }))).NatGateway!.NatGatewayId!;
    const b = (await ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId, ConnectivityType: 'private' }))).NatGateway!.NatGatewayId!;
    await until(a, 'available');
    await until(b, 'available');
    // as a server killed between the call and the reconciler's step leaves them
    const col = t.server.store.collection(KINDS.natGateway);
    t.server.store.transaction(() => {
      col.put('us-east-1', a, { ...col.get('us-east-1', a)!, State: 'pending' });
      col.put('us-east-1', b, { ...col.get('us-east-1', b)!, State: 'deleting' });
    });
    await t.restart();
    ec2 = t.client();
    await until(a, 'available');
    await until(b, 'deleted');
  });

  it('refuses bad input and changes nothing', async () => {
    const { subnetId } = await network('10.92.0.0/16', true);
    const eip = (await ec2.send(new AllocateAddressCommand({ Domain: 'vpc' }))).AllocationId!;
    assert.equal(await code(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId }))), 'MissingParameter');
    assert.equal(await code(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId, ConnectivityType: 'private', AllocationId: eip }))), 'InvalidParameterCombination');
    assert.equal(await code(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId, AllocationId: 'eipalloc-0123456789abcdef0' }))), 'InvalidAllocationID.NotFound');
    assert.equal(await code(ec2.send(new CreateNatGatewayCommand({ SubnetId: 'subnet-0123456789abcdef0', AllocationId: eip }))), 'InvalidSubnetID.NotFound');
    assert.equal(await code(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId, AllocationId: eip, PrivateIpAddress: '10.0.0.9' }))), 'InvalidParameterValue');
    assert.equal(await code(ec2.send(new CreateNatGatewayCommand({ SubnetId: subnetId, AllocationId: eip, DryRun: true }))), 'DryRunOperation');
    assert.equal(await code(ec2.send(new DeleteNatGatewayCommand({ NatGatewayId: 'nat-nope' }))), 'NatGatewayMalformed');
    const nats = await ec2.send(new DescribeNatGatewaysCommand({ Filter: [{ Name: 'subnet-id', Values: [subnetId] }] }));
    assert.equal(nats.NatGateways!.length, 0);
    assert.equal((await address(eip)).AssociationId, undefined);
  });
});
