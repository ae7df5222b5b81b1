/**
 * Security group rules as EC2 models them. An `IpPermission` (protocol, port
 * range, and lists of sources) is normalised into one rule per source: an IPv4
 * CIDR, an IPv6 CIDR, a prefix list or a referenced security group. Rules are
 * validated as EC2 validates them, compared for duplicates, grouped back into
 * the `IpPermissions` shape Describe returns, and matched against packets.
 *
 * Pure: no I/O, no clocks. Ids (`sgr-…`) are minted by the API layer; looking
 * up referenced groups is done through a resolver the caller passes in.
 */
import { Ec2Error, missingParameter } from './errors.js';
import { canonical, canonicalCidr6, cidrToString, inCidr6, ipInCidr, parseCidr4, parseCidr6, parseIpv4, parseIpv6 } from './cidr.js';
import { quotable } from './text.js';

// ---------------------------------------------------------------- shapes

export interface IpRangeInput {
  CidrIp?: string;
  Description?: string;
}
export interface Ipv6RangeInput {
  CidrIpv6?: string;
  Description?: string;
}
export interface PrefixListInput {
  PrefixListId?: string;
  Description?: string;
}
export interface GroupPairInput {
  GroupId?: string;
  GroupName?: string;
  UserId?: string;
  VpcId?: string;
  VpcPeeringConnectionId?: string;
  Description?: string;
}

/** The request form of a permission (structurally the SDK's `IpPermission`). */
export interface IpPermissionInput {
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: IpRangeInput[];
  Ipv6Ranges?: Ipv6RangeInput[];
  PrefixListIds?: PrefixListInput[];
  UserIdGroupPairs?: GroupPairInput[];
}

/** A referenced group, as `ReferencedGroupInfo` of a `SecurityGroupRule`. */
export interface ReferencedGroup {
  GroupId: string;
  UserId?: string;
}

/**
 * One rule: the body of an EC2 `SecurityGroupRule` (without id, group and ARN).
 * Exactly one of CidrIpv4 / CidrIpv6 / PrefixListId / ReferencedGroupInfo is set.
 * Ports are -1 when the protocol has none (all protocols, numbered protocols)
 * or when an ICMP type/code means "all".
 */
export interface RuleBody {
  IsEgress: boolean;
  /** 'tcp' | 'udp' | 'icmp' | 'icmpv6' | '-1' | a protocol number '0'..'255' */
  IpProtocol: string;
  FromPort: number;
  ToPort: number;
  CidrIpv4?: string;
  CidrIpv6?: string;
  PrefixListId?: string;
  ReferencedGroupInfo?: ReferencedGroup;
  Description?: string;
}

/** The response form of a permission, as DescribeSecurityGroups returns it. */
export interface IpPermissionOutput {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges: { CidrIp: string; Description?: string }[];
  Ipv6Ranges: { CidrIpv6: string; Description?: string }[];
  PrefixListIds: { PrefixListId: string; Description?: string }[];
  UserIdGroupPairs: { GroupId: string; UserId?: string; Description?: string }[];
}

/** Looks up a group named in a UserIdGroupPair; throws EC2's error when it cannot. */
export type GroupResolver = (pair: GroupPairInput) => ReferencedGroup;

// ---------------------------------------------------------------- protocols

const NAMED: Readonly<Record<string, string>> = { tcp: 'tcp', udp: 'udp', icmp: 'icmp', icmpv6: 'icmpv6', '-1': '-1', all: '-1' };
/** Protocol numbers EC2 reports by name. */
const NUMBER_TO_NAME: Readonly<Record<number, string>> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmpv6' };
const NAME_TO_NUMBER: Readonly<Record<string, number>> = { tcp: 6, udp: 17, icmp: 1, icmpv6: 58, '-1': -1 };

/**
 * The canonical form of an `IpProtocol`: names are case-insensitive, `all` is
 * `-1`, and 6/17/1/58 become tcp/udp/icmp/icmpv6 as EC2 shows them.
 */
