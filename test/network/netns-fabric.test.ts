/**
 * The netns fabric on this host: the shared conformance suite, then real
 * traffic between namespaces it makes (bounded: ping -c1 -W1, TCP/UDP with
 * timeouts), then destroy() and nothing left. Only loopback and addresses
 * inside the fabric's namespaces are ever contacted; negative pings are bound to
 * the transit device so nothing can leave by the host's default route.
 * Skipped, with the probe's reason, where the host cannot run it (not root, no ip/nft).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { run } from '../../src/host/exec.js';
import { FABRICS } from '../../src/network/drivers/index.js';
import { hostEgressRuleset, hostGuardRuleset, natGatewayRuleset, routerRuleset, SERVICE_CT_MARK } from '../../src/network/drivers/nat-rules.js';
import { NetnsFabric, fabricLeftovers } from '../../src/network/drivers/netns-fabric.js';
import { natTable } from '../../src/network/drivers/fabric-names.js';
import type { FabricEvent, LinkRoute, NatGatewaySpec, NetworkInfo, PluggedInterface, PlugRequest } from '../../src/network/fabric.js';
import { loadConfig } from '../../src/config.js';
import { nodeReadyIn, ping } from '../helpers/netns.js';
import { FABRIC_IPV6_POOL, runFabricConformance, type FabricCase } from './fabric.conformance.js';
import { inNsCommand } from '../../src/network/drivers/netns.js';

const PREFIX = `ot${randomBytes(2).toString('hex')}`;
const POOL = '198.51.100.0/24';
const METADATA_PORT = 18000 + Math.floor(Math.random() * 1000);
const DNS_PORT = METADATA_PORT + 1000;
const hex = (n: number) => randomBytes(n).toString('hex');

const probe = await new NetnsFabric({ publicIpPool: POOL, egress: false, prefix: PREFIX }).probe();
const unable = probe.ok ? undefined : probe.reason;

const made: NetnsFabric[] = [];
const fabric = (over: Partial<ConstructorParameters<typeof NetnsFabric>[0]> = {}) => {
  const f = new NetnsFabric({ publicIpPool: POOL, ipv6Pool: FABRIC_IPV6_POOL, egress: false, prefix: PREFIX, metadataPort: METADATA_PORT, dnsPort: DNS_PORT, ...over });
  made.push(f);
  return f;
};

after(async () => {
  if (unable) return;
  await new NetnsFabric({ publicIpPool: POOL, egress: false, prefix: PREFIX }).destroy();
});

// ---------------------------------------------------------------- the generated rule sets (no host needed)

describe('netns fabric rule sets', () => {
  const base = {
    networks: ['172.31.0.0/16'],
    publicPool: POOL,
    serviceAddress: '100.127.0.1',
    metadataPort: 80,
    dnsPort: 53,
    vpcDns: '172.31.0.2',
    mappings: [{ publicIp: '198.51.100.9', privateIp: '172.31.0.10' }],
  };

  it('maps public and private addresses 1:1, rewrites metadata and DNS to the service address, never SNATs them', () => {
    const t = routerRuleset({ ...base, egress: false });
    assert.match(t, /map pub2priv \{ type ipv4_addr : ipv4_addr; elements = \{ 198\.51\.100\.9 : 172\.31\.0\.10 \}; \}/);
    assert.match(t, /map priv2pub \{ type ipv4_addr : ipv4_addr; elements = \{ 172\.31\.0\.10 : 198\.51\.100\.9 \}; \}/);
    // the connections are marked as the VPC's services: the firewall lets them through (as EC2 does)
    assert.match(t, new RegExp(`ip daddr 169\\.254\\.169\\.254 tcp dport 80 ct mark set ${SERVICE_CT_MARK} dnat to 100\\.127\\.0\\.1:80`));
    assert.match(t, new RegExp(`ip daddr \\{ 169\\.254\\.169\\.253, 172\\.31\\.0\\.2 \\} meta l4proto \\{ tcp, udp \\} th dport 53 ct mark set ${SERVICE_CT_MARK} dnat to 100\\.127\\.0\\.1:53`));
    assert.ok(t.indexOf('ip daddr 100.127.0.1 accept') < t.indexOf('snat to'), 'service traffic leaves the postrouting chain before any snat');
    assert.match(t, /^table ip overcast \{ \}\ndelete table ip overcast\n/, 'one transaction replaces the table');
  });

  it('without egress, forwards only to the VPC, the pool and the rewritten services', () => {
    const t = routerRuleset({ ...base, egress: false });
    assert.match(t, /policy drop;/);
    assert.doesNotMatch(t, /masquerade\n(?![\s\S]*chain forward)/, 'no uplink masquerade');
    assert.doesNotMatch(t, /oifname "uplink" ip saddr @nets masquerade/);
    assert.doesNotMatch(t, /oifname "uplink" ip daddr != /);
  });

  it('with egress, masquerades what leaves the uplink and forwards it (text only: never applied in tests)', () => {
    const t = routerRuleset({ ...base, egress: true });
    assert.match(t, /oifname "uplink" ip saddr @nets masquerade/);
    assert.match(t, /oifname "uplink" ip daddr != 100\.127\.0\.1 accept/);
    const h = hostEgressRuleset('ovc', POOL);
    assert.match(h, /table ip ovc-egress \{/);
    assert.match(h, /iifname "ovct\*" oifname != "ovct\*" masquerade/);
    assert.match(h, /iifname "ovct\*" ip daddr 198\.51\.100\.0\/24 drop/);
  });

  it('without egress, the host guard drops whatever the transit links would forward off the machine', () => {
    const g = hostGuardRuleset('ovc', '198.51.100.0/24');
    assert.match(g, /table ip ovc-guard \{/);
    // the host's own traffic to a pool address no instance holds never takes the default route
    assert.match(g, /hook output priority filter; policy accept;\n\s+ip daddr 198\.51\.100\.0\/24 oifname != "ovct\*" reject/);
    assert.match(g, /type filter hook forward priority filter; policy accept;\n\s+iifname "ovct\*" oifname != "ovct\*" drop/);
  });

  it('translates public addresses only for the host and for addresses with a public IP; the rest reaches the pool through a NAT gateway or not at all', () => {
    const t = routerRuleset({ ...base, egress: false, natGateways: ['172.31.0.250'] });
    assert.match(t, /set mapped \{ type ipv4_addr; elements = \{ 172\.31\.0\.10 \}; \}/);
    assert.match(t, /iifname "uplink" dnat to ip daddr map @pub2priv\n\s+ip saddr @mapped dnat to ip daddr map @pub2priv/);
    assert.doesNotMatch(t, /^\s+dnat to ip daddr map @pub2priv/m, 'no translation for every source');
    assert.match(t, new RegExp(`oifname "uplink" ip daddr ${POOL.replace(/\./g, '\\.')} ip saddr != @mapped drop`));
    assert.match(t, /rt ip nexthop \{ 172\.31\.0\.250 \} accept/);
    assert.ok(t.indexOf('ip saddr != @mapped drop') < t.indexOf(`ip daddr ${POOL} accept`), 'the drop comes before the pool is admitted');
    assert.doesNotMatch(routerRuleset({ ...base, egress: false }), /nexthop/, 'no gateways: no next-hop rule');
    const g = natGatewayRuleset('172.31.0.250');
    assert.match(g, /oifname "eth0" snat to 172\.31\.0\.250/);
    assert.match(g, /hook input priority filter; policy drop;\n\s+ct state established,related accept\n\s+\}/, 'nothing new reaches the gateway itself');
  });

  it('is registered as "netns", built from the configuration', () => {
    assert.ok(FABRICS.create('netns', loadConfig([], {})) instanceof NetnsFabric, 'a NetnsFabric');
    assert.throws(() => new NetnsFabric({ publicIpPool: POOL, egress: false, prefix: 'Bad-Prefix' }), /prefix/);
  });
});

// ---------------------------------------------------------------- the contract

const ALL: FabricCase[] = [
  'networks',
  'plug',
  'plug-idempotent',
  'plug-conflicts',
  'plug-refusals',
  'unplug',
  'public-ips',
  'public-ip-refusals',
  'list-by-instance',
  'links',
  'link-refusals',
  'link-recovery',
  'nat-gateways',
  'nat-refusals',
  'nat-recovery',
  'ipv6-plug',
  'ipv6-readdress',
  'ipv6-routing',
  'ipv6-recovery',
];
runFabricConformance('netns', () => fabric(), {
  timeoutMs: 120_000,
  skip: unable ? Object.fromEntries(ALL.map((k) => [k, unable])) : {},
});

// ---------------------------------------------------------------- real traffic


/** Runs a node script inside a namespace; its stdout. */
async function nodeIn(ns: string, script: string): Promise<string> {
  return (await run(...inNsCommand(ns, process.execPath, ['-e', script]), { timeoutMs: 8000 })).stdout.trim();
}

