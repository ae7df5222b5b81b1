/**
 * `npm run bench`: Overcast against bare node:http anchors, measured in the same run,
 * each server in its own process, the load generator (autocannon) in this one.
 * Prints ratios (Overcast / anchor) and the absolute numbers; exits 1 when a target is missed.
 *
 *  1. DescribeRegions throughput vs a bare server answering a fixed body. Target ≥ 0.5.
 *     Then the same with signature checking off (--auth any), as a reference without a target.
 *  2. DescribeInstances over 1,000 instances vs a bare server sending the same bytes. Target ≥ 0.3.
 *  3. RunInstances(1) throughput (MaxCount=1, mock driver) with the store at
 *     OVERCAST_STORE_SYNC=normal vs the same at full: a reference without a target.
 *     Each run launches BENCH_LAUNCHES instances in a region of its own (the same region on
 *     both sides), so every run starts from an empty default subnet.
 *
 *  4. Scale: RunInstances(1) and DescribeInstances(one id) with 100 and with 100,000 instances stored
 *     (seeded into the data dir before the server starts, by the real handlers: bench/seed.ts; most of
 *     them terminated, as the account limit caps live ones), ratio large / small. Target ≥ 0.8 each.
 *  5. Contention: DescribeRegions p99 latency (one keep-alive client in a process of its own) while
 *     500 connections send RunInstances(1), as a ratio to its idle p99. Target ≤ 5.
 *
 * `npm run bench -- --compare <git-ref>`: before/after. The ref is extracted (git archive) into a
 * temporary directory with node_modules linked, and each case runs alternately against this
 * checkout's server and the ref's, both started the same way; prints both and the ratio
 * (this / ref). No targets in this mode.
 *
 * Environment: BENCH_TARGET_SCALE (multiplies the targets, default 1), BENCH_SECONDS (per run, default 5), BENCH_CONNECTIONS (16), BENCH_ROUNDS (3),
 * BENCH_LAUNCHES (RunInstances calls per run, 500), BENCH_SCALE_LARGE (instances stored in the large scale case, 100000),
 * BENCH_ONLY=regions|instances|launch|scale|contention to run one case.
 *
 *  6. Real instances (root and the container runtime; skipped with the reason elsewhere): tiny launch →
 *     SSH against crun run + an SSH login, debian-12 launch → SSH, 200 tiny instances at once, memory
 *     per idle instance. See bench/instances-real.ts; BENCH_ONLY=instances-real (or
 *     instances-real-tiny|instances-real-debian|instances-real-scale). Not in --compare mode.
 *  7. Security groups on real instances: a TCP stream between two instances with 1 and 1,000 rules
 *     (ratio, target ≥ 0.8) and AuthorizeSecurityGroupIngress → first packet allowed (median of 20,
 *     target under 200 ms). See bench/firewall-real.ts; BENCH_ONLY=firewall-real. Not in --compare mode.
 *  8. Snapshots in the reflink block store (root and the reflink probe; skipped with the reason elsewhere):
 *     full snapshot throughput vs dd of the device (target ≥ 0.5), bytes an incremental snapshot stores
 *     after 1% changed (≤ 2%), a usable volume from a 10 GiB snapshot (< 200 ms), incremental / full time
 *     on 10 GiB (≤ 5%). See bench/storage-real.ts; BENCH_ONLY=storage-real. Not in --compare mode.
 */
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { EventEmitter } from 'node:events';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REGIONS } from '../src/domain/regions.js';
import { failure, verdict, type Outcome } from './outcome.js';
import { formBody, send, signedRequest, type RawRequest } from '../test/helpers/sign.js';
import { loadConfig } from '../src/config.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { instanceCollection } from '../src/resources/ec2/instances.js';
import { LIVE_INDEX } from '../src/resources/ec2/kinds.js';
import { seedInstances } from './seed.js';
import { realInstanceCases, selectedRealCases } from './instances-real.js';
import { firewallCases } from './firewall-real.js';
import { storageCases } from './storage-real.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LAUNCHES = Number(process.env.BENCH_LAUNCHES ?? 500);
const ONLY = process.env.BENCH_ONLY;
const tmp = mkdtempSync(join(tmpdir(), 'overcast-bench-'));
const children: ChildProcess[] = [];
const anchorJs = join(tmp, 'anchor.mjs');

