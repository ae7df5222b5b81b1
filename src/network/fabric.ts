/**
 * The network fabric: VPC networks on this host, interfaces plugged into
 * them, and public IPv4 addresses mapped 1:1 onto private ones (what an
 * internet gateway does). The real driver (network namespaces, veth pairs,
 * a bridge per VPC, nftables NAT) comes with a later issue; the mock keeps
 * the same books in memory.
 *
 * The reconciler calls it before Hypervisor.launch/start: ensureNetwork for
 * the VPC, plug per ENI (→ the namespace and interface the Hypervisor gets),
 * mapPublicIp per public address; and after stop/terminate: unmapPublicIp,
 * unplug. The peering reconciler joins two networks with connect (a link and
 * its routes: from a subnet of one network to blocks of the other, one
 * direction each) and takes them apart with disconnect. The NAT gateway
 * reconciler puts a NAT gateway on a network with ensureNatGateway (its
 * interface in a subnet, the address it translates to, the routes of the
 * subnets that send to it) and takes it off with removeNatGateway. Every operation is idempotent — repeated with the same arguments it
 * does nothing and answers the same — so a crash between two steps is
 * repaired by the next one; what contradicts the fabric's books is refused
 * with a FabricError.
 */
import type { EventStream, ProbeResult } from '../compute/driver.js';
import { canonical, cidrToString, ipInCidr, overlaps, parseCidr4, parseIpv4, type Cidr4 } from '../domain/cidr.js';

/** A VPC's network on this host. */
export interface NetworkSpec {
  /** vpc-… (a name only) */
  vpcId: string;
  /** the VPC's primary IPv4 CIDR */
  cidrBlock: string;
}

/** A VPC's network as made. */
export interface NetworkInfo extends NetworkSpec {
  /**
   * the host address the VPC's router sends metadata (169.254.169.254:80) and DNS
   * (169.254.169.253:53, VPC base + 2) traffic to, unchanged in source: whoever listens
   * there for this VPC serves its instances (undefined: the fabric carries no traffic)
   */
  serviceAddress?: string;
  /** the host's IPv6 address facing this network: where its instances' IPv6 traffic to "the internet" arrives (undefined: none) */
  serviceAddress6?: string;
}

/** An interface's IPv6 side: its subnet's /64 and its addresses there (ipv6-checks.ts). */
export interface Ipv6Addressing {
  /** the subnet's IPv6 CIDR (a /64) */
  subnetCidr: string;
  /** the interface's IPv6 addresses in it (none: no IPv6 inside) */
  addresses: string[];
}

/** A plugged interface's IPv6 side as made. */
export interface PluggedIpv6 {
  subnetCidr: string;
  /** with prefix length ("2001:db8:0:1::4/64") */
  addresses: string[];
  /** the subnet's router (the /64's first address) */
  gateway: string;
}

/**
 * Where a network's IPv6 traffic may go beyond it (its internet and egress-only
 * internet gateways' routes): `internet` subnets reach the host side and are
 * reached from it; `egressOnly` subnets reach it and get only the replies. The
 * VPC's `blocks` are routed from the host into the network while a subnet has
 * either. Everything empty: IPv6 stays inside the network.
 */
export interface Ipv6Routing {
  vpcId: string;
  /** the VPC's IPv6 blocks (the /56s): canonical CIDRs */
  blocks: string[];
  /** subnet /64s whose IPv6 routes go to an attached internet gateway */
  internet: string[];
  /** subnet /64s whose IPv6 routes go to an egress-only internet gateway (and not to an internet gateway) */
  egressOnly: string[];
}

/** One interface to plug: an ENI of a VPC subnet, owned by an instance. */
export interface PlugRequest {
  /** eni-… (a name only) */
  interfaceId: string;
  /** the machine the interface is for (listed back for recovery) */
  instanceId: string;
  vpcId: string;
  subnetId: string;
  /** the subnet's CIDR, e.g. 172.31.0.0/20 */
  subnetCidr: string;
  /** 02:xx:xx:xx:xx:xx */
  mac: string;
  /** private IPv4 addresses, primary first */
  privateIps: string[];
  /** the guest's device order (0 = eth0) */
  deviceIndex: number;
  /** its IPv6 side (absent, or no addresses: IPv4 only) */
  ipv6?: Ipv6Addressing;
}

