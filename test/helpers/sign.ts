/** Builds SigV4-signed raw EC2 Query requests with @smithy/signature-v4, for tests and benchmarks that bypass the SDK. */
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { DEFAULT_CREDENTIAL, type Credential } from '../../src/config.js';

class NodeSha256 {
  private h: Hash | Hmac;
  constructor(private readonly secret?: string | Uint8Array) {
    this.h = secret ? createHmac('sha256', secret) : createHash('sha256');
  }
  update(data: string | Uint8Array): void {
    this.h.update(data);
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
  opts: { region?: string; credential?: Credential; contentType?: string; date?: Date } = {},
): Promise<RawRequest> {
  const u = new URL(url);
  const signer = new SignatureV4({
    credentials: opts.credential ?? DEFAULT_CREDENTIAL,
    region: opts.region ?? 'us-east-1',
    service: 'ec2',
    sha256: NodeSha256,
  });
  const req = new HttpRequest({
    method: 'POST',
    protocol: 'http:',
    hostname: u.hostname,
    port: Number(u.port),
    path: '/',
    headers: {
      host: u.host,
      'content-type': opts.contentType ?? 'application/x-www-form-urlencoded; charset=utf-8',
    },
    body,
  });
  const signed = await signer.sign(req, opts.date ? { signingDate: opts.date } : {});
  return { method: 'POST', path: '/', headers: signed.headers as Record<string, string>, body };
}

export interface RawResponse {
  status: number;
  body: string;
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
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
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
