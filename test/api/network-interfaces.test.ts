import {
  AllocateAddressCommand,
  AssignIpv6AddressesCommand,
  AssignPrivateIpAddressesCommand,
  AssociateAddressCommand,
  AttachInternetGatewayCommand,
  AttachNetworkInterfaceCommand,
  CreateInternetGatewayCommand,
  CreateNetworkInterfaceCommand,
  CreateNetworkInterfacePermissionCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteNetworkInterfaceCommand,
  DeleteNetworkInterfacePermissionCommand,
  DeleteSecurityGroupCommand,
  DeleteSubnetCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacePermissionsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeVpcsCommand,
  DetachNetworkInterfaceCommand,
  ModifySubnetAttributeCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  UnassignIpv6AddressesCommand,
  UnassignPrivateIpAddressesCommand,
  type EC2Client,
  type Filter,
  type Instance,
  type NetworkInterface,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Dispatcher } from '../../src/api/dispatcher.js';
import { ec2Modules } from '../../src/api/ec2/index.js';
import { formatIpv6, parseCidr6 } from '../../src/domain/cidr.js';
import { MockHypervisor } from '../../src/compute/drivers/mock.js';
import { loadConfig, type Config } from '../../src/config.js';
import { MockFabric } from '../../src/network/drivers/mock-fabric.js';
import { InstanceReconciler } from '../../src/reconcile/instances.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

