import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CREDENTIAL } from '../../src/config.js';
import { Ec2Error } from '../../src/protocol/errors.js';
import { createHmac, randomBytes } from 'node:crypto';
import { hmacHex, padKey, parseAmzDate, parseAuthorizationHeader, verifySigV4, type SignedRequest } from '../../src/protocol/sigv4.js';
import { formBody, signedRequest } from '../helpers/sign.js';

const secretFor = (k: string) => (k === DEFAULT_CREDENTIAL.accessKeyId ? DEFAULT_CREDENTIAL.secretAccessKey : undefined);

async function request(body: string, opts: Parameters<typeof signedRequest>[2] = {}): Promise<SignedRequest> {
  const r = await signedRequest('http://127.0.0.1:4580', body, opts);
  const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: 'POST', path: '/', query: '', headers, body: Buffer.from(body) };
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
    assert.deepEqual(failure(() => verifySigV4({ ...req, headers: { ...req.headers, host: 'evil:1' } }, secretFor, Date.now())), { code: 'SignatureDoesNotMatch', status: 403 });
    assert.deepEqual(failure(() => verifySigV4(req, () => 'wrong-secret', Date.now())), { code: 'SignatureDoesNotMatch', status: 403 });
    assert.deepEqual(failure(() => verifySigV4(req, () => undefined, Date.now())), { code: 'AuthFailure', status: 401 });
  });

  it('rejects requests outside the 15 minute window and unsigned requests', async () => {
    const old = await request(body, { date: new Date(Date.now() - 20 * 60_000) });
    assert.equal(failure(() => verifySigV4(old, secretFor, Date.now())).code, 'RequestExpired');
    const fresh = await request(body, { date: new Date(Date.now() - 5 * 60_000) });
    assert.doesNotThrow(() => verifySigV4(fresh, secretFor, Date.now()));
    const { authorization: _a, Authorization: _b, ...unsigned } = (await request(body)).headers as Record<string, string>;
    assert.deepEqual(failure(() => verifySigV4({ method: 'POST', path: '/', query: '', headers: unsigned, body: Buffer.from(body) }, secretFor, Date.now())), {
      code: 'MissingAuthenticationToken',
      status: 401,
    });
    const req = await request(body);
    assert.equal(failure(() => verifySigV4({ ...req, headers: { ...req.headers, authorization: 'AWS4-HMAC-SHA256 garbage' } }, secretFor, Date.now())).code, 'AuthFailure');
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
