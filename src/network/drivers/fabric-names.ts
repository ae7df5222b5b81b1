/**
 * The names and numbers the netns fabric gives what it creates on the host,
 * and the interface aliases it keeps its ids in (the kernel keeps them, so a
 * restarted server finds everything again). Pure: no I/O.
 *
 *   <prefix>-r-<8 hex>   a VPC's router namespace (8 hex of sha256(vpcId))
 *   <prefix>t<8 hex>     the host side of its transit veth (router side: `uplink`)
 *   <prefix>-<instance>  an instance's namespace (all its NICs: eth0, eth1…)
 *   <prefix>-<nat-id>    a NAT gateway's namespace (eth0 at its private address)
 *   b<14 hex>            a subnet's bridge, in the router namespace
 *   v<14 hex>            an interface's (or a NAT gateway's) bridge port, in the router namespace
 *   p<14 hex>            a link's veth (a VPC peering connection), both ends so named,
 *                        one in each of the two router namespaces
 *
 * Each VPC gets a transit /30 out of 100.127.0.0/16 (slot n: 100.127.0.0 + 4n):
 * .1 on the host side is the VPC's service address, .2 the router's uplink.
 * Its policy-routing table is TABLE_BASE + n; its ip rule has the prefix's
 * priority (rulePriority), which is how the fabric tells its rules apart.
 *
 * A link's routes are ip rules inside the sending router's namespace,
 * `from <source> to <destination> lookup <linkTable>` at linkRulePriority (longer
 * destinations first, as a route table's longest match), the table holding one
 * route: default via LINK_GATEWAY (an address nobody has, its neighbour entry
 * the far end's MAC) out of the link's veth.
 */
import { createHash } from 'node:crypto';
import { formatIpv4 } from '../../domain/cidr.js';

export const TRANSIT_BASE = 0x647f_0000; // 100.127.0.0
export const TRANSIT_SLOTS = 16384; // /30s in a /16
export const TABLE_BASE = 0x4f56_0000;
/** the router side of the transit veth, inside the router namespace */
export const UPLINK = 'uplink';
/** the nft table in each router namespace (the namespace is ours alone) */
export const NAT_TABLE = 'overcast';

const PREFIX = /^[a-z][a-z0-9]{0,5}$/;
/** ids that go into names and aliases (space separated) */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

export function validPrefix(prefix: string): boolean {
  return PREFIX.test(prefix);
}

export function validId(id: string): boolean {
  return ID.test(id);
}

export function hashHex(s: string, n: number): string {
  return createHash('sha256').update(s).digest('hex').slice(0, n);
}

export function routerNs(prefix: string, vpcId: string): string {
  return `${prefix}-r-${hashHex(vpcId, 8)}`;
}

export function instanceNs(prefix: string, instanceId: string): string {
  return `${prefix}-${instanceId}`;
}

export function transitIfname(prefix: string, vpcId: string): string {
  return `${prefix}t${hashHex(vpcId, 8)}`;
}

export function bridgeName(subnetId: string): string {
  return `b${hashHex(subnetId, 14)}`;
}

export function portName(interfaceId: string): string {
  return `v${hashHex(interfaceId, 14)}`;
}

export function linkIfname(linkId: string): string {
  return `p${hashHex(linkId, 14)}`;
}

/** The MAC of a link's end in the router of `vpcId` (locally administered). */
export function linkMac(linkId: string, vpcId: string): string {
  return `02:${hashHex(`mac ${linkId} ${vpcId}`, 10).match(/../g)!.join(':')}`;
}

/** The routing table (inside a router namespace) a link's rules look up: 0x50000000 + 24 bits of the id's hash. */
export function linkTable(linkId: string): number {
  return 0x5000_0000 + parseInt(hashHex(`table ${linkId}`, 6), 16);
}

/** The routing table (inside a router namespace) of a NAT gateway's routes: 0x51000000 + 24 bits of the id's hash. */
export function natTable(natGatewayId: string): number {
  return 0x5100_0000 + parseInt(hashHex(`nat ${natGatewayId}`, 6), 16);
}

/** The next hop of every link route: no interface has it, each link's veth has a permanent neighbour entry for it. */
export const LINK_GATEWAY = '169.254.0.1';

/** The ip rule priority (inside a router namespace) of a link route to a /`prefix`: longer prefixes first. */
export function linkRulePriority(destinationPrefix: number): number {
  return 1000 + (32 - destinationPrefix);
}

export function isTransitIfname(prefix: string, name: string): boolean {
  return new RegExp(`^${prefix}t[0-9a-f]{8}$`).test(name);
}