/** A TCP listener in a namespace answering "<label> <peer address>"; resolves once it listens. */
async function listenIn(ns: string, port: number, label: string): Promise<ChildProcess> {
  const script = `const s=require('net').createServer(c=>{c.end('${label} '+c.remoteAddress.replace(/^::ffff:/,''))});s.listen(${port},'0.0.0.0',()=>console.log('ready'));setTimeout(()=>process.exit(0),20000)`;
  return nodeReadyIn(ns, script);
}

/** Connects (from this process, or a namespace) and reads the answer. */
const fetchFromNs = (ns: string, address: string, port: number) =>
  nodeIn(ns, `const c=require('net').connect(${port},'${address}');let d='';c.on('data',b=>d+=b);c.on('end',()=>{console.log(d);process.exit(0)});c.on('error',e=>{console.log('error '+e.code);process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},3000)`);

async function fetchHere(address: string, port: number): Promise<string> {
  // the address must be routed into the fabric before anything is sent
  const route = JSON.parse((await run('ip', ['-j', 'route', 'get', address])).stdout) as { dev: string }[];
  assert.ok(route[0]?.dev.startsWith(`${PREFIX}t`), `${address} is routed via ${route[0]?.dev}, not the fabric`);
  const script = `const c=require('net').connect(${port},'${address}');let d='';c.on('data',b=>d+=b);c.on('end',()=>{console.log(d);process.exit(0)});c.on('error',e=>{console.log('error '+e.code);process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},3000)`;
  return (await run(process.execPath, ['-e', script], { timeoutMs: 8000 })).stdout.trim();
}

