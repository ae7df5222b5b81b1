/**
 * The mock fabric: the books a real fabric keeps (networks, plugged
 * interfaces, public IP mappings, links between networks), in memory, with
 * the same refusals.
 * Namespaces are named `ocns-<eni>`; nothing is created on the host.
 */
import { Emitter, type ProbeResult } from '../../compute/driver.js';
import { formatIpv4, ipInCidr, networkAddress, parseCidr4, parseIpv4 } from '../../domain/cidr.js';
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
  type NetworkLink,
  type Ipv6Addressing,
  type Ipv6Routing,
  type NatGatewaySpec,
  checkLink,
  checkNatGateway,
  sameNatGateway,
  checkReaddress,
  routeKey,
} from '../fabric.js';
import { checkIpv6, checkRouting, emptyRouting, pluggedIpv6, sameIpv6 } from '../ipv6-checks.js';
import { parseCidr6, type Cidr6 } from '../../domain/cidr.js';

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

export class MockFabric implements Fabric {
  readonly name = 'mock';
  private readonly networks = new Map<string, NetworkSpec>();
  private readonly plugged = new Map<string, { req: PlugRequest; iface: PluggedInterface }>();
  private readonly mappings = new Map<string, PublicIpMapping>();
  private readonly links = new Map<string, NetworkLink>();
  private readonly nats = new Map<string, NatGatewaySpec>();
  private readonly routing6 = new Map<string, Ipv6Routing>();
  private readonly pool6: Cidr6;

  /** `ipv6Pool`: the blocks routeIpv6 accepts (default fd00::/8) */
  constructor(opts: { ipv6Pool?: string } = {}) {
    const pool = parseCidr6(opts.ipv6Pool ?? 'fd00::/8');
    if (!pool) throw new Error(`mock fabric: malformed IPv6 pool ${opts.ipv6Pool}`);
    this.pool6 = pool;
  }
  /** "<vpc> mac <mac>" / "<vpc> ip <address>" → the interface holding it */
  private readonly owners = new Map<string, string>();
  /** instance → its plugged interfaces; interface → its public IPs (list() by instance stays O(own)) */
  private readonly byInstance = new Map<string, Set<string>>();
  private readonly ipsByInterface = new Map<string, Set<string>>();
  private readonly emitter = new Emitter<FabricEvent>();
  readonly events = this.emitter.subscribe;
  private closed = false;
  /** operations carried out, in order ("plug eni-…"), for tests */
  readonly calls: string[] = [];

  async probe(): Promise<ProbeResult> {
    return this.closed ? { ok: false, reason: 'the mock fabric is closed' } : { ok: true };
  }

  async ensureNetwork(net: NetworkSpec): Promise<NetworkInfo> {
    this.op(`ensureNetwork ${net.vpcId}`);
    if (!parseCidr4(net.cidrBlock)) throw new FabricError('invalid', net.vpcId, `malformed CIDR ${net.cidrBlock}`);
    const have = this.networks.get(net.vpcId);
    if (have) {
      if (have.cidrBlock !== net.cidrBlock) throw new FabricError('conflict', net.vpcId, `network ${net.vpcId} exists with ${have.cidrBlock}`);
      return { ...have };
    }
    this.networks.set(net.vpcId, { ...net });
    return { ...net };
  }

  async removeNetwork(vpcId: string): Promise<void> {
    this.op(`removeNetwork ${vpcId}`);
    if (!this.networks.has(vpcId)) return;
    const users = [...this.plugged.values()].filter((p) => p.req.vpcId === vpcId).length;
    if (users > 0) throw new FabricError('in-use', vpcId, `network ${vpcId} has ${users} interface(s) plugged`);
    const link = [...this.links.values()].find((l) => l.networks.includes(vpcId));
    if (link) throw new FabricError('in-use', vpcId, `network ${vpcId} is joined by ${link.linkId}`);
    const nat = [...this.nats.values()].find((g) => g.vpcId === vpcId);
    if (nat) throw new FabricError('in-use', vpcId, `network ${vpcId} has NAT gateway ${nat.natGatewayId}`);
    this.networks.delete(vpcId);
    this.routing6.delete(vpcId);
  }

