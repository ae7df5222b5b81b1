/**
 * The firewall: an interface's complete security-group rule set, already
 * resolved by the reconciler — peers are CIDRs or named address sets (a
 * security group reference expanded to its members' addresses, kept once
 * per group rather than copied into every member's rules: a thousand
 * instances in a self-referencing default group make a thousand rule sets
 * of a few rules and one set of a thousand addresses, not a million rules),
 * canonical protocols, port ranges, ICMP type/code. The firewall knows no
 * groups: a set is only a name. The real driver (nft-firewall.ts) keeps one
 * nftables table per network namespace the interfaces' host sides live in
 * (a VPC's router namespace), changed by one `nft -f` transaction per call.
 *
 * EC2 semantics the driver implements: rules only allow (no deny); traffic
 * is stateful (replies to allowed traffic are allowed both ways); an empty
 * ingress list admits nothing unsolicited; an empty egress list lets nothing
 * out.
 */
import type { ProbeResult } from '../compute/driver.js';

export type FirewallProtocol = 'all' | 'tcp' | 'udp' | 'icmp' | 'icmpv6' | number;

export interface FirewallRule {
  direction: 'ingress' | 'egress';
  /** 'all', a name, or an IANA protocol number (0–255) for the others */
  protocol: FirewallProtocol;
  /** the peer: an IPv4 or IPv6 CIDR … */
  cidr?: string;
  /** … or the addresses of a named set (putAddressSet); exactly one of the two */
  addressSet?: string;
  /** tcp/udp: inclusive port range (both or neither; neither = all ports) */
  fromPort?: number;
  toPort?: number;
  /** icmp/icmpv6: type and code; undefined = any */
  icmpType?: number;
  icmpCode?: number;
}

/** What apply() installs for one interface; it replaces what was there. */
export interface InterfaceRuleSet {
  /** eni-… (a name only) */
  interfaceId: string;
  /** the host side of the interface (PluggedInterface.hostIfname) */
  hostIfname: string;
  /** the network namespace the host side lives in (PluggedInterface.hostNetns; undefined: the host's own) */
  netns?: string;
  /** the interface's own addresses (rules match traffic to/from them) */
  addresses: string[];
  rules: FirewallRule[];
}

/**
 * A network ACL entry (stateless, ordered): entries are looked at by rule
 * number, lowest first, the first that matches decides; none matching denies
 * (EC2's `*` rule, implicit here).
 */
export interface AclEntry {
  /** 1–32766 */
  ruleNumber: number;
  egress: boolean;
  action: 'allow' | 'deny';
  protocol: FirewallProtocol;
  /** IPv4 or IPv6 CIDR */
  cidr: string;
  /** tcp/udp: inclusive port range (both or neither) */
  fromPort?: number;
  toPort?: number;
  /** icmp/icmpv6: undefined = any */
  icmpType?: number;
  icmpCode?: number;
}

/**
 * A subnet's network ACL: it filters traffic entering the subnet (ingress
 * entries) and leaving it (egress entries), not traffic between two
 * addresses of the subnet, and not the VPC's metadata and DNS services.
 */
export interface SubnetAcl {
  /** subnet-… (a name only) */
  subnetId: string;
  /** acl-… (for counters and logs) */
  aclId: string;
  /** the namespace the subnet's traffic is routed in (undefined: the host's own) */
  netns?: string;
  /** the subnet's CIDRs (IPv4, and IPv6 if it has one) */
  cidrs: string[];
  entries: AclEntry[];
}

/** Packets a rule (or a gate's final drop) has matched since it was installed. */
export interface RuleCounter {
  /** eni-… (a security group rule) or subnet-… (an ACL entry) */
  owner: string;
  /** ruleKey() of the rule, `acl:<egress|ingress>:<ruleNumber>` of an ACL entry, or `drop:<ingress|egress>` of the gate's final drop */
  rule: string;
  packets: number;
  bytes: number;
}

/** One flow the firewall saw between two polls (drainFlows), as a VPC flow log record holds it. */
export interface FlowRecord {
  /** the interface the record is for: the source or destination of the flow */
  interfaceId: string;
  srcAddr: string;
  dstAddr: string;
  /** 0 for protocols without ports */
  srcPort: number;
  dstPort: number;
  /** IANA protocol number */
  protocol: number;
  packets: number;
  bytes: number;
  /** unix seconds: the first and last packet seen in this window (as polled) */
  start: number;
  end: number;
  /** ACCEPT: let through; REJECT: dropped by a security group or network ACL */
  action: 'ACCEPT' | 'REJECT';
}

/** Addresses rules can refer to by name (the members of a security group). */
export interface AddressSet {
  name: string;
  /** IPv4/IPv6 addresses or CIDRs */
  addresses: string[];
}

export type FirewallErrorCode =
  /** a malformed rule: bad CIDR, port outside 0–65535, from > to, ports on a protocol without them, ICMP type/code > 255; a malformed address in a set */
  | 'invalid'
  /** a rule refers to an address set that does not exist */
  | 'not-found'
  /** the address set is still referred to by a rule set */
  | 'in-use'
  /** the host interface is already filtered for another interface id */
  | 'conflict'
  /** the driver cannot do this (flow capture on a firewall that sees no packets) */
  | 'unsupported'
  | 'failed';

