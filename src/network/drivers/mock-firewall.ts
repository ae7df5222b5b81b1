/**
 * The mock firewall: rule sets by interface, in memory, validated as the
 * nftables driver will validate them, and a packet check (admits()) with
 * EC2's allow-only semantics so tests can ask what a rule set lets through.
 */
import type { ProbeResult } from '../../compute/driver.js';
import { ipInCidr, parseCidr4, parseCidr6, parseIpv4, parseIpv6 } from '../../domain/cidr.js';
import {
  canonicalRuleSet,
  canonicalSubnetAcl,
  FirewallError,
  ruleKey,
  sameRuleSet,
  sameSubnetAcl,
  type AclEntry,
  type AddressSet,
  type Firewall,
  type FirewallRule,
  type FlowRecord,
  type InterfaceRuleSet,
  type RuleCounter,
  type SubnetAcl,
} from '../firewall.js';
import { checkAddressSet, checkRule, checkSubnetAcl } from '../firewall-checks.js';

export interface Probe {
  direction: 'ingress' | 'egress';
  protocol: 'tcp' | 'udp' | 'icmp' | 'icmpv6' | number;
  /** the peer's address */
  peer: string;
  port?: number;
  icmpType?: number;
  icmpCode?: number;
}

export class MockFirewall implements Firewall {
  readonly name = 'mock';
  private readonly sets = new Map<string, InterfaceRuleSet>();
  private readonly addressSetsByName = new Map<string, string[]>();
  private readonly byHostIfname = new Map<string, string>();
  private readonly acls = new Map<string, SubnetAcl>();
  private captured = new Set<string>();
  private flows: FlowRecord[] = [];
  private closed = false;
  /** apply/remove calls that changed something, in order, for tests */
  readonly calls: string[] = [];

  async probe(): Promise<ProbeResult> {
    return this.closed ? { ok: false, reason: 'the mock firewall is closed' } : { ok: true };
  }

  async putAddressSet(set: AddressSet): Promise<void> {
    this.checkOpen();
    checkAddressSet(set);
    const have = this.addressSetsByName.get(set.name);
    if (have && have.length === set.addresses.length && have.every((a, i) => a === set.addresses[i])) return;
    this.calls.push(`putAddressSet ${set.name}`);
    this.addressSetsByName.set(set.name, [...set.addresses]);
  }

  async deleteAddressSet(name: string): Promise<void> {
    this.checkOpen();
    if (!this.addressSetsByName.has(name)) return;
    for (const s of this.sets.values()) {
      if (s.rules.some((r) => r.addressSet === name)) throw new FirewallError('in-use', s.interfaceId, `address set ${name} is used by ${s.interfaceId}`);
    }
    this.calls.push(`deleteAddressSet ${name}`);
    this.addressSetsByName.delete(name);
  }

  async addressSets(): Promise<string[]> {
    this.checkOpen();
    return [...this.addressSetsByName.keys()];
  }

  async apply(set: InterfaceRuleSet): Promise<void> {
    this.checkOpen();
    if (!set.hostIfname) throw new FirewallError('invalid', set.interfaceId, `${set.interfaceId}: no host interface`);
    for (const r of set.rules) {
      checkRule(set.interfaceId, r);
      if (r.addressSet !== undefined && !this.addressSetsByName.has(r.addressSet)) {
        throw new FirewallError('not-found', set.interfaceId, `${set.interfaceId}: no address set ${r.addressSet}`);
      }
    }
    const holder = this.byHostIfname.get(set.hostIfname);
    if (holder !== undefined && holder !== set.interfaceId) {
      throw new FirewallError('conflict', set.interfaceId, `${set.hostIfname} is filtered for ${holder}`);
    }
    const have = this.sets.get(set.interfaceId);
    if (sameRuleSet(have, set)) return;
    this.calls.push(`apply ${set.interfaceId}`);
    if (have) this.byHostIfname.delete(have.hostIfname);
    this.sets.set(set.interfaceId, canonicalRuleSet(set));
    this.byHostIfname.set(set.hostIfname, set.interfaceId);
  }

  async remove(interfaceId: string): Promise<void> {
    this.checkOpen();
    const have = this.sets.get(interfaceId);
    if (!have) return;
    this.sets.delete(interfaceId);
    this.byHostIfname.delete(have.hostIfname);
    this.calls.push(`remove ${interfaceId}`);
  }

  async get(interfaceId: string): Promise<InterfaceRuleSet | undefined> {
    this.checkOpen();
    const s = this.sets.get(interfaceId);
    return s ? canonicalRuleSet(s) : undefined;
  }

  async list(): Promise<string[]> {
    this.checkOpen();
    return [...this.sets.keys()];
  }

