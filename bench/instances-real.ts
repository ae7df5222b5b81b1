/**
 * Real instances (the container runtime), measured through @aws-sdk/client-ec2 and ssh2, with the
 * server in this process (as the integration tests run it). Selected with BENCH_ONLY=instances-real
 * (all three), or instances-real-tiny, instances-real-debian, instances-real-scale for one of them.
 *
 *  1. RunInstances → first successful SSH login (`true`) of the tiny image, median of BENCH_REAL_LAUNCHES
 *     (10) sequential launches, beside two anchors measured in the same run: (a) `crun run` of
 *     /bin/true in the tiny image's root filesystem (loop-mounted read-only), (b) one SSH login to an
 *     instance already running. Targets: ≤ 3 × (a + b), and under 500 ms.
 *  2. The same for debian-12 (SSH as admin, the key installed by cloud-init), median of
 *     BENCH_REAL_DEBIAN_LAUNCHES (3). Target under 3 s. Then the memory of those instances once
 *     idle (cloud-init done): target ≤ 40 MiB each.
 *  3. Scale: tiny instances launched in batches of 25 up to BENCH_REAL_SCALE (200), every one asked
 *     for an SSH login (bounded: 3 minutes overall); the count that answered, target ≥ 200. Then the
 *     memory of an idle tiny instance (its cgroup's memory.usage_in_bytes, averaged): ≤ 8 MiB.
 *
 * Skipped, with the reason printed, when not root or when the container runtime's probe fails.
 * Only loopback and the bench's own public pool (198.18.0.0/23) are contacted: while the bench runs,
 * the pool is an `unreachable` route on the host, so an address not (or no longer) mapped to an
 * instance is refused on the host instead of going to the default route. The host is reset
 * afterwards (resetHost) and the bench fails when anything is left.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type _InstanceType,
  type Instance,
} from '@aws-sdk/client-ec2';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CGROUP_PARENT } from '../src/host/cgroups.js';
import { hostLeftovers, resetHost } from '../src/host-reset.js';
import { realRuntimeSkip, sshExec } from '../test/helpers/real-instances.js';
import { startTestServer, type TestServer } from '../test/helpers/server.js';
import { failure, type Outcome } from './outcome.js';
import { median, sleep } from './stats.js';

const IMAGE_DIR = process.env.BENCH_IMAGE_DIR ?? '/var/tmp/overcast-images';
/** the bench's own host prefix and public pool (RFC 2544's benchmarking range; no test uses them) */
const PREFIX = 'ovbn';
const POOL = '198.18.0.0/23';
const LAUNCHES = Number(process.env.BENCH_REAL_LAUNCHES ?? 10);
const DEBIAN_LAUNCHES = Number(process.env.BENCH_REAL_DEBIAN_LAUNCHES ?? 3);
const SCALE = Number(process.env.BENCH_REAL_SCALE ?? 200);
const BATCH = 25;
const SCALE_DEADLINE_MS = 3 * 60_000;
const MiB = 1024 * 1024;

export const REAL_CASES = ['instances-real-tiny', 'instances-real-debian', 'instances-real-scale'] as const;
type RealCase = (typeof REAL_CASES)[number];

/** The real cases BENCH_ONLY selects (all when unset or 'instances-real'). */
export function selectedRealCases(only: string | undefined): RealCase[] {
  if (only === undefined || only === 'instances-real') return [...REAL_CASES];
  return REAL_CASES.filter((c) => c === only);
}


const ms = (x: number) => `${x.toFixed(0)} ms`;
const list = (xs: readonly number[]) => xs.map((x) => x.toFixed(0)).join(', ');

/** Why the real cases cannot run here, or undefined. */
async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'not root (real instances need root: namespaces, mounts, cgroups)';
  return realRuntimeSkip(PREFIX);
}

/** One SSH login running `command`; resolves with its exit code. */
function ssh(host: string, key: string, user: string, command = 'true', timeoutMs = 5000): Promise<number> {
  return sshExec(host, key, command, { user, timeoutMs }).then((r) => r.code);
}

/** Whether `ip` is one of the bench pool's addresses (the only ones SSH is tried at). */
function inPool(ip: string | undefined): ip is string {
  return ip !== undefined && /^198\.18\.[01]\.\d+$/.test(ip);
}