function parseArgs(argv: string[]): { compare?: string } {
  const out: { compare?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--compare') out.compare = argv[++i];
    else if (a.startsWith('--compare=')) out.compare = a.slice('--compare='.length);
    else throw new Error(`bench: unknown argument '${a}' (usage: npm run bench [-- --compare <git-ref>])`);
    if (out.compare === undefined || out.compare === '') throw new Error('bench: --compare needs a git ref');
  }
  return out;
}

interface Side {
  label: string;
  url: string;
  child: ChildProcess;
}

/**
 * Starts `node <args>` (plain node, no TypeScript loader) in `cwd`: Overcast as users run it,
 * through bin/overcast.js (a bundle), and the anchor compiled the same way.
 */
function startProcess(label: string, args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): Promise<Side> {
  const child = spawn(process.execPath, args, {
    cwd: opts.cwd ?? root,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  // BENCH_SERVER_LOG=FILE keeps what the servers print (with --trace-gc in BENCH_SERVER_NODE_ARGS, their collections)
  const log = process.env.BENCH_SERVER_LOG;
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      if (log) appendFileSync(log, d);
      out += d.toString();
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) resolve({ label, url: m[1]!, child });
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

let dataDirs = 0;
/** Where the Overcast under test lives: this checkout, or the --compare ref's extracted tree. */
interface Build {
  label: string;
  cwd: string;
}
/**
 * An Overcast server of `build` on a fresh data dir. Options go through the environment
 * (OVERCAST_*), which any version reads, and a version that lacks one ignores it.
 */
function startOvercast(b: Build, env: Record<string, string> = {}, label = b.label): Promise<Side> {
  const dataDir = join(tmp, `data-${++dataDirs}`);
  // 1,000 instances with public IPs need more than the default /24 pool: use the RFC 2544 benchmarking range.
  // BENCH_SERVER_NODE_ARGS (space separated, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") profiles the servers
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  return startProcess(label, [...nodeArgs, 'bin/overcast.js', 'server'], {
    cwd: b.cwd,
    // the control-plane cases measure the API on the mock drivers (the real-instance cases run their own servers)
    env: { OVERCAST_PORT: '0', OVERCAST_DATA_DIR: dataDir, OVERCAST_PUBLIC_IP_POOL: '198.18.0.0/15', OVERCAST_DRIVER: 'mock', ...env },
  });
}

function stop(side: Side): void {
  side.child.kill('SIGTERM');
}

/** CPU time (user + system, ms) a process has used so far, from /proc. */
function cpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = 100;

interface LoadResult {
  rps: number;
  mbps: number;
  errors: number;
  p50: number;
  /** server CPU per request, µs: steadier than req/s on a shared machine */
  cpuUs: number;
}

/** One load run: for DURATION seconds, or `amount` requests when given. */
async function load(side: Side, r: RawRequest, amount?: number): Promise<LoadResult> {
  const pid = side.child.pid;
  const cpu0 = cpuMs(pid);
  const t0 = performance.now();
  let last = t0;
  // without a callback, autocannon returns its run, an EventEmitter that is also a promise of the result
  const run = autocannon({
    url: side.url,
    connections: CONNECTIONS,
    ...(amount !== undefined ? { amount } : { duration: DURATION }),
    requests: [{ method: r.method, path: r.path, headers: r.headers, body: r.body }],
  }) as Promise<autocannon.Result> & EventEmitter;
  run.on('response', () => (last = performance.now()));
  const result = await run;
  return {
    // A run of a fixed number of requests: autocannon's per-second samples (and its start and
    // finish, which it reports at the next whole second) are too coarse; time the responses here.
    rps: amount !== undefined ? (result.requests.total * 1000) / (last - t0) : result.requests.average,
    mbps: result.throughput.average / 1e6,
    errors: result.errors + result.non2xx + result.timeouts,
    p50: result.latency.p50,
    cpuUs: ((cpuMs(pid) - cpu0) * 1000) / Math.max(1, result.requests.total),
  };
}

/**
 * Warms every side up, then runs them alternately ROUNDS times and keeps each one's best run
 * (errors summed over all runs), so a burst of noise from elsewhere on the machine hurts
 * no side more than another. `request(side, run)` gives the request of run `run` (0 = warm-up).
 */
async function alternate(sides: Side[], request: (side: Side, run: number) => Promise<RawRequest>, amount?: number): Promise<LoadResult[]> {
  const best: (LoadResult | undefined)[] = sides.map(() => undefined);
  for (let run = 0; run <= ROUNDS; run++) {
    for (const [i, side] of sides.entries()) {
      const r = await load(side, await request(side, run), amount);
      if (run === 0) continue;
      const b = best[i];
      if (!b) best[i] = r;
      else best[i] = r.rps > b.rps ? { ...r, errors: b.errors + r.errors } : { ...b, errors: b.errors + r.errors };
    }
  }
  return best.map((b) => b!);
}

function line(label: string, r: LoadResult, width: number): string {
  return `  ${`${label}:`.padEnd(width + 1)} ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, ${r.mbps.toFixed(1)} MB/s, server CPU ${r.cpuUs.toFixed(1)} µs/request, errors ${r.errors}`;
}

const outcomes: Outcome[] = [];
/** BENCH_TARGET_SCALE multiplies every target (e.g. to see how far above them a change is, or to check that a miss fails the run). */
const TARGET_SCALE = Number(process.env.BENCH_TARGET_SCALE ?? 1);

/** Prints a case: ratio sides[0] / sides[1], each side's numbers; records whether it met `target` (0: none). */
function report(name: string, baseTarget: number, sides: Side[], results: LoadResult[], note = ''): void {
  const target = baseTarget * TARGET_SCALE;
  const [a, b] = results as [LoadResult, LoadResult];
  const outcome: Outcome = { name, ratio: a.rps / b.rps, target, errors: results.reduce((n, r) => n + r.errors, 0) };
  const why = failure(outcome);
  const verdictText =
    target > 0
      ? `(target ≥ ${target}) ${why === undefined ? 'OK' : outcome.ratio < target ? 'BELOW TARGET' : 'FAILED REQUESTS'}`
      : `(reference, no target)${why === undefined ? '' : ' FAILED REQUESTS'}`;
  const width = Math.max(...sides.map((s) => s.label.length));
  console.log(
    `${name}: ratio ${outcome.ratio.toFixed(2)} (${sides[0]!.label} / ${sides[1]!.label}) ${verdictText}\n` +
      sides.map((s, i) => line(s.label, results[i]!, width)).join('\n') +
      `${note}\n  CPU-per-request ratio (${sides[1]!.label} / ${sides[0]!.label}, steadier on a shared machine): ${(b.cpuUs / a.cpuUs).toFixed(2)}`,
  );
  outcomes.push(outcome);
}

/** Checks that `req` answers 200 on `side`, and returns the body. */
async function sample(name: string, side: Side, req: RawRequest): Promise<string> {
  const r = await send(side.url, req);
  if (r.status !== 200) throw new Error(`${name}: ${side.label} answered ${r.status}: ${r.body.slice(0, 300)}`);
  return r.body;
}

/** A fixed-body case: against the anchor (its bytes taken from the first side), or against the --compare side. */
async function fixedCase(name: string, target: number, overcast: Side, other: Side | undefined, params: Record<string, string>): Promise<void> {
  const sign = (side: Side): Promise<RawRequest> => signedRequest(side.url, formBody(params));
  const body = await sample(name, overcast, await sign(overcast));
  if (other) {
    await sample(name, other, await sign(other));
    const signed = new Map<Side, RawRequest>();
    for (const s of [overcast, other]) signed.set(s, await sign(s));
    report(name, 0, [overcast, other], await alternate([overcast, other], async (s) => signed.get(s)!));
    return;
  }
  const file = join(tmp, `${name.replace(/\W+/g, '-')}.xml`);
  writeFileSync(file, body);
  const anchor = await startProcess('anchor', [anchorJs, file]);
  const req = await sign(overcast);
  try {
    report(name, target, [overcast, anchor], await alternate([overcast, anchor], async () => req), `\n  (response ${body.length} bytes)`);
  } finally {
    stop(anchor);
  }
}

async function firstImage(side: Side, region: string): Promise<string> {
  const body = await sample('DescribeImages', side, await signedRequest(side.url, formBody({ Action: 'DescribeImages', 'Filter.1.Name': 'architecture', 'Filter.1.Value.1': 'x86_64' }), { region }));
  const m = /<imageId>(ami-[0-9a-f]+)<\/imageId>/.exec(body);
  if (!m) throw new Error(`no image in ${region}: ${body.slice(0, 300)}`);
  return m[1]!;
}

/** RunInstances(1): each run in its own region, the same region on every side. */
async function launchCase(name: string, sides: Side[]): Promise<void> {
  const regions = REGIONS.map((r) => r.RegionName).slice(0, ROUNDS + 1);
  if (regions.length < ROUNDS + 1) throw new Error(`${name}: BENCH_ROUNDS ${ROUNDS} needs more regions than the ${REGIONS.length} served`);
  const images = new Map<string, string>();
  for (const side of sides) {
    for (const region of regions) {
      const image = await firstImage(side, region);
      if (images.has(region) && images.get(region) !== image) throw new Error(`${name}: the sides disagree on the image of ${region}`);
      images.set(region, image);
      // one launch first, so the region's default VPC and subnets exist before the clock starts
      await sample(name, side, await launchRequest(side, region, image));
    }
  }
  const results = await alternate(sides, (side, run) => launchRequest(side, regions[run]!, images.get(regions[run]!)!), LAUNCHES);
  report(name, 0, sides, results, `\n  (${LAUNCHES} launches per run, ${CONNECTIONS} connections)`);
}

function launchRequest(side: Side, region: string, image: string): Promise<RawRequest> {
  return signedRequest(side.url, formBody({ Action: 'RunInstances', ImageId: image, InstanceType: 't3.micro', MinCount: '1', MaxCount: '1' }), { region });
}

// ---------------------------------------------------------------- scale and contention

const SCALE_LARGE = Number(process.env.BENCH_SCALE_LARGE ?? 100_000);
const SCALE_SMALL = 100;
/** seeded instances left live (the rest terminated): the launches of every run must fit the account limit of 1,000 */
const SCALE_LIVE = 50;
const SCALE_LAUNCHES = 220;
const SCALE_REGION = 'us-east-1';
/** a /12 of the shared address space (100.64.0.0/10), Overcast's own: the mock driver routes nothing */
const BIG_POOL = '100.64.0.0/12';

interface Seeded {
  total: number;
  dir: string;
  liveId: string;
}

/** A data dir holding `total` instances of SCALE_REGION, written through the store before any server starts. */
function seededDir(total: number): Seeded {
  const dir = join(tmp, `seeded-${total}`);
  const config = loadConfig([], { OVERCAST_DATA_DIR: dir, OVERCAST_PUBLIC_IP_POOL: BIG_POOL });
  const store = new SqliteStore(dir);
  const t0 = performance.now();
  seedInstances(store, config, { region: SCALE_REGION, terminated: total - SCALE_LIVE, live: SCALE_LIVE });
  const liveId = instanceCollection({ store }).find(SCALE_REGION, LIVE_INDEX, '1')[0]!.InstanceId;
  store.close();
  console.log(`  (seeded ${total} instances, ${SCALE_LIVE} of them live, in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  return { total, dir, liveId };
}

/** RunInstances(1) and DescribeInstances(one id): large store / small store. */
async function scaleCase(b: Build): Promise<void> {
  const seeds = [seededDir(SCALE_LARGE), seededDir(SCALE_SMALL)];
  const sides: Side[] = [];
  for (const sd of seeds) {
    sides.push(await startOvercast(b, { OVERCAST_DATA_DIR: sd.dir, OVERCAST_PUBLIC_IP_POOL: BIG_POOL }, `${sd.total.toLocaleString('en')} stored`));
  }
  const image = await firstImage(sides[0]!, SCALE_REGION);
  const describe = new Map<Side, RawRequest>();
  for (const [i, side] of sides.entries()) {
    const req = await signedRequest(side.url, formBody({ Action: 'DescribeInstances', 'InstanceId.1': seeds[i]!.liveId }), { region: SCALE_REGION });
    await sample('DescribeInstances', side, req);
    describe.set(side, req);
  }
  const large = SCALE_LARGE.toLocaleString('en');
  report(`DescribeInstances(one id), ${large} vs 100 stored`, 0.8, sides, await alternate(sides, async (s) => describe.get(s)!));
  const launch = new Map<Side, RawRequest>();
  for (const side of sides) launch.set(side, await launchRequest(side, SCALE_REGION, image));
  report(
    `RunInstances(1), ${large} vs 100 stored`,
    0.8,
    sides,
    await alternate(sides, async (s) => launch.get(s)!, SCALE_LAUNCHES),
    `\n  (${SCALE_LAUNCHES} launches per run, ${CONNECTIONS} connections)`,
  );
  sides.forEach(stop);
}

/**
 * DescribeRegions latency from one keep-alive client, sequential calls for `ms`, in a process of
 * its own (so the load generator's event loop does not add to it): its p50 and p99 in ms.
 */
function probe(side: Side, r: RawRequest, ms: number): Promise<{ n: number; p50: number; p99: number; errors: number }> {
  const script = `
    import http from 'node:http';
    const { url, path, headers, body, ms } = JSON.parse(process.env.PROBE);
    const u = new URL(url);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const lat = [];
    let errors = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      const t = performance.now();
      const status = await new Promise((resolve, reject) => {
        const q = http.request({ host: u.hostname, port: u.port, method: 'POST', path, agent, headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        q.on('error', reject);
        q.end(body);
      });
      lat.push(performance.now() - t);
      if (status !== 200) errors++;
    }
    lat.sort((a, b) => a - b);
    const at = (q) => lat[Math.min(lat.length - 1, Math.floor(lat.length * q))];
    console.log(JSON.stringify({ n: lat.length, p50: at(0.5), p99: at(0.99), errors }));
    agent.destroy();
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, PROBE: JSON.stringify({ url: side.url, path: r.path, headers: r.headers, body: r.body, ms }) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { n: number; p50: number; p99: number; errors: number }) : reject(new Error(`probe exited with ${code}`))));
  });
}