const NO_SUCH_ENI = 'eni-0123456789abcdef0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('network interfaces: create, attach, detach, addresses, delete', () => {
  let t: TestServer;
  let c: EC2Client;
  let ami: string;
  let vpcId: string;
  let subnetA: string;
  let subnetA2: string;
  let subnetB: string;
  let v6Subnet: string;
  let seq = 0;
  const uniq = (p: string) => `${p}-${++seq}`;

  before(async () => {
    t = await startTestServer({ mockDelayMs: 5, publicIpPool: '203.0.113.16/28' });
    c = t.client();
    ami = (await c.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
    vpcId = (await c.send(new CreateVpcCommand({ CidrBlock: '10.20.0.0/16', AmazonProvidedIpv6CidrBlock: true }))).Vpc!.VpcId!;
    const sub = async (cidr: string, zone: string, ipv6?: string) =>
      (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: cidr, AvailabilityZone: zone, Ipv6CidrBlock: ipv6 }))).Subnet!.SubnetId!;
    subnetA = await sub('10.20.1.0/24', 'us-east-1a');
    subnetA2 = await sub('10.20.2.0/24', 'us-east-1a');
    subnetB = await sub('10.20.3.0/24', 'us-east-1b');
    const vpc = (await c.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0]!;
    // the fifth /64 of the VPC's /56
    const v6 = parseCidr6(vpc.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!)!;
    v6Subnet = await sub('10.20.4.0/24', 'us-east-1a', `${formatIpv6(v6.address + (4n << 64n))}/64`);
  });
  after(() => t.close());

  const eni = async (id: string): Promise<NetworkInterface> =>
    (await c.send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] }))).NetworkInterfaces![0]!;
  const instance = async (id: string): Promise<Instance> =>
    (await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!;
  const create = async (input: Omit<ConstructorParameters<typeof CreateNetworkInterfaceCommand>[0], 'SubnetId'> & { SubnetId?: string } = {}) =>
    (await c.send(new CreateNetworkInterfaceCommand({ SubnetId: subnetA, ...input }))).NetworkInterface!;
  async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
    for (let i = 0; i < 300; i++) {
      const v = await fn();
      if (v !== undefined) return v;
      await sleep(10);
    }
    throw new Error(`timed out waiting for ${what}`);
  }
  const attachedStatus = (id: string, status: string) =>
    until(`${id} ${status}`, async () => {
      const e = await eni(id);
      return e.Attachment?.Status === status ? e : undefined;
    });
  const available = (id: string) =>
    until(`${id} available`, async () => {
      const e = await eni(id);
      return e.Status === 'available' ? e : undefined;
    });
  async function launch(extra: Partial<ConstructorParameters<typeof RunInstancesCommand>[0]> = {}): Promise<Instance> {
    const input = { ImageId: ami, MinCount: 1, MaxCount: 1, ...extra };
    if (!input.NetworkInterfaces) Object.assign(input, { SubnetId: extra.SubnetId ?? subnetA });
    const i = (await c.send(new RunInstancesCommand(input))).Instances![0]!;
    await until('running', async () => ((await instance(i.InstanceId!)).State?.Name === 'running' ? true : undefined));
    return i;
  }
  const ids = async (filters: Filter[]) =>
    (await c.send(new DescribeNetworkInterfacesCommand({ Filters: filters }))).NetworkInterfaces!.map((n) => n.NetworkInterfaceId!).sort();

  it('CreateNetworkInterface: an available interface with the default group, the asked addresses and tags', async () => {
    const sg = (await c.send(new CreateSecurityGroupCommand({ GroupName: uniq('eni'), Description: 'x', VpcId: vpcId }))).GroupId!;
    const plain = await create({ Description: 'plain', TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'role', Value: 'spare' }] }] });
    assert.equal(plain.Status, 'available');
    assert.equal(plain.SubnetId, subnetA);
    assert.equal(plain.VpcId, vpcId);
    assert.equal(plain.AvailabilityZone, 'us-east-1a');
    assert.equal(plain.Description, 'plain');
    assert.equal(plain.InterfaceType, 'interface');
    assert.equal(plain.Attachment, undefined);
    assert.match(plain.MacAddress!, /^02(:[0-9a-f]{2}){5}$/);
    assert.match(plain.PrivateIpAddress!, /^10\.20\.1\.\d+$/);
    assert.equal(plain.Groups!.length, 1);
    assert.equal(plain.Groups![0]!.GroupName, 'default');
    assert.deepEqual(plain.TagSet, [{ Key: 'role', Value: 'spare' }]);

    const multi = await create({ Groups: [sg], PrivateIpAddress: '10.20.1.50', SecondaryPrivateIpAddressCount: 2 });
    assert.equal(multi.PrivateIpAddress, '10.20.1.50');
    assert.deepEqual(multi.Groups!.map((g) => g.GroupId), [sg]);
    const addrs = multi.PrivateIpAddresses!;
    assert.equal(addrs.length, 3);
    assert.deepEqual(addrs.map((a) => a.Primary), [true, false, false]);
    assert.equal(new Set(addrs.map((a) => a.PrivateIpAddress)).size, 3);

    const listed = await create({ PrivateIpAddresses: [{ PrivateIpAddress: '10.20.1.60' }, { PrivateIpAddress: '10.20.1.61', Primary: true }] });
    assert.equal(listed.PrivateIpAddress, '10.20.1.61');
    assert.deepEqual(listed.PrivateIpAddresses!.map((a) => `${a.PrivateIpAddress}:${a.Primary}`), ['10.20.1.61:true', '10.20.1.60:false']);

    // the addresses are taken: asking for one again fails
    assert.equal((await ec2Error(create({ PrivateIpAddress: '10.20.1.60' }))).code, 'InvalidIPAddress.InUse');
    // ClientToken: the same call answers the same interface
    const token = uniq('tok');
    const once = await create({ ClientToken: token, Description: 'tok' });
    const twice = await create({ ClientToken: token, Description: 'tok' });
    assert.equal(twice.NetworkInterfaceId, once.NetworkInterfaceId);
  });

  it('CreateNetworkInterface: bad input is refused and creates nothing', async () => {
    const before = (await c.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces!.length;
    const cases: [Parameters<typeof create>[0], string][] = [
      [{ SubnetId: '' }, 'MissingParameter'],
      [{ SubnetId: 'subnet-0123456789abcdef0' }, 'InvalidSubnetID.NotFound'],
      [{ SubnetId: 'nope' }, 'InvalidSubnetID.Malformed'],
      [{ PrivateIpAddress: '10.99.0.5' }, 'InvalidParameterValue'],
      [{ PrivateIpAddress: '10.20.1.70', PrivateIpAddresses: [{ PrivateIpAddress: '10.20.1.71', Primary: true }] }, 'InvalidParameterCombination'],
      [{ PrivateIpAddresses: [{ PrivateIpAddress: '10.20.1.72' }, { PrivateIpAddress: '10.20.1.73' }], SecondaryPrivateIpAddressCount: 1 }, 'InvalidParameterCombination'],
      [{ SecondaryPrivateIpAddressCount: -1 }, 'InvalidParameterValue'],
      [{ SecondaryPrivateIpAddressCount: 60 }, 'PrivateIpAddressLimitExceeded'],
      [{ Ipv6AddressCount: 1 }, 'InvalidParameterValue'],
      [{ Ipv6AddressCount: 1, Ipv6Addresses: [{ Ipv6Address: '2600::1' }], SubnetId: v6Subnet }, 'InvalidParameterCombination'],
      [{ InterfaceType: 'bogus' as never }, 'InvalidParameterValue'],
      [{ Description: 'x'.repeat(256) }, 'InvalidParameterValue'],
      [{ Ipv4PrefixCount: 1 }, 'UnsupportedOperation'],
      [{ Description: 'bell\u0007' }, 'InvalidParameterValue'],
      [{ Groups: ['sg-0123456789abcdef0'] }, 'InvalidGroup.NotFound'],
      [{ TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'a', Value: 'b' }] }] }, 'InvalidParameterValue'],
    ];
    for (const [input, code] of cases) assert.equal((await ec2Error(create(input))).code, code, JSON.stringify(input));
    assert.equal((await ec2Error(create({ DryRun: true }))).code, 'DryRunOperation');
    assert.equal((await c.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces!.length, before);
  });

  it('IPv6 addresses where the subnet has IPv6: at create, assigned and unassigned', async () => {
    const e = await create({ SubnetId: v6Subnet, Ipv6AddressCount: 2 });
    const v6 = e.Ipv6Addresses!.map((a) => a.Ipv6Address!);
    assert.equal(v6.length, 2);
    assert.equal(new Set(v6).size, 2);
    const assigned = await c.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: e.NetworkInterfaceId, Ipv6AddressCount: 1 }));
    assert.equal(assigned.AssignedIpv6Addresses!.length, 1);
    assert.ok(!v6.includes(assigned.AssignedIpv6Addresses![0]!));
    // an address another interface holds cannot be asked for
    const other = await create({ SubnetId: v6Subnet });
    assert.equal((await ec2Error(c.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: other.NetworkInterfaceId, Ipv6Addresses: [v6[0]!] })))).code, 'InvalidIPAddress.InUse');
    assert.equal((await ec2Error(c.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: other.NetworkInterfaceId })))).code, 'MissingParameter');
    assert.deepEqual(await ids([{ Name: 'ipv6-addresses.ipv6-address', Values: [v6[1]!] }]), [e.NetworkInterfaceId]);
    const un = await c.send(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: e.NetworkInterfaceId, Ipv6Addresses: [v6[0]!] }));
    assert.deepEqual(un.UnassignedIpv6Addresses, [v6[0]]);
    assert.equal((await eni(e.NetworkInterfaceId!)).Ipv6Addresses!.length, 2);
    assert.equal((await ec2Error(c.send(new UnassignIpv6AddressesCommand({ NetworkInterfaceId: e.NetworkInterfaceId, Ipv6Addresses: [v6[0]!] })))).code, 'InvalidParameterValue');
    // now free: the other interface may take it
    await c.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: other.NetworkInterfaceId, Ipv6Addresses: [v6[0]!] }));
    assert.deepEqual((await eni(other.NetworkInterfaceId!)).Ipv6Addresses!.map((a) => a.Ipv6Address), [v6[0]]);
    // RunInstances: the instance-level IPv6 count is the primary interface's
    const r = (await c.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, SubnetId: v6Subnet, Ipv6AddressCount: 1 }))).Instances![0]!;
    assert.equal(r.NetworkInterfaces![0]!.Ipv6Addresses!.length, 1);
    assert.equal(
      (await ec2Error(c.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, Ipv6AddressCount: 1, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: v6Subnet }] })))).code,
      'InvalidParameterCombination',
    );
    const n = (await c.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: v6Subnet, Ipv6AddressCount: 2 }] }))).Instances![0]!;
    assert.equal(n.NetworkInterfaces![0]!.Ipv6Addresses!.length, 2);
    await c.send(new TerminateInstancesCommand({ InstanceIds: [r.InstanceId!, n.InstanceId!] }));
    // a subnet without IPv6
    const plain = await create();
    assert.equal((await ec2Error(c.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: plain.NetworkInterfaceId, Ipv6AddressCount: 1 })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new AssignIpv6AddressesCommand({ NetworkInterfaceId: e.NetworkInterfaceId, Ipv6PrefixCount: 1 })))).code, 'UnsupportedOperation');
    // a subnet that assigns IPv6 on creation gives a new interface one address unasked
    await c.send(new ModifySubnetAttributeCommand({ SubnetId: v6Subnet, AssignIpv6AddressOnCreation: { Value: true } }));
    try {
      assert.equal((await create({ SubnetId: v6Subnet })).Ipv6Addresses!.length, 1);
      assert.equal((await create({ SubnetId: v6Subnet, Ipv6AddressCount: 2 })).Ipv6Addresses!.length, 2);
    } finally {
      await c.send(new ModifySubnetAttributeCommand({ SubnetId: v6Subnet, AssignIpv6AddressOnCreation: { Value: false } }));
    }
  });

  it('AttachNetworkInterface: attaching then attached; DescribeInstances shows both; the type limits and zone are enforced', async () => {
    const i = await launch();
    const id = i.InstanceId!;
    const second = await create({ Description: 'second' });
    const out = await c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId, InstanceId: id, DeviceIndex: 1 }));
    assert.match(out.AttachmentId!, /^eni-attach-[0-9a-f]{17}$/);
    assert.equal(out.NetworkCardIndex, 0);
    const first = await eni(second.NetworkInterfaceId!);
    assert.equal(first.Status, 'in-use');
    assert.ok(['attaching', 'attached'].includes(first.Attachment!.Status!));
    const attached = await attachedStatus(second.NetworkInterfaceId!, 'attached');
    assert.equal(attached.Attachment!.InstanceId, id);
    assert.equal(attached.Attachment!.AttachmentId, out.AttachmentId);
    assert.equal(attached.Attachment!.DeviceIndex, 1);
    assert.equal(attached.Attachment!.DeleteOnTermination, false);
    const nics = (await instance(id)).NetworkInterfaces!;
    assert.deepEqual(nics.map((n) => n.Attachment!.DeviceIndex).sort(), [0, 1]);
    assert.ok(nics.some((n) => n.NetworkInterfaceId === second.NetworkInterfaceId && n.Description === 'second'));

    assert.deepEqual(await ids([{ Name: 'attachment.instance-id', Values: [id] }]), [i.NetworkInterfaces![0]!.NetworkInterfaceId!, second.NetworkInterfaceId!].sort());
    assert.deepEqual(await ids([{ Name: 'attachment.attachment-id', Values: [out.AttachmentId!] }]), [second.NetworkInterfaceId]);
    assert.deepEqual(await ids([{ Name: 'attachment.instance-id', Values: [id] }, { Name: 'attachment.device-index', Values: ['1'] }]), [second.NetworkInterfaceId]);

    // t2.micro takes two interfaces
    const third = await create();
    assert.equal((await ec2Error(c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: third.NetworkInterfaceId, InstanceId: id, DeviceIndex: 2 })))).code, 'AttachmentLimitExceeded');
    // attached elsewhere, a device index taken, another zone, bad ids, missing parameters
    const i2 = await launch();
    assert.equal((await ec2Error(c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId, InstanceId: i2.InstanceId, DeviceIndex: 1 })))).code, 'InvalidNetworkInterface.InUse');
    assert.equal((await ec2Error(c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: third.NetworkInterfaceId, InstanceId: i2.InstanceId, DeviceIndex: 0 })))).code, 'InvalidParameterValue');
    // t2.micro's device indexes are 0 and 1
    assert.equal((await ec2Error(c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: third.NetworkInterfaceId, InstanceId: i2.InstanceId, DeviceIndex: 2 })))).code, 'InvalidParameterValue');
    const far = await create({ SubnetId: subnetB });
    assert.equal((await ec2Error(c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: far.NetworkInterfaceId, InstanceId: i2.InstanceId, DeviceIndex: 1 })))).code, 'InvalidParameterCombination');
    assert.equal((await ec2Error(c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: NO_SUCH_ENI, InstanceId: i2.InstanceId, DeviceIndex: 1 })))).code, 'InvalidNetworkInterfaceID.NotFound');
    assert.equal((await ec2Error(c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: third.NetworkInterfaceId, InstanceId: 'i-0123456789abcdef0', DeviceIndex: 1 })))).code, 'InvalidInstanceID.NotFound');
    assert.equal((await ec2Error(c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: third.NetworkInterfaceId, InstanceId: i2.InstanceId, DeviceIndex: undefined as never })))).code, 'MissingParameter');
    assert.equal((await ec2Error(c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: third.NetworkInterfaceId, InstanceId: i2.InstanceId, DeviceIndex: 1, NetworkCardIndex: 3 })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: third.NetworkInterfaceId, InstanceId: i2.InstanceId, DeviceIndex: 1, DryRun: true })))).code, 'DryRunOperation');
    assert.equal((await eni(third.NetworkInterfaceId!)).Status, 'available');
  });

  it('DetachNetworkInterface: detaching then available; the primary cannot be detached; DeleteNetworkInterface refuses while attached', async () => {
    const i = await launch();
    const id = i.InstanceId!;
    const primary = i.NetworkInterfaces![0]!;
    const second = await create();
    const { AttachmentId } = await c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId, InstanceId: id, DeviceIndex: 1 }));
    await attachedStatus(second.NetworkInterfaceId!, 'attached');

    assert.equal((await ec2Error(c.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId })))).code, 'InvalidNetworkInterface.InUse');
    assert.equal((await ec2Error(c.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: primary.NetworkInterfaceId })))).code, 'InvalidNetworkInterface.InUse');
    const p = await ec2Error(c.send(new DetachNetworkInterfaceCommand({ AttachmentId: primary.Attachment!.AttachmentId })));
    assert.equal(p.code, 'OperationNotPermitted');
    assert.equal((await ec2Error(c.send(new DetachNetworkInterfaceCommand({ AttachmentId: 'eni-attach-0123456789abcdef0' })))).code, 'InvalidAttachmentID.NotFound');
    assert.equal((await ec2Error(c.send(new DetachNetworkInterfaceCommand({ AttachmentId: 'nope' })))).code, 'InvalidAttachmentID.Malformed');
    assert.equal((await ec2Error(c.send(new DetachNetworkInterfaceCommand({ AttachmentId: '' })))).code, 'MissingParameter');
    assert.equal((await ec2Error(c.send(new DetachNetworkInterfaceCommand({ AttachmentId, DryRun: true })))).code, 'DryRunOperation');
    assert.equal((await eni(second.NetworkInterfaceId!)).Attachment!.Status, 'attached');

    await c.send(new DetachNetworkInterfaceCommand({ AttachmentId, Force: true }));
    const gone = await available(second.NetworkInterfaceId!);
    assert.equal(gone.Attachment, undefined);
    assert.deepEqual((await instance(id)).NetworkInterfaces!.map((n) => n.NetworkInterfaceId), [primary.NetworkInterfaceId]);
    assert.equal((await ec2Error(c.send(new DetachNetworkInterfaceCommand({ AttachmentId })))).code, 'InvalidAttachmentID.NotFound');

    // available again: another instance may take it, and it can be deleted once free
    await c.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId }));
    assert.equal((await ec2Error(eni(second.NetworkInterfaceId!))).code, 'InvalidNetworkInterfaceID.NotFound');
    assert.equal((await ec2Error(c.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId })))).code, 'InvalidNetworkInterfaceID.NotFound');
    assert.equal((await ec2Error(c.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: 'eni-x' })))).code, 'InvalidNetworkInterfaceID.Malformed');
    // the address it held is free again
    const again = await create({ PrivateIpAddress: second.PrivateIpAddress });
    assert.equal(again.PrivateIpAddress, second.PrivateIpAddress);
  });

  it('attaching to a stopped instance: attached without a machine, and kept over its next start', async () => {
    const i = await launch();
    const id = i.InstanceId!;
    await c.send(new StopInstancesCommand({ InstanceIds: [id] }));
    await until('stopped', async () => ((await instance(id)).State?.Name === 'stopped' ? true : undefined));
    const second = await create();
    await c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: second.NetworkInterfaceId, InstanceId: id, DeviceIndex: 1 }));
    await attachedStatus(second.NetworkInterfaceId!, 'attached');
    assert.equal((await instance(id)).NetworkInterfaces!.length, 2);
    await c.send(new StartInstancesCommand({ InstanceIds: [id] }));
    await until('running again', async () => ((await instance(id)).State?.Name === 'running' ? true : undefined));
    const nics = (await instance(id)).NetworkInterfaces!;
    assert.deepEqual(nics.map((n) => `${n.Attachment!.DeviceIndex}:${n.Attachment!.Status}`).sort(), ['0:attached', '1:attached']);
  });

  it('Assign/UnassignPrivateIpAddresses: the type limit, AllowReassignment, the filters', async () => {
    const i = await launch();
    const primary = i.NetworkInterfaces![0]!.NetworkInterfaceId!;
    // t2.micro: two IPv4 addresses per interface
    const got = await c.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: primary, SecondaryPrivateIpAddressCount: 1 }));
    assert.equal(got.NetworkInterfaceId, primary);
    const secondary = got.AssignedPrivateIpAddresses![0]!.PrivateIpAddress!;
    assert.equal((await ec2Error(c.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: primary, SecondaryPrivateIpAddressCount: 1 })))).code, 'PrivateIpAddressLimitExceeded');
    const view = await eni(primary);
    assert.deepEqual(view.PrivateIpAddresses!.map((p) => p.PrivateIpAddress), [i.PrivateIpAddress, secondary]);
    assert.deepEqual(await ids([{ Name: 'private-ip-address', Values: [secondary] }]), [primary]);
    assert.deepEqual(await ids([{ Name: 'addresses.private-ip-address', Values: [secondary] }, { Name: 'addresses.primary', Values: ['false'] }]), [primary]);
    // DescribeInstances shows the secondary address too
    const nic = (await instance(i.InstanceId!)).NetworkInterfaces![0]!;
    assert.deepEqual(nic.PrivateIpAddresses!.map((p) => p.PrivateIpAddress), [i.PrivateIpAddress, secondary]);

    // another (unattached) interface may take it only with AllowReassignment
    const other = await create();
    assert.equal((await ec2Error(c.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: other.NetworkInterfaceId, PrivateIpAddresses: [secondary] })))).code, 'InvalidIPAddress.InUse');
    assert.equal(
      (await ec2Error(c.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: other.NetworkInterfaceId, PrivateIpAddresses: [i.PrivateIpAddress!], AllowReassignment: true })))).code,
      'InvalidIPAddress.InUse',
    );
    await c.send(new AssignPrivateIpAddressesCommand({ NetworkInterfaceId: other.NetworkInterfaceId, PrivateIpAddresses: [secondary], AllowReassignment: true }));
    assert.deepEqual((await eni(primary)).PrivateIpAddresses!.map((p) => p.PrivateIpAddress), [i.PrivateIpAddress]);
    assert.deepEqual((await eni(other.NetworkInterfaceId!)).PrivateIpAddresses!.map((p) => p.PrivateIpAddress), [other.PrivateIpAddress, secondary]);

    // bad calls
    const bad = async (input: ConstructorParameters<typeof AssignPrivateIpAddressesCommand>[0], code: string) =>
      assert.equal((await ec2Error(c.send(new AssignPrivateIpAddressesCommand(input)))).code, code);
    await bad({ NetworkInterfaceId: primary }, 'MissingParameter');
    await bad({ NetworkInterfaceId: primary, SecondaryPrivateIpAddressCount: 1, PrivateIpAddresses: ['10.20.1.200'] }, 'InvalidParameterCombination');
    await bad({ NetworkInterfaceId: primary, PrivateIpAddresses: ['10.20.9.9'] }, 'InvalidParameterValue');
    await bad({ NetworkInterfaceId: primary, PrivateIpAddresses: ['not-an-ip'] }, 'InvalidParameterValue');
    await bad({ NetworkInterfaceId: NO_SUCH_ENI, SecondaryPrivateIpAddressCount: 1 }, 'InvalidNetworkInterfaceID.NotFound');
    await bad({ NetworkInterfaceId: primary, Ipv4PrefixCount: 1 }, 'UnsupportedOperation');

    // unassign
    const un = async (input: ConstructorParameters<typeof UnassignPrivateIpAddressesCommand>[0]) => c.send(new UnassignPrivateIpAddressesCommand(input));
    assert.equal((await ec2Error(un({ NetworkInterfaceId: other.NetworkInterfaceId, PrivateIpAddresses: [other.PrivateIpAddress!] }))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(un({ NetworkInterfaceId: primary, PrivateIpAddresses: [secondary] }))).code, 'InvalidParameterValue');
    await un({ NetworkInterfaceId: other.NetworkInterfaceId, PrivateIpAddresses: [secondary] });
    assert.deepEqual((await eni(other.NetworkInterfaceId!)).PrivateIpAddresses!.map((p) => p.PrivateIpAddress), [other.PrivateIpAddress]);
    assert.deepEqual(await ids([{ Name: 'private-ip-address', Values: [secondary] }]), []);
  });

  it('RunInstances with NetworkInterfaces: several new ones, an existing one, secondary addresses; terminate deletes or detaches', async () => {
    const spare = await create({ Description: 'spare' });
    const r = await c.send(
      new RunInstancesCommand({
        ImageId: ami,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: 't3.small',
        NetworkInterfaces: [
          { DeviceIndex: 0, SubnetId: subnetA, SecondaryPrivateIpAddressCount: 1, Description: 'eth0' },
          { DeviceIndex: 1, SubnetId: subnetA2, DeleteOnTermination: true },
          { DeviceIndex: 2, NetworkInterfaceId: spare.NetworkInterfaceId },
        ],
        TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'made', Value: 'launch' }] }],
      }),
    );
    const inst = r.Instances![0]!;
    const nics = [...inst.NetworkInterfaces!].sort((a, b) => a.Attachment!.DeviceIndex! - b.Attachment!.DeviceIndex!);
    assert.equal(nics.length, 3);
    assert.equal(nics[0]!.Description, 'eth0');
    assert.equal(nics[0]!.PrivateIpAddresses!.length, 2);
    assert.equal(nics[0]!.PrivateIpAddress, inst.PrivateIpAddress);
    assert.equal(nics[1]!.SubnetId, subnetA2);
    assert.equal(nics[2]!.NetworkInterfaceId, spare.NetworkInterfaceId);
    assert.equal(nics[2]!.Attachment!.DeleteOnTermination, false);
    // no public IPv4 with several interfaces
    assert.equal(inst.PublicIpAddress, undefined);
    const tagged = await ids([{ Name: 'tag:made', Values: ['launch'] }]);
    assert.deepEqual(tagged, [nics[0]!.NetworkInterfaceId!, nics[1]!.NetworkInterfaceId!].sort());
    assert.equal((await eni(spare.NetworkInterfaceId!)).Status, 'in-use');

    await c.send(new TerminateInstancesCommand({ InstanceIds: [inst.InstanceId!] }));
    await until('terminated', async () => ((await instance(inst.InstanceId!)).State?.Name === 'terminated' ? true : undefined));
    const left = (await available(spare.NetworkInterfaceId!));
    assert.equal(left.Attachment, undefined);
    for (const n of nics.slice(0, 2)) assert.equal((await ec2Error(eni(n.NetworkInterfaceId!))).code, 'InvalidNetworkInterfaceID.NotFound');
  });

  it('RunInstances with NetworkInterfaces: EC2\'s combination rules', async () => {
    const spare = await create();
    type Nics = NonNullable<ConstructorParameters<typeof RunInstancesCommand>[0]['NetworkInterfaces']>;
    const run = (NetworkInterfaces: Nics, more: object = {}) =>
      ec2Error(c.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, NetworkInterfaces, ...more })));
    const cases: { nics: Nics; more?: object; code: string }[] = [
      { nics: [{ DeviceIndex: 0, NetworkInterfaceId: spare.NetworkInterfaceId, SubnetId: subnetA }], code: 'InvalidParameterCombination' },
      { nics: [{ DeviceIndex: 0, NetworkInterfaceId: spare.NetworkInterfaceId }], more: { MaxCount: 2 }, code: 'InvalidParameterCombination' },
      { nics: [{ DeviceIndex: 0, NetworkInterfaceId: spare.NetworkInterfaceId }], more: { SubnetId: subnetA }, code: 'InvalidParameterCombination' },
      { nics: [{ DeviceIndex: 0, SubnetId: subnetA, AssociatePublicIpAddress: true }, { DeviceIndex: 1, SubnetId: subnetA }], code: 'InvalidParameterCombination' },
      { nics: [{ DeviceIndex: 0, SubnetId: subnetA }, { DeviceIndex: 1, SubnetId: subnetA, AssociatePublicIpAddress: true }], code: 'InvalidParameterCombination' },
      { nics: [{ DeviceIndex: 0, SubnetId: subnetA }, { DeviceIndex: 0, SubnetId: subnetA }], code: 'InvalidParameterValue' },
      { nics: [{ DeviceIndex: 1, SubnetId: subnetA }], code: 'InvalidParameterValue' },
      { nics: [{ DeviceIndex: 0, SubnetId: subnetA }, { DeviceIndex: 1, SubnetId: subnetB }], code: 'InvalidParameterCombination' },
      { nics: [{ DeviceIndex: 0, SubnetId: subnetA }, { DeviceIndex: 1 }], code: 'MissingParameter' },
      { nics: [{ DeviceIndex: 0, SubnetId: subnetA }, { DeviceIndex: 1, SubnetId: subnetA }, { DeviceIndex: 2, SubnetId: subnetA }], code: 'InvalidParameterValue' },
      { nics: [{ DeviceIndex: 0, SubnetId: subnetA, SecondaryPrivateIpAddressCount: 2 }], code: 'PrivateIpAddressLimitExceeded' },
      { nics: [{ DeviceIndex: 0, SubnetId: subnetA }, { DeviceIndex: 1, NetworkInterfaceId: NO_SUCH_ENI }], code: 'InvalidNetworkInterfaceID.NotFound' },
      { nics: [{ DeviceIndex: 0, SubnetId: subnetA, PrivateIpAddress: '10.20.1.90' }, { DeviceIndex: 1, SubnetId: subnetA2 }], more: { MaxCount: 2 }, code: 'InvalidParameterCombination' },
    ];
    const before = (await c.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces!.length;
    for (const { nics, more, code } of cases) assert.equal((await run(nics, more)).code, code, JSON.stringify({ nics, more }));
    assert.equal((await c.send(new DescribeNetworkInterfacesCommand({}))).NetworkInterfaces!.length, before);
    assert.equal((await eni(spare.NetworkInterfaceId!)).Status, 'available');
    // an existing interface as the primary: the instance takes its subnet, address and groups
    const i = (await c.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, NetworkInterfaces: [{ DeviceIndex: 0, NetworkInterfaceId: spare.NetworkInterfaceId }] }))).Instances![0]!;
    assert.equal(i.PrivateIpAddress, spare.PrivateIpAddress);
    assert.equal(i.SubnetId, subnetA);
    assert.deepEqual(i.NetworkInterfaces!.map((n) => n.NetworkInterfaceId), [spare.NetworkInterfaceId]);
  });

  it('DescribeNetworkInterfaces filters: status, subnet, vpc, group, description, requester-managed, tags; unknown filters', async () => {
    const sg = (await c.send(new CreateSecurityGroupCommand({ GroupName: uniq('flt'), Description: 'x', VpcId: vpcId }))).GroupId!;
    const desc = uniq('filtered');
    const e = await create({ SubnetId: subnetA2, Groups: [sg], Description: desc, TagSpecifications: [{ ResourceType: 'network-interface', Tags: [{ Key: 'k', Value: desc }] }] });
    const id = e.NetworkInterfaceId!;
    assert.deepEqual(await ids([{ Name: 'group-id', Values: [sg] }]), [id]);
    assert.deepEqual(await ids([{ Name: 'description', Values: [desc] }]), [id]);
    assert.deepEqual(await ids([{ Name: 'tag:k', Values: [desc] }]), [id]);
    assert.deepEqual(await ids([{ Name: 'description', Values: [desc] }, { Name: 'status', Values: ['available'] }, { Name: 'subnet-id', Values: [subnetA2] }, { Name: 'vpc-id', Values: [vpcId] }, { Name: 'requester-managed', Values: ['false'] }, { Name: 'availability-zone-id', Values: ['use1-az*'] }]), [id]);
    assert.deepEqual(await ids([{ Name: 'description', Values: [desc] }, { Name: 'status', Values: ['in-use'] }]), []);
    assert.deepEqual(await ids([{ Name: 'description', Values: [desc] }, { Name: 'attachment.status', Values: ['attached'] }]), []);
    assert.equal((await ec2Error(ids([{ Name: 'no-such-filter', Values: ['x'] }]))).code, 'InvalidParameterValue');
  });

  it('DeleteSubnet and DeleteSecurityGroup refuse while an interface uses them', async () => {
    const sub = (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.20.9.0/24', AvailabilityZone: 'us-east-1a' }))).Subnet!.SubnetId!;
    const sg = (await c.send(new CreateSecurityGroupCommand({ GroupName: uniq('dep'), Description: 'x', VpcId: vpcId }))).GroupId!;
    const e = await create({ SubnetId: sub, Groups: [sg] });
    assert.equal((await ec2Error(c.send(new DeleteSubnetCommand({ SubnetId: sub })))).code, 'DependencyViolation');
    assert.equal((await ec2Error(c.send(new DeleteSecurityGroupCommand({ GroupId: sg })))).code, 'DependencyViolation');
    await c.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: e.NetworkInterfaceId }));
    await c.send(new DeleteSecurityGroupCommand({ GroupId: sg }));
    await c.send(new DeleteSubnetCommand({ SubnetId: sub }));
  });

  it('an Elastic IP on an interface: shown by DescribeAddresses and DescribeNetworkInterfaces, released by DeleteNetworkInterface', async () => {
    const igw = (await c.send(new CreateInternetGatewayCommand({}))).InternetGateway!.InternetGatewayId!;
    await c.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw, VpcId: vpcId }));
    const e = await create({ SecondaryPrivateIpAddressCount: 1 });
    const secondary = e.PrivateIpAddresses!.find((p) => !p.Primary)!.PrivateIpAddress!;
    const a = await c.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    const b = await c.send(new AllocateAddressCommand({ Domain: 'vpc' }));
    await c.send(new AssociateAddressCommand({ AllocationId: a.AllocationId, NetworkInterfaceId: e.NetworkInterfaceId }));
    await c.send(new AssociateAddressCommand({ AllocationId: b.AllocationId, NetworkInterfaceId: e.NetworkInterfaceId, PrivateIpAddress: secondary }));
    const view = await eni(e.NetworkInterfaceId!);
    const byIp = new Map(view.PrivateIpAddresses!.map((p) => [p.PrivateIpAddress, p.Association?.PublicIp]));
    assert.equal(byIp.get(e.PrivateIpAddress), a.PublicIp);
    assert.equal(byIp.get(secondary), b.PublicIp);
    assert.equal(view.Association!.PublicIp, a.PublicIp);
    const addrs = (await c.send(new DescribeAddressesCommand({ AllocationIds: [a.AllocationId!, b.AllocationId!] }))).Addresses!;
    const byAlloc = new Map(addrs.map((x) => [x.AllocationId, x]));
    assert.equal(byAlloc.get(a.AllocationId)!.PrivateIpAddress, e.PrivateIpAddress);
    assert.equal(byAlloc.get(b.AllocationId)!.PrivateIpAddress, secondary);
    assert.equal(byAlloc.get(b.AllocationId)!.NetworkInterfaceId, e.NetworkInterfaceId);
    assert.deepEqual(await ids([{ Name: 'addresses.association.public-ip', Values: [b.PublicIp!] }]), [e.NetworkInterfaceId]);
    // attached, the Elastic IPs name the instance; detached, they stay with the interface
    const i = await launch();
    const { AttachmentId } = await c.send(new AttachNetworkInterfaceCommand({ NetworkInterfaceId: e.NetworkInterfaceId, InstanceId: i.InstanceId, DeviceIndex: 1 }));
    await attachedStatus(e.NetworkInterfaceId!, 'attached');
    const whose = async () => (await c.send(new DescribeAddressesCommand({ AllocationIds: [a.AllocationId!, b.AllocationId!] }))).Addresses!.map((x) => `${x.NetworkInterfaceId}:${x.InstanceId}`);
    assert.deepEqual(await whose(), [`${e.NetworkInterfaceId}:${i.InstanceId}`, `${e.NetworkInterfaceId}:${i.InstanceId}`]);
    await c.send(new DetachNetworkInterfaceCommand({ AttachmentId }));
    await available(e.NetworkInterfaceId!);
    assert.deepEqual(await whose(), [`${e.NetworkInterfaceId}:undefined`, `${e.NetworkInterfaceId}:undefined`]);
    assert.equal((await eni(e.NetworkInterfaceId!)).Association!.PublicIp, a.PublicIp);
    // unassigning the secondary address takes its Elastic IP off
    await c.send(new UnassignPrivateIpAddressesCommand({ NetworkInterfaceId: e.NetworkInterfaceId, PrivateIpAddresses: [secondary] }));
    assert.equal((await c.send(new DescribeAddressesCommand({ AllocationIds: [b.AllocationId!] }))).Addresses![0]!.AssociationId, undefined);
    await c.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: e.NetworkInterfaceId }));
    const after = (await c.send(new DescribeAddressesCommand({ AllocationIds: [a.AllocationId!] }))).Addresses![0]!;
    assert.equal(after.AssociationId, undefined);
    assert.equal(after.NetworkInterfaceId, undefined);
  });
});