  async plug(req: PlugRequest): Promise<PluggedInterface> {
    this.op(`plug ${req.interfaceId}`);
    const net = this.networks.get(req.vpcId);
    if (!net) throw new FabricError('not-found', req.vpcId, `no network ${req.vpcId}`);
    const subnet = parseCidr4(req.subnetCidr);
    if (!subnet) throw new FabricError('invalid', req.interfaceId, `malformed subnet CIDR ${req.subnetCidr}`);
    if (!MAC.test(req.mac)) throw new FabricError('invalid', req.interfaceId, `malformed MAC ${req.mac}`);
    if (req.privateIps.length === 0) throw new FabricError('invalid', req.interfaceId, 'an interface needs a private address');
    for (const ip of req.privateIps) {
      const n = parseIpv4(ip);
      if (n === undefined || !ipInCidr(n, subnet)) throw new FabricError('invalid', req.interfaceId, `${ip} is not in ${req.subnetCidr}`);
    }
    const v6 = checkIpv6(req.interfaceId, req.ipv6);
    req = { ...req, ipv6: v6 && { subnetCidr: v6.subnetCidr, addresses: v6.addresses } };
    const have = this.plugged.get(req.interfaceId);
    if (have) {
      if (samePlug(have.req, req)) return copy(have.iface);
      throw new FabricError('conflict', req.interfaceId, `${req.interfaceId} is already plugged for ${have.req.instanceId} in ${have.req.subnetId}`);
    }
    for (const g of this.nats.values()) {
      if (g.vpcId !== req.vpcId) continue;
      if (g.mac === req.mac.toLowerCase() || req.privateIps.includes(g.privateIp)) throw new FabricError('conflict', req.interfaceId, `${g.natGatewayId} has that address or MAC`);
    }
    const macUser = this.owners.get(`${req.vpcId} mac ${req.mac.toLowerCase()}`);
    if (macUser) throw new FabricError('conflict', req.interfaceId, `MAC ${req.mac} is in use by ${macUser}`);
    for (const k of ownerKeys(req).slice(1)) {
      const user = this.owners.get(k);
      if (user) throw new FabricError('conflict', req.interfaceId, `${k.split(' ')[2]} is in use by ${user} in ${req.vpcId}`);
    }
    const short = req.interfaceId.replace(/^eni-/, '').slice(-11);
    const iface: PluggedInterface = {
      interfaceId: req.interfaceId,
      instanceId: req.instanceId,
      vpcId: req.vpcId,
      subnetId: req.subnetId,
      deviceIndex: req.deviceIndex,
      netns: `ocns-${short}`,
      ifname: `eth${req.deviceIndex}`,
      hostIfname: `oc${short}`.slice(0, 15),
      mac: req.mac.toLowerCase(),
      addresses: req.privateIps.map((ip) => `${ip}/${subnet.prefix}`),
      gateway: formatIpv4((networkAddress(subnet) + 1) >>> 0),
      mtu: 9001,
    };
    if (v6) iface.ipv6 = pluggedIpv6(v6)!;
    this.plugged.set(req.interfaceId, { req: { ...req, privateIps: [...req.privateIps] }, iface });
    for (const k of ownerKeys(req)) this.owners.set(k, req.interfaceId);
    let mine = this.byInstance.get(req.instanceId);
    if (!mine) this.byInstance.set(req.instanceId, (mine = new Set()));
    mine.add(req.interfaceId);
    return copy(iface);
  }

  async readdress(interfaceId: string, privateIps: readonly string[], ipv6?: Ipv6Addressing): Promise<PluggedInterface> {
    this.op(`readdress ${interfaceId}`);
    const p = this.plugged.get(interfaceId);
    if (!p) throw new FabricError('not-found', interfaceId, `${interfaceId} is not plugged`);
    const subnet = parseCidr4(p.req.subnetCidr)!;
    checkReaddress(p.req, privateIps, subnet);
    const v6 = ipv6 === undefined ? p.req.ipv6 : checkIpv6(interfaceId, ipv6);
    const next: PlugRequest = { ...p.req, privateIps: [...privateIps], ipv6: v6 && { subnetCidr: v6.subnetCidr, addresses: [...v6.addresses] } };
    for (const k of ownerKeys(next).slice(1)) {
      const user = this.owners.get(k);
      if (user && user !== interfaceId) throw new FabricError('conflict', interfaceId, `${k.split(' ')[2]} is in use by ${user} in ${p.req.vpcId}`);
    }
    for (const k of ownerKeys(p.req)) this.owners.delete(k);
    p.req = next;
    for (const k of ownerKeys(p.req)) this.owners.set(k, interfaceId);
    p.iface = { ...p.iface, addresses: privateIps.map((ip) => `${ip}/${subnet.prefix}`) };
    delete p.iface.ipv6;
    if (next.ipv6) p.iface.ipv6 = pluggedIpv6(checkIpv6(interfaceId, next.ipv6))!;
    // public IPs of addresses it no longer has
    for (const pub of [...(this.ipsByInterface.get(interfaceId) ?? [])]) {
      if (!privateIps.includes(this.mappings.get(pub)?.privateIp ?? '')) {
        this.mappings.delete(pub);
        this.ipsByInterface.get(interfaceId)?.delete(pub);
      }
    }
    return copy(p.iface);
  }

