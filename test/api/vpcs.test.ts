import {
  AttachInternetGatewayCommand,
  CreateDefaultVpcCommand,
  CreateInternetGatewayCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  DeleteInternetGatewayCommand,
  DeleteRouteTableCommand,
  DeleteSubnetCommand,
  DeleteVpcCommand,
  DescribeAccountAttributesCommand,
  DescribeInternetGatewaysCommand,
  DescribeNetworkAclsCommand,
  DescribeRouteTablesCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVpcAttributeCommand,
  DescribeVpcsCommand,
  DetachInternetGatewayCommand,
  ModifyVpcAttributeCommand,
  type EC2Client,
  type Vpc,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NetworkInterfaceRecord, SecurityGroupRecord } from '../../src/resources/ec2/records.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { looseCollection } from '../helpers/collections.js';

describe('VPCs', () => {
  let t: TestServer;
  before(async () => {
    t = await startTestServer();
  });
  after(() => t.close());

  const ec2 = (region = 'us-east-1'): EC2Client => t.client(region);
  const groupsOf = (vpcId: string, region = 'us-east-1'): SecurityGroupRecord[] =>
    t.server.store
      .collection(KINDS.securityGroup)
      .list(region)
      .filter((g) => g.VpcId === vpcId);
  const vpcIds = async (region = 'us-east-1'): Promise<string[]> =>
    ((await ec2(region).send(new DescribeVpcsCommand({}))).Vpcs ?? []).map((v) => v.VpcId!);

  /** Deletes the default VPC of a region and everything in it, through the API. */
  async function tearDownDefaultVpc(region: string): Promise<string> {
    const c = ec2(region);
    const vpc = (await c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs![0]!;
    const subnets = (await c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).Subnets!;
    for (const s of subnets) await c.send(new DeleteSubnetCommand({ SubnetId: s.SubnetId }));
    const igws = (await c.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpc.VpcId!] }] })))
      .InternetGateways!;
    for (const g of igws) {
      await c.send(new DetachInternetGatewayCommand({ InternetGatewayId: g.InternetGatewayId, VpcId: vpc.VpcId }));
      await c.send(new DeleteInternetGatewayCommand({ InternetGatewayId: g.InternetGatewayId }));
    }
    await c.send(new DeleteVpcCommand({ VpcId: vpc.VpcId }));
    return vpc.VpcId!;
  }

  it('a region starts with a default VPC laid out as on AWS', async () => {
    const c = ec2();
    const vpcs = (await c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs!;
    assert.equal(vpcs.length, 1);
    const vpc = vpcs[0]!;
    assert.equal(vpc.CidrBlock, '172.31.0.0/16');
    assert.equal(vpc.IsDefault, true);
    assert.equal(vpc.State, 'available');
    assert.equal(vpc.InstanceTenancy, 'default');
    assert.equal(vpc.OwnerId, t.server.config.accountId);
    assert.match(vpc.DhcpOptionsId!, /^dopt-[0-9a-f]{17}$/);
    assert.equal(vpc.CidrBlockAssociationSet![0]!.CidrBlock, '172.31.0.0/16');
    assert.match(vpc.CidrBlockAssociationSet![0]!.AssociationId!, /^vpc-cidr-assoc-/);
    assert.equal(vpc.CidrBlockAssociationSet![0]!.CidrBlockState!.State, 'associated');

    for (const attr of ['enableDnsSupport', 'enableDnsHostnames'] as const) {
      const out = await c.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: attr }));
      assert.equal(attr === 'enableDnsSupport' ? out.EnableDnsSupport?.Value : out.EnableDnsHostnames?.Value, true, attr);
    }

    const subnets = (await c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).Subnets!;
    assert.deepEqual(
      subnets.map((s) => [s.AvailabilityZone, s.AvailabilityZoneId, s.CidrBlock]),
      ['a', 'b', 'c', 'd', 'e', 'f'].map((l, i) => [`us-east-1${l}`, `use1-az${i + 1}`, `172.31.${16 * i}.0/20`]),
    );
    assert.ok(subnets.every((s) => s.DefaultForAz === true && s.MapPublicIpOnLaunch === true && s.AvailableIpAddressCount === 4091));

    const igws = (await c.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpc.VpcId!] }] })))
      .InternetGateways!;
    assert.equal(igws.length, 1);
    assert.equal(igws[0]!.Attachments![0]!.State, 'available');

    const tables = (await c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).RouteTables!;
    assert.equal(tables.length, 1);
    const main = tables[0]!;
    assert.equal(main.Associations!.length, 1);
    assert.equal(main.Associations![0]!.Main, true);
    assert.match(main.Associations![0]!.RouteTableAssociationId!, /^rtbassoc-/);
    assert.deepEqual(
      main.Routes!.map((r) => [r.DestinationCidrBlock, r.GatewayId, r.State, r.Origin]),
      [
        ['172.31.0.0/16', 'local', 'active', 'CreateRouteTable'],
        ['0.0.0.0/0', igws[0]!.InternetGatewayId, 'active', 'CreateRoute'],
      ],
    );

    const groups = groupsOf(vpc.VpcId!);
    assert.deepEqual(groups.map((g) => g.GroupName), ['default']);

    const acls = (await c.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).NetworkAcls!;
    assert.equal(acls.length, 1);
    assert.equal(acls[0]!.IsDefault, true);
    assert.deepEqual(new Set(acls[0]!.Associations!.map((a) => a.SubnetId)), new Set(subnets.map((s) => s.SubnetId)));
    assert.deepEqual(
      acls[0]!.Entries!.filter((e) => !e.Egress).map((e) => [e.RuleNumber, e.RuleAction]),
      [[100, 'allow'], [32767, 'deny']],
    );

    const attrs = await c.send(new DescribeAccountAttributesCommand({ AttributeNames: ['default-vpc'] }));
    assert.equal(attrs.AccountAttributes![0]!.AttributeValues![0]!.AttributeValue, vpc.VpcId);
  });

  it('each region has its own default VPC with a subnet per zone', async () => {
    const seoul = (await ec2('ap-northeast-2').send(new DescribeVpcsCommand({}))).Vpcs!;
    assert.equal(seoul.length, 1);
    assert.ok(!(await vpcIds()).includes(seoul[0]!.VpcId!));
    const subnets = (await ec2('ap-northeast-2').send(new DescribeSubnetsCommand({}))).Subnets!;
    assert.deepEqual(subnets.map((s) => s.AvailabilityZone).sort(), ['ap-northeast-2a', 'ap-northeast-2b', 'ap-northeast-2c', 'ap-northeast-2d']);
  });

  it('CreateVpc makes a VPC with its main route table, default security group and network ACL', async () => {
    const c = ec2();
    const out = await c.send(
      new CreateVpcCommand({
        CidrBlock: '10.20.0.0/16',
        TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'Name', Value: 'app' }] }],
      }),
    );
    const vpc = out.Vpc!;
    assert.match(vpc.VpcId!, /^vpc-[0-9a-f]{17}$/);
    assert.equal(vpc.CidrBlock, '10.20.0.0/16');
    assert.equal(vpc.IsDefault, false);
    assert.equal(vpc.InstanceTenancy, 'default');
    assert.deepEqual(vpc.Tags, [{ Key: 'Name', Value: 'app' }]);
    assert.equal(vpc.Ipv6CidrBlockAssociationSet, undefined);

    const described = (await c.send(new DescribeVpcsCommand({ VpcIds: [vpc.VpcId!] }))).Vpcs!;
    assert.equal(described.length, 1);
    assert.equal(described[0]!.State, 'available');
    assert.deepEqual(described[0]!.Tags, [{ Key: 'Name', Value: 'app' }]);

    const hostnames = await c.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'enableDnsHostnames' }));
    assert.equal(hostnames.EnableDnsHostnames!.Value, false);
    const support = await c.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'enableDnsSupport' }));
    assert.equal(support.EnableDnsSupport!.Value, true);

    const tables = (await c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).RouteTables!;
    assert.equal(tables.length, 1);
    assert.equal(tables[0]!.Associations![0]!.Main, true);
    assert.deepEqual(tables[0]!.Routes!.map((r) => [r.DestinationCidrBlock, r.GatewayId]), [['10.20.0.0/16', 'local']]);
    assert.deepEqual(groupsOf(vpc.VpcId!).map((g) => g.GroupName), ['default']);
    const acls = await c.send(
      new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }, { Name: 'default', Values: ['true'] }] }),
    );
    assert.equal(acls.NetworkAcls!.length, 1);
    const igws = await c.send(new DescribeInternetGatewaysCommand({ Filters: [{ Name: 'attachment.vpc-id', Values: [vpc.VpcId!] }] }));
    assert.equal(igws.InternetGateways!.length, 0);
  });

  it('CreateVpc gives an Amazon IPv6 /56 on request, with a local IPv6 route', async () => {
    const c = ec2();
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.30.0.0/16', AmazonProvidedIpv6CidrBlock: true, InstanceTenancy: 'dedicated' })))
      .Vpc!;
    assert.equal(vpc.InstanceTenancy, 'dedicated');
    const v6 = vpc.Ipv6CidrBlockAssociationSet![0]!;
    // from the configured pool (default fd0f:ec20::/32, a ULA range Overcast owns), not EC2's 2600:1f1x::
    assert.match(v6.Ipv6CidrBlock!, /^fd0f:ec20:(?:[0-9a-f]{1,4}:)?(?:[0-9a-f]{0,2}00:)?:\/56$/);
    assert.equal(v6.Ipv6Pool, 'Amazon');
    const filtered = await c.send(
      new DescribeVpcsCommand({ Filters: [{ Name: 'ipv6-cidr-block-association.ipv6-cidr-block', Values: [v6.Ipv6CidrBlock!] }] }),
    );
    assert.deepEqual(filtered.Vpcs!.map((v) => v.VpcId), [vpc.VpcId]);
    const table = (await c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).RouteTables![0]!;
    assert.ok(table.Routes!.some((r) => r.DestinationIpv6CidrBlock === v6.Ipv6CidrBlock && r.GatewayId === 'local'));
  });

  it('CreateVpc rejects bad CIDRs, tenancy and tag specifications', async () => {
    const c = ec2();
    const before = await vpcIds();
    const bad = await ec2Error(c.send(new CreateVpcCommand({ CidrBlock: '10.0.0.1/16' })));
    assert.equal(bad.code, 'InvalidParameterValue');
    assert.match(bad.message, /10\.0\.0\.1\/16/);
    assert.equal((await ec2Error(c.send(new CreateVpcCommand({ CidrBlock: 'banana' })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/8' })))).code, 'InvalidVpc.Range');
    assert.equal((await ec2Error(c.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/29' })))).code, 'InvalidVpc.Range');
    assert.equal((await ec2Error(c.send(new CreateVpcCommand({})))).code, 'MissingParameter');
    assert.equal((await ec2Error(c.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16', InstanceTenancy: 'host' })))).code, 'UnsupportedTenancy');
    const tag = await ec2Error(
      c.send(new CreateVpcCommand({ CidrBlock: '10.0.0.0/16', TagSpecifications: [{ ResourceType: 'subnet', Tags: [{ Key: 'a', Value: 'b' }] }] })),
    );
    assert.equal(tag.code, 'InvalidParameterValue');
    assert.deepEqual(await vpcIds(), before);
  });

  it('CreateVpc with DryRun answers DryRunOperation (412) and creates nothing', async () => {
    const before = await vpcIds();
    const err = await ec2Error(ec2().send(new CreateVpcCommand({ CidrBlock: '10.99.0.0/16', DryRun: true })));
    assert.equal(err.code, 'DryRunOperation');
    assert.equal(err.status, 412);
    assert.deepEqual(await vpcIds(), before);
    const tables = (await ec2().send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'route.destination-cidr-block', Values: ['10.99.0.0/16'] }] })))
      .RouteTables!;
    assert.equal(tables.length, 0);
  });

  it('DescribeVpcs filters and paginates', async () => {
    const c = ec2('eu-west-1');
    const made: Vpc[] = [];
    for (let i = 0; i < 6; i++) {
      const v = (await c.send(new CreateVpcCommand({ CidrBlock: `10.${i}.0.0/16` }))).Vpc!;
      await c.send(new CreateTagsCommand({ Resources: [v.VpcId!], Tags: [{ Key: 'tier', Value: i % 2 === 0 ? 'even' : 'odd' }] }));
      made.push(v);
    }
    const names = async (name: string, values: string[]) =>
      ((await c.send(new DescribeVpcsCommand({ Filters: [{ Name: name, Values: values }] }))).Vpcs ?? []).map((v) => v.VpcId).sort();
    const ids = (idx: number[]) => idx.map((i) => made[i]!.VpcId).sort();
    assert.deepEqual(await names('cidr', ['10.3.0.0/16']), ids([3]));
    assert.deepEqual(await names('cidr-block-association.cidr-block', ['10.1.0.0/16', '10.2.0.0/16']), ids([1, 2]));
    assert.deepEqual(await names('tag:tier', ['odd']), ids([1, 3, 5]));
    assert.deepEqual(await names('tag-key', ['tier']), ids([0, 1, 2, 3, 4, 5]));
    assert.deepEqual(await names('is-default', ['false']), ids([0, 1, 2, 3, 4, 5]));
    assert.equal((await names('is-default', ['true'])).length, 1);
    assert.deepEqual(await names('vpc-id', [made[4]!.VpcId!]), ids([4]));
    assert.equal((await names('state', ['available'])).length, 7);
    assert.equal((await names('owner-id', [t.server.config.accountId])).length, 7);
    assert.equal((await names('dhcp-options-id', [made[0]!.DhcpOptionsId!])).length, 7);
    assert.deepEqual(await names('cidr', ['10.*']), ids([0, 1, 2, 3, 4, 5]));

    const page1 = await c.send(new DescribeVpcsCommand({ MaxResults: 5 }));
    assert.equal(page1.Vpcs!.length, 5);
    assert.ok(page1.NextToken);
    const page2 = await c.send(new DescribeVpcsCommand({ MaxResults: 5, NextToken: page1.NextToken }));
    assert.equal(page2.Vpcs!.length, 2);
    assert.equal(page2.NextToken, undefined);
    const all = [...page1.Vpcs!, ...page2.Vpcs!].map((v) => v.VpcId);
    assert.equal(new Set(all).size, 7);

    assert.equal((await ec2Error(c.send(new DescribeVpcsCommand({ MaxResults: 4 })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(c.send(new DescribeVpcsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })))).code, 'InvalidParameterValue');
    const missing = await ec2Error(c.send(new DescribeVpcsCommand({ VpcIds: ['vpc-0123456789abcdef0'] })));
    assert.equal(missing.code, 'InvalidVpcID.NotFound');
    assert.match(missing.message, /vpc-0123456789abcdef0/);
    assert.equal((await ec2Error(c.send(new DescribeVpcsCommand({ VpcIds: ['vpc-xyz'] })))).code, 'InvalidVpcID.Malformed');
  });

  it('tags with non-ASCII and XML-special text come back intact through the SDK', async () => {
    const c = ec2('ap-south-1');
    const v = (await c.send(new CreateVpcCommand({ CidrBlock: '10.9.0.0/16' }))).Vpc!;
    const tags = [
      { Key: 'Name', Value: 'värld ☁ 😀' },
      { Key: 'a&b', Value: '<x y="1">\'q\'</x>' },
      { Key: 'plain', Value: 'ascii' },
    ];
    await c.send(new CreateTagsCommand({ Resources: [v.VpcId!], Tags: tags }));
    const got = (await c.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [v.VpcId!] }] }))).Tags!;
    assert.deepEqual(
      got.map((t) => [t.Key, t.Value]).sort(),
      tags.map((t) => [t.Key, t.Value]).sort(),
    );
    const described = (await c.send(new DescribeVpcsCommand({ VpcIds: [v.VpcId!] }))).Vpcs![0]!;
    assert.equal(described.Tags!.find((t) => t.Key === 'Name')!.Value, 'värld ☁ 😀');
  });

  it('ModifyVpcAttribute changes one DNS attribute at a time', async () => {
    const c = ec2();
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }))).Vpc!;
    await c.send(new ModifyVpcAttributeCommand({ VpcId: vpc.VpcId, EnableDnsHostnames: { Value: true } }));
    let out = await c.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'enableDnsHostnames' }));
    assert.equal(out.EnableDnsHostnames!.Value, true);
    assert.equal(out.VpcId, vpc.VpcId);

    const both = await ec2Error(
      c.send(new ModifyVpcAttributeCommand({ VpcId: vpc.VpcId, EnableDnsHostnames: { Value: false }, EnableDnsSupport: { Value: false } })),
    );
    assert.equal(both.code, 'InvalidParameterCombination');
    assert.match(both.message, /multiple attribute/);
    out = await c.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'enableDnsSupport' }));
    assert.equal(out.EnableDnsSupport!.Value, true, 'the rejected call changed nothing');

    await c.send(new ModifyVpcAttributeCommand({ VpcId: vpc.VpcId, EnableDnsHostnames: { Value: false } }));
    await c.send(new ModifyVpcAttributeCommand({ VpcId: vpc.VpcId, EnableDnsSupport: { Value: false } }));
    out = await c.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'enableDnsSupport' }));
    assert.equal(out.EnableDnsSupport!.Value, false);
    const needsSupport = await ec2Error(c.send(new ModifyVpcAttributeCommand({ VpcId: vpc.VpcId, EnableDnsHostnames: { Value: true } })));
    assert.equal(needsSupport.code, 'InvalidParameterCombination');

    assert.equal((await ec2Error(c.send(new ModifyVpcAttributeCommand({ VpcId: vpc.VpcId })))).code, 'MissingParameter');
    assert.equal(
      (await ec2Error(c.send(new ModifyVpcAttributeCommand({ VpcId: 'vpc-0000000000000000a', EnableDnsSupport: { Value: true } })))).code,
      'InvalidVpcID.NotFound',
    );
    const unknown = await ec2Error(c.send(new DescribeVpcAttributeCommand({ VpcId: vpc.VpcId, Attribute: 'colour' as never })));
    assert.equal(unknown.code, 'InvalidParameterValue');
  });

  it('DeleteVpc refuses while the VPC has dependencies, then removes it with its defaults', async () => {
    const c = ec2();
    const vpc = (await c.send(new CreateVpcCommand({ CidrBlock: '10.50.0.0/16', TagSpecifications: [{ ResourceType: 'vpc', Tags: [{ Key: 'k', Value: 'v' }] }] })))
      .Vpc!;
    const vpcId = vpc.VpcId!;
    const dependency = async () => {
      const err = await ec2Error(c.send(new DeleteVpcCommand({ VpcId: vpcId })));
      assert.equal(err.code, 'DependencyViolation');
      assert.equal(err.message, `The vpc '${vpcId}' has dependencies and cannot be deleted.`);
    };

    const subnet = (await c.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: '10.50.1.0/24' }))).Subnet!;
    await dependency();
    await c.send(new DeleteSubnetCommand({ SubnetId: subnet.SubnetId }));

    const igw = (await c.send(new CreateInternetGatewayCommand({}))).InternetGateway!;
    await c.send(new AttachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpcId }));
    await dependency();
    await c.send(new DetachInternetGatewayCommand({ InternetGatewayId: igw.InternetGatewayId, VpcId: vpcId }));

    const rtb = (await c.send(new CreateRouteTableCommand({ VpcId: vpcId }))).RouteTable!;
    await dependency();
    await c.send(new DeleteRouteTableCommand({ RouteTableId: rtb.RouteTableId }));

    const groups = t.server.store.collection(KINDS.securityGroup);
    groups.put('us-east-1', 'sg-0000000000000abcd', { GroupId: 'sg-0000000000000abcd', GroupName: 'web', VpcId: vpcId, Description: 'x' });
    await dependency();
    groups.delete('us-east-1', 'sg-0000000000000abcd');

    const enis = looseCollection<Partial<NetworkInterfaceRecord>>(t.server.store, KINDS.networkInterface);
    enis.put('us-east-1', 'eni-0000000000000abcd', { NetworkInterfaceId: 'eni-0000000000000abcd', VpcId: vpcId, SubnetId: 'subnet-00000000', PrivateIpAddress: '10.50.0.9' });
    await dependency();
    enis.delete('us-east-1', 'eni-0000000000000abcd');

    const defaultGroupIds = groupsOf(vpcId).map((g) => g.GroupId);
    assert.equal(defaultGroupIds.length, 1);
    const allRules = looseCollection<{ GroupId: string }>(t.server.store, KINDS.securityGroupRule).list('us-east-1');
    assert.ok(allRules.some((r) => r.GroupId === defaultGroupIds[0]), 'the default group has rules to remove');
    const mainTable = (await c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }))).RouteTables![0]!;
    const dryRun = await ec2Error(c.send(new DeleteVpcCommand({ VpcId: vpcId, DryRun: true })));
    assert.equal(dryRun.code, 'DryRunOperation');
    assert.equal(dryRun.status, 412);
    assert.ok((await vpcIds()).includes(vpcId));

    await c.send(new DeleteVpcCommand({ VpcId: vpcId }));
    assert.ok(!(await vpcIds()).includes(vpcId));
    assert.equal((await ec2Error(c.send(new DescribeVpcsCommand({ VpcIds: [vpcId] })))).code, 'InvalidVpcID.NotFound');
    assert.equal(
      (await ec2Error(c.send(new DescribeRouteTablesCommand({ RouteTableIds: [mainTable.RouteTableId!] })))).code,
      'InvalidRouteTableID.NotFound',
    );
    assert.equal(groupsOf(vpcId).length, 0);
    const rules = looseCollection<{ GroupId: string }>(t.server.store, KINDS.securityGroupRule).list('us-east-1');
    assert.ok(!rules.some((r) => defaultGroupIds.includes(r.GroupId)), "the default group's rules went with it");
    const acls = await c.send(new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpcId] }] }));
    assert.equal(acls.NetworkAcls!.length, 0);
    const tags = await c.send(new DescribeTagsCommand({ Filters: [{ Name: 'resource-id', Values: [vpcId] }] }));
    assert.equal(tags.Tags!.length, 0);
    assert.equal((await ec2Error(c.send(new DeleteVpcCommand({ VpcId: vpcId })))).code, 'InvalidVpcID.NotFound');
    assert.equal((await ec2Error(c.send(new DeleteVpcCommand({ VpcId: 'vpc-nope' })))).code, 'InvalidVpcID.Malformed');
  });

  it('CreateDefaultVpc refuses while one exists and rebuilds the layout after it is deleted', async () => {
    const region = 'us-west-2';
    const c = ec2(region);
    const exists = await ec2Error(c.send(new CreateDefaultVpcCommand({})));
    assert.equal(exists.code, 'DefaultVpcAlreadyExists');

    const oldId = await tearDownDefaultVpc(region);
    const none = await c.send(new DescribeAccountAttributesCommand({ AttributeNames: ['default-vpc'] }));
    assert.equal(none.AccountAttributes![0]!.AttributeValues![0]!.AttributeValue, 'none');

    const vpc = (await c.send(new CreateDefaultVpcCommand({}))).Vpc!;
    assert.notEqual(vpc.VpcId, oldId);
    assert.equal(vpc.IsDefault, true);
    assert.equal(vpc.CidrBlock, '172.31.0.0/16');
    const subnets = (await c.send(new DescribeSubnetsCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).Subnets!;
    assert.equal(subnets.length, 4);
    assert.ok(subnets.every((s) => s.DefaultForAz));
    const table = (await c.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc.VpcId!] }] }))).RouteTables![0]!;
    assert.ok(table.Routes!.some((r) => r.DestinationCidrBlock === '0.0.0.0/0' && r.GatewayId?.startsWith('igw-') && r.State === 'active'));
    const attrs = await c.send(new DescribeAccountAttributesCommand({ AttributeNames: ['default-vpc'] }));
    assert.equal(attrs.AccountAttributes![0]!.AttributeValues![0]!.AttributeValue, vpc.VpcId);
    assert.equal((await ec2Error(c.send(new CreateDefaultVpcCommand({})))).code, 'DefaultVpcAlreadyExists');
  });

  it('the default VPC survives a restart and is not recreated', async () => {
    const before = await vpcIds();
    await t.restart();
    assert.deepEqual(await vpcIds(), before);
    const defaults = (await ec2().send(new DescribeVpcsCommand({ Filters: [{ Name: 'is-default', Values: ['true'] }] }))).Vpcs!;
    assert.equal(defaults.length, 1);
  });
});
