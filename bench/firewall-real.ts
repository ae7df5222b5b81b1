/**
 * Security groups on real instances (the container runtime and the nft firewall), measured through
 * @aws-sdk/client-ec2 with the server in this process. Selected with BENCH_ONLY=firewall-real.
 *
 *  1. Throughput of one TCP stream (iperf3, BENCH_FW_SECONDS = 3 s) between two tiny instances with
 *     1 rule and with 1,000 rules in the receiver's group, BENCH_FW_ROUNDS (3) rounds alternating the
 *     two; ratio of the medians (1,000 / 1). Target ≥ 0.8: rules go into nftables sets, not a chain.
 *  2. AuthorizeSecurityGroupIngress returning → the first TCP connection the new rule lets through,
 *     median of BENCH_FW_AUTHORIZE (20). A prober inside the sender's namespace tries every 10 ms
 *     (each attempt given 10 ms) and prints the time of its first success. Target under 200 ms.
 *
 * iperf3 runs inside the instances' network namespaces (the host's binary, Debian package iperf3);
 * skipped, with the reason printed, when it is missing, when not root, or when the runtime's probe
 * fails. Only the instances' private addresses are contacted. The host is reset afterwards.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSubnetsCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  type EC2Client,
  type Instance,
  type IpPermission,
} from '@aws-sdk/client-ec2';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { hostLeftovers, resetHost } from '../src/host-reset.js';
import { hasCommand } from '../src/host/exec.js';
import { realRuntimeSkip } from '../test/helpers/real-instances.js';
import { startTestServer } from '../test/helpers/server.js';
import { failure, type Outcome } from './outcome.js';
import { median, sleep } from './stats.js';
import { inNsCommand } from '../src/network/drivers/netns.js';

const IMAGE_DIR = process.env.BENCH_IMAGE_DIR ?? '/var/tmp/overcast-images';
const PREFIX = 'ovbw';
const POOL = '198.18.4.0/24';
const SECONDS = Number(process.env.BENCH_FW_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_FW_ROUNDS ?? 3);
const AUTHORIZE = Number(process.env.BENCH_FW_AUTHORIZE ?? 20);
const RULES = 1000;


function judge(outcomes: Outcome[], name: string, value: number, target: number, atMost: boolean, unit: string): void {
  const o: Outcome = { name, ratio: value, target, atMost, errors: 0 };
  const why = failure(o);
  console.log(`  ${name}: ${value.toFixed(unit === '' ? 2 : 0)}${unit} (target ${atMost ? '<' : '≥'} ${target}${unit}) ${why === undefined ? 'OK' : atMost ? 'ABOVE TARGET' : 'BELOW TARGET'}`);
  outcomes.push(o);
}

const nsOf = (i: Instance) => `${PREFIX}-${i.InstanceId}`;

function exec(cmd: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${err.message} ${stderr}`)) : resolve(stdout)));
  });
}

/** One iperf3 run from `from` to `to`: received bits per second. */
async function stream(from: Instance, to: Instance): Promise<number> {
  const server = spawn(...inNsCommand(nsOf(to), 'iperf3', ['-s', '-1', '-p', '5201']), { stdio: 'ignore' });
  try {
    await sleep(300);
    const out = await exec(...inNsCommand(nsOf(from), 'iperf3', ['-c', to.PrivateIpAddress!, '-p', '5201', '-t', String(SECONDS), '-J']), (SECONDS + 20) * 1000);
    const doc = JSON.parse(out) as { end: { sum_received: { bits_per_second: number } } };
    return doc.end.sum_received.bits_per_second;
  } finally {
    server.kill('SIGKILL');
  }
}

/** A TCP listener on port 7000 inside a namespace. */
function listener(ns: string): ChildProcess {
  return spawn(...inNsCommand(ns, process.execPath, ['-e', `require('net').createServer(c=>c.destroy()).listen(7000);setTimeout(()=>process.exit(0),600000)`]), { stdio: 'ignore' });
}

/** A prober in a namespace: on each line on stdin it tries to connect until it can, then prints Date.now() of the success. */
function prober(ns: string, address: string): { child: ChildProcess; next: () => Promise<number> } {
  const script =
    `const net=require('net');let on=false;` +
    `function tryOnce(){if(!on)return;const s=net.connect(7000,'${address}');const t=setTimeout(()=>{s.destroy();setTimeout(tryOnce,0)},10);` +
    `s.on('connect',()=>{clearTimeout(t);const now=Date.now();s.destroy();on=false;console.log(now)});s.on('error',()=>{clearTimeout(t);s.destroy();setTimeout(tryOnce,10)})}` +
    `process.stdin.on('data',()=>{on=true;tryOnce()});`;
  const child = spawn(...inNsCommand(ns, process.execPath, ['-e', script]), { stdio: ['pipe', 'pipe', 'inherit'] });
  let pending: ((t: number) => void) | undefined;
  child.stdout!.on('data', (b: Buffer) => {
    const t = Number(b.toString().trim().split('\n').at(-1));
    pending?.(t);
    pending = undefined;
  });
  return {
    child,
    next: () =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the prober never connected (10 s)')), 10_000);
        pending = (t) => {
          clearTimeout(timer);
          resolve(t);
        };
        child.stdin!.write('go\n');
      }),
  };
}