export function normalizeProtocol(protocol: string | undefined): string {
  if (protocol === undefined || protocol.trim() === '') throw missingParameter('ipProtocol');
  const p = protocol.trim().toLowerCase();
  const named = NAMED[p];
  if (named !== undefined) return named;
  if (/^\d{1,3}$/.test(p)) {
    const n = Number(p);
    if (n <= 255) return NUMBER_TO_NAME[n] ?? String(n);
  }
  throw new Ec2Error('InvalidParameterValue', `Invalid value '${protocol}' for IP protocol. Unknown protocol.`);
}

/** IANA protocol number of a canonical protocol (-1 for all). */
export function protocolNumber(protocol: string): number {
  return NAME_TO_NUMBER[protocol] ?? Number(protocol);
}

/** Whether the protocol's rules carry ports (TCP/UDP) or ICMP type/code. */
export function hasPorts(protocol: string): boolean {
  return protocol === 'tcp' || protocol === 'udp' || protocol === 'icmp' || protocol === 'icmpv6';
}

/** [from, to] as EC2 stores them for a canonical protocol, validated. */
export function normalizePorts(protocol: string, from: number | undefined, to: number | undefined): [number, number] {
  if (protocol === 'tcp' || protocol === 'udp') {
    if (from === undefined && to === undefined) {
      throw new Ec2Error('InvalidParameterValue', "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.");
    }
    const f = from ?? -1;
    const t = to ?? -1;
    for (const p of [f, t]) {
      if (!Number.isInteger(p) || p < 0 || p > 65535) {
        throw new Ec2Error('InvalidPermission.Malformed', `TCP/UDP port (${p}) out of range`);
      }
    }
    if (f > t) {
      throw new Ec2Error('InvalidParameterValue', `Invalid TCP/UDP port range: from port ${f} is greater than to port ${t}.`);
    }
    return [f, t];
  }
  if (protocol === 'icmp' || protocol === 'icmpv6') {
    if (from === undefined && to === undefined) {
      if (protocol === 'icmpv6') return [-1, -1];
      throw new Ec2Error('InvalidParameterValue', "Invalid value 'Must specify both from and to ports with ICMP.' for portRange.");
    }
    const type = from ?? -1;
    const code = to ?? -1;
    const name = protocol === 'icmp' ? 'ICMP' : 'ICMPv6';
    if (!Number.isInteger(type) || type < -1 || type > 255) {
      throw new Ec2Error('InvalidPermission.Malformed', `${name} type (${type}) out of range`);
    }
    if (!Number.isInteger(code) || code < -1 || code > 255) {
      throw new Ec2Error('InvalidPermission.Malformed', `${name} code (${code}) out of range`);
    }
    if (type === -1 && code !== -1) {
      throw new Ec2Error('InvalidParameterValue', `Invalid ${name} code (${code}): a code can only be given with a specific ${name} type.`);
    }
    return [type, code];
  }
  // all protocols and numbered protocols: ports are ignored
  return [-1, -1];
}

// ---------------------------------------------------------------- sources

export const malformedCidrMessage = (cidr: string): string => `CIDR block ${cidr} is malformed`;

/**
 * A rule's IPv4 CIDR: must be `a.b.c.d/n`; host bits are accepted and cleared,
 * as EC2 masks them (10.0.0.1/8 is stored as 10.0.0.0/8).
 */
export function normalizeCidr4(s: string | undefined): string {
  const c = s === undefined ? undefined : parseCidr4(s.trim());
  if (!c) throw new Ec2Error('InvalidParameterValue', malformedCidrMessage(s ?? ''));
  return cidrToString(canonical(c));
}

/** A rule's IPv6 CIDR, host bits cleared, in RFC 5952 form. */
export function normalizeCidr6(s: string | undefined): string {
  const c = s === undefined ? undefined : parseCidr6(s.trim());
  if (!c) throw new Ec2Error('InvalidParameterValue', malformedCidrMessage(s ?? ''));
  return canonicalCidr6(c);
}

