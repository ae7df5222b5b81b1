/**
 * The instance reconciler and the host resources it prepares for the
 * Hypervisor (BlockStore volumes, Fabric plugs, Firewall rule sets, public IP
 * mappings), the drivers' event streams, and the console tail kept apart
 * from the instance document.
 */
import { volumesOfInstance } from '../../src/resources/ec2/volumes.js';
import type { VolumeRecord } from '../../src/resources/ec2/records.js';
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { MockHypervisor } from '../../src/compute/drivers/mock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { instanceState, type InstanceStateName } from '../../src/domain/lifecycle.js';
import { MockFabric } from '../../src/network/drivers/mock-fabric.js';
import { MockFirewall } from '../../src/network/drivers/mock-firewall.js';
import { InstanceReconciler } from '../../src/reconcile/instances.js';
import { groupSetName } from '../../src/reconcile/security-rules.js';
import {
  CONSOLE_TAIL_BYTES,
  consoleOutputCollection,
  consoleOutputOf,
  consoleTail,
  eniCollection,
  instanceCollection,
  type StoredInstance,
} from '../../src/resources/ec2/instances.js';
import type { AddressRecord, NetworkInterfaceRecord, SecurityGroupRecord, SubnetRecord, VpcRecord } from '../../src/resources/ec2/records.js';
import { MockBlockStore } from '../../src/storage/drivers/mock.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';

const REGION = 'us-east-1';
const VPC = 'vpc-0000000000000000a';
const SUBNET = 'subnet-0000000000000000a';
const SG = 'sg-0000000000000000a';

interface F {
  store: SqliteStore;
  config: Config;
  driver: MockHypervisor;
  fabric: MockFabric;
  firewall: MockFirewall;
  blockStore: MockBlockStore;
  rec: InstanceReconciler;
  logs: string[];
}

function fixture(): F {
  const store = new SqliteStore(':memory:');
  const config: Config = { ...loadConfig([], {}), dataDir: ':memory:' };
  const driver = new MockHypervisor();
  const fabric = new MockFabric();
  const firewall = new MockFirewall();
  const blockStore = new MockBlockStore();
  const logs: string[] = [];
  // resyncMs 0: whatever happens without an API call here happens through an event stream
  const rec = new InstanceReconciler({ store, config, driver, fabric, firewall, blockStore, log: (l) => logs.push(l), retryBaseMs: 5, resyncMs: 0 });
  store.collection(KINDS.vpc).put(REGION, VPC, { VpcId: VPC, CidrBlock: '10.1.0.0/16', IsDefault: false, EnableDnsSupport: true, EnableDnsHostnames: false });
  store.collection(KINDS.subnet).put(REGION, SUBNET, { SubnetId: SUBNET, VpcId: VPC, CidrBlock: '10.1.2.0/24', AvailabilityZone: 'us-east-1a', MapPublicIpOnLaunch: false, DefaultForAz: false });
  store.collection(KINDS.securityGroup).put(REGION, SG, {
    GroupId: SG,
    GroupName: 'web',
    VpcId: VPC,
    IpPermissions: [
      { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] },
      { IpProtocol: '-1', IpRanges: [], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [{ GroupId: SG }] },
      { IpProtocol: 'icmp', FromPort: 8, ToPort: -1, IpRanges: [{ CidrIp: '10.0.0.0/8' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }], PrefixListIds: [], UserIdGroupPairs: [] },
    ],
    IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] }],
  });
  return { store, config, driver, fabric, firewall, blockStore, rec, logs };
}

let serial = 0;

