/** Wires the endpoint: store, API modules (EC2, STS, SSM), reconcilers, HTTP server. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, totalmem } from 'node:os';
import type { ChangeEvent } from './resources/context.js';
import { Dispatcher, isReadOnly } from './api/dispatcher.js';
import { WriteQueue } from './api/write-queue.js';
import type { ApiModule } from './api/context.js';
import { ec2Modules } from './api/ec2/index.js';
import { ssmModules } from './api/ssm/index.js';
import { stsModules } from './api/sts/index.js';
import { Throttle } from './api/throttle.js';
import type { Config } from './config.js';
import { ec2Model, ssmModel, stsModel } from './protocol/model/index.js';
import { QueryEndpoint } from './protocol/query-endpoint.js';
import { createReconcilers, selectRuntime, type Reconciler, type Runtime } from './reconcile/index.js';
import { imageFiles } from './reconcile/image-files.js';
import { VpcServices } from './reconcile/services.js';
import { SqliteStore } from './store/sqlite.js';
import { mustWait, slice } from './runtime/turns.js';
import type { Store } from './store/store.js';
import { temporarySecret } from './domain/temporary-credentials.js';
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
  const services = runtime.name === 'mock' ? undefined : new VpcServices(store, config, config.logRequests ? log : undefined);
  const reconcilers: Reconciler[] = createReconcilers({ store, config }, runtime, {
    onNetwork: services ? (net) => services.expose(net) : undefined,
    imageFile: runtime.name === 'mock' ? undefined : imageFiles(store, config, log),
    log,
    clock: hooks.clock,
  });
  // one queue of pending writes for every service: they share one store
  const writes = new WriteQueue(config.maxPendingWrites);
  const onChange = (e: ChangeEvent): void => {
    for (const r of reconcilers) r.handle(e);
  };
  const dispatcher = new Dispatcher(store, config, ec2Modules, onChange, hooks.clock, writes);
  // One dispatcher per service. Region set-up (default VPC, built-in images) is EC2's, and every
  // dispatcher runs it: an STS or SSM call in a fresh region sees the region as EC2 shows it (and
  // never marks the region set up without it).
  const regionSetup: ApiModule[] = ec2Modules
    .filter((m) => m.initRegion)
    .map((m) => ({ actions: {}, initRegion: m.initRegion, initOrder: m.initOrder }));
  const sts = new Dispatcher(store, config, [...stsModules, ...regionSetup], onChange, hooks.clock, writes);
  const ssm = new Dispatcher(store, config, [...ssmModules, ...regionSetup], onChange, hooks.clock, writes);
  const secrets = new Map(config.credentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
  // the account a call runs in: its access key's (KEY:SECRET:ACCOUNT), else the configured one
  const accounts = new Map(config.credentials.map((c) => [c.accessKeyId, c.accountId ?? config.accountId]));
  const accountOf = (key: string | undefined): string => accounts.get(key ?? '') ?? config.accountId;
  const throttle = new Throttle(config.throttle);
  const endpoint = new QueryEndpoint({
    model: ec2Model,
    auth: config.auth,
    // the account's keys, and the temporary ones instance profiles hand out (meta-data/iam/)
    secretFor: (k, token) => secrets.get(k) ?? temporarySecret(credentialsKey(store), k, token, Date.now()),
    defaultRegion: config.defaultRegion,
    isRegionServed: (r) => config.regions.includes(r),
    implements: (a) => dispatcher.has(a),
    admit: config.throttle.enabled ? (key, a) => throttle.take(key || config.accountId, a, Date.now()) : () => true,
    invoke: (a, region, requestId, input, key) => dispatcher.invoke(a, region, requestId, input, accountOf(key)),
    services: [
      { model: stsModel, implements: (a) => sts.has(a), invoke: (a, region, requestId, input, key) => sts.invoke(a, region, requestId, input, accountOf(key)) },
      { model: ssmModel, implements: (a) => ssm.has(a), invoke: (a, region, requestId, input, key) => ssm.invoke(a, region, requestId, input, accountOf(key)) },
    ],
    log: config.logRequests ? log : undefined,
    // a write is taken in (verified, parsed, run) in a slice of the event loop: the reads
    // that arrived beside a burst of writes do not wait for the burst's intake
    deferIntake: (a) => (a === '' || isReadOnly(a) || !mustWait() ? undefined : slice()),
  });
  for (const r of reconcilers) await r.start();
  // A client that sends its headers, or part of a body, and then stalls has its connection
  // closed after the request timeout (node checks every connectionsCheckingInterval), and the
  // server holds at most maxConnections: slow or many clients cannot hold it.
  const server: Server = createServer(
    {
      keepAliveTimeout: 65_000,
      requestTimeout: config.requestTimeoutMs,
      headersTimeout: config.requestTimeoutMs,
      connectionsCheckingInterval: Math.min(30_000, Math.max(50, Math.floor(config.requestTimeoutMs / 4))),
    },
    endpoint.listener,
  );
  server.maxConnections = config.maxConnections;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    for (const r of reconcilers) await r.stop();
    await services?.close();
    store.close();
    throw listenError(e, config);
  }
  const port = (server.address() as AddressInfo).port;
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
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      for (const r of reconcilers) await r.stop();
      await services?.close();
      store.close();
    },
  };
}
