/**
 * The real fabric: VPCs as router network namespaces, instances in namespaces
 * of their own, nftables 1:1 NAT. Nothing leaves the machine unless egress is on.
 *
 *   host ── <prefix>t<hash> (100.127.x.1 = serviceAddress)
 *             │ veth
 *   router ns <prefix>-r-<hash>: uplink (100.127.x.2, default route → host side),
 *             ip_forward=1, a bridge per subnet holding its gateway (first usable
 *             address), `table ip overcast` (NAT, metadata/DNS rewrites, forward filter)
 *             │ veth (bridge port v<hash> ↔ eth<deviceIndex>)
 *   instance ns <prefix>-<instanceId>: eth0… with the MAC and private addresses,
 *             default route via the gateway
 *
 * A NAT gateway is a namespace of its own (<prefix>-<nat-id>, eth0 at its
 * private address on its subnet's bridge, forwarding and source-NATing to that
 * address); the routes to it are ip rules in the router, `from <subnet> to
 * <destination> lookup <its table>` (the table: the network's own CIDRs and the
 * service address `throw`n back to the main table, the rest via the gateway), and
 * a public gateway's Elastic IP is mapped 1:1 onto its private address.
 *
 * On the host: a /32 route per mapped public IP via the router, and a policy
 * rule `from <serviceAddress> lookup <table of the VPC>` (the table routes the
 * VPC's networks via its router), so host services answer instances of VPCs
 * whose CIDRs overlap. No VPC CIDR is routed in the main table. Egress off, a
 * host table `<prefix>-guard` drops what the transit veths would forward off
 * the machine (should the host forward IPv4 at all).
 *
 * The fabric's books live in memory and are rebuilt from the kernel the first
 * time the fabric is used: ids are kept in interface aliases (the transit veth
 * names the VPC and its CIDR, a bridge its subnet, a bridge port its interface,
 * instance, subnet and device index); MACs and addresses are read from the
 * instance namespaces, public IP mappings from the router's nft map. An alias
 * is written last, so a half-made thing is not listed and is redone from scratch.
 */
import { Emitter, type ProbeResult } from '../../compute/driver.js';
import { contains, formatIpv4, ipInCidr, networkAddress, overlaps, parseCidr4, parseIpv4, type Cidr4 } from '../../domain/cidr.js';
import { CommandError, hasCommand, isRoot } from '../../host/exec.js';
import {
  FabricError,
  type Fabric,
  type FabricEvent,
  type FabricInventory,
  type NetworkInfo,
  type NetworkSpec,
  type PluggedInterface,
  type PlugRequest,
  type PublicIpMapping,
  type LinkRoute,
  type NetworkLink,
  type Ipv6Addressing,
  type Ipv6Routing,
  type NatGatewaySpec,
  type NatRoute,
  checkLink,
  checkNatGateway,
  sameNatGateway,
  checkReaddress,
  routeKey,
} from '../fabric.js';
import {
  NAT_TABLE,
  TRANSIT_SLOTS,
  UPLINK,
  bridgeName,
  instanceNs,
  isOwnNs,
  isRouterNs,
  isTransitIfname,
  LINK_GATEWAY,
  linkAlias,
  linkIfname,
  linkMac,
  linkRulePriority,
  linkTable,
  natAlias,
  natTable,
  netAlias,
  parseNatAlias,
  parseLinkAlias,
  parseNetAlias,
  parsePortAlias,
  parseSubnetAlias,
  portAlias,
  portName,
  preferredSlot,
  routerNs,
  rulePriority,
  slotOf,
  subnetAlias,
  transitIfname,
  transitSlot,
  validId,
  validPrefix,
  type TransitAddresses,
} from './fabric-names.js';
import { checkIpv6, checkRouting, pluggedIpv6, sameIpv6 } from '../ipv6-checks.js';
import { DEFAULT_IPV6_POOL, parseIpv6Pool } from '../../domain/ipv6-pool.js';
import { NetnsIpv6, destroyIpv6, ipv6Leftovers, type Net6 } from './ipv6-netns.js';
import { deleteTableScript, hostEgressRuleset, hostEgressTable, hostGuardRuleset, hostGuardTable, natGatewayRuleset, routerRuleset } from './nat-rules.js';
import {
  addNetns,
  delNetns,
  hostNftTableExists,
  ip,
  ipBatch,
  ipQuiet,
  linkNames,
  listLinks,
  listNetns,
  netnsExists,
  listRoutes,
  listRules,
  listRulesIn,
  nftApply,
  nftMapElements,
  sysctlInNs,
  type LinkInfo,
} from './netns.js';

export interface NetnsFabricOptions {
  /** the public IPv4 pool (CIDR): only its addresses are mapped and routed */
  publicIpPool: string;
  /** let instances reach beyond this host (masquerade); never in tests */
  egress: boolean;
  /** where on the service address the metadata service listens (default 80) */
  metadataPort?: number;
  /** where on the service address DNS answers (default 53) */
  dnsPort?: number;
  /** name prefix of everything created (default 'ovc'; [a-z][a-z0-9]{0,5}) */
  prefix?: string;
  /** the IPv6 pool (CIDR) VPC blocks come from: only its blocks are routed from the host (default DEFAULT_IPV6_POOL) */
  ipv6Pool?: string;
}

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;
const MTU = 1500;

interface Subnet {
  subnetId: string;
  cidr: string;
  parsed: Cidr4;
  bridge: string;
}

interface Net {
  spec: NetworkSpec;
  transit: TransitAddresses;
  ns: string;
  hostIf: string;
  subnets: Map<string, Subnet>;
}

interface Plug {
  req: PlugRequest;
  iface: PluggedInterface;
}

/** A link as made: its veth (one name, an end in each router) and its routes (canonical). */
interface Link {
  linkId: string;
  networks: [string, string];
  ifname: string;
  table: number;
  routes: LinkRoute[];
}

/** A NAT gateway as made: its spec (routes canonical, MAC lower case), namespace, bridge port and table. */
interface Nat {
  spec: NatGatewaySpec;
  ns: string;
  port: string;
  table: number;
}

export class NetnsFabric implements Fabric {
  readonly name = 'netns';
  readonly prefix: string;
  private readonly pool: Cidr4;
  private readonly poolText: string;
  private readonly egress: boolean;
  private readonly metadataPort: number;
  private readonly dnsPort: number;
  private readonly rulePref: number;

  private readonly networks = new Map<string, Net>();
  private readonly plugged = new Map<string, Plug>();
  private readonly mappings = new Map<string, PublicIpMapping>();
  private readonly links = new Map<string, Link>();
  private readonly nats = new Map<string, Nat>();
  /** IPv6: addresses inside, the routers' forwarding, the VPC blocks routed from the host (ipv6-netns.ts) */
  private readonly v6: NetnsIpv6;
  private loaded = false;
  private closed = false;
  private chain: Promise<unknown> = Promise.resolve();
  private readonly emitter = new Emitter<FabricEvent>();
  readonly events = this.emitter.subscribe;

  constructor(opts: NetnsFabricOptions) {
    this.prefix = opts.prefix ?? 'ovc';
    if (!validPrefix(this.prefix)) throw new Error(`netns fabric: prefix must match [a-z][a-z0-9]{0,5}, got '${this.prefix}'`);
    const pool = parseCidr4(opts.publicIpPool);
    if (!pool) throw new Error(`netns fabric: malformed public IP pool ${opts.publicIpPool}`);
    this.pool = { base: networkAddress(pool), prefix: pool.prefix };
    this.poolText = `${formatIpv4(this.pool.base)}/${this.pool.prefix}`;
    this.egress = opts.egress;
    this.metadataPort = opts.metadataPort ?? 80;
    this.dnsPort = opts.dnsPort ?? 53;
    this.rulePref = rulePriority(this.prefix);
    const pool6 = parseIpv6Pool(opts.ipv6Pool ?? DEFAULT_IPV6_POOL);
    if (!pool6) throw new Error(`netns fabric: malformed IPv6 pool ${opts.ipv6Pool}`);
    this.v6 = new NetnsIpv6(this.prefix, pool6);
  }

