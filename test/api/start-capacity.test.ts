/**
 * StartInstances asks again for the room a stopped instance gave up: its place
 * in a spread group's zone, on a Dedicated Host, in a capacity reservation, with
 * the rules RunInstances follows. A refusal changes nothing.
 */
import {
  AllocateHostsCommand,
  CancelCapacityReservationCommand,
  CreateCapacityReservationCommand,
  CreatePlacementGroupCommand,
  DescribeCapacityReservationsCommand,
  DescribeHostsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  ModifyInstancePlacementCommand,
  ReleaseHostsCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
  type RunInstancesRequest,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('StartInstances rechecks room', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let ami: string;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  const run = async (extra: Partial<RunInstancesRequest>, count = 1): Promise<string[]> =>
    (await ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: count, MaxCount: count, InstanceType: 't3.micro', ...extra }))).Instances!.map((i) => i.InstanceId!);
  const instances = async (ids: string[]): Promise<Instance[]> =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations!.flatMap((r) => r.Instances!);
  const instance = async (id: string): Promise<Instance> => (await instances([id]))[0]!;
  const settle = (ids: string[], state: string) =>
    eventually(`${ids.join(',')} ${state}`, () => instances(ids), (is) => is.every((i) => i.State!.Name === state));
  const stop = async (ids: string[]) => {
    await settle(ids, 'running');
    await ec2.send(new StopInstancesCommand({ InstanceIds: ids, Force: true }));
    await settle(ids, 'stopped');
  };
  const terminate = async (ids: string[]) => {
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }));
    await settle(ids, 'terminated');
  };
  const start = (ids: string[]) => ec2.send(new StartInstancesCommand({ InstanceIds: ids }));

  it('a spread group full in the zone: InsufficientInstanceCapacity, the whole call refused, nothing started', async () => {
    await ec2.send(new CreatePlacementGroupCommand({ GroupName: 'spread', Strategy: 'spread' }));
    const seven = await run({ Placement: { GroupName: 'spread', AvailabilityZone: 'us-east-1a' } }, 7);
    const [a, b] = seven as [string, string];
    await stop([a, b]);
    // the two stopped ones gave their places back: one more fits beside the five running
    await run({ Placement: { GroupName: 'spread', AvailabilityZone: 'us-east-1a' } });
    const both = await ec2Error(start([a, b]));
    assert.equal(both.code, 'InsufficientInstanceCapacity');
    assert.match(both.message, /spread placement group 'spread'/);
    assert.deepEqual((await instances([a, b])).map((i) => i.State!.Name), ['stopped', 'stopped'], 'a refusal starts neither');
    const one = await start([a]);
    assert.equal(one.StartingInstances![0]!.CurrentState!.Name, 'pending');
    assert.equal((await ec2Error(start([b]))).code, 'InsufficientInstanceCapacity');
    await terminate([seven[2]!]);
    assert.equal((await start([b])).StartingInstances![0]!.CurrentState!.Name, 'pending', 'a terminated member freed a place');
  });

  it('a targeted capacity reservation: a stopped instance gives its place back and must find it again to start', async () => {
    const r = (
      await ec2.send(
        new CreateCapacityReservationCommand({ InstanceType: 'm5.large', InstancePlatform: 'Linux/UNIX', AvailabilityZone: 'us-east-1c', InstanceCount: 1, InstanceMatchCriteria: 'targeted' }),
      )
    ).CapacityReservation!;
    const id = r.CapacityReservationId!;
    const available = async () => (await ec2.send(new DescribeCapacityReservationsCommand({ CapacityReservationIds: [id] }))).CapacityReservations![0]!.AvailableInstanceCount;
    const target = { InstanceType: 'm5.large' as const, CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: id } } };
    const [x] = await run(target);
    assert.equal(await available(), 0);
    await stop([x!]);
    assert.equal(await available(), 1, 'a stopped instance uses no reservation');
    const [y] = await run(target);
    assert.equal(await available(), 0);
    const refused = await ec2Error(start([x!]));
    assert.equal(refused.code, 'ReservationCapacityExceeded');
    assert.equal((await instance(x!)).State!.Name, 'stopped');
    await terminate([y!]);
    assert.equal(await available(), 1);
    await start([x!]);
    assert.equal(await available(), 0, 'the started instance draws it down again');
    const started = await instance(x!);
    assert.equal(started.CapacityReservationId, id);
    await stop([x!]);
    await ec2.send(new CancelCapacityReservationCommand({ CapacityReservationId: id }));
    // EC2: stopped instances that target a cancelled reservation can no longer launch
    assert.equal((await ec2Error(start([x!]))).code, 'InvalidCapacityReservationId.NotFound');
    assert.equal((await instance(x!)).State!.Name, 'stopped');
  });

  it('an open reservation: a started instance draws from it while it has room, else runs without one', async () => {
    const r = (
      await ec2.send(new CreateCapacityReservationCommand({ InstanceType: 'm5.large', InstancePlatform: 'Linux/UNIX', AvailabilityZone: 'us-east-1b', InstanceCount: 1 }))
    ).CapacityReservation!;
    const id = r.CapacityReservationId!;
    const available = async () => (await ec2.send(new DescribeCapacityReservationsCommand({ CapacityReservationIds: [id] }))).CapacityReservations![0]!.AvailableInstanceCount;
    const open = { InstanceType: 'm5.large' as const, Placement: { AvailabilityZone: 'us-east-1b' } };
    const [o] = await run(open);
    assert.equal((await instance(o!)).CapacityReservationId, id);
    await stop([o!]);
    assert.equal(await available(), 1);
    await start([o!]);
    assert.equal((await instance(o!)).CapacityReservationId, id, 'back into the reservation');
    assert.equal(await available(), 0);
    await stop([o!]);
    const [p] = await run(open);
    assert.equal((await instance(p!)).CapacityReservationId, id);
    await start([o!]);
    assert.equal((await instance(o!)).CapacityReservationId, undefined, 'no room: on-demand');
    assert.equal(await available(), 0);
  });

  it('Dedicated Hosts: a stopped instance takes no room; it starts on its host, another auto-placement host, or not at all', async () => {
    const [h1] = (await ec2.send(new AllocateHostsCommand({ AvailabilityZone: 'us-east-1d', InstanceType: 'm5.24xlarge', AutoPlacement: 'off' }))).HostIds!;
    const [h2] = (await ec2.send(new AllocateHostsCommand({ AvailabilityZone: 'us-east-1d', InstanceType: 'm5.24xlarge', AutoPlacement: 'on' }))).HostIds!;
    const host = async (hostId: string) => (await ec2.send(new DescribeHostsCommand({ HostIds: [hostId] }))).Hosts![0]!;
    const big = { InstanceType: 'm5.24xlarge' as const };
    const [i] = await run({ ...big, Placement: { HostId: h1 } });
    await stop([i!]);
    assert.deepEqual((await host(h1!)).Instances, [], 'a stopped instance is not on the host');
    assert.equal((await host(h1!)).AvailableCapacity!.AvailableInstanceCapacity![0]!.AvailableCapacity, 1);
    const [j] = await run({ ...big, Placement: { HostId: h1 } });
    // affinity default: its host is full, so it starts on an auto-placement host of the zone
    await start([i!]);
    assert.equal((await instance(i!)).Placement!.HostId, h2);
    await stop([i!]);
    const [k] = await run({ ...big, Placement: { Tenancy: 'host', AvailabilityZone: 'us-east-1d' } });
    assert.equal((await instance(k!)).Placement!.HostId, h2);
    assert.equal((await ec2Error(start([i!]))).code, 'IncompatibleHostRequirements');
    assert.equal((await instance(i!)).State!.Name, 'stopped');
    // affinity host: only its own host will do
    await ec2.send(new ModifyInstancePlacementCommand({ InstanceId: i, Affinity: 'host' }));
    await terminate([j!]);
    assert.equal((await ec2Error(start([i!]))).code, 'InsufficientCapacityOnHost', 'h1 has room now, but the instance is bound to h2');
    await terminate([k!]);
    await start([i!]);
    assert.equal((await instance(i!)).Placement!.HostId, h2);
    assert.equal((await host(h2!)).Instances!.map((x) => x.InstanceId).join(), i);
    // a host whose instances are all stopped can be released (EC2: stop or terminate them first)
    await stop([i!]);
    assert.deepEqual((await ec2.send(new ReleaseHostsCommand({ HostIds: [h2!] }))).Successful, [h2]);
    assert.equal((await ec2Error(start([i!]))).code, 'InvalidHostID.NotFound');
  });
});
