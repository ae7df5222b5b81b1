/**
 * What every Firewall driver refuses as malformed, in one place: rules,
 * ACL entries and address-set members (FirewallError 'invalid').
 */
import { parseCidr4, parseCidr6, parseIpv4, parseIpv6 } from '../domain/cidr.js';
import { FirewallError, type AclEntry, type AddressSet, type FirewallProtocol, type FirewallRule, type SubnetAcl } from './firewall.js';

const NAMED = new Set(['all', 'tcp', 'udp', 'icmp', 'icmpv6']);

interface Matchable {
  protocol: FirewallProtocol;
  cidr?: string;
  fromPort?: number;
  toPort?: number;
  icmpType?: number;
  icmpCode?: number;
}

/** Whether a CIDR (or bare address) is IPv6. */
export function isV6(cidr: string): boolean {
  return parseCidr4(cidr) === undefined && parseIpv4(cidr) === undefined;
}

function checkMatch(bad: (why: string) => FirewallError, r: Matchable): void {
  if (typeof r.protocol === 'number') {
    if (!Number.isInteger(r.protocol) || r.protocol < 0 || r.protocol > 255) throw bad(`protocol ${r.protocol}`);
  } else if (!NAMED.has(r.protocol)) throw bad(`protocol ${String(r.protocol)}`);
  if (r.cidr !== undefined && !parseCidr4(r.cidr) && !parseCidr6(r.cidr)) throw bad(`malformed CIDR ${r.cidr}`);
  const ports = r.fromPort !== undefined || r.toPort !== undefined;
  const icmp = r.icmpType !== undefined || r.icmpCode !== undefined;
  if (r.protocol === 'tcp' || r.protocol === 'udp') {
    if (icmp) throw bad('ICMP type/code on a tcp/udp rule');
    if (ports) {
      if (r.fromPort === undefined || r.toPort === undefined) throw bad('a port range needs both ends');
      for (const p of [r.fromPort, r.toPort]) if (!Number.isInteger(p) || p < 0 || p > 65535) throw bad(`port ${p}`);
      if (r.fromPort > r.toPort) throw bad(`port range ${r.fromPort}-${r.toPort}`);
    }
  } else if (r.protocol === 'icmp' || r.protocol === 'icmpv6') {
    if (ports) throw bad('ports on an ICMP rule');
    if (r.icmpCode !== undefined && r.icmpType === undefined) throw bad('an ICMP code needs a type');
    for (const v of [r.icmpType, r.icmpCode]) if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 255)) throw bad(`ICMP type/code ${v}`);
  } else if (ports || icmp) throw bad(`ports or ICMP type on protocol ${r.protocol}`);
  if (r.cidr !== undefined) {
    const v6 = isV6(r.cidr);
    if (r.protocol === 'icmpv6' && !v6) throw bad('icmpv6 with an IPv4 peer');
    if (r.protocol === 'icmp' && v6) throw bad('icmp with an IPv6 peer');
  }
}

/** Refuses a malformed security group rule. */
export function checkRule(id: string, r: FirewallRule): void {
  const bad = (why: string) => new FirewallError('invalid', id, `${id}: ${why}`);
  if (r.direction !== 'ingress' && r.direction !== 'egress') throw bad(`direction ${String(r.direction)}`);
  if ((r.cidr === undefined) === (r.addressSet === undefined)) throw bad('a rule needs exactly one of cidr and addressSet');
  checkMatch(bad, r);
}

/** Refuses a malformed ACL (entries as rules, numbers 1–32766 unique per direction, CIDRs). */
export function checkSubnetAcl(acl: SubnetAcl): void {
  const id = acl.subnetId;
  const bad = (why: string) => new FirewallError('invalid', id, `${id}: ${why}`);
  if (!id) throw bad('an ACL needs a subnet id');
  for (const c of acl.cidrs) if (!parseCidr4(c) && !parseCidr6(c)) throw bad(`malformed subnet CIDR ${c}`);
  const seen = new Set<string>();
  for (const e of acl.entries) {
    if (!Number.isInteger(e.ruleNumber) || e.ruleNumber < 1 || e.ruleNumber > 32766) throw bad(`rule number ${e.ruleNumber}`);
    if (e.action !== 'allow' && e.action !== 'deny') throw bad(`rule action ${String(e.action)}`);
    if (typeof e.egress !== 'boolean') throw bad('an entry is egress or not');
    const key = `${e.egress}:${e.ruleNumber}`;
    if (seen.has(key)) throw bad(`two ${e.egress ? 'egress' : 'ingress'} entries numbered ${e.ruleNumber}`);
    seen.add(key);
    if (e.cidr === undefined) throw bad(`entry ${e.ruleNumber} needs a CIDR`);
    checkMatch(bad, e);
  }
}

/** Refuses an address set with no name or a malformed member. */
export function checkAddressSet(set: AddressSet): void {
  if (!set.name) throw new FirewallError('invalid', '', 'an address set needs a name');
  for (const a of set.addresses) {
    if (parseIpv4(a) === undefined && parseIpv6(a) === undefined && !parseCidr4(a) && !parseCidr6(a)) {
      throw new FirewallError('invalid', '', `address set ${set.name}: malformed address ${a}`);
    }
  }
}

/** An ACL entry's counter name. */
export const aclRuleName = (e: Pick<AclEntry, 'egress' | 'ruleNumber'>): string => `acl:${e.egress ? 'egress' : 'ingress'}:${e.ruleNumber}`;
