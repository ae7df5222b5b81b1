/**
 * The nftables objects of the nft firewall, as script lines for one
 * `nft -f -` transaction. Pure: no I/O.
 *
 * One `table inet <T>` per namespace (a VPC's router namespace), where both
 * bridged (same subnet, through br_netfilter) and routed traffic passes the
 * forward hook:
 *
 *   chain forward (every packet)
 *     ct mark SERVICE_CT_MARK accept        metadata and DNS: no SG, no ACL (as EC2)
 *     ip saddr vmap @aclsrc4                 leaving a subnet: its ACL's egress entries
 *     ip daddr vmap @acldst4                 entering a subnet: its ACL's ingress entries
 *     ct state established,related goto accept_flow   stateful security groups
 *     ct state invalid drop
 *     ip saddr vmap @egress4                 the sender's egress gate (match: return)
 *     ip daddr vmap @ingress4                the receiver's ingress gate (match: accept)
 *     goto accept_flow                       neither end is an instance here (host ↔ services)
 *
 * Gates are chains per interface (`in_<eni>`, `eg_<eni>`) whose rules look
 * the peer up in sets — `peer . port` concatenations with intervals, one set
 * per direction, protocol and family, one element (with its own counter) per
 * rule — so a thousand rules cost one lookup, not a thousand comparisons.
 * Rules on a security group's members use a named address set (`as4_<name>`)
 * shared by every interface of the namespace. An unmatched packet takes the
 * gate's counted drop through `reject_flow`, which records it for flow logs.
 *
 * Both ends of a flow between two instances are gated: the sender's egress
 * and the receiver's ingress must both allow it (two chains, two verdicts),
 * so one side's "allow" never skips the other's rules.
 *
 * A `table bridge <T>b` drops what a bridge port sends from an address its
 * interface does not have (no spoofing around the gates).
 */
import { formatIpv6, parseIpv4, parseIpv6 } from '../../domain/cidr.js';
import { ruleKey, type AclEntry, type FirewallRule, type InterfaceRuleSet, type SubnetAcl } from '../firewall.js';
import { aclRuleName, isV6 } from '../firewall-checks.js';
import { SERVICE_CT_MARK } from './nat-rules.js';


export type Family = 4 | 6;
type Dir = 'in' | 'eg';
type Kind = 'tcp' | 'udp' | 'proto' | 'icmp';

const IP = (f: Family) => (f === 4 ? 'ip' : 'ip6');
const ADDR = (f: Family) => (f === 4 ? 'ipv4_addr' : 'ipv6_addr');

/** An address or CIDR as nft prints it back: a full-length prefix is a plain address, IPv6 compressed. */
export function nftAddress(cidr: string): string {
  const [addr, len] = cidr.split('/') as [string, string | undefined];
  if (parseIpv4(addr) !== undefined) return len === undefined || len === '32' ? addr : `${addr}/${len}`;
  const v6 = parseIpv6(addr);
  if (v6 === undefined) return cidr;
  const text = formatIpv6(v6);
  return len === undefined || len === '128' ? text : `${text}/${len}`;
}

const bare = (a: string): string => a.split('/')[0]!;
const range = (from: number, to: number): string => (from === to ? String(from) : `${from}-${to}`);
const q = (s: string): string => `"${s}"`;

export const chainName = (dir: Dir, interfaceId: string): string => `${dir}_${interfaceId}`;
export const setName = (dir: Dir, interfaceId: string, kind: Kind, f: Family): string => `${dir}_${interfaceId}_${kind}${f}`;
export const addressSetName = (name: string, f: Family): string => `as${f}_${name}`;
export const aclChainName = (egress: boolean, subnetId: string): string => `${egress ? 'aclout' : 'aclin'}_${subnetId}`;

