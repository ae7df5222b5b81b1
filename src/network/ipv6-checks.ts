/**
 * What every Fabric driver checks of the IPv6 side of a plug, a readdress or
 * routeIpv6, and the canonical forms they keep (RFC 5952 text, CIDRs with
 * their host bits cleared). Pure: no I/O.
 */
import { canonicalCidr6, formatIpv6, inCidr6, mask6, parseCidr6, parseIpv6, type Cidr6 } from '../domain/cidr.js';
import { FabricError, type Ipv6Addressing, type Ipv6Routing, type PluggedIpv6 } from './fabric.js';

/** An interface's IPv6 side, checked: the subnet and its addresses in canonical text. */
export interface CheckedIpv6 {
  subnet: Cidr6;
  subnetCidr: string;
  addresses: string[];
}

/** The router address of a subnet /64: its first address (`…::1`). */
export function gateway6(subnet: Cidr6): string {
  return formatIpv6((subnet.address & mask6(subnet.prefix)) + 1n);
}

/**
 * The IPv6 side of a plug or readdress, checked (FabricError 'invalid' otherwise): a /64,
 * addresses inside it that are not its router's, none repeated (answered in address order). No addresses: undefined
 * (the interface has no IPv6 inside).
 */
export function checkIpv6(subject: string, a: Ipv6Addressing | undefined): CheckedIpv6 | undefined {
  if (a === undefined || a.addresses.length === 0) return undefined;
  const subnet = parseCidr6(a.subnetCidr);
  if (!subnet || subnet.prefix !== 64) throw new FabricError('invalid', subject, `malformed IPv6 subnet CIDR ${a.subnetCidr} (a /64)`);
  const out: string[] = [];
  const router = (subnet.address & mask6(64)) + 1n;
  for (const text of a.addresses) {
    const n = parseIpv6(text);
    if (n === undefined || !inCidr6(n, subnet)) throw new FabricError('invalid', subject, `${text} is not in ${a.subnetCidr}`);
    if (n === router || n === (subnet.address & mask6(64))) throw new FabricError('invalid', subject, `${text} is the router's address of ${a.subnetCidr}`);
    const c = formatIpv6(n);
    if (out.includes(c)) throw new FabricError('invalid', subject, `${text} given twice`);
    out.push(c);
  }
  // in address order: the kernel lists a device's IPv6 addresses newest first
  out.sort((x, y) => (parseIpv6(x)! < parseIpv6(y)! ? -1 : 1));
  return { subnet, subnetCidr: canonicalCidr6(subnet), addresses: out };
}

/** What a plugged interface answers for its IPv6 side. */
export function pluggedIpv6(c: CheckedIpv6 | undefined): PluggedIpv6 | undefined {
  if (!c) return undefined;
  return { subnetCidr: c.subnetCidr, addresses: c.addresses.map((a) => `${a}/${c.subnet.prefix}`), gateway: gateway6(c.subnet) };
}

/** Whether two IPv6 sides are the same (addresses in any order; none and absent the same). */
export function sameIpv6(a: CheckedIpv6 | undefined, b: CheckedIpv6 | undefined): boolean {
  if (!a || !b) return !a && !b;
  return a.subnetCidr === b.subnetCidr && [...a.addresses].sort().join(',') === [...b.addresses].sort().join(',');
}

/** A plugged interface's IPv6 side read back as a request's. */
export function addressingOf(p: PluggedIpv6 | undefined): CheckedIpv6 | undefined {
  if (!p || p.addresses.length === 0) return undefined;
  return checkIpv6('', { subnetCidr: p.subnetCidr, addresses: p.addresses.map((a) => a.split('/')[0]!) });
}

/**
 * routeIpv6's argument checked (FabricError 'invalid' otherwise): well-formed CIDRs (canonical,
 * sorted, no repeats), blocks inside `pool` when one is given, a subnet in at most one list.
 */
export function checkRouting(r: Ipv6Routing, pool?: Cidr6): Ipv6Routing {
  const list = (xs: readonly string[], what: string): string[] => {
    const out = new Set<string>();
    for (const x of xs) {
      const c = parseCidr6(x);
      if (!c) throw new FabricError('invalid', r.vpcId, `malformed IPv6 ${what} ${x}`);
      if (what === 'block' && pool && !(c.prefix >= pool.prefix && inCidr6(c.address, pool))) {
        throw new FabricError('invalid', r.vpcId, `${x} is not in the IPv6 pool ${canonicalCidr6(pool)}`);
      }
      out.add(canonicalCidr6(c));
    }
    return [...out].sort();
  };
  const internet = list(r.internet, 'subnet');
  const egressOnly = list(r.egressOnly, 'subnet');
  const both = egressOnly.find((s) => internet.includes(s));
  if (both) throw new FabricError('invalid', r.vpcId, `${both} is given as both internet and egress-only`);
  return { vpcId: r.vpcId, blocks: list(r.blocks, 'block'), internet, egressOnly };
}

/** Whether a routing has nothing in it (IPv6 stays inside the network). */
export function emptyRouting(r: Ipv6Routing): boolean {
  return r.blocks.length === 0 && r.internet.length === 0 && r.egressOnly.length === 0;
}
