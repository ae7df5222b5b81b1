/**
 * IPv6 on the netns fabric (netns-fabric.ts calls it from small hooks).
 *
 *   host ── <prefix>t<hash>: fd6f:7663:7400:<slot>::1/64 (serviceAddress6)
 *             │ the transit veth
 *   router ns: uplink fd6f:7663:7400:<slot>::2/64, default route → the host side;
 *             each subnet bridge holds its /64's first address (the subnet's IPv6
 *             router), net.ipv6.conf.all.forwarding=1 once its `table ip6 overcast6` is in;
 *             `unreachable` for the VPC's blocks (no address of them goes up to the host)
 *   instance ns: eth<n> with its IPv6 addresses (nodad), eth0's default IPv6 route via
 *             the subnet's router
 *
 * `table ip6 overcast6` in the router forwards IPv6 between the subnets of its VPC
 * (sets `nets`: the /64s plugged here), and beyond them only as routeIpv6 says:
 * `internet` subnets (a route to an attached internet gateway) to and from the
 * uplink, `egressonly` subnets (a route to an egress-only internet gateway) to it,
 * with only the replies back (conntrack). The host routes a VPC's blocks
 * (`blocks`) to the router's uplink while a subnet has one of the two; never
 * anything else, and a host table `ip6 <prefix>-guard` rejects what the host
 * would send to the IPv6 pool by any other way (no pool address follows the
 * host's default route off the machine) and drops what it would forward between
 * the transit veths and its other interfaces, in either direction.
 *
 * The sets are the books: a restarted fabric reads them back from the router.
 */
import { canonicalCidr6, formatIpv6, inCidr6, parseCidr6, parseIpv6, type Cidr6 } from '../../domain/cidr.js';
import { CommandError, run } from '../../host/exec.js';
import type { Ipv6Routing } from '../fabric.js';
import { checkIpv6, emptyRouting, gateway6, type CheckedIpv6 } from '../ipv6-checks.js';
import { UPLINK } from './fabric-names.js';
import { hostNftTableExists, inNs, ip, ipBatch, ipQuiet, nftApply, sysctlInNs } from './netns.js';
import { deleteTableScript } from './nat-rules.js';

/** The nft table of IPv6 forwarding in each router namespace. */
export const TABLE6 = 'overcast6';
/** fd6f:7663:7400::/48 ("ovct"): a /64 per transit slot, .1 the host side, .2 the router's uplink. */
const TRANSIT6_BASE = 0xfd6f_7663_7400n << 80n;

export function transit6(slot: number): { host: string; router: string; cidr: string } {
  const net = TRANSIT6_BASE | (BigInt(slot) << 64n);
  return { host: formatIpv6(net | 1n), router: formatIpv6(net | 2n), cidr: `${formatIpv6(net)}/64` };
}

export interface Router6Rules {
  /** the subnet /64s of the VPC plugged here */
  nets: string[];
  blocks: string[];
  internet: string[];
  egressOnly: string[];
}

const elements = (xs: readonly string[]): string => (xs.length === 0 ? '' : ` elements = { ${[...xs].sort().join(', ')} };`);

/** The router's `table ip6 overcast6`, replaced whole in one transaction. */
export function router6Ruleset(r: Router6Rules): string {
  return (
    [
      `table ip6 ${TABLE6} { }`,
      `delete table ip6 ${TABLE6}`,
      `table ip6 ${TABLE6} {`,
      `  set nets { type ipv6_addr; flags interval;${elements(r.nets)} }`,
      `  set blocks { type ipv6_addr; flags interval;${elements(r.blocks)} }`,
      `  set internet { type ipv6_addr; flags interval;${elements(r.internet)} }`,
      `  set egressonly { type ipv6_addr; flags interval;${elements(r.egressOnly)} }`,
      `  chain forward {`,
      `    type filter hook forward priority filter; policy drop;`,
      `    ct state established,related accept`,
      // neighbour discovery and link-local traffic on a subnet's bridge (br_netfilter shows it here)
      `    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } accept`,
      `    ip6 daddr { fe80::/10, ff02::/16 } accept`,
      `    ct state invalid drop`,
      `    iifname "${UPLINK}" ip6 daddr @internet accept`,
      `    iifname "${UPLINK}" drop`,
      `    oifname "${UPLINK}" ip6 saddr @internet accept`,
      `    oifname "${UPLINK}" ip6 saddr @egressonly accept`,
      `    oifname "${UPLINK}" drop`,
      `    ip6 saddr @nets ip6 daddr @nets accept`,
      `  }`,
      `}`,
    ].join('\n') + '\n'
  );
}

