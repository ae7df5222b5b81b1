/**
 * AWS Signature Version 4 verification (header and presigned query forms).
 * Signing keys are cached per (secret, date, region, service), so a request costs
 * one SHA-256 of the canonical request and one HMAC.
 */
import { createHmac, hash } from 'node:crypto';
import { Ec2Error } from '../domain/errors.js';

export interface SignedRequest {
  method: string;
  /** path as sent, without the query string */
  path: string;
  /** raw query string, without '?' */
  query: string;
  /**
   * The headers as received, `name, value, name, value…` (node's `rawHeaders`): read
   * in place, so a request never builds node's lazily made `headers` object.
   */
  rawHeaders: readonly string[];
  body: Buffer;
}

export interface VerifiedIdentity {
  accessKeyId: string;
  region: string;
  service: string;
}

export interface ScopeOnly {
  accessKeyId?: string;
  region?: string;
  /** the SigV4 service name the request was signed for (`ec2`, `sts`, `ssm`…) */
  service?: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60 * 1000;
/** The longest a presigned request may be valid for (SigV4's limit: a week). */
const MAX_PRESIGNED_SECONDS = 7 * 24 * 60 * 60;
/** SHA-256 of no bytes. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

const signingKeys = new Map<string, PaddedKey>();
/** The last key used: most requests in a row share secret, date, region and service. */
let lastKey: { secret: string; date: string; region: string; service: string; key: PaddedKey } | undefined;

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/**
 * A signing key ready for {@link hmacHex}: the key itself, HMAC's inner pad (key XOR
 * 0x36) at the start of a buffer the message is written after, and the outer pad
 * (key XOR 0x5c) followed by room for the inner digest (RFC 2104).
 */
export interface PaddedKey {
  key: Buffer;
  inner: Buffer;
  outer: Buffer;
  /** `inner` up to the end of the last message written into it (strings to sign keep one length) */
  view?: Buffer;
}

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;

export function padKey(key: Buffer): PaddedKey {
  const k = key.length > BLOCK_BYTES ? hash('sha256', key, 'buffer') : key;
  const inner = Buffer.alloc(BLOCK_BYTES + 1024, 0x36);
  const outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES, 0x5c);
  for (let i = 0; i < k.length; i++) {
    inner[i]! ^= k[i]!;
    outer[i]! ^= k[i]!;
  }
  return { key, inner, outer };
}

/**
 * HMAC-SHA256 of `message` as two one-shot SHA-256 calls over buffers kept with the
 * key: the same bytes as createHmac, for fewer native calls and no HMAC object per
 * request. Not reentrant (the buffers are reused), which a synchronous call need not be.
 */
export function hmacHex(key: PaddedKey, message: string, ascii = !NON_ASCII.test(message)): string {
  if (BLOCK_BYTES + message.length > key.inner.length || !ascii) {
    // Longer than the kept buffer has room for (SigV4 strings to sign are ~150 bytes), or not ASCII.
    return createHmac('sha256', key.key).update(message, 'utf8').digest('hex');
  }
  // ASCII: latin1 is its UTF-8, and latin1 writes and digests cost a third of utf8 ones and Buffer digests.
  const end = BLOCK_BYTES + key.inner.write(message, BLOCK_BYTES, 'latin1');
  if (key.view?.length !== end) key.view = key.inner.subarray(0, end);
  key.outer.write(hash('sha256', key.view, 'binary'), BLOCK_BYTES, 'latin1');
  return hash('sha256', key.outer, 'hex');
}

const NON_ASCII = /[^\x00-\x7f]/;

