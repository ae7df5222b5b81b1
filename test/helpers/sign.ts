/** Builds SigV4-signed raw EC2 Query requests with @smithy/signature-v4, for tests and benchmarks that bypass the SDK. */
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { DEFAULT_CREDENTIAL, type Credential } from '../../src/config.js';

export class NodeSha256 {
  private h: Hash | Hmac;
  private readonly secret?: string | Uint8Array;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : secret instanceof ArrayBuffer
          ? new Uint8Array(secret)
          : new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
    this.h = this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    if (typeof data === 'string') this.h.update(data);
    else if (data instanceof ArrayBuffer) this.h.update(new Uint8Array(data));
    else this.h.update(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.secret ? createHmac('sha256', this.secret) : createHash('sha256');
  }
}

export interface RawRequest {
  method: 'POST' | 'GET';
  path: string;
  headers: Record<string, string>;
  body: string;
}

export function formBody(params: Record<string, string>): string {
  return new URLSearchParams({ Version: '2016-11-15', ...params }).toString();
}

/** A signed POST of form parameters (or of a raw body) to `url`. */
export async function signedRequest(
  url: string,
  body: string,
  opts: {
    region?: string; credential?: Credential; contentType?: string; date?: Date; query?: Record<string, string>;
    /** the SigV4 service name (default ec2) */
    service?: string;
    /** more headers to sign (X-Amz-Target…) */
    headers?: Record<string, string>;
  } = {},
): Promise<RawRequest> {
  const u = new URL(url);
  const signer = new SignatureV4({
    credentials: opts.credential ?? DEFAULT_CREDENTIAL,
    region: opts.region ?? 'us-east-1',
    service: opts.service ?? 'ec2',
    sha256: NodeSha256,
  });
  const method = opts.query ? 'GET' : 'POST';
  const req = new HttpRequest({
    method,
    query: opts.query,
    protocol: 'http:',
    hostname: u.hostname,
    port: Number(u.port),
    path: '/',
    headers: opts.query
      ? { host: u.host }
      : { host: u.host, 'content-type': opts.contentType ?? 'application/x-www-form-urlencoded; charset=utf-8', ...opts.headers },
    body: opts.query ? undefined : body,
  });
  const signed = await signer.sign(req, opts.date ? { signingDate: opts.date } : {});
  const path = opts.query ? `/?${new URLSearchParams(opts.query).toString().replace(/\+/g, '%20')}` : '/';
  return { method, path, headers: signed.headers as Record<string, string>, body: opts.query ? '' : body };
}

export interface RawResponse {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** Sends a raw request and collects the response. */
export function send(url: string, r: RawRequest): Promise<RawResponse> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: u.hostname, port: Number(u.port), method: r.method, path: r.path, headers: { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(r.body);
  });
}

/** Error code in an EC2 error document. */
export function errorCode(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}
