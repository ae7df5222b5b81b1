import {
  AssociateDhcpOptionsCommand,
  CreateDhcpOptionsCommand,
  CreateVpcCommand,
  DeleteDhcpOptionsCommand,
  DescribeDhcpOptionsCommand,
  DescribeVpcsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('DHCP options sets', () => {
  let t: TestServer;
  let ec2: EC2Client;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
  });
  after(() => t.close());

  const vpcOptions = async (vpcId: string) => (await ec2.send(new DescribeVpcsCommand({ VpcIds: [vpcId] }))).Vpcs![0]!.DhcpOptionsId;
  const create = async (servers = '10.2.0.2,10.2.0.3') =>
    (
      await ec2.send(
        new CreateDhcpOptionsCommand({
          DhcpConfigurations: [
            { Key: 'domain-name-servers', Values: [servers] },
            { Key: 'domain-name', Values: ['corp.example'] },
          ],
          TagSpecifications: [{ ResourceType: 'dhcp-options', Tags: [{ Key: 'Name', Value: 'corp' }] }],
        }),
      )
    ).DhcpOptions!;

  it('a new VPC uses the region default set, which DescribeDhcpOptions lists', async () => {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.1.0.0/16' }))).Vpc!;
    const out = await ec2.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [vpc.DhcpOptionsId!] }));
    const keys = out.DhcpOptions![0]!.DhcpConfigurations!.map((c) => `${c.Key}=${c.Values!.map((v) => v.Value).join(',')}`);
    assert.deepEqual(keys, ['domain-name=ec2.internal', 'domain-name-servers=AmazonProvidedDNS']);
  });

  it('CreateDhcpOptions splits comma-separated values, tags the set and validates', async () => {
    const d = await create();
    assert.match(d.DhcpOptionsId!, /^dopt-[0-9a-f]{17}$/);
    assert.deepEqual(d.DhcpConfigurations![0]!.Values!.map((v) => v.Value), ['10.2.0.2', '10.2.0.3']);
    assert.deepEqual(d.Tags, [{ Key: 'Name', Value: 'corp' }]);
    assert.equal(d.OwnerId, '123456789012');
    const bad = async (DhcpConfigurations: { Key: string; Values: string[] }[]) =>
      (await ec2Error(ec2.send(new CreateDhcpOptionsCommand({ DhcpConfigurations })))).code;
    assert.equal(await bad([{ Key: 'routers', Values: ['10.0.0.1'] }]), 'InvalidParameterValue');
    assert.equal(await bad([{ Key: 'domain-name-servers', Values: ['1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5'] }]), 'InvalidParameterValue');
    assert.equal(await bad([{ Key: 'domain-name-servers', Values: ['not-an-ip'] }]), 'InvalidParameterValue');
    assert.equal(await bad([{ Key: 'netbios-node-type', Values: ['3'] }]), 'InvalidParameterValue');
    assert.equal(await bad([{ Key: 'ipv6-address-preferred-lease-time', Values: ['139'] }]), 'InvalidParameterValue');
    assert.equal(await bad([{ Key: 'ntp-servers', Values: ['10.0.0.1'] }, { Key: 'ntp-servers', Values: ['10.0.0.2'] }]), 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new CreateDhcpOptionsCommand({ DhcpConfigurations: [] })))).code, 'MissingParameter');
    const dry = await ec2Error(ec2.send(new CreateDhcpOptionsCommand({ DryRun: true, DhcpConfigurations: [{ Key: 'netbios-node-type', Values: ['2'] }] })));
    assert.equal(dry.code, 'DryRunOperation');
    const nodeType = await ec2.send(new DescribeDhcpOptionsCommand({ Filters: [{ Name: 'key', Values: ['netbios-node-type'] }] }));
    assert.equal(nodeType.DhcpOptions!.length, 0, 'neither refused nor dry-run calls stored a set');
  });

  it('DescribeDhcpOptions filters, paginates and names unknown ids', async () => {
    const a = await create('10.3.0.2');
    const byValue = await ec2.send(new DescribeDhcpOptionsCommand({ Filters: [{ Name: 'value', Values: ['10.3.0.*'] }] }));
    assert.deepEqual(byValue.DhcpOptions!.map((d) => d.DhcpOptionsId), [a.DhcpOptionsId]);
    const byTag = await ec2.send(new DescribeDhcpOptionsCommand({ Filters: [{ Name: 'tag:Name', Values: ['corp'] }, { Name: 'dhcp-options-id', Values: [a.DhcpOptionsId!] }] }));
    assert.equal(byTag.DhcpOptions!.length, 1);
    const all = (await ec2.send(new DescribeDhcpOptionsCommand({}))).DhcpOptions!.length;
    for (let i = 0; i < 5; i++) await create(`10.4.0.${i + 2}`);
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const page = await ec2.send(new DescribeDhcpOptionsCommand({ MaxResults: 5, NextToken: token }));
      assert.ok(page.DhcpOptions!.length <= 5);
      for (const d of page.DhcpOptions!) seen.add(d.DhcpOptionsId!);
      token = page.NextToken;
    } while (token);
    assert.equal(seen.size, all + 5);
    assert.equal((await ec2Error(ec2.send(new DescribeDhcpOptionsCommand({ MaxResults: 4 })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new DescribeDhcpOptionsCommand({ Filters: [{ Name: 'bogus', Values: ['x'] }] })))).code, 'InvalidParameterValue');
    const missing = await ec2Error(ec2.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: ['dopt-0123456789abcdef0'] })));
    assert.equal(missing.code, 'InvalidDhcpOptionID.NotFound');
    assert.equal((await ec2Error(ec2.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: ['nope'] })))).code, 'InvalidDhcpOptionsID.Malformed');
  });

  it('AssociateDhcpOptions switches a VPC, `default` leaves it without, and DeleteDhcpOptions waits for no VPC to use the set', async () => {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.5.0.0/16' }))).Vpc!.VpcId!;
    const d = await create();
    await ec2.send(new AssociateDhcpOptionsCommand({ VpcId: vpc, DhcpOptionsId: d.DhcpOptionsId }));
    assert.equal(await vpcOptions(vpc), d.DhcpOptionsId);
    const byFilter = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'dhcp-options-id', Values: [d.DhcpOptionsId!] }] }));
    assert.deepEqual(byFilter.Vpcs!.map((v) => v.VpcId), [vpc]);
    const busy = await ec2Error(ec2.send(new DeleteDhcpOptionsCommand({ DhcpOptionsId: d.DhcpOptionsId })));
    assert.equal(busy.code, 'DependencyViolation');
    assert.match(busy.message, /has dependencies/);
    assert.equal((await ec2Error(ec2.send(new AssociateDhcpOptionsCommand({ VpcId: vpc, DhcpOptionsId: 'dopt-0123456789abcdef0' })))).code, 'InvalidDhcpOptionID.NotFound');
    assert.equal((await ec2Error(ec2.send(new AssociateDhcpOptionsCommand({ VpcId: 'vpc-0123456789abcdef0', DhcpOptionsId: 'default' })))).code, 'InvalidVpcID.NotFound');
    assert.equal((await ec2Error(ec2.send(new AssociateDhcpOptionsCommand({ VpcId: vpc, DhcpOptionsId: 'default', DryRun: true })))).code, 'DryRunOperation');
    assert.equal(await vpcOptions(vpc), d.DhcpOptionsId);
    await ec2.send(new AssociateDhcpOptionsCommand({ VpcId: vpc, DhcpOptionsId: 'default' }));
    assert.equal(await vpcOptions(vpc), 'default');
    await ec2.send(new DeleteDhcpOptionsCommand({ DhcpOptionsId: d.DhcpOptionsId }));
    const gone = await ec2Error(ec2.send(new DescribeDhcpOptionsCommand({ DhcpOptionsIds: [d.DhcpOptionsId!] })));
    assert.equal(gone.code, 'InvalidDhcpOptionID.NotFound');
    assert.equal((await ec2Error(ec2.send(new DeleteDhcpOptionsCommand({ DhcpOptionsId: d.DhcpOptionsId })))).code, 'InvalidDhcpOptionID.NotFound');
  });
});