  async probe(): Promise<ProbeResult> {
    if (this.closed) return { ok: false, reason: 'the netns fabric is closed' };
    if (!isRoot()) return { ok: false, reason: 'the netns fabric needs root (network namespaces, veth pairs, nftables)' };
    const missing: string[] = [];
    for (const tool of ['ip', 'nft']) if (!(await hasCommand(tool))) missing.push(tool);
    if (missing.length > 0) return { ok: false, reason: `the netns fabric needs ${missing.join(' and ')} (iproute2, nftables), not found on PATH` };
    try {
      await listNetns();
    } catch (e) {
      return { ok: false, reason: `cannot list network namespaces: ${e instanceof Error ? e.message : String(e)}` };
    }
    return { ok: true };
  }

  // ---------------------------------------------------------------- networks

  ensureNetwork(net: NetworkSpec): Promise<NetworkInfo> {
    return this.serial(async () => {
      const cidr = parseCidr4(net.cidrBlock);
      if (!cidr) throw new FabricError('invalid', net.vpcId, `malformed CIDR ${net.cidrBlock}`);
      if (!validId(net.vpcId)) throw new FabricError('invalid', net.vpcId, `malformed VPC id ${net.vpcId}`);
      const have = this.networks.get(net.vpcId);
      if (have) {
        if (have.spec.cidrBlock !== net.cidrBlock) throw new FabricError('conflict', net.vpcId, `network ${net.vpcId} exists with ${have.spec.cidrBlock}`);
        return this.info(have);
      }
      const made = await this.failing(net.vpcId, () => this.createNetwork({ vpcId: net.vpcId, cidrBlock: net.cidrBlock }));
      this.networks.set(net.vpcId, made);
      return this.info(made);
    });
  }

  removeNetwork(vpcId: string): Promise<void> {
    return this.serial(async () => {
      const net = this.networks.get(vpcId);
      if (!net) return;
      const users = [...this.plugged.values()].filter((p) => p.req.vpcId === vpcId).length;
      if (users > 0) throw new FabricError('in-use', vpcId, `network ${vpcId} has ${users} interface(s) plugged`);
      const link = [...this.links.values()].find((l) => l.networks.includes(vpcId));
      if (link) throw new FabricError('in-use', vpcId, `network ${vpcId} is joined by ${link.linkId}`);
      const nat = [...this.nats.values()].find((g) => g.spec.vpcId === vpcId);
      if (nat) throw new FabricError('in-use', vpcId, `network ${vpcId} has NAT gateway ${nat.spec.natGatewayId}`);
      await this.failing(vpcId, () => this.teardownNetwork(net.ns, net.hostIf, net.transit));
      this.networks.delete(vpcId);
      this.v6.forgetNetwork(vpcId);
    });
  }

  // ---------------------------------------------------------------- interfaces

  plug(req: PlugRequest): Promise<PluggedInterface> {
    return this.serial(async () => {
      const net = this.networks.get(req.vpcId);
      if (!net) throw new FabricError('not-found', req.vpcId, `no network ${req.vpcId}`);
      const subnet = parseCidr4(req.subnetCidr);
      if (!subnet) throw new FabricError('invalid', req.interfaceId, `malformed subnet CIDR ${req.subnetCidr}`);
      if (!MAC.test(req.mac)) throw new FabricError('invalid', req.interfaceId, `malformed MAC ${req.mac}`);
      if (req.privateIps.length === 0) throw new FabricError('invalid', req.interfaceId, 'an interface needs a private address');
      for (const ipText of req.privateIps) {
        const n = parseIpv4(ipText);
        if (n === undefined || !ipInCidr(n, subnet)) throw new FabricError('invalid', req.interfaceId, `${ipText} is not in ${req.subnetCidr}`);
      }
      for (const [what, id] of [['interface', req.interfaceId], ['instance', req.instanceId], ['subnet', req.subnetId]] as const) {
        if (!validId(id)) throw new FabricError('invalid', req.interfaceId, `malformed ${what} id ${id}`);
      }
      if (!Number.isInteger(req.deviceIndex) || req.deviceIndex < 0 || req.deviceIndex > 99) {
        throw new FabricError('invalid', req.interfaceId, `device index ${req.deviceIndex} is not 0..99`);
      }
      const v6 = checkIpv6(req.interfaceId, req.ipv6);
      req = { ...req, ipv6: v6 && { subnetCidr: v6.subnetCidr, addresses: v6.addresses } };
      const have = this.plugged.get(req.interfaceId);
      if (have) {
        if (samePlug(have.req, req)) return copyIface(have.iface);
        throw new FabricError('conflict', req.interfaceId, `${req.interfaceId} is already plugged for ${have.req.instanceId} in ${have.req.subnetId}`);
      }
      const mac = req.mac.toLowerCase();
      for (const p of this.plugged.values()) {
        if (p.req.vpcId === req.vpcId && p.iface.mac === mac) throw new FabricError('conflict', req.interfaceId, `MAC ${req.mac} is in use by ${p.req.interfaceId}`);
        if (p.req.vpcId === req.vpcId) {
          const dup = req.privateIps.find((x) => p.req.privateIps.includes(x)) ?? v6?.addresses.find((x) => p.req.ipv6?.addresses.includes(x));
          if (dup) throw new FabricError('conflict', req.interfaceId, `${dup} is in use by ${p.req.interfaceId} in ${req.vpcId}`);
        }
        if (p.req.instanceId === req.instanceId && p.req.deviceIndex === req.deviceIndex) {
          throw new FabricError('conflict', req.interfaceId, `${req.instanceId} already has device ${req.deviceIndex} (${p.req.interfaceId})`);
        }
      }
      for (const g of this.nats.values()) {
        if (g.spec.vpcId === req.vpcId && (g.spec.mac === mac || req.privateIps.includes(g.spec.privateIp))) {
          throw new FabricError('conflict', req.interfaceId, `NAT gateway ${g.spec.natGatewayId} has ${g.spec.privateIp} (${g.spec.mac})`);
        }
      }
      this.checkSubnet(net, req.interfaceId, req.subnetId, req.subnetCidr, subnet);
      const iface = await this.failing(req.interfaceId, () => this.createInterface(net, { ...req, mac, privateIps: [...req.privateIps] }, subnet));
      return copyIface(iface);
    });
  }

  readdress(interfaceId: string, privateIps: readonly string[], ipv6?: Ipv6Addressing): Promise<PluggedInterface> {
    return this.serial(async () => {
      const p = this.plugged.get(interfaceId);
      if (!p) throw new FabricError('not-found', interfaceId, `${interfaceId} is not plugged`);
      const subnet = parseCidr4(p.req.subnetCidr)!;
      checkReaddress(p.req, privateIps, subnet);
      const was = checkIpv6(interfaceId, p.req.ipv6);
      const v6 = ipv6 === undefined ? was : checkIpv6(interfaceId, ipv6);
      for (const o of this.plugged.values()) {
        if (o === p || o.req.vpcId !== p.req.vpcId) continue;
        const dup = privateIps.find((x) => o.req.privateIps.includes(x)) ?? v6?.addresses.find((x) => o.req.ipv6?.addresses.includes(x));
        if (dup) throw new FabricError('conflict', interfaceId, `${dup} is in use by ${o.req.interfaceId} in ${p.req.vpcId}`);
      }
      const added = privateIps.filter((a) => !p.req.privateIps.includes(a));
      const removed = p.req.privateIps.filter((a) => !privateIps.includes(a));
      // public IPs mapped to an address that goes are unmapped first
      await this.unmapAll([...this.mappings.values()].filter((m) => m.interfaceId === interfaceId && removed.includes(m.privateIp)));
      // in place, inside the instance's namespace: the device (and a running guest's view of it) stays
      await this.failing(interfaceId, () =>
        ipBatch(p.iface.netns, [
          ...removed.map((a) => `addr del ${a}/${subnet.prefix} dev ${p.iface.ifname}`),
          ...added.map((a) => `addr add ${a}/${subnet.prefix} dev ${p.iface.ifname}`),
        ]),
      );
      const net = this.networks.get(p.req.vpcId)!;
      await this.failing(interfaceId, () => this.v6.address(net6(net), this.port6(net, p.req), was, v6));
      p.req = { ...p.req, privateIps: [...privateIps], ipv6: v6 && { subnetCidr: v6.subnetCidr, addresses: v6.addresses } };
      p.iface = { ...p.iface, addresses: privateIps.map((a) => `${a}/${subnet.prefix}`) };
      delete p.iface.ipv6;
      if (v6) p.iface.ipv6 = pluggedIpv6(v6)!;
      return copyIface(p.iface);
    });
  }

