/**
 * The instance metadata service: one HTTP server per VPC, on the host address
 * the VPC's router sends 169.254.169.254:80 to (NetworkInfo.serviceAddress).
 * The router rewrites only the destination, so the request's source is the
 * instance's private IP; the server it arrived at says the VPC. Each caller is
 * answered about itself only: the source asks MetadataSource.lookup(vpcId, ip)
 * on every request, so option changes apply at once.
 *
 * As EC2:
 *  - HttpEndpoint 'disabled' → 403 for everything;
 *  - PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds (1–21600)
 *    → a session token bound to the instance (400 without a valid TTL, 403
 *    with X-Forwarded-For, 405 for any other method);
 *  - X-aws-ec2-metadata-token on a GET: must be valid (401 otherwise, even when
 *    tokens are optional); without one, HttpTokens 'required' → 401;
 *  - an address no instance has → 404.
 * Not done: the hop limit (HttpPutResponseHopLimit). EC2 sends token responses
 * with that IP TTL; Node has no way to set a TCP socket's TTL (only UDP
 * sockets have setTTL), so a userspace server cannot enforce it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sign, type KeyObject } from 'node:crypto';
import type { InstanceMetadata, MetadataSource } from './metadata.js';
import { METADATA_VERSIONS, MetadataDir, resolveNode, versionDir, type IdentitySigner } from './tree.js';
import { parseTokenTtl, TokenIssuer } from './tokens.js';
import { signedDocument, signingCertificate, type SigningCertificate } from './pkcs7.js';

export type { InstanceMetadata, MetadataSource } from './metadata.js';

export interface MetadataServiceOptions {
  source: MetadataSource;
  /** RSA private key the identity document's signature and PKCS#7 forms are made with (absent: none) */
  signingKey?: KeyObject;
  /** ms since epoch (tests move it; tokens expire by it) */
  now?: () => number;
  /** where failures of the source are reported (default: stderr) */
  log?: (line: string) => void;
}

interface Listener {
  address: string;
  /** the port asked for (0: any) */
  requested: number;
  server: Server;
  ready: Promise<void>;
}

const TOKEN_PATH = '/latest/api/token';
const TOKEN_HEADER = 'x-aws-ec2-metadata-token';
const TTL_HEADER = 'x-aws-ec2-metadata-token-ttl-seconds';
const VERSIONS = new Set(METADATA_VERSIONS);

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  500: 'Internal Server Error',
};

/** EC2's error page. */
function errorPage(status: number): string {
  const title = `${status} - ${STATUS_TEXT[status] ?? 'Error'}`;
  return (
    '<?xml version="1.0" encoding="iso-8859-1"?>\n' +
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n' +
    '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n' +
    '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n' +
    ` <head>\n  <title>${title}</title>\n </head>\n` +
    ` <body>\n  <h1>${title}</h1>\n </body>\n` +
    '</html>\n'
  );
}

