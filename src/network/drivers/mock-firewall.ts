/**
 * The mock firewall: rule sets by interface, in memory, validated as the
 * nftables driver will validate them, and a packet check (admits()) with
 * EC2's allow-only semantics so tests can ask what a rule set lets through.
 */
import type { ProbeResult } from '../../compute/driver.js';
import { ipInCidr, parseCidr4, parseCidr6, parseIpv4, parseIpv6 } from '../../domain/cidr.js';
import { canonicalRuleSet, FirewallError, sameRuleSet, type AddressSet, type Firewall, type FirewallRule, type InterfaceRuleSet } from '../firewall.js';

const NAMED = new Set(['all', 'tcp', 'udp', 'icmp', 'icmpv6']);

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
  private closed = false;
  /** apply/remove calls that changed something, in order, for tests */
  readonly calls: string[] = [];

  async probe(): Promise<ProbeResult> {
    return this.closed ? { ok: false, reason: 'the mock firewall is closed' } : { ok: true };
  }

  async putAddressSet(set: AddressSet): Promise<void> {
    this.checkOpen();
    if (!set.name) throw new FirewallError('invalid', '', 'an address set needs a name');
    for (const a of set.addresses) {
      if (parseIpv4(a) === undefined && parseIpv6(a) === undefined && !parseCidr4(a) && !parseCidr6(a)) {
        throw new FirewallError('invalid', '', `address set ${set.name}: malformed address ${a}`);
      }
    }
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
      validate(set.interfaceId, r);
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

function validate(id: string, r: FirewallRule): void {
  const bad = (why: string) => new FirewallError('invalid', id, `${id}: ${why}`);
  if (r.direction !== 'ingress' && r.direction !== 'egress') throw bad(`direction ${String(r.direction)}`);
  if (typeof r.protocol === 'number') {
    if (!Number.isInteger(r.protocol) || r.protocol < 0 || r.protocol > 255) throw bad(`protocol ${r.protocol}`);
  } else if (!NAMED.has(r.protocol)) throw bad(`protocol ${String(r.protocol)}`);
  if ((r.cidr === undefined) === (r.addressSet === undefined)) throw bad('a rule needs exactly one of cidr and addressSet');
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
    const v6 = parseCidr6(r.cidr) !== undefined && parseCidr4(r.cidr) === undefined;
    if (r.protocol === 'icmpv6' && !v6) throw bad('icmpv6 with an IPv4 peer');
    if (r.protocol === 'icmp' && v6) throw bad('icmp with an IPv6 peer');
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