  async routeIpv6(r: Ipv6Routing): Promise<void> {
    this.op(`routeIpv6 ${r.vpcId}`);
    if (!this.networks.has(r.vpcId)) throw new FabricError('not-found', r.vpcId, `no network ${r.vpcId}`);
    const checked = checkRouting(r, this.pool6);
    if (emptyRouting(checked)) this.routing6.delete(r.vpcId);
    else this.routing6.set(r.vpcId, checked);
  }

  async unplug(interfaceId: string): Promise<void> {
    this.op(`unplug ${interfaceId}`);
    this.forget(interfaceId);
  }

  async mapPublicIp(m: PublicIpMapping): Promise<void> {
    this.op(`mapPublicIp ${m.publicIp}`);
    if (parseIpv4(m.publicIp) === undefined) throw new FabricError('invalid', m.publicIp, `malformed address ${m.publicIp}`);
    const have = this.mappings.get(m.publicIp);
    if (have) {
      if (have.privateIp === m.privateIp && have.interfaceId === m.interfaceId && have.vpcId === m.vpcId) return;
      throw new FabricError('conflict', m.publicIp, `${m.publicIp} is mapped to ${have.privateIp} (${have.interfaceId})`);
    }
    const p = this.plugged.get(m.interfaceId);
    if (!p || p.req.vpcId !== m.vpcId) throw new FabricError('not-found', m.interfaceId, `${m.interfaceId} is not plugged in ${m.vpcId}`);
    if (!p.req.privateIps.includes(m.privateIp)) throw new FabricError('not-found', m.interfaceId, `${m.interfaceId} has no address ${m.privateIp}`);
    const nat = [...this.nats.values()].find((g) => g.publicIp === m.publicIp);
    if (nat) throw new FabricError('conflict', m.publicIp, `${m.publicIp} is ${nat.natGatewayId}'s`);
    for (const ip of this.ipsByInterface.get(m.interfaceId) ?? []) {
      const other = this.mappings.get(ip)!;
      if (other.privateIp === m.privateIp) throw new FabricError('conflict', m.publicIp, `${m.privateIp} already has public address ${other.publicIp}`);
    }
    this.mappings.set(m.publicIp, { ...m });
    let ips = this.ipsByInterface.get(m.interfaceId);
    if (!ips) this.ipsByInterface.set(m.interfaceId, (ips = new Set()));
    ips.add(m.publicIp);
  }

  async unmapPublicIp(publicIp: string): Promise<void> {
    this.op(`unmapPublicIp ${publicIp}`);
    const m = this.mappings.get(publicIp);
    if (!m) return;
    this.mappings.delete(publicIp);
    this.ipsByInterface.get(m.interfaceId)?.delete(publicIp);
  }