  async applySubnetAcl(acl: SubnetAcl): Promise<void> {
    this.checkOpen();
    checkSubnetAcl(acl);
    if (sameSubnetAcl(this.acls.get(acl.subnetId), acl)) return;
    this.calls.push(`applySubnetAcl ${acl.subnetId}`);
    this.acls.set(acl.subnetId, canonicalSubnetAcl(acl));
  }

  async removeSubnetAcl(subnetId: string): Promise<void> {
    this.checkOpen();
    if (!this.acls.delete(subnetId)) return;
    this.calls.push(`removeSubnetAcl ${subnetId}`);
  }

  async getSubnetAcl(subnetId: string): Promise<SubnetAcl | undefined> {
    this.checkOpen();
    const a = this.acls.get(subnetId);
    return a ? canonicalSubnetAcl(a) : undefined;
  }

  async subnetAcls(): Promise<string[]> {
    this.checkOpen();
    return [...this.acls.keys()];
  }

  /** The mock sees no packets: every counter it has is zero. */
  async counters(): Promise<RuleCounter[]> {
    this.checkOpen();
    const out: RuleCounter[] = [];
    for (const s of this.sets.values()) for (const r of s.rules) out.push({ owner: s.interfaceId, rule: ruleKey(r), packets: 0, bytes: 0 });
    return out;
  }

  async captureFlows(interfaceIds: string[]): Promise<void> {
    this.checkOpen();
    this.captured = new Set(interfaceIds);
  }

  async drainFlows(): Promise<FlowRecord[]> {
    this.checkOpen();
    return this.flows.splice(0);
  }

  /** Tests: a flow as the real driver would have seen it (kept only for a captured interface). */
  recordFlow(r: FlowRecord): void {
    if (this.captured.has(r.interfaceId)) this.flows.push({ ...r });
  }

  /** Which interfaces flows are captured for. */
  capturing(): string[] {
    return [...this.captured];
  }

  /**
   * Whether the subnet's ACL lets a packet through in one direction (egress: leaving the subnet);
   * no ACL installed: everything passes (the mock filters nothing it was not given).
   */
  aclAdmits(subnetId: string, egress: boolean, p: Omit<Probe, 'direction'>): boolean {
    const acl = this.acls.get(subnetId);
    if (!acl) return true;
    for (const e of acl.entries) {
      if (e.egress !== egress) continue;
      if (aclMatches(e, p)) return e.action === 'allow';
    }
    return false;
  }

  /** Whether the interface's rule set lets a new flow through (no rule set: nothing). */
  admits(interfaceId: string, p: Probe): boolean {
    const set = this.sets.get(interfaceId);
    return set !== undefined && set.rules.some((r) => matches(r, p, (name) => this.addressSetsByName.get(name) ?? []));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new FirewallError('failed', '', 'the mock firewall is closed');
  }
}

function peerIn(peer: string, cidr: string): boolean {
  if (!cidr.includes('/')) return peer === cidr;
  const c4 = parseCidr4(cidr);
  const a4 = parseIpv4(peer);
  if (c4 && a4 !== undefined) return ipInCidr(a4, c4);
  const c6 = parseCidr6(cidr);
  const a6 = parseIpv6(peer);
  if (!c6 || a6 === undefined) return false;
  const shift = BigInt(128 - c6.prefix);
  return a6 >> shift === c6.address >> shift;
}

function matches(r: FirewallRule, p: Probe, setOf: (name: string) => string[]): boolean {
  if (r.direction !== p.direction) return false;
  const peers = r.addressSet !== undefined ? setOf(r.addressSet) : [r.cidr!];
  if (!peers.some((c) => peerIn(p.peer, c))) return false;
  // as nft matches a set: an ICMP rule on IPv4 peers only, an ICMPv6 rule on IPv6 peers only
  const v6 = parseIpv6(p.peer) !== undefined && parseIpv4(p.peer) === undefined;
  if ((r.protocol === 'icmp' && v6) || (r.protocol === 'icmpv6' && !v6)) return false;
  return protocolMatches(r, p);
}

function aclMatches(e: AclEntry, p: Omit<Probe, 'direction'>): boolean {
  return peerIn(p.peer, e.cidr) && protocolMatches(e, p);
}

function protocolMatches(r: Pick<FirewallRule, 'protocol' | 'fromPort' | 'toPort' | 'icmpType' | 'icmpCode'>, p: Omit<Probe, 'direction' | 'peer'>): boolean {
  if (r.protocol === 'all') return true;
  if (r.protocol !== p.protocol) return false;
  if (r.protocol === 'tcp' || r.protocol === 'udp') {
    return r.fromPort === undefined || (p.port !== undefined && p.port >= r.fromPort && p.port <= r.toPort!);
  }
  if (r.protocol === 'icmp' || r.protocol === 'icmpv6') {
    return (r.icmpType === undefined || r.icmpType === p.icmpType) && (r.icmpCode === undefined || r.icmpCode === p.icmpCode);
  }
  return true;
}
