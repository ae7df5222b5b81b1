/**
 * The firewall: an interface's complete security-group rule set, already
 * resolved by the reconciler — peers are CIDRs or named address sets (a
 * security group reference expanded to its members' addresses, kept once
 * per group rather than copied into every member's rules: a thousand
 * instances in a self-referencing default group make a thousand rule sets
 * of a few rules and one set of a thousand addresses, not a million rules),
 * canonical protocols, port ranges, ICMP type/code. The firewall knows no
 * groups: a set is only a name. The real driver (an nftables table per
 * interface on the host side of its veth, named sets) comes with a later issue.
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
  /** the interface's own addresses (rules match traffic to/from them) */
  addresses: string[];
  rules: FirewallRule[];
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
  return { interfaceId: set.interfaceId, hostIfname: set.hostIfname, addresses: [...set.addresses], rules };
}

/** Whether two rule sets install the same thing. */
export function sameRuleSet(a: InterfaceRuleSet | undefined, b: InterfaceRuleSet | undefined): boolean {
  if (!a || !b) return a === b;
  const ca = canonicalRuleSet(a);
  const cb = canonicalRuleSet(b);
  return (
    ca.hostIfname === cb.hostIfname &&
    ca.addresses.join(',') === cb.addresses.join(',') &&
    ca.rules.length === cb.rules.length &&
    ca.rules.every((r, i) => ruleKey(r) === ruleKey(cb.rules[i]!))
  );
}