export function normalizePrefixListId(id: string | undefined): string {
  if (id === undefined || id === '') throw missingParameter('prefixListId');
  if (!/^pl-[0-9a-f]{8}(?:[0-9a-f]{9})?$/.test(id)) {
    throw new Ec2Error('InvalidPrefixListId.Malformed', `Invalid id: "${id}" (expecting "pl-...")`);
  }
  return id;
}

// ---------------------------------------------------------------- descriptions

const DESCRIPTION_CHARS = /^[a-zA-Z0-9. _\-:/()#,@[\]+=&;{}!$*]*$/;
export const MAX_DESCRIPTION = 255;

/** A rule description: up to 255 characters of EC2's allowed set. */
export function validateRuleDescription(d: string | undefined): string | undefined {
  if (d === undefined) return undefined;
  if (d.length > MAX_DESCRIPTION || !DESCRIPTION_CHARS.test(d)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      'Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*',
    );
  }
  return d === '' ? undefined : d;
}

/** GroupName / GroupDescription of a VPC security group: 1–255 characters of the same set. */
export function validateGroupText(parameter: 'GroupName' | 'GroupDescription', value: string | undefined): string {
  if (value === undefined) throw missingParameter(parameter);
  if (value === '') throw new Ec2Error('InvalidParameterValue', `Value () for parameter ${parameter} is invalid. The value cannot be empty`);
  if (value.length > MAX_DESCRIPTION) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${quotable(value, 32)}) for parameter ${parameter} is invalid. Length exceeds maximum of ${MAX_DESCRIPTION} characters`,
    );
  }
  if (!DESCRIPTION_CHARS.test(value)) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${quotable(value)}) for parameter ${parameter} is invalid. Valid characters are a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*`,
    );
  }
  return value;
}

// ---------------------------------------------------------------- normalising

/** Without a resolver, a pair must name its group by id. */
const idOnlyResolver: GroupResolver = (pair) => {
  if (pair.GroupId === undefined || pair.GroupId === '') throw missingParameter('groupId');
  return pair.UserId !== undefined ? { GroupId: pair.GroupId, UserId: pair.UserId } : { GroupId: pair.GroupId };
};

/**
 * Splits permissions into individual rules, validating protocol, ports, CIDRs,
 * prefix list ids and descriptions. A permission without any source is a
 * MissingParameter, as in EC2.
 */
export function normalizePermissions(
  permissions: readonly IpPermissionInput[],
  isEgress: boolean,
  resolveGroup: GroupResolver = idOnlyResolver,
): RuleBody[] {
  const out: RuleBody[] = [];
  for (const p of permissions) {
    const protocol = normalizeProtocol(p.IpProtocol);
    const [FromPort, ToPort] = normalizePorts(protocol, p.FromPort, p.ToPort);
    const base = { IsEgress: isEgress, IpProtocol: protocol, FromPort, ToPort };
    const before = out.length;
    const withDescription = (rule: RuleBody, d: string | undefined): RuleBody => {
      const desc = validateRuleDescription(d);
      if (desc !== undefined) rule.Description = desc;
      return rule;
    };
    for (const r of p.IpRanges ?? []) out.push(withDescription({ ...base, CidrIpv4: normalizeCidr4(r.CidrIp) }, r.Description));
    for (const r of p.Ipv6Ranges ?? []) out.push(withDescription({ ...base, CidrIpv6: normalizeCidr6(r.CidrIpv6) }, r.Description));
    for (const r of p.PrefixListIds ?? []) {
      out.push(withDescription({ ...base, PrefixListId: normalizePrefixListId(r.PrefixListId) }, r.Description));
    }
    for (const g of p.UserIdGroupPairs ?? []) {
      const ref = resolveGroup(g);
      out.push(withDescription({ ...base, ReferencedGroupInfo: { ...ref } }, g.Description));
    }
    if (out.length === before) {
      throw new Ec2Error('MissingParameter', 'Missing source specification: include source security group or CIDR information');
    }
  }
  return out;
}