  unplug(interfaceId: string): Promise<void> {
    return this.serial(async () => {
      const p = this.plugged.get(interfaceId);
      if (!p) return;
      await this.failing(interfaceId, () => this.removeInterface(p, true));
    });
  }

  // ---------------------------------------------------------------- public IPs

  mapPublicIp(m: PublicIpMapping): Promise<void> {
    return this.serial(async () => {
      const pub = parseIpv4(m.publicIp);
      if (pub === undefined) throw new FabricError('invalid', m.publicIp, `malformed address ${m.publicIp}`);
      if (!ipInCidr(pub, this.pool)) throw new FabricError('invalid', m.publicIp, `${m.publicIp} is not in the public IP pool ${this.poolText}`);
      const have = this.mappings.get(m.publicIp);
      if (have) {
        if (have.privateIp === m.privateIp && have.interfaceId === m.interfaceId && have.vpcId === m.vpcId) return;
        throw new FabricError('conflict', m.publicIp, `${m.publicIp} is mapped to ${have.privateIp} (${have.interfaceId})`);
      }
      const p = this.plugged.get(m.interfaceId);
      if (!p || p.req.vpcId !== m.vpcId) throw new FabricError('not-found', m.interfaceId, `${m.interfaceId} is not plugged in ${m.vpcId}`);
      if (!p.req.privateIps.includes(m.privateIp)) throw new FabricError('not-found', m.interfaceId, `${m.interfaceId} has no address ${m.privateIp}`);
      const nat = [...this.nats.values()].find((g) => g.spec.publicIp === m.publicIp);
      if (nat) throw new FabricError('conflict', m.publicIp, `${m.publicIp} is the Elastic IP of ${nat.spec.natGatewayId}`);
      for (const other of this.mappings.values()) {
        if (other.vpcId === m.vpcId && other.privateIp === m.privateIp) {
          throw new FabricError('conflict', m.publicIp, `${m.privateIp} already has public address ${other.publicIp}`);
        }
      }
      const net = this.networks.get(m.vpcId)!;
      const mapping = { publicIp: m.publicIp, privateIp: m.privateIp, interfaceId: m.interfaceId, vpcId: m.vpcId };
      this.mappings.set(m.publicIp, mapping);
      try {
        await this.applyRules(net);
        await ip(undefined, ['route', 'replace', `${m.publicIp}/32`, 'via', net.transit.router, 'dev', net.hostIf]);
      } catch (e) {
        this.mappings.delete(m.publicIp);
        await this.applyRules(net).catch(() => {});
        throw this.asFabricError(m.publicIp, e);
      }
    });
  }

  unmapPublicIp(publicIp: string): Promise<void> {
    return this.serial(async () => {
      const m = this.mappings.get(publicIp);
      if (!m) return;
      await this.failing(publicIp, () => this.unmapAll([m]));
    });
  }

  routeIpv6(r: Ipv6Routing): Promise<void> {
    return this.serial(async () => {
      const net = this.networks.get(r.vpcId);
      if (!net) throw new FabricError('not-found', r.vpcId, `no network ${r.vpcId}`);
      const checked = checkRouting(r, this.v6.pool);
      await this.failing(r.vpcId, () => this.v6.route(net6(net), checked));
    });
  }

  // ---------------------------------------------------------------- links

  connect(link: NetworkLink): Promise<void> {
    return this.serial(async () => {
      const id = link.linkId;
      if (!validId(id)) throw new FabricError('invalid', id, `malformed link id ${id}`);
      const routes = checkLink(link, (vpcId) => {
        const n = this.networks.get(vpcId);
        return n ? this.networksOf(n) : [];
      });
      const [a, b] = link.networks.map((v) => {
        const n = this.networks.get(v);
        if (!n) throw new FabricError('not-found', v, `no network ${v}`);
        return n;
      }) as [Net, Net];
      const have = this.links.get(id);
      if (have && [...have.networks].sort().join(' ') !== [...link.networks].sort().join(' ')) {
        throw new FabricError('conflict', id, `${id} joins ${have.networks.join(' and ')}`);
      }
      const taken = new Map<string, string>();
      for (const l of this.links.values()) if (l.linkId !== id) for (const r of l.routes) taken.set(routeKey(r), l.linkId);
      for (const r of routes) {
        const other = taken.get(routeKey(r));
        if (other) throw new FabricError('conflict', id, `route ${routeKey(r)} is ${other}'s`);
      }
      const table = linkTable(id);
      for (const l of this.links.values()) {
        if (l.linkId !== id && l.table === table && l.networks.some((v) => link.networks.includes(v))) {
          throw new FabricError('failed', id, `${id} and ${l.linkId} would share routing table ${table}`);
        }
      }
      await this.failing(id, async () => {
        let made = have;
        if (!made) {
          made = await this.createLink(id, a, b);
          this.links.set(id, made);
        }
        await this.setLinkRoutes(made, routes);
        await this.applyRules(a);
        await this.applyRules(b);
      });
    });
  }

  disconnect(linkId: string): Promise<void> {
    return this.serial(async () => {
      const l = this.links.get(linkId);
      if (!l) return;
      await this.failing(linkId, async () => {
        await this.setLinkRoutes(l, []);
        const [a, b] = l.networks.map((v) => this.networks.get(v));
        if (a) await ipQuiet(a.ns, ['link', 'del', 'dev', l.ifname]);
        if (b) await ipQuiet(b.ns, ['link', 'del', 'dev', l.ifname]);
        this.links.delete(linkId);
        for (const n of [a, b]) if (n) await this.applyRules(n);
      });
    });
  }

  // ---------------------------------------------------------------- NAT gateways

  ensureNatGateway(spec: NatGatewaySpec): Promise<void> {
    return this.serial(async () => {
      const id = spec.natGatewayId;
      for (const [what, v] of [['NAT gateway', id], ['subnet', spec.subnetId]] as const) {
        if (!validId(v)) throw new FabricError('invalid', id, `malformed ${what} id ${v}`);
      }
      const routes = checkNatGateway(spec);
      if (spec.publicIp !== undefined && !ipInCidr(parseIpv4(spec.publicIp)!, this.pool)) {
        throw new FabricError('invalid', id, `${spec.publicIp} is not in the public IP pool ${this.poolText}`);
      }
      const net = this.networks.get(spec.vpcId);
      if (!net) throw new FabricError('not-found', spec.vpcId, `no network ${spec.vpcId}`);
      const want: NatGatewaySpec = { ...spec, mac: spec.mac.toLowerCase(), routes };
      const have = this.nats.get(id);
      if (have && !sameNatGateway(have.spec, want)) throw new FabricError('conflict', id, `${id} exists with ${have.spec.privateIp} in ${have.spec.subnetId}`);
      if (!have) {
        for (const p of this.plugged.values()) {
          if (p.req.vpcId === spec.vpcId && (p.iface.mac === want.mac || p.req.privateIps.includes(spec.privateIp))) {
            throw new FabricError('conflict', id, `${p.req.interfaceId} has ${spec.privateIp} or ${spec.mac}`);
          }
        }
        for (const g of this.nats.values()) {
          if (g.spec.vpcId === spec.vpcId && (g.spec.privateIp === spec.privateIp || g.spec.mac === want.mac)) {
            throw new FabricError('conflict', id, `${g.spec.natGatewayId} has ${spec.privateIp} or ${spec.mac}`);
          }
          if (spec.publicIp !== undefined && g.spec.publicIp === spec.publicIp) throw new FabricError('conflict', id, `${spec.publicIp} is ${g.spec.natGatewayId}'s`);
        }
        if (spec.publicIp !== undefined && this.mappings.has(spec.publicIp)) throw new FabricError('conflict', id, `${spec.publicIp} is mapped to ${this.mappings.get(spec.publicIp)!.privateIp}`);
        this.checkSubnet(net, id, spec.subnetId, spec.subnetCidr, parseCidr4(spec.subnetCidr)!);
      }
      for (const g of this.nats.values()) {
        if (g.spec.natGatewayId === id || g.spec.vpcId !== spec.vpcId) continue;
        const dup = routes.find((r) => g.spec.routes.some((o) => o.source === r.source && o.destination === r.destination));
        if (dup) throw new FabricError('conflict', id, `route ${dup.source} → ${dup.destination} is ${g.spec.natGatewayId}'s`);
      }
      await this.failing(id, async () => {
        let made = have;
        if (!made) {
          made = await this.createNat(net, want);
        }
        await this.setNatRoutes(net, made, routes);
      });
    });
  }

