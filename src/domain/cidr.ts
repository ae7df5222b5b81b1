/**
 * IPv4 (and minimal IPv6) CIDR arithmetic for VPCs and subnets.
 *
 * Pure: no I/O, no clocks. IPv4 addresses are plain numbers holding an
 * unsigned 32-bit value (0 .. 2^32-1); every result is normalised with `>>> 0`
 * so callers can compare with `===`.
 */

export interface Cidr4 {
  /**
   * The address as written (uint32). For a canonical block this is the network
   * address; `parseCidr4` keeps host bits so that `isCanonical` can report
   * them — use `canonical()` / `networkAddress()` when the network is wanted.
   */
  base: number;
  /** 0..32 */
  prefix: number;
}

export interface Cidr6 {
  address: bigint;
  /** 0..128 */
  prefix: number;
}

const UINT32_COUNT = 0x1_0000_0000;

// ---------------------------------------------------------------- addresses

/**
 * Strict dotted quad: exactly four decimal octets 0..255, no leading zeros
 * ("010" is rejected: inet_aton would read it as octal), no signs, no
 * whitespace, no hex, no shortened forms ("10.1").
 */
export function parseIpv4(s: string): number | undefined {
  if (typeof s !== 'string') return undefined;
  // four decimal octets (0, or 1-9 then up to two digits; at most 255) joined by dots, read
  // by character: the allocators parse every address a subnet holds on each launch
  const len = s.length;
  let n = 0;
  let i = 0;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (s.charCodeAt(i) !== 46 /* . */) return undefined;
      i++;
    }
    const start = i;
    let v = 0;
    while (i < len) {
      const c = s.charCodeAt(i);
      if (c < 48 || c > 57) break;
      v = v * 10 + (c - 48);
      i++;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || (digits > 1 && s.charCodeAt(start) === 48) || v > 255) return undefined;
    n = n * 256 + v;
  }
  return i === len ? n : undefined;
}

export function formatIpv4(n: number): string {
  const u = n >>> 0;
  return `${u >>> 24}.${(u >>> 16) & 0xff}.${(u >>> 8) & 0xff}.${u & 0xff}`;
}

// ---------------------------------------------------------------- blocks

/** Netmask for a prefix length, as uint32 (`/0` → 0, `/32` → 0xffffffff). */
export function prefixMask(prefix: number): number {
  return prefix <= 0 ? 0 : (0xffff_ffff << (32 - prefix)) >>> 0;
}

const PREFIX4 = /^(?:0|[1-9][0-9]?)$/;

/** `"10.0.0.0/16"` → `{ base, prefix }`; undefined if malformed. Host bits are kept (see `isCanonical`). */
export function parseCidr4(s: string): Cidr4 | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0 || s.indexOf('/', slash + 1) >= 0) return undefined;
  const base = parseIpv4(s.slice(0, slash));
  const p = s.slice(slash + 1);
  if (base === undefined || !PREFIX4.test(p)) return undefined;
  const prefix = Number(p);
  if (prefix > 32) return undefined;
  return { base, prefix };
}

/** The network address of the block (host bits cleared). */
export function networkAddress(c: Cidr4): number {
  return (c.base & prefixMask(c.prefix)) >>> 0;
}

/** The last address of the block (all host bits set). */
export function broadcastAddress(c: Cidr4): number {
  return (networkAddress(c) | ~prefixMask(c.prefix)) >>> 0;
}

/** True when all host bits are zero. */
export function isCanonical(c: Cidr4): boolean {
  return networkAddress(c) === c.base >>> 0;
}

/** The same block with host bits cleared. */
export function canonical(c: Cidr4): Cidr4 {
  return { base: networkAddress(c), prefix: c.prefix };
}

/** `base/prefix` exactly as stored (host bits are not cleared). */
export function cidrToString(c: Cidr4): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

/** Every address of `inner` is inside `outer` (a block contains itself). */
export function contains(outer: Cidr4, inner: Cidr4): boolean {
  return inner.prefix >= outer.prefix && ((inner.base & prefixMask(outer.prefix)) >>> 0) === networkAddress(outer);
}

/** Two CIDR blocks share at least one address (for CIDR blocks: one contains the other). */
export function overlaps(a: Cidr4, b: Cidr4): boolean {
  return contains(a, b) || contains(b, a);
}

export function ipInCidr(ip: number, c: Cidr4): boolean {
  return ((ip & prefixMask(c.prefix)) >>> 0) === networkAddress(c);
}

/** Number of addresses in the block (2^(32-prefix); `/0` → 4294967296). */
export function size(c: Cidr4): number {
  return 2 ** (32 - c.prefix);
}

