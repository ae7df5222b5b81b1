/**
 * The EC2 Query endpoint over HTTP: reads the request (form POST or GET),
 * authenticates it (SigV4), parses parameters by the model, calls the API and
 * writes the model-shaped XML response or an EC2 error document.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Ec2Error } from '../domain/errors.js';
import { errorXml } from './errors.js';
import type { CompactModel } from './model/index.js';
import { QueryParser } from './query-parser.js';
import { headerValue, readScope, verifySigV4, type SignedRequest } from './sigv4.js';
import { XmlSerializer } from './xml-serializer.js';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface EndpointOptions {
  model: CompactModel;
  /** 'sigv4' checks signatures; 'any' accepts any access key */
  auth: 'sigv4' | 'any';
  secretFor(accessKeyId: string): string | undefined;
  defaultRegion: string;
  isRegionServed(region: string): boolean;
  /** whether Overcast implements this operation */
  implements(action: string): boolean;
  /** false → RequestLimitExceeded */
  admit(accessKeyId: string, action: string): boolean;
  /** the output, or a promise of it for actions with slow work */
  invoke(action: string, region: string, requestId: string, input: Record<string, unknown>): object | Promise<object>;
  log?(line: string): void;
}

export class QueryEndpoint {
  private readonly parser: QueryParser;
  private readonly serializer: XmlSerializer;

  constructor(private readonly opts: EndpointOptions) {
    this.parser = new QueryParser(opts.model);
    this.serializer = new XmlSerializer(opts.model);
  }

  /** node:http request listener */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(c);
    });
    req.on('end', () => {
      const requestId = randomUUID();
      if (tooLarge) {
        this.sendError(res, new Ec2Error('RequestEntityTooLarge', `The request body exceeds ${MAX_BODY_BYTES} bytes.`, 413), requestId);
        return;
      }
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      this.handle(req, res, body, requestId);
    });
    req.on('error', () => res.destroy());
  };

  private handle(req: IncomingMessage, res: ServerResponse, body: Buffer, requestId: string): void {
    const started = this.opts.log ? process.hrtime.bigint() : 0n;
    let action = '';
    try {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const query = q < 0 ? '' : url.slice(q + 1);
      if (path === '/healthz' && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
        return;
      }
      if (req.method !== 'POST' && req.method !== 'GET') {
        throw new Ec2Error('InvalidAction', `The HTTP method ${req.method ?? ''} is not supported.`, 405);
      }
      const signed: SignedRequest = { method: req.method, path, query, rawHeaders: req.rawHeaders, body };
      let accessKeyId = '';
      let region: string;
      if (this.opts.auth === 'sigv4') {
        const id = verifySigV4(signed, (k) => this.opts.secretFor(k), Date.now());
        accessKeyId = id.accessKeyId;
        region = id.region;
      } else {
        const scope = readScope(signed);
        accessKeyId = scope.accessKeyId ?? '';
        region = scope.region ?? this.opts.defaultRegion;
      }
      if (!this.opts.isRegionServed(region)) {
        throw new Ec2Error('AuthFailure', `The region '${region}' is not served by this endpoint.`, 401);
      }
      const params = collectParams(req, query, body);
      action = params.get('Action') ?? '';
      if (action === '') throw new Ec2Error('MissingParameter', 'The request must contain the parameter Action');
      if (!this.opts.implements(action)) {
        if (this.opts.model.operations[action]) {
          throw new Ec2Error('UnsupportedOperation', `The action ${action} is not supported by Overcast yet.`);
        }
        throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
      }
      if (!this.opts.admit(accessKeyId, action)) {
        throw new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503);
      }
      const input = this.parser.parse(action, params.entries());
      const output = this.opts.invoke(action, region, requestId, input);
      if (output instanceof Promise) {
        output.then(
          (o) => this.respond(res, action, o, requestId, started),
          (e: unknown) => this.fail(res, action, e, requestId, started),
        );
      } else {
        this.respond(res, action, output, requestId, started);
      }
    } catch (e) {
      this.fail(res, action, e, requestId, started);
    }
  }

  private respond(res: ServerResponse, action: string, output: object, requestId: string, started: bigint): void {
    const out = this.serializer.serializer(action)(output as Record<string, unknown>, requestId);
    // An explicit length: no chunked encoding. An ASCII string goes out with the headers in one
    // write; bytes go out slice by slice, never joined into one more copy.
    if (typeof out === 'string') {
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'content-length': out.length });
      res.end(out, 'latin1');
    } else {
      let length = 0;
      for (const slice of out) length += slice.length;
      res.writeHead(200, { 'content-type': 'text/xml;charset=UTF-8', 'content-length': length });
      for (let i = 0; i < out.length - 1; i++) res.write(out[i]);
      res.end(out[out.length - 1]);
    }
    if (this.opts.log) this.opts.log(`${action} 200 ${elapsedMs(started)}ms`);
  }

  private fail(res: ServerResponse, action: string, e: unknown, requestId: string, started: bigint): void {
    const err =
      e instanceof Ec2Error
        ? e
        : (this.opts.log?.(`internal error in ${action}: ${(e as Error)?.stack ?? String(e)}`),
          console.error(`internal error in ${action}:`, e),
          new Ec2Error('InternalError', 'An internal error has occurred.', 500));
    this.sendError(res, err, requestId);
    if (this.opts.log) this.opts.log(`${action || '-'} ${err.status} ${err.code} ${elapsedMs(started)}ms`);
  }

  private sendError(res: ServerResponse, err: Ec2Error, requestId: string): void {
    res.writeHead(err.status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId, server: 'Overcast' });
    res.end(errorXml(err, requestId));
  }
}

function elapsedMs(started: bigint): string {
  return (Number(process.hrtime.bigint() - started) / 1e6).toFixed(2);
}

/** Query-string parameters, then form-body parameters (a body value wins). */
function collectParams(req: IncomingMessage, query: string, body: Buffer): Map<string, string> {
  const params = new Map<string, string>();
  if (query !== '') parseForm(query, params);
  if (req.method === 'POST' && body.length > 0) {
    const type = (headerValue(req.rawHeaders, 'content-type') ?? '').toLowerCase();
    if (type !== '' && !type.startsWith('application/x-www-form-urlencoded')) {
      throw new Ec2Error('InvalidParameterValue', `Unsupported content type '${type}'; expected application/x-www-form-urlencoded.`, 400);
    }
    parseForm(body.toString('utf8'), params);
  }
  return params;
}

/**
 * application/x-www-form-urlencoded pairs into `out` (a later value wins), as
 * URLSearchParams reads them; pieces without `%` or `+` need no decoding.
 */
export function parseForm(text: string, out: Map<string, string>): void {
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('&', start);
    if (end < 0) end = text.length;
    if (end > start) {
      const eq = text.indexOf('=', start);
      const split = eq >= 0 && eq < end;
      const k = decodeFormPart(text.slice(start, split ? eq : end));
      const v = split ? decodeFormPart(text.slice(eq + 1, end)) : '';
      out.set(k, v);
    }
    start = end + 1;
  }
}

function decodeFormPart(s: string): string {
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  const spaced = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    // Malformed escapes: decode what can be decoded, keep the rest, as URLSearchParams does.
    return spaced.replace(/(%[0-9a-fA-F]{2})+/g, (m) => {
      try {
        return decodeURIComponent(m);
      } catch {
        return m;
      }
    });
  }
}
