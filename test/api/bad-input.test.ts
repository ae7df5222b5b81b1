/**
 * Hostile and broken requests over raw HTTP: each gets a proper EC2 error document
 * (never a 500, never HTML) and leaves state untouched.
 */
import { CreateTagsCommand, DescribeAccountAttributesCommand, DescribeTagsCommand } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorCode, formBody, send, signedRequest } from '../helpers/sign.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('bad input gets an EC2 error and changes nothing', () => {
  let t: TestServer;
  let vpcId: string;
  before(async () => {
    t = await startTestServer();
    const attrs = await t.client().send(new DescribeAccountAttributesCommand({ AttributeNames: ['default-vpc'] }));
    vpcId = attrs.AccountAttributes![0]!.AttributeValues![0]!.AttributeValue!;
    await t.client().send(new CreateTagsCommand({ Resources: [vpcId], Tags: [{ Key: 'keep', Value: 'me' }] }));
  });
  after(() => t.close());

  async function tagsNow(): Promise<string> {
    const out = await t.client().send(new DescribeTagsCommand({}));
    return JSON.stringify(out.Tags);
  }

  async function call(body: string, opts: Parameters<typeof signedRequest>[2] = {}): Promise<{ status: number; code: string | undefined; body: string }> {
    const r = await send(t.url, await signedRequest(t.url, body, opts));
    assert.match(r.body, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<(Response><Errors>|\w+Response xmlns)/, r.body.slice(0, 200));
    return { status: r.status, code: errorCode(r.body), body: r.body };
  }

  it('unknown, missing and unimplemented actions', async () => {
    assert.deepEqual((await call(formBody({ Action: 'LaunchRocket' }))).code, 'InvalidAction');
    assert.deepEqual((await call('Version=2016-11-15')).code, 'MissingParameter');
    const unsupported = await call(formBody({ Action: 'CreateFleet' }));
    assert.equal(unsupported.code, 'UnsupportedOperation');
    assert.equal(unsupported.status, 400);
  });

  it('malformed bodies, wrong types, unknown parameters', async () => {
    const before = await tagsNow();
    assert.equal((await call('%%%&&==&Version=%ZZ')).code, 'MissingParameter');
    assert.equal((await call('%%%&&==&Action=%ZZ')).code, 'InvalidAction');
    assert.equal((await call(formBody({ Action: 'DescribeTags', MaxResults: 'lots' }))).code, 'InvalidParameterValue');
    assert.equal((await call(formBody({ Action: 'DescribeTags', Banana: '1' }))).code, 'UnknownParameter');
    assert.equal((await call(formBody({ Action: 'CreateTags', 'ResourceId.1': vpcId, 'Tag.1.Key': 'k', DryRun: 'perhaps' }))).code, 'InvalidParameterValue');
    const json = await call(JSON.stringify({ Action: 'DescribeRegions' }), { contentType: 'application/json' });
    assert.equal(json.code, 'InvalidParameterValue');
    assert.equal(await tagsNow(), before);
  });

  it('huge lists and huge bodies', async () => {
    const before = await tagsNow();
    const params: Record<string, string> = { Action: 'CreateTags', 'ResourceId.1': vpcId };
    for (let i = 1; i <= 20_001; i++) params[`Tag.${i}.Key`] = `k${i}`;
    assert.equal((await call(formBody(params))).code, 'InvalidParameterValue');
    const fifty: Record<string, string> = { Action: 'CreateTags', 'ResourceId.1': vpcId };
    for (let i = 1; i <= 51; i++) fifty[`Tag.${i}.Key`] = `k${i}`;
    assert.equal((await call(formBody(fifty))).code, 'TagLimitExceeded');
    assert.equal((await call(formBody({ Action: 'DescribeTags', 'Filter.1.Name': 'key', 'Filter.1.Value.99999999': 'x' }))).code, 'InvalidParameterValue');
    const big = await call(formBody({ Action: 'DescribeRegions', Pad: 'x'.repeat(5 * 1024 * 1024) }));
    assert.equal(big.status, 413);
    assert.equal(big.code, 'RequestEntityTooLarge');
    assert.equal(await tagsNow(), before);
  });

  it('a call that fails half-way changes nothing (one transaction)', async () => {
    const before = await tagsNow();
    // the first resource is valid, the second does not exist: no tag may land on the first
    const r = await call(formBody({ Action: 'CreateTags', 'ResourceId.1': vpcId, 'ResourceId.2': 'vpc-0123456789abcdef0', 'Tag.1.Key': 'half', 'Tag.1.Value': 'way' }));
    assert.equal(r.code, 'InvalidVpcID.NotFound');
    const bad = await call(formBody({ Action: 'CreateTags', 'ResourceId.1': vpcId, 'Tag.1.Key': 'ok', 'Tag.2.Key': 'aws:reserved' }));
    assert.equal(bad.code, 'InvalidParameterValue');
    assert.equal(await tagsNow(), before);
  });

  it('DryRun answers 412 DryRunOperation and changes nothing', async () => {
    const before = await tagsNow();
    const r = await call(formBody({ Action: 'CreateTags', 'ResourceId.1': vpcId, 'Tag.1.Key': 'dry', DryRun: 'true' }));
    assert.equal(r.status, 412);
    assert.equal(r.code, 'DryRunOperation');
    assert.equal(await tagsNow(), before);
  });

  it('bad signatures, unknown keys, missing auth, unserved regions', async () => {
    const body = formBody({ Action: 'CreateTags', 'ResourceId.1': vpcId, 'Tag.1.Key': 'sneaky' });
    const before = await tagsNow();
    const wrongSecret = await call(body, { credential: { accessKeyId: 'AKIAOVERCASTDEFAULT1', secretAccessKey: 'nope' } });
    assert.deepEqual([wrongSecret.status, wrongSecret.code], [403, 'SignatureDoesNotMatch']);
    const unknownKey = await call(body, { credential: { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'x' } });
    assert.deepEqual([unknownKey.status, unknownKey.code], [401, 'AuthFailure']);
    const unsigned = await send(t.url, { method: 'POST', path: '/', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    assert.deepEqual([unsigned.status, errorCode(unsigned.body)], [401, 'MissingAuthenticationToken']);
    const tampered = await signedRequest(t.url, body);
    const r = await send(t.url, { ...tampered, body: body.replace('sneaky', 'sneakx') });
    assert.deepEqual([r.status, errorCode(r.body)], [403, 'SignatureDoesNotMatch']);
    const mars = await call(formBody({ Action: 'DescribeRegions' }), { region: 'mars-east-1' });
    assert.equal(mars.status, 401);
    assert.equal(await tagsNow(), before);
  });

  it('a signed GET with query parameters works like a POST; an unsigned one is refused', async () => {
    const get = await signedRequest(t.url, '', { query: { Action: 'DescribeRegions', Version: '2016-11-15', 'RegionName.1': 'eu-west-1' } });
    const ok = await send(t.url, get);
    assert.equal(ok.status, 200, ok.body);
    assert.match(ok.body, /<regionName>eu-west-1<\/regionName>/);
    assert.doesNotMatch(ok.body, /us-east-1/);
    const r = await send(t.url, { method: 'GET', path: '/?Action=DescribeRegions&Version=2016-11-15', headers: {}, body: '' });
    assert.equal(errorCode(r.body), 'MissingAuthenticationToken');
  });
});

describe('throttling', () => {
  let t: TestServer;
  before(async () => {
    const base = (await import('../../src/config.js')).loadConfig([], {});
    t = await startTestServer({
      throttle: { ...base.throttle, enabled: true, describe: { capacity: 5, refillPerSecond: 0.001 } },
    });
  });
  after(() => t.close());

  it('answers 503 RequestLimitExceeded once the bucket is empty', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await send(t.url, await signedRequest(t.url, formBody({ Action: 'DescribeRegions' })));
      statuses.push(r.status);
      if (r.status !== 200) assert.equal(errorCode(r.body), 'RequestLimitExceeded');
    }
    assert.deepEqual(statuses.slice(0, 5), [200, 200, 200, 200, 200]);
    assert.ok(statuses.slice(5).every((s) => s === 503), statuses.join(','));
  });
});
