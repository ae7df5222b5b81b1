/** `aws sts` and `aws ssm` (Debian's AWS CLI v2) against the same Overcast endpoint as `aws ec2`. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { AWS_CLI, awsCli, clientEnv, haveAwsCli, run } from './cli.js';

describe('AWS CLI v2: sts and ssm', { skip: haveAwsCli() ? false : 'Debian awscli is not installed (.ci/run installs it)' }, () => {
  let t: TestServer;
  const region = 'ap-southeast-2';
  const cli = (...args: string[]) => run(AWS_CLI, ['--endpoint-url', t.url, '--output', 'json', ...args], clientEnv(region));
  const json = async <T>(...args: string[]): Promise<T> => {
    const r = await cli(...args);
    if (r.code !== 0) throw new Error(`aws ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as T;
  };
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('aws sts get-caller-identity', async () => {
    const id = await json<{ Account: string; Arn: string; UserId: string }>('sts', 'get-caller-identity');
    assert.deepEqual(id, { UserId: '123456789012', Account: '123456789012', Arn: 'arn:aws:iam::123456789012:root' });
  });

  it('aws ssm get-parameter gives an AMI that aws ec2 lists and launches', async () => {
    const out = await json<{ Parameter: { Name: string; Value: string; Type: string; DataType: string; ARN: string; LastModifiedDate: string } }>(
      'ssm', 'get-parameter', '--name', '/aws/service/debian/release/12/latest/amd64',
    );
    assert.equal(out.Parameter.Type, 'String');
    assert.equal(out.Parameter.DataType, 'aws:ec2:image');
    assert.equal(out.Parameter.ARN, `arn:aws:ssm:${region}::parameter/aws/service/debian/release/12/latest/amd64`);
    // the CLI turned the epoch seconds back into a date
    assert.match(out.Parameter.LastModifiedDate, /^2026-11-01T00:00:00/);
    const ec2 = awsCli(t.url, region);
    assert.equal(await ec2.text('describe-images', '--image-ids', out.Parameter.Value, '--query', 'Images[0].Name'), 'overcast/debian-12-amd64-20261101');
    const state = await ec2.text('run-instances', '--image-id', out.Parameter.Value, '--instance-type', 't3.micro', '--query', 'Instances[0].State.Name');
    assert.equal(state, 'pending');
  });

  it('aws ssm get-parameters-by-path --recursive (the CLI pages through NextToken itself)', async () => {
    const out = await json<{ Parameters: { Name: string; Value: string }[] }>('ssm', 'get-parameters-by-path', '--path', '/aws/service/debian', '--recursive');
    assert.deepEqual(out.Parameters.map((p) => p.Name), [
      '/aws/service/debian/release/12/latest/amd64',
      '/aws/service/debian/release/12/latest/arm64',
      '/aws/service/debian/release/bookworm/latest/amd64',
      '/aws/service/debian/release/bookworm/latest/arm64',
    ]);
    const canonical = await json<{ Parameters: { Name: string }[] }>('ssm', 'get-parameters-by-path', '--path', '/aws/service/canonical', '--recursive', '--page-size', '4');
    assert.equal(canonical.Parameters.length, 16);
  });

  it('errors: an unknown parameter, an operation Overcast lacks', async () => {
    const missing = await cli('ssm', 'get-parameter', '--name', '/no/such/parameter');
    assert.equal(missing.code, 254);
    assert.match(missing.stderr, /\(ParameterNotFound\) when calling the GetParameter operation/);
    const put = await cli('ssm', 'put-parameter', '--name', '/mine', '--value', 'x', '--type', 'String');
    assert.equal(put.code, 254);
    assert.match(put.stderr, /UnknownOperationException/);
  });
});
