/**
 * The HTTP endpoint of every service Overcast speaks: reads the request (form POST,
 * GET or JSON), authenticates it (SigV4), picks the service, parses parameters by
 * that service's model, calls the API and writes the model-shaped response or the
 * service's error document.
 *
 * EC2 (its Query dialect) is the main service; others (awsQuery: STS; awsJson: SSM)
 * are registered with `services`. The AWS CLI and SDKs send every service to the one
 * `--endpoint-url`, so the service is the one the SigV4 credential scope names (one
 * string comparison for EC2, the hot path), and for JSON services the `X-Amz-Target`
 * prefix (`AmazonSSM.GetParameter`). Without a scope (`--auth any`), the request's own
 * shape decides: X-Amz-Target, else Action and Version, else EC2. A scope naming a
 * service not served here, or a request of one service scoped to another, is refused as
 * AWS refuses it (`SignatureDoesNotMatch`: "Credential should be scoped to correct
 * service: 'ec2'.").
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Ec2Error } from '../domain/errors.js';
import { errorXml, inDialect, jsonErrorBody, queryErrorXml } from './errors.js';
import { JsonParser } from './json-parser.js';
import { JsonSerializer } from './json-serializer.js';
import type { CompactModel, WireProtocol } from './model/index.js';
import { QueryParser } from './query-parser.js';
import { headerValue, readScope, verifySigV4, type SignedRequest } from './sigv4.js';
import { XmlSerializer } from './xml-serializer.js';

export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A handler's result: the output object, or a promise of it. */
export type InvokeResult = object | PromiseLike<object>;

/** One more service on the endpoint (awsQuery or awsJson; its model says which and its names). */
export interface ServiceOptions {
  model: CompactModel;
  /** whether Overcast implements this operation */
  implements(operation: string): boolean;
  /** false → the service's throttling error; always admitted when absent */
  admit?(accessKeyId: string, operation: string): boolean;
  /** accessKeyId: the caller's (whose account the call runs in) */
  invoke(operation: string, region: string, requestId: string, input: Record<string, unknown>, accessKeyId?: string): InvokeResult;
}

export interface EndpointOptions {
  /** EC2's model */
  model: CompactModel;
  /** 'sigv4' checks signatures; 'any' accepts any access key */
  auth: 'sigv4' | 'any';
  /** the secret of an access key (a temporary one with its session token) */
  secretFor(accessKeyId: string, sessionToken?: string): string | undefined;
  defaultRegion: string;
  isRegionServed(region: string): boolean;
  /** whether Overcast implements this EC2 operation */
  implements(action: string): boolean;
  /** false → RequestLimitExceeded */
  admit(accessKeyId: string, action: string): boolean;
  /** accessKeyId: the caller's (whose account the call runs in) */
  invoke(action: string, region: string, requestId: string, input: Record<string, unknown>, accessKeyId?: string): InvokeResult;
  /** the services besides EC2 */
  services?: readonly ServiceOptions[];
  log?(line: string): void;
  /**
   * Asked as a request's body is complete, with the action its form or query names (a cheap look:
   * '' when it names none): a promise to wait for before the request is verified, parsed and run
   * (the server makes writes wait for a slice of the event loop, so that the reads that arrived in
   * the same turn are answered first), or undefined to go on at once.
   */
  deferIntake?(action: string): Promise<void> | undefined;
}

/** A service as the endpoint runs it: its names, parser and serializer. */
class Service {
  readonly name: string;
  readonly protocol: WireProtocol;
  readonly query?: QueryParser;
  readonly json?: JsonParser;
  readonly xml?: XmlSerializer;
  readonly jsonOut?: JsonSerializer;
  readonly contentType: string;