/** The host's IPv6 guard: `table ip6 <prefix>-guard`. */
export const hostGuard6Table = (prefix: string): string => `${prefix}-guard`;

export function hostGuard6Ruleset(prefix: string, pool: string): string {
  const t = hostGuard6Table(prefix);
  return (
    [
      `table ip6 ${t} { }`,
      `delete table ip6 ${t}`,
      `table ip6 ${t} {`,
      `  chain forward {`,
      `    type filter hook forward priority filter; policy accept;`,
      `    iifname "${prefix}t*" oifname != "${prefix}t*" drop`,
      `    oifname "${prefix}t*" iifname != "${prefix}t*" drop`,
      `  }`,
      `  chain output {`,
      `    type filter hook output priority filter; policy accept;`,
      `    ip6 daddr ${pool} oifname != "${prefix}t*" reject`,
      `  }`,
      `}`,
    ].join('\n') + '\n'
  );
}

/** What the fabric tells about a network. */
export interface Net6 {
  vpcId: string;
  /** the router namespace */
  ns: string;
  /** the host side of the transit veth */
  hostIf: string;
  slot: number;
}

/** Where an interface is, for addressing it. */
export interface Port6 {
  subnetId: string;
  bridge: string;
  /** the instance namespace and the device in it */
  ins: string;
  eth: string;
  mac: string;
  deviceIndex: number;
}

interface RouteJson {
  dst?: string;
  gateway?: string;
  type?: string;
}

const routesOf = async (ns: string | undefined, args: string[]): Promise<RouteJson[]> => JSON.parse((await ip(ns, ['-6', '-j', 'route', 'show', ...args])) || '[]') as RouteJson[];

/** A route's destination as a canonical CIDR ("default" is ::/0, a host route /128). */
function dstCidr(d: string | undefined): string | undefined {
  if (d === undefined) return undefined;
  if (d === 'default') return '::/0';
  const c = parseCidr6(d.includes('/') ? d : `${d}/128`);
  return c && canonicalCidr6(c);
}

export class NetnsIpv6 {
  /** vpcId → subnetId → the /64 its bridge routes */
  private readonly subnets = new Map<string, Map<string, string>>();
  /** vpcId → the routing applied (absent: none, or not known since a restart) */
  private readonly routing = new Map<string, Ipv6Routing>();
  /** routers whose IPv6 side is set up */
  private readonly ready = new Set<string>();

  constructor(
    private readonly prefix: string,
    readonly pool: Cidr6,
  ) {}

  get poolText(): string {
    return canonicalCidr6(this.pool);
  }

  serviceAddress(slot: number): string {
    return transit6(slot).host;
  }

  hostScript(): string {
    return hostGuard6Ruleset(this.prefix, this.poolText);
  }

  /** The routing of every network that has one. */
  list(): Ipv6Routing[] {
    return [...this.routing.values()].filter((r) => !emptyRouting(r)).map((r) => ({ vpcId: r.vpcId, blocks: [...r.blocks], internet: [...r.internet], egressOnly: [...r.egressOnly] }));
  }

  reset(): void {
    this.subnets.clear();
    this.routing.clear();
    this.ready.clear();
  }

  forgetNetwork(vpcId: string): void {
    this.subnets.delete(vpcId);
    this.routing.delete(vpcId);
    this.ready.delete(vpcId);
  }

  private subnetsOf(vpcId: string): Map<string, string> {
    let m = this.subnets.get(vpcId);
    if (!m) this.subnets.set(vpcId, (m = new Map()));
    return m;
  }

  /** The transit addresses, the router's default route and table, then forwarding (idempotent). */
  private async ensureRouter(n: Net6): Promise<void> {
    if (this.ready.has(n.vpcId)) return;
    const t = transit6(n.slot);
    await ipBatch(undefined, [`addr replace ${t.host}/64 dev ${n.hostIf} nodad`]);
    await ipBatch(n.ns, [`addr replace ${t.router}/64 dev ${UPLINK} nodad`, `route replace default via ${t.host} dev ${UPLINK}`]);
    await this.apply(n);
    await sysctlInNs(n.ns, 'net.ipv6.conf.all.forwarding', '1');
    this.ready.add(n.vpcId);
  }

