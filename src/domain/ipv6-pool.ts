/**
 * The IPv6 pool Amazon-provided VPC blocks (/56s) come from. EC2 hands out
 * global addresses (2600:1f1x::/…); Overcast hands out blocks of a range it
 * owns — by default a unique local one (fd00::/8, RFC 4193) — because the
 * fabric routes a VPC's block from the host into its router: a real global
 * range would take those addresses away from the host's own network. Pure.
 */
import { formatIpv6, parseCidr6, type Cidr6 } from './cidr.js';

/** The default pool: a ULA /32 (24 bits of /56 blocks), clear of the fd00:ec2::/32 EC2 uses for its own IPv6 services. */
export const DEFAULT_IPV6_POOL = 'fd0f:ec20::/32';

export const VPC_IPV6_PREFIX = 56;

/** The pool, checked: an IPv6 CIDR with room for a /56; undefined when it is not one. */
export function parseIpv6Pool(s: string): Cidr6 | undefined {
  const c = parseCidr6(s);
  return c && c.prefix <= VPC_IPV6_PREFIX ? c : undefined;
}

/** The /56 of the pool numbered `n` (0 ≤ n < 2^(56 − pool prefix)), as canonical text. */
export function poolBlock(pool: Cidr6, n: bigint): string {
  const free = BigInt(VPC_IPV6_PREFIX - pool.prefix);
  const base = (pool.address >> BigInt(128 - pool.prefix)) << BigInt(128 - pool.prefix);
  const index = n & ((1n << free) - 1n);
  return `${formatIpv6(base | (index << BigInt(128 - VPC_IPV6_PREFIX)))}/${VPC_IPV6_PREFIX}`;
}

/** How many /56s the pool holds. */
export function poolBlocks(pool: Cidr6): bigint {
  return 1n << BigInt(VPC_IPV6_PREFIX - pool.prefix);
}