  removeNatGateway(natGatewayId: string): Promise<void> {
    return this.serial(async () => {
      const g = this.nats.get(natGatewayId);
      if (!g) return;
      await this.failing(natGatewayId, () => this.removeNat(g));
    });
  }

  // ---------------------------------------------------------------- inventory

  list(filter: { instanceId?: string } = {}): Promise<FabricInventory> {
    return this.serial(async () => {
      await this.failing('', () => this.checkLost());
      const networks = [...this.networks.values()].map((n) => ({ vpcId: n.spec.vpcId, cidrBlock: n.spec.cidrBlock }));
      const want = filter.instanceId;
      const interfaces = [...this.plugged.values()].filter((p) => want === undefined || p.req.instanceId === want).map((p) => copyIface(p.iface));
      const ids = new Set(interfaces.map((i) => i.interfaceId));
      const publicIps = [...this.mappings.values()].filter((m) => want === undefined || ids.has(m.interfaceId)).map((m) => ({ ...m }));
      const links = [...this.links.values()].map((l) => ({ linkId: l.linkId, networks: [l.networks[0], l.networks[1]] as [string, string], routes: l.routes.map((r) => ({ ...r })) }));
      const natGateways = [...this.nats.values()].map((g) => ({ ...g.spec, routes: g.spec.routes.map((r) => ({ ...r })) }));
      const ipv6Routing = this.v6.list();
      return { networks, interfaces, publicIps, links, natGateways, ...(ipv6Routing.length > 0 ? { ipv6Routing } : {}) };
    });
  }

  async close(): Promise<void> {
    await this.chain.catch(() => {});
    this.closed = true;
  }

  /** Removes everything this prefix has on the host (for `overcast host reset` and tests); works after close. */
  async destroy(): Promise<void> {
    const work = this.chain.catch(() => {}).then(() => destroyPrefix(this.prefix));
    this.chain = work.catch(() => {});
    await work;
    this.networks.clear();
    this.plugged.clear();
    this.mappings.clear();
    this.links.clear();
    this.nats.clear();
    this.v6.reset();
    this.loaded = true;
    this.hostTablesApplied = false;
  }

  // ---------------------------------------------------------------- internals

  /** One operation at a time, after the books are loaded from the kernel. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const lost: FabricEvent[] = [];
    const work = this.chain
      .catch(() => {})
      .then(async () => {
        if (this.closed) throw new FabricError('failed', '', 'the netns fabric is closed');
        if (!this.loaded) {
          await this.failing('', () => this.scan());
          this.loaded = true;
        }
        this.pendingLost = lost;
        try {
          return await fn();
        } finally {
          this.pendingLost = undefined;
        }
      });
    this.chain = work.catch(() => {});
    return work.finally(() => {
      for (const e of lost) this.emitter.emit(e);
    });
  }
  private pendingLost: FabricEvent[] | undefined;

  private async failing<T>(subject: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw this.asFabricError(subject, e);
    }
  }

  private asFabricError(subject: string, e: unknown): FabricError {
    if (e instanceof FabricError) return e;
    if (e instanceof CommandError) return new FabricError('failed', subject, e.message);
    return new FabricError('failed', subject, e instanceof Error ? e.message : String(e));
  }

  private info(n: Net): NetworkInfo {
    return { vpcId: n.spec.vpcId, cidrBlock: n.spec.cidrBlock, serviceAddress: n.transit.host, serviceAddress6: this.v6.serviceAddress(n.transit.slot) };
  }

  /** Where an interface is, for its IPv6 side. */
  private port6(net: Net, req: PlugRequest): Parameters<NetnsIpv6['address']>[1] {
    return { subnetId: req.subnetId, bridge: net.subnets.get(req.subnetId)!.bridge, ins: instanceNs(this.prefix, req.instanceId), eth: `eth${req.deviceIndex}`, mac: req.mac, deviceIndex: req.deviceIndex };
  }

  /** The VPC CIDR and the subnets outside it: what its router calls its own. */
  private networksOf(n: Net): string[] {
    const vpc = parseCidr4(n.spec.cidrBlock)!;
    const out = [`${formatIpv4(networkAddress(vpc))}/${vpc.prefix}`];
    for (const s of n.subnets.values()) if (!contains(vpc, s.parsed)) out.push(`${formatIpv4(networkAddress(s.parsed))}/${s.parsed.prefix}`);
    return out;
  }

  private rulesFor(n: Net): string {
    const vpc = parseCidr4(n.spec.cidrBlock)!;
    return routerRuleset({
      networks: this.networksOf(n),
      publicPool: this.poolText,
      serviceAddress: n.transit.host,
      metadataPort: this.metadataPort,
      dnsPort: this.dnsPort,
      vpcDns: formatIpv4(networkAddress(vpc) + 2),
      mappings: [
        ...[...this.mappings.values()].filter((m) => m.vpcId === n.spec.vpcId),
        ...this.natsOf(n).flatMap((g) => (g.spec.publicIp !== undefined ? [{ publicIp: g.spec.publicIp, privateIp: g.spec.privateIp }] : [])),
      ],
      natGateways: this.natsOf(n).map((g) => g.spec.privateIp),
      egress: this.egress,
      links: [...this.links.values()]
        .filter((l) => l.networks.includes(n.spec.vpcId))
        .map((l) => {
          const peer = this.networks.get(l.networks[0] === n.spec.vpcId ? l.networks[1] : l.networks[0]);
          const sent = l.routes.filter((r) => r.vpcId === n.spec.vpcId).map((r) => r.destination);
          return { ifname: l.ifname, blocks: [...(peer ? this.networksOf(peer) : []), ...sent] };
        }),
    });
  }

  /** The veth of a link, an end in each router, each with a permanent neighbour for LINK_GATEWAY (the other end's MAC) and the link's table routing there. */
  private async createLink(linkId: string, a: Net, b: Net): Promise<Link> {
    const ifname = linkIfname(linkId);
    const table = linkTable(linkId);
    // a half-made earlier try is made again from scratch
    await ipQuiet(a.ns, ['link', 'del', 'dev', ifname]);
    await ipQuiet(b.ns, ['link', 'del', 'dev', ifname]);
    const macA = linkMac(linkId, a.spec.vpcId);
    const macB = linkMac(linkId, b.spec.vpcId);
    try {
      await ipBatch(a.ns, [`link add ${ifname} address ${macA} mtu ${MTU} type veth peer name ${ifname} address ${macB} mtu ${MTU} netns ${b.ns}`]);
      for (const [n, peerMac] of [[a, macB], [b, macA]] as const) {
        await ipBatch(n.ns, [
          `link set ${ifname} up`,
          `neigh replace ${LINK_GATEWAY} lladdr ${peerMac} dev ${ifname} nud permanent`,
          `route replace default via ${LINK_GATEWAY} dev ${ifname} onlink table ${table}`,
        ]);
      }
      // the aliases last: a link without them is not adopted by scan()
      await ip(a.ns, ['link', 'set', 'dev', ifname, 'alias', linkAlias(this.prefix, { linkId, peerVpcId: b.spec.vpcId })]);
      await ip(b.ns, ['link', 'set', 'dev', ifname, 'alias', linkAlias(this.prefix, { linkId, peerVpcId: a.spec.vpcId })]);
    } catch (e) {
      await ipQuiet(a.ns, ['link', 'del', 'dev', ifname]);
      await ipQuiet(b.ns, ['link', 'del', 'dev', ifname]);
      throw e;
    }
    return { linkId, networks: [a.spec.vpcId, b.spec.vpcId], ifname, table, routes: [] };
  }

  /** The link's ip rules made what `routes` says (in each sender's router): the ones no longer given deleted, the new ones added. */
  private async setLinkRoutes(l: Link, routes: LinkRoute[]): Promise<void> {
    const want = new Set(routes.map(routeKey));
    const have = new Set(l.routes.map(routeKey));
    const rule = (r: LinkRoute) => `pref ${linkRulePriority(Number(r.destination.split('/')[1]))} from ${r.source} to ${r.destination} lookup ${l.table}`;
    for (const r of l.routes.filter((x) => !want.has(routeKey(x)))) {
      const n = this.networks.get(r.vpcId);
      if (n) await ipQuiet(n.ns, ['rule', 'del', ...rule(r).split(' ')]);
      l.routes = l.routes.filter((x) => routeKey(x) !== routeKey(r));
    }
    for (const r of routes.filter((x) => !have.has(routeKey(x)))) {
      const n = this.networks.get(r.vpcId)!;
      // a rule left by an earlier try that did not finish is not added twice
      await ipQuiet(n.ns, ['rule', 'del', ...rule(r).split(' ')]);
      await ip(n.ns, ['rule', 'add', ...rule(r).split(' ')]);
      l.routes.push({ ...r });
    }
  }

