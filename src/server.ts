/** Wires the server: store, API modules (EC2, STS, SSM), reconcilers, and the endpoint (on the front thread, src/front.ts, or on this one). */
import { availableParallelism, totalmem } from 'node:os';
import type { ChangeEvent } from './resources/context.js';
import { Dispatcher, isReadOnly } from './api/dispatcher.js';
import { WriteQueue } from './api/write-queue.js';
import type { Config } from './config.js';
import { closeServer, createEndpoint, listen, SERVICE_MODULES, type ServiceCalls, type ServiceName } from './endpoint.js';
import { answerCalls, frontWorker, type FrontData, type FrontMessage, type ServerMessage } from './front-link.js';
import { createReconcilers, selectRuntime, type Reconciler, type Runtime } from './reconcile/index.js';
import { imageFiles } from './reconcile/image-files.js';
import { VpcServices } from './reconcile/services.js';
import { SqliteStore } from './store/sqlite.js';
import { mustWait, slice } from './runtime/turns.js';
import type { Store } from './store/store.js';
import { credentialsKey } from './resources/ec2/instance-profiles.js';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly config: Config;
  readonly store: Store;
  readonly dispatcher: Dispatcher;
  /** 'container' (real instances) or 'mock' */
  readonly runtime: string;
  /** the drivers the reconcilers drive (tests look at the mocks' books through them) */
  readonly drivers: Runtime;
  close(): Promise<void>;
}

/** The server could not listen where the config says; the message names the cause and the option to change. */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

function listenError(e: unknown, config: Config): Error {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const where = `port ${config.port} on ${config.host}`;
  switch (code) {
    case 'EADDRINUSE':
      return new ListenError(`${where} is already in use (EADDRINUSE); choose another with --port or OVERCAST_PORT`, code);
    case 'EACCES':
      return new ListenError(
        `${where} needs privileges this process lacks (EACCES); choose a port above 1023 with --port or OVERCAST_PORT`,
        code,
      );
    case 'EADDRNOTAVAIL':
      return new ListenError(`address ${config.host} is not on this machine (EADDRNOTAVAIL); choose another with --host or OVERCAST_HOST`, code);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ListenError(`host ${config.host} cannot be resolved (${code}); choose another with --host or OVERCAST_HOST`, code);
    default:
      return e instanceof Error && code !== undefined ? new ListenError(`cannot listen on ${where} (${code}): ${e.message}`, code) : (e as Error);
  }
}

/** What a test may put in place of the host's own (the server uses the host's when absent). */
export interface ServerHooks {
  /** the time API calls and the volume reconciler stamp records with, and EC2's time rules read */
  clock?: () => Date;
}

export async function startServer(config: Config, log: (line: string) => void = () => {}, hooks: ServerHooks = {}): Promise<RunningServer> {
  const store = new SqliteStore(config.dataDir, { durability: config.storeSync });
  let runtime;
  try {
    runtime = await selectRuntime(config, log);
  } catch (e) {
    store.close();
    throw e;
  }
  if (runtime.name !== 'mock') {
    // instances get their type's memory as a hard limit: the API refuses types this host cannot hold
    config = { ...config, hostCapacity: config.hostCapacity ?? { memoryMiB: Math.floor(totalmem() / 1048576), vcpus: availableParallelism() } };
  }
  // real instances reach their metadata service and resolver through the fabric
  const vpcServices = runtime.name === 'mock' ? undefined : new VpcServices(store, config, config.logRequests ? log : undefined);
  const reconcilers: Reconciler[] = createReconcilers({ store, config }, runtime, {
    onNetwork: vpcServices ? (net) => vpcServices.expose(net) : undefined,
    imageFile: runtime.name === 'mock' ? undefined : imageFiles(store, config, log),
    log,
    clock: hooks.clock,
  });
  // one queue of pending writes for every service: they share one store
  const writes = new WriteQueue(config.maxPendingWrites);
  const onChange = (e: ChangeEvent): void => {
    for (const r of reconcilers) r.handle(e);
  };
  // one dispatcher per service (each with EC2's region set-up: endpoint.ts)
  const dispatch = (name: ServiceName): Dispatcher => new Dispatcher(store, config, SERVICE_MODULES[name], onChange, hooks.clock, writes);
  const dispatcher = dispatch('ec2');
  const services = { ec2: dispatcher, sts: dispatch('sts'), ssm: dispatch('ssm') };
  for (const r of reconcilers) await r.start();
  const stopRest = async (): Promise<void> => {
    for (const r of reconcilers) await r.stop();
    await vpcServices?.close();
    store.close();
  };
  const key = credentialsKey(store);
  let listening: { port: number; close(): Promise<void> };
  try {
    listening = config.frontThread
      ? await startFront({ config, credentialsKey: key, localReads: config.dataDir !== ':memory:' && hooks.clock === undefined }, services, log)
      : await inProcess(config, services, key, log);
  } catch (e) {
    await stopRest();
    throw listenError(e, config);
  }
  const port = listening.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closed = false;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    port,
    config,
    store,
    dispatcher,
    runtime: runtime.name,
    drivers: runtime,
    async close() {
      if (closed) return;
      closed = true;
      await listening.close();
      await stopRest();
    },
  };
}

/** The endpoint on this thread (the front thread off): writes are taken in slice by slice, after the reads beside them. */
async function inProcess(config: Config, services: Record<ServiceName, ServiceCalls>, key: string, log: (line: string) => void): Promise<{ port: number; close(): Promise<void> }> {
  const endpoint = createEndpoint({
    config,
    services,
    credentialsKey: key,
    log: config.logRequests ? log : undefined,
    // a write is taken in (verified, parsed, run) in a slice of the event loop: the reads
    // that arrived beside a burst of writes do not wait for the burst's intake
    deferIntake: (a) => (a === '' || isReadOnly(a) || !mustWait() ? undefined : slice()),
  });
  const { server, port } = await listen(config, endpoint);
  return { port, close: () => closeServer(server) };
}

/**
 * The endpoint on the front thread (src/front.ts): it listens, answers reads and sends
 * every other call here. Resolves once it listens; rejects with the listen error (code kept).
 */
async function startFront(data: FrontData, services: Record<ServiceName, ServiceCalls>, log: (line: string) => void): Promise<{ port: number; close(): Promise<void> }> {
  const worker = frontWorker(data);
  const answer = answerCalls(worker, services);
  let closed: (() => void) | undefined;
  const started = new Promise<number>((resolve, reject) => {
    worker.on('message', (m: FrontMessage) => {
      switch (m.t) {
        case 'call':
          answer(m);
          break;
        case 'log':
          log(m.line);
          break;
        case 'listening':
          resolve(m.port);
          break;
        case 'listen-error':
          reject(Object.assign(new Error(m.message), { code: m.code }));
          break;
        case 'closed':
          closed?.();
          break;
      }
    });
    // before it listens: the start fails; after: the API is gone, and the process with it
    worker.once('error', (e) => {
      reject(e);
      worker.on('error', () => {});
      setImmediate(() => {
        throw e;
      });
    });
    worker.once('exit', (code) => reject(new Error(`the front thread exited (${code}) before it listened`)));
  });
  let port: number;
  try {
    port = await started;
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  return {
    port,
    async close() {
      const done = new Promise<void>((resolve) => (closed = resolve));
      worker.postMessage({ t: 'close' } satisfies ServerMessage);
      await Promise.race([done, new Promise((r) => worker.once('exit', r))]);
      await worker.terminate();
    },
  };
}
