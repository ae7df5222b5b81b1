/**
 * The mock fabric: the books a real fabric keeps (networks, plugged
 * interfaces, public IP mappings), in memory, with the same refusals.
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
  checkReaddress,
} from '../fabric.js';

const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

export class MockFabric implements Fabric {
  readonly name = 'mock';
  private readonly networks = new Map<string, NetworkSpec>();
  private readonly plugged = new Map<string, { req: PlugRequest; iface: PluggedInterface }>();
  private readonly mappings = new Map<string, PublicIpMapping>();
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
    this.networks.delete(vpcId);
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
    const have = this.plugged.get(req.interfaceId);
    if (have) {
      if (samePlug(have.req, req)) return { ...have.iface, addresses: [...have.iface.addresses] };
      throw new FabricError('conflict', req.interfaceId, `${req.interfaceId} is already plugged for ${have.req.instanceId} in ${have.req.subnetId}`);
    }
    const macUser = this.owners.get(`${req.vpcId} mac ${req.mac.toLowerCase()}`);
    if (macUser) throw new FabricError('conflict', req.interfaceId, `MAC ${req.mac} is in use by ${macUser}`);
    for (const ip of req.privateIps) {
      const user = this.owners.get(`${req.vpcId} ip ${ip}`);
      if (user) throw new FabricError('conflict', req.interfaceId, `${ip} is in use by ${user} in ${req.vpcId}`);
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
    this.plugged.set(req.interfaceId, { req: { ...req, privateIps: [...req.privateIps] }, iface });
    for (const k of ownerKeys(req)) this.owners.set(k, req.interfaceId);
    let mine = this.byInstance.get(req.instanceId);
    if (!mine) this.byInstance.set(req.instanceId, (mine = new Set()));
    mine.add(req.interfaceId);
    return { ...iface, addresses: [...iface.addresses] };
  }

  async readdress(interfaceId: string, privateIps: readonly string[]): Promise<PluggedInterface> {
    this.op(`readdress ${interfaceId}`);
    const p = this.plugged.get(interfaceId);
    if (!p) throw new FabricError('not-found', interfaceId, `${interfaceId} is not plugged`);
    const subnet = parseCidr4(p.req.subnetCidr)!;
    checkReaddress(p.req, privateIps, subnet);
    for (const ip of privateIps) {
      const user = this.owners.get(`${p.req.vpcId} ip ${ip}`);
      if (user && user !== interfaceId) throw new FabricError('conflict', interfaceId, `${ip} is in use by ${user} in ${p.req.vpcId}`);
    }
    for (const k of ownerKeys(p.req)) this.owners.delete(k);
    p.req = { ...p.req, privateIps: [...privateIps] };
    for (const k of ownerKeys(p.req)) this.owners.set(k, interfaceId);
    p.iface = { ...p.iface, addresses: privateIps.map((ip) => `${ip}/${subnet.prefix}`) };
    // public IPs of addresses it no longer has
    for (const pub of [...(this.ipsByInterface.get(interfaceId) ?? [])]) {
      if (!privateIps.includes(this.mappings.get(pub)?.privateIp ?? '')) {
        this.mappings.delete(pub);
        this.ipsByInterface.get(interfaceId)?.delete(pub);
      }
    }
    return { ...p.iface, addresses: [...p.iface.addresses] };
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

  async list(filter: { instanceId?: string } = {}): Promise<FabricInventory> {
    this.checkOpen();
    const want = filter.instanceId;
    const networks = [...this.networks.values()].map((n) => ({ ...n }));
    if (want === undefined) {
      return {
        networks,
        interfaces: [...this.plugged.values()].map((p) => ({ ...p.iface, addresses: [...p.iface.addresses] })),
        publicIps: [...this.mappings.values()].map((m) => ({ ...m })),
      };
    }
    const interfaces: PluggedInterface[] = [];
    const publicIps: PublicIpMapping[] = [];
    for (const id of this.byInstance.get(want) ?? []) {
      const p = this.plugged.get(id)!;
      interfaces.push({ ...p.iface, addresses: [...p.iface.addresses] });
      for (const ip of this.ipsByInterface.get(id) ?? []) publicIps.push({ ...this.mappings.get(ip)! });
    }
    return { networks, interfaces, publicIps };
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
  return [`${req.vpcId} mac ${req.mac.toLowerCase()}`, ...req.privateIps.map((ip) => `${req.vpcId} ip ${ip}`)];
}

function samePlug(a: PlugRequest, b: PlugRequest): boolean {
  return (
    a.instanceId === b.instanceId &&
    a.vpcId === b.vpcId &&
    a.subnetId === b.subnetId &&
    a.subnetCidr === b.subnetCidr &&
    a.mac.toLowerCase() === b.mac.toLowerCase() &&
    a.deviceIndex === b.deviceIndex &&
    a.privateIps.join(',') === b.privateIps.join(',')
  );
}
