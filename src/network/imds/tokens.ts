/**
 * IMDSv2 session tokens: opaque, bound to one instance (VPC, private IP and
 * instance id) and expiring. Stateless — an HMAC under a secret the service
 * makes when it starts — so no table grows with the tokens handed out; a
 * restart invalidates them, and the SDKs ask for a new one on the 401.
 *
 * Layout (base64): version byte 1, expiry (ms since epoch, 8 bytes), 8 random
 * bytes, HMAC-SHA256 of those and the instance's identity (32 bytes).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const MIN_TOKEN_TTL_SECONDS = 1;
export const MAX_TOKEN_TTL_SECONDS = 21_600;

const VERSION = 1;
const HEAD = 1 + 8 + 8;
const LENGTH = HEAD + 32;

/** Who a token is for. */
export interface TokenSubject {
  vpcId: string;
  privateIp: string;
  instanceId: string;
}

export class TokenIssuer {
  private readonly secret: Buffer;

  constructor(
    private readonly now: () => number,
    secret: Buffer = randomBytes(32),
  ) {
    this.secret = secret;
  }

  /** A token for `subject`, valid for `ttlSeconds` from now. */
  issue(subject: TokenSubject, ttlSeconds: number): string {
    const head = Buffer.alloc(HEAD);
    head.writeUInt8(VERSION, 0);
    head.writeBigUInt64BE(BigInt(Math.floor(this.now() + ttlSeconds * 1000)), 1);
    randomBytes(8).copy(head, 9);
    return Buffer.concat([head, this.mac(head, subject)]).toString('base64');
  }

  /**
   * The seconds the token has left (at least 1) when it is a token of this
   * service for `subject` and has not expired; undefined otherwise.
   */
  check(token: string, subject: TokenSubject): number | undefined {
    if (token.length > 128 || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
    const raw = Buffer.from(token, 'base64');
    if (raw.length !== LENGTH || raw.readUInt8(0) !== VERSION) return undefined;
    const head = raw.subarray(0, HEAD);
    if (!timingSafeEqual(raw.subarray(HEAD), this.mac(head, subject))) return undefined;
    const left = Number(raw.readBigUInt64BE(1)) - this.now();
    return left > 0 ? Math.max(1, Math.ceil(left / 1000)) : undefined;
  }

  private mac(head: Buffer, s: TokenSubject): Buffer {
    return createHmac('sha256', this.secret).update(head).update(`\0${s.vpcId}\0${s.privateIp}\0${s.instanceId}`).digest();
  }
}

/** The TTL header's value as EC2 accepts it (a whole number of seconds, 1–21600), or undefined. */
export function parseTokenTtl(value: string | string[] | undefined): number | undefined {
  if (typeof value !== 'string' || !/^\d{1,6}$/.test(value.trim())) return undefined;
  const n = Number(value.trim());
  return n >= MIN_TOKEN_TTL_SECONDS && n <= MAX_TOKEN_TTL_SECONDS ? n : undefined;
}
