import {
  AssociateRouteTableCommand,
  CreateDefaultSubnetCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteSubnetCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcsCommand,
  ModifySubnetAttributeCommand,
  type CreateSubnetRequest,
  type EC2Client,
  type Subnet,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NetworkInterfaceRecord, SubnetRecord } from '../../src/resources/ec2/records.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { looseCollection } from '../helpers/collections.js';
import { allocatePrivateIp, allocatePrivateIps, subnetForLaunch } from '../../src/resources/ec2/subnets.js';

describe('subnets', () => {
  let t: TestServer;
  let vpcId: string;
  let eniNo = 0;
  before(async () => {
    t = await startTestServer();
    vpcId = (await t.client().send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16' }))).Vpc!.VpcId!;
  });
  after(() => t.close());

  const ec2 = (region = 'us-east-1'): EC2Client => t.client(region);
  const enis = () => looseCollection<Partial<NetworkInterfaceRecord>>(t.server.store, KINDS.networkInterface);
  /** Puts an interface holding `ips` into a subnet, as the interface family would. */
  function putEni(subnet: { SubnetId?: string; VpcId?: string }, ips: string[], region = 'us-east-1'): string {
    const id = `eni-${(++eniNo).toString(16).padStart(17, '0')}`;
    enis().put(region, id, {
      NetworkInterfaceId: id,
      SubnetId: subnet.SubnetId!,
      VpcId: subnet.VpcId!,
      PrivateIpAddress: ips[0]!,
      PrivateIpAddresses: ips.map((ip, i) => ({ PrivateIpAddress: ip, Primary: i === 0 })),
    });
    return id;
  }
  const subnetIds = async (): Promise<string[]> =>
    ((await ec2().send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).Subnets ?? []).map((s) => s.SubnetId!);

  it('CreateSubnet places a subnet in the named zone with its address count', async () => {
    const out = await ec2().send(
      new CreateSubnetCommand({
        VpcId: vpcId,
        CidrBlock: '10.0.1.0/24',
        AvailabilityZone: 'us-east-1b',
        TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'Name', Value: 'web' }] }],
      }),
    );
    const s = out.Subnet!;
    assert.match(s.SubnetId!, /^subnet-[0-9a-f]{17}$/);
    assert.equal(s.VpcId, vpcId);
    assert.equal(s.CidrBlock, '10.0.1.0/24');
    assert.equal(s.AvailabilityZone, 'us-east-1b');
    assert.equal(s.AvailabilityZoneId, 'use1-az2');
    assert.equal(s.AvailableIpAddressCount, 251);
    assert.equal(s.DefaultForAz, false);
    assert.equal(s.MapPublicIpOnLaunch, false);
    assert.equal(s.State, 'available');
    assert.equal(s.SubnetArn, `arn:aws:ec2:us-east-1:${t.server.config.accountId}:subnet/${s.SubnetId}`);
    assert.deepEqual(s.Tags, [{ Key: 'Name', Value: 'web' }]);

    const byId = await ec2().send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.2.0/28', AvailabilityZoneId: 'use1-az3' }));
    assert.equal(byId.Subnet!.AvailabilityZone, 'us-east-1c');
    assert.equal(byId.Subnet!.AvailableIpAddressCount, 11);

    const picked = await ec2().send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.3.0/24' }));
    assert.match(picked.Subnet!.AvailabilityZone!, /^us-east-1[a-f]$/);
    assert.notEqual(picked.Subnet!.AvailabilityZone, 'us-east-1b', 'a zone without subnets is preferred');

    const acl = (await ec2().send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).NetworkAcls![0]!;
    assert.ok(acl.Associations!.some((a) => a.SubnetId === s.SubnetId), 'new subnets join the default ACL');
  });

  it('CreateSubnet validates the VPC, CIDR and zone', async () => {
    const c = ec2();
    const before = await subnetIds();
    const cases: [CreateSubnetRequest, string][] = [
      [{ VpcId: vpcId, CidrBlock: '10.0.1.128/24' }, 'InvalidParameterValue'],
      [{ VpcId: vpcId, CidrBlock: 'nonsense' }, 'InvalidParameterValue'],
      [{ VpcId: vpcId, CidrBlock: '10.1.0.0/24' }, 'InvalidSubnet.Range'],
      [{ VpcId: vpcId, CidrBlock: '10.0.0.0/29' }, 'InvalidSubnet.Range'],
      [{ VpcId: vpcId, CidrBlock: '10.0.1.0/25' }, 'InvalidSubnet.Conflict'],
      [{ VpcId: vpcId, CidrBlock: '10.0.0.0/20' }, 'InvalidSubnet.Conflict'],
      [{ VpcId: vpcId, CidrBlock: '10.0.9.0/24', AvailabilityZone: 'us-east-1z' }, 'InvalidParameterValue'],
      [{ VpcId: vpcId, CidrBlock: '10.0.9.0/24', AvailabilityZone: 'eu-west-1a' }, 'InvalidParameterValue'],
      [{ VpcId: vpcId, CidrBlock: '10.0.9.0/24', AvailabilityZoneId: 'use1-az9' }, 'InvalidParameterValue'],
      [
        { VpcId: vpcId, CidrBlock: '10.0.9.0/24', AvailabilityZone: 'us-east-1a', AvailabilityZoneId: 'use1-az2' },
        'InvalidParameterCombination',
      ],
      [{ VpcId: vpcId }, 'MissingParameter'],
      [{ VpcId: undefined, CidrBlock: '10.0.9.0/24' }, 'MissingParameter'],
      [{ VpcId: 'vpc-0123456789abcdef0', CidrBlock: '10.0.9.0/24' }, 'InvalidVpcID.NotFound'],
      [{ VpcId: 'vpc-bad', CidrBlock: '10.0.9.0/24' }, 'InvalidVpcID.Malformed'],
      [
        { VpcId: vpcId, CidrBlock: '10.0.9.0/24', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'a', Value: 'b' }] }] },
        'InvalidParameterValue',
      ],
    ];
    for (const [input, code] of cases) {
      const err = await ec2Error(c.send(new CreateSubnetCommand(input)));
      assert.equal(err.code, code, JSON.stringify(input));
    }
    const zone = await ec2Error(c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.9.0/24', AvailabilityZone: 'us-east-1z' })));
    assert.match(zone.message, /us-east-1a, us-east-1b/);
    assert.deepEqual(await subnetIds(), before, 'no failed call created a subnet');
  });

  it('CreateSubnet with DryRun creates nothing', async () => {
    const before = await subnetIds();
    const err = await ec2Error(ec2().send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.200.0/24', DryRun: true })));
    assert.equal(err.code, 'DryRunOperation');
    assert.equal(err.status, 412);
    assert.deepEqual(await subnetIds(), before);
  });

  it('IPv6 subnet blocks must be a /64 of the VPC block', async () => {
    const c = ec2();
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.7.0.0/16', AmazonProvidedIpv6CidrBlock: true }))).Vpc!;
    const block = vpc.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!; // x:y:z:ab00::/56
    const first64 = block.replace('::/56', '::/64');
    const s = (await c.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.7.0.0/24', Ipv6CidrBlock: first64 }))).Subnet!;
    assert.equal(s.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock, first64);
    const dup = await ec2Error(c.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.7.1.0/24', Ipv6CidrBlock: first64 })));
    assert.equal(dup.code, 'InvalidSubnet.Conflict');
    const outside = await ec2Error(c.send(new CreateSubnetCommand({ VpcId: vpc.VpcId, CidrBlock: '10.7.1.0/24', Ipv6CidrBlock: '2001:db8::/64' })));
    assert.equal(outside.code, 'InvalidSubnet.Range');
    const noV6 = await ec2Error(c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.77.0/24', Ipv6CidrBlock: first64 })));
    assert.equal(noV6.code, 'InvalidParameterValue');

    await c.send(new ModifySubnetAttributeCommand({ SubnetId: s.SubnetId, AssignIpv6AddressOnCreation: { Value: true } }));
    const after = (await c.send(new DescribeSubnetsCommand({ SubnetIds: [s.SubnetId!] }))).Subnets![0]!;
    assert.equal(after.AssignIpv6AddressOnCreation, true);
  });

  it('DescribeSubnets filters, counts interface addresses and paginates', async () => {
    const c = ec2('eu-west-1');
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.8.0.0/16' }))).Vpc!;
    const made: Subnet[] = [];
    for (let i = 0; i < 6; i++) {
      const s = await c.send(
        new CreateSubnetCommand({
          VpcId: vpc.VpcId,
          CidrBlock: `10.8.${i}.0/24`,
          AvailabilityZone: i < 3 ? 'eu-west-1a' : 'eu-west-1b',
          TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'idx', Value: String(i) }] }],
        }),
      );
      made.push(s.Subnet!);
    }
    putEni(made[0]!, ['10.8.0.4', '10.8.0.5'], 'eu-west-1');
    putEni(made[0]!, ['10.8.0.9'], 'eu-west-1');
    await c.send(new ModifySubnetAttributeCommand({ SubnetId: made[5]!.SubnetId, MapPublicIpOnLaunch: { Value: true } }));

    const ids = (idx: number[]) => idx.map((i) => made[i]!.SubnetId).sort();
    const find = async (...filters: [string, string[]][]) =>
      ((await c.send(new DescribeSubnetsCommand({ Filters: [['vpc-id', [vpc.VpcId!]], ...filters].map(([Name, Values]) => ({ Name: Name as string, Values: Values as string[] })) })))
        .Subnets ?? [])
        .map((s) => s.SubnetId)
        .sort();
    assert.deepEqual(await find(), ids([0, 1, 2, 3, 4, 5]));
    assert.deepEqual(await find(['availability-zone', ['eu-west-1b']]), ids([3, 4, 5]));
    assert.deepEqual(await find(['availability-zone-id', ['euw1-az1']]), ids([0, 1, 2]));
    assert.deepEqual(await find(['cidr-block', ['10.8.4.0/24']]), ids([4]));
    assert.deepEqual(await find(['cidr', ['10.8.2.0/24', '10.8.3.0/24']]), ids([2, 3]));
    assert.deepEqual(await find(['available-ip-address-count', ['248']]), ids([0]));
    assert.deepEqual(await find(['available-ip-address-count', ['251']]), ids([1, 2, 3, 4, 5]));
    assert.deepEqual(await find(['map-public-ip-on-launch', ['true']]), ids([5]));
    assert.deepEqual(await find(['default-for-az', ['false']]), ids([0, 1, 2, 3, 4, 5]));
    assert.deepEqual(await find(['default-for-az', ['true']]), []);
    assert.deepEqual(await find(['state', ['available']]), ids([0, 1, 2, 3, 4, 5]));
    assert.deepEqual(await find(['subnet-id', [made[1]!.SubnetId!]]), ids([1]));
    assert.deepEqual(await find(['owner-id', [t.server.config.accountId]]), ids([0, 1, 2, 3, 4, 5]));
    assert.deepEqual(await find(['tag:idx', ['1', '4']]), ids([1, 4]));
    assert.deepEqual(await find(['tag-key', ['idx']], ['availability-zone', ['eu-west-1a']]), ids([0, 1, 2]));

    const counted = (await c.send(new DescribeSubnetsCommand({ SubnetIds: [made[0]!.SubnetId!] }))).Subnets![0]!;
    assert.equal(counted.AvailableIpAddressCount, 248);

    // The region's default VPC has 3 default subnets: 9 in all.
    const page1 = await c.send(new DescribeSubnetsCommand({ MaxResults: 5 }));
    assert.equal(page1.Subnets!.length, 5);
    const page2 = await c.send(new DescribeSubnetsCommand({ MaxResults: 5, NextToken: page1.NextToken }));
    assert.equal(page2.Subnets!.length, 4);
    assert.equal(page2.NextToken, undefined);
    assert.equal(new Set([...page1.Subnets!, ...page2.Subnets!].map((s) => s.SubnetId)).size, 9);
    assert.equal((await ec2Error(c.send(new DescribeSubnetsCommand({ MaxResults: 1001 })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new DescribeSubnetsCommand({ NextToken: 'garbage!' })))).code, 'InvalidPaginationToken');
    assert.equal((await ec2Error(c.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-0123456789abcdef0'] })))).code, 'InvalidSubnetID.NotFound');
    assert.equal((await ec2Error(c.send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-zz'] })))).code, 'InvalidSubnetID.Malformed');
    assert.equal((await ec2Error(c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'size', Values: ['1'] }] })))).code, 'InvalidParameterValue');
  });

  it('ModifySubnetAttribute sets one attribute per call', async () => {
    const c = ec2();
    const s = (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.10.0/24' }))).Subnet!;
    await c.send(new ModifySubnetAttributeCommand({ SubnetId: s.SubnetId, MapPublicIpOnLaunch: { Value: true } }));
    await c.send(new ModifySubnetAttributeCommand({ SubnetId: s.SubnetId, PrivateDnsHostnameTypeOnLaunch: 'resource-name' }));
    await c.send(new ModifySubnetAttributeCommand({ SubnetId: s.SubnetId, EnableResourceNameDnsARecordOnLaunch: { Value: true } }));
    const after = (await c.send(new DescribeSubnetsCommand({ SubnetIds: [s.SubnetId!] }))).Subnets![0]!;
    assert.equal(after.MapPublicIpOnLaunch, true);
    assert.deepEqual(after.PrivateDnsNameOptionsOnLaunch, {
      HostnameType: 'resource-name',
      EnableResourceNameDnsARecord: true,
      EnableResourceNameDnsAAAARecord: false,
    });

    const both = await ec2Error(
      c.send(new ModifySubnetAttributeCommand({ SubnetId: s.SubnetId, MapPublicIpOnLaunch: { Value: false }, EnableDns64: { Value: true } })),
    );
    assert.equal(both.code, 'InvalidParameterCombination');
    const v6 = await ec2Error(c.send(new ModifySubnetAttributeCommand({ SubnetId: s.SubnetId, AssignIpv6AddressOnCreation: { Value: true } })));
    assert.equal(v6.code, 'InvalidParameterValue');
    assert.match(v6.message, /IPv6 CIDR block/);
    assert.equal((await ec2Error(c.send(new ModifySubnetAttributeCommand({ SubnetId: s.SubnetId })))).code, 'MissingParameter');
    assert.equal(
      (await ec2Error(c.send(new ModifySubnetAttributeCommand({ SubnetId: 'subnet-0123456789abcdef0', MapPublicIpOnLaunch: { Value: true } })))).code,
      'InvalidSubnetID.NotFound',
    );
    const still = (await c.send(new DescribeSubnetsCommand({ SubnetIds: [s.SubnetId!] }))).Subnets![0]!;
    assert.equal(still.MapPublicIpOnLaunch, true, 'rejected calls changed nothing');
    assert.equal(still.EnableDns64, false);
  });

  it('DeleteSubnet refuses while interfaces use it and cleans up associations and tags', async () => {
    const c = ec2();
    const s = (
      await c.send(
        new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.20.0/24', TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'x', Value: 'y' }] }] }),
      )
    ).Subnet!;
    const rtb = (await c.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!;
    await c.send(new AssociateRouteTableCommand({ RouteTableId: rtb.RouteTableId, SubnetId: s.SubnetId }));
    const eni = putEni(s, ['10.0.20.4']);
    const blocked = await ec2Error(c.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId })));
    assert.equal(blocked.code, 'DependencyViolation');
    assert.equal(blocked.message, `The subnet '${s.SubnetId}' has dependencies and cannot be deleted.`);
    enis().delete('us-east-1', eni);

    const dry = await ec2Error(c.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId, DryRun: true })));
    assert.equal(dry.code, 'DryRunOperation');
    assert.ok((await subnetIds()).includes(s.SubnetId!));

    await c.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
    assert.ok(!(await subnetIds()).includes(s.SubnetId!));
    const table = (await c.send(new DescribeRouteTablesCommand({ RouteTableIds: [rtb.RouteTableId!] }))).RouteTables![0]!;
    assert.equal(table.Associations!.length, 0);
    const acls = await c.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'association.subnet-id', Values: [s.SubnetId!] }] }));
    assert.equal(acls.NetworkAcls!.length, 0);
    const tags = await c.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [s.SubnetId!] }] }));
    assert.equal(tags.Tags!.length, 0);
    assert.equal((await ec2Error(c.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId })))).code, 'InvalidSubnetID.NotFound');
  });

  it('allocatePrivateIp hands out the lowest free address and checks requested ones', async () => {
    const s = (await ec2().send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.0.30.0/28' }))).Subnet!;
    const ctx = t.server.dispatcher.context('us-east-1');
    const record = t.server.store.collection(KINDS.subnet).get('us-east-1', s.SubnetId!)!;
    assert.equal(allocatePrivateIp(ctx, record), '10.0.30.4');
    putEni(s, ['10.0.30.4', '10.0.30.5']);
    assert.equal(allocatePrivateIp(ctx, record), '10.0.30.6');
    assert.equal(allocatePrivateIp(ctx, record, undefined, ['10.0.30.6']), '10.0.30.7');
    assert.equal(allocatePrivateIp(ctx, record, '10.0.30.10'), '10.0.30.10');

    const codeOf = (fn: () => unknown): string => {
      try {
        fn();
      } catch (e) {
        return (e as { code: string }).code;
      }
      return 'no error';
    };
    assert.equal(codeOf(() => allocatePrivateIp(ctx, record, '10.0.30.5')), 'InvalidIPAddress.InUse');
    assert.equal(codeOf(() => allocatePrivateIp(ctx, record, '10.0.30.2')), 'InvalidParameterValue');
    assert.equal(codeOf(() => allocatePrivateIp(ctx, record, '10.0.30.15')), 'InvalidParameterValue');
    assert.equal(codeOf(() => allocatePrivateIp(ctx, record, '10.0.31.9')), 'InvalidParameterValue');
    assert.equal(codeOf(() => allocatePrivateIp(ctx, record, 'ten')), 'InvalidParameterValue');

    // In bulk: the requested address first, then the lowest free ones, fewer when the subnet runs out.
    assert.deepEqual(allocatePrivateIps(ctx, record, 3, '10.0.30.12'), ['10.0.30.12', '10.0.30.6', '10.0.30.7']);
    assert.deepEqual(allocatePrivateIps(ctx, record, 20), ['6', '7', '8', '9', '10', '11', '12', '13', '14'].map((n) => `10.0.30.${n}`));
    assert.equal(codeOf(() => allocatePrivateIps(ctx, record, 2, '10.0.30.4')), 'InvalidIPAddress.InUse');

    for (let ip = 6; ip <= 14; ip++) putEni(s, [`10.0.30.${ip}`]);
    assert.equal(codeOf(() => allocatePrivateIps(ctx, record, 1)), 'InsufficientFreeAddressesInSubnet');
    assert.equal(codeOf(() => allocatePrivateIp(ctx, record)), 'InsufficientFreeAddressesInSubnet');
    const full = (await ec2().send(new DescribeSubnetsCommand({ SubnetIds: [s.SubnetId!] }))).Subnets![0]!;
    assert.equal(full.AvailableIpAddressCount, 0);
  });

  it('subnetForLaunch uses the given subnet or the first default subnet', async () => {
    const ctx = t.server.dispatcher.context('us-east-1');
    const defaultVpc = (await ec2().send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0]!;
    const chosen = subnetForLaunch(ctx);
    assert.equal(chosen.VpcId, defaultVpc.VpcId);
    assert.equal(chosen.AvailabilityZone, 'us-east-1a');
    assert.equal(chosen.DefaultForAz, true);

    const ids = await subnetIds();
    assert.equal(subnetForLaunch(ctx, ids[0]).SubnetId, ids[0]);
    assert.throws(() => subnetForLaunch(ctx, 'subnet-0123456789abcdef0'), { code: 'InvalidSubnetID.NotFound' });

    // Without the us-east-1a default subnet, the next zone's is used.
    await ec2().send(new DeleteSubnetCommand({ SubnetId: chosen.SubnetId }));
    assert.equal(subnetForLaunch(ctx).AvailabilityZone, 'us-east-1b');

    // CreateDefaultSubnet brings the zone's default subnet back, with its usual /20.
    const again = (await ec2().send(new CreateDefaultSubnetCommand({ AvailabilityZone: 'us-east-1a' }))).Subnet!;
    assert.equal(again.CidrBlock, '172.31.0.0/20');
    assert.equal(again.DefaultForAz, true);
    assert.equal(again.MapPublicIpOnLaunch, true);
    assert.equal(subnetForLaunch(ctx).SubnetId, again.SubnetId);
    const dup = await ec2Error(ec2().send(new CreateDefaultSubnetCommand({ AvailabilityZone: 'us-east-1a' })));
    assert.equal(dup.code, 'DefaultSubnetAlreadyExistsInAvailabilityZone');
    assert.equal((await ec2Error(ec2().send(new CreateDefaultSubnetCommand({ AvailabilityZone: 'us-east-1q' })))).code, 'InvalidParameterValue');

    // No default VPC at all: launches need an explicit subnet.
    const store = looseCollection<{ IsDefault: boolean }>(t.server.store, KINDS.vpc);
    const region = 'us-east-1';
    const saved = store.get(region, defaultVpc.VpcId!)!;
    store.put(region, defaultVpc.VpcId!, { ...saved, IsDefault: false });
    try {
      assert.throws(() => subnetForLaunch(ctx), { code: 'VPCIdNotSpecified' });
    } finally {
      store.put(region, defaultVpc.VpcId!, saved);
    }
  });
});