  async connect(link: NetworkLink): Promise<void> {
    this.op(`connect ${link.linkId}`);
    // a network's own CIDRs: its VPC CIDR and the subnets plugged outside it
    const own = (vpcId: string): string[] => {
      const out = [this.networks.get(vpcId)?.cidrBlock ?? ''];
      for (const p of this.plugged.values()) if (p.req.vpcId === vpcId) out.push(p.req.subnetCidr);
      return out;
    };
    const routes = checkLink(link, own);
    for (const vpcId of link.networks) if (!this.networks.has(vpcId)) throw new FabricError('not-found', vpcId, `no network ${vpcId}`);
    const have = this.links.get(link.linkId);
    if (have && !sameNetworks(have, link)) throw new FabricError('conflict', link.linkId, `${link.linkId} joins ${have.networks.join(' and ')}`);
    const taken = new Map<string, string>();
    for (const l of this.links.values()) if (l.linkId !== link.linkId) for (const r of l.routes) taken.set(routeKey(r), l.linkId);
    for (const r of routes) {
      const other = taken.get(routeKey(r));
      if (other) throw new FabricError('conflict', link.linkId, `route ${routeKey(r)} is ${other}'s`);
    }
    this.links.set(link.linkId, { linkId: link.linkId, networks: [link.networks[0], link.networks[1]], routes });
  }

  async disconnect(linkId: string): Promise<void> {
    this.op(`disconnect ${linkId}`);
    this.links.delete(linkId);
  }

  async ensureNatGateway(nat: NatGatewaySpec): Promise<void> {
    const id = nat.natGatewayId;
    this.op(`ensureNatGateway ${id}`);
    const routes = checkNatGateway(nat);
    if (!this.networks.has(nat.vpcId)) throw new FabricError('not-found', nat.vpcId, `no network ${nat.vpcId}`);
    const want: NatGatewaySpec = { ...nat, mac: nat.mac.toLowerCase(), routes };
    const have = this.nats.get(id);
    if (have && !sameNatGateway(have, want)) throw new FabricError('conflict', id, `${id} exists with ${have.privateIp} in ${have.subnetId}`);
    if (!have) {
      const user = this.owners.get(`${nat.vpcId} ip ${nat.privateIp}`) ?? this.owners.get(`${nat.vpcId} mac ${want.mac}`);
      if (user) throw new FabricError('conflict', id, `${user} has ${nat.privateIp} or ${nat.mac}`);
      for (const g of this.nats.values()) {
        if (g.vpcId === nat.vpcId && (g.privateIp === nat.privateIp || g.mac === want.mac)) throw new FabricError('conflict', id, `${g.natGatewayId} has ${nat.privateIp} or ${nat.mac}`);
      }
      if (nat.publicIp !== undefined) {
        const other = this.mappings.get(nat.publicIp) ?? [...this.nats.values()].find((g) => g.publicIp === nat.publicIp);
        if (other) throw new FabricError('conflict', id, `${nat.publicIp} is mapped elsewhere`);
      }
    }
    for (const g of this.nats.values()) {
      if (g.natGatewayId === id || g.vpcId !== nat.vpcId) continue;
      const dup = routes.find((r) => g.routes.some((o) => o.source === r.source && o.destination === r.destination));
      if (dup) throw new FabricError('conflict', id, `route ${dup.source} → ${dup.destination} is ${g.natGatewayId}'s`);
    }
    this.nats.set(id, want);
  }

  async removeNatGateway(natGatewayId: string): Promise<void> {
    this.op(`removeNatGateway ${natGatewayId}`);
    this.nats.delete(natGatewayId);
  }

  /**
   * The source address traffic from `from` (an address of network `vpcId`) to `to` has after
   * the network's NAT gateways (for tests): the gateway's public IP or private address when a
   * route of one carries it (the longest destination), undefined when none does (or `to` is
   * in the network's own CIDR).
   */
  natSource(vpcId: string, from: string, to: string): string | undefined {
    const a = parseIpv4(from);
    const b = parseIpv4(to);
    if (a === undefined || b === undefined) return undefined;
    // the network's own CIDR is local: the longer match
    const own = parseCidr4(this.networks.get(vpcId)?.cidrBlock ?? '');
    if (own && ipInCidr(b, own)) return undefined;
    let best: { len: number; g: NatGatewaySpec } | undefined;
    for (const g of this.nats.values()) {
      if (g.vpcId !== vpcId) continue;
      for (const r of g.routes) {
        const d = parseCidr4(r.destination)!;
        if (ipInCidr(a, parseCidr4(r.source)!) && ipInCidr(b, d) && (!best || d.prefix > best.len)) best = { len: d.prefix, g };
      }
    }
    return best && (best.g.publicIp ?? best.g.privateIp);
  }

