/**
 * The link between the server's thread and its front thread (src/front.ts): what they
 * say to each other, and each side's half. The front thread owns HTTP: it verifies,
 * parses, serializes and answers reads from a reader connection of its own; every
 * other call comes here as a message, runs in the dispatcher (the one writer, beside
 * the reconcilers), and its output or error goes back.
 *
 * Values cross by structured clone, which turns a Buffer into a plain Uint8Array: each
 * side turns them back (withBuffers) before the parser's or the serializer's code sees them.
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import type { Config } from './config.js';
import { Ec2Error } from './domain/errors.js';
import type { ServiceCalls, ServiceName } from './endpoint.js';
import { isThenable } from './protocol/query-endpoint.js';

/** What the front thread starts with. */
export interface FrontData {
  config: Config;
  credentialsKey: string;
  /** whether reads are answered in the front thread (false: an in-memory store, or a test's clock) */
  localReads: boolean;
}

export interface CallMessage {
  t: 'call';
  id: number;
  service: ServiceName;
  action: string;
  region: string;
  requestId: string;
  input: Record<string, unknown>;
  accountId: string;
}

/** front → server */
export type FrontMessage =
  | CallMessage
  | { t: 'listening'; port: number }
  | { t: 'listen-error'; code: string | undefined; message: string }
  | { t: 'log'; line: string }
  | { t: 'closed' };

/** server → front */
export type ServerMessage =
  | { t: 'result'; id: number; value: object }
  | { t: 'error'; id: number; code: string; message: string; status: number }
  | { t: 'internal'; id: number; message: string; stack: string | undefined }
  | { t: 'close' };

/** Turns the Uint8Arrays a structured clone made of Buffers back into Buffers (sharing their bytes), in place. */
export function withBuffers<T>(v: T): T {
  if (v instanceof Uint8Array) return (Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength)) as T;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = withBuffers(v[i]);
  } else if (v !== null && typeof v === 'object' && !(v instanceof Date)) {
    const o = v as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = withBuffers(o[k]);
  }
  return v;
}

// ---------------------------------------------------------------- the server's half

/** The front thread's worker: the bundle's dist/front.mjs, or src/front.ts through tsx when running from source. */
export function frontWorker(data: FrontData): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./front.mjs', here), { workerData: data });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./front.ts', here).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

/**
 * Runs the front thread's calls in `services` and answers each. An unexpected error goes
 * back with its stack: the front thread's endpoint logs it and answers InternalError.
 */
export function answerCalls(port: Worker | MessagePort, services: Record<ServiceName, ServiceCalls>): (m: CallMessage) => void {
  const post = (m: ServerMessage): void => port.postMessage(m);
  const fail = (id: number, e: unknown): void => {
    if (e instanceof Ec2Error) {
      post({ t: 'error', id, code: e.code, message: e.message, status: e.status });
      return;
    }
    const err = e instanceof Error ? e : new Error(String(e));
    post({ t: 'internal', id, message: err.message, stack: err.stack });
  };
  return (m) => {
    try {
      const out = services[m.service].invoke(m.action, m.region, m.requestId, withBuffers(m.input), m.accountId);
      if (isThenable(out)) {
        out.then(
          (value) => post({ t: 'result', id: m.id, value }),
          (e: unknown) => fail(m.id, e),
        );
      } else {
        post({ t: 'result', id: m.id, value: out });
      }
    } catch (e) {
      fail(m.id, e);
    }
  };
}

// ---------------------------------------------------------------- the front thread's half

/** Sends calls to the server's thread and settles each with its answer. */
export class Forwarder {
  private readonly pending = new Map<number, { resolve: (v: object) => void; reject: (e: unknown) => void }>();
  private next = 1;

  constructor(private readonly port: MessagePort) {}

  call(service: ServiceName, action: string, region: string, requestId: string, input: Record<string, unknown>, accountId: string): Promise<object> {
    const id = this.next++;
    const message: CallMessage = { t: 'call', id, service, action, region, requestId, input, accountId };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.postMessage(message);
    });
  }

  /** Settles the call an answer is for; false when `m` is not an answer. */
  settle(m: ServerMessage): boolean {
    if (m.t === 'close') return false;
    const p = this.pending.get(m.id);
    if (!p) return true;
    this.pending.delete(m.id);
    if (m.t === 'result') p.resolve(withBuffers(m.value));
    else if (m.t === 'error') p.reject(new Ec2Error(m.code, m.message, m.status));
    else {
      const e = new Error(m.message);
      e.stack = m.stack;
      p.reject(e);
    }
    return true;
  }
}
