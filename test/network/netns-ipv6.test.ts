/**
 * IPv6 on the netns fabric with real traffic (bounded: ping -c1 -W1, TCP with
 * 3 s timeouts): between the subnets of a VPC, never into another VPC; from
 * the host through the internet path (routeIpv6), out only through the
 * egress-only path. Only addresses inside the fabric's namespaces and the
 * host side of a transit veth are contacted; before the host connects to an
 * instance's address the test checks it is routed into the fabric. Then
 * destroy() and nothing left. Skipped, with the probe's reason, where the host
 * cannot run the fabric.
 */
import assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/host/exec.js';
import { router6Ruleset, hostGuard6Ruleset } from '../../src/network/drivers/ipv6-netns.js';
import { inNsCommand } from '../../src/network/drivers/netns.js';
import { NetnsFabric, fabricLeftovers } from '../../src/network/drivers/netns-fabric.js';
import type { NatGatewaySpec, NetworkInfo, PluggedInterface, PlugRequest } from '../../src/network/fabric.js';
import { nodeReadyIn, ping } from '../helpers/netns.js';

const PREFIX = `o6${randomBytes(2).toString('hex')}`;
const POOL = '198.51.100.80/28';
const POOL6 = 'fd0f:ec20:6700::/40';
const hex = (n: number) => randomBytes(n).toString('hex');

const probe = await new NetnsFabric({ publicIpPool: POOL, egress: false, prefix: PREFIX }).probe();
const unable = probe.ok ? undefined : probe.reason;

describe('netns IPv6 rule sets', () => {
  it('the router forwards within its VPC, to and from the uplink only as the paths say; the host guard keeps the pool on the machine', () => {
    const t = router6Ruleset({ nets: ['fd0f:ec20:6700:1::/64'], blocks: ['fd0f:ec20:6700::/56'], internet: [], egressOnly: ['fd0f:ec20:6700:1::/64'] });
    assert.match(t, /^table ip6 overcast6 \{ \}\ndelete table ip6 overcast6\n/, 'one transaction replaces the table');
    assert.match(t, /policy drop;\n\s+ct state established,related accept/);
    assert.ok(t.indexOf('iifname "uplink" drop') < t.indexOf('ip6 saddr @nets ip6 daddr @nets accept'), 'nothing new from the uplink but to internet subnets');
    assert.match(t, /set egressonly \{ type ipv6_addr; flags interval; elements = \{ fd0f:ec20:6700:1::\/64 \}; \}/);
    const g = hostGuard6Ruleset('ovc', POOL6);
    assert.match(g, /ip6 daddr fd0f:ec20:6700::\/40 oifname != "ovct\*" reject/);
    assert.match(g, /iifname "ovct\*" oifname != "ovct\*" drop/);
    assert.match(g, /oifname "ovct\*" iifname != "ovct\*" drop/);
  });
});

/** Runs a node script inside a namespace (or on the host); its stdout. */
async function nodeIn(ns: string | undefined, script: string): Promise<string> {
  const cmd: [string, string[]] = ns ? inNsCommand(ns, process.execPath, ['-e', script]) : [process.execPath, ['-e', script]];
  return (await run(...cmd, { timeoutMs: 8000 })).stdout.trim();
}

const connectScript = (address: string, port: number) =>
  `const c=require('net').connect({port:${port},host:'${address}'});let d='';c.on('data',b=>d+=b);c.on('end',()=>{console.log(d);process.exit(0)});c.on('error',e=>{console.log('error '+e.code);process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},3000)`;

/** A TCP listener on [::] in a namespace answering "<label> <peer>". */
function listenIn(ns: string, port: number, label: string): Promise<ChildProcess> {
  return nodeReadyIn(ns, `const s=require('net').createServer(c=>{c.end('${label} '+c.remoteAddress)});s.listen(${port},'::',()=>console.log('ready'));setTimeout(()=>process.exit(0),30000)`);
}

/** From the host, only once the address is routed into the fabric. */
async function fetchHere(address: string, port: number): Promise<string> {
  const route = JSON.parse((await run('ip', ['-6', '-j', 'route', 'get', address])).stdout) as { dev: string }[];
  assert.ok(route[0]?.dev.startsWith(`${PREFIX}t`), `${address} is routed via ${route[0]?.dev}, not the fabric`);
  return nodeIn(undefined, connectScript(address, port));
}

