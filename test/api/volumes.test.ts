/**
 * EBS volumes, snapshots and images through the SDK (mock runtime): the
 * records, their state machines as the reconcilers drive them, and EC2's
 * refusals — each of which changes nothing.
 */
import {
  AttachVolumeCommand,
  CopyImageCommand,
  CopySnapshotCommand,
  CreateImageCommand,
  CreateSnapshotCommand,
  CreateSnapshotsCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumeAttributeCommand,
  DescribeVolumesCommand,
  DescribeVolumesModificationsCommand,
  DescribeVolumeStatusCommand,
  DetachVolumeCommand,
  ModifyImageAttributeCommand,
  ModifyInstanceAttributeCommand,
  ModifySnapshotAttributeCommand,
  ModifyVolumeAttributeCommand,
  ModifyVolumeCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import type { MockHypervisor } from '../../src/compute/drivers/mock.js';
import type { MockBlockStore } from '../../src/storage/drivers/mock.js';

async function until<T>(what: string, f: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 300; i++) {
    last = await f();
    if (ok(last)) return last;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${what}: never reached (last: ${JSON.stringify(last)})`);
}

describe('EBS volumes, snapshots and images', () => {
  let t: TestServer;
  let c: EC2Client;
  let ami: string;

  const volume = async (id: string) => (await c.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!;
  const instance = async (id: string) => (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
  const available = (id: string) => until(`${id} available`, () => volume(id), (v) => v.State === 'available');
  const running = (id: string) => until(`${id} running`, () => instance(id), (i) => i.State?.Name === 'running');
  const snapshot = async (id: string) => (await c.send(new DescribeSnapshotsCommand({ SnapshotIds: [id] }))).Snapshots![0]!;
  const completed = (id: string) => until(`${id} completed`, () => snapshot(id), (s) => s.State === 'completed');
  const launch = async (image = ami, zone = 'us-east-1a') =>
    (await c.send(new RunInstancesCommand({ ImageId: image, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: zone } }))).Instances![0]!.InstanceId!;

  before(async () => {
    t = await startTestServer();
    c = t.client();
    ami = (await c.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(async () => {
    await t.close();
  });

  it('CreateVolume: creating → available, with the type defaults EC2 reports', async () => {
    const v = await c.send(
      new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'gp3', TagSpecifications: [{ ResourceType: 'volume', Tags: [{ Key: 'Name', Value: 'data' }] }] }),
    );
    assert.equal(v.State, 'creating');
    assert.equal(v.Iops, 3000);
    assert.equal(v.Throughput, 125);
    const done = await available(v.VolumeId!);
    assert.deepEqual(done.Tags, [{ Key: 'Name', Value: 'data' }]);
    const gp2 = await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 100 }));
    assert.equal(gp2.VolumeType, 'gp2');
    assert.equal(gp2.Iops, 300, "gp2's baseline: 3 IOPS per GiB");
    // MaxResults above the range gives the most (the AWS CLI asks for 1000 when it paginates)
    const page = await c.send(new DescribeVolumesCommand({ MaxResults: 1000 }));
    assert.ok(page.Volumes!.length >= 2);
    assert.equal((await ec2Error(c.send(new DescribeVolumesCommand({ MaxResults: 4 })))).code, 'InvalidParameterValue');
    const st = await c.send(new DescribeVolumeStatusCommand({ VolumeIds: [v.VolumeId!] }));
    assert.equal(st.VolumeStatuses![0]!.VolumeStatus!.Status, 'ok');
  });

  it('CreateVolume refuses what EC2 refuses, and creates nothing', async () => {
    const before = (await c.send(new DescribeVolumesCommand({}))).Volumes!.length;
    const cases: [object, string][] = [
      [{ AvailabilityZone: 'us-east-1z', Size: 1 }, 'InvalidZone.NotFound'],
      [{ AvailabilityZone: 'eu-west-1a', Size: 1 }, 'InvalidZone.NotFound'],
      [{ AvailabilityZone: 'us-east-1a' }, 'MissingParameter'],
      [{ AvailabilityZone: 'us-east-1a', Size: 20000 }, 'InvalidParameterValue'],
      [{ AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'st1' }, 'InvalidParameterValue'],
      [{ AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'gp2', Iops: 500 }, 'InvalidParameterCombination'],
      [{ AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'io1' }, 'MissingParameter'],
      [{ AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'io1', Iops: 1000 }, 'InvalidParameterValue'],
      [{ AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'gp3', Throughput: 2000 }, 'InvalidParameterValue'],
      [{ AvailabilityZone: 'us-east-1a', Size: 10, VolumeType: 'fast' }, 'InvalidParameterValue'],
      [{ AvailabilityZone: 'us-east-1a', SnapshotId: 'snap-00000000000000001' }, 'InvalidSnapshot.NotFound'],
      [{ AvailabilityZone: 'us-east-1a', SnapshotId: 'snap-x' }, 'InvalidSnapshotID.Malformed'],
    ];
    for (const [input, code] of cases) assert.equal((await ec2Error(c.send(new CreateVolumeCommand(input)))).code, code, JSON.stringify(input));
    assert.equal((await c.send(new DescribeVolumesCommand({}))).Volumes!.length, before);
  });

  it('RunInstances makes its root volume a volume: in-use, attached, deleted on terminate unless told otherwise', async () => {
    const id = (
      await c.send(
        new RunInstancesCommand({
          ImageId: ami,
          MinCount: 1,
          MaxCount: 1,
          BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 5, DeleteOnTermination: false } }],
        }),
      )
    ).Instances![0]!.InstanceId!;
    await running(id);
    const vols = (await c.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [id] }] }))).Volumes!;
    assert.deepEqual(vols.map((v) => [v.Attachments![0]!.Device, v.State, v.Attachments![0]!.DeleteOnTermination]).sort(), [
      ['/dev/sdf', 'in-use', false],
      ['/dev/xvda', 'in-use', true],
    ]);
    const root = vols.find((v) => v.Attachments![0]!.Device === '/dev/xvda')!.VolumeId!;
    const data = vols.find((v) => v.Attachments![0]!.Device === '/dev/sdf')!.VolumeId!;
    assert.equal((await ec2Error(c.send(new DetachVolumeCommand({ VolumeId: root })))).code, 'OperationNotPermitted');
    assert.equal((await ec2Error(c.send(new DeleteVolumeCommand({ VolumeId: data })))).code, 'VolumeInUse');
    await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await available(data);
    assert.equal((await ec2Error(c.send(new DescribeVolumesCommand({ VolumeIds: [root] })))).code, 'InvalidVolume.NotFound');
  });

  it('AttachVolume / DetachVolume: attaching → attached, mirrored in the instance; the rules of attach', async () => {
    const inst = await launch();
    await running(inst);
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 2 }))).VolumeId!;
    const elsewhere = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1b', Size: 2 }))).VolumeId!;
    await available(vol);
    await available(elsewhere);
    assert.equal((await ec2Error(c.send(new AttachVolumeCommand({ VolumeId: elsewhere, InstanceId: inst, Device: '/dev/sdf' })))).code, 'InvalidVolume.ZoneMismatch');
    assert.equal((await ec2Error(c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: '/dev/xvda' })))).code, 'InvalidParameterValue', 'the root device');
    assert.equal((await ec2Error(c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: '/dev/hda' })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: 'i-00000000000000001', Device: '/dev/sdf' })))).code, 'InvalidInstanceID.NotFound');
    assert.equal((await volume(vol)).State, 'available', 'the refusals changed nothing');

    const a = await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: '/dev/sdf' }));
    assert.equal(a.State, 'attaching');
    await until('attached', () => volume(vol), (v) => v.Attachments?.[0]?.State === 'attached');
    const mapped = (await instance(inst)).BlockDeviceMappings!.map((b) => [b.DeviceName, b.Ebs!.Status]);
    assert.deepEqual(mapped, [['/dev/xvda', 'attached'], ['/dev/sdf', 'attached']]);
    assert.equal((await ec2Error(c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: '/dev/sdg' })))).code, 'VolumeInUse');
    const other = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    await available(other);
    assert.equal((await ec2Error(c.send(new AttachVolumeCommand({ VolumeId: other, InstanceId: inst, Device: 'xvdf' })))).code, 'InvalidParameterValue', 'sdf and xvdf are one point');
    assert.equal((await ec2Error(c.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: 'i-00000000000000001' })))).code, 'InvalidAttachment.NotFound');

    const d = await c.send(new DetachVolumeCommand({ VolumeId: vol }));
    assert.equal(d.State, 'detaching');
    await available(vol);
    assert.deepEqual((await instance(inst)).BlockDeviceMappings!.map((b) => b.DeviceName), ['/dev/xvda']);
    assert.equal((await ec2Error(c.send(new DetachVolumeCommand({ VolumeId: vol })))).code, 'IncorrectState');

    // a stopped instance takes a volume too (it gets it at its next start); a terminated one does not
    await c.send(new StopInstancesCommand({ InstanceIds: [inst] }));
    await until('stopped', () => instance(inst), (i) => i.State?.Name === 'stopped');
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: '/dev/sdh' }));
    await until('attached', () => volume(vol), (v) => v.Attachments?.[0]?.State === 'attached');
    await c.send(new TerminateInstancesCommand({ InstanceIds: [inst] }));
    await available(vol);
    assert.equal((await ec2Error(c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: '/dev/sdf' })))).code, 'IncorrectInstanceState');
    await c.send(new DeleteVolumeCommand({ VolumeId: vol }));
    await until('gone', () => ec2Error(c.send(new DescribeVolumesCommand({ VolumeIds: [vol] }))), (e) => e.code === 'InvalidVolume.NotFound');
  });

  it('a stopped instance’s root volume can be detached and attached elsewhere; the instance then cannot start until it has a root again', async () => {
    const inst = await launch();
    await running(inst);
    const root = (await instance(inst)).BlockDeviceMappings![0]!.Ebs!.VolumeId!;
    await c.send(new StopInstancesCommand({ InstanceIds: [inst] }));
    await until('stopped', () => instance(inst), (i) => i.State?.Name === 'stopped');
    await c.send(new DetachVolumeCommand({ VolumeId: root }));
    await available(root);
    assert.equal((await ec2Error(c.send(new StartInstancesCommand({ InstanceIds: [inst] })))).code, 'IncorrectInstanceState');
    assert.equal((await instance(inst)).State?.Name, 'stopped', 'the refusal changed nothing');
    const other = await launch();
    await running(other);
    await c.send(new AttachVolumeCommand({ VolumeId: root, InstanceId: other, Device: '/dev/sdf' }));
    await until('attached elsewhere', () => volume(root), (v) => v.Attachments?.[0]?.State === 'attached');
    await c.send(new DetachVolumeCommand({ VolumeId: root }));
    await available(root);
    await c.send(new AttachVolumeCommand({ VolumeId: root, InstanceId: inst, Device: '/dev/xvda' }));
    await until('root again', () => volume(root), (v) => v.Attachments?.[0]?.State === 'attached');
    await c.send(new StartInstancesCommand({ InstanceIds: [inst] }));
    await running(inst);
  });

  it('ModifyVolume grows a volume and changes its type; shrinking is refused', async () => {
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'gp2' }))).VolumeId!;
    await available(vol);
    assert.equal((await ec2Error(c.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 3 })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new ModifyVolumeCommand({ VolumeId: vol, VolumeType: 'io1' })))).code, 'MissingParameter');
    const m = await c.send(new ModifyVolumeCommand({ VolumeId: vol, Size: 8, VolumeType: 'gp3', Iops: 4000 }));
    assert.equal(m.VolumeModification!.ModificationState, 'modifying');
    assert.equal(m.VolumeModification!.OriginalSize, 4);
    const done = await until(
      'completed',
      async () => (await c.send(new DescribeVolumesModificationsCommand({ VolumeIds: [vol] }))).VolumesModifications![0]!,
      (x) => x.ModificationState === 'completed',
    );
    assert.equal(done.TargetSize, 8);
    const v = await volume(vol);
    assert.deepEqual([v.Size, v.VolumeType, v.Iops, v.Throughput], [8, 'gp3', 4000, 125]);
    await c.send(new ModifyVolumeAttributeCommand({ VolumeId: vol, AutoEnableIO: { Value: true } }));
    assert.equal((await c.send(new DescribeVolumeAttributeCommand({ VolumeId: vol, Attribute: 'autoEnableIO' }))).AutoEnableIO!.Value, true);
  });

  it('ModifyVolume of an attached volume: modifying → optimizing → completed, in that order; the volume shows its new type and IOPS from optimizing on', async () => {
    const inst = await launch();
    await running(inst);
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'io1', Iops: 200 }))).VolumeId!;
    await available(vol);
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: inst, Device: '/dev/sdf' }));
    await until('attached', () => volume(vol), (v) => v.Attachments?.[0]?.State === 'attached');
    const hv = t.server.drivers.hypervisor as MockHypervisor;
    const iopsOnDevice = () => hv.disksOf(inst).find((d) => d.deviceName === '/dev/sdf')?.limits?.iops;
    assert.equal(iopsOnDevice(), 200, 'the machine got the IOPS of the type at attach');
    const m = await c.send(new ModifyVolumeCommand({ VolumeId: vol, VolumeType: 'io2', Iops: 100 }));
    assert.deepEqual([m.VolumeModification!.ModificationState, m.VolumeModification!.OriginalIops, m.VolumeModification!.TargetIops], ['modifying', 200, 100]);
    const seen: string[] = [];
    const shown: [string | undefined, number | undefined, number | undefined][] = [];
    await until(
      'completed',
      async () => {
        const [x] = (await c.send(new DescribeVolumesModificationsCommand({ VolumeIds: [vol] }))).VolumesModifications!;
        const v = await volume(vol);
        if (seen.at(-1) !== x!.ModificationState) seen.push(x!.ModificationState!);
        if (x!.ModificationState !== 'modifying') shown.push([v.VolumeType, v.Iops, iopsOnDevice()]);
        return x!;
      },
      (x) => x.ModificationState === 'completed',
    );
    const order = ['modifying', 'optimizing', 'completed'];
    assert.deepEqual(seen, order.filter((s) => seen.includes(s)), `states in order: ${seen.join(' → ')}`);
    assert.ok(shown.length > 0 && shown.every(([t, i, d]) => t === 'io2' && i === 100 && d === 100), `from optimizing on the volume is io2 at 100 IOPS, on the running machine's device too: ${JSON.stringify(shown)}`);
    const v = await volume(vol);
    assert.deepEqual([v.State, v.Attachments?.[0]?.State], ['in-use', 'attached'], 'still attached');
    // the next modification reaches the device too
    await c.send(new ModifyVolumeCommand({ VolumeId: vol, Iops: 400 }));
    await until('completed', async () => (await c.send(new DescribeVolumesModificationsCommand({ VolumeIds: [vol] }))).VolumesModifications![0]!, (x) => x.ModificationState === 'completed');
    assert.equal(iopsOnDevice(), 400);
    await c.send(new DetachVolumeCommand({ VolumeId: vol }));
    await available(vol);
  });

  it('Multi-Attach: an io2 volume created with MultiAttachEnabled is attached to several instances of its zone at once, one device for all; other volumes stay single', async () => {
    const count = async () => (await c.send(new DescribeVolumesCommand({}))).Volumes!.length;
    const before = await count();
    for (const VolumeType of ['gp3', 'gp2', 'st1'] as const) {
      const e = await ec2Error(c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 500, VolumeType, MultiAttachEnabled: true })));
      assert.equal(e.code, 'InvalidParameterValue', VolumeType);
    }
    assert.equal(await count(), before, 'the refusals created nothing');

    const [a, b, far] = [await launch(), await launch(), await launch(ami, 'us-east-1b')];
    await Promise.all([running(a), running(b), running(far)]);
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'io2', Iops: 1000, MultiAttachEnabled: true }))).VolumeId!;
    const single = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'io2', Iops: 1000 }))).VolumeId!;
    await available(vol);
    await available(single);
    assert.equal((await volume(vol)).MultiAttachEnabled, true);
    assert.equal((await volume(single)).MultiAttachEnabled, false);

    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: a, Device: '/dev/sdf' }));
    await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: b, Device: '/dev/sdg' }));
    const both = await until('both attached', () => volume(vol), (v) => v.Attachments?.length === 2 && v.Attachments.every((x) => x.State === 'attached'));
    assert.deepEqual(both.Attachments!.map((x) => [x.InstanceId, x.Device]), [[a, '/dev/sdf'], [b, '/dev/sdg']]);
    assert.equal(both.State, 'in-use');
    assert.equal((await ec2Error(c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: a, Device: '/dev/sdh' })))).code, 'VolumeInUse', 'one attachment per instance');
    assert.equal((await ec2Error(c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: far, Device: '/dev/sdf' })))).code, 'InvalidVolume.ZoneMismatch');
    // each instance shows it; a filter on either attachment finds it
    for (const [i, dev] of [[a, '/dev/sdf'], [b, '/dev/sdg']] as const) {
      assert.ok((await instance(i)).BlockDeviceMappings!.some((m) => m.DeviceName === dev && m.Ebs?.VolumeId === vol && m.Ebs.Status === 'attached'));
      const found = (await c.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [i] }, { Name: 'multi-attach-enabled', Values: ['true'] }] }))).Volumes!;
      assert.deepEqual(found.map((v) => v.VolumeId), [vol]);
    }
    // both machines were handed the same host device
    const hv = t.server.drivers.hypervisor as MockHypervisor;
    const pathIn = (i: string, dev: string) => hv.disksOf(i).find((d) => d.deviceName === dev)?.path;
    assert.ok(pathIn(a, '/dev/sdf') !== undefined && pathIn(a, '/dev/sdf') === pathIn(b, '/dev/sdg'), `one device: ${pathIn(a, '/dev/sdf')} and ${pathIn(b, '/dev/sdg')}`);
    const bs = t.server.drivers.blockStore as MockBlockStore;
    assert.deepEqual((await bs.listVolumes()).find((x) => x.volumeId === vol)?.attachment?.sharedWith, [b]);

    // a volume without Multi-Attach stays with one instance
    await c.send(new AttachVolumeCommand({ VolumeId: single, InstanceId: a, Device: '/dev/sdj' }));
    await until('attached', () => volume(single), (v) => v.Attachments?.[0]?.State === 'attached');
    assert.equal((await ec2Error(c.send(new AttachVolumeCommand({ VolumeId: single, InstanceId: b, Device: '/dev/sdj' })))).code, 'VolumeInUse');
    assert.equal((await volume(single)).Attachments!.length, 1, 'the refusal changed nothing');

    // Multi-Attach is not turned off under two instances; DetachVolume must say which instance
    assert.equal((await ec2Error(c.send(new ModifyVolumeCommand({ VolumeId: vol, MultiAttachEnabled: false })))).code, 'InvalidParameterCombination');
    assert.equal((await ec2Error(c.send(new DetachVolumeCommand({ VolumeId: vol })))).code, 'InvalidParameterCombination');
    assert.equal((await ec2Error(c.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: far })))).code, 'InvalidAttachment.NotFound');
    assert.equal((await volume(vol)).Attachments!.length, 2, 'the refusals changed nothing');
    // detaching one attachment leaves the other (and its device)
    const d = await c.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: a }));
    assert.deepEqual([d.InstanceId, d.State], [a, 'detaching']);
    const left = await until('one left', () => volume(vol), (v) => v.Attachments?.length === 1);
    assert.deepEqual([left.State, left.Attachments![0]!.InstanceId, left.Attachments![0]!.State], ['in-use', b, 'attached']);
    assert.equal(pathIn(a, '/dev/sdf'), undefined, 'gone from the instance it was detached from');
    assert.ok(pathIn(b, '/dev/sdg') !== undefined, 'still in the other');
    assert.deepEqual((await bs.listVolumes()).find((x) => x.volumeId === vol)?.attachment?.instanceId, b);

    // on one instance, io2 may turn Multi-Attach off (and the volume is single from then on)
    await c.send(new ModifyVolumeCommand({ VolumeId: vol, MultiAttachEnabled: false }));
    await until('completed', async () => (await c.send(new DescribeVolumesModificationsCommand({ VolumeIds: [vol] }))).VolumesModifications![0]!, (x) => x.ModificationState === 'completed');
    const off = (await c.send(new DescribeVolumesModificationsCommand({ VolumeIds: [vol] }))).VolumesModifications![0]!;
    assert.deepEqual([off.OriginalMultiAttachEnabled, off.TargetMultiAttachEnabled], [true, false]);
    assert.equal((await volume(vol)).MultiAttachEnabled, false);
    assert.equal((await ec2Error(c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: a, Device: '/dev/sdf' })))).code, 'VolumeInUse');
    // … and on again; io1 and other types cannot change it after creation
    await c.send(new ModifyVolumeCommand({ VolumeId: vol, MultiAttachEnabled: true }));
    await until('on again', () => volume(vol), (v) => v.MultiAttachEnabled === true);
    const io1 = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'io1', Iops: 100 }))).VolumeId!;
    const gp3 = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'gp3' }))).VolumeId!;
    await available(io1);
    await available(gp3);
    for (const id of [io1, gp3]) {
      assert.equal((await ec2Error(c.send(new ModifyVolumeCommand({ VolumeId: id, MultiAttachEnabled: true })))).code, 'InvalidParameterCombination', id);
      assert.equal((await volume(id)).MultiAttachEnabled, false);
    }
    assert.equal((await ec2Error(c.send(new ModifyVolumeCommand({ VolumeId: vol, VolumeType: 'gp3' })))).code, 'InvalidParameterCombination', 'a Multi-Attach volume stays io1/io2');
    assert.equal((await ec2Error(c.send(new DeleteVolumeCommand({ VolumeId: vol })))).code, 'VolumeInUse');
  });

  it('Multi-Attach shares the volume\'s IOPS and throughput: each instance gets an even part, re-split as instances come and go, after a ModifyVolume too', async () => {
    const [a, b, cc] = [await launch(), await launch(), await launch()];
    await Promise.all([running(a), running(b), running(cc)]);
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'io2', Iops: 1000, MultiAttachEnabled: true }))).VolumeId!;
    await available(vol);
    const hv = t.server.drivers.hypervisor as MockHypervisor;
    const limitsIn = (i: string) => hv.disksOf(i).find((d) => d.deviceName === '/dev/sdf')?.limits;
    const iops = (ids: string[]) => ids.map((i) => limitsIn(i)?.iops);
    const attach = async (i: string) => {
      await c.send(new AttachVolumeCommand({ VolumeId: vol, InstanceId: i, Device: '/dev/sdf' }));
      await until(`attached to ${i}`, () => volume(vol), (v) => v.Attachments?.some((x) => x.InstanceId === i && x.State === 'attached') === true);
    };
    await attach(a);
    assert.deepEqual(iops([a]), [1000], 'one instance alone has all of it');
    const full = limitsIn(a)!;
    await attach(b);
    assert.deepEqual(iops([a, b]), [500, 500], 'two share it: the first gave up half');
    await attach(cc);
    assert.deepEqual(iops([a, b, cc]), [333, 333, 333]);
    const bytes = [a, b, cc].map((i) => limitsIn(i)!.bytesPerSecond!);
    assert.ok(bytes.every((x) => x === bytes[0]) && bytes.reduce((x, y) => x + y) <= full.bytesPerSecond!, `throughput split too: ${bytes} of ${full.bytesPerSecond}`);
    // a ModifyVolume's new IOPS are split the same way
    await c.send(new ModifyVolumeCommand({ VolumeId: vol, Iops: 1200 }));
    await until('completed', async () => (await c.send(new DescribeVolumesModificationsCommand({ VolumeIds: [vol] }))).VolumesModifications![0]!, (x) => x.ModificationState === 'completed');
    assert.deepEqual(iops([a, b, cc]), [400, 400, 400]);
    // one leaves: the others share among fewer
    await c.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: cc }));
    await until('two left', () => volume(vol), (v) => v.Attachments?.length === 2);
    assert.deepEqual(iops([a, b]), [600, 600]);
    assert.equal(limitsIn(cc), undefined);
    // one is terminated: the last has it all again
    await c.send(new TerminateInstancesCommand({ InstanceIds: [b] }));
    await until('one left', () => volume(vol), (v) => v.Attachments?.length === 1);
    await until('re-split', async () => limitsIn(a)?.iops, (x) => x === 1200);
    await c.send(new DetachVolumeCommand({ VolumeId: vol, InstanceId: a }));
    await available(vol);
    await c.send(new TerminateInstancesCommand({ InstanceIds: [a, cc] }));
  });

  it('Multi-Attach and DeleteOnTermination: each attachment has its own; the last attached instance decides', async () => {
    const [a, b] = [await launch(), await launch()];
    await Promise.all([running(a), running(b)]);
    const mk = async (device: string) => {
      const id = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 4, VolumeType: 'io2', Iops: 400, MultiAttachEnabled: true }))).VolumeId!;
      await available(id);
      await c.send(new AttachVolumeCommand({ VolumeId: id, InstanceId: a, Device: device }));
      await c.send(new AttachVolumeCommand({ VolumeId: id, InstanceId: b, Device: device }));
      await until('attached twice', () => volume(id), (v) => v.Attachments?.filter((x) => x.State === 'attached').length === 2);
      return id;
    };
    const kept = await mk('/dev/sdf');
    const gone = await mk('/dev/sdg');
    const dot = async (i: string, device: string, vol: string) =>
      c.send(new ModifyInstanceAttributeCommand({ InstanceId: i, BlockDeviceMappings: [{ DeviceName: device, Ebs: { VolumeId: vol, DeleteOnTermination: true } }] }));
    // a's attachments delete on termination, b's attachment of `gone` too
    await dot(a, '/dev/sdf', kept);
    await dot(a, '/dev/sdg', gone);
    await dot(b, '/dev/sdg', gone);
    const flags = (await volume(gone)).Attachments!.map((x) => [x.InstanceId, x.DeleteOnTermination]);
    assert.deepEqual(flags, [[a, true], [b, true]]);
    assert.deepEqual((await volume(kept)).Attachments!.map((x) => x.DeleteOnTermination), [true, false], 'per attachment');
    // a goes first: both volumes stay, attached to b (a was not the last)
    await c.send(new TerminateInstancesCommand({ InstanceIds: [a] }));
    await until('a terminated', () => instance(a), (i) => i.State?.Name === 'terminated');
    for (const id of [kept, gone]) {
      const v = await until(`${id} on b only`, () => volume(id), (x) => x.Attachments?.length === 1);
      assert.deepEqual([v.State, v.Attachments![0]!.InstanceId], ['in-use', b]);
    }
    // then b, the last: its own setting decides
    await c.send(new TerminateInstancesCommand({ InstanceIds: [b] }));
    await until('b terminated', () => instance(b), (i) => i.State?.Name === 'terminated');
    await available(kept);
    await until('deleted with b', () => ec2Error(c.send(new DescribeVolumesCommand({ VolumeIds: [gone] }))), (e) => e.code === 'InvalidVolume.NotFound');
    const bs = t.server.drivers.blockStore as MockBlockStore;
    const bytes = (await bs.listVolumes()).map((x) => x.volumeId);
    assert.ok(bytes.includes(kept) && !bytes.includes(gone), 'the bytes follow the records');
  });

  it('snapshots: pending → completed, volumes from them, sharing, copies to another region; DeleteSnapshot of an image snapshot is refused', async () => {
    const vol = (await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 3 }))).VolumeId!;
    await available(vol);
    const snap = await c.send(new CreateSnapshotCommand({ VolumeId: vol, Description: 'first' }));
    assert.equal(snap.State, 'pending');
    const done = await completed(snap.SnapshotId!);
    assert.equal(done.Progress, '100%');
    assert.equal(done.VolumeSize, 3);
    assert.equal((await ec2Error(c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', SnapshotId: snap.SnapshotId, Size: 2 })))).code, 'InvalidParameterValue');
    const restored = await c.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1b', SnapshotId: snap.SnapshotId }));
    assert.equal(restored.Size, 3);
    assert.equal(restored.SnapshotId, snap.SnapshotId);
    await available(restored.VolumeId!);

    await c.send(new ModifySnapshotAttributeCommand({ SnapshotId: snap.SnapshotId, Attribute: 'createVolumePermission', OperationType: 'add', UserIds: ['111122223333'] }));
    const perms = await c.send(new DescribeSnapshotAttributeCommand({ SnapshotId: snap.SnapshotId, Attribute: 'createVolumePermission' }));
    assert.deepEqual(perms.CreateVolumePermissions, [{ UserId: '111122223333' }]);
    const mine = await c.send(new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'description', Values: ['first'] }] }));
    assert.deepEqual(mine.Snapshots!.map((s) => s.SnapshotId), [snap.SnapshotId]);

    const west = t.client('us-west-2');
    const copy = await west.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: snap.SnapshotId }));
    const copied = await until('copy completed', async () => (await west.send(new DescribeSnapshotsCommand({ SnapshotIds: [copy.SnapshotId!] }))).Snapshots![0]!, (s) => s.State === 'completed');
    assert.match(copied.Description!, /Copied/);
    assert.equal((await ec2Error(west.send(new CopySnapshotCommand({ SourceRegion: 'us-east-1', SourceSnapshotId: 'snap-00000000000000001' })))).code, 'InvalidSnapshot.NotFound');

    const several = await c.send(new CreateSnapshotsCommand({ InstanceSpecification: { InstanceId: await launch() } }));
    assert.equal(several.Snapshots!.length, 1, 'the instance has its root volume only');

    await c.send(new DeleteSnapshotCommand({ SnapshotId: snap.SnapshotId }));
    assert.equal((await ec2Error(c.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap.SnapshotId!] })))).code, 'InvalidSnapshot.NotFound');
    assert.equal((await volume(restored.VolumeId!)).State, 'available', 'a volume made from it stays');
  });

  it('CreateImage from an instance: its snapshots, available once they complete, launchable; DeregisterImage frees the snapshots', async () => {
    const inst = await launch();
    await running(inst);
    const { ImageId } = await c.send(new CreateImageCommand({ InstanceId: inst, Name: 'my web server', NoReboot: true }));
    const image = await until('image available', async () => (await c.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0]!, (i) => i.State === 'available');
    assert.notEqual(image.OwnerId, '000000000000', 'owned by the caller, not the catalogue');
    assert.equal(image.SourceInstanceId, inst);
    const rootSnap = image.BlockDeviceMappings![0]!.Ebs!.SnapshotId!;
    assert.equal((await snapshot(rootSnap)).State, 'completed');
    assert.equal((await ec2Error(c.send(new CreateImageCommand({ InstanceId: inst, Name: 'my web server' })))).code, 'InvalidAMIName.Duplicate');
    assert.equal((await ec2Error(c.send(new DeleteSnapshotCommand({ SnapshotId: rootSnap })))).code, 'InvalidSnapshot.InUse');

    const child = await launch(ImageId);
    await running(child);
    const childRoot = (await c.send(new DescribeVolumesCommand({ Filters: [{ Name: 'attachment.instance-id', Values: [child] }] }))).Volumes![0]!;
    assert.equal(childRoot.SnapshotId, rootSnap, 'its root volume is made from the image snapshot');

    await c.send(new ModifyImageAttributeCommand({ ImageId, LaunchPermission: { Add: [{ UserId: '111122223333' }] } }));
    const lp = await c.send(new DescribeImageAttributeCommand({ ImageId, Attribute: 'launchPermission' }));
    assert.deepEqual(lp.LaunchPermissions, [{ UserId: '111122223333' }]);

    const west = t.client('us-west-2');
    const copied = await west.send(new CopyImageCommand({ SourceRegion: 'us-east-1', SourceImageId: ImageId, Name: 'copied' }));
    await until('copy available', async () => (await west.send(new DescribeImagesCommand({ ImageIds: [copied.ImageId!] }))).Images![0]!, (i) => i.State === 'available');
    const inWest = (await west.send(new RunInstancesCommand({ ImageId: copied.ImageId, MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
    await until('running in us-west-2', async () => (await west.send(new DescribeInstancesCommand({ InstanceIds: [inWest] }))).Reservations![0]!.Instances![0]!, (i) => i.State?.Name === 'running');

    await c.send(new DeregisterImageCommand({ ImageId }));
    // as on EC2, a just-deregistered image answers an empty result, not an error
    assert.deepEqual((await c.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images, []);
    await c.send(new DeleteSnapshotCommand({ SnapshotId: rootSnap }));
    assert.equal((await ec2Error(c.send(new DeregisterImageCommand({ ImageId: ami })))).code, 'AuthFailure', 'the catalogue is not ours to deregister');
  });
});