  private async applyRules(n: Net): Promise<void> {
    await nftApply(n.ns, this.rulesFor(n));
  }

  private async createNetwork(spec: NetworkSpec): Promise<Net> {
    const ns = routerNs(this.prefix, spec.vpcId);
    const hostIf = transitIfname(this.prefix, spec.vpcId);
    const vpc = parseCidr4(spec.cidrBlock)!;
    const vpcText = `${formatIpv4(networkAddress(vpc))}/${vpc.prefix}`;
    const tried = new Set<number>();
    for (let attempt = 0; attempt < 8; attempt++) {
      // a half-made network (no alias yet) is redone from scratch
      const hostLinks = await listLinks(undefined);
      const stale = hostLinks.find((l) => l.ifname === hostIf);
      if (stale) await this.teardownNetwork(ns, hostIf, slotFromLink(stale));
      else await delNetns(ns);
      const slot = freeSlot(hostLinks.filter((l) => l.ifname !== hostIf), preferredSlot(spec.vpcId), tried);
      tried.add(slot);
      const t = transitSlot(slot);
      const n: Net = { spec, transit: t, ns, hostIf, subnets: new Map() };
      await addNetns(ns);
      await ipBatch(undefined, [
        `link add ${hostIf} mtu ${MTU} type veth peer name ${UPLINK} mtu ${MTU} netns ${ns}`,
        `addr add ${t.host}/30 dev ${hostIf}`,
        `link set ${hostIf} up`,
      ]);
      await ipBatch(ns, [
        'link set lo up',
        `addr add ${formatIpv4(networkAddress(vpc) + 2)}/32 dev lo`,
        `addr add ${t.router}/30 dev ${UPLINK}`,
        `link set ${UPLINK} up`,
        `route replace default via ${t.host} dev ${UPLINK}`,
        // a VPC address no subnet holds is unreachable, never sent up to the host
        `route replace unreachable ${vpcText}`,
      ]);
      await sysctlInNs(ns, 'net.ipv4.ip_forward', '1');
      await this.applyRules(n);
      await ipQuiet(undefined, ['rule', 'del', 'pref', String(this.rulePref), 'from', `${t.host}/32`, 'lookup', String(t.table)]);
      await ipBatch(undefined, [
        `route replace ${vpcText} via ${t.router} dev ${hostIf} onlink table ${t.table}`,
        `rule add pref ${this.rulePref} from ${t.host}/32 lookup ${t.table}`,
      ]);
      await this.applyHostTables();
      // another process may have taken the same /30 at the same time: the later name moves
      const clash = (await listLinks(undefined)).find((l) => l.ifname !== hostIf && l.ifname < hostIf && l.inet.some((a) => slotOfText(a) === slot));
      if (clash) {
        await this.teardownNetwork(ns, hostIf, t);
        continue;
      }
      await ip(undefined, ['link', 'set', 'dev', hostIf, 'alias', netAlias(this.prefix, spec)]);
      return n;
    }
    throw new FabricError('failed', spec.vpcId, 'could not find a free transit address');
  }

  /** Egress off: the guard table (and no egress table); on: the egress table (and no guard). */
  private async applyHostTables(): Promise<void> {
    if (this.hostTablesApplied) return;
    await nftApply(
      undefined,
      this.egress
        ? hostEgressRuleset(this.prefix, this.poolText) + deleteTableScript(hostGuardTable(this.prefix))
        : hostGuardRuleset(this.prefix, this.poolText) + deleteTableScript(hostEgressTable(this.prefix)),
    );
    // IPv6 never leaves the machine, egress or not
    await nftApply(undefined, this.v6.hostScript());
    this.hostTablesApplied = true;
  }
  private hostTablesApplied = false;

  private async teardownNetwork(ns: string, hostIf: string, t: TransitAddresses | undefined): Promise<void> {
    if (t) await ipQuiet(undefined, ['rule', 'del', 'pref', String(this.rulePref), 'from', `${t.host}/32`, 'lookup', String(t.table)]);
    // the host side first: a namespace is deleted asynchronously, its veths with it
    await ipQuiet(undefined, ['link', 'del', 'dev', hostIf]);
    await delNetns(ns);
  }

  private async createInterface(net: Net, req: PlugRequest, subnet: Cidr4): Promise<PluggedInterface> {
    const ns = net.ns;
    const ins = instanceNs(this.prefix, req.instanceId);
    const port = portName(req.interfaceId);
    const eth = `eth${req.deviceIndex}`;
    const gateway = formatIpv4(networkAddress(subnet) + 1);
    let sn = net.subnets.get(req.subnetId);
    const newSubnet = !sn;
    const instanceHadNics = [...this.plugged.values()].some((p) => p.req.instanceId === req.instanceId);
    try {
      if (!sn) sn = await this.addSubnet(net, req.subnetId, req.subnetCidr, subnet);
      const newNs = !instanceHadNics && !netnsExists(ins);
      if (newNs) await addNetns(ins);
      // the port with its alias in one batch (ids are validated: the alias is plain words); a port
      // (or, in an older namespace, its peer) left by a half-made earlier try is removed and the batch
      // run again. scan() adopts a port only once its peer inside has its addresses.
      const bridge = sn.bridge;
      const portLines = [
        `link add ${port} mtu ${MTU} type veth peer name ${eth} address ${req.mac} mtu ${MTU} netns ${ins}`,
        `link set ${port} master ${bridge}`,
        `link set ${port} up`,
        `link set dev ${port} alias "${portAlias(this.prefix, req)}"`,
        // the router learns the new MAC of each address now: an address given up by a terminated
        // instance and reused keeps the old MAC in the router's neighbour table until the guest
        // speaks first, and a connection that comes before that loses its SYN (a 1 s retransmit)
        ...req.privateIps.map((a) => `neigh replace ${a} lladdr ${req.mac} dev ${bridge} nud stale`),
      ];
      try {
        await ipBatch(ns, portLines);
      } catch (e) {
        if (!(e instanceof CommandError)) throw e;
        await ipQuiet(ns, ['link', 'del', 'dev', port]);
        if (!newNs) await ipQuiet(ins, ['link', 'del', 'dev', eth]);
        await ipBatch(ns, portLines);
      }
      await ipBatch(ins, [
        'link set lo up',
        ...req.privateIps.map((a) => `addr add ${a}/${subnet.prefix} dev ${eth}`),
        `link set ${eth} up`,
        ...(req.deviceIndex === 0 ? [`route replace default via ${gateway} dev ${eth}`] : []),
      ]);
      await this.v6.address(net6(net), this.port6(net, req), undefined, checkIpv6(req.interfaceId, req.ipv6));
    } catch (e) {
      await ipQuiet(ns, ['link', 'del', 'dev', port]);
      if (!instanceHadNics) await delNetns(ins);
      if (newSubnet && sn) await this.removeSubnet(net, sn).catch(() => {});
      throw e;
    }
    const iface: PluggedInterface = {
      interfaceId: req.interfaceId,
      instanceId: req.instanceId,
      vpcId: req.vpcId,
      subnetId: req.subnetId,
      deviceIndex: req.deviceIndex,
      netns: ins,
      ifname: eth,
      hostIfname: port,
      hostNetns: ns,
      mac: req.mac,
      addresses: req.privateIps.map((a) => `${a}/${subnet.prefix}`),
      gateway,
      mtu: MTU,
    };
    const v6 = pluggedIpv6(checkIpv6(req.interfaceId, req.ipv6));
    if (v6) iface.ipv6 = v6;
    this.plugged.set(req.interfaceId, { req, iface });
    return iface;
  }