/** The router namespace holding an interface's bridge port. */
async function routerOf(i: PluggedInterface): Promise<string> {
  const names = JSON.parse((await run('ip', ['-j', 'netns', 'list'])).stdout || '[]') as { name: string }[];
  for (const { name } of names) {
    if (!name.startsWith(`${PREFIX}-r-`)) continue;
    const links = JSON.parse((await run('ip', ['-n', name, '-j', 'link', 'show'])).stdout) as { ifname: string }[];
    if (links.some((l) => l.ifname === i.hostIfname)) return name;
  }
  throw new Error(`no router namespace holds ${i.hostIfname}`);
}

function serve(address: string, port: number, label: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.end(`${label} ${(c.remoteAddress ?? '').replace(/^::ffff:/, '')}`));
    s.once('error', reject);
    s.listen(port, address, () => resolve(s));
  });
}

describe('netns fabric: real traffic', { skip: unable, timeout: 180_000 }, () => {
  let f: NetnsFabric;
  let A: NetworkInfo;
  let B: NetworkInfo;
  const vpcA = `vpc-${hex(8)}a`;
  const vpcB = `vpc-${hex(8)}b`;
  const nic = (vpcId: string, subnet: number, host: number, instance: string): PlugRequest => ({
    interfaceId: `eni-${hex(8)}`,
    instanceId: instance,
    vpcId,
    subnetId: `subnet-${vpcId.slice(4)}-${subnet}`,
    subnetCidr: `172.31.${subnet * 16}.0/20`,
    mac: `02:${hex(5).match(/../g)!.join(':')}`,
    privateIps: [`172.31.${subnet * 16}.${host}`],
    deviceIndex: 0,
  });
  const a1r = nic(vpcA, 0, 10, `i-${hex(8)}a1`);
  const a2r = nic(vpcA, 1, 10, `i-${hex(8)}a2`);
  const b1r = nic(vpcB, 0, 20, `i-${hex(8)}b1`);
  let a1: PluggedInterface;
  let a2: PluggedInterface;
  let b1: PluggedInterface;
  const children: ChildProcess[] = [];
  const servers: Server[] = [];

  before(async () => {
    f = fabric();
    A = await f.ensureNetwork({ vpcId: vpcA, cidrBlock: '172.31.0.0/16' });
    B = await f.ensureNetwork({ vpcId: vpcB, cidrBlock: '172.31.0.0/16' });
    a1 = await f.plug(a1r);
    a2 = await f.plug(a2r);
    b1 = await f.plug(b1r);
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const s of servers) s.close();
  });

  it('gives each VPC its own service address, and the instance its namespace, eth0, MAC, address and route', async () => {
    assert.ok(A.serviceAddress && B.serviceAddress && A.serviceAddress !== B.serviceAddress, 'two service addresses');
    assert.match(A.serviceAddress, /^100\.127\.\d+\.\d+$/);
    assert.equal(a1.netns, `${PREFIX}-${a1r.instanceId}`);
    assert.equal(a1.ifname, 'eth0');
    const links = JSON.parse((await run('ip', ['-n', a1.netns, '-j', 'addr', 'show', 'dev', 'eth0'])).stdout) as { address: string; addr_info: { local: string; prefixlen: number }[] }[];
    assert.equal(links[0]!.address, a1r.mac);
    assert.ok(links[0]!.addr_info.some((x) => x.local === '172.31.0.10' && x.prefixlen === 20), 'the private address with its prefix');
    const routes = (await run('ip', ['-n', a1.netns, 'route', 'show', 'default'])).stdout;
    assert.match(routes, /default via 172\.31\.0\.1 dev eth0/);
    const main = (await run('ip', ['route', 'show', 'table', 'main'])).stdout;
    assert.doesNotMatch(main, /172\.31\.0\.0\/16/, 'no VPC CIDR in the host main table');
    const guard = (await run('nft', ['list', 'table', 'ip', `${PREFIX}-guard`])).stdout;
    assert.ok(guard.includes(`iifname "${PREFIX}t*" oifname != "${PREFIX}t*" drop`), `the host guard is in place:\n${guard}`);
    const routerRoutes = (await run('ip', ['-n', await routerOf(a1), 'route'])).stdout;
    assert.match(routerRoutes, /unreachable 172\.31\.0\.0\/16/, 'an address no subnet holds is not sent up to the host');
  });

  it('routes between the subnets of a VPC, never into another VPC with the same CIDR', async () => {
    assert.equal(await ping(a1.netns, '172.31.16.10'), true, 'a1 → a2 (another subnet)');
    assert.equal(await ping(a2.netns, '172.31.0.10'), true, 'a2 → a1');
    assert.equal(await ping(b1.netns, '172.31.16.10'), false, 'b1 (other VPC) ↛ a2');
    assert.equal(await ping(a1.netns, '172.31.0.20'), false, 'a1 ↛ b1 (same address range, other VPC)');
  });

  it('a mapped public IP reaches the instance from the host; unmapped it no longer answers; remapped it moves at once', async () => {
    const pub = '198.51.100.210';
    await f.mapPublicIp({ publicIp: pub, privateIp: '172.31.0.10', interfaceId: a1r.interfaceId, vpcId: vpcA });
    const dev = (JSON.parse((await run('ip', ['-j', 'route', 'get', pub])).stdout) as { dev: string }[])[0]!.dev;
    assert.equal(await ping(undefined, pub, dev), true, 'ping the public IP');
    children.push(await listenIn(a1.netns, 7000, 'a1'), await listenIn(a2.netns, 7000, 'a2'));
    assert.equal(await fetchHere(pub, 7000), `a1 ${A.serviceAddress}`, 'the instance sees the host by its transit address');

    // hairpin: a2, mapped too, reaches a1 through a1's public IP and is seen by its own public IP
    await f.mapPublicIp({ publicIp: '198.51.100.211', privateIp: '172.31.16.10', interfaceId: a2r.interfaceId, vpcId: vpcA });
    assert.equal(await fetchFromNs(a2.netns, pub, 7000), 'a1 198.51.100.211');

    await f.unmapPublicIp(pub);
    assert.equal(await ping(undefined, pub, dev), false, 'unmapped: no answer');
    await f.unmapPublicIp('198.51.100.211');
    await f.mapPublicIp({ publicIp: pub, privateIp: '172.31.16.10', interfaceId: a2r.interfaceId, vpcId: vpcA });
    assert.equal(await fetchHere(pub, 7000), `a2 ${A.serviceAddress}`, 'remapped: the other instance answers');
    await f.unmapPublicIp(pub);
  });

  it('metadata reaches a listener at each VPC’s service address with the instance’s private IP, across overlapping CIDRs', async () => {
    servers.push(await serve(A.serviceAddress!, METADATA_PORT, 'imds-A'), await serve(B.serviceAddress!, METADATA_PORT, 'imds-B'));
    assert.equal(await fetchFromNs(a1.netns, '169.254.169.254', 80), 'imds-A 172.31.0.10');
    assert.equal(await fetchFromNs(b1.netns, '169.254.169.254', 80), 'imds-B 172.31.0.20');
    assert.equal(await fetchFromNs(a2.netns, '169.254.169.254', 80), 'imds-A 172.31.16.10');
    // the service address itself, on another port, is not reachable from an instance
    assert.match(await fetchFromNs(a1.netns, A.serviceAddress!, METADATA_PORT), /^(timeout|error)/);
  });

  it('DNS to 169.254.169.253 and VPC base + 2 reaches the DNS listener at the service address', async () => {
    const sock = createSocket('udp4');
    sock.on('message', (m, r) => sock.send(`dns ${r.address} ${m.toString()}`, r.port, r.address));
    await new Promise<void>((resolve) => sock.bind(DNS_PORT, A.serviceAddress!, () => resolve()));
    try {
      const ask = (to: string) =>
        nodeIn(a1.netns, `const s=require('dgram').createSocket('udp4');s.on('message',m=>{console.log(m.toString());process.exit(0)});s.send('q','53','${to}');setTimeout(()=>{console.log('timeout');process.exit(0)},3000)`);
      assert.equal(await ask('169.254.169.253'), 'dns 172.31.0.10 q');
      assert.equal(await ask('172.31.0.2'), 'dns 172.31.0.10 q');
    } finally {
      sock.close();
    }
  });

  it('a restarted fabric finds the same networks, interfaces and public IPs in the kernel', async () => {
    await f.mapPublicIp({ publicIp: '198.51.100.212', privateIp: '172.31.0.10', interfaceId: a1r.interfaceId, vpcId: vpcA });
    const sort = (inv: Awaited<ReturnType<NetnsFabric['list']>>) => ({
      networks: [...inv.networks].sort((x, y) => x.vpcId.localeCompare(y.vpcId)),
      interfaces: [...inv.interfaces].sort((x, y) => x.interfaceId.localeCompare(y.interfaceId)),
      publicIps: [...inv.publicIps].sort((x, y) => x.publicIp.localeCompare(y.publicIp)),
    });
    const before = sort(await f.list());
    const again = fabric();
    const found = sort(await again.list());
    assert.deepEqual(found, before);
    assert.deepEqual(await again.ensureNetwork({ vpcId: vpcA, cidrBlock: '172.31.0.0/16' }), A);
    assert.deepEqual(await again.plug(a1r), a1);
    await again.close();
    await f.unmapPublicIp('198.51.100.212');
  });

  it('a plug a crash cut short (its port made, no address inside yet) is not adopted, and plugging again makes it whole', async () => {
    const cr = nic(vpcA, 0, 30, `i-${hex(8)}c1`);
    const c = await f.plug(cr);
    // as if the server died between the port's batch and the addresses' batch
    await run('ip', ['-n', c.netns, 'addr', 'flush', 'dev', 'eth0']);
    const again = fabric();
    assert.ok(!(await again.list()).interfaces.some((i) => i.interfaceId === cr.interfaceId), 'a half-made plug is not adopted');
    assert.deepEqual(await again.plug(cr), c, 'the same interface, made afresh over what was left');
    const addrs = JSON.parse((await run('ip', ['-n', c.netns, '-j', 'addr', 'show', 'dev', 'eth0'])).stdout) as { addr_info: { local: string }[] }[];
    assert.ok(addrs[0]!.addr_info.some((x) => x.local === cr.privateIps[0]), 'its address is back');
    await again.close();
    await f.unplug(cr.interfaceId);
  });

  it("an address reused by a new interface reaches its new MAC at once (the router's neighbour entry is replaced at plug)", async () => {
    const first = nic(vpcA, 0, 40, `i-${hex(8)}d1`);
    const one = await f.plug(first);
    const router = await routerOf(one);
    // traffic from the router: it learns the first MAC
    await run('ip', ['netns', 'exec', router, 'ping', '-c', '1', '-W', '1', first.privateIps[0]!]).catch(() => undefined);
    await f.unplug(first.interfaceId);
    const second = { ...nic(vpcA, 0, 40, `i-${hex(8)}d2`), privateIps: first.privateIps };
    await f.plug(second);
    const neigh = JSON.parse((await run('ip', ['-n', router, '-j', 'neigh', 'show', first.privateIps[0]!])).stdout) as { lladdr?: string }[];
    assert.deepEqual(neigh.map((n) => n.lladdr), [second.mac], 'the router sends to the new interface');
    await f.unplug(second.interfaceId);
  });

  it('an interface deleted behind its back is reported lost and forgotten', async () => {
    const seen: FabricEvent[] = [];
    const off = f.events((e) => seen.push(e));
    await run('ip', ['-n', await routerOf(b1), 'link', 'del', 'dev', b1.hostIfname]);
    const inv = await f.list();
    off();
    assert.deepEqual(seen, [{ interfaceId: b1r.interfaceId, instanceId: b1r.instanceId, kind: 'lost' }]);
    assert.ok(!inv.interfaces.some((i) => i.interfaceId === b1r.interfaceId), 'forgotten');
    assert.ok(!(await run('ip', ['netns', 'list'])).stdout.includes(b1.netns), 'its empty namespace is gone');
  });

  it('unplug removes the namespaces and bridges; removeNetwork the rest', async () => {
    await assert.rejects(f.removeNetwork(vpcA), /interface/);
    await f.unplug(a1r.interfaceId);
    await f.unplug(a2r.interfaceId);
    await f.removeNetwork(vpcA);
    await f.removeNetwork(vpcB);
    const left = await fabricLeftovers(PREFIX);
    assert.ok(!left.some((l) => l.includes(a1.netns) || l.includes(a2.netns)), left.join('\n'));
    const rules = (await run('ip', ['rule', 'show'])).stdout;
    assert.ok(!rules.includes(`from ${A.serviceAddress} `), rules);
  });
});

