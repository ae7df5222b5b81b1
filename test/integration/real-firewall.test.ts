/**
 * Security groups, network ACLs and flow logs on real instances, end to end
 * through @aws-sdk/client-ec2 (and ssh2): real packets from the host to the
 * instances' public IPs and between instances (sent from the instance's own
 * network namespace), each check one connect bounded in time.
 *
 * Runs as root where the container runtime runs; skipped with the reason
 * elsewhere. The only addresses contacted are Overcast's own pool and the
 * instances' private addresses inside its namespaces.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateFlowLogsCommand,
  CreateKeyPairCommand,
  CreateManagedPrefixListCommand,
  DeleteManagedPrefixListCommand,
  ModifyManagedPrefixListCommand,
  ModifyNetworkInterfaceAttributeCommand,
  CreateNetworkAclCommand,
  CreateNetworkAclEntryCommand,
  CreateSecurityGroupCommand,
  DeleteFlowLogsCommand,
  DeleteNetworkAclCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  DescribeSubnetsCommand,
  ModifyInstanceAttributeCommand,
  ReplaceNetworkAclAssociationCommand,
  ReplaceNetworkAclEntryCommand,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/host/exec.js';
import { connectOutcome, endRealServer, realRuntimeSkip, sshExec, until, type ConnectOutcome } from '../helpers/real-instances.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { inNsCommand } from '../../src/network/drivers/netns.js';

const IMAGE_DIR = process.env.OVERCAST_TEST_IMAGE_DIR ?? '/var/tmp/overcast-test-images';
const PREFIX = 'ovtf';
const POOL = '203.0.113.160/27';

const probeWhy = await realRuntimeSkip(PREFIX);

type Outcome = ConnectOutcome;
const connectHere = connectOutcome;

/** One TCP connect from inside an instance's network namespace. */
async function connectFrom(instanceId: string, host: string, port: number, ms = 1000): Promise<Outcome> {
  const script = `const c=require('net').connect(${port},'${host}');c.on('connect',()=>{console.log('open');process.exit(0)});c.on('error',e=>{console.log(e.code==='ECONNREFUSED'?'refused':'timeout');process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},${ms})`;
  const r = await run(...inNsCommand(`${PREFIX}-${instanceId}`, process.execPath, ['-e', script]), { timeoutMs: ms + 5000 });
  return r.stdout.trim() as Outcome;
}

