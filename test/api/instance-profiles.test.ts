import {
  AssociateIamInstanceProfileCommand,
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  DisassociateIamInstanceProfileCommand,
  EC2Client,
  ReplaceIamInstanceProfileAssociationCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type IamInstanceProfileAssociation,
  type Instance,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { metadataSources, type MetadataSources } from '../../src/reconcile/metadata.js';
import { MetadataService } from '../../src/network/imds/service.js';
import { mintCredentials, temporarySecret } from '../../src/domain/temporary-credentials.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('IAM instance profiles', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let ami: string;
  let account: string;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    account = t.server.config.accountId;
    ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
  });
  after(() => t.close());

  const instance = async (id: string): Promise<Instance> =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
  const launch = async (extra: object = {}): Promise<Instance> =>
    (await ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, ...extra }))).Instances![0]!;
  async function association(instanceId: string, state: string): Promise<IamInstanceProfileAssociation> {
    for (let n = 0; n < 300; n++) {
      const out = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }));
      const a = out.IamInstanceProfileAssociations![0];
      if (state === 'none' ? a === undefined : a?.State === state) return a!;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`association of ${instanceId} never ${state}`);
  }

  it('RunInstances IamInstanceProfile by name or ARN: DescribeInstances shows it, associated', async () => {
    const byName = await launch({ IamInstanceProfile: { Name: 'web' } });
    assert.equal(byName.IamInstanceProfile!.Arn, `arn:aws:iam::${account}:instance-profile/web`);
    assert.match(byName.IamInstanceProfile!.Id!, /^AIPA[0-9A-Z]{17}$/);
    assert.deepEqual((await instance(byName.InstanceId!)).IamInstanceProfile, byName.IamInstanceProfile);
    const a = await association(byName.InstanceId!, 'associated');
    assert.match(a.AssociationId!, /^iip-assoc-[0-9a-f]{17}$/);
    const arn = `arn:aws:iam::${account}:instance-profile/team/db`;
    const byArn = await launch({ IamInstanceProfile: { Arn: arn } });
    assert.equal(byArn.IamInstanceProfile!.Arn, arn);
    const filtered = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'iam-instance-profile.arn', Values: [arn] }] }));
    assert.deepEqual(filtered.Reservations!.flatMap((r) => r.Instances!.map((x) => x.InstanceId)), [byArn.InstanceId]);
    for (const bad of [{ Arn: 'arn:aws:s3:::bucket' }, { Name: 'has space' }, { Arn: arn, Name: 'other' }]) {
      const err = await ec2Error(launch({ IamInstanceProfile: bad }));
      assert.ok(['InvalidParameterValue', 'InvalidParameterCombination'].includes(err.code), JSON.stringify(bad));
    }
  });

  it('Associate / Replace / Disassociate go through associating and disassociating', async () => {
    const i = await launch();
    const id = i.InstanceId!;
    assert.equal(i.IamInstanceProfile, undefined);
    // the IAM association calls have no DryRun in the API
    const out = await ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: id, IamInstanceProfile: { Name: 'app' } }));
    assert.equal(out.IamInstanceProfileAssociation!.State, 'associating');
    const twice = await ec2Error(ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: id, IamInstanceProfile: { Name: 'app' } })));
    assert.equal(twice.code, 'IncorrectState');
    const a = await association(id, 'associated');
    assert.equal(a.AssociationId, out.IamInstanceProfileAssociation!.AssociationId);
    const byId = await ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ AssociationIds: [a.AssociationId!] }));
    assert.equal(byId.IamInstanceProfileAssociations!.length, 1);

    const rep = await ec2.send(new ReplaceIamInstanceProfileAssociationCommand({ AssociationId: a.AssociationId, IamInstanceProfile: { Name: 'app2' } }));
    assert.equal(rep.IamInstanceProfileAssociation!.State, 'associating');
    assert.notEqual(rep.IamInstanceProfileAssociation!.AssociationId, a.AssociationId);
    const b = await association(id, 'associated');
    assert.match(b.IamInstanceProfile!.Arn!, /instance-profile\/app2$/);
    assert.match((await instance(id)).IamInstanceProfile!.Arn!, /instance-profile\/app2$/);
    assert.equal((await ec2Error(ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: a.AssociationId })))).code, 'InvalidAssociationID.NotFound');

    const dis = await ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: b.AssociationId }));
    assert.equal(dis.IamInstanceProfileAssociation!.State, 'disassociating');
    await association(id, 'none');
    assert.equal((await instance(id)).IamInstanceProfile, undefined);
  });

  it('errors: unknown and malformed ids, missing profile, terminated instances', async () => {
    const codes = async (p: Promise<unknown>) => (await ec2Error(p)).code;
    assert.equal(await codes(ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: 'iip-assoc-0123456789abcdef0' }))), 'InvalidAssociationID.NotFound');
    assert.equal(await codes(ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: 'assoc-1' }))), 'InvalidAssociationID.Malformed');
    assert.equal(await codes(ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: 'i-0123456789abcdef0', IamInstanceProfile: { Name: 'x' } }))), 'InvalidInstanceID.NotFound');
    const i = await launch({ IamInstanceProfile: { Name: 'gone' } });
    assert.equal(await codes(ec2.send(new AssociateIamInstanceProfileCommand({ InstanceId: i.InstanceId, IamInstanceProfile: {} }))), 'MissingParameter');
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [i.InstanceId!] }));
    for (let n = 0; n < 300 && (await instance(i.InstanceId!)).State!.Name !== 'terminated'; n++) await new Promise((r) => setTimeout(r, 20));
    await association(i.InstanceId!, 'none');
    assert.equal(await codes(ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ MaxResults: 4 }))), 'InvalidParameterValue');
    assert.equal(await codes(ec2.send(new DescribeIamInstanceProfileAssociationsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] }))), 'InvalidParameterValue');
  });

  it('temporary credentials: tied to their token, expiring, the same within a rotation window', () => {
    const now = Date.now();
    const c = mintCredentials('k', 'p', now);
    assert.match(c.accessKeyId, /^ASIA[A-Z2-7]{16}$/);
    assert.equal(c.secretAccessKey.length, 40);
    assert.deepEqual(mintCredentials('k', 'p', now), c);
    assert.notEqual(mintCredentials('k', 'q', now).accessKeyId, c.accessKeyId);
    assert.equal(temporarySecret('k', c.accessKeyId, c.token, now), c.secretAccessKey);
    assert.equal(temporarySecret('k', c.accessKeyId, undefined, now), undefined);
    assert.equal(temporarySecret('k', c.accessKeyId, `x${c.token.slice(1)}`, now), undefined);
    assert.equal(temporarySecret('other', c.accessKeyId, c.token, now), undefined);
    assert.equal(temporarySecret('k', c.accessKeyId, c.token, Date.parse(c.expiration) + 1), undefined);
  });

  it('the metadata service serves iam/info and the role credentials, which sign a working DescribeRegions', async () => {
    const i = await launch({ IamInstanceProfile: { Name: 'reader' }, MetadataOptions: { HttpTokens: 'optional' } });
    const none = await launch({ MetadataOptions: { HttpTokens: 'optional' } });
    await association(i.InstanceId!, 'associated');
    const src: MetadataSources = metadataSources(t.server.store, t.server.config);
    const serve = async (ip: string, fn: (base: string) => Promise<void>): Promise<void> => {
      const svc = new MetadataService({ source: { lookup: (vpcId) => src.metadata.lookup(vpcId, ip) }, signingKey: src.signingKey, log: () => {} });
      await svc.listen(i.VpcId!, '127.0.0.1', 0);
      try {
        await fn(`http://127.0.0.1:${svc.addressOf(i.VpcId!)!.port}/latest/meta-data`);
      } finally {
        await svc.close();
      }
    };
    let creds: { AccessKeyId: string; SecretAccessKey: string; Token: string; Expiration: string; Code: string } | undefined;
    await serve(i.PrivateIpAddress!, async (base) => {
      const info = JSON.parse(await (await fetch(`${base}/iam/info`)).text()) as Record<string, string>;
      assert.equal(info.Code, 'Success');
      assert.equal(info.InstanceProfileArn, `arn:aws:iam::${account}:instance-profile/reader`);
      assert.equal(info.InstanceProfileId, i.IamInstanceProfile!.Id);
      assert.equal(await (await fetch(`${base}/iam/security-credentials/`)).text(), 'reader');
      creds = JSON.parse(await (await fetch(`${base}/iam/security-credentials/reader`)).text());
    });
    await serve(none.PrivateIpAddress!, async (base) => {
      assert.equal((await fetch(`${base}/iam/info`)).status, 404, 'no profile, no iam/');
    });
    assert.equal(creds!.Code, 'Success');
    assert.match(creds!.AccessKeyId, /^ASIA/);
    assert.ok(Date.parse(creds!.Expiration) > Date.now());
    const signed = new EC2Client({
      endpoint: t.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: creds!.AccessKeyId, secretAccessKey: creds!.SecretAccessKey, sessionToken: creds!.Token },
    });
    try {
      const regions = await signed.send(new DescribeRegionsCommand({}));
      assert.ok(regions.Regions!.some((r) => r.RegionName === 'us-east-1'));
      const noToken = new EC2Client({ endpoint: t.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: creds!.AccessKeyId, secretAccessKey: creds!.SecretAccessKey } });
      assert.equal((await ec2Error(noToken.send(new DescribeRegionsCommand({})))).code, 'AuthFailure');
      noToken.destroy();
      const wrongSecret = new EC2Client({
        endpoint: t.url,
        region: 'us-east-1',
        maxAttempts: 1,
        credentials: { accessKeyId: creds!.AccessKeyId, secretAccessKey: 'x'.repeat(40), sessionToken: creds!.Token },
      });
      assert.equal((await ec2Error(wrongSecret.send(new DescribeRegionsCommand({})))).code, 'SignatureDoesNotMatch');
      wrongSecret.destroy();
    } finally {
      signed.destroy();
    }
  });
});