/** What a set of a gate holds: its name, its key type, and its elements each with the rule key it counts. */
export interface GateSet {
  name: string;
  type: string;
  /** nft text of an element → ruleKey() of the rule it stands for */
  elements: Map<string, string>;
  /** the match before `@set` (e.g. `ip saddr . tcp dport`) */
  match: string;
}

export interface Gate {
  chain: string;
  sets: GateSet[];
  /** rules on address sets: [rule text without verdict, ruleKey] */
  setRules: [string, string][];
  /** the address sets the gate refers to (by the firewall's names) */
  uses: string[];
}

function gateSet(dir: Dir, id: string, kind: Kind, f: Family): GateSet {
  const peer = `${IP(f)} ${dir === 'in' ? 'saddr' : 'daddr'}`;
  const spec: Record<Kind, [string, string]> = {
    tcp: [`${ADDR(f)} . inet_service`, `${peer} . tcp dport`],
    udp: [`${ADDR(f)} . inet_service`, `${peer} . udp dport`],
    proto: [`${ADDR(f)} . inet_proto`, `${peer} . meta l4proto`],
    icmp: f === 4 ? [`${ADDR(f)} . icmp_type . icmp_code`, `${peer} . icmp type . icmp code`] : [`${ADDR(f)} . icmpv6_type . icmpv6_code`, `${peer} . icmpv6 type . icmpv6 code`],
  };
  const [type, match] = spec[kind];
  return { name: setName(dir, id, kind, f), type, elements: new Map(), match };
}

/** The protocol part of a rule or ACL entry as an nft match ('' for all). */
function protocolMatch(r: Pick<FirewallRule, 'protocol' | 'fromPort' | 'toPort' | 'icmpType' | 'icmpCode'>, f: Family): string {
  if (r.protocol === 'all') return '';
  if (r.protocol === 'tcp' || r.protocol === 'udp') {
    return r.fromPort === undefined ? `meta l4proto ${r.protocol}` : `${r.protocol} dport ${range(r.fromPort, r.toPort!)}`;
  }
  if (r.protocol === 'icmp' || r.protocol === 'icmpv6') {
    const name = f === 4 ? 'icmp' : 'icmpv6';
    if (r.icmpType === undefined) return `meta l4proto ${name}`;
    return `${name} type ${r.icmpType}` + (r.icmpCode === undefined ? '' : ` ${name} code ${r.icmpCode}`);
  }
  return `meta l4proto ${r.protocol}`;
}

/** One direction's gate of an interface: its sets (only the non-empty ones) and its rules on address sets. */
export function gateOf(rs: InterfaceRuleSet, direction: FirewallRule['direction']): Gate {
  const dir: Dir = direction === 'ingress' ? 'in' : 'eg';
  const id = rs.interfaceId;
  const sets = new Map<string, GateSet>();
  const get = (kind: Kind, f: Family): GateSet => {
    const s = gateSet(dir, id, kind, f);
    const have = sets.get(s.name);
    if (have) return have;
    sets.set(s.name, s);
    return s;
  };
  const setRules: [string, string][] = [];
  const uses = new Set<string>();
  for (const r of rs.rules) {
    if (r.direction !== direction) continue;
    const key = ruleKey(r);
    if (r.addressSet !== undefined) {
      uses.add(r.addressSet);
      for (const f of [4, 6] as const) {
        if ((r.protocol === 'icmp' && f === 6) || (r.protocol === 'icmpv6' && f === 4)) continue;
        const peer = `${IP(f)} ${dir === 'in' ? 'saddr' : 'daddr'} @${addressSetName(r.addressSet, f)}`;
        setRules.push([[peer, protocolMatch(r, f)].filter(Boolean).join(' '), key]);
      }
      continue;
    }
    const cidr = r.cidr!;
    const f: Family = isV6(cidr) ? 6 : 4;
    const peer = nftAddress(cidr);
    if (r.protocol === 'tcp' || r.protocol === 'udp') {
      get(r.protocol, f).elements.set(`${peer} . ${range(r.fromPort ?? 0, r.toPort ?? 65535)}`, key);
    } else if ((r.protocol === 'icmp' || r.protocol === 'icmpv6') && r.icmpType !== undefined) {
      get('icmp', f).elements.set(`${peer} . ${r.icmpType} . ${r.icmpCode === undefined ? '0-255' : r.icmpCode}`, key);
    } else {
      const proto = r.protocol === 'all' ? '0-255' : r.protocol === 'icmp' ? '1' : r.protocol === 'icmpv6' ? '58' : String(r.protocol);
      get('proto', f).elements.set(`${peer} . ${proto}`, key);
    }
  }
  return { chain: chainName(dir, id), sets: [...sets.values()], setRules, uses: [...uses] };
}

