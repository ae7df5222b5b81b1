/** Every Query request names the API version it is written for: EC2 and STS check it. */
import { DescribeKeyPairsCommand } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { errorCode, send, signedRequest } from '../helpers/sign.js';

describe('the Version parameter', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  it('EC2: missing is MissingParameter, unknown is NoSuchVersion, and nothing runs', async () => {
    const missing = await send(t.url, await signedRequest(t.url, 'Action=CreateKeyPair&KeyName=no-version'));
    assert.equal(missing.status, 400);
    assert.equal(errorCode(missing.body), 'MissingParameter');
    assert.match(missing.body, /Version/);
    const unknown = await send(t.url, await signedRequest(t.url, 'Action=CreateKeyPair&KeyName=no-version&Version=2014-01-01'));
    assert.equal(unknown.status, 400);
    assert.equal(errorCode(unknown.body), 'NoSuchVersion');
    assert.match(unknown.body, /The requested version \(2014-01-01\) of service AmazonEC2 does not exist/);
    const keys = (await t.client().send(new DescribeKeyPairsCommand({}))).KeyPairs ?? [];
    assert.ok(!keys.some((k) => k.KeyName === 'no-version'));
    // signed GETs check it too
    const get = await send(t.url, await signedRequest(t.url, '', { query: { Action: 'DescribeRegions' } }));
    assert.equal(errorCode(get.body), 'MissingParameter');
  });

  it('STS: missing is MissingParameter, unknown names the version', async () => {
    const missing = await send(t.url, await signedRequest(t.url, 'Action=GetCallerIdentity', { service: 'sts' }));
    assert.equal(missing.status, 400, missing.body);
    assert.match(missing.body, /<Code>MissingParameter<\/Code>/);
    const unknown = await send(t.url, await signedRequest(t.url, 'Action=GetCallerIdentity&Version=2010-01-01', { service: 'sts' }));
    assert.equal(unknown.status, 400, unknown.body);
    assert.match(unknown.body, /<Code>InvalidAction<\/Code><Message>Could not find operation GetCallerIdentity for version 2010-01-01/);
  });
});
