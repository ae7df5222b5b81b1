/**
 * Network ACL entries as EC2 validates and stores them: a rule number (1–32766;
 * 32767 and 32768 are the `*` catch-all deny entries, which nobody changes), a
 * direction, a protocol stored as its number ("-1" for all; tcp/udp/icmp/icmpv6
 * become "6"/"17"/"1"/"58"), allow or deny, exactly one CIDR (IPv4 or IPv6, in
 * canonical form), a port range for TCP/UDP and an ICMP type/code for ICMP.
 * Ports and ICMP type/code on protocols that have none are dropped, as EC2
 * ignores them.
 *
 * Pure: no I/O. The stored shape is structurally EC2's `NetworkAclEntry`.
 */
import { canonical, canonicalCidr6, cidrToString, parseCidr4, parseCidr6 } from './cidr.js';
import { Ec2Error, invalidParameterCombination, missingParameter } from './errors.js';

/** The lowest and highest rule number a caller may use. */
export const MIN_RULE_NUMBER = 1;
export const MAX_RULE_NUMBER = 32766;
/** The `*` entries every ACL ends with: deny all IPv4 (32767) and, with IPv6, all IPv6 (32768). */
export const DENY_ALL_V4 = 32767;
export const DENY_ALL_V6 = 32768;

export interface AclEntryInput {
  RuleNumber?: number;
  Egress?: boolean;
  Protocol?: string;
  RuleAction?: string;
  CidrBlock?: string;
  Ipv6CidrBlock?: string;
  PortRange?: { From?: number; To?: number };
  IcmpTypeCode?: { Type?: number; Code?: number };
}

/** One stored entry (EC2's `NetworkAclEntry`, every field as EC2 returns it). */
export interface AclEntryRecord {
  RuleNumber: number;
  Egress: boolean;
  Protocol: string;
  RuleAction: 'allow' | 'deny';
  CidrBlock?: string;
  Ipv6CidrBlock?: string;
  PortRange?: { From: number; To: number };
  IcmpTypeCode?: { Type: number; Code: number };
}

const PROTOCOL_NAMES: Readonly<Record<string, string>> = { all: '-1', '-1': '-1', tcp: '6', udp: '17', icmp: '1', icmpv6: '58' };

/** The protocol as EC2 stores it on an ACL entry: a number in text, "-1" for all. */
export function normalizeAclProtocol(protocol: string | undefined): string {
  if (protocol === undefined || protocol.trim() === '') throw missingParameter('protocol');
  const p = protocol.trim().toLowerCase();
  const named = PROTOCOL_NAMES[p];
  if (named !== undefined) return named;
  if (/^\d{1,3}$/.test(p) && Number(p) <= 255) return String(Number(p));
  throw new Ec2Error('InvalidParameterValue', `Invalid value '${protocol}' for protocol. Unknown protocol.`);
}

/** Checks a rule number a caller names (create, replace, delete): 1–32766. */
export function checkRuleNumber(n: number | undefined): number {
  if (n === undefined) throw missingParameter('ruleNumber');
  if (!Number.isInteger(n) || n < MIN_RULE_NUMBER || n > MAX_RULE_NUMBER) {
    throw new Ec2Error(
      'InvalidParameterValue',
      `Value (${n}) for parameter ruleNumber is invalid. Rule number must be between ${MIN_RULE_NUMBER} and ${MAX_RULE_NUMBER}.`,
    );
  }
  return n;
}

export function checkEgress(egress: boolean | undefined): boolean {
  if (egress === undefined) throw missingParameter('egress');
  return egress;
}

function ruleAction(action: string | undefined): 'allow' | 'deny' {
  if (action === undefined || action === '') throw missingParameter('ruleAction');
  const a = action.toLowerCase();
  if (a !== 'allow' && a !== 'deny') {
    throw new Ec2Error('InvalidParameterValue', `Value (${action}) for parameter ruleAction is invalid. Valid values are allow and deny.`);
  }
  return a;
}