/** The drop rule's comment of a gate (its counter is the gate's drops). */
export const dropComment = (direction: FirewallRule['direction'] | 'acl-ingress' | 'acl-egress'): string => `drop:${direction}`;

/** Script lines that create a gate's sets, chain and rules (the chain must not exist). */
export function addGate(table: string, g: Gate, direction: FirewallRule['direction']): string[] {
  const verdict = direction === 'ingress' ? 'goto accept_flow' : 'return';
  const out: string[] = [];
  for (const s of g.sets) {
    // the kernel refuses an element inside one it already holds, not the other way round: smallest first
    const els = [...s.elements.keys()].sort((a, b) => elementSize(a) - elementSize(b) || (a < b ? -1 : a > b ? 1 : 0));
    out.push(`add set inet ${table} ${s.name} { type ${s.type}; flags interval; counter; elements = { ${els.join(', ')} }; }`);
  }
  out.push(`add chain inet ${table} ${g.chain}`);
  for (const s of g.sets) out.push(`add rule inet ${table} ${g.chain} ${s.match} @${s.name} ${verdict}`);
  for (const [match, key] of g.setRules) out.push(`add rule inet ${table} ${g.chain} ${match} counter ${verdict} comment ${q(key)}`);
  out.push(`add rule inet ${table} ${g.chain} counter goto reject_flow comment ${q(dropComment(direction))}`);
  return out;
}

/** log2 of how many keys an element of a gate set covers (an address prefix, port/type/code ranges). */
export function elementSize(element: string): number {
  let bits = 0;
  for (const part of element.split(' . ')) {
    const slash = part.indexOf('/');
    if (slash >= 0) {
      bits += (isV6(part) ? 128 : 32) - Number(part.slice(slash + 1));
    } else if (/^\d+-\d+$/.test(part)) {
      const [a, b] = part.split('-').map(Number) as [number, number];
      bits += Math.log2(b - a + 1);
    }
  }
  return bits;
}

/** Script lines that delete a gate (no verdict map may point at it any more). */
export function deleteGate(table: string, g: Gate): string[] {
  return [`flush chain inet ${table} ${g.chain}`, `delete chain inet ${table} ${g.chain}`, ...g.sets.map((s) => `delete set inet ${table} ${s.name}`)];
}

/** The interface's own addresses by family (without prefix lengths). */
export function addressesOf(rs: Pick<InterfaceRuleSet, 'addresses'>, f: Family): string[] {
  return rs.addresses.map(bare).filter((a) => (f === 6) === isV6(a));
}

/** Elements of the dispatch maps of an interface: [map, element text]. */
export function dispatchElements(rs: InterfaceRuleSet): [string, string][] {
  const out: [string, string][] = [];
  for (const f of [4, 6] as const) {
    for (const a of addressesOf(rs, f)) {
      out.push([`egress${f}`, `${a} : jump ${chainName('eg', rs.interfaceId)}`]);
      out.push([`ingress${f}`, `${a} : jump ${chainName('in', rs.interfaceId)}`]);
    }
  }
  return out;
}

