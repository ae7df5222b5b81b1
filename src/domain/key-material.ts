/**
 * Key material for EC2 key pairs: what CreateKeyPair and ImportKeyPair do with keys.
 *
 * Pure: node:crypto only, no file or network I/O.
 *
 * Fingerprints, as EC2 computes them:
 * - RSA created by CreateKeyPair: SHA-1 of the DER PKCS#8 private key, colon-separated lowercase hex.
 * - RSA imported by ImportKeyPair: MD5 of the DER SubjectPublicKeyInfo, colon-separated lowercase hex.
 * - ED25519 (created or imported): base64 SHA-256 of the OpenSSH public key blob, with its `=` padding
 *   (EC2 keeps the padding; `ssh-keygen -l -E sha256` omits it).
 */
import {
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  generateKeyPairSync,
  randomBytes,
  type JsonWebKey,
  type KeyObject,
} from 'node:crypto';

export type KeyType = 'rsa' | 'ed25519';
export type KeyFormat = 'pem' | 'ppk';

export interface CreatedKey {
  keyType: KeyType;
  /**
   * The private key file's text. RSA pem has no trailing newline (as EC2's documented KeyMaterial);
   * the OpenSSH and PuTTY files end with one, as ssh-keygen and puttygen write them (OpenSSH will
   * not load an openssh-key-v1 file without it).
   */
  privateKeyMaterial: string;
  /** `ssh-rsa AAAA…` / `ssh-ed25519 AAAA…`, no comment. */
  publicKeyOpenSsh: string;
  fingerprint: string;
}

export interface ImportedKey {
  keyType: KeyType;
  /** `ssh-rsa AAAA…` / `ssh-ed25519 AAAA…`, no comment, re-encoded canonically. */
  publicKeyOpenSsh: string;
  fingerprint: string;
}

/** EC2's message for public key material it cannot import (error code InvalidKey.Format). */
export const INVALID_KEY_FORMAT_MESSAGE = 'Key is not in valid OpenSSH public key format';

/** Thrown by importPublicKey for anything EC2 would not import. `code` is the EC2 error code. */
export class KeyFormatError extends Error {
  readonly code = 'InvalidKey.Format';
  constructor(message: string = INVALID_KEY_FORMAT_MESSAGE) {
    super(message);
    this.name = 'KeyFormatError';
  }
}

/** Smallest and largest RSA modulus (in bits) that ImportKeyPair accepts. */
export const RSA_IMPORT_MIN_BITS = 1024;
export const RSA_IMPORT_MAX_BITS = 4096;
/** Size of RSA keys that CreateKeyPair makes. */
export const RSA_CREATE_BITS = 2048;

// ---------------------------------------------------------------------------
// SSH wire encoding (RFC 4251 §5)

function sshUint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function sshString(data: Buffer | string): Buffer {
  const b = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return Buffer.concat([sshUint32(b.length), b]);
}

/** An mpint from an unsigned big-endian magnitude: minimal, with a 0x00 lead byte when the top bit is set. */
function sshMpint(unsigned: Buffer): Buffer {
  let i = 0;
  while (i < unsigned.length && unsigned[i] === 0) i++;
  let mag = unsigned.subarray(i);
  if (mag.length > 0 && (mag[0]! & 0x80) !== 0) mag = Buffer.concat([Buffer.from([0]), mag]);
  return sshString(mag);
}

class SshReader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos === this.buf.length;
  }

  uint32(): number {
    if (this.pos + 4 > this.buf.length) throw new KeyFormatError();
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  string(): Buffer {
    const len = this.uint32();
    if (this.pos + len > this.buf.length) throw new KeyFormatError();
    const v = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return v;
  }

  /** A non-negative mpint, returned as its unsigned big-endian magnitude without leading zeros. */
  mpintUnsigned(): Buffer {
    const raw = this.string();
    if (raw.length > 0 && (raw[0]! & 0x80) !== 0) throw new KeyFormatError(); // negative
    let i = 0;
    while (i < raw.length && raw[i] === 0) i++;
    return raw.subarray(i);
  }
}

// ---------------------------------------------------------------------------
// Helpers

