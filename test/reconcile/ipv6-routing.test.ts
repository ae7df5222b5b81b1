/**
 * IPv6 routing on the fabric (mock): the API's records (through the dispatcher, as the SDK would
 * call it) become each network's routeIpv6 — internet subnets while a route table sends IPv6 to
 * the attached internet gateway, egress-only subnets with a route to an egress-only gateway —
 * and lose it when the gateway is detached or deleted. The real traffic is
 * test/network/netns-ipv6.test.ts and test/integration/real-ipv6.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import { MockFabric } from '../../src/network/drivers/mock-fabric.js';
import { Ipv6RoutingReconciler } from '../../src/reconcile/ipv6-routing.js';
import type { ChangeEvent } from '../../src/resources/context.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { formatIpv6, parseCidr6 } from '../../src/domain/cidr.js';

const POOL6 = 'fd0f:ec20:6800::/40';

async function setup() {
  const store = new SqliteStore(':memory:');
  const config: Config = { ...loadConfig(['--ipv6-pool', POOL6], {}), dataDir: ':memory:' };
  const fabric = new MockFabric({ ipv6Pool: POOL6 });
  const r = new Ipv6RoutingReconciler({ store, config, fabric, log: () => {}, retryBaseMs: 5, resyncMs: 0 });
  const d = new Dispatcher(store, config, ec2Modules, (e: ChangeEvent) => r.handle(e));
  await r.start();
  const call = <T = Record<string, unknown>>(action: string, input: Record<string, unknown>): T => d.invoke(action, 'us-east-1', 'req', input) as T;
  const settle = async () => {
    for (let i = 0; i < 3; i++) await r.idle();
  };
  const routingOf = async (vpcId: string) => (await fabric.list()).ipv6Routing?.find((x) => x.vpcId === vpcId);
  return { fabric, call, settle, routingOf, close: async () => (await r.stop(), store.close()) };
}

describe('reconcile/ipv6-routing (mock fabric)', () => {
  it('a route to the attached internet gateway makes its subnets internet ones; detached: none; an egress-only gateway: egress-only', async () => {
    const { fabric, call, settle, routingOf, close } = await setup();
    try {
      const vpc = call<{ Vpc: { VpcId: string; Ipv6CidrBlockAssociationSet: { Ipv6CidrBlock: string }[] } }>('CreateVpc', { CidrBlock: '10.1.0.0/16', AmazonProvidedIpv6CidrBlock: true }).Vpc;
      const block = vpc.Ipv6CidrBlockAssociationSet[0]!.Ipv6CidrBlock;
      const parsed = parseCidr6(block)!;
      assert.equal(parsed.prefix, 56);
      assert.equal(parsed.address >> 88n, parseCidr6(POOL6)!.address >> 88n, `${block} comes from the configured pool`);
      const sub6 = (n: number) => `${formatIpv6(parsed.address + (BigInt(n) << 64n))}/64`;
      const s1 = call<{ Subnet: { SubnetId: string } }>('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.1.1.0/24', Ipv6CidrBlock: sub6(1) }).Subnet.SubnetId;
      const s2 = call<{ Subnet: { SubnetId: string } }>('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.1.2.0/24', Ipv6CidrBlock: sub6(2) }).Subnet.SubnetId;
      call('CreateSubnet', { VpcId: vpc.VpcId, CidrBlock: '10.1.3.0/24' });
      const main = call<{ RouteTables: { RouteTableId: string }[] }>('DescribeRouteTables', { Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId] }, { Name: 'association.main', Values: ['true'] }] }).RouteTables[0]!.RouteTableId;
      await settle();
      assert.equal(await routingOf(vpc.VpcId), undefined, 'no path: no network made for it');
      assert.ok(!(await fabric.list()).networks.some((n) => n.vpcId === vpc.VpcId));

      const igw = call<{ InternetGateway: { InternetGatewayId: string } }>('CreateInternetGateway', {}).InternetGateway.InternetGatewayId;
      call('AttachInternetGateway', { InternetGatewayId: igw, VpcId: vpc.VpcId });
      await settle();
      assert.equal(await routingOf(vpc.VpcId), undefined, 'attached, but no route to it: nothing');
      call('CreateRoute', { RouteTableId: main, DestinationIpv6CidrBlock: '::/0', GatewayId: igw });
      await settle();
      assert.deepEqual(await routingOf(vpc.VpcId), { vpcId: vpc.VpcId, blocks: [block], internet: [sub6(1), sub6(2)].sort(), egressOnly: [] }, 'both IPv6 subnets use the main table');

      // subnet 2 gets a table of its own routing IPv6 to an egress-only gateway
      const eigw = call<{ EgressOnlyInternetGateway: { EgressOnlyInternetGatewayId: string } }>('CreateEgressOnlyInternetGateway', { VpcId: vpc.VpcId }).EgressOnlyInternetGateway.EgressOnlyInternetGatewayId;
      const rt = call<{ RouteTable: { RouteTableId: string } }>('CreateRouteTable', { VpcId: vpc.VpcId }).RouteTable.RouteTableId;
      call('CreateRoute', { RouteTableId: rt, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: eigw });
      call('AssociateRouteTable', { RouteTableId: rt, SubnetId: s2 });
      await settle();
      assert.deepEqual(await routingOf(vpc.VpcId), { vpcId: vpc.VpcId, blocks: [block], internet: [sub6(1)], egressOnly: [sub6(2)] });

      call('DetachInternetGateway', { InternetGatewayId: igw, VpcId: vpc.VpcId });
      await settle();
      assert.deepEqual(await routingOf(vpc.VpcId), { vpcId: vpc.VpcId, blocks: [block], internet: [], egressOnly: [sub6(2)] }, 'detached: its routes carry nothing');
      call('DeleteEgressOnlyInternetGateway', { EgressOnlyInternetGatewayId: eigw });
      await settle();
      assert.deepEqual(await routingOf(vpc.VpcId), { vpcId: vpc.VpcId, blocks: [block], internet: [], egressOnly: [] }, 'the VPC’s blocks only, no path: nothing beyond the network');
      assert.ok((await fabric.list()).networks.some((n) => n.vpcId === vpc.VpcId), 'the network made for the path stays');
      void s1;
    } finally {
      await close();
    }
  });
});
