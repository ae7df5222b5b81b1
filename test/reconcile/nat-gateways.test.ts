/**
 * NAT gateways on the fabric (mock): an available gateway (through the dispatcher, as the SDK
 * would call it) is put on its VPC's network with the routes its route tables send to it, from
 * each subnet using them; deleting it takes it off (its routes turn blackhole); a restarted
 * reconciler puts back what is missing and removes what the store no longer knows. The real
 * fabric's traffic is test/network/netns-fabric.test.ts and test/integration/real-nat-gateways.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import { MockFabric } from '../../src/network/drivers/mock-fabric.js';
import { NatGatewayReconciler } from '../../src/reconcile/nat-gateways.js';
import { RecordStateReconciler } from '../../src/reconcile/record-states.js';
import type { ChangeEvent } from '../../src/resources/context.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const EAST = 'us-east-1';

async function setup() {
  const store = new SqliteStore(':memory:');
  const config: Config = { ...loadConfig([], {}), dataDir: ':memory:' };
  const fabric = new MockFabric();
  let nats = new NatGatewayReconciler({ store, config, fabric, log: () => {}, retryBaseMs: 5, resyncMs: 0 });
  const states = new RecordStateReconciler({ store, config, log: () => {}, resyncMs: 0, onChange: (e) => nats.handle(e) });
  const onChange = (e: ChangeEvent) => {
    nats.handle(e);
    states.handle(e);
  };
  const d = new Dispatcher(store, config, ec2Modules, onChange);
  await nats.start();
  await states.start();
  const call = <T = Record<string, unknown>>(action: string, input: Record<string, unknown>): T => d.invoke(action, EAST, 'req', input) as T;
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      await states.idle();
      await nats.idle();
    }
  };
  /** a VPC with an internet gateway, a public subnet (main table: 0.0.0.0/0 → igw) and private subnets with a table of their own */
  const vpc = (cidr: string) => {
    const v = call<{ Vpc: { VpcId: string; CidrBlock: string } }>('CreateVpc', { CidrBlock: cidr }).Vpc;
    const igw = call<{ InternetGateway: { InternetGatewayId: string } }>('CreateInternetGateway', {}).InternetGateway.InternetGatewayId;
    call('AttachInternetGateway', { InternetGatewayId: igw, VpcId: v.VpcId });
    const main = call<{ RouteTables: { RouteTableId: string }[] }>('DescribeRouteTables', { Filters: [{ Name: 'vpc-id', Values: [v.VpcId] }, { Name: 'association.main', Values: ['true'] }] }).RouteTables[0]!.RouteTableId;
    call('CreateRoute', { RouteTableId: main, DestinationCidrBlock: '0.0.0.0/0', GatewayId: igw });
    const subnet = (c: string) => call<{ Subnet: { SubnetId: string } }>('CreateSubnet', { VpcId: v.VpcId, CidrBlock: c }).Subnet.SubnetId;
    const privateTable = call<{ RouteTable: { RouteTableId: string } }>('CreateRouteTable', { VpcId: v.VpcId }).RouteTable.RouteTableId;
    const privateSubnet = (c: string) => {
      const s = subnet(c);
      call('AssociateRouteTable', { RouteTableId: privateTable, SubnetId: s });
      return s;
    };
    return { id: v.VpcId, subnet, privateSubnet, main, privateTable };
  };
  const nat = async (subnetId: string, connectivity: 'public' | 'private' = 'public') => {
    const eip = connectivity === 'public' ? call<{ AllocationId: string; PublicIp: string }>('AllocateAddress', { Domain: 'vpc' }) : undefined;
    const n = call<{ NatGateway: { NatGatewayId: string; NatGatewayAddresses: { PrivateIp: string }[] } }>('CreateNatGateway', {
      SubnetId: subnetId,
      ConnectivityType: connectivity,
      ...(eip ? { AllocationId: eip.AllocationId } : {}),
    }).NatGateway;
    await settle();
    return { id: n.NatGatewayId, privateIp: n.NatGatewayAddresses[0]!.PrivateIp, publicIp: eip?.PublicIp };
  };
  const onFabric = async (id: string) => (await fabric.list()).natGateways.find((g) => g.natGatewayId === id);
  const routeState = (table: string, id: string) =>
    call<{ RouteTables: { Routes: { NatGatewayId?: string; State?: string }[] }[] }>('DescribeRouteTables', { RouteTableIds: [table] }).RouteTables[0]!.Routes.find((r) => r.NatGatewayId === id)?.State;
  const restart = async () => {
    await nats.stop();
    nats = new NatGatewayReconciler({ store, config, fabric, log: () => {}, retryBaseMs: 5, resyncMs: 0 });
    await nats.start();
  };
  const close = async () => {
    await states.stop();
    await nats.stop();
    store.close();
  };
  return { fabric, call, settle, vpc, nat, onFabric, routeState, restart, close };
}

