import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CREDENTIAL } from '../../src/config.js';
import { Ec2Error } from '../../src/domain/errors.js';
import { createHmac, randomBytes } from 'node:crypto';
import { headerValue, hmacHex, padKey, parseAmzDate, parseAuthorizationHeader, verifySigV4, type SignedRequest } from '../../src/protocol/sigv4.js';
import { formBody, signedRequest } from '../helpers/sign.js';

const secretFor = (k: string) => (k === DEFAULT_CREDENTIAL.accessKeyId ? DEFAULT_CREDENTIAL.secretAccessKey : undefined);

async function request(body: string, opts: Parameters<typeof signedRequest>[2] = {}): Promise<SignedRequest> {
  const r = await signedRequest('http://127.0.0.1:4580', body, opts);
  // as node's rawHeaders holds them: names in the case they were sent
  return { method: 'POST', path: '/', query: '', rawHeaders: Object.entries(r.headers).flat(), body: Buffer.from(body) };
}

/** `req` with header `name` (any case) replaced by `value`, or removed when value is undefined. */
function withHeader(req: SignedRequest, name: string, value: string | undefined): SignedRequest {
  const raw: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() !== name) raw.push(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  if (value !== undefined) raw.push(name, value);
  return { ...req, rawHeaders: raw };
}

function failure(fn: () => unknown): { code: string; status: number } {
  try {
    fn();
  } catch (e) {
    if (e instanceof Ec2Error) return { code: e.code, status: e.status };
    throw e;
  }
  return { code: 'none', status: 0 };
}

