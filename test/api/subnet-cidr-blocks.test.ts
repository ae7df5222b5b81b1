import {
  AssociateSubnetCidrBlockCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DescribeSubnetsCommand,
  DisassociateSubnetCidrBlockCommand,
  ModifySubnetAttributeCommand,
  type EC2Client,
  type Subnet,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatIpv6, parseCidr6 } from '../../src/domain/cidr.js';
import { eventually } from '../helpers/eventually.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('subnet IPv6 CIDR blocks and attributes', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let vpcId: string;
  let block56: string;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.60.0.0/16', AmazonProvidedIpv6CidrBlock: true }))).Vpc!;
    vpcId = vpc.VpcId!;
    block56 = vpc.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
  });
  after(() => t.close());

  /** The n-th /64 of the VPC's /56. */
  const sub64 = (n: number) => `${formatIpv6(parseCidr6(block56)!.address + (BigInt(n) << 64n))}/64`;
  const subnet = async (CidrBlock: string) => (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock }))).Subnet!.SubnetId!;
  const describe1 = async (id: string): Promise<Subnet> => (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [id] }))).Subnets![0]!;
  const code = async (p: Promise<unknown>) => (await ec2Error(p)).code;
  const until = (id: string, state: string): Promise<Subnet> =>
    eventually(`${id} ${state}`, () => describe1(id), (s) => (s.Ipv6CidrBlockAssociationSet ?? []).some((a) => a.Ipv6CidrBlockState?.State === state));

  it('AssociateSubnetCidrBlock adds a /64 of the VPC block: associating, then associated; one per subnet', async () => {
    const id = await subnet('10.60.1.0/24');
    const out = await ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: id, Ipv6CidrBlock: sub64(1) }));
    assert.equal(out.SubnetId, id);
    assert.equal(out.Ipv6CidrBlockAssociation!.Ipv6CidrBlockState!.State, 'associating');
    const s = await until(id, 'associated');
    assert.equal(s.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock, sub64(1));
    const byFilter = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'ipv6-cidr-block-association.state', Values: ['associated'] }, { Name: 'vpc-id', Values: [vpcId] }] }));
    assert.deepEqual(byFilter.Subnets!.map((x) => x.SubnetId), [id]);
    assert.equal(await code(ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: id, Ipv6CidrBlock: sub64(2) }))), 'InvalidParameterValue');
    const other = await subnet('10.60.2.0/24');
    assert.equal(await code(ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: other, Ipv6CidrBlock: sub64(1) }))), 'InvalidSubnet.Conflict');
    assert.equal(await code(ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: other, Ipv6CidrBlock: sub64(16).replace('/64', '/60') }))), 'InvalidSubnet.Range');
    assert.equal(await code(ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: other, Ipv6CidrBlock: '2001:db8:ffff:1::/64' }))), 'InvalidSubnet.Range');
    assert.equal(await code(ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: other, Ipv6CidrBlock: 'zz::/64' }))), 'InvalidParameterValue');
    assert.equal(await code(ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: 'subnet-0123456789abcdef0', Ipv6CidrBlock: sub64(3) }))), 'InvalidSubnetID.NotFound');
    assert.equal((await describe1(other)).Ipv6CidrBlockAssociationSet!.length, 0, 'refused calls add nothing');

    // a VPC without IPv6 has nothing to give
    const v4only = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.61.0.0/16' }))).Vpc!.VpcId!;
    const s4 = (await ec2.send(new CreateSubnetCommand({ VpcId: v4only, CidrBlock: '10.61.1.0/24' }))).Subnet!.SubnetId!;
    assert.equal(await code(ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: s4, Ipv6CidrBlock: sub64(4) }))), 'InvalidParameterValue');
  });

  it('DisassociateSubnetCidrBlock: disassociating, then disassociated; the block is free again', async () => {
    const id = await subnet('10.60.3.0/24');
    const a = (await ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: id, Ipv6CidrBlock: sub64(5) }))).Ipv6CidrBlockAssociation!;
    await until(id, 'associated');
    await ec2.send(new ModifySubnetAttributeCommand({ SubnetId: id, AssignIpv6AddressOnCreation: { Value: true } }));
    assert.equal((await describe1(id)).AssignIpv6AddressOnCreation, true);
    const out = await ec2.send(new DisassociateSubnetCidrBlockCommand({ AssociationId: a.AssociationId }));
    assert.equal(out.Ipv6CidrBlockAssociation!.Ipv6CidrBlockState!.State, 'disassociating');
    const s = await until(id, 'disassociated');
    assert.equal(s.AssignIpv6AddressOnCreation, false, 'nothing left to assign from');
    assert.equal(await code(ec2.send(new DisassociateSubnetCidrBlockCommand({ AssociationId: a.AssociationId }))), 'IncorrectState');
    assert.equal(await code(ec2.send(new DisassociateSubnetCidrBlockCommand({ AssociationId: 'subnet-cidr-assoc-0123456789abcdef0' }))), 'InvalidSubnetCidrBlockAssociationID.NotFound');
    assert.equal(await code(ec2.send(new ModifySubnetAttributeCommand({ SubnetId: id, AssignIpv6AddressOnCreation: { Value: true } }))), 'InvalidParameterValue');
    const again = await subnet('10.60.4.0/24');
    await ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: again, Ipv6CidrBlock: sub64(5) }));
  });

  it('ModifySubnetAttribute sets every attribute and DescribeSubnets shows (and filters on) each', async () => {
    const id = await subnet('10.60.5.0/24');
    const set = (input: Omit<ConstructorParameters<typeof ModifySubnetAttributeCommand>[0], 'SubnetId'>) => ec2.send(new ModifySubnetAttributeCommand({ SubnetId: id, ...input }));
    await set({ MapPublicIpOnLaunch: { Value: true } });
    await set({ EnableDns64: { Value: true } });
    await set({ PrivateDnsHostnameTypeOnLaunch: 'resource-name' });
    await set({ EnableResourceNameDnsARecordOnLaunch: { Value: true } });
    await set({ EnableResourceNameDnsAAAARecordOnLaunch: { Value: true } });
    await set({ MapCustomerOwnedIpOnLaunch: { Value: false } });
    const s = await describe1(id);
    assert.equal(s.MapPublicIpOnLaunch, true);
    assert.equal(s.EnableDns64, true);
    assert.equal(s.MapCustomerOwnedIpOnLaunch, false);
    assert.deepEqual(s.PrivateDnsNameOptionsOnLaunch, { HostnameType: 'resource-name', EnableResourceNameDnsARecord: true, EnableResourceNameDnsAAAARecord: true });
    for (const [Name, value] of [
      ['enable-dns64', 'true'],
      ['map-public-ip-on-launch', 'true'],
      ['private-dns-name-options-on-launch.hostname-type', 'resource-name'],
      ['private-dns-name-options-on-launch.enable-resource-name-dns-a-record', 'true'],
      ['private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record', 'true'],
    ] as const) {
      const found = await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name, Values: [value] }, { Name: 'vpc-id', Values: [vpcId] }] }));
      assert.deepEqual(found.Subnets!.map((x) => x.SubnetId), [id], Name);
    }
    assert.equal(await code(set({ MapCustomerOwnedIpOnLaunch: { Value: true } })), 'InvalidParameterValue');
    assert.equal(await code(set({ CustomerOwnedIpv4Pool: 'ipv4pool-coip-0123456789abcdef0' })), 'InvalidParameterValue');
    assert.equal(await code(set({ EnableLniAtDeviceIndex: 1 })), 'InvalidParameterValue');
    assert.equal(await code(set({ PrivateDnsHostnameTypeOnLaunch: 'bogus' as 'ip-name' })), 'InvalidParameterValue');
    assert.equal(await code(set({ EnableDns64: { Value: false }, MapPublicIpOnLaunch: { Value: false } })), 'InvalidParameterCombination');
    assert.equal(await code(set({})), 'MissingParameter');
    await set({ EnableDns64: { Value: false } });
    assert.equal((await describe1(id)).EnableDns64, false);
  });
});