  /** Refuses a subnet that contradicts the network's bridges: the same id with another CIDR, or a new one overlapping another. */
  private checkSubnet(net: Net, subject: string, subnetId: string, subnetCidr: string, subnet: Cidr4): void {
    const sn = net.subnets.get(subnetId);
    if (sn && sn.cidr !== subnetCidr) throw new FabricError('conflict', subject, `subnet ${subnetId} is plugged with ${sn.cidr}`);
    if (!sn) {
      for (const o of net.subnets.values()) {
        if (overlaps(o.parsed, subnet)) throw new FabricError('conflict', subject, `${subnetCidr} overlaps subnet ${o.subnetId} (${o.cidr})`);
      }
    }
  }

  /** A subnet's bridge in the router, holding its gateway (first usable address); its alias last. */
  private async addSubnet(net: Net, subnetId: string, subnetCidr: string, subnet: Cidr4): Promise<Subnet> {
    const ns = net.ns;
    const bridge = bridgeName(subnetId);
    const gateway = formatIpv4(networkAddress(subnet) + 1);
    await ipQuiet(ns, ['link', 'del', 'dev', bridge]);
    await ipBatch(ns, [
      `link add ${bridge} mtu ${MTU} type bridge`,
      `addr add ${gateway}/${subnet.prefix} dev ${bridge}`,
      `link set ${bridge} up`,
    ]);
    const sn: Subnet = { subnetId, cidr: subnetCidr, parsed: subnet, bridge };
    net.subnets.set(subnetId, sn);
    if (!contains(parseCidr4(net.spec.cidrBlock)!, subnet)) {
      await this.applyRules(net);
      await this.syncNatTables(net);
      await ip(undefined, ['route', 'replace', this.networksOf(net).at(-1)!, 'via', net.transit.router, 'dev', net.hostIf, 'onlink', 'table', String(net.transit.table)]);
    }
    await ip(ns, ['link', 'set', 'dev', bridge, 'alias', subnetAlias(this.prefix, { subnetId, subnetCidr })]);
    return sn;
  }

  /** Whether a subnet's bridge still has a user: an interface plugged in it, or a NAT gateway. */
  private subnetInUse(vpcId: string, subnetId: string): boolean {
    return (
      [...this.plugged.values()].some((o) => o.req.vpcId === vpcId && o.req.subnetId === subnetId) ||
      [...this.nats.values()].some((g) => g.spec.vpcId === vpcId && g.spec.subnetId === subnetId)
    );
  }

  private natsOf(n: Net): Nat[] {
    return [...this.nats.values()].filter((g) => g.spec.vpcId === n.spec.vpcId);
  }

  /** What a NAT gateway's table routes: the network's own CIDRs and its service address stay local (throw), the rest goes via the gateway. */
  private natTableLines(net: Net, g: Nat): string[] {
    const sn = net.subnets.get(g.spec.subnetId)!;
    return [
      `route replace default via ${g.spec.privateIp} dev ${sn.bridge} table ${g.table}`,
      ...[...this.networksOf(net), `${net.transit.host}/32`].map((c) => `route replace throw ${c} table ${g.table}`),
    ];
  }

  /** The NAT gateways' tables made again (the network's own CIDRs changed: a subnet outside the VPC CIDR came or went). */
  private async syncNatTables(net: Net): Promise<void> {
    for (const g of this.natsOf(net)) {
      await ipQuiet(net.ns, ['route', 'flush', 'table', String(g.table)]);
      await ipBatch(net.ns, this.natTableLines(net, g));
    }
  }

  /**
   * A NAT gateway's namespace (eth0 with its MAC and address on the subnet's bridge, default
   * route via the subnet's gateway, forwarding, its rule set), its table in the router, its
   * Elastic IP mapped (router rules, host route); the port's alias last: scan() adopts it by that.
   */
  private async createNat(net: Net, spec: NatGatewaySpec): Promise<Nat> {
    const id = spec.natGatewayId;
    const subnet = parseCidr4(spec.subnetCidr)!;
    const gns = instanceNs(this.prefix, id);
    const port = portName(id);
    const table = natTable(id);
    for (const g of this.nats.values()) {
      if (g.table === table && g.spec.vpcId === spec.vpcId) throw new FabricError('failed', id, `${id} and ${g.spec.natGatewayId} would share routing table ${table}`);
    }
    // a half-made earlier try is made again from scratch
    await this.purgeNatLeftovers(net, id);
    let sn = net.subnets.get(spec.subnetId);
    const newSubnet = !sn;
    // no routes yet: setNatRoutes adds them
    const g: Nat = { spec: { ...spec, routes: [] }, ns: gns, port, table };
    try {
      if (!sn) sn = await this.addSubnet(net, spec.subnetId, spec.subnetCidr, subnet);
      await addNetns(gns);
      await ipBatch(net.ns, [
        `link add ${port} mtu ${MTU} type veth peer name eth0 address ${spec.mac} mtu ${MTU} netns ${gns}`,
        `link set ${port} master ${sn.bridge}`,
        `link set ${port} up`,
        `neigh replace ${spec.privateIp} lladdr ${spec.mac} dev ${sn.bridge} nud stale`,
      ]);
      await ipBatch(gns, [
        'link set lo up',
        `addr add ${spec.privateIp}/${subnet.prefix} dev eth0`,
        'link set eth0 up',
        `route replace default via ${formatIpv4(networkAddress(subnet) + 1)} dev eth0`,
      ]);
      await sysctlInNs(gns, 'net.ipv4.ip_forward', '1');
      await sysctlInNs(gns, 'net.ipv4.conf.all.send_redirects', '0');
      await sysctlInNs(gns, 'net.ipv4.conf.eth0.send_redirects', '0');
      await nftApply(gns, natGatewayRuleset(spec.privateIp));
      this.nats.set(id, g);
      await ipBatch(net.ns, this.natTableLines(net, g));
      await this.applyRules(net);
      if (spec.publicIp !== undefined) await ip(undefined, ['route', 'replace', `${spec.publicIp}/32`, 'via', net.transit.router, 'dev', net.hostIf]);
      await ip(net.ns, ['link', 'set', 'dev', port, 'alias', natAlias(this.prefix, spec)]);
    } catch (e) {
      this.nats.delete(id);
      await this.purgeNatLeftovers(net, id).catch(() => {});
      if (spec.publicIp !== undefined) await ipQuiet(undefined, ['route', 'del', `${spec.publicIp}/32`, 'dev', net.hostIf]);
      await this.applyRules(net).catch(() => {});
      if (newSubnet && sn && !this.subnetInUse(spec.vpcId, spec.subnetId)) await this.removeSubnet(net, sn).catch(() => {});
      throw e;
    }
    return g;
  }

  /** What a NAT gateway of that id may have left in the router and on the host: its rules, table, port and namespace. */
  private async purgeNatLeftovers(net: Net, id: string): Promise<void> {
    const table = String(natTable(id));
    for (const r of (await listRulesIn(net.ns).catch(() => [])).filter((x) => String(x.table) === table)) {
      await ipQuiet(net.ns, ['rule', 'del', 'pref', String(r.priority), 'lookup', table]);
    }
    await ipQuiet(net.ns, ['route', 'flush', 'table', table]);
    await ipQuiet(net.ns, ['link', 'del', 'dev', portName(id)]);
    await delNetns(instanceNs(this.prefix, id));
  }

  /** The gateway's ip rules made what `routes` says: the ones no longer given deleted, the new ones added. */
  private async setNatRoutes(net: Net, g: Nat, routes: NatRoute[]): Promise<void> {
    const key = (r: NatRoute) => `${r.source} ${r.destination}`;
    const want = new Set(routes.map(key));
    const have = new Set(g.spec.routes.map(key));
    const rule = (r: NatRoute) => `pref ${linkRulePriority(Number(r.destination.split('/')[1]))} from ${r.source} to ${r.destination} lookup ${g.table}`.split(' ');
    for (const r of g.spec.routes.filter((x) => !want.has(key(x)))) {
      await ipQuiet(net.ns, ['rule', 'del', ...rule(r)]);
      g.spec = { ...g.spec, routes: g.spec.routes.filter((x) => key(x) !== key(r)) };
    }
    for (const r of routes.filter((x) => !have.has(key(x)))) {
      await ipQuiet(net.ns, ['rule', 'del', ...rule(r)]);
      await ip(net.ns, ['rule', 'add', ...rule(r)]);
      g.spec = { ...g.spec, routes: [...g.spec.routes, { ...r }] };
    }
  }

