import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  GetConsoleOutputCommand,
  ModifyInstanceAttributeCommand,
  ModifyInstanceMetadataOptionsCommand,
  RebootInstancesCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StoredInstance } from '../../src/resources/ec2/instances.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';

const NO_SUCH_INSTANCE = 'i-0123456789abcdef0';

async function images(c: EC2Client): Promise<{ x86: string; arm: string }> {
  const out = await c.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
  const x86 = out.Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  const arm = out.Images!.find((i) => i.Architecture === 'arm64')!.ImageId!;
  return { x86, arm };
}

async function describeOne(c: EC2Client, id: string): Promise<Instance> {
  const out = await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  return out.Reservations![0]!.Instances![0]!;
}

/** Polls DescribeInstances (at most 100 × 20 ms) until the instance is in `state`. */
async function waitFor(c: EC2Client, id: string, state: string): Promise<Instance> {
  let last: Instance | undefined;
  for (let i = 0; i < 100; i++) {
    last = await describeOne(c, id);
    if (last.State?.Name === state) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`${id} never reached ${state} (last: ${last?.State?.Name})`);
}

async function run(c: EC2Client, input: Partial<RunInstancesCommandInput> & { ImageId: string }): Promise<Instance[]> {
  const out = await c.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, ...input }));
  return out.Instances!;
}