interface Ctx {
  t: TestServer;
  c: EC2Client;
  key: string;
  tiny: string;
  debian: string;
  /** every instance launched (terminated at the end) */
  launched: Set<string>;
  outcomes: Outcome[];
  scale: number;
}

/** Records and prints one outcome: `value` against `target` (scaled), at most or at least. */
function judge(ctx: Ctx, name: string, value: number, baseTarget: number, atMost: boolean, unit: string, errors = 0): void {
  const target = baseTarget * ctx.scale;
  const o: Outcome = { name, ratio: value, target, atMost, errors };
  const why = failure(o);
  const verdict = why === undefined ? 'OK' : errors > 0 ? 'FAILED' : atMost ? 'ABOVE TARGET' : 'BELOW TARGET';
  console.log(`  ${name}: ${value.toFixed(Number.isInteger(value) ? 0 : unit === '' ? 2 : 1)}${unit} (target ${atMost ? '≤' : '≥'} ${Number(target.toFixed(2))}${unit}) ${verdict}`);
  ctx.outcomes.push(o);
}

async function describe(c: EC2Client, ids: string[]): Promise<Instance[]> {
  const out: Instance[] = [];
  for (let i = 0; i < ids.length; i += 200) {
    const r = await c.send(new DescribeInstancesCommand({ InstanceIds: ids.slice(i, i + 200) }));
    for (const res of r.Reservations ?? []) out.push(...(res.Instances ?? []));
  }
  return out;
}

/** Polls until the instance runs with a public IP of the pool (bounded); throws when it ends instead. */
async function waitRunning(c: EC2Client, id: string, everyMs: number, timeoutMs: number): Promise<Instance> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const [i] = await describe(c, [id]);
    const state = i?.State?.Name;
    if (state === 'running' && inPool(i!.PublicIpAddress)) return i!;
    if (state === 'terminated' || state === 'stopped') throw new Error(`${id} is ${state}: ${i?.StateReason?.Message ?? ''}`);
    await sleep(everyMs);
  }
  throw new Error(`${id} did not run within ${timeoutMs} ms`);
}

/** Tries SSH logins until one succeeds (bounded); resolves with the number of attempts. */
async function untilLogin(ip: string, key: string, user: string, everyMs: number, timeoutMs: number): Promise<number> {
  const end = performance.now() + timeoutMs;
  let last: unknown;
  for (let n = 1; performance.now() < end; n++) {
    try {
      if ((await ssh(ip, key, user, 'true', Math.max(500, Math.min(5000, end - performance.now())))) === 0) return n;
      last = new Error('`true` did not exit 0');
    } catch (e) {
      last = e;
    }
    await sleep(everyMs);
  }
  throw new Error(`no SSH login as ${user}@${ip} within ${timeoutMs} ms: ${(last as Error | undefined)?.message ?? ''}`);
}

async function launch(ctx: Ctx, image: string, type: _InstanceType, count = 1): Promise<string[]> {
  const out = await ctx.c.send(new RunInstancesCommand({ ImageId: image, InstanceType: type, MinCount: count, MaxCount: count, KeyName: 'bench' }));
  const ids = (out.Instances ?? []).map((i) => i.InstanceId!);
  for (const id of ids) ctx.launched.add(id);
  return ids;
}

/** Terminates `ids` and waits (bounded) until they are terminated. */
async function terminate(ctx: Ctx, ids: string[], timeoutMs = 120_000): Promise<void> {
  if (ids.length === 0) return;
  for (let i = 0; i < ids.length; i += 200) await ctx.c.send(new TerminateInstancesCommand({ InstanceIds: ids.slice(i, i + 200) }));
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const left = (await describe(ctx.c, ids)).filter((i) => i.State?.Name !== 'terminated');
    if (left.length === 0) {
      for (const id of ids) ctx.launched.delete(id);
      return;
    }
    await sleep(200);
  }
  throw new Error(`instances not terminated within ${timeoutMs} ms`);
}

