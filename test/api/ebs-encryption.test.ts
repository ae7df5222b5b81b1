import {
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeVolumesCommand,
  DisableEbsEncryptionByDefaultCommand,
  EnableEbsEncryptionByDefaultCommand,
  GetEbsDefaultKmsKeyIdCommand,
  GetEbsEncryptionByDefaultCommand,
  ModifyEbsDefaultKmsKeyIdCommand,
  ResetEbsDefaultKmsKeyIdCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('EBS encryption by default', () => {
  let t: TestServer;
  let ec2: EC2Client;
  const KEY = '1234abcd-12ab-34cd-56ef-1234567890ab';
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
  });
  after(() => t.close());

  const volume = async (c: EC2Client, zone: string, extra: { Encrypted?: boolean; KmsKeyId?: string } = {}) => {
    const v = await c.send(new CreateVolumeCommand({ AvailabilityZone: zone, Size: 1, ...extra }));
    const d = await c.send(new DescribeVolumesCommand({ VolumeIds: [v.VolumeId!] }));
    return { created: v, described: d.Volumes![0]! };
  };

  it('is off by default and the default key is alias/aws/ebs as an ARN', async () => {
    assert.equal((await ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, false);
    const key = (await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId!;
    assert.match(key, /^arn:aws:kms:us-east-1:\d{12}:alias\/aws\/ebs$/);
    const { described } = await volume(ec2, 'us-east-1a');
    assert.equal(described.Encrypted, false);
    assert.equal(described.KmsKeyId, undefined);
  });

  it('an explicitly encrypted volume gets the default key; a key without Encrypted is refused', async () => {
    const { described } = await volume(ec2, 'us-east-1a', { Encrypted: true });
    assert.equal(described.Encrypted, true);
    assert.match(described.KmsKeyId!, /alias\/aws\/ebs$/);
    const err = await ec2Error(ec2.send(new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 1, KmsKeyId: KEY })));
    assert.equal(err.code, 'InvalidParameterDependency');
  });

  it('enabled: new volumes and launch volumes are encrypted with the default key; per region', async () => {
    const dry = await ec2Error(ec2.send(new EnableEbsEncryptionByDefaultCommand({ DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.equal((await ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, false);
    assert.equal((await ec2.send(new EnableEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, true);
    assert.equal((await ec2.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, true);
    const { created, described } = await volume(ec2, 'us-east-1b', { Encrypted: false });
    assert.equal(created.Encrypted, true);
    assert.equal(described.Encrypted, true);
    assert.match(described.KmsKeyId!, /^arn:aws:kms:us-east-1:\d{12}:alias\/aws\/ebs$/);

    const ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
    const run = await ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1 }));
    const rootId = run.Instances![0]!.BlockDeviceMappings![0]!.Ebs!.VolumeId!;
    const root = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [rootId] }))).Volumes![0]!;
    assert.equal(root.Encrypted, true);
    assert.match(root.KmsKeyId!, /alias\/aws\/ebs$/);

    // another region keeps its own setting
    const west = t.client('eu-west-1');
    assert.equal((await west.send(new GetEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, false);
    assert.equal((await volume(west, 'eu-west-1a')).described.Encrypted, false);

    assert.equal((await ec2.send(new DisableEbsEncryptionByDefaultCommand({}))).EbsEncryptionByDefault, false);
    assert.equal((await volume(ec2, 'us-east-1a')).described.Encrypted, false);
  });

  it('ModifyEbsDefaultKmsKeyId takes ids, aliases and ARNs; Reset goes back to alias/aws/ebs; survives a restart', async () => {
    const byId = await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: KEY }));
    assert.match(byId.KmsKeyId!, new RegExp(`^arn:aws:kms:us-east-1:\\d{12}:key/${KEY}$`));
    const alias = await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: 'alias/team-disks' }));
    assert.match(alias.KmsKeyId!, /^arn:aws:kms:us-east-1:\d{12}:alias\/team-disks$/);
    const arn = `arn:aws:kms:us-east-1:111122223333:key/${KEY}`;
    assert.equal((await ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: arn }))).KmsKeyId, arn);
    for (const bad of ['', 'not a key', 'arn:aws:s3:::bucket', 'alias/']) {
      const err = await ec2Error(ec2.send(new ModifyEbsDefaultKmsKeyIdCommand({ KmsKeyId: bad })));
      assert.ok(err.code === 'InvalidParameterValue' || err.code === 'MissingParameter', `${bad}: ${err.code}`);
    }
    assert.equal((await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId, arn);
    const { described } = await volume(ec2, 'us-east-1a', { Encrypted: true });
    assert.equal(described.KmsKeyId, arn);
    const own = await volume(ec2, 'us-east-1a', { Encrypted: true, KmsKeyId: 'alias/other' });
    assert.match(own.described.KmsKeyId!, /alias\/other$/);

    await t.restart();
    ec2 = t.client();
    assert.equal((await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId, arn);
    const reset = await ec2.send(new ResetEbsDefaultKmsKeyIdCommand({}));
    assert.match(reset.KmsKeyId!, /alias\/aws\/ebs$/);
    assert.equal((await ec2.send(new GetEbsDefaultKmsKeyIdCommand({}))).KmsKeyId, reset.KmsKeyId);
  });
});