/** Anti-spoofing elements of an interface in the bridge table: [set, element]. */
export function portElements(rs: InterfaceRuleSet): [string, string][] {
  const out: [string, string][] = [['ports', q(rs.hostIfname)]];
  for (const f of [4, 6] as const) for (const a of addressesOf(rs, f)) out.push([`owned${f}`, `${q(rs.hostIfname)} . ${a}`]);
  return out;
}

/** An ACL entry as one rule of its subnet's chain. */
function aclRule(table: string, chain: string, e: AclEntry): string {
  const f: Family = isV6(e.cidr) ? 6 : 4;
  const peer = `${IP(f)} ${e.egress ? 'daddr' : 'saddr'} ${nftAddress(e.cidr)}`;
  const verdict = e.action === 'allow' ? 'return' : 'goto reject_flow';
  return `add rule inet ${table} ${chain} ${[peer, protocolMatch(e, f)].filter(Boolean).join(' ')} counter ${verdict} comment ${q(aclRuleName(e))}`;
}

/** Script lines that create a subnet's two ACL chains and their dispatch elements. */
export function addAcl(table: string, acl: SubnetAcl): string[] {
  const out = aclChains(table, acl);
  for (const [map, el] of aclDispatch(acl)) out.push(`add element inet ${table} ${map} { ${el} }`);
  return out;
}

/** A subnet's two ACL chains. */
function aclChains(table: string, acl: SubnetAcl): string[] {
  const out: string[] = [];
  const entries = [...acl.entries].sort((a, b) => a.ruleNumber - b.ruleNumber);
  for (const egress of [false, true]) {
    const chain = aclChainName(egress, acl.subnetId);
    out.push(`add chain inet ${table} ${chain}`);
    // traffic between two addresses of the subnet is not the ACL's
    for (const c of acl.cidrs) out.push(`add rule inet ${table} ${chain} ${IP(isV6(c) ? 6 : 4)} ${egress ? 'daddr' : 'saddr'} ${nftAddress(c)} return`);
    for (const e of entries) if (e.egress === egress) out.push(aclRule(table, chain, e));
    out.push(`add rule inet ${table} ${chain} counter goto reject_flow comment ${q(dropComment(egress ? 'acl-egress' : 'acl-ingress'))}`);
  }
  return out;
}

function aclDispatch(acl: SubnetAcl): [string, string][] {
  const out: [string, string][] = [];
  for (const c of acl.cidrs) {
    const f = isV6(c) ? 6 : 4;
    out.push([`aclsrc${f}`, `${nftAddress(c)} : jump ${aclChainName(true, acl.subnetId)}`]);
    out.push([`acldst${f}`, `${nftAddress(c)} : jump ${aclChainName(false, acl.subnetId)}`]);
  }
  return out;
}

/** Script lines that delete a subnet's ACL chains and dispatch elements. */
export function deleteAcl(table: string, acl: SubnetAcl): string[] {
  const out = aclDispatch(acl).map(([map, el]) => `delete element inet ${table} ${map} { ${el.split(' : ')[0]} }`);
  for (const egress of [false, true]) {
    const chain = aclChainName(egress, acl.subnetId);
    out.push(`flush chain inet ${table} ${chain}`, `delete chain inet ${table} ${chain}`);
  }
  return out;
}

/** The flow key every recorded packet is counted under (ports only for tcp and udp). */
const FLOW_KEY = (f: Family, ports: boolean) => `${IP(f)} saddr . ${IP(f)} daddr . meta l4proto${ports ? ' . th sport . th dport' : ''}`;
/** The set of recorded flows: accepted or rejected, by family, with ports (tcp, udp) or without. */
export const FLOW_SET = (action: 'acc' | 'rej', f: Family, ports: boolean) => `flows${ports ? '' : 'p'}_${action}${f}`;
/** How long a recorded flow is kept without packets (nft's timeout for the flow sets), in seconds. */
export const FLOW_TIMEOUT_S = 900;

/**
 * The table with everything the namespace's books hold: what the first change of a process
 * writes (create-if-missing, delete, create: one transaction), so a table left by an earlier
 * process is replaced by exactly the books' contents.
 */
