import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DisableSerialConsoleAccessCommand,
  EnableSerialConsoleAccessCommand,
  GetInstanceMetadataDefaultsCommand,
  GetSerialConsoleAccessStatusCommand,
  ModifyInstanceMetadataDefaultsCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  type EC2Client,
  type InstanceMetadataOptionsResponse,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

async function until(what: string, fn: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('instance metadata defaults and serial console access', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let builtIn: string;
  let plain: string;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    builtIn = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
    // an image that says nothing about IMDS (the built-in ones ask for v2.0)
    const vol = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1 }))).VolumeId!;
    await until('volume', async () => (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [vol] }))).Volumes![0]!.State === 'available');
    const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!;
    await until('snapshot', async () => (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] }))).Snapshots![0]!.State === 'completed');
    plain = (
      await ec2.send(new RegisterImageCommand({ Name: 'plain', RootDeviceName: '/dev/xvda', BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { SnapshotId: snap } }] }))
    ).ImageId!;
  });
  after(() => t.close());

  const launch = async (ImageId: string, MetadataOptions?: object): Promise<InstanceMetadataOptionsResponse> => {
    const id = (await ec2.send(new RunInstancesCommand({ ImageId, MinCount: 1, MaxCount: 1, MetadataOptions }))).Instances![0]!.InstanceId!;
    return (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.MetadataOptions!;
  };

  it('no defaults: Get shows none and launches get EC2\'s', async () => {
    const d = await ec2.send(new GetInstanceMetadataDefaultsCommand({}));
    assert.deepEqual(d.AccountLevel, {});
    const m = await launch(plain);
    assert.equal(m.HttpTokens, 'optional');
    assert.equal(m.HttpPutResponseHopLimit, 1);
    assert.equal(m.InstanceMetadataTags, 'disabled');
  });

  it('defaults apply where the launch and the image say nothing; no-preference clears one', async () => {
    const dry = await ec2Error(ec2.send(new ModifyInstanceMetadataDefaultsCommand({ HttpTokens: 'required', DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.deepEqual((await ec2.send(new GetInstanceMetadataDefaultsCommand({}))).AccountLevel, {});
    const ok = await ec2.send(
      new ModifyInstanceMetadataDefaultsCommand({ HttpTokens: 'required', HttpPutResponseHopLimit: 3, HttpEndpoint: 'enabled', InstanceMetadataTags: 'enabled' }),
    );
    assert.equal(ok.Return, true);
    assert.deepEqual((await ec2.send(new GetInstanceMetadataDefaultsCommand({}))).AccountLevel, {
      HttpTokens: 'required',
      HttpPutResponseHopLimit: 3,
      HttpEndpoint: 'enabled',
      InstanceMetadataTags: 'enabled',
    });
    const m = await launch(plain);
    assert.equal(m.HttpTokens, 'required');
    assert.equal(m.HttpPutResponseHopLimit, 3);
    assert.equal(m.InstanceMetadataTags, 'enabled');
    // the request wins over the defaults
    const own = await launch(plain, { HttpTokens: 'optional', InstanceMetadataTags: 'disabled' });
    assert.equal(own.HttpTokens, 'optional');
    assert.equal(own.InstanceMetadataTags, 'disabled');
    assert.equal(own.HttpPutResponseHopLimit, 3);
    // an IMDSv2 image keeps its tokens and hop limit; the tags default still applies
    const v2 = await launch(builtIn);
    assert.equal(v2.HttpTokens, 'required');
    assert.equal(v2.HttpPutResponseHopLimit, 2);
    assert.equal(v2.InstanceMetadataTags, 'enabled');

    await ec2.send(new ModifyInstanceMetadataDefaultsCommand({ HttpTokens: 'no-preference', HttpPutResponseHopLimit: -1 }));
    assert.deepEqual((await ec2.send(new GetInstanceMetadataDefaultsCommand({}))).AccountLevel, { HttpEndpoint: 'enabled', InstanceMetadataTags: 'enabled' });
    const back = await launch(plain);
    assert.equal(back.HttpTokens, 'optional');
    assert.equal(back.HttpPutResponseHopLimit, 1);
    // per region
    assert.deepEqual((await t.client('eu-west-1').send(new GetInstanceMetadataDefaultsCommand({}))).AccountLevel, {});
  });

  it('bad values are refused and change nothing', async () => {
    const before = (await ec2.send(new GetInstanceMetadataDefaultsCommand({}))).AccountLevel;
    for (const input of [{ HttpTokens: 'maybe' }, { HttpPutResponseHopLimit: 65 }, { HttpPutResponseHopLimit: 0 }, { HttpEndpoint: 'on' }, { InstanceMetadataTags: 'yes' }, {}]) {
      const err = await ec2Error(ec2.send(new ModifyInstanceMetadataDefaultsCommand(input as never)));
      assert.ok(['InvalidParameterValue', 'InvalidParameterCombination'].includes(err.code), `${JSON.stringify(input)}: ${err.code}`);
    }
    assert.deepEqual((await ec2.send(new GetInstanceMetadataDefaultsCommand({}))).AccountLevel, before);
  });

  it('serial console access: off, enabled, disabled, per region', async () => {
    assert.equal((await ec2.send(new GetSerialConsoleAccessStatusCommand({}))).SerialConsoleAccessEnabled, false);
    const dry = await ec2Error(ec2.send(new EnableSerialConsoleAccessCommand({ DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal((await ec2.send(new GetSerialConsoleAccessStatusCommand({}))).SerialConsoleAccessEnabled, false);
    assert.equal((await ec2.send(new EnableSerialConsoleAccessCommand({}))).SerialConsoleAccessEnabled, true);
    assert.equal((await ec2.send(new GetSerialConsoleAccessStatusCommand({}))).SerialConsoleAccessEnabled, true);
    assert.equal((await t.client('eu-west-1').send(new GetSerialConsoleAccessStatusCommand({}))).SerialConsoleAccessEnabled, false);
    assert.equal((await ec2.send(new DisableSerialConsoleAccessCommand({}))).SerialConsoleAccessEnabled, false);
    assert.equal((await ec2.send(new GetSerialConsoleAccessStatusCommand({}))).SerialConsoleAccessEnabled, false);
  });
});
