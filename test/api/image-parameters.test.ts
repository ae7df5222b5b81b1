/** `resolve:ssm:<parameter>` as an ImageId: RunInstances and launch templates resolve it to the image it names. */
import {
  CreateLaunchTemplateCommand,
  DescribeInstancesCommand,
  DescribeLaunchTemplateVersionsCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CREDENTIAL } from '../../src/config.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

const DEBIAN = '/aws/service/debian/release/12/latest/amd64';

describe('resolve:ssm: image ids', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let debianId: string;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    const ssm = new SSMClient({ endpoint: t.url, region: 'us-east-1', credentials: { accessKeyId: DEFAULT_CREDENTIAL.accessKeyId, secretAccessKey: DEFAULT_CREDENTIAL.secretAccessKey }, maxAttempts: 1 });
    debianId = (await ssm.send(new GetParameterCommand({ Name: DEBIAN }))).Parameter!.Value!;
    assert.match(debianId, /^ami-[0-9a-f]+$/);
  });
  after(() => t.close());

  const instanceCount = async () => (await ec2.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances ?? []).length;

  it('RunInstances launches the image the public parameter names, with or without its version', async () => {
    for (const ref of [`resolve:ssm:${DEBIAN}`, `resolve:ssm:${DEBIAN}:1`]) {
      const out = await ec2.send(new RunInstancesCommand({ ImageId: ref, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
      assert.equal(out.Instances![0]!.ImageId, debianId, ref);
    }
  });

  it('an unknown parameter or version is SsmInvalidParameter and launches nothing', async () => {
    const before = await instanceCount();
    for (const ref of ['resolve:ssm:/aws/service/nothing/here', `resolve:ssm:${DEBIAN}:2`, 'resolve:ssm:']) {
      const err = await ec2Error(ec2.send(new RunInstancesCommand({ ImageId: ref, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 })));
      assert.equal(err.code, 'SsmInvalidParameter', ref);
    }
    assert.equal(await instanceCount(), before);
  });

  it('a launch template keeps the reference, launches the image it names, and DescribeLaunchTemplateVersions resolves it on ResolveAlias', async () => {
    const made = await ec2.send(
      new CreateLaunchTemplateCommand({ LaunchTemplateName: 'by-parameter', LaunchTemplateData: { ImageId: `resolve:ssm:${DEBIAN}`, InstanceType: 't3.micro' } }),
    );
    assert.equal(made.Warning, undefined, 'a parameter that resolves is no warning');
    const out = await ec2.send(new RunInstancesCommand({ LaunchTemplate: { LaunchTemplateName: 'by-parameter' }, MinCount: 1, MaxCount: 1 }));
    assert.equal(out.Instances![0]!.ImageId, debianId);
    const plain = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'by-parameter' }));
    assert.equal(plain.LaunchTemplateVersions![0]!.LaunchTemplateData!.ImageId, `resolve:ssm:${DEBIAN}`);
    const resolved = await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: 'by-parameter', ResolveAlias: true }));
    assert.equal(resolved.LaunchTemplateVersions![0]!.LaunchTemplateData!.ImageId, debianId);
  });
});
