/**
 * An interface's security groups, resolved into the Firewall's terms: every
 * IpPermission of every group of the interface becomes rules on CIDRs, on
 * the address set of a referenced group (its member interfaces' private IPv4
 * and IPv6 addresses, as on EC2, one set per group: see network/firewall.ts), or on the address
 * set of a managed prefix list (its current entries). A prefix list that no
 * longer exists resolves to an empty set: its rules allow nothing.
 */
import type { ResourceContext } from '../resources/context.js';
import { eniCollection } from '../resources/ec2/instances.js';
import type { NetworkInterfaceRecord, SecurityGroupRecord } from '../resources/ec2/records.js';
import type { FirewallProtocol, FirewallRule, InterfaceRuleSet } from '../network/firewall.js';
import type { PluggedInterface } from '../network/fabric.js';
import { parseCidr4 } from '../domain/cidr.js';
import { KINDS, MEMBER_INDEX } from '../resources/ec2/kinds.js';
import { prefixListCidrs } from '../resources/ec2/prefix-lists.js';

/** The private addresses of an interface, primary first. */
export function privateIpsOf(eni: NetworkInterfaceRecord): string[] {
  const out = [eni.PrivateIpAddress];
  for (const p of eni.PrivateIpAddresses ?? []) if (p.PrivateIpAddress && !out.includes(p.PrivateIpAddress)) out.push(p.PrivateIpAddress);
  return out;
}

/**
 * Group id → member addresses (IPv4 and IPv6), per region; each group's list is read (from the
 * store's index of `groupId/address` pairs, no interface parsed) when first
 * asked for, and reused until the region is invalidated.
 */
export class GroupMembers {
  private readonly byRegion = new Map<string, Map<string, string[]>>();

  invalidate(region?: string): void {
    if (region === undefined) this.byRegion.clear();
    else this.byRegion.delete(region);
  }

  of(ctx: ResourceContext, groupId: string): string[] {
    let index = this.byRegion.get(ctx.region);
    if (!index) this.byRegion.set(ctx.region, (index = new Map()));
    let list = index.get(groupId);
    if (!list) {
      const prefix = `${groupId}/`;
      list = eniCollection(ctx).indexValues(ctx.region, MEMBER_INDEX, prefix).map((v) => v.slice(prefix.length));
      index.set(groupId, list);
    }
    return list;
  }
}

interface PermissionLike {
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: { CidrIp?: string }[];
  Ipv6Ranges?: { CidrIpv6?: string }[];
  UserIdGroupPairs?: { GroupId?: string }[];
  PrefixListIds?: { PrefixListId?: string }[];
}

const BY_NUMBER: Record<string, FirewallProtocol> = { '-1': 'all', all: 'all', '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' };

function protocolOf(p: string | undefined): FirewallProtocol | undefined {
  if (p === undefined) return undefined;
  const s = p.toLowerCase();
  if (s === 'tcp' || s === 'udp' || s === 'icmp' || s === 'icmpv6') return s;
  if (BY_NUMBER[s] !== undefined) return BY_NUMBER[s];
  const n = Number(s);
  return Number.isInteger(n) && n >= 0 && n <= 255 ? n : undefined;
}

/** The name of a security group's address set in the Firewall. */
export const groupSetName = (groupId: string): string => `members-of-${groupId}`;

/** The name of a managed prefix list's address set in the Firewall. */
export const prefixListSetName = (prefixListId: string): string => `entries-of-${prefixListId}`;

function rulesOf(direction: FirewallRule['direction'], perm: PermissionLike, referenced: Set<string>, lists: Set<string>): FirewallRule[] {
  const protocol = protocolOf(perm.IpProtocol);
  if (protocol === undefined) return [];
  const peers: string[] = [];
  for (const r of perm.IpRanges ?? []) if (r.CidrIp) peers.push(r.CidrIp);
  for (const r of perm.Ipv6Ranges ?? []) if (r.CidrIpv6) peers.push(r.CidrIpv6);
  const sets: string[] = [];
  // members' IPv4 and IPv6 addresses: the firewall matches an ICMP rule's set on the IPv4 ones, an ICMPv6 rule's on the IPv6 ones
  for (const g of perm.UserIdGroupPairs ?? []) {
    if (!g.GroupId) continue;
    referenced.add(g.GroupId);
    sets.push(groupSetName(g.GroupId));
  }
  for (const p of perm.PrefixListIds ?? []) {
    if (!p.PrefixListId) continue;
    lists.add(p.PrefixListId);
    sets.push(prefixListSetName(p.PrefixListId));
  }
  const base: Omit<FirewallRule, 'cidr'> = { direction, protocol };
  if (protocol === 'tcp' || protocol === 'udp') {
    const from = perm.FromPort ?? -1;
    const to = perm.ToPort ?? -1;
    if (from >= 0 && to >= 0) Object.assign(base, { fromPort: from, toPort: to });
  } else if (protocol === 'icmp' || protocol === 'icmpv6') {
    if ((perm.FromPort ?? -1) >= 0) base.icmpType = perm.FromPort!;
    if ((perm.ToPort ?? -1) >= 0 && base.icmpType !== undefined) base.icmpCode = perm.ToPort!;
  }
  return peers
    .filter((cidr) => {
      // ICMP rules only match their own address family
      const v4 = parseCidr4(cidr) !== undefined;
      return protocol === 'icmp' ? v4 : protocol === 'icmpv6' ? !v4 : true;
    })
    .map((cidr): FirewallRule => ({ ...base, cidr }))
    .concat(sets.map((addressSet) => ({ ...base, addressSet })));
}

export interface ResolvedRules {
  ruleSet: InterfaceRuleSet;
  /** the address sets the rules refer to, by name, with their members (the same array until the membership changes) */
  sets: Map<string, string[]>;
}

/** The complete rule set the Firewall gets for a plugged interface, and the address sets it needs. */
export function resolveRuleSet(ctx: ResourceContext, eni: NetworkInterfaceRecord, plugged: PluggedInterface, members: GroupMembers): ResolvedRules {
  // groups change rarely: the cached region list serves every interface
  const groups = ctx.store.collection(KINDS.securityGroup).list(ctx.region);
  const rules: FirewallRule[] = [];
  const referenced = new Set<string>();
  const lists = new Set<string>();
  for (const ref of eni.Groups) {
    const g = ref.GroupId ? groups.find((x) => x.GroupId === ref.GroupId) : undefined;
    if (!g) continue;
    for (const p of g.IpPermissions ?? []) rules.push(...rulesOf('ingress', p, referenced, lists));
    for (const p of g.IpPermissionsEgress ?? []) rules.push(...rulesOf('egress', p, referenced, lists));
  }
  const sets = new Map<string, string[]>();
  for (const id of referenced) sets.set(groupSetName(id), members.of(ctx, id));
  for (const id of lists) sets.set(prefixListSetName(id), prefixListCidrs(ctx, id) ?? []);
  const ruleSet: InterfaceRuleSet = { interfaceId: eni.NetworkInterfaceId, hostIfname: plugged.hostIfname, addresses: [...plugged.addresses, ...(plugged.ipv6?.addresses ?? [])], rules };
  if (plugged.hostNetns !== undefined) ruleSet.netns = plugged.hostNetns;
  return { ruleSet, sets };
}