  constructor(readonly opts: ServiceOptions) {
    const model = opts.model;
    this.protocol = model.protocol ?? 'ec2';
    this.name = model.signingName ?? 'ec2';
    if (this.protocol === 'json') {
      if (!model.targetPrefix) throw new Error(`${this.name}: a JSON service needs its X-Amz-Target prefix`);
      this.json = new JsonParser(model);
      this.jsonOut = new JsonSerializer(model);
      this.contentType = `application/x-amz-json-${model.jsonVersion ?? '1.1'}`;
    } else {
      this.query = new QueryParser(model, this.protocol === 'ec2' ? 'ec2' : 'query');
      this.xml = new XmlSerializer(model, this.protocol === 'ec2' ? 'ec2' : 'query');
      this.contentType = 'text/xml';
    }
  }

  /** The error document for `err` (in EC2's words) as this service writes it. */
  send(res: ServerResponse, err: Ec2Error, requestId: string): Ec2Error {
    if (this.protocol === 'ec2') {
      res.writeHead(err.status, { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId, server: 'Overcast' });
      res.end(errorXml(err, requestId));
      return err;
    }
    const e = inDialect(err, this.protocol);
    if (this.protocol === 'query') {
      res.writeHead(e.status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, server: 'Overcast' });
      res.end(queryErrorXml(e, requestId, this.opts.model.xmlNamespace));
    } else {
      const body = jsonErrorBody(e);
      res.writeHead(e.status, {
        'content-type': this.contentType,
        'content-length': Buffer.byteLength(body),
        'x-amzn-requestid': requestId,
        'x-amzn-errortype': e.code,
        server: 'Overcast',
      });
      res.end(body);
    }
    return e;
  }
}

const wrongService = (service: Service): Ec2Error =>
  new Ec2Error('SignatureDoesNotMatch', `Credential should be scoped to correct service: '${service.name}'. `, 403);

/** Whether a handler answered with a promise (its slow part still running). */
export function isThenable(v: InvokeResult): v is PromiseLike<object> {
  return typeof (v as { then?: unknown }).then === 'function';
}

/**
 * A request id: a UUID as one flat string. node builds randomUUID() by concatenation, a
 * rope of some fifty pieces (~490 bytes); a request waiting in the write queue keeps its id,
 * and every young-generation collection copies whatever waiting requests hold. Reading a
 * character flattens it (~70 bytes).
 */
function newRequestId(): string {
  const id = randomUUID();
  id.charCodeAt(0);
  return id;
}

export class QueryEndpoint {
  private readonly parser: QueryParser;
  private readonly serializer: XmlSerializer;
  private readonly ec2: Service;
  /** every service by SigV4 name */
  private readonly byName = new Map<string, Service>();
  /** awsJson services by X-Amz-Target prefix */
  private readonly byTarget = new Map<string, Service>();
  /** awsQuery services by API version */
  private readonly byVersion = new Map<string, Service>();

