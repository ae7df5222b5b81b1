/**
 * Public IPv4 addresses come from Overcast's own pool (config.publicIpPool). An
 * address is in use when an ENI carries it (auto-assigned public IP) or an
 * Elastic IP holds it, in any region: the store's `public-ip` space, which both
 * kinds write (kinds.ts), answers that from its index without reading records.
 */
import { formatIpv4, parseCidr4, parseIpv4, size } from '../../domain/cidr.js';
import { Ec2Error } from '../../domain/errors.js';
import type { ResourceContext } from '../context.js';
import { SPACES } from './kinds.js';

/** Whether an Elastic IP or an interface holds this address, in any region. */
export function isPublicIpInUse(ctx: ResourceContext, ip: string): boolean {
  const n = parseIpv4(ip);
  return n !== undefined && ctx.store.isHeld(SPACES.publicIp, null, formatIpv4(n));
}

/** Candidates probed one by one before the allocator reads the whole held set instead. */
const PROBES = 64;

/** Every held address, for a pool so full that probing would take longer. */
function heldPublicIps(ctx: ResourceContext): Set<number> {
  const used = new Set<number>();
  for (const v of ctx.store.heldValues(SPACES.publicIp, null)) {
    const n = parseIpv4(v);
    if (n !== undefined) used.add(n);
  }
  return used;
}

const CURSOR_KEY = 'public-ip-cursor';

/**
 * Takes `count` free addresses of the pool, going round from just after the
 * last one handed out (skipping network and broadcast addresses). Going round
 * rather than lowest-first means a stopped and restarted instance gets a new
 * public IP, as on EC2, instead of the one it just released. The addresses
 * after the cursor are usually free: each is checked with one indexed lookup,
 * and only a crowded pool (more than a few held in a row) reads the held set,
 * as strings, once for the whole launch. With `atLeast` below `count`, a short
 * pool gives what it has, if that is at least `atLeast` (EC2 launches between
 * MinCount and MaxCount); the cursor stays after the last address taken.
 */
export function allocatePublicIps(ctx: ResourceContext, count: number, atLeast = count): string[] {
  if (count <= 0) return [];
  const pool = parseCidr4(ctx.config.publicIpPool);
  if (!pool) throw new Ec2Error('InternalError', `The public IP pool '${ctx.config.publicIpPool}' is not a valid CIDR.`, 500);
  let used: Set<number> | undefined;
  let probes = 0;
  const isUsed = (ip: number): boolean => {
    if (used) return used.has(ip);
    if (++probes > PROBES + count) used = heldPublicIps(ctx);
    return used ? used.has(ip) : ctx.store.isHeld(SPACES.publicIp, null, formatIpv4(ip));
  };
  const n = size(pool);
  const first = n > 2 ? 1 : 0;
  const span = n > 2 ? n - 2 : n;
  const cursor = Number(ctx.store.getMeta(CURSOR_KEY) ?? '-1');
  const start = Number.isInteger(cursor) && cursor >= first && cursor < first + span ? cursor - first + 1 : 0;
  const out: string[] = [];
  let lastTaken = -1;
  for (let k = 0; k < span && out.length < count; k++) {
    const offset = first + ((start + k) % span);
    const ip = (pool.base + offset) >>> 0;
    if (!isUsed(ip)) {
      out.push(formatIpv4(ip));
      lastTaken = offset;
    }
  }
  if (out.length < atLeast) throw new Ec2Error('AddressLimitExceeded', 'The public IPv4 address pool is exhausted.');
  ctx.store.setMeta(CURSOR_KEY, String(lastTaken));
  return out;
}

/** One public address (see allocatePublicIps). */
export function allocatePublicIp(ctx: ResourceContext): string {
  return allocatePublicIps(ctx, 1)[0]!;
}

/** The DNS name EC2 gives a public IPv4 in a region. */
export function publicDnsName(region: string, ip: string): string {
  const dashed = ip.replace(/\./g, '-');
  return region === 'us-east-1' ? `ec2-${dashed}.compute-1.amazonaws.com` : `ec2-${dashed}.${region}.compute.amazonaws.com`;
}

/** The DNS name EC2 gives a private IPv4 in a region. */
export function privateDnsName(region: string, ip: string): string {
  const dashed = ip.replace(/\./g, '-');
  return region === 'us-east-1' ? `ip-${dashed}.ec2.internal` : `ip-${dashed}.${region}.compute.internal`;
}