  private async apply(n: Net6): Promise<void> {
    const r = this.routing.get(n.vpcId);
    await nftApply(n.ns, router6Ruleset({ nets: [...this.subnetsOf(n.vpcId).values()], blocks: r?.blocks ?? [], internet: r?.internet ?? [], egressOnly: r?.egressOnly ?? [] }));
  }

  /**
   * An interface's IPv6 side made `after` (from `before`: nothing when plugged): the
   * subnet's router address on its bridge, the addresses and default route inside, the
   * router's neighbour entries for them (as for IPv4: a reused address answers at once).
   */
  async address(n: Net6, p: Port6, before: CheckedIpv6 | undefined, after: CheckedIpv6 | undefined): Promise<void> {
    if (!before && !after) return;
    await this.ensureRouter(n);
    const subs = this.subnetsOf(n.vpcId);
    if (after && subs.get(p.subnetId) !== after.subnetCidr) {
      const old = subs.get(p.subnetId);
      if (old) await ipQuiet(n.ns, ['addr', 'del', `${gateway6(parseCidr6(old)!)}/64`, 'dev', p.bridge]);
      await ip(n.ns, ['addr', 'replace', `${gateway6(after.subnet)}/64`, 'dev', p.bridge, 'nodad']);
      subs.set(p.subnetId, after.subnetCidr);
      await this.apply(n);
    }
    const same = before && after && before.subnetCidr === after.subnetCidr;
    const removed = before ? before.addresses.filter((a) => !same || !after!.addresses.includes(a)) : [];
    const added = after ? after.addresses.filter((a) => !same || !before!.addresses.includes(a)) : [];
    const lines = [...removed.map((a) => `addr del ${a}/64 dev ${p.eth}`), ...added.map((a) => `addr add ${a}/64 dev ${p.eth} nodad`)];
    if (p.deviceIndex === 0 && after && !same) lines.push(`route replace default via ${gateway6(after.subnet)} dev ${p.eth}`);
    await ipBatch(p.ins, lines);
    if (p.deviceIndex === 0 && before && !after) await ipQuiet(p.ins, ['-6', 'route', 'del', 'default', 'via', gateway6(before.subnet), 'dev', p.eth]);
    await ipBatch(n.ns, added.map((a) => `neigh replace ${a} lladdr ${p.mac} dev ${p.bridge} nud stale`));
  }

  /** A subnet's bridge is gone (its last interface unplugged): its /64 is no longer the VPC's here. */
  async forgetSubnet(n: Net6, subnetId: string): Promise<void> {
    const subs = this.subnets.get(n.vpcId);
    if (!subs?.delete(subnetId)) return;
    if (this.ready.has(n.vpcId)) await this.apply(n);
  }

  /** routeIpv6 for a network (checked): its sets, the router's unreachable blocks, the host's routes of its blocks. */
  async route(n: Net6, r: Ipv6Routing): Promise<void> {
    const have = this.routing.get(n.vpcId);
    if (have && sameRouting(have, r)) return;
    const empty = emptyRouting(r);
    if (!empty || have || this.ready.has(n.vpcId)) {
      await this.ensureRouter(n);
      this.routing.set(n.vpcId, r);
      await this.apply(n);
    }
    const t = transit6(n.slot);
    // the router: no address of the blocks but its subnets' goes up to the host
    const unreachable = (await routesOf(n.ns, ['type', 'unreachable'])).map((x) => dstCidr(x.dst)).filter((x): x is string => x !== undefined && x !== '::/0');
    for (const d of unreachable) if (!r.blocks.includes(d)) await ipQuiet(n.ns, ['-6', 'route', 'del', 'unreachable', d]);
    for (const b of r.blocks) if (!unreachable.includes(b)) await ip(n.ns, ['-6', 'route', 'replace', 'unreachable', b]);
    // the host: the blocks routed into the router only while a subnet has a path
    const want = r.internet.length + r.egressOnly.length > 0 ? r.blocks : [];
    const routed = (await routesOf(undefined, ['dev', n.hostIf])).filter((x) => x.gateway !== undefined).map((x) => dstCidr(x.dst)).filter((x): x is string => x !== undefined);
    for (const d of routed) if (!want.includes(d)) await ipQuiet(undefined, ['-6', 'route', 'del', d, 'dev', n.hostIf]);
    for (const b of want) await ip(undefined, ['-6', 'route', 'replace', b, 'via', t.router, 'dev', n.hostIf]);
    this.routing.set(n.vpcId, r);
  }