/** A plugged interface: what the Hypervisor gets for this NIC. */
export interface PluggedInterface {
  interfaceId: string;
  instanceId: string;
  vpcId: string;
  subnetId: string;
  deviceIndex: number;
  /** the network namespace made for the interface (a name under /run/netns, or a path) */
  netns: string;
  /** the interface inside the namespace the guest gets */
  ifname: string;
  /** the host side (bridge port), where the Firewall attaches its rules */
  hostIfname: string;
  /** the namespace the host side lives in (the VPC's router namespace; undefined: the host's own) */
  hostNetns?: string;
  mac: string;
  /** with prefix length, primary first ("172.31.0.10/20") */
  addresses: string[];
  /** the subnet's router (first usable address) */
  gateway: string;
  mtu: number;
  /** its IPv6 addresses and default route inside (absent: none) */
  ipv6?: PluggedIpv6;
}

/** A public IPv4 address mapped 1:1 onto an interface's private address. */
export interface PublicIpMapping {
  publicIp: string;
  privateIp: string;
  interfaceId: string;
  vpcId: string;
}

/**
 * One route across a link: traffic that the network `vpcId` forwards from
 * `source` (one of its subnets' CIDRs) to `destination` (a CIDR of the other
 * network) crosses the link. What no route names does not cross it, in
 * either direction: a reply needs the mirror route on the other side.
 */
export interface LinkRoute {
  /** the network whose router sends (one of the link's two) */
  vpcId: string;
  /** IPv4 CIDR the packets come from (a subnet of that network) */
  source: string;
  /** IPv4 CIDR they go to (in the other network; never overlapping the sender's own) */
  destination: string;
}

/** Two networks joined (a VPC peering connection): only what its routes send crosses. */
export interface NetworkLink {
  /** pcx-… (a name only) */
  linkId: string;
  /** the two networks (their vpcIds, as ensureNetwork made them), different */
  networks: [string, string];
  /** every route over the link, both directions; connect() replaces the previous set */
  routes: LinkRoute[];
}

/** One route to a NAT gateway: what a subnet of its network sends to `destination` goes through it. */
export interface NatRoute {
  /** IPv4 CIDR of a sending subnet of the gateway's network (not the gateway's own subnet) */
  source: string;
  /**
   * IPv4 CIDR the packets go to; the part of it inside the network's own CIDRs stays local
   * (as a route table's local route, the longer match, keeps it); a destination also sent over
   * a link from the same source is the link's when its prefix is longer
   */
  destination: string;
}

/**
 * A NAT gateway on a network: an interface of its own in a subnet (the
 * gateway's private address), translating the source of what is routed to
 * it to that address; a public gateway's traffic then leaves the network as
 * its Elastic IP, mapped 1:1 onto the private address as an instance's public
 * IP is. Connections from outside to the gateway are not answered.
 */
export interface NatGatewaySpec {
  /** nat-… (a name only) */
  natGatewayId: string;
  vpcId: string;
  subnetId: string;
  /** the subnet's CIDR */
  subnetCidr: string;
  /** the MAC of the gateway's interface */
  mac: string;
  /** the gateway's private address, in the subnet */
  privateIp: string;
  /** a public gateway's Elastic IP (from the public pool); undefined: a private gateway */
  publicIp?: string;
  /** every route to the gateway; ensureNatGateway replaces the previous set */
  routes: NatRoute[];
}

/** Everything the fabric has, for recovery. */
export interface FabricInventory {
  networks: NetworkSpec[];
  interfaces: PluggedInterface[];
  publicIps: PublicIpMapping[];
  /** with an instanceId filter: all links too (they belong to no instance) */
  links: NetworkLink[];
  /** with an instanceId filter: all NAT gateways too */
  natGateways: NatGatewaySpec[];
  /** the networks' IPv6 routing that is not empty (routeIpv6); absent when no network has any */
  ipv6Routing?: Ipv6Routing[];
}

export type FabricErrorCode =
  /** the network or interface named does not exist */
  | 'not-found'
  /** contradicts what exists: an interface plugged elsewhere, an address or MAC in use, a public IP mapped to another address */
  | 'conflict'
  /** the network still has interfaces plugged, or links */
  | 'in-use'
  /** malformed: a CIDR, an address outside its subnet, a MAC */
  | 'invalid'
  | 'failed';

export class FabricError extends Error {
  constructor(
    readonly code: FabricErrorCode,
    /** the vpc/eni/address concerned */
    readonly subject: string,
    message: string,
  ) {
    super(message);
    this.name = 'FabricError';
  }
}

/** Interfaces that changed by themselves (a veth deleted behind the fabric's back). */
export interface FabricEvent {
  interfaceId: string;
  instanceId: string;
  kind: 'lost';
}

