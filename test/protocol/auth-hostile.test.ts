/**
 * Forged requests made with a real signer (@smithy/signature-v4): a presigned URL with a
 * body, presigned expiry, an unsigned payload, the credential scope's service. Each forged
 * request is refused and changes nothing in the store.
 */
import { DescribeKeyPairsCommand } from '@aws-sdk/client-ec2';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_CREDENTIAL } from '../../src/config.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { errorCode, formBody, NodeSha256, send, signedRequest, type RawRequest } from '../helpers/sign.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const FORM = 'application/x-www-form-urlencoded; charset=utf-8';

/**
 * A presigned request for the query `params` (and SigV4's own parameters): method, path
 * with the signed query string, and the headers that were signed. `expiresIn` is passed to
 * the signer as is (it writes it with `toString`), so a test can sign values the signer
 * would not choose.
 */
async function presign(
  url: string,
  params: Record<string, string>,
  opts: { method?: 'GET' | 'POST'; date?: Date; expiresIn?: unknown; headers?: Record<string, string>; service?: string } = {},
): Promise<RawRequest> {
  const u = new URL(url);
  const signer = new SignatureV4({ credentials: DEFAULT_CREDENTIAL, region: 'us-east-1', service: opts.service ?? 'ec2', sha256: NodeSha256 });
  const req = new HttpRequest({
    method: opts.method ?? 'GET', protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: '/',
    query: { Version: '2016-11-15', ...params }, headers: { host: u.host, ...opts.headers },
  });
  const signed = await signer.presign(req, {
    ...(opts.date ? { signingDate: opts.date } : {}),
    ...(opts.expiresIn !== undefined ? { expiresIn: opts.expiresIn as number } : {}),
  });
  const query = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) if (k !== 'host') headers[k] = v;
  return { method: opts.method ?? 'GET', path: `/?${query}`, headers, body: '' };
}