  constructor(private readonly opts: EndpointOptions) {
    this.ec2 = new Service({ model: opts.model, implements: opts.implements, admit: opts.admit, invoke: opts.invoke });
    this.parser = this.ec2.query!;
    this.serializer = this.ec2.xml!;
    for (const service of [this.ec2, ...(opts.services ?? []).map((s) => new Service(s))]) {
      if (this.byName.has(service.name)) throw new Error(`service ${service.name} registered twice`);
      this.byName.set(service.name, service);
      if (service.protocol === 'json') this.byTarget.set(service.opts.model.targetPrefix!, service);
      if (service.protocol === 'query') this.byVersion.set(service.opts.model.apiVersion, service);
    }
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
      const requestId = newRequestId();
      if (tooLarge) {
        const signed: SignedRequest = { method: req.method ?? 'POST', path: '/', query: '', rawHeaders: req.rawHeaders, body: Buffer.alloc(0) };
        this.serviceForError(req, '', Buffer.alloc(0), signed).send(
          res, new Ec2Error('RequestEntityTooLarge', `The request body exceeds ${MAX_BODY_BYTES} bytes.`, 413), requestId,
        );
        return;
      }
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      const wait = this.opts.deferIntake?.(peekAction(req.url ?? '', body));
      if (wait === undefined) this.handle(req, res, body, requestId);
      else void wait.then(() => this.handle(req, res, body, requestId));
    });
    req.on('error', () => res.destroy());
  };

  private handle(req: IncomingMessage, res: ServerResponse, body: Buffer, requestId: string): void {
    const started = this.opts.log ? process.hrtime.bigint() : 0n;
    let action = '';
    // the service whose error document a failure is written as
    let service = this.ec2;
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
      let scoped: string | undefined;
      if (this.opts.auth === 'sigv4') {
        let id;
        try {
          id = verifySigV4(signed, (k, token) => this.opts.secretFor(k, token), Date.now());
        } catch (e) {
          service = this.serviceForError(req, query, body, signed);
          throw e;
        }
        accessKeyId = id.accessKeyId;
        region = id.region;
        scoped = id.service;
      } else {
        const scope = readScope(signed);
        accessKeyId = scope.accessKeyId ?? '';
        region = scope.region ?? this.opts.defaultRegion;
        scoped = scope.service;
      }
      if (scoped !== 'ec2') {
        // Not EC2's scope: another service, or no scope at all (--auth any).
        service = this.route(scoped, req, query, body);
        if (service !== this.ec2) {
          action = this.handleService(service, req, res, query, body, requestId, accessKeyId, region, started);
          return;
        }
      }
      if (!this.opts.isRegionServed(region)) {
        throw new Ec2Error('AuthFailure', `The region '${region}' is not served by this endpoint.`, 401);
      }
      let params: Map<string, string>;
      try {
        params = collectParams(req, query, body);
      } catch (e) {
        service = this.claimant(req, query, body) ?? this.ec2;
        if (service !== this.ec2) throw wrongService(service);
        throw e;
      }
      action = params.get('Action') ?? '';
      if (action === '') throw new Ec2Error('MissingParameter', 'The request must contain the parameter Action');
      if (!this.opts.implements(action)) {
        if (this.opts.model.operations[action]) {
          throw new Ec2Error('UnsupportedOperation', `The action ${action} is not supported by Overcast yet.`);
        }
        // Another service's action, scoped to EC2: that service refuses it.
        const other = this.claimant(req, query, body, params);
        if (other) {
          service = other;
          throw wrongService(other);
        }
        throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`);
      }
      checkVersion(params.get('Version'), this.opts.model.apiVersion, 'AmazonEC2');
      if (!this.opts.admit(accessKeyId, action)) {
        throw new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503);
      }
      const input = this.parser.parse(action, params.entries());
      const output = this.opts.invoke(action, region, requestId, input, accessKeyId);
      if (isThenable(output)) {
        const name = action;
        output.then(
          (o) => this.writeEc2(res, name, o, requestId, started),
          (e: unknown) => this.fail(this.ec2, res, e, name, requestId, started),
        );
        return;
      }
      this.writeEc2(res, action, output, requestId, started);
    } catch (e) {
      this.fail(e instanceof Routed ? e.service : service, res, e, action, requestId, started);
    }
  }

  private writeEc2(res: ServerResponse, action: string, output: object, requestId: string, started: bigint): void {
    let out;
    try {
      out = this.serializer.serializer(action)(output as Record<string, unknown>, requestId);
    } catch (e) {
      this.fail(this.ec2, res, e, action, requestId, started);
      return;
    }
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

  /** Writes `e` as `service`'s error document (an unexpected error as its internal error) and logs it. */
  private fail(service: Service, res: ServerResponse, e: unknown, action: string, requestId: string, started: bigint): void {
    const label = service === this.ec2 ? action : `${service.name}:${action}`;
    const err =
      e instanceof Ec2Error
        ? e
        : (this.opts.log?.(`internal error in ${label}: ${(e as Error)?.stack ?? String(e)}`),
          console.error(`internal error in ${label}:`, e),
          new Ec2Error('InternalError', 'An internal error has occurred.', 500));
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const sent = service.send(res, err, requestId);
    if (this.opts.log) this.opts.log(`${label || '-'} ${sent.status} ${sent.code} ${elapsedMs(started)}ms`);
  }

  /**
   * The service a request not scoped to EC2 goes to (`scoped`: the scope's service, if
   * any). Throws the scoping error, with the service that refuses it set, when the scope
   * and the request disagree.
   */
  private route(scoped: string | undefined, req: IncomingMessage, query: string, body: Buffer): Service {
    const named = scoped === undefined ? undefined : this.byName.get(scoped);
    const claimed = this.claimant(req, query, body);
    if (named === undefined) {
      const service = claimed ?? this.ec2;
      if (scoped !== undefined) throw new Routed(service, wrongService(service));
      return service;
    }
    if (claimed === named) return named;
    if (claimed !== undefined) throw new Routed(claimed, wrongService(claimed));
    // Nothing else claims it; an EC2 action (or EC2's version) is EC2's, scoped wrongly.
    if (this.looksLikeEc2(req, query, body)) throw new Routed(this.ec2, wrongService(this.ec2));
    return named;
  }

  /** The service for the error of a request that failed authentication: its scope's, or its shape's. */
  private serviceForError(req: IncomingMessage, query: string, body: Buffer, signed: SignedRequest): Service {
    const scoped = readScope(signed).service;
    const named = scoped === undefined ? undefined : this.byName.get(scoped);
    return named ?? this.claimant(req, query, body) ?? this.ec2;
  }

  /**
   * The non-EC2 service a request belongs to by its own shape: its X-Amz-Target prefix,
   * or its Version (an awsQuery service's API version, with an Action that service has).
   */
  private claimant(req: IncomingMessage, query: string, body: Buffer, params?: Map<string, string>): Service | undefined {
    const target = headerValue(req.rawHeaders, 'x-amz-target');
    if (target !== undefined) {
      const dot = target.indexOf('.');
      return this.byTarget.get(dot < 0 ? target : target.slice(0, dot));
    }
    if (this.byVersion.size === 0) return undefined;
    const p = params ?? formParams(req, query, body);
    const service = this.byVersion.get(p.get('Version') ?? '');
    return service && service.opts.model.operations[p.get('Action') ?? ''] ? service : undefined;
  }

  private looksLikeEc2(req: IncomingMessage, query: string, body: Buffer): boolean {
    if (headerValue(req.rawHeaders, 'x-amz-target') !== undefined) return false;
    const p = formParams(req, query, body);
    const version = p.get('Version');
    return version === this.opts.model.apiVersion || (version === undefined && this.opts.model.operations[p.get('Action') ?? ''] !== undefined);
  }

  /** Runs one call of an awsQuery or awsJson service; returns the operation's name (for the log). */
  private handleService(
    service: Service, req: IncomingMessage, res: ServerResponse, query: string, body: Buffer,
    requestId: string, accessKeyId: string, region: string, started: bigint,
  ): string {
    let operation = '';
    try {
      if (!this.opts.isRegionServed(region)) {
        throw new Ec2Error('SignatureDoesNotMatch', 'Credential should be scoped to a valid region. ', 403);
      }
      const model = service.opts.model;
      let input: Record<string, unknown>;
      if (service.protocol === 'json') {
        const target = headerValue(req.rawHeaders, 'x-amz-target') ?? '';
        const dot = target.indexOf('.');
        operation = dot < 0 ? '' : target.slice(dot + 1);
        if (dot < 0 || target.slice(0, dot) !== model.targetPrefix || !service.opts.implements(operation)) {
          throw new Ec2Error(
            'UnknownOperationException',
            operation === '' ? 'Missing or malformed X-Amz-Target header.' : `The operation ${operation} is not supported by Overcast's ${service.name}.`,
          );
        }
        if (service.opts.admit && !service.opts.admit(accessKeyId, operation)) throw new Ec2Error('RequestLimitExceeded', 'Rate exceeded', 400);
        input = service.json!.parse(operation, body);
      } else {
        const params = collectParams(req, query, body);
        operation = params.get('Action') ?? '';
        if (operation === '') throw new Ec2Error('MissingAction', 'The request must contain the parameter Action.');
        if (!service.opts.implements(operation)) {
          throw new Ec2Error('InvalidAction', `Could not find operation ${operation} for version ${params.get('Version') ?? model.apiVersion}`);
        }
        const version = params.get('Version');
        if (version === undefined) throw new Ec2Error('MissingParameter', 'The request must contain the parameter Version.');
        if (version !== model.apiVersion) throw new Ec2Error('InvalidAction', `Could not find operation ${operation} for version ${version}`);
        if (service.opts.admit && !service.opts.admit(accessKeyId, operation)) throw new Ec2Error('RequestLimitExceeded', 'Rate exceeded', 400);
        input = service.query!.parse(operation, params.entries());
      }
      const output = service.opts.invoke(operation, region, requestId, input, accessKeyId);
      if (isThenable(output)) {
        const name = operation;
        output.then(
          (o) => this.writeService(service, res, name, o, requestId, started),
          (e: unknown) => this.fail(service, res, e, name, requestId, started),
        );
      } else {
        this.writeService(service, res, operation, output, requestId, started);
      }
    } catch (e) {
      this.fail(service, res, e, operation, requestId, started);
    }
    return operation;
  }

  private writeService(service: Service, res: ServerResponse, operation: string, output: object, requestId: string, started: bigint): void {
    let body: string | Buffer;
    try {
      if (service.protocol === 'json') {
        body = service.jsonOut!.serializer(operation)(output as Record<string, unknown>);
      } else {
        const out = service.xml!.serializer(operation)(output as Record<string, unknown>, requestId);
        body = typeof out === 'string' ? out : Buffer.concat(out);
      }
    } catch (e) {
      this.fail(service, res, e, operation, requestId, started);
      return;
    }
    res.writeHead(200, {
      'content-type': service.contentType,
      'content-length': typeof body === 'string' ? Buffer.byteLength(body) : body.length,
      'x-amzn-requestid': requestId,
    });
    res.end(body);
    if (this.opts.log) this.opts.log(`${service.name}:${operation} 200 ${elapsedMs(started)}ms`);
  }
}