describe('instances', () => {
  let t: TestServer;
  let c: EC2Client;
  let ami: { x86: string; arm: string };
  before(async () => {
    t = await startTestServer({ mockDelayMs: 30 });
    c = t.client();
    ami = await images(c);
  });
  after(() => t.close());

  it('RunInstances returns a pending reservation with a primary interface, tags and a public IP', async () => {
    const key = await c.send(new CreateKeyPairCommand({ KeyName: 'run-key' }));
    const out = await c.send(
      new RunInstancesCommand({
        ImageId: ami.x86,
        MinCount: 2,
        MaxCount: 2,
        InstanceType: 't3.micro',
        KeyName: key.KeyName,
        UserData: Buffer.from('#!/bin/sh\necho hello > /tmp/hello\n').toString('base64'),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: [{ Key: 'Name', Value: 'web' }] },
          { ResourceType: 'network-interface', Tags: [{ Key: 'role', Value: 'eth0' }] },
          { ResourceType: 'volume', Tags: [{ Key: 'disk', Value: 'root' }] },
        ],
      }),
    );
    assert.match(out.ReservationId!, /^r-[0-9a-f]{17}$/);
    assert.equal(out.OwnerId, '123456789012');
    assert.equal(out.Instances!.length, 2);
    const [a, b] = out.Instances!;
    for (const [n, i] of out.Instances!.entries()) {
      assert.match(i.InstanceId!, /^i-[0-9a-f]{17}$/);
      assert.deepEqual(i.State, { Code: 0, Name: 'pending' });
      assert.equal(i.AmiLaunchIndex, n);
      assert.equal(i.InstanceType, 't3.micro');
      assert.equal(i.KeyName, 'run-key');
      assert.equal(i.ImageId, ami.x86);
      assert.equal(i.Architecture, 'x86_64');
      assert.equal(i.RootDeviceType, 'ebs');
      assert.equal(i.SecurityGroups![0]!.GroupName, 'default');
      assert.deepEqual(i.Tags, [{ Key: 'Name', Value: 'web' }]);
      assert.equal(i.NetworkInterfaces!.length, 1);
      const eni = i.NetworkInterfaces![0]!;
      assert.match(eni.NetworkInterfaceId!, /^eni-/);
      assert.match(eni.MacAddress!, /^02(:[0-9a-f]{2}){5}$/);
      assert.equal(eni.PrivateIpAddress, i.PrivateIpAddress);
      assert.equal(eni.Attachment!.DeviceIndex, 0);
      assert.equal(eni.Attachment!.DeleteOnTermination, true);
      assert.ok(i.PublicIpAddress, 'default subnets map public IPs on launch');
      assert.equal(eni.Association!.PublicIp, i.PublicIpAddress);
      assert.equal(i.PublicDnsName, `ec2-${i.PublicIpAddress!.replace(/\./g, '-')}.compute-1.amazonaws.com`);
      assert.equal(i.PrivateDnsName, `ip-${i.PrivateIpAddress!.replace(/\./g, '-')}.ec2.internal`);
      assert.equal(i.BlockDeviceMappings![0]!.DeviceName, '/dev/xvda');
      assert.match(i.BlockDeviceMappings![0]!.Ebs!.VolumeId!, /^vol-/);
      assert.equal(i.MetadataOptions!.State, 'pending');
    }
    assert.notEqual(a!.PrivateIpAddress, b!.PrivateIpAddress);
    assert.notEqual(a!.PublicIpAddress, b!.PublicIpAddress);
    const tags = await c.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [a!.NetworkInterfaces![0]!.NetworkInterfaceId!, a!.BlockDeviceMappings![0]!.Ebs!.VolumeId!] }] }));
    assert.deepEqual(tags.Tags!.map((x) => `${x.ResourceType}:${x.Key}`).sort(), ['network-interface:role', 'volume:disk']);
    const running = await waitFor(c, a!.InstanceId!, 'running');
    assert.equal(running.MetadataOptions!.State, 'applied');
    assert.equal(running.StateReason, undefined);
    const console = await c.send(new GetConsoleOutputCommand({ InstanceId: a!.InstanceId }));
    const text = Buffer.from(console.Output!, 'base64').toString();
    assert.match(text, /cloud-init: running user data \(34 bytes\)/);
    assert.match(text, /installed the key pair/);
    assert.ok(console.Timestamp instanceof Date);
  });

  it('the subnet loses one available address per instance and gets it back on terminate', async () => {
    const subnetId = async () =>
      (await c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }, { Name: 'availability-zone', Values: ['us-east-1b'] }] })))
        .Subnets![0]!;
    const before = await subnetId();
    const insts = await run(c, { ImageId: ami.x86, MinCount: 3, MaxCount: 3, SubnetId: before.SubnetId });
    const during = await subnetId();
    assert.equal(during.AvailableIpAddressCount, before.AvailableIpAddressCount! - 3);
    await c.send(new TerminateInstancesCommand({ InstanceIds: insts.map((i) => i.InstanceId!) }));
    for (const i of insts) await waitFor(c, i.InstanceId!, 'terminated');
    assert.equal((await subnetId()).AvailableIpAddressCount, before.AvailableIpAddressCount);
  });

  it('lifecycle: stop changes the public IP and keeps the private IP, reboot keeps both, terminate stays described', async () => {
    const [i] = await run(c, { ImageId: ami.x86 });
    const id = i!.InstanceId!;
    const up = await waitFor(c, id, 'running');
    const firstPublic = up.PublicIpAddress!;
    const privateIp = up.PrivateIpAddress!;

    await c.send(new RebootInstancesCommand({ InstanceIds: [id] }));
    const rebooted = await describeOne(c, id);
    assert.equal(rebooted.State!.Name, 'running');
    assert.equal(rebooted.PublicIpAddress, firstPublic);
    assert.equal(rebooted.PrivateIpAddress, privateIp);

    const stop = await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(stop.StoppingInstances, [{ InstanceId: id, CurrentState: { Code: 64, Name: 'stopping' }, PreviousState: { Code: 16, Name: 'running' } }]);
    const stopped = await waitFor(c, id, 'stopped');
    assert.equal(stopped.PublicIpAddress, undefined, 'the public IP is released on stop');
    assert.equal(stopped.PublicDnsName, '');
    assert.equal(stopped.PrivateIpAddress, privateIp);
    assert.equal(stopped.StateReason!.Code, 'Client.UserInitiatedShutdown');
    assert.match(stopped.StateTransitionReason!, /^User initiated \(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d GMT\)$/);

    const start = await c.send(new StartInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(start.StartingInstances![0]!.CurrentState, { Code: 0, Name: 'pending' });
    assert.deepEqual(start.StartingInstances![0]!.PreviousState, { Code: 80, Name: 'stopped' });
    const again = await waitFor(c, id, 'running');
    assert.ok(again.PublicIpAddress, 'a new public IP on start');
    assert.notEqual(again.PublicIpAddress, firstPublic, 'not the one it released');
    assert.equal(again.PrivateIpAddress, privateIp);
    assert.ok(again.LaunchTime!.getTime() >= up.LaunchTime!.getTime());

    const term = await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(term.TerminatingInstances!.map((x) => x.CurrentState!.Name), ['shutting-down']);
    const gone = await waitFor(c, id, 'terminated');
    assert.equal(gone.State!.Code, 48);
    assert.equal(gone.PublicIpAddress, undefined);
    assert.deepEqual(gone.NetworkInterfaces, []);
    const enis = await c.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [id] }] }));
    assert.deepEqual(enis.NetworkInterfaces, [], 'the primary interface is deleted with the instance');
    // terminating again is a no-op that reports terminated
    const twice = await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    assert.deepEqual(twice.TerminatingInstances![0]!.CurrentState, { Code: 48, Name: 'terminated' });
    assert.deepEqual(twice.TerminatingInstances![0]!.PreviousState, { Code: 48, Name: 'terminated' });
  });

  it('an Elastic IP stays across stop/start and stays allocated after terminate', async () => {
    const [i] = await run(c, { ImageId: ami.x86 });
    const id = i!.InstanceId!;
    await waitFor(c, id, 'running');
    const eip = await c.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await c.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: id }));
    assert.equal((await describeOne(c, id)).PublicIpAddress, eip.PublicIp);
    await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
    const stopped = await waitFor(c, id, 'stopped');
    assert.equal(stopped.PublicIpAddress, eip.PublicIp);
    assert.equal(stopped.NetworkInterfaces![0]!.Association!.IpOwnerId, '123456789012');
    await c.send(new StartInstancesCommand({ InstanceIds: [id] }));
    assert.equal((await waitFor(c, id, 'running')).PublicIpAddress, eip.PublicIp);
    await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitFor(c, id, 'terminated');
    const addr = (await c.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] }))).Addresses![0]!;
    assert.equal(addr.PublicIp, eip.PublicIp);
    assert.equal(addr.InstanceId, undefined);
    assert.equal(addr.AssociationId, undefined);
  });

  it('refuses actions in the wrong state with IncorrectInstanceState', async () => {
    const [i] = await run(c, { ImageId: ami.x86 });
    const id = i!.InstanceId!;
    await waitFor(c, id, 'running');
    await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitFor(c, id, 'stopped');
    const reboot = await ec2Error(c.send(new RebootInstancesCommand({ InstanceIds: [id] })));
    assert.equal(reboot.code, 'IncorrectInstanceState');
    assert.match(reboot.message, new RegExp(`The instance '${id}' is not in a state from which it can be rebooted`));
    // stopping a stopped instance is a no-op
    const again = await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
    assert.equal(again.StoppingInstances![0]!.CurrentState!.Name, 'stopped');
    await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitFor(c, id, 'terminated');
    for (const cmd of [new StartInstancesCommand({ InstanceIds: [id] }), new StopInstancesCommand({ InstanceIds: [id] })]) {
      const e = await ec2Error(c.send(cmd as never));
      assert.equal(e.code, 'IncorrectInstanceState');
    }
    const hib = await run(c, { ImageId: ami.x86 });
    const h = await ec2Error(c.send(new StopInstancesCommand({ InstanceIds: [hib[0]!.InstanceId!], Hibernate: true })));
    assert.equal(h.code, 'UnsupportedHibernationConfiguration');
    assert.equal((await describeOne(c, hib[0]!.InstanceId!)).State!.Name !== 'stopping', true);
  });

  it('hibernates instances launched with hibernation configured; Force stops too', async () => {
    const [h] = await run(c, { ImageId: ami.x86, InstanceType: 't3.micro', HibernationOptions: { Configured: true } });
    assert.deepEqual(h!.HibernationOptions, { Configured: true });
    await waitFor(c, h!.InstanceId!, 'running');
    const out = await c.send(new StopInstancesCommand({ InstanceIds: [h!.InstanceId!], Hibernate: true }));
    assert.equal(out.StoppingInstances![0]!.CurrentState!.Name, 'stopping');
    const stopped = await waitFor(c, h!.InstanceId!, 'stopped');
    assert.equal(stopped.StateReason!.Code, 'Client.UserInitiatedHibernate');
    await c.send(new StartInstancesCommand({ InstanceIds: [h!.InstanceId!] }));
    await waitFor(c, h!.InstanceId!, 'running');
    const console = Buffer.from((await c.send(new GetConsoleOutputCommand({ InstanceId: h!.InstanceId }))).Output!, 'base64').toString();
    assert.match(console, /hibernation: saving memory/);
    assert.match(console, /image restored/);
    await c.send(new StopInstancesCommand({ InstanceIds: [h!.InstanceId!], Force: true }));
    assert.equal((await waitFor(c, h!.InstanceId!, 'stopped')).StateReason!.Code, 'Client.UserInitiatedShutdown');
  });

  it('one refused instance fails the whole call and changes none', async () => {
    const [a] = await run(c, { ImageId: ami.x86 });
    const [b] = await run(c, { ImageId: ami.x86, DisableApiTermination: true });
    const e = await ec2Error(c.send(new TerminateInstancesCommand({ InstanceIds: [a!.InstanceId!, b!.InstanceId!] })));
    assert.equal(e.code, 'OperationNotPermitted');
    assert.match(e.message, /disableApiTermination/);
    assert.notEqual((await describeOne(c, a!.InstanceId!)).State!.Name, 'shutting-down');
    await c.send(new ModifyInstanceAttributeCommand({ InstanceId: b!.InstanceId, DisableApiTermination: { Value: false } }));
    await c.send(new TerminateInstancesCommand({ InstanceIds: [a!.InstanceId!, b!.InstanceId!] }));
    await waitFor(c, b!.InstanceId!, 'terminated');
    const stopProtected = await run(c, { ImageId: ami.x86, DisableApiStop: true });
    const s = await ec2Error(c.send(new StopInstancesCommand({ InstanceIds: [stopProtected[0]!.InstanceId!] })));
    assert.equal(s.code, 'OperationNotPermitted');
  });

  it('ModifyInstanceAttribute: the type and user data change only while stopped; DescribeInstanceAttribute returns one attribute', async () => {
    const [i] = await run(c, { ImageId: ami.x86, InstanceType: 't3.micro' });
    const id = i!.InstanceId!;
    await waitFor(c, id, 'running');
    const busy = await ec2Error(c.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 't3.large' } })));
    assert.equal(busy.code, 'IncorrectInstanceState');
    assert.match(busy.message, /is not in the 'stopped' state/);
    const ud = await ec2Error(c.send(new ModifyInstanceAttributeCommand({ InstanceId: id, UserData: { Value: Buffer.from('x') } })));
    assert.equal(ud.code, 'IncorrectInstanceState');
    await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitFor(c, id, 'stopped');
    await c.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 't3.large' } }));
    await c.send(new ModifyInstanceAttributeCommand({ InstanceId: id, UserData: { Value: Buffer.from('#!/bin/sh\necho new') } }));
    const bad = await ec2Error(c.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 'z9.huge' } })));
    assert.equal(bad.code, 'InvalidParameterValue');
    const arm = await ec2Error(c.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 't4g.micro' } })));
    assert.equal(arm.code, 'InvalidParameterValue');
    assert.match(arm.message, /architecture/);
    const both = await ec2Error(
      c.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: 't3.small' }, DisableApiStop: { Value: true } })),
    );
    assert.equal(both.code, 'InvalidParameterCombination');
    const type = await c.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'instanceType' }));
    assert.deepEqual(type.InstanceType, { Value: 't3.large' });
    assert.equal(type.UserData, undefined, 'only the attribute asked for');
    const data = await c.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'userData' }));
    assert.equal(Buffer.from(data.UserData!.Value!, 'base64').toString(), '#!/bin/sh\necho new');
    await c.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Attribute: 'instanceInitiatedShutdownBehavior', Value: 'terminate' }));
    const beh = await c.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'instanceInitiatedShutdownBehavior' }));
    assert.deepEqual(beh.InstanceInitiatedShutdownBehavior, { Value: 'terminate' });
    await c.send(new ModifyInstanceAttributeCommand({ InstanceId: id, SourceDestCheck: { Value: false } }));
    assert.deepEqual((await c.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'sourceDestCheck' }))).SourceDestCheck, { Value: false });
    const sg = await c.send(new CreateSecurityGroupCommand({ GroupName: 'attr-sg', Description: 'x' }));
    await c.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: [sg.GroupId!] }));
    const groups = await c.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'groupSet' }));
    assert.deepEqual(groups.Groups, [{ GroupId: sg.GroupId, GroupName: 'attr-sg' }]);
    await c.send(new StartInstancesCommand({ InstanceIds: [id] }));
    const restarted = await waitFor(c, id, 'running');
    assert.equal(restarted.InstanceType, 't3.large');
    assert.equal(restarted.SecurityGroups![0]!.GroupId, sg.GroupId);
    assert.equal(restarted.NetworkInterfaces![0]!.Groups![0]!.GroupId, sg.GroupId);
    assert.equal(restarted.SourceDestCheck, false);
    const unknown = await ec2Error(c.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'colour' as never })));
    assert.equal(unknown.code, 'InvalidParameterValue');
  });

  it('ModifyInstanceMetadataOptions answers pending, then describes applied; hop limit 1–64', async () => {
    const [i] = await run(c, { ImageId: ami.x86, MetadataOptions: { HttpTokens: 'optional' } });
    assert.equal(i!.MetadataOptions!.HttpTokens, 'optional');
    const out = await c.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: i!.InstanceId, HttpTokens: 'required', HttpPutResponseHopLimit: 3, InstanceMetadataTags: 'enabled' }));
    assert.equal(out.InstanceMetadataOptions!.State, 'pending');
    assert.equal(out.InstanceMetadataOptions!.HttpTokens, 'required');
    const d = await describeOne(c, i!.InstanceId!);
    assert.equal(d.MetadataOptions!.State, 'applied');
    assert.equal(d.MetadataOptions!.HttpPutResponseHopLimit, 3);
    assert.equal(d.MetadataOptions!.InstanceMetadataTags, 'enabled');
    const bad = await ec2Error(c.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: i!.InstanceId, HttpPutResponseHopLimit: 65 })));
    assert.equal(bad.code, 'InvalidParameterValue');
    const badRun = await ec2Error(c.send(new RunInstancesCommand({ ImageId: ami.x86, MinCount: 1, MaxCount: 1, MetadataOptions: { HttpPutResponseHopLimit: 0 } })));
    assert.equal(badRun.code, 'InvalidParameterValue');
  });

  it('DryRun on Run, Stop and Terminate answers DryRunOperation (412) and changes nothing', async () => {
    const count = async () => (await c.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!).length;
    const before = await count();
    const dry = await ec2Error(c.send(new RunInstancesCommand({ ImageId: ami.x86, MinCount: 1, MaxCount: 1, DryRun: true })));
    assert.deepEqual([dry.code, dry.status], ['DryRunOperation', 412]);
    assert.equal(await count(), before);
    const badDry = await ec2Error(c.send(new RunInstancesCommand({ ImageId: 'ami-00000000000000000', MinCount: 1, MaxCount: 1, DryRun: true })));
    assert.equal(badDry.code, 'InvalidAMIID.NotFound', 'DryRun still validates');
    const [i] = await run(c, { ImageId: ami.x86 });
    await waitFor(c, i!.InstanceId!, 'running');
    for (const cmd of [new StopInstancesCommand({ InstanceIds: [i!.InstanceId!], DryRun: true }), new TerminateInstancesCommand({ InstanceIds: [i!.InstanceId!], DryRun: true })]) {
      const e = await ec2Error(c.send(cmd as never));
      assert.deepEqual([e.code, e.status], ['DryRunOperation', 412]);
    }
    await new Promise((r) => setTimeout(r, 60));
    assert.equal((await describeOne(c, i!.InstanceId!)).State!.Name, 'running');
  });

  it('a ClientToken returns the same reservation twice', async () => {
    const input = { ImageId: ami.x86, MinCount: 1, MaxCount: 2, ClientToken: 'launch-once-1' };
    const first = await c.send(new RunInstancesCommand(input));
    const second = await c.send(new RunInstancesCommand(input));
    assert.equal(second.ReservationId, first.ReservationId);
    assert.deepEqual(second.Instances!.map((i) => i.InstanceId), first.Instances!.map((i) => i.InstanceId));
    const all = await c.send(new DescribeInstancesCommand({ Filters: [{ Name: 'reservation-id', Values: [first.ReservationId!] }] }));
    assert.equal(all.Reservations![0]!.Instances!.length, 2, 'no second launch');
    assert.equal(all.Reservations![0]!.Instances![0]!.ClientToken, 'launch-once-1');
    const mismatch = await ec2Error(c.send(new RunInstancesCommand({ ...input, MaxCount: 1 })));
    assert.equal(mismatch.code, 'IdempotentParameterMismatch');
  });

  it('validates RunInstances input', async () => {
    const bad = async (input: Partial<RunInstancesCommandInput>, code: string, message?: RegExp) => {
      const e = await ec2Error(c.send(new RunInstancesCommand({ ImageId: ami.x86, MinCount: 1, MaxCount: 1, ...input } as RunInstancesCommandInput)));
      assert.equal(e.code, code, `${JSON.stringify(input)} → ${e.code}: ${e.message}`);
      if (message) assert.match(e.message, message);
    };
    await bad({ ImageId: 'ami-zzz' }, 'InvalidAMIID.Malformed');
    await bad({ ImageId: 'ami-0123456789abcdef0' }, 'InvalidAMIID.NotFound');
    await bad({ MinCount: 3, MaxCount: 2 }, 'InvalidParameterValue');
    await bad({ MinCount: 0 }, 'InvalidParameterValue');
    await bad({ MinCount: 1001, MaxCount: 1001 }, 'InstanceLimitExceeded', /instance limit of 1000/);
    await bad({ InstanceType: 'm9.gigantic' as never }, 'InvalidParameterValue');
    await bad({ InstanceType: 't4g.micro' }, 'InvalidParameterValue', /architecture/);
    await bad({ KeyName: 'nope' }, 'InvalidKeyPair.NotFound', /'nope' does not exist/);
    await bad({ SecurityGroups: ['no-such-group'] }, 'InvalidGroup.NotFound');
    await bad({ SecurityGroupIds: ['sg-0123456789abcdef0'] }, 'InvalidGroup.NotFound');
    await bad({ SecurityGroupIds: ['sg-nope'] }, 'InvalidGroupId.Malformed');
    await bad({ SubnetId: 'subnet-0123456789abcdef0' }, 'InvalidSubnetID.NotFound');
    await bad({ Placement: { AvailabilityZone: 'us-east-1c' }, SubnetId: (await defaultSubnet(c, 'us-east-1a')) }, 'InvalidParameterValue', /availability zone us-east-1a/);
    await bad({ UserData: Buffer.alloc(16 * 1024 + 1, 65).toString('base64') }, 'InvalidParameterValue', /16384/);
    await bad({ UserData: 'not base64!!' }, 'InvalidParameterValue', /BASE64/);
    await bad({ PrivateIpAddress: '172.31.0.200', MaxCount: 2 }, 'InvalidParameterCombination');
    await bad({ PrivateIpAddress: '10.9.9.9' }, 'InvalidParameterValue', /subnet's address range/);
    await bad({ InstanceInitiatedShutdownBehavior: 'explode' as never }, 'InvalidParameterValue');
    await bad({ BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeSize: 4 } }] }, 'InvalidBlockDeviceMapping', /smaller than snapshot/);
    await bad({ BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 10, VolumeType: 'gp9' as never } }] }, 'InvalidParameterValue', /volumeType/);
    await bad({ HibernationOptions: { Configured: true }, InstanceType: 'm5.24xlarge' }, 'UnsupportedHibernationConfiguration');
    await bad({ TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'a', Value: 'b' }] }] }, 'InvalidParameterValue');
    await bad({ NetworkInterfaces: [{ DeviceIndex: 0 }], SubnetId: await defaultSubnet(c, 'us-east-1a') }, 'InvalidParameterCombination');
    const taken = (await run(c, { ImageId: ami.x86 }))[0]!;
    await bad({ PrivateIpAddress: taken.PrivateIpAddress, SubnetId: taken.SubnetId }, 'InvalidIPAddress.InUse');
  });

  it('launches into a chosen subnet with chosen groups, a fixed private IP, extra volumes and no public IP', async () => {
    const vpc = await c.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16' }));
    const subnet = await c.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId, CidrBlock: '10.20.1.0/24', AvailabilityZone: 'us-east-1b' }));
    const sg = await c.send(new CreateSecurityGroupCommand({ GroupName: 'app', Description: 'app', VpcId: vpc.Vpc!.VpcId }));
    const [i] = await run(c, {
      ImageId: ami.x86,
      SubnetId: subnet.Subnet!.SubnetId,
      SecurityGroupIds: [sg.GroupId!],
      PrivateIpAddress: '10.20.1.50',
      Placement: { AvailabilityZone: 'us-east-1b' },
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { VolumeSize: 20, DeleteOnTermination: false } },
        { DeviceName: '/dev/sdf', Ebs: { VolumeSize: 100, VolumeType: 'gp3' } },
      ],
      Monitoring: { Enabled: true },
    });
    assert.equal(i!.SubnetId, subnet.Subnet!.SubnetId);
    assert.equal(i!.VpcId, vpc.Vpc!.VpcId);
    assert.equal(i!.PrivateIpAddress, '10.20.1.50');
    assert.equal(i!.Placement!.AvailabilityZone, 'us-east-1b');
    assert.equal(i!.PublicIpAddress, undefined, 'a new subnet does not map public IPs');
    assert.deepEqual(i!.SecurityGroups, [{ GroupId: sg.GroupId, GroupName: 'app' }]);
    assert.equal(i!.Monitoring!.State, 'pending', 'enabled once the instance is reconciled');
    assert.deepEqual(i!.BlockDeviceMappings!.map((b) => [b.DeviceName, b.Ebs!.DeleteOnTermination]), [['/dev/xvda', false], ['/dev/sdf', true]]);
    const other = await ec2Error(c.send(new RunInstancesCommand({ ImageId: ami.x86, MinCount: 1, MaxCount: 1, SubnetId: subnet.Subnet!.SubnetId, SecurityGroups: ['default'] })));
    assert.equal(other.code, 'InvalidParameter', 'a default-VPC group name cannot go into another VPC');
    const withPublic = await c.send(
      new RunInstancesCommand({ ImageId: ami.x86, MinCount: 1, MaxCount: 1, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: subnet.Subnet!.SubnetId, AssociatePublicIpAddress: true, Groups: [sg.GroupId!] }] }),
    );
    assert.ok(withPublic.Instances![0]!.PublicIpAddress, 'AssociatePublicIpAddress wins over the subnet');
    const vols = await c.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [i!.InstanceId!] }] }));
    assert.deepEqual(
      vols.Volumes!.map((v) => [v.Attachments![0]!.Device, v.Size, v.VolumeType, v.State, v.Attachments![0]!.State]).sort(),
      [['/dev/sdf', 100, 'gp3', 'in-use', 'attached'], ['/dev/xvda', 20, 'gp3', 'in-use', 'attached']],
    );
  });

  it('launches MaxCount when there is room, fewer (but at least MinCount) when the subnet runs out', async () => {
    const vpc = await c.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }));
    // a /28 has 16 addresses, 5 reserved: room for 11 interfaces
    const subnet = await c.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId, CidrBlock: '10.30.0.0/28', AvailabilityZone: 'us-east-1a' }));
    const tooMany = await ec2Error(c.send(new RunInstancesCommand({ ImageId: ami.x86, MinCount: 12, MaxCount: 20, SubnetId: subnet.Subnet!.SubnetId })));
    assert.equal(tooMany.code, 'InsufficientFreeAddressesInSubnet');
    const out = await c.send(new RunInstancesCommand({ ImageId: ami.x86, MinCount: 5, MaxCount: 20, SubnetId: subnet.Subnet!.SubnetId }));
    assert.equal(out.Instances!.length, 11);
    assert.equal(new Set(out.Instances!.map((i) => i.PrivateIpAddress)).size, 11);
    assert.ok(out.Instances!.every((i) => /^10\.30\.0\.(\d+)$/.test(i.PrivateIpAddress!) && Number(i.PrivateIpAddress!.split('.')[3]) >= 4 && Number(i.PrivateIpAddress!.split('.')[3]) <= 14));
    const full = await c.send(new DescribeSubnetsCommand({ SubnetIds: [subnet.Subnet!.SubnetId!] }));
    assert.equal(full.Subnets![0]!.AvailableIpAddressCount, 0);
    await c.send(new TerminateInstancesCommand({ InstanceIds: out.Instances!.map((i) => i.InstanceId!) }));
  });

  it('DescribeInstances: ids, errors, filters and pagination', async () => {
    const out = await c.send(
      new RunInstancesCommand({
        ImageId: ami.x86,
        MinCount: 3,
        MaxCount: 3,
        InstanceType: 't3.nano',
        TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'team', Value: 'search' }] }],
      }),
    );
    const ids = out.Instances!.map((i) => i.InstanceId!);
    const first = out.Instances![0]!;
    const malformed = await ec2Error(c.send(new DescribeInstancesCommand({ InstanceIds: ['i-xyz'] })));
    assert.equal(malformed.code, 'InvalidInstanceID.Malformed');
    const missing = await ec2Error(c.send(new DescribeInstancesCommand({ InstanceIds: [NO_SUCH_INSTANCE] })));
    assert.equal(missing.code, 'InvalidInstanceID.NotFound');
    assert.match(missing.message, new RegExp(NO_SUCH_INSTANCE));
    const combo = await ec2Error(c.send(new DescribeInstancesCommand({ InstanceIds: ids, MaxResults: 5 })));
    assert.equal(combo.code, 'InvalidParameterCombination');
    const byId = await c.send(new DescribeInstancesCommand({ InstanceIds: ids }));
    assert.equal(byId.Reservations!.length, 1, 'grouped into their reservation');
    assert.equal(byId.Reservations![0]!.Instances!.length, 3);

    const filter = async (Name: string, Values: string[]) =>
      (await c.send(new DescribeInstancesCommand({ Filters: [{ Name, Values }] }))).Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!));
    const only = (found: string[], expected: string[]) => assert.deepEqual(found.filter((x) => ids.includes(x)).sort(), [...expected].sort());
    only(await filter('tag:team', ['search']), ids);
    only(await filter('tag-key', ['team']), ids);
    only(await filter('tag-value', ['sea*']), ids);
    only(await filter('instance-type', ['t3.nano']), ids);
    only(await filter('instance-id', [first.InstanceId!]), [first.InstanceId!]);
    only(await filter('reservation-id', [out.ReservationId!]), ids);
    only(await filter('private-ip-address', [first.PrivateIpAddress!]), [first.InstanceId!]);
    only(await filter('ip-address', [first.PublicIpAddress!]), [first.InstanceId!]);
    only(await filter('network-interface.network-interface-id', [first.NetworkInterfaces![0]!.NetworkInterfaceId!]), [first.InstanceId!]);
    only(await filter('private-dns-name', [first.PrivateDnsName!]), [first.InstanceId!]);
    only(await filter('dns-name', [first.PublicDnsName!]), [first.InstanceId!]);
    only(await filter('availability-zone', [first.Placement!.AvailabilityZone!]), ids);
    only(await filter('subnet-id', [first.SubnetId!]), ids);
    only(await filter('vpc-id', [first.VpcId!]), ids);
    only(await filter('image-id', [ami.x86]), ids);
    only(await filter('image-id', [ami.arm]), []);
    only(await filter('instance.group-name', ['default']), ids);
    only(await filter('instance.group-id', [first.SecurityGroups![0]!.GroupId!]), ids);
    only(await filter('owner-id', ['123456789012']), ids);
    only(await filter('architecture', ['x86_64']), ids);
    only(await filter('root-device-type', ['ebs']), ids);
    only(await filter('launch-time', [`${first.LaunchTime!.toISOString().slice(0, 10)}*`]), ids);
    only(await filter('key-name', ['run-key']), []);
    only(await filter('instance-state-code', ['0', '16']), ids);
    for (const id of ids) await waitFor(c, id, 'running');
    only(await filter('instance-state-name', ['running']), ids);
    only(await filter('instance-state-name', ['stopped']), []);
    const badFilter = await ec2Error(c.send(new DescribeInstancesCommand({ Filters: [{ Name: 'flavour', Values: ['x'] }] })));
    assert.equal(badFilter.code, 'InvalidParameterValue');

    const total = (await c.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!).length;
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await c.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: token }));
      const got = page.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!));
      assert.ok(got.length <= 5);
      seen.push(...got);
      token = page.NextToken;
      pages++;
    } while (token && pages < 100);
    assert.equal(seen.length, total);
    assert.equal(new Set(seen).size, total);
    assert.ok(pages >= 2);
    const range = await ec2Error(c.send(new DescribeInstancesCommand({ MaxResults: 4 })));
    assert.equal(range.code, 'InvalidParameterValue');
  });

  it('terminated instances disappear an hour after termination', async () => {
    const [i] = await run(c, { ImageId: ami.x86 });
    const id = i!.InstanceId!;
    await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await waitFor(c, id, 'terminated');
    const col = t.server.store.collection(KINDS.instance);
    const rec = col.get('us-east-1', id)!;
    col.put('us-east-1', id, { ...rec, terminatedAt: Date.now() - 3600_000 - 1 });
    const e = await ec2Error(c.send(new DescribeInstancesCommand({ InstanceIds: [id] })));
    assert.equal(e.code, 'InvalidInstanceID.NotFound');
    const all = await c.send(new DescribeInstancesCommand({}));
    assert.ok(!all.Reservations!.some((r) => r.Instances!.some((x) => x.InstanceId === id)));
  });

  it('DescribeInstanceStatus: running ones by default, all with IncludeAllInstances, filters', async () => {
    const [a] = await run(c, { ImageId: ami.x86 });
    const [b] = await run(c, { ImageId: ami.x86 });
    await waitFor(c, a!.InstanceId!, 'running');
    await waitFor(c, b!.InstanceId!, 'running');
    await c.send(new StopInstancesCommand({ InstanceIds: [b!.InstanceId!] }));
    await waitFor(c, b!.InstanceId!, 'stopped');
    const ids = [a!.InstanceId!, b!.InstanceId!];
    const running = await c.send(new DescribeInstanceStatusCommand({ InstanceIds: ids }));
    assert.deepEqual(running.InstanceStatuses!.map((s) => s.InstanceId), [a!.InstanceId]);
    const s = running.InstanceStatuses![0]!;
    assert.equal(s.InstanceStatus!.Status, 'ok');
    assert.equal(s.SystemStatus!.Status, 'ok');
    assert.equal(s.InstanceState!.Name, 'running');
    assert.equal(s.AvailabilityZone, a!.Placement!.AvailabilityZone);
    const all = await c.send(new DescribeInstanceStatusCommand({ InstanceIds: ids, IncludeAllInstances: true }));
    assert.equal(all.InstanceStatuses!.length, 2);
    assert.equal(all.InstanceStatuses!.find((x) => x.InstanceId === b!.InstanceId)!.InstanceStatus!.Status, 'not-applicable');
    const stopped = await c.send(new DescribeInstanceStatusCommand({ IncludeAllInstances: true, Filters: [{ Name: 'instance-state-name', Values: ['stopped'] }] }));
    assert.ok(stopped.InstanceStatuses!.some((x) => x.InstanceId === b!.InstanceId));
    assert.ok(stopped.InstanceStatuses!.every((x) => x.InstanceState!.Name === 'stopped'));
    const ok = await c.send(new DescribeInstanceStatusCommand({ Filters: [{ Name: 'instance-status.status', Values: ['ok'] }, { Name: 'system-status.status', Values: ['ok'] }] }));
    assert.ok(ok.InstanceStatuses!.some((x) => x.InstanceId === a!.InstanceId));
    const missing = await ec2Error(c.send(new DescribeInstanceStatusCommand({ InstanceIds: [NO_SUCH_INSTANCE] })));
    assert.equal(missing.code, 'InvalidInstanceID.NotFound');
  });

  it('DescribeNetworkInterfaces: attachment and association from the record, filters, pagination', async () => {
    const [i] = await run(c, { ImageId: ami.x86, TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'nic', Value: 'one' }] }] });
    const eniId = i!.NetworkInterfaces![0]!.NetworkInterfaceId!;
    const one = (await c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }))).NetworkInterfaces![0]!;
    assert.equal(one.Attachment!.InstanceId, i!.InstanceId);
    assert.equal(one.Attachment!.Status, 'attached');
    assert.equal(one.Attachment!.DeviceIndex, 0);
    assert.equal(one.Status, 'in-use');
    assert.equal(one.Association!.PublicIp, i!.PublicIpAddress);
    assert.equal(one.Association!.IpOwnerId, 'amazon');
    assert.equal(one.PrivateIpAddress, i!.PrivateIpAddress);
    assert.deepEqual(one.TagSet, [{ Key: 'nic', Value: 'one' }]);
    const filter = async (Name: string, Values: string[]) =>
      (await c.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name, Values }] }))).NetworkInterfaces!.map((n) => n.NetworkInterfaceId);
    assert.deepEqual(await filter('attachment.instance-id', [i!.InstanceId!]), [eniId]);
    assert.deepEqual(await filter('private-ip-address', [i!.PrivateIpAddress!]), [eniId]);
    assert.deepEqual(await filter('association.public-ip', [i!.PublicIpAddress!]), [eniId]);
    assert.deepEqual(await filter('mac-address', [one.MacAddress!]), [eniId]);
    assert.deepEqual(await filter('tag:nic', ['one']), [eniId]);
    assert.ok((await filter('subnet-id', [i!.SubnetId!])).includes(eniId));
    assert.ok((await filter('vpc-id', [i!.VpcId!])).includes(eniId));
    assert.ok((await filter('group-id', [i!.SecurityGroups![0]!.GroupId!])).includes(eniId));
    assert.ok((await filter('availability-zone', [i!.Placement!.AvailabilityZone!])).includes(eniId));
    assert.ok((await filter('status', ['in-use'])).includes(eniId));
    assert.ok((await filter('attachment.status', ['attached'])).includes(eniId));
    assert.deepEqual(await filter('status', ['available']), []);
    const missing = await ec2Error(c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-0123456789abcdef0'] })));
    assert.equal(missing.code, 'InvalidNetworkInterfaceID.NotFound');
    const malformed = await ec2Error(c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ['eni-?'] })));
    assert.equal(malformed.code, 'InvalidNetworkInterfaceID.Malformed');
    const total = (await c.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces!.length;
    const page1 = await c.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5 }));
    assert.equal(page1.NetworkInterfaces!.length, Math.min(5, total));
    if (total > 5) {
      const page2 = await c.send(new DescribeNetworkInterfacesCommand({ MaxResults: 5, NextToken: page1.NextToken }));
      assert.ok(!page2.NetworkInterfaces!.some((n) => page1.NetworkInterfaces!.some((m) => m.NetworkInterfaceId === n.NetworkInterfaceId)));
    }
  });
});