const b64url = (s: string | undefined): Buffer => {
  if (s === undefined) throw new Error('missing JWK member');
  return Buffer.from(s, 'base64url');
};

const colonHex = (digest: Buffer): string => digest.toString('hex').replace(/(..)(?!$)/g, '$1:');

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < text.length; i += width) lines.push(text.slice(i, i + width));
  return lines;
}

function bitLength(unsigned: Buffer): number {
  let i = 0;
  while (i < unsigned.length && unsigned[i] === 0) i++;
  if (i === unsigned.length) return 0;
  return (unsigned.length - i - 1) * 8 + (32 - Math.clz32(unsigned[i]!));
}

function rsaPublicBlob(n: Buffer, e: Buffer): Buffer {
  return Buffer.concat([sshString('ssh-rsa'), sshMpint(e), sshMpint(n)]);
}

function ed25519PublicBlob(pub: Buffer): Buffer {
  return Buffer.concat([sshString('ssh-ed25519'), sshString(pub)]);
}

const openSshLine = (algorithm: string, blob: Buffer): string => `${algorithm} ${blob.toString('base64')}`;

/** ED25519 fingerprint as EC2 shows it: base64 SHA-256 of the public key blob, padding kept. */
const ed25519Fingerprint = (blob: Buffer): string => createHash('sha256').update(blob).digest('base64');

/** Imported-RSA fingerprint: MD5 of the DER SubjectPublicKeyInfo. */
const rsaImportedFingerprint = (key: KeyObject): string =>
  colonHex(createHash('md5').update(key.export({ type: 'spki', format: 'der' })).digest());

/** Created-RSA fingerprint: SHA-1 of the DER PKCS#8 private key. */
const rsaCreatedFingerprint = (key: KeyObject): string =>
  colonHex(createHash('sha1').update(key.export({ type: 'pkcs8', format: 'der' })).digest());

/** A comment must stay on one line in every file format we write. */
const oneLine = (comment: string): string => comment.replace(/[\r\n]+/g, ' ');

// ---------------------------------------------------------------------------
// Private key file formats

/** OpenSSH's own private key format (openssh-key-v1), unencrypted, for ED25519. */
function openSshPrivateKeyEd25519(seed: Buffer, pub: Buffer, comment: string): string {
  const pubBlob = ed25519PublicBlob(pub);
  const check = randomBytes(4);
  const body = [
    check,
    check,
    sshString('ssh-ed25519'),
    sshString(pub),
    sshString(Buffer.concat([seed, pub])),
    sshString(comment),
  ];
  let priv = Buffer.concat(body);
  const blockSize = 8; // cipher "none"
  const padLen = (blockSize - (priv.length % blockSize)) % blockSize;
  const pad = Buffer.alloc(padLen);
  for (let i = 0; i < padLen; i++) pad[i] = i + 1;
  priv = Buffer.concat([priv, pad]);
  const blob = Buffer.concat([
    Buffer.from('openssh-key-v1\0', 'latin1'),
    sshString('none'), // cipher
    sshString('none'), // kdf
    sshString(Buffer.alloc(0)), // kdf options
    sshUint32(1), // number of keys
    sshString(pubBlob),
    sshString(priv),
  ]);
  return [
    '-----BEGIN OPENSSH PRIVATE KEY-----',
    ...wrap(blob.toString('base64'), 70),
    '-----END OPENSSH PRIVATE KEY-----',
    '',
  ].join('\n');
}

/** PuTTY's MAC key for an unencrypted PuTTY-User-Key-File-2: SHA-1 of the fixed string (empty passphrase). */
const PPK2_MAC_KEY = createHash('sha1').update('putty-private-key-file-mac-key').digest();

/** A PuTTY-User-Key-File-2, Encryption: none. */
function ppk2(algorithm: string, comment: string, publicBlob: Buffer, privateBlob: Buffer): string {
  const encryption = 'none';
  const mac = createHmac('sha1', PPK2_MAC_KEY)
    .update(
      Buffer.concat([
        sshString(algorithm),
        sshString(encryption),
        sshString(comment),
        sshString(publicBlob),
        sshString(privateBlob),
      ]),
    )
    .digest('hex');
  const pubLines = wrap(publicBlob.toString('base64'), 64);
  const privLines = wrap(privateBlob.toString('base64'), 64);
  return [
    `PuTTY-User-Key-File-2: ${algorithm}`,
    `Encryption: ${encryption}`,
    `Comment: ${comment}`,
    `Public-Lines: ${pubLines.length}`,
    ...pubLines,
    `Private-Lines: ${privLines.length}`,
    ...privLines,
    `Private-MAC: ${mac}`,
    '',
  ].join('\n');
}