export function fullTable(table: string, books: { interfaces: InterfaceRuleSet[]; acls: SubnetAcl[]; addressSets: Map<string, string[]>; captured: InterfaceRuleSet[] }): string[] {
  const out = [`add table inet ${table}`, `delete table inet ${table}`, `add table inet ${table}`];
  const bridge = `${table}b`;
  out.push(`add table bridge ${bridge}`, `delete table bridge ${bridge}`, `add table bridge ${bridge}`);
  for (const f of [4, 6] as const) {
    out.push(`add map inet ${table} egress${f} { type ${ADDR(f)} : verdict; }`);
    out.push(`add map inet ${table} ingress${f} { type ${ADDR(f)} : verdict; }`);
    out.push(`add set inet ${table} captured${f} { type ${ADDR(f)}; }`);
    for (const a of ['acc', 'rej'] as const) {
      for (const ports of [true, false]) {
        const type = `${ADDR(f)} . ${ADDR(f)} . inet_proto${ports ? ' . inet_service . inet_service' : ''}`;
        out.push(`add set inet ${table} ${FLOW_SET(a, f, ports)} { type ${type}; flags dynamic,timeout; timeout ${FLOW_TIMEOUT_S}s; size 65535; counter; }`);
      }
    }
    out.push(`add set bridge ${bridge} owned${f} { type ifname . ${ADDR(f)}; }`);
  }
  out.push(`add set bridge ${bridge} ports { type ifname; }`);
  out.push(`add chain bridge ${bridge} prerouting { type filter hook prerouting priority -200; policy accept; }`);
  out.push(`add rule bridge ${bridge} prerouting ether type ip iifname @ports iifname . ip saddr != @owned4 counter drop comment "spoofed"`);
  out.push(`add rule bridge ${bridge} prerouting ether type ip6 iifname @ports ip6 saddr != { ::, fe80::/10 } iifname . ip6 saddr != @owned6 counter drop comment "spoofed"`);
  // where recorded flows go: accepted, or dropped (with the flow counted first)
  for (const [chain, action, verdict] of [['accept_flow', 'acc', 'accept'], ['reject_flow', 'rej', 'drop']] as const) {
    out.push(`add chain inet ${table} ${chain}`);
    for (const f of [4, 6] as const) {
      for (const ports of [true, false]) {
        const proto = `meta l4proto ${ports ? '' : '!= '}{ tcp, udp }`;
        const update = `update @${FLOW_SET(action, f, ports)} { ${FLOW_KEY(f, ports)} }`;
        out.push(`add rule inet ${table} ${chain} ${proto} ${IP(f)} saddr @captured${f} ${update}`);
        out.push(`add rule inet ${table} ${chain} ${proto} ${IP(f)} saddr != @captured${f} ${IP(f)} daddr @captured${f} ${update}`);
      }
    }
    out.push(`add rule inet ${table} ${chain} ${verdict}`);
  }
  for (const [name, addresses] of books.addressSets) out.push(...addAddressSet(table, name, addresses));
  for (const rs of books.interfaces) out.push(...addInterface(table, rs));
  // nft 1.0.6 cannot add elements to an interval map made in the same transaction: they go inline
  const aclMaps = new Map<string, string[]>();
  for (const acl of books.acls) {
    out.push(...aclChains(table, acl));
    for (const [map, el] of aclDispatch(acl)) aclMaps.set(map, [...(aclMaps.get(map) ?? []), el]);
  }
  for (const f of [4, 6] as const) {
    for (const map of [`aclsrc${f}`, `acldst${f}`]) {
      const els = aclMaps.get(map) ?? [];
      out.push(`add map inet ${table} ${map} { type ${ADDR(f)} : verdict; flags interval;${els.length ? ` elements = { ${els.join(', ')} };` : ''} }`);
    }
  }
  for (const rs of books.captured) out.push(...capturedElements(rs).map(([set, el]) => `add element inet ${table} ${set} { ${el} }`));
  out.push(`add chain inet ${table} forward { type filter hook forward priority filter - 5; policy accept; }`);
  out.push(
    `add rule inet ${table} forward ct mark ${SERVICE_CT_MARK} accept`,
    // IPv6 neighbour discovery between a subnet's interfaces is the link's, not a flow: no SG, no ACL (as on EC2)
    `add rule inet ${table} forward icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-solicit, nd-router-advert } ip6 hoplimit 255 accept`,
    `add rule inet ${table} forward ip saddr vmap @aclsrc4`,
    `add rule inet ${table} forward ip daddr vmap @acldst4`,
    `add rule inet ${table} forward ip6 saddr vmap @aclsrc6`,
    `add rule inet ${table} forward ip6 daddr vmap @acldst6`,
    `add rule inet ${table} forward ct state established,related goto accept_flow`,
    `add rule inet ${table} forward ct state invalid drop`,
    `add rule inet ${table} forward ip saddr vmap @egress4`,
    `add rule inet ${table} forward ip6 saddr vmap @egress6`,
    `add rule inet ${table} forward ip daddr vmap @ingress4`,
    `add rule inet ${table} forward ip6 daddr vmap @ingress6`,
    `add rule inet ${table} forward goto accept_flow`,
  );
  return out;
}

