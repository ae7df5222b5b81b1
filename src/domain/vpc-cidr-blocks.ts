/**
 * The rules for a VPC's secondary IPv4 CIDR blocks (AssociateVpcCidrBlock):
 * the CreateVpc rules (/16../28, no special ranges), no overlap with the VPC's
 * other blocks, at most MAX_VPC_IPV4_BLOCKS, and EC2's private-range rule: a
 * VPC whose primary block is in one RFC 1918 range takes no block from another
 * RFC 1918 range (a publicly routable primary takes none from any);
 * 100.64.0.0/10 and publicly routable blocks go with anything.
 */
import { overlaps, parseCidr4, validateVpcCidr, type Cidr4 } from './cidr.js';

/** IPv4 blocks a VPC may hold (primary included): EC2's default quota. */
export const MAX_VPC_IPV4_BLOCKS = 5;

/** IPv6 blocks a VPC may hold. */
export const MAX_VPC_IPV6_BLOCKS = 5;

const RFC1918: readonly Cidr4[] = [
  { base: 0x0a_00_00_00, prefix: 8 },
  { base: 0xac_10_00_00, prefix: 12 },
  { base: 0xc0_a8_00_00, prefix: 16 },
];

/** Which RFC 1918 range a block is in (its index), or undefined. */
function privateRange(c: Cidr4): number | undefined {
  const i = RFC1918.findIndex((r) => overlaps(r, c));
  return i < 0 ? undefined : i;
}

export type SecondaryCidrCheck =
  | { ok: true; cidr: Cidr4 }
  | { ok: false; code: 'InvalidParameterValue' | 'InvalidVpc.Range' | 'CidrLimitExceeded'; message: string };

/** Checks a secondary block against the VPC's primary and its current blocks (primary included). */
export function checkSecondaryCidr(s: string, vpcId: string, primary: string, current: readonly string[]): SecondaryCidrCheck {
  const checked = validateVpcCidr(s);
  if (!checked.ok) return checked;
  const cidr = checked.cidr;
  if (current.length >= MAX_VPC_IPV4_BLOCKS) {
    return { ok: false, code: 'CidrLimitExceeded', message: `This network '${vpcId}' has met its maximum number of allowed CIDRs: ${MAX_VPC_IPV4_BLOCKS}` };
  }
  const clash = current.find((c) => {
    const other = parseCidr4(c);
    return other !== undefined && overlaps(other, cidr);
  });
  if (clash !== undefined) {
    return { ok: false, code: 'InvalidVpc.Range', message: `The CIDR '${s}' conflicts with another CIDR block '${clash}' of the VPC.` };
  }
  const primaryCidr = parseCidr4(primary);
  const mine = primaryCidr === undefined ? undefined : privateRange(primaryCidr);
  const theirs = privateRange(cidr);
  if (theirs !== undefined && theirs !== mine) {
    return {
      ok: false,
      code: 'InvalidVpc.Range',
      message: `The CIDR '${s}' is restricted. Use a CIDR from the same private address range as the current VPC CIDR, or use a publicly-routable CIDR.`,
    };
  }
  return { ok: true, cidr };
}
