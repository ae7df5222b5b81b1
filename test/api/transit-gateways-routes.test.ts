import * as EC2 from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { availableAttachment, availableTgw, describeAttachment, settle, vpcWithSubnets } from '../helpers/transit-gateways.js';

describe('transit gateway route tables and routes', () => {
  let t: TestServer;
  let c: EC2.EC2Client;
  let tgw: EC2.TransitGateway;
  let defaultTable: string;
  let second = 80;

  before(async () => {
    t = await startTestServer();
    c = t.client();
    tgw = await availableTgw(c);
    defaultTable = tgw.Options!.AssociationDefaultRouteTableId!;
    await settle('the default table', () => describeTable(defaultTable), (x) => x.State === 'available');
  });
  after(() => t.close());

  async function describeTable(id: string): Promise<EC2.TransitGatewayRouteTable> {
    return (await c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({ TransitGatewayRouteTableIds: [id] }))).TransitGatewayRouteTables![0]!;
  }

  async function availableTable(tags: EC2.Tag[] = []): Promise<string> {
    const created = (
      await c.send(
        new EC2.CreateTransitGatewayRouteTableCommand({
          TransitGatewayId: tgw.TransitGatewayId,
          TagSpecifications: tags.length > 0 ? [{ ResourceType: 'transit-gateway-route-table', Tags: tags }] : undefined,
        }),
      )
    ).TransitGatewayRouteTable!;
    assert.equal(created.State, 'pending');
    assert.equal(created.DefaultAssociationRouteTable, false);
    await settle('the table', () => describeTable(created.TransitGatewayRouteTableId!), (x) => x.State === 'available');
    return created.TransitGatewayRouteTableId!;
  }

  const search = (TransitGatewayRouteTableId: string, Filters: EC2.Filter[], MaxResults?: number) =>
    c.send(new EC2.SearchTransitGatewayRoutesCommand({ TransitGatewayRouteTableId, Filters, MaxResults }));
  const f = (Name: string, ...Values: string[]) => ({ Name, Values });

  it('Create / Describe / DeleteTransitGatewayRouteTable', async () => {
    const id = await availableTable([{ Key: 'Name', Value: 'blue' }]);
    assert.match(id, /^tgw-rtb-[0-9a-f]{17}$/);
    const byFilter = await c.send(
      new EC2.DescribeTransitGatewayRouteTablesCommand({ Filters: [f('transit-gateway-id', tgw.TransitGatewayId!), f('default-association-route-table', 'false'), f('tag:Name', 'blue')] }),
    );
    assert.deepEqual(byFilter.TransitGatewayRouteTables!.map((x) => x.TransitGatewayRouteTableId), [id]);
    const defaults = await c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({ Filters: [f('default-propagation-route-table', 'true'), f('transit-gateway-id', tgw.TransitGatewayId!)] }));
    assert.deepEqual(defaults.TransitGatewayRouteTables!.map((x) => x.TransitGatewayRouteTableId), [defaultTable]);
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({ Filters: [f('vpc-id', 'x')] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new EC2.DescribeTransitGatewayRouteTablesCommand({ TransitGatewayRouteTableIds: ['tgw-rtb-0123456789abcdef0'] })))).code, 'InvalidRouteTableID.NotFound');
    assert.equal((await ec2Error(c.send(new EC2.CreateTransitGatewayRouteTableCommand({ TransitGatewayId: tgw.TransitGatewayId, DryRun: true })))).code, 'DryRunOperation');
    assert.equal((await ec2Error(c.send(new EC2.CreateTransitGatewayRouteTableCommand({} as EC2.CreateTransitGatewayRouteTableRequest)))).code, 'MissingParameter');
    // the default table is not deleted
    assert.equal((await ec2Error(c.send(new EC2.DeleteTransitGatewayRouteTableCommand({ TransitGatewayRouteTableId: defaultTable })))).code, 'IncorrectState');
    const deleting = (await c.send(new EC2.DeleteTransitGatewayRouteTableCommand({ TransitGatewayRouteTableId: id }))).TransitGatewayRouteTable!;
    assert.equal(deleting.State, 'deleting');
    assert.equal((await settle('deleted', () => describeTable(id), (x) => x.State === 'deleted')).State, 'deleted');
    assert.equal((await ec2Error(c.send(new EC2.DeleteTransitGatewayRouteTableCommand({ TransitGatewayRouteTableId: id })))).code, 'InvalidRouteTableID.NotFound');
  });

  it('Associate / Disassociate: one route table per attachment; associating → associated; disassociating → gone', async () => {
    const { vpcId, subnetIds } = await vpcWithSubnets(c, ++second, ['us-east-1a']);
    const a = await availableAttachment(c, tgw.TransitGatewayId!, vpcId, subnetIds);
    const id = a.TransitGatewayAttachmentId!;
    const blue = await availableTable();
    // associated with the default table already
    const taken = await ec2Error(c.send(new EC2.AssociateTransitGatewayRouteTableCommand({ TransitGatewayRouteTableId: blue, TransitGatewayAttachmentId: id })));
    assert.equal(taken.code, 'Resource.AlreadyAssociated');
    assert.equal((await ec2Error(c.send(new EC2.DisassociateTransitGatewayRouteTableCommand({ TransitGatewayRouteTableId: blue, TransitGatewayAttachmentId: id })))).code, 'InvalidAssociation.NotFound');
    const dis = (await c.send(new EC2.DisassociateTransitGatewayRouteTableCommand({ TransitGatewayRouteTableId: defaultTable, TransitGatewayAttachmentId: id }))).Association!;
    assert.deepEqual(dis, { TransitGatewayRouteTableId: defaultTable, TransitGatewayAttachmentId: id, ResourceId: vpcId, ResourceType: 'vpc', State: 'disassociating' });
    await settle('disassociated', () => describeAttachment(c, id), (x) => x.Association === undefined);
    const assoc = (await c.send(new EC2.AssociateTransitGatewayRouteTableCommand({ TransitGatewayRouteTableId: blue, TransitGatewayAttachmentId: id }))).Association!;
    assert.equal(assoc.State, 'associating');
    const after = await settle('associated', () => describeAttachment(c, id), (x) => x.Association?.State === 'associated');
    assert.equal(after.Association!.TransitGatewayRouteTableId, blue);
    const listed = (await c.send(new EC2.GetTransitGatewayRouteTableAssociationsCommand({ TransitGatewayRouteTableId: blue }))).Associations!;
    assert.deepEqual(listed.map((x) => [x.TransitGatewayAttachmentId, x.State]), [[id, 'associated']]);
    // a route table with an association is not deleted
    assert.equal((await ec2Error(c.send(new EC2.DeleteTransitGatewayRouteTableCommand({ TransitGatewayRouteTableId: blue })))).code, 'IncorrectState');
    // an attachment of another gateway
    const other = await availableTgw(c);
    const v2 = await vpcWithSubnets(c, ++second, ['us-east-1a']);
    const a2 = await availableAttachment(c, other.TransitGatewayId!, v2.vpcId, v2.subnetIds);
    assert.equal((await ec2Error(c.send(new EC2.AssociateTransitGatewayRouteTableCommand({ TransitGatewayRouteTableId: blue, TransitGatewayAttachmentId: a2.TransitGatewayAttachmentId })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new EC2.GetTransitGatewayRouteTableAssociationsCommand({ TransitGatewayRouteTableId: blue, Filters: [f('state', 'x')] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new EC2.GetTransitGatewayRouteTableAssociationsCommand({ TransitGatewayRouteTableId: blue, MaxResults: 2 })))).code, 'InvalidParameterValue');
  });

  it('Enable / DisablePropagation, and the propagated routes: one per CIDR of the attached VPC', async () => {
    const { vpcId, subnetIds } = await vpcWithSubnets(c, ++second, ['us-east-1a']);
    const a = await availableAttachment(c, tgw.TransitGatewayId!, vpcId, subnetIds);
    const id = a.TransitGatewayAttachmentId!;
    const green = await availableTable();
    const enabling = (await c.send(new EC2.EnableTransitGatewayRouteTablePropagationCommand({ TransitGatewayRouteTableId: green, TransitGatewayAttachmentId: id }))).Propagation!;
    assert.deepEqual(enabling, { TransitGatewayAttachmentId: id, ResourceId: vpcId, ResourceType: 'vpc', TransitGatewayRouteTableId: green, State: 'enabling' });
    assert.equal((await ec2Error(c.send(new EC2.EnableTransitGatewayRouteTablePropagationCommand({ TransitGatewayRouteTableId: green, TransitGatewayAttachmentId: id })))).code, 'TransitGatewayRouteTablePropagation.Duplicate');
    await settle(
      'enabled',
      async () => (await c.send(new EC2.GetTransitGatewayRouteTablePropagationsCommand({ TransitGatewayRouteTableId: green }))).TransitGatewayRouteTablePropagations!,
      (ps) => ps.length === 1 && ps[0]!.State === 'enabled',
    );
    const routes = (await search(green, [f('type', 'propagated')])).Routes!;
    assert.deepEqual(routes, [
      { DestinationCidrBlock: `10.${second}.0.0/16`, TransitGatewayAttachments: [{ ResourceId: vpcId, TransitGatewayAttachmentId: id, ResourceType: 'vpc' }], Type: 'propagated', State: 'active' },
    ]);
    // a static route for the same CIDR wins over the propagated one
    await c.send(new EC2.CreateTransitGatewayRouteCommand({ TransitGatewayRouteTableId: green, DestinationCidrBlock: `10.${second}.0.0/16`, Blackhole: true }));
    const same = (await search(green, [f('route-search.exact-match', `10.${second}.0.0/16`)])).Routes!;
    assert.deepEqual(same.map((r) => [r.Type, r.State]), [['static', 'blackhole']]);
    await c.send(new EC2.DeleteTransitGatewayRouteCommand({ TransitGatewayRouteTableId: green, DestinationCidrBlock: `10.${second}.0.0/16` }));
    assert.deepEqual((await search(green, [f('attachment.resource-id', vpcId)])).Routes!.map((r) => r.Type), ['propagated']);
    const disabling = (await c.send(new EC2.DisableTransitGatewayRouteTablePropagationCommand({ TransitGatewayRouteTableId: green, TransitGatewayAttachmentId: id }))).Propagation!;
    assert.equal(disabling.State, 'disabling');
    await settle(
      'disabled',
      async () => (await c.send(new EC2.GetTransitGatewayRouteTablePropagationsCommand({ TransitGatewayRouteTableId: green }))).TransitGatewayRouteTablePropagations!,
      (ps) => ps.length === 0,
    );
    assert.deepEqual((await search(green, [f('type', 'propagated')])).Routes, []);
    assert.equal(
      (await ec2Error(c.send(new EC2.DisableTransitGatewayRouteTablePropagationCommand({ TransitGatewayRouteTableId: green, TransitGatewayAttachmentId: id })))).code,
      'TransitGatewayRouteTablePropagation.NotFound',
    );
  });

  it('static routes: create (to an attachment or blackhole), replace, delete; SearchTransitGatewayRoutes filters', async () => {
    const { vpcId, subnetIds } = await vpcWithSubnets(c, ++second, ['us-east-1a']);
    const a = await availableAttachment(c, tgw.TransitGatewayId!, vpcId, subnetIds);
    const id = a.TransitGatewayAttachmentId!;
    const table = await availableTable();
    const created = (await c.send(new EC2.CreateTransitGatewayRouteCommand({ TransitGatewayRouteTableId: table, DestinationCidrBlock: '172.16.0.0/12', TransitGatewayAttachmentId: id }))).Route!;
    assert.deepEqual(created, {
      DestinationCidrBlock: '172.16.0.0/12',
      TransitGatewayAttachments: [{ ResourceId: vpcId, TransitGatewayAttachmentId: id, ResourceType: 'vpc' }],
      Type: 'static',
      State: 'active',
    });
    const hole = (await c.send(new EC2.CreateTransitGatewayRouteCommand({ TransitGatewayRouteTableId: table, DestinationCidrBlock: '172.16.5.0/24', Blackhole: true }))).Route!;
    assert.equal(hole.State, 'blackhole');
    await c.send(new EC2.CreateTransitGatewayRouteCommand({ TransitGatewayRouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', TransitGatewayAttachmentId: id }));
    await c.send(new EC2.CreateTransitGatewayRouteCommand({ TransitGatewayRouteTableId: table, DestinationCidrBlock: '2001:db8::/32', Blackhole: true }));

    const dests = async (filters: EC2.Filter[]) => (await search(table, filters)).Routes!.map((r) => r.DestinationCidrBlock).sort();
    assert.deepEqual(await dests([f('route-search.exact-match', '172.16.0.0/12')]), ['172.16.0.0/12']);
    assert.deepEqual(await dests([f('route-search.longest-prefix-match', '172.16.5.9')]), ['172.16.5.0/24']);
    assert.deepEqual(await dests([f('route-search.longest-prefix-match', '172.17.0.0/16')]), ['172.16.0.0/12']);
    assert.deepEqual(await dests([f('route-search.longest-prefix-match', '8.8.8.8/32')]), ['0.0.0.0/0']);
    assert.deepEqual(await dests([f('route-search.subnet-of-match', '172.16.0.0/12')]), ['172.16.0.0/12', '172.16.5.0/24']);
    assert.deepEqual(await dests([f('route-search.supernet-of-match', '172.16.5.0/25')]), ['0.0.0.0/0', '172.16.0.0/12', '172.16.5.0/24']);
    assert.deepEqual(await dests([f('route-search.supernet-of-match', '2001:db8:1::/48')]), ['2001:db8::/32']);
    assert.deepEqual(await dests([f('state', 'blackhole')]), ['172.16.5.0/24', '2001:db8::/32']);
    assert.deepEqual(await dests([f('type', 'static'), f('attachment.transit-gateway-attachment-id', id)]), ['0.0.0.0/0', '172.16.0.0/12']);
    const limited = await search(table, [f('type', 'static')], 5);
    assert.equal(limited.AdditionalRoutesAvailable, false);
    assert.equal((await ec2Error(search(table, []))).code, 'MissingParameter');
    assert.equal((await ec2Error(search(table, [f('route-search.longest-prefix-match', 'nope')]))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(search(table, [f('destination', '1')]))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(search(table, [f('type', 'static')], 1001))).code, 'InvalidParameterValue');

    // errors change nothing
    const createErr = (input: Partial<EC2.CreateTransitGatewayRouteRequest>) =>
      ec2Error(c.send(new EC2.CreateTransitGatewayRouteCommand({ TransitGatewayRouteTableId: table, DestinationCidrBlock: '192.168.0.0/16', ...input })));
    assert.equal((await createErr({ TransitGatewayAttachmentId: id, DestinationCidrBlock: '172.16.0.0/12' })).code, 'RouteAlreadyExists');
    assert.equal((await createErr({})).code, 'MissingParameter');
    assert.equal((await createErr({ TransitGatewayAttachmentId: id, Blackhole: true })).code, 'InvalidParameterCombination');
    assert.equal((await createErr({ TransitGatewayAttachmentId: id, DestinationCidrBlock: '192.168.0.1/16' })).code, 'InvalidParameterValue');
    assert.equal((await createErr({ TransitGatewayAttachmentId: 'tgw-attach-0123456789abcdef0' })).code, 'InvalidTransitGatewayAttachmentID.NotFound');
    assert.equal((await createErr({ TransitGatewayAttachmentId: id, TransitGatewayRouteTableId: 'tgw-rtb-0123456789abcdef0' })).code, 'InvalidRouteTableID.NotFound');
    assert.equal((await createErr({ TransitGatewayAttachmentId: id, DryRun: true })).code, 'DryRunOperation');
    assert.deepEqual(await dests([f('route-search.exact-match', '192.168.0.0/16')]), []);

    const replaced = (await c.send(new EC2.ReplaceTransitGatewayRouteCommand({ TransitGatewayRouteTableId: table, DestinationCidrBlock: '172.16.0.0/12', Blackhole: true }))).Route!;
    assert.equal(replaced.State, 'blackhole');
    assert.deepEqual(await dests([f('state', 'blackhole'), f('route-search.exact-match', '172.16.0.0/12')]), ['172.16.0.0/12']);
    assert.equal(
      (await ec2Error(c.send(new EC2.ReplaceTransitGatewayRouteCommand({ TransitGatewayRouteTableId: table, DestinationCidrBlock: '10.99.0.0/16', Blackhole: true })))).code,
      'InvalidRoute.NotFound',
    );
    const deleted = (await c.send(new EC2.DeleteTransitGatewayRouteCommand({ TransitGatewayRouteTableId: table, DestinationCidrBlock: '172.16.5.0/24' }))).Route!;
    assert.equal(deleted.State, 'deleted');
    assert.deepEqual(await dests([f('route-search.exact-match', '172.16.5.0/24')]), []);
    assert.equal((await ec2Error(c.send(new EC2.DeleteTransitGatewayRouteCommand({ TransitGatewayRouteTableId: table, DestinationCidrBlock: '172.16.5.0/24' })))).code, 'InvalidRoute.NotFound');

    // a static route to an attachment that is deleted turns blackhole
    await c.send(new EC2.DeleteTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: id }));
    await settle('deleted', () => describeAttachment(c, id), (x) => x.State === 'deleted');
    assert.deepEqual(await dests([f('route-search.exact-match', '0.0.0.0/0'), f('state', 'blackhole')]), ['0.0.0.0/0']);
  });

  it('VPC route tables: CreateRoute / ReplaceRoute to a transit gateway the VPC is attached to; DescribeRouteTables shows them', async () => {
    const { vpcId, subnetIds } = await vpcWithSubnets(c, ++second, ['us-east-1a']);
    const rtb = (await c.send(new EC2.CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    // not attached yet: the gateway is not found for this VPC
    const early = await ec2Error(c.send(new EC2.CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '10.0.0.0/8', TransitGatewayId: tgw.TransitGatewayId })));
    assert.equal(early.code, 'InvalidTransitGatewayID.NotFound');
    const a = await availableAttachment(c, tgw.TransitGatewayId!, vpcId, subnetIds);
    await c.send(new EC2.CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '10.0.0.0/8', TransitGatewayId: tgw.TransitGatewayId }));
    const routeOf = async () => {
      const table = (await c.send(new EC2.DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables![0]!;
      return table.Routes!.find((r) => r.DestinationCidrBlock === '10.0.0.0/8');
    };
    assert.deepEqual(await routeOf(), { DestinationCidrBlock: '10.0.0.0/8', TransitGatewayId: tgw.TransitGatewayId, Origin: 'CreateRoute', State: 'active' });
    const filtered = await c.send(new EC2.DescribeRouteTablesCommand({ Filters: [f('route.transit-gateway-id', tgw.TransitGatewayId!)] }));
    assert.deepEqual(filtered.RouteTables!.map((x) => x.RouteTableId), [rtb]);
    // inside the VPC's own range: refused as for a gateway
    assert.equal((await ec2Error(c.send(new EC2.CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: `10.${second}.1.0/24`, TransitGatewayId: tgw.TransitGatewayId })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new EC2.CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '192.168.0.0/16', TransitGatewayId: 'tgw-0123456789abcdef0' })))).code, 'InvalidTransitGatewayID.NotFound');
    // ReplaceRoute onto a transit gateway
    const igw = (await c.send(new EC2.CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await c.send(new EC2.AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    await c.send(new EC2.CreateRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw }));
    await c.send(new EC2.ReplaceRouteCommand({ RouteTableId: rtb, DestinationCidrBlock: '0.0.0.0/0', TransitGatewayId: tgw.TransitGatewayId }));
    const table = (await c.send(new EC2.DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables![0]!;
    assert.deepEqual(table.Routes!.find((r) => r.DestinationCidrBlock === '0.0.0.0/0'), { DestinationCidrBlock: '0.0.0.0/0', TransitGatewayId: tgw.TransitGatewayId, Origin: 'CreateRoute', State: 'active' });
    // the attachment deleted: the route is a blackhole
    await c.send(new EC2.DeleteTransitGatewayVpcAttachmentCommand({ TransitGatewayAttachmentId: a.TransitGatewayAttachmentId }));
    await settle('deleted', () => describeAttachment(c, a.TransitGatewayAttachmentId!), (x) => x.State === 'deleted');
    assert.equal((await routeOf())!.State, 'blackhole');
  });
});