const CONTENTION_WRITERS = 500;
const PROBE_MS = DURATION * 1000;

/** DescribeRegions p99 while 500 RunInstances are in flight, over its idle p99. */
async function contentionCase(b: Build): Promise<void> {
  const side = await startOvercast(b, { OVERCAST_PUBLIC_IP_POOL: BIG_POOL }, 'overcast');
  // launches spread over 20 regions (1,000 live instances each at most), each region set up first
  const launches: RawRequest[] = [];
  for (const r of REGIONS.slice(0, 20)) {
    const region = r.RegionName;
    const req = await launchRequest(side, region, await firstImage(side, region));
    await sample('RunInstances', side, req);
    launches.push(req);
  }
  const regionsReq = await signedRequest(side.url, formBody({ Action: 'DescribeRegions' }));
  await probe(side, regionsReq, 1000); // warm-up
  const idle = await probe(side, regionsReq, PROBE_MS);
  const writes = autocannon({
    url: side.url,
    connections: CONTENTION_WRITERS,
    duration: DURATION + 2,
    requests: launches.map((r) => ({ method: r.method, path: r.path, headers: r.headers, body: r.body })),
  }) as Promise<autocannon.Result> & EventEmitter;
  await new Promise((r) => setTimeout(r, 1000)); // every writer connected and sending
  const loaded = await probe(side, regionsReq, PROBE_MS);
  const w = await writes;
  stop(side);
  const limited = w.non2xx;
  const target = 5 * TARGET_SCALE;
  const outcome: Outcome = { name: 'DescribeRegions p99 under write load', ratio: loaded.p99 / idle.p99, target, atMost: true, errors: idle.errors + loaded.errors };
  const why = failure(outcome);
  console.log(
    `DescribeRegions p99 under write load: ratio ${outcome.ratio.toFixed(2)} (with ${CONTENTION_WRITERS} RunInstances in flight / idle) (target ≤ ${target}) ${why === undefined ? 'OK' : outcome.ratio > target ? 'ABOVE TARGET' : 'FAILED REQUESTS'}\n` +
      `  idle:   p50 ${idle.p50.toFixed(2)} ms, p99 ${idle.p99.toFixed(2)} ms, ${idle.n} calls, errors ${idle.errors}\n` +
      `  loaded: p50 ${loaded.p50.toFixed(2)} ms, p99 ${loaded.p99.toFixed(2)} ms, ${loaded.n} calls, errors ${loaded.errors}\n` +
      `  writes: ${w.requests.average.toFixed(0)} RunInstances/s, p99 ${w.latency.p99} ms, ${w.requests.total} calls, non-2xx ${limited} (RequestLimitExceeded or InstanceLimitExceeded), errors ${w.errors + w.timeouts}`,
  );
  outcomes.push(outcome);
}