/**
 * The contract:
 *  - ensureNetwork(net): creates the VPC network and answers what it made; again with the same CIDR: the same; another CIDR → conflict.
 *  - removeNetwork(vpcId): deletes it; unknown: no-op; interfaces still plugged, a link to it, or a NAT gateway on it → in-use.
 *  - plug(req): the interface, plugged; the same request again answers the same
 *    interface; the same interfaceId for another instance, subnet, MAC or
 *    addresses → conflict; an address or MAC another interface of the VPC has →
 *    conflict; an unknown network → not-found; an address outside the subnet → invalid.
 *  - readdress(interfaceId, privateIps): a plugged interface's private addresses
 *    changed in place (AssignPrivateIpAddresses on a running instance: the
 *    device stays, the primary address first and unchanged); public IPs mapped
 *    to an address it loses are unmapped; an address another interface of the VPC
 *    has → conflict; a primary address that changes, or one outside the subnet →
 *    invalid; an interface that is not plugged → not-found.
 *    With `ipv6` (undefined: unchanged) its IPv6 addresses change the same way;
 *    one outside that /64, repeated or malformed → invalid; one another interface
 *    of the VPC has → conflict.
 *  - plug with `ipv6` addresses: they are inside with a default IPv6 route via the /64's
 *    first address (the subnet's router; the router forwards IPv6 between the
 *    subnets of its network only); refusals as for IPv4 (ipv6-checks.ts).
 *  - routeIpv6(r): the network's IPv6 paths beyond it become `r` (replacing the
 *    last); unknown network → not-found; a malformed CIDR, or a block outside the
 *    fabric's IPv6 pool → invalid.
 *  - unplug(interfaceId): unplugs it, and unmaps its public IPs; unknown: no-op.
 *  - mapPublicIp(m): maps it; the same mapping again: no-op; the public IP mapped
 *    elsewhere → conflict; an interface that is not plugged, or a private IP it
 *    does not have → not-found.
 *  - unmapPublicIp(publicIp): unknown: no-op.
 *  - connect(link): joins the two networks with the link's routes (and only
 *    those: a route not given any more is gone); the same link again: no-op;
 *    the same linkId with other networks → conflict; a route (network, source,
 *    destination) another link has → conflict; a network that does not exist
 *    → not-found; the two networks the same, a route from neither of them, a
 *    malformed CIDR, a destination overlapping the sending network's own
 *    CIDRs → invalid.
 *  - disconnect(linkId): the link and its routes gone; unknown: no-op.
 *  - ensureNatGateway(nat): the gateway on its network with exactly the given
 *    routes; the same again: no-op; the same id with another network, subnet,
 *    MAC, private or public address → conflict; its private address or MAC held
 *    by a plugged interface (or another gateway) of the network, its public IP
 *    mapped to anything else, a route (network, source, destination) another
 *    gateway has → conflict; an unknown network → not-found; a malformed CIDR,
 *    address or MAC, a private address outside the subnet, a route from the
 *    gateway's own subnet (its own traffic would loop back to it), a route given
 *    twice → invalid. Plugging an interface with a gateway's address or MAC, or
 *    mapping its public IP elsewhere, is a conflict too.
 *  - removeNatGateway(natGatewayId): the gateway, its routes and its public IP
 *    gone (what was routed to it has no path); unknown: no-op.
 *  - list(filter): the inventory (for recovery and orphan clean-up); with an
 *    instanceId, only that instance's interfaces and their public IPs (networks and links: all).
 */
export interface Fabric {
  readonly name: string;
  probe(): Promise<ProbeResult>;
  ensureNetwork(net: NetworkSpec): Promise<NetworkInfo>;
  removeNetwork(vpcId: string): Promise<void>;
  plug(req: PlugRequest): Promise<PluggedInterface>;
  readdress(interfaceId: string, privateIps: readonly string[], ipv6?: Ipv6Addressing): Promise<PluggedInterface>;
  routeIpv6(r: Ipv6Routing): Promise<void>;
  unplug(interfaceId: string): Promise<void>;
  mapPublicIp(mapping: PublicIpMapping): Promise<void>;
  unmapPublicIp(publicIp: string): Promise<void>;
  connect(link: NetworkLink): Promise<void>;
  disconnect(linkId: string): Promise<void>;
  ensureNatGateway(nat: NatGatewaySpec): Promise<void>;
  removeNatGateway(natGatewayId: string): Promise<void>;
  list(filter?: { instanceId?: string }): Promise<FabricInventory>;
  readonly events: EventStream<FabricEvent>;
  close(): Promise<void>;
}

/**
 * What every driver checks before readdress: at least one address, the
 * primary first and unchanged, no repeats, all inside the interface's subnet
 * (FabricError 'invalid' otherwise).
 */