/** The captured sets' elements of an interface: [set, element]. */
export function capturedElements(rs: InterfaceRuleSet): [string, string][] {
  const out: [string, string][] = [];
  for (const f of [4, 6] as const) for (const a of addressesOf(rs, f)) out.push([`captured${f}`, a]);
  return out;
}

/** Script lines that create an address set in both families. */
export function addAddressSet(table: string, name: string, addresses: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of [4, 6] as const) {
    const els = addresses.filter((a) => (f === 6) === isV6(a)).map(nftAddress);
    out.push(`add set inet ${table} ${addressSetName(name, f)} { type ${ADDR(f)}; flags interval; auto-merge;${els.length ? ` elements = { ${els.join(', ')} };` : ''} }`);
  }
  return out;
}

/** Script lines that give an existing address set new members. */
export function replaceAddressSet(table: string, name: string, addresses: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of [4, 6] as const) {
    const els = addresses.filter((a) => (f === 6) === isV6(a)).map(nftAddress);
    out.push(`flush set inet ${table} ${addressSetName(name, f)}`);
    if (els.length) out.push(`add element inet ${table} ${addressSetName(name, f)} { ${els.join(', ')} }`);
  }
  return out;
}

export const deleteAddressSet = (table: string, name: string): string[] => [4, 6].map((f) => `delete set inet ${table} ${addressSetName(name, f as Family)}`);

/** Script lines that install an interface (its gates, dispatch and anti-spoofing elements). */
export function addInterface(table: string, rs: InterfaceRuleSet): string[] {
  const out = [...addGate(table, gateOf(rs, 'egress'), 'egress'), ...addGate(table, gateOf(rs, 'ingress'), 'ingress')];
  for (const [map, el] of dispatchElements(rs)) out.push(`add element inet ${table} ${map} { ${el} }`);
  for (const [set, el] of portElements(rs)) out.push(`add element bridge ${table}b ${set} { ${el} }`);
  return out;
}

/** Script lines that remove an installed interface. */
export function deleteInterface(table: string, rs: InterfaceRuleSet): string[] {
  const out: string[] = [];
  for (const [map, el] of dispatchElements(rs)) out.push(`delete element inet ${table} ${map} { ${el.split(' : ')[0]} }`);
  for (const [set, el] of portElements(rs)) out.push(`delete element bridge ${table}b ${set} { ${el} }`);
  out.push(...deleteGate(table, gateOf(rs, 'egress')), ...deleteGate(table, gateOf(rs, 'ingress')));
  return out;
}
