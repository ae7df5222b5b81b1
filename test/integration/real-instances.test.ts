/**
 * Real instances, end to end, through @aws-sdk/client-ec2 and ssh2: the tiny
 * image launched with a new key pair and user data, SSH at the public IP,
 * limits read from inside, stop/start, reboot, an Elastic IP, private
 * traffic inside a VPC and none between VPCs, IMDSv2, a server restart that
 * adopts what runs, and a host with nothing left afterwards.
 *
 * Runs as root on a host with crun, iproute2, nftables, xfsprogs,
 * busybox-static and dropbear-bin (what .ci/run installs); skipped with the
 * reason elsewhere. Every wait is bounded in count and time; the only
 * addresses contacted are the server's loopback and Overcast's own pool.
 */
import {
  AssociateDhcpOptionsCommand,
  CreateDhcpOptionsCommand,
  AllocateAddressCommand,
  AssociateAddressCommand,
  CreateKeyPairCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeInstanceStatusCommand,
  DescribeVpcsCommand,
  GetConsoleOutputCommand,
  ModifyInstanceMetadataOptionsCommand,
  RebootInstancesCommand,
  ReleaseAddressCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hostLeftovers } from '../../src/host-reset.js';
import { CGROUP_PARENT } from '../../src/host/cgroups.js';
import { connectOutcome, endRealServer, openSshInDefaultGroup, realRuntimeSkip, sshExec, until, type SshResult } from '../helpers/real-instances.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Images are cached across runs here (a second run does not rebuild them). */
const IMAGE_DIR = process.env.OVERCAST_TEST_IMAGE_DIR ?? '/var/tmp/overcast-test-images';
const PREFIX = 'ovte';
const POOL = '203.0.113.64/26'; // not the fabric test's 198.51.100.0/24: each server's host guard refuses its pool's unrouted addresses

const probeWhy = await realRuntimeSkip(PREFIX);

/** Whether a TCP connect to host:port succeeds within `ms` (false on refusal or timeout). */
const tcpOpen = async (host: string, port: number, ms = 1000): Promise<boolean> => (await connectOutcome(host, port, ms)) === 'open';

