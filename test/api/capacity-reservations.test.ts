import {
  CancelCapacityReservationCommand,
  CreateCapacityReservationCommand,
  DescribeCapacityReservationsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  ModifyCapacityReservationCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type CapacityReservation,
  type EC2Client,
  type RunInstancesRequest,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('capacity reservations', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let ami: string;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  const create = async (extra: object = {}): Promise<CapacityReservation> =>
    (
      await ec2.send(
        new CreateCapacityReservationCommand({ InstanceType: 'm5.large', InstancePlatform: 'Linux/UNIX', AvailabilityZone: 'us-east-1a', InstanceCount: 2, ...extra }),
      )
    ).CapacityReservation!;
  const get = async (id: string): Promise<CapacityReservation> =>
    (await ec2.send(new DescribeCapacityReservationsCommand({ CapacityReservationIds: [id] }))).CapacityReservations![0]!;
  const run = (extra: Partial<RunInstancesRequest>, count = 1) =>
    ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: count, MaxCount: count, InstanceType: 'm5.large', ...extra }));

  it('CreateCapacityReservation: active with its count available; bad input refused', async () => {
    const dry = await ec2Error(ec2.send(new CreateCapacityReservationCommand({ InstanceType: 'm5.large', InstancePlatform: 'Linux/UNIX', AvailabilityZone: 'us-east-1a', InstanceCount: 1, DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal((await ec2.send(new DescribeCapacityReservationsCommand({}))).CapacityReservations!.length, 0);
    const r = await create({ TagSpecifications: [{ ResourceType: 'capacity-reservation', Tags: [{ Key: 'app', Value: 'db' }] }] });
    assert.match(r.CapacityReservationId!, /^cr-[0-9a-f]{17}$/);
    assert.equal(r.State, 'active');
    assert.equal(r.TotalInstanceCount, 2);
    assert.equal(r.AvailableInstanceCount, 2);
    assert.equal(r.InstanceMatchCriteria, 'open');
    assert.equal(r.EndDateType, 'unlimited');
    assert.equal(r.AvailabilityZoneId, 'use1-az1');
    assert.deepEqual(r.Tags, [{ Key: 'app', Value: 'db' }]);
    const bad: [object, string][] = [
      [{ InstanceType: 'm5.huge' }, 'InvalidParameterValue'],
      [{ InstancePlatform: 'Plan 9' }, 'InvalidParameterValue'],
      [{ AvailabilityZone: 'eu-west-1a' }, 'InvalidParameterValue'],
      [{ InstanceCount: 0 }, 'InvalidParameterValue'],
      [{ EndDateType: 'limited' }, 'MissingParameter'],
      [{ EndDateType: 'unlimited', EndDate: new Date(Date.now() + 3600_000) }, 'InvalidParameterCombination'],
      [{ EndDate: new Date(Date.now() - 1000) }, 'InvalidParameterValue'],
      [{ InstanceMatchCriteria: 'some' }, 'InvalidParameterValue'],
    ];
    for (const [extra, code] of bad) assert.equal((await ec2Error(create(extra))).code, code, JSON.stringify(extra));
    assert.equal((await ec2.send(new DescribeCapacityReservationsCommand({}))).CapacityReservations!.length, 1);
  });

  it('open reservations are drawn down by matching launches and given back on terminate', async () => {
    const r = (await ec2.send(new DescribeCapacityReservationsCommand({}))).CapacityReservations![0]!;
    const id = r.CapacityReservationId!;
    const [a] = (await run({ Placement: { AvailabilityZone: 'us-east-1a' } })).Instances!;
    assert.equal(a!.CapacityReservationId, id);
    assert.equal((await get(id)).AvailableInstanceCount, 1);
    const d = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [a!.InstanceId!] }))).Reservations![0]!.Instances![0]!;
    assert.equal(d.CapacityReservationId, id);
    assert.equal(d.CapacityReservationSpecification?.CapacityReservationPreference, 'open');
    const byReservation = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'capacity-reservation-id', Values: [id] }] }));
    assert.deepEqual(byReservation.Reservations!.flatMap((x) => x.Instances!.map((i) => i.InstanceId)), [a!.InstanceId]);
    // another type, another zone, or preference none: not drawn
    await run({ InstanceType: 'm5.xlarge', Placement: { AvailabilityZone: 'us-east-1a' } });
    await run({ Placement: { AvailabilityZone: 'us-east-1b' } });
    const none = (await run({ Placement: { AvailabilityZone: 'us-east-1a' }, CapacityReservationSpecification: { CapacityReservationPreference: 'none' } })).Instances![0]!;
    assert.equal(none.CapacityReservationId, undefined);
    assert.equal((await get(id)).AvailableInstanceCount, 1);
    // two more: one into the reservation, one without
    const two = (await run({ Placement: { AvailabilityZone: 'us-east-1a' } }, 2)).Instances!;
    assert.equal(two.filter((i) => i.CapacityReservationId === id).length, 1);
    assert.equal((await get(id)).AvailableInstanceCount, 0);
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [a!.InstanceId!] }));
    assert.equal((await get(id)).AvailableInstanceCount, 1, 'terminate gives the place back');
  });

  it('targeted reservations: only named launches use them; ReservationCapacityExceeded when exhausted', async () => {
    const r = await create({ InstanceMatchCriteria: 'targeted', InstanceCount: 2, AvailabilityZone: 'us-east-1c' });
    const id = r.CapacityReservationId!;
    await run({ Placement: { AvailabilityZone: 'us-east-1c' } });
    assert.equal((await get(id)).AvailableInstanceCount, 2, 'an open launch does not use a targeted reservation');
    const target = { CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: id } } };
    const [x] = (await run(target)).Instances!;
    assert.equal(x!.CapacityReservationId, id);
    assert.equal(x!.Placement!.AvailabilityZone, 'us-east-1c', 'the reservation\'s zone');
    assert.equal(x!.CapacityReservationSpecification?.CapacityReservationTarget?.CapacityReservationId, id);
    const over = await ec2Error(run(target, 2));
    assert.equal(over.code, 'ReservationCapacityExceeded');
    assert.equal((await get(id)).AvailableInstanceCount, 1, 'the refused launch took nothing');
    await run(target);
    assert.equal((await ec2Error(run(target))).code, 'ReservationCapacityExceeded');
    assert.equal((await ec2Error(run({ ...target, InstanceType: 'm5.xlarge' }))).code, 'InvalidParameterCombination');
    assert.equal(
      (await ec2Error(run({ CapacityReservationSpecification: { CapacityReservationTarget: { CapacityReservationId: 'cr-0123456789abcdef0' } } }))).code,
      'InvalidCapacityReservationId.NotFound',
    );
    // a stopped instance gives its place back too
    await ec2.send(new StopInstancesCommand({ InstanceIds: [x!.InstanceId!], Force: true }));
    for (let n = 0; n < 300 && (await get(id)).AvailableInstanceCount !== 1; n++) await new Promise((res) => setTimeout(res, 20));
    assert.equal((await get(id)).AvailableInstanceCount, 1);
  });

  it('capacity-reservations-only launches need room in open reservations', async () => {
    const only = { CapacityReservationSpecification: { CapacityReservationPreference: 'capacity-reservations-only' as const }, Placement: { AvailabilityZone: 'us-east-1d' } };
    assert.equal((await ec2Error(run(only))).code, 'InsufficientInstanceCapacity');
    await create({ AvailabilityZone: 'us-east-1d', InstanceCount: 1 });
    assert.ok((await run(only)).Instances![0]!.CapacityReservationId);
  });

  it('ModifyCapacityReservation and CancelCapacityReservation', async () => {
    const r = await create({ AvailabilityZone: 'us-east-1b', InstanceCount: 3 });
    const id = r.CapacityReservationId!;
    await run({ Placement: { AvailabilityZone: 'us-east-1b' } }, 2);
    assert.equal((await get(id)).AvailableInstanceCount, 1);
    assert.equal((await ec2Error(ec2.send(new ModifyCapacityReservationCommand({ CapacityReservationId: id, InstanceCount: 1 })))).code, 'InvalidParameterValue');
    const end = new Date(Date.now() + 86_400_000);
    assert.equal((await ec2.send(new ModifyCapacityReservationCommand({ CapacityReservationId: id, InstanceCount: 5, EndDate: end, EndDateType: 'limited' }))).Return, true);
    const m = await get(id);
    assert.equal(m.TotalInstanceCount, 5);
    assert.equal(m.AvailableInstanceCount, 3);
    assert.equal(m.EndDateType, 'limited');
    assert.equal(new Date(m.EndDate!).getTime(), Math.floor(end.getTime() / 1000) * 1000);
    const f = await ec2.send(new DescribeCapacityReservationsCommand({ Filters: [{ Name: 'end-date-type', Values: ['limited'] }] }));
    assert.deepEqual(f.CapacityReservations!.map((c) => c.CapacityReservationId), [id]);
    const dry = await ec2Error(ec2.send(new CancelCapacityReservationCommand({ CapacityReservationId: id, DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal((await ec2.send(new CancelCapacityReservationCommand({ CapacityReservationId: id }))).Return, true);
    const c = await get(id);
    assert.equal(c.State, 'cancelled');
    assert.equal(c.AvailableInstanceCount, 0);
    assert.equal((await ec2Error(ec2.send(new CancelCapacityReservationCommand({ CapacityReservationId: id })))).code, 'InvalidCapacityReservationState');
    assert.equal((await ec2Error(ec2.send(new ModifyCapacityReservationCommand({ CapacityReservationId: id, InstanceCount: 2 })))).code, 'InvalidCapacityReservationState');
    const states = await ec2.send(new DescribeCapacityReservationsCommand({ Filters: [{ Name: 'state', Values: ['cancelled'] }] }));
    assert.deepEqual(states.CapacityReservations!.map((x) => x.CapacityReservationId), [id]);
  });

  it('DescribeCapacityReservations: ids, pages, filters and errors', async () => {
    const all = (await ec2.send(new DescribeCapacityReservationsCommand({}))).CapacityReservations!;
    const page = await ec2.send(new DescribeCapacityReservationsCommand({ MaxResults: 2 }));
    assert.equal(page.CapacityReservations!.length, 2);
    const rest = await ec2.send(new DescribeCapacityReservationsCommand({ MaxResults: 100, NextToken: page.NextToken }));
    assert.equal(page.CapacityReservations!.length + rest.CapacityReservations!.length, all.length);
    const f = await ec2.send(new DescribeCapacityReservationsCommand({ Filters: [{ Name: 'tag:app', Values: ['db'] }] }));
    assert.equal(f.CapacityReservations!.length, 1);
    const z = await ec2.send(new DescribeCapacityReservationsCommand({ Filters: [{ Name: 'availability-zone', Values: ['us-east-1c'] }, { Name: 'instance-match-criteria', Values: ['targeted'] }] }));
    assert.equal(z.CapacityReservations!.length, 1);
    assert.equal((await ec2Error(ec2.send(new DescribeCapacityReservationsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new DescribeCapacityReservationsCommand({ CapacityReservationIds: ['cr-x'] })))).code, 'InvalidCapacityReservationId.Malformed');
    assert.equal((await ec2Error(ec2.send(new DescribeCapacityReservationsCommand({ MaxResults: 0 })))).code, 'InvalidParameterValue');
  });
});
