import {
  AttachVpnGatewayCommand,
  CreateCustomerGatewayCommand,
  CreateRouteTableCommand,
  CreateVpcCommand,
  CreateVpnConnectionCommand,
  CreateVpnConnectionRouteCommand,
  CreateVpnGatewayCommand,
  DeleteCustomerGatewayCommand,
  DeleteVpnConnectionCommand,
  DeleteVpnConnectionRouteCommand,
  DeleteVpnGatewayCommand,
  DescribeRouteTablesCommand,
  DescribeVpnConnectionsCommand,
  DescribeVpnGatewaysCommand,
  EnableVgwRoutePropagationCommand,
  ModifyVpnConnectionCommand,
  type EC2Client,
  type VpnConnection,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollUntil } from '../helpers/poll.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('VPN connections', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let vpcId: string;
  let rtb: string;
  let cgw: string;
  let vgw: string;

  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.70.0.0/16' }))).Vpc!.VpcId!;
    rtb = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!.RouteTableId!;
    cgw = (await ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '198.51.100.20', BgpAsn: 65020 }))).CustomerGateway!.CustomerGatewayId!;
    vgw = (await ec2.send(new CreateVpnGatewayCommand({ Type: 'ipsec.1', AmazonSideAsn: 64700 }))).VpnGateway!.VpnGatewayId!;
    await ec2.send(new AttachVpnGatewayCommand({ VpnGatewayId: vgw, VpcId: vpcId }));
    await pollUntil(() => ec2.send(new DescribeVpnGatewaysCommand({ VpnGatewayIds: [vgw] })), (o) => o.VpnGateways![0]!.VpcAttachments![0]!.State === 'attached');
  });
  after(() => t.close());

  const describeOne = async (id: string): Promise<VpnConnection> => (await ec2.send(new DescribeVpnConnectionsCommand({ VpnConnectionIds: [id] }))).VpnConnections![0]!;
  const routes = async () => (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [rtb] }))).RouteTables![0]!.Routes!;

  it('a static connection: tunnels, configuration, telemetry; routes propagate into route tables; deletion', async () => {
    const out = await ec2.send(
      new CreateVpnConnectionCommand({
        Type: 'ipsec.1',
        CustomerGatewayId: cgw,
        VpnGatewayId: vgw,
        Options: { StaticRoutesOnly: true, TunnelOptions: [{ TunnelInsideCidr: '169.254.10.0/30', PreSharedKey: 'secret_key.1' }] },
        TagSpecifications: [{ ResourceType: 'vpn-connection', Tags: [{ Key: 'Name', Value: 'office' }] }],
      }),
    );
    const c = out.VpnConnection!;
    const id = c.VpnConnectionId!;
    assert.match(id, /^vpn-[0-9a-f]{17}$/);
    assert.equal(c.State, 'pending');
    assert.equal(c.Type, 'ipsec.1');
    assert.equal(c.Category, 'VPN');
    assert.equal(c.Options!.StaticRoutesOnly, true);
    const tunnels = c.Options!.TunnelOptions!;
    assert.equal(tunnels.length, 2);
    assert.equal(tunnels[0]!.TunnelInsideCidr, '169.254.10.0/30');
    assert.equal(tunnels[0]!.PreSharedKey, 'secret_key.1');
    assert.match(tunnels[1]!.TunnelInsideCidr!, /^169\.254\.\d+\.\d+\/30$/);
    assert.notEqual(tunnels[1]!.TunnelInsideCidr, tunnels[0]!.TunnelInsideCidr);
    assert.match(tunnels[1]!.PreSharedKey!, /^[A-Za-z1-9._][A-Za-z0-9._]{31}$/);
    assert.deepEqual(c.VgwTelemetry!.map((v) => v.OutsideIpAddress), tunnels.map((x) => x.OutsideIpAddress));
    assert.ok(c.VgwTelemetry!.every((v) => v.Status === 'DOWN' && v.LastStatusChange instanceof Date));
    const config = c.CustomerGatewayConfiguration!;
    assert.match(config, new RegExp(`<vpn_connection id="${id}">`));
    assert.match(config, new RegExp(`<vpn_gateway_id>${vgw}</vpn_gateway_id>`));
    assert.equal(config.split('<ipsec_tunnel>').length - 1, 2);
    assert.match(config, /<pre_shared_key>secret_key\.1<\/pre_shared_key>/);
    assert.match(config, /<ip_address>198\.51\.100\.20<\/ip_address>/);
    assert.match(config, /<ip_address>169\.254\.10\.2<\/ip_address>/, 'the customer side gets the /30\'s second host');
    assert.deepEqual(c.Tags, [{ Key: 'Name', Value: 'office' }]);
    await pollUntil(() => describeOne(id), (x) => x.State === 'available');

    await ec2.send(new CreateVpnConnectionRouteCommand({ VpnConnectionId: id, DestinationCidrBlock: '192.168.10.0/24' }));
    assert.equal((await ec2Error(ec2.send(new CreateVpnConnectionRouteCommand({ VpnConnectionId: id, DestinationCidrBlock: '192.168.10.0/24' })))).code, 'RouteAlreadyExists');
    assert.equal((await ec2Error(ec2.send(new CreateVpnConnectionRouteCommand({ VpnConnectionId: id, DestinationCidrBlock: '192.168.10.1/24' })))).code, 'InvalidParameterValue');
    const withRoute = await pollUntil(() => describeOne(id), (x) => x.Routes?.[0]?.State === 'available');
    assert.deepEqual(withRoute.Routes, [{ DestinationCidrBlock: '192.168.10.0/24', Source: 'Static', State: 'available' }]);
    const byRoute = await ec2.send(new DescribeVpnConnectionsCommand({ Filters: [{ Name: 'route.destination-cidr-block', Values: ['192.168.10.0/24'] }] }));
    assert.deepEqual(byRoute.VpnConnections!.map((x) => x.VpnConnectionId), [id]);

    assert.ok(!(await routes()).some((r) => r.Origin === 'EnableVgwRoutePropagation'));
    await ec2.send(new EnableVgwRoutePropagationCommand({ RouteTableId: rtb, GatewayId: vgw }));
    const learned = (await routes()).find((r) => r.Origin === 'EnableVgwRoutePropagation');
    assert.deepEqual(learned, { DestinationCidrBlock: '192.168.10.0/24', GatewayId: vgw, Origin: 'EnableVgwRoutePropagation', State: 'active' });

    await ec2.send(new DeleteVpnConnectionRouteCommand({ VpnConnectionId: id, DestinationCidrBlock: '192.168.10.0/24' }));
    await pollUntil(() => describeOne(id), (x) => (x.Routes ?? []).length === 0);
    assert.ok(!(await routes()).some((r) => r.Origin === 'EnableVgwRoutePropagation'));
    assert.equal((await ec2Error(ec2.send(new DeleteVpnConnectionRouteCommand({ VpnConnectionId: id, DestinationCidrBlock: '192.168.10.0/24' })))).code, 'InvalidRoute.NotFound');

    assert.equal((await ec2Error(ec2.send(new DeleteCustomerGatewayCommand({ CustomerGatewayId: cgw })))).code, 'IncorrectState');
    assert.equal((await ec2Error(ec2.send(new DeleteVpnGatewayCommand({ VpnGatewayId: vgw })))).code, 'IncorrectState');
    await ec2.send(new DeleteVpnConnectionCommand({ VpnConnectionId: id }));
    const gone = await pollUntil(() => describeOne(id), (x) => x.State === 'deleted');
    assert.equal(gone.CustomerGatewayId, cgw);
    assert.equal((await ec2Error(ec2.send(new DeleteVpnConnectionCommand({ VpnConnectionId: id })))).code, 'InvalidVpnConnectionID.NotFound');
    assert.equal((await ec2Error(ec2.send(new CreateVpnConnectionRouteCommand({ VpnConnectionId: id, DestinationCidrBlock: '10.1.0.0/16' })))).code, 'InvalidVpnConnectionID.NotFound');
  });

  it('a BGP connection: no static routes; BGP in the configuration; filters', async () => {
    const c = (await ec2.send(new CreateVpnConnectionCommand({ Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw }))).VpnConnection!;
    assert.equal(c.Options!.StaticRoutesOnly, false);
    assert.match(c.CustomerGatewayConfiguration!, /<bgp><asn>65020<\/asn>/);
    assert.match(c.CustomerGatewayConfiguration!, /<bgp><asn>64700<\/asn>/);
    assert.equal((await ec2Error(ec2.send(new CreateVpnConnectionRouteCommand({ VpnConnectionId: c.VpnConnectionId, DestinationCidrBlock: '10.9.0.0/16' })))).code, 'InvalidParameterValue');
    const byAsn = await ec2.send(new DescribeVpnConnectionsCommand({ Filters: [{ Name: 'bgp-asn', Values: ['65020'] }, { Name: 'option.static-routes-only', Values: ['false'] }] }));
    assert.deepEqual(byAsn.VpnConnections!.map((x) => x.VpnConnectionId), [c.VpnConnectionId]);
    const byGw = await ec2.send(new DescribeVpnConnectionsCommand({ Filters: [{ Name: 'vpn-gateway-id', Values: [vgw] }, { Name: 'customer-gateway-id', Values: [cgw] }, { Name: 'state', Values: ['pending', 'available'] }] }));
    assert.deepEqual(byGw.VpnConnections!.map((x) => x.VpnConnectionId), [c.VpnConnectionId]);
    assert.equal((await ec2Error(ec2.send(new DescribeVpnConnectionsCommand({ Filters: [{ Name: 'nope', Values: ['1'] }] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new DescribeVpnConnectionsCommand({ VpnConnectionIds: ['vpn-0123456789abcdef0'] })))).code, 'InvalidVpnConnectionID.NotFound');
  });

  it('ModifyVpnConnection moves the connection to another gateway (associating → associated)', async () => {
    const c = (await ec2.send(new CreateVpnConnectionCommand({ Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { StaticRoutesOnly: true } }))).VpnConnection!;
    const other = (await ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '198.51.100.21' }))).CustomerGateway!.CustomerGatewayId!;
    const out = await ec2.send(new ModifyVpnConnectionCommand({ VpnConnectionId: c.VpnConnectionId, CustomerGatewayId: other }));
    assert.equal(out.VpnConnection!.CustomerGatewayId, other);
    assert.equal(out.VpnConnection!.GatewayAssociationState, 'associating');
    assert.match(out.VpnConnection!.CustomerGatewayConfiguration!, /198\.51\.100\.21/);
    await pollUntil(() => describeOne(c.VpnConnectionId!), (x) => x.GatewayAssociationState === 'associated');
    assert.equal((await ec2Error(ec2.send(new ModifyVpnConnectionCommand({ VpnConnectionId: c.VpnConnectionId })))).code, 'MissingParameter');
    assert.equal((await ec2Error(ec2.send(new ModifyVpnConnectionCommand({ VpnConnectionId: c.VpnConnectionId, CustomerGatewayId: other, VpnGatewayId: vgw })))).code, 'InvalidParameterCombination');
    assert.equal((await ec2Error(ec2.send(new ModifyVpnConnectionCommand({ VpnConnectionId: c.VpnConnectionId, TransitGatewayId: 'tgw-0123456789abcdef0' })))).code, 'InvalidTransitGatewayID.NotFound');
  });

  it('refuses what EC2 refuses and changes nothing; DryRun', async () => {
    const count = async () => (await ec2.send(new DescribeVpnConnectionsCommand({}))).VpnConnections!.length;
    const before = await count();
    const bad = [
      { Type: 'ipsec.1', CustomerGatewayId: cgw },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, TransitGatewayId: 'tgw-0123456789abcdef0' },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, TransitGatewayId: 'tgw-0123456789abcdef0' },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, TransitGatewayId: 'tgw-nope' },
      { Type: 'ipsec.1', CustomerGatewayId: 'cgw-0123456789abcdef0', VpnGatewayId: vgw },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: 'vgw-0123456789abcdef0' },
      { Type: 'ipsec.2', CustomerGatewayId: cgw, VpnGatewayId: vgw },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { TunnelOptions: [{ TunnelInsideCidr: '169.254.1.0/30' }] } },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { TunnelOptions: [{ TunnelInsideCidr: '10.0.0.0/30' }] } },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { TunnelOptions: [{ TunnelInsideCidr: '169.254.20.0/30' }, { TunnelInsideCidr: '169.254.20.0/30' }] } },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { TunnelOptions: [{ PreSharedKey: '0starts_with_zero' }] } },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { TunnelOptions: [{ PreSharedKey: 'short' }] } },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { TunnelOptions: [{ Phase1LifetimeSeconds: 100 }] } },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { TunnelOptions: [{ PreSharedKey: 'key_number_1' }, { PreSharedKey: 'key_number_2' }, { PreSharedKey: 'key_number_3' }] } },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { EnableAcceleration: true } },
      { Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, Options: { LocalIpv4NetworkCidr: '10.0.0.1/8' } },
    ];
    const codes: string[] = [];
    for (const [i, input] of bad.entries()) codes.push((await ec2Error(ec2.send(new CreateVpnConnectionCommand(input as never))).catch((e: Error) => ({ code: `${i}: ${e.message}` }))).code);
    assert.deepEqual(codes, [
      'MissingParameter',
      'InvalidParameterCombination',
      'InvalidTransitGatewayID.NotFound',
      'InvalidTransitGatewayID.Malformed',
      'InvalidCustomerGatewayID.NotFound',
      'InvalidVpnGatewayID.NotFound',
      'InvalidParameterValue',
      'InvalidParameterValue',
      'InvalidParameterValue',
      'InvalidParameterValue',
      'InvalidParameterValue',
      'InvalidParameterValue',
      'InvalidParameterValue',
      'InvalidParameterValue',
      'InvalidParameterCombination',
      'InvalidParameterValue',
    ]);
    assert.equal((await ec2Error(ec2.send(new CreateVpnConnectionCommand({ Type: 'ipsec.1', CustomerGatewayId: cgw, VpnGatewayId: vgw, DryRun: true })))).code, 'DryRunOperation');
    assert.equal(await count(), before);
  });
});
