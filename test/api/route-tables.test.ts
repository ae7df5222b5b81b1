import {
  AssociateRouteTableCommand,
  AttachInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateManagedPrefixListCommand,
  CreateRouteTableCommand,
  DeleteManagedPrefixListCommand,
  GetManagedPrefixListAssociationsCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteRouteCommand,
  DeleteRouteTableCommand,
  DescribeInternetGatewaysCommand,
  DescribeRouteTablesCommand,
  DetachInternetGatewayCommand,
  DisassociateRouteTableCommand,
  ReplaceRouteCommand,
  ReplaceRouteTableAssociationCommand,
  type EC2Client,
  type RouteTable,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NetworkInterfaceRecord } from '../../src/resources/ec2/records.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { looseCollection } from '../helpers/collections.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';

describe('internet gateways and route tables', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const ec2 = (region = 'us-east-1'): EC2Client => t.client(region);
  const newVpc = async (cidr: string): Promise<string> => (await ec2().send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
  const table = async (id: string): Promise<RouteTable> =>
    (await ec2().send(new DescribeRouteTablesCommand({ RouteTableIds: [id] }))).RouteTables![0]!;
  const mainTableOf = async (vpcId: string): Promise<RouteTable> =>
    (
      await ec2().send(
        new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'association.main', Values: ['true'] }] }),
      )
    ).RouteTables![0]!;

  it('internet gateways attach to one VPC at a time and are deleted only when detached', async () => {
    const c = ec2();
    const vpcA = await newVpc('10.1.0.0/16');
    const vpcB = await newVpc('10.2.0.0/16');
    const igw = (
      await c.send(new CreateInternetGatewayCommand({ TagSpecifications: [{ ResourceType: 'internet-gateway', Tags: [{ Key: 'Name', Value: 'gw' }] }] }))
    ).InternetGateway!;
    assert.match(igw.InternetGatewayId!, /^igw-[0-9a-f]{17}$/);
    assert.deepEqual(igw.Attachments, []);
    assert.deepEqual(igw.Tags, [{ Key: 'Name', Value: 'gw' }]);
    assert.equal(igw.OwnerId, t.server.config.accountId);
    const id = igw.InternetGatewayId!;

    await c.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcA }));
    const described = (await c.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] }))).InternetGateways![0]!;
    assert.deepEqual(described.Attachments, [{ VpcId: vpcA, State: 'available' }]);

    const twice = await ec2Error(c.send(new AttachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcB })));
    assert.equal(twice.code, 'Resource.AlreadyAssociated');
    const other = (await c.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    const vpcTaken = await ec2Error(c.send(new AttachInternetGatewayCommand({ InternetGatewayId: other, VpcId: vpcA })));
    assert.equal(vpcTaken.code, 'Resource.AlreadyAssociated');

    const find = async (name: string, values: string[]) =>
      ((await c.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: name, Values: values }] }))).InternetGateways ?? [])
        .map((g) => g.InternetGatewayId)
        .sort();
    assert.deepEqual(await find('attachment.vpc-id', [vpcA]), [id]);
    assert.ok((await find('attachment.state', ['available'])).includes(id));
    assert.ok(!(await find('attachment.state', ['available'])).includes(other));
    assert.deepEqual(await find('internet-gateway-id', [other]), [other]);
    assert.deepEqual(await find('tag:Name', ['gw']), [id]);
    assert.ok((await find('owner-id', [t.server.config.accountId])).length >= 3, 'includes the default VPC gateway');

    const attached = await ec2Error(c.send(new DeleteInternetGatewayCommand({ InternetGatewayId: id })));
    assert.equal(attached.code, 'DependencyViolation');
    const wrongVpc = await ec2Error(c.send(new DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcB })));
    assert.equal(wrongVpc.code, 'Gateway.NotAttached');

    // A public address mapped in the VPC keeps the gateway attached.
    const enis = looseCollection<Partial<NetworkInterfaceRecord>>(t.server.store, KINDS.networkInterface);
    enis.put('us-east-1', 'eni-00000000000000001', {
      NetworkInterfaceId: 'eni-00000000000000001',
      VpcId: vpcA,
      SubnetId: 'subnet-00000000',
      PrivateIpAddress: '10.1.0.4',
      association: { PublicIp: '198.51.100.7' },
    });
    const mapped = await ec2Error(c.send(new DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcA })));
    assert.equal(mapped.code, 'DependencyViolation');
    enis.delete('us-east-1', 'eni-00000000000000001');

    await c.send(new DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcA }));
    const notAttached = await ec2Error(c.send(new DetachInternetGatewayCommand({ InternetGatewayId: id, VpcId: vpcA })));
    assert.equal(notAttached.code, 'Gateway.NotAttached');
    const dry = await ec2Error(c.send(new DeleteInternetGatewayCommand({ InternetGatewayId: id, DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal(dry.status, 412);
    await c.send(new DeleteInternetGatewayCommand({ InternetGatewayId: id }));
    assert.equal((await ec2Error(c.send(new DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] })))).code, 'InvalidInternetGatewayID.NotFound');
    assert.equal((await ec2Error(c.send(new DeleteInternetGatewayCommand({ InternetGatewayId: 'igw-x' })))).code, 'InvalidInternetGatewayID.Malformed');
    assert.equal(
      (await ec2Error(c.send(new AttachInternetGatewayCommand({ InternetGatewayId: other, VpcId: 'vpc-0123456789abcdef0' })))).code,
      'InvalidVpcID.NotFound',
    );
  });

  it('DescribeInternetGateways paginates', async () => {
    const c = ec2('eu-west-2');
    for (let i = 0; i < 6; i++) await c.send(new CreateInternetGatewayCommand({}));
    const page1 = await c.send(new DescribeInternetGatewaysCommand({ MaxResults: 5 }));
    assert.equal(page1.InternetGateways!.length, 5);
    const page2 = await c.send(new DescribeInternetGatewaysCommand({ MaxResults: 5, NextToken: page1.NextToken }));
    assert.equal(page2.InternetGateways!.length, 2, 'six made plus the default VPC gateway');
    assert.equal(page2.NextToken, undefined);
  });

  it('routes: create, replace, delete, with targets checked against the VPC', async () => {
    const c = ec2();
    const vpcId = await newVpc('10.10.0.0/16');
    const rtb = (
      await c.send(new CreateRouteTableCommand({ VpcId: vpcId, TagSpecifications: [{ ResourceType: 'route-table', Tags: [{ Key: 'Name', Value: 'public' }] }] }))
    ).RouteTable!;
    const rtbId = rtb.RouteTableId!;
    assert.match(rtbId, /^rtb-[0-9a-f]{17}$/);
    assert.deepEqual(rtb.Associations, []);
    assert.deepEqual(rtb.Tags, [{ Key: 'Name', Value: 'public' }]);
    assert.deepEqual(rtb.Routes, [{ DestinationCidrBlock: '10.10.0.0/16', GatewayId: 'local', Origin: 'CreateRouteTable', State: 'active' }]);

    const igw = (await c.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    const detached = await ec2Error(c.send(new CreateRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw })));
    assert.equal(detached.code, 'InvalidParameterValue');
    assert.match(detached.message, /belong to different networks/);
    await c.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));

    const dry = await ec2Error(c.send(new CreateRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw, DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal((await table(rtbId)).Routes!.length, 1);

    const created = await c.send(new CreateRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    assert.equal(created.Return, true);
    assert.deepEqual((await table(rtbId)).Routes![1], { DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw, Origin: 'CreateRoute', State: 'active' });

    const dup = await ec2Error(c.send(new CreateRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw })));
    assert.equal(dup.code, 'RouteAlreadyExists');
    const local = await ec2Error(c.send(new CreateRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '10.10.0.0/16', GatewayId: igw })));
    assert.equal(local.code, 'RouteAlreadyExists');
    const inside = await ec2Error(c.send(new CreateRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '10.10.5.0/24', GatewayId: igw })));
    assert.equal(inside.code, 'InvalidParameterValue');

    const errors: [Record<string, unknown>, string][] = [
      [{ DestinationCidrBlock: '192.168.0.0/16' }, 'MissingParameter'],
      [{ GatewayId: igw }, 'MissingParameter'],
      [{ DestinationCidrBlock: '192.168.0.1/16', GatewayId: igw }, 'InvalidParameterValue'],
      [{ DestinationCidrBlock: '192.168.0.0/16', GatewayId: igw, NatGatewayId: 'nat-0123456789abcdef0' }, 'InvalidParameterCombination'],
      [{ DestinationCidrBlock: '192.168.0.0/16', NatGatewayId: 'nat-0123456789abcdef0' }, 'InvalidNatGatewayID.NotFound'],
      [{ DestinationCidrBlock: '192.168.0.0/16', VpcPeeringConnectionId: 'pcx-0123456789abcdef0' }, 'InvalidVpcPeeringConnectionID.NotFound'],
      [{ DestinationCidrBlock: '192.168.0.0/16', GatewayId: 'vgw-0123456789abcdef0' }, 'InvalidGatewayID.NotFound'],
      [{ DestinationCidrBlock: '192.168.0.0/16', GatewayId: 'igw-0123456789abcdef0' }, 'InvalidInternetGatewayID.NotFound'],
      [{ DestinationCidrBlock: '192.168.0.0/16', InstanceId: 'i-0123456789abcdef0' }, 'InvalidInstanceID.NotFound'],
      [{ DestinationCidrBlock: '192.168.0.0/16', NetworkInterfaceId: 'eni-0123456789abcdef0' }, 'InvalidNetworkInterfaceID.NotFound'],
    ];
    for (const [params, code] of errors) {
      const err = await ec2Error(c.send(new CreateRouteCommand({ RouteTableId: rtbId, ...params })));
      assert.equal(err.code, code, JSON.stringify(params));
    }
    assert.equal(
      (await ec2Error(c.send(new CreateRouteCommand({ RouteTableId: 'rtb-0123456789abcdef0', DestinationCidrBlock: '1.0.0.0/8', GatewayId: igw })))).code,
      'InvalidRouteTableID.NotFound',
    );

    // A route to an interface; an interface in another VPC is refused.
    const enis = looseCollection<Partial<NetworkInterfaceRecord>>(t.server.store, KINDS.networkInterface);
    enis.put('us-east-1', 'eni-0000000000000000a', {
      NetworkInterfaceId: 'eni-0000000000000000a',
      VpcId: vpcId,
      SubnetId: 'subnet-00000000',
      PrivateIpAddress: '10.10.0.10',
      attachment: { AttachmentId: 'eni-attach-00000000', InstanceId: 'i-0000000000000000a', DeviceIndex: 0, AttachTime: new Date().toISOString(), DeleteOnTermination: true },
    });
    enis.put('us-east-1', 'eni-0000000000000000b', { NetworkInterfaceId: 'eni-0000000000000000b', VpcId: 'vpc-00000000', SubnetId: 'subnet-00000000', PrivateIpAddress: '10.0.0.4' });
    const foreign = await ec2Error(c.send(new CreateRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '172.16.0.0/12', NetworkInterfaceId: 'eni-0000000000000000b' })));
    assert.equal(foreign.code, 'InvalidParameterValue');
    await c.send(new CreateRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '172.16.0.0/12', NetworkInterfaceId: 'eni-0000000000000000a' }));
    const viaEni = (await table(rtbId)).Routes!.find((r) => r.DestinationCidrBlock === '172.16.0.0/12')!;
    assert.equal(viaEni.NetworkInterfaceId, 'eni-0000000000000000a');
    assert.equal(viaEni.InstanceId, 'i-0000000000000000a');
    assert.equal(viaEni.State, 'active');

    // ReplaceRoute swaps the target; a missing destination is an error.
    await c.send(new ReplaceRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '172.16.0.0/12', GatewayId: igw }));
    const replaced = (await table(rtbId)).Routes!.find((r) => r.DestinationCidrBlock === '172.16.0.0/12')!;
    assert.equal(replaced.GatewayId, igw);
    assert.equal(replaced.NetworkInterfaceId, undefined);
    const noRoute = await ec2Error(c.send(new ReplaceRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '8.8.8.0/24', GatewayId: igw })));
    assert.equal(noRoute.code, 'InvalidParameterValue');
    const replaceLocal = await ec2Error(c.send(new ReplaceRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '10.10.0.0/16', GatewayId: igw })));
    assert.equal(replaceLocal.code, 'InvalidParameterValue');

    // Routes to a detached gateway are blackholes.
    await c.send(new DeleteRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '172.16.0.0/12' }));
    await c.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    assert.equal((await table(rtbId)).Routes!.find((r) => r.DestinationCidrBlock === '0.0.0.0/0')!.State, 'blackhole');
    const blackholes = await c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.state', Values: ['blackhole'] }] }));
    assert.deepEqual(blackholes.RouteTables!.map((r) => r.RouteTableId), [rtbId]);

    const missing = await ec2Error(c.send(new DeleteRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '8.8.8.0/24' })));
    assert.equal(missing.code, 'InvalidRoute.NotFound');
    const localDel = await ec2Error(c.send(new DeleteRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '10.10.0.0/16' })));
    assert.equal(localDel.code, 'InvalidParameterValue');
    await c.send(new DeleteRouteCommand({ RouteTableId: rtbId, DestinationCidrBlock: '0.0.0.0/0' }));
    assert.deepEqual((await table(rtbId)).Routes!.map((r) => r.DestinationCidrBlock), ['10.10.0.0/16']);
    enis.delete('us-east-1', 'eni-0000000000000000a');
    enis.delete('us-east-1', 'eni-0000000000000000b');
  });

  it('routes to a managed prefix list: created, described, filtered, deleted; the list cannot go while a route names it', async () => {
    const vpc = await newVpc('10.44.0.0/16');
    const igw = (await ec2().send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await ec2().send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpc }));
    const rtb = (await ec2().send(new CreateRouteTableCommand({ VpcId: vpc }))).RouteTable!.RouteTableId!;
    const pl = (
      await ec2().send(new CreateManagedPrefixListCommand({ PrefixListName: 'office', AddressFamily: 'IPv4', MaxEntries: 3, Entries: [{ Cidr: '203.0.113.0/24' }] }))
    ).PrefixList!.PrefixListId!;

    const unknown = 'pl-0123456789abcdef0';
    assert.equal((await ec2Error(ec2().send(new CreateRouteCommand({ RouteTableId: rtb, DestinationPrefixListId: unknown, GatewayId: igw })))).code, 'InvalidPrefixListID.NotFound');
    assert.equal((await table(rtb)).Routes!.length, 1, 'a refused route changes nothing');

    await ec2().send(new CreateRouteCommand({ RouteTableId: rtb, DestinationPrefixListId: pl, GatewayId: igw }));
    const route = (await table(rtb)).Routes!.find((r) => r.DestinationPrefixListId === pl);
    assert.equal(route?.GatewayId, igw);
    assert.equal(route?.State, 'active');
    assert.equal(route?.Origin, 'CreateRoute');
    assert.equal((await ec2Error(ec2().send(new CreateRouteCommand({ RouteTableId: rtb, DestinationPrefixListId: pl, GatewayId: igw })))).code, 'RouteAlreadyExists');
    const byFilter = await ec2().send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.destination-prefix-list-id', Values: [pl] }] }));
    assert.deepEqual(byFilter.RouteTables!.map((x) => x.RouteTableId), [rtb]);

    const assoc = await ec2().send(new GetManagedPrefixListAssociationsCommand({ PrefixListId: pl }));
    assert.deepEqual(assoc.PrefixListAssociations!.map((a) => a.ResourceId), [rtb], 'the table is an association of the list');
    assert.equal((await ec2Error(ec2().send(new DeleteManagedPrefixListCommand({ PrefixListId: pl })))).code, 'DependencyViolation');

    await ec2().send(new DeleteRouteCommand({ RouteTableId: rtb, DestinationPrefixListId: pl }));
    assert.equal((await table(rtb)).Routes!.some((r) => r.DestinationPrefixListId === pl), false);
    assert.equal((await ec2Error(ec2().send(new DeleteRouteCommand({ RouteTableId: rtb, DestinationPrefixListId: pl })))).code, 'InvalidRoute.NotFound');
    await ec2().send(new DeleteManagedPrefixListCommand({ PrefixListId: pl }));
  });

  it('associations: subnet to table, main table replacement, and delete rules', async () => {
    const c = ec2();
    const vpcId = await newVpc('10.20.0.0/16');
    const otherVpc = await newVpc('10.21.0.0/16');
    const subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.20.1.0/24' }))).Subnet!.SubnetId!;
    const foreignSubnet = (await c.send(new CreateSubnetCommand({ VpcId: otherVpc, CidrBlock: '10.21.1.0/24' }))).Subnet!.SubnetId!;
    const main = await mainTableOf(vpcId);
    const custom = (await c.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;

    const assoc = await c.send(new AssociateRouteTableCommand({ RouteTableId: custom, SubnetId: subnet }));
    assert.match(assoc.AssociationId!, /^rtbassoc-[0-9a-f]{17}$/);
    assert.equal(assoc.AssociationState!.State, 'associated');
    assert.deepEqual((await table(custom)).Associations, [
      { Main: false, RouteTableAssociationId: assoc.AssociationId, RouteTableId: custom, SubnetId: subnet, AssociationState: { State: 'associated' } },
    ]);

    const again = await ec2Error(c.send(new AssociateRouteTableCommand({ RouteTableId: main.RouteTableId, SubnetId: subnet })));
    assert.equal(again.code, 'Resource.AlreadyAssociated');
    const foreign = await ec2Error(c.send(new AssociateRouteTableCommand({ RouteTableId: custom, SubnetId: foreignSubnet })));
    assert.equal(foreign.code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new AssociateRouteTableCommand({ RouteTableId: custom })))).code, 'MissingParameter');
    assert.equal(
      (await ec2Error(c.send(new AssociateRouteTableCommand({ RouteTableId: custom, SubnetId: 'subnet-0123456789abcdef0' })))).code,
      'InvalidSubnetID.NotFound',
    );

    const find = async (name: string, values: string[]) =>
      ((await c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: name, Values: values }] }))).RouteTables ?? [])
        .map((r) => r.RouteTableId)
        .sort();
    assert.deepEqual(await find('association.subnet-id', [subnet]), [custom]);
    assert.deepEqual(await find('association.route-table-association-id', [assoc.AssociationId!]), [custom]);
    assert.deepEqual(await find('association.main', ['true']), [main.RouteTableId]);
    assert.deepEqual(await find('association.main', ['false']), [custom]);
    assert.deepEqual(await find('route-table-id', [custom]), [custom]);
    assert.deepEqual(await find('route.destination-cidr-block', ['10.20.0.0/16']), [custom, main.RouteTableId].sort());
    assert.deepEqual(await find('route.gateway-id', ['local']), [custom, main.RouteTableId].sort());
    assert.deepEqual(await find('route.origin', ['CreateRouteTable']), [custom, main.RouteTableId].sort());
    assert.deepEqual(await find('owner-id', [t.server.config.accountId]), [custom, main.RouteTableId].sort());
    assert.equal((await ec2Error(c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.colour', Values: ['x'] }] })))).code, 'InvalidParameterValue');

    const inUse = await ec2Error(c.send(new DeleteRouteTableCommand({ RouteTableId: custom })));
    assert.equal(inUse.code, 'DependencyViolation');
    assert.equal(inUse.message, `The routeTable '${custom}' has dependencies and cannot be deleted.`);
    const mainDel = await ec2Error(c.send(new DeleteRouteTableCommand({ RouteTableId: main.RouteTableId })));
    assert.equal(mainDel.code, 'DependencyViolation');
    const mainAssoc = main.Associations![0]!.RouteTableAssociationId!;
    const disMain = await ec2Error(c.send(new DisassociateRouteTableCommand({ AssociationId: mainAssoc })));
    assert.equal(disMain.code, 'InvalidParameterValue');

    // Move the subnet's association to the main table, then back.
    const moved = await c.send(new ReplaceRouteTableAssociationCommand({ AssociationId: assoc.AssociationId, RouteTableId: main.RouteTableId }));
    assert.notEqual(moved.NewAssociationId, assoc.AssociationId);
    assert.deepEqual((await table(custom)).Associations, []);
    assert.ok((await table(main.RouteTableId!)).Associations!.some((a) => a.SubnetId === subnet && a.RouteTableAssociationId === moved.NewAssociationId));
    await c.send(new DisassociateRouteTableCommand({ AssociationId: moved.NewAssociationId }));
    assert.equal((await ec2Error(c.send(new DisassociateRouteTableCommand({ AssociationId: moved.NewAssociationId })))).code, 'InvalidAssociationID.NotFound');

    // Make the custom table the main one; the old main table can then be deleted.
    const newMain = await c.send(new ReplaceRouteTableAssociationCommand({ AssociationId: mainAssoc, RouteTableId: custom }));
    assert.equal((await mainTableOf(vpcId)).RouteTableId, custom);
    assert.equal((await table(custom)).Associations![0]!.RouteTableAssociationId, newMain.NewAssociationId);
    const otherTable = (await mainTableOf(otherVpc)).RouteTableId!;
    const crossVpc = await ec2Error(c.send(new ReplaceRouteTableAssociationCommand({ AssociationId: newMain.NewAssociationId, RouteTableId: otherTable })));
    assert.equal(crossVpc.code, 'InvalidParameterValue');

    const dry = await ec2Error(c.send(new DeleteRouteTableCommand({ RouteTableId: main.RouteTableId, DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    await c.send(new DeleteRouteTableCommand({ RouteTableId: main.RouteTableId }));
    assert.equal((await ec2Error(c.send(new DescribeRouteTablesCommand({ RouteTableIds: [main.RouteTableId!] })))).code, 'InvalidRouteTableID.NotFound');
    assert.equal((await ec2Error(c.send(new DescribeRouteTablesCommand({ RouteTableIds: ['rtb-1'] })))).code, 'InvalidRouteTableID.Malformed');
    assert.equal((await ec2Error(c.send(new CreateRouteTableCommand({ VpcId: 'vpc-0123456789abcdef0' })))).code, 'InvalidVpcID.NotFound');
  });

  it('DescribeRouteTables paginates within 5..100', async () => {
    const c = ec2('ca-central-1');
    const vpcs = (await c.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
    for (let i = 0; i < 5; i++) await c.send(new CreateRouteTableCommand({ VpcId: vpcs }));
    // default VPC main + new VPC main + 5
    const page1 = await c.send(new DescribeRouteTablesCommand({ MaxResults: 5 }));
    assert.equal(page1.RouteTables!.length, 5);
    const page2 = await c.send(new DescribeRouteTablesCommand({ MaxResults: 5, NextToken: page1.NextToken }));
    assert.equal(page2.RouteTables!.length, 2);
    assert.equal(page2.NextToken, undefined);
    assert.equal((await ec2Error(c.send(new DescribeRouteTablesCommand({ MaxResults: 101 })))).code, 'InvalidParameterValue');
  });
});
