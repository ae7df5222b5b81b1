/**
 * The nftables firewall on this host: the generated rules (no host needed),
 * the shared conformance suite inside a scratch namespace, then real packets
 * between interfaces the netns fabric plugs (bounded: one connect with a
 * timeout, one ping with -W1), then clean-up and nothing left.
 * Only addresses inside the fabric's namespaces are contacted.
 * Skipped, with the probe's reason, where the host cannot run it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { nodeReadyIn, ping } from '../helpers/netns.js';
import { run } from '../../src/host/exec.js';
import { FIREWALLS } from '../../src/network/drivers/index.js';
import { NetnsFabric } from '../../src/network/drivers/netns-fabric.js';
import { firewallTablesIn, NftFirewall, canonicalElement } from '../../src/network/drivers/nft-firewall.js';
import { elementSize, fullTable, gateOf } from '../../src/network/drivers/nft-firewall-rules.js';
import { ruleKey, type AclEntry, type FirewallRule, type InterfaceRuleSet } from '../../src/network/firewall.js';
import type { NetworkInfo, PluggedInterface, PlugRequest } from '../../src/network/fabric.js';
import { baseRuleSet, runFirewallConformance, type FirewallCase } from './firewall.conformance.js';
import { inNsCommand } from '../../src/network/drivers/netns.js';

const PREFIX = `of${randomBytes(2).toString('hex')}`;
// its own pool: each fabric's host guard drops what its pool does not route, so two tests sharing one would drop each other's traffic
const POOL = '203.0.113.32/27';
const METADATA_PORT = 19000 + Math.floor(Math.random() * 1000);
const hex = (n: number) => randomBytes(n).toString('hex');
const stateDir = await mkdtemp(join(tmpdir(), 'overcast-nft-'));
const stateFile = join(stateDir, 'firewall.json');
const conformanceState = join(stateDir, 'conformance.json');

const probe = await new NftFirewall({ prefix: PREFIX, stateFile }).probe();
const fabricProbe = await new NetnsFabric({ publicIpPool: POOL, egress: false, prefix: PREFIX }).probe();
const unable = !probe.ok ? probe.reason : !fabricProbe.ok ? fabricProbe.reason : undefined;

after(async () => {
  await rm(stateDir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- the generated rules (no host needed)

describe('nft firewall rules', () => {
  const rs: InterfaceRuleSet = baseRuleSet('eni-1', 'v1', [
    { direction: 'ingress', protocol: 'tcp', cidr: '0.0.0.0/0', fromPort: 22, toPort: 22 },
    { direction: 'ingress', protocol: 'tcp', cidr: '10.0.0.0/8', fromPort: 22, toPort: 22 },
    { direction: 'ingress', protocol: 'tcp', cidr: '10.1.2.3/32', fromPort: 1000, toPort: 2000 },
    { direction: 'ingress', protocol: 'all', addressSet: 'sg-1' },
    { direction: 'egress', protocol: 'all', cidr: '0.0.0.0/0' },
  ]);

  it('puts CIDR rules into one interval set per protocol (one element each), address-set rules into counted rules', () => {
    const g = gateOf(rs, 'ingress');
    const tcp = g.sets.find((s) => s.name === 'in_eni-1_tcp4');
    assert.ok(tcp);
    assert.deepEqual([...tcp.elements.keys()].sort(), ['0.0.0.0/0 . 22', '10.0.0.0/8 . 22', '10.1.2.3 . 1000-2000']);
    assert.equal(g.setRules.length, 2, 'an address-set rule per family');
    assert.ok(g.setRules.every(([m, k]) => m.includes('@as') && k === ruleKey(rs.rules[3]!)));
    assert.deepEqual(g.uses, ['sg-1']);
  });

  it('orders a set so that an element inside another comes first (the kernel refuses it after)', () => {
    assert.ok(elementSize('10.1.2.3 . 22') < elementSize('10.0.0.0/8 . 22'));
    assert.ok(elementSize('10.0.0.0/8 . 22') < elementSize('0.0.0.0/0 . 22'));
    assert.ok(elementSize('0.0.0.0/0 . 22') < elementSize('0.0.0.0/0 . 0-65535'));
    const script = fullTable('t', { interfaces: [rs], acls: [], addressSets: new Map([['sg-1', ['10.0.0.5']]]), captured: [] }).join('\n');
    assert.ok(script.indexOf('10.0.0.0/8 . 22') < script.indexOf('0.0.0.0/0 . 22'), script);
  });

  it('gates both ends: the sender’s egress returns, the receiver’s ingress decides, services and replies first', () => {
    const script = fullTable('t', { interfaces: [rs], acls: [], addressSets: new Map([['sg-1', []]]), captured: [] }).join('\n');
    const forward = script.slice(script.indexOf('add chain inet t forward'));
    const order = ['ct mark', 'aclsrc4', 'acldst4', 'ct state established,related', 'egress4', 'ingress4', 'goto accept_flow'];
    let at = -1;
    for (const o of order) {
      const i = forward.indexOf(o, at + 1);
      assert.ok(i > at, `${o} after the previous step`);
      at = i;
    }
    assert.match(script, /add rule inet t eg_eni-1 ip daddr \. meta l4proto @eg_eni-1_proto4 return/);
    assert.match(script, /add rule inet t in_eni-1 counter goto reject_flow comment "drop:ingress"/);
  });

  it('reads elements back in the form nft prints them', () => {
    assert.equal(canonicalElement('10.1.2.3/32 . 22-22'), '10.1.2.3 . 22');
    assert.equal(canonicalElement('2001:DB8:0:0::/32 . 0-65535'), '2001:db8::/32 . 0-65535');
  });

  it('is registered as "nft"', () => {
    assert.ok(FIREWALLS.create('nft', loadConfig([], {})) instanceof NftFirewall);
  });
});

// ---------------------------------------------------------------- the contract, in a scratch namespace

const scratch = `${PREFIX}-fwc`;
const ALL: FirewallCase[] = ['probe', 'apply', 'apply-idempotent', 'replace', 'remove', 'invalid-rules', 'atomic', 'address-sets', 'host-interface', 'acls', 'invalid-acls', 'counters', 'flows', 'restart'];
describe('nft firewall in a scratch namespace', { skip: unable }, () => {
  before(async () => {
    await run('ip', ['netns', 'add', scratch]);
  });
  after(async () => {
    assert.deepEqual(await firewallTablesIn(scratch, PREFIX), [], 'no table left in the namespace');
    await run('ip', ['netns', 'del', scratch]);
  });
  runFirewallConformance('nft', () => new NftFirewall({ prefix: PREFIX, stateFile: conformanceState }), {
    timeoutMs: 60_000,
    netns: scratch,
    reopen: () => new NftFirewall({ prefix: PREFIX, stateFile: conformanceState }),
    skip: unable ? Object.fromEntries(ALL.map((k) => [k, unable])) : {},
  });
});

// ---------------------------------------------------------------- real packets


/** TCP and UDP listeners in a namespace answering "<label> <peer>"; resolves once they listen. */
async function listenIn(ns: string, ports: number[], label: string): Promise<ChildProcess> {
  const script =
    `const net=require('net'),dg=require('dgram');` +
    `for(const p of ${JSON.stringify(ports)}){net.createServer(c=>{c.on('error',()=>{});c.on('data',()=>{if(p===7009)c.write('echo\\n')});c.write('${label} '+c.remoteAddress.replace(/^::ffff:/,'')+'\\n');if(p!==7009)c.end()}).listen(p,'0.0.0.0');` +
    `const u=dg.createSocket('udp4');u.on('message',(m,r)=>u.send('${label} '+r.address,r.port,r.address));u.bind(p)}` +
    `setTimeout(()=>console.log('ready'),100);setTimeout(()=>process.exit(0),170000)`;
  return nodeReadyIn(ns, script);
}