  /** Takes a NAT gateway away: its routes first (what went to it has no path), its Elastic IP, its namespace; its subnet's bridge when left empty. */
  private async removeNat(g: Nat): Promise<void> {
    const net = this.networks.get(g.spec.vpcId);
    if (net) await this.setNatRoutes(net, g, []);
    this.nats.delete(g.spec.natGatewayId);
    if (!net) return;
    await this.purgeNatLeftovers(net, g.spec.natGatewayId);
    await this.applyRules(net);
    if (g.spec.publicIp !== undefined) await ipQuiet(undefined, ['route', 'del', `${g.spec.publicIp}/32`, 'dev', net.hostIf]);
    const sn = net.subnets.get(g.spec.subnetId);
    if (sn && !this.subnetInUse(g.spec.vpcId, g.spec.subnetId)) await this.removeSubnet(net, sn);
  }

  /** Unplugs: its public IPs, its veth (router side), then its instance namespace and subnet bridge when they are left empty. */
  private async removeInterface(p: Plug, deleteVeth: boolean): Promise<void> {
    const net = this.networks.get(p.req.vpcId);
    await this.unmapAll([...this.mappings.values()].filter((m) => m.interfaceId === p.req.interfaceId));
    if (net && deleteVeth) await ipQuiet(net.ns, ['link', 'del', 'dev', p.iface.hostIfname]);
    this.plugged.delete(p.req.interfaceId);
    const rest = [...this.plugged.values()];
    if (!rest.some((o) => o.req.instanceId === p.req.instanceId)) await delNetns(p.iface.netns);
    const sn = net?.subnets.get(p.req.subnetId);
    if (net && sn && !this.subnetInUse(p.req.vpcId, p.req.subnetId)) await this.removeSubnet(net, sn);
  }

  private async removeSubnet(net: Net, sn: Subnet): Promise<void> {
    const outside = !contains(parseCidr4(net.spec.cidrBlock)!, sn.parsed);
    net.subnets.delete(sn.subnetId);
    await ipQuiet(net.ns, ['link', 'del', 'dev', sn.bridge]);
    await this.v6.forgetSubnet(net6(net), sn.subnetId);
    if (outside) {
      await ipQuiet(undefined, ['route', 'del', `${formatIpv4(networkAddress(sn.parsed))}/${sn.parsed.prefix}`, 'table', String(net.transit.table)]);
      await this.applyRules(net);
      await this.syncNatTables(net);
    }
  }

  private async unmapAll(ms: PublicIpMapping[]): Promise<void> {
    if (ms.length === 0) return;
    for (const m of ms) this.mappings.delete(m.publicIp);
    for (const vpcId of new Set(ms.map((m) => m.vpcId))) {
      const net = this.networks.get(vpcId);
      if (!net) continue;
      await this.applyRules(net);
      for (const m of ms.filter((x) => x.vpcId === vpcId)) await ipQuiet(undefined, ['route', 'del', `${m.publicIp}/32`, 'dev', net.hostIf]);
    }
  }

  /** Interfaces whose bridge port vanished behind the fabric's back: forgotten, reported as 'lost'. */
  private async checkLost(): Promise<void> {
    for (const net of this.networks.values()) {
      const mine = [...this.plugged.values()].filter((p) => p.req.vpcId === net.spec.vpcId);
      if (mine.length === 0) continue;
      let names: Set<string>;
      try {
        names = await linkNames(net.ns);
      } catch {
        names = new Set();
      }
      for (const p of mine) {
        if (names.has(p.iface.hostIfname)) continue;
        await this.removeInterface(p, false);
        this.pendingLost?.push({ interfaceId: p.req.interfaceId, instanceId: p.req.instanceId, kind: 'lost' });
      }
    }
  }

  /** Rebuilds the books from the kernel (a restarted server finds what it made). */
  private async scan(): Promise<void> {
    this.networks.clear();
    this.plugged.clear();
    this.mappings.clear();
    this.links.clear();
    this.nats.clear();
    this.v6.reset();
    const ends: { linkId: string; peerVpcId: string; vpcId: string; ns: string }[] = [];
    const namespaces = new Set(await listNetns());
    for (const l of await listLinks(undefined)) {
      if (!isTransitIfname(this.prefix, l.ifname)) continue;
      const a = parseNetAlias(this.prefix, l.ifalias);
      const t = slotFromLink(l);
      const ns = a && routerNs(this.prefix, a.vpcId);
      if (!a || !t || !ns || !namespaces.has(ns) || transitIfname(this.prefix, a.vpcId) !== l.ifname || !parseCidr4(a.cidrBlock)) continue;
      const net: Net = { spec: { vpcId: a.vpcId, cidrBlock: a.cidrBlock }, transit: t, ns, hostIf: l.ifname, subnets: new Map() };
      this.networks.set(a.vpcId, net);
      const links = await listLinks(ns);
      const bridgeOf = new Map<string, Subnet>();
      for (const b of links) {
        const s = b.kind === 'bridge' ? parseSubnetAlias(this.prefix, b.ifalias) : undefined;
        const parsed = s && parseCidr4(s.subnetCidr);
        if (!s || !parsed) continue;
        const sn: Subnet = { subnetId: s.subnetId, cidr: s.subnetCidr, parsed, bridge: b.ifname };
        net.subnets.set(s.subnetId, sn);
        bridgeOf.set(b.ifname, sn);
      }
      await this.v6.adopt(net6(net), [...bridgeOf].map(([name, sn]) => ({ subnetId: sn.subnetId, inet6: links.find((l) => l.ifname === name)?.inet6 ?? [] })));
      const inside = new Map<string, LinkInfo[]>();
      for (const port of links) {
        const pa = parsePortAlias(this.prefix, port.ifalias);
        const sn = port.master !== undefined ? bridgeOf.get(port.master) : undefined;
        if (!pa || !sn || sn.subnetId !== pa.subnetId || portName(pa.interfaceId) !== port.ifname) continue;
        const ins = instanceNs(this.prefix, pa.instanceId);
        if (!namespaces.has(ins)) continue;
        let insLinks = inside.get(ins);
        if (!insLinks) inside.set(ins, (insLinks = await listLinks(ins).catch(() => [])));
        const eth = insLinks.find((x) => x.ifname === `eth${pa.deviceIndex}`);
        // a port whose plug did not finish (no addresses inside yet) is not adopted: the next plug makes it afresh
        if (!eth?.address || eth.inet.length === 0) continue;
        const privateIps = eth.inet.map((x) => x.split('/')[0]!);
        const req: PlugRequest = { ...pa, vpcId: a.vpcId, subnetCidr: sn.cidr, mac: eth.address.toLowerCase(), privateIps };
        const v6 = this.v6.adoptInterface(a.vpcId, sn.subnetId, eth.inet6);
        if (v6) req.ipv6 = { subnetCidr: v6.subnetCidr, addresses: v6.addresses };
        this.plugged.set(pa.interfaceId, {
          req,
          iface: {
            interfaceId: pa.interfaceId,
            instanceId: pa.instanceId,
            vpcId: a.vpcId,
            subnetId: pa.subnetId,
            deviceIndex: pa.deviceIndex,
            netns: ins,
            ifname: eth.ifname,
            hostIfname: port.ifname,
            hostNetns: ns,
            mac: req.mac,
            addresses: privateIps.map((x) => `${x}/${sn.parsed.prefix}`),
            gateway: formatIpv4(networkAddress(sn.parsed) + 1),
            mtu: MTU,
            ...(v6 ? { ipv6: pluggedIpv6(v6)! } : {}),
          },
        });
      }
      for (const [pub, priv] of await nftMapElements(ns, NAT_TABLE, 'pub2priv')) {
        const owner = [...this.plugged.values()].find((p) => p.req.vpcId === a.vpcId && p.req.privateIps.includes(priv));
        if (owner) this.mappings.set(pub, { publicIp: pub, privateIp: priv, interfaceId: owner.req.interfaceId, vpcId: a.vpcId });
      }
      for (const l of links) {
        const la = parseLinkAlias(this.prefix, l.ifalias);
        if (la && linkIfname(la.linkId) === l.ifname) ends.push({ ...la, vpcId: a.vpcId, ns });
      }
      await this.adoptNats(net, links, bridgeOf, namespaces);
    }
    await this.adoptLinks(ends);
  }

