/** STS and SSM on the one endpoint, through @aws-sdk/client-sts and @aws-sdk/client-ssm. */
import { DescribeImagesCommand, DescribeRegionsCommand, RunInstancesCommand } from '@aws-sdk/client-ec2';
import { GetParameterCommand, GetParametersByPathCommand, GetParametersCommand, paginateGetParametersByPath, SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CREDENTIAL } from '../../src/config.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { errorCode, formBody, send, signedRequest } from '../helpers/sign.js';

const credentials = { accessKeyId: DEFAULT_CREDENTIAL.accessKeyId, secretAccessKey: DEFAULT_CREDENTIAL.secretAccessKey };
const DEBIAN_AMD64 = '/aws/service/debian/release/12/latest/amd64';

describe('STS and SSM through the SDK', () => {
  let t: TestServer;
  const clients: { destroy(): void }[] = [];
  const sts = (region = 'us-east-1', creds = credentials): STSClient => {
    const c = new STSClient({ endpoint: t.url, region, credentials: creds, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  const ssm = (region = 'us-east-1', creds = credentials): SSMClient => {
    const c = new SSMClient({ endpoint: t.url, region, credentials: creds, maxAttempts: 1 });
    clients.push(c);
    return c;
  };
  before(async () => {
    t = await startTestServer({ accountId: '210987654321' });
  });
  after(async () => {
    for (const c of clients) c.destroy();
    await t.close();
  });

  it('GetCallerIdentity answers the configured account as root', async () => {
    const id = await sts().send(new GetCallerIdentityCommand({}));
    assert.equal(id.Account, '210987654321');
    assert.equal(id.UserId, '210987654321');
    assert.equal(id.Arn, 'arn:aws:iam::210987654321:root');
    assert.match(id.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
  });

  it('GetParameter in a fresh region gives the AMI DescribeImages lists there, and it launches', async () => {
    // sa-east-1 is first used here, by SSM: the region's catalogue must exist already.
    const out = await ssm('sa-east-1').send(new GetParameterCommand({ Name: DEBIAN_AMD64 }));
    const p = out.Parameter!;
    assert.equal(p.Name, DEBIAN_AMD64);
    assert.equal(p.Type, 'String');
    assert.equal(p.DataType, 'aws:ec2:image');
    assert.equal(p.Version, 1);
    assert.equal(p.ARN, `arn:aws:ssm:sa-east-1::parameter${DEBIAN_AMD64}`);
    assert.ok(p.LastModifiedDate instanceof Date && !Number.isNaN(p.LastModifiedDate.getTime()));
    const ec2 = t.client('sa-east-1');
    const images = await ec2.send(new DescribeImagesCommand({ ImageIds: [p.Value!] }));
    assert.equal(images.Images![0]!.Name, 'overcast/debian-12-amd64-20261101');
    assert.equal(images.Images![0]!.Architecture, 'x86_64');
    const run = await ec2.send(new RunInstancesCommand({ ImageId: p.Value!, InstanceType: 't3.micro', MinCount: 1, MaxCount: 1 }));
    assert.equal(run.Instances![0]!.ImageId, p.Value);
    // Another region has its own id for the same image.
    const west = await ssm('eu-west-1').send(new GetParameterCommand({ Name: DEBIAN_AMD64 }));
    assert.notEqual(west.Parameter!.Value, p.Value);
  });

  it('Ubuntu and Amazon Linux names map to the matching built-in images', async () => {
    const ec2 = t.client('us-east-2');
    const { Images } = await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }));
    const byName = new Map(Images!.map((i) => [i.Name!, i.ImageId!]));
    const value = async (name: string): Promise<string> =>
      (await ssm('us-east-2').send(new GetParameterCommand({ Name: name }))).Parameter!.Value!;
    assert.equal(await value('/aws/service/canonical/ubuntu/server/24.04/stable/current/arm64/hvm/ebs-gp3/ami-id'), byName.get('overcast/ubuntu-24.04-arm64-20261101'));
    assert.equal(await value('/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id'), byName.get('overcast/ubuntu-22.04-amd64-20261101'));
    assert.equal(await value('/aws/service/canonical/ubuntu/server/jammy/stable/current/arm64/hvm/ebs-gp2/ami-id'), byName.get('overcast/ubuntu-22.04-arm64-20261101'));
    assert.equal(await value('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'), byName.get('overcast/debian-12-amd64-20261101'));
    assert.equal(await value('/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-arm64-gp2'), byName.get('overcast/debian-12-arm64-20261101'));
    assert.equal(await value('/aws/service/debian/release/bookworm/latest/arm64'), byName.get('overcast/debian-12-arm64-20261101'));
  });

  it('GetParameter of an unknown name is ParameterNotFound; a missing Name is a ValidationException', async () => {
    const e = await ec2Error(ssm().send(new GetParameterCommand({ Name: '/aws/service/debian/release/99/latest/amd64' })));
    assert.equal(e.code, 'ParameterNotFound');
    assert.equal(e.status, 400);
    const missing = await ec2Error(ssm().send(new GetParameterCommand({} as { Name: string })));
    assert.equal(missing.code, 'ValidationException');
    assert.match(missing.message, /at 'name' failed to satisfy constraint: Member must not be null/);
  });

  it('GetParameter by ARN, and with a version selector', async () => {
    const byArn = await ssm('eu-west-3').send(new GetParameterCommand({ Name: `arn:aws:ssm:eu-west-3::parameter${DEBIAN_AMD64}` }));
    const byName = await ssm('eu-west-3').send(new GetParameterCommand({ Name: DEBIAN_AMD64 }));
    assert.equal(byArn.Parameter!.Value, byName.Parameter!.Value);
    assert.equal(byArn.Parameter!.Name, DEBIAN_AMD64);
    const v1 = await ssm('eu-west-3').send(new GetParameterCommand({ Name: `${DEBIAN_AMD64}:1` }));
    assert.equal(v1.Parameter!.Selector, ':1');
    assert.equal(v1.Parameter!.Value, byName.Parameter!.Value);
    assert.equal((await ec2Error(ssm('eu-west-3').send(new GetParameterCommand({ Name: `${DEBIAN_AMD64}:7` })))).code, 'ParameterVersionNotFound');
    assert.equal((await ec2Error(ssm('eu-west-3').send(new GetParameterCommand({ Name: `${DEBIAN_AMD64}:prod` })))).code, 'ParameterNotFound');
    const many = await ssm('eu-west-3').send(new GetParametersCommand({ Names: [`${DEBIAN_AMD64}:1`, `${DEBIAN_AMD64}:2`] }));
    assert.deepEqual(many.Parameters!.map((p) => p.Selector), [':1']);
    assert.deepEqual(many.InvalidParameters, [`${DEBIAN_AMD64}:2`]);
  });

  it('GetParameters puts unknown names in InvalidParameters', async () => {
    const arm = '/aws/service/debian/release/12/latest/arm64';
    const out = await ssm().send(new GetParametersCommand({ Names: [DEBIAN_AMD64, '/nope', arm, DEBIAN_AMD64] }));
    assert.deepEqual(out.Parameters!.map((p) => p.Name), [DEBIAN_AMD64, arm]);
    assert.deepEqual(out.InvalidParameters, ['/nope']);
    assert.ok(out.Parameters!.every((p) => /^ami-[0-9a-f]{17}$/.test(p.Value!)));
    const tooMany = await ec2Error(ssm().send(new GetParametersCommand({ Names: Array.from({ length: 11 }, (_, i) => `/p${i}`) })));
    assert.equal(tooMany.code, 'ValidationException');
  });

  it('GetParametersByPath: direct children, or everything below with Recursive', async () => {
    const client = ssm();
    const direct = await client.send(new GetParametersByPathCommand({ Path: '/aws/service/debian' }));
    assert.deepEqual(direct.Parameters, []);
    const all = await client.send(new GetParametersByPathCommand({ Path: '/aws/service/debian', Recursive: true }));
    assert.deepEqual(all.Parameters!.map((p) => p.Name), [
      '/aws/service/debian/release/12/latest/amd64',
      '/aws/service/debian/release/12/latest/arm64',
      '/aws/service/debian/release/bookworm/latest/amd64',
      '/aws/service/debian/release/bookworm/latest/arm64',
    ]);
    assert.equal(all.NextToken, undefined);
    const latest = await client.send(new GetParametersByPathCommand({ Path: '/aws/service/debian/release/12/latest/' }));
    assert.deepEqual(latest.Parameters!.map((p) => p.Name), ['/aws/service/debian/release/12/latest/amd64', '/aws/service/debian/release/12/latest/arm64']);
    const al = await client.send(new GetParametersByPathCommand({ Path: '/aws/service/ami-amazon-linux-latest' }));
    assert.ok(al.Parameters!.some((p) => p.Name === '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64'));
    const typed = await client.send(
      new GetParametersByPathCommand({ Path: '/aws/service/debian', Recursive: true, ParameterFilters: [{ Key: 'Type', Values: ['SecureString'] }] }),
    );
    assert.deepEqual(typed.Parameters, []);
  });

  it('GetParametersByPath pages with MaxResults and NextToken (the SDK paginator walks them)', async () => {
    const client = ssm();
    const names: string[] = [];
    let pages = 0;
    for await (const page of paginateGetParametersByPath({ client, pageSize: 3 }, { Path: '/aws/service/canonical', Recursive: true })) {
      pages++;
      assert.ok(page.Parameters!.length <= 3);
      names.push(...page.Parameters!.map((p) => p.Name!));
    }
    // 2 versions × 2 names each (number, codename) × 2 architectures × 2 volume types
    assert.equal(names.length, 16);
    assert.equal(new Set(names).size, 16);
    assert.equal(pages, 6);
    const first = await client.send(new GetParametersByPathCommand({ Path: '/aws/service/canonical', Recursive: true, MaxResults: 10 }));
    assert.equal(first.Parameters!.length, 10);
    assert.ok(first.NextToken);
    const other = await ec2Error(client.send(new GetParametersByPathCommand({ Path: '/aws/service/debian', Recursive: true, NextToken: first.NextToken })));
    assert.equal(other.code, 'InvalidNextToken');
    const tooMany = await ec2Error(client.send(new GetParametersByPathCommand({ Path: '/aws/service', Recursive: true, MaxResults: 11 })));
    assert.equal(tooMany.code, 'ValidationException');
    assert.match(tooMany.message, /maxResults/);
    const relative = await ec2Error(client.send(new GetParametersByPathCommand({ Path: 'aws/service' })));
    assert.equal(relative.code, 'ValidationException');
  });

  it('a bad signature is refused in each service\'s words (403)', async () => {
    const wrong = { ...credentials, secretAccessKey: 'not-the-secret' };
    const s = await ec2Error(sts('us-east-1', wrong).send(new GetCallerIdentityCommand({})));
    assert.deepEqual([s.code, s.status], ['SignatureDoesNotMatch', 403]);
    const m = await ec2Error(ssm('us-east-1', wrong).send(new GetParameterCommand({ Name: DEBIAN_AMD64 })));
    assert.deepEqual([m.code, m.status], ['InvalidSignatureException', 403]);
    const unknown = { accessKeyId: 'AKIANOTKNOWN00000000', secretAccessKey: 'x' };
    assert.equal((await ec2Error(sts('us-east-1', unknown).send(new GetCallerIdentityCommand({})))).code, 'InvalidClientTokenId');
    assert.equal((await ec2Error(ssm('us-east-1', unknown).send(new GetParameterCommand({ Name: DEBIAN_AMD64 })))).code, 'UnrecognizedClientException');
  });

  it('an unknown SSM target is UnknownOperationException, as JSON with x-amzn-ErrorType', async () => {
    const r = await send(
      t.url,
      await signedRequest(t.url, '{}', { service: 'ssm', contentType: 'application/x-amz-json-1.1', headers: { 'x-amz-target': 'AmazonSSM.PutParameter' } }),
    );
    assert.equal(r.status, 400);
    assert.equal(r.headers['x-amzn-errortype'], 'UnknownOperationException');
    assert.equal(r.headers['content-type'], 'application/x-amz-json-1.1');
    assert.equal((JSON.parse(r.body) as { __type: string }).__type, 'UnknownOperationException');
  });

  it('an EC2 action scoped to another service is refused as EC2 refuses it', async () => {
    const body = formBody({ Action: 'DescribeRegions' });
    for (const service of ['s3', 'sts', 'ssm']) {
      const r = await send(t.url, await signedRequest(t.url, body, { service }));
      assert.equal(r.status, 403, service);
      assert.equal(errorCode(r.body), 'SignatureDoesNotMatch', service);
      assert.match(r.body, /<Response><Errors><Error>/);
      assert.match(r.body, /Credential should be scoped to correct service: &apos;ec2&apos;/);
    }
    // and an STS action scoped to EC2 is refused by STS, in awsQuery's error document
    const r = await send(t.url, await signedRequest(t.url, 'Action=GetCallerIdentity&Version=2011-06-15'));
    assert.equal(r.status, 403);
    assert.match(r.body, /^<\?xml[^>]*>\n<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>SignatureDoesNotMatch<\/Code>/);
    assert.match(r.body, /scoped to correct service: &apos;sts&apos;/);
    // EC2 itself still answers
    const ok = await t.client().send(new DescribeRegionsCommand({}));
    assert.ok(ok.Regions!.length > 0);
  });

  it('an SSM call scoped to a region not served is refused', async () => {
    const one = await startTestServer({ regions: ['us-east-1'] });
    const c = new SSMClient({ endpoint: one.url, region: 'eu-west-1', credentials, maxAttempts: 1 });
    try {
      const e = await ec2Error(c.send(new GetParameterCommand({ Name: DEBIAN_AMD64 })));
      assert.deepEqual([e.code, e.status], ['InvalidSignatureException', 403]);
      assert.match(e.message, /valid region/);
    } finally {
      c.destroy();
      await one.close();
    }
  });
});

describe('service selection without a credential scope (--auth any)', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer({ auth: 'any' });
  });
  after(() => t.close());

  const post = (body: string, headers: Record<string, string>) =>
    fetch(t.url, { method: 'POST', body, headers });

  it('X-Amz-Target picks SSM, Action and Version pick STS, the rest is EC2', async () => {
    const ssm = await post(JSON.stringify({ Name: DEBIAN_AMD64 }), { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' });
    assert.equal(ssm.status, 200);
    const json = (await ssm.json()) as { Parameter: { Value: string; ARN: string; LastModifiedDate: number } };
    assert.match(json.Parameter.Value, /^ami-/);
    // the default region (no scope)
    assert.equal(json.Parameter.ARN, `arn:aws:ssm:us-east-1::parameter${DEBIAN_AMD64}`);
    // awsJson timestamps are epoch seconds
    assert.equal(json.Parameter.LastModifiedDate, Date.parse('2026-11-01T00:00:00Z') / 1000);
    const sts = await post('Action=GetCallerIdentity&Version=2011-06-15', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(sts.status, 200);
    assert.match(await sts.text(), /<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><GetCallerIdentityResult><UserId>123456789012<\/UserId>/);
    const ec2 = await post('Action=DescribeRegions&Version=2016-11-15', { 'content-type': 'application/x-www-form-urlencoded' });
    assert.equal(ec2.status, 200);
    assert.match(await ec2.text(), /<DescribeRegionsResponse xmlns="http:\/\/ec2\.amazonaws\.com\/doc\/2016-11-15\/">/);
    const unknown = await post('{}', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.ListClusters' });
    assert.equal(unknown.status, 400);
    const junk = await post('not json', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.GetParameter' });
    assert.equal(junk.status, 400);
    assert.equal(junk.headers.get('x-amzn-errortype'), 'SerializationException');
  });
});