/** RunInstances → running → first SSH login, in ms; the instance is left running. */
async function launchToLogin(ctx: Ctx, image: string, type: _InstanceType, user: string, timeoutMs: number): Promise<{ id: string; ip: string; ms: number; running: number }> {
  const t0 = performance.now();
  const [id] = await launch(ctx, image, type);
  // SSH only once the instance runs: its public IP is routed to it from then on
  const i = await waitRunning(ctx.c, id!, 5, timeoutMs);
  const running = performance.now() - t0;
  await untilLogin(i.PublicIpAddress!, ctx.key, user, 5, timeoutMs);
  return { id: id!, ip: i.PublicIpAddress!, ms: performance.now() - t0, running };
}

// ------------------------------------------------------------------ anchor (a): crun run /bin/true

/** `crun run` of /bin/true in the tiny image's root filesystem, loop-mounted read-only: each run's wall time, ms. */
async function crunTrue(runs: number): Promise<number[]> {
  const bundle = mkdtempSync(join(tmpdir(), 'overcast-bench-crun-'));
  const rootfs = join(bundle, 'rootfs');
  mkdirSync(rootfs);
  execFileSync('mount', ['-o', 'loop,ro', join(IMAGE_DIR, 'tiny', 'root.ext4'), rootfs]);
  try {
    execFileSync('crun', ['spec'], { cwd: bundle });
    const spec = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { process: { terminal: boolean; args: string[] }; root: { path: string; readonly: boolean } };
    spec.process.terminal = false;
    spec.process.args = ['/bin/true'];
    spec.root = { path: 'rootfs', readonly: true };
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
    const times: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) =>
        execFile('crun', ['run', '--bundle', bundle, `ovbn-anchor-${process.pid}-${i}`], (err, _o, stderr) => (err ? reject(new Error(`crun run: ${err.message} ${stderr}`)) : resolve())),
      );
      if (i > 0) times.push(performance.now() - t0); // run 0 warms the page cache
    }
    return times;
  } finally {
    execFileSync('umount', [rootfs]);
    rmSync(bundle, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ the cases

async function tinyCase(ctx: Ctx): Promise<void> {
  console.log(`instances-real-tiny: RunInstances → first SSH login (tiny, t3.nano), ${LAUNCHES} sequential launches`);
  // a warm-up launch (the image is built on first use; the volume pool, the VPC's namespaces and the image's
  // first clone are set up once); it stays up for anchor (b)
  const warm = await launchToLogin(ctx, ctx.tiny, 't3.nano', 'admin', 180_000);
  console.log(`  (warm-up launch: ${ms(warm.ms)})`);
  // anchor (a) needs the image's root filesystem, which the warm-up launch built if it was not cached
  const crun = await crunTrue(LAUNCHES);
  const logins: number[] = [];
  for (let i = 0; i < LAUNCHES; i++) {
    const t0 = performance.now();
    await ssh(warm.ip, ctx.key, 'admin');
    logins.push(performance.now() - t0);
  }
  const launches: number[] = [];
  const running: number[] = [];
  for (let i = 0; i < LAUNCHES; i++) {
    const r = await launchToLogin(ctx, ctx.tiny, 't3.nano', 'admin', 30_000);
    launches.push(r.ms);
    running.push(r.running);
    await terminate(ctx, [r.id]);
  }
  await terminate(ctx, [warm.id]);
  const a = median(crun);
  const b = median(logins);
  const l = median(launches);
  console.log(
    `  launch → SSH: median ${ms(l)} (${list(launches)})\n` +
      `    of which RunInstances → running seen by DescribeInstances: median ${ms(median(running))} (${list(running)})\n` +
      `  anchor (a) crun run /bin/true in the tiny root: median ${ms(a)} (${list(crun)})\n` +
      `  anchor (b) SSH login to a running tiny instance: median ${ms(b)} (${list(logins)})\n` +
      `  ratio launch / (a + b) = ${(l / (a + b)).toFixed(2)}`,
  );
  judge(ctx, 'tiny launch → SSH / (crun run + SSH login)', l / (a + b), 3, true, '');
  judge(ctx, 'tiny launch → SSH', l, 500, true, ' ms');
}

/** The cgroup's memory.usage_in_bytes of each instance (v1 memory hierarchy), bytes. */
function memoryUsage(ids: readonly string[]): number[] {
  return ids.map((id) => Number(readFileSync(`/sys/fs/cgroup/memory/${CGROUP_PARENT}/${id}/memory.usage_in_bytes`, 'utf8').trim()));
}

/** The average of memory.stat's total_<field> over the instances, MiB (what usage_in_bytes is made of). */
function memoryStat(ids: readonly string[], field: string): number {
  let sum = 0;
  for (const id of ids) {
    const text = readFileSync(`/sys/fs/cgroup/memory/${CGROUP_PARENT}/${id}/memory.stat`, 'utf8');
    sum += Number(new RegExp(`^total_${field} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
  }
  return sum / ids.length / MiB;
}

function memoryLine(what: string, ids: readonly string[]): number {
  const bytes = memoryUsage(ids);
  const avg = bytes.reduce((s, x) => s + x, 0) / bytes.length / MiB;
  const sorted = [...bytes].sort((x, y) => x - y);
  const parts = ['rss', 'cache', 'shmem', 'mapped_file'].map((f) => `${f} ${memoryStat(ids, f).toFixed(1)}`).join(', ');
  console.log(
    `  memory of an idle ${what} (memory.usage_in_bytes, ${bytes.length} instances): average ${avg.toFixed(1)} MiB, min ${(sorted[0]! / MiB).toFixed(1)}, max ${(sorted.at(-1)! / MiB).toFixed(1)}\n` +
      `    memory.stat averages, MiB: ${parts} (cache: page cache of files the instance read or wrote, charged to its cgroup)`,
  );
  return avg;
}

async function debianCase(ctx: Ctx): Promise<void> {
  console.log(`instances-real-debian: RunInstances → first SSH login as admin (debian-12, t3.small, key from cloud-init), median of ${DEBIAN_LAUNCHES} sequential launches (each takes seconds: ${DEBIAN_LAUNCHES} is enough)`);
  const launches: number[] = [];
  const running: number[] = [];
  const ids: string[] = [];
  const ips: string[] = [];
  for (let i = 0; i < DEBIAN_LAUNCHES; i++) {
    const r = await launchToLogin(ctx, ctx.debian, 't3.small', 'admin', 120_000);
    launches.push(r.ms);
    running.push(r.running);
    ids.push(r.id);
    ips.push(r.ip);
  }
  console.log(`  launch → SSH: median ${ms(median(launches))} (${list(launches)})\n    of which RunInstances → running: median ${ms(median(running))} (${list(running)})`);
  judge(ctx, 'debian-12 launch → SSH', median(launches), 3000, true, ' ms');
  // idle: cloud-init finished, then a moment for what it started to settle
  for (const ip of ips) await ssh(ip, ctx.key, 'admin', 'cloud-init status --wait >/dev/null 2>&1; true', 120_000);
  await sleep(5000);
  judge(ctx, 'debian-12 memory per idle instance', memoryLine('debian-12 instance', ids), 40, true, ' MiB');
  await terminate(ctx, ids);
}

async function scaleCase(ctx: Ctx): Promise<void> {
  console.log(`instances-real-scale: tiny instances (t3.nano) launched ${BATCH} per RunInstances up to ${SCALE}, each asked for an SSH login (3 minutes overall)`);
  const t0 = performance.now();
  const deadline = t0 + SCALE_DEADLINE_MS;
  const ids: string[] = [];
  for (let n = 0; n < SCALE; n += BATCH) ids.push(...(await launch(ctx, ctx.tiny, 't3.nano', Math.min(BATCH, SCALE - n))));
  const launched = performance.now() - t0;
  const answered = new Set<string>();
  const ipOf = new Map<string, string>();
  let ended = 0;
  let firstAll: number | undefined;
  while (performance.now() < deadline && answered.size < ids.length) {
    const pending = ids.filter((id) => !answered.has(id));
    for (const i of await describe(ctx.c, pending)) {
      if (i.State?.Name === 'running' && inPool(i.PublicIpAddress)) ipOf.set(i.InstanceId!, i.PublicIpAddress!);
      if (i.State?.Name === 'terminated' || i.State?.Name === 'stopped') ended++;
    }
    const ready = pending.filter((id) => ipOf.has(id));
    // at most 20 logins at once
    for (let k = 0; k < ready.length; k += 20) {
      await Promise.all(
        ready.slice(k, k + 20).map(async (id) => {
          if ((await ssh(ipOf.get(id)!, ctx.key, 'admin', 'true', 5000).catch(() => -1)) === 0) answered.add(id);
        }),
      );
    }
    if (ended > 0) break;
    if (answered.size < ids.length) await sleep(500);
  }
  if (answered.size === ids.length) firstAll = performance.now() - t0;
  console.log(
    `  ${answered.size} of ${ids.length} answered an SSH login` +
      (firstAll !== undefined ? ` (all of them ${(firstAll / 1000).toFixed(1)} s after the first RunInstances; the ${ids.length / BATCH} RunInstances calls took ${(launched / 1000).toFixed(1)} s)` : '') +
      (ended > 0 ? `; ${ended} ended (stopped or terminated) instead of running` : ''),
  );
  judge(ctx, 'tiny instances answering SSH at once', answered.size, SCALE, false, '');
  // idle: nothing logged in for a while
  await sleep(10_000);
  const up = ids.filter((id) => answered.has(id) && existsSync(`/sys/fs/cgroup/memory/${CGROUP_PARENT}/${id}`));
  if (up.length > 0) judge(ctx, 'tiny memory per idle instance', memoryLine('tiny instance', up), 8, true, ' MiB');
  const t1 = performance.now();
  await terminate(ctx, ids, 300_000);
  console.log(`  (terminating ${ids.length} took ${((performance.now() - t1) / 1000).toFixed(1)} s)`);
}

/** The unreachable route that keeps the pool on the host while the bench runs (see the file's comment). */
function poolRoute(add: boolean): void {
  execFileSync('ip', ['route', add ? 'replace' : 'del', 'unreachable', POOL], { stdio: add ? 'inherit' : 'ignore' });
}

/** Runs the selected real-instance cases, pushing their outcomes; skips them (printing why) where they cannot run. */
export async function realInstanceCases(selected: readonly RealCase[], outcomes: Outcome[], scale: number): Promise<void> {
  if (selected.length === 0) return;
  const why = await skipReason();
  if (why !== undefined) {
    console.log(`instances-real: SKIPPED (${why})`);
    return;
  }
  poolRoute(true);
  const t = await startTestServer({ driver: 'container', hostPrefix: PREFIX, publicIpPool: POOL, imageDir: IMAGE_DIR });
  const config = t.server.config;
  const ctx: Ctx = { t, c: t.client(), key: '', tiny: '', debian: '', launched: new Set(), outcomes, scale };
  try {
    const image = async (name: string) =>
      (await ctx.c.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: [name] }] }))).Images![0]!.ImageId!;
    ctx.tiny = await image('overcast/tiny-*');
    ctx.debian = await image('overcast/debian-12-amd64-*');
    ctx.key = (await ctx.c.send(new CreateKeyPairCommand({ KeyName: 'bench', KeyType: 'ed25519' }))).KeyMaterial!;
    // as on EC2, the default group admits only its own members: SSH is opened as a user opens it
    await ctx.c.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: 'default', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }] }));
    if (selected.includes('instances-real-tiny')) await tinyCase(ctx);
    if (selected.includes('instances-real-debian')) await debianCase(ctx);
    if (selected.includes('instances-real-scale')) await scaleCase(ctx);
  } finally {
    try {
      if (ctx.launched.size > 0) await terminate(ctx, [...ctx.launched], 300_000).catch((e: unknown) => console.error(`instances-real: terminate: ${(e as Error).message}`));
      await t.server.close();
    } finally {
      const left = await resetHost(config, { cgroups: false });
      await t.close();
      poolRoute(false);
      const after = await hostLeftovers(config);
      const o: Outcome = { name: 'instances-real: nothing left on the host', ratio: 1, target: 0, errors: left.length + after.length };
      console.log(left.length + after.length === 0 ? '  (host clean after reset)' : `  LEFT ON THE HOST: ${[...left, ...after].join(', ')}`);
      outcomes.push(o);
    }
  }
}