describe('network interfaces: the fabric follows attach and detach', () => {
  it('an interface attached to a running instance is plugged for it; detached, unplugged', async () => {
    const store = new SqliteStore(':memory:');
    const config: Config = { ...loadConfig([], {}), dataDir: ':memory:' };
    const fabric = new MockFabric();
    let rec: InstanceReconciler | undefined;
    const d = new Dispatcher(store, config, ec2Modules, (e) => rec?.handle(e));
    rec = new InstanceReconciler({ store, config, driver: new MockHypervisor({ delayMs: 0 }), fabric, log: () => {}, retryBaseMs: 5 });
    await rec.start();
    try {
      const call = <T = object>(action: string, input: Record<string, unknown>): T => d.invoke(action, 'us-east-1', 'req', input) as T;
      const ami = call<{ Images: { ImageId: string; Architecture: string }[] }>('DescribeImages', { Owners: ['amazon'] }).Images.find((i) => i.Architecture === 'x86_64')!.ImageId;
      const inst = call<{ Instances: { InstanceId: string; SubnetId: string }[] }>('RunInstances', { ImageId: ami, MinCount: 1, MaxCount: 1 }).Instances[0]!;
      await rec.idle();
      const plugged = async () => (await fabric.list({ instanceId: inst.InstanceId })).interfaces.map((i) => `${i.interfaceId}@${i.deviceIndex}`).sort();
      assert.equal((await plugged()).length, 1);
      const eni = call<{ NetworkInterface: { NetworkInterfaceId: string } }>('CreateNetworkInterface', { SubnetId: inst.SubnetId }).NetworkInterface.NetworkInterfaceId;
      const { AttachmentId } = call<{ AttachmentId: string }>('AttachNetworkInterface', { NetworkInterfaceId: eni, InstanceId: inst.InstanceId, DeviceIndex: 1 });
      const status = () => call<{ NetworkInterfaces: { Status: string; Attachment?: { Status: string } }[] }>('DescribeNetworkInterfaces', { NetworkInterfaceIds: [eni] }).NetworkInterfaces[0]!;
      // recorded before the reconciler has run
      assert.equal(status().Attachment?.Status, 'attaching');
      await rec.idle();
      assert.equal(status().Attachment?.Status, 'attached');
      assert.ok((await plugged()).includes(`${eni}@1`));
      call('DetachNetworkInterface', { AttachmentId });
      assert.equal(status().Attachment?.Status, 'detaching');
      await rec.idle();
      assert.equal(status().Status, 'available');
      assert.ok(!(await plugged()).some((p) => p.startsWith(eni)));
      assert.equal((await plugged()).length, 1);

      // a secondary address on the running instance's eth0: readdressed in place, not plugged afresh
      const primaryEni = (await fabric.list({ instanceId: inst.InstanceId })).interfaces[0]!.interfaceId;
      const got = call<{ AssignedPrivateIpAddresses: { PrivateIpAddress: string }[] }>('AssignPrivateIpAddresses', { NetworkInterfaceId: primaryEni, SecondaryPrivateIpAddressCount: 1 });
      const secondary = got.AssignedPrivateIpAddresses[0]!.PrivateIpAddress;
      fabric.calls.length = 0;
      await rec.idle();
      const eth0 = (await fabric.list({ instanceId: inst.InstanceId })).interfaces[0]!;
      assert.ok(eth0.addresses.some((a) => a.startsWith(`${secondary}/`)), eth0.addresses.join(' '));
      assert.ok(fabric.calls.includes(`readdress ${primaryEni}`), fabric.calls.join(', '));
      assert.ok(!fabric.calls.includes(`unplug ${primaryEni}`), fabric.calls.join(', '));
    } finally {
      await rec.stop();
      store.close();
    }
  });
});

