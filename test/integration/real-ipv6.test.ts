/**
 * IPv6 on real instances, end to end through @aws-sdk/client-ec2: a dual-stack
 * VPC (an Amazon-provided /56 from Overcast's IPv6 pool, a /64 per subnet), two
 * tiny instances with an IPv6 address each in two subnets. They reach each
 * other over IPv6; through an attached internet gateway and a ::/0 route the
 * host reaches one (SSH over IPv6, and from inside it busybox nc to the other);
 * AssignIpv6Addresses on the running instance puts the address inside at once,
 * UnassignIpv6Addresses takes it away; a rule naming a group admits its
 * members' IPv6 addresses (and nobody else's); with the route to an egress-only
 * internet gateway instead, the instance connects out to a listener on the
 * host side of its VPC's transit veth while the host cannot connect in.
 *
 * Every check is one TCP connect bounded in time, from inside an instance's
 * namespace or from the host to an address routed into the fabric (checked
 * before connecting). Only Overcast's pools and the host side of its transit
 * veth are contacted. Runs as root where the container runtime runs; skipped
 * with the reason elsewhere. The host is left clean.
 */
import {
  AssignIpv6AddressesCommand,
  AttachInternetGatewayCommand,
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateEgressOnlyInternetGatewayCommand,
  CreateInternetGatewayCommand,
  CreateRouteCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeRouteTablesCommand,
  ModifyInstanceAttributeCommand,
  ReplaceRouteCommand,
  RunInstancesCommand,
  UnassignIpv6AddressesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { formatIpv6, parseCidr6 } from '../../src/domain/cidr.js';
import { run } from '../../src/host/exec.js';
import { transitIfname } from '../../src/network/drivers/fabric-names.js';
import { inNsCommand } from '../../src/network/drivers/netns.js';
import { connectOutcome, endRealServer, realRuntimeSkip, runningInstance, sshExec, startRealServer, until, type ConnectOutcome } from '../helpers/real-instances.js';
import type { TestServer } from '../helpers/server.js';

const PREFIX = 'ovh6';
const POOL = '198.51.100.80/28';
const POOL6 = 'fd0f:ec20:6900::/40';

const probeWhy = await realRuntimeSkip(PREFIX);

/** One TCP connect from inside an instance's network namespace. */
async function connectFrom(instanceId: string, host: string, port: number, ms = 1000): Promise<ConnectOutcome> {
  const script = `const c=require('net').connect({port:${port},host:'${host}'});c.on('connect',()=>{console.log('open');process.exit(0)});c.on('error',e=>{console.log(e.code==='ECONNREFUSED'?'refused':'timeout');process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},${ms})`;
  const r = await run(...inNsCommand(`${PREFIX}-${instanceId}`, process.execPath, ['-e', script]), { timeoutMs: ms + 5000 });
  return r.stdout.trim() as ConnectOutcome;
}

/** Whether the host routes an address into this server's fabric (a transit veth of the prefix). */
async function routedIntoFabric(address: string): Promise<boolean> {
  const r = JSON.parse((await run('ip', ['-6', '-j', 'route', 'get', address])).stdout) as { dev?: string }[];
  return r[0]?.dev?.startsWith(`${PREFIX}t`) === true;
}

/** A connect from the host, only to an address routed into the fabric (else 'timeout' without sending anything). */
async function connectHere(address: string, port: number, ms = 1000): Promise<ConnectOutcome> {
  if (!(await routedIntoFabric(address))) return 'timeout';
  return connectOutcome(address, port, ms);
}

/** Polls a check until it gives `want` (bounded: `tries` × 100 ms); the last outcome. */
async function becomes<T>(want: T, check: () => Promise<T>, tries = 30): Promise<T> {
  let last = await check();
  for (let i = 1; i < tries && last !== want; i++) {
    await new Promise((r) => setTimeout(r, 100));
    last = await check();
  }
  return last;
}

const v6Of = (i: Instance): string => i.NetworkInterfaces![0]!.Ipv6Addresses![0]!.Ipv6Address!;

describe('IPv6 on real instances', { skip: probeWhy, timeout: 600_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let key: string;
  let a: Instance;
  let b: Instance;
  let vpcId: string;
  let main: string;
  let block: string;
  let sg: string;
  const launched: string[] = [];
  const servers: Server[] = [];

  before(async () => {
    let imageId: string;
    ({ t, c, key, imageId } = await startRealServer(PREFIX, POOL, 'v6', { ipv6Pool: POOL6 }));
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.96.0.0/16', AmazonProvidedIpv6CidrBlock: true }))).Vpc!;
    vpcId = vpc.VpcId!;
    block = vpc.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
    const base = parseCidr6(block)!.address;
    const sub6 = (n: number) => `${formatIpv6(base + (BigInt(n) << 64n))}/64`;
    const s1 = (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.96.1.0/24', Ipv6CidrBlock: sub6(1) }))).Subnet!.SubnetId!;
    const s2 = (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.96.2.0/24', Ipv6CidrBlock: sub6(2) }))).Subnet!.SubnetId!;
    sg = (await c.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'v6', Description: 'ssh over IPv6' }))).GroupId!;
    await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: sg, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }));
    await c.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: sg, IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }));
    const launch = async (subnetId: string) => {
      const id = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'v6', SubnetId: subnetId, SecurityGroupIds: [sg], Ipv6AddressCount: 1 }))).Instances![0]!.InstanceId!;
      launched.push(id);
      return id;
    };
    const [aId, bId] = [await launch(s1), await launch(s2)];
    [a, b] = await Promise.all([runningInstance(c, aId), runningInstance(c, bId)]);
    main = (await c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }, { Name: 'association.main', Values: ['true'] }] }))).RouteTables![0]!.RouteTableId!;
  });

  after(async () => {
    for (const s of servers) s.close();
    assert.deepEqual(await endRealServer(t, c, launched), [], 'nothing of this server is left on the host (IPv6 routes and tables included)');
  });

  it('the block comes from Overcast’s pool; the two instances reach each other over IPv6 across their subnets', async () => {
    assert.equal(parseCidr6(block)!.address >> 88n, parseCidr6(POOL6)!.address >> 88n, `${block} is in ${POOL6}`);
    const inside = (await run('ip', ['-n', `${PREFIX}-${a.InstanceId}`, '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'])).stdout;
    assert.ok(inside.includes(`inet6 ${v6Of(a)}/64`), `a has its IPv6 address inside:\n${inside}`);
    assert.equal(await becomes('open', () => connectFrom(a.InstanceId!, v6Of(b), 22)), 'open', 'a → b:22 over IPv6');
    assert.equal(await becomes('open', () => connectFrom(b.InstanceId!, v6Of(a), 22)), 'open', 'b → a:22 over IPv6');
    assert.equal(await routedIntoFabric(v6Of(a)), false, 'no internet gateway: the host has no route into the VPC');
  });

  it('through an attached internet gateway and a ::/0 route the host logs in over IPv6; inside, busybox nc reaches the other instance', async () => {
    const igw = (await c.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await c.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    assert.equal(await routedIntoFabric(v6Of(a)), false, 'attached but not routed to: still no path');
    await c.send(new CreateRouteCommand({ RouteTableId: main, DestinationIpv6CidrBlock: '::/0', GatewayId: igw }));
    assert.equal(await becomes(true, () => routedIntoFabric(v6Of(a))), true, 'the VPC block is routed into the fabric');
    assert.equal(await becomes('open', () => connectHere(v6Of(a), 22)), 'open', 'host → a:22 over IPv6');
    const login = await until('ssh over IPv6', async () => {
      const r = await sshExec(v6Of(a), key, `ip -6 addr show dev eth0; timeout 3 nc -w 2 ${v6Of(b)} 22 </dev/null | head -c 16; true`, { user: 'root', timeoutMs: 8000 }).catch(() => undefined);
      return r?.code === 0 ? r.stdout : undefined;
    }, 40, 250);
    assert.ok(login.includes(v6Of(a)), `inside a, its own IPv6 address:\n${login}`);
    assert.ok(login.includes('SSH-2.0-dropbear'), `inside a, b’s SSH server answers at its IPv6 address:\n${login}`);
  });

  it('AssignIpv6Addresses on the running instance puts the address inside at once; UnassignIpv6Addresses takes it away', async () => {
    const eni = a.NetworkInterfaces![0]!.NetworkInterfaceId!;
    const added = (await c.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6AddressCount: 1 }))).AssignedIpv6Addresses![0]!;
    assert.equal(await becomes('open', () => connectFrom(b.InstanceId!, added, 22)), 'open', 'b → the new address');
    assert.equal(await becomes('open', () => connectHere(added, 22)), 'open', 'host → the new address');
    await c.send(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: eni, Ipv6Addresses: [added] }));
    assert.notEqual(await becomes('timeout', () => connectFrom(b.InstanceId!, added, 22, 500)), 'open', 'gone');
    assert.equal(await connectFrom(b.InstanceId!, v6Of(a), 22), 'open', 'the first address stays');
  });

  it("a rule naming a group admits its members over IPv6: b (a member) reaches a's SSH, the host (none) does not", async () => {
    // a's only group lets SSH in from the members of b's group, and nothing else
    const members = (await c.send(new CreateSecurityGroupCommand({ VpcId: vpcId, GroupName: 'v6-members', Description: 'ssh from the v6 group' }))).GroupId!;
    await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: members, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: sg }] }] }));
    await c.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: members, IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] }));
    await c.send(new ModifyInstanceAttributeCommand({ InstanceId: a.InstanceId, Groups: [members] }));
    try {
      assert.equal(await becomes('timeout', () => connectHere(v6Of(a), 22, 500)), 'timeout', 'host → a:22: the host is no member');
      assert.equal(await becomes('open', () => connectFrom(b.InstanceId!, v6Of(a), 22)), 'open', 'b → a:22 over IPv6, b being a member of the named group');
    } finally {
      await c.send(new ModifyInstanceAttributeCommand({ InstanceId: a.InstanceId, Groups: [sg] }));
    }
    assert.equal(await becomes('open', () => connectHere(v6Of(a), 22)), 'open', 'back in its first group: host → a:22 again');
  });

  it('with ::/0 to an egress-only internet gateway instead, the instance connects out to the host side; the host cannot connect in', async () => {
    const eigw = (await c.send(new CreateEgressOnlyInternetGatewayCommand({ VpcId: vpcId }))).EgressOnlyInternetGateway!.EgressOnlyInternetGatewayId!;
    await c.send(new ReplaceRouteCommand({ RouteTableId: main, DestinationIpv6CidrBlock: '::/0', EgressOnlyInternetGatewayId: eigw }));
    // the host side of the VPC's transit veth: an address of Overcast's, on this host
    const dev = transitIfname(PREFIX, vpcId);
    const hostSide = (JSON.parse((await run('ip', ['-6', '-j', 'addr', 'show', 'dev', dev, 'scope', 'global'])).stdout) as { addr_info: { local: string }[] }[])[0]!.addr_info[0]!.local;
    const seen: string[] = [];
    const server = await new Promise<Server>((resolve, reject) => {
      const s = createServer((sock) => {
        seen.push(sock.remoteAddress ?? '');
        sock.on('error', () => {}); // the checker hangs up as soon as it is connected
        sock.end('hello');
      });
      s.once('error', reject);
      s.listen(7700, hostSide, () => resolve(s));
    });
    servers.push(server);
    assert.equal(await becomes('timeout', () => connectHere(v6Of(a), 22, 500)), 'timeout', 'host ↛ a:22');
    assert.equal(await becomes('open', () => connectFrom(a.InstanceId!, hostSide, 7700)), 'open', 'a → the host side');
    assert.ok(seen.includes(v6Of(a)), `the host saw a by its IPv6 address: ${seen.join(', ')}`);
    assert.equal(await connectHere(v6Of(a), 22, 500), 'timeout', 'still: host ↛ a:22');
    // b's subnet uses the main table too: out yes, in no
    // b's first connection out is awaited as a's is above (on a loaded host one 1 s try can miss while its path settles)
    assert.equal(await becomes('open', () => connectFrom(b.InstanceId!, hostSide, 7700)), 'open', 'b → the host side');
    assert.equal(await connectHere(v6Of(b), 22, 500), 'timeout', 'host ↛ b:22');
  });
});