// ---------------------------------------------------------------------------
// CreateKeyPair

/**
 * Make a new key pair as CreateKeyPair does. RSA keys are 2048-bit; `pem` gives PKCS#1
 * (`BEGIN RSA PRIVATE KEY`) for RSA and openssh-key-v1 for ED25519; `ppk` gives a PuTTY v2 file.
 * `comment` (the key name) goes into the formats that carry one.
 */
export function createKey(keyType: KeyType, format: KeyFormat, comment: string): CreatedKey {
  const der: Buffer =
    keyType === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: RSA_CREATE_BITS, publicExponent: 0x10001, publicKeyEncoding: SPKI_DER, privateKeyEncoding: PKCS8_DER }).privateKey
      : generateKeyPairSync('ed25519', { publicKeyEncoding: SPKI_DER, privateKeyEncoding: PKCS8_DER }).privateKey;
  return keyFrom(keyType, fromDer(der), format, comment);
}

/** createKey with the key made on libuv's thread pool: the event loop goes on meanwhile (RSA takes 50-700 ms). */
export async function generateKey(keyType: KeyType, format: KeyFormat, comment: string): Promise<CreatedKey> {
  const der = await new Promise<Buffer>((resolve, reject) => {
    const done = (err: Error | null, _pub: Buffer, priv: Buffer): void => (err ? reject(err) : resolve(priv));
    if (keyType === 'rsa') generateKeyPair('rsa', { modulusLength: RSA_CREATE_BITS, publicExponent: 0x10001, publicKeyEncoding: SPKI_DER, privateKeyEncoding: PKCS8_DER }, done);
    else generateKeyPair('ed25519', { publicKeyEncoding: SPKI_DER, privateKeyEncoding: PKCS8_DER }, done);
  });
  return keyFrom(keyType, fromDer(der), format, comment);
}

/**
 * Key generation answers DER, and the key is loaded again from it: a KeyObject that key generation
 * handed out shares its lock with the generation job, and node 20 deadlocks when a garbage
 * collection during the key's JWK export destroys that job (its destructor takes the lock the
 * export holds). A key loaded from bytes has a lock of its own.
 */
const SPKI_DER = { type: 'spki', format: 'der' } as const;
const PKCS8_DER = { type: 'pkcs8', format: 'der' } as const;

function fromDer(der: Buffer): KeyObject {
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
}

/** The CreateKeyPair answer for a freshly made private key. */
function keyFrom(keyType: KeyType, privateKey: KeyObject, format: KeyFormat, comment: string): CreatedKey {
  const cmt = oneLine(comment);
  if (keyType === 'rsa') {
    const jwk = privateKey.export({ format: 'jwk' }) as JsonWebKey;
    const n = b64url(jwk.n);
    const e = b64url(jwk.e);
    const publicBlob = rsaPublicBlob(n, e);
    let material: string;
    if (format === 'pem') {
      material = (privateKey.export({ type: 'pkcs1', format: 'pem' }) as string).trimEnd();
    } else {
      // PuTTY's RSA private blob: d, p, q, iqmp (= q^-1 mod p, which is JWK's "qi").
      const privateBlob = Buffer.concat([
        sshMpint(b64url(jwk.d)),
        sshMpint(b64url(jwk.p)),
        sshMpint(b64url(jwk.q)),
        sshMpint(b64url(jwk.qi)),
      ]);
      material = ppk2('ssh-rsa', cmt, publicBlob, privateBlob);
    }
    return {
      keyType,
      privateKeyMaterial: material,
      publicKeyOpenSsh: openSshLine('ssh-rsa', publicBlob),
      fingerprint: rsaCreatedFingerprint(privateKey),
    };
  }
  if (keyType === 'ed25519') {
    const jwk = privateKey.export({ format: 'jwk' }) as JsonWebKey;
    const seed = b64url(jwk.d);
    const pub = b64url(jwk.x);
    const publicBlob = ed25519PublicBlob(pub);
    const material =
      format === 'pem'
        ? openSshPrivateKeyEd25519(seed, pub, cmt)
        : // PuTTY's ED25519 private blob: the 32-byte private key as an SSH string (not an mpint).
          ppk2('ssh-ed25519', cmt, publicBlob, sshString(seed));
    return {
      keyType,
      privateKeyMaterial: material,
      publicKeyOpenSsh: openSshLine('ssh-ed25519', publicBlob),
      fingerprint: ed25519Fingerprint(publicBlob),
    };
  }
  throw new Error(`unknown key type ${String(keyType)}`);
}

