import {
  AssociateSubnetCidrBlockCommand,
  CreateSubnetCidrReservationCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  DeleteSubnetCidrReservationCommand,
  DeleteSubnetCommand,
  DescribeImagesCommand,
  GetSubnetCidrReservationsCommand,
  RunInstancesCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { formatIpv6, parseCidr6 } from '../../src/domain/cidr.js';
import { ec2Error, startTestServer, type TestServer } from '../helpers/server.js';
import { KINDS } from '../../src/resources/ec2/kinds.js';

describe('subnet CIDR reservations', () => {
  let t: TestServer;
  let ec2: EC2Client;
  let vpcId: string;
  let vpc56: string;
  before(async () => {
    t = await startTestServer();
    ec2 = t.client();
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: '10.70.0.0/16', AmazonProvidedIpv6CidrBlock: true }))).Vpc!;
    vpcId = vpc.VpcId!;
    vpc56 = vpc.Ipv6CidrBlockAssociationSet![0]!.Ipv6CidrBlock!;
  });
  after(() => t.close());

  const subnet = async (CidrBlock: string) => (await ec2.send(new CreateSubnetCommand({ VpcId: vpcId, CidrBlock }))).Subnet!.SubnetId!;
  const reserve = (SubnetId: string, Cidr: string, ReservationType: 'prefix' | 'explicit' = 'explicit', Description?: string) =>
    ec2.send(new CreateSubnetCidrReservationCommand({ SubnetId, Cidr, ReservationType, Description }));
  const code = async (p: Promise<unknown>) => (await ec2Error(p)).code;

  it('creates IPv4 and IPv6 reservations inside the subnet, apart from each other, and lists them', async () => {
    const id = await subnet('10.70.1.0/24');
    const block = `${formatIpv6(parseCidr6(vpc56)!.address + (1n << 64n))}/64`;
    await ec2.send(new AssociateSubnetCidrBlockCommand({ SubnetId: id, Ipv6CidrBlock: block }));
    const a = (
      await ec2.send(
        new CreateSubnetCidrReservationCommand({
          SubnetId: id,
          Cidr: '10.70.1.64/26',
          ReservationType: 'prefix',
          Description: 'for prefixes',
          TagSpecifications: [{ ResourceType: 'subnet-cidr-reservation', Tags: [{ Key: 'team', Value: 'net' }] }],
        }),
      )
    ).SubnetCidrReservation!;
    assert.match(a.SubnetCidrReservationId!, /^scr-[0-9a-f]{17}$/);
    assert.deepEqual(
      { SubnetId: a.SubnetId, Cidr: a.Cidr, ReservationType: a.ReservationType, OwnerId: a.OwnerId, Description: a.Description, Tags: a.Tags },
      { SubnetId: id, Cidr: '10.70.1.64/26', ReservationType: 'prefix', OwnerId: '123456789012', Description: 'for prefixes', Tags: [{ Key: 'team', Value: 'net' }] },
    );
    const v6 = `${formatIpv6(parseCidr6(block)!.address)}/80`;
    await reserve(id, v6);
    await reserve(id, '10.70.1.128/28');
    const all = await ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id }));
    assert.deepEqual(all.SubnetIpv4CidrReservations!.map((r) => r.Cidr).sort(), ['10.70.1.128/28', '10.70.1.64/26']);
    assert.deepEqual(all.SubnetIpv6CidrReservations!.map((r) => r.Cidr), [v6]);
    const prefixOnly = await ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id, Filters: [{ Name: 'reservationType', Values: ['prefix'] }] }));
    assert.deepEqual(prefixOnly.SubnetIpv4CidrReservations!.map((r) => r.SubnetCidrReservationId), [a.SubnetCidrReservationId]);
    const byTag = await ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id, Filters: [{ Name: 'tag:team', Values: ['net'] }] }));
    assert.equal(byTag.SubnetIpv4CidrReservations!.length, 1);
    assert.equal(await code(ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id, Filters: [{ Name: 'cidr', Values: ['x'] }] }))), 'InvalidParameterValue');
    assert.equal(await code(ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id, MaxResults: 2 }))), 'InvalidParameterValue');
    assert.equal(await code(ec2.send(new GetSubnetCidrReservationsCommand({} as { SubnetId: string }))), 'MissingParameter');

    const overlap = await ec2Error(reserve(id, '10.70.1.96/27'));
    assert.equal(overlap.code, 'InvalidParameterValue');
    assert.match(overlap.message, /overlap with existing reserved CIDR block/);
    assert.equal(await code(reserve(id, '10.70.2.0/28')), 'InvalidParameterValue');
    assert.equal(await code(reserve(id, '10.70.1.1/28')), 'InvalidParameterValue');
    assert.equal(await code(reserve(id, '2001:db8::/80')), 'InvalidParameterValue');
    assert.equal(await code(ec2.send(new CreateSubnetCidrReservationCommand({ SubnetId: id, Cidr: '10.70.1.0/28', ReservationType: 'other' as 'prefix' }))), 'InvalidParameterValue');
    assert.equal(await code(reserve('subnet-0123456789abcdef0', '10.70.1.0/28')), 'InvalidSubnetID.NotFound');
    assert.equal(await code(ec2.send(new CreateSubnetCidrReservationCommand({ SubnetId: id, Cidr: '10.70.1.0/28', ReservationType: 'explicit', DryRun: true }))), 'DryRunOperation');
    assert.equal((await ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id }))).SubnetIpv4CidrReservations!.length, 2, 'nothing refused was stored');
    let pages = 0;
    let token: string | undefined;
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) await reserve(id, `10.70.1.${16 * i}/28`);
    do {
      const page = await ec2.send(new GetSubnetCidrReservationsCommand({ SubnetId: id, MaxResults: 5, NextToken: token }));
      seen.push(...page.SubnetIpv4CidrReservations!.map((r) => r.Cidr!), ...page.SubnetIpv6CidrReservations!.map((r) => r.Cidr!));
      token = page.NextToken;
      pages++;
    } while (token);
    assert.equal(pages, 2);
    assert.equal(new Set(seen).size, 7);
  });

  it('DeleteSubnetCidrReservation answers the reservation; a deleted subnet takes its reservations', async () => {
    const id = await subnet('10.70.2.0/24');
    const r = (await reserve(id, '10.70.2.0/28')).SubnetCidrReservation!;
    const out = await ec2.send(new DeleteSubnetCidrReservationCommand({ SubnetCidrReservationId: r.SubnetCidrReservationId }));
    assert.equal(out.DeletedSubnetCidrReservation!.Cidr, '10.70.2.0/28');
    assert.equal(
      await code(ec2.send(new DeleteSubnetCidrReservationCommand({ SubnetCidrReservationId: r.SubnetCidrReservationId }))),
      'InvalidSubnetCidrReservationID.NotFound',
    );
    assert.equal(await code(ec2.send(new DeleteSubnetCidrReservationCommand({ SubnetCidrReservationId: 'nope' }))), 'InvalidSubnetCidrReservationID.Malformed');
    const kept = (await reserve(id, '10.70.2.16/28')).SubnetCidrReservation!;
    await ec2.send(new DeleteSubnetCommand({ SubnetId: id }));
    assert.equal(t.server.store.collection(KINDS.subnetCidrReservation).get('us-east-1', kept.SubnetCidrReservationId!), undefined);
  });

  it('automatic private IP assignment skips reserved ranges; an address asked for may lie in one', async () => {
    const id = await subnet('10.70.3.0/24');
    await reserve(id, '10.70.3.0/28', 'explicit');
    await reserve(id, '10.70.3.16/29', 'prefix');
    const ami = (await ec2.send(new DescribeImagesCommand({ Owners: ['amazon'] }))).Images!.find((i) => i.Architecture === 'x86_64')!.ImageId!;
    const run = await ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: 2, MaxCount: 2, SubnetId: id, InstanceType: 't3.micro' }));
    assert.deepEqual(run.Instances!.map((i) => i.PrivateIpAddress).sort(), ['10.70.3.24', '10.70.3.25']);
    const one = await ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, SubnetId: id, InstanceType: 't3.micro' }));
    assert.equal(one.Instances![0]!.PrivateIpAddress, '10.70.3.26');
    const manual = await ec2.send(new RunInstancesCommand({ ImageId: ami, MinCount: 1, MaxCount: 1, SubnetId: id, InstanceType: 't3.micro', PrivateIpAddress: '10.70.3.5' }));
    assert.equal(manual.Instances![0]!.PrivateIpAddress, '10.70.3.5');
  });
});