async function defaultSubnet(c: EC2Client, zone: string): Promise<string> {
  const out = await c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }, { Name: 'availability-zone', Values: [zone] }] }));
  return out.Subnets![0]!.SubnetId!;
}

describe('instances across a server restart', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ mockDelayMs: 40 });
  });
  after(() => t.close());

  it('keeps instances and finishes work left half-done', async () => {
    let c = t.client();
    const { x86 } = await images(c);
    const launched = await c.send(
      new RunInstancesCommand({ ImageId: x86, MinCount: 3, MaxCount: 3, TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'keep', Value: 'me' }] }] }),
    );
    const [a, b, d] = launched.Instances!.map((i) => i.InstanceId!);
    // restart while the launches are still in flight: the server finishes what it started before closing
    await t.restart();
    c = t.client();
    const ra = await waitFor(c, a!, 'running');
    assert.equal(ra.PrivateIpAddress, launched.Instances![0]!.PrivateIpAddress);
    assert.equal(ra.PublicIpAddress, launched.Instances![0]!.PublicIpAddress);
    assert.deepEqual(ra.Tags, [{ Key: 'keep', Value: 'me' }]);
    await waitFor(c, b!, 'running');
    await waitFor(c, d!, 'running');

    // a crash left b in 'pending' and d in 'stopping' without anyone working on them
    const col = t.server.store.collection(KINDS.instance);
    const rb = col.get('us-east-1', b!)!;
    col.put('us-east-1', b!, { ...rb, State: { Code: 0, Name: 'pending' }, desired: 'running' });
    const rd = col.get('us-east-1', d!)!;
    col.put('us-east-1', d!, { ...rd, State: { Code: 64, Name: 'stopping' }, desired: 'stopped' });
    await t.restart();
    c = t.client();
    assert.equal((await waitFor(c, b!, 'running')).InstanceId, b);
    const sd = await waitFor(c, d!, 'stopped');
    assert.equal(sd.PublicIpAddress, undefined);
    // the machine for a was gone (new driver): the reconciler launched it again and it still runs
    assert.equal((await describeOne(c, a!)).State!.Name, 'running');
    const out = await c.send(new GetConsoleOutputCommand({ InstanceId: a }));
    assert.match(Buffer.from(out.Output!, 'base64').toString(), /login:/);
  });
});