describe('netns fabric: IPv6 traffic', { skip: unable, timeout: 180_000 }, () => {
  let f: NetnsFabric;
  let A: NetworkInfo;
  const vpcA = `vpc-${hex(8)}a`;
  const vpcB = `vpc-${hex(8)}b`;
  const blockA = 'fd0f:ec20:6711::/56';
  const blockB = 'fd0f:ec20:6722::/56';
  const sub6 = (block: string, n: number) => block.replace('::/56', `:${n}::/64`);
  const addr6 = (block: string, n: number, host: number) => block.replace('::/56', `:${n}::${host.toString(16)}`);
  const nic = (vpcId: string, block: string, subnet: number, host: number, instance: string): PlugRequest => ({
    interfaceId: `eni-${hex(8)}`,
    instanceId: instance,
    vpcId,
    subnetId: `subnet-${vpcId.slice(4)}-${subnet}`,
    subnetCidr: `10.0.${subnet}.0/24`,
    mac: `02:${hex(5).match(/../g)!.join(':')}`,
    privateIps: [`10.0.${subnet}.${host}`],
    deviceIndex: 0,
    ipv6: { subnetCidr: sub6(block, subnet), addresses: [addr6(block, subnet, host)] },
  });
  const a1r = nic(vpcA, blockA, 1, 0x10, `i-${hex(8)}a1`);
  const a2r = nic(vpcA, blockA, 2, 0x10, `i-${hex(8)}a2`);
  const b1r = nic(vpcB, blockB, 1, 0x10, `i-${hex(8)}b1`);
  let a1: PluggedInterface;
  let a2: PluggedInterface;
  let b1: PluggedInterface;
  const children: ChildProcess[] = [];
  const servers: Server[] = [];

  before(async () => {
    f = new NetnsFabric({ publicIpPool: POOL, ipv6Pool: POOL6, egress: false, prefix: PREFIX });
    A = await f.ensureNetwork({ vpcId: vpcA, cidrBlock: '10.0.0.0/16' });
    await f.ensureNetwork({ vpcId: vpcB, cidrBlock: '10.0.0.0/16' });
    a1 = await f.plug(a1r);
    a2 = await f.plug(a2r);
    b1 = await f.plug(b1r);
    children.push(await listenIn(a1.netns, 7600, 'a1'), await listenIn(a2.netns, 7600, 'a2'));
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const s of servers) s.close();
    await f.destroy();
  });

  it('the instance has its IPv6 address and a default IPv6 route via its subnet’s router', async () => {
    const addrs = (await run('ip', ['-n', a1.netns, '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'])).stdout;
    assert.match(addrs, new RegExp(`inet6 ${addr6(blockA, 1, 0x10)}/64`));
    const routes = (await run('ip', ['-n', a1.netns, '-6', 'route', 'show', 'default'])).stdout;
    assert.match(routes, new RegExp(`default via ${blockA.replace('::/56', ':1::1')} dev eth0`));
    assert.deepEqual(a1.ipv6?.addresses, [`${addr6(blockA, 1, 0x10)}/64`]);
  });

  it('routes IPv6 between the subnets of a VPC, never into another VPC', async () => {
    assert.equal(await ping(a1.netns, addr6(blockA, 2, 0x10)), true, 'a1 → a2 (another subnet)');
    assert.equal(await nodeIn(a2.netns, connectScript(addr6(blockA, 1, 0x10), 7600)), `a1 ${addr6(blockA, 2, 0x10)}`, 'a2 → a1 over TCP, its own address as source');
    assert.equal(await ping(b1.netns, addr6(blockA, 2, 0x10)), false, 'b1 (other VPC) ↛ a2');
    assert.equal(await ping(a1.netns, addr6(blockB, 1, 0x10)), false, 'a1 ↛ b1');
  });

  it('without a path the host does not reach the VPC and the pool is refused on the host; with an internet path it does', async () => {
    const target = addr6(blockA, 1, 0x10);
    const noRoute = JSON.parse((await run('ip', ['-6', '-j', 'route', 'get', target])).stdout) as { dev: string }[];
    assert.ok(!noRoute[0]?.dev.startsWith(`${PREFIX}t`), 'no route into the fabric yet');
    const guard = (await run('nft', ['list', 'table', 'ip6', `${PREFIX}-guard`])).stdout;
    assert.ok(guard.includes(`ip6 daddr ${POOL6} oifname != "${PREFIX}t*" reject`), `the host guard keeps the pool here:\n${guard}`);
    // the guard refuses at once: the host's own connection to the pool never takes its default route
    assert.match(await nodeIn(undefined, connectScript(target, 7600)), /^error (ECONNREFUSED|EACCES|ENETUNREACH|EHOSTUNREACH|EPERM)$/);

    await f.routeIpv6({ vpcId: vpcA, blocks: [blockA], internet: [sub6(blockA, 1)], egressOnly: [] });
    assert.equal(await fetchHere(target, 7600), `a1 ${A.serviceAddress6}`, 'the host reaches a1; a1 sees the host by its transit address');
    // a2's subnet has no path: routed to the router, dropped there
    assert.equal(await fetchHere(addr6(blockA, 2, 0x10), 7600), 'timeout');
    const hostRoutes = (await run('ip', ['-6', 'route', 'show', blockA])).stdout;
    assert.match(hostRoutes, new RegExp(`${blockA} via ${A.serviceAddress6!.replace(/::1$/, '::2')} dev ${PREFIX}t`));
  });

  it('an egress-only path lets the instance connect to the host side, not the host connect in; replies pass', async () => {
    await f.routeIpv6({ vpcId: vpcA, blocks: [blockA], internet: [], egressOnly: [sub6(blockA, 1)] });
    const server = await new Promise<Server>((resolve, reject) => {
      const s = createServer((c) => c.end(`host ${c.remoteAddress}`));
      s.once('error', reject);
      s.listen(7601, A.serviceAddress6, () => resolve(s));
    });
    servers.push(server);
    assert.equal(await nodeIn(a1.netns, connectScript(A.serviceAddress6!, 7601)), `host ${addr6(blockA, 1, 0x10)}`, 'a1 → host, the reply comes back');
    assert.equal(await fetchHere(addr6(blockA, 1, 0x10), 7600), 'timeout', 'host ↛ a1');
    assert.equal(await nodeIn(a2.netns, connectScript(A.serviceAddress6!, 7601)), 'timeout', 'a2 (no path) ↛ host');
  });

  it('readdress adds and removes IPv6 addresses inside at once', async () => {
    await f.routeIpv6({ vpcId: vpcA, blocks: [blockA], internet: [sub6(blockA, 1)], egressOnly: [] });
    const extra = addr6(blockA, 1, 0x20);
    const p = await f.readdress(a1r.interfaceId, a1r.privateIps, { subnetCidr: sub6(blockA, 1), addresses: [addr6(blockA, 1, 0x10), extra] });
    assert.deepEqual(p.ipv6?.addresses, [`${addr6(blockA, 1, 0x10)}/64`, `${extra}/64`]);
    assert.equal(await fetchHere(extra, 7600), `a1 ${A.serviceAddress6}`, 'the new address answers');
    assert.equal(await ping(a2.netns, extra), true, 'and from the other subnet');
    await f.readdress(a1r.interfaceId, a1r.privateIps, { subnetCidr: sub6(blockA, 1), addresses: [addr6(blockA, 1, 0x10)] });
    assert.equal(await ping(a2.netns, extra), false, 'the removed one no longer answers');
  });

  it('a NAT gateway on an IPv6 subnet carries IPv4 only: IPv6 between the subnets and to the host passes by it; a new driver finds both', async () => {
    await f.routeIpv6({ vpcId: vpcA, blocks: [blockA], internet: [sub6(blockA, 1)], egressOnly: [] });
    const a1Public = '198.51.100.81';
    await f.mapPublicIp({ publicIp: a1Public, privateIp: a1r.privateIps[0]!, interfaceId: a1r.interfaceId, vpcId: vpcA });
    const nat: NatGatewaySpec = {
      natGatewayId: `nat-${hex(8)}`,
      vpcId: vpcA,
      subnetId: a1r.subnetId,
      subnetCidr: a1r.subnetCidr,
      mac: `02:${hex(5).match(/../g)!.join(':')}`,
      privateIp: '10.0.1.250',
      publicIp: '198.51.100.82',
      routes: [{ source: a2r.subnetCidr, destination: '0.0.0.0/0' }],
    };
    assert.equal(await nodeIn(a2.netns, connectScript(a1Public, 7600)), 'timeout', 'no public IP, no gateway: a2 has no path to a1’s public IP');
    await f.ensureNatGateway(nat);
    assert.equal(await nodeIn(a2.netns, connectScript(a1Public, 7600)), `a1 ::ffff:${nat.publicIp}`, 'IPv4 through the gateway, seen as its Elastic IP');
    assert.equal(await nodeIn(a2.netns, connectScript(addr6(blockA, 1, 0x10), 7600)), `a1 ${addr6(blockA, 2, 0x10)}`, 'IPv6 is not translated: a2’s own address');
    assert.equal(await fetchHere(addr6(blockA, 1, 0x10), 7600), `a1 ${A.serviceAddress6}`, 'the host still reaches a1 over IPv6');
    const gns = `${PREFIX}-${nat.natGatewayId}`;
    assert.equal((await run('ip', ['-n', gns, '-6', 'addr', 'show', 'scope', 'global'])).stdout.trim(), '', 'the gateway has no IPv6 address');
    const again = new NetnsFabric({ publicIpPool: POOL, ipv6Pool: POOL6, egress: false, prefix: PREFIX });
    try {
      const inv = await again.list();
      assert.deepEqual(inv.natGateways.find((g) => g.natGatewayId === nat.natGatewayId), nat);
      assert.deepEqual(inv.interfaces.find((i) => i.interfaceId === a1r.interfaceId)?.ipv6, a1.ipv6);
      assert.deepEqual(inv.ipv6Routing?.find((r) => r.vpcId === vpcA), { vpcId: vpcA, blocks: [blockA], internet: [sub6(blockA, 1)], egressOnly: [] });
    } finally {
      await again.close();
    }
    await f.removeNatGateway(nat.natGatewayId);
    assert.equal(await nodeIn(a2.netns, connectScript(a1Public, 7600)), 'timeout', 'the gateway gone: no IPv4 path to the public IP');
    assert.equal(await nodeIn(a2.netns, connectScript(addr6(blockA, 1, 0x10), 7600)), `a1 ${addr6(blockA, 2, 0x10)}`, 'IPv6 as before');
    await f.unmapPublicIp(a1Public);
  });

  it('an empty routing takes the host route away; unplugging the last interface of a subnet forgets its /64', async () => {
    await f.routeIpv6({ vpcId: vpcA, blocks: [blockA], internet: [], egressOnly: [] });
    assert.equal((await run('ip', ['-6', 'route', 'show', blockA])).stdout.trim(), '', 'no host route while no subnet has a path');
    await f.unplug(a2r.interfaceId);
    const table = (await run(...inNsCommand(await routerNs(a1), 'nft', ['list', 'set', 'ip6', 'overcast6', 'nets']))).stdout;
    assert.ok(!table.includes(sub6(blockA, 2)) && table.includes(sub6(blockA, 1)), table);
  });

  /** The router namespace holding an interface's bridge port. */
  async function routerNs(i: PluggedInterface): Promise<string> {
    const names = JSON.parse((await run('ip', ['-j', 'netns', 'list'])).stdout || '[]') as { name: string }[];
    for (const { name } of names) {
      if (!name.startsWith(`${PREFIX}-r-`)) continue;
      const links = JSON.parse((await run('ip', ['-n', name, '-j', 'link', 'show'])).stdout) as { ifname: string }[];
      if (links.some((l) => l.ifname === i.hostIfname)) return name;
    }
    throw new Error(`no router namespace holds ${i.hostIfname}`);
  }
});

describe('netns fabric IPv6: clean-up', { skip: unable }, () => {
  it('destroy() leaves nothing of the prefix on the host', async () => {
    await new NetnsFabric({ publicIpPool: POOL, egress: false, prefix: PREFIX }).destroy();
    assert.deepEqual(await fabricLeftovers(PREFIX), []);
  });
});