export function isRouterNs(prefix: string, name: string): boolean {
  return new RegExp(`^${prefix}-r-[0-9a-f]{8}$`).test(name);
}

/** Every namespace of the prefix (routers and instances). */
export function isOwnNs(prefix: string, name: string): boolean {
  return name.startsWith(`${prefix}-`);
}

/** The ip rule priority of a prefix: 10000..29999, below main (32766). */
export function rulePriority(prefix: string): number {
  return 10000 + (parseInt(hashHex(`rule ${prefix}`, 8), 16) % 20000);
}

export interface TransitAddresses {
  slot: number;
  /** host side, the VPC's service address */
  host: string;
  /** router side (uplink) */
  router: string;
  table: number;
}

export function transitSlot(slot: number): TransitAddresses {
  const base = TRANSIT_BASE + slot * 4;
  return { slot, host: formatIpv4(base + 1), router: formatIpv4(base + 2), table: TABLE_BASE + slot };
}

/** The slot of a transit address (any of the /30's four), or undefined outside 100.127.0.0/16. */
export function slotOf(address: number): number | undefined {
  const off = address - TRANSIT_BASE;
  return off >= 0 && off < TRANSIT_SLOTS * 4 ? Math.floor(off / 4) : undefined;
}

/** Where a VPC's slot search starts: deterministic per VPC. */
export function preferredSlot(vpcId: string): number {
  return parseInt(hashHex(`slot ${vpcId}`, 8), 16) % TRANSIT_SLOTS;
}

// ---------------------------------------------------------------- aliases

export interface NetAlias {
  vpcId: string;
  cidrBlock: string;
}
export interface SubnetAlias {
  subnetId: string;
  subnetCidr: string;
}
export interface PortAlias {
  interfaceId: string;
  instanceId: string;
  subnetId: string;
  deviceIndex: number;
}

export interface LinkAlias {
  linkId: string;
  /** the network at the other end */
  peerVpcId: string;
}

export interface NatAlias {
  natGatewayId: string;
  subnetId: string;
  /** a public gateway's Elastic IP */
  publicIp?: string;
}

export const natAlias = (prefix: string, a: NatAlias): string => `${prefix} nat ${a.natGatewayId} ${a.subnetId} ${a.publicIp ?? '-'}`;

export function parseNatAlias(prefix: string, alias: string | undefined): NatAlias | undefined {
  const w = words(prefix, 'nat', alias, 3);
  if (!w) return undefined;
  return { natGatewayId: w[0]!, subnetId: w[1]!, ...(w[2] !== '-' ? { publicIp: w[2]! } : {}) };
}

export const linkAlias = (prefix: string, a: LinkAlias): string => `${prefix} link ${a.linkId} ${a.peerVpcId}`;

export function parseLinkAlias(prefix: string, alias: string | undefined): LinkAlias | undefined {
  const w = words(prefix, 'link', alias, 2);
  return w ? { linkId: w[0]!, peerVpcId: w[1]! } : undefined;
}

export const netAlias = (prefix: string, a: NetAlias): string => `${prefix} net ${a.vpcId} ${a.cidrBlock}`;
export const subnetAlias = (prefix: string, a: SubnetAlias): string => `${prefix} subnet ${a.subnetId} ${a.subnetCidr}`;
export const portAlias = (prefix: string, a: PortAlias): string =>
  `${prefix} if ${a.interfaceId} ${a.instanceId} ${a.subnetId} ${a.deviceIndex}`;

function words(prefix: string, kind: string, alias: string | undefined, n: number): string[] | undefined {
  const w = (alias ?? '').split(' ');
  return w.length === n + 2 && w[0] === prefix && w[1] === kind ? w.slice(2) : undefined;
}

export function parseNetAlias(prefix: string, alias: string | undefined): NetAlias | undefined {
  const w = words(prefix, 'net', alias, 2);
  return w ? { vpcId: w[0]!, cidrBlock: w[1]! } : undefined;
}

export function parseSubnetAlias(prefix: string, alias: string | undefined): SubnetAlias | undefined {
  const w = words(prefix, 'subnet', alias, 2);
  return w ? { subnetId: w[0]!, subnetCidr: w[1]! } : undefined;
}

export function parsePortAlias(prefix: string, alias: string | undefined): PortAlias | undefined {
  const w = words(prefix, 'if', alias, 4);
  if (!w || !/^\d{1,3}$/.test(w[3]!)) return undefined;
  return { interfaceId: w[0]!, instanceId: w[1]!, subnetId: w[2]!, deviceIndex: Number(w[3]) };
}