describe('reconcile/nat-gateways (mock fabric)', () => {
  it('an available public gateway is on the fabric with its Elastic IP; a route to it carries each subnet using the table, its own subnet never; deleted, it is gone and its routes are blackholes', async () => {
    const { fabric, call, settle, vpc, nat, onFabric, routeState, close } = await setup();
    try {
      const v = vpc('10.5.0.0/16');
      const pub = v.subnet('10.5.0.0/24');
      v.privateSubnet('10.5.1.0/24');
      v.privateSubnet('10.5.2.0/24');
      const g = await nat(pub);
      const on = await onFabric(g.id);
      assert.ok(on, 'available: on the fabric');
      assert.equal(on.publicIp, g.publicIp);
      assert.equal(on.privateIp, g.privateIp);
      assert.equal(on.subnetCidr, '10.5.0.0/24');
      assert.deepEqual(on.routes, [], 'no route to it yet');
      assert.equal(fabric.natSource(v.id, '10.5.1.10', '198.51.100.7'), undefined, 'no path without the route');

      call('CreateRoute', { RouteTableId: v.privateTable, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: g.id });
      await settle();
      assert.deepEqual((await onFabric(g.id))!.routes.map((r) => `${r.source} > ${r.destination}`).sort(), ['10.5.1.0/24 > 0.0.0.0/0', '10.5.2.0/24 > 0.0.0.0/0']);
      assert.equal(fabric.natSource(v.id, '10.5.1.10', '198.51.100.7'), g.publicIp, 'leaves as the Elastic IP');
      assert.equal(fabric.natSource(v.id, '10.5.1.10', '10.5.0.9'), undefined, 'its own VPC stays local');
      assert.equal(routeState(v.privateTable, g.id), 'active');

      // the main table sending to it too: the other subnets using it are carried, the gateway's own is not
      const other = v.subnet('10.5.3.0/24');
      call('ReplaceRoute', { RouteTableId: v.main, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: g.id });
      await settle();
      assert.ok((await onFabric(g.id))!.routes.some((r) => r.source === '10.5.3.0/24'), `${other} (main table) is carried`);
      assert.ok(!(await onFabric(g.id))!.routes.some((r) => r.source === '10.5.0.0/24'), 'the gateway’s own subnet is not');

      call('DeleteNatGateway', { NatGatewayId: g.id });
      await settle();
      assert.equal(await onFabric(g.id), undefined, 'deleted: off the fabric');
      assert.equal(fabric.natSource(v.id, '10.5.1.10', '198.51.100.7'), undefined);
      assert.equal(routeState(v.privateTable, g.id), 'blackhole');
    } finally {
      await close();
    }
  });

  it('a route to a managed prefix list carries its IPv4 entries, and follows the list when it changes', async () => {
    const { fabric, call, settle, vpc, nat, onFabric, close } = await setup();
    try {
      const v = vpc('10.7.0.0/16');
      const pub = v.subnet('10.7.0.0/24');
      v.privateSubnet('10.7.1.0/24');
      const g = await nat(pub);
      const pl = call<{ PrefixList: { PrefixListId: string; Version: number } }>('CreateManagedPrefixList', {
        PrefixListName: 'partners',
        AddressFamily: 'IPv4',
        MaxEntries: 5,
        Entries: [{ Cidr: '198.51.100.0/28' }, { Cidr: '203.0.113.0/24' }],
      }).PrefixList;
      call('CreateRoute', { RouteTableId: v.privateTable, DestinationPrefixListId: pl.PrefixListId, NatGatewayId: g.id });
      await settle();
      const dests = async () => (await onFabric(g.id))!.routes.map((r) => `${r.source} > ${r.destination}`).sort();
      assert.deepEqual(await dests(), ['10.7.1.0/24 > 198.51.100.0/28', '10.7.1.0/24 > 203.0.113.0/24']);
      assert.equal(fabric.natSource(v.id, '10.7.1.10', '203.0.113.9'), g.publicIp, 'an entry of the list goes through the gateway');
      assert.equal(fabric.natSource(v.id, '10.7.1.10', '192.0.2.9'), undefined, 'what the list does not hold does not');
      call('ModifyManagedPrefixList', { PrefixListId: pl.PrefixListId, CurrentVersion: pl.Version, AddEntries: [{ Cidr: '192.0.2.0/24' }], RemoveEntries: [{ Cidr: '198.51.100.0/28' }] });
      await settle();
      assert.deepEqual(await dests(), ['10.7.1.0/24 > 192.0.2.0/24', '10.7.1.0/24 > 203.0.113.0/24'], 'the list changed: so did the routes');
    } finally {
      await close();
    }
  });

  it('a private gateway translates to its private address; a route change replaces the routes', async () => {
    const { fabric, call, settle, vpc, nat, onFabric, close } = await setup();
    try {
      const v = vpc('10.6.0.0/16');
      const s = v.subnet('10.6.0.0/24');
      v.privateSubnet('10.6.1.0/24');
      const g = await nat(s, 'private');
      assert.equal((await onFabric(g.id))!.publicIp, undefined);
      call('CreateRoute', { RouteTableId: v.privateTable, DestinationCidrBlock: '10.100.0.0/16', NatGatewayId: g.id });
      await settle();
      assert.equal(fabric.natSource(v.id, '10.6.1.10', '10.100.3.4'), g.privateIp);
      assert.equal(fabric.natSource(v.id, '10.6.1.10', '198.51.100.7'), undefined, 'only what the route names');
      call('DeleteRoute', { RouteTableId: v.privateTable, DestinationCidrBlock: '10.100.0.0/16' });
      await settle();
      assert.deepEqual((await onFabric(g.id))!.routes, []);
    } finally {
      await close();
    }
  });

  it('a restarted reconciler puts back a gateway the fabric lost and removes one the store does not know', async () => {
    const { fabric, call, settle, vpc, nat, onFabric, restart, close } = await setup();
    try {
      const v = vpc('10.7.0.0/16');
      const g = await nat(v.subnet('10.7.0.0/24'));
      v.privateSubnet('10.7.1.0/24');
      call('CreateRoute', { RouteTableId: v.privateTable, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: g.id });
      await settle();
      const want = await onFabric(g.id);
      // behind the reconciler's back: the gateway gone, a stranger there
      await fabric.removeNatGateway(g.id);
      const stranger = { ...want!, natGatewayId: 'nat-0000000000stranger', mac: '02:00:00:00:00:99', privateIp: '10.7.0.200', routes: [] };
      delete (stranger as { publicIp?: string }).publicIp;
      await fabric.ensureNatGateway(stranger);
      await restart();
      await settle();
      assert.deepEqual(await onFabric(g.id), want, 'put back as it was');
      assert.equal(await onFabric(stranger.natGatewayId), undefined, 'the unknown one is removed');
    } finally {
      await close();
    }
  });
});