  /** Whether traffic from `from` (an address of network `fromVpc`) to `to` crosses a link into `toVpc` (for tests): a route of a link joining the two matches. */
  routes(fromVpc: string, from: string, toVpc: string, to: string): boolean {
    const a = parseIpv4(from);
    const b = parseIpv4(to);
    if (a === undefined || b === undefined) return false;
    return [...this.links.values()].some(
      (l) => l.networks.includes(fromVpc) && l.networks.includes(toVpc) && fromVpc !== toVpc &&
        l.routes.some((r) => r.vpcId === fromVpc && ipInCidr(a, parseCidr4(r.source)!) && ipInCidr(b, parseCidr4(r.destination)!)),
    );
  }

  async list(filter: { instanceId?: string } = {}): Promise<FabricInventory> {
    this.checkOpen();
    const want = filter.instanceId;
    const networks = [...this.networks.values()].map((n) => ({ ...n }));
    const links = [...this.links.values()].map(copyLink);
    const natGateways = [...this.nats.values()].map((g) => ({ ...g, routes: g.routes.map((r) => ({ ...r })) }));
    if (want === undefined) {
      return {
        networks,
        links,
        natGateways,
        interfaces: [...this.plugged.values()].map((p) => copy(p.iface)),
        publicIps: [...this.mappings.values()].map((m) => ({ ...m })),
        ...this.routingList(),
      };
    }
    const interfaces: PluggedInterface[] = [];
    const publicIps: PublicIpMapping[] = [];
    for (const id of this.byInstance.get(want) ?? []) {
      const p = this.plugged.get(id)!;
      interfaces.push(copy(p.iface));
      for (const ip of this.ipsByInterface.get(id) ?? []) publicIps.push({ ...this.mappings.get(ip)! });
    }
    return { networks, interfaces, publicIps, links, natGateways, ...this.routingList() };
  }

  /** `ipv6Routing` for list(), when a network has some */
  private routingList(): { ipv6Routing?: Ipv6Routing[] } {
    const all = [...this.routing6.values()].map((r) => ({ vpcId: r.vpcId, blocks: [...r.blocks], internet: [...r.internet], egressOnly: [...r.egressOnly] }));
    return all.length > 0 ? { ipv6Routing: all } : {};
  }

  /** The host loses an interface behind the fabric's back (for tests): gone, reported as an event. */
  lose(interfaceId: string): void {
    const p = this.plugged.get(interfaceId);
    if (!p) return;
    this.forget(interfaceId);
    this.emitter.emit({ interfaceId, instanceId: p.req.instanceId, kind: 'lost' });
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** Drops a plugged interface, its address/MAC claims and its public IPs. */
  private forget(interfaceId: string): void {
    const p = this.plugged.get(interfaceId);
    if (!p) return;
    this.plugged.delete(interfaceId);
    for (const k of ownerKeys(p.req)) this.owners.delete(k);
    const mine = this.byInstance.get(p.req.instanceId);
    mine?.delete(interfaceId);
    if (mine?.size === 0) this.byInstance.delete(p.req.instanceId);
    for (const ip of this.ipsByInterface.get(interfaceId) ?? []) this.mappings.delete(ip);
    this.ipsByInterface.delete(interfaceId);
  }

  private op(what: string): void {
    this.checkOpen();
    this.calls.push(what);
  }

  private checkOpen(): void {
    if (this.closed) throw new FabricError('failed', '', 'the mock fabric is closed');
  }
}

function ownerKeys(req: PlugRequest): string[] {
  return [
    `${req.vpcId} mac ${req.mac.toLowerCase()}`,
    ...req.privateIps.map((ip) => `${req.vpcId} ip ${ip}`),
    ...(req.ipv6?.addresses ?? []).map((ip) => `${req.vpcId} ip6 ${ip}`),
  ];
}

function copy(i: PluggedInterface): PluggedInterface {
  const out = { ...i, addresses: [...i.addresses] };
  if (i.ipv6) out.ipv6 = { ...i.ipv6, addresses: [...i.ipv6.addresses] };
  return out;
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

function sameNetworks(a: NetworkLink, b: NetworkLink): boolean {
  return [...a.networks].sort().join(' ') === [...b.networks].sort().join(' ');
}

function copyLink(l: NetworkLink): NetworkLink {
  return { linkId: l.linkId, networks: [l.networks[0], l.networks[1]], routes: l.routes.map((r) => ({ ...r })) };
}
