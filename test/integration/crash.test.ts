/**
 * kill -9 of the server loses no acknowledged state: every call that answered
 * before the kill is there after a restart on the same data directory, and the
 * reconciler finishes what was half done. The server runs as users run it:
 * `bin/overcast.js`, which bundles the sources and starts the bundle.
 */
import {
  AllocateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  EC2Client,
  RunInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DEFAULT_CREDENTIAL } from '../../src/config.js';
import { kill9, spawnServer, type ServerProcess } from '../helpers/server-process.js';

type Proc = ServerProcess;

const startServer = (dataDir: string, extra: string[] = []): Promise<Proc> => spawnServer(dataDir, ['--driver', 'mock', ...extra]);

function client(url: string): EC2Client {
  return new EC2Client({ endpoint: url, region: 'us-west-2', credentials: DEFAULT_CREDENTIAL, maxAttempts: 1 });
}

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 150; i++) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('crash safety (kill -9)', () => {
  const dirs: string[] = [];
  const procs: Proc[] = [];
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) await kill9(p);
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('every acknowledged change survives kill -9 and a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-crash-'));
    dirs.push(dir);
    const first = await startServer(dir);
    procs.push(first);
    const c = client(first.url);
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.77.0.0/16' }))).Vpc!;
    const subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.77.1.0/24' }))).Subnet!;
    const sg = await c.send(new CreateSecurityGroupCommand({ GroupName: 'crash', Description: 'crash', VpcId: vpc.VpcId }));
    await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: sg.GroupId, IpProtocol: 'tcp', FromPort: 22, ToPort: 22, CidrIp: '0.0.0.0/0' }));
    const key = await c.send(new CreateKeyPairCommand({ KeyName: 'crash-key' }));
    const image = (await c.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images![0]!;
    const run = await c.send(new RunInstancesCommand({ ImageId: image.ImageId, MinCount: 2, MaxCount: 2, SubnetId: subnet.SubnetId, SecurityGroupIds: [sg.GroupId!], KeyName: 'crash-key' }));
    const ids = run.Instances!.map((i) => i.InstanceId!);
    await until('running', async () => {
      const d = await c.send(new DescribeInstancesCommand({ InstanceIds: ids }));
      const states = d.Reservations!.flatMap((r) => r.Instances!.map((i) => i.State!.Name));
      return states.every((s) => s === 'running') ? true : undefined;
    });
    await c.send(new StopInstancesCommand({ InstanceIds: [ids[1]!] }));
    const eip = await c.send(new AllocateAddressCommand({}));
    await c.send(new CreateTagsCommand({ Resources: [vpc.VpcId!, ids[0]!, eip.AllocationId!], Tags: [{ Key: 'survives', Value: 'yes' }] }));
    c.destroy();

    await kill9(first);
    const second = await startServer(dir);
    procs.push(second);
    const c2 = client(second.url);
    assert.equal((await c2.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] }))).Vpcs![0]!.CidrBlock, '10.77.0.0/16');
    assert.equal((await c2.send(new DescribeSubnetsCommand({ SubnetIds: [subnet.SubnetId!] }))).Subnets![0]!.AvailableIpAddressCount, 251 - 2);
    const perms = (await c2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg.GroupId!] }))).SecurityGroups![0]!.IpPermissions!;
    assert.equal(perms[0]!.FromPort, 22);
    const keys = await c2.send(new DescribeKeyPairsCommand({ KeyNames: ['crash-key'] }));
    assert.equal(keys.KeyPairs![0]!.KeyFingerprint, key.KeyFingerprint);
    assert.equal((await c2.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] }))).Addresses![0]!.PublicIp, eip.PublicIp);
    const tagged = await c2.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['survives'] }] }));
    assert.deepEqual(tagged.Tags!.map((t) => t.ResourceId).sort(), [vpc.VpcId, ids[0], eip.AllocationId].sort());
    const states = await until('reconciled', async () => {
      const d = await c2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
      const byId = new Map(d.Reservations!.flatMap((r) => r.Instances!.map((i) => [i.InstanceId!, i.State!.Name!] as const)));
      return byId.get(ids[0]!) === 'running' && byId.get(ids[1]!) === 'stopped' ? byId : undefined;
    });
    assert.equal(states.size, 2);
    c2.destroy();
    await kill9(second);
  });

  it('instances left pending by a crash are launched on restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overcast-crash-'));
    dirs.push(dir);
    // every transition takes 3 s, so the kill lands while the instances are pending
    const first = await startServer(dir, ['--mock-delay-ms', '3000']);
    procs.push(first);
    const c = client(first.url);
    const image = (await c.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images![0]!;
    const run = await c.send(new RunInstancesCommand({ ImageId: image.ImageId, MinCount: 3, MaxCount: 3 }));
    assert.ok(run.Instances!.every((i) => i.State!.Name === 'pending'));
    c.destroy();
    await kill9(first);

    const second = await startServer(dir);
    procs.push(second);
    const c2 = client(second.url);
    const ids = run.Instances!.map((i) => i.InstanceId!);
    await until('pending instances to come up after the crash', async () => {
      const d = await c2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
      const states = d.Reservations!.flatMap((r) => r.Instances!.map((i) => i.State!.Name));
      return states.length === 3 && states.every((s) => s === 'running') ? true : undefined;
    });
    c2.destroy();
    await kill9(second);
  });
});
