/** One typed configuration, from command-line flags and OVERCAST_* environment variables. */
import { resolve } from 'node:path';
import { DEFAULT_IPV6_POOL, parseIpv6Pool } from './domain/ipv6-pool.js';
import { REGIONS } from './domain/regions.js';
import type { Durability } from './store/store.js';

export type AuthMode = 'sigv4' | 'any';

export interface Credential {
  accessKeyId: string;
  secretAccessKey: string;
  /** the account this key belongs to (KEY:SECRET:ACCOUNT); absent: --account-id's */
  accountId?: string;
}

export interface ThrottleConfig {
  enabled: boolean;
  /** bucket size and refill per second, per action class */
  describe: { capacity: number; refillPerSecond: number };
  mutate: { capacity: number; refillPerSecond: number };
  runInstances: { capacity: number; refillPerSecond: number };
}

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  accountId: string;
  auth: AuthMode;
  credentials: Credential[];
  regions: string[];
  defaultRegion: string;
  /** public IPv4 pool that public IPs and Elastic IPs are drawn from (CIDR) */
  publicIpPool: string;
  /** IPv6 range Amazon-provided VPC blocks (/56s) come from: one Overcast owns (default a ULA range) */
  ipv6Pool: string;
  throttle: ThrottleConfig;
  /**
   * runtime drivers: 'container' (crun containers, network namespaces, a reflink volume pool),
   * 'mock' (records only), or 'auto': container where the host allows it, else mock with a warning
   */
  driver: string;
  /** where built and imported images are cached (default: images/ under the data directory) */
  imageDir: string;
  /** prefix of the network namespaces, interfaces and routes Overcast creates on the host ([a-z][a-z0-9]{0,5}) */
  hostPrefix: string;
  /** the volume pool's size (a sparse file under the data directory: only what volumes hold is used) */
  poolSizeGiB: number;
  /**
   * what one instance may have at most on this host (set by the server when instances really
   * run; absent with the mock drivers): a type with more memory is refused at launch
   */
  hostCapacity?: { memoryMiB: number; vcpus: number };
  /** whether instances may reach the real network beyond this host (NAT through the host); never in tests */
  egress: boolean;
  /** mock driver: milliseconds each transition takes */
  mockDelayMs: number;
  logRequests: boolean;
  /**
   * SQLite's `synchronous` pragma (the store runs in WAL mode): 'full' syncs the WAL at every
   * commit, so an acknowledged change survives a power loss; 'normal' syncs at checkpoints,
   * so it survives a crash of the process but the last commits may be lost with the machine.
   */
  storeSync: Durability;
  /**
   * How long a client may take to send one whole request (headers and body), in
   * milliseconds; a connection that stalls longer is closed. Also the limit for the headers.
   */
  requestTimeoutMs: number;
  /** connections the HTTP server holds open at once; further ones are closed as they arrive */
  maxConnections: number;
  /** mutating calls admitted and not yet answered before RequestLimitExceeded (503); 0: no limit (api/write-queue.ts) */
  maxPendingWrites: number;
  /** rules per security group and direction (EC2's adjustable quota) */
  rulesPerSecurityGroup: number;
  /**
   * HTTP, SigV4, parsing and reads on a thread of their own beside the one that writes
   * (src/front.ts): reads stay quick while writes keep the writer busy
   */
  frontThread: boolean;
}


export const DEFAULT_CREDENTIAL: Credential = {
  accessKeyId: 'AKIAOVERCASTDEFAULT1',
  secretAccessKey: 'overcastDefaultSecretAccessKey0000000000',
};

