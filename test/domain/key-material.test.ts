import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { createKey, importPublicKey, KeyFormatError } from '../../src/domain/key-material.js';
import { opensslDigestColon, run, runText } from '../helpers/tools.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'overcast-keys-'));
});
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

let fileNo = 0;
/** Write `content` to a fresh 0600 file in the temp dir (ssh-keygen refuses readable private keys). */
function tmpFile(content: string | Buffer, suffix = ''): string {
  const p = join(dir, `f${++fileNo}${suffix}`);
  writeFileSync(p, content, { mode: 0o600 });
  return p;
}


/** A fresh key made by ssh-keygen; returns the private key path (the public key is `${path}.pub`). */
function sshKeygen(type: string, bits?: number): string {
  const p = join(dir, `k${++fileNo}`);
  run('ssh-keygen', ['-q', '-t', type, ...(bits ? ['-b', String(bits)] : []), '-N', '', '-C', 'someone@example', '-f', p]);
  return p;
}

/** "type base64 [comment]" → "type base64". */
const firstTwo = (line: string): string => line.trim().split(/\s+/).slice(0, 2).join(' ');

/** Hash part of `ssh-keygen -l -E sha256` ("256 SHA256:xxxx comment (ED25519)"). */
function sshKeygenSha256(path: string): string {
  const out = runText('ssh-keygen', ['-l', '-E', 'sha256', '-f', path]);
  const m = /SHA256:([A-Za-z0-9+/]+)/.exec(out);
  assert.ok(m, `unexpected ssh-keygen output ${out}`);
  return m[1]!;
}

// --- independent SSH wire decoding for the checks below ---
function readSsh(buf: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    parts.push(buf.subarray(pos + 4, pos + 4 + len));
    pos += 4 + len;
  }
  assert.equal(pos, buf.length, 'SSH encoding overran');
  return parts;
}
const big = (b: Buffer): bigint => (b.length === 0 ? 0n : BigInt('0x' + b.toString('hex')));
const sshStr = (b: Buffer | string): Buffer => {
  const d = Buffer.from(b);
  const l = Buffer.alloc(4);
  l.writeUInt32BE(d.length);
  return Buffer.concat([l, d]);
};

/** Verify the private key actually signs: sign with ssh-keygen -Y and check the signature. */
function assertSshSigns(privPath: string, publicKeyOpenSsh: string): void {
  writeFileSync(`${privPath}.pub`, publicKeyOpenSsh + '\n'); // ssh-keygen -Y sign reads the public half from here
  const data = tmpFile('data to sign\n');
  run('ssh-keygen', ['-Y', 'sign', '-q', '-f', privPath, '-n', 'file', data]);
  const out = runText('ssh-keygen', ['-Y', 'check-novalidate', '-n', 'file', '-s', `${data}.sig`], readFileSync(data));
  assert.match(out, /Good "file" signature/);
}

/** Ed25519 public key bytes derived by node from a 32-byte seed. */
function ed25519PubFromSeed(seed: Buffer): Buffer {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
  const spki = createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({
    type: 'spki',
    format: 'der',
  });
  return spki.subarray(spki.length - 32);
}

