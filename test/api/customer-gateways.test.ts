import { CreateCustomerGatewayCommand, DeleteCustomerGatewayCommand, DescribeCustomerGatewaysCommand, type CustomerGateway, type EC2Client } from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollUntil } from '../helpers/poll.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';

describe('customer gateways', () => {
  let t: TestServer;
  let ec2: EC2Client;

  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
  });
  after(() => t.close());

  const describeOne = async (id: string): Promise<CustomerGateway> => (await ec2.send(new DescribeCustomerGatewaysCommand({ CustomerGatewayIds: [id] }))).CustomerGateways![0]!;

  it('records address, ASN and type; pending → available; the same gateway twice is one; deleting → deleted', async () => {
    const out = await ec2.send(
      new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '198.51.100.7', BgpAsn: 65010, DeviceName: 'office router', TagSpecifications: [{ ResourceType: 'customer-gateway', Tags: [{ Key: 'site', Value: 'hq' }] }] }),
    );
    const g = out.CustomerGateway!;
    assert.match(g.CustomerGatewayId!, /^cgw-[0-9a-f]{17}$/);
    assert.equal(g.State, 'pending');
    assert.equal(g.Type, 'ipsec.1');
    assert.equal(g.IpAddress, '198.51.100.7');
    assert.equal(g.BgpAsn, '65010');
    assert.equal(g.DeviceName, 'office router');
    assert.deepEqual(g.Tags, [{ Key: 'site', Value: 'hq' }]);
    await pollUntil(() => describeOne(g.CustomerGatewayId!), (x) => x.State === 'available');
    const again = await ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', PublicIp: '198.51.100.7', BgpAsn: 65010 }));
    assert.equal(again.CustomerGateway!.CustomerGatewayId, g.CustomerGatewayId);
    const other = await ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '198.51.100.7', BgpAsn: 65011 }));
    assert.notEqual(other.CustomerGateway!.CustomerGatewayId, g.CustomerGatewayId);
    const defaults = await ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '198.51.100.8' }));
    assert.equal(defaults.CustomerGateway!.BgpAsn, '65000');
    const extended = await ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '198.51.100.9', BgpAsnExtended: 4_200_000_000 }));
    assert.equal(extended.CustomerGateway!.BgpAsnExtended, '4200000000');

    await ec2.send(new DeleteCustomerGatewayCommand({ CustomerGatewayId: g.CustomerGatewayId }));
    const gone = await pollUntil(() => describeOne(g.CustomerGatewayId!), (x) => x.State === 'deleted');
    assert.equal(gone.IpAddress, '198.51.100.7');
    assert.equal((await ec2Error(ec2.send(new DeleteCustomerGatewayCommand({ CustomerGatewayId: g.CustomerGatewayId })))).code, 'InvalidCustomerGatewayID.NotFound');
    const fresh = await ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '198.51.100.7', BgpAsn: 65010 }));
    assert.notEqual(fresh.CustomerGateway!.CustomerGatewayId, g.CustomerGatewayId, 'a deleted gateway is not answered again');
  });

  it('survives a restart of the server', async () => {
    const id = (await ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '192.0.2.77', BgpAsn: 65077 }))).CustomerGateway!.CustomerGatewayId!;
    await t.restart();
    ec2 = t.client();
    const g = await pollUntil(() => describeOne(id), (x) => x.State === 'available');
    assert.equal(g.IpAddress, '192.0.2.77');
  });

  it('filters; unknown ids; refused input changes nothing', async () => {
    const a = (await ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '203.0.113.10', BgpAsn: 64512 }))).CustomerGateway!.CustomerGatewayId!;
    const byAsn = await ec2.send(new DescribeCustomerGatewaysCommand({ Filters: [{ Name: 'bgp-asn', Values: ['64512'] }] }));
    assert.deepEqual(byAsn.CustomerGateways!.map((g) => g.CustomerGatewayId), [a]);
    const byIp = await ec2.send(new DescribeCustomerGatewaysCommand({ Filters: [{ Name: 'ip-address', Values: ['203.0.113.*'] }, { Name: 'type', Values: ['ipsec.1'] }] }));
    assert.deepEqual(byIp.CustomerGateways!.map((g) => g.CustomerGatewayId), [a]);
    assert.equal((await ec2Error(ec2.send(new DescribeCustomerGatewaysCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new DescribeCustomerGatewaysCommand({ CustomerGatewayIds: ['cgw-0123456789abcdef0'] })))).code, 'InvalidCustomerGatewayID.NotFound');
    assert.equal((await ec2Error(ec2.send(new DeleteCustomerGatewayCommand({ CustomerGatewayId: 'cgw-xyz' })))).code, 'InvalidCustomerGatewayID.Malformed');
    const count = async () => (await ec2.send(new DescribeCustomerGatewaysCommand({}))).CustomerGateways!.length;
    const before = await count();
    assert.equal((await ec2Error(ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.2' as never, IpAddress: '203.0.113.11' })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '300.1.1.1' })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1' })))).code, 'MissingParameter');
    assert.equal((await ec2Error(ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '203.0.113.11', BgpAsn: 0 })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '203.0.113.11', BgpAsn: 1, BgpAsnExtended: 3_000_000_000 })))).code, 'InvalidParameterCombination');
    assert.equal((await ec2Error(ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '203.0.113.11', DeviceName: 'a\u0001b' })))).code, 'InvalidParameterValue');
    assert.equal((await ec2Error(ec2.send(new CreateCustomerGatewayCommand({ Type: 'ipsec.1', IpAddress: '203.0.113.11', DryRun: true })))).code, 'DryRunOperation');
    assert.equal(await count(), before);
    assert.equal((await ec2Error(ec2.send(new DeleteCustomerGatewayCommand({ CustomerGatewayId: a, DryRun: true })))).code, 'DryRunOperation');
    assert.notEqual((await describeOne(a)).State, 'deleting');
  });
});
