/**
 * The one suite every Fabric driver must pass, run by
 * test/network/<driver>.test.ts as runFabricConformance(name, factory, { skip }).
 * Contract only: idempotent repeats, the refusals with their codes, and the
 * inventory list() gives back for recovery. A case a driver cannot pass is
 * named in `skip` with the reason.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { FabricError, type Fabric, type LinkRoute, type NatGatewaySpec, type NetworkLink, type PlugRequest } from '../../src/network/fabric.js';

export type FabricCase =
  | 'probe'
  | 'networks'
  | 'plug'
  | 'plug-idempotent'
  | 'plug-conflicts'
  | 'plug-refusals'
  | 'unplug'
  | 'readdress'
  | 'public-ips'
  | 'public-ip-refusals'
  | 'list-by-instance'
  | 'links'
  | 'link-refusals'
  | 'link-recovery'
  | 'nat-gateways'
  | 'nat-refusals'
  | 'nat-recovery'
  | 'ipv6-plug'
  | 'ipv6-readdress'
  | 'ipv6-routing'
  | 'ipv6-recovery';

/** The IPv6 pool the fabric under test must be made with (its VPC blocks come from it). */
export const FABRIC_IPV6_POOL = 'fd0f:ec20:6600::/40';

export interface FabricConformanceOptions {
  timeoutMs?: number;
  skip?: Partial<Record<FabricCase, string>>;
}

const hex = (n: number) => randomBytes(n).toString('hex');

