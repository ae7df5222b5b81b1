/**
 * DeregisterImage as EC2 does it: the image is gone from every listing and
 * cannot be launched, copied or changed, but a lookup by its id answers an empty
 * result (not InvalidAMIID.NotFound) for a while, which clients rely on
 * (Ansible's ec2_ami looks the image up again right after deregistering it).
 */
import * as EC2 from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEREGISTERED_VISIBLE_MS, recentlyDeregistered } from '../../src/resources/ec2/images.js';
import type { ImageRecord } from '../../src/resources/ec2/records.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('DeregisterImage', () => {
  let t: TestServer;
  let c: EC2.EC2Client;
  let snapshotId: string;

  const register = async (Name: string) =>
    (
      await c.send(
        new EC2.RegisterImageCommand({
          Name,
          RootDeviceName: '/dev/xvda',
          Architecture: 'x86_64',
          BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snapshotId } }],
          TagSpecifications: [{ ResourceType: 'image', Tags: [{ Key: 'Name', Value: Name }] }],
        }),
      )
    ).ImageId!;

  before(async () => {
    t = await startTestServer();
    c = t.client();
    const volumeId = (await c.send(new EC2.CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 8 }))).VolumeId!;
    for (let i = 0; i < 200; i++) {
      if ((await c.send(new EC2.DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0]!.State === 'available') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    snapshotId = (await c.send(new EC2.CreateSnapshotCommand({ VolumeId: volumeId }))).SnapshotId!;
  });
  after(() => t.close());

  it('answers an empty result by id, and hides the image everywhere else', async () => {
    const id = await register('gone-soon');
    const kept = await register('kept');
    await c.send(new EC2.DeregisterImageCommand({ ImageId: id }));

    assert.deepEqual((await c.send(new EC2.DescribeImagesCommand({ ImageIds: [id] }))).Images, []);
    // with a live image beside it: only the live one
    assert.deepEqual((await c.send(new EC2.DescribeImagesCommand({ ImageIds: [id, kept] }))).Images!.map((i) => i.ImageId), [kept]);
    const own = (await c.send(new EC2.DescribeImagesCommand({ Owners: ['self'] }))).Images!.map((i) => i.ImageId);
    assert.deepEqual(own, [kept]);
    assert.deepEqual((await c.send(new EC2.DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [id] }] }))).Tags, []);

    assert.equal((await ec2Error(c.send(new EC2.DeregisterImageCommand({ ImageId: id })))).code, 'InvalidAMIID.NotFound');
    assert.equal(
      (await ec2Error(c.send(new EC2.DescribeImageAttributeCommand({ ImageId: id, Attribute: 'description' })))).code,
      'InvalidAMIID.NotFound',
    );
    assert.equal(
      (await ec2Error(c.send(new EC2.RunInstancesCommand({ ImageId: id, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 })))).code,
      'InvalidAMIID.NotFound',
    );
    assert.equal(
      (await ec2Error(c.send(new EC2.CopyImageCommand({ SourceImageId: id, SourceRegion: 'us-east-1', Name: 'copy' })))).code,
      'InvalidAMIID.NotFound',
    );
  });

  it('frees the name at once', async () => {
    const id = await register('reused');
    await c.send(new EC2.DeregisterImageCommand({ ImageId: id }));
    const again = await register('reused');
    assert.notEqual(again, id);
    assert.deepEqual((await c.send(new EC2.DescribeImagesCommand({ Filters: [{ Name: 'name', Values: ['reused'] }] }))).Images!.map((i) => i.ImageId), [again]);
  });

  it('an id never registered, or another account\'s, is still InvalidAMIID.NotFound', async () => {
    assert.equal((await ec2Error(c.send(new EC2.DescribeImagesCommand({ ImageIds: ['ami-0123456789abcdef0'] })))).code, 'InvalidAMIID.NotFound');
  });

  it('the empty answer lasts DEREGISTERED_VISIBLE_MS, for the owner only', () => {
    const at = new Date('2026-01-01T00:00:00Z');
    const image = { ImageId: 'ami-1', OwnerId: '123456789012', State: 'deregistered', deregisteredAt: at.toISOString() } as ImageRecord;
    assert.equal(recentlyDeregistered(image, '123456789012', new Date(at.getTime() + DEREGISTERED_VISIBLE_MS - 1)), true);
    assert.equal(recentlyDeregistered(image, '123456789012', new Date(at.getTime() + DEREGISTERED_VISIBLE_MS)), false);
    assert.equal(recentlyDeregistered(image, '999999999999', at), false);
    assert.equal(recentlyDeregistered({ ...image, State: 'available' }, '123456789012', at), false);
  });
});