export const CONFIG_OPTIONS: readonly { flag: string; env: string; description: string; default: string }[] = [
  { flag: '--host', env: 'OVERCAST_HOST', description: 'address to listen on', default: '127.0.0.1' },
  { flag: '--port', env: 'OVERCAST_PORT', description: 'TCP port of the EC2 endpoint', default: '4580' },
  { flag: '--data-dir', env: 'OVERCAST_DATA_DIR', description: 'where state lives (SQLite database)', default: './.overcast' },
  { flag: '--account-id', env: 'OVERCAST_ACCOUNT_ID', description: 'the 12-digit account id resources belong to', default: '123456789012' },
  { flag: '--auth', env: 'OVERCAST_AUTH', description: "'sigv4' verifies signatures against the credentials; 'any' accepts any access key unchecked", default: 'sigv4' },
  { flag: '--credentials', env: 'OVERCAST_CREDENTIALS', description: 'accepted access keys, KEY:SECRET[:ACCOUNT][,KEY:SECRET[:ACCOUNT]…] (ACCOUNT: the 12-digit account a key belongs to; default --account-id)', default: `${DEFAULT_CREDENTIAL.accessKeyId}:${DEFAULT_CREDENTIAL.secretAccessKey}` },
  { flag: '--regions', env: 'OVERCAST_REGIONS', description: 'regions served, comma separated, or "all"', default: 'all' },
  { flag: '--default-region', env: 'OVERCAST_DEFAULT_REGION', description: 'region for requests that carry no credential scope', default: 'us-east-1' },
  { flag: '--public-ip-pool', env: 'OVERCAST_PUBLIC_IP_POOL', description: 'CIDR that public and Elastic IPs come from', default: '198.51.100.0/24' },
  { flag: '--ipv6-pool', env: 'OVERCAST_IPV6_POOL', description: 'IPv6 CIDR (a /56 or shorter) that Amazon-provided VPC IPv6 blocks come from; routed on this host only', default: DEFAULT_IPV6_POOL },
  { flag: '--throttle', env: 'OVERCAST_THROTTLE', description: "EC2-style request throttling: 'on' or 'off'", default: 'off' },
  { flag: '--driver', env: 'OVERCAST_DRIVER', description: "runtime: 'container' (real instances: crun, network namespaces, volumes on a reflink pool), 'mock' (records only) or 'auto' (container where the host allows it, else mock)", default: 'auto' },
  { flag: '--image-dir', env: 'OVERCAST_IMAGE_DIR', description: 'where built images are cached (default: images/ in the data directory)', default: '' },
  { flag: '--host-prefix', env: 'OVERCAST_HOST_PREFIX', description: 'prefix of the network namespaces and interfaces created on the host (two servers on one host need two prefixes)', default: 'ovc' },
  { flag: '--pool-size-gib', env: 'OVERCAST_POOL_SIZE_GIB', description: 'size of the volume pool, a sparse file in the data directory (only written blocks use disk)', default: '200' },
  { flag: '--egress', env: 'OVERCAST_EGRESS', description: "let instances reach the network beyond this host: 'on' or 'off'", default: 'off' },
  { flag: '--mock-delay-ms', env: 'OVERCAST_MOCK_DELAY_MS', description: 'mock driver: delay of each lifecycle transition', default: '0' },
  { flag: '--log-requests', env: 'OVERCAST_LOG_REQUESTS', description: "log each API call: 'on' or 'off'", default: 'off' },
  { flag: '--rules-per-security-group', env: 'OVERCAST_RULES_PER_SECURITY_GROUP', description: "inbound (and, separately, outbound) rules a security group may hold: EC2's quota, 60 unless raised (up to 1000)", default: '60' },
  { flag: '--max-pending-writes', env: 'OVERCAST_MAX_PENDING_WRITES', description: 'mutating calls queued or running before RequestLimitExceeded (HTTP 503); 0 turns the write queue off', default: '1000' },
  { flag: '--store-sync', env: 'OVERCAST_STORE_SYNC', description: "SQLite synchronous mode under WAL: 'full' (every commit survives a power loss) or 'normal' (survives a process crash)", default: 'normal' },
  { flag: '--request-timeout-ms', env: 'OVERCAST_REQUEST_TIMEOUT_MS', description: 'how long a client may take to send a whole request (headers and body); a stalled connection is closed', default: '60000' },
  { flag: '--max-connections', env: 'OVERCAST_MAX_CONNECTIONS', description: 'client connections held open at once; more are refused as they arrive', default: '4096' },
  { flag: '--front-thread', env: 'OVERCAST_FRONT_THREAD', description: "answer HTTP and reads on a thread of their own beside the one that writes: 'on' or 'off'", default: 'on' },
];

export class ConfigError extends Error {}

function parseCredentials(s: string): Credential[] {
  return s
    .split(',')
    .filter((p) => p.trim() !== '')
    .map((pair) => {
      const i = pair.indexOf(':');
      if (i <= 0 || i === pair.length - 1) throw new ConfigError(`credentials must be KEY:SECRET, got '${pair}'`);
      const accessKeyId = pair.slice(0, i).trim();
      const rest = pair.slice(i + 1).trim();
      const account = /^(.+):(\d{12})$/.exec(rest);
      if (!account && /:\d*$/.test(rest) && rest.lastIndexOf(':') > 0) throw new ConfigError(`credentials' account must be 12 digits, got '${rest.slice(rest.lastIndexOf(':') + 1)}'`);
      return account ? { accessKeyId, secretAccessKey: account[1]!, accountId: account[2]! } : { accessKeyId, secretAccessKey: rest };
    });
}

function onOff(name: string, v: string): boolean {
  if (v === 'on' || v === 'true' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === '0') return false;
  throw new ConfigError(`${name} must be 'on' or 'off', got '${v}'`);
}