/** Number of reserved addresses at the start of every EC2 subnet (network, VPC router, DNS, future use). */
export const RESERVED_AT_START = 4;

/** EC2 reserves the first four and the last address of every subnet. Never negative. */
export function usableAddressCount(c: Cidr4): number {
  return Math.max(0, size(c) - (RESERVED_AT_START + 1));
}

/**
 * True for the five addresses EC2 reserves in a subnet: network (+0), VPC
 * router (+1), DNS (+2), future use (+3) and the last address. False for
 * addresses outside the subnet.
 */
export function isReservedInSubnet(ip: number, c: Cidr4): boolean {
  if (!ipInCidr(ip, c)) return false;
  const offset = (ip >>> 0) - networkAddress(c);
  return offset < RESERVED_AT_START || ip >>> 0 === broadcastAddress(c);
}

/**
 * Lowest free host address of the subnet: skips the four reserved at the start
 * and the last address, and anything in `used`. undefined when full.
 */
export function allocateAddress(c: Cidr4, used: ReadonlySet<number>): number | undefined {
  const first = networkAddress(c) + RESERVED_AT_START;
  const last = broadcastAddress(c) - 1; // inclusive
  for (let ip = first; ip <= last; ip++) {
    if (!used.has(ip)) return ip;
  }
  return undefined;
}

// ---------------------------------------------------------------- EC2 validation

/** Smallest (widest) and largest (narrowest) prefix EC2 accepts for VPC and subnet IPv4 blocks. */
export const MIN_PREFIX = 16;
export const MAX_PREFIX = 28;

/**
 * Ranges Overcast refuses for a VPC: this-network (0/8), loopback (127/8),
 * link-local (169.254/16 — the instance metadata service lives there) and
 * multicast + reserved (224/3). AWS documents 224.0.0.0–255.255.255.255 as
 * unusable and treats the others as special; its exact answer for each is not
 * verified here, so we use InvalidVpc.Range, the code it gives for a CIDR it
 * won't take as a VPC range. Any other range (RFC 1918 or publicly routable)
 * is allowed, as on AWS.
 */
const FORBIDDEN_VPC_RANGES: readonly Cidr4[] = [
  { base: 0x00_00_00_00, prefix: 8 }, // 0.0.0.0/8
  { base: 0x7f_00_00_00, prefix: 8 }, // 127.0.0.0/8
  { base: 0xa9_fe_00_00, prefix: 16 }, // 169.254.0.0/16
  { base: 0xe0_00_00_00, prefix: 3 }, // 224.0.0.0/3
];

export const notACidrBlockMessage = (s: string): string =>
  `Value (${s}) for parameter cidrBlock is invalid. This is not a valid CIDR block.`;
export const invalidCidrMessage = (s: string): string => `The CIDR '${s}' is invalid.`;
export const subnetConflictMessage = (s: string): string => `The CIDR '${s}' conflicts with another subnet`;

/**
 * Parses an EC2 `CidrBlock` parameter. A block with host bits set
 * ("10.0.1.0/16") is not a valid CIDR block for EC2 and gets the same
 * InvalidParameterValue as garbage.
 */
function parseEc2Cidr(s: string): Cidr4 | undefined {
  const c = parseCidr4(s);
  return c && isCanonical(c) ? c : undefined;
}

/**
 * CreateVpc / AssociateVpcCidrBlock IPv4 rules:
 * - malformed or host bits set → InvalidParameterValue
 *   "Value (x) for parameter cidrBlock is invalid. This is not a valid CIDR block."
 * - prefix outside /16../28, or a forbidden range → InvalidVpc.Range "The CIDR 'x' is invalid."
 */
export function validateVpcCidr(
  s: string,
): { ok: true; cidr: Cidr4 } | { ok: false; code: 'InvalidParameterValue' | 'InvalidVpc.Range'; message: string } {
  const cidr = parseEc2Cidr(s);
  if (!cidr) return { ok: false, code: 'InvalidParameterValue', message: notACidrBlockMessage(s) };
  if (cidr.prefix < MIN_PREFIX || cidr.prefix > MAX_PREFIX || FORBIDDEN_VPC_RANGES.some((r) => overlaps(r, cidr))) {
    return { ok: false, code: 'InvalidVpc.Range', message: invalidCidrMessage(s) };
  }
  return { ok: true, cidr };
}

/**
 * CreateSubnet IPv4 rules, checked in this order:
 * - malformed or host bits set → InvalidParameterValue (as for VPCs)
 * - prefix outside /16../28, or not inside any of the VPC's CIDR blocks
 *   (primary + secondaries) → InvalidSubnet.Range "The CIDR 'x' is invalid."
 * - overlapping any sibling subnet of the VPC → InvalidSubnet.Conflict
 *   "The CIDR 'x' conflicts with another subnet"
 */
