import {
  CreatePlacementGroupCommand,
  CreateTagsCommand,
  DeletePlacementGroupCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribePlacementGroupsCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
  type PlacementStrategy,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('placement groups', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let ami: string;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  const create = (GroupName: string, Strategy: string, extra: object = {}) =>
    ec2.send(new CreatePlacementGroupCommand({ GroupName, Strategy: Strategy as PlacementStrategy, ...extra }));
  const run = async (Placement: object, count = 1, zone?: string): Promise<Instance[]> =>
    (
      await ec2.send(
        new RunInstancesCommand({ ImageId: ami, MinCount: count, MaxCount: count, InstanceType: 't3.micro', Placement: { ...(zone ? { AvailabilityZone: zone } : {}), ...Placement } }),
      )
    ).Instances!;

  it('CreatePlacementGroup: cluster, spread (rack), partition with 1-7 partitions, tags; bad input refused', async () => {
    const dry = await ec2Error(create('dry', 'cluster', { DryRun: true }));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal((await ec2.send(new DescribePlacementGroupsCommand({}))).PlacementGroups!.length, 0);
    const c = (await create('c1', 'cluster', { TagSpecifications: [{ ResourceType: 'placement-group', Tags: [{ Key: 'team', Value: 'hpc' }] }] })).PlacementGroup!;
    assert.equal(c.State, 'available');
    assert.match(c.GroupId!, /^pg-[0-9a-f]{17}$/);
    assert.match(c.GroupArn!, /^arn:aws:ec2:us-east-1:\d{12}:placement-group\/c1$/);
    assert.deepEqual(c.Tags, [{ Key: 'team', Value: 'hpc' }]);
    const s = (await create('s1', 'spread')).PlacementGroup!;
    assert.equal(s.SpreadLevel, 'rack');
    const p = (await create('p1', 'partition', { PartitionCount: 3 })).PlacementGroup!;
    assert.equal(p.PartitionCount, 3);
    const errors: [string, string, object, string][] = [
      ['c1', 'cluster', {}, 'InvalidPlacementGroup.Duplicate'],
      ['x', 'partition', { PartitionCount: 8 }, 'InvalidParameterValue'],
      ['x', 'partition', { PartitionCount: 0 }, 'InvalidParameterValue'],
      ['x', 'cluster', { PartitionCount: 2 }, 'InvalidParameterCombination'],
      ['x', 'spread', { SpreadLevel: 'host' }, 'InvalidParameterValue'],
      ['x', 'flat', {}, 'InvalidParameterValue'],
    ];
    for (const [name, strategy, extra, code] of errors) assert.equal((await ec2Error(create(name, strategy, extra))).code, code, `${name} ${strategy} ${JSON.stringify(extra)}`);
    assert.equal((await ec2.send(new DescribePlacementGroupsCommand({}))).PlacementGroups!.length, 3);
  });

  it('DescribePlacementGroups by name, id and filters; unknown names and ids', async () => {
    const byName = await ec2.send(new DescribePlacementGroupsCommand({ GroupNames: ['s1'] }));
    assert.deepEqual(byName.PlacementGroups!.map((g) => g.GroupName), ['s1']);
    const id = byName.PlacementGroups![0]!.GroupId!;
    assert.equal((await ec2.send(new DescribePlacementGroupsCommand({ GroupIds: [id] }))).PlacementGroups![0]!.GroupName, 's1');
    const f = async (Name: string, Values: string[]) =>
      (await ec2.send(new DescribePlacementGroupsCommand({ Filters: [{ Name, Values }] }))).PlacementGroups!.map((g) => g.GroupName).sort();
    assert.deepEqual(await f('strategy', ['partition', 'cluster']), ['c1', 'p1']);
    assert.deepEqual(await f('spread-level', ['rack']), ['s1']);
    assert.deepEqual(await f('group-name', ['?1']), ['c1', 'p1', 's1']);
    assert.deepEqual(await f('state', ['available']), ['c1', 'p1', 's1']);
    assert.deepEqual(await f('tag:team', ['hpc']), ['c1']);
    await ec2.send(new CreateTagsCommand({ Resources: [id], Tags: [{ Key: 'team', Value: 'web' }] }));
    assert.deepEqual(await f('tag-key', ['team']), ['c1', 's1']);
    assert.equal((await ec2Error(ec2.send(new DescribePlacementGroupsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new DescribePlacementGroupsCommand({ GroupNames: ['nope'] })))).code, 'InvalidPlacementGroup.Unknown');
    assert.equal((await ec2Error(ec2.send(new DescribePlacementGroupsCommand({ GroupIds: ['pg-0123456789abcdef0'] })))).code, 'InvalidPlacementGroupId.NotFound');
    assert.equal((await ec2Error(ec2.send(new DescribePlacementGroupsCommand({ GroupIds: ['pg-x'] })))).code, 'InvalidPlacementGroupId.Malformed');
  });

  it('RunInstances into a group: DescribeInstances shows it; an unknown group is refused', async () => {
    const [i] = await run({ GroupName: 'c1' }, 1, 'us-east-1a');
    assert.equal(i!.Placement!.GroupName, 'c1');
    const d = (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'placement-group-name', Values: ['c1'] }] }))).Reservations!.flatMap((r) => r.Instances!);
    assert.deepEqual(d.map((x) => x.InstanceId), [i!.InstanceId]);
    assert.equal(d[0]!.Placement!.GroupId, (await ec2.send(new DescribePlacementGroupsCommand({ GroupNames: ['c1'] }))).PlacementGroups![0]!.GroupId);
    assert.equal((await ec2Error(run({ GroupName: 'nope' }))).code, 'InvalidPlacementGroup.Unknown');
    assert.equal((await ec2Error(run({ GroupName: 'c1', PartitionNumber: 1 }))).code, 'InvalidParameterCombination');
  });

  it('cluster groups stay in one Availability Zone', async () => {
    const err = await ec2Error(run({ GroupName: 'c1' }, 1, 'us-east-1b'));
    assert.equal(err.code, 'InvalidParameterValue');
    assert.match(err.message, /cluster placement group 'c1' is in the Availability Zone us-east-1a/);
    assert.equal((await run({ GroupName: 'c1' }, 2, 'us-east-1a')).length, 2);
  });

  it('spread groups hold at most 7 running instances per zone; terminated ones free their place', async () => {
    const seven = await run({ GroupName: 's1' }, 7, 'us-east-1a');
    assert.equal(seven.length, 7);
    const full = await ec2Error(run({ GroupName: 's1' }, 1, 'us-east-1a'));
    assert.equal(full.code, 'InsufficientInstanceCapacity');
    assert.equal((await run({ GroupName: 's1' }, 1, 'us-east-1b')).length, 1, 'another zone has room');
    // MaxCount beyond the room launches what fits
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [seven[0]!.InstanceId!, seven[1]!.InstanceId!] }));
    const more = await ec2.send(
      new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 5, InstanceType: 't3.micro', Placement: { GroupName: 's1', AvailabilityZone: 'us-east-1a' } }),
    );
    assert.equal(more.Instances!.length, 2);
  });

  it('partition groups: PartitionNumber kept, or instances spread over the partitions', async () => {
    const [one] = await run({ GroupName: 'p1', PartitionNumber: 2 });
    assert.equal(one!.Placement!.PartitionNumber, 2);
    const spread = await run({ GroupName: 'p1' }, 5);
    const counts = [1, 2, 3].map((p) => spread.filter((i) => i.Placement!.PartitionNumber === p).length + (p === 2 ? 1 : 0));
    assert.deepEqual(counts, [2, 2, 2]);
    assert.equal((await ec2Error(run({ GroupName: 'p1', PartitionNumber: 4 }))).code, 'InvalidParameterValue');
  });

  it('DeletePlacementGroup: InUse while instances are in it; unknown names', async () => {
    const err = await ec2Error(ec2.send(new DeletePlacementGroupCommand({ GroupName: 'p1' })));
    assert.equal(err.code, 'InvalidPlacementGroup.InUse');
    const members = (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'placement-group-name', Values: ['p1'] }] }))).Reservations!.flatMap((r) => r.Instances!);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: members.map((i) => i.InstanceId!) }));
    // shutting-down instances are still in the group
    for (let n = 0; n < 300; n++) {
      const states = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: members.map((i) => i.InstanceId!) }))).Reservations!.flatMap((r) => r.Instances!.map((i) => i.State!.Name));
      if (states.every((s) => s === 'terminated')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const dry = await ec2Error(ec2.send(new DeletePlacementGroupCommand({ GroupName: 'p1', DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    await ec2.send(new DeletePlacementGroupCommand({ GroupName: 'p1' }));
    assert.equal((await ec2Error(ec2.send(new DescribePlacementGroupsCommand({ GroupNames: ['p1'] })))).code, 'InvalidPlacementGroup.Unknown');
    assert.equal((await ec2Error(ec2.send(new DeletePlacementGroupCommand({ GroupName: 'p1' })))).code, 'InvalidPlacementGroup.Unknown');
    // the name can be used again
    assert.equal((await create('p1', 'cluster')).PlacementGroup!.Strategy, 'cluster');
  });
});