/** An interface at 10.<second>.<subnet>.10 in subnet <subnet> (a /24) of the VPC. */
const nicAt = (vpcId: string, second: number, subnet: number, instance: string): PlugRequest => ({
  interfaceId: `eni-${hex(8)}`,
  instanceId: instance,
  vpcId,
  subnetId: `subnet-${vpcId.slice(4)}-${subnet}`,
  subnetCidr: `10.${second}.${subnet}.0/24`,
  mac: `02:${hex(5).match(/../g)!.join(':')}`,
  privateIps: [`10.${second}.${subnet}.10`],
  deviceIndex: 0,
});

describe('netns fabric: links between networks (VPC peering)', { skip: unable, timeout: 120_000 }, () => {
  let f: NetnsFabric;
  const vpcC = `vpc-${hex(8)}c`;
  const vpcD = `vpc-${hex(8)}d`;
  const linkId = `pcx-${hex(8)}`;
  const c1r = nicAt(vpcC, 60, 1, `i-${hex(8)}c1`);
  const c2r = nicAt(vpcC, 60, 2, `i-${hex(8)}c2`);
  const d1r = nicAt(vpcD, 61, 1, `i-${hex(8)}d1`);
  let c1: PluggedInterface;
  let c2: PluggedInterface;
  let d1: PluggedInterface;
  const children: ChildProcess[] = [];
  const there: LinkRoute = { vpcId: vpcC, source: '10.60.1.0/24', destination: '10.61.0.0/16' };
  const back: LinkRoute = { vpcId: vpcD, source: '10.61.1.0/24', destination: '10.60.1.0/24' };

  before(async () => {
    f = fabric();
    await f.ensureNetwork({ vpcId: vpcC, cidrBlock: '10.60.0.0/16' });
    await f.ensureNetwork({ vpcId: vpcD, cidrBlock: '10.61.0.0/16' });
    c1 = await f.plug(c1r);
    c2 = await f.plug(c2r);
    d1 = await f.plug(d1r);
    children.push(await listenIn(d1.netns, 7100, 'd1'), await listenIn(c1.netns, 7100, 'c1'));
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
  });

  it('unlinked networks do not reach each other', async () => {
    assert.equal(await ping(c1.netns, '10.61.1.10'), false);
    assert.equal(await fetchFromNs(c1.netns, '10.61.1.10', 7100), 'timeout');
  });

  it('a route one way only gets no reply back: no TCP connection', async () => {
    await f.connect({ linkId, networks: [vpcC, vpcD], routes: [there] });
    assert.equal(await ping(c1.netns, '10.61.1.10'), false);
    assert.match(await fetchFromNs(c1.netns, '10.61.1.10', 7100), /^(timeout|error)/);
  });

  it('with the mirror route both ways work, private addresses unchanged; a subnet without a route stays out', async () => {
    await f.connect({ linkId, networks: [vpcC, vpcD], routes: [there, back] });
    assert.equal(await ping(c1.netns, '10.61.1.10'), true, 'c1 → d1');
    assert.equal(await fetchFromNs(c1.netns, '10.61.1.10', 7100), 'd1 10.60.1.10', 'd1 sees c1 by its private address');
    assert.equal(await fetchFromNs(d1.netns, '10.60.1.10', 7100), 'c1 10.61.1.10', 'd1 → c1 (back is a route too)');
    // c2's subnet has no route to D, and D's route back covers c1's subnet only
    assert.equal(await ping(c2.netns, '10.61.1.10'), false, 'c2 ↛ d1');
    assert.equal(await ping(d1.netns, '10.60.2.10'), false, 'd1 ↛ c2');
  });

  it('a restarted fabric finds the link and its routes; taking a route away cuts that way at once', async () => {
    const again = fabric();
    const l = (await again.list()).links.find((x) => x.linkId === linkId);
    assert.ok(l, 'the link is found again');
    assert.deepEqual(l.routes.map((r) => `${r.source}>${r.destination}`).sort(), ['10.60.1.0/24>10.61.0.0/16', '10.61.1.0/24>10.60.1.0/24']);
    await again.connect({ linkId, networks: [vpcC, vpcD], routes: [there] });
    assert.equal(await ping(c1.netns, '10.61.1.10'), false, 'the route back is gone');
    await again.close();
  });

  it('disconnect cuts the path and leaves no veth or rule of the link in either router', async () => {
    const g = fabric();
    await g.connect({ linkId, networks: [vpcC, vpcD], routes: [there, back] });
    assert.equal(await ping(c1.netns, '10.61.1.10'), true);
    await g.disconnect(linkId);
    assert.equal(await ping(c1.netns, '10.61.1.10'), false);
    for (const i of [c1, d1]) {
      const router = await routerOf(i);
      const links = JSON.parse((await run('ip', ['-n', router, '-j', 'link', 'show'])).stdout) as { ifname: string }[];
      assert.ok(!links.some((x) => x.ifname.startsWith('p')), `no link veth left in ${router}`);
      const rules = (await run('ip', ['-n', router, 'rule', 'show'])).stdout;
      assert.doesNotMatch(rules, /lookup 13\d{8}/, `no link rule left in ${router}:\n${rules}`);
    }
    await g.close();
  });
});

