import {
  AssociateVpcCidrBlockCommand,
  CreateRouteTableCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteSubnetCommand,
  DescribeRouteTablesCommand,
  DescribeVpcsCommand,
  DisassociateVpcCidrBlockCommand,
  type EC2Client,
  type Vpc,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../helpers/eventually.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { internalContext } from '../../src/resources/context.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';
import { KEEP_FINAL_MS } from '../../src/resources/ec2/state-machines.js';
import { vpcCidrMachine } from '../../src/resources/ec2/vpc-cidrs.js';

describe('VPC CIDR blocks', () => {
  let t: TestServer;
  let ec2: EC2Client;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
  });
  after(() => t.close());

  const describeVpc = async (id: string): Promise<Vpc> => (await ec2.send(new DescribeVpcsCommand({ VpcIds: [id] }))).Vpcs![0]!;
  const newVpc = async (CidrBlock: string) => (await ec2.send(new CreateVpcCommand({ CidrBlock }))).Vpc!.VpcId!;
  /** Polls until the association has the state. */
  const until = (vpcId: string, associationId: string, state: string): Promise<Vpc> =>
    eventually(`${associationId} ${state}`, () => describeVpc(vpcId), (v) =>
      [...(v.CidrBlockAssociationSet ?? []).map((x) => [x.AssociationId, x.CidrBlockState?.State]), ...(v.Ipv6CidrBlockAssociationSet ?? []).map((x) => [x.AssociationId, x.Ipv6CidrBlockState?.State])].some(
        ([id, s]) => id === associationId && s === state,
      ),
    );
  const code = async (p: Promise<unknown>) => (await ec2Error(p)).code;

  it('a secondary IPv4 block goes associating -> associated, takes subnets and gets a local route', async () => {
    const vpc = await newVpc('10.10.0.0/16');
    const out = await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc, CidrBlock: '10.11.0.0/16' }));
    assert.equal(out.VpcId, vpc);
    assert.equal(out.CidrBlockAssociation!.CidrBlockState!.State, 'associating');
    const assoc = out.CidrBlockAssociation!.AssociationId!;
    const v = await until(vpc, assoc, 'associated');
    assert.equal(v.CidrBlock, '10.10.0.0/16', 'the primary block stays');
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.11.1.0/24' }))).Subnet!;
    assert.equal(subnet.CidrBlock, '10.11.1.0/24');
    const extra = (await ec2.send(new CreateRouteTableCommand({ VpcId: vpc }))).RouteTable!;
    const tables = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }] }))).RouteTables!;
    assert.equal(tables.length, 2);
    for (const table of tables) {
      const local = table.Routes!.filter((r) => r.GatewayId === 'local').map((r) => r.DestinationCidrBlock).sort();
      assert.deepEqual(local, ['10.10.0.0/16', '10.11.0.0/16'], table.RouteTableId === extra.RouteTableId ? 'new table' : 'main table');
    }
    const byFilter = await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: 'cidr-block-association.cidr-block', Values: ['10.11.0.0/16'] }] }));
    assert.deepEqual(byFilter.Vpcs!.map((x) => x.VpcId), [vpc]);

    // not while a subnet uses it
    assert.equal(await code(ec2.send(new DisassociateVpcCidrBlockCommand({ AssociationId: assoc }))), 'DependencyViolation');
    await ec2.send(new DeleteSubnetCommand({ SubnetId: subnet.SubnetId }));
    const gone = await ec2.send(new DisassociateVpcCidrBlockCommand({ AssociationId: assoc }));
    assert.equal(gone.CidrBlockAssociation!.CidrBlockState!.State, 'disassociating');
    const after = await until(vpc, assoc, 'disassociated');
    assert.ok(after.CidrBlockAssociationSet!.some((a) => a.AssociationId === assoc), 'a disassociated block is still shown');
    const routes = (await ec2.send(new DescribeRouteTablesCommand({ RouteTableIds: [extra.RouteTableId!] }))).RouteTables![0]!.Routes!;
    assert.deepEqual(routes.map((r) => r.DestinationCidrBlock), ['10.10.0.0/16']);
    assert.equal(await code(ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.11.1.0/24' }))), 'InvalidSubnet.Range');
    assert.equal(await code(ec2.send(new DisassociateVpcCidrBlockCommand({ AssociationId: assoc }))), 'IncorrectState');
  });

  it("keeps EC2's rules: range, overlap, private ranges, the limit, the primary block", async () => {
    const vpc = await newVpc('10.20.0.0/16');
    const assoc = (CidrBlock: string) => code(ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc, CidrBlock })));
    assert.equal(await assoc('10.32.0.0/15'), 'InvalidVpc.Range');
    assert.equal(await assoc('10.21.0.0/29'), 'InvalidVpc.Range');
    assert.equal(await assoc('10.21.0.1/24'), 'InvalidParameterValue');
    assert.equal(await assoc('10.20.128.0/17'), 'InvalidVpc.Range');
    assert.equal(await assoc('192.168.0.0/16'), 'InvalidVpc.Range');
    assert.equal(await assoc('172.16.0.0/16'), 'InvalidVpc.Range');
    assert.equal((await describeVpc(vpc)).CidrBlockAssociationSet!.length, 1, 'refused calls add nothing');
    // a publicly routable block and 100.64/10 go with a private primary
    for (const c of ['100.64.0.0/16', '198.51.100.0/24', '10.22.0.0/16', '10.23.0.0/16']) {
      await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc, CidrBlock: c }));
    }
    const limit = await ec2Error(ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc, CidrBlock: '10.24.0.0/16' })));
    assert.equal(limit.code, 'CidrLimitExceeded');
    assert.equal(limit.message, `This network '${vpc}' has met its maximum number of allowed CIDRs: 5`);
    const primary = (await describeVpc(vpc)).CidrBlockAssociationSet!.find((a) => a.CidrBlock === '10.20.0.0/16')!.AssociationId!;
    const p = await ec2Error(ec2.send(new DisassociateVpcCidrBlockCommand({ AssociationId: primary })));
    assert.equal(p.code, 'OperationNotPermitted');
    assert.match(p.message, /primary IPv4 CIDR block/);
    // a public primary takes no private block
    const pub = await newVpc('198.51.0.0/16');
    assert.equal(await code(ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: pub, CidrBlock: '10.0.0.0/16' }))), 'InvalidVpc.Range');
    assert.equal(await code(ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: 'vpc-0123456789abcdef0', CidrBlock: '10.0.0.0/16' }))), 'InvalidVpcID.NotFound');
    assert.equal(await code(ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc }))), 'MissingParameter');
    assert.equal(await code(ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc, CidrBlock: '10.25.0.0/16', AmazonProvidedIpv6CidrBlock: true }))), 'InvalidParameterCombination');
    assert.equal(await code(ec2.send(new DisassociateVpcCidrBlockCommand({ AssociationId: 'vpc-cidr-assoc-0123456789abcdef0' }))), 'InvalidVpcCidrBlockAssociationID.NotFound');
  });

  it('an Amazon-provided IPv6 /56 is unique in the region and goes the same way', async () => {
    const vpc = await newVpc('10.40.0.0/16');
    const other = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.41.0.0/16', AmazonProvidedIpv6CidrBlock: true }))).Vpc!;
    const out = await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc, AmazonProvidedIpv6CidrBlock: true, Ipv6CidrBlockNetworkBorderGroup: 'us-east-1' }));
    const a = out.Ipv6CidrBlockAssociation!;
    assert.equal(a.Ipv6CidrBlockState!.State, 'associating');
    assert.match(a.Ipv6CidrBlock!, /::\/56$/);
    assert.notEqual(a.Ipv6CidrBlock, other.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock);
    await until(vpc, a.AssociationId!, 'associated');
    const block = a.Ipv6CidrBlock!.replace('::/56', '');
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: '10.40.1.0/24', Ipv6CidrBlock: `${block}::/64` }))).Subnet!;
    const routes = (await ec2.send(new DescribeRouteTablesCommand({ Filters: [{ Name: 'vpc-id', Values: [vpc] }] }))).RouteTables![0]!.Routes!;
    assert.ok(routes.some((r) => r.DestinationIpv6CidrBlock === a.Ipv6CidrBlock && r.GatewayId === 'local'));
    assert.equal(await code(ec2.send(new DisassociateVpcCidrBlockCommand({ AssociationId: a.AssociationId }))), 'DependencyViolation');
    await ec2.send(new DeleteSubnetCommand({ SubnetId: subnet.SubnetId }));
    assert.equal(await code(ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc, AmazonProvidedIpv6CidrBlock: true, Ipv6CidrBlockNetworkBorderGroup: 'eu-west-1' }))), 'InvalidParameterValue');
    await ec2.send(new DisassociateVpcCidrBlockCommand({ AssociationId: a.AssociationId }));
    await until(vpc, a.AssociationId!, 'disassociated');
  });

  it('a disassociated block is dropped once it has been shown long enough', async () => {
    const vpc = await newVpc('10.50.0.0/16');
    const a = (await ec2.send(new AssociateVpcCidrBlockCommand({ VpcId: vpc, CidrBlock: '10.51.0.0/16' }))).CidrBlockAssociation!;
    await until(vpc, a.AssociationId!, 'associated');
    await ec2.send(new DisassociateVpcCidrBlockCommand({ AssociationId: a.AssociationId }));
    await until(vpc, a.AssociationId!, 'disassociated');
    const store = t.server.store;
    const record = store.collection(KINDS.vpc).get('us-east-1', vpc)!;
    const later = new Date(Date.now() + KEEP_FINAL_MS + 1000);
    assert.ok(vpcCidrMachine.due(record as never)! < later.getTime());
    const ctx = internalContext(store, t.server.config, 'us-east-1', { now: later });
    assert.equal(store.transaction(() => vpcCidrMachine.advance(ctx, { ...record } as never)), true);
    const v = await describeVpc(vpc);
    assert.deepEqual(v.CidrBlockAssociationSet!.map((x) => x.CidrBlock), ['10.50.0.0/16']);
  });
});