describe('network interface permissions', () => {
  let t: TestServer;
  let c: EC2Client;
  before(async () => {
    t = await startTestServer();
    c = t.client();
  });
  after(() => t.close());

  it('Create/Describe/DeleteNetworkInterfacePermission: granted, filtered, paginated, deleted with its interface', async () => {
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16' }))).Vpc!.VpcId!;
    const subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.30.1.0/24' }))).Subnet!.SubnetId!;
    const eni = (await c.send(new CreateNetworkInterfaceCommand({ SubnetId: subnet }))).NetworkInterface!.NetworkInterfaceId!;
    const grant = (AwsAccountId: string, Permission: 'INSTANCE-ATTACH' | 'EIP-ASSOCIATE' = 'INSTANCE-ATTACH') =>
      c.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni, AwsAccountId, Permission }));
    const p = (await grant('111122223333')).InterfacePermission!;
    assert.match(p.NetworkInterfacePermissionId!, /^eni-perm-[0-9a-f]{17}$/);
    assert.equal(p.NetworkInterfaceId, eni);
    assert.equal(p.AwsAccountId, '111122223333');
    assert.equal(p.Permission, 'INSTANCE-ATTACH');
    assert.equal(p.PermissionState!.State, 'granted');
    for (const acct of ['111122224444', '111122225555', '111122226666', '111122227777', '111122228888']) await grant(acct, 'EIP-ASSOCIATE');

    assert.equal((await ec2Error(grant('111122223333'))).code, 'InvalidPermission.Duplicate');
    assert.equal((await ec2Error(grant('12345'))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni, AwsAccountId: '111122223333', Permission: 'BOGUS' as never })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni, Permission: 'INSTANCE-ATTACH' })))).code, 'MissingParameter');
    assert.equal(
      (await ec2Error(c.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: eni, AwsAccountId: '111122223333', AwsService: 'elasticloadbalancing.amazonaws.com', Permission: 'INSTANCE-ATTACH' })))).code,
      'InvalidParameterCombination',
    );
    assert.equal((await ec2Error(c.send(new CreateNetworkInterfacePermissionCommand({ NetworkInterfaceId: NO_SUCH_ENI, AwsAccountId: '111122223333', Permission: 'INSTANCE-ATTACH' })))).code, 'InvalidNetworkInterfaceID.NotFound');

    const describe = (input: NonNullable<ConstructorParameters<typeof DescribeNetworkInterfacePermissionsCommand>[0]>) => c.send(new DescribeNetworkInterfacePermissionsCommand(input));
    assert.equal((await describe({})).NetworkInterfacePermissions!.length, 6);
    const attach = await describe({ Filters: [{ Name: 'network-interface-permission.permission', Values: ['INSTANCE-ATTACH'] }] });
    assert.deepEqual(attach.NetworkInterfacePermissions!.map((x) => x.NetworkInterfacePermissionId), [p.NetworkInterfacePermissionId]);
    assert.deepEqual((await describe({ NetworkInterfacePermissionIds: [p.NetworkInterfacePermissionId!] })).NetworkInterfacePermissions!.map((x) => x.AwsAccountId), ['111122223333']);
    const page1 = await describe({ MaxResults: 5 });
    assert.equal(page1.NetworkInterfacePermissions!.length, 5);
    const page2 = await describe({ MaxResults: 5, NextToken: page1.NextToken });
    assert.equal(page2.NetworkInterfacePermissions!.length, 1);
    assert.equal((await ec2Error(describe({ MaxResults: 4 }))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(describe({ NetworkInterfacePermissionIds: ['eni-perm-0123456789abcdef0'] }))).code, 'InvalidNetworkInterfacePermissionID.NotFound');
    assert.equal((await ec2Error(describe({ Filters: [{ Name: 'permission', Values: ['x'] }] }))).code, 'InvalidParameterValue');

    const del = await c.send(new DeleteNetworkInterfacePermissionCommand({ NetworkInterfacePermissionId: p.NetworkInterfacePermissionId }));
    assert.equal(del.Return, true);
    assert.equal((await ec2Error(c.send(new DeleteNetworkInterfacePermissionCommand({ NetworkInterfacePermissionId: p.NetworkInterfacePermissionId })))).code, 'InvalidNetworkInterfacePermissionID.NotFound');
    assert.equal((await ec2Error(c.send(new DeleteNetworkInterfacePermissionCommand({ NetworkInterfacePermissionId: 'eni-perm-x' })))).code, 'InvalidNetworkInterfacePermissionID.Malformed');
    assert.equal((await describe({})).NetworkInterfacePermissions!.length, 5);
    await c.send(new DeleteNetworkInterfaceCommand({ NetworkInterfaceId: eni }));
    assert.equal((await describe({})).NetworkInterfacePermissions!.length, 0);
  });
});
