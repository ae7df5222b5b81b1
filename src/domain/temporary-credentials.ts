/**
 * Temporary credentials (an instance profile role's, as the metadata service
 * hands them out) that the endpoint can verify without keeping them: the
 * access key id carries its expiry, the secret and the session token are MACs
 * of the key id under one server key. AWS's shapes: `ASIA` and 16 base-32
 * characters, a 40-character secret, a long opaque token.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  token: string;
  /** ISO-8601 */
  expiration: string;
}

/** Credentials are handed out for a window of an hour and last six (as EC2's role credentials do, about). */
export const ROTATION_MS = 60 * 60 * 1000;
export const LIFETIME_MS = 6 * 60 * 60 * 1000;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(bytes: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

function unbase32(text: string): Buffer | undefined {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of text) {
    const v = BASE32.indexOf(c);
    if (v < 0) return undefined;
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

const mac = (key: string, what: string, keyId: string): Buffer => createHmac('sha256', key).update(`${what}\n${keyId}`).digest();

/**
 * The credentials of `principal` (e.g. an instance and its role) for the
 * rotation window `now` falls in: the same within a window, new in the next.
 */
export function mintCredentials(serverKey: string, principal: string, nowMs: number): TemporaryCredentials {
  const window = Math.floor(nowMs / ROTATION_MS);
  const expiresMs = window * ROTATION_MS + LIFETIME_MS;
  const id = Buffer.alloc(10);
  id.writeUInt32BE(Math.floor(expiresMs / 1000), 0);
  createHmac('sha256', serverKey).update(`key\n${principal}\n${window}`).digest().copy(id, 4, 0, 6);
  const accessKeyId = `ASIA${base32(id)}`;
  return {
    accessKeyId,
    secretAccessKey: mac(serverKey, 'secret', accessKeyId).toString('base64').slice(0, 40),
    token: `IQoJb3JpZ2luX2Vj${mac(serverKey, 'token', accessKeyId).toString('base64')}${Buffer.from(principal).toString('base64')}`,
    expiration: new Date(expiresMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

/**
 * The secret of a temporary access key, when the key is one of ours, has not
 * expired, and comes with its session token; undefined otherwise.
 */
export function temporarySecret(serverKey: string, accessKeyId: string, token: string | undefined, nowMs: number): string | undefined {
  if (!/^ASIA[A-Z2-7]{16}$/.test(accessKeyId) || token === undefined) return undefined;
  const id = unbase32(accessKeyId.slice(4));
  if (!id || id.length < 4 || id.readUInt32BE(0) * 1000 <= nowMs) return undefined;
  const expected = `IQoJb3JpZ2luX2Vj${mac(serverKey, 'token', accessKeyId).toString('base64')}`;
  const given = Buffer.from(token.slice(0, expected.length));
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) return undefined;
  return mac(serverKey, 'secret', accessKeyId).toString('base64').slice(0, 40);
}
