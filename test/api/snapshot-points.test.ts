/**
 * Snapshot sets of one instance through @aws-sdk/client-ec2 (mock runtime):
 * CreateSnapshots of an instance with data volumes (running and stopped)
 * completes every snapshot; CreateImage of a running instance without
 * NoReboot shuts the guest down and starts it again (its console shows it),
 * with NoReboot it does not; either way the image becomes available.
 */
import {
  AttachVolumeCommand,
  CreateImageCommand,
  CreateSnapshotsCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  GetConsoleOutputCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { until } from '../helpers/real-instances.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('snapshots of an instance at one point in time', () => {
  let t: TestServer;
  let c: EC2Client;
  let ami: string;

  const state = async (id: string) => (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State?.Name;
  const launch = async (): Promise<string> => {
    const id = (await c.send(new RunInstancesCommand({ ImageId: ami, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: 'us-east-1a' } }))).Instances![0]!.InstanceId!;
    await until('running', async () => ((await state(id)) === 'running' ? true : undefined));
    return id;
  };
  const attachData = async (instanceId: string, device: string): Promise<string> => {
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    await until('available', async () => ((await c.send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]!.State === 'available' ? true : undefined));
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: instanceId, Device: device }));
    await until('attached', async () => ((await c.send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]!.Attachments?.[0]?.State === 'attached' ? true : undefined));
    return vol;
  };
  const completed = (ids: string[]) =>
    until('snapshots completed', async () => {
      const s = (await c.send(new DescribeSnapshotsCommand({ SnapshotIds: ids }))).Snapshots!;
      return s.every((x) => x.State === 'completed') ? s : undefined;
    });
  const powerDowns = async (id: string): Promise<number> => {
    const out = (await c.send(new GetConsoleOutputCommand({ InstanceId: id, Latest: true }))).Output ?? '';
    return (Buffer.from(out, 'base64').toString().match(/reboot: Power down/g) ?? []).length;
  };

  before(async () => {
    t = await startTestServer();
    c = t.client();
    ami = (await c.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }))).Images![0]!.ImageId!;
  });
  after(() => t.close());

  it('CreateSnapshots of a running instance with two data volumes: three snapshots, all completed, the instance still running', async () => {
    const id = await launch();
    const [f, g] = [await attachData(id, '/dev/sdf'), await attachData(id, '/dev/sdg')];
    const { Snapshots } = await c.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: id }, Description: 'set' }));
    assert.equal(Snapshots!.length, 3);
    assert.ok(Snapshots!.every((s) => s.State === 'pending'));
    const done = await completed(Snapshots!.map((s) => s.SnapshotId!));
    assert.deepEqual(new Set(done.map((s) => s.VolumeId)).size, 3);
    assert.ok([f, g].every((v) => done.some((s) => s.VolumeId === v)));
    assert.equal(await state(id), 'running');
    assert.equal(await powerDowns(id), 0, 'a frozen instance is not shut down');

    const data = await c.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: id, ExcludeBootVolume: true, ExcludeDataVolumeIds: [g] } }));
    assert.deepEqual(data.Snapshots!.map((s) => s.VolumeId), [f]);
    await completed(data.Snapshots!.map((s) => s.SnapshotId!));
  });

  it('CreateSnapshots of a stopped instance completes too', async () => {
    const id = await launch();
    await attachData(id, '/dev/sdf');
    await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await until('stopped', async () => ((await state(id)) === 'stopped' ? true : undefined));
    const { Snapshots } = await c.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: id } }));
    assert.equal((await completed(Snapshots!.map((s) => s.SnapshotId!))).length, 2);
    assert.equal(await state(id), 'stopped');
  });

  it('CreateImage without NoReboot shuts the guest down for the snapshots and starts it again; with NoReboot it does not', async () => {
    const id = await launch();
    const available = (imageId: string) => until('image available', async () => ((await c.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0]!.State === 'available' ? true : undefined));
    const quiet = (await c.send(new CreateImageCommand({ InstanceId: id, Name: 'no-reboot', NoReboot: true }))).ImageId!;
    await available(quiet);
    assert.equal(await powerDowns(id), 0);

    const rebooted = (await c.send(new CreateImageCommand({ InstanceId: id, Name: 'with-reboot' }))).ImageId!;
    await available(rebooted);
    await until('the shutdown on the console', async () => ((await powerDowns(id)) === 1 ? true : undefined));
    assert.equal(await state(id), 'running');
    const snaps = (await c.send(new DescribeImagesCommand({ ImageIds: [rebooted] }))).Images![0]!.BlockDeviceMappings!.map((m) => m.Ebs!.SnapshotId!);
    assert.equal((await completed(snaps)).length, 1);
  });
});