function signingKey(secret: string, date: string, region: string, service: string): PaddedKey {
  const last = lastKey;
  if (last && last.secret === secret && last.date === date && last.region === region && last.service === service) return last.key;
  const cacheKey = `${secret}\n${date}\n${region}\n${service}`;
  let key = signingKeys.get(cacheKey);
  if (!key) {
    key = padKey(hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request'));
    if (signingKeys.size > 1000) signingKeys.clear();
    signingKeys.set(cacheKey, key);
  }
  lastKey = { secret, date, region, service, key };
  return key;
}

/** Constant-time comparison of two hex signatures (no early exit on the first difference). */
function sameHex(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

const authFailure = (message: string): Ec2Error => new Ec2Error('AuthFailure', message, 401);
const signatureMismatch = (): Ec2Error =>
  new Ec2Error(
    'SignatureDoesNotMatch',
    'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    403,
  );

function encodeRfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decodeComponent(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

function canonicalQuery(query: string, skipSignature: boolean): string {
  if (query === '') return '';
  const pairs: [string, string][] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decodeComponent(eq < 0 ? part : part.slice(0, eq));
    if (skipSignature && k === 'X-Amz-Signature') continue;
    const v = eq < 0 ? '' : decodeComponent(part.slice(eq + 1));
    pairs.push([encodeRfc3986(k), encodeRfc3986(v)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function canonicalPath(path: string): string {
  if (path === '' || path === '/') return '/';
  return path
    .split('/')
    .map((seg) => encodeRfc3986(seg))
    .join('/');
}

/** SigV4 header value canonical form: trimmed, runs of spaces folded (cheap when there are none). */
function normalizeHeaderValue(v: string): string {
  const t = v.trim();
  return t.includes('  ') || t.includes('\t') || t.includes('\n') ? t.replace(/\s+/g, ' ') : t;
}

/**
 * The value of header `name` (lowercase), or undefined: every header of that name, in
 * the order received, joined by `,` as SigV4's canonical form joins repeated headers.
 */
export function headerValue(raw: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i]!;
    if (n.length === name.length && (n === name || n.toLowerCase() === name)) {
      value = value === undefined ? raw[i + 1]! : `${value},${raw[i + 1]!}`;
    }
  }
  return value;
}

/** `YYYYMMDDTHHMMSSZ` as milliseconds since the epoch, or undefined when it is not of that form. */
export function parseAmzDate(s: string | undefined): number | undefined {
  if (s === undefined || s.length !== 16 || s.charCodeAt(8) !== 84 /* T */ || s.charCodeAt(15) !== 90 /* Z */) return undefined;
  const year = digits(s, 0, 4);
  const month = digits(s, 4, 6);
  const day = digits(s, 6, 8);
  const hour = digits(s, 9, 11);
  const minute = digits(s, 11, 13);
  const second = digits(s, 13, 15);
  if ((year | month | day | hour | minute | second) < 0) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

/** The number written in s[from, to), or -1 if that is not all ASCII digits. */
function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

interface Parsed {
  accessKeyId: string;
  date: string;
  region: string;
  /** region and service are ASCII (then so is the string to sign: the rest is checked digits and hex) */
  asciiScope: boolean;
  service: string;
  /** the SignedHeaders value as sent: names separated by `;` */
  signedHeaders: string;
  signature: string;
  amzDate: string;
  presigned: boolean;
  expiresSeconds?: number;
  /** a presigned request's X-Amz-Content-Sha256 query parameter */
  declaredHash?: string;
}

/** `\s` of a JavaScript regular expression. */
function isSpace(c: number): boolean {
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}

function skipSpaces(s: string, i: number): number {
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  return i;
}

/** The first `,` or space at or after `i`, or the end. A search, so no backtracking state. */
const DELIMITER = /[,\s]/g;
function tokenEnd(s: string, i: number): number {
  DELIMITER.lastIndex = i;
  return DELIMITER.test(s) ? DELIMITER.lastIndex - 1 : s.length;
}

/** 64 lowercase hex digits, then nothing but spaces. */
const SIGNATURE_TAIL = /[0-9a-f]{64}\s*$/y;

/**
 * The text up to `Signature=` of the last Authorization header read, and its parts: a
 * client sends the same text there (key, date, region, service, signed headers) on
 * every request of a day, so the next header that starts with it needs only its
 * signature read.
 */
let lastHeader: { prefix: string; credential: string; signedHeaders: string } | undefined;
/** The last well-formed credential scope and its parts. */
let lastScope: { credential: string; accessKeyId: string; date: string; region: string; service: string; asciiScope: boolean } | undefined;

/**
 * The parts of an `Authorization` header of the form
 * `AWS4-HMAC-SHA256 Credential=<scope>, SignedHeaders=<names>, Signature=<64 lowercase hex>`
 * (spaces around the parts optional, as in `^AWS4-HMAC-SHA256\s+Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})\s*$`),
 * or undefined. Parsed by hand: a backtracking regular expression over a 200-character
 * header grows V8's regexp stack on the heap on every request.
 */
export function parseAuthorizationHeader(auth: string): { credential: string; signedHeaders: string; signature: string } | undefined {
  const last = lastHeader;
  if (last !== undefined && auth.startsWith(last.prefix)) {
    // The same text up to `Signature=` as the last header parsed: it reads the same.
    SIGNATURE_TAIL.lastIndex = last.prefix.length;
    if (SIGNATURE_TAIL.test(auth)) {
      return { credential: last.credential, signedHeaders: last.signedHeaders, signature: auth.slice(last.prefix.length, last.prefix.length + 64) };
    }
  }
  let i = skipSpaces(auth, 0);
  if (!auth.startsWith(ALGORITHM, i)) return undefined;
  i += ALGORITHM.length;
  const afterAlgorithm = i;
  i = skipSpaces(auth, i);
  if (i === afterAlgorithm || !auth.startsWith('Credential=', i)) return undefined;
  const credentialStart = i + 11;
  i = tokenEnd(auth, credentialStart);
  if (i === credentialStart || auth.charCodeAt(i) !== 44) return undefined;
  const credential = auth.slice(credentialStart, i);
  i = skipSpaces(auth, i + 1);
  if (!auth.startsWith('SignedHeaders=', i)) return undefined;
  const headersStart = i + 14;
  i = tokenEnd(auth, headersStart);
  if (i === headersStart || auth.charCodeAt(i) !== 44) return undefined;
  const signedHeaders = auth.slice(headersStart, i);
  i = skipSpaces(auth, i + 1);
  if (!auth.startsWith('Signature=', i)) return undefined;
  const signatureStart = i + 10;
  SIGNATURE_TAIL.lastIndex = signatureStart;
  if (!SIGNATURE_TAIL.test(auth)) return undefined;
  lastHeader = { prefix: auth.slice(0, signatureStart), credential, signedHeaders };
  return { credential, signedHeaders, signature: auth.slice(signatureStart, signatureStart + 64) };
}

function parseAuth(req: SignedRequest): Parsed | undefined {
  const auth = headerValue(req.rawHeaders, 'authorization');
  if (auth !== undefined) {
    const m = parseAuthorizationHeader(auth);
    if (!m) {
      if (auth.startsWith(ALGORITHM)) throw authFailure('The authorization header is malformed.');
      throw new Ec2Error('AuthFailure', 'Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported.', 401);
    }
    const c = m.credential;
    let scope = lastScope;
    if (scope === undefined || scope.credential !== c) {
      // <access key>/<date>/<region>/<service>/aws4_request
      const s1 = c.indexOf('/');
      const s2 = c.indexOf('/', s1 + 1);
      const s3 = c.indexOf('/', s2 + 1);
      const s4 = c.indexOf('/', s3 + 1);
      if (s1 < 0 || s2 < 0 || s3 < 0 || s4 < 0 || c.length - s4 !== 13 || !c.endsWith('/aws4_request')) {
        throw authFailure('The credential scope is malformed.');
      }
      const region = c.slice(s2 + 1, s3);
      const service = c.slice(s3 + 1, s4);
      scope = lastScope = {
        credential: c, accessKeyId: c.slice(0, s1), date: c.slice(s1 + 1, s2), region, service, asciiScope: !NON_ASCII.test(region + service),
      };
    }
    const amzDate = headerValue(req.rawHeaders, 'x-amz-date') ?? '';
    return {
      accessKeyId: scope.accessKeyId, date: scope.date, region: scope.region, service: scope.service, asciiScope: scope.asciiScope,
      signedHeaders: m.signedHeaders, signature: m.signature, amzDate, presigned: false,
    };
  }
  if (!req.query.includes('X-Amz-Signature=')) return undefined;
  const q = new URLSearchParams(req.query);
  if (q.get('X-Amz-Algorithm') !== ALGORITHM) throw authFailure('Only AWS4-HMAC-SHA256 is supported.');
  const scope = (q.get('X-Amz-Credential') ?? '').split('/');
  const signature = q.get('X-Amz-Signature') ?? '';
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || !/^[0-9a-f]{64}$/.test(signature)) {
    throw authFailure('The presigned request is malformed.');
  }
  const signedHeadersText = q.get('X-Amz-SignedHeaders') ?? 'host';
  // An integer number of seconds, 1 to 604800 (a week): anything else (missing, `abc`, `1e3`,
  // `-1`, `99999999`) is refused, never read as NaN (which would never expire).
  const expires = q.get('X-Amz-Expires');
  if (expires === null) throw authFailure('X-Amz-Expires must be provided in a presigned request.');
  const expiresSeconds = /^[0-9]{1,7}$/.test(expires) ? Number(expires) : NaN;
  if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_PRESIGNED_SECONDS)) {
    throw authFailure(`X-Amz-Expires must be an integer from 1 to ${MAX_PRESIGNED_SECONDS} seconds (a week).`);
  }
  return {
    accessKeyId: scope[0]!, date: scope[1]!, region: scope[2]!, service: scope[3]!, asciiScope: !NON_ASCII.test(scope[2]! + scope[3]!),
    signedHeaders: signedHeadersText, signature,
    amzDate: q.get('X-Amz-Date') ?? '', presigned: true, expiresSeconds,
    declaredHash: q.get('X-Amz-Content-Sha256') ?? q.get('x-amz-content-sha256') ?? undefined,
  };
}

/** Region, service and access key from the credential scope, without checking the signature. */
export function readScope(req: SignedRequest): ScopeOnly {
  try {
    const p = parseAuth(req);
    return p ? { accessKeyId: p.accessKeyId, region: p.region, service: p.service } : {};
  } catch {
    return {};
  }
}

/** Verifies a request's SigV4 signature; throws the EC2 error a real endpoint would give. */
export function verifySigV4(
  req: SignedRequest,
  /** the secret of an access key; temporary keys come with their session token (X-Amz-Security-Token) */
  secretFor: (accessKeyId: string, sessionToken: string | undefined) => string | undefined,
  nowMs: number,
): VerifiedIdentity {
  const p = parseAuth(req);
  if (!p) {
    throw new Ec2Error(
      'MissingAuthenticationToken',
      'The request must contain either a valid (registered) AWS access key ID or X.509 certificate.',
      401,
    );
  }
  const sessionToken = p.presigned ? (new URLSearchParams(req.query).get('X-Amz-Security-Token') ?? undefined) : headerValue(req.rawHeaders, 'x-amz-security-token');
  const secret = secretFor(p.accessKeyId, sessionToken);
  if (secret === undefined) throw authFailure('AWS was not able to validate the provided access credentials');
  const when = parseAmzDate(p.amzDate);
  if (when === undefined || p.amzDate.slice(0, 8) !== p.date) throw signatureMismatch();
  if (p.presigned) {
    if (nowMs > when + (p.expiresSeconds ?? 900) * 1000 || when - nowMs > MAX_SKEW_MS) {
      throw new Ec2Error('RequestExpired', 'Request has expired.', 400);
    }
  } else if (Math.abs(nowMs - when) > MAX_SKEW_MS) {
    throw new Ec2Error(
      'RequestExpired',
      `Request has expired. Timestamp date is ${p.amzDate}, current time is ${new Date(nowMs).toISOString()}.`,
      400,
    );
  }
  let canonicalHeaders = '';
  let signsHost = false;
  for (let from = 0; from <= p.signedHeaders.length; ) {
    let to = p.signedHeaders.indexOf(';', from);
    if (to < 0) to = p.signedHeaders.length;
    const name = p.signedHeaders.slice(from, to);
    if (name === 'host') signsHost = true;
    const v = headerValue(req.rawHeaders, name);
    if (v === undefined) throw signatureMismatch();
    canonicalHeaders += `${name}:${normalizeHeaderValue(v)}\n`;
    from = to + 1;
  }
  if (!signsHost) throw signatureMismatch();
  // Every service served here (EC2 Query, awsQuery, awsJson) carries its parameters in the
  // payload, so the payload is always authenticated: its hash is computed here and is what
  // the signature must cover. `UNSIGNED-PAYLOAD` (S3's opt-out) is honoured only for an empty
  // body, where there is nothing to leave unsigned.
  const empty = req.body.length === 0;
  const bodyHash = empty ? EMPTY_SHA256 : hash('sha256', req.body, 'hex');
  const declaredHash = p.presigned ? p.declaredHash : headerValue(req.rawHeaders, 'x-amz-content-sha256');
  if (declaredHash !== undefined && declaredHash !== bodyHash && !(declaredHash === 'UNSIGNED-PAYLOAD' && empty)) throw signatureMismatch();
  if (p.presigned && !empty) {
    // A presigned request's parameters are its signed query string; a body beside it is
    // refused rather than read (it would override what was signed).
    throw new Ec2Error('SignatureDoesNotMatch', 'A presigned request must not have a body: its parameters come from its signed query string only.', 403);
  }
  const canonicalRequest =
    `${req.method}\n${canonicalPath(req.path)}\n${canonicalQuery(req.query, p.presigned)}\n` +
    `${canonicalHeaders}\n${p.signedHeaders}\n${declaredHash ?? bodyHash}`;
  const scope = `${p.date}/${p.region}/${p.service}/aws4_request`;
  const key = signingKey(secret, p.date, p.region, p.service);
  const expected = hmacHex(key, `${ALGORITHM}\n${p.amzDate}\n${scope}\n${hash('sha256', canonicalRequest, 'hex')}`, p.asciiScope);
  if (!sameHex(expected, p.signature)) {
    // A presigned URL made by an S3-style signer (no X-Amz-Content-Sha256 parameter) signs
    // `UNSIGNED-PAYLOAD` where SDK presigners of other services sign the empty body's hash.
    if (!p.presigned || declaredHash !== undefined) throw signatureMismatch();
    const unsigned = `${canonicalRequest.slice(0, -bodyHash.length)}UNSIGNED-PAYLOAD`;
    const again = hmacHex(key, `${ALGORITHM}\n${p.amzDate}\n${scope}\n${hash('sha256', unsigned, 'hex')}`, p.asciiScope);
    if (!sameHex(again, p.signature)) throw signatureMismatch();
  }
  return { accessKeyId: p.accessKeyId, region: p.region, service: p.service };
}