// ---------------------------------------------------------------- identity and duplicates

/** What a rule's source is, as one string: `4:10.0.0.0/8`, `6:…`, `pl:pl-…`, `sg:sg-…`. */
export function peerKey(rule: RuleBody): string {
  if (rule.CidrIpv4 !== undefined) return `4:${rule.CidrIpv4}`;
  if (rule.CidrIpv6 !== undefined) return `6:${rule.CidrIpv6}`;
  if (rule.PrefixListId !== undefined) return `pl:${rule.PrefixListId}`;
  if (rule.ReferencedGroupInfo !== undefined) return `sg:${rule.ReferencedGroupInfo.GroupId}`;
  return '?';
}

/** Two rules are the same rule when direction, protocol, ports and source agree (descriptions aside). */
export function ruleKey(rule: RuleBody): string {
  return `${rule.IsEgress ? 'egress' : 'ingress'}|${rule.IpProtocol}|${rule.FromPort}|${rule.ToPort}|${peerKey(rule)}`;
}

export function sameRule(a: RuleBody, b: RuleBody): boolean {
  return ruleKey(a) === ruleKey(b);
}

function peerText(rule: RuleBody): string {
  return (
    rule.CidrIpv4 ?? rule.CidrIpv6 ?? rule.PrefixListId ?? rule.ReferencedGroupInfo?.GroupId ?? ''
  );
}

/** How EC2 spells a rule in InvalidPermission.Duplicate: `peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW`. */
export function describeRule(rule: RuleBody): string {
  const peer = `peer: ${peerText(rule)}`;
  switch (rule.IpProtocol) {
    case 'tcp':
    case 'udp':
      return `${peer}, ${rule.IpProtocol.toUpperCase()}, from port: ${rule.FromPort}, to port: ${rule.ToPort}, ALLOW`;
    case 'icmp':
    case 'icmpv6':
      return `${peer}, ${rule.IpProtocol === 'icmp' ? 'ICMP' : 'ICMPV6'}, type: ${rule.FromPort}, code: ${rule.ToPort}, ALLOW`;
    case '-1':
      return `${peer}, ALL, ALLOW`;
    default:
      return `${peer}, ${rule.IpProtocol}, ALLOW`;
  }
}

export const duplicateRuleError = (rule: RuleBody): Ec2Error =>
  new Ec2Error('InvalidPermission.Duplicate', `the specified rule "${describeRule(rule)}" already exists`);

/**
 * Checks rules about to be added: a rule twice in one request is
 * InvalidParameterValue; a rule that already exists is InvalidPermission.Duplicate.
 */
export function checkNoDuplicates(existing: readonly RuleBody[], incoming: readonly RuleBody[]): void {
  const seen = new Set<string>();
  for (const r of incoming) {
    const k = ruleKey(r);
    if (seen.has(k)) throw new Ec2Error('InvalidParameterValue', 'The same permission must not appear multiple times');
    seen.add(k);
  }
  const have = new Set(existing.map(ruleKey));
  for (const r of incoming) if (have.has(ruleKey(r))) throw duplicateRuleError(r);
}

// ---------------------------------------------------------------- grouping

/**
 * Groups rules into IpPermissions as EC2 returns them: one permission per
 * protocol + port range (first-seen order), its sources in rule order. Ports
 * are omitted for protocols that have none.
 */