export function validateSubnetCidr(
  s: string,
  vpc: Cidr4[],
  siblings: Cidr4[],
):
  | { ok: true; cidr: Cidr4 }
  | { ok: false; code: 'InvalidParameterValue' | 'InvalidSubnet.Range' | 'InvalidSubnet.Conflict'; message: string } {
  const cidr = parseEc2Cidr(s);
  if (!cidr) return { ok: false, code: 'InvalidParameterValue', message: notACidrBlockMessage(s) };
  if (cidr.prefix < MIN_PREFIX || cidr.prefix > MAX_PREFIX || !vpc.some((v) => contains(v, cidr))) {
    return { ok: false, code: 'InvalidSubnet.Range', message: invalidCidrMessage(s) };
  }
  if (siblings.some((o) => overlaps(o, cidr))) {
    return { ok: false, code: 'InvalidSubnet.Conflict', message: subnetConflictMessage(s) };
  }
  return { ok: true, cidr };
}

/** The default VPC's CIDR block, as on AWS. */
export const DEFAULT_VPC_CIDR = '172.31.0.0/16';

/** Default subnet `index` (0-based, one per AZ): 172.31.(16*index).0/20, index 0..15. */
export function defaultSubnetCidr(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index > 15) {
    throw new RangeError(`default subnet index must be an integer 0..15, got ${index}`);
  }
  return `172.31.${16 * index}.0/20`;
}

// ---------------------------------------------------------------- IPv6 (minimal)

const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/**
 * RFC 4291 text form: eight hextets, one optional `::`, optional trailing
 * dotted quad. No zone ids, no brackets.
 */
export function parseIpv6(s: string): bigint | undefined {
  if (typeof s !== 'string' || s.length === 0) return undefined;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return undefined;
  const split = (part: string): string[] | undefined => {
    if (part === '') return [];
    const xs = part.split(':');
    return xs.some((x) => x === '') ? undefined : xs;
  };
  const head = split(dbl >= 0 ? s.slice(0, dbl) : s);
  const tail = dbl >= 0 ? split(s.slice(dbl + 2)) : [];
  if (!head || !tail) return undefined;

  const toWords = (xs: string[], allowV4Last: boolean): number[] | undefined => {
    const out: number[] = [];
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      if (allowV4Last && i === xs.length - 1 && x.includes('.')) {
        const v4 = parseIpv4(x);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (HEXTET.test(x)) {
        out.push(parseInt(x, 16));
      } else {
        return undefined;
      }
    }
    return out;
  };
  const hw = toWords(head, dbl < 0);
  const tw = toWords(tail, true);
  if (!hw || !tw) return undefined;
  let words: number[];
  if (dbl < 0) {
    if (hw.length !== 8) return undefined;
    words = hw;
  } else {
    const fill = 8 - hw.length - tw.length;
    if (fill < 1) return undefined;
    words = [...hw, ...new Array<number>(fill).fill(0), ...tw];
  }
  let n = 0n;
  for (const w of words) n = (n << 16n) | BigInt(w);
  return n;
}

/** RFC 5952 canonical text: lower case, no leading zeros, longest run (≥2) of zero hextets as `::`. */
export function formatIpv6(address: bigint): string {
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((address >> BigInt(16 * i)) & 0xffffn));
  let bestAt = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((w) => w.toString(16)).join(':');
  if (bestLen < 2) return hex(words);
  return `${hex(words.slice(0, bestAt))}::${hex(words.slice(bestAt + bestLen))}`;
}

const PREFIX6 = /^(?:0|[1-9][0-9]{0,2})$/;

/** `"2600:1f18::/56"` → `{ address, prefix }`; undefined if malformed. Host bits are kept. */
export function parseCidr6(s: string): Cidr6 | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0 || s.indexOf('/', slash + 1) >= 0) return undefined;
  const p = s.slice(slash + 1);
  if (!PREFIX6.test(p)) return undefined;
  const prefix = Number(p);
  if (prefix > 128) return undefined;
  const address = parseIpv6(s.slice(0, slash));
  return address === undefined ? undefined : { address, prefix };
}

/** The network mask of an IPv6 prefix length. */
export function mask6(prefix: number): bigint {
  return prefix === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - prefix)) - 1n);
}

/** An IPv6 CIDR with its host bits cleared, in RFC 5952 text. */
export function canonicalCidr6(c: Cidr6): string {
  return `${formatIpv6(c.address & mask6(c.prefix))}/${c.prefix}`;
}

/** Whether the address lies in the block. */
export function inCidr6(address: bigint, c: Cidr6): boolean {
  return (address & mask6(c.prefix)) === (c.address & mask6(c.prefix));
}