describe('a DescribeInstances answer larger than one serializer slice (64 KiB)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('reaches the SDK whole, ASCII slices and a later non-ASCII tag alike', async () => {
    const c = t.client('eu-north-1');
    const { x86 } = await images(c);
    const out = await c.send(new RunInstancesCommand({ ImageId: x86, InstanceType: 't3.micro', MinCount: 40, MaxCount: 40 }));
    const ids = out.Instances!.map((i) => i.InstanceId!).sort();
    const ascii = await c.send(new DescribeInstancesCommand({}));
    assert.deepEqual(ascii.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!)).sort(), ids);
    await c.send(new CreateTagsCommand({ Resources: [ids[39]!], Tags: [{ Key: 'Name', Value: 'sista ☁ 😀 <&>' }] }));
    const raw = await t.server.dispatcher.invoke('DescribeInstances', 'eu-north-1', 'r', {});
    assert.ok(JSON.stringify(raw).length > 64 * 1024, 'the answer spans several slices');
    const mixed = await c.send(new DescribeInstancesCommand({}));
    const all = mixed.Reservations!.flatMap((r) => r.Instances!);
    assert.deepEqual(all.map((i) => i.InstanceId!).sort(), ids);
    assert.equal(all.find((i) => i.InstanceId === ids[39])!.Tags!.find((g) => g.Key === 'Name')!.Value, 'sista ☁ 😀 <&>');
  });
});