describe('netns fabric: NAT gateways', { skip: unable, timeout: 180_000 }, () => {
  let f: NetnsFabric;
  let E: NetworkInfo;
  const vpcE = `vpc-${hex(8)}e`;
  const vpcG = `vpc-${hex(8)}g`;
  // e1: the public subnet, with a public IP; e2, e3: private subnets; g1: a peered VPC
  const e1r = nicAt(vpcE, 70, 1, `i-${hex(8)}e1`);
  const e2r = nicAt(vpcE, 70, 2, `i-${hex(8)}e2`);
  const e3r = nicAt(vpcE, 70, 3, `i-${hex(8)}e3`);
  const g1r = nicAt(vpcG, 72, 1, `i-${hex(8)}g1`);
  const E1_PUBLIC = '198.51.100.220';
  const EIP = '198.51.100.221';
  const pub: NatGatewaySpec = {
    natGatewayId: `nat-${hex(8)}p`,
    vpcId: vpcE,
    subnetId: e1r.subnetId,
    subnetCidr: e1r.subnetCidr,
    mac: `02:${hex(5).match(/../g)!.join(':')}`,
    privateIp: '10.70.1.250',
    publicIp: EIP,
    routes: [],
  };
  const priv: NatGatewaySpec = { ...pub, natGatewayId: `nat-${hex(8)}q`, mac: `02:${hex(5).match(/../g)!.join(':')}`, privateIp: '10.70.1.251', routes: [] };
  delete priv.publicIp;
  let e1: PluggedInterface;
  let e2: PluggedInterface;
  let e3: PluggedInterface;
  const children: ChildProcess[] = [];
  const servers: Server[] = [];
  const linkId = `pcx-${hex(8)}`;

  before(async () => {
    f = fabric();
    E = await f.ensureNetwork({ vpcId: vpcE, cidrBlock: '10.70.0.0/16' });
    await f.ensureNetwork({ vpcId: vpcG, cidrBlock: '10.72.0.0/16' });
    e1 = await f.plug(e1r);
    e2 = await f.plug(e2r);
    e3 = await f.plug(e3r);
    const g1 = await f.plug(g1r);
    await f.mapPublicIp({ publicIp: E1_PUBLIC, privateIp: e1r.privateIps[0]!, interfaceId: e1r.interfaceId, vpcId: vpcE });
    children.push(await listenIn(e1.netns, 7200, 'e1'), await listenIn(g1.netns, 7200, 'g1'));
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const s of servers) s.close();
  });

  it('an instance without a public IP and no route to a gateway has no path to a public address', async () => {
    assert.equal(await fetchFromNs(e2.netns, '10.70.1.10', 7200), 'e1 10.70.2.10', 'inside the VPC it reaches e1 directly');
    assert.equal(await fetchFromNs(e2.netns, E1_PUBLIC, 7200), 'timeout', 'no public IP, no NAT route: no path');
    await f.ensureNatGateway(pub);
    assert.equal(await fetchFromNs(e2.netns, E1_PUBLIC, 7200), 'timeout', 'a gateway but no route to it: still none');
  });

  it('routed to a public gateway, it reaches the public address as the gateway’s Elastic IP; its own VPC and services stay direct', async () => {
    await f.ensureNatGateway({ ...pub, routes: [{ source: e2r.subnetCidr, destination: '0.0.0.0/0' }] });
    assert.equal(await fetchFromNs(e2.netns, E1_PUBLIC, 7200), `e1 ${EIP}`, 'seen as the Elastic IP');
    assert.equal(await fetchFromNs(e2.netns, '10.70.1.10', 7200), 'e1 10.70.2.10', 'the local route wins inside the VPC');
    servers.push(await serve(E.serviceAddress!, METADATA_PORT, 'imds-E'));
    assert.equal(await fetchFromNs(e2.netns, '169.254.169.254', 80), 'imds-E 10.70.2.10', 'metadata does not go through the gateway');
    // e3's subnet has no route
    assert.equal(await fetchFromNs(e3.netns, E1_PUBLIC, 7200), 'timeout', 'another subnet without the route: no path');
    // nothing from outside reaches the gateway by its Elastic IP
    const dev = (JSON.parse((await run('ip', ['-j', 'route', 'get', EIP])).stdout) as { dev: string }[])[0]!.dev;
    assert.ok(dev.startsWith(`${PREFIX}t`), 'the Elastic IP is routed into the fabric');
    assert.equal(await ping(undefined, EIP, dev), false, 'the gateway does not answer from outside');
  });

  it('a destination narrower than 0.0.0.0/0 carries only that', async () => {
    await f.ensureNatGateway({ ...pub, routes: [{ source: e2r.subnetCidr, destination: `${E1_PUBLIC}/32` }] });
    assert.equal(await fetchFromNs(e2.netns, E1_PUBLIC, 7200), `e1 ${EIP}`);
    await f.ensureNatGateway({ ...pub, routes: [{ source: e2r.subnetCidr, destination: '198.51.100.128/30' }] });
    assert.equal(await fetchFromNs(e2.netns, E1_PUBLIC, 7200), 'timeout', 'a route elsewhere: no path');
    await f.ensureNatGateway({ ...pub, routes: [{ source: e2r.subnetCidr, destination: '0.0.0.0/0' }] });
  });

  it('a private gateway: what is routed to it reaches a peered VPC as the gateway’s private address, and no public address', async () => {
    await f.connect({
      linkId,
      networks: [vpcE, vpcG],
      routes: [
        { vpcId: vpcE, source: '10.70.1.0/24', destination: '10.72.0.0/16' },
        { vpcId: vpcG, source: '10.72.1.0/24', destination: '10.70.1.0/24' },
      ],
    });
    assert.equal(await fetchFromNs(e3.netns, '10.72.1.10', 7200), 'timeout', 'e3 has no route to G');
    await f.ensureNatGateway({ ...priv, routes: [{ source: e3r.subnetCidr, destination: '10.72.0.0/16' }] });
    assert.equal(await fetchFromNs(e3.netns, '10.72.1.10', 7200), 'g1 10.70.1.251', 'seen as the private gateway');
    await f.ensureNatGateway({ ...priv, routes: [{ source: e3r.subnetCidr, destination: '0.0.0.0/0' }] });
    assert.equal(await fetchFromNs(e3.netns, '10.72.1.10', 7200), 'g1 10.70.1.251', 'the peer, under 0.0.0.0/0');
    assert.equal(await fetchFromNs(e3.netns, E1_PUBLIC, 7200), 'timeout', 'a private gateway has no Elastic IP: no public address');
  });

  it('a restarted fabric finds the gateways, their routes and the Elastic IP; removed, the path is gone and nothing of them is left', async () => {
    const again = fabric();
    const found = (await again.list()).natGateways.filter((g) => g.vpcId === vpcE).sort((x, y) => x.natGatewayId.localeCompare(y.natGatewayId));
    const expected = [
      { ...pub, routes: [{ source: e2r.subnetCidr, destination: '0.0.0.0/0' }] },
      { ...priv, routes: [{ source: e3r.subnetCidr, destination: '0.0.0.0/0' }] },
    ].sort((x, y) => x.natGatewayId.localeCompare(y.natGatewayId));
    assert.deepEqual(found, expected);
    await again.ensureNatGateway({ ...pub, routes: [{ source: e2r.subnetCidr, destination: '0.0.0.0/0' }] });
    // a listener of its own (the first ones live 20 s)
    children.push(await listenIn(e1.netns, 7201, 'e1'));
    assert.equal(await fetchFromNs(e2.netns, E1_PUBLIC, 7201), `e1 ${EIP}`, 'still carried after the restart');
    await again.removeNatGateway(pub.natGatewayId);
    await again.removeNatGateway(priv.natGatewayId);
    assert.equal(await fetchFromNs(e2.netns, E1_PUBLIC, 7201), 'timeout', 'removed: no path');
    assert.equal(await fetchFromNs(e3.netns, '10.72.1.10', 7200), 'timeout', 'removed: no path to the peer');
    const namespaces = (await run('ip', ['netns', 'list'])).stdout;
    assert.ok(!namespaces.includes(pub.natGatewayId) && !namespaces.includes(priv.natGatewayId), namespaces);
    const route = (await run('ip', ['route', 'show', `${EIP}/32`])).stdout;
    assert.equal(route.trim(), '', 'the Elastic IP is no longer routed into the fabric');
    const router = await routerOf(e2);
    const rules = (await run('ip', ['-n', router, 'rule', 'show'])).stdout;
    for (const g of [pub, priv]) assert.ok(!rules.includes(`lookup ${natTable(g.natGatewayId)}`), `no rule of ${g.natGatewayId} left:\n${rules}`);
    assert.equal((await run('ip', ['-n', router, 'route', 'show', 'table', String(natTable(pub.natGatewayId))])).stdout.trim(), '', 'its table is empty');
    await again.disconnect(linkId);
    await again.close();
  });
});

describe('netns fabric: clean-up', { skip: unable }, () => {
  it('destroy() leaves nothing of the prefix on the host', async () => {
    for (const f of made) await f.close();
    await new NetnsFabric({ publicIpPool: POOL, egress: false, prefix: PREFIX }).destroy();
    assert.deepEqual(await fabricLeftovers(PREFIX), []);
  });
});