function seed(
  f: F,
  opts: { publicIp?: string; eip?: string; shutdown?: 'stop' | 'terminate'; userData?: string; extraVolume?: boolean; groups?: string[]; ipv6?: string[] } = {},
): string {
  serial++;
  const hex = serial.toString(16).padStart(17, '0');
  const id = `i-${hex}`;
  const eniId = `eni-${hex}`;
  const ip = `10.1.2.${10 + serial}`;
  const eni: NetworkInterfaceRecord = {
    NetworkInterfaceId: eniId,
    SubnetId: SUBNET,
    VpcId: VPC,
    AvailabilityZone: 'us-east-1a',
    PrivateIpAddress: ip,
    MacAddress: `02:00:00:00:01:${(serial % 256).toString(16).padStart(2, '0')}`,
    Groups: (opts.groups ?? [SG]).map((g) => ({ GroupId: g, GroupName: g === SG ? 'web' : g })),
    Status: 'in-use',
    attachment: { AttachmentId: `eni-attach-${hex}`, InstanceId: id, DeviceIndex: 0, AttachTime: new Date().toISOString(), DeleteOnTermination: true },
  };
  if (opts.ipv6) eni.Ipv6Addresses = opts.ipv6.map((a) => ({ Ipv6Address: a }));
  if (opts.eip) eni.association = { PublicIp: opts.eip, allocationId: `eipalloc-${hex}`, associationId: `eipassoc-${hex}` };
  else if (opts.publicIp) eni.association = { PublicIp: opts.publicIp };
  eniCollection(f).put(REGION, eniId, eni);
  const rec: StoredInstance = {
    InstanceId: id,
    ImageId: 'ami-0000000000000000a',
    InstanceType: 't3.micro',
    SubnetId: SUBNET,
    VpcId: VPC,
    PrivateIpAddress: ip,
    State: instanceState('pending'),
    LaunchTime: new Date().toISOString(),
    usageOperationUpdateTime: new Date().toISOString(),
    SecurityGroups: (opts.groups ?? [SG]).map((g) => ({ GroupId: g, GroupName: g === SG ? 'web' : g })),
    networkInterfaceIds: [eniId],
    reservationId: 'r-0000000000000000a',
    ownerId: '123456789012',
    desired: 'running',
    rebootGeneration: 0,
    hibernate: false,
    userData: opts.userData,
    disableApiTermination: false,
    disableApiStop: false,
    instanceInitiatedShutdownBehavior: opts.shutdown ?? 'stop',
    Placement: { AvailabilityZone: 'us-east-1a' },
    RootDeviceName: '/dev/xvda',
    publicIpOnStart: false,
  };
  instanceCollection(f).put(REGION, id, rec);
  const volume = (volumeId: string, device: string, size: number, deleteOnTermination: boolean, origin: VolumeRecord['origin']): void =>
    f.store.collection(KINDS.volume).put(REGION, volumeId, {
      VolumeId: volumeId,
      Size: size,
      AvailabilityZone: 'us-east-1a',
      State: 'in-use',
      CreateTime: new Date().toISOString(),
      VolumeType: 'gp3',
      SnapshotId: '',
      Encrypted: false,
      MultiAttachEnabled: false,
      origin,
      ownerId: '123456789012',
      autoEnableIO: false,
      attachments: [{ InstanceId: id, Device: device, State: 'attached', AttachTime: new Date().toISOString(), DeleteOnTermination: deleteOnTermination }],
    });
  volume(`vol-${hex}`, '/dev/xvda', 8, true, { kind: 'image', imageId: 'ami-0000000000000000a', deviceName: '/dev/xvda' });
  if (opts.extraVolume) volume(`vol-${hex.slice(0, -1)}f`, '/dev/sdf', 20, false, { kind: 'empty' });
  f.rec.handle({ kind: 'instance', region: REGION, id });
  return id;
}

const get = (f: F, id: string) => instanceCollection(f).get(REGION, id)!;

/** The instance's volumes, root first. */
const volumeIds = (f: F, id: string): string[] =>
  volumesOfInstance({ store: f.store, region: REGION }, id)
    .sort((a, b) => (a.attachments[0]!.Device === '/dev/xvda' ? -1 : b.attachments[0]!.Device === '/dev/xvda' ? 1 : 0))
    .map((v) => v.VolumeId);

function act(f: F, id: string, state: InstanceStateName, desired: StoredInstance['desired']): void {
  const r = get(f, id);
  instanceCollection(f).put(REGION, id, { ...r, State: instanceState(state), desired });
  f.rec.handle({ kind: 'instance', region: REGION, id });
}