/** Exactly one of CidrBlock / Ipv6CidrBlock, in canonical form (host bits cleared, as EC2 does). */
function cidrOf(input: AclEntryInput): Pick<AclEntryRecord, 'CidrBlock' | 'Ipv6CidrBlock'> {
  const v4 = input.CidrBlock !== undefined && input.CidrBlock !== '' ? input.CidrBlock : undefined;
  const v6 = input.Ipv6CidrBlock !== undefined && input.Ipv6CidrBlock !== '' ? input.Ipv6CidrBlock : undefined;
  if (v4 === undefined && v6 === undefined) {
    throw new Ec2Error('MissingParameter', 'The request must contain exactly one of cidrBlock or ipv6CidrBlock');
  }
  if (v4 !== undefined && v6 !== undefined) {
    throw invalidParameterCombination('Only one of cidrBlock or ipv6CidrBlock may be specified');
  }
  if (v4 !== undefined) {
    const c = parseCidr4(v4);
    if (!c) throw new Ec2Error('InvalidParameterValue', `Value (${v4}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`);
    return { CidrBlock: cidrToString(canonical(c)) };
  }
  const c = parseCidr6(v6!);
  if (!c) throw new Ec2Error('InvalidParameterValue', `Value (${v6}) for parameter ipv6CidrBlock is invalid. This is not a valid IPv6 CIDR block.`);
  return { Ipv6CidrBlock: canonicalCidr6(c) };
}

function portRange(range: AclEntryInput['PortRange']): { From: number; To: number } {
  if (range === undefined || range.From === undefined || range.To === undefined) {
    throw new Ec2Error('InvalidParameterValue', 'Invalid value for portRange. Must specify both from and to ports with TCP/UDP.');
  }
  for (const p of [range.From, range.To]) {
    if (!Number.isInteger(p) || p < 0 || p > 65535) {
      throw new Ec2Error('InvalidParameterValue', `Invalid value for portRange. Port (${p}) out of range 0-65535.`);
    }
  }
  if (range.From > range.To) {
    throw new Ec2Error('InvalidParameterValue', `Invalid value for portRange. From port ${range.From} is greater than to port ${range.To}.`);
  }
  return { From: range.From, To: range.To };
}

function icmpTypeCode(tc: AclEntryInput['IcmpTypeCode'], name: string): { Type: number; Code: number } {
  if (tc === undefined || tc.Type === undefined || tc.Code === undefined) {
    throw new Ec2Error('InvalidParameterValue', `Invalid value for icmpTypeCode. Must specify both the type and the code with ${name} (-1 for all).`);
  }
  for (const [what, v] of [['type', tc.Type], ['code', tc.Code]] as const) {
    if (!Number.isInteger(v) || v < -1 || v > 255) {
      throw new Ec2Error('InvalidParameterValue', `Invalid value for icmpTypeCode. ${name} ${what} (${v}) out of range -1-255.`);
    }
  }
  return { Type: tc.Type, Code: tc.Code };
}

/**
 * Validates a CreateNetworkAclEntry / ReplaceNetworkAclEntry request into the
 * entry EC2 stores. Throws EC2's errors (MissingParameter, InvalidParameterValue,
 * InvalidParameterCombination).
 */
export function normalizeAclEntry(input: AclEntryInput): AclEntryRecord {
  const RuleNumber = checkRuleNumber(input.RuleNumber);
  const Egress = checkEgress(input.Egress);
  const Protocol = normalizeAclProtocol(input.Protocol);
  const RuleAction = ruleAction(input.RuleAction);
  const cidr = cidrOf(input);
  const entry: AclEntryRecord = { RuleNumber, Egress, Protocol, RuleAction, ...cidr };
  if (Protocol === '6' || Protocol === '17') entry.PortRange = portRange(input.PortRange);
  else if (Protocol === '1') entry.IcmpTypeCode = icmpTypeCode(input.IcmpTypeCode, 'ICMP');
  // ICMPv6 on an IPv4 CIDR: EC2 allows all types and codes whatever is given
  else if (Protocol === '58' && cidr.Ipv6CidrBlock !== undefined) entry.IcmpTypeCode = icmpTypeCode(input.IcmpTypeCode, 'ICMPv6');
  return entry;
}

/** EC2's order of entries in DescribeNetworkAcls: egress first, then ingress, each by rule number. */
export function compareAclEntries(a: { Egress?: boolean; RuleNumber?: number }, b: { Egress?: boolean; RuleNumber?: number }): number {
  if (Boolean(a.Egress) !== Boolean(b.Egress)) return a.Egress ? -1 : 1;
  return (a.RuleNumber ?? 0) - (b.RuleNumber ?? 0);
}

/** Whether an entry is one of the `*` catch-all deny entries. */
export function isCatchAll(e: { RuleNumber?: number }): boolean {
  return e.RuleNumber === DENY_ALL_V4 || e.RuleNumber === DENY_ALL_V6;
}
