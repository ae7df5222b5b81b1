/**
 * The front thread (a worker started by src/server.ts): it owns the HTTP server and the
 * endpoint — SigV4, parsing, throttling, serializing — and answers reads itself from a
 * reader connection to the store (SQLite in WAL mode: it sees every commit of the
 * server's thread the moment it is made, and never blocks it). Every other call (writes,
 * calls with a ClientToken, calls in a region not yet set up, reads the reader cannot
 * answer yet) goes to the server's thread (src/front-link.ts), where the dispatcher runs
 * it. So the reads beside a burst of writes wait neither for the writes' work nor for
 * the garbage collections of the thread doing it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Dispatcher, isReadOnly, regionReady } from './api/dispatcher.js';
import { closeServer, createEndpoint, listen, SERVICE_MODULES, type ServiceCalls, type ServiceName } from './endpoint.js';
import { Forwarder, type FrontData, type FrontMessage, type ServerMessage } from './front-link.js';
import type { InvokeResult } from './protocol/query-endpoint.js';
import { ReaderBehind, SqliteStore } from './store/sqlite.js';

const port = parentPort!;
const data = workerData as FrontData;
const { config } = data;
const post = (m: FrontMessage): void => port.postMessage(m);
const forwarder = new Forwarder(port);
const store = data.localReads ? new SqliteStore(config.dataDir, { reader: true }) : undefined;

/** regions seen set up (set-up is never undone) */
const ready = new Set<string>();

/** A read the reader could not answer: the server's thread answers it instead. */
function forwardable(e: unknown): boolean {
  const code = (e as { code?: unknown } | undefined)?.code;
  return e instanceof ReaderBehind || (typeof code === 'string' && (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_BUSY')));
}

function service(name: ServiceName): ServiceCalls {
  const actions = new Set(SERVICE_MODULES[name].flatMap((m) => Object.keys(m.actions)));
  const local = store ? new Dispatcher(store, config, SERVICE_MODULES[name]) : undefined;
  const forward = (a: string, region: string, requestId: string, input: Record<string, unknown>, accountId: string): Promise<object> =>
    forwarder.call(name, a, region, requestId, input, accountId);
  const isLocal = (a: string, region: string, input: Record<string, unknown>): boolean => {
    if (!store || !isReadOnly(a) || input.ClientToken !== undefined) return false;
    if (ready.has(region)) return true;
    if (!regionReady(store, region)) return false;
    ready.add(region);
    return true;
  };
  return {
    has: (a) => actions.has(a),
    invoke(a, region, requestId, input, accountId): InvokeResult {
      if (!local || !isLocal(a, region, input)) return forward(a, region, requestId, input, accountId);
      try {
        const out = local.invoke(a, region, requestId, input, accountId);
        if (!(out instanceof Promise)) return out;
        return out.catch((e: unknown) => (forwardable(e) ? forward(a, region, requestId, input, accountId) : Promise.reject(e)));
      } catch (e) {
        if (!forwardable(e)) throw e;
        return forward(a, region, requestId, input, accountId);
      }
    },
  };
}

const endpoint = createEndpoint({
  config,
  services: { ec2: service('ec2'), sts: service('sts'), ssm: service('ssm') },
  credentialsKey: data.credentialsKey,
  log: config.logRequests ? (line) => post({ t: 'log', line }) : undefined,
});

listen(config, endpoint).then(
  ({ server, port: listening }) => {
    port.on('message', (m: ServerMessage) => {
      if (forwarder.settle(m)) return;
      // close: no more connections, then the reader goes
      void closeServer(server).then(() => {
        store?.close();
        post({ t: 'closed' });
        port.close();
      });
    });
    post({ t: 'listening', port: listening });
  },
  (e: NodeJS.ErrnoException) => {
    store?.close();
    post({ t: 'listen-error', code: e.code, message: e.message });
    port.close();
  },
);