// ---------------------------------------------------------------------------
// ImportKeyPair

function importRsa(n: Buffer, e: Buffer): ImportedKey {
  const bits = bitLength(n);
  if (bits < RSA_IMPORT_MIN_BITS || bits > RSA_IMPORT_MAX_BITS) {
    throw new KeyFormatError(
      `${INVALID_KEY_FORMAT_MESSAGE}: RSA key length must be between ${RSA_IMPORT_MIN_BITS} and ${RSA_IMPORT_MAX_BITS} bits`,
    );
  }
  // An RSA modulus is odd, the exponent odd and > 1.
  if (e.length === 0 || (n[n.length - 1]! & 1) === 0 || (e[e.length - 1]! & 1) === 0 || bitLength(e) < 2) {
    throw new KeyFormatError();
  }
  let key: KeyObject;
  try {
    key = createPublicKey({
      key: { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') },
      format: 'jwk',
    });
  } catch {
    throw new KeyFormatError();
  }
  return {
    keyType: 'rsa',
    publicKeyOpenSsh: openSshLine('ssh-rsa', rsaPublicBlob(n, e)),
    fingerprint: rsaImportedFingerprint(key),
  };
}

function importEd25519(pub: Buffer): ImportedKey {
  if (pub.length !== 32) throw new KeyFormatError();
  try {
    createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: pub.toString('base64url') }, format: 'jwk' });
  } catch {
    throw new KeyFormatError();
  }
  const blob = ed25519PublicBlob(pub);
  return {
    keyType: 'ed25519',
    publicKeyOpenSsh: openSshLine('ssh-ed25519', blob),
    fingerprint: ed25519Fingerprint(blob),
  };
}

/** An SSH public key blob (RFC 4253 §6.6); `expectedType` is the algorithm named outside it, if any. */
function importSshBlob(blob: Buffer, expectedType?: string): ImportedKey {
  const r = new SshReader(blob);
  const type = r.string().toString('latin1');
  if (expectedType !== undefined && type !== expectedType) throw new KeyFormatError();
  if (type === 'ssh-rsa') {
    const e = r.mpintUnsigned();
    const n = r.mpintUnsigned();
    if (!r.done) throw new KeyFormatError();
    return importRsa(n, e);
  }
  if (type === 'ssh-ed25519') {
    const pub = r.string();
    if (!r.done) throw new KeyFormatError();
    return importEd25519(pub);
  }
  throw new KeyFormatError(); // ssh-dss, ecdsa-sha2-*, sk-*, certificates, …
}

function importKeyObject(key: KeyObject): ImportedKey {
  if (key.type !== 'public') throw new KeyFormatError();
  if (key.asymmetricKeyType === 'rsa') {
    const jwk = key.export({ format: 'jwk' }) as JsonWebKey;
    return importRsa(b64url(jwk.n), b64url(jwk.e));
  }
  if (key.asymmetricKeyType === 'ed25519') {
    const jwk = key.export({ format: 'jwk' }) as JsonWebKey;
    return importEd25519(b64url(jwk.x));
  }
  throw new KeyFormatError(); // dsa, ec, rsa-pss, x25519, …
}

/** Whether DER bytes parse as a private key (node's createPublicKey would quietly derive its public half). */
function isPrivateDer(der: Buffer): boolean {
  for (const type of ['pkcs8', 'pkcs1', 'sec1'] as const) {
    try {
      createPrivateKey({ key: der, format: 'der', type });
      return true;
    } catch {
      // not this kind
    }
  }
  return false;
}

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

