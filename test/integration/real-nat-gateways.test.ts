/**
 * NAT gateways on real instances, end to end through @aws-sdk/client-ec2: in
 * the default VPC, instance A (a default subnet, a public IP) listens on a
 * port and answers each connection with the address it came from; instance B
 * (a subnet of its own, no public IP, a route table of its own) has no path to
 * A's public IP until its table sends 0.0.0.0/0 to a public NAT gateway (in
 * A's subnet, with an Elastic IP): then A sees the connection come from the
 * gateway's Elastic IP, while B's traffic to A's private address stays direct.
 * A restarted server (the gateway's namespace deleted behind its back
 * meanwhile) repairs the gateway; deleting it cuts the path and the route shows
 * `blackhole`.
 *
 * Every check is one TCP connect bounded in time, from inside the instance's
 * own network namespace. Only Overcast's public pool and private addresses
 * inside its namespaces are contacted. Runs as root where the container runtime
 * runs; skipped with the reason elsewhere. The host is left clean.
 */
import {
  AllocateAddressCommand,
  AssociateRouteTableCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateNatGatewayCommand,
  CreateRouteCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  DeleteNatGatewayCommand,
  DescribeNatGatewaysCommand,
  DescribeRouteTablesCommand,
  RunInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/host/exec.js';
import { inNsCommand } from '../../src/network/drivers/netns.js';
import { nodeReadyIn } from '../helpers/netns.js';
import { endRealServer, realRuntimeSkip, runningInstance, startRealServer, until } from '../helpers/real-instances.js';
import type { TestServer } from '../helpers/server.js';

const PREFIX = 'ovtn';
const POOL = '198.51.100.96/28';
const PORT = 7300;

const probeWhy = await realRuntimeSkip(PREFIX);

/** One TCP connect from inside an instance's network namespace: what the listener answered, or 'timeout' / 'refused'. */
async function askFrom(instanceId: string, host: string, ms = 1000): Promise<string> {
  const script = `const c=require('net').connect(${PORT},'${host}');let d='';c.on('data',b=>d+=b);c.on('end',()=>{console.log(d);process.exit(0)});c.on('error',e=>{console.log(e.code==='ECONNREFUSED'?'refused':'timeout');process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},${ms})`;
  const r = await run(...inNsCommand(`${PREFIX}-${instanceId}`, process.execPath, ['-e', script]), { timeoutMs: ms + 5000 });
  return r.stdout.trim();
}

/** Polls until the answer is `want` (bounded: `tries` × 100 ms); the last answer. */
async function becomes(want: string, check: () => Promise<string>, tries = 30): Promise<string> {
  let last = '';
  for (let i = 0; i < tries; i++) {
    last = await check();
    if (last === want) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

describe('NAT gateways on real instances', { skip: probeWhy, timeout: 600_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let a: Instance;
  let b: Instance;
  let table: string;
  let natId: string;
  let eip: string;
  const launched: string[] = [];
  const children: ChildProcess[] = [];

  const natState = (id: string, want: string) =>
    until(`${id} ${want}`, async () => {
      const n = (await c.send(new DescribeNatGatewaysCommand({ NatGatewayIds: [id] }))).NatGateways![0]!;
      return n.State === want ? n : undefined;
    }, 100);
  const routeState = async () => (await c.send(new DescribeRouteTablesCommand({ RouteTableIds: [table] }))).RouteTables![0]!.Routes!.find((r) => r.NatGatewayId === natId)?.State;

  before(async () => {
    let imageId: string;
    ({ t, c, imageId } = await startRealServer(PREFIX, POOL, 'nat'));
    // A: a default subnet, a public IP; its listener answers the peer's address (the guest's own network namespace)
    const aId = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
    launched.push(aId);
    a = await runningInstance(c, aId);
    assert.ok(a.PublicIpAddress, 'A has a public IP');
    await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: a.SecurityGroups![0]!.GroupId!, IpPermissions: [{ IpProtocol: 'tcp', FromPort: PORT, ToPort: PORT, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    // B: a subnet of the default VPC with a route table of its own (local only), no public IP
    const subnetId = (await c.send(new CreateSubnetCommand({ VpcId: a.VpcId!, CidrBlock: '172.31.240.0/24' }))).Subnet!.SubnetId!;
    table = (await c.send(new CreateRouteTableCommand({ VpcId: a.VpcId! }))).RouteTable!.RouteTableId!;
    await c.send(new AssociateRouteTableCommand({ RouteTableId: table, SubnetId: subnetId }));
    const bId = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: subnetId }))).Instances![0]!.InstanceId!;
    launched.push(bId);
    b = await runningInstance(c, bId);
    assert.equal(b.PublicIpAddress, undefined, 'B has no public IP');
    // a connection cut half way (while the path is broken) must not end the listener
    const script = `const s=require('net').createServer(c=>{c.on('error',()=>{});c.end('a '+c.remoteAddress.replace(/^::ffff:/,''))});s.listen(${PORT},'0.0.0.0',()=>console.log('ready'));setTimeout(()=>process.exit(0),300000)`;
    children.push(await nodeReadyIn(`${PREFIX}-${aId}`, script));
  });

  after(async () => {
    for (const ch of children) ch.kill('SIGKILL');
    assert.deepEqual(await endRealServer(t, c, launched), [], 'nothing of this server is left on the host (NAT gateway namespaces included)');
  });

  it('without a route to a NAT gateway, B has no path to A’s public IP; its private address is reached directly', async () => {
    assert.equal(await becomes(`a ${b.PrivateIpAddress}`, () => askFrom(b.InstanceId!, a.PrivateIpAddress!)), `a ${b.PrivateIpAddress}`, 'inside the VPC');
    for (let i = 0; i < 3; i++) assert.equal(await askFrom(b.InstanceId!, a.PublicIpAddress!, 500), 'timeout', 'no public IP, no route: no path');
  });

  it('routed to an available public NAT gateway, B reaches A’s public IP and A sees the gateway’s Elastic IP', async () => {
    const alloc = await c.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    eip = alloc.PublicIp!;
    natId = (await c.send(new CreateNatGatewayCommand({ SubnetId: a.SubnetId!, AllocationId: alloc.AllocationId! }))).NatGateway!.NatGatewayId!;
    await natState(natId, 'available');
    // available, but no route to it yet
    for (let i = 0; i < 3; i++) assert.equal(await askFrom(b.InstanceId!, a.PublicIpAddress!, 500), 'timeout', 'a gateway without a route: no path');
    await c.send(new CreateRouteCommand({ RouteTableId: table, DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: natId }));
    assert.equal(await routeState(), 'active');
    assert.equal(await becomes(`a ${eip}`, () => askFrom(b.InstanceId!, a.PublicIpAddress!)), `a ${eip}`, 'A sees the Elastic IP');
    assert.equal(await askFrom(b.InstanceId!, a.PrivateIpAddress!), `a ${b.PrivateIpAddress}`, 'the local route still wins inside the VPC');
  });

  it('a restarted server repairs the gateway it finds broken (its namespace deleted behind its back)', async () => {
    await run('ip', ['netns', 'del', `${PREFIX}-${natId}`]);
    assert.equal(await askFrom(b.InstanceId!, a.PublicIpAddress!, 500), 'timeout', 'broken: no path');
    await t.restart();
    c = t.client();
    const got = await becomes(`a ${eip}`, () => askFrom(b.InstanceId!, a.PublicIpAddress!), 100);
    assert.equal(got, `a ${eip}`, 'repaired on start');
  });

  it('deleting the gateway cuts the path; the route turns blackhole', async () => {
    await c.send(new DeleteNatGatewayCommand({ NatGatewayId: natId }));
    await natState(natId, 'deleted');
    assert.equal(await becomes('timeout', () => askFrom(b.InstanceId!, a.PublicIpAddress!, 500)), 'timeout', 'deleted: no path');
    for (let i = 0; i < 3; i++) assert.equal(await askFrom(b.InstanceId!, a.PublicIpAddress!, 500), 'timeout', 'and none after');
    assert.equal(await routeState(), 'blackhole');
    const namespaces = (await run('ip', ['netns', 'list'])).stdout;
    assert.ok(!namespaces.includes(natId), `no namespace of ${natId} left:\n${namespaces}`);
  });
});