async function rejectsWith(p: Promise<unknown>, code: FabricError['code']): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof FabricError, `expected a FabricError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

export function runFabricConformance(name: string, factory: () => Fabric | Promise<Fabric>, opts: FabricConformanceOptions = {}): void {
  const skip = opts.skip ?? {};
  const test = (key: FabricCase, title: string, fn: () => Promise<void>) =>
    it(title, skip[key] !== undefined ? { skip: `${name}: ${skip[key]}` } : {}, fn);

  describe(`Fabric conformance: ${name}`, { timeout: opts.timeoutMs ?? 10_000 }, () => {
    let fabric: Fabric;
    let n = 0;
    /** a fresh VPC (10.x.0.0/16) with one /24 subnet and a request factory for it */
    const vpc = async () => {
      n++;
      const vpcId = `vpc-${hex(9).slice(0, 17)}`;
      const second = 10 + (n % 200);
      await fabric.ensureNetwork({ vpcId, cidrBlock: `10.${second}.0.0/16` });
      let host = 10;
      const req = (over: Partial<PlugRequest> = {}): PlugRequest => {
        host++;
        return {
          interfaceId: `eni-${hex(9).slice(0, 17)}`,
          instanceId: `i-${hex(9).slice(0, 17)}`,
          vpcId,
          subnetId: `subnet-${vpcId.slice(4)}`,
          subnetCidr: `10.${second}.1.0/24`,
          mac: `02:${hex(5).match(/../g)!.join(':')}`,
          privateIps: [`10.${second}.1.${host}`],
          deviceIndex: 0,
          ...over,
        };
      };
      // its IPv6 block in FABRIC_IPV6_POOL, the subnet's /64 the block's first but one
      const block6 = `fd0f:ec20:66${(n % 256).toString(16).padStart(2, '0')}::/56`;
      const subnet6 = block6.replace('::/56', ':1::/64');
      const v6 = (...hosts: number[]) => ({ subnetCidr: subnet6, addresses: hosts.map((h) => subnet6.replace('::/64', `::${h.toString(16)}`)) });
      return { vpcId, second, req, block6, subnet6, v6 };
    };

    const linkId = () => `pcx-${hex(9).slice(0, 17)}`;
    const linkOf = async (id: string): Promise<NetworkLink | undefined> => (await fabric.list()).links.find((l) => l.linkId === id);
    const sorted = (rs: LinkRoute[]) => [...rs].sort((x, y) => `${x.vpcId}${x.source}${x.destination}`.localeCompare(`${y.vpcId}${y.source}${y.destination}`));

    before(async () => {
      fabric = await factory();
    });
    after(async () => {
      await fabric.close();
    });

    test('probe', 'probe says whether this host can run it, with a reason when not', async () => {
      const r = await fabric.probe();
      if (!r.ok) assert.ok(r.reason.length > 0);
      else assert.deepEqual(r, { ok: true });
    });

    test('networks', 'ensureNetwork is idempotent, refuses another CIDR; removeNetwork of an unknown one is a no-op', async () => {
      const { vpcId } = await vpc();
      const have = (await fabric.list()).networks.find((x) => x.vpcId === vpcId)!;
      await fabric.ensureNetwork({ ...have });
      assert.equal((await fabric.list()).networks.filter((x) => x.vpcId === vpcId).length, 1);
      await rejectsWith(fabric.ensureNetwork({ vpcId, cidrBlock: '192.168.0.0/16' }), 'conflict');
      await fabric.removeNetwork(vpcId);
      assert.ok(!(await fabric.list()).networks.some((x) => x.vpcId === vpcId));
      await fabric.removeNetwork(vpcId);
    });

    test('plug', 'plug answers the namespace, interface, addresses with prefix and the gateway', async () => {
      const { req, second } = await vpc();
      const r = req({ deviceIndex: 1 });
      const p = await fabric.plug(r);
      assert.equal(p.interfaceId, r.interfaceId);
      assert.equal(p.instanceId, r.instanceId);
      assert.equal(p.deviceIndex, 1);
      assert.ok(p.netns.length > 0 && p.ifname.length > 0 && p.hostIfname.length > 0);
      assert.ok(p.hostIfname.length <= 15, 'a Linux interface name has at most 15 characters');
      assert.deepEqual(p.addresses, [`${r.privateIps[0]}/24`]);
      assert.equal(p.gateway, `10.${second}.1.1`);
      assert.equal(p.mac, r.mac.toLowerCase());
      assert.ok(p.mtu >= 1280);
      await fabric.unplug(r.interfaceId);
    });

    test('plug-idempotent', 'the same plug again answers the same interface, listed once', async () => {
      const { req } = await vpc();
      const r = req();
      const a = await fabric.plug(r);
      const b = await fabric.plug({ ...r, privateIps: [...r.privateIps] });
      assert.deepEqual(b, a);
      assert.equal((await fabric.list()).interfaces.filter((i) => i.interfaceId === r.interfaceId).length, 1);
      await fabric.unplug(r.interfaceId);
    });

    test('plug-conflicts', 'the same interface for another instance, or an address or MAC in use, is refused with conflict', async () => {
      const { req } = await vpc();
      const r = req();
      await fabric.plug(r);
      await rejectsWith(fabric.plug({ ...r, instanceId: 'i-0000000000000other' }), 'conflict');
      await rejectsWith(fabric.plug(req({ privateIps: r.privateIps })), 'conflict');
      await rejectsWith(fabric.plug(req({ mac: r.mac })), 'conflict');
      // the refused plugs changed nothing
      const listed = (await fabric.list()).interfaces.filter((i) => i.vpcId === r.vpcId);
      assert.deepEqual(listed.map((i) => i.interfaceId), [r.interfaceId]);
      await rejectsWith(fabric.removeNetwork(r.vpcId), 'in-use');
      await fabric.unplug(r.interfaceId);
      await fabric.removeNetwork(r.vpcId);
    });

    test('plug-refusals', 'an unknown network is not-found; an address outside the subnet or a bad MAC is invalid', async () => {
      const { req } = await vpc();
      await rejectsWith(fabric.plug(req({ vpcId: 'vpc-00000000000nowhere' })), 'not-found');
      await rejectsWith(fabric.plug(req({ privateIps: ['192.0.2.10'] })), 'invalid');
      await rejectsWith(fabric.plug(req({ mac: 'not-a-mac' })), 'invalid');
    });

    test('unplug', 'unplug removes the interface and its public IPs; again, or unknown, is a no-op', async () => {
      const { req } = await vpc();
      const r = req();
      await fabric.plug(r);
      await fabric.mapPublicIp({ publicIp: '198.51.100.77', privateIp: r.privateIps[0]!, interfaceId: r.interfaceId, vpcId: r.vpcId });
      await fabric.unplug(r.interfaceId);
      const inv = await fabric.list();
      assert.ok(!inv.interfaces.some((i) => i.interfaceId === r.interfaceId));
      assert.ok(!inv.publicIps.some((m) => m.publicIp === '198.51.100.77'));
      await fabric.unplug(r.interfaceId);
      await fabric.unplug('eni-0000000000unknown');
      // the address is free again
      await fabric.plug({ ...r, interfaceId: `eni-${hex(9).slice(0, 17)}`, instanceId: 'i-0000000000000newer' });
    });

    test('readdress', 'secondary addresses change in place; a lost address loses its public IP; refusals', async () => {
      const { req, second } = await vpc();
      const r = req();
      const other = req();
      await fabric.plug(r);
      await fabric.plug(other);
      const primary = r.privateIps[0]!;
      const extra = `10.${second}.1.200`;
      const grown = await fabric.readdress(r.interfaceId, [primary, extra]);
      assert.deepEqual(grown.addresses.map((a) => a.split('/')[0]), [primary, extra]);
      assert.equal(grown.ifname, 'eth0');
      const listed = (await fabric.list()).interfaces.find((i) => i.interfaceId === r.interfaceId)!;
      assert.deepEqual(listed.addresses.map((a) => a.split('/')[0]).sort(), [primary, extra].sort());
      // the same again: the same answer; the same request as plugged now: no conflict
      await fabric.readdress(r.interfaceId, [primary, extra]);
      await fabric.plug({ ...r, privateIps: [primary, extra] });
      const m = { publicIp: '198.51.100.79', privateIp: extra, interfaceId: r.interfaceId, vpcId: r.vpcId };
      await fabric.mapPublicIp(m);
      await rejectsWith(fabric.readdress(r.interfaceId, [`10.${second}.1.201`, extra]), 'invalid');
      await rejectsWith(fabric.readdress(r.interfaceId, [primary, '10.250.0.1']), 'invalid');
      await rejectsWith(fabric.readdress(r.interfaceId, [primary, other.privateIps[0]!]), 'conflict');
      await rejectsWith(fabric.readdress('eni-0000000000unknown', [primary]), 'not-found');
      // the refusals changed nothing
      assert.deepEqual((await fabric.list()).publicIps.filter((x) => x.publicIp === m.publicIp), [m]);
      const shrunk = await fabric.readdress(r.interfaceId, [primary]);
      assert.deepEqual(shrunk.addresses.map((a) => a.split('/')[0]), [primary]);
      assert.ok(!(await fabric.list()).publicIps.some((x) => x.publicIp === m.publicIp), 'the public IP of the lost address is unmapped');
      // the address it gave up is free for another interface
      await fabric.readdress(other.interfaceId, [other.privateIps[0]!, extra]);
      await fabric.unplug(r.interfaceId);
      await fabric.unplug(other.interfaceId);
    });

    test('public-ips', 'map is idempotent, unmap of an unknown address is a no-op', async () => {
      const { req } = await vpc();
      const r = req();
      await fabric.plug(r);
      const m = { publicIp: '198.51.100.78', privateIp: r.privateIps[0]!, interfaceId: r.interfaceId, vpcId: r.vpcId };
      await fabric.mapPublicIp(m);
      await fabric.mapPublicIp({ ...m });
      assert.deepEqual((await fabric.list()).publicIps.filter((x) => x.publicIp === m.publicIp), [m]);
      await fabric.unmapPublicIp(m.publicIp);
      await fabric.unmapPublicIp(m.publicIp);
      assert.ok(!(await fabric.list()).publicIps.some((x) => x.publicIp === m.publicIp));
      await fabric.unplug(r.interfaceId);
    });

    test('public-ip-refusals', 'a public IP mapped elsewhere is a conflict; an unplugged interface or a foreign address is not-found', async () => {
      const { req } = await vpc();
      const a = req();
      const b = req();
      await fabric.plug(a);
      await fabric.plug(b);
      const m = { publicIp: '198.51.100.79', privateIp: a.privateIps[0]!, interfaceId: a.interfaceId, vpcId: a.vpcId };
      await fabric.mapPublicIp(m);
      await rejectsWith(fabric.mapPublicIp({ ...m, privateIp: b.privateIps[0]!, interfaceId: b.interfaceId }), 'conflict');
      await rejectsWith(fabric.mapPublicIp({ ...m, publicIp: '198.51.100.80', interfaceId: 'eni-000000000unplugged' }), 'not-found');
      await rejectsWith(fabric.mapPublicIp({ ...m, publicIp: '198.51.100.81', privateIp: b.privateIps[0]! }), 'not-found');
      await fabric.unplug(a.interfaceId);
      await fabric.unplug(b.interfaceId);
    });

    test('list-by-instance', 'list({ instanceId }) gives that instance’s interfaces and public IPs only', async () => {
      const { req } = await vpc();
      const a0 = req({ deviceIndex: 0 });
      const a1 = req({ instanceId: a0.instanceId, deviceIndex: 1 });
      const b = req();
      for (const r of [a0, a1, b]) await fabric.plug(r);
      await fabric.mapPublicIp({ publicIp: '198.51.100.90', privateIp: a0.privateIps[0]!, interfaceId: a0.interfaceId, vpcId: a0.vpcId });
      await fabric.mapPublicIp({ publicIp: '198.51.100.91', privateIp: b.privateIps[0]!, interfaceId: b.interfaceId, vpcId: b.vpcId });
      const mine = await fabric.list({ instanceId: a0.instanceId });
      assert.deepEqual(mine.interfaces.map((i) => i.interfaceId).sort(), [a0.interfaceId, a1.interfaceId].sort());
      assert.deepEqual(mine.publicIps.map((m) => m.publicIp), ['198.51.100.90']);
      const all = await fabric.list();
      for (const r of [a0, a1, b]) assert.ok(all.interfaces.some((i) => i.interfaceId === r.interfaceId));
      for (const r of [a0, a1, b]) await fabric.unplug(r.interfaceId);
    });

    test('links', 'connect joins two networks with its routes, replaced as a whole; again: the same; disconnect is idempotent', async () => {
      const a = await vpc();
      const b = await vpc();
      const id = linkId();
      const there = `10.${b.second}.0.0/16`;
      const back = `10.${a.second}.0.0/16`;
      const routes: LinkRoute[] = [
        { vpcId: a.vpcId, source: `10.${a.second}.1.0/24`, destination: there },
        { vpcId: b.vpcId, source: `10.${b.second}.1.0/24`, destination: back },
      ];
      await fabric.connect({ linkId: id, networks: [a.vpcId, b.vpcId], routes });
      const l = (await linkOf(id))!;
      assert.deepEqual([...l.networks].sort(), [a.vpcId, b.vpcId].sort());
      assert.deepEqual(sorted(l.routes), sorted(routes));
      // the same again, the networks named the other way round: nothing changes
      await fabric.connect({ linkId: id, networks: [b.vpcId, a.vpcId], routes: [routes[1]!, routes[0]!] });
      assert.deepEqual(sorted((await linkOf(id))!.routes), sorted(routes));
      // a part of the peer's block, one direction only (a host address is canonicalized)
      const part = { vpcId: a.vpcId, source: `10.${a.second}.1.0/24`, destination: `10.${b.second}.1.7/24` };
      await fabric.connect({ linkId: id, networks: [a.vpcId, b.vpcId], routes: [part] });
      assert.deepEqual((await linkOf(id))!.routes, [{ ...part, destination: `10.${b.second}.1.0/24` }]);
      // listed for every instance filter too: links belong to no instance
      assert.ok((await fabric.list({ instanceId: 'i-00000000000000000' })).links.some((x) => x.linkId === id));
      await rejectsWith(fabric.removeNetwork(a.vpcId), 'in-use');
      await fabric.disconnect(id);
      assert.equal(await linkOf(id), undefined);
      await fabric.disconnect(id);
      await fabric.removeNetwork(a.vpcId);
      await fabric.removeNetwork(b.vpcId);
    });

    test('link-refusals', 'an unknown network is not-found; a self link, a route from neither network, a malformed or overlapping CIDR are invalid; another link’s networks or route is a conflict; nothing changes', async () => {
      const a = await vpc();
      const b = await vpc();
      const c = await vpc();
      const id = linkId();
      const ab = (routes: LinkRoute[]): NetworkLink => ({ linkId: id, networks: [a.vpcId, b.vpcId], routes });
      const good: LinkRoute = { vpcId: a.vpcId, source: `10.${a.second}.1.0/24`, destination: `10.${b.second}.0.0/16` };
      await fabric.connect(ab([good]));
      const before = await fabric.list();
      await rejectsWith(fabric.connect({ linkId: linkId(), networks: [a.vpcId, 'vpc-00000000000000404'], routes: [] }), 'not-found');
      await rejectsWith(fabric.connect({ linkId: linkId(), networks: [a.vpcId, a.vpcId], routes: [] }), 'invalid');
      await rejectsWith(fabric.connect(ab([good, { vpcId: c.vpcId, source: `10.${c.second}.1.0/24`, destination: `10.${a.second}.0.0/16` }])), 'invalid');
      await rejectsWith(fabric.connect(ab([good, { vpcId: b.vpcId, source: 'ten', destination: `10.${a.second}.0.0/16` }])), 'invalid');
      await rejectsWith(fabric.connect(ab([good, { vpcId: b.vpcId, source: `10.${b.second}.1.0/24`, destination: `10.${b.second}.128.0/17` }])), 'invalid');
      await rejectsWith(fabric.connect(ab([good, good])), 'invalid');
      await rejectsWith(fabric.connect({ linkId: id, networks: [a.vpcId, c.vpcId], routes: [] }), 'conflict');
      await rejectsWith(fabric.connect({ linkId: linkId(), networks: [a.vpcId, b.vpcId], routes: [good] }), 'conflict');
      assert.deepEqual((await fabric.list()).links, before.links);
      assert.deepEqual(sorted((await linkOf(id))!.routes), [good]);
      await fabric.disconnect(id);
    });

    test('link-recovery', 'a new driver on the same host finds the links with their routes, and disconnects them', async () => {
      const a = await vpc();
      const b = await vpc();
      const id = linkId();
      const routes: LinkRoute[] = [
        { vpcId: a.vpcId, source: `10.${a.second}.1.0/24`, destination: `10.${b.second}.0.0/16` },
        { vpcId: b.vpcId, source: `10.${b.second}.1.0/24`, destination: `10.${a.second}.1.0/24` },
      ];
      await fabric.connect({ linkId: id, networks: [a.vpcId, b.vpcId], routes });
      const again = await factory();
      try {
        const l = (await again.list()).links.find((x) => x.linkId === id);
        assert.ok(l, 'the link is found again');
        assert.deepEqual([...l.networks].sort(), [a.vpcId, b.vpcId].sort());
        assert.deepEqual(sorted(l.routes), sorted(routes));
        await again.disconnect(id);
        assert.equal((await again.list()).links.find((x) => x.linkId === id), undefined);
      } finally {
        await again.close();
      }
    });

    test('ipv6-plug', 'an interface plugged with IPv6 addresses answers them with /64 and the router address; repeats and refusals as for IPv4', async () => {
      const { req, subnet6, v6 } = await vpc();
      const r = req({ ipv6: v6(0x10, 0x11) });
      const p = await fabric.plug(r);
      assert.deepEqual(p.ipv6, { subnetCidr: subnet6, addresses: v6(0x10, 0x11).addresses.map((a) => `${a}/64`), gateway: subnet6.replace('::/64', '::1') });
      // the same again, addresses in another order or in long form: the same interface
      assert.deepEqual(await fabric.plug({ ...r, ipv6: { subnetCidr: subnet6, addresses: [...r.ipv6!.addresses].reverse() } }), p);
      const long = r.ipv6!.addresses[0]!.replace('::', ':0:0:0:');
      assert.deepEqual(await fabric.plug({ ...r, ipv6: { subnetCidr: subnet6, addresses: [long, r.ipv6!.addresses[1]!] } }), p);
      // other IPv6 addresses for the same interface, or addresses another interface has
      await rejectsWith(fabric.plug({ ...r, ipv6: v6(0x10) }), 'conflict');
      await rejectsWith(fabric.plug(req({ ipv6: v6(0x11) })), 'conflict');
      await rejectsWith(fabric.plug(req({ ipv6: { subnetCidr: subnet6, addresses: ['fd0f:ec20:ffff:1::5'] } })), 'invalid');
      await rejectsWith(fabric.plug(req({ ipv6: v6(1) })), 'invalid');
      await rejectsWith(fabric.plug(req({ ipv6: v6(0x20, 0x20) })), 'invalid');
      await rejectsWith(fabric.plug(req({ ipv6: { subnetCidr: subnet6.replace('/64', '/80'), addresses: [v6(0x20).addresses[0]!] } })), 'invalid');
      const listed = (await fabric.list()).interfaces.filter((i) => i.vpcId === r.vpcId);
      assert.deepEqual(listed.map((i) => i.interfaceId), [r.interfaceId], 'the refusals plugged nothing');
      assert.deepEqual(listed[0]!.ipv6, p.ipv6);
      // an IPv4-only interface has no IPv6 side; empty addresses are none
      const plain = await fabric.plug(req({ ipv6: { subnetCidr: subnet6, addresses: [] } }));
      assert.equal(plain.ipv6, undefined);
      await fabric.unplug(plain.interfaceId);
      await fabric.unplug(r.interfaceId);
      // the addresses are free again
      const again = await fabric.plug(req({ ipv6: v6(0x11) }));
      await fabric.unplug(again.interfaceId);
    });

    test('ipv6-readdress', 'readdress changes IPv6 addresses in place (undefined: unchanged); refusals change nothing', async () => {
      const { req, v6 } = await vpc();
      const r = req({ ipv6: v6(0x10) });
      const other = req({ ipv6: v6(0x30) });
      await fabric.plug(r);
      await fabric.plug(other);
      const bare = (p: { ipv6?: { addresses: string[] } }) => (p.ipv6?.addresses ?? []).map((a) => a.split('/')[0]).sort();
      const grown = await fabric.readdress(r.interfaceId, r.privateIps, v6(0x10, 0x12));
      assert.deepEqual(bare(grown), v6(0x10, 0x12).addresses.sort());
      assert.deepEqual(bare(await fabric.readdress(r.interfaceId, r.privateIps)), v6(0x10, 0x12).addresses.sort(), 'no ipv6 argument: unchanged');
      assert.equal(grown.ifname, 'eth0');
      await rejectsWith(fabric.readdress(r.interfaceId, r.privateIps, v6(0x10, 0x30)), 'conflict');
      await rejectsWith(fabric.readdress(r.interfaceId, r.privateIps, { subnetCidr: v6(0).subnetCidr, addresses: ['fd0f:ec20:ffff:1::5'] }), 'invalid');
      assert.deepEqual(bare((await fabric.list()).interfaces.find((i) => i.interfaceId === r.interfaceId)!), v6(0x10, 0x12).addresses.sort());
      // the same request as now readdressed plugs as the same interface
      await fabric.plug({ ...r, ipv6: v6(0x12, 0x10) });
      const none = await fabric.readdress(r.interfaceId, r.privateIps, v6());
      assert.equal(none.ipv6, undefined);
      // what it gave up is free for another interface
      await fabric.readdress(other.interfaceId, other.privateIps, v6(0x30, 0x12));
      await fabric.unplug(r.interfaceId);
      await fabric.unplug(other.interfaceId);
    });

    test('ipv6-routing', 'routeIpv6 replaces a network’s IPv6 paths, listed canonical; empty: none; refusals change nothing', async () => {
      const { vpcId, block6, subnet6 } = await vpc();
      const second6 = subnet6.replace(':1::/64', ':2::/64');
      const of = async () => (await fabric.list()).ipv6Routing?.find((x) => x.vpcId === vpcId);
      await fabric.routeIpv6({ vpcId, blocks: [block6], internet: [second6, subnet6.replace('::/64', '::7/64')], egressOnly: [] });
      assert.deepEqual(await of(), { vpcId, blocks: [block6], internet: [subnet6, second6].sort(), egressOnly: [] });
      await fabric.routeIpv6({ vpcId, blocks: [block6], internet: [], egressOnly: [subnet6] });
      const now = { vpcId, blocks: [block6], internet: [], egressOnly: [subnet6] };
      assert.deepEqual(await of(), now);
      await rejectsWith(fabric.routeIpv6({ vpcId: 'vpc-00000000000nowhere', blocks: [], internet: [], egressOnly: [] }), 'not-found');
      await rejectsWith(fabric.routeIpv6({ vpcId, blocks: ['2600:1f18:abcd:1200::/56'], internet: [subnet6], egressOnly: [] }), 'invalid');
      await rejectsWith(fabric.routeIpv6({ vpcId, blocks: [block6], internet: ['fd0f::/129'], egressOnly: [] }), 'invalid');
      await rejectsWith(fabric.routeIpv6({ vpcId, blocks: [block6], internet: [subnet6], egressOnly: [subnet6] }), 'invalid');
      assert.deepEqual(await of(), now, 'the refusals changed nothing');
      await fabric.routeIpv6({ vpcId, blocks: [], internet: [], egressOnly: [] });
      assert.equal(await of(), undefined);
      await fabric.removeNetwork(vpcId);
    });

    test('ipv6-recovery', 'a new driver on the same host finds the IPv6 addresses of its interfaces and the networks’ IPv6 routing', async () => {
      const { vpcId, req, block6, subnet6, v6 } = await vpc();
      const r = req({ ipv6: v6(0x10, 0x11) });
      const p = await fabric.plug(r);
      const routing = { vpcId, blocks: [block6], internet: [subnet6], egressOnly: [] };
      await fabric.routeIpv6(routing);
      const again = await factory();
      try {
        const inv = await again.list();
        assert.deepEqual(inv.interfaces.find((i) => i.interfaceId === r.interfaceId)?.ipv6, p.ipv6);
        assert.deepEqual(inv.ipv6Routing?.find((x) => x.vpcId === vpcId), routing);
        // found as plugged: the same request is no conflict
        await again.plug(r);
        await again.routeIpv6({ vpcId, blocks: [], internet: [], egressOnly: [] });
        await again.unplug(r.interfaceId);
      } finally {
        await again.close();
      }
    });

    /** a NAT gateway spec in a fresh VPC: its own subnet 10.x.1.0/24 (as req()'s), routes from 10.x.2.0/24 */
    const natIn = async (over: Partial<NatGatewaySpec> = {}) => {
      const v = await vpc();
      const spec: NatGatewaySpec = {
        natGatewayId: `nat-${hex(9).slice(0, 17)}`,
        vpcId: v.vpcId,
        subnetId: `subnet-${v.vpcId.slice(4)}`,
        subnetCidr: `10.${v.second}.1.0/24`,
        mac: `02:${hex(5).match(/../g)!.join(':')}`,
        privateIp: `10.${v.second}.1.250`,
        routes: [{ source: `10.${v.second}.2.0/24`, destination: '0.0.0.0/0' }],
        ...over,
      };
      return { ...v, spec };
    };
    const natOf = async (id: string) => (await fabric.list()).natGateways.find((g) => g.natGatewayId === id);
    const byRoute = (rs: { source: string; destination: string }[]) => [...rs].sort((x, y) => `${x.source}${x.destination}`.localeCompare(`${y.source}${y.destination}`));

    test('nat-gateways', 'ensureNatGateway puts a gateway on its network with its routes, replaced as a whole; again: the same; removeNatGateway is idempotent', async () => {
      const { spec, second, vpcId } = await natIn({ publicIp: '198.51.100.93' });
      await fabric.ensureNatGateway(spec);
      assert.deepEqual(await natOf(spec.natGatewayId), spec);
      await fabric.ensureNatGateway({ ...spec, mac: spec.mac.toUpperCase(), routes: [...spec.routes] });
      assert.deepEqual(await natOf(spec.natGatewayId), spec, 'the same again changes nothing');
      // the routes replaced: a host address is canonicalized
      const routes = [{ source: `10.${second}.2.0/24`, destination: '192.0.2.0/24' }, { source: `10.${second}.3.9/24`, destination: '0.0.0.0/0' }];
      await fabric.ensureNatGateway({ ...spec, routes });
      assert.deepEqual(byRoute((await natOf(spec.natGatewayId))!.routes), byRoute([routes[0]!, { source: `10.${second}.3.0/24`, destination: '0.0.0.0/0' }]));
      // a private gateway beside it, listed for any instance filter too
      const priv = { ...spec, natGatewayId: `nat-${hex(9).slice(0, 17)}`, mac: `02:${hex(5).match(/../g)!.join(':')}`, privateIp: `10.${second}.1.251`, routes: [] };
      delete (priv as Partial<NatGatewaySpec>).publicIp;
      await fabric.ensureNatGateway(priv);
      assert.ok((await fabric.list({ instanceId: 'i-00000000000000000' })).natGateways.some((g) => g.natGatewayId === priv.natGatewayId));
      await rejectsWith(fabric.removeNetwork(vpcId), 'in-use');
      await fabric.removeNatGateway(spec.natGatewayId);
      await fabric.removeNatGateway(priv.natGatewayId);
      assert.equal(await natOf(spec.natGatewayId), undefined);
      await fabric.removeNatGateway(spec.natGatewayId);
      // its address, MAC and Elastic IP are free again
      const r = req0(spec, second);
      await fabric.plug(r);
      await fabric.mapPublicIp({ publicIp: spec.publicIp!, privateIp: r.privateIps[0]!, interfaceId: r.interfaceId, vpcId });
      await fabric.unplug(r.interfaceId);
      await fabric.removeNetwork(vpcId);
    });

    /** an interface with the gateway's subnet, address and MAC */
    const req0 = (spec: NatGatewaySpec, second: number): PlugRequest => ({
      interfaceId: `eni-${hex(9).slice(0, 17)}`,
      instanceId: `i-${hex(9).slice(0, 17)}`,
      vpcId: spec.vpcId,
      subnetId: spec.subnetId,
      subnetCidr: `10.${second}.1.0/24`,
      mac: spec.mac,
      privateIps: [spec.privateIp],
      deviceIndex: 0,
    });

    test('nat-refusals', 'an unknown network is not-found; a route from its own subnet, a bad MAC or address, a repeated route are invalid; an address, MAC, Elastic IP or route held elsewhere is a conflict; nothing changes', async () => {
      const { spec, second, req } = await natIn({ publicIp: '198.51.100.94' });
      const r = req();
      await fabric.plug(r);
      await fabric.mapPublicIp({ publicIp: '198.51.100.95', privateIp: r.privateIps[0]!, interfaceId: r.interfaceId, vpcId: r.vpcId });
      await fabric.ensureNatGateway(spec);
      const before = await fabric.list();
      const other = { ...spec, natGatewayId: `nat-${hex(9).slice(0, 17)}`, mac: `02:${hex(5).match(/../g)!.join(':')}`, privateIp: `10.${second}.1.252` };
      delete (other as Partial<NatGatewaySpec>).publicIp;
      const route = spec.routes[0]!;
      await rejectsWith(fabric.ensureNatGateway({ ...other, vpcId: 'vpc-00000000000000404' }), 'not-found');
      await rejectsWith(fabric.ensureNatGateway({ ...other, routes: [{ source: `10.${second}.1.0/24`, destination: '0.0.0.0/0' }] }), 'invalid');
      await rejectsWith(fabric.ensureNatGateway({ ...other, mac: 'not-a-mac', routes: [] }), 'invalid');
      await rejectsWith(fabric.ensureNatGateway({ ...other, privateIp: '192.0.2.10', routes: [] }), 'invalid');
      await rejectsWith(fabric.ensureNatGateway({ ...other, routes: [{ source: `10.${second}.3.0/24`, destination: 'ten' }] }), 'invalid');
      await rejectsWith(fabric.ensureNatGateway({ ...other, routes: [{ source: `10.${second}.3.0/24`, destination: '0.0.0.0/0' }, { source: `10.${second}.3.0/24`, destination: '0.0.0.0/0' }] }), 'invalid');
      await rejectsWith(fabric.ensureNatGateway({ ...spec, privateIp: `10.${second}.1.253` }), 'conflict');
      await rejectsWith(fabric.ensureNatGateway({ ...other, privateIp: r.privateIps[0]!, routes: [] }), 'conflict');
      await rejectsWith(fabric.ensureNatGateway({ ...other, mac: r.mac, routes: [] }), 'conflict');
      await rejectsWith(fabric.ensureNatGateway({ ...other, privateIp: spec.privateIp, routes: [] }), 'conflict');
      await rejectsWith(fabric.ensureNatGateway({ ...other, publicIp: '198.51.100.95', routes: [] }), 'conflict');
      await rejectsWith(fabric.ensureNatGateway({ ...other, publicIp: spec.publicIp!, routes: [] }), 'conflict');
      await rejectsWith(fabric.ensureNatGateway({ ...other, routes: [route] }), 'conflict');
      await rejectsWith(fabric.plug(req({ privateIps: [spec.privateIp] })), 'conflict');
      await rejectsWith(fabric.plug(req({ mac: spec.mac })), 'conflict');
      await rejectsWith(fabric.mapPublicIp({ publicIp: spec.publicIp!, privateIp: r.privateIps[0]!, interfaceId: r.interfaceId, vpcId: r.vpcId }), 'conflict');
      const after = await fabric.list();
      assert.deepEqual(after.natGateways, before.natGateways);
      assert.deepEqual(after.interfaces.map((i) => i.interfaceId).sort(), before.interfaces.map((i) => i.interfaceId).sort());
      assert.deepEqual(after.publicIps, before.publicIps);
      await fabric.removeNatGateway(spec.natGatewayId);
      await fabric.unplug(r.interfaceId);
    });

    test('nat-recovery', 'a new driver on the same host finds the NAT gateways with their routes, and removes them', async () => {
      const { spec, second } = await natIn({ publicIp: '198.51.100.96' });
      const full = { ...spec, routes: [...spec.routes, { source: `10.${second}.4.0/24`, destination: '192.0.2.0/24' }] };
      await fabric.ensureNatGateway(full);
      const again = await factory();
      try {
        const g = (await again.list()).natGateways.find((x) => x.natGatewayId === spec.natGatewayId);
        assert.ok(g, 'the gateway is found again');
        assert.deepEqual({ ...g, routes: byRoute(g.routes) }, { ...full, routes: byRoute(full.routes) });
        await again.ensureNatGateway(full);
        await again.removeNatGateway(spec.natGatewayId);
        assert.equal((await again.list()).natGateways.find((x) => x.natGatewayId === spec.natGatewayId), undefined);
      } finally {
        await again.close();
      }
    });
  });
}