export class FirewallError extends Error {
  constructor(
    readonly code: FirewallErrorCode,
    readonly interfaceId: string,
    message: string,
  ) {
    super(message);
    this.name = 'FirewallError';
  }
}

/**
 * The contract:
 *  - putAddressSet(set): creates or replaces a named set (rules using it see
 *    the new addresses at once); the same again: no-op.
 *  - deleteAddressSet(name): unknown: no-op; referred to by a rule set → in-use.
 *  - addressSets(): the names that exist (for recovery and clean-up).
 *  - apply(set): installs the rule set atomically (all or nothing), replacing
 *    the interface's previous one; the same set again: no-op; a rule naming an
 *    address set that does not exist → not-found.
 *  - remove(interfaceId): unknown: no-op.
 *  - get(interfaceId): what is installed (rules in a canonical order), or undefined.
 *  - list(): interface ids with a rule set (for recovery).
 *  - applySubnetAcl(acl): installs (replaces) a subnet's ACL atomically; the same again: no-op;
 *    a malformed entry (as for rules, or a rule number outside 1–32766, or two entries with one
 *    number and direction) → invalid.
 *  - removeSubnetAcl(subnetId): unknown: no-op. getSubnetAcl(subnetId): entries by number; subnetAcls(): ids.
 *  - counters(): the hit counters of every installed rule and ACL entry.
 *  - captureFlows(interfaceIds): from now on, flows to and from exactly these interfaces are
 *    recorded (replaces the previous list; [] stops recording).
 *  - drainFlows(): the flows recorded since the last call (packets and bytes of that window).
 */
export interface Firewall {
  readonly name: string;
  probe(): Promise<ProbeResult>;
  putAddressSet(set: AddressSet): Promise<void>;
  deleteAddressSet(name: string): Promise<void>;
  addressSets(): Promise<string[]>;
  apply(set: InterfaceRuleSet): Promise<void>;
  remove(interfaceId: string): Promise<void>;
  get(interfaceId: string): Promise<InterfaceRuleSet | undefined>;
  list(): Promise<string[]>;
  applySubnetAcl(acl: SubnetAcl): Promise<void>;
  removeSubnetAcl(subnetId: string): Promise<void>;
  getSubnetAcl(subnetId: string): Promise<SubnetAcl | undefined>;
  subnetAcls(): Promise<string[]>;
  counters(): Promise<RuleCounter[]>;
  captureFlows(interfaceIds: string[]): Promise<void>;
  drainFlows(): Promise<FlowRecord[]>;
  close(): Promise<void>;
}

/** A rule in canonical form as a string, for ordering and comparing rule sets. */
export function ruleKey(r: FirewallRule): string {
  const peer = r.addressSet !== undefined ? `@${r.addressSet}` : (r.cidr ?? '');
  return [r.direction, r.protocol, peer, r.fromPort ?? '', r.toPort ?? '', r.icmpType ?? '', r.icmpCode ?? ''].join('|');
}

/** The rule set with its rules sorted and duplicates dropped (what get() answers). */
export function canonicalRuleSet(set: InterfaceRuleSet): InterfaceRuleSet {
  const seen = new Map<string, FirewallRule>();
  for (const r of set.rules) seen.set(ruleKey(r), { ...r });
  const rules = [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
  const out: InterfaceRuleSet = { interfaceId: set.interfaceId, hostIfname: set.hostIfname, addresses: [...set.addresses], rules };
  if (set.netns !== undefined) out.netns = set.netns;
  return out;
}

/** Whether two rule sets install the same thing. */
export function sameRuleSet(a: InterfaceRuleSet | undefined, b: InterfaceRuleSet | undefined): boolean {
  if (!a || !b) return a === b;
  const ca = canonicalRuleSet(a);
  const cb = canonicalRuleSet(b);
  return (
    ca.hostIfname === cb.hostIfname &&
    ca.netns === cb.netns &&
    ca.addresses.join(',') === cb.addresses.join(',') &&
    ca.rules.length === cb.rules.length &&
    ca.rules.every((r, i) => ruleKey(r) === ruleKey(cb.rules[i]!))
  );
}

/** The ACL with its entries sorted by direction then number (what getSubnetAcl() answers). */
export function canonicalSubnetAcl(acl: SubnetAcl): SubnetAcl {
  const entries = acl.entries.map((e) => ({ ...e })).sort((a, b) => Number(a.egress) - Number(b.egress) || a.ruleNumber - b.ruleNumber);
  const out: SubnetAcl = { subnetId: acl.subnetId, aclId: acl.aclId, cidrs: [...acl.cidrs], entries };
  if (acl.netns !== undefined) out.netns = acl.netns;
  return out;
}

/** Whether two ACLs install the same thing. */
export function sameSubnetAcl(a: SubnetAcl | undefined, b: SubnetAcl | undefined): boolean {
  if (!a || !b) return a === b;
  return JSON.stringify(canonicalSubnetAcl(a)) === JSON.stringify(canonicalSubnetAcl(b));
}
