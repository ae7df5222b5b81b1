/**
 * VPC peering on real instances, end to end through @aws-sdk/client-ec2: two
 * tiny instances in two VPCs (the default VPC and a new one) do not reach each
 * other's private address until the connection is accepted and both route
 * tables route to it; a route on one side only establishes no TCP connection;
 * security groups still judge the traffic (a CIDR rule, then a rule on the
 * peer VPC's group); deleting the route on one side, or the connection, cuts
 * the path (the routes show `blackhole`). Then the same between regions: the
 * default VPC of us-east-1 and a VPC of eu-west-1.
 *
 * Every check is one TCP connect bounded in time, from inside the instance's
 * own network namespace (and once from inside the instance over SSH, with
 * busybox nc). Only Overcast's public pool and private addresses inside its
 * namespaces are contacted. Runs as root where the container runtime runs;
 * skipped with the reason elsewhere. The host is left clean.
 */
import {
  AcceptVpcPeeringConnectionCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateRouteCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcPeeringConnectionCommand,
  DeleteRouteCommand,
  DeleteVpcPeeringConnectionCommand,
  DescribeImagesCommand,
  DescribeRouteTablesCommand,
  DescribeSecurityGroupsCommand,
  DescribeVpcPeeringConnectionsCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/host/exec.js';
import { inNsCommand } from '../../src/network/drivers/netns.js';
import { endRealServer, realRuntimeSkip, rootShell, runningInstance, startRealServer, until, type ConnectOutcome } from '../helpers/real-instances.js';
import type { TestServer } from '../helpers/server.js';

const PREFIX = 'ovhp';
const POOL = '198.51.100.0/28';
const WEST = 'eu-west-1';

const probeWhy = await realRuntimeSkip(PREFIX);

/** One TCP connect from inside an instance's network namespace. */
async function connectFrom(instanceId: string, host: string, port: number, ms = 1000): Promise<ConnectOutcome> {
  const script = `const c=require('net').connect(${port},'${host}');c.on('connect',()=>{console.log('open');process.exit(0)});c.on('error',e=>{console.log(e.code==='ECONNREFUSED'?'refused':'timeout');process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},${ms})`;
  const r = await run(...inNsCommand(`${PREFIX}-${instanceId}`, process.execPath, ['-e', script]), { timeoutMs: ms + 5000 });
  return r.stdout.trim() as ConnectOutcome;
}

/** Polls a check until it gives `want` (bounded: `tries` × 100 ms); the last outcome. */
async function becomes(want: ConnectOutcome, check: () => Promise<ConnectOutcome>, tries = 20): Promise<ConnectOutcome> {
  let last: ConnectOutcome = 'timeout';
  for (let i = 0; i < tries; i++) {
    last = await check();
    if (last === want) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

const ssh22 = (from: { CidrIp?: string; GroupId?: string }): IpPermission[] => [
  { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, ...(from.CidrIp ? { IpRanges: [{ CidrIp: from.CidrIp }] } : { UserIdGroupPairs: [{ GroupId: from.GroupId! }] }) },
];

describe('VPC peering on real instances', { skip: probeWhy, timeout: 600_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let west: EC2Client;
  let key: string;
  let a: Instance;
  let b: Instance;
  let w: Instance;
  let vpcA: string;
  let vpcB: string;
  let vpcW: string;
  let groupA: string;
  let groupB: string;
  let mainA: string;
  let mainB: string;
  let mainW: string;
  const launched: string[] = [];
  const launchedWest: string[] = [];

  const mainTable = async (client: EC2Client, vpcId: string) =>
    (await client.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'association.main', Values: ['true'] }] }))).RouteTables![0]!.RouteTableId!;
  const defaultGroup = async (client: EC2Client, vpcId: string) =>
    (await client.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'group-name', Values: ['default'] }] }))).SecurityGroups![0]!.GroupId!;
  const status = async (client: EC2Client, id: string, want: string) =>
    until(`${id} ${want}`, async () => {
      const p = (await client.send(new DescribeVpcPeeringConnectionsCommand({ VpcPeeringConnectionIds: [id] }))).VpcPeeringConnections![0]!;
      return p.Status?.Code === want ? p : undefined;
    }, 100);
  /** a new VPC (in the client's region) with one subnet */
  const newVpc = async (client: EC2Client, cidr: string, subnet: string) => {
    const vpcId = (await client.send(new CreateVpcCommand({ CidrBlock: cidr }))).Vpc!.VpcId!;
    const subnetId = (await client.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: subnet }))).Subnet!.SubnetId!;
    return { vpcId, subnetId };
  };
  const peerAndAccept = async (vpcId: string, peerVpcId: string, peerRegion: string, accepter: EC2Client) => {
    const id = (await c.send(new CreateVpcPeeringConnectionCommand({ VpcId: vpcId, PeerVpcId: peerVpcId, PeerRegion: peerRegion }))).VpcPeeringConnection!.VpcPeeringConnectionId!;
    await status(accepter, id, 'pending-acceptance');
    await accepter.send(new AcceptVpcPeeringConnectionCommand({ VpcPeeringConnectionId: id }));
    await status(accepter, id, 'active');
    return id;
  };
  const routeState = async (client: EC2Client, table: string, pcx: string) =>
    (await client.send(new DescribeRouteTablesCommand({ RouteTableIds: [table] }))).RouteTables![0]!.Routes!.find((r) => r.VpcPeeringConnectionId === pcx)?.State;

  before(async () => {
    ({ t, c, key } = await startRealServer(PREFIX, POOL, 'peer'));
    west = t.client(WEST);
    const imageOf = async (client: EC2Client) =>
      (await client.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }))).Images![0]!.ImageId!;
    // A: the default VPC (172.31.0.0/16), SSH open from anywhere (startRealServer), a public IP to log in by
    const imageId = await imageOf(c);
    const aId = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'peer' }))).Instances![0]!.InstanceId!;
    launched.push(aId);
    // B: a new VPC, no public IP; its default group admits only its members for now
    const nb = await newVpc(c, '10.91.0.0/16', '10.91.1.0/24');
    vpcB = nb.vpcId;
    const bId = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: nb.subnetId }))).Instances![0]!.InstanceId!;
    launched.push(bId);
    // W: a VPC of another region, SSH open to the default VPC of us-east-1 by CIDR (a group of another region cannot be named)
    const nw = await newVpc(west, '10.92.0.0/16', '10.92.1.0/24');
    vpcW = nw.vpcId;
    await west.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: await defaultGroup(west, vpcW), IpPermissions: ssh22({ CidrIp: '172.31.0.0/16' }) }));
    const wId = (await west.send(new RunInstancesCommand({ ImageId: await imageOf(west), InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: nw.subnetId }))).Instances![0]!.InstanceId!;
    launchedWest.push(wId);
    [a, b] = await Promise.all([runningInstance(c, aId), runningInstance(c, bId)]);
    w = await runningInstance(west, wId);
    vpcA = a.VpcId!;
    groupA = a.SecurityGroups![0]!.GroupId!;
    groupB = await defaultGroup(c, vpcB);
    [mainA, mainB, mainW] = [await mainTable(c, vpcA), await mainTable(c, vpcB), await mainTable(west, vpcW)];
  });

  after(async () => {
    if (launchedWest.length > 0) await west.send(new TerminateInstancesCommand({ InstanceIds: launchedWest })).catch(() => undefined);
    assert.deepEqual(await endRealServer(t, c, launched), [], 'nothing of this server is left on the host (router links included)');
  });

  it('before any peering, the two VPCs do not reach each other', async () => {
    await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupB, IpPermissions: ssh22({ CidrIp: '172.31.0.0/16' }) }));
    assert.equal(await connectFrom(a.InstanceId!, b.PrivateIpAddress!, 22), 'timeout', 'a ↛ b');
    assert.equal(await connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22), 'timeout', 'b ↛ a');
  });

  it('accepted, with a route on one side only: no TCP connection; with the mirror route: SSH answers across, from inside the instance too', async () => {
    const pcx = await peerAndAccept(vpcA, vpcB, 'us-east-1', c);
    assert.equal(await connectFrom(a.InstanceId!, b.PrivateIpAddress!, 22), 'timeout', 'active but no routes');
    await c.send(new CreateRouteCommand({ RouteTableId: mainA, DestinationCidrBlock: '10.91.0.0/16', VpcPeeringConnectionId: pcx }));
    assert.equal(await routeState(c, mainA, pcx), 'active');
    // bounded: the link is made within a few reconcile steps; the answer never comes without the route back
    for (let i = 0; i < 5; i++) assert.equal(await connectFrom(a.InstanceId!, b.PrivateIpAddress!, 22, 500), 'timeout', 'no route back: no connection');
    await c.send(new CreateRouteCommand({ RouteTableId: mainB, DestinationCidrBlock: '172.31.0.0/16', VpcPeeringConnectionId: pcx }));
    assert.equal(await becomes('open', () => connectFrom(a.InstanceId!, b.PrivateIpAddress!, 22)), 'open', 'a → b:22');
    const banner = await rootShell(a, key, `timeout 3 nc -w 2 ${b.PrivateIpAddress} 22 </dev/null | head -c 16; true`);
    assert.equal(banner, 'SSH-2.0-dropbear', 'inside a, b’s SSH server answers at its private address');

    // security groups still judge: without the CIDR rule b admits nothing; a rule on the peer VPC's group admits a
    await c.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupB, IpPermissions: ssh22({ CidrIp: '172.31.0.0/16' }) }));
    assert.equal(await becomes('timeout', () => connectFrom(a.InstanceId!, b.PrivateIpAddress!, 22, 500)), 'timeout', 'revoked: dropped');
    await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupB, IpPermissions: ssh22({ GroupId: groupA }) }));
    assert.equal(await becomes('open', () => connectFrom(a.InstanceId!, b.PrivateIpAddress!, 22)), 'open', 'allowed by the peer’s group');
    // b → a: a's default group admits SSH from anywhere
    assert.equal(await becomes('open', () => connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22)), 'open', 'b → a:22');

    // the route back taken away: cut
    await c.send(new DeleteRouteCommand({ RouteTableId: mainB, DestinationCidrBlock: '172.31.0.0/16' }));
    assert.equal(await becomes('timeout', () => connectFrom(a.InstanceId!, b.PrivateIpAddress!, 22, 500)), 'timeout', 'no route back: cut');
    await c.send(new CreateRouteCommand({ RouteTableId: mainB, DestinationCidrBlock: '172.31.0.0/16', VpcPeeringConnectionId: pcx }));
    assert.equal(await becomes('open', () => connectFrom(a.InstanceId!, b.PrivateIpAddress!, 22)), 'open', 'back again');

    // the connection deleted: cut, its routes blackholes
    await c.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    await status(c, pcx, 'deleted');
    assert.equal(await becomes('timeout', () => connectFrom(a.InstanceId!, b.PrivateIpAddress!, 22, 500)), 'timeout', 'deleted: cut');
    assert.equal(await connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22), 'timeout', 'deleted: cut both ways');
    assert.equal(await routeState(c, mainA, pcx), 'blackhole');
    assert.equal(await routeState(c, mainB, pcx), 'blackhole');
  });

  it('between two regions: the default VPC of us-east-1 and a VPC of eu-west-1, accepted in eu-west-1', async () => {
    assert.equal(await connectFrom(a.InstanceId!, w.PrivateIpAddress!, 22), 'timeout', 'not peered: a ↛ w');
    const pcx = await peerAndAccept(vpcA, vpcW, WEST, west);
    await c.send(new CreateRouteCommand({ RouteTableId: mainA, DestinationCidrBlock: '10.92.0.0/16', VpcPeeringConnectionId: pcx }));
    await west.send(new CreateRouteCommand({ RouteTableId: mainW, DestinationCidrBlock: '172.31.0.0/16', VpcPeeringConnectionId: pcx }));
    assert.equal(await becomes('open', () => connectFrom(a.InstanceId!, w.PrivateIpAddress!, 22)), 'open', 'a → w:22 across regions');
    // b (still unpeered with w, and 10.91/16 is no route of w's) stays out
    assert.equal(await connectFrom(b.InstanceId!, w.PrivateIpAddress!, 22), 'timeout', 'b ↛ w');
    await west.send(new DeleteVpcPeeringConnectionCommand({ VpcPeeringConnectionId: pcx }));
    await status(west, pcx, 'deleted');
    assert.equal(await becomes('timeout', () => connectFrom(a.InstanceId!, w.PrivateIpAddress!, 22, 500)), 'timeout', 'deleted: cut');
  });
});
