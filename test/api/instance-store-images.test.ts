/**
 * Instance-store-backed AMIs through @aws-sdk/client-ec2 (mock runtime): a bundle
 * made by `overcast image import --instance-store` is registered by its
 * ImageLocation; an instance launched from it has an instance store root
 * (no EBS mappings), reboots, cannot be stopped or imaged, and terminates.
 */
import {
  CopyImageCommand,
  CreateImageCommand,
  DescribeImagesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  ModifyInstanceAttributeCommand,
  RebootInstancesCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundleFile } from '../../src/domain/bundle-manifest.js';
import { run } from '../../src/host/exec.js';
import { runImageCommand } from '../../src/images-command.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { until } from '../helpers/real-instances.js';

const sink = () => {
  let text = '';
  return { write: (s: string) => (text += s), get text() { return text; } };
};

describe('instance-store-backed AMIs', () => {
  let t: TestServer;
  let c: EC2Client;
  let work: string;
  let imageDir: string;
  let location: string;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'overcast-is-'));
    imageDir = join(work, 'images');
    const disk = join(work, 'root.ext4');
    writeFileSync(disk, '');
    truncateSync(disk, 16 * 1024 * 1024);
    await run('mkfs.ext4', ['-q', '-F', disk]);
    const out = sink();
    const err = sink();
    const code = await runImageCommand(['import', disk, '--name', 'my-bundle', '--instance-store', '--image-dir', imageDir, '--data-dir', join(work, 'data')], out, err);
    assert.equal(code, 0, err.text);
    location = out.text.split('\t')[0]!;
    t = await startTestServer({ imageDir });
    c = t.client();
  });

  after(async () => {
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('import --instance-store writes a bundle and prints its ImageLocation', () => {
    assert.equal(location, 'overcast-images/my-bundle/image.manifest.xml');
    const manifest = readFileSync(bundleFile(imageDir, 'my-bundle'), 'utf8');
    assert.match(manifest, /<filename>root\.img<\/filename>/);
    assert.match(manifest, /<virtual>ephemeral0<\/virtual><device>sdb<\/device>/);
    assert.match(manifest, new RegExp(`<size>${16 * 1024 * 1024}</size>`));
  });

  it('a second bundle of the same name is refused', async () => {
    const err = sink();
    const code = await runImageCommand(['import', join(work, 'root.ext4'), '--name', 'my-bundle', '--instance-store', '--image-dir', imageDir], sink(), err);
    assert.equal(code, 1);
    assert.match(err.text, /exists already/);
  });

  it('RegisterImage with the location makes an available instance-store AMI', async () => {
    const { ImageId } = await c.send(new RegisterImageCommand({ Name: 'is-ami', ImageLocation: location }));
    const img = (await c.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0]!;
    assert.equal(img.RootDeviceType, 'instance-store');
    assert.equal(img.ImageLocation, location);
    assert.equal(img.State, 'available');
    assert.equal(img.RootDeviceName, '/dev/sda1');
    assert.deepEqual(img.BlockDeviceMappings, [{ DeviceName: '/dev/sdb', VirtualName: 'ephemeral0' }]);
    const byType = await c.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'root-device-type', Values: ['instance-store'] }] }));
    assert.deepEqual(byType.Images!.map((i) => i.ImageId), [ImageId]);
    const byLocation = await c.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'manifest-location', Values: ['overcast-images/my-bundle/*'] }] }));
    assert.deepEqual(byLocation.Images!.map((i) => i.ImageId), [ImageId]);
  });

  it('CopyImage copies it to another region, where it launches', async () => {
    const source = (await c.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: ['is-ami'] }] }))).Images![0]!.ImageId!;
    const west = t.client('us-west-2');
    const { ImageId } = await west.send(new CopyImageCommand({ SourceRegion: 'us-east-1', SourceImageId: source, Name: 'is-copy' }));
    const img = (await west.send(new DescribeImagesCommand({ ImageIds: [ImageId!] }))).Images![0]!;
    assert.deepEqual([img.RootDeviceType, img.State, img.ImageLocation, img.SourceImageId], ['instance-store', 'available', location, source]);
    const id = (await west.send(new RunInstancesCommand({ ImageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
    await until('running in us-west-2', async () => ((await west.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State?.Name === 'running' ? true : undefined));
    await west.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
  });

  it('bad locations, manifests and mappings are refused and register nothing', async () => {
    const before = (await c.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images!.length;
    assert.equal((await ec2Error(c.send(new RegisterImageCommand({ Name: 'bad-1', ImageLocation: 'my-bucket/x/image.manifest.xml' })))).code, 'InvalidManifest');
    assert.equal((await ec2Error(c.send(new RegisterImageCommand({ Name: 'bad-2', ImageLocation: 'overcast-images/nope/image.manifest.xml' })))).code, 'InvalidManifest');
    assert.equal((await ec2Error(c.send(new RegisterImageCommand({ Name: 'bad-3', ImageLocation: 'overcast-images/../image.manifest.xml' })))).code, 'InvalidManifest');
    const ebs = await ec2Error(c.send(new RegisterImageCommand({ Name: 'bad-4', ImageLocation: location, BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 1 } }] })));
    assert.equal(ebs.code, 'InvalidBlockDeviceMapping');
    const virt = await ec2Error(c.send(new RegisterImageCommand({ Name: 'bad-5', ImageLocation: location, BlockDeviceMappings: [{ DeviceName: '/dev/sdc', VirtualName: 'ephemeral99' }] })));
    assert.equal(virt.code, 'InvalidBlockDeviceMapping');
    const arch = await ec2Error(c.send(new RegisterImageCommand({ Name: 'bad-6', ImageLocation: location, Architecture: 'arm64' })));
    assert.equal(arch.code, 'InvalidParameterValue');
    // a manifest that does not match its part
    const other = join(imageDir, 'bundles', 'broken');
    await run('mkdir', ['-p', other]);
    writeFileSync(join(other, 'image.manifest.xml'), readFileSync(bundleFile(imageDir, 'my-bundle'), 'utf8'));
    const missingPart = await ec2Error(c.send(new RegisterImageCommand({ Name: 'bad-7', ImageLocation: 'overcast-images/broken/image.manifest.xml' })));
    assert.equal(missingPart.code, 'InvalidManifest');
    assert.match(missingPart.message, /missing/);
    writeFileSync(join(other, 'root.img'), 'short');
    assert.match((await ec2Error(c.send(new RegisterImageCommand({ Name: 'bad-8', ImageLocation: 'overcast-images/broken/image.manifest.xml' })))).message, /holds 5 bytes/);
    writeFileSync(join(other, 'image.manifest.xml'), '<html>not a manifest</html>');
    assert.equal((await ec2Error(c.send(new RegisterImageCommand({ Name: 'bad-9', ImageLocation: 'overcast-images/broken/image.manifest.xml' })))).code, 'InvalidManifest');
    assert.equal((await c.send(new DescribeImagesCommand({ Owners: ['self'] }))).Images!.length, before);
  });

  it('an instance from it has an instance store root: reboots, cannot stop or be imaged, terminates', async () => {
    const imageId = (await c.send(new DescribeImagesCommand({ Owners: ['self'], Filters: [{ Name: 'name', Values: ['is-ami'] }] }))).Images![0]!.ImageId!;
    const stopBehavior = await ec2Error(c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, InstanceInitiatedShutdownBehavior: 'stop' })));
    assert.equal(stopBehavior.code, 'InvalidParameterCombination');
    const ebs = await ec2Error(c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1, BlockDeviceMappings: [{ DeviceName: '/dev/sdf', Ebs: { VolumeSize: 1 } }] })));
    assert.equal(ebs.code, 'InvalidBlockDeviceMapping');

    const id = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
    const describe = async (): Promise<Instance> => (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
    const inst = await until('running', async () => ((await describe()).State?.Name === 'running' ? describe() : undefined));
    assert.equal(inst.RootDeviceType, 'instance-store');
    assert.equal(inst.RootDeviceName, '/dev/sda1');
    assert.deepEqual(inst.BlockDeviceMappings ?? [], []);
    const behavior = await c.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: 'instanceInitiatedShutdownBehavior' }));
    assert.equal(behavior.InstanceInitiatedShutdownBehavior?.Value, 'terminate');
    const toStop = await ec2Error(c.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceInitiatedShutdownBehavior: { Value: 'stop' } })));
    assert.equal(toStop.code, 'InvalidParameterCombination');

    const stop = await ec2Error(c.send(new StopInstancesCommand({ InstanceIds: [id] })));
    assert.equal(stop.code, 'UnsupportedOperation');
    assert.equal(stop.message, `The instance '${id}' does not have an 'ebs' root device type and cannot be stopped.`);
    assert.equal((await describe()).State?.Name, 'running', 'the refused stop changed nothing');
    const image = await ec2Error(c.send(new CreateImageCommand({ InstanceId: id, Name: 'from-is' })));
    assert.equal(image.code, 'UnsupportedOperation');

    await c.send(new RebootInstancesCommand({ InstanceIds: [id] }));
    assert.equal((await describe()).State?.Name, 'running');
    await c.send(new TerminateInstancesCommand({ InstanceIds: [id] }));
    await until('terminated', async () => ((await describe()).State?.Name === 'terminated' ? true : undefined));
  });
});