/** Polls a check until it gives `want` (bounded: `tries` × 100 ms); the last outcome. */
async function becomes(want: Outcome, check: () => Promise<Outcome>, tries = 20): Promise<Outcome> {
  let last: Outcome = 'timeout';
  for (let i = 0; i < tries; i++) {
    last = await check();
    if (last === want) return last;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

describe('security groups, network ACLs and flow logs on real instances', { skip: probeWhy, timeout: 600_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let key: string;
  let web: string;
  let clients: string;
  let other: string;
  let a: Instance;
  let b: Instance;
  let d: Instance;
  const launched: string[] = [];

  const ssh = (i: Instance) => ({ protocol: 'tcp', port: 22, ip: i.PublicIpAddress! });
  const open22 = (group: string, cidr = '0.0.0.0/0') =>
    c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: cidr }] }] }));
  const close22 = (group: string, cidr = '0.0.0.0/0') =>
    c.send(new RevokeSecurityGroupIngressCommand({ GroupId: group, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: cidr }] }] }));

  async function running(id: string): Promise<Instance> {
    return until(`${id} running`, async () => {
      const i = (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
      return i.State?.Name === 'running' ? i : undefined;
    }, 300);
  }

  before(async () => {
    mkdirSync(IMAGE_DIR, { recursive: true });
    t = await startTestServer({ driver: 'container', hostPrefix: PREFIX, publicIpPool: POOL, imageDir: IMAGE_DIR });
    c = t.client();
    const imageId = (await c.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }))).Images![0]!.ImageId!;
    key = (await c.send(new CreateKeyPairCommand({ KeyName: 'fw', KeyType: 'ed25519' }))).KeyMaterial!;
    const subnets = (await c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }))).Subnets!;
    assert.ok(subnets.length >= 2, 'the default VPC has a subnet per zone');
    const vpcId = subnets[0]!.VpcId!;
    web = (await c.send(new CreateSecurityGroupCommand({ GroupName: 'web', Description: 'web', VpcId: vpcId }))).GroupId!;
    clients = (await c.send(new CreateSecurityGroupCommand({ GroupName: 'clients', Description: 'clients', VpcId: vpcId }))).GroupId!;
    other = (await c.send(new CreateSecurityGroupCommand({ GroupName: 'other', Description: 'other', VpcId: vpcId }))).GroupId!;
    const launch = async (subnet: string, groups: string[]) => {
      const id = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'fw', SubnetId: subnet, SecurityGroupIds: groups }))).Instances![0]!.InstanceId!;
      launched.push(id);
      return id;
    };
    // a in one subnet; b and d in another (so traffic between them and a crosses both subnets' ACLs)
    const ids = [await launch(subnets[0]!.SubnetId!, [web]), await launch(subnets[1]!.SubnetId!, [clients]), await launch(subnets[1]!.SubnetId!, [web])];
    [a, b, d] = await Promise.all(ids.map(running)) as [Instance, Instance, Instance];
  });

  after(async () => {
    assert.deepEqual(await endRealServer(t, c, launched), [], 'nothing of this server is left on the host (firewall books included)');
  });

  it('a new group drops an unopened port (a timeout, not a refusal); opening it lets SSH in with the key pair; revoking stops new connections', async () => {
    assert.equal(await connectHere(ssh(a).ip, 22), 'timeout', 'closed: dropped');
    await open22(web);
    assert.equal(await becomes('open', () => connectHere(ssh(a).ip, 22)), 'open', 'opened');
    const r = await until('ssh', () => sshExec(ssh(a).ip, key, 'hostname'), 30, 100);
    assert.equal(r.code, 0);
    assert.equal(await connectHere(ssh(a).ip, 23), 'timeout', 'another port stays closed');
    await close22(web);
    assert.equal(await becomes('timeout', () => connectHere(ssh(a).ip, 22, 500)), 'timeout', 'revoked');
  });

  it('the reply to an outbound connection passes although the sender’s inbound is closed', async () => {
    await open22(web);
    // b's group (clients) admits nothing; its connection to a is allowed by a's group, its reply by conntrack
    assert.equal(await becomes('open', () => connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22)), 'open');
    assert.equal(await connectHere(b.PublicIpAddress!, 22), 'timeout', 'b itself admits nothing');
    await close22(web);
  });

  it('a rule on another group follows membership as instances join and leave it (ModifyInstanceAttribute, ModifyNetworkInterfaceAttribute)', async () => {
    await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: clients }] }] }));
    assert.equal(await becomes('open', () => connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22)), 'open', 'b is in clients');
    assert.equal(await connectFrom(d.InstanceId!, a.PrivateIpAddress!, 22), 'timeout', 'd is not');
    assert.equal(await connectHere(ssh(a).ip, 22), 'timeout', 'nor is the host');
    await c.send(new ModifyInstanceAttributeCommand({ InstanceId: d.InstanceId!, Groups: [web, clients] }));
    assert.equal(await becomes('open', () => connectFrom(d.InstanceId!, a.PrivateIpAddress!, 22)), 'open', 'd joined');
    await c.send(new ModifyInstanceAttributeCommand({ InstanceId: b.InstanceId!, Groups: [other] }));
    assert.equal(await becomes('timeout', () => connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22, 500)), 'timeout', 'b left');
    await c.send(new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: b.NetworkInterfaces![0]!.NetworkInterfaceId!, Groups: [clients] }));
    assert.equal(await becomes('open', () => connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22)), 'open', 'b back in (ModifyNetworkInterfaceAttribute)');
    await c.send(new ModifyInstanceAttributeCommand({ InstanceId: d.InstanceId!, Groups: [web] }));
    await c.send(new RevokeSecurityGroupIngressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, UserIdGroupPairs: [{ GroupId: clients }] }] }));
  });

  it('a rule on a managed prefix list admits its entries, and follows them as the list changes', async () => {
    const created = (await c.send(new CreateManagedPrefixListCommand({ PrefixListName: 'admins', AddressFamily: 'IPv4', MaxEntries: 5, Entries: [{ Cidr: `${b.PrivateIpAddress}/32` }] }))).PrefixList!;
    const perm = { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, PrefixListIds: [{ PrefixListId: created.PrefixListId! }] };
    await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: web, IpPermissions: [perm] }));
    assert.equal(await becomes('open', () => connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22)), 'open', 'b is on the list');
    assert.equal(await connectFrom(d.InstanceId!, a.PrivateIpAddress!, 22), 'timeout', 'd is not');
    await c.send(new ModifyManagedPrefixListCommand({ PrefixListId: created.PrefixListId!, CurrentVersion: created.Version, AddEntries: [{ Cidr: `${d.PrivateIpAddress}/32` }] }));
    assert.equal(await becomes('open', () => connectFrom(d.InstanceId!, a.PrivateIpAddress!, 22)), 'open', 'd added');
    await c.send(new RevokeSecurityGroupIngressCommand({ GroupId: web, IpPermissions: [perm] }));
    assert.equal(await becomes('timeout', () => connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22, 500)), 'timeout', 'revoked');
    await c.send(new DeleteManagedPrefixListCommand({ PrefixListId: created.PrefixListId! }));
  });

  it('egress restricted to one CIDR blocks the others; the receiver’s ingress still has its say', async () => {
    await open22(web);
    await c.send(new RevokeSecurityGroupEgressCommand({ GroupId: clients, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    await c.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: clients, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: `${a.PrivateIpAddress}/32` }] }] }));
    assert.equal(await becomes('timeout', () => connectFrom(b.InstanceId!, d.PrivateIpAddress!, 22, 500)), 'timeout', 'd is outside b’s egress');
    assert.equal(await connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22), 'open', 'a is inside it');
    await close22(web);
    assert.equal(await becomes('timeout', () => connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22, 500)), 'timeout', 'b may send, a no longer admits');
    await c.send(new RevokeSecurityGroupEgressCommand({ GroupId: clients, IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: `${a.PrivateIpAddress}/32` }] }] }));
    await c.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: clients, IpPermissions: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
  });

  it('network ACLs: a lower-numbered deny beats a higher allow; a blocked outbound ephemeral range breaks the connection (stateless)', async () => {
    await open22(web);
    const vpcId = a.VpcId!;
    const acl = (await c.send(new CreateNetworkAclCommand({ VpcId: vpcId }))).NetworkAcl!.NetworkAclId!;
    const entry = (n: number, egress: boolean, action: 'allow' | 'deny', cidr: string, ports?: [number, number]) =>
      new CreateNetworkAclEntryCommand({ NetworkAclId: acl, RuleNumber: n, Egress: egress, RuleAction: action, CidrBlock: cidr, Protocol: ports ? '6' : '-1', PortRange: ports ? { From: ports[0], To: ports[1] } : undefined });
    await c.send(entry(90, false, 'deny', `${b.PrivateIpAddress}/32`, [22, 22]));
    await c.send(entry(100, false, 'allow', '0.0.0.0/0'));
    await c.send(entry(100, true, 'allow', '0.0.0.0/0'));
    const assoc = (await c.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [a.SubnetId!] }] }))).NetworkAcls![0]!;
    const defaultAcl = assoc.NetworkAclId!;
    const associationId = assoc.Associations!.find((x) => x.SubnetId === a.SubnetId)!.NetworkAclAssociationId!;
    const moved = (await c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: associationId, NetworkAclId: acl }))).NewAssociationId!;
    try {
      assert.equal(await becomes('timeout', () => connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22, 500)), 'timeout', 'deny 90 before allow 100');
      assert.equal(await connectFrom(d.InstanceId!, a.PrivateIpAddress!, 22), 'open', 'd falls to allow 100');
      assert.equal(await connectHere(ssh(a).ip, 22), 'open', 'and so does the host');
      await c.send(new ReplaceNetworkAclEntryCommand({ NetworkAclId: acl, RuleNumber: 100, Egress: true, RuleAction: 'allow', CidrBlock: '0.0.0.0/0', Protocol: '6', PortRange: { From: 0, To: 1023 } }));
      assert.equal(await becomes('timeout', () => connectFrom(d.InstanceId!, a.PrivateIpAddress!, 22, 500)), 'timeout', 'inbound allowed, the reply to an ephemeral port is not');
      await c.send(new ReplaceNetworkAclEntryCommand({ NetworkAclId: acl, RuleNumber: 100, Egress: true, RuleAction: 'allow', CidrBlock: '0.0.0.0/0', Protocol: '6', PortRange: { From: 1024, To: 65535 } }));
      assert.equal(await becomes('open', () => connectFrom(d.InstanceId!, a.PrivateIpAddress!, 22)), 'open', 'the ephemeral range allowed out');
    } finally {
      await c.send(new ReplaceNetworkAclAssociationCommand({ AssociationId: moved, NetworkAclId: defaultAcl }));
      await c.send(new DeleteNetworkAclCommand({ NetworkAclId: acl }));
    }
    assert.equal(await becomes('open', () => connectFrom(b.InstanceId!, a.PrivateIpAddress!, 22)), 'open', 'back on the default ACL');
    await close22(web);
  });

  it('a flow log records the REJECT to its file, in the default format', async () => {
    const eni = a.NetworkInterfaces![0]!.NetworkInterfaceId!;
    const out = await c.send(
      new CreateFlowLogsCommand({ ResourceType: 'NetworkInterface', ResourceIds: [eni], TrafficType: 'REJECT', LogDestinationType: 'file' as 'cloud-watch-logs', LogDestination: 'e2e/web.log' }),
    );
    assert.equal(out.Unsuccessful?.length ?? 0, 0, JSON.stringify(out.Unsuccessful));
    const file = join(t.dataDir, 'flow-logs', 'e2e', 'web.log');
    try {
      const line = await until('a REJECT record', async () => {
        await connectHere(ssh(a).ip, 2323, 300);
        if (!existsSync(file)) return undefined;
        return readFileSync(file, 'utf8').split('\n').find((l) => l.includes(' 2323 ') && l.endsWith('REJECT OK'));
      }, 60, 500);
      const f = line.split(' ');
      assert.equal(f.length, 14, line);
      assert.equal(f[0], '2');
      assert.equal(f[2], eni);
      assert.equal(f[4], a.PrivateIpAddress, 'the destination is the private address (after the public IP’s translation)');
      assert.equal(f[6], '2323');
      assert.equal(f[7], '6');
      assert.ok(Number(f[8]) >= 1 && Number(f[9]) > 0 && Number(f[11]) >= Number(f[10]), line);
    } finally {
      await c.send(new DeleteFlowLogsCommand({ FlowLogIds: [out.FlowLogIds![0]!] }));
    }
  });
});