function hasPuttygen(): boolean {
  try {
    execFileSync('puttygen', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Parse a PuTTY-User-Key-File-2 and check its structure and MAC. */
function checkPpk2(text: string, algorithm: string, comment: string): { pub: Buffer; priv: Buffer } {
  const lines = text.split('\n');
  assert.equal(lines[0], `PuTTY-User-Key-File-2: ${algorithm}`);
  assert.equal(lines[1], 'Encryption: none');
  assert.equal(lines[2], `Comment: ${comment}`);
  const pm = /^Public-Lines: (\d+)$/.exec(lines[3]!);
  assert.ok(pm);
  const np = Number(pm[1]);
  const pubLines = lines.slice(4, 4 + np);
  const vm = /^Private-Lines: (\d+)$/.exec(lines[4 + np]!);
  assert.ok(vm);
  const nv = Number(vm[1]);
  const privLines = lines.slice(5 + np, 5 + np + nv);
  const mm = /^Private-MAC: ([0-9a-f]{40})$/.exec(lines[5 + np + nv]!);
  assert.ok(mm);
  assert.deepEqual(lines.slice(6 + np + nv), [''], 'file ends after Private-MAC and its newline');
  for (const l of [...pubLines.slice(0, -1), ...privLines.slice(0, -1)]) assert.equal(l.length, 64);
  for (const l of [...pubLines, ...privLines]) assert.match(l, /^[A-Za-z0-9+/=]{1,64}$/);
  const pub = Buffer.from(pubLines.join(''), 'base64');
  const priv = Buffer.from(privLines.join(''), 'base64');
  const macKey = createHash('sha1').update('putty-private-key-file-mac-key').digest();
  const mac = createHmac('sha1', macKey)
    .update(Buffer.concat([sshStr(algorithm), sshStr('none'), sshStr(comment), sshStr(pub), sshStr(priv)]))
    .digest('hex');
  assert.equal(mm[1], mac, 'Private-MAC');
  return { pub, priv };
}

function assertRejected(material: Buffer | string): void {
  assert.throws(
    () => importPublicKey(Buffer.isBuffer(material) ? material : Buffer.from(material)),
    (e: unknown) =>
      e instanceof KeyFormatError && /Key is not in valid OpenSSH public key format/.test(e.message),
  );
}

describe('createKey rsa pem', () => {
  const key = createKey('rsa', 'pem', 'my-key');

  it('is a 2048-bit PKCS#1 PEM that node loads', () => {
    assert.equal(key.keyType, 'rsa');
    assert.match(key.privateKeyMaterial, /^-----BEGIN RSA PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END RSA PRIVATE KEY-----$/);
    const k = createPrivateKey(key.privateKeyMaterial);
    assert.equal(k.asymmetricKeyType, 'rsa');
    assert.equal(k.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(k.asymmetricKeyDetails?.publicExponent, 65537n);
  });

  it('ssh-keygen -y derives the same public key as publicKeyOpenSsh', () => {
    const p = tmpFile(key.privateKeyMaterial);
    assert.match(key.publicKeyOpenSsh, /^ssh-rsa AAAAB3NzaC1yc2E[A-Za-z0-9+/=]+$/);
    assert.equal(firstTwo(runText('ssh-keygen', ['-y', '-f', p])), key.publicKeyOpenSsh);
    assertSshSigns(p, key.publicKeyOpenSsh);
  });

  it('fingerprint is SHA-1 of the PKCS#8 DER private key, as openssl computes it', () => {
    const p = tmpFile(key.privateKeyMaterial);
    const pkcs8 = run('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', p, '-outform', 'DER']);
    const expected = opensslDigestColon('sha1', pkcs8);
    assert.match(expected, /^([0-9a-f]{2}:){19}[0-9a-f]{2}$/);
    assert.equal(key.fingerprint, expected);
  });

  it('re-importing its public key gives the MD5 SubjectPublicKeyInfo fingerprint openssl computes', () => {
    const p = tmpFile(key.privateKeyMaterial);
    const spki = run('openssl', ['rsa', '-in', p, '-pubout', '-outform', 'DER']);
    const expected = opensslDigestColon('md5', spki);
    const imported = importPublicKey(Buffer.from(key.publicKeyOpenSsh));
    assert.equal(imported.keyType, 'rsa');
    assert.equal(imported.fingerprint, expected);
    assert.match(imported.fingerprint, /^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    assert.notEqual(imported.fingerprint, key.fingerprint);
    assert.equal(imported.publicKeyOpenSsh, key.publicKeyOpenSsh);
  });

  it('makes a different key each time', () => {
    const other = createKey('rsa', 'pem', 'my-key');
    assert.notEqual(other.publicKeyOpenSsh, key.publicKeyOpenSsh);
    assert.notEqual(other.fingerprint, key.fingerprint);
  });
});

describe('createKey ed25519 pem', () => {
  const key = createKey('ed25519', 'pem', 'ed-key');

  it('is an openssh-key-v1 file that ssh-keygen loads, with the same public key', () => {
    assert.equal(key.keyType, 'ed25519');
    assert.match(key.privateKeyMaterial, /^-----BEGIN OPENSSH PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+\n-----END OPENSSH PRIVATE KEY-----\n$/);
    assert.match(key.publicKeyOpenSsh, /^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI[A-Za-z0-9+/=]+$/);
    const p = tmpFile(key.privateKeyMaterial);
    const out = runText('ssh-keygen', ['-y', '-f', p]).trim();
    assert.equal(firstTwo(out), key.publicKeyOpenSsh);
    assert.equal(out, `${key.publicKeyOpenSsh} ed-key`, 'comment is the key name');
    assertSshSigns(p, key.publicKeyOpenSsh);
  });

  it('has cipher none, matching checkints, a seed that yields the public key, and 1,2,3… padding', () => {
    const b64 = key.privateKeyMaterial.split('\n').slice(1, -2);
    for (const l of b64.slice(0, -1)) assert.equal(l.length, 70);
    const blob = Buffer.from(b64.join(''), 'base64');
    const magic = Buffer.from('openssh-key-v1\0', 'latin1');
    assert.deepEqual(blob.subarray(0, magic.length), magic);
    const [cipher, kdf, kdfOpts, , ...rest] = (() => {
      // cipher, kdf, kdfoptions, then uint32 nkeys (read as raw), pub, priv
      const b = blob.subarray(magic.length);
      let pos = 0;
      const str = (): Buffer => {
        const len = b.readUInt32BE(pos);
        const v = b.subarray(pos + 4, pos + 4 + len);
        pos += 4 + len;
        return v;
      };
      const c = str();
      const k = str();
      const o = str();
      const n = b.readUInt32BE(pos);
      pos += 4;
      const pub = str();
      const priv = str();
      assert.equal(pos, b.length);
      return [c, k, o, Buffer.from([n]), pub, priv];
    })();
    assert.equal(cipher!.toString(), 'none');
    assert.equal(kdf!.toString(), 'none');
    assert.equal(kdfOpts!.length, 0);
    const [pubBlob, priv] = rest as [Buffer, Buffer];
    assert.equal(pubBlob.toString('base64'), key.publicKeyOpenSsh.split(' ')[1]);
    assert.equal(priv.length % 8, 0);
    assert.equal(priv.readUInt32BE(0), priv.readUInt32BE(4), 'checkints');
    let pos = 8;
    const str = (): Buffer => {
      const len = priv.readUInt32BE(pos);
      const v = priv.subarray(pos + 4, pos + 4 + len);
      pos += 4 + len;
      return v;
    };
    assert.equal(str().toString(), 'ssh-ed25519');
    const pub = str();
    const sk = str();
    assert.equal(str().toString(), 'ed-key');
    const pad = priv.subarray(pos);
    assert.ok(pad.length < 8);
    pad.forEach((v, i) => assert.equal(v, i + 1));
    assert.equal(pub.length, 32);
    assert.equal(sk.length, 64);
    assert.deepEqual(sk.subarray(32), pub);
    assert.deepEqual(ed25519PubFromSeed(sk.subarray(0, 32)), pub);
  });

  it('fingerprint is the padded base64 SHA-256 that ssh-keygen -l -E sha256 shows (without padding)', () => {
    assert.match(key.fingerprint, /^[A-Za-z0-9+/]{43}=$/);
    const p = tmpFile(key.privateKeyMaterial);
    assert.equal(key.fingerprint.replace(/=+$/, ''), sshKeygenSha256(p));
    const pubFile = tmpFile(key.publicKeyOpenSsh + '\n');
    assert.equal(key.fingerprint.replace(/=+$/, ''), sshKeygenSha256(pubFile));
  });

  it('re-importing its public key gives the same fingerprint', () => {
    const imported = importPublicKey(Buffer.from(key.publicKeyOpenSsh + ' a comment\n'));
    assert.deepEqual(imported, { keyType: 'ed25519', publicKeyOpenSsh: key.publicKeyOpenSsh, fingerprint: key.fingerprint });
  });
});

describe('createKey ppk', () => {
  it('rsa: PuTTY v2 file with correct MAC and consistent d, p, q, iqmp', () => {
    const key = createKey('rsa', 'ppk', 'putty-rsa');
    const { pub, priv } = checkPpk2(key.privateKeyMaterial, 'ssh-rsa', 'putty-rsa');
    assert.equal(pub.toString('base64'), key.publicKeyOpenSsh.split(' ')[1]);
    const [type, eB, nB] = readSsh(pub) as [Buffer, Buffer, Buffer];
    assert.equal(type.toString(), 'ssh-rsa');
    const e = big(eB);
    const n = big(nB);
    assert.equal(e, 65537n);
    assert.equal(n.toString(2).length, 2048);
    const [dB, pB, qB, iqmpB] = readSsh(priv) as [Buffer, Buffer, Buffer, Buffer];
    for (const m of [dB, pB, qB, iqmpB]) {
      assert.ok((m[0]! & 0x80) === 0, 'mpint is positive');
      assert.ok(m[0] !== 0 || (m[1]! & 0x80) !== 0, 'mpint is minimal');
    }
    const [d, p, q, iqmp] = [big(dB), big(pB), big(qB), big(iqmpB)];
    assert.equal(p * q, n);
    assert.equal((iqmp * q) % p, 1n, 'iqmp = q^-1 mod p');
    const msg = 0x1234567890abcdefn;
    const modpow = (b: bigint, x: bigint, m: bigint): bigint => {
      let r = 1n;
      b %= m;
      while (x > 0n) {
        if (x & 1n) r = (r * b) % m;
        b = (b * b) % m;
        x >>= 1n;
      }
      return r;
    };
    assert.equal(modpow(modpow(msg, e, n), d, n), msg, 'd inverts e');
    // Fingerprint is still the SHA-1 of the PKCS#8 private key: rebuild it from the ppk's numbers.
    const b64u = (x: bigint): string => {
      let h = x.toString(16);
      if (h.length % 2) h = '0' + h;
      return Buffer.from(h, 'hex').toString('base64url');
    };
    const nodeKey = createPrivateKey({
      key: {
        kty: 'RSA',
        n: b64u(n),
        e: b64u(e),
        d: b64u(d),
        p: b64u(p),
        q: b64u(q),
        dp: b64u(d % (p - 1n)),
        dq: b64u(d % (q - 1n)),
        qi: b64u(iqmp),
      },
      format: 'jwk',
    });
    const pem = tmpFile(nodeKey.export({ type: 'pkcs1', format: 'pem' }));
    const pkcs8 = run('openssl', ['pkcs8', '-topk8', '-nocrypt', '-in', pem, '-outform', 'DER']);
    assert.equal(key.fingerprint, opensslDigestColon('sha1', pkcs8));
  });

  it('ed25519: PuTTY v2 file with correct MAC; private blob is the 32-byte key as an SSH string', () => {
    const key = createKey('ed25519', 'ppk', 'putty-ed');
    const { pub, priv } = checkPpk2(key.privateKeyMaterial, 'ssh-ed25519', 'putty-ed');
    assert.equal(pub.toString('base64'), key.publicKeyOpenSsh.split(' ')[1]);
    const [type, pk] = readSsh(pub) as [Buffer, Buffer];
    assert.equal(type.toString(), 'ssh-ed25519');
    const [seed, ...extra] = readSsh(priv);
    assert.equal(extra.length, 0);
    assert.equal(seed!.length, 32);
    assert.deepEqual(ed25519PubFromSeed(seed!), pk);
    assert.equal(key.fingerprint, createHash('sha256').update(pub).digest('base64'));
  });

  it('puttygen (if installed) loads both and agrees on the public key and fingerprint', (t) => {
    if (!hasPuttygen()) {
      t.skip('puttygen not installed');
      return;
    }
    for (const type of ['rsa', 'ed25519'] as const) {
      const key = createKey(type, 'ppk', `pg-${type}`);
      const ppk = tmpFile(key.privateKeyMaterial, '.ppk');
      const pubOut = join(dir, `pg-${type}.pub`);
      run('puttygen', [ppk, '-O', 'public-openssh', '-o', pubOut]);
      assert.equal(firstTwo(readFileSync(pubOut, 'utf8')), key.publicKeyOpenSsh);
      const privOut = join(dir, `pg-${type}.key`);
      run('puttygen', [ppk, '-O', 'private-openssh-new', '-o', privOut]);
      assert.equal(firstTwo(runText('ssh-keygen', ['-y', '-f', privOut])), key.publicKeyOpenSsh);
      assertSshSigns(privOut, key.publicKeyOpenSsh);
      // And puttygen reads our pem too.
      const pemKey = createKey(type, 'pem', `pg-${type}`);
      const pem = tmpFile(pemKey.privateKeyMaterial);
      const pemPub = join(dir, `pg-pem-${type}.pub`);
      run('puttygen', [pem, '-O', 'public-openssh', '-o', pemPub]);
      assert.equal(firstTwo(readFileSync(pemPub, 'utf8')), pemKey.publicKeyOpenSsh);
    }
  });
});

describe('importPublicKey', () => {
  it('imports an ssh-keygen rsa key in OpenSSH, RFC 4716, PEM, PKCS#1 and DER forms with the same MD5 fingerprint', () => {
    const k = sshKeygen('rsa', 2048);
    const pubLine = readFileSync(`${k}.pub`, 'utf8');
    const spkiPem = runText('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', `${k}.pub`]);
    const spkiDer = run('openssl', ['pkey', '-pubin', '-outform', 'DER'], spkiPem);
    const expected = opensslDigestColon('md5', spkiDer);
    const rfc4716 = runText('ssh-keygen', ['-e', '-f', `${k}.pub`]);
    assert.match(rfc4716, /^---- BEGIN SSH2 PUBLIC KEY ----\nComment: /);
    const pkcs1Pem = runText('ssh-keygen', ['-e', '-m', 'PEM', '-f', `${k}.pub`]);
    assert.match(pkcs1Pem, /BEGIN RSA PUBLIC KEY/);
    const forms: Array<[string, Buffer]> = [
      ['openssh', Buffer.from(pubLine)],
      ['openssh crlf', Buffer.from(pubLine.trim() + '\r\n')],
      ['rfc4716', Buffer.from(rfc4716)],
      ['rfc4716 crlf', Buffer.from(rfc4716.replace(/\n/g, '\r\n'))],
      ['spki pem', Buffer.from(spkiPem)],
      ['pkcs1 pem', Buffer.from(pkcs1Pem)],
      ['spki der', spkiDer],
      ['spki der base64', Buffer.from(spkiDer.toString('base64'))],
    ];
    for (const [name, material] of forms) {
      const got = importPublicKey(material);
      assert.deepEqual(
        got,
        { keyType: 'rsa', publicKeyOpenSsh: firstTwo(pubLine), fingerprint: expected },
        `form ${name}`,
      );
    }
  });

  it('imports an RFC 4716 file with a continued header line', () => {
    const k = sshKeygen('ed25519');
    const pubLine = readFileSync(`${k}.pub`, 'utf8');
    const body = pubLine.split(' ')[1]!;
    const text = [
      '---- BEGIN SSH2 PUBLIC KEY ----',
      'Comment: "a very long comment that goes on \\',
      'and on"',
      'x-private-header: 1',
      ...(body.match(/.{1,70}/g) ?? []),
      '---- END SSH2 PUBLIC KEY ----',
      '',
    ].join('\n');
    assert.equal(importPublicKey(Buffer.from(text)).publicKeyOpenSsh, firstTwo(pubLine));
  });

  it('imports ssh-keygen ed25519 keys with the SHA-256 fingerprint ssh-keygen shows, padded', () => {
    const k = sshKeygen('ed25519');
    const pubLine = readFileSync(`${k}.pub`, 'utf8');
    const expected = sshKeygenSha256(`${k}.pub`) + '=';
    const got = importPublicKey(Buffer.from(pubLine));
    assert.deepEqual(got, { keyType: 'ed25519', publicKeyOpenSsh: firstTwo(pubLine), fingerprint: expected });
    const rfc = importPublicKey(run('ssh-keygen', ['-e', '-f', `${k}.pub`]));
    assert.deepEqual(rfc, got);
  });

  it('accepts RSA 1024 and 4096 bits', () => {
    for (const bits of [1024, 4096]) {
      const k = sshKeygen('rsa', bits);
      const pubLine = readFileSync(`${k}.pub`, 'utf8');
      assert.equal(importPublicKey(Buffer.from(pubLine)).publicKeyOpenSsh, firstTwo(pubLine), `${bits} bits`);
    }
  });

  /** An ssh-rsa line for a modulus of exactly `bits` bits (not a real key: the size check comes first). */
  function fakeRsaLine(bits: number): string {
    const bytes = randomBytes(Math.ceil(bits / 8));
    const extra = bytes.length * 8 - bits;
    bytes[0] = (bytes[0]! & (0xff >> extra)) | (0x80 >> extra);
    bytes[bytes.length - 1]! |= 1;
    const mp = (b: Buffer): Buffer => sshStr(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
    const blob = Buffer.concat([sshStr('ssh-rsa'), mp(Buffer.from([1, 0, 1])), mp(bytes)]);
    return `ssh-rsa ${blob.toString('base64')} fake`;
  }

  it('rejects RSA keys under 1024 or over 4096 bits', () => {
    assert.doesNotThrow(() => importPublicKey(Buffer.from(fakeRsaLine(1024))));
    assert.doesNotThrow(() => importPublicKey(Buffer.from(fakeRsaLine(4096))));
    assertRejected(fakeRsaLine(1023));
    assertRejected(fakeRsaLine(4097));
    assertRejected(fakeRsaLine(8192));
    const small = generateKeyPairSync('rsa', { modulusLength: 768 }).publicKey;
    assertRejected(small.export({ type: 'spki', format: 'der' }));
    assertRejected(small.export({ type: 'spki', format: 'pem' }) as string);
  });

  it('rejects DSA and ECDSA keys in every form', () => {
    const forms = (k: string): Buffer[] => [
      readFileSync(`${k}.pub`),
      run('ssh-keygen', ['-e', '-f', `${k}.pub`]),
      run('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', `${k}.pub`]),
    ];
    let dsa: string | undefined;
    try {
      dsa = sshKeygen('dsa');
    } catch {
      // this OpenSSH was built without DSA; fall back to a node-made DSA key below
    }
    const ecdsa = sshKeygen('ecdsa', 256);
    for (const m of [...(dsa ? forms(dsa) : []), ...forms(ecdsa)]) assertRejected(m);
    const nodeDsa = generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 }).publicKey;
    assertRejected(nodeDsa.export({ type: 'spki', format: 'der' }));
    assertRejected(nodeDsa.export({ type: 'spki', format: 'pem' }) as string);
    const nodeEc = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey;
    assertRejected(nodeEc.export({ type: 'spki', format: 'der' }));
  });

  it('rejects private keys', () => {
    const rsa = createKey('rsa', 'pem', 'x');
    const ed = createKey('ed25519', 'pem', 'x');
    assertRejected(rsa.privateKeyMaterial);
    assertRejected(ed.privateKeyMaterial);
    assertRejected(createKey('ed25519', 'ppk', 'x').privateKeyMaterial);
    assertRejected(createPrivateKey(rsa.privateKeyMaterial).export({ type: 'pkcs8', format: 'pem' }) as string);
    assertRejected(createPrivateKey(rsa.privateKeyMaterial).export({ type: 'pkcs8', format: 'der' }));
    assertRejected(readFileSync(sshKeygen('ed25519')));
  });

  it('rejects garbage and malformed keys', () => {
    const ed = createKey('ed25519', 'pem', 'x').publicKeyOpenSsh;
    const rsa = createKey('rsa', 'pem', 'x').publicKeyOpenSsh;
    const edBlob = Buffer.from(ed.split(' ')[1]!, 'base64');
    const rsaBlob = Buffer.from(rsa.split(' ')[1]!, 'base64');
    const cases: Array<Buffer | string> = [
      '',
      '   \n',
      'hello world',
      'ssh-rsa',
      'ssh-rsa not*base64!',
      'ssh-rsa AAAA',
      `ssh-rsa ${edBlob.toString('base64')}`, // outer/inner type mismatch
      `ssh-ed25519 ${rsaBlob.toString('base64')}`,
      `ssh-rsa ${rsaBlob.subarray(0, rsaBlob.length - 10).toString('base64')}`, // truncated
      `ssh-rsa ${Buffer.concat([rsaBlob, Buffer.from([0, 0, 0, 0])]).toString('base64')}`, // trailing data
      `ssh-ed25519 ${Buffer.concat([sshStr('ssh-ed25519'), sshStr(randomBytes(31))]).toString('base64')}`,
      `ssh-dss ${rsaBlob.toString('base64')}`,
      `${ed}\n${ed}`, // two keys
      '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
      '---- BEGIN SSH2 PUBLIC KEY ----\nAAAA\n---- END SSH2 PUBLIC KEY ----',
      '---- BEGIN SSH2 PUBLIC KEY ----\n' + rsaBlob.toString('base64'), // no END line
      randomBytes(300),
      Buffer.from([0x30, 0x82, 0x01, 0x22, 0x30]),
    ];
    for (const c of cases) assertRejected(c);
  });

  it('normalizes the OpenSSH line: no comment, canonical base64 of a canonical blob', () => {
    const k = sshKeygen('rsa', 2048);
    const pubLine = readFileSync(`${k}.pub`, 'utf8');
    const got = importPublicKey(Buffer.from(`  ${pubLine.trim()}   with a long comment  \n\n`));
    assert.equal(got.publicKeyOpenSsh, firstTwo(pubLine));
    assert.doesNotMatch(got.publicKeyOpenSsh, /someone/);
  });
});