/** One TCP connect from a namespace: the answer's first line, `timeout` (dropped), or `error <code>` (refused). */
async function tcp(ns: string, address: string, port: number, waitMs = 1500): Promise<string> {
  const script = `const c=require('net').connect(${port},'${address}');let d='';c.on('data',b=>{d+=b;if(d.includes('\\n')){console.log(d.trim());process.exit(0)}});c.on('error',e=>{console.log('error '+e.code);process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},${waitMs})`;
  return (await run(...inNsCommand(ns, process.execPath, ['-e', script]), { timeoutMs: waitMs + 5000 })).stdout.trim();
}

/** One UDP datagram and its answer, or `timeout`. */
async function udp(ns: string, address: string, port: number): Promise<string> {
  const script = `const s=require('dgram').createSocket('udp4');s.on('message',m=>{console.log(m.toString());process.exit(0)});s.send('q',${port},'${address}');setTimeout(()=>{console.log('timeout');process.exit(0)},1500)`;
  return (await run(...inNsCommand(ns, process.execPath, ['-e', script]), { timeoutMs: 6000 })).stdout.trim();
}

describe('nft firewall: real packets between instances', { skip: unable, timeout: 170_000 }, () => {
  let fabric: NetnsFabric;
  let fw: NftFirewall;
  let net: NetworkInfo;
  const vpc = `vpc-${hex(8)}`;
  const nic = (subnet: number, host: number): PlugRequest => ({
    interfaceId: `eni-${hex(8)}`,
    instanceId: `i-${hex(8)}`,
    vpcId: vpc,
    subnetId: `subnet-${vpc.slice(4)}${subnet}`,
    subnetCidr: `172.31.${subnet * 16}.0/20`,
    mac: `02:${hex(5).match(/../g)!.join(':')}`,
    privateIps: [`172.31.${subnet * 16}.${host}`],
    deviceIndex: 0,
  });
  const r1 = nic(0, 10);
  const r2 = nic(0, 11);
  const r3 = nic(1, 10);
  let a1: PluggedInterface;
  let a2: PluggedInterface;
  let a3: PluggedInterface;
  const children: ChildProcess[] = [];
  const servers: Server[] = [];
  const ALL_OUT: FirewallRule[] = [{ direction: 'egress', protocol: 'all', cidr: '0.0.0.0/0' }];
  const sg = (i: PluggedInterface, rules: FirewallRule[]) =>
    fw.apply({ interfaceId: i.interfaceId, hostIfname: i.hostIfname, netns: i.hostNetns!, addresses: i.addresses, rules });
  const ipOf = (i: PluggedInterface) => i.addresses[0]!.split('/')[0]!;
  const tcpIn = (port: number, cidr = '0.0.0.0/0'): FirewallRule => ({ direction: 'ingress', protocol: 'tcp', cidr, fromPort: port, toPort: port });

  before(async () => {
    fabric = new NetnsFabric({ publicIpPool: POOL, egress: false, prefix: PREFIX, metadataPort: METADATA_PORT });
    fw = new NftFirewall({ prefix: PREFIX, stateFile });
    net = await fabric.ensureNetwork({ vpcId: vpc, cidrBlock: '172.31.0.0/16' });
    a1 = await fabric.plug(r1);
    a2 = await fabric.plug(r2);
    a3 = await fabric.plug(r3);
    assert.ok(a1.hostNetns && a1.hostNetns === a3.hostNetns, 'the host sides live in the VPC router namespace');
    children.push(await listenIn(a1.netns, [7000, 7001, 7002, 7009], 'a1'), await listenIn(a2.netns, [7000, 7001], 'a2'), await listenIn(a3.netns, [7000, 7001], 'a3'));
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    for (const s of servers) s.close();
    for (const i of [a1, a2, a3]) if (i) await fw.remove(i.interfaceId);
    for (const s of await fw.subnetAcls()) await fw.removeSubnetAcl(s);
    for (const s of await fw.addressSets()) await fw.deleteAddressSet(s);
    const ns = a1?.hostNetns;
    if (ns) assert.deepEqual(await firewallTablesIn(ns, PREFIX), [], 'no firewall table left in the router namespace');
    await fw.close();
    assert.equal(existsSync(stateFile), false, 'no books left');
    await fabric.destroy();
  });

  it('without rules everything passes; a new group (no ingress, all egress) drops: a timeout, not a refusal', async () => {
    assert.equal(await tcp(a2.netns, ipOf(a1), 7000), `a1 ${ipOf(a2)}`, 'no firewall yet');
    await sg(a1, ALL_OUT);
    await sg(a2, ALL_OUT);
    assert.equal(await tcp(a2.netns, ipOf(a1), 7000), 'timeout');
    assert.equal(await ping(a2.netns, ipOf(a1)), false, 'ping dropped');
    assert.equal(await udp(a2.netns, ipOf(a1), 7002), 'timeout', 'udp dropped');
  });

  it('opening a port works at once, for that port and protocol only; revoking stops new connections at once', async () => {
    await sg(a1, [...ALL_OUT, tcpIn(7000), { direction: 'ingress', protocol: 'udp', cidr: '172.31.0.0/16', fromPort: 7002, toPort: 7002 }, { direction: 'ingress', protocol: 'icmp', cidr: '0.0.0.0/0', icmpType: 8 }]);
    assert.equal(await tcp(a2.netns, ipOf(a1), 7000), `a1 ${ipOf(a2)}`);
    assert.equal(await tcp(a2.netns, ipOf(a1), 7001), 'timeout', 'another port stays closed');
    assert.equal(await udp(a2.netns, ipOf(a1), 7002), `a1 ${ipOf(a2)}`, 'udp opened');
    assert.equal(await udp(a2.netns, ipOf(a1), 7000), 'timeout', 'udp on the tcp port stays closed');
    assert.equal(await ping(a2.netns, ipOf(a1)), true, 'echo request opened');
    await sg(a1, ALL_OUT);
    assert.equal(await tcp(a2.netns, ipOf(a1), 7000), 'timeout', 'revoked: the next connection is dropped');
  });

  it('the reply to an outbound connection passes although inbound is closed', async () => {
    await sg(a1, ALL_OUT);
    await sg(a2, [...ALL_OUT, tcpIn(7000)]);
    assert.equal(await tcp(a1.netns, ipOf(a2), 7000), `a2 ${ipOf(a1)}`);
  });

  it('the sender’s egress and the receiver’s ingress are two gates: both must allow', async () => {
    await sg(a1, [...ALL_OUT, tcpIn(7000)]);
    await sg(a2, []);
    assert.equal(await tcp(a2.netns, ipOf(a1), 7000), 'timeout', 'a2 may not send');
    await sg(a2, [{ direction: 'egress', protocol: 'tcp', cidr: `${ipOf(a1)}/32`, fromPort: 7000, toPort: 7000 }]);
    assert.equal(await tcp(a2.netns, ipOf(a1), 7000), `a1 ${ipOf(a2)}`, 'both allow');
    await sg(a2, ALL_OUT);
  });

  it('egress restricted to one CIDR blocks the others', async () => {
    await sg(a2, [...ALL_OUT, tcpIn(7000)]);
    await sg(a3, [...ALL_OUT, tcpIn(7000)]);
    await sg(a1, [{ direction: 'egress', protocol: 'all', cidr: '172.31.16.0/20' }]);
    assert.equal(await tcp(a1.netns, ipOf(a3), 7000), `a3 ${ipOf(a1)}`, 'inside the CIDR');
    assert.equal(await tcp(a1.netns, ipOf(a2), 7000), 'timeout', 'outside it');
    await sg(a1, ALL_OUT);
  });

  it('a rule on a group follows its members as they join and leave', async () => {
    await fw.putAddressSet({ name: 'sg-web', addresses: [ipOf(a2)] });
    await sg(a1, [...ALL_OUT, { direction: 'ingress', protocol: 'tcp', addressSet: 'sg-web', fromPort: 7000, toPort: 7001 }]);
    await sg(a3, ALL_OUT);
    assert.equal(await tcp(a2.netns, ipOf(a1), 7000), `a1 ${ipOf(a2)}`, 'a member');
    assert.equal(await tcp(a3.netns, ipOf(a1), 7000), 'timeout', 'not a member');
    await fw.putAddressSet({ name: 'sg-web', addresses: [ipOf(a3)] });
    assert.equal(await tcp(a3.netns, ipOf(a1), 7000), `a1 ${ipOf(a3)}`, 'joined');
    assert.equal(await tcp(a2.netns, ipOf(a1), 7001), 'timeout', 'left');
    await sg(a1, ALL_OUT);
    await fw.deleteAddressSet('sg-web');
  });

  it('network ACLs: a lower-numbered deny beats a higher allow; stateless, so a blocked ephemeral range breaks the connection', async () => {
    await sg(a3, [...ALL_OUT, tcpIn(7000), tcpIn(7001)]);
    const subnet = r3.subnetId;
    const allowAllOut: AclEntry = { ruleNumber: 100, egress: true, action: 'allow', protocol: 'all', cidr: '0.0.0.0/0' };
    await fw.applySubnetAcl({
      subnetId: subnet,
      aclId: 'acl-test',
      netns: a3.hostNetns!,
      cidrs: [r3.subnetCidr],
      entries: [
        { ruleNumber: 90, egress: false, action: 'deny', protocol: 'tcp', cidr: '172.31.0.0/20', fromPort: 7000, toPort: 7000 },
        { ruleNumber: 100, egress: false, action: 'allow', protocol: 'all', cidr: '0.0.0.0/0' },
        allowAllOut,
      ],
    });
    assert.equal(await tcp(a1.netns, ipOf(a3), 7000), 'timeout', 'deny 90 before allow 100');
    assert.equal(await tcp(a1.netns, ipOf(a3), 7001), `a3 ${ipOf(a1)}`, 'allow 100 for the rest');
    const inbound: AclEntry = { ruleNumber: 100, egress: false, action: 'allow', protocol: 'all', cidr: '0.0.0.0/0' };
    await fw.applySubnetAcl({
      subnetId: subnet,
      aclId: 'acl-test',
      netns: a3.hostNetns!,
      cidrs: [r3.subnetCidr],
      entries: [inbound, { ruleNumber: 100, egress: true, action: 'allow', protocol: 'tcp', cidr: '0.0.0.0/0', fromPort: 0, toPort: 1023 }],
    });
    assert.equal(await tcp(a1.netns, ipOf(a3), 7001), 'timeout', 'inbound allowed, the reply to an ephemeral port is not');
    await fw.applySubnetAcl({
      subnetId: subnet,
      aclId: 'acl-test',
      netns: a3.hostNetns!,
      cidrs: [r3.subnetCidr],
      entries: [inbound, { ruleNumber: 100, egress: true, action: 'allow', protocol: 'tcp', cidr: '0.0.0.0/0', fromPort: 1024, toPort: 65535 }],
    });
    assert.equal(await tcp(a1.netns, ipOf(a3), 7001), `a3 ${ipOf(a1)}`, 'the ephemeral range allowed out');
    assert.equal(await tcp(a2.netns, ipOf(a1), 7000), 'timeout', 'another subnet’s ACL does not open a1');
    const counters = await fw.counters();
    assert.ok(counters.some((c) => c.owner === subnet && c.rule === 'acl:ingress:100' && c.packets > 0), 'the ACL entry counted packets');
    await fw.removeSubnetAcl(subnet);
  });

  it('metadata traffic passes whatever the groups and ACLs say', async () => {
    servers.push(
      await new Promise<Server>((resolve, reject) => {
        const s = createServer((c) => c.end('imds\n'));
        s.once('error', reject);
        s.listen(METADATA_PORT, net.serviceAddress!, () => resolve(s));
      }),
    );
    await sg(a1, []);
    await fw.applySubnetAcl({ subnetId: r1.subnetId, aclId: 'acl-none', netns: a1.hostNetns!, cidrs: [r1.subnetCidr], entries: [] });
    assert.equal(await tcp(a1.netns, '169.254.169.254', 80), 'imds');
    assert.equal(await tcp(a2.netns, ipOf(a3), 7000), 'timeout', 'the deny-all ACL holds for everything else');
    await fw.removeSubnetAcl(r1.subnetId);
    await sg(a1, ALL_OUT);
  });

  it('records REJECT and ACCEPT flows of captured interfaces, and counts what each rule and drop matched', async () => {
    await sg(a1, [...ALL_OUT, tcpIn(7000)]);
    await sg(a2, ALL_OUT);
    await fw.captureFlows([a1.interfaceId]);
    await fw.drainFlows();
    assert.equal(await tcp(a2.netns, ipOf(a1), 7001), 'timeout');
    assert.equal(await tcp(a2.netns, ipOf(a1), 7000), `a1 ${ipOf(a2)}`);
    const flows = await fw.drainFlows();
    const rejected = flows.find((f) => f.action === 'REJECT' && f.dstAddr === ipOf(a1) && f.dstPort === 7001);
    assert.ok(rejected, `a REJECT record: ${JSON.stringify(flows)}`);
    assert.equal(rejected.interfaceId, a1.interfaceId);
    assert.equal(rejected.srcAddr, ipOf(a2));
    assert.equal(rejected.protocol, 6);
    assert.ok(rejected.packets >= 1 && rejected.bytes > 0 && rejected.end >= rejected.start);
    assert.ok(flows.some((f) => f.action === 'ACCEPT' && f.dstPort === 7000 && f.srcAddr === ipOf(a2)), 'the accepted request');
    assert.ok(flows.some((f) => f.action === 'ACCEPT' && f.srcPort === 7000 && f.srcAddr === ipOf(a1)), 'its reply');
    assert.ok(!flows.some((f) => f.srcAddr === ipOf(a3) || f.dstAddr === ipOf(a3)), 'only captured interfaces');
    const again = await fw.drainFlows();
    assert.ok(!again.some((f) => f.dstPort === 7001), 'drained once');
    const counters = await fw.counters();
    const rule = counters.find((c) => c.owner === a1.interfaceId && c.rule === ruleKey(tcpIn(7000)));
    assert.ok(rule && rule.packets >= 1, `the rule counted: ${JSON.stringify(rule)}`);
    const drop = counters.find((c) => c.owner === a1.interfaceId && c.rule === 'drop:ingress');
    assert.ok(drop && drop.packets >= 1, 'the drop counted');
    await fw.captureFlows([]);
  });

  it('a revoke cuts a connection the all-open rules left untracked, and keeps a tracked one', async () => {
    const open: FirewallRule[] = [...ALL_OUT, { direction: 'ingress', protocol: 'all', cidr: '0.0.0.0/0' }];
    await sg(a1, open);
    await sg(a2, ALL_OUT);
    // a2 holds a connection to a1:7009 (kept open by a1), sends a line, then another after the revoke
    const script = () =>
      `const c=require('net').connect(7009,'${ipOf(a1)}');let n=0;c.on('data',()=>{n++;if(n===1){console.log('up');}});` +
      `c.on('error',e=>{console.log('error '+e.code);process.exit(0)});` +
      `process.stdin.on('data',()=>{c.write('x',()=>{});const t=setTimeout(()=>{console.log('cut');process.exit(0)},2000);c.once('data',()=>{clearTimeout(t);console.log('alive');process.exit(0)})});`;
    const hold = async (): Promise<ChildProcess & { lines: string[] }> => {
      const child = spawn(...inNsCommand(a2.netns, process.execPath, ['-e', script()]), { stdio: ['pipe', 'pipe', 'inherit'] }) as ChildProcess & { lines: string[] };
      child.lines = [];
      child.stdout!.on('data', (b: Buffer) => child.lines.push(...b.toString().trim().split('\n')));
      const t0 = Date.now();
      while (!child.lines.includes('up') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 50));
      assert.ok(child.lines.includes('up'), `connected: ${child.lines.join(',')}`);
      return child;
    };
    const poke = async (child: ChildProcess & { lines: string[] }): Promise<string> => {
      child.stdin!.write('go\n');
      await new Promise((r) => child.once('exit', r));
      return child.lines.at(-1)!;
    };
    // a1's listener on 7009 answers each write with a line
    const untrackedConn = await hold();
    await sg(a1, [...ALL_OUT, tcpIn(22)]);
    assert.equal(await poke(untrackedConn), 'cut', 'untracked (all open both ways): revoking cuts it');
    await sg(a1, [...ALL_OUT, tcpIn(7009)]);
    const trackedConn = await hold();
    await sg(a1, [...ALL_OUT, tcpIn(22)]);
    assert.equal(await poke(trackedConn), 'alive', 'tracked (a port rule): the established connection is kept');
    await sg(a1, ALL_OUT);
  });
});