  /**
   * After a restart: the router's /64s (from its bridges' addresses) and routing (from its
   * table's sets). `bridges`: each subnet bridge's id and global IPv6 addresses.
   */
  async adopt(n: Net6, bridges: { subnetId: string; inet6: string[] }[]): Promise<void> {
    const subs = this.subnetsOf(n.vpcId);
    for (const b of bridges) {
      for (const a of b.inet6) {
        const c = parseCidr6(a);
        if (c && c.prefix === 64 && gateway6(c) === formatIpv6(c.address)) subs.set(b.subnetId, canonicalCidr6(c));
      }
    }
    const sets = await readSets(n.ns);
    if (!sets) return;
    this.ready.add(n.vpcId);
    this.routing.set(n.vpcId, { vpcId: n.vpcId, blocks: sets.blocks, internet: sets.internet, egressOnly: sets.egressonly });
  }

  /** The IPv6 side of an interface found after a restart: the addresses of its device inside its subnet's /64. */
  adoptInterface(vpcId: string, subnetId: string, inet6: readonly string[]): CheckedIpv6 | undefined {
    const cidr = this.subnets.get(vpcId)?.get(subnetId);
    const c = cidr === undefined ? undefined : parseCidr6(cidr);
    if (!c) return undefined;
    const addresses = inet6.map((a) => a.split('/')[0]!).filter((a) => {
      const x = parseIpv6(a);
      return x !== undefined && inCidr6(x, c);
    });
    try {
      return checkIpv6('', { subnetCidr: cidr!, addresses });
    } catch {
      return undefined;
    }
  }
}

function sameRouting(a: Ipv6Routing, b: Ipv6Routing): boolean {
  return a.blocks.join() === b.blocks.join() && a.internet.join() === b.internet.join() && a.egressOnly.join() === b.egressOnly.join();
}

type SetElem = string | { prefix?: { addr: string; len: number }; range?: [string, string] };

/** The router table's sets, as canonical sorted CIDRs; undefined when the table is not there. */
async function readSets(ns: string): Promise<Record<'blocks' | 'internet' | 'egressonly', string[]> | undefined> {
  let out: string;
  try {
    out = await inNs(ns, 'nft', ['-j', 'list', 'table', 'ip6', TABLE6]);
  } catch (e) {
    if (e instanceof CommandError) return undefined;
    throw e;
  }
  const doc = JSON.parse(out) as { nftables: { set?: { name: string; elem?: SetElem[] } }[] };
  const sets = { blocks: [] as string[], internet: [] as string[], egressonly: [] as string[] };
  for (const item of doc.nftables) {
    const s = item.set;
    if (!s || !(s.name in sets)) continue;
    const list = sets[s.name as keyof typeof sets];
    for (const e of s.elem ?? []) {
      const text = typeof e === 'string' ? `${e}/128` : e.prefix ? `${e.prefix.addr}/${e.prefix.len}` : undefined;
      const c = text === undefined ? undefined : parseCidr6(text);
      if (c) list.push(canonicalCidr6(c));
    }
    list.sort();
  }
  return sets;
}

/** What the prefix still has of IPv6 on the host (for fabricLeftovers). */
export async function ipv6Leftovers(prefix: string): Promise<string[]> {
  const out: string[] = [];
  if (await hostNftTableExists(hostGuard6Table(prefix), 'ip6')) out.push(`nft table ip6 ${hostGuard6Table(prefix)}`);
  for (const r of await routesOf(undefined, ['table', 'all'])) {
    const dev = (r as RouteJson & { dev?: string }).dev;
    if (dev !== undefined && new RegExp(`^${prefix}t[0-9a-f]{8}$`).test(dev) && r.gateway !== undefined) out.push(`route ${r.dst} dev ${dev}`);
  }
  return out;
}

/** Removes the prefix's IPv6 host table (its routes go with the transit veths). */
export async function destroyIpv6(prefix: string): Promise<void> {
  if (await hostNftTableExists(hostGuard6Table(prefix), 'ip6')) await nftApply(undefined, deleteTableScript(hostGuard6Table(prefix), 'ip6'));
}