describe('presigned and unsigned-payload requests cannot be turned into other calls', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const keyNames = async (): Promise<string[]> =>
    ((await t.client().send(new DescribeKeyPairsCommand({}))).KeyPairs ?? []).map((k) => k.KeyName!).sort();

  it('a presigned URL works as signed, by GET or by POST without a body (both payload-hash conventions)', async () => {
    for (const method of ['GET', 'POST'] as const) {
      // the SDK presigner's convention (the empty body's hash) and S3's (UNSIGNED-PAYLOAD)
      for (const headers of [{}, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }] as Record<string, string>[]) {
        const r = await send(t.url, await presign(t.url, { Action: 'DescribeRegions', 'RegionName.1': 'eu-west-1' }, { method, headers }));
        assert.equal(r.status, 200, `${method} ${JSON.stringify(headers)}: ${r.body}`);
        assert.match(r.body, /<regionName>eu-west-1<\/regionName>/);
      }
    }
  });

  it('a presigned DescribeRegions sent with a CreateKeyPair body is refused and creates nothing', async () => {
    const before = await keyNames();
    for (const headers of [{ 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, {}] as Record<string, string>[]) {
      const url = await presign(t.url, { Action: 'DescribeRegions' }, { method: 'POST', headers });
      const forged = { ...url, headers: { ...url.headers, 'content-type': FORM }, body: formBody({ Action: 'CreateKeyPair', KeyName: 'forged-by-presign' }) };
      const r = await send(t.url, forged);
      assert.equal(r.status, 403, r.body);
      assert.equal(errorCode(r.body), 'SignatureDoesNotMatch');
    }
    assert.deepEqual(await keyNames(), before);
    assert.ok(!before.includes('forged-by-presign'));
  });

  it('X-Amz-Expires must be a whole number of seconds from 1 to 604800, and an expired URL is refused', async () => {
    const threeDaysAgo = new Date(Date.now() - 3 * DAY_MS);
    // The value the signer writes is `String(expiresIn)`; an object lets the test sign what the signer would refuse.
    const written = (s: string): unknown => ({ valueOf: () => 1, toString: () => s });
    for (const [expiresIn, date] of [
      ['abc', threeDaysAgo], ['abc', new Date()], [written('99999999'), new Date()], [written('604801'), new Date()],
      [written('0'), new Date()], [written('-5'), new Date()], [written('1.5'), new Date()], [written('1e3'), new Date()], [written(''), new Date()],
    ] as const) {
      const r = await send(t.url, await presign(t.url, { Action: 'CreateKeyPair', KeyName: 'forged-by-expiry' }, { date, expiresIn }));
      assert.equal(r.status, 401, `${String(expiresIn)}: ${r.body}`);
      assert.equal(errorCode(r.body), 'AuthFailure');
      assert.match(r.body, /X-Amz-Expires/);
    }
    const expired = await send(t.url, await presign(t.url, { Action: 'CreateKeyPair', KeyName: 'forged-by-expiry' }, { date: threeDaysAgo, expiresIn: 3600 }));
    assert.equal(errorCode(expired.body), 'RequestExpired', expired.body);
    assert.match(expired.body, /Request has expired/);
    assert.ok(!(await keyNames()).includes('forged-by-expiry'));
    // a week-long URL signed three days ago is still good
    const week = await send(t.url, await presign(t.url, { Action: 'DescribeRegions' }, { date: threeDaysAgo, expiresIn: 604800 }));
    assert.equal(week.status, 200, week.body);
  });

  it('a header-signed request cannot leave its body unsigned (UNSIGNED-PAYLOAD): a swapped body is refused', async () => {
    const before = await keyNames();
    const signed = await signedRequest(t.url, formBody({ Action: 'DescribeRegions' }), { headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' } });
    const swapped = await send(t.url, { ...signed, body: formBody({ Action: 'CreateKeyPair', KeyName: 'forged-by-unsigned-payload' }) });
    assert.equal(swapped.status, 403, swapped.body);
    assert.equal(errorCode(swapped.body), 'SignatureDoesNotMatch');
    // unsigned but not swapped: still refused (the body must be covered by the signature)
    const honest = await send(t.url, signed);
    assert.equal(errorCode(honest.body), 'SignatureDoesNotMatch');
    assert.deepEqual(await keyNames(), before);
    // the body's own hash, declared and signed, is fine
    const body = formBody({ Action: 'DescribeRegions' });
    const declared = await signedRequest(t.url, body, { headers: { 'x-amz-content-sha256': createHash('sha256').update(body).digest('hex') } });
    assert.equal((await send(t.url, declared)).status, 200);
    // a declared hash that is not the body's is refused
    const wrong = await signedRequest(t.url, body, { headers: { 'x-amz-content-sha256': 'a'.repeat(64) } });
    assert.equal(errorCode((await send(t.url, wrong)).body), 'SignatureDoesNotMatch');
  });

  it('STS and SSM calls are refused when scoped to a service not served here', async () => {
    const sts = await send(t.url, await signedRequest(t.url, 'Action=GetCallerIdentity&Version=2011-06-15', { service: 's3' }));
    assert.equal(sts.status, 403);
    assert.match(sts.body, /<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>SignatureDoesNotMatch<\/Code>/);
    assert.match(sts.body, /Credential should be scoped to correct service: &apos;sts&apos;/);
    const ssm = await send(
      t.url,
      await signedRequest(t.url, '{"Name":"x"}', { service: 's3', contentType: 'application/x-amz-json-1.1', headers: { 'x-amz-target': 'AmazonSSM.GetParameter' } }),
    );
    assert.equal(ssm.status, 403);
    assert.equal(ssm.headers['x-amzn-errortype'], 'InvalidSignatureException');
    assert.match((JSON.parse(ssm.body) as { message: string }).message, /scoped to correct service: 'ssm'/);
    const ec2 = await send(t.url, await signedRequest(t.url, formBody({ Action: 'DescribeRegions' }), { service: 's3' }));
    assert.match(ec2.body, /Credential should be scoped to correct service: &apos;ec2&apos;/);
  });
});