/** Extracts `ref` into a temporary directory with this checkout's node_modules linked in. */
function extractRef(ref: string): Build {
  let commit: string;
  try {
    commit = execFileSync('git', ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`bench: --compare: '${ref}' is not a commit in this repository`);
  }
  const dir = join(tmp, `ref-${commit.slice(0, 12)}`);
  mkdirSync(dir);
  const tar = execFileSync('git', ['archive', '--format=tar', commit], { cwd: root, maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', dir], { input: tar });
  symlinkSync(realpathSync(join(root, 'node_modules')), join(dir, 'node_modules'));
  return { label: commit.startsWith(ref) ? ref : `${ref} (${commit.slice(0, 8)})`, cwd: dir };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  await build({ entryPoints: [join(root, 'bench/anchor.ts')], outfile: anchorJs, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' });
  const here: Build = { label: args.compare ? 'this' : 'overcast', cwd: root };
  const other = args.compare !== undefined ? extractRef(args.compare) : undefined;
  const real = selectedRealCases(ONLY);
  // BENCH_ONLY=firewall-real: only the security groups on real instances
  if (ONLY === 'firewall-real') {
    if (other) throw new Error('bench: the real-instance cases have no --compare mode');
    await firewallCases(outcomes);
    const v = verdict(outcomes, false);
    console.log(v.text);
    process.exitCode = v.exitCode;
    return;
  }
  // BENCH_ONLY=storage-real: only the reflink block store's snapshots
  if (ONLY === 'storage-real') {
    if (other) throw new Error('bench: the real-storage cases have no --compare mode');
    await storageCases(outcomes, TARGET_SCALE);
    const v = verdict(outcomes, false);
    console.log(v.text);
    process.exitCode = v.exitCode;
    return;
  }
  // BENCH_ONLY=instances-real…: only real instances, no server of the other cases
  if (ONLY !== undefined && real.length > 0) {
    if (other) throw new Error('bench: the real-instance cases have no --compare mode');
    await realInstanceCases(real, outcomes, TARGET_SCALE);
    const v = verdict(outcomes, false);
    console.log(v.text);
    process.exitCode = v.exitCode;
    return;
  }
  const overcast = await startOvercast(here);
  const before = other ? await startOvercast(other) : undefined;
  console.log(
    `bench: ${DURATION}s per run, ${ROUNDS} rounds + warm-up, ${CONNECTIONS} connections, Overcast at ${overcast.url}` +
      (before ? `; comparing with ${before.label} at ${before.url} (ratio: this / ref; no targets)` : ''),
  );

  if (ONLY === undefined || ONLY === 'regions') {
    await fixedCase('DescribeRegions', 0.5, overcast, before, { Action: 'DescribeRegions' });
    // The same call with signatures unchecked (--auth any), to show what SigV4 verification costs.
    const open = await startOvercast(here, { OVERCAST_AUTH: 'any' });
    const openBefore = other ? await startOvercast(other, { OVERCAST_AUTH: 'any' }) : undefined;
    await fixedCase('DescribeRegions with --auth any', 0, open, openBefore, { Action: 'DescribeRegions' });
    stop(open);
    if (openBefore) stop(openBefore);
  }

  if (ONLY === undefined || ONLY === 'instances') {
    // 1,000 instances, launched in batches of 100.
    for (const side of before ? [overcast, before] : [overcast]) {
      const image = await firstImage(side, 'us-east-1');
      for (let i = 0; i < 10; i++) {
        await sample('RunInstances', side, await signedRequest(side.url, formBody({ Action: 'RunInstances', ImageId: image, InstanceType: 't3.micro', MinCount: '100', MaxCount: '100' })));
      }
      const body = await sample('DescribeInstances', side, await signedRequest(side.url, formBody({ Action: 'DescribeInstances' })));
      const count = (body.match(/<instanceId>/g) ?? []).length;
      if (count !== 1000) throw new Error(`expected 1000 instances, DescribeInstances on ${side.label} shows ${count}`);
    }
    await fixedCase('DescribeInstances-1000', 0.3, overcast, before, { Action: 'DescribeInstances' });
  }
  stop(overcast);
  if (before) stop(before);

  if (ONLY === undefined || ONLY === 'launch') {
    if (other) {
      const sides = [await startOvercast(here), await startOvercast(other)];
      await launchCase('RunInstances(1)', sides);
      sides.forEach(stop);
    } else {
      // What waiting for the disk at every commit costs: the store's synchronous pragma, normal vs full.
      const sides = [
        await startOvercast(here, { OVERCAST_STORE_SYNC: 'normal' }, 'store-sync normal'),
        await startOvercast(here, { OVERCAST_STORE_SYNC: 'full' }, 'store-sync full'),
      ];
      await launchCase('RunInstances(1) store-sync normal vs full', sides);
      sides.forEach(stop);
    }
  }

  if (!other && (ONLY === undefined || ONLY === 'scale')) await scaleCase(here);
  if (!other && (ONLY === undefined || ONLY === 'contention')) await contentionCase(here);
  if (!other && ONLY === undefined) await realInstanceCases(real, outcomes, TARGET_SCALE);
  if (!other && ONLY === undefined) await firewallCases(outcomes);
  if (!other && ONLY === undefined) await storageCases(outcomes, TARGET_SCALE);

  const v = verdict(outcomes, other !== undefined);
  console.log(v.text);
  process.exitCode = v.exitCode;
}

main()
  .catch((e: unknown) => {
    console.error(e instanceof Error && e.message.startsWith('bench:') ? e.message : e);
    process.exitCode = 1;
  })
  .finally(() => {
    // a server already told to stop may still be writing its CPU profile: signal only the others
    for (const c of children) if (c.exitCode === null && c.signalCode === null && !c.killed) c.kill('SIGTERM');
    rmSync(tmp, { recursive: true, force: true });
  });
