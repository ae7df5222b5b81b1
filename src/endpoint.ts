/**
 * The API endpoint and the HTTP server it answers on, as both the server's threads build
 * them: in the front thread (src/front.ts, the default) or, with the front thread off, in
 * the server's own (src/server.ts). The services' calls go to `services`: the dispatchers
 * themselves, or the front thread's local reads and forwarded calls.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiModule } from './api/context.js';
import { ec2Modules } from './api/ec2/index.js';
import { ssmModules } from './api/ssm/index.js';
import { stsModules } from './api/sts/index.js';
import { Throttle } from './api/throttle.js';
import type { Config } from './config.js';
import { temporarySecret } from './domain/temporary-credentials.js';
import { ec2Model, ssmModel, stsModel } from './protocol/model/index.js';
import { QueryEndpoint, type EndpointOptions, type InvokeResult } from './protocol/query-endpoint.js';

/** The services the endpoint speaks (their dispatchers' calls, or stand-ins with the same shape). */
export type ServiceName = 'ec2' | 'sts' | 'ssm';

/**
 * Each service's API modules. Region set-up (default VPC, built-in images) is EC2's, and every
 * service has it: an STS or SSM call in a fresh region sees the region as EC2 shows it (and
 * never marks the region set up without it).
 */
const regionSetup: ApiModule[] = ec2Modules
  .filter((m) => m.initRegion)
  .map((m) => ({ actions: {}, initRegion: m.initRegion, initOrder: m.initOrder }));
export const SERVICE_MODULES: Readonly<Record<ServiceName, readonly ApiModule[]>> = {
  ec2: ec2Modules,
  sts: [...stsModules, ...regionSetup],
  ssm: [...ssmModules, ...regionSetup],
};

export interface ServiceCalls {
  has(action: string): boolean;
  invoke(action: string, region: string, requestId: string, input: Record<string, unknown>, accountId: string): InvokeResult;
}

export interface EndpointParts {
  config: Config;
  services: Record<ServiceName, ServiceCalls>;
  /** the store's key for instance profiles' temporary credentials (resources/ec2/instance-profiles.ts) */
  credentialsKey: string;
  log?: (line: string) => void;
  deferIntake?: EndpointOptions['deferIntake'];
}

export function createEndpoint(p: EndpointParts): QueryEndpoint {
  const { config, services } = p;
  const secrets = new Map(config.credentials.map((c) => [c.accessKeyId, c.secretAccessKey]));
  // the account a call runs in: its access key's (KEY:SECRET:ACCOUNT), else the configured one
  const accounts = new Map(config.credentials.map((c) => [c.accessKeyId, c.accountId ?? config.accountId]));
  const accountOf = (key: string | undefined): string => accounts.get(key ?? '') ?? config.accountId;
  const throttle = new Throttle(config.throttle);
  const call =
    (s: ServiceCalls) =>
    (a: string, region: string, requestId: string, input: Record<string, unknown>, key?: string): InvokeResult =>
      s.invoke(a, region, requestId, input, accountOf(key));
  return new QueryEndpoint({
    model: ec2Model,
    auth: config.auth,
    // the account's keys, and the temporary ones instance profiles hand out (meta-data/iam/)
    secretFor: (k, token) => secrets.get(k) ?? temporarySecret(p.credentialsKey, k, token, Date.now()),
    defaultRegion: config.defaultRegion,
    isRegionServed: (r) => config.regions.includes(r),
    implements: (a) => services.ec2.has(a),
    admit: config.throttle.enabled ? (key, a) => throttle.take(key || config.accountId, a, Date.now()) : () => true,
    invoke: call(services.ec2),
    services: [
      { model: stsModel, implements: (a) => services.sts.has(a), invoke: call(services.sts) },
      { model: ssmModel, implements: (a) => services.ssm.has(a), invoke: call(services.ssm) },
    ],
    log: p.log,
    deferIntake: p.deferIntake,
  });
}

/**
 * Listens for `endpoint` where the config says. A client that sends its headers, or part of
 * a body, and then stalls has its connection closed after the request timeout (node checks
 * every connectionsCheckingInterval), and the server holds at most maxConnections: slow or
 * many clients cannot hold it. Rejects with node's error when it cannot listen.
 */
export async function listen(config: Config, endpoint: QueryEndpoint): Promise<{ server: Server; port: number }> {
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
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** Stops taking connections and drops the open ones. */
export function closeServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