describe('real instances (container runtime)', { skip: probeWhy, timeout: 600_000 }, () => {
  let t: TestServer;
  let c: EC2Client;
  let imageId: string;
  let key: string;
  const launched: string[] = [];

  async function describeOne(id: string): Promise<Instance> {
    const out = await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
    return out.Reservations![0]!.Instances![0]!;
  }
  async function waitState(id: string, state: string, tries = 300): Promise<Instance> {
    return until(`${id} ${state}`, async () => {
      const i = await describeOne(id);
      return i.State?.Name === state ? i : undefined;
    }, tries);
  }
  async function login(ip: string, command: string, user = 'admin'): Promise<SshResult> {
    return until(`ssh to ${ip}`, () => sshExec(ip, key, command, { user }), 100, 100);
  }

  before(async () => {
    mkdirSync(IMAGE_DIR, { recursive: true });
    t = await startTestServer({ driver: 'container', hostPrefix: PREFIX, publicIpPool: POOL, imageDir: IMAGE_DIR });
    assert.equal(t.server.runtime, 'container');
    c = t.client();
    await openSshInDefaultGroup(c);
    const images = await c.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }));
    imageId = images.Images![0]!.ImageId!;
    key = (await c.send(new CreateKeyPairCommand({ KeyName: 'e2e', KeyType: 'ed25519' }))).KeyMaterial!;
  });

  after(async () => {
    assert.deepEqual(await endRealServer(t, c, launched), [], 'nothing of this server is left on the host');
  });

  let first: Instance;

  it('launches the tiny image: SSH at the public IP with the new key pair, user data ran, limits from inside', async () => {
    const userData = Buffer.from('#!/bin/sh\necho "hello from user data" > /var/tmp/user-data-ran\n').toString('base64');
    const out = await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 'z1d.large', MinCount: 1, MaxCount: 1, KeyName: 'e2e', UserData: userData }));
    const id = out.Instances![0]!.InstanceId!;
    launched.push(id);
    first = await waitState(id, 'running');
    const ip = first.PublicIpAddress!;
    assert.ok(ip.startsWith('203.0.113.'), `public IP from the pool: ${ip}`);
    const ran = await until('user data', async () => {
      const r = await login(ip, 'cat /var/tmp/user-data-ran');
      return r.code === 0 ? r : undefined;
    });
    assert.equal(ran.stdout.trim(), 'hello from user data');
    // z1d.large: 2 vCPUs, 16 GiB; the instance sees its own limits
    const limits = await login(ip, 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us; ip -4 -o addr show dev eth0');
    const [mem, quota, addr] = limits.stdout.trim().split('\n');
    assert.equal(Number(mem), 16384 * 1024 * 1024);
    assert.equal(Number(quota), 200_000);
    assert.match(addr!, new RegExp(`inet ${first.PrivateIpAddress!.replace(/\./g, '\\.')}/`), 'the guest sees only its private IP');
    assert.doesNotMatch(addr!, /203\.0\.113\./);
    // the console log is the guest's own
    const console = await until('the console output', async () => {
      const out = Buffer.from((await c.send(new GetConsoleOutputCommand({ InstanceId: id, Latest: true }))).Output ?? '', 'base64').toString();
      return out.includes('overcast-init: ready') ? out : undefined;
    }, 60, 250);
    assert.match(console, /overcast-init/);
    // status checks as observed: the machine runs (system) and its guest listens on its SSH port (instance)
    const status = await until('the instance status check', async () => {
      const st = (await c.send(new DescribeInstanceStatusCommand({ InstanceIds: [id] }))).InstanceStatuses?.[0];
      return st?.InstanceStatus?.Status === 'ok' ? st : undefined;
    }, 60, 250);
    assert.equal(status.SystemStatus?.Status, 'ok');
    assert.deepEqual(status.InstanceStatus?.Details, [{ Name: 'reachability', Status: 'passed' }]);
  });

  it('reboot keeps root volume, instance store and IPs; stop/start keeps the root, empties the instance store and changes the public IP', async () => {
    const id = first.InstanceId!;
    const ip = first.PublicIpAddress!;
    // the key pair's key is installed for root too (the tiny image has no sudo)
    const mark = await login(ip, 'echo kept > /var/tmp/root-mark && printf instance-store-mark | dd of=/dev/xvdb bs=512 count=1 conv=notrunc 2>/dev/null && sync && touch /run/booted-before && echo ok', 'root');
    assert.equal(mark.stdout.trim(), 'ok', mark.stderr);
    await c.send(new RebootInstancesCommand({ InstanceIds: [id] }));
    await until('the reboot', async () => {
      const r = await sshExec(ip, key, 'test -e /run/booted-before || echo rebooted', { user: 'root' });
      return r.stdout.includes('rebooted') ? r : undefined;
    }, 150, 100);
    const afterReboot = await login(ip, 'cat /var/tmp/root-mark; dd if=/dev/xvdb bs=19 count=1 2>/dev/null', 'root');
    assert.equal(afterReboot.stdout, 'kept\ninstance-store-mark');
    assert.equal((await describeOne(id)).PublicIpAddress, ip, 'reboot keeps the public IP');

    await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitState(id, 'stopped');
    assert.equal(await tcpOpen(ip, 22, 500), false, 'a stopped instance answers nothing');
    await c.send(new StartInstancesCommand({ InstanceIds: [id] }));
    const started = await waitState(id, 'running');
    assert.ok(started.PublicIpAddress && started.PublicIpAddress !== ip, `a new public IP (${ip} → ${started.PublicIpAddress})`);
    assert.equal(started.PrivateIpAddress, first.PrivateIpAddress, 'the private IP stays');
    const afterStart = await login(started.PublicIpAddress!, 'cat /var/tmp/root-mark; dd if=/dev/xvdb bs=19 count=1 2>/dev/null | tr -d "\\0"', 'root');
    assert.equal(afterStart.stdout, 'kept\n', 'the root volume kept its file; the instance store is new and empty');
    first = started;
  });

  it('an Elastic IP: SSH works at it at once, the old public IP stops answering', async () => {
    const id = first.InstanceId!;
    const old = first.PublicIpAddress!;
    const eip = await c.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await c.send(new AssociateAddressCommand({ InstanceId: id, AllocationId: eip.AllocationId }));
    const r = await login(eip.PublicIp!, 'hostname');
    assert.equal(r.code, 0);
    assert.equal(await until('the old address to go', async () => ((await tcpOpen(old, 22, 300)) ? undefined : true), 20, 100), true);
    first = await describeOne(id);
    assert.equal(first.PublicIpAddress, eip.PublicIp);
    // released at the end by terminate's disassociation + release below
    after(async () => {
      await c.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId })).catch(() => undefined);
    });
  });

  it('two instances of one VPC reach each other by private IP; an instance of another VPC cannot be reached', async () => {
    const second = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, KeyName: 'e2e', SubnetId: first.SubnetId }))).Instances![0]!;
    launched.push(second.InstanceId!);
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }))).Vpc!;
    const subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.77.1.0/24' }))).Subnet!;
    const other = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, SubnetId: subnet.SubnetId }))).Instances![0]!;
    launched.push(other.InstanceId!);
    await waitState(second.InstanceId!, 'running');
    await waitState(other.InstanceId!, 'running');
    const ip = first.PublicIpAddress!;
    const near = await login(ip, `echo | nc -w 2 ${second.PrivateIpAddress} 22 | head -c 7`);
    assert.equal(near.stdout, 'SSH-2.0', 'the SSH banner of the other instance, by private IP');
    const far = await login(ip, `echo | nc -w 1 ${other.PrivateIpAddress} 22 | head -c 7; echo "rc=$?"`);
    assert.doesNotMatch(far.stdout, /SSH-2\.0/, 'no path to another VPC');
    await c.send(new TerminateInstancesCommand({ InstanceIds: [other.InstanceId!] }));
    await waitState(other.InstanceId!, 'terminated');
    await c.send(new DeleteSubnetCommand({ SubnetId: subnet.SubnetId }));
    await c.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }));
  });

  it('IMDSv2 required rejects v1 requests; optional answers them; the instance is answered about itself', async () => {
    const id = first.InstanceId!;
    const ip = first.PublicIpAddress!;
    const v1 = 'printf "GET /latest/meta-data/instance-id HTTP/1.0\\r\\n\\r\\n" | nc -w 2 169.254.169.254 80';
    await c.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'required' }));
    const refused = await login(ip, v1);
    assert.match(refused.stdout, /^HTTP\/1\.[01] 401/);
    await c.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: 'optional' }));
    const answered = await login(ip, v1);
    assert.match(answered.stdout, /^HTTP\/1\.[01] 200/);
    assert.ok(answered.stdout.trimEnd().endsWith(id), 'its own instance id');
  });

  it('the VPC resolver answers private names at once and never leaves a lookup hanging', async () => {
    const ip = first.PublicIpAddress!;
    const r = await login(ip, `cat /etc/resolv.conf; nslookup ${first.PrivateDnsName} 2>&1; nslookup example.com 2>&1`);
    assert.match(r.stdout, /nameserver 169\.254\.169\.253/);
    assert.match(r.stdout, new RegExp(`Address:? ${first.PrivateIpAddress!.replace(/\./g, '\\.')}`), 'the private name resolves to the private IP');
    // an answer (no such name), not "connection timed out; no servers could be reached"
    assert.match(r.stdout, /NXDOMAIN/, 'an outside name is answered: no such name');
    assert.doesNotMatch(r.stdout, /timed out/);
  });

  it("the guest's resolver follows its VPC's DHCP options: the default set's search domain, a new set's at the next launch", async () => {
    const r = await login(first.PublicIpAddress!, 'cat /etc/resolv.conf');
    assert.match(r.stdout, /^search ec2\.internal$/m, "the default set's domain name");
    assert.match(r.stdout, /^nameserver 169\.254\.169\.253$/m);
    const vpcId = first.VpcId!;
    const before = (await c.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0]!.DhcpOptionsId!;
    const set = await c.send(
      new CreateDhcpOptionsCommand({ DhcpConfigurations: [{ Key: 'domain-name', Values: ['corp.example'] }, { Key: 'domain-name-servers', Values: ['AmazonProvidedDNS'] }] }),
    );
    await c.send(new AssociateDhcpOptionsCommand({ VpcId: vpcId, DhcpOptionsId: set.DhcpOptions!.DhcpOptionsId }));
    try {
      const out = await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.nano', MinCount: 1, MaxCount: 1, KeyName: 'e2e' }));
      const id = out.Instances![0]!.InstanceId!;
      launched.push(id);
      const i = await waitState(id, 'running');
      const conf = await until('SSH to the new instance', async () => {
        const x = await login(i.PublicIpAddress!, `cat /etc/resolv.conf; nslookup ${i.PrivateDnsName} 2>&1`);
        return x.code === 0 ? x : undefined;
      });
      assert.match(conf.stdout, /^search corp\.example$/m);
      assert.match(conf.stdout, /^nameserver 169\.254\.169\.253$/m);
      assert.match(conf.stdout, new RegExp(`Address:? ${i.PrivateIpAddress!.replace(/\./g, '\\.')}`), 'the VPC resolver still answers');
      await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
      await waitState(id, 'terminated');
    } finally {
      await c.send(new AssociateDhcpOptionsCommand({ VpcId: vpcId, DhcpOptionsId: before }));
    }
  });

  it('a poweroff inside the guest stops the instance, or terminates it when its shutdown behaviour says so', async () => {
    const launch = async (behaviour: 'stop' | 'terminate') => {
      const out = await c.send(
        new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.nano', MinCount: 1, MaxCount: 1, KeyName: 'e2e', InstanceInitiatedShutdownBehavior: behaviour }),
      );
      const id = out.Instances![0]!.InstanceId!;
      launched.push(id);
      return waitState(id, 'running');
    };
    const [stops, ends] = await Promise.all([launch('stop'), launch('terminate')]);
    for (const i of [stops, ends]) {
      // poweroff ends the session before it can answer: the command's own result does not matter
      await login(i.PublicIpAddress!, 'poweroff', 'root').catch(() => undefined);
    }
    const stopped = await waitState(stops.InstanceId!, 'stopped');
    assert.equal(stopped.StateReason?.Code, 'Client.InstanceInitiatedShutdown');
    const terminated = await waitState(ends.InstanceId!, 'terminated');
    assert.equal(terminated.StateReason?.Code, 'Client.InstanceInitiatedShutdown');
  });

  it('bad launches get EC2 errors and leave nothing on the host', async () => {
    const before = (await hostLeftovers(t.server.config)).sort();
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.78.0.0/16' }))).Vpc!;
    const tiny = (await c.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.78.0.0/28' }))).Subnet!;
    const cases: [string, RunInstancesCommand][] = [
      ['InvalidAMIID.NotFound', new RunInstancesCommand({ ImageId: 'ami-0123456789abcdef0', MinCount: 1, MaxCount: 1 })],
      // a security group of the default VPC with a subnet of another VPC
      ['InvalidParameter', new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, SubnetId: tiny.SubnetId, SecurityGroupIds: first.SecurityGroups!.map((g) => g.GroupId!) })],
      // a /28 has 11 usable addresses
      ['InsufficientFreeAddressesInSubnet', new RunInstancesCommand({ ImageId: imageId, MinCount: 12, MaxCount: 12, SubnetId: tiny.SubnetId })],
      // more memory than this host has
      ['InsufficientInstanceCapacity', new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1, InstanceType: 'x2idn.32xlarge' })],
    ];
    for (const [code, cmd] of cases) {
      const e = await c.send(cmd).then(
        () => undefined,
        (err: { name: string }) => err.name,
      );
      assert.equal(e, code);
    }
    const none = await c.send(new DescribeInstancesCommand({ Filters: [{ Name: 'subnet-id', Values: [tiny.SubnetId!] }] }));
    assert.equal((none.Reservations ?? []).length, 0);
    await c.send(new DeleteSubnetCommand({ SubnetId: tiny.SubnetId }));
    await c.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }));
    assert.deepEqual((await hostLeftovers(t.server.config)).sort(), before, 'the host holds what it held before');
  });

  it('a restarted server keeps instances running and adopts them', async () => {
    const ip = first.PublicIpAddress!;
    const pidBefore = (await login(ip, 'cat /proc/uptime')).stdout;
    await t.restart();
    c = t.client();
    const i = await describeOne(first.InstanceId!);
    assert.equal(i.State?.Name, 'running');
    const r = await login(ip, 'cat /var/tmp/root-mark');
    assert.equal(r.stdout, 'kept\n', 'the same machine answers after the restart');
    assert.ok(pidBefore.length > 0);
  });

  it('terminate leaves no machine, namespace, loop device, mount, cgroup or process of the instance', async () => {
    const ids = [...launched];
    await c.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    for (const id of ids) await waitState(id, 'terminated');
    const dataDir = t.server.config.dataDir;
    const machines = join(dataDir, 'machines');
    const left = existsSync(machines) ? readdirSync(machines).filter((e) => e.startsWith('i-')) : [];
    assert.deepEqual(left, [], 'no machine directories');
    for (const id of ids) {
      for (const h of ['memory', 'cpu', 'pids']) assert.equal(existsSync(`/sys/fs/cgroup/${h}/${CGROUP_PARENT}/${id}`), false, `no ${h} cgroup of ${id}`);
      assert.equal(existsSync(`/run/netns/${PREFIX}-${id}`), false, `no namespace of ${id}`);
    }
    const host = await hostLeftovers(t.server.config);
    assert.ok(!host.some((l) => /\/volumes\//.test(l) || /-i-/.test(l)), `no instance leftovers: ${host.join(', ')}`);
    launched.splice(0);
  });
});
