/**
 * VPC peering on the fabric (mock): the API's records (through the dispatcher, as the SDK would
 * call it) become fabric links with the routes the two sides' route tables hold, and lose them
 * when the routes, the associations or the connection go. The real fabric's traffic is
 * test/network/netns-fabric.test.ts and test/integration/real-peering.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import { loadConfig, type Config } from '../../src/config.js';
import { MockFabric } from '../../src/network/drivers/mock-fabric.js';
import { PeeringLinkReconciler } from '../../src/reconcile/peering-links.js';
import { RecordStateReconciler } from '../../src/reconcile/record-states.js';
import type { ChangeEvent } from '../../src/resources/context.js';
import { SqliteStore } from '../../src/store/sqlite.js';

const EAST = 'us-east-1';
const WEST = 'eu-west-1';

async function setup() {
  const store = new SqliteStore(':memory:');
  const config: Config = { ...loadConfig([], {}), dataDir: ':memory:' };
  const fabric = new MockFabric();
  const links = new PeeringLinkReconciler({ store, config, fabric, log: () => {}, retryBaseMs: 5, resyncMs: 0 });
  const states = new RecordStateReconciler({ store, config, log: () => {}, resyncMs: 0, onChange: (e) => links.handle(e) });
  const onChange = (e: ChangeEvent) => {
    links.handle(e);
    states.handle(e);
  };
  const d = new Dispatcher(store, config, ec2Modules, onChange);
  await links.start();
  await states.start();
  const call = <T = Record<string, unknown>>(action: string, input: Record<string, unknown>, region = EAST): T => d.invoke(action, region, 'req', input) as T;
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      await states.idle();
      await links.idle();
    }
  };
  const vpc = (cidr: string, region = EAST) => {
    const v = call<{ Vpc: { VpcId: string } }>('CreateVpc', { CidrBlock: cidr }, region).Vpc.VpcId;
    const subnet = (c: string) => call<{ Subnet: { SubnetId: string } }>('CreateSubnet', { VpcId: v, CidrBlock: c }, region).Subnet.SubnetId;
    const main = call<{ RouteTables: { RouteTableId: string }[] }>('DescribeRouteTables', { Filters: [{ Name: 'vpc-id', Values: [v] }, { Name: 'association.main', Values: ['true'] }] }, region).RouteTables[0]!.RouteTableId;
    return { id: v, subnet, main };
  };
  const peer = async (a: string, b: string, peerRegion = EAST) => {
    const id = call<{ VpcPeeringConnection: { VpcPeeringConnectionId: string } }>('CreateVpcPeeringConnection', { VpcId: a, PeerVpcId: b, PeerRegion: peerRegion }).VpcPeeringConnection.VpcPeeringConnectionId;
    await settle();
    call('AcceptVpcPeeringConnection', { VpcPeeringConnectionId: id }, peerRegion);
    await settle();
    return id;
  };
  const routesOf = async (id: string) =>
    ((await fabric.list()).links.find((l) => l.linkId === id)?.routes ?? []).map((r) => `${r.vpcId} ${r.source} > ${r.destination}`).sort();
  const close = async () => {
    await states.stop();
    await links.stop();
    store.close();
  };
  return { fabric, call, settle, vpc, peer, routesOf, close };
}

describe('reconcile/peering-links (mock fabric)', () => {
  it('an active connection with routes on both sides is a link with those routes; a route to part of the peer is that part; deleting the connection disconnects it', async () => {
    const { fabric, call, settle, vpc, peer, routesOf, close } = await setup();
    try {
      const a = vpc('10.1.0.0/16');
      const b = vpc('10.2.0.0/16');
      const a1 = a.subnet('10.1.1.0/24');
      const a2 = a.subnet('10.1.2.0/24');
      const b1 = b.subnet('10.2.1.0/24');
      const pcx = await peer(a.id, b.id);
      assert.deepEqual(await routesOf(pcx), [], 'active, but no route yet: no link');
      assert.ok(!(await fabric.list()).links.some((l) => l.linkId === pcx));

      call('CreateRoute', { RouteTableId: a.main, DestinationCidrBlock: '10.2.0.0/16', VpcPeeringConnectionId: pcx });
      await settle();
      // the main table serves both subnets of A
      assert.deepEqual(await routesOf(pcx), [`${a.id} 10.1.1.0/24 > 10.2.0.0/16`, `${a.id} 10.1.2.0/24 > 10.2.0.0/16`]);
      // the networks exist for it, whether or not an instance ever ran
      assert.deepEqual((await fabric.list()).networks.map((n) => n.vpcId).sort(), [a.id, b.id].sort());

      // B's route back covers a part of A only: 10.1.1.0/25 (a route wider than the peer is cut to it)
      call('CreateRoute', { RouteTableId: b.main, DestinationCidrBlock: '10.1.1.0/25', VpcPeeringConnectionId: pcx });
      await settle();
      assert.ok(fabric.routes(b.id, '10.2.1.10', a.id, '10.1.1.10'), 'b1 → a1');
      assert.ok(!fabric.routes(b.id, '10.2.1.10', a.id, '10.1.1.200'), 'b1 ↛ a1 beyond the /25');
      assert.ok(!fabric.routes(b.id, '10.2.1.10', a.id, '10.1.2.10'), 'b1 ↛ a2');
      call('ReplaceRoute', { RouteTableId: b.main, DestinationCidrBlock: '10.1.1.0/25', VpcPeeringConnectionId: pcx });
      call('DeleteRoute', { RouteTableId: b.main, DestinationCidrBlock: '10.1.1.0/25' });
      call('CreateRoute', { RouteTableId: b.main, DestinationCidrBlock: '0.0.0.0/0', VpcPeeringConnectionId: pcx });
      await settle();
      assert.ok((await routesOf(pcx)).includes(`${b.id} 10.2.1.0/24 > 10.1.0.0/16`), 'a default route to the peer is its VPC block');

      // a subnet of A given its own table without the route stops sending; associated back, it sends again
      const own = call<{ RouteTable: { RouteTableId: string } }>('CreateRouteTable', { VpcId: a.id }).RouteTable.RouteTableId;
      const assoc = call<{ AssociationId: string }>('AssociateRouteTable', { RouteTableId: own, SubnetId: a2 }).AssociationId;
      await settle();
      assert.ok(!fabric.routes(a.id, '10.1.2.10', b.id, '10.2.1.10'), 'a2 (own table, no route) ↛ b1');
      assert.ok(fabric.routes(a.id, '10.1.1.10', b.id, '10.2.1.10'), 'a1 (main table) → b1');
      call('DisassociateRouteTable', { AssociationId: assoc });
      await settle();
      assert.ok(fabric.routes(a.id, '10.1.2.10', b.id, '10.2.1.10'), 'a2 on the main table again → b1');
      // a new subnet on the main table sends at once
      b.subnet('10.2.2.0/24');
      await settle();
      assert.ok(fabric.routes(b.id, '10.2.2.10', a.id, '10.1.1.10'), 'a new subnet of B → a1');
      void b1;

      call('DeleteVpcPeeringConnection', { VpcPeeringConnectionId: pcx });
      await settle();
      assert.equal((await fabric.list()).links.length, 0, 'deleted: disconnected');
      const states = call<{ RouteTables: { Routes: { VpcPeeringConnectionId?: string; State: string }[] }[] }>('DescribeRouteTables', { RouteTableIds: [a.main] });
      assert.equal(states.RouteTables[0]!.Routes.find((r) => r.VpcPeeringConnectionId === pcx)?.State, 'blackhole');
    } finally {
      await close();
    }
  });

  it('deleting the last route disconnects; a rejected or still pending connection is never linked', async () => {
    const { fabric, call, settle, vpc, peer, close } = await setup();
    try {
      const a = vpc('10.3.0.0/16');
      const b = vpc('10.4.0.0/16');
      a.subnet('10.3.1.0/24');
      const pcx = await peer(a.id, b.id);
      call('CreateRoute', { RouteTableId: a.main, DestinationCidrBlock: '10.4.0.0/16', VpcPeeringConnectionId: pcx });
      await settle();
      assert.equal((await fabric.list()).links.length, 1);
      call('DeleteRoute', { RouteTableId: a.main, DestinationCidrBlock: '10.4.0.0/16' });
      await settle();
      assert.equal((await fabric.list()).links.length, 0, 'no route: no link');

      const c = vpc('10.5.0.0/16');
      const pending = call<{ VpcPeeringConnection: { VpcPeeringConnectionId: string } }>('CreateVpcPeeringConnection', { VpcId: a.id, PeerVpcId: c.id }).VpcPeeringConnection.VpcPeeringConnectionId;
      await settle();
      call('CreateRoute', { RouteTableId: a.main, DestinationCidrBlock: '10.5.0.0/16', VpcPeeringConnectionId: pending });
      await settle();
      assert.equal((await fabric.list()).links.length, 0, 'pending-acceptance: no link');
      call('RejectVpcPeeringConnection', { VpcPeeringConnectionId: pending });
      await settle();
      assert.equal((await fabric.list()).links.length, 0, 'rejected: no link');
    } finally {
      await close();
    }
  });

  it('a connection between two regions is one link, each side’s routes read in its own region', async () => {
    const { fabric, call, settle, vpc, peer, routesOf, close } = await setup();
    try {
      const a = vpc('10.6.0.0/16');
      const w = vpc('10.7.0.0/16', WEST);
      a.subnet('10.6.1.0/24');
      w.subnet('10.7.1.0/24');
      const pcx = await peer(a.id, w.id, WEST);
      call('CreateRoute', { RouteTableId: a.main, DestinationCidrBlock: '10.7.0.0/16', VpcPeeringConnectionId: pcx });
      call('CreateRoute', { RouteTableId: w.main, DestinationCidrBlock: '10.6.0.0/16', VpcPeeringConnectionId: pcx }, WEST);
      await settle();
      assert.deepEqual(await routesOf(pcx), [`${a.id} 10.6.1.0/24 > 10.7.0.0/16`, `${w.id} 10.7.1.0/24 > 10.6.0.0/16`].sort());
      assert.equal((await fabric.list()).links.length, 1);
    } finally {
      await close();
    }
  });
});
