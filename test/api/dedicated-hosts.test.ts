import {
  AllocateHostsCommand,
  CreatePlacementGroupCommand,
  DescribeHostsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  ModifyHostsCommand,
  ModifyInstancePlacementCommand,
  ReleaseHostsCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Host,
  type Instance,
  type _InstanceType,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('dedicated hosts', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let ami: string;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  const host = async (id: string): Promise<Host> => (await ec2.send(new DescribeHostsCommand({ HostIds: [id] }))).Hosts![0]!;
  const instance = async (id: string): Promise<Instance> =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
  const run = (InstanceType: string, Placement: object, MinCount = 1, MaxCount = MinCount) =>
    ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount, MaxCount, InstanceType: InstanceType as _InstanceType, Placement }));
  async function waitState(ids: string[], state: string): Promise<void> {
    for (let n = 0; n < 300; n++) {
      const d = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
      if (d.Reservations!.flatMap((r) => r.Instances!).every((i) => i.State!.Name === state)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`instances never ${state}`);
  }

  it('AllocateHosts for a type: capacity from the catalogue; bad input refused', async () => {
    // AllocateHosts, ModifyHosts and ReleaseHosts have no DryRun in the API
    const out = await ec2.send(
      new AllocateHostsCommand({
        AvailabilityZone: 'us-east-1a',
        InstanceType: 'm5.large',
        Quantity: 2,
        TagSpecifications: [{ ResourceType: 'dedicated-host', Tags: [{ Key: 'team', Value: 'db' }] }],
      }),
    );
    assert.equal(out.HostIds!.length, 2);
    const h = await host(out.HostIds![0]!);
    assert.match(h.HostId!, /^h-[0-9a-f]{17}$/);
    assert.equal(h.State, 'available');
    assert.equal(h.AutoPlacement, 'off');
    assert.equal(h.AllowsMultipleInstanceTypes, 'off');
    assert.equal(h.HostProperties!.InstanceType, 'm5.large');
    assert.equal(h.HostProperties!.TotalVCpus, 96, 'the vCPUs of m5.24xlarge');
    assert.deepEqual(h.AvailableCapacity!.AvailableInstanceCapacity, [{ InstanceType: 'm5.large', AvailableCapacity: 48, TotalCapacity: 48 }]);
    assert.equal(h.AvailableCapacity!.AvailableVCpus, 96);
    assert.deepEqual(h.Instances, []);
    assert.deepEqual(h.Tags, [{ Key: 'team', Value: 'db' }]);
    const bad: [object, string][] = [
      [{ InstanceType: 'm5.large' }, 'MissingParameter'],
      [{ AvailabilityZone: 'us-east-1a' }, 'MissingParameter'],
      [{ AvailabilityZone: 'us-east-1a', InstanceType: 'm5.large', InstanceFamily: 'm5' }, 'InvalidParameterCombination'],
      [{ AvailabilityZone: 'us-east-1a', InstanceType: 't2.micro' }, 'InvalidParameterValue'],
      [{ AvailabilityZone: 'us-east-1a', InstanceFamily: 'zz9' }, 'InvalidParameterValue'],
      [{ AvailabilityZone: 'eu-west-1a', InstanceType: 'm5.large' }, 'InvalidParameterValue'],
      [{ AvailabilityZone: 'us-east-1a', InstanceType: 'm5.large', Quantity: 0 }, 'InvalidParameterValue'],
      [{ AvailabilityZone: 'us-east-1a', InstanceType: 'm5.large', AutoPlacement: 'maybe' }, 'InvalidParameterValue'],
    ];
    for (const [input, code] of bad) {
      const r = await ec2.send(new AllocateHostsCommand(input as never)).then(() => "ok", (e: Error) => e.name);
      assert.equal(r, code, JSON.stringify(input));
    }
    assert.equal((await ec2.send(new DescribeHostsCommand({}))).Hosts!.length, 2);
  });

  it('RunInstances on a named host: Placement shows it, DescribeHosts counts it; wrong type or zone refused', async () => {
    const hostId = (await ec2.send(new DescribeHostsCommand({}))).Hosts![0]!.HostId!;
    const launched = (await run('m5.large', { Tenancy: 'host', HostId: hostId }, 2)).Instances!;
    assert.equal(launched[0]!.Placement!.HostId, hostId);
    assert.equal(launched[0]!.Placement!.Tenancy, 'host');
    assert.equal(launched[0]!.Placement!.AvailabilityZone, 'us-east-1a', 'the host\'s zone');
    const d = await instance(launched[0]!.InstanceId!);
    assert.equal(d.Placement!.HostId, hostId);
    assert.equal(d.Placement!.Affinity, 'default');
    const h = await host(hostId);
    assert.deepEqual(h.Instances!.map((i) => i.InstanceId).sort(), launched.map((i) => i.InstanceId).sort());
    assert.equal(h.AvailableCapacity!.AvailableInstanceCapacity![0]!.AvailableCapacity, 46);
    const byHost = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'host-id', Values: [hostId] }] }));
    assert.deepEqual(byHost.Reservations!.flatMap((r) => r.Instances!.map((x) => x.InstanceId)).sort(), launched.map((x) => x.InstanceId).sort());
    assert.equal((await ec2Error(run('m5.xlarge', { HostId: hostId }))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(run('m5.large', { HostId: hostId, AvailabilityZone: 'us-east-1b' }))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(run('m5.large', { HostId: 'h-0123456789abcdef0' }))).code, 'InvalidHostID.NotFound');
    assert.equal((await ec2Error(run('m5.large', { HostId: hostId, Tenancy: 'dedicated' }))).code, 'InvalidParameterCombination');
    assert.equal((await ec2Error(run('m5.large', { HostId: hostId }, 47))).code, 'InsufficientCapacityOnHost');
    // MaxCount beyond the room launches what fits
    assert.equal((await run('m5.large', { HostId: hostId }, 1, 60)).Instances!.length, 46);
    assert.equal((await host(hostId)).AvailableCapacity!.AvailableInstanceCapacity![0]!.AvailableCapacity, 0);
  });

  it('Tenancy host without a host id uses an auto-placement host with room', async () => {
    const none = await ec2Error(run('m5.large', { Tenancy: 'host', AvailabilityZone: 'us-east-1a' }));
    assert.equal(none.code, 'IncompatibleHostRequirements');
    const hosts = (await ec2.send(new DescribeHostsCommand({}))).Hosts!;
    const free = hosts.find((h) => h.Instances!.length === 0)!.HostId!;
    const mod = await ec2.send(new ModifyHostsCommand({ HostIds: [free, 'h-0123456789abcdef0'], AutoPlacement: 'on' }));
    assert.deepEqual(mod.Successful, [free]);
    assert.equal(mod.Unsuccessful![0]!.Error!.Code, 'InvalidHostID.NotFound');
    const [i] = (await run('m5.large', { Tenancy: 'host', AvailabilityZone: 'us-east-1a' })).Instances!;
    assert.equal(i!.Placement!.HostId, free);
    const filtered = await ec2.send(new DescribeHostsCommand({ Filter: [{ Name: 'auto-placement', Values: ['on'] }] }));
    assert.deepEqual(filtered.Hosts!.map((h) => h.HostId), [free]);
    assert.equal((await ec2Error(run('m5.large', { Tenancy: 'host', AvailabilityZone: 'us-east-1b' }))).code, 'IncompatibleHostRequirements');
    await ec2.send(new CreatePlacementGroupCommand({ GroupName: 'g', Strategy: 'spread' }));
    assert.equal((await ec2Error(run('m5.large', { Tenancy: 'host', HostId: free, GroupName: 'g' }))).code, 'InvalidParameterCombination');
  });

  it('family hosts take any size of the family; ModifyHosts changes the type only when empty', async () => {
    const [id] = (await ec2.send(new AllocateHostsCommand({ AvailabilityZone: 'us-east-1b', InstanceFamily: 'm5', AutoPlacement: 'on' }))).HostIds!;
    const h = await host(id!);
    assert.equal(h.AllowsMultipleInstanceTypes, 'on');
    assert.equal(h.HostProperties!.InstanceFamily, 'm5');
    assert.ok(h.AvailableCapacity!.AvailableInstanceCapacity!.some((c) => c.InstanceType === 'm5.24xlarge' && c.TotalCapacity === 1));
    await run('m5.4xlarge', { HostId: id }, 2);
    await run('m5.large', { Tenancy: 'host', AvailabilityZone: 'us-east-1b' });
    const after = await host(id!);
    assert.equal(after.AvailableCapacity!.AvailableVCpus, 96 - 32 - 2);
    assert.equal(after.AvailableCapacity!.AvailableInstanceCapacity!.find((c) => c.InstanceType === 'm5.24xlarge')!.AvailableCapacity, 0);
    assert.equal((await ec2Error(run('m5.24xlarge', { HostId: id }))).code, 'InsufficientCapacityOnHost');
    const busy = await ec2.send(new ModifyHostsCommand({ HostIds: [id!], InstanceType: 'm5.large' }));
    assert.equal(busy.Unsuccessful![0]!.ResourceId, id);
    assert.equal((await host(id!)).HostProperties!.InstanceFamily, 'm5');
    const filtered = await ec2.send(new DescribeHostsCommand({ Filter: [{ Name: 'instance-type', Values: ['m5'] }] }));
    assert.deepEqual(filtered.Hosts!.map((x) => x.HostId), [id]);
  });

  it('ReleaseHosts: unsuccessful while instances run on a host; released hosts stay visible', async () => {
    const hosts = (await ec2.send(new DescribeHostsCommand({}))).Hosts!;
    const target = hosts.find((h) => h.Instances!.length === 1)!;
    const out = await ec2.send(new ReleaseHostsCommand({ HostIds: [target.HostId!] }));
    assert.deepEqual(out.Successful, []);
    assert.equal(out.Unsuccessful![0]!.Error!.Code, 'Client.InvalidHost.Occupied');
    assert.equal(out.Unsuccessful![0]!.Error!.Message, `Dedicated host '${target.HostId}' cannot be released as it is occupied`);
    const onIt = target.Instances![0]!.InstanceId!;
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [onIt] }));
    await waitState([onIt], 'terminated');
    assert.deepEqual((await ec2.send(new ReleaseHostsCommand({ HostIds: [target.HostId!] }))).Successful, [target.HostId]);
    const released = await host(target.HostId!);
    assert.equal(released.State, 'released');
    assert.ok(released.ReleaseTime);
    assert.equal((await ec2.send(new ReleaseHostsCommand({ HostIds: [target.HostId!] }))).Unsuccessful![0]!.Error!.Code, 'InvalidHostID.NotFound');
    const states = await ec2.send(new DescribeHostsCommand({ Filter: [{ Name: 'state', Values: ['released'] }] }));
    assert.deepEqual(states.Hosts!.map((h) => h.HostId), [target.HostId]);
    assert.equal((await ec2Error(ec2.send(new ReleaseHostsCommand({ HostIds: ['h-x'] })))).code, 'InvalidHostID.Malformed');
  });

  it('DescribeHosts pages and refuses unknown filters', async () => {
    await ec2.send(new AllocateHostsCommand({ AvailabilityZone: 'us-east-1c', InstanceType: 'c5.large', Quantity: 5 }));
    const first = await ec2.send(new DescribeHostsCommand({ MaxResults: 5 }));
    assert.equal(first.Hosts!.length, 5);
    assert.ok(first.NextToken);
    const second = await ec2.send(new DescribeHostsCommand({ MaxResults: 5, NextToken: first.NextToken }));
    assert.ok(second.Hosts!.length > 0);
    assert.ok(second.Hosts!.every((h) => !first.Hosts!.some((f) => f.HostId === h.HostId)));
    assert.equal((await ec2Error(ec2.send(new DescribeHostsCommand({ MaxResults: 4 })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new DescribeHostsCommand({ Filter: [{ Name: 'colour', Values: ['x'] }] })))).code, 'InvalidParameterValue');
  });

  it('ModifyInstancePlacement moves a stopped instance to another host or into a group', async () => {
    const [a, b] = (await ec2.send(new AllocateHostsCommand({ AvailabilityZone: 'us-east-1d', InstanceType: 'm5.large', Quantity: 2 }))).HostIds!;
    const [i] = (await run('m5.large', { HostId: a })).Instances!;
    const id = i!.InstanceId!;
    assert.equal((await ec2Error(ec2.send(new ModifyInstancePlacementCommand({ InstanceId: id, HostId: b })))).code, 'IncorrectInstanceState');
    await waitState([id], 'running');
    await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await waitState([id], 'stopped');
    assert.equal((await ec2.send(new ModifyInstancePlacementCommand({ InstanceId: id, HostId: b }))).Return, true);
    assert.equal((await instance(id)).Placement!.HostId, b);
    const onB = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'host-id', Values: [b!] }] }));
    assert.deepEqual(onB.Reservations!.flatMap((r) => r.Instances!.map((x) => x.InstanceId)), [id]);
    // DescribeHosts lists the instances running on a host: a stopped one takes no room
    assert.equal((await host(b!)).Instances!.length, 0);
    await ec2.send(new ModifyInstancePlacementCommand({ InstanceId: id, Tenancy: 'default' }));
    await ec2.send(new ModifyInstancePlacementCommand({ InstanceId: id, GroupName: 'g' }));
    const moved = await instance(id);
    assert.equal(moved.Placement!.HostId, undefined);
    assert.equal(moved.Placement!.GroupName, 'g');
    assert.equal((await ec2Error(ec2.send(new ModifyInstancePlacementCommand({ InstanceId: id, GroupName: 'nope' })))).code, 'InvalidPlacementGroup.Unknown');
  });
});