  /**
   * NAT gateways whose port (with its alias) is on its subnet's bridge and whose namespace has
   * its address are adopted with the routes their rules hold; one half made is left for the next
   * ensureNatGateway to make afresh (or the reconciler to remove).
   */
  private async adoptNats(net: Net, links: LinkInfo[], bridgeOf: ReadonlyMap<string, Subnet>, namespaces: ReadonlySet<string>): Promise<void> {
    let rules: Awaited<ReturnType<typeof listRulesIn>> | undefined;
    for (const port of links) {
      const na = parseNatAlias(this.prefix, port.ifalias);
      const sn = port.master !== undefined ? bridgeOf.get(port.master) : undefined;
      if (!na || !sn || sn.subnetId !== na.subnetId || portName(na.natGatewayId) !== port.ifname) continue;
      const gns = instanceNs(this.prefix, na.natGatewayId);
      if (!namespaces.has(gns)) continue;
      const eth = (await listLinks(gns).catch(() => [])).find((x) => x.ifname === 'eth0');
      if (!eth?.address || eth.inet.length === 0) continue;
      const table = natTable(na.natGatewayId);
      rules ??= await listRulesIn(net.ns).catch(() => []);
      const routes: NatRoute[] = rules
        .filter((r) => String(r.table) === String(table) && r.src !== undefined && r.src !== 'all')
        // a rule to 0.0.0.0/0 is listed without a destination
        .map((r) => ({ source: `${r.src}/${r.srclen ?? 32}`, destination: r.dst === undefined ? '0.0.0.0/0' : `${r.dst}/${r.dstlen ?? 32}` }));
      const spec: NatGatewaySpec = {
        natGatewayId: na.natGatewayId,
        vpcId: net.spec.vpcId,
        subnetId: sn.subnetId,
        subnetCidr: sn.cidr,
        mac: eth.address.toLowerCase(),
        privateIp: eth.inet[0]!.split('/')[0]!,
        ...(na.publicIp !== undefined ? { publicIp: na.publicIp } : {}),
        routes,
      };
      this.nats.set(na.natGatewayId, { spec, ns: gns, port: port.ifname, table });
    }
  }

  /**
   * Links whose two ends are found (each naming the other's network) are adopted with the
   * routes their rules hold; a lone end (the other router gone, or a link half made) is removed.
   */
  private async adoptLinks(ends: { linkId: string; peerVpcId: string; vpcId: string; ns: string }[]): Promise<void> {
    const rulesOf = new Map<string, Awaited<ReturnType<typeof listRulesIn>>>();
    const rules = async (ns: string) => {
      let r = rulesOf.get(ns);
      if (!r) rulesOf.set(ns, (r = await listRulesIn(ns).catch(() => [])));
      return r;
    };
    for (const e of ends) {
      if (this.links.has(e.linkId)) continue;
      const other = ends.find((o) => o !== e && o.linkId === e.linkId && o.vpcId === e.peerVpcId && o.peerVpcId === e.vpcId);
      const ifname = linkIfname(e.linkId);
      const table = linkTable(e.linkId);
      if (!other) {
        for (const r of (await rules(e.ns)).filter((x) => x.table === String(table))) await ipQuiet(e.ns, ['rule', 'del', 'pref', String(r.priority), 'lookup', r.table]);
        await ipQuiet(e.ns, ['link', 'del', 'dev', ifname]);
        continue;
      }
      const routes: LinkRoute[] = [];
      for (const side of [e, other]) {
        for (const r of await rules(side.ns)) {
          if (r.table !== String(table) || r.src === undefined || r.dst === undefined) continue;
          routes.push({ vpcId: side.vpcId, source: `${r.src}/${r.srclen ?? 32}`, destination: `${r.dst}/${r.dstlen ?? 32}` });
        }
      }
      this.links.set(e.linkId, { linkId: e.linkId, networks: [e.vpcId, other.vpcId], ifname, table, routes });
    }
  }
}

function copyIface(i: PluggedInterface): PluggedInterface {
  const out = { ...i, addresses: [...i.addresses] };
  if (i.ipv6) out.ipv6 = { ...i.ipv6, addresses: [...i.ipv6.addresses] };
  return out;
}

const net6 = (n: Net): Net6 => ({ vpcId: n.spec.vpcId, ns: n.ns, hostIf: n.hostIf, slot: n.transit.slot });

function slotOfText(cidr: string): number | undefined {
  const a = parseIpv4(cidr.split('/')[0]!);
  return a === undefined ? undefined : slotOf(a);
}

function slotFromLink(l: LinkInfo): TransitAddresses | undefined {
  for (const a of l.inet) {
    const s = slotOfText(a);
    if (s !== undefined && a.endsWith('/30') && transitSlot(s).host === a.split('/')[0]) return transitSlot(s);
  }
  return undefined;
}

/** The first /30 of 100.127.0.0/16 from `start` that no host link uses. */
function freeSlot(hostLinks: LinkInfo[], start: number, skip: ReadonlySet<number>): number {
  const used = new Set<number>(skip);
  for (const l of hostLinks) for (const a of l.inet) {
    const s = slotOfText(a);
    if (s !== undefined) used.add(s);
  }
  for (let i = 0; i < TRANSIT_SLOTS; i++) {
    const s = (start + i) % TRANSIT_SLOTS;
    if (!used.has(s)) return s;
  }
  throw new FabricError('failed', '', 'no free transit address in 100.127.0.0/16');
}

function samePlug(a: PlugRequest, b: PlugRequest): boolean {
  return (
    a.instanceId === b.instanceId &&
    a.vpcId === b.vpcId &&
    a.subnetId === b.subnetId &&
    a.subnetCidr === b.subnetCidr &&
    a.mac.toLowerCase() === b.mac.toLowerCase() &&
    a.deviceIndex === b.deviceIndex &&
    a.privateIps.join(',') === b.privateIps.join(',') &&
    sameIpv6(checkIpv6('', a.ipv6), checkIpv6('', b.ipv6))
  );
}

// ---------------------------------------------------------------- the whole prefix

/** Removes every namespace, transit link, ip rule and host table of the prefix. */
async function destroyPrefix(prefix: string): Promise<void> {
  for (const l of await listLinks(undefined)) {
    if (isTransitIfname(prefix, l.ifname) || parseNetAlias(prefix, l.ifalias)) await ipQuiet(undefined, ['link', 'del', 'dev', l.ifname]);
  }
  const namespaces = (await listNetns()).filter((n) => isOwnNs(prefix, n));
  // routers first (their veths go with them), then instances
  for (const n of namespaces.filter((x) => isRouterNs(prefix, x))) await delNetns(n);
  for (const n of namespaces.filter((x) => !isRouterNs(prefix, x))) await delNetns(n);
  for (const r of await ownRules(prefix)) await ipQuiet(undefined, ['rule', 'del', 'pref', String(r.priority), 'from', `${r.src}/32`, 'lookup', r.table]);
  for (const t of [hostEgressTable(prefix), hostGuardTable(prefix)]) if (await hostNftTableExists(t)) await nftApply(undefined, deleteTableScript(t));
  await destroyIpv6(prefix);
}

async function ownRules(prefix: string): Promise<{ priority: number; src: string; table: string }[]> {
  const pref = rulePriority(prefix);
  const out: { priority: number; src: string; table: string }[] = [];
  for (const r of await listRules()) {
    const src = r.src !== undefined ? parseIpv4(r.src) : undefined;
    if (r.priority === pref && src !== undefined && slotOf(src) !== undefined) out.push({ priority: r.priority, src: r.src!, table: String(r.table) });
  }
  return out;
}

/**
 * What the prefix still has on the host: namespaces, host links, ip rules,
 * routes through its links, the egress table. Empty after destroy().
 */
export async function fabricLeftovers(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (const n of await listNetns()) if (isOwnNs(prefix, n)) out.push(`netns ${n}`);
  const links = await listLinks(undefined);
  for (const l of links) if (isTransitIfname(prefix, l.ifname) || parseNetAlias(prefix, l.ifalias)) out.push(`link ${l.ifname}`);
  for (const r of await ownRules(prefix)) out.push(`rule ${r.priority}: from ${r.src} lookup ${r.table}`);
  for (const r of await listRoutes()) if (r.dev !== undefined && isTransitIfname(prefix, r.dev)) out.push(`route ${r.dst} dev ${r.dev} table ${r.table ?? 'main'}`);
  for (const t of [hostEgressTable(prefix), hostGuardTable(prefix)]) if (await hostNftTableExists(t)) out.push(`nft table ip ${t}`);
  out.push(...(await ipv6Leftovers(prefix)));
  return out;
}