describe('instance reconciler: prepared resources', () => {
  let f: F;
  beforeEach(async () => {
    f = fixture();
    await f.rec.start();
  });
  afterEach(async () => {
    await f.rec.stop();
    f.store.close();
  });

  it('launch: root volume from the image, plugged interface, resolved rule set, public IP — and the Hypervisor gets only host resources', async () => {
    const id = seed(f, { eip: '198.51.100.30', extraVolume: true });
    const peer = seed(f);
    await f.rec.idle();
    assert.equal(get(f, id).State.Name, 'running');
    const vols = await f.blockStore.listVolumes();
    const root = vols.find((v) => v.volumeId === volumeIds(f, id)[0])!;
    assert.deepEqual(root.source, { kind: 'image', imageId: 'ami-0000000000000000a', deviceName: '/dev/xvda' });
    assert.equal(root.attachment?.instanceId, id);
    const spec = f.driver.specOf(id)!;
    assert.deepEqual(
      spec.blockDevices.map((d) => [d.deviceName, d.root]),
      [['/dev/xvda', true], ['/dev/sdf', false]],
    );
    assert.equal(spec.blockDevices[0]!.path, root.attachment!.devicePath);
    const eniId = get(f, id).networkInterfaceIds[0]!;
    const plugged = (await f.fabric.list({ instanceId: id })).interfaces;
    assert.deepEqual(plugged.map((p) => p.interfaceId), [eniId]);
    assert.equal(spec.network[0]!.netns, plugged[0]!.netns);
    assert.equal(spec.network[0]!.ifname, plugged[0]!.ifname);
    assert.deepEqual(spec.network[0]!.addresses, [`${get(f, id).PrivateIpAddress}/24`]);
    assert.equal(spec.network[0]!.gateway, '10.1.2.1');
    assert.equal(spec.network[0]!.publicIp, '198.51.100.30');
    assert.ok(!('imageId' in spec) && !('securityGroupIds' in spec.network[0]!), 'no EC2 ids to look up');
    assert.deepEqual((await f.fabric.list({ instanceId: id })).publicIps, [
      { publicIp: '198.51.100.30', privateIp: get(f, id).PrivateIpAddress, interfaceId: eniId, vpcId: VPC },
    ]);
    // the security group, resolved: SSH from anywhere, everything from the group's members, ping from 10/8
    const rules = (await f.firewall.get(eniId))!.rules;
    assert.ok(rules.some((r) => r.protocol === 'tcp' && r.fromPort === 22 && r.cidr === '0.0.0.0/0'));
    assert.ok(rules.some((r) => r.protocol === 'all' && r.addressSet === groupSetName(SG)));
    assert.ok(rules.some((r) => r.protocol === 'icmp' && r.icmpType === 8 && r.icmpCode === undefined && r.cidr === '10.0.0.0/8'));
    assert.ok(!rules.some((r) => r.protocol === 'icmp' && r.cidr === '::/0'), 'an IPv4 ICMP rule drops its IPv6 peers');
    const peerIp = get(f, peer).PrivateIpAddress;
    assert.ok(f.firewall.admits(eniId, { direction: 'ingress', protocol: 'udp', peer: peerIp, port: 5000 }), 'a group member gets in');
    assert.ok(!f.firewall.admits(eniId, { direction: 'ingress', protocol: 'udp', peer: '10.9.9.9', port: 5000 }), 'a stranger does not');
    assert.ok(f.firewall.admits(eniId, { direction: 'egress', protocol: 'tcp', peer: '1.1.1.1', port: 443 }));
    assert.equal(f.firewall.calls.filter((c) => c.startsWith('putAddressSet')).length, 1, 'one set for the group, not one per member');
    // a member that goes away leaves the set at once
    act(f, peer, 'shutting-down', 'terminated');
    await f.rec.idle();
    assert.ok(!f.firewall.admits(eniId, { direction: 'ingress', protocol: 'udp', peer: peerIp, port: 5000 }), 'a terminated member no longer gets in');
    assert.ok(f.firewall.admits(eniId, { direction: 'ingress', protocol: 'udp', peer: get(f, id).PrivateIpAddress, port: 5000 }));
  });

  it('the subnet’s network ACL goes to the firewall with the interface, and follows entry changes', async () => {
    const acl = 'acl-0000000000000000a';
    const allow = { RuleNumber: 100, Protocol: '-1', RuleAction: 'allow' as const, CidrBlock: '0.0.0.0/0' };
    const star = { RuleNumber: 32767, Protocol: '-1', RuleAction: 'deny' as const, CidrBlock: '0.0.0.0/0' };
    f.store.collection(KINDS.networkAcl).put(REGION, acl, {
      NetworkAclId: acl,
      VpcId: VPC,
      OwnerId: '123456789012',
      IsDefault: true,
      Entries: [{ ...allow, Egress: true }, { ...star, Egress: true }, { ...allow, Egress: false }, { ...star, Egress: false }],
      Associations: [{ NetworkAclAssociationId: 'aclassoc-0000000000000000a', NetworkAclId: acl, SubnetId: SUBNET }],
    });
    seed(f);
    await f.rec.idle();
    const installed = await f.firewall.getSubnetAcl(SUBNET);
    assert.ok(installed, 'installed with the instance');
    assert.equal(installed.aclId, acl);
    assert.deepEqual(installed.cidrs, ['10.1.2.0/24']);
    assert.deepEqual(installed.entries.map((e) => `${e.egress}:${e.ruleNumber}:${e.action}`), ['false:100:allow', 'true:100:allow'], 'the * entries are the firewall’s implicit deny');
    assert.ok(f.firewall.aclAdmits(SUBNET, false, { protocol: 'tcp', peer: '1.2.3.4', port: 22 }));
    // a deny entry before the allow: the live instance's subnet gets it on the change event
    const rec = f.store.collection(KINDS.networkAcl).get(REGION, acl)!;
    const entries = [...rec.Entries, { RuleNumber: 50, Protocol: '6', RuleAction: 'deny' as const, Egress: false, CidrBlock: '1.2.3.0/24', PortRange: { From: 22, To: 22 } }];
    f.store.collection(KINDS.networkAcl).put(REGION, acl, { ...rec, Entries: entries });
    f.rec.handle({ kind: 'network-acl', region: REGION, id: acl });
    await f.rec.idle();
    assert.ok(!f.firewall.aclAdmits(SUBNET, false, { protocol: 'tcp', peer: '1.2.3.4', port: 22 }), 'denied by entry 50');
    assert.ok(f.firewall.aclAdmits(SUBNET, false, { protocol: 'tcp', peer: '1.2.4.4', port: 22 }), 'others still allowed by 100');
  });

  it('stop unmaps the auto-assigned public IP but keeps an Elastic IP; terminate unplugs, deletes DeleteOnTermination volumes, removes the rule set', async () => {
    f.store.collection(KINDS.elasticIp).put(REGION, 'eipalloc-x', { AllocationId: 'eipalloc-x', PublicIp: '198.51.100.31', Domain: 'vpc' });
    const auto = seed(f, { publicIp: '198.51.100.32' });
    const elastic = seed(f, { eip: '198.51.100.31', extraVolume: true });
    await f.rec.idle();
    for (const id of [auto, elastic]) act(f, id, 'stopping', 'stopped');
    await f.rec.idle();
    assert.equal(get(f, auto).State.Name, 'stopped');
    assert.deepEqual((await f.fabric.list({ instanceId: auto })).publicIps, [], 'the auto-assigned address no longer routes');
    assert.deepEqual((await f.fabric.list({ instanceId: elastic })).publicIps.map((m) => m.publicIp), ['198.51.100.31']);
    assert.equal((await f.fabric.list({ instanceId: auto })).interfaces.length, 1, 'a stopped instance keeps its interface');

    const eniId = get(f, elastic).networkInterfaceIds[0]!;
    const [rootVol, dataVol] = volumeIds(f, elastic);
    act(f, elastic, 'shutting-down', 'terminated');
    await f.rec.idle();
    assert.equal(get(f, elastic).State.Name, 'terminated');
    assert.deepEqual(await f.fabric.list({ instanceId: elastic }), { networks: (await f.fabric.list()).networks, interfaces: [], publicIps: [], links: [], natGateways: [] });
    assert.equal(await f.firewall.get(eniId), undefined);
    const vols = await f.blockStore.listVolumes();
    assert.ok(!vols.some((v) => v.volumeId === rootVol), 'the DeleteOnTermination root is deleted');
    const data = vols.find((v) => v.volumeId === dataVol);
    assert.ok(data && data.attachment === undefined, 'the other volume stays, detached');
  });

  it('a failed preparation (the pool is full) fails the launch and releases what was prepared', async () => {
    await f.rec.stop();
    f.store.close();
    f = fixture();
    const full = new MockBlockStore({ capacityGiB: 4 });
    f.blockStore = full;
    f.rec = new InstanceReconciler({ store: f.store, config: f.config, driver: f.driver, fabric: f.fabric, firewall: f.firewall, blockStore: full, log: (l) => f.logs.push(l), retryBaseMs: 5, resyncMs: 0 });
    await f.rec.start();
    const id = seed(f);
    await f.rec.idle();
    assert.equal(get(f, id).State.Name, 'terminated');
    assert.equal(get(f, id).StateReason?.Code, 'Server.InternalError');
    assert.ok(f.logs.some((l) => l.includes('no room')), f.logs.join('\n'));
    assert.equal(await f.driver.describe(id), undefined);
    assert.deepEqual((await f.fabric.list({ instanceId: id })).interfaces, []);
  });

  it('a security group change re-applies the rule sets of the live instances; resync repairs drift nobody reported', async () => {
    const id = seed(f);
    await f.rec.idle();
    const eniId = get(f, id).networkInterfaceIds[0]!;
    assert.ok(!f.firewall.admits(eniId, { direction: 'ingress', protocol: 'tcp', peer: '203.0.113.9', port: 443 }));
    const col = f.store.collection(KINDS.securityGroup);
    const g = structuredClone(col.get(REGION, SG)!);
    g.IpPermissions!.push({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '203.0.113.0/24' }], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [] });
    col.put(REGION, SG, g);
    f.rec.handle({ kind: 'security-group', region: REGION, id: SG });
    await f.rec.idle();
    assert.ok(f.firewall.admits(eniId, { direction: 'ingress', protocol: 'tcp', peer: '203.0.113.9', port: 443 }));
    // someone flushes the rules behind the reconciler's back: no event, the resync puts them back
    await f.firewall.remove(eniId);
    assert.equal(await f.rec.resync(), 1);
    await f.rec.idle();
    assert.ok(f.firewall.admits(eniId, { direction: 'ingress', protocol: 'tcp', peer: '203.0.113.9', port: 443 }));
  });

  it("a rule naming a group admits its members' IPv6 addresses too, and follows their assignment", async () => {
    const SG2 = 'sg-0000000000000000b';
    f.store.collection(KINDS.securityGroup).put(REGION, SG2, {
      GroupId: SG2,
      GroupName: 'app',
      VpcId: VPC,
      IpPermissions: [
        { IpProtocol: 'tcp', FromPort: 8080, ToPort: 8080, IpRanges: [], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [{ GroupId: SG }] },
        { IpProtocol: 'icmpv6', FromPort: -1, ToPort: -1, IpRanges: [], Ipv6Ranges: [], PrefixListIds: [], UserIdGroupPairs: [{ GroupId: SG }] },
      ],
      IpPermissionsEgress: [],
    });
    const target = seed(f, { groups: [SG2] });
    const peer = seed(f, { ipv6: ['fd0f:ec20:0:1::a'] });
    await f.rec.idle();
    const eniId = get(f, target).networkInterfaceIds[0]!;
    const rules = (await f.firewall.get(eniId))!.rules;
    assert.ok(rules.some((r) => r.protocol === 'icmpv6' && r.addressSet === groupSetName(SG)), 'an ICMPv6 rule on a group is kept');
    const tcp = (peerAddress: string, port = 8080) => f.firewall.admits(eniId, { direction: 'ingress', protocol: 'tcp', peer: peerAddress, port });
    const ping6 = (peerAddress: string) => f.firewall.admits(eniId, { direction: 'ingress', protocol: 'icmpv6', peer: peerAddress, icmpType: 128, icmpCode: 0 });
    assert.ok(tcp(get(f, peer).PrivateIpAddress), 'the member by IPv4');
    assert.ok(tcp('fd0f:ec20:0:1::a'), 'the member by IPv6');
    assert.ok(!tcp('fd0f:ec20:0:1::a', 9090), 'only on the rule\'s port');
    assert.ok(!tcp('fd0f:ec20:0:1::b'), 'not a stranger in the same /64');
    assert.ok(ping6('fd0f:ec20:0:1::a'), 'ICMPv6 from the member');
    assert.ok(!f.firewall.admits(eniId, { direction: 'ingress', protocol: 'icmpv6', peer: get(f, peer).PrivateIpAddress, icmpType: 128 }), 'ICMPv6 matches IPv6 peers only');
    // AssignIpv6Addresses / UnassignIpv6Addresses on the member: the set follows
    const col = eniCollection(f);
    const peerEni = get(f, peer).networkInterfaceIds[0]!;
    const assign = (addresses: string[]): void => {
      col.put(REGION, peerEni, { ...structuredClone(col.get(REGION, peerEni)!), Ipv6Addresses: addresses.map((a) => ({ Ipv6Address: a })) });
      f.rec.handle({ kind: 'network-interface', region: REGION, id: peerEni });
    };
    assign(['fd0f:ec20:0:1::a', 'fd0f:ec20:0:1::c']);
    await f.rec.idle();
    assert.ok(tcp('fd0f:ec20:0:1::c'), 'a newly assigned address gets in');
    assign(['fd0f:ec20:0:1::c']);
    await f.rec.idle();
    assert.ok(!tcp('fd0f:ec20:0:1::a'), 'an unassigned address no longer does');
    assert.ok(tcp('fd0f:ec20:0:1::c'));
    // the member goes away: none of its addresses gets in
    act(f, peer, 'shutting-down', 'terminated');
    await f.rec.idle();
    assert.ok(!tcp('fd0f:ec20:0:1::c') && !tcp(get(f, peer).PrivateIpAddress));
  });

  it('a lost interface (fabric event) is plugged again without any API call', async () => {
    const id = seed(f);
    await f.rec.idle();
    const eniId = get(f, id).networkInterfaceIds[0]!;
    f.fabric.lose(eniId);
    await f.rec.idle();
    assert.deepEqual((await f.fabric.list({ instanceId: id })).interfaces.map((i) => i.interfaceId), [eniId]);
  });
});