export function toIpPermissions(rules: readonly RuleBody[]): IpPermissionOutput[] {
  const byKey = new Map<string, IpPermissionOutput>();
  for (const r of rules) {
    const k = `${r.IpProtocol}|${r.FromPort}|${r.ToPort}`;
    let perm = byKey.get(k);
    if (!perm) {
      perm = { IpProtocol: r.IpProtocol, IpRanges: [], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] };
      if (hasPorts(r.IpProtocol)) {
        perm.FromPort = r.FromPort;
        perm.ToPort = r.ToPort;
      }
      byKey.set(k, perm);
    }
    const d = r.Description !== undefined ? { Description: r.Description } : {};
    if (r.CidrIpv4 !== undefined) perm.IpRanges.push({ CidrIp: r.CidrIpv4, ...d });
    else if (r.CidrIpv6 !== undefined) perm.Ipv6Ranges.push({ CidrIpv6: r.CidrIpv6, ...d });
    else if (r.PrefixListId !== undefined) perm.PrefixListIds.push({ PrefixListId: r.PrefixListId, ...d });
    else if (r.ReferencedGroupInfo !== undefined) {
      const g = r.ReferencedGroupInfo;
      perm.UserIdGroupPairs.push({ GroupId: g.GroupId, ...(g.UserId !== undefined ? { UserId: g.UserId } : {}), ...d });
    }
  }
  return [...byKey.values()];
}

// ---------------------------------------------------------------- matching packets

export interface Packet {
  /** IANA protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6, …) */
  protocol: number;
  /** destination port (ingress) or port being connected to (egress), TCP/UDP */
  port?: number;
  icmpType?: number;
  icmpCode?: number;
  /** the other end: source address for ingress, destination for egress */
  peerIp: string;
  /** the security groups of the other end's network interface */
  peerGroups: readonly string[];
  /** CIDRs of prefix lists, by id, when the caller knows them */
  prefixLists?: Readonly<Record<string, readonly string[]>>;
}

function ipv6InCidr(ip: bigint, cidr: string): boolean {
  const c = parseCidr6(cidr);
  return c !== undefined && inCidr6(ip, c);
}

function ipInAnyCidr(peerIp: string, cidr: string): boolean {
  if (cidr.includes(':')) {
    const v6 = parseIpv6(peerIp);
    return v6 !== undefined && ipv6InCidr(v6, cidr);
  }
  const v4 = parseIpv4(peerIp);
  const c = parseCidr4(cidr);
  return v4 !== undefined && c !== undefined && ipInCidr(v4, c);
}

/** Whether one rule lets the packet through (direction is the caller's business). */
export function ruleAllows(rule: RuleBody, packet: Packet): boolean {
  const proto = protocolNumber(rule.IpProtocol);
  if (proto !== -1 && proto !== packet.protocol) return false;
  if (rule.IpProtocol === 'tcp' || rule.IpProtocol === 'udp') {
    if (packet.port === undefined || packet.port < rule.FromPort || packet.port > rule.ToPort) return false;
  } else if (rule.IpProtocol === 'icmp' || rule.IpProtocol === 'icmpv6') {
    if (rule.FromPort !== -1 && packet.icmpType !== rule.FromPort) return false;
    if (rule.ToPort !== -1 && packet.icmpCode !== rule.ToPort) return false;
  }
  if (rule.CidrIpv4 !== undefined) return parseIpv4(packet.peerIp) !== undefined && ipInAnyCidr(packet.peerIp, rule.CidrIpv4);
  if (rule.CidrIpv6 !== undefined) return parseIpv6(packet.peerIp) !== undefined && ipInAnyCidr(packet.peerIp, rule.CidrIpv6);
  if (rule.ReferencedGroupInfo !== undefined) return packet.peerGroups.includes(rule.ReferencedGroupInfo.GroupId);
  if (rule.PrefixListId !== undefined) {
    const cidrs = packet.prefixLists?.[rule.PrefixListId] ?? [];
    return cidrs.some((c) => ipInAnyCidr(packet.peerIp, c));
  }
  return false;
}

/** Whether any of the rules lets the packet through. */
export function rulesAllow(rules: readonly RuleBody[], packet: Packet): boolean {
  return rules.some((r) => ruleAllows(r, packet));
}