/**
 * EC2's check of the `Version` parameter every Query request carries: missing →
 * MissingParameter; any version but the model's → NoSuchVersion.
 */
function checkVersion(version: string | undefined, apiVersion: string, serviceName: string): void {
  if (version === apiVersion) return;
  if (version === undefined) throw new Ec2Error('MissingParameter', 'The request must contain the parameter Version');
  throw new Ec2Error('NoSuchVersion', `The requested version (${version}) of service ${serviceName} does not exist`);
}

/** A routing decision that is a refusal: the service that refuses, and its error. */
class Routed extends Ec2Error {
  constructor(
    readonly service: Service,
    err: Ec2Error,
  ) {
    super(err.code, err.message, err.status);
  }
}

function elapsedMs(started: bigint): string {
  return (Number(process.hrtime.bigint() - started) / 1e6).toFixed(2);
}

/** The form parameters of a request, or none where its body is not a form (for routing; never throws). */
function formParams(req: IncomingMessage, query: string, body: Buffer): Map<string, string> {
  try {
    return collectParams(req, query, body);
  } catch {
    return new Map();
  }
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

const ACTION = Buffer.from('Action=');

/**
 * The Action a form body (or else the query string) names, read without parsing either: the
 * letters after the first `Action=` that starts a field; '' when there is none. Only for deciding
 * when to take the request in: the request itself is parsed in full later.
 */
export function peekAction(url: string, body: Buffer): string {
  const fromBody = peekIn(body);
  if (fromBody !== '') return fromBody;
  const q = url.indexOf('?');
  return q < 0 ? '' : peekIn(Buffer.from(url.slice(q + 1)));
}

function peekIn(text: Buffer): string {
  for (let at = text.indexOf(ACTION); at >= 0; at = text.indexOf(ACTION, at + 1)) {
    if (at > 0 && text[at - 1] !== 0x26 /* & */) continue;
    let end = at + ACTION.length;
    while (end < text.length && end - at < 128 && isLetter(text[end]!)) end++;
    return text.toString('latin1', at + ACTION.length, end);
  }
  return '';
}

const isLetter = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39);