export function checkReaddress(req: PlugRequest, privateIps: readonly string[], subnet: Cidr4): void {
  const id = req.interfaceId;
  if (privateIps[0] !== req.privateIps[0]) throw new FabricError('invalid', id, `the primary address of ${id} is ${req.privateIps[0]} and stays`);
  if (new Set(privateIps).size !== privateIps.length) throw new FabricError('invalid', id, `repeated addresses for ${id}`);
  for (const ip of privateIps) {
    const n = parseIpv4(ip);
    if (n === undefined || !ipInCidr(n, subnet)) throw new FabricError('invalid', id, `${ip} is not in ${req.subnetCidr}`);
  }
}

/**
 * What every driver checks before connect (FabricError 'invalid' otherwise): two
 * different networks, each route from one of them with well-formed IPv4 CIDRs,
 * its destination clear of the sending network's own CIDRs (`own(vpcId)`), no
 * route repeated. Answers the routes with canonical CIDRs (network addresses).
 */
export function checkLink(link: NetworkLink, own: (vpcId: string) => readonly string[]): LinkRoute[] {
  const id = link.linkId;
  const [a, b] = link.networks;
  if (a === b) throw new FabricError('invalid', id, `link ${id} joins ${a} to itself`);
  const out: LinkRoute[] = [];
  const seen = new Set<string>();
  for (const r of link.routes) {
    if (r.vpcId !== a && r.vpcId !== b) throw new FabricError('invalid', id, `a route of ${id} is from ${r.vpcId}, which it does not join`);
    const src = parseCidr4(r.source);
    const dst = parseCidr4(r.destination);
    if (!src || !dst) throw new FabricError('invalid', id, `malformed route ${r.source} → ${r.destination}`);
    for (const o of own(r.vpcId)) {
      const c = parseCidr4(o);
      if (c && overlaps(c, dst)) throw new FabricError('invalid', id, `${r.destination} overlaps ${o} of ${r.vpcId} itself`);
    }
    const route = { vpcId: r.vpcId, source: cidrToString(canonical(src)), destination: cidrToString(canonical(dst)) };
    const key = routeKey(route);
    if (seen.has(key)) throw new FabricError('invalid', id, `route ${key} given twice`);
    seen.add(key);
    out.push(route);
  }
  return out;
}

export const routeKey = (r: LinkRoute): string => `${r.vpcId} ${r.source} ${r.destination}`;

/**
 * What every driver checks before ensureNatGateway (FabricError 'invalid' otherwise):
 * well-formed MAC, addresses and CIDRs, the private address in its subnet, no route
 * from the gateway's own subnet, none repeated. Answers the routes with canonical CIDRs.
 */
export function checkNatGateway(nat: NatGatewaySpec): NatRoute[] {
  const id = nat.natGatewayId;
  if (!/^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i.test(nat.mac)) throw new FabricError('invalid', id, `malformed MAC ${nat.mac}`);
  const subnet = parseCidr4(nat.subnetCidr);
  if (!subnet) throw new FabricError('invalid', id, `malformed subnet CIDR ${nat.subnetCidr}`);
  const priv = parseIpv4(nat.privateIp);
  if (priv === undefined || !ipInCidr(priv, subnet)) throw new FabricError('invalid', id, `${nat.privateIp} is not in ${nat.subnetCidr}`);
  if (nat.publicIp !== undefined && parseIpv4(nat.publicIp) === undefined) throw new FabricError('invalid', id, `malformed address ${nat.publicIp}`);
  const mine = canonical(subnet);
  const out: NatRoute[] = [];
  const seen = new Set<string>();
  for (const r of nat.routes) {
    const src = parseCidr4(r.source);
    const dst = parseCidr4(r.destination);
    if (!src || !dst) throw new FabricError('invalid', id, `malformed route ${r.source} → ${r.destination}`);
    if (overlaps(canonical(src), mine)) throw new FabricError('invalid', id, `${r.source} is the gateway's own subnet`);
    const route = { source: cidrToString(canonical(src)), destination: cidrToString(canonical(dst)) };
    const key = `${route.source} ${route.destination}`;
    if (seen.has(key)) throw new FabricError('invalid', id, `route ${key} given twice`);
    seen.add(key);
    out.push(route);
  }
  return out;
}

/** Two gateway specs that are the same gateway (routes aside). */
export function sameNatGateway(a: NatGatewaySpec, b: NatGatewaySpec): boolean {
  return (
    a.vpcId === b.vpcId &&
    a.subnetId === b.subnetId &&
    a.subnetCidr === b.subnetCidr &&
    a.mac.toLowerCase() === b.mac.toLowerCase() &&
    a.privateIp === b.privateIp &&
    a.publicIp === b.publicIp
  );
}