/** Builds the config: flags win over environment, environment over defaults. */
export function loadConfig(argv: readonly string[] = [], env: NodeJS.ProcessEnv = process.env): Config {
  const raw = new Map<string, string>();
  for (const o of CONFIG_OPTIONS) {
    const fromEnv = env[o.env];
    raw.set(o.flag, fromEnv !== undefined && fromEnv !== '' ? fromEnv : o.default);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!CONFIG_OPTIONS.some((o) => o.flag === flag)) throw new ConfigError(`unknown option ${flag}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    raw.set(flag, value);
  }
  const get = (flag: string): string => raw.get(flag)!;
  const port = Number(get('--port'));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port ${get('--port')}`);
  const auth = get('--auth');
  if (auth !== 'sigv4' && auth !== 'any') throw new ConfigError(`--auth must be 'sigv4' or 'any'`);
  const accountId = get('--account-id');
  if (!/^\d{12}$/.test(accountId)) throw new ConfigError(`account id must be 12 digits, got '${accountId}'`);
  const known = REGIONS.map((r) => r.RegionName);
  const regionsRaw = get('--regions');
  const regions = regionsRaw === 'all' ? known : regionsRaw.split(',').map((r) => r.trim()).filter(Boolean);
  for (const r of regions) if (!known.includes(r)) throw new ConfigError(`unknown region '${r}'`);
  const defaultRegion = get('--default-region');
  if (!regions.includes(defaultRegion)) throw new ConfigError(`default region '${defaultRegion}' is not served`);
  const mockDelayMs = Number(get('--mock-delay-ms'));
  if (!Number.isFinite(mockDelayMs) || mockDelayMs < 0) throw new ConfigError('--mock-delay-ms must be >= 0');
  const rulesPerSecurityGroup = Number(get('--rules-per-security-group'));
  if (!Number.isInteger(rulesPerSecurityGroup) || rulesPerSecurityGroup < 1 || rulesPerSecurityGroup > 1000) throw new ConfigError('--rules-per-security-group must be an integer from 1 to 1000');
  const maxPendingWrites = Number(get('--max-pending-writes'));
  if (!Number.isInteger(maxPendingWrites) || maxPendingWrites < 0) throw new ConfigError('--max-pending-writes must be an integer >= 0');
  const storeSync = get('--store-sync');
  if (storeSync !== 'full' && storeSync !== 'normal') throw new ConfigError(`--store-sync must be 'full' or 'normal', got '${storeSync}'`);
  const requestTimeoutMs = Number(get('--request-timeout-ms'));
  if (!Number.isInteger(requestTimeoutMs) || requestTimeoutMs < 1) throw new ConfigError(`--request-timeout-ms must be a whole number of milliseconds >= 1, got '${get('--request-timeout-ms')}'`);
  const maxConnections = Number(get('--max-connections'));
  if (!Number.isInteger(maxConnections) || maxConnections < 1) throw new ConfigError(`--max-connections must be a whole number >= 1, got '${get('--max-connections')}'`);
  const driver = get('--driver');
  if (!['auto', 'container', 'mock'].includes(driver)) throw new ConfigError(`--driver must be 'auto', 'container' or 'mock', got '${driver}'`);
  const ipv6Pool = get('--ipv6-pool');
  if (!parseIpv6Pool(ipv6Pool)) throw new ConfigError(`--ipv6-pool must be an IPv6 CIDR of prefix length 56 or less, got '${ipv6Pool}'`);
  const hostPrefix = get('--host-prefix');
  if (!/^[a-z][a-z0-9]{0,5}$/.test(hostPrefix)) throw new ConfigError(`--host-prefix must be a lowercase letter and up to 5 letters or digits, got '${hostPrefix}'`);
  const poolSizeGiB = Number(get('--pool-size-gib'));
  if (!Number.isInteger(poolSizeGiB) || poolSizeGiB < 1) throw new ConfigError(`--pool-size-gib must be a whole number >= 1, got '${get('--pool-size-gib')}'`);
  return {
    host: get('--host'),
    port,
    dataDir: get('--data-dir') === ':memory:' ? ':memory:' : resolve(get('--data-dir')),
    accountId,
    auth,
    credentials: parseCredentials(get('--credentials')),
    regions,
    defaultRegion,
    publicIpPool: get('--public-ip-pool'),
    ipv6Pool,
    throttle: {
      enabled: onOff('--throttle', get('--throttle')),
      describe: { capacity: 100, refillPerSecond: 20 },
      mutate: { capacity: 200, refillPerSecond: 10 },
      runInstances: { capacity: 5, refillPerSecond: 2 },
    },
    driver,
    imageDir: get('--image-dir') !== '' ? resolve(get('--image-dir')) : get('--data-dir') === ':memory:' ? resolve('.overcast/images') : resolve(get('--data-dir'), 'images'),
    hostPrefix,
    poolSizeGiB,
    egress: onOff('--egress', get('--egress')),
    mockDelayMs,
    logRequests: onOff('--log-requests', get('--log-requests')),
    storeSync,
    requestTimeoutMs,
    maxConnections,
    maxPendingWrites,
    rulesPerSecurityGroup,
    frontThread: onOff('--front-thread', get('--front-thread')),
  };
}