/** 999 rules that match nothing the bench sends (other ports from many networks), beside the one that matters. */
function manyRules(): IpPermission[] {
  const perms: IpPermission[] = [];
  for (let i = 0; i < RULES - 1; i++) {
    perms.push({ IpProtocol: 'tcp', FromPort: 10000 + i, ToPort: 10000 + i, IpRanges: [{ CidrIp: `10.${(i >> 8) & 255}.${i & 255}.0/24` }] });
  }
  return perms;
}

export async function firewallCases(outcomes: Outcome[]): Promise<void> {
  const why = process.getuid?.() !== 0 ? 'not root' : !(await hasCommand('iperf3')) ? 'iperf3 is not installed (Debian package iperf3)' : await realRuntimeSkip(PREFIX);
  if (why !== undefined) {
    console.log(`firewall-real: SKIPPED (${why})`);
    return;
  }
  mkdirSync(IMAGE_DIR, { recursive: true });
  const t = await startTestServer({ driver: 'container', hostPrefix: PREFIX, publicIpPool: POOL, imageDir: IMAGE_DIR, rulesPerSecurityGroup: RULES });
  const config = t.server.config;
  const c: EC2Client = t.client();
  const launched: string[] = [];
  const children: ChildProcess[] = [];
  try {
    const imageId = (await c.send(new DescribeImagesCommand({ Owners: ['amazon'], Filters: [{ Name: 'name', Values: ['overcast/tiny-*'] }] }))).Images![0]!.ImageId!;
    const subnet = (await c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'default-for-az', Values: ['true'] }] }))).Subnets![0]!;
    const recv = (await c.send(new CreateSecurityGroupCommand({ GroupName: 'bench-recv', Description: 'bench', VpcId: subnet.VpcId }))).GroupId!;
    const send = (await c.send(new CreateSecurityGroupCommand({ GroupName: 'bench-send', Description: 'bench', VpcId: subnet.VpcId }))).GroupId!;
    const iperf: IpPermission = { IpProtocol: 'tcp', FromPort: 5201, ToPort: 5201, UserIdGroupPairs: [{ GroupId: send }] };
    await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: recv, IpPermissions: [iperf] }));
    const launch = async (group: string) => {
      const id = (await c.send(new RunInstancesCommand({ ImageId: imageId, InstanceType: 'c5.large', MinCount: 1, MaxCount: 1, SubnetId: subnet.SubnetId, SecurityGroupIds: [group] }))).Instances![0]!.InstanceId!;
      launched.push(id);
      for (let i = 0; i < 600; i++) {
        const inst = (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
        if (inst.State?.Name === 'running') return inst;
        await sleep(100);
      }
      throw new Error(`${id} did not run`);
    };
    const receiver = await launch(recv);
    const sender = await launch(send);
    console.log(`firewall-real: a TCP stream ${sender.InstanceId} → ${receiver.InstanceId}, ${SECONDS} s per run, ${ROUNDS} rounds of 1 and ${RULES} rules`);
    const few: number[] = [];
    const many: number[] = [];
    const extra = manyRules();
    await stream(sender, receiver); // warm-up
    for (let r = 0; r < ROUNDS; r++) {
      few.push(await stream(sender, receiver));
      await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: recv, IpPermissions: extra }));
      await sleep(1000);
      many.push(await stream(sender, receiver));
      await c.send(new RevokeSecurityGroupIngressCommand({ GroupId: recv, IpPermissions: extra }));
      await sleep(1000);
    }
    const gbit = (x: number) => `${(x / 1e9).toFixed(2)} Gbit/s`;
    console.log(`  1 rule: ${few.map(gbit).join(', ')}; ${RULES} rules: ${many.map(gbit).join(', ')}`);
    judge(outcomes, `firewall-real: TCP stream, ${RULES} rules / 1 rule`, median(many) / median(few), 0.8, false, '');

    children.push(listener(nsOf(receiver)));
    const probe = prober(nsOf(sender), receiver.PrivateIpAddress!);
    children.push(probe.child);
    await sleep(300);
    const port: IpPermission = { IpProtocol: 'tcp', FromPort: 7000, ToPort: 7000, IpRanges: [{ CidrIp: `${sender.PrivateIpAddress}/32` }] };
    const delays: number[] = [];
    for (let i = 0; i < AUTHORIZE; i++) {
      const first = probe.next();
      await sleep(50); // the prober is trying (and being dropped) before the rule exists
      await c.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: recv, IpPermissions: [port] }));
      const returned = Date.now();
      delays.push((await first) - returned);
      await c.send(new RevokeSecurityGroupIngressCommand({ GroupId: recv, IpPermissions: [port] }));
      await sleep(300);
    }
    console.log(`  Authorize → first packet: ${delays.map((d) => d.toFixed(0)).join(', ')} ms`);
    judge(outcomes, `firewall-real: AuthorizeSecurityGroupIngress → first packet allowed, median of ${AUTHORIZE}`, median(delays), 200, true, ' ms');
  } finally {
    for (const ch of children) ch.kill('SIGKILL');
    try {
      if (launched.length > 0) await c.send(new TerminateInstancesCommand({ InstanceIds: launched })).catch(() => undefined);
      await t.server.close();
    } finally {
      const left = await resetHost(config, { cgroups: false });
      await t.close();
      const after = await hostLeftovers(config);
      console.log(left.length + after.length === 0 ? '  (host clean after reset)' : `  LEFT ON THE HOST: ${[...left, ...after].join(', ')}`);
      outcomes.push({ name: 'firewall-real: nothing left on the host', ratio: 1, target: 0, errors: left.length + after.length });
    }
  }
}