describe('instance reconciler: the guest shuts itself down (driver event stream, no API call, no resync)', () => {
  let f: F;
  beforeEach(async () => {
    f = fixture();
    await f.rec.start();
  });
  afterEach(async () => {
    await f.rec.stop();
    f.store.close();
  });

  it('InstanceInitiatedShutdownBehavior=stop: running → stopping → stopped, public IP unmapped', async () => {
    const id = seed(f, { publicIp: '198.51.100.40' });
    await f.rec.idle();
    assert.equal(get(f, id).State.Name, 'running');
    f.driver.guestPowerOff(id);
    await f.rec.idle();
    const r = get(f, id);
    assert.equal(r.State.Name, 'stopped');
    assert.equal(r.desired, 'stopped');
    assert.equal(r.StateReason?.Code, 'Client.InstanceInitiatedShutdown');
    assert.deepEqual((await f.fabric.list({ instanceId: id })).publicIps, []);
    assert.equal(eniCollection(f).get(REGION, r.networkInterfaceIds[0]!)!.association, undefined);
    assert.match(consoleOutputOf({ store: f.store, region: REGION }, r), /Power down/);
  });

  it('InstanceInitiatedShutdownBehavior=terminate: running → shutting-down → terminated, resources released', async () => {
    const id = seed(f, { shutdown: 'terminate' });
    await f.rec.idle();
    const eniId = get(f, id).networkInterfaceIds[0]!;
    f.driver.guestPowerOff(id);
    await f.rec.idle();
    const r = get(f, id);
    assert.equal(r.State.Name, 'terminated');
    assert.equal(r.desired, 'terminated');
    assert.equal(r.StateReason?.Code, 'Client.InstanceInitiatedShutdown');
    assert.equal(await f.driver.describe(id), undefined);
    assert.equal(await f.firewall.get(eniId), undefined);
    assert.deepEqual((await f.fabric.list({ instanceId: id })).interfaces, []);
  });

  it('user data ending in poweroff: the guest stops by itself after its first boot', async () => {
    const id = seed(f, { userData: Buffer.from('#!/bin/sh\necho done\npoweroff\n').toString('base64') });
    for (let i = 0; i < 100 && get(f, id).State.Name !== 'stopped'; i++) {
      await f.rec.idle();
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(get(f, id).State.Name, 'stopped');
    assert.equal(get(f, id).StateReason?.Code, 'Client.InstanceInitiatedShutdown');
  });

  it('a crashed machine process is also a guest shutdown', async () => {
    const id = seed(f);
    await f.rec.idle();
    f.driver.crash(id);
    await f.rec.idle();
    assert.equal(get(f, id).State.Name, 'stopped');
  });

  it('a machine the host lost is launched again', async () => {
    const id = seed(f);
    await f.rec.idle();
    f.driver.lose(id);
    await f.rec.idle();
    assert.equal(await f.driver.describe(id), 'running');
    assert.equal(get(f, id).State.Name, 'running');
  });
});

describe('console output: a bounded tail apart from the instance document', () => {
  it('consoleTail keeps the last 64 KiB, never starting inside a character', () => {
    assert.equal(CONSOLE_TAIL_BYTES, 65536);
    assert.equal(consoleTail('short'), 'short');
    const big = 'x'.repeat(70_000) + 'THE END';
    const t = consoleTail(big);
    assert.equal(Buffer.byteLength(t), 65536);
    assert.ok(t.endsWith('THE END'));
    const wide = '€'.repeat(30_000); // 3 bytes each: 90,000 bytes
    const w = consoleTail(wide);
    assert.ok(Buffer.byteLength(w) <= 65536 && Buffer.byteLength(w) > 65536 - 3);
    assert.ok(/^€+$/.test(w), 'whole characters only');
  });

  it('the reconciler stores at most 64 KiB per instance in its own collection, not in the instance record', async () => {
    const f = fixture();
    await f.rec.start();
    const id = seed(f);
    await f.rec.idle();
    f.driver.writeConsole(id, 'y'.repeat(100_000));
    f.driver.writeConsole(id, 'latest line');
    await f.rec.resync();
    await f.rec.idle();
    const stored = consoleOutputCollection(f).get(REGION, id)!;
    assert.equal(Buffer.byteLength(stored.output), 65536);
    assert.ok(stored.output.trimEnd().endsWith('latest line'));
    assert.ok(Buffer.byteLength(await f.driver.consoleOutput(id)) > 100_000, 'the driver has more than is kept');
    const doc = get(f, id);
    assert.equal(doc.consoleOutput, undefined, 'the instance document carries no console text');
    assert.ok(JSON.stringify(doc).length < 4096);
    // purged with the instance
    act(f, id, 'shutting-down', 'terminated');
    await f.rec.idle();
    const r = get(f, id);
    instanceCollection(f).put(REGION, id, { ...r, terminatedAt: Date.now() - 2 * 3600_000 });
    assert.equal(f.rec.purge(), 1);
    assert.equal(consoleOutputCollection(f).get(REGION, id), undefined);
    await f.rec.stop();
    f.store.close();
  });
});