describe('SigV4 verification', () => {
  const body = formBody({ Action: 'DescribeRegions' });

  it('accepts a request signed by @smithy/signature-v4 and reads region from the scope', async () => {
    const req = await request(body, { region: 'eu-west-3' });
    const id = verifySigV4(req, secretFor, Date.now());
    assert.deepEqual(id, { accessKeyId: DEFAULT_CREDENTIAL.accessKeyId, region: 'eu-west-3', service: 'ec2' });
  });

  it('rejects a tampered body, a tampered signed header, a wrong secret and an unknown key', async () => {
    const req = await request(body);
    assert.deepEqual(failure(() => verifySigV4({ ...req, body: Buffer.from(body + '&x=1') }, secretFor, Date.now())), { code: 'SignatureDoesNotMatch', status: 403 });
    assert.deepEqual(failure(() => verifySigV4(withHeader(req, 'host', 'evil:1'), secretFor, Date.now())), { code: 'SignatureDoesNotMatch', status: 403 });
    assert.deepEqual(failure(() => verifySigV4(req, () => 'wrong-secret', Date.now())), { code: 'SignatureDoesNotMatch', status: 403 });
    assert.deepEqual(failure(() => verifySigV4(req, () => undefined, Date.now())), { code: 'AuthFailure', status: 401 });
  });

  it('rejects requests outside the 15 minute window and unsigned requests', async () => {
    const old = await request(body, { date: new Date(Date.now() - 20 * 60_000) });
    assert.equal(failure(() => verifySigV4(old, secretFor, Date.now())).code, 'RequestExpired');
    const fresh = await request(body, { date: new Date(Date.now() - 5 * 60_000) });
    assert.doesNotThrow(() => verifySigV4(fresh, secretFor, Date.now()));
    const unsigned = withHeader(await request(body), 'authorization', undefined);
    assert.deepEqual(failure(() => verifySigV4(unsigned, secretFor, Date.now())), {
      code: 'MissingAuthenticationToken',
      status: 401,
    });
    const req = await request(body);
    assert.equal(failure(() => verifySigV4(withHeader(req, 'authorization', 'AWS4-HMAC-SHA256 garbage'), secretFor, Date.now())).code, 'AuthFailure');
  });

  it('reads each request\'s own scope, whatever the request before it said', async () => {
    const west = await request(body, { region: 'eu-west-3' });
    const east = await request(body, { region: 'us-east-1' });
    const auth = headerValue(west.rawHeaders, 'authorization')!;
    const broken = withHeader(west, 'authorization', auth.replace('/eu-west-3/ec2/aws4_request', '/eu-west-3/ec2/aws4_requests'));
    for (let round = 0; round < 3; round++) {
      assert.equal(verifySigV4(west, secretFor, Date.now()).region, 'eu-west-3');
      assert.equal(verifySigV4(east, secretFor, Date.now()).region, 'us-east-1');
      assert.equal(failure(() => verifySigV4(broken, secretFor, Date.now())).code, 'AuthFailure');
      // the same text up to Signature= with another signature: read again, and refused
      const forged = withHeader(west, 'authorization', auth.replace(/Signature=[0-9a-f]{64}/, `Signature=${'0'.repeat(64)}`));
      assert.equal(failure(() => verifySigV4(forged, secretFor, Date.now())).code, 'SignatureDoesNotMatch');
    }
  });

  it('verifies a scope with a non-ASCII region (its string to sign hashed as UTF-8)', async () => {
    const odd = await request(body, { region: 'eu-wëst-1' });
    assert.equal(verifySigV4(odd, secretFor, Date.now()).region, 'eu-wëst-1');
    assert.equal(verifySigV4(await request(body, { region: 'eu-west-1' }), secretFor, Date.now()).region, 'eu-west-1');
  });

  it('reads headers in any case, and a repeated signed header as its values joined by commas', async () => {
    const req = await request(body);
    // botocore sends `Content-Type`, `X-Amz-Date`, `Authorization`: names are matched in any case
    const titled = req.rawHeaders.map((x, i) => (i % 2 === 0 ? x.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase()) : x));
    assert.ok(titled.includes('X-Amz-Date') && titled.includes('Authorization'));
    assert.doesNotThrow(() => verifySigV4({ ...req, rawHeaders: titled }, secretFor, Date.now()));
    assert.equal(headerValue(['Host', 'a', 'X-Amz-Date', 'd', 'host', 'b'], 'host'), 'a,b');
    assert.equal(headerValue(['Host', 'a'], 'x-amz-date'), undefined);
    assert.equal(headerValue(['HOST', ''], 'host'), '');
    // A second Host header is part of what was signed: the signature no longer matches.
    assert.doesNotThrow(() => verifySigV4(req, secretFor, Date.now()));
    assert.equal(failure(() => verifySigV4({ ...req, rawHeaders: [...req.rawHeaders, 'host', 'other'] }, secretFor, Date.now())).code, 'SignatureDoesNotMatch');
    // An unsigned extra header changes nothing.
    assert.doesNotThrow(() => verifySigV4({ ...req, rawHeaders: [...req.rawHeaders, 'X-Extra', 'x'] }, secretFor, Date.now()));
  });

  it('hmacHex (two one-shot SHA-256 over padded keys) equals createHmac for any key and message', () => {
    const messages = ['', 'a', 'x'.repeat(55), 'x'.repeat(56), 'x'.repeat(64), 'x'.repeat(200), 'väx ☁ 😀', 'y'.repeat(5000)];
    for (const keyLength of [0, 1, 32, 63, 64, 65, 200]) {
      const key = randomBytes(keyLength);
      for (const m of messages) {
        assert.equal(hmacHex(padKey(key), m), createHmac('sha256', key).update(m, 'utf8').digest('hex'), `key ${keyLength} bytes, message ${m.length} chars`);
      }
    }
  });

  it('parses an Authorization header exactly as the SigV4 pattern reads it, over seeded random variations', () => {
    const pattern = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$/;
    const good = 'AWS4-HMAC-SHA256 Credential=AKIAOVERCASTDEFAULT1/20261123/us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=' + 'ab12'.repeat(16);
    const alphabet = [' ', '\t', '\u00a0', '\u2003', ',', ';', '=', '/', 'a', 'F', '0', '9', 'z', '-', 'Credential=', 'SignedHeaders=', 'Signature=', '\n', '\ufeff'];
    let seed = 42;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    let accepted = 0;
    for (let round = 0; round < 20_000; round++) {
      let s = good;
      for (let edits = 1 + rand(3); edits > 0; edits--) {
        const at = rand(s.length + 1);
        const kind = rand(3);
        const piece = alphabet[rand(alphabet.length)]!;
        if (kind === 0) s = s.slice(0, at) + piece + s.slice(at); // insert
        else if (kind === 1) s = s.slice(0, at) + s.slice(at + 1 + rand(4)); // delete
        else s = s.slice(0, at) + piece + s.slice(at + piece.length); // overwrite
      }
      const m = pattern.exec(s.trim());
      const expected = m ? { credential: m[1], signedHeaders: m[2], signature: m[3] } : undefined;
      assert.deepEqual(parseAuthorizationHeader(s), expected, JSON.stringify(s));
      if (expected) accepted++;
    }
    assert.deepEqual(parseAuthorizationHeader(` ${good}\t `), { credential: 'AKIAOVERCASTDEFAULT1/20261123/us-east-1/ec2/aws4_request', signedHeaders: 'content-type;host;x-amz-date', signature: 'ab12'.repeat(16) });
    // the variations must exercise both answers
    assert.ok(accepted > 1000 && accepted < 19_000, `accepted ${accepted}`);
  });

  it('reads X-Amz-Date only in the form YYYYMMDDTHHMMSSZ', () => {
    assert.equal(parseAmzDate('20261123T191556Z'), Date.UTC(2026, 10, 23, 19, 15, 56));
    assert.equal(parseAmzDate('19700101T000000Z'), 0);
    for (const bad of [undefined, '', '20261123T191556', '20261123t191556Z', '2026-11-23T19:15:56Z', '2026112xT191556Z', '20261123T19155 Z', '20261123T191556Z ', '２0261123T191556Z', '20261123T1915/6Z']) {
      assert.equal(parseAmzDate(bad), undefined, String(bad));
    }
  });
});