/** The IPv4 a socket's remote address names (IPv4-mapped IPv6 unwrapped). */
function sourceIp(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

export class MetadataService {
  private readonly listeners = new Map<string, Listener>();
  private readonly tokens: TokenIssuer;
  private readonly signer: IdentitySigner | undefined;
  /** the self-signed certificate of the signing key, which verifies the PKCS#7 forms (rsa2048, pkcs7) */
  readonly certificate: SigningCertificate | undefined;
  private readonly log: (line: string) => void;

  constructor(private readonly opts: MetadataServiceOptions) {
    this.tokens = new TokenIssuer(opts.now ?? Date.now);
    const key = opts.signingKey;
    this.certificate = key ? signingCertificate(key) : undefined;
    const cert = this.certificate;
    this.signer =
      key && cert
        ? { signature: (doc) => sign('sha256', Buffer.from(doc, 'utf8'), key).toString('base64'), pkcs7: (doc) => signedDocument(doc, key, cert) }
        : undefined;
    this.log = opts.log ?? ((line) => process.stderr.write(`imds: ${line}\n`));
  }

  /**
   * Serves the VPC's instances on `address:port` (port 0: any free port, see
   * `addressOf`). Idempotent: the same VPC and address again does nothing; the
   * VPC on another address moves there.
   */
  async listen(vpcId: string, address: string, port: number): Promise<void> {
    const existing = this.listeners.get(vpcId);
    if (existing && existing.address === address && (port === 0 || existing.requested === port || this.portOf(existing) === port)) {
      return existing.ready;
    }
    if (existing) await this.unlisten(vpcId);
    for (const [other, l] of this.listeners) {
      if (l.address === address && port !== 0 && (l.requested === port || this.portOf(l) === port)) {
        throw new Error(`imds: ${address}:${port} already serves ${other}`);
      }
    }
    const server = createServer((req, res) => void this.handle(vpcId, req, res));
    server.keepAliveTimeout = 5000;
    server.requestTimeout = 10_000;
    server.headersTimeout = 10_000;
    const ready = new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      server.once('error', onError);
      server.listen(port, address, () => {
        server.off('error', onError);
        server.on('error', (err) => this.log(`${vpcId} on ${address}: ${err.message}`));
        resolve();
      });
    });
    const listener: Listener = { address, requested: port, server, ready };
    this.listeners.set(vpcId, listener);
    try {
      await ready;
    } catch (err) {
      if (this.listeners.get(vpcId) === listener) this.listeners.delete(vpcId);
      throw err;
    }
  }

  /** Where the VPC is served (the port actually bound), or undefined. */
  addressOf(vpcId: string): { address: string; port: number } | undefined {
    const l = this.listeners.get(vpcId);
    if (!l) return undefined;
    const port = this.portOf(l);
    return port === undefined ? undefined : { address: l.address, port };
  }

  /** Stops serving the VPC (its open connections are closed). Unknown: no-op. */
  async unlisten(vpcId: string): Promise<void> {
    const l = this.listeners.get(vpcId);
    if (!l) return;
    this.listeners.delete(vpcId);
    await l.ready.catch(() => undefined);
    await new Promise<void>((resolve) => {
      l.server.close(() => resolve());
      l.server.closeAllConnections();
    });
  }

  /** Stops serving every VPC. */
  async close(): Promise<void> {
    await Promise.all([...this.listeners.keys()].map((v) => this.unlisten(v)));
  }

  private portOf(l: Listener): number | undefined {
    const a = l.server.address();
    return a !== null && typeof a === 'object' ? (a as AddressInfo).port : undefined;
  }

  private async handle(vpcId: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // the body (if any) is never read: drain it so the connection can be reused
    req.resume();
    try {
      const ip = sourceIp(req);
      const m = await this.opts.source.lookup(vpcId, ip);
      if (!m) return this.error(res, 404);
      if (m.options.httpEndpoint === 'disabled') return this.error(res, 403);
      // origin-form (/latest/…), or absolute-form (http://169.254.169.254/latest/…) as a proxy-minded client sends
      const raw = req.url ?? '/';
      const path = (/^https?:\/\//i.test(raw) ? raw.replace(/^https?:\/\/[^/]*/i, '') || '/' : raw).split('?')[0]!;
      const method = req.method ?? 'GET';
      const subject = { vpcId, privateIp: ip, instanceId: m.instanceId };
      if (path === TOKEN_PATH || path === `${TOKEN_PATH}/`) {
        if (method !== 'PUT') return this.error(res, 405, { Allow: 'PUT' });
        if (req.headers['x-forwarded-for'] !== undefined) return this.error(res, 403);
        const ttl = parseTokenTtl(req.headers[TTL_HEADER]);
        if (ttl === undefined) return this.error(res, 400);
        return this.send(res, 200, this.tokens.issue(subject, ttl), 'text/plain', { 'X-Aws-Ec2-Metadata-Token-Ttl-Seconds': String(ttl) });
      }
      if (method !== 'GET' && method !== 'HEAD') return this.error(res, 405, { Allow: 'GET, HEAD' });
      const token = req.headers[TOKEN_HEADER];
      const extra: Record<string, string> = {};
      if (token !== undefined) {
        const left = typeof token === 'string' ? this.tokens.check(token, subject) : undefined;
        if (left === undefined) return this.error(res, 401);
        extra['X-Aws-Ec2-Metadata-Token-Ttl-Seconds'] = String(left);
      } else if (m.options.httpTokens === 'required') {
        return this.error(res, 401);
      }
      return this.serve(res, m, path, extra);
    } catch (err) {
      this.log(`${vpcId}: ${err instanceof Error ? err.message : String(err)}`);
      if (!res.headersSent) this.error(res, 500);
      else res.destroy();
    }
  }

  private serve(res: ServerResponse, m: InstanceMetadata, path: string, extra: Record<string, string>): void {
    let segments: string[];
    try {
      segments = path.split('/').slice(1).map((s) => decodeURIComponent(s));
    } catch {
      return this.error(res, 404);
    }
    const version = segments[0] ?? '';
    if (version === '') return this.send(res, 200, METADATA_VERSIONS.join('\n'), 'text/plain', extra);
    if (!VERSIONS.has(version)) return this.error(res, 404);
    const node = resolveNode(versionDir(m, this.signer), segments.slice(1));
    if (node === undefined) return this.error(res, 404);
    if (node instanceof MetadataDir) return this.send(res, 200, node.list(), 'text/plain', extra);
    if (Buffer.isBuffer(node)) return this.send(res, 200, node, 'application/octet-stream', extra);
    return this.send(res, 200, typeof node === 'function' ? node() : node, 'text/plain', extra);
  }

  private error(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
    this.send(res, status, errorPage(status), 'text/html', headers);
  }

  private send(res: ServerResponse, status: number, body: string | Buffer, type: string, headers: Record<string, string>): void {
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': String(bytes.length), Server: 'EC2ws' });
    res.end(res.req.method === 'HEAD' ? undefined : bytes);
  }
}