function strictBase64(s: string): Buffer {
  const compact = s.replace(/\s+/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64_RE.test(compact)) throw new KeyFormatError();
  return Buffer.from(compact, 'base64');
}

/** RFC 4716 "SSH2 public key file": header lines (with `\` continuations) then the base64 blob. */
function importRfc4716(text: string): ImportedKey {
  const lines = text.split(/\r?\n|\r/).map((l) => l.trim());
  if (lines[0] !== '---- BEGIN SSH2 PUBLIC KEY ----') throw new KeyFormatError();
  const end = lines.indexOf('---- END SSH2 PUBLIC KEY ----');
  if (end < 0 || lines.slice(end + 1).some((l) => l !== '')) throw new KeyFormatError();
  const inner = lines.slice(1, end);
  let i = 0;
  // Header lines: "Tag: value", continued onto the next line while one ends with a backslash.
  while (i < inner.length && /^[\x21-\x39\x3b-\x7e]{1,64}:/.test(inner[i]!)) {
    while (i < inner.length && inner[i]!.endsWith('\\')) i++;
    i++;
  }
  return importSshBlob(strictBase64(inner.slice(i).join('')));
}

/** Labels of PEM blocks that hold a public key we can read. */
const PUBLIC_PEM = /^-----BEGIN (RSA )?PUBLIC KEY-----\r?\n[\s\S]*\r?\n-----END (RSA )?PUBLIC KEY-----$/;

function tryDer(der: Buffer): ImportedKey | undefined {
  if (der.length < 2 || der[0] !== 0x30) return undefined;
  if (isPrivateDer(der)) throw new KeyFormatError();
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch {
    try {
      key = createPublicKey({ key: der, format: 'der', type: 'pkcs1' });
    } catch {
      return undefined;
    }
  }
  return importKeyObject(key);
}

/**
 * Read public key material as ImportKeyPair does (the bytes after the API's own base64 is undone).
 * Accepts an OpenSSH public key line, an RFC 4716 SSH2 public key file, and PEM or DER
 * SubjectPublicKeyInfo (or PKCS#1 RSAPublicKey), also DER as base64 text. Only RSA (1024–4096 bits)
 * and ED25519 keys are accepted; anything else throws KeyFormatError.
 */
export function importPublicKey(material: Buffer): ImportedKey {
  if (material.length === 0 || material.length > 16384) throw new KeyFormatError();

  // Raw DER SubjectPublicKeyInfo.
  const der = tryDer(material);
  if (der) return der;

  const text = material.toString('utf8').trim();
  if (text.length === 0 || text.includes('\uFFFD') || text.includes('\0')) throw new KeyFormatError();
  if (/PRIVATE KEY|PuTTY-User-Key-File/.test(text)) throw new KeyFormatError();

  if (text.startsWith('---- BEGIN SSH2 PUBLIC KEY ----')) return importRfc4716(text);

  if (text.startsWith('-----BEGIN ')) {
    if (!PUBLIC_PEM.test(text)) throw new KeyFormatError();
    let key: KeyObject;
    try {
      key = createPublicKey({ key: text, format: 'pem' });
    } catch {
      throw new KeyFormatError();
    }
    return importKeyObject(key);
  }

  // OpenSSH: "<algorithm> <base64 blob> [comment]", on one line.
  if (/[\r\n]/.test(text)) throw new KeyFormatError();
  const m = /^(\S+)[ \t]+(\S+)(?:[ \t].*)?$/.exec(text);
  if (m) {
    const algorithm = m[1]!;
    const b64 = m[2]!;
    if (algorithm === 'ssh-rsa' || algorithm === 'ssh-ed25519') return importSshBlob(strictBase64(b64), algorithm);
    throw new KeyFormatError();
  }

  // Base64 text of a DER SubjectPublicKeyInfo.
  if (BASE64_RE.test(text)) {
    const fromB64 = tryDer(strictBase64(text));
    if (fromB64) return fromB64;
  }
  throw new KeyFormatError();
}
