/**
 * Launch permissions between two accounts, each with its own access key
 * (`--credentials KEY:SECRET:ACCOUNT`): account A's private AMI is invisible
 * and unlaunchable for account B until A adds B's account to its
 * launchPermission; then B finds it (ExecutableUsers, Owners) and runs
 * instances from it; Remove and Reset take that away again.
 */
import {
  CreateImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  EC2Client,
  ModifyImageAttributeCommand,
  ResetImageAttributeCommand,
  RunInstancesCommand,
} from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CREDENTIAL, loadConfig } from '../../src/config.js';
import { until } from '../helpers/real-instances.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

const A = loadConfig([], {}).accountId;
const B = '210987654321';
const B_KEY = { accessKeyId: 'AKIAACCOUNTBEXAMPLE', secretAccessKey: 'account-b-secret/EXAMPLEKEY' };

describe('image launch permissions for a second account', () => {
  let t: TestServer;
  let a: EC2Client;
  let b: EC2Client;
  let imageId: string;

  const visibleToB = async (): Promise<boolean> => {
    const r = await b.send(new DescribeImagesCommand({ ImageIds: [imageId] })).catch((e: Error) => e);
    if (r instanceof Error) {
      assert.equal(r.name, 'InvalidAMIID.NotFound');
      return false;
    }
    return r.Images!.some((i) => i.ImageId === imageId);
  };
  const launchAsB = () => b.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));

  before(async () => {
    t = await startTestServer({ credentials: [DEFAULT_CREDENTIAL, { ...B_KEY, accountId: B }] });
    a = t.client();
    b = new EC2Client({ endpoint: t.url, region: 'us-east-1', credentials: B_KEY, maxAttempts: 1 });
    const tiny = (await a.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }))).Images![0]!.ImageId!;
    const inst = (await a.send(new RunInstancesCommand({ ImageId: tiny, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!;
    await until('running', async () => ((await a.send(new DescribeInstancesCommand({ InstanceIds: [inst] }))).Reservations![0]!.Instances![0]!.State?.Name === 'running' ? true : undefined));
    imageId = (await a.send(new CreateImageCommand({ InstanceId: inst, Name: 'a-private', NoReboot: true }))).ImageId!;
    await until('available', async () => ((await a.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0]!.State === 'available' ? true : undefined));
  });

  after(async () => {
    b.destroy();
    await t.close();
  });

  it('each key runs in its own account', async () => {
    const sts = (key: { accessKeyId: string; secretAccessKey: string }) => new STSClient({ endpoint: t.url, region: 'us-east-1', credentials: key, maxAttempts: 1 });
    const [sa, sb] = [sts(DEFAULT_CREDENTIAL), sts(B_KEY)];
    assert.equal((await sa.send(new GetCallerIdentityCommand({}))).Account, A);
    assert.equal((await sb.send(new GetCallerIdentityCommand({}))).Account, B);
    sa.destroy();
    sb.destroy();
    assert.equal((await a.send(new DescribeImagesCommand({ ImageIds: [imageId] }))).Images![0]!.OwnerId, A);
  });

  it('without permission, B neither sees nor launches the image, nor changes it', async () => {
    assert.equal(await visibleToB(), false);
    assert.deepEqual((await b.send(new DescribeImagesCommand({ Owners: [A] }))).Images, []);
    assert.equal((await ec2Error(launchAsB())).code, 'InvalidAMIID.NotFound');
    assert.equal((await ec2Error(b.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: B }] } })))).code, 'InvalidAMIID.NotFound');
  });

  it('Add UserId=B: B finds it by ExecutableUsers and owner, and runs an instance from it', async () => {
    await a.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ UserId: B }] } }));
    const perms = await a.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }));
    assert.deepEqual(perms.LaunchPermissions, [{ UserId: B }]);
    assert.equal(await visibleToB(), true);
    assert.deepEqual((await b.send(new DescribeImagesCommand({ ExecutableUsers: ['self'] }))).Images!.map((i) => i.ImageId), [imageId]);
    const byOwner = (await b.send(new DescribeImagesCommand({ Owners: [A] }))).Images!;
    assert.deepEqual(byOwner.map((i) => [i.ImageId, i.OwnerId, i.Public]), [[imageId, A, false]]);
    assert.deepEqual((await a.send(new DescribeImagesCommand({ ExecutableUsers: [B] }))).Images!.map((i) => i.ImageId), [imageId]);
    // B may look, not manage: only the owner reads or changes the permissions
    assert.equal((await ec2Error(b.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' })))).code, 'AuthFailure');
    assert.equal((await ec2Error(b.send(new ResetImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' })))).code, 'AuthFailure');

    const id = (await launchAsB()).Instances![0]!.InstanceId!;
    const inst = await until('B\'s instance running', async () => {
      const i = (await b.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!;
      return i.Instances![0]!.State?.Name === 'running' ? i : undefined;
    });
    assert.equal(inst.OwnerId, B);
    assert.equal(inst.Instances![0]!.ImageId, imageId);
  });

  it('Remove takes it away; Add again and Reset takes it away too', async () => {
    await a.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Remove: [{ UserId: B }] } }));
    assert.equal(await visibleToB(), false);
    assert.equal((await ec2Error(launchAsB())).code, 'InvalidAMIID.NotFound');

    await a.send(new ModifyImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission', OperationType: 'add', UserIds: [B] }));
    assert.equal(await visibleToB(), true);
    await a.send(new ResetImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }));
    assert.equal(await visibleToB(), false);
    assert.equal((await ec2Error(launchAsB())).code, 'InvalidAMIID.NotFound');
    assert.deepEqual((await a.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: 'launchPermission' }))).LaunchPermissions, []);
  });

  it('Group=all makes it public to B, and its removal private again', async () => {
    await a.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Add: [{ Group: 'all' }] } }));
    assert.equal(await visibleToB(), true);
    assert.deepEqual((await b.send(new DescribeImagesCommand({ ExecutableUsers: ['all'], Owners: [A] }))).Images!.map((i) => [i.ImageId, i.Public]), [[imageId, true]]);
    await a.send(new ModifyImageAttributeCommand({ ImageId: imageId, LaunchPermission: { Remove: [{ Group: 'all' }] } }));
    assert.equal(await visibleToB(), false);
  });
});
